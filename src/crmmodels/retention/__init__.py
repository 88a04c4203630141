r"""Cohort retention and period retention metrics (Reichheld & Sasser 1990; Grönroos 1994).

A customer is *active* in a period (day, week, month or quarter) when they buy at least
once in it. Everything below is counted on the customer x period activity grid, which is
aggregated on the caller's engine through narwhals (pandas inputs take a vectorised numpy
path that gives the same numbers faster).

* :func:`cohort_retention`: customers grouped by the period of their first purchase
  (cohort); the share of each cohort active :math:`k` periods later, plus the same for
  *recurring* customers (grouped by the period of their first repeat purchase).
* :func:`retention_metrics`: per period active, new, retained and reactivated customers,
  retention and churn rate, repeat-purchase rates, revenue of new vs existing customers and
  the expected relationship length, in a transactional and a relationship view.

Weeks run Monday to Sunday; months and quarters are calendar ones.
"""

from crmmodels._ingest.renames import renamed_attributes
from crmmodels.retention._cohorts import CohortRetentionResult, cohort_retention
from crmmodels.retention._contractual_models import BetaDiscreteWeibull, ShiftedBetaGeometric
from crmmodels.retention._contractual_result import ContractualRetentionResult
from crmmodels.retention._metrics import RetentionMetricsResult, retention_metrics

#: the names before 0.x (results now end in ``Result``)
RetentionMetricsResult = RetentionMetricsResult

__all__ = [
    "BetaDiscreteWeibull",
    "CohortRetentionResult",
    "ContractualRetentionResult",
    "RetentionMetricsResult",
    "ShiftedBetaGeometric",
    "cohort_retention",
    "retention_metrics",
]

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "CohortRetention": "CohortRetentionResult",
        "RetentionMetrics": "RetentionMetricsResult",
    },
)
