"""The HTML report of a customer-base analysis (a first version: the key figures)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmmodels.analysis._result import CustomerAnalysis

__all__ = ["write_report"]


def write_report(analysis: CustomerAnalysis, path: str | Path) -> Path:
    """Write the report of ``analysis`` to ``path`` (one self-contained HTML file)."""
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
        for label, text in analysis.key_figures.lines()
    )
    out = Path(path)
    out.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Customer-base analysis</title></head><body>"
        f"<h1>Customer-base analysis</h1><table>{rows}</table></body></html>",
        encoding="utf-8",
    )
    return out
