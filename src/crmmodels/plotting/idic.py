"""Plots of the IDIC results (matplotlib is imported lazily, inside the functions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels._ingest.arguments import check_choice
from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.idic import (
        CustomizationResult,
        DifferentiationResult,
        IdentityResult,
        InteractionProfileResult,
        ProbabilisticIdentityResult,
    )

__all__ = [
    "plot_actions",
    "plot_channel_mix",
    "plot_identity",
    "plot_match_waterfall",
    "plot_match_weights",
    "plot_value_needs",
]


_SIZE = None  # matplotlib's default figure size


def plot_identity(result: IdentityResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Bar chart of resolved customers by number of records, with the merge report.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import resolve_identities
    >>> r = resolve_identities(pd.DataFrame({"id": [1, 2], "e": ["a@x.io", "A@x.io"]}),
    ...                        id_col="id", email_cols=["e"])
    >>> plot_identity(r).get_xlabel()
    'records per resolved customer'
    """
    ax = new_axes(ax, _SIZE)
    sizes = result.cluster_sizes()
    kwargs.setdefault("color", "tab:blue")
    ax.bar(sizes.index.astype(str), sizes.to_numpy(), **kwargs)
    for x, y in zip(sizes.index.astype(str), sizes.to_numpy(), strict=True):
        ax.annotate(str(int(y)), (x, y), ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("records per resolved customer")
    ax.set_ylabel("customers")
    ax.set_title(
        f"{result.n_records} records -> {result.n_customers} customers; "
        f"{result.n_merged_clusters} merges, {result.n_conflicts} conflicts, "
        f"{result.n_singletons} singletons",
        fontsize=9,
    )
    return ax


def plot_match_weights(
    result: ProbabilisticIdentityResult, *, ax: Axes | None = None, bins: int = 60, **kwargs: Any
) -> Axes:
    """Histogram of the candidate pairs' match weights, with the linking threshold.

    The pairs to the right of the dashed line (the match weight of
    ``threshold_probability``) are linked.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import resolve_identities_probabilistic
    >>> recs = pd.DataFrame({"rid": range(6), "zip": ["1", "1", "2", "2", "3", "3"],
    ...                      "name": ["ann lee", "ann le", "bo ek", "bob eck", "cy", "di"]})
    >>> res = resolve_identities_probabilistic(recs, id_col="rid", comparisons=["name"],
    ...                                        block_cols=["zip"])
    >>> plot_match_weights(res).get_xlabel()
    'match weight (log2 Bayes factor, prior included)'
    """
    ax = new_axes(ax, _SIZE)
    kwargs.setdefault("color", "tab:blue")
    weights = np.asarray(result.pair_weights, dtype=np.float64)
    ax.hist(weights, bins=bins, **kwargs)
    p = result.threshold_probability
    cut = float(np.log2(p / (1.0 - p)))
    ax.axvline(cut, color="tab:red", linestyle="--", label=f"P(match) = {p:g}")
    ax.set_yscale("log")
    ax.set_xlabel("match weight (log2 Bayes factor, prior included)")
    ax.set_ylabel("candidate pairs")
    ax.legend(fontsize=8)
    ax.set_title(
        f"{result.n_candidate_pairs} pairs compared, {result.n_links} linked; "
        f"{result.n_records} records -> {result.n_customers} customers",
        fontsize=9,
    )
    return ax


def plot_match_waterfall(
    result: ProbabilisticIdentityResult,
    record_a: Any,
    record_b: Any,
    *,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Waterfall of one pair: the prior and each field's weight, up to the total.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import resolve_identities_probabilistic
    >>> recs = pd.DataFrame({"rid": range(6), "zip": ["1", "1", "2", "2", "3", "3"],
    ...                      "name": ["ann lee", "ann le", "bo ek", "bob eck", "cy", "di"]})
    >>> res = resolve_identities_probabilistic(recs, id_col="rid", comparisons=["name"],
    ...                                        block_cols=["zip"])
    >>> ax = plot_match_waterfall(res, 0, 1)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['prior', 'name', 'total']
    """
    ax = new_axes(ax, _SIZE)
    table = result.explain(record_a, record_b)
    steps = table["weight"].to_numpy(dtype=np.float64)
    n = steps.size
    start = np.r_[0.0, np.cumsum(steps[:-1])[:-1], 0.0][:n]
    height = steps.copy()
    colors = np.where(height >= 0, "tab:green", "tab:red").astype(object)
    colors[0], colors[-1] = "tab:gray", "tab:blue"
    ax.bar(range(n), height, bottom=start, color=list(colors), **kwargs)
    labels = table["field"].astype(str).tolist()
    ax.set_xticks(range(n), labels, rotation=30, ha="right")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_ylabel("match weight (log2 Bayes factor)")
    prob = float(table["probability"].iloc[-1])
    ax.set_title(f"{record_a} vs {record_b}: P(match) = {prob:.4g}", fontsize=9)
    return ax


def plot_value_needs(
    result: DifferentiationResult, *, ax: Axes | None = None, what: str = "counts", **kwargs: Any
) -> Axes:
    """Heatmap of the value x needs matrix (``what="counts"`` or ``"value"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import differentiate
    >>> p = pd.DataFrame({"customer_id": [1, 2, 3, 4], "category": ["a", "a", "b", "b"],
    ...                   "amount": [1.0, 2.0, 3.0, 4.0]})
    >>> plot_value_needs(differentiate(p, k=2)).get_ylabel()
    'value tier'
    """
    check_choice(what, "what", ("counts", "value"))
    ax = new_axes(ax, _SIZE)
    mat = result.matrix_counts if what == "counts" else result.matrix_value
    data = mat.to_numpy(dtype=np.float64)
    kwargs.setdefault("cmap", "Blues")
    im = ax.imshow(data, aspect="auto", **kwargs)
    ax.set_xticks(range(mat.shape[1]), [str(c) for c in mat.columns], rotation=30, ha="right")
    ax.set_yticks(range(mat.shape[0]), [str(i) for i in mat.index])
    top = data.max() if data.size else 0.0
    for (r, c), v in np.ndenumerate(data):
        text = f"{int(v)}" if what == "counts" else f"{v:,.0f}"
        ax.text(
            c,
            r,
            text,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if top and v > 0.6 * top else "black",
        )
    ax.figure.colorbar(im, ax=ax, label="customers" if what == "counts" else "value")
    ax.set_xlabel("needs segment")
    ax.set_ylabel("value tier")
    ax.set_title(f"value x needs ({what}), k = {result.k}")
    return ax


def plot_channel_mix(
    result: InteractionProfileResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Bar chart of the share of interactions per channel, with strategic coverage.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import interaction_profile
    >>> log = pd.DataFrame({"customer_id": [1, 2], "channel": ["email", "sms"],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    >>> plot_channel_mix(interaction_profile(log)).get_ylabel()
    'share of interactions'
    """
    ax = new_axes(ax, _SIZE)
    mix = result.channel_mix.sort_values("share", ascending=False)
    kwargs.setdefault("color", "tab:green")
    ax.bar(mix["channel"].astype(str), mix["share"].to_numpy(), **kwargs)
    ax.set_ylabel("share of interactions")
    ax.set_xlabel("channel")
    cov = (
        ""
        if result.coverage is None
        else (f"; strategic coverage ({result.coverage_days} d): {result.coverage:.0%}")
    )
    ax.set_title(f"channel mix, {result.n_interactions} interactions{cov}", fontsize=9)
    return ax


def plot_actions(result: CustomizationResult, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Horizontal bar chart of the number of customers per action.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import customize
    >>> res = customize(pd.DataFrame({"customer_id": [1], "t": ["A"]}),
    ...                 [{"name": "r", "action": "call", "conditions": {"t": "A"}}])
    >>> plot_actions(res).get_xlabel()
    'customers'
    """
    ax = new_axes(ax, _SIZE)
    counts = result.assignments["action"].value_counts().sort_values()
    kwargs.setdefault("color", "tab:purple")
    ax.barh(counts.index.astype(str), counts.to_numpy(), **kwargs)
    ax.set_xlabel("customers")
    ax.set_title(
        f"actions: {result.n_no_match} without a rule, {result.n_overlapping} overlapping",
        fontsize=9,
    )
    return ax
