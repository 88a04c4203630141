"""A drop-in replacement for the ``lifetimes`` package, computed by crmmodels.

Replace ``from lifetimes import BetaGeoFitter`` by
``from crmmodels.compat.lifetimes import BetaGeoFitter`` (and ``lifetimes.utils`` /
``.plotting`` / ``.datasets`` / ``.generate_data`` by the submodules of the same names).
The fitters are thin adapters over :mod:`crmmodels.clv`; models are saved as JSON.
"""

from crmmodels.compat.lifetimes.fitters import (
    BaseFitter,
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)

__all__ = [
    "BaseFitter",
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
]
