"""The two contractual retention models: the sBG and the BdW (estimator in ``_contractual``)."""

from __future__ import annotations

from typing import Any

from crmmodels.kernels import contractual as kc
from crmmodels.retention._contractual import ContractualModel
from crmmodels.retention._contractual_data import check_periods

__all__ = ["BetaDiscreteWeibull", "ShiftedBetaGeometric"]

FloatArray = kc.FloatArray


class ShiftedBetaGeometric(ContractualModel):
    r"""Shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007).

    :math:`S(t) = B(\alpha, \beta + t)/B(\alpha, \beta)`, :math:`r(t) = (\beta+t-1)/
    (\alpha+\beta+t-1)`. See :mod:`crmmodels.retention._contractual` and the docs page
    "Contractual retention".

    Parameters
    ----------
    tol : float, default 1e-8
        Optimiser tolerance.
    max_iter : int, default 1000
        Optimiser iterations.

    Attributes
    ----------
    params_ : dict
        ``alpha``, ``beta``.
    standard_errors_ : dict
        From the observed information.
    covariance_ : numpy.ndarray
    log_likelihood_ : float
    n_customers_, n_cohorts_ : int
    data_ : SurvivalData
        The survival series fitted.
    time_unit_ : str, int or None

    Examples
    --------
    >>> from crmmodels.retention import ShiftedBetaGeometric
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]  # Fader & Hardie (2007)
    >>> m = ShiftedBetaGeometric().fit(regular, time_unit="Y")
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'alpha': 0.704, 'beta': 1.182}
    >>> m.survival([8, 12]).round(3).tolist()
    [0.22, 0.17]
    >>> round(float(m.expected_residual_lifetime(0.1, renewals=0)), 3)
    2.964
    >>> m.project(12).to_frame().columns.tolist()[:4]
    ['cohort', 'period', 'survivors', 'actual_survival']
    """

    _param_names = ("alpha", "beta")
    _short = "sBG"

    def _loglik(self, p: FloatArray, counts: tuple[FloatArray, ...]) -> tuple[float, FloatArray]:
        return kc.sbg_log_likelihood(p[0], p[1], *counts)

    def _derl(self, d: float, renewals: FloatArray) -> FloatArray:
        p = self._p()
        return kc.sbg_derl(p[0], p[1], d, renewals)

    def retention_rate(self, t: Any) -> FloatArray:
        """Share of the customers there at period ``t - 1`` who renew at ``t`` (closed form).

        Parameters
        ----------
        t : int or array_like
            Periods (whole numbers >= 1).

        Returns
        -------
        numpy.ndarray
        """
        p = self._p()
        return kc.sbg_retention_rate(p[0], p[1], check_periods(t, "t", 1))


class BetaDiscreteWeibull(ContractualModel):
    r"""Beta-discrete-Weibull (BdW) model of contract renewals (Fader et al. 2018).

    :math:`S(t) = B(\alpha, \beta + t^c)/B(\alpha, \beta)`; ``c`` < 1 means a customer's
    own churn probability falls with tenure, ``c`` > 1 that it rises; ``c`` = 1 is the
    sBG. The DERL has no closed form and is summed numerically with a bound on the
    remainder. Parameters and attributes as :class:`ShiftedBetaGeometric`, with ``c``.

    Examples
    --------
    >>> from crmmodels.retention import BetaDiscreteWeibull
    >>> high_end = [1000, 869, 743, 653, 593, 551, 517, 491]  # Fader & Hardie (2007)
    >>> m = BetaDiscreteWeibull().fit(high_end, time_unit="Y")
    >>> sorted(m.params_)
    ['alpha', 'beta', 'c']
    >>> bool((m.retention_rate([1, 2, 3]) <= 1).all())
    True
    """

    _param_names = ("alpha", "beta", "c")
    _short = "BdW"

    def _loglik(self, p: FloatArray, counts: tuple[FloatArray, ...]) -> tuple[float, FloatArray]:
        return kc.bdw_log_likelihood(p[0], p[1], p[2], *counts)

    def _c(self) -> float:
        return float(self.params_["c"])

    def _derl(self, d: float, renewals: FloatArray) -> FloatArray:
        p = self._p()
        return kc.bdw_derl(p[0], p[1], p[2], d, renewals)
