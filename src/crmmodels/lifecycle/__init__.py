r"""Customer lifecycle stages at a date and transitions between snapshots.

Two documented, configurable schemes classify every customer at an ``observation_end``
date; :class:`LifecycleRules` holds the scheme and its thresholds:

* ``"purchase"`` (the customer lifecycle of Buttle 2009: prospect, first purchase,
  loyal, lapsed):
  ``prospect`` / ``first_time`` / ``loyal`` / ``churned``.
* ``"relationship"`` (relationship phases after Dwyer, Schurr & Oh 1987: exploration,
  formation, stability, decline): from the number of purchase days and the trend of the
  customer's recent value against their own history; customers without a purchase are
  ``prospect``.

Purchases are merged per calendar day of the data's local calendar (several orders on one
day are one purchase day). The per-customer aggregation runs on the caller's engine
through narwhals; only one row per customer is collected.

The package reads as its steps: ``_rules`` (the rules and the settings checks),
``_features`` (per-customer features on the engine), ``_classify`` (the rules applied),
``_stages`` and ``_transitions`` (the two public functions) and ``_results``.

The last stage, customer loss, has two views on a customer table (one row per customer,
e.g. ``crm.analyze(log).customers``): ``_churn`` (:func:`churn_comparison`, churned
against active customers by attribute, with ``_churn_stats`` and ``_churn_input``) and
``_winback`` (:func:`win_back_targets`, the ranked win-back list, with
``_winback_drivers``).
"""

from crmmodels._ingest.renames import renamed_attributes
from crmmodels.lifecycle._churn import ChurnComparisonResult, churn_comparison
from crmmodels.lifecycle._results import LifecycleStagesResult, LifecycleTransitionsResult
from crmmodels.lifecycle._rules import (
    NOT_YET_CUSTOMER,
    PURCHASE_STAGES,
    RELATIONSHIP_STAGES,
    AliveModel,
    LifecycleRules,
)
from crmmodels.lifecycle._stages import lifecycle_stages
from crmmodels.lifecycle._transitions import lifecycle_transitions
from crmmodels.lifecycle._winback import WinBackTargetsResult, win_back_targets

#: the names before 0.x (results now end in ``Result``)
LifecycleTransitionsResult = LifecycleTransitionsResult

__all__ = [
    "NOT_YET_CUSTOMER",
    "PURCHASE_STAGES",
    "RELATIONSHIP_STAGES",
    "AliveModel",
    "ChurnComparisonResult",
    "LifecycleRules",
    "LifecycleStagesResult",
    "LifecycleTransitionsResult",
    "WinBackTargetsResult",
    "churn_comparison",
    "lifecycle_stages",
    "lifecycle_transitions",
    "win_back_targets",
]

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "LifecycleStages": "LifecycleStagesResult",
        "LifecycleTransitions": "LifecycleTransitionsResult",
    },
)
