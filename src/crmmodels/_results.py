"""Base class for typed analysis results.

Every analysis returns a frozen dataclass that derives from :class:`Result`. A result
offers ``to_frame()`` (a pandas DataFrame), ``to_dict()`` (JSON-friendly scalars),
``plot(ax=None)`` (matplotlib Axes) and an HTML repr for Jupyter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Result"]


def _scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, np.generic)) or value is None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isfinite(value) and value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)
    return str(value)


_REPR_WIDTH = 90


class Result:
    """Mixin for frozen result dataclasses.

    Subclasses are ``@dataclass(frozen=True, repr=False)`` and implement ``to_frame`` and
    ``plot``. The defaults here give ``to_dict`` (scalar and tuple fields), ``__repr__``
    and ``_repr_html_``.
    """

    def to_frame(self) -> pd.DataFrame:
        """Return the main table of the result as a pandas DataFrame."""
        raise NotImplementedError

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the result on ``ax`` (a new figure when None) and return the Axes."""
        raise NotImplementedError

    def _scalar_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not dataclasses.is_dataclass(self):
            return out
        for f in dataclasses.fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if _is_scalar(value):
                out[f.name] = _scalar(value)
            elif isinstance(value, tuple) and all(_is_scalar(v) for v in value):
                out[f.name] = [_scalar(v) for v in value]
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the scalar fields of the result as a JSON-friendly dict."""
        return self._scalar_fields()

    def __repr__(self) -> str:
        """The class name and its scalar fields, wrapped to lines under 90 characters."""
        name = type(self).__name__
        items = [f"{k}={_fmt(v)}" for k, v in self._scalar_fields().items()]
        items = [item if len(item) <= 60 else item[:57] + "..." for item in items]
        with contextlib.suppress(NotImplementedError):
            items.append(f"rows={len(self.to_frame())}")
        indent = " " * (len(name) + 1)
        lines: list[str] = []
        line = f"{name}("
        for i, item in enumerate(items):
            piece = item + ("," if i < len(items) - 1 else "")
            if len(line) + len(piece) + 1 > _REPR_WIDTH and line.strip() != f"{name}(":
                lines.append(line.rstrip())
                line = indent
            elif not line.endswith("("):
                line += " "
            line += piece
        return "\n".join([*lines, line + ")"])

    def _repr_html_(self) -> str:
        name = html.escape(type(self).__name__)
        items = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self._scalar_fields().items()
        )
        try:
            frame = self.to_frame()
            table = frame.head(20).to_html(float_format=lambda v: f"{v:.4g}")
            more = f"<p>{len(frame)} rows</p>" if len(frame) > 20 else ""
        except NotImplementedError:
            table, more = "", ""
        return f"<div><strong>{name}</strong><table>{items}</table>{table}{more}</div>"
