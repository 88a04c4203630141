"""crmmodels: classic CRM models as fast, typed, tested computations on DataFrames.

Examples
--------
>>> import crmmodels as crm
>>> from crmmodels.datasets import load_cdnow_sample
>>> summary = crm.summarize_transactions(load_cdnow_sample(), amount_col="amount")
>>> len(summary)
2357
"""

from crmmodels import analysis, clv, datasets, errors, idic, referrals
from crmmodels._ingest.renames import renamed_attributes
from crmmodels._version import __version__
from crmmodels.analysis import CustomerAnalysis, KeyFiguresResult, analyze
from crmmodels.basket import (
    BundleCandidatesResult,
    CrossSellResult,
    ItemsetsResult,
    RulesResult,
    association_rules,
    association_rules_by_segment,
    bundle_candidates,
    cross_sell,
    frequent_itemsets,
)
from crmmodels.clv import ChurnDriversResult, churn_drivers
from crmmodels.funnel import (
    DEFAULT_STAGES,
    ForecastBacktestResult,
    FunnelResult,
    LeadScoresResult,
    PipelineForecastResult,
    SalesVelocityResult,
    StreamFunnelResult,
    forecast_backtest,
    funnel_metrics,
    lead_scores,
    pipeline_forecast,
    sales_velocity,
    stream_funnel,
)
from crmmodels.idic import pseudonymize
from crmmodels.lifecycle import (
    ChurnComparisonResult,
    LifecycleRules,
    LifecycleStagesResult,
    LifecycleTransitionsResult,
    WinBackTargetsResult,
    churn_comparison,
    lifecycle_stages,
    lifecycle_transitions,
    win_back_targets,
)
from crmmodels.portfolio import ParetoResult, pareto_analysis
from crmmodels.pricing import (
    ElasticityResult,
    VanWestendorpResult,
    price_elasticity,
    van_westendorp,
)
from crmmodels.quadrants import QuadrantResult, clv_quadrants, clv_quadrants_from_transactions
from crmmodels.quality import (
    CronbachAlphaResult,
    RelationshipQualityResult,
    cronbach_alpha,
    relationship_quality,
)
from crmmodels.referrals import ReferralResult, referral_analysis
from crmmodels.retention import (
    BetaDiscreteWeibull,
    CohortRetentionResult,
    ContractualRetentionResult,
    RetentionMetricsResult,
    ShiftedBetaGeometric,
    cohort_retention,
    retention_metrics,
)
from crmmodels.scorecard import ScorecardResult, kpi_scorecard
from crmmodels.transactions import (
    CalibrationHoldoutResult,
    RFMRule,
    calibration_holdout,
    rfm_scores,
    rfm_segments,
    summarize_transactions,
)

__all__ = [
    "DEFAULT_STAGES",
    "BetaDiscreteWeibull",
    "BundleCandidatesResult",
    "CalibrationHoldoutResult",
    "ChurnComparisonResult",
    "ChurnDriversResult",
    "CohortRetentionResult",
    "ContractualRetentionResult",
    "CronbachAlphaResult",
    "CrossSellResult",
    "CustomerAnalysis",
    "ElasticityResult",
    "ForecastBacktestResult",
    "FunnelResult",
    "ItemsetsResult",
    "KeyFiguresResult",
    "LeadScoresResult",
    "LifecycleRules",
    "LifecycleStagesResult",
    "LifecycleTransitionsResult",
    "ParetoResult",
    "PipelineForecastResult",
    "QuadrantResult",
    "RFMRule",
    "ReferralResult",
    "RelationshipQualityResult",
    "RetentionMetricsResult",
    "RulesResult",
    "SalesVelocityResult",
    "ScorecardResult",
    "ShiftedBetaGeometric",
    "StreamFunnelResult",
    "VanWestendorpResult",
    "WinBackTargetsResult",
    "__version__",
    "analysis",
    "analyze",
    "association_rules",
    "association_rules_by_segment",
    "bundle_candidates",
    "calibration_holdout",
    "churn_comparison",
    "churn_drivers",
    "clv",
    "clv_quadrants",
    "clv_quadrants_from_transactions",
    "cohort_retention",
    "cronbach_alpha",
    "cross_sell",
    "datasets",
    "errors",
    "forecast_backtest",
    "frequent_itemsets",
    "funnel_metrics",
    "idic",
    "kpi_scorecard",
    "lead_scores",
    "lifecycle_stages",
    "lifecycle_transitions",
    "pareto_analysis",
    "pipeline_forecast",
    "price_elasticity",
    "pseudonymize",
    "referral_analysis",
    "referrals",
    "relationship_quality",
    "retention_metrics",
    "rfm_scores",
    "rfm_segments",
    "sales_velocity",
    "stream_funnel",
    "summarize_transactions",
    "van_westendorp",
    "win_back_targets",
]

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "BundleCandidates": "BundleCandidatesResult",
        "CalibrationHoldout": "CalibrationHoldoutResult",
        "CohortRetention": "CohortRetentionResult",
        "ForecastBacktest": "ForecastBacktestResult",
        "InteractionProfile": "InteractionProfileResult",
        "LifecycleStages": "LifecycleStagesResult",
        "LifecycleTransitions": "LifecycleTransitionsResult",
        "PipelineForecast": "PipelineForecastResult",
        "RetentionMetrics": "RetentionMetricsResult",
        "SalesVelocity": "SalesVelocityResult",
    },
)
