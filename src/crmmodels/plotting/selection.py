"""Plot of a model selection: the holdout tracking plot (``ModelSelectionResult.plot``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmmodels._ingest.periods import unit_name
from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.clv._selection_result import ModelSelectionResult

__all__ = ["draw_model_selection"]


def draw_model_selection(
    result: ModelSelectionResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Actual cumulative repeat purchases against each candidate, calibration end marked.

    The chosen model is drawn with a solid line, the other candidates dashed; the
    calibration end is a dotted vertical line.

    Parameters
    ----------
    result : ModelSelectionResult
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot`` for every line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from crmmodels.clv import select_model
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> ax = select_model(load_cdnow_sample()).plot()
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['actual', 'BGNBD']
    """
    import matplotlib.dates as mdates

    ax = new_axes(ax, (8.0, 4.5))
    frame = result.tracking
    ax.plot(frame["date"], frame["actual"], color="black", label="actual", **kwargs)
    for name in result.models:
        style = "-" if name == result.chosen else "--"
        ax.plot(frame["date"], frame[name], linestyle=style, label=name, **kwargs)
    x = float(mdates.date2num(result.calibration_end.to_pydatetime()))  # type: ignore[no-untyped-call]
    ax.axvline(x, color="grey", linestyle=":", label="calibration end")
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("date")
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title(
        f"Holdout tracking ({unit_name(result.time_unit)}): {result.chosen} chosen by "
        f"{result.criterion}"
    )
    ax.legend()
    return ax
