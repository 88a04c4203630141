"""Lifecycle stages of every customer at one date."""

from __future__ import annotations

from typing import Any, Literal

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels._ingest.dates import to_timestamp
from crmmodels._ingest.frames import collect
from crmmodels._ingest.periods import scalar_period_index
from crmmodels._ingest.renames import renamed_arguments
from crmmodels.errors import DataError, SkippedStepWarning, warn
from crmmodels.lifecycle._classify import EPOCH, classify, stage_summary
from crmmodels.lifecycle._features import (
    DAY,
    Log,
    StagesAt,
    by_customer,
    customer_list,
    purchase_days,
    stages_at,
)
from crmmodels.lifecycle._results import LifecycleStagesResult
from crmmodels.lifecycle._rules import (
    AliveModel,
    LifecycleRules,
    Settings,
    rules_from_keywords,
    settings,
)

__all__ = ["lifecycle_stages", "stages_of_features", "stages_of_log"]


@renamed_arguments(as_of="observation_end")
@rules_from_keywords
def lifecycle_stages(
    transactions: Any,
    *,
    observation_end: Any = None,
    rules: LifecycleRules | None = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = None,
    customers: Any = None,
    model: AliveModel | Literal["bgnbd"] | None = None,
    time_unit: Literal["D", "W"] | int = "W",
    future_customers: Literal["prospect", "exclude"] = "prospect",
    date_format: str | None = None,
) -> LifecycleStagesResult:
    r"""Lifecycle stage of every customer at ``observation_end``.

    Parameters
    ----------
    transactions : DataFrame-like
        Transaction log on any engine (pandas, polars, pyarrow, DuckDB, Dask, PySpark).
    observation_end : date-like, optional
        Snapshot date; purchases on that day count, later ones do not. Default: the day
        of the last purchase. A time-zone-aware date is read in the data's time zone.
    rules : LifecycleRules, optional
        The scheme and its thresholds (default ``LifecycleRules()``: the purchase scheme,
        churned after 365 days; see Notes). The thresholds were separate keyword
        arguments before (``churn_after_days=180``); those still work until crmmodels
        1.0, with a ``FutureWarning``.
    customer_col, date_col : str
        Customer id and purchase date columns.
    amount_col : str, optional
        Purchase amount: the value per stage and the relationship trend use it (otherwise
        each purchase day has value 1).
    customers : list, Series or DataFrame, optional
        Known customers (a frame needs ``customer_col``); those without a purchase on or
        before ``observation_end`` are prospects.
    model : object or "bgnbd", optional
        Fitted CLV model with ``probability_alive(frequency, recency, T)`` (e.g.
        ``crmmodels.clv.BGNBD``), or ``"bgnbd"`` to fit a BG/NBD model on the customers'
        purchase days up to ``observation_end`` (in ``time_unit``). When given, churned
        means P(alive) below ``rules.alive_threshold`` instead of the days rule. When the
        BG/NBD fit cannot be resolved (a few customers), or P(alive) is not a number for
        some customers, the days rule is used for them, with a ``SkippedStepWarning``.
    time_unit : {"W", "D"} or int
        Unit of ``recency`` and ``T`` passed to ``model``: weeks, days or a whole number
        of days (the fixed-length units of the period vocabulary, see
        :mod:`crmmodels._ingest.periods`). It must match the unit the model was fitted
        in. ``frequency`` counts repeat purchase *days*, as in
        :func:`crmmodels.transactions.summarize_transactions` with ``period="D"``.
    future_customers : {"prospect", "exclude"}
        Customers whose purchases are all after ``observation_end``: prospects (default)
        or left out (counted in ``n_excluded``; :func:`lifecycle_transitions` uses this to
        mark them as not yet customers).
    date_format : str, optional
        strftime layout of text dates (e.g. ``"%d/%m/%Y"``); without it text dates
        must be ISO 8601 (see :func:`crmmodels._ingest.dates.parse_dates`).

    Returns
    -------
    LifecycleStagesResult
        ``.to_frame()`` has the customer id, ``stage`` and the features used;
        ``.summary`` the counts and value per stage; ``.alive_model``, ``.notes`` and
        ``.rules``.

    Raises
    ------
    SchemaError
        A column is missing or has the wrong type.
    DataError
        Null ids or dates, unparsable dates, empty input, bad arguments
        (:class:`~crmmodels.errors.ArgumentError`), or ``observation_end`` before the
        first purchase (everyone would be a prospect).
    -----
    SkippedStepWarning
        The P(alive) step was skipped for all customers (the BG/NBD fit of
        ``model="bgnbd"`` cannot be resolved) or for those whose P(alive) is not a
        number; the days rule is used instead and ``.notes`` says so.

    Notes
    -----
    Let :math:`n` be the purchase days on or before ``observation_end`` (day :math:`a`),
    :math:`f` and :math:`l` the first and last of them.

    **Purchase scheme** (Buttle 2009). ``prospect`` if :math:`n = 0`; else ``churned`` if
    :math:`a - l > ` ``rules.churn_after_days`` (or, with a model,
    :math:`P(\text{alive} \mid n-1, l-f, a-f) <` ``rules.alive_threshold``), whatever :math:`n`;
    else ``first_time`` if :math:`n = 1` and ``loyal`` if :math:`n \ge 2`.

    **Relationship scheme** (Dwyer, Schurr & Oh 1987). With the recent window :math:`(a-w, a]`
    (:math:`w` = ``rules.recent_days``), recent value :math:`v_r` and history value :math:`v_h`
    (purchases on days :math:`f \dots a-w`), the trend compares value per day:

    $$ \tau = \frac{v_r / w}{v_h / (a - w - f + 1)} \quad (f \le a - w). $$

    When the history is worth nothing or less (:math:`v_h \le 0`: zero amounts, net
    refunds) the ratio is undefined and :math:`\tau` is :math:`+\infty` if the recent
    rate is higher, 1 if equal and 0 if lower.

    Then ``prospect`` if :math:`n = 0`; ``exploration`` if :math:`n <`
    ``rules.formation_min_purchases``; ``decline`` if :math:`\tau <` ``rules.decline_ratio``;
    ``formation`` if :math:`n <` ``rules.stability_min_purchases``, or there is no history yet
    (:math:`f > a - w`), or :math:`\tau >` ``rules.growth_ratio``; else ``stability``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3, 4],
    ...     "date": pd.to_datetime(["2024-06-01", "2024-05-01", "2024-06-10",
    ...                             "2022-01-01", "2024-08-01"]),
    ... })
    >>> res = lifecycle_stages(tx, observation_end="2024-06-30", customers=[1, 2, 3, 4, 5])
    >>> res.to_frame()[["customer_id", "stage"]]
       customer_id       stage
    0            1  first_time
    1            2       loyal
    2            3     churned
    3            4    prospect
    4            5    prospect
    >>> res.summary["customers"].tolist()
    [2, 1, 1, 1]

    The relationship scheme, with a shorter recent window:

    >>> rules = LifecycleRules(scheme="relationship", recent_days=30)
    >>> lifecycle_stages(tx, observation_end="2024-06-30", rules=rules).summary["customers"]
    ... # doctest: +NORMALIZE_WHITESPACE
    stage
    prospect       1
    exploration    2
    formation      1
    stability      0
    decline        0
    Name: customers, dtype: int64
    """
    s = settings(rules, model=model, time_unit=time_unit, future_customers=future_customers)
    if observation_end is not None:  # a bad date fails before the data is read
        to_timestamp(observation_end, "observation_end", None)
    known = customer_list(customers, customer_col)
    log = purchase_days(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        date_format=date_format,
    )
    return stages_of_log(
        log, observation_end=observation_end, s=s, customer_col=customer_col, known=known
    )


def stages_of_log(
    log: Log,
    *,
    observation_end: Any,
    s: Settings,
    customer_col: str,
    known: pd.Series | None = None,
    cache: dict[Any, Any] | None = None,
) -> LifecycleStagesResult:
    """The stages from a log already merged to (customer, day) rows (see ``purchase_days``).

    :func:`lifecycle_stages` validates and merges the log, then calls this;
    :func:`crmmodels.analyze` merges its validated log once and calls this for both
    schemes, with one ``cache`` so that the customers' features are computed once.
    """
    end = (
        log.last
        if observation_end is None
        else to_timestamp(observation_end, "observation_end", log.tz)
    )
    at = stages_at(
        log.days, customer_col=customer_col, observation_end=end, s=s, known=known, cache=cache
    )
    _refuse_all_prospects(at, log, end)
    return _result(at, s, end)


def stages_of_features(
    feats: pd.DataFrame, *, observation_end: pd.Timestamp, s: Settings, customer_col: str
) -> LifecycleStagesResult:
    """The stages of customers who all bought by ``observation_end``, from their features.

    ``feats`` has one row per customer: ``customer_col``, ``purchase_days``, ``value``,
    ``__first`` and ``__last`` (day numbers since 1970-01-01) and, under the relationship
    scheme, ``recent_value``; it is consumed (the caller passes a frame of its own).
    :func:`crmmodels.analyze` derives them from its customer summary, so that the log is
    not grouped again; the stages equal those of :func:`lifecycle_stages` on the log.
    """
    out, alive = classify(feats, scalar_period_index(observation_end, "D"), s)
    return _result(StagesAt(by_customer(out, customer_col), 0, 0, alive), s, observation_end)


def _result(at: StagesAt, s: Settings, end: pd.Timestamp) -> LifecycleStagesResult:
    for note in at.alive.notes:
        warn(f"lifecycle_stages at {end.date()}: {note}", SkippedStepWarning)
    return LifecycleStagesResult(
        stages=at.stages,
        summary=stage_summary(at.stages, s.rules.stages),
        scheme=s.rules.scheme,
        observation_end=str(end.date()),
        n_customers=len(at.stages),
        n_prospects=at.n_prospects,
        n_excluded=at.n_excluded,
        _alive_model=at.alive.model,
        _notes=at.alive.notes,
        _rules=s.rules,
    )


def _refuse_all_prospects(at: StagesAt, log: Log, end: pd.Timestamp) -> None:
    """Raise when nobody has bought by ``end``: every customer would be a prospect."""
    if at.n_prospects < len(at.stages):
        return
    first = collect(log.days.select(nw.col(DAY).min())).item(0, 0)
    raise DataError(
        f"observation_end {end.date()} is before the first purchase "
        f"({(EPOCH + pd.Timedelta(days=int(first))).date()}): every customer would be a "
        "prospect. Pass a later observation_end."
    )
