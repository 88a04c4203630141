"""The HTML report of ``analyze``: self-contained, every section, skipped steps, escaping."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmmodels as crm
from crmmodels.analysis._report_figures import png_size
from crmmodels.datasets import load_cdnow_sample
from crmmodels.errors import ArgumentError

SECTIONS = [
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
]
#: sections that show a figure when their step ran (else a "Skipped: ..." paragraph)
FIGURE_SECTIONS = ["model-selection", "clv", "quadrants", "portfolio", "lifecycle", "retention"]


class Page(HTMLParser):
    """The parts of a report page the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.section: str | None = None
        self.text: dict[str, list[str]] = {}
        self.images: dict[str, list[dict[str, str]]] = {}
        self.skipped: dict[str, list[str]] = {}
        self.style = ""
        self.tables: dict[str, list[list[str]]] = {}
        self._in: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._skip_text: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        self._in.append(tag)
        if tag == "section":
            self.section = a["id"]
            self.text[self.section] = []
        elif tag == "img" and self.section is not None:
            self.images.setdefault(self.section, []).append(a)
        elif tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "p" and "skipped" in a.get("class", "").split():
            self._skip_text = []

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "p" and self._skip_text is not None:
            self.skipped.setdefault(self.section or "", []).append("".join(self._skip_text))
            self._skip_text = None
        elif tag == "section":
            self.section = None

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
        if self.section is not None:
            self.text[self.section].append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._skip_text is not None:
            self._skip_text.append(data)

    def section_text(self, section: str) -> str:
        return " ".join(" ".join(self.text[section]).split())

    def section_ids(self) -> list[str]:
        return [a["id"] for tag, a in self.tags if tag == "section"]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_cdnow_sample()


@pytest.fixture(scope="module")
def result(sample: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(sample, amount_col="amount")


@pytest.fixture(scope="module")
def report_text(result: crm.CustomerAnalysis, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = result.report(tmp_path_factory.mktemp("report") / "report.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(report_text: str) -> Page:
    return Page(report_text)


@pytest.fixture(scope="module")
def one_time_buyers() -> pd.DataFrame:
    """A log where nobody bought twice (no model can be fitted)."""
    return pd.DataFrame(
        {
            "customer_id": ["<script>alert(1)</script>", "b", "c", "d", "e"],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-02-01", "2024-03-01", "2024-04-01", "2024-04-20"]
            ),
            "amount": [90.0, 20.0, 30.0, 40.0, 0.0],
        }
    )


def _first_by(table: pd.DataFrame, column: str) -> pd.Series:
    """The row of highest ``column`` (the first one on ties)."""
    values = table[column].to_numpy(dtype="float64")
    return table.iloc[int(np.nanargmax(values))]


def test_every_section_is_present_in_order(page: Page) -> None:
    assert page.section_ids() == SECTIONS
    nav = [a["href"] for tag, a in page.tags if tag == "a"]
    assert nav == [f"#{s}" for s in SECTIONS]


def test_the_file_is_self_contained(page: Page, report_text: str) -> None:
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "data", "poster"):
            value = attrs.get(name, "")
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value[:80])
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
        if tag == "a":
            assert attrs["href"].startswith("#")
        if tag == "link":
            assert attrs["rel"] == "icon" and attrs["href"] == "data:,"
        assert tag not in ("script", "iframe", "object", "embed", "base", "form")
    assert "@import" not in page.style
    assert "url(" not in page.style
    assert "http://" not in report_text and "https://" not in report_text


def test_the_content_security_policy_allows_only_the_inline_style_and_data_images(
    page: Page,
) -> None:
    metas = [a for tag, a in page.tags if tag == "meta" and a.get("http-equiv")]
    assert [m["http-equiv"] for m in metas] == ["Content-Security-Policy"]
    # the policy comes before the style sheet it allows
    names = [tag for tag, _ in page.tags]
    assert names.index("meta") < names.index("style")
    directives = dict(d.strip().split(" ", 1) for d in metas[0]["content"].split(";"))
    digest = base64.b64encode(hashlib.sha256(page.style.encode("utf-8")).digest()).decode()
    assert directives == {
        "default-src": "'none'",
        "img-src": "data:",
        "style-src": f"'sha256-{digest}'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }


def test_every_figure_is_a_png_of_its_stated_size(page: Page, result) -> None:
    images = [img for imgs in page.images.values() for img in imgs]
    assert len(images) >= 6
    for img in images:
        data = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        width, height = png_size(data)
        assert (width, height) == (int(img["width"]), int(img["height"]))
        assert 300 <= width <= 1200 and 200 <= height <= 900
        assert img["alt"]


def test_a_figure_or_the_reason_it_is_missing_in_each_section(page: Page, result) -> None:
    skipped_steps = {s.name: s.detail for s in result.steps.skipped}
    for section in FIGURE_SECTIONS:
        has_figure = bool(page.images.get(section))
        has_reason = bool(page.skipped.get(section))
        assert has_figure != has_reason, section
    # the model selection is skipped on this log today or shows its table and plot
    if result.model_selection is None:
        reason = skipped_steps["Model selection"].rstrip(".")
        assert page.skipped["model-selection"] == [f"Skipped: {reason}."]
    else:
        assert "model-table" in page.tables


def test_the_top_customers_table(page: Page, result) -> None:
    customers = result.customers
    rows = page.tables["top-customers"]
    assert len(rows) == 1 + 20
    header = rows[0]
    assert header[:3] == ["customer_id", "CLV", "rank"]
    best = _first_by(customers, "clv")
    assert rows[1][0] == str(best["customer_id"])
    assert rows[1][1] == f"{best['clv']:,.2f}"
    assert rows[1][2] == "1"
    assert rows[1][header.index("total value")] == f"{best['total_value']:,.2f}"
    assert rows[1][header.index("RFM segment")] == best["rfm_segment"]
    assert rows[1][header.index("quadrant")] == best["quadrant"]
    # ordered by CLV
    clv = [float(r[1].replace(",", "")) for r in rows[1:]]
    assert clv == sorted(clv, reverse=True)
    assert clv[-1] == pytest.approx(customers["clv"].nlargest(20).iloc[-1], abs=0.005)


def test_the_key_figures_and_checks_are_the_analysis_figures(page: Page, result) -> None:
    text = page.section_text("key-figures")
    for label, value in result.key_figures.lines():
        assert f"{label} {value}" in text
    checks = page.section_text("data-checks")
    assert f"Rows read {result.checks.n_rows:,}" in checks
    assert f"Period {result.checks.first_date} to {result.checks.last_date}" in checks
    steps = page.tables["steps"]
    assert [r[0] for r in steps[1:]] == [s.name for s in result.steps.steps]
    assert [r[1] for r in steps[1:]] == [s.status for s in result.steps.steps]


def test_the_class_table_adds_up(page: Page, result) -> None:
    rows = page.tables["class-table"]
    assert [r[0] for r in rows[1:]] == ["A", "B", "C"]
    counts = [int(r[1].replace(",", "")) for r in rows[1:]]
    assert counts == list(result.portfolio.class_counts)
    value = result.customers.groupby("value_class")["total_value"].sum()
    assert [r[3] for r in rows[1:]] == [f"{value[c]:,.2f}" for c in "ABC"]


def test_the_assumptions_and_the_reproducing_call(page: Page, result) -> None:
    text = page.section_text("assumptions")
    for sentence in result.settings.assumptions():
        assert sentence in text
    assert result.settings.python_call("transactions") in text
    assert result.settings.command_line("transactions.csv") in text
    assert "Holdout:" in text


def test_print_layout(page: Page) -> None:
    style = " ".join(page.style.split())
    media = style[style.index("@media print") :]
    assert "section { border-bottom: none; break-before: page; }" in media
    assert "break-inside: avoid" in media


def test_skipped_steps_on_a_log_where_nobody_bought_twice(one_time_buyers, tmp_path) -> None:
    result = crm.analyze(one_time_buyers)
    page = Page(result.report(tmp_path / "r.html").read_text(encoding="utf-8"))
    assert page.section_ids() == SECTIONS
    details = {s.name: s.detail for s in result.steps.skipped}
    assert {"Model selection", "CLV", "CLV quadrants"} <= set(details)
    for section, step in [
        ("model-selection", "Model selection"),
        ("clv", "CLV"),
        ("quadrants", "CLV quadrants"),
    ]:
        assert page.skipped[section][0] == f"Skipped: {details[step].rstrip('.')}."
        assert section not in page.images
    # the steps that ran still show their figures
    for section in ("portfolio", "lifecycle", "retention", "rfm"):
        assert len(page.images[section]) == 1
    # without CLV the top customers are ranked by total value
    rows = page.tables["top-customers"]
    assert rows[1][0] == "<script>alert(1)</script>"
    assert "n/a" in page.section_text("key-figures")
    # the transaction model's failure is stated under the model selection
    text = page.section_text("model-selection")
    assert "no customer made a repeat purchase" in text


def test_values_are_escaped(one_time_buyers, tmp_path) -> None:
    log = one_time_buyers.rename(columns={"customer_id": "<i>id</i>"})
    result = crm.analyze(log, customer_col="<i>id</i>")
    text = result.report(tmp_path / "r.html", source="<b>log</b>.csv").read_text(encoding="utf-8")
    page = Page(text)
    names = {tag for tag, _ in page.tags}
    assert "script" not in names and "i" not in names and "b" not in names
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    rows = page.tables["top-customers"]
    assert rows[0][0] == "<i>id</i>"
    assert rows[1][0] == "<script>alert(1)</script>"
    assert "'<b>log</b>.csv'" in page.section_text("assumptions")


def test_the_report_of_a_polars_log(sample, result, tmp_path) -> None:
    pl = pytest.importorskip("polars")
    polars_result = crm.analyze(pl.from_pandas(sample), amount_col="amount")
    page = Page(polars_result.report(tmp_path / "r.html").read_text(encoding="utf-8"))
    assert page.section_ids() == SECTIONS
    best = _first_by(result.customers, "clv")
    assert page.tables["top-customers"][1][0] == str(best["customer_id"])
    assert len(page.tables["top-customers"]) == 21


@dataclasses.dataclass(frozen=True)
class _Selection:
    """A model selection as the report reads it: a table, the choice, a reason, a plot."""

    table: pd.DataFrame
    chosen: str = "ParetoNBD"
    reason: str = "ParetoNBD: lowest holdout RMSE per customer (0.93 against 0.95 for BGNBD)."
    criterion: str = "rmse"
    holdout: float = 26.0
    holdout_rule: str = "the last third of the log, in whole weeks (26 weeks)."

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        ax.plot([0, 1, 2], [0, 5, 9], label="actual")
        ax.axvline(1.0)
        return ax


def test_the_model_selection_table_comes_from_to_frame(result, tmp_path) -> None:
    table = pd.DataFrame(
        {
            "model": ["BGNBD", "ParetoNBD", "MBGNBD"],
            "status": ["converged", "converged", "failed: <no optimum>"],
            "log_likelihood": [-9582.341, -9577.02, np.nan],
            "rmse": [0.95, 0.93, np.nan],
            "curve_mape": [0.051, 0.032, np.nan],
            "new_metric": [1, 2, 3],
        }
    )
    with_selection = dataclasses.replace(result, model_selection=_Selection(table))
    page = Page(with_selection.report(tmp_path / "r.html").read_text(encoding="utf-8"))
    rows = page.tables["model-table"]
    assert rows[0] == [
        "model",
        "status",
        "log-likelihood",
        "RMSE",
        "curve error (mean)",
        "new_metric",
    ]
    assert rows[1] == ["BGNBD", "converged", "-9,582.3", "0.95", "5.1%", "1"]
    assert rows[3] == ["MBGNBD", "failed: <no optimum>", "–", "–", "–", "3"]
    text = page.section_text("model-selection")
    assert "ParetoNBD: lowest holdout RMSE per customer" in text
    assert "Holdout rule the last third of the log" in text
    assert "Holdout 26 weeks" in text
    assert len(page.images["model-selection"]) == 1
    assert "model-selection" not in page.skipped
    assert "Holdout: the last third of the log" in page.section_text("assumptions")


def test_the_chosen_model_is_highlighted(result, tmp_path) -> None:
    table = pd.DataFrame({"model": ["BGNBD", "ParetoNBD"], "rmse": [0.95, 0.93]})
    with_selection = dataclasses.replace(result, model_selection=_Selection(table))
    text = with_selection.report(tmp_path / "r.html").read_text(encoding="utf-8")
    body = text[text.index('id="model-table"') :]
    body = body[: body.index("</table>")]
    assert re.findall(r'<tr class="marked"><td>([^<]*)</td>', body) == ["ParetoNBD"]


def test_report_takes_one_argument_and_names_the_source(result, tmp_path) -> None:
    path = result.report(str(tmp_path / "report.html"))
    assert path == tmp_path / "report.html" and path.is_file()
    text = result.report(tmp_path / "r2.html", source="data/my log.csv").read_text(encoding="utf-8")
    assert "crmmodels analyze &#39;data/my log.csv&#39; --customer-col customer_id" in text
    assert "data: data/my log.csv" in text


def test_bad_paths_and_sources(result, tmp_path) -> None:
    with pytest.raises(ArgumentError, match="does not exist"):
        result.report(tmp_path / "missing" / "report.html")
    with pytest.raises(ArgumentError, match="is a folder"):
        result.report(tmp_path)
    with pytest.raises(ArgumentError, match="path must be a file path"):
        result.report(3)
    with pytest.raises(ArgumentError, match="source must be"):
        result.report(tmp_path / "r.html", source=Path("x.csv"))
    assert not (tmp_path / "r.html").exists()


def test_no_figure_is_left_open(result, tmp_path) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    result.report(tmp_path / "r.html")
    assert plt.get_fignums() == before


def test_the_clv_histogram_keeps_vanishing_values_in_its_first_bar() -> None:
    from matplotlib.figure import Figure

    from crmmodels.plotting.analysis import plot_clv_distribution

    rng = np.random.default_rng(3)
    clv = np.concatenate([rng.lognormal(3.0, 1.0, 995), [1e-12, 1e-9, 1e-6, 0.0, -1.0]])
    ax = plot_clv_distribution(clv, ax=Figure().add_subplot())
    positive = clv[clv > 0]
    low = np.sort(positive)[int(0.005 * (positive.size - 1))]
    assert ax.get_xlim()[0] > 1e-3  # not stretched down to 1e-12
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == positive.size
    assert ax.get_title() == (
        f"CLV of 1,000 customers (2 at 0 not shown; {int((positive < low).sum())} below "
        f"{low:.3g} in the first bar)"
    )
    with pytest.raises(ArgumentError, match="low_quantile"):
        plot_clv_distribution(clv, ax=Figure().add_subplot(), low_quantile=0.9)


def test_what_was_set_aside_is_stated_and_true(page: Page, result) -> None:
    text = page.section_text("data-checks")
    spend = result.models["GammaGamma"]
    checks = result.checks
    assert f"fitted on the {int(spend.n_customers_):,} repeat buyers" in text
    assert f"the {checks.n_one_time_buyers:,} one-time buyers get the expected spend" in text
    table = result.customers
    once = table.loc[table["frequency"] == 0, "expected_spend"].to_numpy()
    assert once.size == checks.n_one_time_buyers
    np.testing.assert_allclose(once, once[0], rtol=1e-12)  # one value: the population's
    zero = checks.n_zero_value_customers
    assert (f"{zero:,} customers spent nothing" in text) == (zero > 0)
