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

__all__ = ["plot_analysis", "plot_clv_distribution", "plot_rfm_segments"]

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
