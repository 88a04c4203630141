r"""Customer lifetime value and customer equity from a transaction model and a spend model.

For a customer with history :math:`(x, t_x, T)` the value over a horizon :math:`H` is

.. math::

    \mathrm{CLV} = m \cdot \bar z \cdot \int_0^H e^{-\delta t}\, dE[X(t) \mid x, t_x, T],

with :math:`m` the margin, :math:`\bar z` the expected spend per transaction (Gamma-Gamma
conditional expectation) and :math:`\delta = \ln(1 + d) / P` the continuously compounded
rate equivalent to a rate :math:`d` per :math:`P` time units. The integral is the
*discounted expected transactions* (DET; with :math:`H = \infty` the DERT of Fader, Hardie
& Lee 2005, "RFM and CLV").

How the integral is computed:

* Pareto/NBD, infinite horizon: the closed form with Tricomi's function (the model's
  ``expected_discounted_residual_transactions``);
* BG/BB (discrete opportunities): the exact discounted sum over whole future periods,
  :math:`\sum_{k=1}^{H} (E_k - E_{k-1}) / (1 + d)^k`, or the closed-form DERT for an
  infinite horizon;
* otherwise (BG/NBD, MBG/NBD, Pareto/NBD over a finite horizon): integration by parts,
  :math:`e^{-\delta H} E(H) + \delta \int_0^H e^{-\delta t} E(t)\,dt`, with Gauss-Legendre
  quadrature on :math:`[0, H]`; for :math:`H = \infty`, the same on geometric panels
  :math:`[0, 1], [1, 2], [2, 4], \dots` up to :math:`50 / \delta`. :math:`E(t)` is the model's
  conditional expected number of purchases, smooth in :math:`t`. The node count is
  chosen adaptively (doubled until a check sample of the hardest histories is stable to
  1e-10 relative); the tests compare with a brute-force discounted sum and, for
  Pareto/NBD, with the closed form.

Everything runs on the distinct (x, t_x, T) histories, so 1e6 customers cost what their
distinct histories cost. For BG/NBD, MBG/NBD and Pareto/NBD the conditional expectation
factorises as :math:`E[X(t) \mid x, t_x, T] = P(\text{alive} \mid x, t_x, T)\, g(x, T, t)`,
so the time integral is computed once per distinct :math:`(x, T)` and scaled by the
ratio of P(alive) for the other recencies (exact up to rounding).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from crmmodels import engines
from crmmodels._ingest.arguments import check_choice
from crmmodels._progress import Progress
from crmmodels.clv._covariates_value import (
    covariate_equity,
    covariate_lifetime_value,
    has_covariates,
)
from crmmodels.clv._engines import value_on_engine
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._predict import draw_models as _draw_models
from crmmodels.clv._value_draws import clv_interval, equity_delta, equity_draws, parameter_draws
from crmmodels.clv._value_inputs import (
    Settings,
    Summary,
    check_draws,
    check_settings,
    check_spend_model,
    check_transaction_model,
    read_summary,
    unit_of,
)
from crmmodels.clv._value_integrals import Histories, discounted, expected, histories
from crmmodels.clv._value_results import CLVResult, EquityResult
from crmmodels.errors import ArgumentError, DataError
from crmmodels.kernels._optim import FloatArray

__all__ = ["CLVResult", "EquityResult", "customer_equity", "customer_lifetime_value"]

# kept importable here: the reference tests and the benchmarks draw with it
_draw_models = _draw_models


def _columns(
    frequency_col: Any,
    recency_col: Any,
    T_col: Any,
    n_periods_col: Any,
    monetary_value_col: Any,
) -> dict[str, Any]:
    return {
        "frequency": frequency_col,
        "recency": recency_col,
        "T": T_col,
        "n_periods": n_periods_col,
        "monetary_value": monetary_value_col,
    }


def _lifetime_value(
    transaction_model: Any,
    spend_model: GammaGamma | float | None,
    table: Summary,
    settings: Settings,
    report: Progress,
    weights: FloatArray | None = None,
) -> tuple[pd.DataFrame, str, Histories, int | None]:
    """Per-customer CLV at the fitted parameters.

    Returns the table, the method, the histories and the quadrature nodes used.
    ``weights`` (customers per row) weigh the histories' counts.
    """
    f, m = table.frequency, table.monetary_value
    check_history = getattr(transaction_model, "_validated_history", None)
    if check_history is not None:  # on every row, so that errors count customers
        check_history(f, table.recency, table.age)
    h = histories(f, table.recency, table.age, m, weights)
    report.info(
        "%d customers, %d distinct histories, %d distinct (frequency, age) pairs",
        f.size,
        h.f.size,
        h.rep.size,
    )
    if isinstance(spend_model, GammaGamma):
        spend = np.asarray(spend_model.conditional_expected_spend(f, m), dtype=np.float64)
    else:
        spend = np.full(f.size, 1.0 if spend_model is None else float(spend_model))
    det, method, nodes = discounted(transaction_model, h, settings)
    report.info("discounted transactions by %s", method)
    data = table.frame.copy()
    data["expected_purchases"] = expected(transaction_model, h, settings.horizon)[h.inverse]
    data["discounted_purchases"] = det[h.inverse]
    data["expected_spend"] = spend
    data["clv"] = settings.margin * spend * det[h.inverse]
    clv = data["clv"].to_numpy()
    bad = ~np.isfinite(clv)
    if bad.any():
        raise DataError(
            f"CLV is not finite for {int(bad.sum())} customers (first row "
            f"{int(np.flatnonzero(bad)[0])}); check the inputs and parameters."
        )
    return data, method, h, nodes


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    discount_period: float = 1.0,
    margin: float = 1.0,
    time_unit: str | int | None = None,
    customer_col: str | None = None,
    frequency_col: str | None = None,
    recency_col: str | None = None,
    T_col: str | None = None,
    n_periods_col: str | None = None,
    monetary_value_col: str | None = None,
    level: float | None = None,
    n_draws: int = 200,
    seed: int = 0,
    n_nodes: int | None = None,
    progress: bool = False,
) -> CLVResult:
    r"""Expected discounted value of each customer over a horizon.

    Parameters
    ----------
    transaction_model : BGNBD, ParetoNBD, MBGNBD or BGBB
        A fitted transaction model (or one built with ``from_params``).
    spend_model : GammaGamma, float or None
        A fitted Gamma-Gamma model (conditional expected spend per transaction), a
        constant value per transaction, or None to value transactions at 1 (the result
        is then the discounted expected number of transactions).
    summary : DataFrame-like
        One row per customer with numeric frequency, recency and age (``T``;
        ``n_periods`` for BG/BB) and, with a Gamma-Gamma spend model, the mean spend;
        in the model's time unit. Any engine. Its columns are those the models were
        fitted with (their ``columns_``) unless named below.
    horizon : float
        Horizon in the model's time unit (whole periods for BG/BB); ``math.inf`` for the
        residual lifetime (needs ``discount_rate > 0``).
    discount_rate : float
        Discount rate per ``discount_period`` (0 for none). With a model in weeks, an
        annual rate of 10% is ``discount_rate=0.10, discount_period=52``. For BG/BB the
        rate is per period (opportunity).
    discount_period : float, default 1
        Length, in the model's time unit, of the period ``discount_rate`` refers to.
    margin : float, default 1
        Profit margin applied to spend.
    time_unit : str or int, optional
        The model's time unit (``"W"``, ``"weeks"``, ``"D"``, a number of days, ...;
        see :mod:`crmmodels._ingest.periods`), stated in words in the result. By
        default the transaction model's ``time_unit_`` (remembered by ``fit``), or
        ``"periods"`` when the model does not know its unit.
    customer_col : str, optional
        Id column carried into the result; it must exist. By default the id column the
        transaction model (else the spend model) was fitted with, which must then
        exist, else ``"customer_id"`` when the summary has it. Without any id the result
        numbers the customers in a ``customer`` column (row positions 0..n-1). The id is
        never left out: every input row is one row of the result, in input order.
    frequency_col, recency_col, T_col, n_periods_col, monetary_value_col : str, optional
        Summary columns, when they differ from those the models were fitted with
        (``T_col`` for the continuous-time models, ``n_periods_col`` for BG/BB,
        ``monetary_value_col`` with a Gamma-Gamma model).
    level : float, optional
        Adds ``clv_low`` and ``clv_high``: the per-customer percentile interval of CLV
        at this level (0 <= level < 1; 0 collapses it onto the median of the draws)
        under ``n_draws`` parameter draws from the asymptotic normal distribution of
        each fit (see :func:`customer_equity`). NaN when a model carries no covariance
        (e.g. built with ``from_params``). None (default): no interval. A model with
        covariates draws its base parameters and coefficients together, and each
        customer is valued at its drawn parameters.
    n_draws : int, default 200
        Parameter draws for the interval.
    seed : int, default 0
        Seed of the draws (a whole number >= 0); the same seed gives the same interval.
    n_nodes : int, optional
        Gauss-Legendre nodes (a panel, for an infinite horizon), 4 to 200. By default
        the count is chosen adaptively: doubled from 8 until the result on a check
        sample of the hardest histories (most frequent, youngest) changes by less than
        1e-10 relative.
    progress : bool, default False
        Report the steps on standard error (see :mod:`crmmodels._progress`; the logger
        is ``crmmodels.clv._value``).

    Returns
    -------
    CLVResult
        Per customer, in input order: the id, the summary columns read,
        ``expected_purchases``, ``discounted_purchases``, ``expected_spend``, ``clv``
        (and ``clv_low``, ``clv_high`` with a ``level``); plus the settings and the total.
        On a DuckDB, Dask, PySpark or lazy polars summary, ``data`` is a frame of that
        engine, computed there batch by batch with the models shipped as JSON (an id
        column is then needed); ``total`` and ``n_customers`` come from the distinct
        histories and their counts (see :mod:`crmmodels.engines`).

    Raises
    ------
    NotFittedError
        A model is not fitted.
    ArgumentError
        A model passed in the wrong place, or a wrongly typed or out-of-range argument
        (``horizon``, ``discount_rate``, ``discount_period``, ``margin``, ``level``,
        ``n_draws``, ``seed``, ``n_nodes``, a ``*_col``).
    SchemaError
        Missing or non-numeric columns, or a missing id column (named by
        ``customer_col`` or remembered by a model).
    DataError
        Invalid histories, or an infinite horizon without discounting.

    Notes
    -----
    :math:`\mathrm{CLV}_i = m\, \bar z_i \int_0^H e^{-\delta t} dE[X_i(t)]` with
    :math:`\delta = \ln(1 + d) / P`; see the module documentation for how the integral is
    computed for each model. The interval is computed once per draw on the distinct
    histories (and, with a Gamma-Gamma model, the distinct (history, mean spend) rows),
    with the quadrature nodes chosen at the fitted parameters.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, GammaGamma
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    >>> res = customer_lifetime_value(bg, gg, s, horizon=52, discount_rate=0.1,
    ...                               discount_period=52, time_unit="weeks")
    >>> res.to_frame().loc[0, ["expected_purchases", "clv"]].round(2).tolist()
    [1.56, 36.79]
    >>> res.customer_col, res.n_customers
    ('customer_id', 2357)

    With fitted models, an interval from their parameter uncertainty:

    >>> bg = BGNBD().fit(s)
    >>> res = customer_lifetime_value(bg, 10.0, s, horizon=52, discount_rate=0.1,
    ...                               discount_period=52, level=0.9, n_draws=50)
    >>> row = res.to_frame().iloc[0]
    >>> bool(row["clv_low"] <= row["clv"] <= row["clv_high"])
    True
    """
    check_transaction_model(transaction_model)
    spend = check_spend_model(spend_model)
    draws_args = None if level is None else check_draws(level, n_draws, seed)
    if has_covariates(transaction_model) or has_covariates(spend):  # per-customer parameters
        lvl, n, chosen = draws_args if draws_args is not None else (None, 0, 0)
        return covariate_lifetime_value(
            transaction_model,
            spend,
            summary,
            _columns(frequency_col, recency_col, T_col, n_periods_col, monetary_value_col),
            customer_col,
            horizon=horizon,
            discount_rate=discount_rate,
            discount_period=discount_period,
            margin=margin,
            time_unit=time_unit,
            level=lvl,
            n_draws=n,
            seed=chosen,
            n_nodes=n_nodes,
        )
    settings = check_settings(horizon, discount_rate, discount_period, margin, n_nodes)
    unit = unit_of(transaction_model, time_unit)
    columns = _columns(frequency_col, recency_col, T_col, n_periods_col, monetary_value_col)
    if engines.on_engine(summary):  # computed where the data live, the same per row
        call = {"horizon": horizon, "discount_rate": discount_rate, "level": level, "seed": seed,
                "discount_period": discount_period, "margin": margin, "n_draws": n_draws,
                "time_unit": time_unit, **{f"{k}_col": v for k, v in columns.items()}}  # fmt: skip
        return value_on_engine(customer_lifetime_value, transaction_model, spend, summary,
                               columns, customer_col, settings, unit, call)  # fmt: skip
    table = read_summary(transaction_model, spend, summary, columns, customer_col)
    total_draws = draws_args[1] if draws_args else None
    with Progress(
        "customer_lifetime_value",
        enabled=progress,
        total=total_draws,
        unit="draw",
        logger=__name__,
    ) as report:
        data, method, h, nodes = _lifetime_value(transaction_model, spend, table, settings, report)
        used = 0
        if draws_args is not None:
            lvl, n, chosen_seed = draws_args
            draws = parameter_draws(transaction_model, spend, n, chosen_seed)
            low = high = np.full(len(data), np.nan)
            if draws is not None:
                used = n
                report.info("%d parameter draws over %d distinct histories", n, h.f.size)
                at_draws = dataclasses.replace(settings, n_nodes=nodes or settings.n_nodes)
                low, high = clv_interval(
                    draws, spend, h, table.monetary_value, at_draws, lvl, report
                )
            data["clv_low"] = low
            data["clv_high"] = high
    return CLVResult(
        data=data,
        horizon=settings.horizon,
        discount_rate=settings.discount_rate,
        discount_period=settings.discount_period,
        time_unit=unit,
        method=method,
        total=float(data["clv"].sum()),
        n_customers=len(data),
        customer_col=table.id_col,
        level=None if draws_args is None else draws_args[0],
        n_draws=used,
    )


def customer_equity(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: float,
    discount_rate: float,
    discount_period: float = 1.0,
    margin: float = 1.0,
    time_unit: str | int | None = None,
    frequency_col: str | None = None,
    recency_col: str | None = None,
    T_col: str | None = None,
    n_periods_col: str | None = None,
    monetary_value_col: str | None = None,
    level: float = 0.95,
    n_draws: int = 200,
    seed: int = 0,
    n_nodes: int | None = None,
    method: str = "draws",
    weights: Any = None,
    progress: bool = False,
) -> EquityResult:
    r"""Customer equity: the sum of CLV over the customer base, with an interval.

    The interval reflects parameter uncertainty: parameters are drawn from the
    asymptotic normal distribution of the log parameters (from each model's
    ``covariance_``, the inverse observed information), the equity is recomputed for
    each draw, and the percentile interval is reported.

    Each draw is computed once per distinct history: customers with the same
    (x, t_x, T) share their discounted transactions, and the Gamma-Gamma expected spend
    is affine in the mean spend for a given frequency, so the spend of the customers
    sharing a history sums to their count times the expected spend at their mean spend.
    For BG/NBD, MBG/NBD and Pareto/NBD the time integral is further computed once per
    distinct (x, T) and scaled by P(alive) (see :func:`customer_lifetime_value`). The
    quadrature node count is chosen once, at the fitted parameters, and used for every
    draw. The draws are those of the per-customer computation up to rounding (the
    tests compare both to 1e-10 relative). With models fitted with covariates each
    customer is valued at its own parameters, and the draws (or the delta method) are
    over the base parameters and the coefficients together (see
    :mod:`crmmodels.clv._covariates_value`).

    Parameters
    ----------
    transaction_model, spend_model, summary : objects
        As in :func:`customer_lifetime_value`.
    horizon, discount_rate, discount_period, margin, time_unit : settings
        As in :func:`customer_lifetime_value`.
    frequency_col, recency_col, T_col, n_periods_col, monetary_value_col : str, optional
        Summary columns, as in :func:`customer_lifetime_value` (by default those the
        models were fitted with).
    level : float, default 0.95
        Interval level, 0 <= level < 1 (0 collapses the interval onto the median of the
        draws).
    n_draws : int, default 200
        Parameter draws (0 for no interval).
    seed : int, default 0
        Seed of the draws (a whole number >= 0).
    n_nodes : int, optional
        Quadrature nodes, as in :func:`customer_lifetime_value`.
    method : {"draws", "delta"}, default "draws"
        How the interval is made: the percentile interval of ``n_draws`` parameter
        draws, or the delta method on the log parameters (``log E`` normal with the
        variance ``g' Sigma g / E^2``, ``g`` the gradient of the equity by central
        differences): ``2 k`` evaluations for ``k`` parameters instead of ``n_draws``,
        close to the draws' interval when the equity is nearly linear in the parameters
        over their uncertainty (``n_draws`` and ``seed`` are then unused).
    weights : array-like, optional
        The number of customers each summary row stands for (default 1 each), e.g. the
        counts of distinct histories: the equity is the weighted sum of the rows' CLV,
        and equals the equity of the summary with each row repeated that many times.
        Finite and non-negative, one per row; not with models fitted with covariates.
    progress : bool, default False
        Report the steps (every 10% of the draws) on standard error (see
        :mod:`crmmodels._progress`; the logger is ``crmmodels.clv._value``).

    Returns
    -------
    EquityResult

    Raises
    ------
    ArgumentError
        As in :func:`customer_lifetime_value`, and for ``level``, ``n_draws``, ``seed``.

    Examples
    --------
    >>> from crmmodels.clv import BGNBD, GammaGamma
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> bg = BGNBD().fit(s)
    >>> gg = GammaGamma().fit(s[s["frequency"] > 0])
    >>> eq = customer_equity(bg, gg, s, horizon=52, discount_rate=0.1, discount_period=52,
    ...                      n_draws=20)
    >>> bool(eq.low < eq.total < eq.high)
    True
    """
    check_transaction_model(transaction_model)
    spend = check_spend_model(spend_model)
    settings = check_settings(horizon, discount_rate, discount_period, margin, n_nodes)
    unit = unit_of(transaction_model, time_unit)
    lvl, n, chosen_seed = check_draws(level, n_draws, seed)
    check_choice(method, "method", ["draws", "delta"])
    columns = _columns(frequency_col, recency_col, T_col, n_periods_col, monetary_value_col)
    covariates = has_covariates(transaction_model) or has_covariates(spend)
    if weights is not None and covariates:
        raise ArgumentError(
            "weights cannot be combined with models fitted with covariates (each customer "
            "has its own parameters): pass one row per customer without weights."
        )
    if covariates:  # per-customer parameters
        total, low, high, n_customers, equities = covariate_equity(
            transaction_model, spend, summary, columns, settings,
            level=lvl, n_draws=n, seed=chosen_seed, method=method,
        )  # fmt: skip
        return EquityResult(
            total=total,
            low=low,
            high=high,
            level=lvl,
            n_draws=len(equities),
            n_customers=n_customers,
            horizon=settings.horizon,
            discount_rate=settings.discount_rate,
            time_unit=unit,
            draws=equities,
            method=method,
        )
    table = read_summary(transaction_model, spend, summary, columns, None, ids=False)
    w = _weights(weights, table.frequency.size)
    if method == "delta":
        data, _, h, nodes = _lifetime_value(
            transaction_model, spend, table, settings, Progress("customer_equity"), w
        )
        at_fit = dataclasses.replace(settings, n_nodes=nodes or settings.n_nodes)
        bounds = equity_delta(transaction_model, spend, h, at_fit, lvl)
        low, high = bounds if bounds is not None else (float("nan"), float("nan"))
        return EquityResult(
            total=_total(data, w),
            low=low,
            high=high,
            level=lvl,
            n_draws=0,
            n_customers=_count(data, w),
            horizon=settings.horizon,
            discount_rate=settings.discount_rate,
            time_unit=unit,
            draws=(),
            method="delta",
        )
    with Progress(
        "customer_equity", enabled=progress, total=n, unit="draw", logger=__name__
    ) as report:
        data, _, h, nodes = _lifetime_value(transaction_model, spend, table, settings, report, w)
        total = _total(data, w)
        draws = parameter_draws(transaction_model, spend, n, chosen_seed)
        values: list[float] = []
        if draws is not None:
            report.info("%d parameter draws over %d distinct histories", n, h.f.size)
            # the draws use the node count chosen at the fitted parameters
            at_draws = dataclasses.replace(settings, n_nodes=nodes or settings.n_nodes)
            values = equity_draws(draws, spend, h, at_draws, report)
    if values:
        tail = (1.0 - lvl) / 2.0
        low, high = (float(v) for v in np.quantile(values, [tail, 1.0 - tail]))
    else:
        low = high = float("nan")
    return EquityResult(
        total=total,
        low=low,
        high=high,
        level=lvl,
        n_draws=len(values),
        n_customers=_count(data, w),
        horizon=settings.horizon,
        discount_rate=settings.discount_rate,
        time_unit=unit,
        draws=tuple(values),
    )


def _weights(weights: Any, n: int) -> FloatArray | None:
    """Customers per summary row: finite, non-negative, one per row (None: one each)."""
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ArgumentError(
            f"weights must be numbers, one per summary row; got {type(weights).__name__}."
        ) from None
    if w.size != n:
        raise ArgumentError(f"weights has {w.size} values for {n} summary rows: pass one per row.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ArgumentError(
            f"weights must be finite and non-negative; {int(bad.sum())} are not (first: "
            f"row {first}, {w[first]!r}). Pass the number of customers each row stands for."
        )
    return w


def _total(data: pd.DataFrame, w: FloatArray | None) -> float:
    clv = data["clv"].to_numpy(dtype=np.float64)
    return float(clv.sum() if w is None else clv @ w)


def _count(data: pd.DataFrame, w: FloatArray | None) -> int:
    return len(data) if w is None else round(float(w.sum()))
