r"""Contractual retention models: shifted-beta-geometric (sBG) and beta-discrete-Weibull (BdW).

Subscribers decide at the end of each period (month, year) whether to renew. Fitted on
the survival counts of one or several cohorts, the models project survival and retention
rates, the discounted expected residual lifetime (DERL) and the value of a subscriber.

* :class:`ShiftedBetaGeometric` (Fader & Hardie 2007): every customer has a constant
  churn probability :math:`\theta`, beta-distributed across customers; retention rates
  rise over time only because the likely churners leave first.
* :class:`BetaDiscreteWeibull` (Fader, Hardie, Liu, Davin & Steenburgh 2018): adds a
  duration-dependence parameter :math:`c` (below 1: a customer's own churn probability
  falls with tenure; above 1: it rises). With :math:`c = 1` it is the sBG.

Several cohorts are pooled: one set of parameters is fitted on the right-censored
likelihood of all cohorts together, each contributing the periods it was observed for
(a cohort that started later adds fewer periods). To compare cohorts, fit one model per
cohort. The kernels are in :mod:`crmmodels.kernels.contractual`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_int, check_number
from crmmodels._ingest.periods import check_period, unit_name
from crmmodels.errors import (
    ArgumentError,
    BoundaryWarning,
    ConvergenceError,
    NotFittedError,
    warn,
)
from crmmodels.kernels import contractual as kc
from crmmodels.kernels._optim import maximize_loglik, numeric_hessian, single_thread_blas
from crmmodels.retention._contractual_data import (
    SurvivalData,
    check_periods,
    per_period_rate,
    read_survivors,
)
from crmmodels.retention._contractual_persist import JsonPersistence
from crmmodels.retention._contractual_result import ContractualRetentionResult, projection

if TYPE_CHECKING:
    from typing import Self

__all__ = ["ContractualModel"]

FloatArray = kc.FloatArray
#: sup-norm of the mean log-likelihood's gradient (log scale) accepted as an optimum when the
#: optimiser stops on a ridge running to infinity (alpha and beta growing together)
_FLAT = 1e-4
#: alpha + beta above which the beta mixing distribution is a point mass for all purposes
_HOMOGENEOUS = 1e5
#: alpha + beta of the fitted limit model
_LIMIT_SCALE = 1e7


class ContractualModel(JsonPersistence):
    """Shared estimator of the contractual models (scikit-learn conventions).

    The subclasses :class:`~crmmodels.retention.ShiftedBetaGeometric` and
    :class:`~crmmodels.retention.BetaDiscreteWeibull` supply the kernels.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _short: ClassVar[str] = ""

    params_: dict[str, float]
    standard_errors_: dict[str, float]
    covariance_: FloatArray
    log_likelihood_: float
    n_customers_: int
    n_cohorts_: int
    data_: SurvivalData
    time_unit_: str | int | None

    def __init__(self, *, tol: float = 1e-8, max_iter: int = 1000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------ sklearn conventions
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters by name (scikit-learn convention); ``deep`` is ignored.

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> ShiftedBetaGeometric(max_iter=200).get_params()
        {'tol': 1e-08, 'max_iter': 200}
        """
        return {"tol": self.tol, "max_iter": self.max_iter}

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters by name; returns ``self``.

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> ShiftedBetaGeometric().set_params(tol=1e-6).tol
        1e-06
        """
        for key, value in params.items():
            if key not in ("tol", "max_iter"):
                raise ArgumentError(
                    f"{type(self).__name__}.set_params: unknown hyper-parameter {key!r}; "
                    "valid names are ['tol', 'max_iter']."
                )
            setattr(self, key, value)
        return self

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`from_dict`) has set the parameters."""
        return hasattr(self, "params_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit(survivors) first."
            )

    def __repr__(self) -> str:
        name = type(self).__name__
        if not self.is_fitted:
            return f"{name}()"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{name}({shown}, n_customers={self.n_customers_}, cohorts={self.n_cohorts_})"

    # ------------------------------------------------------------ model-specific kernels
    def _loglik(self, p: FloatArray, counts: tuple[FloatArray, ...]) -> tuple[float, FloatArray]:
        raise NotImplementedError

    def _c(self) -> float:
        return 1.0

    def _derl(self, d: float, renewals: FloatArray) -> FloatArray:
        raise NotImplementedError

    # ------------------------------------------------------------ fitting
    def fit(
        self,
        survivors: Any,
        *,
        cohort_col: str = "cohort",
        period_col: str = "periods_since",
        active_col: str = "active",
        time_unit: Any = None,
    ) -> Self:
        """Fit the parameters by maximum likelihood on the survival counts of the cohorts.

        Parameters
        ----------
        survivors : sequence, dict, CohortRetentionResult or DataFrame-like
            Customers still subscribed at period 0 (the cohort size) and after each
            renewal: one cohort as a sequence (``[1000, 631, 468, ...]``), several as a
            dict ``{cohort: counts}`` (the series may have different lengths), the output
            of :func:`crmmodels.retention.cohort_retention`, or a long frame on any engine
            with one row per cohort and period (``cohort_col``, ``period_col``,
            ``active_col``; the layout of ``cohort_retention(...).to_frame()``).
        cohort_col, period_col, active_col : str
            Columns of a long frame.
        time_unit : str or int, optional
            The length of a period (``"M"``, ``"Y"``...), remembered as ``time_unit_``
            for the results; taken from a ``CohortRetentionResult`` when not given.

        Returns
        -------
        self

        Raises
        ------
        DataError
            A series that increases, starts at zero, is negative, not whole, or has NaN
            inside; no cohort with a renewal period; no customer lost.
        ConvergenceError
            The optimiser did not converge.

        Examples
        --------
        >>> from crmmodels.retention import BetaDiscreteWeibull
        >>> cohorts = {"2022": [1000, 869, 743, 653], "2023": [800, 690, 600]}
        >>> m = BetaDiscreteWeibull().fit(cohorts, time_unit="Y")
        >>> m.n_cohorts_, m.n_customers_, m.time_unit_
        (2, 1800, 'Y')
        """
        from crmmodels.retention._cohorts import CohortRetentionResult

        data = read_survivors(
            survivors, cohort_col=cohort_col, period_col=period_col, active_col=active_col
        )
        if time_unit is not None:
            unit: str | int | None = check_period(time_unit, "time_unit")
        elif isinstance(survivors, CohortRetentionResult):
            unit = survivors.period
        else:
            unit = None
        tol = check_number(self.tol, "tol", low=0, low_open=True)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        counts = data.likelihood_counts()
        n_obs = float(data.n_customers)
        initial = np.ones(len(self._param_names))
        with single_thread_blas():
            res = maximize_loglik(
                lambda p: self._loglik(p, counts), initial, n_obs=n_obs, tol=tol,
                max_iter=max_iter,
            )  # fmt: skip
            params, loglik = res.params, float(res.loglik)
            if params[0] + params[1] > _HOMOGENEOUS:
                params, loglik = self._homogeneous_limit(counts, params)
                cov = np.full((params.size, params.size), np.nan)
            elif not res.converged and res.gradient_norm > _FLAT:
                raise ConvergenceError(
                    f"{type(self).__name__}.fit did not converge: "
                    f"{res.diagnostics.get('message', 'no message')}.",
                    diagnostics=res.diagnostics,
                )
            else:
                hess = numeric_hessian(lambda p: self._loglik(p, counts)[1], params)
                try:
                    cov = np.asarray(np.linalg.inv(-hess), dtype=np.float64)
                except np.linalg.LinAlgError:
                    cov = np.full(hess.shape, np.nan)
        se = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
        self._set_fitted(
            dict(zip(self._param_names, map(float, params), strict=True)),
            dict(zip(self._param_names, map(float, se), strict=True)),
            cov,
            loglik,
            data,
            unit,
        )
        return self

    def _homogeneous_limit(
        self, counts: tuple[FloatArray, ...], start: FloatArray
    ) -> tuple[FloatArray, float]:
        """Fit the limit ``alpha + beta`` -> infinity: one churn probability for everyone.

        The optimum runs along a ridge to infinity when the cohorts show no heterogeneity
        (or a hazard that rises, which the sBG cannot follow). The limit model is fitted
        with ``alpha + beta`` held at ``_LIMIT_SCALE`` (the beta distribution is then a
        point mass to within 1e-7), over the mean churn probability (and ``c``).
        """
        scale = _LIMIT_SCALE
        params, loglik = kc.homogeneous_limit(lambda p: self._loglik(p, counts)[0], start, scale)
        theta = params[0] / scale
        warn(
            f"{type(self).__name__}.fit: alpha and beta grow without bound: the cohorts "
            "show no heterogeneity in the churn probability (or a churn probability that "
            "rises with tenure), and the fit is the model's limit, a single churn "
            f"probability of {theta:.4f} for everyone (alpha / (alpha + beta)), with "
            f"alpha + beta = {scale:.0e}. Standard errors are not given (NaN).",
            BoundaryWarning,
        )
        return params, loglik

    def _set_fitted(
        self,
        params: dict[str, float],
        errors: dict[str, float],
        cov: FloatArray,
        loglik: float,
        data: SurvivalData,
        unit: str | int | None,
    ) -> None:
        self.params_ = params
        self.standard_errors_ = errors
        self.covariance_ = np.asarray(cov, dtype=np.float64)
        self.log_likelihood_ = loglik
        self.data_ = data
        self.n_customers_ = data.n_customers
        self.n_cohorts_ = len(data.cohorts)
        self.time_unit_ = unit

    def _p(self) -> FloatArray:
        self._check_fitted()
        return np.array([self.params_[n] for n in self._param_names])

    def summary(self) -> pd.DataFrame:
        """Parameter table: estimate, standard error and 95% Wald interval.

        Returns
        -------
        pandas.DataFrame
            Index: parameter names; columns ``estimate``, ``std_error``, ``lower_95``,
            ``upper_95``.

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.summary().columns.tolist()
        ['estimate', 'std_error', 'lower_95', 'upper_95']
        """
        self._check_fitted()
        est = pd.Series(self.params_)
        se = pd.Series(self.standard_errors_)
        out = pd.DataFrame(
            {
                "estimate": est,
                "std_error": se,
                "lower_95": est - 1.959964 * se,
                "upper_95": est + 1.959964 * se,
            }
        )
        out.index.name = "parameter"
        return out

    def score(self, survivors: Any) -> float:
        """Mean log-likelihood per customer of other survival counts (higher is better).

        Parameters
        ----------
        survivors : sequence, dict, CohortRetentionResult or DataFrame-like
            As in :meth:`fit`.

        Returns
        -------
        float

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(m.score([1000, 630, 470]), 3)
        -1.016
        """
        data = read_survivors(survivors)
        ll, _ = self._loglik(self._p(), data.likelihood_counts())
        return ll / data.n_customers

    # ------------------------------------------------------------ predictions
    def survival(self, t: Any) -> FloatArray:
        """Share of a cohort still subscribed after ``t`` periods, :math:`S(t)`.

        Parameters
        ----------
        t : int or array_like
            Periods since the start (whole numbers >= 0).

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.survival([0, 1, 12]).round(3).tolist()
        [1.0, 0.627, 0.17]
        """
        p = self._p()
        tt = check_periods(t, "t", 0)
        return np.exp(kc.log_survival(p[0], p[1], self._c(), tt))

    def retention_rate(self, t: Any) -> FloatArray:
        """Share of the customers there at period ``t - 1`` who renew at ``t``, :math:`r(t)`.

        Parameters
        ----------
        t : int or array_like
            Periods (whole numbers >= 1).

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.retention_rate([1, 2, 12]).round(3).tolist()
        [0.627, 0.756, 0.945]
        """
        p = self._p()
        return kc.retention_rate(p[0], p[1], self._c(), check_periods(t, "t", 1))

    def expected_residual_lifetime(
        self, discount_rate: float, *, renewals: Any = 0, discount_period: float = 1.0
    ) -> FloatArray:
        r"""Discounted expected residual lifetime (DERL) of a subscriber, in payments.

        For a customer who has made ``renewals`` renewals and now faces the next one,
        :math:`\sum_{t \ge n} S(t)/S(n-1) \,(1+d)^{-(t-n)}` with :math:`n` = ``renewals``
        + 1: the next payment counts in full, later ones are discounted (Fader & Hardie
        2010). Times the payment per period it is the customer's expected residual value.

        Parameters
        ----------
        discount_rate : float
            Rate per ``discount_period`` periods (> 0).
        renewals : int or array_like
            Renewals made so far (0: a customer who has paid the first period only).
        discount_period : float, default 1
            Periods the rate refers to (12 with monthly periods and an annual rate).

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.expected_residual_lifetime(0.1, renewals=[0, 7]).round(3).tolist()
        [2.964, 6.842]
        """
        d = per_period_rate(discount_rate, discount_period)
        self._check_fitted()
        return self._derl(d, check_periods(renewals, "renewals", 0))

    def subscriber_clv(
        self,
        amount: float,
        *,
        discount_rate: float,
        margin: float = 1.0,
        renewals: Any = None,
        discount_period: float = 1.0,
    ) -> FloatArray:
        r"""Expected discounted value of a subscriber paying ``amount`` per period.

        Without ``renewals``: a customer at acquisition, the first payment included and
        undiscounted, :math:`m \sum_{t \ge 0} S(t)(1+d)^{-t} = m(1 + \mathrm{DERL}_0/(1+d))`.
        With ``renewals``: the residual value of an existing customer,
        :math:`m\,\mathrm{DERL}` (:meth:`expected_residual_lifetime`).
        :math:`m` = ``amount * margin``.

        Parameters
        ----------
        amount : float
            Payment per period.
        discount_rate : float
            Rate per ``discount_period`` periods (> 0).
        margin : float, default 1
            Share of the payment that is profit.
        renewals : int or array_like, optional
            Renewals made so far (None: a customer being acquired).
        discount_period : float, default 1
            Periods the rate refers to.

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(float(m.subscriber_clv(20.0, discount_rate=0.1)), 2)
        73.9
        """
        m = check_number(amount, "amount") * check_number(margin, "margin", low=0)
        d = per_period_rate(discount_rate, discount_period)
        self._check_fitted()
        if renewals is None:
            return np.asarray(m * (1.0 + self._derl(d, np.zeros(1))[0] / (1.0 + d)))
        return m * self._derl(d, check_periods(renewals, "renewals", 0))

    def residual_value(
        self,
        amount: float,
        *,
        discount_rate: float,
        margin: float = 1.0,
        discount_period: float = 1.0,
    ) -> pd.DataFrame:
        """Expected residual value of each fitted cohort's current subscribers.

        The customers still there at a cohort's last observed period :math:`n` have made
        :math:`n` renewals; each is worth ``amount * margin * DERL``.

        Returns
        -------
        pandas.DataFrame
            ``cohort``, ``renewals``, ``survivors``, ``derl``, ``residual_value``.

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.residual_value(20.0, discount_rate=0.1).round(1).to_dict("records")
        [{'cohort': 0, 'renewals': 7, 'survivors': 241, 'derl': 6.8, 'residual_value': 32980.0}]
        """
        self._check_fitted()
        renewals = np.array([s.size - 1 for s in self.data_.survivors], dtype=np.float64)
        survivors = np.array([s[-1] for s in self.data_.survivors])
        m = check_number(amount, "amount") * check_number(margin, "margin", low=0)
        derl = self.expected_residual_lifetime(
            discount_rate, renewals=renewals, discount_period=discount_period
        )
        return pd.DataFrame(
            {
                "cohort": list(self.data_.cohorts),
                "renewals": renewals.astype(np.int64),
                "survivors": survivors.astype(np.int64),
                "derl": derl,
                "residual_value": survivors * m * derl,
            }
        )

    def project(self, horizon: int, *, actual: Any = None) -> ContractualRetentionResult:
        """Actual against projected survival of every cohort up to period ``horizon``.

        Parameters
        ----------
        horizon : int
            Last period (since each cohort's start) to project.
        actual : sequence, dict or frame, optional
            Longer survival series (same forms as :meth:`fit`) to compare the projection
            with, e.g. the periods held out of the fit; matched by cohort label (a single
            series is the first cohort).

        Returns
        -------
        ContractualRetentionResult

        Examples
        --------
        >>> from crmmodels.retention import ShiftedBetaGeometric
        >>> m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> res = m.project(12)
        >>> round(float(res.to_frame()["projected_survivors"].iloc[-1]), 1)
        170.0
        """
        self._check_fitted()
        h = check_int(horizon, "horizon", low=1)
        extra = None if actual is None else read_survivors(actual, what="actual")
        return projection(
            self.data_,
            extra,
            h,
            self.survival,
            self._short,
            dict(self.params_),
            unit_name(self.time_unit_),
            self.log_likelihood_,
        )
