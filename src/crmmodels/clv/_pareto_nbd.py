r"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

While alive, a customer purchases as a Poisson process with rate
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; lifetimes are exponential with rate
:math:`\mu \sim \mathrm{Gamma}(s, \beta)`, independent of :math:`\lambda`. The kernels
(likelihood with a stable log-space hypergeometric term, analytic gradient, predictions,
DERT) are in :mod:`crmmodels.kernels.pareto_nbd`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from crmmodels.clv._inputs import broadcast as _broadcast
from crmmodels.clv._inputs import discount_rate as _rate
from crmmodels.clv._inputs import whole_numbers as _counts
from crmmodels.clv._limits import PARETO_NBD_LIMITS, Limit
from crmmodels.clv._predict import as_frame
from crmmodels.clv._purchase import RFMModel
from crmmodels.kernels import pareto_nbd as _k
from crmmodels.kernels._optim import FloatArray

__all__ = ["ParetoNBD"]


class ParetoNBD(RFMModel):
    r"""Pareto/NBD customer-base model fitted by maximum likelihood.

    Parameters ``r, alpha`` (gamma heterogeneity of the purchase rate) and ``s, beta``
    (gamma heterogeneity of the dropout rate), estimated on the log scale with analytic
    gradients (see :class:`crmmodels.clv._base.MLEModel` for the hyper-parameters
    ``penalizer``, ``initial_params``, ``n_restarts``, ``tol``, ``max_iter`` and
    ``on_nonconvergence``).

    Notes
    -----
    Likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related
    Expressions", eq. 19):

    $$ L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}
       \left[\frac{1}{(\alpha+T)^{r+x}(\beta+T)^s} + \frac{s}{r+s+x} A_0\right] $$

    with the hypergeometric term :math:`A_0` evaluated in log space (see
    :mod:`crmmodels.kernels.pareto_nbd`).

    References
    ----------
    Schmittlein, Morrison & Colombo (1987), Management Science 33(1), 1-24.
    Fader, Hardie & Lee (2005), "RFM and CLV", Journal of Marketing Research 42(4).

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> from crmmodels.clv._pareto_nbd import ParetoNBD
    >>> model = ParetoNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 2) for k, v in model.params_.items()}
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    >>> round(model.log_likelihood_, 1)
    -9595.0
    >>> model.probability_alive([2], [30.43], [38.86]).round(3).tolist()
    [0.869]
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _limits: ClassVar[tuple[Limit, ...]] = PARETO_NBD_LIMITS
    _takes_covariates: ClassVar[bool] = True

    def _loglik_grad(
        self, params: FloatArray, data: dict[str, FloatArray], counts: FloatArray
    ) -> tuple[float, FloatArray]:
        x, tx, big_t = data["frequency"], data["recency"], data["T"]
        cached = self._fit_cache.get("pairs")
        if cached is None or not (cached[0] is x and cached[1] is tx and cached[2] is big_t):
            # the distinct (x, t) pairs depend on the data only: once per fit, not per step
            cached = (x, tx, big_t, _k.distinct_pairs(x, tx, big_t))
            self._fit_cache["pairs"] = cached
        return _k.log_likelihood_grad(params, x, tx, big_t, counts, pairs=cached[3])

    def _initial_params(self, data: dict[str, FloatArray], counts: FloatArray) -> FloatArray:
        w = counts / counts.sum()
        mean_t = max(float(np.dot(w, data["T"])), 1e-6)
        mean_x = max(float(np.dot(w, data["frequency"])), 1e-3)
        return np.array([1.0, mean_t / mean_x, 1.0, mean_t])

    # ---------------------------------------------------------------- predictions
    def expected_purchases(self, t: Any) -> FloatArray:
        r"""Expected purchases of a new customer in ``(0, t]``.

        Parameters
        ----------
        t : float or array_like
            Horizon(s) in the time unit of the data.

        Returns
        -------
        numpy.ndarray
            :math:`E[X(t)]`, same shape as ``t``.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.expected_purchases([39, 78]).round(3).tolist()
        [1.213, 1.909]
        """
        params = self._params_array()
        return _k.expected_purchases(params, self._horizon(t))

    def conditional_expected_purchases(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> FloatArray:
        """Expected purchases in ``(T, T + t]`` given the history ``(x, t_x, T)``.

        Parameters
        ----------
        t : float or array_like
            Horizon, in the time unit of the data (broadcast against the customers).
        frequency, recency, T : array_like
            Customer history. Instead, a summary frame may be passed first,
            ``conditional_expected_purchases(summary, t)`` (or in place of
            ``frequency``): it is read with the columns of the fit (``columns_``).

        Returns
        -------
        numpy.ndarray
            One value per customer.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.conditional_expected_purchases(39, [2], [30.43], [38.86]).round(3).tolist()
        [1.455]
        """
        (t,), x, tx, big_t = self._history_args(
            "conditional_expected_purchases",
            (t, frequency, recency, T),
            ("t", "frequency", "recency", "T"),
            lead=1,
        )
        params = self._params_array()
        tt, x, tx, big_t = _broadcast(
            {"t": self._horizon(t), "frequency": x, "recency": tx, "T": big_t}
        )
        return _k.conditional_expected_purchases(params, tt, x, tx, big_t)

    def probability_alive(self, frequency: Any, recency: Any = None, T: Any = None) -> FloatArray:
        """Probability that a customer with history ``(x, t_x, T)`` is alive at ``T``.

        Parameters
        ----------
        frequency, recency, T : array_like
            Customer history; or a summary frame alone (any engine), read with the
            columns of the fit (``columns_``).

        Returns
        -------
        numpy.ndarray
            Values in [0, 1], one per customer.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.probability_alive([0, 2], [0.0, 30.43], [38.86, 38.86]).round(3).tolist()
        [0.295, 0.869]
        """
        _, x, tx, big_t = self._history_args(
            "probability_alive", (frequency, recency, T), ("frequency", "recency", "T")
        )
        return _k.probability_alive(self._params_array(), x, tx, big_t)

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
            :math:`P(X(T, T + t] = n \mid x, t_x, T)`; see
            :func:`crmmodels.kernels.pareto_nbd.conditional_probability_of_purchases`.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> p = m.conditional_probability_of_purchases([0, 1, 2], 39, 2, 30.43, 38.86)
        >>> p.round(3).tolist()
        [0.408, 0.219, 0.152]
        """
        (n, t), x, tx, big_t = self._history_args(
            "conditional_probability_of_purchases",
            (n, t, frequency, recency, T),
            ("n", "t", "frequency", "recency", "T"),
            lead=2,
        )
        params = self._params_array()
        nn, tt, x, tx, big_t = _broadcast(
            {
                "n": _counts(n, "n"),
                "t": self._horizon(t),
                "frequency": x,
                "recency": tx,
                "T": big_t,
            }
        )
        return _k.conditional_probability_of_purchases(params, nn, tt, x, tx, big_t)

    def probability_of_purchases(self, n: Any, t: Any) -> FloatArray:
        """Unconditional probability of exactly ``n`` purchases in ``(0, t]``.

        Parameters
        ----------
        n : int or array_like of int
            Number of purchases (>= 0).
        t : float or array_like
            Horizon (broadcast against ``n``).

        Returns
        -------
        numpy.ndarray
            :math:`P(X(t) = n)`.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.probability_of_purchases([0, 1, 2], 39).round(3).tolist()
        [0.594, 0.166, 0.082]
        """
        params = self._params_array()
        nn, tt = _broadcast({"n": _counts(n, "n"), "t": self._horizon(t)})
        return _k.probability_of_purchases(params, nn, tt)

    def expected_discounted_residual_transactions(
        self, frequency: Any, recency: Any = None, T: Any = None, discount_rate: Any = None
    ) -> FloatArray:
        r"""Discounted expected residual transactions (DERT) per customer.

        Parameters
        ----------
        frequency, recency, T : array_like
            Customer history; or a summary frame alone, read with the columns of the
            fit: ``expected_discounted_residual_transactions(summary, discount_rate)``.
        discount_rate : float
            Continuously compounded rate :math:`\delta > 0` per time unit of the data
            (a 15% annual rate on weekly data is ``log(1.15) / 52``).

        Returns
        -------
        numpy.ndarray
            :math:`\int_0^\infty e^{-\delta t} dE[Y(t)\mid x, t_x, T]` per customer, in
            transactions (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 2).

        Examples
        --------
        >>> import math
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> delta = math.log(1.15) / 52
        >>> d = m.expected_discounted_residual_transactions([2], [30.43], [38.86], delta)
        >>> d.round(3).tolist()
        [6.502]
        """
        if as_frame(frequency) is not None and discount_rate is None:
            discount_rate, recency = recency, None  # (summary, discount_rate)
        (discount_rate,), x, tx, big_t = self._history_args(
            "expected_discounted_residual_transactions",
            (discount_rate, frequency, recency, T),
            ("discount_rate", "frequency", "recency", "T"),
            lead=1,
        )
        params = self._params_array()
        delta = _rate(discount_rate)
        return _k.discounted_expected_residual_transactions(params, x, tx, big_t, delta)
