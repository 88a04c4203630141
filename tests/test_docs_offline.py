"""The documentation site renders without internet and cites real sources.

The site is built with ``mkdocs build --strict`` into a temporary folder (skipped when
mkdocs is not installed). No page may load a script or stylesheet from another host, the
vendored maths renderer (KaTeX) must be in the site with every font its stylesheet names,
and no page, docstring or notebook may point to a file that is not in the repository
(``MODELS.md``) or use internal labels such as "article B model 15" instead of a citation.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KATEX = ("assets/katex/katex.min.js", "assets/katex/contrib/auto-render.min.js")
KATEX_CSS = "assets/katex/katex.min.css"

#: Pointers to the missing catalogue and internal labels of the source articles.
BAD_REFERENCE = re.compile(
    r"MODELS\.md|\b(?:source\s+)?articles?\s+[A-D]\b|\bsource\s+[A-D]\b|"
    r"\bmodels?\s+(?:9|1[0-5])\b(?:\s+(?:and|of)\s+(?:9|1[0-5]|source))?",
    re.IGNORECASE,
)


class _Assets(HTMLParser):
    """Collect the scripts and stylesheets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.scripts.append(str(a["src"]))
        if tag == "link" and "stylesheet" in str(a.get("rel", "")).split() and a.get("href"):
            self.stylesheets.append(str(a["href"]))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _pages(site: Path) -> list[Path]:
    pages = sorted(p for p in site.rglob("*.html") if "assets" not in p.relative_to(site).parts)
    assert len(pages) > 10
    return pages


def _assets(page: Path) -> _Assets:
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_no_page_loads_a_script_or_stylesheet_from_another_host(site: Path) -> None:
    remote = re.compile(r"^(?:https?:)?//", re.IGNORECASE)
    for page in _pages(site):
        found = _assets(page)
        bad = [u for u in found.scripts + found.stylesheets if remote.match(u)]
        assert not bad, f"{page.relative_to(site)} loads {bad}"


def test_every_page_loads_the_vendored_renderer(site: Path) -> None:
    for page in _pages(site):
        found = _assets(page)
        for asset in KATEX:
            assert any(s.split("?")[0].endswith(asset) for s in found.scripts), (page, asset)
        assert any(s.split("?")[0].endswith(KATEX_CSS) for s in found.stylesheets), page


def test_renderer_assets_and_fonts_are_in_the_site(site: Path) -> None:
    for asset in (*KATEX, KATEX_CSS, "assets/katex/LICENSE"):
        assert (site / asset).stat().st_size > 0, asset
    css = (site / KATEX_CSS).read_text(encoding="utf-8")
    fonts = set(re.findall(r"url\(([^)]+)\)", css))
    assert fonts
    for font in fonts:
        assert (site / "assets/katex" / font.strip("'\"")).is_file(), font


def test_formulas_are_left_for_the_renderer(site: Path) -> None:
    page = (site / "clv_bgnbd" / "index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in page


def _sources() -> list[Path]:
    files = [*(ROOT / "docs").rglob("*.md"), *(ROOT / "docs").rglob("*.py")]
    files += [*(ROOT / "src").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb")]
    files += [*(ROOT / "benchmarks").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.md")]
    return sorted(files)


def test_no_source_points_to_models_md_or_uses_article_labels() -> None:
    hits = []
    for path in _sources():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = BAD_REFERENCE.search(line)
            if match:
                hits.append(f"{path.relative_to(ROOT)}:{n}: {match.group(0)!r}")
    assert not hits, "\n".join(hits)


def test_no_built_page_uses_article_labels(site: Path) -> None:
    tag = re.compile(r"<[^>]+>")
    for page in _pages(site):
        text = tag.sub(" ", page.read_text(encoding="utf-8"))
        match = BAD_REFERENCE.search(text)
        assert match is None, f"{page.relative_to(site)}: {match.group(0) if match else ''}"


def test_references_page_lists_the_cited_literature() -> None:
    text = (ROOT / "docs" / "references.md").read_text(encoding="utf-8")
    for cited in (
        "Buttle, F. (2009)",
        "Peppers, D. & Rogers, M. (2004)",
        "Payne, A. & Frow, P. (2005)",
        "Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987)",
        "Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005a)",
    ):
        assert cited in text


@pytest.mark.parametrize("page", ["clv_bgnbd", "retention"])
def test_formulas_render_in_a_headless_browser(site: Path, page: str) -> None:
    """In a real browser (Debian's ``chromium``, which ``.ci/run`` installs; required in CI)."""
    import os
    import shutil

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed")
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=5000",
            "--dump-dom",
            (site / page / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count('class="katex"') > 3
    assert "katex-error" not in proc.stdout
