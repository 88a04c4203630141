"""``analyze`` on an eager log (pandas, polars, pyarrow): one customer table, column by column.

Memory is the constraint at scale (a log of ten million purchases has over three million
customers), so the steps run in the order of their working memory: the model selection,
the customer equity, RFM, the 80/20 analysis and the lifecycle stages, which need the
most, run while only the customer summary is held; each step hands its columns to the
table (:class:`CustomerTable`) and its own result is dropped. Predictions and CLV are
computed by blocks of customers, so their temporaries stay small. The result keeps the
table; the per-customer parts are rebuilt from it on request (:mod:`._parts`).
"""

from __future__ import annotations

import math
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import collect, like_input, to_narwhals, to_pandas
from crmmodels.analysis._customers import CustomerTable
from crmmodels.analysis._figures import DataChecksResult, key_figures
from crmmodels.analysis._ids import IdCodes
from crmmodels.analysis._parts import (
    Parts,
    clv_part,
    lifecycle_columns,
    portfolio_part,
    quadrant_part,
    rfm_columns,
    value_args,
)
from crmmodels.analysis._result import CustomerAnalysis
from crmmodels.analysis._settings import CURRENT_WINDOW_DAYS, AnalysisSettings
from crmmodels.analysis._steps import StepLog, whole_period_model
from crmmodels.clv import GammaGamma, customer_equity, select_model
from crmmodels.errors import DataError
from crmmodels.kernels._optim import compress_rows
from crmmodels.lifecycle import LifecycleRules
from crmmodels.retention._cohorts import cohort_retention_of_log
from crmmodels.transactions import summarize_transactions

__all__ = ["BLOCK_CUSTOMERS", "analyze_eager", "window_values"]

#: customers per block of the prediction and CLV steps
BLOCK_CUSTOMERS = 1 << 18
#: log rows per block of the windowed sums
_BLOCK_ROWS = 1 << 20
#: distinct rows are numbered by hashing while their cells fit in 62 bits
_MAX_CELLS = 2**62


def analyze_eager(
    transactions: Any,
    frame: Any,
    log: Any,
    codes: IdCodes | None,
    *,
    settings: AnalysisSettings,
    rules: LifecycleRules,
    steps: StepLog,
    tz: str | None,
) -> CustomerAnalysis:
    """The customer table of a validated eager log (``log``, ids coded by ``codes``)."""
    s = settings
    key, end = s.customer_col, s.observation_end
    common: dict[str, Any] = {"customer_col": key, "date_col": s.date_col}
    # the steps with log-sized working memory come first, while nothing is held
    selection = steps.run(
        "Model selection",
        lambda: select_model(
            log,
            observation_end=end,
            calibration_end=s.calibration_end,
            holdout=s.holdout,
            time_unit=s.time_unit,
            model=s.model,
            **common,
        ),
        lambda r: str(r.reason),
    )
    retention = steps.run(
        "Cohort retention",
        lambda: cohort_retention_of_log(
            frame, to_timestamp(end, "observation_end", tz), period="M", **common
        ),
        lambda r: f"{r.to_frame()['cohort'].nunique()} monthly cohorts",
    )
    coded = _pandas(
        summarize_transactions(
            log, amount_col=s.amount_col, observation_end=end, time_unit=s.time_unit, **common
        )
    )
    # the windowed sums read the log by the (coded) ids the summary is sorted by
    end_day = int(end.to_datetime64().astype("datetime64[D]").view(np.int64))
    recent, current = window_values(
        frame,
        coded[key].to_numpy(),
        customer_col=key,
        date_col=s.date_col,
        amount_col=s.amount_col,
        end_day=end_day,
        windows=(rules.recent_days, CURRENT_WINDOW_DAYS),
    )
    summary = coded if codes is None else codes.decode(coded)
    del coded
    checks = _checks(frame, summary, s.date_col, end)
    table = CustomerTable(summary, key)
    done: set[str] = set()
    transaction_model = whole_period_model(steps, selection, summary, s.model, key)
    model_summary: pd.DataFrame | None = None
    if selection is not None and selection.discrete:  # the models count whole periods
        model_summary = _decoded(
            codes,
            summarize_transactions(
                log, amount_col=s.amount_col, observation_end=end, period=s.time_unit, **common
            ),
        )
    value_summary = summary if model_summary is None else model_summary
    spend_model = steps.run(
        "Spend model (Gamma-Gamma)",
        lambda: GammaGamma().fit(_repeat_buyers(value_summary), customer_col=key),
        lambda m: f"fitted on {int(m.n_customers_):,} repeat buyers with positive spend",
    )
    models: dict[str, Any] = {}
    if transaction_model is not None:
        models[type(transaction_model).__name__] = transaction_model
    if spend_model is not None:
        models["GammaGamma"] = spend_model
    rfm = steps.run(
        "RFM scores and segments",
        lambda: rfm_columns(summary, key),
        lambda c: f"{len(c['rfm_segment'].categories)} segments",
    )
    if rfm is not None:
        done.add("rfm")
        for name, values in rfm.items():
            table.put(name, values)
    del rfm
    # the 80/20 analysis and the quadrants run on row positions instead of the ids (the
    # summary is in id order, so ties are broken alike): their classes come back without
    # a lookup of every (text) id
    n_customers = len(summary)
    portfolio = steps.run(
        "80/20 analysis",
        lambda: portfolio_part(_by_row(key, table.columns["total_value"]), key),
        lambda r: f"top 20% of customers bought {r.top_share:.0%} of the value; Gini {r.gini:.2f}",
    )
    concentration = None
    if portfolio is not None:
        done.add("portfolio")
        concentration = (float(portfolio.top_share), float(portfolio.gini))
        classes = portfolio.classes
        labels: Any = classes["class"].array  # a Categorical, best customer first
        class_codes = np.empty(n_customers, dtype=np.int8)
        class_codes[classes[key].to_numpy()] = labels.codes
        table.put("value_class", pd.Categorical.from_codes(class_codes, dtype=labels.dtype))
        del classes, labels
    del portfolio
    # both schemes come from one pass over the summary's columns; the relationship
    # step records that scheme's mix
    stages = steps.run(
        "Lifecycle stages (purchase scheme)",
        lambda: lifecycle_columns(summary, recent, rules, s),
        lambda c: _mix(c["lifecycle_stage"]),
    )
    if stages is not None:
        relationship = stages["relationship_stage"]
        steps.run("Relationship stages", lambda: relationship, _mix)
        done.update(("lifecycle", "relationship"))
        for name, values in stages.items():
            table.put(name, values)
    else:
        steps.skip("Relationship stages", "the lifecycle stages were skipped")
    values = _scores(steps, table, transaction_model, spend_model, value_summary, s)
    if values is not None:
        done.add("clv")
    # the equity from the distinct histories weighted by their customers
    equity = _equity(steps, transaction_model, spend_model, values, s)
    del values
    if "clv" in done:
        quadrants = steps.run(
            "CLV quadrants",
            lambda: quadrant_part(np.arange(n_customers), current, table.columns["clv"], key),
            lambda r: (
                f"{r.n_vip:,} VIP, {r.n_improve:,} improve, {r.n_maintain:,} maintain, "
                f"{r.n_abandon:,} abandon"
            ),
        )
        if quadrants is not None:
            done.add("quadrants")
            table.put("quadrant", quadrants.labels)
        del quadrants
    else:
        steps.skip("CLV quadrants", "the CLV step was skipped")
    customers = table.frame()
    figures = key_figures(
        customers,
        equity=equity,
        concentration=concentration,
        level=s.level,
        horizon=s.horizon,
        time_unit=s.unit,
    )
    steps.finish()
    return CustomerAnalysis(
        customers=like_input(to_narwhals(transactions), customers),
        key_figures=figures,
        model_selection=selection,
        models=models,
        transaction_model=None if transaction_model is None else type(transaction_model).__name__,
        equity=equity,
        retention=retention,
        checks=checks,
        steps=steps.result(),
        settings=s,
        _table=customers,
        _parts=Parts(
            table=customers,
            settings=s,
            rules=rules,
            transaction_model=transaction_model,
            spend_model=spend_model,
            model_summary=model_summary,
            recent_value=recent,
            current_value=current,
            done=frozenset(done),
        ),
    )


def window_values(
    frame: Any,
    ids: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    end_day: int,
    windows: tuple[int, ...],
) -> list[np.ndarray[Any, Any]]:
    """Each customer's sum of amounts over the last ``w`` days, for each ``w`` in ``windows``.

    A purchase on day ``d`` counts in window ``w`` when ``end_day - w < d <= end_day``
    (the log holds no later purchase). ``ids`` are the customers (the summary's ids, as
    in the log); the sums come back in their order. The log is read by blocks of rows:
    only the rows inside the widest window are looked up.

    Examples
    --------
    >>> import pandas as pd, narwhals.stable.v2 as nw
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [5.0, 7.0, 3.0],
    ...                     "date": pd.to_datetime(["2024-01-01", "2024-03-30", "2024-03-01"])})
    >>> day = int(pd.Timestamp("2024-03-31").to_datetime64().astype("datetime64[D]").astype(int))
    >>> [w.tolist() for w in window_values(nw.from_native(log), [1, 2], customer_col="customer_id",
    ...     date_col="date", amount_col="amount", end_day=day, windows=(7, 365))]
    [[7.0, 0.0], [12.0, 3.0]]
    """
    keys = np.asarray(ids)
    widest = max(windows)
    dates = np.asarray(frame[date_col].to_numpy())
    if dates.dtype.kind != "M":  # timezone-aware or objects: local wall time as naive
        dates = pd.to_datetime(pd.Series(dates)).dt.tz_localize(None).to_numpy()
    row_ids = frame[customer_col].to_numpy()
    amounts = frame[amount_col].to_numpy()
    sorted_keys = keys.dtype.kind in "iu" and bool(np.all(keys[1:] >= keys[:-1]))
    index = None if sorted_keys else pd.Index(keys)
    found_pos: list[np.ndarray[Any, Any]] = []
    found_day: list[np.ndarray[Any, Any]] = []
    found_amount: list[np.ndarray[Any, Any]] = []
    for start in range(0, len(dates), _BLOCK_ROWS):
        block = slice(start, start + _BLOCK_ROWS)
        day = dates[block].astype("datetime64[D]").view(np.int64)
        rows = np.flatnonzero(day > end_day - widest)
        if not rows.size:
            continue
        who = row_ids[block][rows]
        if index is None:
            pos = np.searchsorted(keys, np.asarray(who, dtype=keys.dtype))
        else:
            pos = index.get_indexer(pd.Index(who))
        found_pos.append(pos)
        found_day.append(day[rows])
        found_amount.append(np.asarray(amounts[block][rows], dtype=np.float64))
    pos = np.concatenate(found_pos) if found_pos else np.empty(0, dtype=np.intp)
    day = np.concatenate(found_day) if found_day else np.empty(0, dtype=np.int64)
    amount = np.concatenate(found_amount) if found_amount else np.empty(0)
    return [
        np.bincount(pos, weights=np.where(day > end_day - w, amount, 0.0), minlength=keys.size)
        for w in windows
    ]


def _by_row(key: str, total: np.ndarray[Any, Any]) -> pd.DataFrame:
    """The customers' total value with their row numbers as ids."""
    return pd.DataFrame({key: np.arange(total.size), "total_value": total}, copy=False)


def _pandas(data: Any) -> pd.DataFrame:
    """A (per-customer) result of any eager frame as pandas."""
    return data if isinstance(data, pd.DataFrame) else to_pandas(to_narwhals(data))


def _decoded(codes: IdCodes | None, data: Any) -> pd.DataFrame:
    """A per-customer frame as pandas, with the ids decoded."""
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


def _repeat_buyers(summary: pd.DataFrame) -> pd.DataFrame:
    """Customers the Gamma-Gamma model can use: repeat buyers with a positive mean spend."""
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if not bool(keep.any()):
        raise DataError(
            "no customer bought more than once with a positive spend, so the spend model "
            "cannot be fitted; CLV needs repeat purchases."
        )
    return summary.loc[keep]


def _missing(transaction_model: Any, spend_model: Any) -> str:
    return "transaction" if transaction_model is None else "spend"


def _equity(
    steps: StepLog,
    transaction_model: Any,
    spend_model: Any,
    values: tuple[pd.DataFrame, np.ndarray[Any, Any]] | None,
    s: AnalysisSettings,
) -> Any:
    if transaction_model is None or spend_model is None:
        missing = _missing(transaction_model, spend_model)
        steps.skip("Customer equity", f"no {missing} model was fitted")
        return None
    if values is None:
        steps.skip("Customer equity", "the CLV step was skipped")
        return None
    rows, counts = values
    return steps.run(
        "Customer equity",
        lambda: customer_equity(
            transaction_model,
            spend_model,
            rows,
            weights=counts,
            level=s.level,
            method="delta",
            **value_args(s),
        ),
        lambda r: f"{r.total:,.0f} ({r.low:,.0f} to {r.high:,.0f})",
    )


def _scores(
    steps: StepLog,
    table: CustomerTable,
    transaction_model: Any,
    spend_model: Any,
    summary: pd.DataFrame,
    s: AnalysisSettings,
) -> tuple[pd.DataFrame, np.ndarray[Any, Any]] | None:
    """P(alive), expected purchases and spend, and CLV, by blocks of distinct histories.

    Returns the distinct histories with their customers' mean spend, and the number of
    customers of each, when the CLV columns were filled (for the equity), else None.
    """
    key = s.customer_col
    if transaction_model is None:
        steps.skip("P(alive) and expected purchases", "no transaction model was fitted")
        steps.skip("CLV", "no transaction model was fitted")
        return None
    # identical histories are evaluated once: they get identical values (and ranks)
    hist: tuple[str, ...] = ("frequency", "recency", "T")
    rows, inverse = _distinct(summary, hist)
    n = len(rows[hist[0]])
    cols = {c: np.empty(n) for c in ("p_alive", "expected_purchases")}

    def predictions() -> float:
        for start in range(0, n, BLOCK_CUSTOMERS):
            block = slice(start, start + BLOCK_CUSTOMERS)
            data = pd.DataFrame({c: rows[c][block] for c in hist}).assign(**{key: 0})
            out = _pandas(transaction_model.predict(data, horizon=s.horizon, customer_col=key))
            cols["p_alive"][block] = out["p_alive"].to_numpy(dtype=np.float64)
            cols["expected_purchases"][block] = out["expected_purchases"].to_numpy(np.float64)
        return float(cols["expected_purchases"][inverse].sum())

    if (
        steps.run(
            "P(alive) and expected purchases",
            predictions,
            lambda total: f"{total:,.0f} purchases expected over the horizon",
        )
        is None
    ):
        steps.skip("CLV", "the predictions were skipped")
        return None
    ids = summary[key].to_numpy()
    scores = {c: cols.pop(c)[inverse] for c in ("p_alive", "expected_purchases")}
    table.add(pd.DataFrame({key: ids, **scores}, copy=False), {c: c for c in scores})
    del scores
    if spend_model is None:
        steps.skip("CLV", f"no {_missing(transaction_model, spend_model)} model was fitted")
        return None
    # the equity needs each history once with its customers and their mean spend (the
    # expected spend is linear in the mean spend), as customer_equity groups them itself
    counts = np.bincount(inverse, minlength=n).astype(np.float64)
    monetary = summary["monetary_value"].to_numpy(np.float64)
    spend = np.bincount(inverse, weights=monetary, minlength=n)
    equity_rows = pd.DataFrame({c: rows[c] for c in hist}).assign(monetary_value=spend / counts)
    total_customers = len(summary)
    cols = {c: np.empty(total_customers) for c in ("expected_spend", "clv")}

    def value() -> float:
        # CLV = margin x expected spend x discounted purchases, as customer_lifetime_value
        # computes it: the discounted purchases once per history (the spend does not enter
        # them), the expected spend per customer (plain arithmetic, by blocks)
        discounted = np.empty(n)
        for start in range(0, n, BLOCK_CUSTOMERS):
            block = slice(start, start + BLOCK_CUSTOMERS)
            data = equity_rows.iloc[block].assign(**{key: 0})
            out = clv_part(transaction_model, spend_model, data, s).data
            discounted[block] = out["discounted_purchases"].to_numpy(dtype=np.float64)
        frequency = summary["frequency"].to_numpy(dtype=np.float64)
        for start in range(0, total_customers, BLOCK_CUSTOMERS):
            block = slice(start, start + BLOCK_CUSTOMERS)
            expected = spend_model.conditional_expected_spend(frequency[block], monetary[block])
            cols["expected_spend"][block] = expected
            cols["clv"][block] = s.margin * np.asarray(expected) * discounted[inverse[block]]
        return float(cols["clv"].sum())

    if (
        steps.run(
            "CLV", value, lambda total: f"CLV of {total_customers:,} customers, total {total:,.0f}"
        )
        is None
    ):
        return None
    table.add(pd.DataFrame({key: ids, **cols}, copy=False), {c: c for c in cols})
    return equity_rows, counts


def _distinct(
    summary: pd.DataFrame, columns: tuple[str, ...]
) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any]]:
    """The distinct rows of ``columns`` and each customer's row among them.

    By hashing: each column's values are coded, the codes combined into one number per
    row and that number coded again, so the working memory is a few integers per
    customer (the rows come in no particular order, which the scores do not need).
    """
    key: np.ndarray[Any, Any] | None = None
    uniques: list[np.ndarray[Any, Any]] = []
    for name in columns:
        codes, values = pd.factorize(summary[name].to_numpy())
        uniques.append(np.asarray(values, dtype=np.float64))
        if key is None:
            key = codes.astype(np.int64, copy=False)
        elif math.prod(u.size for u in uniques) < _MAX_CELLS:
            key *= values.size
            key += codes
        else:  # too many cells to number: sort the rows instead
            data = [summary[c].to_numpy(dtype=np.float64) for c in columns]
            unique, _, inverse = compress_rows(data)
            return dict(zip(columns, unique, strict=True)), inverse
        del codes
    assert key is not None  # at least one column
    inverse, cells = pd.factorize(key)
    del key
    rows: dict[str, np.ndarray[Any, Any]] = {}
    rest = np.asarray(cells, dtype=np.int64)
    for name, values in zip(reversed(columns), reversed(uniques), strict=True):
        rows[name] = values[rest % values.size]
        rest = rest // values.size
    return rows, inverse.astype(np.int32 if len(cells) < 2**31 else np.int64)


def _mix(stages: pd.Categorical) -> str:
    counts = pd.Series(stages).value_counts()
    return ", ".join(f"{int(n):,} {name}" for name, n in counts.items() if n)
