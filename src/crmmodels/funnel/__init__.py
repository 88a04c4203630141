"""Sales funnel metrics from a stage-history log (pipeline management: Söhnchen & Albers 2010).

A stage-history log has one row per event: an entity (lead or opportunity) entering a
stage at a time. From it :func:`funnel_metrics` computes, per stage of an ordered funnel,
how many entities entered, advanced, dropped out or are still open, the stage-to-stage
and cumulative conversion, the time spent in the stage, re-entries and skipped stages,
the bottleneck stage, cohort and segment funnels and a conversion trend.
:func:`stream_funnel` counts an ordered funnel of an event stream (clicks, page views)
the way product-analytics tools do, with a conversion window and segment comparison.
:func:`pipeline_forecast`, :func:`forecast_backtest` and :func:`sales_velocity` turn the
result into a weighted pipeline forecast and the sales velocity.

The per-(entity, stage) aggregation (first entry, number of events, distinct entry
times, amount) runs on the caller's engine; only that aggregate is collected. See
:mod:`crmmodels.kernels.funnel` for the counting rules.
"""

from crmmodels._ingest.renames import renamed_attributes
from crmmodels.funnel._forecast import (
    ForecastBacktestResult,
    PipelineForecastResult,
    forecast_backtest,
    pipeline_forecast,
)
from crmmodels.funnel._leads import lead_scores
from crmmodels.funnel._leads_result import LeadScoresResult
from crmmodels.funnel._metrics import funnel_metrics
from crmmodels.funnel._result import DEFAULT_EXIT_STAGES, DEFAULT_STAGES, FunnelResult
from crmmodels.funnel._stream import stream_funnel
from crmmodels.funnel._stream_result import StreamFunnelResult
from crmmodels.funnel._velocity import SalesVelocityResult, sales_velocity

__all__ = [
    "DEFAULT_EXIT_STAGES",
    "DEFAULT_STAGES",
    "ForecastBacktestResult",
    "FunnelResult",
    "LeadScoresResult",
    "PipelineForecastResult",
    "SalesVelocityResult",
    "StreamFunnelResult",
    "forecast_backtest",
    "funnel_metrics",
    "lead_scores",
    "pipeline_forecast",
    "sales_velocity",
    "stream_funnel",
]

# old names of the result classes, kept for now
ForecastBacktestResult = ForecastBacktestResult

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "PipelineForecast": "PipelineForecastResult",
        "ForecastBacktest": "ForecastBacktestResult",
        "SalesVelocity": "SalesVelocityResult",
    },
)
