"""Probabilistic customer-base (buy-till-you-die) models and customer lifetime value.

Estimators follow the scikit-learn contract: hyper-parameters in ``__init__``, ``fit``
on a customer summary returns ``self``, fitted attributes end in ``_``.
"""

from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._churn_drivers import ChurnDriversResult, churn_drivers
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._selection import select_model
from crmmodels.clv._selection_result import ModelSelectionResult
from crmmodels.clv._tracking import (
    AliveHistoryResult,
    CumulativeTransactionsResult,
    HoldoutComparisonResult,
    alive_history,
    cumulative_transactions,
    holdout_comparison,
)
from crmmodels.clv._value import CLVResult, EquityResult, customer_equity, customer_lifetime_value

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "AliveHistoryResult",
    "CLVResult",
    "ChurnDriversResult",
    "CumulativeTransactionsResult",
    "EquityResult",
    "GammaGamma",
    "HoldoutComparisonResult",
    "ModelSelectionResult",
    "ParetoNBD",
    "alive_history",
    "churn_drivers",
    "cumulative_transactions",
    "customer_equity",
    "customer_lifetime_value",
    "holdout_comparison",
    "select_model",
]
