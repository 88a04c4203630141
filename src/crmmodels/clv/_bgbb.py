r"""The BG/BB model for discrete transaction opportunities (Fader, Hardie & Shang 2010).

At each of ``n`` discrete opportunities (an annual event, a weekly mailing, ...) an
alive customer transacts with probability :math:`p \sim \mathrm{Beta}(\alpha, \beta)`
and dies after the opportunity with probability :math:`\theta \sim
\mathrm{Beta}(\gamma, \delta)`. The kernels are in :mod:`crmmodels.kernels.bgbb`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from crmmodels._ingest.arguments import check_int
from crmmodels.clv._inputs import as_float_array, whole_numbers
from crmmodels.clv._inputs import broadcast as _broadcast
from crmmodels.clv._inputs import check as _check
from crmmodels.clv._inputs import discount_rate as discount_rate_of
from crmmodels.clv._limits import BGBB_LIMITS, Limit
from crmmodels.clv._predict import as_frame
from crmmodels.clv._purchase import PurchaseModel
from crmmodels.kernels import bgbb as _k
from crmmodels.kernels._optim import FloatArray

__all__ = ["BGBB"]


def _validate(x: FloatArray, tx: FloatArray, n: FloatArray) -> None:
    for arr, nm in ((x, "frequency"), (tx, "recency"), (n, "n_periods")):
        _check(arr, ~np.isfinite(arr), nm, "is not finite (NaN or inf)")
        _check(arr, arr < 0, nm, "is negative")
        _check(arr, arr != np.round(arr), nm, "is not an integer", "BG/BB counts whole periods.")
    _check(
        x,
        x > tx,
        "frequency",
        "is larger than recency",
        "x transactions need a last transaction at opportunity t_x >= x.",
    )
    _check(
        tx,
        tx > n,
        "recency",
        "is larger than n_periods",
        "recency is the opportunity of the last transaction (0..n_periods).",
    )
    _check(
        tx,
        (x == 0) & (tx != 0),
        "recency",
        "is not 0 although frequency is 0",
        "customers without transactions have recency 0.",
    )


class BGBB(PurchaseModel):
    r"""Beta-geometric/beta-Bernoulli model fitted by maximum likelihood.

    Parameters ``alpha, beta`` (beta heterogeneity of the transaction probability) and
    ``gamma, delta`` (beta heterogeneity of the dropout probability), estimated on the
    log scale with analytic gradients (hyper-parameters as in
    :class:`crmmodels.clv._base.MLEModel`).

    Notes
    -----
    Likelihood (Fader, Hardie & Shang 2010, eq. 5):

    $$ L = \frac{B(\alpha+x,\beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma,\delta+n)}{B(\gamma,\delta)}
       + \sum_{i=0}^{n-t_x-1}\frac{B(\alpha+x,\beta+t_x-x+i)}{B(\alpha,\beta)}
         \frac{B(\gamma+1,\delta+t_x+i)}{B(\gamma,\delta)}. $$

    Data: ``frequency`` x (transactions), ``recency`` t_x (opportunity of the last
    transaction, 0 when x = 0) and ``n_periods`` n, with ``0 <= x <= t_x <= n``.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. and Shang, J. (2010), "Customer-Base Analysis in a
    Discrete-Time Noncontractual Setting", Marketing Science 29(6), 1086-1108.

    Examples
    --------
    >>> from crmmodels.datasets import load_donations
    >>> from crmmodels.clv._bgbb import BGBB
    >>> model = BGBB().fit(load_donations(), weights_col="weights")
    >>> {k: round(v, 3) for k, v in model.params_.items()}
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    >>> round(model.log_likelihood_, 1)
    -33225.6
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    _limits: ClassVar[tuple[Limit, ...]] = BGBB_LIMITS
    _data_names: ClassVar[tuple[str, ...]] = ("frequency", "recency", "n_periods")
    _default_column_names: ClassVar[dict[str, str]] = {"n_periods": "periods"}

    def _check_inputs(
        self, data: dict[str, FloatArray], weights: FloatArray | None, where: str
    ) -> tuple[dict[str, FloatArray], FloatArray | None, dict[str, int]]:
        _validate(data["frequency"], data["recency"], data["n_periods"])
        return data, weights, {}

    def _loglik_grad(
        self, params: FloatArray, data: dict[str, FloatArray], counts: FloatArray
    ) -> tuple[float, FloatArray]:
        return _k.log_likelihood_grad(
            params, data["frequency"], data["recency"], data["n_periods"], counts
        )

    def _initial_params(self, data: dict[str, FloatArray], counts: FloatArray) -> FloatArray:
        return np.ones(4)

    def _history(
        self, frequency: Any, recency: Any, n_periods: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        x, tx, n = _broadcast(
            {
                "frequency": as_float_array(frequency, "frequency"),
                "recency": as_float_array(recency, "recency"),
                "n_periods": as_float_array(n_periods, "n_periods"),
            }
        )
        _validate(x, tx, n)
        return x, tx, n

    def _validated_history(
        self, frequency: Any, recency: Any, age: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        return self._history(frequency, recency, age)

    def _check_horizon(self, horizon: Any) -> float:
        return float(check_int(horizon, "horizon", low=0, fix="BG/BB counts whole opportunities."))

    # ---------------------------------------------------------------- predictions
    def expected_purchases(self, n: Any) -> FloatArray:
        """Expected transactions of a new customer in the first ``n`` opportunities.

        Parameters
        ----------
        n : int or array_like of int
            Number of opportunities.

        Returns
        -------
        numpy.ndarray
            :math:`E[X(n)]` (Fader, Hardie & Shang 2010, eq. 8).

        Examples
        --------
        >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.expected_purchases([6, 11]).round(3).tolist()
        [2.22, 3.388]
        """
        params = self._params_array()
        return _k.expected_purchases(params, _whole(n, "n"))

    def conditional_expected_purchases(
        self, n: Any, frequency: Any = None, recency: Any = None, n_periods: Any = None
    ) -> FloatArray:
        """Expected transactions in the next ``n`` opportunities given ``(x, t_x, n_periods)``.

        Parameters
        ----------
        n : int or array_like of int
            Number of future opportunities (broadcast against the customers).
        frequency, recency, n_periods : array_like
            Customer history. Instead, a summary frame may be passed first,
            ``conditional_expected_purchases(summary, n)`` (or in place of
            ``frequency``): it is read with the columns of the fit (``columns_``).

        Returns
        -------
        numpy.ndarray
            One value per customer (Fader, Hardie & Shang 2010, eq. 13).

        Examples
        --------
        >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.conditional_expected_purchases(5, [6, 3], [6, 4], [6, 6]).round(3).tolist()
        [3.752, 1.034]
        """
        (n,), x, tx, big_n = self._history_args(
            "conditional_expected_purchases",
            (n, frequency, recency, n_periods),
            ("n", "frequency", "recency", "n_periods"),
            lead=1,
        )
        params = self._params_array()
        nn, x, tx, big_n = _broadcast(
            {"n": _whole(n, "n"), "frequency": x, "recency": tx, "n_periods": big_n}
        )
        return _k.conditional_expected_purchases(params, nn, x, tx, big_n)

    def conditional_probability_of_purchases(
        self,
        x: Any,
        n: Any,
        frequency: Any = None,
        recency: Any = None,
        n_periods: Any = None,
    ) -> FloatArray:
        r"""Probability of exactly ``x`` transactions in the next ``n`` opportunities.

        Parameters
        ----------
        x : int or array_like of int
            Number of transactions (>= 0).
        n : int or array_like of int
            Number of future opportunities (broadcast against the customers).
        frequency, recency, n_periods : array_like
            Customer history. Instead, a summary frame may be passed first,
            ``conditional_probability_of_purchases(summary, x, n)`` (or in place of
            ``frequency``): it is read with the columns of the fit (``columns_``).

        Returns
        -------
        numpy.ndarray
            :math:`P(X(n_{periods}, n_{periods} + n) = x \mid \text{history})`; see
            :func:`crmmodels.kernels.bgbb.conditional_probability_of_purchases`.

        Examples
        --------
        >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.conditional_probability_of_purchases([0, 1, 5], 5, 6, 6, 6).round(3).tolist()
        [0.077, 0.067, 0.496]
        """
        (x, n), xh, tx, big_n = self._history_args(
            "conditional_probability_of_purchases",
            (x, n, frequency, recency, n_periods),
            ("x", "n", "frequency", "recency", "n_periods"),
            lead=2,
        )
        xx, nn, xh, tx, big_n = _broadcast(
            {
                "x": _whole(x, "x"),
                "n": _whole(n, "n"),
                "frequency": xh,
                "recency": tx,
                "n_periods": big_n,
            }
        )
        return _k.conditional_probability_of_purchases(self._params_array(), xx, nn, xh, tx, big_n)

    def probability_alive(
        self, frequency: Any, recency: Any = None, n_periods: Any = None
    ) -> FloatArray:
        """Probability of being alive at opportunity ``n_periods + 1``.

        Parameters
        ----------
        frequency, recency, n_periods : array_like
            Customer history; or a summary frame alone (any engine), read with the
            columns of the fit (``columns_``).

        Returns
        -------
        numpy.ndarray
            Values in [0, 1] (Fader, Hardie & Shang 2010, eq. 11).

        Examples
        --------
        >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.probability_alive([0, 6], [0, 6], [6, 6]).round(3).tolist()
        [0.108, 0.93]
        """
        _, x, tx, big_n = self._history_args(
            "probability_alive",
            (frequency, recency, n_periods),
            ("frequency", "recency", "n_periods"),
        )
        return _k.probability_alive(self._params_array(), x, tx, big_n)

    def probability_of_purchases(self, x: Any, n: Any) -> FloatArray:
        """Unconditional probability of exactly ``x`` transactions in ``n`` opportunities.

        Parameters
        ----------
        x : int or array_like of int
            Number of transactions.
        n : int or array_like of int
            Number of opportunities (broadcast against ``x``).

        Returns
        -------
        numpy.ndarray
            :math:`P(X(n) = x)` (Fader, Hardie & Shang 2010, eq. 7).

        Examples
        --------
        >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.probability_of_purchases([0, 6], 6).round(3).tolist()
        [0.311, 0.113]
        """
        params = self._params_array()
        xx, nn = _broadcast({"x": _whole(x, "x"), "n": _whole(n, "n")})
        return _k.probability_of_purchases(params, xx, nn)

    def expected_discounted_residual_transactions(
        self,
        frequency: Any,
        recency: Any = None,
        n_periods: Any = None,
        discount_rate: Any = None,
    ) -> FloatArray:
        """Discounted expected residual transactions (DERT) per customer.

        Parameters
        ----------
        frequency, recency, n_periods : array_like
            Customer history; or a summary frame alone, read with the columns of the
            fit: ``expected_discounted_residual_transactions(summary, discount_rate)``.
        discount_rate : float
            Discount rate ``d > 0`` per opportunity (a transaction ``k`` opportunities
            ahead is worth ``1 / (1 + d)^k``).

        Returns
        -------
        numpy.ndarray
            DERT per customer, in transactions (Fader, Hardie & Shang 2010, eq. 14).

        Examples
        --------
        >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> m.expected_discounted_residual_transactions([6], [6], [6], 0.1).round(3).tolist()
        [5.909]
        """
        if as_frame(frequency) is not None and discount_rate is None:
            discount_rate, recency = recency, None  # (summary, discount_rate)
        (discount_rate,), x, tx, big_n = self._history_args(
            "expected_discounted_residual_transactions",
            (discount_rate, frequency, recency, n_periods),
            ("discount_rate", "frequency", "recency", "n_periods"),
            lead=1,
        )
        params = self._params_array()
        d = discount_rate_of(discount_rate)
        return _k.discounted_expected_residual_transactions(params, x, tx, big_n, d)


def _whole(value: Any, name: str) -> FloatArray:
    return whole_numbers(value, name, "BG/BB counts whole periods.")
