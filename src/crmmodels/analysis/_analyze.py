"""``analyze``: from a transaction log to one customer table, its models and key figures."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.log import prepare_log
from crmmodels.analysis._engine_result import ENGINE_ROUTE, engine_of
from crmmodels.analysis._ids import code_ids
from crmmodels.analysis._result import CustomerAnalysis
from crmmodels.analysis._settings import AnalysisSettings, check_settings
from crmmodels.analysis._steps import StepLog
from crmmodels.errors import DataError
from crmmodels.idic import pseudonymize
from crmmodels.lifecycle import LifecycleRules

__all__ = ["analyze"]


def analyze(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    observation_end: Any = None,
    time_unit: Any = "W",
    horizon: float | None = None,
    discount_rate: float = 0.10,
    margin: float = 1.0,
    holdout: float | None = None,
    calibration_end: Any = None,
    model: str | None = None,
    level: float = 0.95,
    date_format: str | None = None,
    lifecycle_rules: LifecycleRules | None = None,
    progress: bool = False,
    pseudonymize_key: str | bytes | None = None,
) -> CustomerAnalysis:
    """Analyse a customer base from its transaction log: one call, one customer table.

    Runs, on the log: the customer summary; the choice of a transaction model (BG/NBD,
    MBG/NBD, Pareto/NBD, and BG/BB for discrete opportunities) on a calibration period
    and a holdout, then its refit on the whole period; the Gamma-Gamma spend model;
    P(alive), expected purchases and CLV over the horizon; customer equity with its
    interval; RFM scores and segments; lifecycle stages (purchase and relationship
    schemes); the 80/20 analysis with A/B/C classes; CLV quadrants; monthly cohort
    retention. A step the data cannot support is skipped with the reason (in
    ``steps``), and its columns stay empty: every customer of the log is in the table
    exactly once.

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase: pandas, polars (eager or lazy), pyarrow, DuckDB, Dask or
        PySpark. It is not changed.
    customer_col, date_col, amount_col : str
        Columns of the customer id, the purchase date and the amount.
    observation_end : date-like, optional
        End of the observation period; the last purchase date when None. Purchases after
        it are an error (filter the log first), as in :func:`summarize_transactions`.
    time_unit : str or int
        Unit of recency, T, the horizon and the holdout: "D", "W" (default) or a whole
        number of days (30 for about a month; calendar months have unequal lengths).
    horizon : float, optional
        Forecast horizon in time units; one year when None (52 weeks, 12 months ...).
    discount_rate : float
        Yearly discount rate of the CLV (default 10%), applied continuously.
    margin : float
        Share of revenue counted as value (default 1: CLV is revenue; pass 0.3 for a 30%
        margin).
    holdout, calibration_end : optional
        The holdout of the model selection: its length in time units, or the date the
        calibration period ends. Default: the rule of :func:`crmmodels.clv.select_model`.
    model : {"BGNBD", "MBGNBD", "ParetoNBD", "BGBB"}, optional
        Use this transaction model instead of the one chosen on the holdout (the others
        are still compared).
    level : float
        Level of the customer-equity interval (default 0.95).
    date_format : str, optional
        ``strftime`` format of text dates.
    lifecycle_rules : LifecycleRules, optional
        Thresholds of the purchase-scheme lifecycle stages (the defaults of
        :class:`LifecycleRules` when None); the relationship stages use the same
        thresholds under the relationship scheme.
    progress : bool
        Report each step on standard error.
    pseudonymize_key : str or bytes, optional
        Replace the customer ids by keyed pseudonyms (HMAC-SHA256, see
        :func:`crmmodels.idic.pseudonymize`) before anything else, so that the customer
        table, the report and every saved file carry pseudonyms only. The key (at least
        16 bytes) is used, never stored; the same key gives the same pseudonyms in every
        run, so outputs of several runs still join.

    Returns
    -------
    CustomerAnalysis
        ``.customers`` (the table), ``.key_figures``, ``.model_selection``,
        ``.models``, the parts (``.clv``, ``.equity``, ``.rfm``, ``.lifecycle``,
        ``.portfolio``, ``.quadrants``, ``.retention``), ``.checks``, ``.steps`` and
        ``.settings``.

    Raises
    ------
    SchemaError, DataError, ArgumentError
        For everything :func:`summarize_transactions` rejects (missing columns, empty
        log, missing or unparsable dates, negative amounts, purchases after the
        observation end) and for bad settings (a horizon of 0 ...).

    Examples
    --------
    >>> import crmmodels as crm
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> result = crm.analyze(load_cdnow_sample(), amount_col="amount")
    >>> result.key_figures.n_customers, len(result.customers)
    (2357, 2357)
    >>> result.customers.columns[:4].tolist()
    ['customer_id', 'first_purchase', 'last_purchase', 'n_orders']
    """
    unit, horizon_value, rate, margin_value, level_value, holdout_value, model_name = (
        check_settings(
            time_unit=time_unit,
            horizon=horizon,
            discount_rate=discount_rate,
            margin=margin,
            level=level,
            holdout=holdout,
            model=model,
        )
    )
    rules = lifecycle_rules if lifecycle_rules is not None else LifecycleRules()
    if not isinstance(rules, LifecycleRules):
        raise DataError(f"lifecycle_rules must be a LifecycleRules; got {type(rules).__name__}.")
    steps = StepLog(progress)
    if pseudonymize_key is not None:
        transactions = pseudonymize(transactions, customer_col, key=pseudonymize_key)
    frame, end, tz = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
        allow_negative=False,
        observation_end=observation_end,
    )
    # the validated log (dates parsed, local wall time), text ids coded as integers once
    log, codes = code_ids(nw.to_native(frame), customer_col)
    if codes is not None:
        frame = nw.from_native(log)
    settings = AnalysisSettings(
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        observation_end=pd.Timestamp(end).normalize(),
        time_unit=unit,
        horizon=horizon_value,
        discount_rate=rate,
        margin=margin_value,
        level=level_value,
        holdout=holdout_value,
        calibration_end=None
        if calibration_end is None
        else to_timestamp(calibration_end, "calibration_end").normalize(),
        model=model_name,
        date_format=date_format,
        pseudonymized=pseudonymize_key is not None,
    )
    if engine_of(frame) in ENGINE_ROUTE:  # the customer table stays on the engine
        from crmmodels.analysis._engine import analyze_on_engine

        return analyze_on_engine(frame, settings=settings, rules=rules, steps=steps, tz=tz)
    from crmmodels.analysis._eager import analyze_eager

    return analyze_eager(
        transactions, frame, log, codes, settings=settings, rules=rules, steps=steps, tz=tz
    )
