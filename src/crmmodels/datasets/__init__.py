"""Bundled data sets and simulators with known ground truth."""

from crmmodels.datasets._cdnow import (
    CDNOW_CITATION,
    load_cdnow,
    load_cdnow_sample,
    load_cdnow_summary,
    load_donations,
)
from crmmodels.datasets._crm import CRMData, simulate_crm

__all__ = [
    "CDNOW_CITATION",
    "CRMData",
    "load_cdnow",
    "load_cdnow_sample",
    "load_cdnow_summary",
    "load_donations",
    "simulate_crm",
]
