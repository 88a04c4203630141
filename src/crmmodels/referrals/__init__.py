"""Referral tracking: who brought in whom, how viral each cohort is, and what it is worth.

* :func:`referral_analysis` builds the referral trees (size, depth), the referral rate
  and the viral coefficient by acquisition cohort, compares the retention and value of
  referred and organic customers with intervals, and ranks the referrers by the value
  they brought in. Invalid referrals (self-referrals, unknown referrers, cycles,
  referrals dated before the referrer) are reported or refused, never dropped.
"""

from crmmodels.referrals._analysis import ISSUE_KINDS, referral_analysis
from crmmodels.referrals._result import ReferralResult

__all__ = ["ISSUE_KINDS", "ReferralResult", "referral_analysis"]
