"""The customer-base analysis: from a transaction log to one customer table and a report.

:func:`analyze` runs the models of the library on one log and joins their answers by
customer; :class:`CustomerAnalysis` holds the table, the key figures, the model
selection, the fitted models and every part.
"""

from crmmodels.analysis._analyze import analyze
from crmmodels.analysis._figures import DataChecksResult, KeyFiguresResult
from crmmodels.analysis._result import CustomerAnalysis
from crmmodels.analysis._settings import AnalysisSettings
from crmmodels.analysis._steps import AnalysisStep, StepsResult

__all__ = [
    "AnalysisSettings",
    "AnalysisStep",
    "CustomerAnalysis",
    "DataChecksResult",
    "KeyFiguresResult",
    "StepsResult",
    "analyze",
]
