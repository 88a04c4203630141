"""Portfolio, quality, basket, pricing and scorecard: one vocabulary, results one way.

The portfolio value column is ``amount_col`` (old name ``value_col`` kept with a
FutureWarning), and every analysis returns a frozen result with ``to_frame()``, a short
repr and a ``plot()`` that returns the Axes.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import crmmodels
from crmmodels.errors import ArgumentError
from crmmodels.portfolio import ParetoResult, pareto_analysis

# ------------------------------------------------------------------ portfolio names


def _tx() -> pd.DataFrame:
    return pd.DataFrame({"c": [1, 1, 2, 3, 4], "v": [10.0, 5.0, 30.0, 2.0, 1.0]})


def test_pareto_analysis_takes_amount_col() -> None:
    r = pareto_analysis(_tx(), amount_col="v", customer_col="c")
    assert r.amount_col == "v"
    assert list(r.classes.columns[:2]) == ["c", "v"]
    assert "amount_col" in r.to_dict() and "value_col" not in r.to_dict()


def test_old_value_col_argument_warns_and_gives_the_same_result() -> None:
    new = pareto_analysis(_tx(), amount_col="v", customer_col="c")
    with pytest.warns(FutureWarning, match="'value_col' is now called 'amount_col'"):
        old = pareto_analysis(_tx(), value_col="v", customer_col="c")
    pd.testing.assert_frame_equal(old.classes, new.classes)
    with pytest.raises(ArgumentError, match="give 'amount_col' only"):
        pareto_analysis(_tx(), value_col="v", amount_col="v", customer_col="c")


def test_old_value_col_attribute_warns() -> None:
    r = pareto_analysis(_tx(), amount_col="v", customer_col="c")
    with pytest.warns(FutureWarning, match="value_col is now called amount_col"):
        assert r.value_col == "v"
    assert "value_col" not in {f.name for f in dataclasses.fields(ParetoResult)}


def test_portfolio_is_a_package_with_the_same_public_names() -> None:
    import crmmodels.portfolio as portfolio

    assert portfolio.__all__ == ["ParetoResult", "pareto_analysis"]
    assert crmmodels.pareto_analysis is pareto_analysis
    assert pareto_analysis([3.0, 1.0]).n_customers == 2


# ------------------------------------------------------------------ results one way


def _assert_result(res: object, rows: int) -> None:
    from crmmodels._results import Result

    assert isinstance(res, Result)
    assert dataclasses.is_dataclass(res)
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == rows
    assert frame is not res.to_frame()  # a copy on every call
    text = repr(res)
    assert text.startswith(type(res).__name__ + "(") and f"rows={rows}" in text
    assert len(text) < 300
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_rows = 0  # type: ignore[attr-defined]


def _prices() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["a"] * 4 + ["b"] * 4,
            "p": [1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 4.0, 1.0],
            "q": [16.0, 4.0, 1.0, 4.5, 8.0, 4.0, 2.0, 7.5],
        }
    )


def test_price_elasticity_returns_a_result() -> None:
    from crmmodels.pricing import ElasticityResult, price_elasticity

    res = price_elasticity(_prices(), price_col="p", quantity_col="q", group_col="sku")
    assert isinstance(res, ElasticityResult)
    _assert_result(res, 2)
    assert res.group_col == ("sku",) and res.price_col == "p" and res.quantity_col == "q"
    assert res.ci_level == 0.95 and res.n_groups == 2 and res.n_without_elasticity == 0
    assert res.to_frame()["sku"].tolist() == ["a", "b"]
    assert res.to_dict()["group_col"] == ["sku"]


def test_elasticity_plot_uses_the_result_columns() -> None:
    from crmmodels.plotting.pricing import plot_demand_curves
    from crmmodels.pricing import price_elasticity

    tx = _prices()
    res = price_elasticity(tx, price_col="p", quantity_col="q", group_col="sku")
    ax = res.plot(data=tx)
    assert ax.get_xlabel() == "p" and ax.get_ylabel() == "q"
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2
    # the plotting function takes the result or its frame
    ax2 = plot_demand_curves(res.to_frame(), data=tx, price_col="p", quantity_col="q",
                             group_col="sku")  # fmt: skip
    assert len(ax2.get_lines()) == 2


def test_elasticity_plot_with_two_group_columns() -> None:
    from crmmodels.pricing import price_elasticity

    tx = pd.concat([_prices().assign(region="n"), _prices().assign(region="s")])
    res = price_elasticity(tx, price_col="p", quantity_col="q", group_col=["sku", "region"])
    ax = res.plot(data=tx)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("a, n: e = ") and len(labels) == 4


# ------------------------------------------------------------------ basket results


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order": [1, 1, 2, 2, 2, 3, 4, 4, 5, 5],
            "item": ["tea", "cake", "tea", "cake", "jam", "tea", "pen", "tea", "cake", "tea"],
            "customer": [7, 7, 7, 7, 7, 8, 9, 9, 8, 8],
            "seg": ["a", "a", "a", "a", "a", "b", "b", "b", "b", "b"],
        }
    )


def test_frequent_itemsets_returns_a_result() -> None:
    from crmmodels.basket import ItemsetsResult, frequent_itemsets

    fi = frequent_itemsets(_log(), basket_col="order", item_col="item", min_support=0.4)
    assert isinstance(fi, ItemsetsResult)
    _assert_result(fi, 3)
    assert (fi.n_baskets, fi.n_items, fi.n_itemsets) == (5, 4, 3)
    assert fi.min_support == 0.4 and fi.max_len is None
    table = fi.to_frame()
    assert list(table.columns) == ["itemsets", "support"]
    assert table.attrs["n_baskets"] == 5
    assert table["itemsets"].tolist()[-1] == frozenset({"tea", "cake"})
    table.loc[0, "support"] = 0.0  # the copy is the caller's; the result is unchanged
    assert fi.itemsets.loc[0, "support"] == 1.0
    ax = fi.plot(n=2)
    assert len(ax.patches) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["tea", "cake"]  # best on top


def test_rules_and_bundles_take_the_itemsets_result_or_its_frame() -> None:
    from crmmodels.basket import association_rules, bundle_candidates, frequent_itemsets

    fi = frequent_itemsets(_log(), basket_col="order", item_col="item", min_support=0.2)
    from_result = association_rules(fi, min_threshold=0.0)
    from_frame = association_rules(fi.to_frame(), min_threshold=0.0)
    pd.testing.assert_frame_equal(from_result.to_frame(), from_frame.to_frame())
    b1 = bundle_candidates(fi, min_lift=1.0)
    b2 = bundle_candidates(fi.to_frame(), min_lift=1.0)
    pd.testing.assert_frame_equal(b1.to_frame(), b2.to_frame())
    assert b1.n_bundles > 0


def test_association_rules_returns_a_result() -> None:
    from crmmodels.basket import RulesResult, association_rules
    from crmmodels.plotting.basket import plot_rules, plot_top_rules

    rules = association_rules(
        _log(), basket_col="order", item_col="item", min_support=0.2, metric="lift",
        min_threshold=1.0,
    )  # fmt: skip
    assert isinstance(rules, RulesResult)
    _assert_result(rules, rules.n_rules)
    assert rules.metric == "lift" and rules.min_threshold == 1.0 and rules.segment_col is None
    assert rules.to_frame()["lift"].is_monotonic_decreasing
    scatter = rules.plot()
    assert scatter.collections[0].get_offsets().shape == (rules.n_rules, 2)
    top = rules.plot(kind="top", n=2, metric="confidence")
    assert len(top.patches) == 2 and top.get_xlabel() == "confidence"
    with pytest.raises(ArgumentError, match="kind"):
        rules.plot(kind="bars")
    # the plotting functions take the result or its table
    assert len(plot_top_rules(rules.to_frame(), n=2).patches) == 2
    assert plot_rules(rules.to_frame()).get_xlabel() == "support"


def test_rules_by_segment_is_a_rules_result_with_its_segment_column() -> None:
    from crmmodels.basket import RulesResult, association_rules_by_segment, cross_sell

    tx = _log()
    rules = association_rules_by_segment(
        tx, segment_col="seg", basket_col="order", item_col="item", min_support=0.3,
        min_threshold=0.5,
    )  # fmt: skip
    assert isinstance(rules, RulesResult) and rules.segment_col == "seg"
    assert rules.to_frame().columns[0] == "seg"
    assert rules.plot().get_ylabel() == "confidence"
    by_result = cross_sell(tx, rules, customer_col="customer", segment_col="seg")
    by_frame = cross_sell(tx, rules.to_frame(), customer_col="customer", segment_col="seg")
    pd.testing.assert_frame_equal(by_result.suggestions, by_frame.suggestions)


def test_cross_sell_takes_rules_results_in_a_mapping() -> None:
    from crmmodels.basket import association_rules, cross_sell

    tx = _log()
    per_segment = {
        seg: association_rules(
            part, basket_col="order", item_col="item", min_support=0.3, min_threshold=0.5
        )
        for seg, part in tx.groupby("seg")
    }
    got = cross_sell(tx, per_segment, customer_col="customer", segment_col="seg")
    frames = {seg: r.to_frame() for seg, r in per_segment.items()}
    want = cross_sell(tx, frames, customer_col="customer", segment_col="seg")
    pd.testing.assert_frame_equal(got.suggestions, want.suggestions)
    pd.testing.assert_frame_equal(got.rules, want.rules)
    with pytest.raises(crmmodels.errors.SchemaError, match="RulesResult"):
        cross_sell(tx, [1, 2], customer_col="customer")  # type: ignore[arg-type]


def test_cross_sell_keeps_the_rules_table_it_used() -> None:
    from crmmodels.basket import association_rules, cross_sell

    tx = _log()
    rules = association_rules(
        tx, basket_col="order", item_col="item", min_support=0.2, min_threshold=0.5
    )
    cs = cross_sell(tx, rules, customer_col="customer")
    pd.testing.assert_frame_equal(cs.rules, rules.to_frame())
    assert cs.n_customers == 3 and cs.plot().get_xlabel() == "support"


def test_bundle_candidates_result_and_its_old_name() -> None:
    import crmmodels.basket as basket

    b = basket.bundle_candidates(
        _log(), basket_col="order", item_col="item", min_support=0.2, min_lift=1.0
    )
    assert type(b) is basket.BundleCandidatesResult
    with pytest.warns(FutureWarning, match="now called BundleCandidatesResult"):
        assert basket.BundleCandidates is basket.BundleCandidatesResult
    assert "BundleCandidatesResult" in basket.__all__
    _assert_result(b, b.n_bundles)
    assert len(b.plot().patches) == b.n_bundles


# ------------------------------------------------------------------ every plot from a result


def _plotting_functions() -> set[str]:
    import importlib

    names = set()
    for area in ("basket", "portfolio", "pricing", "quality", "scorecard"):
        mod = importlib.import_module(f"crmmodels.plotting.{area}")
        names |= {f"{area}.{n}" for n in mod.__all__}
    return names


def test_every_plot_of_the_area_is_drawn_by_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from crmmodels.basket import association_rules, bundle_candidates, frequent_itemsets
    from crmmodels.datasets import simulate_survey
    from crmmodels.pricing import price_elasticity, van_westendorp
    from crmmodels.quality import cronbach_alpha, relationship_quality
    from crmmodels.scorecard import kpi_scorecard

    called: set[str] = set()
    for qual in _plotting_functions():
        area, name = qual.split(".")
        mod = importlib.import_module(f"crmmodels.plotting.{area}")

        def record(*args: object, _qual: str = qual, **kwargs: object) -> str:
            called.add(_qual)
            return _qual

        monkeypatch.setattr(mod, name, record)

    tx = _log()
    fi = frequent_itemsets(tx, basket_col="order", item_col="item", min_support=0.2)
    rules = association_rules(fi, min_threshold=0.0)
    fi.plot()
    rules.plot()
    rules.plot(kind="top")
    bundle_candidates(fi, min_lift=1.0).plot()
    portfolio = pareto_analysis(
        _tx().assign(p=[1, 2, 1, 2, 1]), amount_col="v", customer_col="c", period_col="p"
    )
    for kind in ("pareto", "lorenz", "trend"):
        portfolio.plot(kind=kind)
    prices = _prices()
    price_elasticity(prices, price_col="p", quantity_col="q").plot()
    van_westendorp([1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]).plot()
    sim = simulate_survey(30, seed=1)
    rq = relationship_quality(
        sim.survey, constructs=sim.constructs, reverse=sim.reverse,
        respondent_col="respondent_id", side_col="side", relationship_col="relationship_id",
    )  # fmt: skip
    for kind in ("profile", "items", "gap"):
        rq.plot(kind=kind)
    cronbach_alpha(sim.survey[list(sim.constructs["trust"])]).plot()
    sales = pd.DataFrame(
        {"customer_id": [1, 2], "date": ["2024-01-05", "2024-02-03"], "amount": [1.0, 2.0]}
    )
    kpi_scorecard(sales).plot()
    assert called == _plotting_functions()


# ------------------------------------------------------------------ layout of the area

_AREA = ("portfolio", "quality", "basket", "pricing", "scorecard.py", "plotting/basket.py")


def _area_modules() -> list[Path]:
    root = Path(crmmodels.__file__).parent
    found: list[Path] = []
    for name in _AREA:
        path = root / name
        found += sorted(path.glob("*.py")) if path.is_dir() else [path]
    return found


@pytest.mark.parametrize("path", _area_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_functions_read_as_named_steps(path: Path) -> None:
    """No function of the area is longer than 100 lines of code (its docstring aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                first = node.body[0]
                lines -= first.end_lineno - first.lineno + 1  # type: ignore[operator]
            if lines > 100:
                long[node.name] = lines
    assert not long, f"split these functions into named steps: {long}"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 600


# ------------------------------------------------------------------ one numeric-column rule


def test_text_numbers_are_refused_with_the_same_hint_everywhere() -> None:
    from crmmodels.errors import SchemaError
    from crmmodels.pricing import price_elasticity
    from crmmodels.scorecard import kpi_scorecard

    hint = "Convert the text to numbers first"
    with pytest.raises(SchemaError, match=hint):
        pareto_analysis(_tx().assign(v=["$1"] * 5), amount_col="v", customer_col="c")
    with pytest.raises(SchemaError, match=hint):
        price_elasticity(_prices().assign(q=["1"] * 8), price_col="p", quantity_col="q")
    sales = pd.DataFrame({"customer_id": [1], "date": ["2024-01-05"], "amount": [1.0]})
    scores = pd.DataFrame({"customer_id": [1], "satisfaction": ["5"]})
    with pytest.raises(SchemaError, match=hint):
        kpi_scorecard(sales, satisfaction=scores)


def test_decimal_amounts_and_prices_are_read_as_floats() -> None:
    from decimal import Decimal

    import pyarrow as pa

    from crmmodels.pricing import price_elasticity

    tx = pa.table(
        {
            "c": [1, 2, 3],
            "v": pa.array([Decimal("10.50"), Decimal("5.25"), Decimal("1")], pa.decimal128(9, 2)),
        }
    )
    r = pareto_analysis(tx, amount_col="v", customer_col="c")
    assert r.total_value == pytest.approx(16.75)
    prices = pa.table(
        {
            "p": pa.array([Decimal("1.00"), Decimal("2.00"), Decimal("4.00")], pa.decimal128(9, 2)),
            "q": [16.0, 4.0, 1.0],
        }
    )
    res = price_elasticity(prices, price_col="p", quantity_col="q")
    assert res.to_frame()["elasticity"].iloc[0] == pytest.approx(-2.0)


def test_log_columns_with_an_itemsets_result_are_refused() -> None:
    from crmmodels.basket import association_rules, bundle_candidates, frequent_itemsets

    fi = frequent_itemsets(_log(), basket_col="order", item_col="item", min_support=0.2)
    with pytest.raises(ArgumentError, match="mined already"):
        association_rules(fi, basket_col="order", item_col="item")
    with pytest.raises(ArgumentError, match="mined already"):
        bundle_candidates(fi, item_col="item")
