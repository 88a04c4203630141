"""Portfolio, quality, basket, pricing and scorecard: one vocabulary, results one way.

The portfolio value column is ``amount_col`` (old name ``value_col`` kept with a
FutureWarning), and every analysis returns a frozen result with ``to_frame()``, a short
repr and a ``plot()`` that returns the Axes.
"""

from __future__ import annotations

import dataclasses

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
    assert res.group_cols == ("sku",) and res.price_col == "p" and res.quantity_col == "q"
    assert res.ci_level == 0.95 and res.n_groups == 2 and res.n_without_elasticity == 0
    assert res.to_frame()["sku"].tolist() == ["a", "b"]
    assert res.to_dict()["group_cols"] == ["sku"]


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
