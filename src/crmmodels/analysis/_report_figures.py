"""The report's figures: drawn by ``CustomerAnalysis.plot`` and embedded as PNG data URIs.

Each figure is a :class:`matplotlib.figure.Figure` made outside pyplot, so rendering the
report opens no window, leaves no figure behind in pyplot's list and does not depend on
the caller's backend. A figure a plot method opened through pyplot anyway is closed.
"""

from __future__ import annotations

import base64
import io
import struct
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crmmodels.analysis._report_tables import FigureBlock

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.analysis._result import CustomerAnalysis

__all__ = [
    "DPI",
    "FIGURE_SIZES",
    "figure_block",
    "png_block",
    "png_size",
    "render_drawing",
    "render_png",
]

#: resolution of the embedded PNGs (a 7-inch figure is 700 pixels wide)
DPI = 100

#: figure size in inches of each kind of :meth:`CustomerAnalysis.plot`
FIGURE_SIZES = {
    "clv": (7.0, 4.0),
    "selection": (7.5, 4.5),
    "lorenz": (6.0, 4.2),
    "pareto": (7.0, 4.5),
    "quadrants": (7.0, 5.5),
    "lifecycle": (7.0, 3.5),
    "retention": (8.0, 5.0),
    "rfm": (7.0, 4.0),
}


def png_size(data: bytes) -> tuple[int, int]:
    r"""Width and height in pixels of a PNG image (read from its header).

    Examples
    --------
    >>> signature = b"\x89PNG\r\n\x1a\n"
    >>> png_size(signature + b"\x00\x00\x00\rIHDR" + struct.pack(">II", 640, 480))
    (640, 480)
    """
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _pyplot_figures() -> set[int]:
    """Numbers of the figures open in pyplot (none when pyplot was never imported)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    return set() if pyplot is None else set(pyplot.get_fignums())


def _close_new_pyplot_figures(before: set[int]) -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        for number in set(pyplot.get_fignums()) - before:
            pyplot.close(number)


def render_drawing(draw: Callable[[Axes], Axes], kind: str) -> bytes:
    """The PNG bytes of what ``draw`` draws on a new axes sized for ``kind``."""
    from matplotlib.figure import Figure

    before = _pyplot_figures()
    fig = Figure(figsize=FIGURE_SIZES.get(kind, (7.0, 4.5)), dpi=DPI)
    try:
        ax = draw(fig.add_subplot())
        drawn = ax.figure if isinstance(ax.figure, Figure) else fig
        buffer = io.BytesIO()
        drawn.savefig(
            buffer,
            format="png",
            dpi=DPI,
            bbox_inches="tight",
            pad_inches=0.12,
            facecolor="white",
            metadata={"Software": None},
        )
    finally:
        fig.clear()
        _close_new_pyplot_figures(before)
    return buffer.getvalue()


def render_png(analysis: CustomerAnalysis, kind: str, **kwargs: Any) -> bytes:
    """The PNG bytes of ``analysis.plot(kind=kind)`` (the figure is released after)."""
    return render_drawing(lambda ax: analysis.plot(ax, kind=kind, **kwargs), kind)


def png_block(data: bytes, *, alt: str, caption: str = "") -> FigureBlock:
    """A PNG image as a figure of the report (a ``data:`` URI with its pixel size)."""
    width, height = png_size(data)
    return FigureBlock(
        src="data:image/png;base64," + base64.b64encode(data).decode("ascii"),
        alt=alt,
        caption=caption,
        width=width,
        height=height,
    )


def figure_block(
    analysis: CustomerAnalysis, kind: str, *, alt: str, caption: str = "", **kwargs: Any
) -> FigureBlock:
    """One figure of the analysis, ready for the report.

    Examples
    --------
    >>> import crmmodels as crm
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> result = crm.analyze(load_cdnow_sample(), amount_col="amount")
    >>> block = figure_block(result, "rfm", alt="Customers per RFM segment")
    >>> block.src.startswith("data:image/png;base64,"), block.width > 0
    (True, True)
    """
    return png_block(render_png(analysis, kind, **kwargs), alt=alt, caption=caption)
