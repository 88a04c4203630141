"""Demo step: the whole analysis of the CDNOW log, the path of ``crmmodels analyze``.

:func:`analyze_source`, :meth:`CustomerAnalysis.save` and :func:`outcome_lines` are what
the ``analyze`` command runs after reading its input; :func:`run` runs them on the
bundled CDNOW log.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any

from crmmodels.analysis import CustomerAnalysis, analyze
from crmmodels.analysis._write import AnalysisFiles
from crmmodels.datasets import load_cdnow


def analyze_source(
    data: Any,
    *,
    source: str,
    command_options: str = "",
    progress: bool = False,
    key_env: str = "CRMMODELS_PSEUDONYMIZE_KEY",
    **settings: Any,
) -> tuple[CustomerAnalysis, str]:
    """Run :func:`crmmodels.analyze` on ``data``; return it and the command reproducing it.

    ``source`` names the input in that command; ``command_options`` are options of the
    command the settings do not hold (``--table``, ``--query``); ``key_env`` names the
    environment variable of a pseudonymisation key.
    """
    result = analyze(data, progress=progress, **settings)
    command = result.settings.command_line(source, key_env=key_env) + command_options
    date_format = settings.get("date_format")
    if date_format is not None and result.settings.date_format is None:
        command += f" --date-format {shlex.quote(date_format)}"
    return result, command


def analyze_and_save(
    data: Any, *, out_dir: Path, source: str, **settings: Any
) -> tuple[CustomerAnalysis, AnalysisFiles]:
    """:func:`analyze_source`, then :meth:`CustomerAnalysis.save` into ``out_dir``."""
    result, command = analyze_source(data, source=source, **settings)
    return result, result.save(out_dir, command=command)


def outcome_lines(result: CustomerAnalysis, files: AnalysisFiles, *, source: str) -> list[str]:
    """The key figures, the model used, the skipped steps and the outputs, for printing."""
    checks = result.checks
    lines = [
        f"Customer-base analysis of {source}: {checks.n_rows:,} rows, "
        f"{checks.n_customers:,} customers, {checks.first_date} to {checks.last_date} "
        f"(observation end {checks.observation_end}).",
        f"Transaction model: {result.transaction_model or 'none (see the skipped steps)'}"
        + _selection_reason(result),
        "",
        "Key figures:",
    ]
    figures = result.key_figures.lines()
    width = max(len(label) for label, _ in figures)
    lines.extend(f"  {label:<{width}}  {text}" for label, text in figures)
    if result.steps.skipped:
        lines += ["", "Skipped steps:"]
        lines.extend(f"  {s.name}: {s.detail}" for s in result.steps.skipped)
    lines += ["", "Written:"]
    outputs = files.lines()
    width = max(len(what) for what, _ in outputs)
    lines.extend(f"  {what:<{width}}  {where}" for what, where in outputs)
    return lines


def _selection_reason(result: CustomerAnalysis) -> str:
    selection = result.model_selection
    reason = getattr(selection, "reason", None)
    return f" ({reason})" if reason else ""


def run(out_dir: Path) -> list[str]:
    """Analyse CDNOW in one call, write its outputs and plot the CLV distribution."""
    import matplotlib.pyplot as plt

    result, files = analyze_and_save(
        load_cdnow(), out_dir=out_dir, source="cdnow.csv", amount_col="amount"
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    result.plot(ax, kind="clv")
    path = out_dir / "analysis_clv.png"
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    table = result.to_frame()
    top = table.sort_values("clv_rank").head(5)
    cols = ["customer_id", "n_orders", "total_value", "p_alive", "clv", "value_class"]
    equity = result.key_figures.customer_equity
    return [
        *outcome_lines(result, files, source="the bundled CDNOW log"),
        "Top 5 customers by CLV:\n" + top[cols].round(2).to_string(index=False),
        "Equity per customer: "
        + ("n/a" if math.isnan(equity) else f"{equity / len(table):,.2f}")
        + f"; figure: {path}",
    ]
