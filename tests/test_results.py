"""``crmmodels._results.Result`` and every public result class built on small simulated data.

The first half checks the base class's promises on a toy subclass (``to_dict`` keeps the
scalar and tuple fields as Python values, ``repr`` is one line with the row count, the
HTML repr escapes text and shows at most 20 rows, subclasses are frozen). The second half
builds every result class exported by ``crmmodels``, ``crmmodels.clv`` and
``crmmodels.idic`` through its public function and checks the common contract: a short
repr, ``to_frame()`` a pandas DataFrame, ``plot()`` a matplotlib Axes.

``BUILDERS`` (class name -> constructor) is reused by the plotting tests.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

import crmmodels
import crmmodels.clv
import crmmodels.idic
from crmmodels import datasets
from crmmodels._results import Result

# ---------------------------------------------------------------------------------------
# the base class on a toy subclass


@dataclasses.dataclass(frozen=True, repr=False)
class _Toy(Result):
    name: str
    count: int
    share: float
    flag: bool
    big: float
    tiny: float
    missing: float
    numpy_value: np.float64
    levels: tuple[float, ...]
    table: pd.DataFrame
    mixed: tuple[Any, ...] = (1, [2])
    nothing: None = None
    _hidden: int = 7

    def to_frame(self) -> pd.DataFrame:
        return self.table


@dataclasses.dataclass(frozen=True, repr=False)
class _NoTable(Result):
    value: float


def _toy(n_rows: int = 3, name: str = "a<b>&c") -> _Toy:
    return _Toy(
        name=name,
        count=np.int64(4),  # type: ignore[arg-type]
        share=0.123456,
        flag=True,
        big=1234567.0,
        tiny=0.000123,
        missing=float("nan"),
        numpy_value=np.float64(2.5),
        levels=(0.8, np.float64(0.95)),  # type: ignore[arg-type]
        table=pd.DataFrame({"x": np.arange(n_rows, dtype=float)}),
    )


def test_to_dict_keeps_scalar_and_tuple_fields_as_python_values() -> None:
    out = _toy().to_dict()
    assert list(out) == [
        "name",
        "count",
        "share",
        "flag",
        "big",
        "tiny",
        "missing",
        "numpy_value",
        "levels",
        "nothing",
    ]
    # numpy scalars become Python ones; tuples become lists; frames, tuples holding
    # non-scalars and private fields are left out
    assert type(out["count"]) is int and out["count"] == 4
    assert type(out["numpy_value"]) is float
    assert out["levels"] == [0.8, 0.95] and all(type(v) is float for v in out["levels"])
    assert out["nothing"] is None
    assert math.isnan(out["missing"])
    json.dumps(out)  # JSON-friendly


def test_repr_wraps_under_90_characters_with_the_row_count_and_short_numbers() -> None:
    text = repr(_toy())
    assert max(len(line) for line in text.splitlines()) <= 90
    text = " ".join(line.strip() for line in text.splitlines())
    assert text.startswith("_Toy(name=a<b>&c, count=4, share=0.1235, flag=True, ")
    assert "big=1.235e+06" in text and "tiny=0.000123" in text and "missing=nan" in text
    assert "numpy_value=2.5," in text and "levels=[0.8, 0.95]" in text
    assert text.endswith(", rows=3)")
    assert "_hidden" not in text and "table" not in text


def test_repr_without_a_table_has_no_row_count() -> None:
    assert repr(_NoTable(1.0)) == "_NoTable(value=1)"
    assert repr(_NoTable(0.0)) == "_NoTable(value=0)"


def test_base_class_leaves_table_and_plot_to_subclasses() -> None:
    with pytest.raises(NotImplementedError):
        _NoTable(1.0).to_frame()
    with pytest.raises(NotImplementedError):
        _NoTable(1.0).plot()


def test_html_repr_escapes_text_and_shows_twenty_rows_at_most() -> None:
    small = _toy(3)._repr_html_()
    assert small.startswith("<div><strong>_Toy</strong>")
    assert "a&lt;b&gt;&amp;c" in small and "a<b>" not in small
    assert "rows</p>" not in small
    big = _toy(25)._repr_html_()
    assert "<p>25 rows</p>" in big
    assert big.count("<tr>") - small.count("<tr>") == 20 - 3
    assert "<table" in _NoTable(1.0)._repr_html_()


def test_results_are_frozen() -> None:
    toy = _toy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        toy.count = 5  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# every public result class, built through its public function


@functools.cache
@functools.cache
def _analysed() -> pd.DataFrame:
    return crmmodels.analyze(datasets.load_cdnow_sample(), amount_col="amount").customers


def _referrals() -> Any:
    sim = datasets.simulate_referrals(150, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the simulated base may hold invalid referrals
        return crmmodels.referral_analysis(sim.customers, transactions=sim.transactions)


def _transactions() -> pd.DataFrame:
    return datasets.simulate_transactions(150, seed=1)


@functools.cache
def _funnel() -> Any:
    return crmmodels.funnel_metrics(datasets.simulate_funnel(300, seed=1).history)


@functools.cache
def _crm() -> Any:
    return datasets.simulate_crm(120, seed=1)


@functools.cache
def _baskets() -> tuple[pd.DataFrame, pd.DataFrame]:
    sim = datasets.simulate_baskets(1500, 30, seed=1, n_customers=200)
    itemsets = crmmodels.frequent_itemsets(
        sim.transactions, basket_col="basket_id", item_col="item", min_support=0.01
    )
    return sim.transactions, itemsets


@functools.cache
def _survey() -> Any:
    return datasets.simulate_survey(80, seed=1)


@functools.cache
def _clv_models() -> tuple[Any, Any, pd.DataFrame]:
    summary = datasets.simulate_summary(300, seed=1)
    bg = crmmodels.clv.BGNBD().fit(summary)
    gg = crmmodels.clv.GammaGamma().fit(summary[summary["frequency"] > 0])
    return bg, gg, summary


def _cross_sell() -> Any:
    tx, itemsets = _baskets()
    rules = crmmodels.association_rules(itemsets, metric="lift", min_threshold=1.0)
    return crmmodels.cross_sell(tx, rules, top_n=2)


def _quadrants() -> Any:
    values = _transactions().groupby("customer_id")["amount"].sum()
    table = pd.DataFrame(
        {
            "customer_id": values.index,
            "current_value": values.to_numpy(),
            # potential independent of current value, so no quadrant is empty
            "potential_value": np.random.default_rng(0).permutation(len(values)).astype(float),
        }
    )
    return crmmodels.clv_quadrants(table)


def _relationship_quality() -> Any:
    s = _survey()
    return crmmodels.relationship_quality(
        s.survey,
        constructs=s.constructs,
        reverse=s.reverse,
        respondent_col="respondent_id",
        side_col="side",
        relationship_col="relationship_id",
    )


def _customize() -> Any:
    customers = build("DifferentiationResult").customers[["customer_id", "value"]]
    rules = [{"name": "big", "action": "call", "priority": 1, "conditions": {"value": {"min": 0}}}]
    return crmmodels.idic.customize(customers, rules)


def _equity() -> Any:
    bg, gg, summary = _clv_models()
    return crmmodels.clv.customer_equity(
        bg, gg, summary, horizon=12, discount_rate=0.01, n_draws=20
    )


def _clv() -> Any:
    bg, gg, summary = _clv_models()
    return crmmodels.clv.customer_lifetime_value(bg, gg, summary, horizon=12, discount_rate=0.01)


def _churn_drivers() -> Any:
    from crmmodels.clv._covariates_sim import simulate_covariate_summary

    summary = simulate_covariate_summary(600, model="bgnbd", seed=1)
    model = crmmodels.clv.BGNBD().fit(summary, covariates=["channel", "age"])
    return crmmodels.clv.churn_drivers(model)


BUILDERS: dict[str, Callable[[], Any]] = {
    "BundleCandidatesResult": lambda: crmmodels.bundle_candidates(_baskets()[1], min_lift=1.0),
    "CalibrationHoldoutResult": lambda: crmmodels.calibration_holdout(
        _transactions(), calibration_end="1997-07-01"
    ),
    "CohortRetentionResult": lambda: crmmodels.cohort_retention(_transactions(), period="M"),
    "CronbachAlphaResult": lambda: crmmodels.cronbach_alpha(
        _survey().survey[list(_survey().constructs["trust"])]
    ),
    "CrossSellResult": _cross_sell,
    "ForecastBacktestResult": lambda: crmmodels.forecast_backtest(_funnel(), "2024-10-01"),
    "FunnelResult": _funnel,
    "LifecycleStagesResult": lambda: crmmodels.lifecycle_stages(
        _transactions(), observation_end="1997-10-01"
    ),
    "LifecycleTransitionsResult": lambda: crmmodels.lifecycle_transitions(
        _transactions(), snapshots=["1997-04-30", "1997-07-31", "1997-09-30"]
    ),
    "ParetoResult": lambda: crmmodels.pareto_analysis(
        _transactions(), amount_col="amount", customer_col="customer_id"
    ),
    "PipelineForecastResult": lambda: crmmodels.pipeline_forecast(_funnel()),
    "QuadrantResult": _quadrants,
    "RelationshipQualityResult": _relationship_quality,
    "RetentionMetricsResult": lambda: crmmodels.retention_metrics(
        _transactions(), period="Q", amount_col="amount"
    ),
    "SalesVelocityResult": lambda: crmmodels.sales_velocity(_funnel()),
    "ScorecardResult": lambda: crmmodels.kpi_scorecard(_transactions()),
    "VanWestendorpResult": lambda: crmmodels.van_westendorp(
        "too_cheap",
        "cheap",
        "expensive",
        "too_expensive",
        data=datasets.simulate_price_survey(120, seed=1).answers,
    ),
    "CLVResult": _clv,
    "EquityResult": _equity,
    "IdentityResult": lambda: crmmodels.idic.resolve_identities(
        _crm().records, id_col="record_id", email_cols=["email"], phone_cols=["phone"]
    ),
    "ProbabilisticIdentityResult": lambda: crmmodels.idic.resolve_identities_probabilistic(
        _crm().records,
        id_col="record_id",
        comparisons=["first_name", "last_name", "street"],
        block_cols=["postcode", "last_name"],
    ),
    "DifferentiationResult": lambda: crmmodels.idic.differentiate(_crm().purchases, k_range=(2, 3)),
    "InteractionProfileResult": lambda: crmmodels.idic.interaction_profile(_crm().interactions),
    "CustomizationResult": _customize,
    "ItemsetsResult": lambda: _baskets()[1],
    "RulesResult": lambda: crmmodels.association_rules(
        _baskets()[1], metric="lift", min_threshold=1.0
    ),
    "ElasticityResult": lambda: crmmodels.price_elasticity(
        datasets.simulate_demand(seed=1).transactions, group_col="product"
    ),
    "CumulativeTransactionsResult": lambda: crmmodels.clv.cumulative_transactions(
        _clv_models()[0], _transactions(), time_unit="W"
    ),
    "AliveHistoryResult": lambda: crmmodels.clv.alive_history(
        _clv_models()[0], [0.0, 2.0, 5.0], end=20.0
    ),
    "KeyFiguresResult": lambda: crmmodels.analyze(_transactions()).key_figures,
    "ChurnComparisonResult": lambda: crmmodels.churn_comparison(
        _analysed(),
        attributes=["value_class"],
        lifecycle_stage_col="lifecycle_stage",
    ),
    "WinBackTargetsResult": lambda: crmmodels.win_back_targets(
        _analysed(), lifecycle_stage_col="lifecycle_stage"
    ),
    "LeadScoresResult": lambda: crmmodels.lead_scores(
        datasets.simulate_leads(1500, seed=1).leads,
        feature_cols=["source", "engagement", "budget"],
    ),
    "ReferralResult": lambda: _referrals(),
    "ContractualRetentionResult": lambda: (
        crmmodels.ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241]).project(12)
    ),
    "StreamFunnelResult": lambda: crmmodels.stream_funnel(
        datasets.simulate_funnel(300, seed=1).history,
        stages=["lead_generation", "needs_analysis", "proposal_quote", "closed_won"],
        other_events="ignore",
    ),
    "HoldoutComparisonResult": lambda: crmmodels.clv.holdout_comparison(
        _clv_models()[0],
        crmmodels.calibration_holdout(
            _transactions(), calibration_end="1997-07-01", period="W"
        ).to_frame(),
    ),
    "ModelSelectionResult": lambda: crmmodels.clv.select_model(
        _transactions(), candidates=["BGNBD", "ParetoNBD"]
    ),
    "ChurnDriversResult": _churn_drivers,
}


@functools.cache
def build(name: str) -> Any:
    """The result class ``name`` built on its small dataset (cached: results are frozen)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return BUILDERS[name]()


def public_result_classes() -> dict[str, type]:
    """Every class ending in "Result" or deriving from Result in the public namespaces."""
    found: dict[str, type] = {}
    for module in (crmmodels, crmmodels.clv, crmmodels.idic):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and (name.endswith("Result") or issubclass(obj, Result)):
                found[name] = obj
    return found


CLASSES = public_result_classes()

#: classes whose one-line repr is 100 characters wide or more (see the test below)
WIDE_REPR: set[str] = set()


def test_every_public_result_class_has_a_builder() -> None:
    assert len(CLASSES) >= 20
    assert set(CLASSES) == set(BUILDERS)
    for name, cls in CLASSES.items():
        assert issubclass(cls, Result), name
        assert dataclasses.is_dataclass(cls), name


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_result_contract(name: str) -> None:
    result = build(name)
    assert type(result) is CLASSES[name]
    text = repr(result)
    assert text.startswith(f"{name}(")
    assert len(text.splitlines()) < 15
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    json.dumps(result.to_dict())
    assert result._repr_html_().startswith(f"<div><strong>{name}</strong>")
    field = next(f.name for f in dataclasses.fields(result) if not f.name.startswith("_"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(result, field, None)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=pytest.mark.xfail(
                strict=True,
                reason="Result.__repr__ writes every scalar field on one line, "
                "100 characters or more for this class (issue 12 asks for a short repr)",
            ),
        )
        if n in WIDE_REPR
        else n
        for n in sorted(BUILDERS)
    ],
)
def test_result_repr_is_narrow(name: str) -> None:
    lines = repr(build(name)).splitlines()
    assert max(len(line) for line in lines) < 100


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_result_plot_returns_axes(name: str) -> None:
    result = build(name)
    ax = result.plot()
    assert isinstance(ax, Axes)
    assert ax.has_data() or ax.texts or ax.images or ax.patches
    _, own = plt.subplots()
    assert result.plot(ax=own) is own
    plt.close("all")
