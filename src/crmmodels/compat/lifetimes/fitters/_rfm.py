"""BG/NBD, MBG/NBD and Pareto/NBD with lifetimes' API (fitted on frequency, recency, T)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels.clv._base import MLEModel, as_float_array
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._purchase import RFMModel
from crmmodels.compat.lifetimes.fitters._base import BaseFitter, _whole_counts, _wrap
from crmmodels.compat.lifetimes.utils import _scale_time
from crmmodels.errors import DataError
from crmmodels.kernels import bgnbd as _kbg
from crmmodels.kernels import mbgnbd as _kmbg
from crmmodels.kernels import pareto_nbd as _kpn

__all__ = ["BetaGeoFitter", "ModifiedBetaGeoFitter", "ParetoNBDFitter"]


def _validate_as_lifetimes(frequency: Any, recency: Any, T: Any, *, t_name: str = "T") -> None:
    """The engine's checks of (x, t_x, T), except that x = 0 may come with t_x > 0.

    lifetimes accepts such rows (a summary built elsewhere, or a grid of inputs) and
    evaluates its formulas on them; so does this layer. Every other rule still holds.
    """
    x, tx, tt = np.broadcast_arrays(frequency, recency, T)
    valid = np.isfinite(tx) & (tx >= 0) & (tx <= tt * (1 + 1e-12) + 1e-12)
    RFMModel._validate_rfm(x, np.where((x == 0) & valid, 0.0, tx), tt, t_name=t_name)


class _LifetimesBGNBD(BGNBD):
    _validate_rfm = staticmethod(_validate_as_lifetimes)


class _LifetimesMBGNBD(MBGNBD):
    _validate_rfm = staticmethod(_validate_as_lifetimes)


class _LifetimesParetoNBD(ParetoNBD):
    _validate_rfm = staticmethod(_validate_as_lifetimes)


class _RFMFitter(BaseFitter):
    """BG/NBD, MBG/NBD and Pareto/NBD: fitted on frequency, recency, T."""

    _rate_params: ClassVar[tuple[str, ...]] = ("alpha",)
    _penalty_per_row: ClassVar[bool] = False
    _log_initial: ClassVar[bool] = True
    _lenient: ClassVar[type[MLEModel]]
    _scale: float
    _negative_log_likelihood_: float

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Fit the model on customer histories (lifetimes' signature).

        Parameters
        ----------
        frequency, recency, T : array_like
            Repeat purchases, time of the last purchase, customer age.
        weights : array_like, optional
            Number of customers each row stands for.
        initial_params : array_like, optional
            Starting values in lifetimes' convention (log parameters on the rescaled time
            axis; natural parameters for Pareto/NBD).
        verbose : bool
            Print the optimiser diagnostics.
        tol : float
            Optimiser tolerance.
        index : array_like, optional
            Index of ``self.data``.
        **kwargs
            ``maxiter`` is honoured; other scipy options are ignored.

        Returns
        -------
        self
        """
        x = _whole_counts(frequency, "frequency").astype(np.float64)
        tx = as_float_array(recency, "recency")
        tt = as_float_array(T, "T")
        w = (
            np.ones(tx.shape[0], dtype=np.int64)
            if weights is None
            else np.asarray(as_float_array(weights, "weights"))
        )
        if tt.size == 0:
            raise DataError("There exists a zero length vector in one of frequency, recency or T.")
        scale = _scale_time(tt)
        scales = [1.0 / scale if k in self._rate_params else 1.0 for k in self._param_names]
        engine_kw = self._engine_kwargs(tol, kwargs)
        lam = float(self.penalizer_coef)
        if self._penalty_per_row:
            lam = lam / float(tx.shape[0])
        engine = self._engine(
            penalizer=lam,
            initial_params=self._initial(initial_params, scales, self._log_initial),
            **engine_kw,
        )
        engine.fit(frequency=x, recency=tx * scale, T=tt * scale, weights=w)  # type: ignore[attr-defined]
        data = pd.DataFrame(
            {"frequency": x.astype(int), "recency": tx, "T": tt, "weights": w}, index=index
        )
        self._store(engine, scales, data, verbose)
        self._scale = scale
        nat = np.array([engine.params_[k] for k in self._param_names])
        start = nat if not self._log_initial else np.log(nat)
        objective = type(self)._negative_log_likelihood
        self._negative_log_likelihood_ = float(
            objective(start, x, tx * scale, tt * scale, w, float(self.penalizer_coef))
        )
        self._after_load()
        return self

    @staticmethod
    def _negative_log_likelihood(
        log_params: Any, freq: Any, rec: Any, T: Any, weights: Any, penalizer_coef: float
    ) -> Any:
        raise NotImplementedError

    def _after_load(self) -> None:
        self.predict = self.conditional_expected_number_of_purchases_up_to_time
        self.__dict__["generate_new_data"] = type(self).generate_new_data.__get__(self)

    def generate_new_data(self, size: int = 1, seed: Any = None) -> pd.DataFrame:
        """Simulate ``size`` customers from the fitted model with the fitted ages ``T``.

        lifetimes sets this attribute after ``fit``; ``T`` must hold ``size`` values
        (the default ``size=1`` only works for one fitted customer, as in lifetimes).
        """
        from crmmodels.compat.lifetimes import generate_data as _g

        fn: Any = {
            "BetaGeoFitter": _g.beta_geometric_nbd_model,
            "ModifiedBetaGeoFitter": _g.modified_beta_geometric_nbd_model,
            "ParetoNBDFitter": _g.pareto_nbd_model,
        }[type(self).__name__]
        params = self._unload_params(*self._param_names)
        out: pd.DataFrame = fn(self.data["T"].to_numpy(), *params, size=size, seed=seed)
        return out

    @property
    def _rfm(self) -> Any:
        """The fitted model, accepting lifetimes' inputs (x = 0 with t_x > 0)."""
        model = self._model()
        twin = self.__dict__.get("_lenient_model")
        if twin is None or twin.params_ != model.params_:
            twin = self._lenient.from_params(**model.params_)
            self.__dict__["_lenient_model"] = twin
        return twin

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """Expected repeat purchases in ``(T, T + t]`` given the history (x, t_x, T)."""
        out = self._rfm.conditional_expected_purchases(t, frequency, recency, T)
        return _wrap(out, t, frequency, recency, T)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with history (x, t_x, T) is alive at T."""
        out = self._rfm.probability_alive(frequency, recency, T)
        return np.atleast_1d(np.asarray(out, dtype=np.float64))

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """Expected repeat purchases of a new customer in ``(0, t]``."""
        return _wrap(self._rfm.expected_purchases(t), t)

    def _alive_kernel(self, x: Any, tx: Any, tt: Any) -> Any:
        raise NotImplementedError

    def conditional_probability_alive_matrix(
        self, max_frequency: int | None = None, max_recency: int | None = None
    ) -> Any:
        """P(alive) with rows recency ``0..max_recency`` and columns frequency.

        Customers have age ``T = max_recency``; lifetimes' defaults (largest observed
        frequency and age) apply.
        """
        self._check_fitted()
        max_frequency = max_frequency or int(self.data["frequency"].max())
        max_recency = max_recency or int(self.data["T"].max())
        tx, x = np.meshgrid(
            np.arange(max_recency + 1, dtype=np.float64),
            np.arange(max_frequency + 1, dtype=np.float64),
            indexing="ij",
        )
        return self._alive_kernel(x, tx, np.full(x.shape, float(max_recency)))


class BetaGeoFitter(_RFMFitter):
    """BG/NBD model with lifetimes' API (``BetaGeoFitter``), computed by ``BGNBD``.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty on the parameters (lifetimes' convention, see the module docstring).

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import BetaGeoFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> data = load_cdnow_summary(index_col=[0])
    >>> bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    >>> bgf
    <lifetimes.BetaGeoFitter: fitted with 2357 subjects, a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>
    >>> float(round(bgf.conditional_expected_number_of_purchases_up_to_time(1, 2, 30.43, 38.86), 4))
    0.0374
    """

    _engine: ClassVar[type[MLEModel]] = BGNBD
    _lenient: ClassVar[type[MLEModel]] = _LifetimesBGNBD
    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _modified: ClassVar[bool] = False

    @staticmethod
    def _negative_log_likelihood(
        log_params: Any, freq: Any, rec: Any, T: Any, weights: Any, penalizer_coef: float
    ) -> Any:
        """The lifetimes objective: weighted mean negative log-likelihood plus the L2 penalty.

        ``log_params`` are the logs of ``(r, alpha, a, b)``; the rows are evaluated by
        the crmmodels kernel (``kernels.bgnbd.loglik``).
        """
        return _objective(log_params, True, freq, rec, T, weights, penalizer_coef, _kbg.loglik)

    def _alive_kernel(self, x: Any, tx: Any, tt: Any) -> Any:
        params = np.array(self._unload_params(*self._param_names))
        out = _kbg.probability_alive(params, x, tx, tt, modified=self._modified)
        if not self._modified:
            out = np.where(x == 0, 1.0, out)
        return out

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """Probability of exactly ``n`` repeat purchases in ``(0, t]`` for a new customer."""
        return _wrap(self._rfm.probability_of_purchases(n, t), t, n)


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """MBG/NBD model with lifetimes' API (``ModifiedBetaGeoFitter``), computed by ``MBGNBD``.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import ModifiedBetaGeoFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> d = load_cdnow_summary()
    >>> m = ModifiedBetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    >>> m  # doctest: +NORMALIZE_WHITESPACE
    <lifetimes.ModifiedBetaGeoFitter: fitted with 2357 subjects, a: 0.89, alpha: 6.18, b: 1.61,
    r: 0.52>
    """

    _engine: ClassVar[type[MLEModel]] = MBGNBD
    _lenient: ClassVar[type[MLEModel]] = _LifetimesMBGNBD
    _modified: ClassVar[bool] = True

    @staticmethod
    def _negative_log_likelihood(
        log_params: Any, freq: Any, rec: Any, T: Any, weights: Any, penalizer_coef: float
    ) -> Any:
        """The lifetimes MBG/NBD objective (log parameters), rows from ``kernels.mbgnbd``."""
        return _objective(log_params, True, freq, rec, T, weights, penalizer_coef, _kmbg.loglik)


class ParetoNBDFitter(_RFMFitter):
    """Pareto/NBD model with lifetimes' API (``ParetoNBDFitter``), computed by ``ParetoNBD``.

    lifetimes fits this model with Nelder-Mead from random starts and reports no standard
    errors; the adapter uses the engine's gradient-based fit and reports them.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import ParetoNBDFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> d = load_cdnow_summary()
    >>> m = ParetoNBDFitter().fit(d["frequency"], d["recency"], d["T"])
    >>> m  # doctest: +NORMALIZE_WHITESPACE
    <lifetimes.ParetoNBDFitter: fitted with 2357 subjects, alpha: 10.58, beta: 11.67, r: 0.55, s:
    0.61>
    """

    _engine: ClassVar[type[MLEModel]] = ParetoNBD
    _lenient: ClassVar[type[MLEModel]] = _LifetimesParetoNBD
    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _rate_params: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    _penalty_per_row: ClassVar[bool] = True
    _log_initial: ClassVar[bool] = False

    def fit(  # type: ignore[override]
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        iterative_fitting: int = 1,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        fit_method: str = "Nelder-Mead",
        maxiter: int = 2000,
        **kwargs: Any,
    ) -> Any:
        """Fit the Pareto/NBD model (lifetimes' signature).

        ``iterative_fitting`` and ``fit_method`` are accepted and ignored: the engine
        restarts by itself when needed and uses L-BFGS-B with analytic gradients.
        ``initial_params`` are natural parameters on lifetimes' rescaled time axis.
        """
        if iterative_fitting <= 0:
            raise DataError(
                "iterative_fitting parameter should be greater than 0 as of lifetimes v0.2.1"
            )
        kwargs.setdefault("maxiter", max(int(maxiter), 1000))
        return super().fit(
            frequency, recency, T, weights, initial_params, verbose, tol, index, **kwargs
        )

    def _alive_kernel(self, x: Any, tx: Any, tt: Any) -> Any:
        params = np.array(self._unload_params(*self._param_names))
        return _kpn.probability_alive(params, x, tx, tt)

    @staticmethod
    def _negative_log_likelihood(
        params: Any, freq: Any, rec: Any, T: Any, weights: Any, penalizer_coef: float
    ) -> Any:
        """The lifetimes Pareto/NBD objective: natural parameters, divided by the mean weight.

        ``inf`` when a parameter is not positive (as lifetimes); rows are evaluated by
        ``kernels.pareto_nbd.log_likelihood``.
        """
        if np.any(np.asarray(params, dtype=np.float64) <= 0.0):
            return np.inf
        return _objective(params, False, freq, rec, T, weights, penalizer_coef, _kpn.log_likelihood)

    @staticmethod
    def _log_A_0(params: Any, freq: Any, recency: Any, age: Any) -> Any:
        """The log of A_0 in the Pareto/NBD likelihood (Fader & Hardie 2005 note, eqs. 19-20).

        Computed in log space by the crmmodels kernel, so large frequencies neither
        overflow nor underflow. Scalars in give a scalar out.
        """
        x, tx, tt = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (freq, recency, age))
        x, tx, tt = np.broadcast_arrays(x, tx, tt)
        r, _, s, _ = (float(p) for p in params)
        _, _, log_b, _, _ = _kpn._log_terms(params, x.ravel(), tx.ravel(), tt.ravel(), False)
        out = log_b - (np.log(s) - np.log(r + s + x.ravel()))
        if all(np.ndim(v) == 0 for v in (freq, recency, age)):
            return np.float64(out[0])
        return out.reshape(x.shape)

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with history (x, t_x, T) is alive at T."""
        out = self._rfm.probability_alive(frequency, recency, T)
        return _wrap(out, frequency, recency, T)

    def conditional_probability_of_n_purchases_up_to_time(
        self, n: Any, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """Probability of n purchases in the next t for a customer with history (x, t_x, T).

        lifetimes returns 0 for ``t <= 0``; so does this method.
        """
        if np.ndim(t) == 0 and float(t) <= 0:
            return 0
        out = self._rfm.conditional_probability_of_purchases(n, t, frequency, recency, T)
        if all(np.ndim(v) == 0 for v in (n, t, frequency, recency, T)):
            out = out.reshape(())
        return _wrap(out, frequency, recency, T)


def _objective(
    params: Any,
    log_scale: bool,
    freq: Any,
    rec: Any,
    T: Any,
    weights: Any,
    penalizer_coef: float,
    loglik: Any,
) -> Any:
    """``-sum(w * loglik) / norm(w) + penalizer_coef * sum(theta ** 2)`` as lifetimes.

    The norm is ``sum(w)`` for the log-parameter models and ``mean(w)`` for Pareto/NBD.
    """
    theta = np.asarray(params, dtype=np.float64)
    if log_scale:
        theta = np.exp(theta)
    w = np.asarray(weights, dtype=np.float64)
    rows = loglik(theta, freq, rec, T)
    norm = w.sum() if log_scale else w.mean()
    return -(w * rows).sum() / norm + penalizer_coef * np.sum(theta**2)
