"""Fitters with the lifetimes API, computed by the crmmodels CLV engine.

Every fitter here is a thin adapter: the likelihood, the optimiser, the standard errors
and every prediction come from :mod:`crmmodels.clv` (``BGNBD``, ``MBGNBD``,
``ParetoNBD``, ``BGBB``, ``GammaGamma``). The adapter only translates names, argument
orders, return types and the penalty convention of lifetimes.

Penalty convention reproduced here
----------------------------------
lifetimes minimises, for BG/NBD, MBG/NBD, BG/BB and Gamma-Gamma,

    ``-sum(w * loglik) / sum(w) + penalizer_coef * sum(theta ** 2)``

and for Pareto/NBD ``-sum(w * loglik) / mean(w) + penalizer_coef * sum(theta ** 2)``,
where ``theta`` are the natural parameters *after* the time axis has been rescaled so
that the oldest customer has ``T = 1`` (BG/NBD, MBG/NBD and Pareto/NBD only; the rate
parameters ``alpha`` and ``beta`` are divided back afterwards). The crmmodels base
minimises the mean negative log-likelihood plus ``penalizer * sum(theta ** 2)``, so the
adapters fit the engine on the rescaled time axis with ``penalizer = penalizer_coef``
(divided by the number of rows for Pareto/NBD) and rescale the parameters back.
"""

from crmmodels.compat.lifetimes.fitters._base import BaseFitter
from crmmodels.compat.lifetimes.fitters._bgbb import BetaGeoBetaBinomFitter
from crmmodels.compat.lifetimes.fitters._gamma_gamma import GammaGammaFitter
from crmmodels.compat.lifetimes.fitters._rfm import (
    BetaGeoFitter,
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
