"""The BG/NBD model (Fader, Hardie & Lee 2005) as an estimator."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from crmmodels._ingest.arguments import check_choice
from crmmodels.clv._covariates_ab import DROPOUT_FORMS
from crmmodels.clv._fitting import SummaryModel
from crmmodels.clv._inputs import broadcast as _broadcast
from crmmodels.clv._inputs import whole_numbers
from crmmodels.clv._limits import BETA_GEOMETRIC_LIMITS, Limit
from crmmodels.clv._purchase import RFMModel
from crmmodels.kernels import bgnbd as _k
from crmmodels.kernels import mbgnbd as _kmb
from crmmodels.kernels._optim import FloatArray

__all__ = ["BGNBD"]

#: how to fix a bad number of purchases
_COUNT_FIX = "n counts purchases: integers >= 0."


class _BetaGeometricModel(RFMModel):
    """Shared estimator code of BG/NBD and MBG/NBD (``_modified`` switches)."""

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _limits: ClassVar[tuple[Limit, ...]] = BETA_GEOMETRIC_LIMITS
    _modified: ClassVar[bool] = False

    def _loglik_grad(
        self, params: FloatArray, data: dict[str, FloatArray], counts: FloatArray
    ) -> tuple[float, FloatArray]:
        cache = self._fit_cache
        pre = cache.get("prepared")
        if not isinstance(pre, _k.Prepared) or pre.x is not data["frequency"]:
            pre = _k.prepare(data["frequency"], data["recency"], counts)
            cache["prepared"] = pre
        return _k.loglik_grad(
            params,
            data["frequency"],
            data["recency"],
            data["T"],
            counts,
            modified=self._modified,
            prepared=pre,
        )

    def _initial_params(self, data: dict[str, FloatArray], counts: FloatArray) -> FloatArray:
        n = float(counts.sum())
        mean_x = float(np.sum(counts * data["frequency"])) / n
        mean_t = float(np.sum(counts * data["T"])) / n
        rate = max(mean_x, 0.05) / max(mean_t, 1e-12)
        return np.array([1.0, 1.0 / rate, 1.0, 3.0])

    def expected_purchases(self, t: Any) -> FloatArray:
        """Expected purchases of a new customer in ``(0, t]`` (unconditional).

        Parameters
        ----------
        t : float or array_like
            Horizon(s), in the time unit of the data, ``>= 0``.

        Returns
        -------
        ndarray
            Same shape as ``t``.
        """
        tt = self._horizon(t)
        return _k.expected_purchases(self._params_array(), tt, modified=self._modified)

    def conditional_expected_purchases(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> FloatArray:
        """Expected purchases in ``(T, T + t]`` of customers with history (x, t_x, T).

        Parameters
        ----------
        t : float or array_like
            Horizon(s) ``>= 0``, broadcast against the customers.
        frequency, recency, T : array_like
            Customer histories (same rules as in ``fit``). Instead, a summary frame may
            be passed first, ``conditional_expected_purchases(summary, t)`` (or in place
            of ``frequency``): it is read with the columns of the fit (``columns_``).

        Returns
        -------
        ndarray
            Aligned with the broadcast inputs.
        """
        (t,), x, tx, tt = self._history_args(
            "conditional_expected_purchases",
            (t, frequency, recency, T),
            ("t", "frequency", "recency", "T"),
            lead=1,
        )
        h, x, tx, tt = _broadcast({"t": self._horizon(t), "frequency": x, "recency": tx, "T": tt})
        return _k.conditional_expected_purchases(
            self._params_array(), h, x, tx, tt, modified=self._modified
        )

    def conditional_probability_of_purchases(
        self, n: Any, t: Any, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> FloatArray:
        r"""Probability of exactly ``n`` purchases in the next ``t`` given the history.

        Parameters
        ----------
        n : int or array_like of int
            Number of purchases (>= 0).
        t : float or array_like
            Horizon after ``T``.
        frequency, recency, T : array_like
            Customer history (all broadcast together). Instead, a summary frame may be
            passed first, ``conditional_probability_of_purchases(summary, n, t)`` (or
            in place of ``frequency``).

        Returns
        -------
        numpy.ndarray
            :math:`P(X(T, T + t] = n \mid x, t_x, T)`: a customer gone at ``T`` buys
            nothing; one alive buys as a new customer with the posterior parameters
            ``(r + x, alpha + T, a, b + x)`` (``b + x + 1`` for MBG/NBD). See
            :func:`crmmodels.kernels.bgnbd.conditional_probability_of_purchases`.

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> m = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.conditional_probability_of_purchases([0, 1, 2], 39, 2, 30.43, 38.86).round(3)
        array([0.445, 0.239, 0.144])
        """
        (n, t), x, tx, tt = self._history_args(
            "conditional_probability_of_purchases",
            (n, t, frequency, recency, T),
            ("n", "t", "frequency", "recency", "T"),
            lead=2,
        )
        nn, h, x, tx, tt = _broadcast(
            {
                "n": whole_numbers(n, "n", _COUNT_FIX),
                "t": self._horizon(t),
                "frequency": x,
                "recency": tx,
                "T": tt,
            }
        )
        return _k.conditional_probability_of_purchases(
            self._params_array(), nn, h, x, tx, tt, modified=self._modified
        )

    def probability_alive(self, frequency: Any, recency: Any = None, T: Any = None) -> FloatArray:
        """Probability that each customer is still alive at the end of observation.

        Parameters
        ----------
        frequency, recency, T : array_like
            Customer histories; or a summary frame alone (any engine), read with the
            columns of the fit (``columns_``).

        Returns
        -------
        ndarray
            Values in [0, 1], aligned with the inputs (the rows of the frame).
        """
        _, x, tx, tt = self._history_args(
            "probability_alive", (frequency, recency, T), ("frequency", "recency", "T")
        )
        params = self._params_array()
        return _k.probability_alive(params, x, tx, tt, modified=self._modified)

    def probability_of_purchases(self, n: Any, t: Any) -> FloatArray:
        """Probability that a new customer makes exactly ``n`` purchases in ``(0, t]``.

        Parameters
        ----------
        n : int or array_like of int
            Number of purchases ``>= 0``.
        t : float or array_like
            Horizon ``>= 0`` (broadcast against ``n``).

        Returns
        -------
        ndarray
        """
        params = self._params_array()
        nn, tt = _broadcast({"n": whole_numbers(n, "n", _COUNT_FIX), "t": self._horizon(t)})
        return _kmb.beta_geometric_probability_of_purchases(params, nn, tt, modified=self._modified)

    def log_likelihood(self, frequency: Any, recency: Any = None, T: Any = None) -> FloatArray:
        """Individual log-likelihood of each customer under the fitted parameters.

        ``frequency, recency, T`` are arrays, or a summary frame alone.

        Returns
        -------
        ndarray
            Aligned with the inputs.
        """
        _, x, tx, tt = self._history_args(
            "log_likelihood", (frequency, recency, T), ("frequency", "recency", "T")
        )
        params = self._params_array()
        return _k.loglik(params, x, tx, tt, modified=self._modified)


class BGNBD(_BetaGeometricModel):
    r"""Beta-geometric / negative binomial distribution model (BG/NBD).

    While alive, a customer buys in a Poisson process with rate
    :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; after each repeat purchase they drop
    out with probability :math:`p \sim \mathrm{Beta}(a, b)`. Fitted on the customer
    summary (``frequency`` x = repeat purchases, ``recency`` t_x, ``T``) by maximum
    likelihood (Fader, Hardie & Lee 2005, eq. 6).

    Parameters
    ----------
    penalizer, initial_params, n_restarts, tol, max_iter, on_nonconvergence
        See :class:`crmmodels.clv._base.MLEModel`.

    Notes
    -----
    ``fit(summary, covariates=[...], dropout_form=...)`` fits time-invariant covariates
    (see :mod:`crmmodels.clv._covariates_fit`). ``dropout_form`` says how the dropout
    covariates enter: ``"b"`` (default), :math:`b_i = b_0 e^{-\gamma_d' z_i}` with ``a``
    shared, so a positive coefficient makes customers leave sooner; ``"ab"``, CLVTools'
    form, :math:`a_i = a_0 e^{\gamma_d' z_i}` and :math:`b_i = b_0 e^{\gamma_d' z_i}`:
    the mean dropout probability is the same for everyone and a coefficient changes
    how spread out the dropout probabilities are. Without covariates both forms are the
    same model.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_, n_customers_, standard_errors_, confidence_intervals_, aic_, bic_,
    diagnostics_
        Fit results (see :class:`crmmodels.clv._base.MLEModel`).

    References
    ----------
    Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your Customers' the
    Easy Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> model = BGNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in model.params_.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(model.log_likelihood_, 1)
    -9582.4
    >>> print(model.conditional_expected_purchases(39, 2, 30.43, 38.86).round(3))
    1.226
    >>> model.probability_alive([0, 2], [0, 30.43], [38.86, 38.86]).round(3)
    array([1.   , 0.727])
    """

    _modified: ClassVar[bool] = False
    _takes_covariates: ClassVar[bool] = True


_COVARIATE_ARGUMENTS = ("covariates", "purchase_covariates", "dropout_covariates")
_generated_fit = BGNBD.fit  # SummaryModel's fit, with BGNBD's signature


def _fit(self: BGNBD, summary: Any = None, y: Any = None, **kw: Any) -> BGNBD:
    if all(kw.get(k) is None for k in _COVARIATE_ARGUMENTS) and "dropout_form" in kw:
        # without covariates both forms are the same BG/NBD: checked, then not needed
        check_choice(kw.pop("dropout_form"), "dropout_form", DROPOUT_FORMS)
    fitted: BGNBD = SummaryModel.fit(self, summary, y, **kw)
    return fitted


_fit.__doc__ = _generated_fit.__doc__
_fit.__qualname__ = "BGNBD.fit"
_fit.__signature__ = inspect.signature(_generated_fit).replace(  # type: ignore[attr-defined]
    parameters=[
        *inspect.signature(_generated_fit).parameters.values(),
        inspect.Parameter("dropout_form", inspect.Parameter.KEYWORD_ONLY, default="b"),
    ]
)
setattr(BGNBD, "fit", _fit)  # noqa: B010
