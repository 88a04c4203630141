"""Bundled data sets and simulators with known ground truth."""

from crmmodels.datasets._cdnow import (
    CDNOW_CITATION,
    load_cdnow,
    load_cdnow_sample,
    load_cdnow_summary,
    load_donations,
)

__all__ = [
    "CDNOW_CITATION",
    "load_cdnow",
    "load_cdnow_sample",
    "load_cdnow_summary",
    "load_donations",
]
