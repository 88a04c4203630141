"""The blocks a report section is made of, and the formatting of the values in them.

A section of the report is a list of blocks (a paragraph, a list, a set of figures, a
table, a figure, a code sample). Every value is turned into text here, in Python, so the
template only lays the text out; the template escapes all of it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Facts",
    "FigureBlock",
    "Paragraph",
    "TableBlock",
    "format_value",
    "frame_table",
    "money",
    "number",
    "share",
]

#: the text shown for a missing value
MISSING = "–"


@dataclasses.dataclass(frozen=True)
class Paragraph:
    """A paragraph of text; ``style`` is ``""``, ``"skipped"`` or ``"note"``."""

    text: str
    style: str = ""
    kind: str = "paragraph"


@dataclasses.dataclass(frozen=True)
class Bullets:
    """A list of sentences."""

    items: tuple[str, ...]
    kind: str = "bullets"


@dataclasses.dataclass(frozen=True)
class Facts:
    """Labelled values; ``style="cards"`` shows them as large figures."""

    pairs: tuple[tuple[str, str], ...]
    style: str = ""
    kind: str = "facts"


@dataclasses.dataclass(frozen=True)
class Code:
    """A code sample with a label (a call or a command)."""

    label: str
    text: str
    kind: str = "code"


@dataclasses.dataclass(frozen=True)
class FigureBlock:
    """A PNG figure embedded as a ``data:`` URI, with its pixel size."""

    src: str
    alt: str
    caption: str
    width: int
    height: int
    kind: str = "figure"


@dataclasses.dataclass(frozen=True)
class TableBlock:
    """A table of text cells.

    Attributes
    ----------
    columns : tuple of str
        Column headers.
    rows : tuple of tuple of str
        The cells, formatted.
    numeric : tuple of bool
        Per column: right-aligned (numbers).
    marked : tuple of bool
        Per row: highlighted (the chosen model, a skipped step).
    caption : str
        What the table shows.
    table_id : str
        ``id`` attribute of the table ("" for none).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    marked: tuple[bool, ...] = ()
    caption: str = ""
    table_id: str = ""
    kind: str = "table"

    def is_marked(self, index: int) -> bool:
        """Whether row ``index`` is highlighted."""
        return index < len(self.marked) and self.marked[index]


Block = Paragraph | Bullets | Facts | Code | FigureBlock | TableBlock


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:  # pragma: no cover - a float-like that refuses isnan
        return False


def number(value: Any) -> str:
    """A number for reading: thousands separated, about four significant digits.

    Examples
    --------
    >>> number(19172.64), number(0.78342), number(12), number(float("nan"))
    ('19,172.6', '0.7834', '12', '–')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.1f}"
    return f"{x:.4g}"


def money(value: Any) -> str:
    """An amount with two decimals (``1,234.50``); missing values give a dash.

    Examples
    --------
    >>> money(1234.5), money(None)
    ('1,234.50', '–')
    """
    return MISSING if _missing(value) else f"{float(value):,.2f}"


def share(value: Any) -> str:
    """A share as a percentage with one decimal (``42.0%``).

    Examples
    --------
    >>> share(0.42), share(float("nan"))
    ('42.0%', '–')
    """
    return MISSING if _missing(value) else f"{float(value):.1%}"


def format_value(value: Any) -> str:
    """Any value of a result's table as text (dates as dates, numbers by :func:`number`).

    Examples
    --------
    >>> format_value(pd.Timestamp("2024-03-01")), format_value(pd.Timestamp("2024-03-01 10:30"))
    ('2024-03-01', '2024-03-01 10:30:00')
    >>> format_value(True), format_value("<b>"), format_value(pd.NA)
    ('yes', '<b>', '–')
    """
    if _missing(value):
        return MISSING
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    if isinstance(value, (bool, np.bool_, int, np.integer, float, np.floating)):
        return number(value)
    return str(value)


def frame_table(
    frame: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    marked: Sequence[bool] = (),
    caption: str = "",
    table_id: str = "",
) -> TableBlock:
    """A small frame (a few dozen rows at most) as a table of formatted cells.

    Every column of ``frame`` is shown, headed by ``labels[column]`` (else its name) and
    formatted by ``formats[column]`` (else :func:`format_value`). Numeric columns are
    right-aligned.

    Examples
    --------
    >>> t = frame_table(pd.DataFrame({"model": ["BGNBD"], "aic": [19172.64]}),
    ...                 labels={"aic": "AIC"})
    >>> t.columns, t.rows, t.numeric
    (('model', 'AIC'), (('BGNBD', '19,172.6'),), (False, True))
    """
    labels = labels or {}
    formats = formats or {}
    columns = [str(c) for c in frame.columns]
    numeric = tuple(
        bool(pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]))
        for c in frame.columns
    )
    cells = [
        [formats.get(name, format_value)(v) for v in frame[col].tolist()]
        for name, col in zip(columns, frame.columns, strict=True)
    ]
    rows = tuple(zip(*cells, strict=True)) if cells else ()
    return TableBlock(
        columns=tuple(labels.get(c, c) for c in columns),
        rows=tuple(tuple(r) for r in rows),
        numeric=numeric,
        marked=tuple(bool(m) for m in marked),
        caption=caption,
        table_id=table_id,
    )
