"""The report of an engine run: every section, drawn from aggregates computed on the engine.

``analyze`` on a DuckDB relation or a lazy polars frame keeps the customer table on the
engine; its report draws the CLV histogram, the quadrant counts, the Lorenz curve with
the A/B/C classes, the lifecycle mix and the RFM segments from small aggregates of that
table. Each aggregate is checked against the same figure computed with pandas/numpy from
the table collected (exactly) and against the pandas run's report.
"""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import pytest
from test_report import SECTIONS, Page
from test_report import (
    test_the_content_security_policy_allows_only_the_inline_style_and_data_images as check_policy,
)
from test_report import test_the_file_is_self_contained as check_self_contained

import crmmodels as crm
from crmmodels.analysis._engine_figures import CLV_BINS, LORENZ_POINTS, engine_figures
from crmmodels.datasets import load_cdnow, load_cdnow_sample

from _engines import to_engine

END = "1998-06-30"
ENGINES = ["duckdb", "polars_lazy", "dask"]
#: sections that show a figure on an engine run as on a pandas run
FIGURE_SECTIONS = [
    "model-selection",
    "clv",
    "quadrants",
    "portfolio",
    "lifecycle",
    "retention",
    "rfm",
]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return load_cdnow()[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def reference(log: pd.DataFrame) -> crm.CustomerAnalysis:
    return crm.analyze(log, observation_end=END)


@pytest.fixture(scope="module")
def reference_page(reference, tmp_path_factory) -> Page:
    path = reference.report(tmp_path_factory.mktemp("pandas") / "report.html")
    return Page(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=ENGINES)
def run(request: Any, log: pd.DataFrame, tmp_path_factory) -> dict[str, Any]:
    """The engine run, its report (rows collected while it is written) and its figures."""
    result = crm.analyze(to_engine(log, request.param), observation_end=END)
    collected: list[int] = []
    real = nw.LazyFrame.collect

    def counting(self: Any, *args: Any, **kw: Any) -> Any:
        out = real(self, *args, **kw)
        collected.append(len(out))
        return out

    path = tmp_path_factory.mktemp(request.param) / "report.html"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nw.LazyFrame, "collect", counting)
        result.report(path)
    text = path.read_text(encoding="utf-8")
    figures = engine_figures(nw.from_native(result.customers), "customer_id")
    return {
        "result": result,
        "text": text,
        "page": Page(text),
        "rows": collected,
        "figures": figures,
        "table": result.to_frame(),
    }


def test_every_section_is_present_and_none_is_skipped(run) -> None:
    page = run["page"]
    assert page.section_ids() == SECTIONS
    assert page.skipped == {}
    for section in FIGURE_SECTIONS:
        assert len(page.images[section]) == 1, section
    for table in ("top-customers", "quadrant-table", "class-table", "lifecycle-table"):
        assert table in page.tables
    assert {"relationship-table", "rfm-table", "model-table"} <= set(page.tables)
    quadrants = page.section_text("quadrants")
    assert "A scatter of every customer is not drawn" in quadrants


def test_the_report_opens_offline(run) -> None:
    check_self_contained(run["page"], run["text"])
    check_policy(run["page"])
    assert "http://" not in run["text"] and "https://" not in run["text"]


def test_the_clv_histogram_is_numpys_of_the_collected_clv(run) -> None:
    hist = run["figures"].clv
    clv = run["table"]["clv"].to_numpy(dtype="float64")
    positive = clv[clv > 0]
    low = np.quantile(positive, 0.005, method="lower")
    expected_edges = np.geomspace(low, positive.max(), CLV_BINS)
    np.testing.assert_array_equal(hist.edges, expected_edges)
    counts, _ = np.histogram(np.clip(positive, low, None), bins=hist.edges)
    assert hist.counts.tolist() == counts.tolist()
    assert (hist.n_values, hist.n_positive) == (clv.size, positive.size)
    assert hist.n_low == int((positive < low).sum())
    assert hist.mean == pytest.approx(clv.mean(), rel=1e-12)


def test_the_clv_histogram_agrees_with_the_pandas_run(run, reference) -> None:
    """The pandas run's CLV differ in the last digits (module docstring of the engine
    test): with the engine's edges, at most a customer or two change bars."""
    hist = run["figures"].clv
    clv = reference.customers["clv"].to_numpy(dtype="float64")
    positive = clv[clv > 0]
    counts, _ = np.histogram(np.clip(positive, hist.edges[0], None), bins=hist.edges)
    assert np.abs(counts - hist.counts).sum() <= 2
    assert hist.counts.sum() == positive.size


def test_the_top_customers_are_the_pandas_reports(run, reference_page) -> None:
    rows = run["page"].tables["top-customers"]
    assert rows == reference_page.tables["top-customers"]
    assert len(rows) == 21


def test_the_lorenz_points_are_the_pandas_curve(run, reference) -> None:
    lorenz = run["figures"].lorenz
    curve = reference.portfolio.lorenz
    assert len(lorenz.customer_share) == LORENZ_POINTS + 1
    np.testing.assert_array_equal(
        lorenz.customer_share, np.arange(LORENZ_POINTS + 1) / LORENZ_POINTS
    )
    expected = np.interp(lorenz.customer_share, curve["customer_share"], curve["lorenz"])
    np.testing.assert_allclose(lorenz.lorenz, expected, rtol=0, atol=1e-9)


def test_label_counts_are_the_tables_value_counts(run, reference) -> None:
    figures, table = run["figures"], run["table"]
    pandas_table = reference.customers
    for attr, column in (
        ("lifecycle", "lifecycle_stage"),
        ("relationship", "relationship_stage"),
        ("rfm", "rfm_segment"),
        ("classes", "value_class"),
        ("quadrants", "quadrant"),
    ):
        counts = getattr(figures, attr).set_index(column)["customers"]
        counts = counts[counts > 0].to_dict()
        assert counts == table[column].astype(str).value_counts().to_dict(), column
        assert counts == pandas_table[column].astype(str).value_counts().to_dict(), column
        value = getattr(figures, attr).set_index(column)["value"].dropna()
        sums = pandas_table.groupby(column, observed=True)["total_value"].sum()
        np.testing.assert_allclose(value.to_numpy(), sums.reindex(value.index), rtol=1e-9)


def test_the_tables_equal_the_pandas_reports(run, reference_page) -> None:
    """Class, lifecycle, relationship and RFM tables are the pandas report's, cell for cell
    (rows with equal counts may come in another order)."""
    for table in ("class-table", "lifecycle-table", "relationship-table", "rfm-table"):
        rows, expected = run["page"].tables[table], reference_page.tables[table]
        assert rows[0] == expected[0], table
        assert sorted(rows[1:]) == sorted(expected[1:]), table
    rows = run["page"].tables["quadrant-table"]
    expected = reference_page.tables["quadrant-table"]
    # customers, their share, the current value (kept as aggregates by analyze) and the
    # potential value (CLV) per quadrant; the engine table adds the total value
    assert [r[:3] for r in rows] == [e[:3] for e in expected]
    assert [r[4] for r in rows] == [e[3] for e in expected]
    assert [r[5] for r in rows] == [e[4] for e in expected]
    assert rows[0][3] == "total value"


def test_the_section_texts_match_the_pandas_report(run, reference_page, reference) -> None:
    page = run["page"]
    assert (
        page.section_text("portfolio").split(" Lorenz curve:")[0]
        == (reference_page.section_text("portfolio").split(" Lorenz curve:")[0])
    )
    q = reference.quadrants
    threshold = f"current {q.current_threshold:,.2f}, potential {q.potential_threshold:,.2f}"
    assert threshold in page.section_text("quadrants")
    clv = page.section_text("clv")
    assert clv.startswith(reference_page.section_text("clv").split(" Distribution")[0])


def test_only_aggregates_are_collected_for_the_report(run) -> None:
    rows = run["rows"]
    n_customers = run["result"].key_figures.n_customers
    # the largest collect is the Lorenz curve's positions: two per share at most
    assert max(rows) <= 2 * (LORENZ_POINTS + 1)
    assert sum(rows) <= 2 * (LORENZ_POINTS + 1) + 100 < n_customers


def test_a_small_engine_log_where_nobody_bought_twice(tmp_path) -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-02-01", "2024-03-01", "2024-04-01", "2024-04-20"]
            ),
            "amount": [90.0, 20.0, 30.0, 40.0, 0.0],
        }
    )
    result = crm.analyze(to_engine(log, "duckdb"))
    page = Page(result.report(tmp_path / "r.html").read_text(encoding="utf-8"))
    assert page.section_ids() == SECTIONS
    details = {s.name: s.detail for s in result.steps.skipped}
    for section, step in (("clv", "CLV"), ("quadrants", "CLV quadrants")):
        assert page.skipped[section][0] == f"Skipped: {details[step].rstrip('.')}."
    for section in ("portfolio", "lifecycle", "rfm"):
        assert len(page.images[section]) == 1, section
    lorenz = engine_figures(nw.from_native(result.customers), "customer_id").lorenz
    np.testing.assert_allclose(lorenz.customer_share, np.arange(6) / 5)  # every customer
    np.testing.assert_allclose(lorenz.lorenz, [0, 0, 20 / 180, 50 / 180, 90 / 180, 1.0])
    rows = page.tables["top-customers"]
    assert rows[1][0] == "a"  # by total value without CLV


@pytest.mark.spark
def test_the_report_of_a_spark_run(tmp_path) -> None:
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark needs java, which is not installed")
    pytest.importorskip("pyspark")
    sample = load_cdnow_sample()[["customer_id", "date", "amount"]]
    result = crm.analyze(to_engine(sample, "pyspark"))
    page = Page(result.report(tmp_path / "r.html").read_text(encoding="utf-8"))
    assert page.section_ids() == SECTIONS
    assert page.skipped == {}
    ref = crm.analyze(sample)
    expected = Page(ref.report(tmp_path / "p.html").read_text(encoding="utf-8"))
    assert page.tables["top-customers"] == expected.tables["top-customers"]
    assert sorted(page.tables["class-table"]) == sorted(expected.tables["class-table"])
