r"""CLV quadrants: current value x potential value (Verhoef & Donkers 2001).

Each customer has a current value (realised value in a recent window) and a potential
value (predicted future value, e.g. CLV). Each axis is split at a threshold into high
and low, giving four groups:

| current vs potential | high potential | low potential |
|---|---|---|
| high current | ``vip`` (protect) | ``maintain`` (keep cost low) |
| low current | ``improve`` (develop) | ``abandon`` (cut cost) |
"""

from crmmodels.errors import EmptyQuadrantWarning
from crmmodels.quadrants._result import QUADRANTS, QuadrantResult
from crmmodels.quadrants._split import clv_quadrants
from crmmodels.quadrants._transactions import clv_quadrants_from_transactions

__all__ = [
    "QUADRANTS",
    "EmptyQuadrantWarning",
    "QuadrantResult",
    "clv_quadrants",
    "clv_quadrants_from_transactions",
]
