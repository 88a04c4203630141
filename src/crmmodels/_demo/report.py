"""Demo step: the HTML report of the CDNOW customer-base analysis."""

from __future__ import annotations

import time
from pathlib import Path

import crmmodels as crm
from crmmodels.analysis._report import SECTION_IDS
from crmmodels.analysis._report_sections import top_customers
from crmmodels.datasets import load_cdnow


def run(out_dir: Path) -> list[str]:
    """Analyse CDNOW, write ``analysis_report.html`` and say what is in it."""
    tx = load_cdnow()
    result = crm.analyze(tx, customer_col="customer_id", date_col="date", amount_col="amount")
    started = time.perf_counter()
    path = result.report(out_dir / "analysis_report.html", source="cdnow.csv")
    seconds = time.perf_counter() - started
    text = path.read_text(encoding="utf-8")
    skipped = [f"  {s.name}: {s.detail}" for s in result.steps.skipped] or ["  none"]
    top = top_customers(result, 5)
    return [
        f"Report of {len(tx):,} CDNOW transactions ({result.key_figures.n_customers:,} "
        f"customers): {path} ({len(text) / 1e6:.2f} MB, {text.count('<img ')} figures "
        f"inline, written in {seconds:.1f} s).",
        "Sections: " + ", ".join(SECTION_IDS) + ".",
        "Skipped steps (their sections say why):\n" + "\n".join(skipped),
        "Top customers by CLV (first 5 of the report's table):\n"
        + top.round(3).to_string(index=False),
        "The page loads nothing from the network (styles and PNG figures are inside it) "
        "and prints one section per page.",
    ]
