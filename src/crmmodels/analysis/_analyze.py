"""``analyze``: from a transaction log to one customer table, its models and key figures."""

from __future__ import annotations

import dataclasses
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import collect, like_input, to_narwhals, to_pandas
from crmmodels._ingest.log import prepare_log
from crmmodels.analysis._customers import customer_table
from crmmodels.analysis._engine_result import ENGINE_ROUTE, engine_of
from crmmodels.analysis._figures import DataChecksResult, key_figures
from crmmodels.analysis._ids import IdCodes, code_ids
from crmmodels.analysis._result import CustomerAnalysis
from crmmodels.analysis._settings import CURRENT_WINDOW_DAYS, AnalysisSettings, check_settings
from crmmodels.analysis._steps import StepLog
from crmmodels.clv import GammaGamma, customer_equity, customer_lifetime_value, select_model
from crmmodels.clv._selection import CANDIDATES
from crmmodels.errors import DataError
from crmmodels.idic import pseudonymize
from crmmodels.lifecycle import LifecycleRules
from crmmodels.lifecycle._features import Log, merged_days
from crmmodels.lifecycle._rules import settings as lifecycle_settings
from crmmodels.lifecycle._stages import stages_of_log
from crmmodels.portfolio import pareto_analysis
from crmmodels.quadrants import clv_quadrants
from crmmodels.quadrants._transactions import current_values_of_log
from crmmodels.retention._cohorts import cohort_retention_of_log
from crmmodels.transactions import rfm_scores, rfm_segments, summarize_transactions

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
    common: dict[str, Any] = {"customer_col": customer_col, "date_col": date_col}
    end_date = settings.observation_end
    summary = _decoded(
        codes,
        summarize_transactions(
            log, amount_col=amount_col, observation_end=end_date, time_unit=unit, **common
        ),
    )
    checks = _checks(frame, summary, date_col, end_date)
    # the steps that read the whole log (cohort retention, lifecycle) run first, while
    # the least is held: their log-sized working memory does not stack on the parts
    retention = steps.run(
        "Cohort retention",
        lambda: cohort_retention_of_log(
            frame, to_timestamp(end_date, "observation_end", tz), period="M", **common
        ),
        lambda r: f"{r.to_frame()['cohort'].nunique()} monthly cohorts",
    )
    lifecycle, relationship = _lifecycle(
        steps,
        Log(merged_days(frame, customer_col, date_col, amount_col), end, tz),
        rules,
        end_date,
        customer_col,
    )
    if codes is not None:
        lifecycle = codes.decode_result(lifecycle, "stages")
        relationship = codes.decode_result(relationship, "stages")
    selection = steps.run(
        "Model selection",
        lambda: select_model(
            log,
            observation_end=end_date,
            calibration_end=calibration_end,
            holdout=holdout_value,
            time_unit=unit,
            model=model_name,
            **common,
        ),
        lambda r: str(r.reason),
    )
    transaction_model = _transaction_model(steps, selection, summary, model_name, customer_col)
    model_summary = summary
    if selection is not None and selection.discrete:  # the models count whole periods
        model_summary = _decoded(
            codes,
            summarize_transactions(
                log, amount_col=amount_col, observation_end=end_date, period=unit, **common
            ),
        )
    spend_model = steps.run(
        "Spend model (Gamma-Gamma)",
        lambda: GammaGamma().fit(_repeat_buyers(model_summary), customer_col=customer_col),
        lambda m: f"fitted on {int(m.n_customers_):,} repeat buyers with positive spend",
    )
    models: dict[str, Any] = {}
    if transaction_model is not None:
        models[type(transaction_model).__name__] = transaction_model
    if spend_model is not None:
        models["GammaGamma"] = spend_model
    predictions = _predictions(steps, transaction_model, model_summary, horizon_value, customer_col)
    value_args: dict[str, Any] = {
        "horizon": horizon_value,
        "discount_rate": rate,
        "discount_period": settings.discount_period,
        "margin": margin_value,
    }
    clv, equity = _value(
        steps, transaction_model, spend_model, model_summary, value_args, level_value, customer_col
    )
    rfm = steps.run(
        "RFM scores and segments",
        lambda: rfm_segments(rfm_scores(summary, customer_col=customer_col)),
        lambda f: f"{f['segment'].nunique()} segments",
    )
    portfolio = steps.run(
        "80/20 analysis",
        lambda: pareto_analysis(summary, amount_col="total_value", customer_col=customer_col),
        lambda r: f"top 20% of customers bought {r.top_share:.0%} of the value; Gini {r.gini:.2f}",
    )
    quadrants = _quadrants(
        steps, frame, clv, codes, customer_col, date_col, amount_col, end_date, tz
    )
    table = customer_table(
        summary,
        customer_col=customer_col,
        rfm=rfm,
        lifecycle=_part(lifecycle, "stages", customer_col, "stage", "last_purchase"),
        relationship=_part(relationship, "stages", customer_col, "stage"),
        predictions=predictions,
        clv=_part(clv, "data", customer_col, "expected_spend", "clv"),
        classes=None if portfolio is None else portfolio.to_frame(),
        quadrants=None if quadrants is None else quadrants.to_frame(),
    )
    figures = key_figures(
        table,
        equity=equity,
        portfolio=portfolio,
        level=level_value,
        horizon=horizon_value,
        time_unit=settings.unit,
    )
    steps.finish()
    return CustomerAnalysis(
        customers=like_input(to_narwhals(transactions), table),
        key_figures=figures,
        model_selection=selection,
        models=models,
        transaction_model=None if transaction_model is None else type(transaction_model).__name__,
        clv=clv,
        equity=equity,
        rfm=rfm,
        lifecycle=lifecycle,
        relationship=relationship,
        portfolio=portfolio,
        quadrants=quadrants,
        retention=retention,
        checks=checks,
        steps=steps.result(),
        settings=settings,
        _table=table,
    )


def _part(result: Any, field: str, *columns: str) -> pd.DataFrame | None:
    """The columns the customer table takes from a part's frame, without copying it whole.

    (``to_frame()`` returns a full copy; the table needs a few columns, and with pandas'
    copy-on-write a column selection shares the part's memory.)
    """
    if result is None:
        return None
    frame: pd.DataFrame = getattr(result, field)
    return frame[list(columns)]


def _pandas(data: Any) -> pd.DataFrame:
    """A (small, per-customer) result of any engine as pandas."""
    return data if isinstance(data, pd.DataFrame) else to_pandas(to_narwhals(data))


def _decoded(codes: IdCodes | None, data: Any) -> pd.DataFrame:
    """A per-customer frame of any engine as pandas, with the ids decoded."""
    frame = _pandas(data)
    return frame if codes is None else codes.decode(frame)


def _checks(
    frame: Any, summary: pd.DataFrame, date_col: str, end: pd.Timestamp
) -> DataChecksResult:
    """Rows read, dates and customers the later steps cannot value."""
    stats = collect(
        frame.select(
            nw.len().alias("n"),
            nw.col(date_col).min().alias("first"),
            nw.col(date_col).max().alias("last"),
        )
    ).rows(named=True)[0]
    total = summary["total_value"].to_numpy(dtype="float64")
    return DataChecksResult(
        n_rows=int(stats["n"]),
        n_customers=len(summary),
        first_date=str(pd.Timestamp(stats["first"]).date()),
        last_date=str(pd.Timestamp(stats["last"]).date()),
        observation_end=str(end.date()),
        total_value=float(total.sum()),
        n_zero_value_customers=int((total <= 0).sum()),
        n_one_time_buyers=int((summary["frequency"].to_numpy() == 0).sum()),
    )


def _transaction_model(
    steps: StepLog,
    selection: Any,
    summary: pd.DataFrame,
    model_name: str | None,
    customer_col: str,
) -> Any:
    """The chosen model refitted on the whole period, or a fallback fit.

    When the selection was skipped, the forced model (else BG/NBD) is fitted on the whole
    period without a holdout comparison.
    """
    if selection is not None:
        return selection.model
    name = model_name if model_name is not None and model_name != "BGBB" else "BGNBD"
    cls = CANDIDATES[name]
    return steps.run(
        f"Transaction model ({name}, whole period)",
        lambda: cls().fit(summary, customer_col=customer_col),
        lambda m: f"{name} fitted on {int(m.n_customers_):,} customers, no holdout comparison",
    )


def _repeat_buyers(summary: pd.DataFrame) -> pd.DataFrame:
    """Customers the Gamma-Gamma model can use: repeat buyers with a positive mean spend."""
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if not bool(keep.any()):
        raise DataError(
            "no customer bought more than once with a positive spend, so the spend model "
            "cannot be fitted; CLV needs repeat purchases."
        )
    return summary.loc[keep]


def _predictions(
    steps: StepLog, model: Any, summary: pd.DataFrame, horizon: float, customer_col: str
) -> pd.DataFrame | None:
    if model is None:
        steps.skip("P(alive) and expected purchases", "no transaction model was fitted")
        return None
    return steps.run(
        "P(alive) and expected purchases",
        lambda: _pandas(model.predict(summary, horizon=horizon, customer_col=customer_col)),
        lambda f: f"{f['expected_purchases'].sum():,.0f} purchases expected over the horizon",
    )


def _value(
    steps: StepLog,
    transaction_model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    value_args: dict[str, Any],
    level: float,
    customer_col: str,
) -> tuple[Any, Any]:
    if transaction_model is None or spend_model is None:
        missing = "transaction" if transaction_model is None else "spend"
        steps.skip("CLV", f"no {missing} model was fitted")
        steps.skip("Customer equity", f"no {missing} model was fitted")
        return None, None
    clv = steps.run(
        "CLV",
        lambda: customer_lifetime_value(
            transaction_model, spend_model, summary, customer_col=customer_col, **value_args
        ),
        lambda r: f"CLV of {r.n_customers:,} customers, total {r.total:,.0f}",
    )
    equity = steps.run(
        "Customer equity",
        lambda: customer_equity(
            transaction_model, spend_model, summary, level=level, method="delta", **value_args
        ),
        lambda r: f"{r.total:,.0f} ({r.low:,.0f} to {r.high:,.0f})",
    )
    return clv, equity


def _quadrants(
    steps: StepLog,
    frame: Any,
    clv: Any,
    codes: IdCodes | None,
    customer_col: str,
    date_col: str,
    amount_col: str,
    end: pd.Timestamp,
    tz: str | None,
) -> Any:
    if clv is None:
        steps.skip("CLV quadrants", "the CLV step was skipped")
        return None

    def run() -> Any:
        current = _decoded(
            codes,
            current_values_of_log(
                frame,
                customer_col=customer_col,
                date_col=date_col,
                amount_col=amount_col,
                end=to_timestamp(end, "observation_end", tz=tz or "UTC").normalize(),
                current_window_days=CURRENT_WINDOW_DAYS,
            ),
        )
        values = clv.to_frame()[[customer_col, "clv"]].rename(columns={"clv": "potential_value"})
        data = values.merge(current, on=customer_col, how="left")
        data["current_value"] = data["current_value"].fillna(0.0)
        return clv_quadrants(data, customer_col=customer_col, split="positive_median")

    return steps.run(
        "CLV quadrants",
        run,
        lambda r: (
            f"{r.n_vip:,} VIP, {r.n_improve:,} improve, {r.n_maintain:,} maintain, "
            f"{r.n_abandon:,} abandon"
        ),
    )


def _lifecycle(
    steps: StepLog,
    days: Log,
    rules: LifecycleRules,
    end: pd.Timestamp,
    customer_col: str,
) -> tuple[Any, Any]:
    """Both lifecycle schemes from the log merged to (customer, day) rows once.

    The merged log lives only for this call.
    """
    cache: dict[Any, Any] = {}  # the customers' features, shared by both schemes

    def stages(scheme: str) -> Any:
        scheme_rules = dataclasses.replace(rules, scheme=scheme)  # type: ignore[arg-type]
        s = lifecycle_settings(scheme_rules, model=None, time_unit="W", future_customers="prospect")
        return stages_of_log(days, observation_end=end, s=s, customer_col=customer_col, cache=cache)

    purchase = steps.run(
        "Lifecycle stages (purchase scheme)",
        lambda: stages("purchase"),
        lambda r: _mix(r.to_frame()["stage"]),
    )
    relationship = steps.run(
        "Relationship stages",
        lambda: stages("relationship"),
        lambda r: _mix(r.to_frame()["stage"]),
    )
    return purchase, relationship


def _mix(stages: pd.Series) -> str:
    counts = stages.value_counts()
    return ", ".join(f"{int(n):,} {name}" for name, n in counts.items())
