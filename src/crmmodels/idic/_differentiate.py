"""Differentiate: value tiers crossed with needs-based segments.

Customers are differentiated by value (a tier per customer, e.g. the ABC class of
``pareto_analysis`` or the CLV quadrant) and by needs: each customer's share of spend
per category and per channel is clustered with k-means (scikit-learn), with the number
of segments chosen by the silhouette over a range of k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.amounts import check_amounts
from crmmodels._ingest.arguments import check_bool, check_column_name, check_int
from crmmodels._ingest.frames import check_columns, check_not_null, collect, to_narwhals, to_pandas
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["DifferentiationResult", "differentiate"]

NO_TIER = "untiered"
NO_SPEND = "no spend"


@dataclass(frozen=True, repr=False)
class DifferentiationResult(Result):
    """Result of :func:`differentiate`.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per customer: id, ``tier``, ``segment`` (int, ``-1`` for customers with
        no positive spend), ``segment_label``, ``value`` (total spend) and the share
        columns (``cat:<category>``, ``chan:<channel>``).
    matrix_counts, matrix_value : pandas.DataFrame
        The value x needs matrix: tiers as rows, segment labels as columns; customer
        counts and total value.
    profiles : pandas.DataFrame
        One row per needs segment: size, total and mean value, and the mean share of
        each category and channel.
    silhouette : pandas.DataFrame
        The silhouette score for each k tried (empty when ``k`` was fixed).
    k : int
        Number of needs segments used.
    n_customers : int
        Customers in the result.
    n_no_spend : int
        Customers without positive spend (segment ``-1``, ``"no spend"``).
    n_untiered : int
        Customers with purchases but no tier (tier ``"untiered"``).
    n_tier_only : int
        Customers with a tier but no purchases (kept, segment ``"no spend"``).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4],
    ...     "category": ["books", "books", "toys", "toys"],
    ...     "amount": [10.0, 20.0, 30.0, 8.0],
    ... })
    >>> tiers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "tier": ["A", "B", "A", "B"]})
    >>> res = differentiate(p, tiers=tiers, k=2)
    >>> res.matrix_counts.to_dict(orient="index")
    {'A': {'toys': 1, 'books': 1}, 'B': {'toys': 1, 'books': 1}}
    >>> len(res.to_frame())
    4
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    customers: pd.DataFrame
    matrix_counts: pd.DataFrame
    matrix_value: pd.DataFrame
    profiles: pd.DataFrame
    silhouette: pd.DataFrame
    customer_col: str
    k: int
    n_customers: int
    n_no_spend: int
    n_untiered: int
    n_tier_only: int

    def to_frame(self) -> pd.DataFrame:
        """Return the per-customer table (tier, segment, value, shares)."""
        return self.customers.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Heatmap of the value x needs matrix (customer counts, or ``what="value"``)."""
        from crmmodels.plotting.idic import plot_value_needs

        return plot_value_needs(self, ax=ax, **kwargs)


def _share_table(
    frame: nw.DataFrame[Any] | nw.LazyFrame[Any],
    customer_col: str,
    amount_col: str,
    by: str,
    prefix: str,
) -> pd.DataFrame:
    agg = frame.group_by(customer_col, by).agg(nw.col(amount_col).sum().alias("_amt"))
    long = to_pandas(agg)
    long["_amt"] = long["_amt"].astype(np.float64)
    long = long[long["_amt"] > 0]
    wide = long.pivot_table(
        index=customer_col, columns=by, values="_amt", aggfunc="sum", fill_value=0.0
    )
    wide.columns = [f"{prefix}:{c}" for c in wide.columns]
    total = wide.sum(axis=1)
    return wide.div(total, axis=0)


def _kmeans(
    x: npt.NDArray[np.float64], k: int, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    import importlib

    from sklearn.cluster import KMeans

    threadpool_limits = importlib.import_module("threadpoolctl").threadpool_limits

    model = KMeans(n_clusters=k, n_init=10, random_state=seed)
    # one thread: k-means on share profiles is fast, and OpenMP threads on a busy
    # machine oversubscribe the cores (slower by orders of magnitude)
    with threadpool_limits(limits=1):
        labels = np.asarray(model.fit_predict(x), dtype=np.int64)
    return labels, np.asarray(model.cluster_centers_, dtype=np.float64)


def differentiate(
    purchases: Any,
    *,
    customer_col: str = "customer_id",
    amount_col: str = "amount",
    category_col: str | None = "category",
    channel_col: str | None = None,
    tiers: Any = None,
    tier_col: str = "tier",
    k: int | None = None,
    k_range: Sequence[int] = (2, 3, 4, 5, 6, 7, 8),
    seed: int = 0,
    silhouette_sample: int = 5000,
    allow_negative: bool = False,
) -> DifferentiationResult:
    r"""Cross value tiers with needs-based segments (the value x needs matrix).

    Parameters
    ----------
    purchases : DataFrame-like
        Purchase lines on any engine: customer id, amount and category and/or channel.
        Spend per customer and category/channel is aggregated on that engine.
    customer_col, amount_col : str, optional
        Column names.
    category_col, channel_col : str or None, optional
        Columns whose spend shares describe needs (at least one is required).
    tiers : DataFrame-like, optional
        Customer -> value tier (e.g. ``pareto_analysis(...).classes`` with its class
        column, or a quadrant frame). Without it every customer is in tier ``"all"``.
    tier_col : str, optional
        Tier column of ``tiers``.
    k : int, optional
        Number of needs segments; by default chosen in ``k_range`` by the largest
        silhouette.
    k_range : sequence of int, optional
        Candidate k values.
    seed : int, optional
        Seed of k-means and of the silhouette sample (results are deterministic).
    silhouette_sample : int, optional
        Customers sampled to compute the silhouette (it is quadratic in their number).
    allow_negative : bool, default False
        Accept negative amounts (refunds and returns, netted per customer and category
        or channel). Without it a negative amount raises
        :class:`~crmmodels.errors.DataError`.

    Returns
    -------
    DifferentiationResult

    Raises
    ------
    SchemaError
        Missing columns or neither ``category_col`` nor ``channel_col``.
    DataError
        Null customer ids; missing (null or NaN), infinite or, without
        ``allow_negative``, negative amounts; duplicate customers in ``tiers``, or too
        few customers for the requested k. :class:`~crmmodels.errors.ArgumentError` (a
        ``DataError``) for a bad ``k``, ``k_range``, ``seed``, ``silhouette_sample`` or
        column-name argument.
    ImportError
        scikit-learn is not installed.

    Notes
    -----
    Needs features: for customer :math:`i`, category :math:`c` and channel :math:`h`,

    $$ x_{ic} = \\frac{s_{ic}}{\\sum_{c'} s_{ic'}}, \\qquad
       x_{ih} = \\frac{s_{ih}}{\\sum_{h'} s_{ih'}}, $$

    where :math:`s` is positive spend; both blocks sum to one, so categories and
    channels weigh equally. k-means minimises the within-segment sum of squares; k is
    the value of ``k_range`` with the largest mean silhouette
    :math:`(b - a) / \\max(a, b)` (ties: smallest k). Segments are numbered by
    decreasing size and labelled by their dominant category and channel. Customers
    with no positive spend keep segment ``-1`` (``"no spend"``) and are counted.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import differentiate
    >>> p = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3, 3, 4, 5, 6],
    ...     "category": ["books", "books", "books", "toys", "toys", "toys", "books", "toys"],
    ...     "amount": [10.0, 5.0, 20.0, 30.0, 1.0, 8.0, 2.0, 50.0],
    ... })
    >>> tiers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6],
    ...                       "tier": ["A", "B", "A", "B", "B", "A"]})
    >>> res = differentiate(p, tiers=tiers, k=2)
    >>> res.k, list(res.matrix_counts.columns)
    (2, ['toys', 'books'])
    >>> res.matrix_counts.to_dict(orient="index")
    {'A': {'toys': 2, 'books': 1}, 'B': {'toys': 1, 'books': 2}}
    """
    ks = _check_arguments(
        customer_col=customer_col,
        amount_col=amount_col,
        category_col=category_col,
        channel_col=channel_col,
        tier_col=tier_col,
        k=k,
        k_range=k_range,
    )
    seed = check_int(seed, "seed", low=0)
    silhouette_sample = check_int(silhouette_sample, "silhouette_sample", low=2)
    allow_negative = check_bool(allow_negative, "allow_negative")
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "differentiate needs scikit-learn for k-means: pip install scikit-learn"
        ) from exc

    totals, shares = _spend_shares(
        purchases,
        customer_col=customer_col,
        amount_col=amount_col,
        category_col=category_col,
        channel_col=channel_col,
        allow_negative=allow_negative,
    )
    customers = pd.DataFrame({"value": totals.astype(np.float64)})
    customers, n_untiered, n_tier_only = _with_tiers(customers, tiers, customer_col, tier_col)
    shares = shares.reindex(customers.index)
    has_spend = shares.notna().all(axis=1).to_numpy() & (shares.sum(axis=1) > 0).to_numpy()
    x = shares[has_spend].to_numpy(dtype=np.float64)
    n_fit = x.shape[0]
    if n_fit < 2 or (k is not None and n_fit < ks[0]):
        raise DataError(
            f"purchases: {n_fit} customers with positive spend; need at least "
            f"{max(2, ks[0] if k is not None else 2)} to form needs segments."
        )
    if k is None:
        best, sil_rows = _best_k(x, ks, seed, silhouette_sample)
    else:
        best, sil_rows = ks[0], []
    seg = np.full(len(customers), -1, dtype=np.int64)
    seg[has_spend] = _segments_by_size(x, best, seed)
    customers["segment"] = seg
    labels = _segment_labels(shares[has_spend], seg[has_spend])
    customers["segment_label"] = customers["segment"].map(labels)
    customers = customers.join(shares.fillna(0.0)).reset_index()
    counts, value, profiles = _value_needs_tables(
        customers, labels, list(shares.columns), no_spend=bool((seg == -1).any())
    )
    return DifferentiationResult(
        customers=customers,
        matrix_counts=counts,
        matrix_value=value,
        profiles=profiles,
        silhouette=pd.DataFrame(sil_rows, columns=["k", "silhouette"]),
        customer_col=customer_col,
        k=best,
        n_customers=len(customers),
        n_no_spend=int((seg == -1).sum()),
        n_untiered=n_untiered,
        n_tier_only=n_tier_only,
    )


def _check_arguments(
    *,
    customer_col: str,
    amount_col: str,
    category_col: str | None,
    channel_col: str | None,
    tier_col: str,
    k: Any,
    k_range: Any,
) -> list[int]:
    """Check the columns and the candidate k values; return the candidates, sorted."""
    if category_col is None and channel_col is None:
        raise SchemaError("differentiate needs category_col and/or channel_col.")
    if k is not None:
        ks = [check_int(k, "k", low=1)]
    else:
        if isinstance(k_range, (str, bytes)) or not isinstance(k_range, Iterable):
            raise ArgumentError(
                f"k_range must be a sequence of whole numbers >= 1; got {k_range!r}."
            )
        ks = sorted({check_int(v, "k_range values", low=1) for v in k_range})
        if not ks:
            raise ArgumentError("k_range must hold at least one candidate k; got an empty one.")
    for arg, name in (
        ("customer_col", customer_col),
        ("amount_col", amount_col),
        ("category_col", category_col),
        ("channel_col", channel_col),
        ("tier_col", tier_col),
    ):
        if name is not None:
            check_column_name(name, arg)
    return ks


def _spend_shares(
    purchases: Any,
    *,
    customer_col: str,
    amount_col: str,
    category_col: str | None,
    channel_col: str | None,
    allow_negative: bool,
) -> tuple[pd.Series, pd.DataFrame]:
    """Spend per customer, and the spend shares per category and channel (on the engine)."""
    frame = to_narwhals(purchases, what="purchases")
    by_cols = [c for c in (category_col, channel_col) if c is not None]
    check_columns(frame, [customer_col, amount_col, *by_cols], what="purchases")
    frame = check_amounts(
        frame, amount_col, what="purchases", id_col=customer_col, allow_negative=allow_negative
    )
    check_not_null(frame, [customer_col, *by_cols], what="purchases")
    totals = to_pandas(
        frame.group_by(customer_col).agg(nw.col(amount_col).sum().alias("value"))
    ).set_index(customer_col)["value"]
    blocks = []
    if category_col is not None:
        blocks.append(_share_table(frame, customer_col, amount_col, category_col, "cat"))
    if channel_col is not None:
        blocks.append(_share_table(frame, customer_col, amount_col, channel_col, "chan"))
    return totals, pd.concat(blocks, axis=1).fillna(0.0).sort_index(axis=1)


def _with_tiers(
    customers: pd.DataFrame, tiers: Any, customer_col: str, tier_col: str
) -> tuple[pd.DataFrame, int, int]:
    """Add each customer's value tier (sorted by customer); count untiered, tier-only."""
    n_untiered = 0
    n_tier_only = 0
    if tiers is not None:
        tframe = to_narwhals(tiers, what="tiers")
        check_columns(tframe, [customer_col, tier_col], what="tiers")
        check_not_null(tframe, [customer_col, tier_col], what="tiers")
        tdf = to_pandas(collect(tframe).select(customer_col, tier_col))
        dup = tdf[customer_col].duplicated()
        if dup.any():
            raise DataError(
                f"tiers: column '{customer_col}' has {int(dup.sum())} duplicate customers "
                f"(first example: {tdf[customer_col][dup].iloc[0]!r}); give one tier each."
            )
        tier = tdf.set_index(customer_col)[tier_col].astype(str)
        n_tier_only = int((~tier.index.isin(customers.index)).sum())
        customers = customers.join(tier.rename("tier"), how="outer")
        customers["value"] = customers["value"].fillna(0.0)
        n_untiered = int(customers["tier"].isna().sum())
        customers["tier"] = customers["tier"].fillna(NO_TIER)
    else:
        customers["tier"] = "all"
    customers.index.name = customer_col
    return customers.sort_index(), n_untiered, n_tier_only


def _best_k(
    x: npt.NDArray[np.float64], ks: list[int], seed: int, silhouette_sample: int
) -> tuple[int, list[tuple[int, float]]]:
    """The candidate k with the largest mean silhouette (ties: the smallest k)."""
    from sklearn.metrics import silhouette_score

    n_fit = x.shape[0]
    n_unique = len(np.unique(np.round(x, 12), axis=0))
    sil_rows: list[tuple[int, float]] = []
    for kk in ks:  # a handful of candidate k values
        if kk < 2 or kk >= min(n_fit, n_unique):
            continue
        trial, _ = _kmeans(x, kk, seed)
        score = silhouette_score(
            x, trial, sample_size=min(n_fit, silhouette_sample), random_state=seed
        )
        sil_rows.append((kk, float(score)))
    if not sil_rows:
        raise DataError(f"purchases: too few distinct spend profiles ({n_unique}) for k in {ks}.")
    return max(sil_rows, key=lambda r: (r[1], -r[0]))[0], sil_rows


def _segments_by_size(x: npt.NDArray[np.float64], k: int, seed: int) -> npt.NDArray[np.int64]:
    """k-means segments, numbered deterministically: by size (desc), then by centroid."""
    raw, _ = _kmeans(x, k, seed)
    cent = pd.DataFrame(x).groupby(raw).mean()
    size = np.bincount(raw, minlength=k)
    order_frame = cent.copy()
    order_frame.insert(0, "_size", -size[cent.index.to_numpy()])
    order = order_frame.sort_values(list(order_frame.columns)).index.to_numpy()
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    out: npt.NDArray[np.int64] = remap[raw]
    return out


def _segment_labels(shares: pd.DataFrame, seg: npt.NDArray[np.int64]) -> dict[int, str]:
    """Label of each segment: its dominant category and channel (numbered when shared)."""
    share_cols = list(shares.columns)
    feats = shares.groupby(seg).mean()
    labels: dict[int, str] = {}
    for s_id, row in feats.iterrows():  # one row per segment
        parts = []
        for prefix in ("cat:", "chan:"):
            cols = [c for c in share_cols if c.startswith(prefix)]
            if cols:
                parts.append(str(row[cols].idxmax())[len(prefix) :])
        labels[int(str(s_id))] = "/".join(parts)
    counts_lab = pd.Series(labels).value_counts()
    for sid, lab in list(labels.items()):
        if counts_lab[lab] > 1:
            labels[sid] = f"{lab} ({sid + 1})"
    labels[-1] = NO_SPEND
    return labels


def _value_needs_tables(
    customers: pd.DataFrame, labels: dict[int, str], share_cols: list[str], *, no_spend: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The value x needs matrix (customers and value) and the segment profiles."""
    seg_order = [labels[s] for s in sorted(labels) if s >= 0]
    if no_spend:
        seg_order.append(NO_SPEND)
    counts = pd.crosstab(customers["tier"], customers["segment_label"]).reindex(
        columns=seg_order, fill_value=0
    )
    value = customers.pivot_table(
        index="tier", columns="segment_label", values="value", aggfunc="sum", fill_value=0.0
    ).reindex(index=counts.index, columns=seg_order, fill_value=0.0)
    counts.columns.name = value.columns.name = "segment_label"
    profiles = customers.groupby(["segment", "segment_label"]).agg(
        n_customers=("value", "size"), value=("value", "sum"), mean_value=("value", "mean")
    )
    profiles = profiles.join(customers.groupby(["segment", "segment_label"])[share_cols].mean())
    return counts, value, profiles.reset_index()
