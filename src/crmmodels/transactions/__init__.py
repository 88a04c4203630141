"""Transaction log -> customer summary, calibration/holdout split, RFM scores and segments.

The aggregation runs on the caller's engine through narwhals: pandas, polars (eager or
lazy), pyarrow, DuckDB, Dask and PySpark inputs all work. Eager inputs return the same kind
of frame; lazy inputs stay lazy.

Definitions (Fader & Hardie's BTYD papers, identical to lifetimes'
``summary_data_from_transaction_data`` for day periods):

* purchases are merged on the ``period`` grid (several purchases in one period count as
  one purchase period, their amounts summed);
* ``frequency`` = number of purchase periods - 1 (repeat purchases);
* ``recency`` = last purchase period - first purchase period;
* ``T`` = observation end period - first purchase period;
* ``monetary_value`` = mean value of the repeat purchase periods (0 when frequency is 0).

``recency`` and ``T`` are expressed in ``time_unit`` (default: the period itself). The
grid and the unit are two different ideas: the published CDNOW summary is a *day* grid
expressed in *weeks*.
"""

from crmmodels._ingest.renames import renamed_attributes
from crmmodels.transactions._calibration import CalibrationHoldoutResult, calibration_holdout
from crmmodels.transactions._rfm import DEFAULT_RFM_RULES, RFMRule, rfm_scores, rfm_segments
from crmmodels.transactions._summary import summarize_transactions

__all__ = [
    "DEFAULT_RFM_RULES",
    "CalibrationHoldoutResult",
    "RFMRule",
    "calibration_holdout",
    "rfm_scores",
    "rfm_segments",
    "summarize_transactions",
]

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "CalibrationHoldout": "CalibrationHoldoutResult",
    },
)
