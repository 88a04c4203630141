"""Referral tracking: trees, referral rate, viral coefficient, referred against organic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import (
    check_bool,
    check_choice,
    check_column_name,
    check_int,
    check_level,
)
from crmmodels._ingest.frames import python_scalar
from crmmodels._ingest.periods import check_period_code, numpy_period_index, period_labels
from crmmodels.errors import CRMModelsWarning, DataError, warn
from crmmodels.referrals._inputs import (
    Customers,
    Purchases,
    observation_day,
    read_customers,
    read_purchases,
)
from crmmodels.referrals._intervals import newcombe, welch_difference, welch_mean, wilson
from crmmodels.referrals._result import ReferralResult
from crmmodels.referrals._trees import cycle_members, forest, subtree_sums

__all__ = ["ISSUE_KINDS", "referral_analysis"]

#: the kinds of invalid referral, in the order they are checked
ISSUE_KINDS = {
    "self_referral": "the customer is named as their own referrer",
    "unknown_referrer": "the referrer is not in the customers table",
    "cycle": "the referral chain comes back to the customer (A referred B, B referred A)",
    "referral_before_referrer": "the customer was acquired before the referrer",
}
_ACTION = "treated as organic; the referrer is kept in the customers table"
_N_EXAMPLES = 5


def _links(cust: Customers) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """The parent array of the valid referrals, and each customer's issue (or None)."""
    n = len(cust.ids)
    refs = cust.referrers
    organic = refs.isna().to_numpy()
    parent = np.full(n, -1, dtype=np.int64)
    found = np.asarray(cust.ids.get_indexer(pd.Index(refs[~organic].to_numpy())), dtype=np.int64)
    parent[~organic] = found
    issue = np.full(n, None, dtype=object)
    position = np.arange(n)
    issue[parent == position] = "self_referral"
    issue[~organic & (parent < 0)] = "unknown_referrer"
    parent[issue != None] = -1  # noqa: E711 (element-wise)
    issue[cycle_members(parent)] = "cycle"
    parent[issue != None] = -1  # noqa: E711
    has = parent >= 0
    early = np.zeros(n, dtype=bool)
    early[has] = cust.days[has] < cust.days[parent[has]]
    issue[early] = "referral_before_referrer"
    parent[early] = -1
    return parent, issue


def _issues_table(cust: Customers, issue: npt.NDArray[Any], customer_col: str) -> pd.DataFrame:
    rows = []
    for kind in ISSUE_KINDS:
        at = np.flatnonzero(issue == kind)
        if at.size:
            examples = [python_scalar(v) for v in cust.ids[at[:_N_EXAMPLES]]]
            rows.append(
                {
                    "issue": kind,
                    "n_customers": int(at.size),
                    "examples": examples,
                    "what": ISSUE_KINDS[kind],
                    "action": _ACTION,
                }
            )
    columns = ["issue", "n_customers", "examples", "what", "action"]
    return pd.DataFrame(rows, columns=columns)


def _issues_message(issues: pd.DataFrame, customer_col: str, referrer_col: str, fix: str) -> str:
    parts = []
    for kind, n_bad, examples, what in zip(
        issues["issue"], issues["n_customers"], issues["examples"], issues["what"], strict=True
    ):
        rows = "customer" if n_bad == 1 else "customers"
        parts.append(f"{kind} in {n_bad} {rows} ({customer_col} e.g. {examples[:3]}): {what}")
    return (
        f"customers: invalid referrals in column '{referrer_col}': " + "; ".join(parts) + ". " + fix
    )


_FIX = {
    "raise": "Correct the referrers, or pass on_invalid='report' to treat these customers "
    "as organic and list them in result.issues.",
    "report": "These customers are treated as organic and listed in result.issues; "
    "pass on_invalid='raise' to stop instead.",
}


@dataclass(frozen=True)
class _Settings:
    customer_col: str
    referrer_col: str
    date_col: str
    period: str
    window: int
    level: float
    n_top: int
    end_day: int


def _cohorts(
    cust: Customers,
    parent: npt.NDArray[np.int64],
    period: str,
    window: int,
    end_day: int,
) -> tuple[pd.DataFrame, npt.NDArray[Any], float]:
    """The cohort table, each customer's cohort label and the overall viral coefficient."""
    n = len(cust.ids)
    index = numpy_period_index(cust.dates, period)
    codes, uniques = pd.factorize(index, sort=True)
    labels = period_labels(np.asarray(uniques, dtype=np.int64), period)
    has = parent >= 0
    in_window = np.zeros(n, dtype=bool)
    in_window[has] = cust.days[has] - cust.days[parent[has]] < window
    made = np.bincount(parent[in_window], minlength=n)  # referrals within the window
    k = len(uniques)
    n_customers = np.bincount(codes, minlength=k)
    n_referred = np.bincount(codes, weights=has, minlength=k).astype(np.int64)
    n_referrers = np.bincount(codes, weights=made > 0, minlength=k).astype(np.int64)
    n_referrals = np.bincount(codes, weights=made, minlength=k).astype(np.int64)
    period_end = labels.end_time.to_numpy().astype("datetime64[D]").astype(np.int64)
    complete = period_end + window <= end_day + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "cohort": labels.astype(str),
                "n_customers": n_customers,
                "n_referred": n_referred,
                "referred_share": n_referred / n_customers,
                "n_referrers": n_referrers,
                "referral_rate": n_referrers / n_customers,
                "n_referrals": n_referrals,
                "referrals_per_referrer": np.where(
                    n_referrers > 0, n_referrals / np.maximum(n_referrers, 1), np.nan
                ),
                "viral_coefficient": n_referrals / n_customers,
                "complete": complete,
            }
        )
    done = n_customers[complete].sum()
    overall = float(n_referrals[complete].sum() / done) if done else float("nan")
    return table, np.asarray(labels.astype(str))[codes], overall


def _comparison(
    referred: npt.NDArray[np.bool_],
    buys: Purchases,
    cust: Customers,
    window: int,
    end_day: int,
    level: float,
) -> pd.DataFrame:
    eligible = cust.days + window <= end_day + 1
    retained = buys.window_days >= 2
    rows: dict[str, dict[str, float]] = {}
    groups = {"referred": eligible & referred, "organic": eligible & ~referred}
    for name, mask in groups.items():
        r = wilson(int(retained[mask].sum()), int(mask.sum()), level)
        v = welch_mean(buys.window_value[mask], level)
        rows[name] = _row(int(mask.sum()), r, v)
    a, b = groups["referred"], groups["organic"]
    r = newcombe(int(retained[a].sum()), int(a.sum()), int(retained[b].sum()), int(b.sum()), level)
    if not a.sum() or not b.sum():
        r = (np.nan, np.nan, np.nan)
    v = welch_difference(buys.window_value[a], buys.window_value[b], level)
    rows["difference"] = _row(int(a.sum() + b.sum()), r, v)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "group"
    return out


def _row(n: int, r: tuple[float, float, float], v: tuple[float, float, float]) -> dict[str, float]:
    return {
        "n_customers": n,
        "retention": r[0],
        "retention_low": r[1],
        "retention_high": r[2],
        "mean_value": v[0],
        "mean_value_low": v[1],
        "mean_value_high": v[2],
    }


def referral_analysis(
    customers: Any,
    *,
    customer_col: str = "customer_id",
    referrer_col: str = "referrer_id",
    date_col: str = "date",
    transactions: Any = None,
    amount_col: str = "amount",
    period: str = "M",
    window: int = 90,
    level: float = 0.9,
    on_invalid: str = "report",
    n_top: int = 10,
    observation_end: Any = None,
    date_format: str | None = None,
    allow_negative: bool = False,
) -> ReferralResult:
    """Referral trees, referral rate and viral coefficient, referred against organic.

    Parameters
    ----------
    customers : DataFrame-like
        One row per customer, any engine (pandas, polars, pyarrow, DuckDB, Dask,
        PySpark; lazy frames are collected, three columns only): the id, the id of the
        customer who referred them (null for an organic customer) and the acquisition
        date.
    customer_col, referrer_col, date_col : str, optional
        Those three columns. ``customer_col`` and ``date_col`` also name the customer
        and the purchase date in ``transactions``.
    transactions : DataFrame-like, optional
        The purchase log (``customer_col``, ``date_col``, ``amount_col``) for value,
        retention and the value each customer brought in. Every customer in it must be
        in ``customers``.
    amount_col : str, optional
        The amount of a purchase.
    period : {"D", "W", "M", "Q", "Y"}, optional
        The grid of acquisition cohorts.
    window : int, optional
        Days after a customer's acquisition in which the customers they refer count for
        the cohort's referral rate and viral coefficient, and in which a second purchase
        day counts as retention and purchases count as early value. The same length
        for every cohort keeps old and new cohorts comparable.
    level : float, optional
        Level of the intervals.
    on_invalid : {"report", "raise"}, optional
        What to do with invalid referrals (self-referrals, unknown referrers, cycles,
        referrals dated before the referrer's acquisition). ``"report"`` (default): the
        customer is treated as organic, the referrer is kept in the per-customer table
        and the case is listed in ``result.issues`` (a warning says how many);
        ``"raise"``: a :class:`~crmmodels.errors.DataError` with the counts and examples.
    n_top : int, optional
        Rows of ``top_referrers``.
    observation_end : date, optional
        The end of the data (default: the last date of the customers and transactions).
        Cohorts whose window ends later are marked incomplete and left out of the
        overall viral coefficient; customers whose window is not over are left out of
        the comparison.
    date_format : str, optional
        The layout of text dates (ISO 8601 without it).
    allow_negative : bool, optional
        Accept negative amounts (refunds) in ``transactions``.

    Returns
    -------
    ReferralResult

    Raises
    ------
    SchemaError
        A named column is missing, or the referrer column holds another type than the
        ids (text against numbers).
    DataError
        Null or repeated customer ids, null dates, transactions of customers missing
        from ``customers``, and invalid referrals with ``on_invalid="raise"``.
    ArgumentError
        A bad ``period``, ``window``, ``level``, ``on_invalid`` or ``n_top``.

    Notes
    -----
    The referral links form a forest: organic customers are its roots. Depths and
    roots come from pointer jumping and subtree sums from one vectorised step per
    level, never a loop over customers. The checks run in the order of
    ``ISSUE_KINDS``; a cycle is found before the date check so that "A referred B, B
    referred A" is reported as a cycle (every member of the cycle becomes organic).

    The viral coefficient is the K-factor of growth marketing, ``K = i x c``
    (invitations sent per customer times their conversion rate; Skok 2009): where
    only the converted invitations are known, as here, ``i x c`` is the number of new
    customers referred per customer of the cohort. K above 1 means each cohort
    recruits a larger one. ``referrals_per_referrer`` divides by the customers who
    referred anyone instead; K = ``referral_rate`` x ``referrals_per_referrer``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.referrals import referral_analysis
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "referrer_id": [None, "a", "a", "b"],
    ...     "date": ["2024-01-02", "2024-01-20", "2024-02-03", "2024-02-10"],
    ... })
    >>> res = referral_analysis(customers, window=60, observation_end="2024-06-30")
    >>> res.to_frame()[["customer_id", "root", "depth", "n_descendants"]].values.tolist()
    [['a', 'a', 0, 3], ['b', 'a', 1, 1], ['c', 'a', 1, 0], ['d', 'a', 2, 0]]
    >>> cols = ["cohort", "n_customers", "referral_rate", "viral_coefficient"]
    >>> res.by_cohort[cols].values.tolist()
    [['2024-01', 2, 1.0, 1.5], ['2024-02', 2, 0.0, 0.0]]
    """
    for value, name in ((customer_col, "customer_col"), (referrer_col, "referrer_col")):
        check_column_name(value, name)
    check_column_name(date_col, "date_col")
    period = check_period_code(period, "period")
    window = check_int(window, "window", low=1)
    level = check_level(level)
    on_invalid = check_choice(on_invalid, "on_invalid", ["report", "raise"])
    n_top = check_int(n_top, "n_top", low=1)
    allow_negative = check_bool(allow_negative, "allow_negative")

    cust = read_customers(
        customers,
        customer_col=customer_col,
        referrer_col=referrer_col,
        date_col=date_col,
        date_format=date_format,
    )
    buys = None
    if transactions is not None:
        check_column_name(amount_col, "amount_col")
        buys = read_purchases(
            transactions,
            cust,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            date_format=date_format,
            allow_negative=allow_negative,
            observation_end=observation_end,
            window=window,
        )
    end_day = observation_day(observation_end, cust, buys.last_day if buys else None)

    parent, issue = _links(cust)
    issues = _issues_table(cust, issue, customer_col)
    if len(issues):
        message = _issues_message(issues, customer_col, referrer_col, _FIX[on_invalid])
        if on_invalid == "raise":
            raise DataError(message)
        warn(message, CRMModelsWarning)
    settings = _Settings(
        customer_col, referrer_col, date_col, period, window, level, n_top, end_day
    )
    return _build(cust, parent, issue, issues, buys, settings)


def _build(
    cust: Customers,
    parent: npt.NDArray[np.int64],
    issue: npt.NDArray[Any],
    issues: pd.DataFrame,
    buys: Purchases | None,
    s: _Settings,
) -> ReferralResult:
    customer_col, referrer_col = s.customer_col, s.referrer_col
    window, level, end_day = s.window, s.level, s.end_day
    n = len(cust.ids)
    tree = forest(parent)
    referred = parent >= 0
    n_descendants = subtree_sums(parent, tree.depth, np.ones(n)).astype(np.int64)
    by_cohort, cohort, k = _cohorts(cust, parent, s.period, window, end_day)
    ids = cust.ids.to_numpy()
    table = pd.DataFrame(
        {
            customer_col: ids,
            referrer_col: cust.referrers.reset_index(drop=True),
            "referred": referred,
            "referral_issue": issue,
            "root": ids[tree.root],
            "depth": tree.depth,
            "n_direct_referrals": tree.n_direct,
            "n_descendants": n_descendants,
            s.date_col: cust.dates,
            "cohort": cohort,
        }
    )
    roots = np.flatnonzero(~referred)
    tree_depth = np.zeros(n, dtype=np.int64)
    np.maximum.at(tree_depth, tree.root, tree.depth)
    trees = pd.DataFrame(
        {
            "root": ids[roots],
            "size": np.bincount(tree.root, minlength=n)[roots],
            "depth": tree_depth[roots],
        }
    )
    comparison = pd.DataFrame()
    rank_by = ["n_descendants", "n_direct_referrals"]
    if buys is not None:
        table["value"] = buys.value
        table["referred_value"] = subtree_sums(parent, tree.depth, buys.value)
        table["direct_referred_value"] = np.bincount(
            parent[referred], weights=buys.value[referred], minlength=n
        )
        trees["value"] = np.bincount(tree.root, weights=buys.value, minlength=n)[roots]
        comparison = _comparison(referred, buys, cust, window, end_day, level)
        rank_by = ["referred_value", *rank_by]
    trees = trees.sort_values(["size", "depth"], ascending=False, kind="stable")
    top = table.loc[table["n_direct_referrals"] > 0]
    top = top.sort_values(rank_by, ascending=False, kind="stable").head(s.n_top)
    keep = [customer_col, *rank_by, *(["direct_referred_value", "value"] if buys else [])]
    return ReferralResult(
        customers=table,
        trees=trees.reset_index(drop=True),
        by_cohort=by_cohort,
        comparison=comparison,
        top_referrers=top[keep].reset_index(drop=True),
        issues=issues,
        customer_col=customer_col,
        referrer_col=referrer_col,
        period=s.period,
        window=window,
        level=level,
        n_customers=n,
        n_referred=int(referred.sum()),
        n_referrers=int((tree.n_direct > 0).sum()),
        n_trees=int(roots.size),
        max_depth=int(tree.depth.max(initial=0)),
        referred_share=float(referred.mean()),
        viral_coefficient=k,
        n_invalid=int(issues["n_customers"].sum()) if len(issues) else 0,
    )
