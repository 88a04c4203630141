"""Bundled data sets and simulators with known ground truth."""

from crmmodels.datasets._basket import BasketSimulation, simulate_baskets
from crmmodels.datasets._cdnow import (
    CDNOW_CITATION,
    load_cdnow,
    load_cdnow_sample,
    load_cdnow_summary,
    load_donations,
)
from crmmodels.datasets._crm import CRMData, simulate_crm
from crmmodels.datasets._funnel import FunnelSimulation, simulate_funnel
from crmmodels.datasets._leads import LeadSimulation, simulate_leads
from crmmodels.datasets._referrals import ReferralSimulation, simulate_referrals
from crmmodels.datasets._simulate import simulate_summary, simulate_transactions
from crmmodels.datasets._survey import (
    DemandSimulation,
    PriceSurveySimulation,
    SurveySimulation,
    simulate_demand,
    simulate_price_survey,
    simulate_survey,
)

__all__ = [
    "CDNOW_CITATION",
    "BasketSimulation",
    "CRMData",
    "DemandSimulation",
    "FunnelSimulation",
    "LeadSimulation",
    "PriceSurveySimulation",
    "ReferralSimulation",
    "SurveySimulation",
    "load_cdnow",
    "load_cdnow_sample",
    "load_cdnow_summary",
    "load_donations",
    "simulate_baskets",
    "simulate_crm",
    "simulate_demand",
    "simulate_funnel",
    "simulate_leads",
    "simulate_price_survey",
    "simulate_referrals",
    "simulate_summary",
    "simulate_survey",
    "simulate_transactions",
]
