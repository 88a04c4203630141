"""Figures of a customer-base analysis (reached through ``CustomerAnalysis.plot``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from crmmodels._ingest.arguments import check_number
from crmmodels.errors import DataError
from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.analysis import CustomerAnalysis

__all__ = [
    "plot_analysis",
    "plot_clv_distribution",
    "plot_clv_histogram",
    "plot_label_counts",
    "plot_lorenz_points",
    "plot_rfm_segments",
]

#: the part of the analysis each kind draws, and the step that makes it
_PARTS = {
    "selection": ("model_selection", "Model selection"),
    "lorenz": ("portfolio", "80/20 analysis"),
    "pareto": ("portfolio", "80/20 analysis"),
    "quadrants": ("quadrants", "CLV quadrants"),
    "lifecycle": ("lifecycle", "Lifecycle stages (purchase scheme)"),
    "retention": ("retention", "Cohort retention"),
    "rfm": ("rfm", "RFM scores and segments"),
    "clv": ("clv", "CLV"),
}


def _part(result: CustomerAnalysis, kind: str) -> Any:
    attr, step = _PARTS[kind]
    part = getattr(result, attr)
    if part is None:
        reason = next((s.detail for s in result.steps.steps if s.name == step), "")
        raise DataError(f"no {kind} plot: the step '{step}' was skipped ({reason}).")
    return part


def plot_clv_distribution(
    clv: np.ndarray[Any, Any],
    *,
    ax: Axes | None = None,
    currency: str = "",
    low_quantile: float = 0.005,
    **kwargs: Any,
) -> Axes:
    """Histogram of the customers' CLV on a logarithmic value axis.

    Customers with a CLV of 0 or less are counted in the title (a log axis cannot
    show them). The axis starts at the ``low_quantile`` of the positive values, so a few
    customers with a vanishing CLV do not stretch it over many decades: they are counted
    in the first bar, and the title says how many there are.

    Examples
    --------
    >>> ax = plot_clv_distribution(np.array([1.0, 10.0, 100.0, 0.0]))
    >>> ax.get_xscale(), ax.get_title()
    ('log', 'CLV of 4 customers (1 at 0 not shown)')
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    quantile = check_number(
        low_quantile, "low_quantile", low=0, high=0.5, fix="Pass a small share such as 0.005."
    )
    ax = new_axes(ax, (7.0, 4.0))
    values = np.asarray(clv, dtype="float64")
    values = values[np.isfinite(values)]
    positive = values[values > 0]
    n_low = 0
    low = 0.0
    if positive.size:
        low = float(np.quantile(positive, quantile, method="lower"))
        high = float(positive.max())
        n_low = int((positive < low).sum())
        bins = np.geomspace(low, high if high > low else low * 10, 40).tolist()
        shown = np.clip(positive, low, None)
        ax.hist(shown, bins=bins, color=kwargs.pop("color", "#4C72B0"), **kwargs)
        ax.axvline(float(values.mean()), color="black", linestyle="--", label="mean")
        ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel(f"CLV{f' ({currency})' if currency else ''}")
    ax.set_ylabel("customers")
    n_zero = values.size - positive.size
    notes = []
    if n_zero:
        notes.append(f"{n_zero:,} at 0 not shown")
    if n_low:
        notes.append(f"{n_low:,} below {low:.3g} in the first bar")
    title = f"CLV of {values.size:,} customers"
    ax.set_title(title + (f" ({'; '.join(notes)})" if notes else ""))
    return ax


def plot_rfm_segments(segments: Any, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Horizontal bars: customers per RFM segment, largest first.

    Examples
    --------
    >>> import pandas as pd
    >>> ax = plot_rfm_segments(pd.DataFrame({"segment": ["lost", "loyal", "lost"]}))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['lost', 'loyal']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (7.0, 4.0))
    counts = segments["segment"].value_counts()
    ax.barh([str(i) for i in counts.index], counts.to_numpy(), **kwargs)
    ax.invert_yaxis()
    ax.set_xlabel("customers")
    ax.set_title("RFM segments")
    return ax


def plot_analysis(
    result: CustomerAnalysis, *, kind: str, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw one view of a customer-base analysis (see ``CustomerAnalysis.plot``)."""
    part = _part(result, kind)
    if kind == "clv":
        clv = part.to_frame()["clv"].to_numpy()
        return plot_clv_distribution(clv, ax=ax, **kwargs)
    if kind == "rfm":
        return plot_rfm_segments(part, ax=ax, **kwargs)
    if kind in ("lorenz", "pareto"):
        return part.plot(ax=ax, kind=kind, **kwargs)  # type: ignore[no-any-return]
    return part.plot(ax=ax, **kwargs)  # type: ignore[no-any-return]


def plot_clv_histogram(
    edges: Any,
    counts: Any,
    *,
    n_values: int,
    n_low: int,
    mean: float,
    ax: Axes | None = None,
    currency: str = "",
    **kwargs: Any,
) -> Axes:
    """The CLV histogram of :func:`plot_clv_distribution` from counts already binned.

    For a customer table that stays on an engine: ``edges`` and ``counts`` are the bars
    (positive values below the first edge counted in the first bar), ``n_values`` the
    customers with a CLV (those not in a bar have a CLV of 0 or less), ``n_low`` the
    positive values below the first edge, ``mean`` the mean CLV.

    Examples
    --------
    >>> ax = plot_clv_histogram(np.array([1.0, 10.0, 100.0]), np.array([2, 1]), n_values=4,
    ...                         n_low=0, mean=30.0)
    >>> ax.get_xscale(), ax.get_title()
    ('log', 'CLV of 4 customers (1 at 0 not shown)')
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (7.0, 4.0))
    bins = np.asarray(edges, dtype="float64")
    heights = np.asarray(counts, dtype="float64")
    n_positive = int(heights.sum())
    low = float(bins[0]) if bins.size else 0.0
    if n_positive:
        color = kwargs.pop("color", "#4C72B0")
        ax.hist(bins[:-1], bins=bins.tolist(), weights=heights, color=color, **kwargs)
        ax.axvline(float(mean), color="black", linestyle="--", label="mean")
        ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel(f"CLV{f' ({currency})' if currency else ''}")
    ax.set_ylabel("customers")
    notes = []
    if n_values - n_positive:
        notes.append(f"{n_values - n_positive:,} at 0 not shown")
    if n_low:
        notes.append(f"{n_low:,} below {low:.3g} in the first bar")
    title = f"CLV of {n_values:,} customers"
    ax.set_title(title + (f" ({'; '.join(notes)})" if notes else ""))
    return ax


def plot_lorenz_points(
    customer_share: Any, lorenz: Any, *, gini: float, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """The Lorenz curve of ``plot_lorenz`` from points of the curve (worst first).

    Examples
    --------
    >>> ax = plot_lorenz_points(np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.2, 1.0]),
    ...                         gini=0.3)
    >>> ax.get_title()
    'Lorenz curve (Gini = 0.300)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (7.0, 4.5))
    p = np.asarray(customer_share, dtype="float64")
    curve = np.asarray(lorenz, dtype="float64")
    kw: dict[str, Any] = {"color": "tab:blue", "label": "Lorenz curve"}
    kw.update(kwargs)
    ax.plot(p, curve, **kw)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equality")
    ax.fill_between(p, curve, p, color="tab:blue", alpha=0.2, label="Gini area")
    ax.set_xlabel("share of customers (worst first)")
    ax.set_ylabel("cumulative share of value")
    ax.set_xlim(0, 1)
    ax.set_title(f"Lorenz curve (Gini = {gini:.3f})")
    ax.legend(loc="upper left")
    return ax


def plot_label_counts(
    labels: Any,
    counts: Any,
    *,
    title: str,
    ax: Axes | None = None,
    annotate: bool = False,
    colors: Any = None,
    **kwargs: Any,
) -> Axes:
    """Horizontal bars: customers per label (stage, segment, quadrant), first on top.

    The bars of the lifecycle and RFM figures, from counts (``annotate`` writes each
    count beside its bar).

    Examples
    --------
    >>> ax = plot_label_counts(["lost", "loyal"], [3, 1], title="RFM segments")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_title()
    (['lost', 'loyal'], 'RFM segments')
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = new_axes(ax, (7.0, 3.5))
    names = [str(label) for label in labels]
    values = np.asarray(counts, dtype="int64")
    y = np.arange(len(names))
    if colors is not None:
        kwargs["color"] = list(colors)
    ax.barh(y, values, **kwargs)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    if annotate:
        for i, v in enumerate(values.tolist()):  # a handful of labels
            ax.text(v, i, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("customers")
    ax.set_title(title)
    return ax
