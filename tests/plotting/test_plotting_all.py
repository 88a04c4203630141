"""Every function of ``crmmodels.plotting``, once, on a small real result.

Each call returns a matplotlib Axes, draws on the Axes it is given (``ax=``), draws at
least one artist and leaves ``matplotlib.rcParams`` as it found them. The results come
from the builders of the result tests (``test_results.py``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.axes import Axes

import crmmodels
import crmmodels.plotting
from crmmodels import datasets
from crmmodels.clv import BGNBD
from crmmodels.plotting import (
    analysis,
    basket,
    clv,
    funnel,
    idic,
    lifecycle,
    portfolio,
    pricing,
    quadrants,
    quality,
    referrals,
    retention,
    scorecard,
    selection,
    value,
)
from crmmodels.retention import ShiftedBetaGeometric


def _results_module() -> ModuleType:
    """The result tests' module (found from the project root, wherever the file lives)."""
    here = Path(__file__).resolve()
    root = next(p for p in here.parents if (p / "pyproject.toml").is_file())
    path = next((root / "tests").rglob("test_results.py")).resolve()
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == path:
            return module
    spec = importlib.util.spec_from_file_location("_unit_results_builders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def result(name: str) -> Any:
    return _results_module().build(name)


#: the paper's BG/NBD fit on CDNOW (Fader, Hardie & Lee 2005), in weeks
BG = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)


@functools.cache
def _transactions() -> pd.DataFrame:
    return datasets.simulate_transactions(120, seed=2)


@functools.cache
def _rules() -> pd.DataFrame:
    sim = datasets.simulate_baskets(1500, 30, seed=1, n_customers=200)
    itemsets = crmmodels.frequent_itemsets(
        sim.transactions, basket_col="basket_id", item_col="item", min_support=0.01
    )
    return crmmodels.association_rules(itemsets, metric="lift", min_threshold=1.0)


@functools.cache
def _stream_funnel() -> Any:
    from crmmodels.funnel import stream_funnel

    log = datasets.simulate_funnel(300, seed=1).history
    return stream_funnel(
        log,
        stages=["lead_generation", "needs_analysis", "proposal_quote", "closed_won"],
        other_events="ignore",
        segment_col="segment",
    )


@functools.cache
def _lead_scores() -> Any:
    from crmmodels.funnel import lead_scores

    leads = datasets.simulate_leads(1500, seed=1).leads
    return lead_scores(leads, feature_cols=["source", "engagement", "budget"])


def _summary() -> pd.DataFrame:
    return crmmodels.summarize_transactions(_transactions(), time_unit="W")


def _holdout() -> pd.DataFrame:
    table = crmmodels.calibration_holdout(
        _transactions(), calibration_end="1997-07-01", time_unit="W"
    )
    return table.to_frame()


def _demand_curves(ax: Axes | None) -> Axes:
    demand = datasets.simulate_demand(600, seed=0)
    table = crmmodels.price_elasticity(demand.transactions, group_col="product")
    return pricing.plot_demand_curves(
        table, data=demand.transactions, group_col="product", ax=ax, max_points=200
    )


PlotCall = Callable[[Axes | None], Axes]


@functools.cache
def _referrals() -> Any:
    from crmmodels.referrals import referral_analysis

    sim = datasets.simulate_referrals(150, seed=3)
    return referral_analysis(sim.customers, transactions=sim.transactions)


@functools.cache
def _analysis() -> Any:
    return crmmodels.analyze(_transactions())


CASES: dict[str, PlotCall] = {
    "plot_analysis": lambda ax: analysis.plot_analysis(_analysis(), kind="clv", ax=ax),
    "plot_clv_distribution": lambda ax: analysis.plot_clv_distribution(
        _analysis().to_frame()["clv"].to_numpy(), ax=ax
    ),
    "plot_rfm_segments": lambda ax: analysis.plot_rfm_segments(_analysis().rfm, ax=ax),
    "plot_clv_histogram": lambda ax: analysis.plot_clv_histogram(
        [1.0, 3.0, 10.0, 30.0, 100.0], [3, 5, 2, 1], n_values=12, n_low=1, mean=9.0, ax=ax
    ),
    "plot_lorenz_points": lambda ax: analysis.plot_lorenz_points(
        [0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.05, 0.15, 0.4, 1.0], gini=0.5, ax=ax
    ),
    "plot_label_counts": lambda ax: analysis.plot_label_counts(
        ["loyal", "churned"], [8, 15], title="Lifecycle stages", ax=ax, annotate=True
    ),
    "draw_holdout_means": lambda ax: clv.draw_holdout_means(
        result("CalibrationHoldoutResult").to_frame(), ax=ax
    ),
    "draw_actual_vs_model": lambda ax: clv.draw_actual_vs_model(
        [0, 1, 2], [1.0, 2.0, 4.0], [1.1, 2.2, 3.9], ax=ax
    ),
    "draw_alive_history": lambda ax: clv.draw_alive_history(result("AliveHistoryResult"), ax=ax),
    "draw_cumulative_transactions": lambda ax: clv.draw_cumulative_transactions(
        result("CumulativeTransactionsResult"), ax=ax
    ),
    "draw_holdout_comparison": lambda ax: clv.draw_holdout_comparison(
        result("HoldoutComparisonResult"), ax=ax
    ),
    "draw_model_selection": lambda ax: selection.draw_model_selection(
        result("ModelSelectionResult"), ax=ax
    ),
    "plot_clv_concentration": lambda ax: value.plot_clv_concentration(result("CLVResult"), ax=ax),
    "plot_equity_draws": lambda ax: value.plot_equity_draws(result("EquityResult"), ax=ax),
    "plot_itemsets": lambda ax: basket.plot_itemsets(result("ItemsetsResult"), ax=ax),
    "plot_bundles": lambda ax: basket.plot_bundles(result("BundleCandidatesResult"), ax=ax),
    "plot_rules": lambda ax: basket.plot_rules(_rules(), ax=ax),
    "plot_top_rules": lambda ax: basket.plot_top_rules(_rules(), n=5, ax=ax),
    "plot_alive_history": lambda ax: clv.plot_alive_history(BG, [0.0, 3.0, 9.0], end=30.0, ax=ax),
    "plot_calibration_vs_holdout": lambda ax: clv.plot_calibration_vs_holdout(
        BG, _holdout(), ax=ax
    ),
    "plot_cumulative_transactions": lambda ax: clv.plot_cumulative_transactions(
        BG, _transactions(), calibration_end="1997-07-01", ax=ax
    ),
    "plot_frequency_recency_matrix": lambda ax: clv.plot_frequency_recency_matrix(
        BG, T=30.0, max_frequency=8, ax=ax
    ),
    "plot_heterogeneity": lambda ax: clv.plot_heterogeneity(BG, ax=ax),
    "plot_churn_drivers": lambda ax: clv.plot_churn_drivers(result("ChurnDriversResult"), ax=ax),
    "plot_incremental_transactions": lambda ax: clv.plot_incremental_transactions(
        BG, _transactions(), ax=ax
    ),
    "plot_period_transactions": lambda ax: clv.plot_period_transactions(BG, _summary(), ax=ax),
    "plot_probability_alive_matrix": lambda ax: clv.plot_probability_alive_matrix(
        BG, T=30.0, max_frequency=8, ax=ax
    ),
    "plot_backtest": lambda ax: funnel.plot_backtest(result("ForecastBacktestResult"), ax=ax),
    "plot_forecast": lambda ax: funnel.plot_forecast(result("PipelineForecastResult"), ax=ax),
    "plot_funnel": lambda ax: funnel.plot_funnel(result("FunnelResult"), ax=ax),
    "plot_lead_calibration": lambda ax: funnel.plot_lead_calibration(_lead_scores(), ax=ax),
    "plot_lead_effects": lambda ax: funnel.plot_lead_effects(_lead_scores(), ax=ax),
    "plot_lead_gains": lambda ax: funnel.plot_lead_gains(_lead_scores(), ax=ax),
    "plot_stage_times": lambda ax: funnel.plot_stage_times(result("FunnelResult"), ax=ax),
    "plot_velocity": lambda ax: funnel.plot_velocity(result("SalesVelocityResult"), ax=ax),
    "plot_stream_funnel": lambda ax: funnel.plot_stream_funnel(_stream_funnel(), ax=ax),
    "plot_actions": lambda ax: idic.plot_actions(result("CustomizationResult"), ax=ax),
    "plot_channel_mix": lambda ax: idic.plot_channel_mix(result("InteractionProfileResult"), ax=ax),
    "plot_identity": lambda ax: idic.plot_identity(result("IdentityResult"), ax=ax),
    "plot_match_weights": lambda ax: idic.plot_match_weights(
        result("ProbabilisticIdentityResult"), ax=ax
    ),
    "plot_match_waterfall": lambda ax: idic.plot_match_waterfall(
        result("ProbabilisticIdentityResult"),
        *result("ProbabilisticIdentityResult").links[["record_a", "record_b"]].iloc[0],
        ax=ax,
    ),
    "plot_value_needs": lambda ax: idic.plot_value_needs(result("DifferentiationResult"), ax=ax),
    "plot_stage_counts": lambda ax: lifecycle.plot_stage_counts(
        result("LifecycleStagesResult"), ax=ax
    ),
    "plot_stage_mix": lambda ax: lifecycle.plot_stage_mix(
        result("LifecycleTransitionsResult"), ax=ax
    ),
    "plot_transition_heatmap": lambda ax: lifecycle.plot_transition_heatmap(
        result("LifecycleTransitionsResult"), ax=ax
    ),
    "plot_churn_rates": lambda ax: lifecycle.plot_churn_rates(
        crmmodels.lifecycle.churn_comparison(
            _customer_table(), attributes=["frequency"], p_alive_col="p_alive"
        ),
        ax=ax,
    ),
    "plot_win_back_value": lambda ax: lifecycle.plot_win_back_value(
        crmmodels.lifecycle.win_back_targets(_customer_table()), ax=ax
    ),
    "plot_concentration_trend": lambda ax: portfolio.plot_concentration_trend(
        crmmodels.pareto_analysis(
            _transactions().assign(quarter=_transactions()["date"].dt.quarter),
            amount_col="amount",
            customer_col="customer_id",
            period_col="quarter",
        ),
        ax=ax,
    ),
    "plot_lorenz": lambda ax: portfolio.plot_lorenz(result("ParetoResult"), ax=ax),
    "plot_pareto": lambda ax: portfolio.plot_pareto(result("ParetoResult"), ax=ax),
    "plot_demand_curves": _demand_curves,
    "plot_van_westendorp": lambda ax: pricing.plot_van_westendorp(
        result("VanWestendorpResult"), ax=ax
    ),
    "plot_quadrants": lambda ax: quadrants.plot_quadrants(result("QuadrantResult"), ax=ax),
    "plot_construct_profile": lambda ax: quality.plot_construct_profile(
        result("RelationshipQualityResult"), ax=ax
    ),
    "plot_dyadic_gaps": lambda ax: quality.plot_dyadic_gaps(
        result("RelationshipQualityResult"), ax=ax
    ),
    "plot_item_diagnostics": lambda ax: quality.plot_item_diagnostics(
        result("CronbachAlphaResult"), ax=ax
    ),
    "plot_contractual_survival": lambda ax: retention.plot_contractual_survival(
        ShiftedBetaGeometric().fit({"a": [1000, 631, 468, 382], "b": [800, 500]}).project(6),
        ax=ax,
    ),
    "plot_retention_curves": lambda ax: retention.plot_retention_curves(
        result("CohortRetentionResult"), ax=ax
    ),
    "plot_retention_heatmap": lambda ax: retention.plot_retention_heatmap(
        result("CohortRetentionResult"), ax=ax
    ),
    "plot_retention_metrics": lambda ax: retention.plot_retention_metrics(
        result("RetentionMetricsResult"), ax=ax
    ),
    "plot_scorecard": lambda ax: scorecard.plot_scorecard(
        result("ScorecardResult"), kpis=["revenue"], ax=ax
    ),
    "plot_viral": lambda ax: referrals.plot_viral(_referrals(), ax=ax),
    "plot_referred_vs_organic": lambda ax: referrals.plot_referred_vs_organic(_referrals(), ax=ax),
    "plot_tree_sizes": lambda ax: referrals.plot_tree_sizes(_referrals(), ax=ax),
}

#: public functions of the plotting modules that compute data rather than draw
NOT_PLOTS: set[str] = set()


def _plotting_functions() -> set[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules(crmmodels.plotting.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"crmmodels.plotting.{info.name}")
        names.update(module.__all__)
    return names


def _customer_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": range(6),
            "frequency": [0, 2, 1, 3, 0, 4],
            "recency": [0.0, 9.0, 4.0, 20.0, 0.0, 30.0],
            "total_value": [10.0, 40.0, 25.0, 70.0, 15.0, 90.0],
            "p_alive": [0.2, 0.7, 0.3, 0.9, 0.4, 0.6],
        }
    )


def _draws_something(ax: Axes) -> bool:
    return bool(ax.has_data() or ax.texts or ax.images or ax.tables or ax.artists)


def test_every_plotting_function_has_a_case() -> None:
    assert _plotting_functions() == set(CASES) | NOT_PLOTS


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_returns_axes_on_a_new_figure(name: str) -> None:
    before = dict(matplotlib.rcParams)
    ax = CASES[name](None)
    assert isinstance(ax, Axes)
    figure = ax.get_figure(root=True)
    assert figure is not None
    assert any(_draws_something(a) for a in figure.axes)
    assert dict(matplotlib.rcParams) == before, "the plot changed the global style"
    plt.close("all")


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_draws_on_the_given_axes(name: str) -> None:
    figure, own = plt.subplots()
    ax = CASES[name](own)
    assert ax is own
    assert _draws_something(own)
    assert own.get_figure(root=True) is figure
    plt.close("all")
