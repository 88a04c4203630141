"""Helpers shared by the plotting modules (matplotlib is imported lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["new_axes"]


def new_axes(ax: Axes | None, size: tuple[float, float] | None = None) -> Axes:
    """Return ``ax``, or the axes of a new figure of ``size`` inches when it is None.

    Examples
    --------
    >>> ax = new_axes(None, (4.0, 3.0))
    >>> new_axes(ax) is ax, [float(v) for v in ax.figure.get_size_inches()]
    (True, [4.0, 3.0])
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=size)
    return new_ax
