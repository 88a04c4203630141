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
