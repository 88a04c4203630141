"""The HTML report of a customer-base analysis: one self-contained file.

The report opens offline and can be sent by e-mail: its style sheet is inline and its
figures are PNG images inside ``data:`` URIs, so the page makes no request at all. A
Content-Security-Policy meta tag says so to the browser: nothing may be loaded except
``data:`` images and the one inline style sheet (allowed by its SHA-256 hash); scripts,
fonts, frames and forms are refused. The page is laid out for a laptop screen and for
print (each section starts a new page; figures and tables are not split).

Sections, in order (their ``id`` is the anchor): ``key-figures``, ``data-checks``,
``model-selection``, ``clv``, ``quadrants``, ``portfolio``, ``lifecycle``,
``retention``, ``rfm``, ``assumptions``. A section whose step was skipped shows the
reason instead of its figure. For an engine run (the customer table kept on DuckDB,
polars or Spark) the per-customer sections are drawn from aggregates computed on the
engine when the report is written (``_report_engine``).

The page is rendered by Jinja2 templates (``analysis/templates``) with autoescaping on:
every value of the data (customer ids, segment names, notes) reaches the page as text.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmmodels._version import __version__
from crmmodels.analysis import _report_engine as engine
from crmmodels.analysis._report_engine import figures_of
from crmmodels.analysis._report_parts import (
    lifecycle_section,
    portfolio_section,
    quadrants_section,
    retention_section,
    rfm_section,
)
from crmmodels.analysis._report_sections import (
    Section,
    assumptions_section,
    clv_section,
    data_checks_section,
    key_figures_section,
    model_selection_section,
)
from crmmodels.errors import ArgumentError

if TYPE_CHECKING:
    from jinja2 import Environment

    from crmmodels.analysis._engine_figures import EngineFigures
    from crmmodels.analysis._result import CustomerAnalysis

__all__ = ["SECTION_IDS", "content_security_policy", "render_report", "write_report"]

#: the sections of the report, in order
SECTION_IDS = (
    "key-figures",
    "data-checks",
    "model-selection",
    "clv",
    "quadrants",
    "portfolio",
    "lifecycle",
    "retention",
    "rfm",
    "assumptions",
)

TITLE = "Customer-base analysis"


@functools.cache
def _environment() -> Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("crmmodels.analysis", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _stylesheet() -> str:
    env = _environment()
    assert env.loader is not None
    text, _, _ = env.loader.get_source(env, "report.css")
    return text


def content_security_policy(stylesheet: str) -> str:
    """The page's policy: ``data:`` images and this one inline style sheet, nothing else.

    Examples
    --------
    >>> policy = content_security_policy("body { margin: 0; }")
    >>> policy.split("; ")[:2]
    ["default-src 'none'", 'img-src data:']
    >>> policy.split("; ")[2]
    "style-src 'sha256-Pme0qVBbJGACcvHOa2d2xK4uveiPdlWdSipR9gLYAMQ='"
    """
    digest = base64.b64encode(hashlib.sha256(stylesheet.encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; img-src data:; style-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )


def _sections(analysis: CustomerAnalysis, source: str | None, command: str | None) -> list[Section]:
    figures = figures_of(analysis)
    if figures is not None:  # an engine run: the per-customer sections from aggregates
        return _engine_sections(analysis, figures, source, command)
    sections = [
        key_figures_section(analysis),
        data_checks_section(analysis),
        model_selection_section(analysis),
        clv_section(analysis),
        quadrants_section(analysis),
        portfolio_section(analysis),
        lifecycle_section(analysis),
        retention_section(analysis),
        rfm_section(analysis),
        assumptions_section(analysis, source, command),
    ]
    assert tuple(s.id for s in sections) == SECTION_IDS
    return sections


def _engine_sections(
    analysis: CustomerAnalysis, figures: EngineFigures, source: str | None, command: str | None
) -> list[Section]:
    sections = [
        key_figures_section(analysis),
        data_checks_section(analysis),
        model_selection_section(analysis),
        engine.clv_section(analysis, figures),
        engine.quadrants_section(analysis, figures),
        engine.portfolio_section(analysis, figures),
        engine.lifecycle_section(analysis, figures),
        retention_section(analysis),
        engine.rfm_section(analysis, figures),
        assumptions_section(analysis, source, command),
    ]
    assert tuple(s.id for s in sections) == SECTION_IDS
    return sections


def render_report(
    analysis: CustomerAnalysis, *, source: str | None = None, command: str | None = None
) -> str:
    """The report of ``analysis`` as HTML text (see :func:`write_report`)."""
    if source is not None and not isinstance(source, str):
        raise ArgumentError(
            f"source must be the text of the data's path or query; got {type(source).__name__}."
        )
    if command is not None and not isinstance(command, str):
        raise ArgumentError(
            f"command must be the text of the command line; got {type(command).__name__}."
        )
    css = _stylesheet()
    k = analysis.key_figures
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = (
        f"{k.n_customers:,} customers, observation end {analysis.settings.observation_end.date()}"
        + (f", data: {source}" if source else "")
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=TITLE,
        subtitle=subtitle,
        csp=content_security_policy(css),
        css=css,
        version=__version__,
        sections=_sections(analysis, source, command),
        footer=f"Written {written} by crmmodels {__version__}. The page loads nothing "
        "from the network: styles and figures are inside this file.",
    )


def _check_path(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError(
            f"path must be a file path (str or pathlib.Path); got {type(path).__name__}."
        )
    out = Path(path)
    if out.is_dir():
        raise ArgumentError(
            f"path {str(out)!r} is a folder; pass a file path such as {str(out / 'report.html')!r}."
        )
    if not out.parent.is_dir():
        raise ArgumentError(
            f"path {str(out)!r}: the folder {str(out.parent)!r} does not exist. Create it "
            "first or pass a path in an existing folder."
        )
    return out


def write_report(
    analysis: CustomerAnalysis,
    path: str | os.PathLike[str],
    *,
    source: str | None = None,
    command: str | None = None,
) -> Path:
    """Write the report of ``analysis`` to ``path`` (one self-contained HTML file).

    Parameters
    ----------
    analysis : CustomerAnalysis
        The result of :func:`crmmodels.analyze`.
    path : str or path-like
        The file to write (replaced when it exists); its folder must exist.
    source : str, optional
        The data's path or query, shown in the command that reproduces the run.
    command : str, optional
        The exact command line of the run (``crmmodels analyze`` passes it), shown
        instead of the command built from the settings.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import crmmodels as crm
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> result = crm.analyze(load_cdnow_sample(), amount_col="amount")
    >>> out = write_report(result, pathlib.Path(tempfile.mkdtemp()) / "report.html",
    ...                    source="cdnow.csv")
    >>> "crmmodels analyze cdnow.csv" in out.read_text(encoding="utf-8")
    True
    """
    out = _check_path(path)
    text = render_report(analysis, source=source, command=command)
    out.write_text(text, encoding="utf-8")
    return out
