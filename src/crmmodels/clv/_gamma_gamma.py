"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from crmmodels._ingest.renames import renamed_arguments
from crmmodels.clv._covariates_spend import predict_spend_covariates
from crmmodels.clv._fitting import SummaryModel
from crmmodels.clv._inputs import as_float_array
from crmmodels.clv._inputs import broadcast as _broadcast
from crmmodels.clv._inputs import check as _check
from crmmodels.clv._limits import GAMMA_GAMMA_LIMITS, Limit
from crmmodels.clv._predict import (
    AUTO_ID,
    check_predict_args,
    interval_columns,
    prediction_customer_column,
    read_frame,
    result_frame,
    split_arguments,
    summary_frame,
)
from crmmodels.engines import count_rows, on_engine, score_frame
from crmmodels.errors import ArgumentError, CRMModelsWarning, DataError, warn
from crmmodels.kernels import gamma_gamma as _k
from crmmodels.kernels._optim import FloatArray

__all__ = ["GammaGamma"]


class GammaGamma(SummaryModel):
    r"""Gamma-Gamma model of the mean transaction value.

    Each transaction value is :math:`\mathrm{Gamma}(p, \nu)`, with
    :math:`\nu \sim \mathrm{Gamma}(q, v)` across customers (``v`` is the papers'
    :math:`\gamma`). Fitted by maximum likelihood on the customers with at least one
    repeat transaction (``frequency >= 1``) and their mean repeat-transaction value;
    customers with ``frequency == 0`` carry no spend information: they are excluded from
    the fit and counted in ``n_excluded_``.

    Parameters
    ----------
    penalizer, initial_params, n_restarts, tol, max_iter, on_nonconvergence
        See :class:`crmmodels.clv._base.MLEModel`.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``v``.
    n_excluded_ : int
        Rows with ``frequency == 0`` left out of the fit.

    Notes
    -----
    The model assumes spend is independent of the transaction process; check that the
    correlation between ``frequency`` and ``monetary_value`` is weak before combining it
    with a transaction model for CLV.

    References
    ----------
    Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
    Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430.
    Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value".

    Examples
    --------
    >>> from crmmodels.clv import GammaGamma
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> gg = GammaGamma().fit(s)
    >>> {k: round(v, 2) for k, v in gg.params_.items()}, gg.n_excluded_
    ({'p': 6.25, 'q': 3.74, 'v': 15.45}, 1411)
    >>> gg.conditional_expected_spend([0, 2], [0.0, 30.0]).round(2)
    array([35.17, 30.93])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    _limits: ClassVar[tuple[Limit, ...]] = GAMMA_GAMMA_LIMITS
    _divergence_hints: ClassVar[dict[str, str]] = {
        "p": (
            "A growing p means the amounts vary less between a customer's transactions "
            "than any gamma distribution allows (for example every customer always spends "
            "the same amount); the Gamma-Gamma model does not fit such data."
        )
    }
    _data_names: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")
    _takes_covariates: ClassVar[bool] = True

    n_excluded_: int

    def _loglik_grad(
        self, params: FloatArray, data: dict[str, FloatArray], counts: FloatArray
    ) -> tuple[float, FloatArray]:
        return _k.loglik_grad(params, data["frequency"], data["monetary_value"], counts)

    def _initial_params(self, data: dict[str, FloatArray], counts: FloatArray) -> FloatArray:
        mean_m = float(np.sum(counts * data["monetary_value"])) / float(counts.sum())
        return np.array([1.0, 2.0, max(mean_m, 1e-8)])

    @staticmethod
    def _validate_spend(
        frequency: FloatArray, monetary_value: FloatArray, *, positive_spend: bool = False
    ) -> None:
        x, m = np.broadcast_arrays(frequency, monetary_value)
        for arr, nm in ((x, "frequency"), (m, "monetary_value")):
            _check(arr, ~np.isfinite(arr), nm, "is not finite (NaN or inf)")
            _check(arr, arr < 0, nm, "is negative")
        _check(x, x != np.round(x), "frequency", "is not an integer")
        if positive_spend:  # the likelihood needs log(m); predictions are defined at m = 0
            _check(
                m,
                (x > 0) & (m <= 0),
                "monetary_value",
                "is not positive although frequency > 0",
                "The Gamma-Gamma likelihood needs positive mean spend for repeat buyers; "
                "predictions accept 0.",
            )

    def _check_inputs(
        self, data: dict[str, FloatArray], weights: FloatArray | None, where: str
    ) -> tuple[dict[str, FloatArray], FloatArray | None, dict[str, int]]:
        """The rows the likelihood uses, and the counts of rows left out.

        Customers with ``frequency == 0`` (or weight 0) carry no spend information;
        repeat buyers whose mean spend is 0 have no Gamma-Gamma density. Both are left
        out; the second with a :class:`~crmmodels.errors.CRMModelsWarning`.
        """
        x, m = data["frequency"], data["monetary_value"]
        self._validate_spend(x, m)
        used = x > 0
        if weights is not None:
            used &= weights > 0
        zero_spend = used & (m == 0)
        n_zero_spend = count_rows(zero_spend)
        keep = used & ~zero_spend
        n_no_repeat = count_rows(~used)
        if n_zero_spend:
            rows = "customer" if n_zero_spend == 1 else "customers"
            warn(
                f"{where}: left out {n_zero_spend} {rows} with frequency > 0 but "
                "monetary_value 0 (the Gamma-Gamma likelihood needs a positive mean spend); "
                "the count is in diagnostics_['n_zero_spend_excluded'] and n_excluded_. "
                "conditional_expected_spend still predicts their spend. To silence this, "
                "fit on summary[summary['monetary_value'] > 0].",
                CRMModelsWarning,
            )
        if not np.any(keep):
            raise DataError(
                f"{where}: no customer with frequency >= 1, a positive "
                "monetary_value (and a positive weight); the spend model needs repeat "
                "transactions."
            )
        kept = {"frequency": x[keep], "monetary_value": m[keep]}
        left_out = {"n_no_repeat_excluded": n_no_repeat, "n_zero_spend_excluded": n_zero_spend}
        return kept, None if weights is None else weights[keep], left_out

    def _record_left_out(self, left_out: Mapping[str, int]) -> None:
        self.n_excluded_ = sum(left_out.values())
        self.diagnostics_["n_excluded"] = self.n_excluded_
        super()._record_left_out(left_out)

    @classmethod
    def from_params(cls, **params: float) -> Self:
        """Build a fitted model from known ``p``, ``q`` and ``v``.

        Examples
        --------
        >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
        >>> round(gg.population_mean_spend(), 2)
        35.22
        """
        model = super().from_params(**params)
        model.n_excluded_ = 0
        return model

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Self:
        """Rebuild a model from :meth:`to_dict` output (every field validated)."""
        model = super().from_dict(payload)
        model.n_excluded_ = int(model.diagnostics_.get("n_excluded", 0))
        return model

    def population_mean_spend(self) -> float:
        r"""Mean transaction value in the population, :math:`pv/(q-1)` (inf if ``q <= 1``)."""
        return _k.population_mean_spend(self._params_array())

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any = None) -> FloatArray:
        r"""Expected mean transaction value of each customer.

        A weighted mean of the population mean and the customer's own mean; customers
        with ``frequency == 0`` get the population mean.

        The posterior mean :math:`p(v + x m_x)/(px + q - 1)` exists only when
        :math:`px + q > 1` (and the population mean only when :math:`q > 1`). Where it
        does not, the expected spend is infinite: the result holds ``inf`` there (never a
        negative value) and a :class:`~crmmodels.errors.CRMModelsWarning` says for how
        many customers. Refit with more data, or with ``initial_params`` away from the
        small-``q`` region, when this happens on a fitted model.

        Parameters
        ----------
        frequency, monetary_value : array_like
            Repeat transactions and their mean value (ignored when frequency is 0); or
            a summary frame alone (any engine), read with the columns of the fit
            (``columns_``).

        Returns
        -------
        ndarray
            Aligned with the inputs.

        Examples
        --------
        >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
        >>> gg.conditional_expected_spend([0, 1, 4], [0.0, 20.0, 35.5]).round(2)
        array([35.22, 24.64, 35.47])
        """
        params = self._params_array()
        if hasattr(self, "covariates_"):
            raise ArgumentError(
                "GammaGamma.conditional_expected_spend: this model has covariates, so every "
                "customer has its own spend scale; use predict(summary) on a summary with the "
                f"covariate columns {self.covariates_.columns}."
            )
        _, (frequency, monetary_value) = split_arguments(
            self,
            "conditional_expected_spend",
            (frequency, monetary_value),
            ("frequency", "monetary_value"),
            0,
        )
        x, m = _broadcast(
            {
                "frequency": as_float_array(frequency, "frequency"),
                "monetary_value": as_float_array(monetary_value, "monetary_value"),
            }
        )
        self._validate_spend(x, m)
        out = _k.conditional_expected_spend(params, x, m)
        n_inf = int(np.count_nonzero(np.isinf(out)))
        if n_inf:
            p, q = self.params_["p"], self.params_["q"]
            rows = "customer" if n_inf == 1 else "customers"
            warnings.warn(
                f"GammaGamma.conditional_expected_spend: the expected spend is infinite for "
                f"{n_inf} {rows}: with p={p:.4g} and q={q:.4g}, p * frequency + q <= 1 "
                "(q <= 1 for frequency 0), where the model's posterior mean spend does not "
                "exist. These values are inf.",
                CRMModelsWarning,
                stacklevel=2,
            )
        return out

    @renamed_arguments(interval="level")
    def predict(
        self,
        summary: Any,
        *,
        level: float | None = None,
        customer_col: str | None = AUTO_ID,
        n_draws: int = 200,
        seed: int = 0,
    ) -> Any:
        """Expected spend per transaction of every customer of a summary frame.

        Parameters
        ----------
        summary : DataFrame-like
            Customer summary on any engine with the columns of the fit (``columns_``).
        level : float, optional
            Level of per-customer intervals from parameter uncertainty:
            ``expected_spend_low`` and ``expected_spend_high`` (NaN when the model
            has no covariance, e.g. built with ``from_params``).
        customer_col : str or None, default "customer_id"
            Key column carried into the result (as in
            :meth:`crmmodels.clv.BGNBD.predict`).
        n_draws, seed : int
            Parameter draws for ``level`` and their seed.

        Returns
        -------
        DataFrame-like
            The key and ``expected_spend``, one row per input row in input order, in
            the caller's kind of frame (computed on the engine for DuckDB, Dask,
            PySpark and lazy polars; see :mod:`crmmodels.engines`).

        Examples
        --------
        >>> import pandas as pd
        >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
        >>> s = pd.DataFrame({"customer_id": [7, 8], "frequency": [0, 4],
        ...                   "monetary_value": [0.0, 35.5]})
        >>> gg.predict(s).round(2)
           customer_id  expected_spend
        0            7           35.22
        1            8           35.47
        """
        self._check_fitted()
        frame = summary_frame(self, summary, "predict")
        if hasattr(self, "covariates_"):  # each customer's own spend scale
            return predict_spend_covariates(self, summary, level, customer_col)
        level, draws, rng_seed = check_predict_args(level, n_draws, seed)
        id_col = prediction_customer_column(self, summary, customer_col)
        if on_engine(frame):  # scored where the data live, batch by batch
            args: dict[str, Any] = {"level": level, "n_draws": draws, "seed": rng_seed}
            return score_frame(self, frame, "predict", customer_col=id_col, **args)
        data, collected = read_frame(self, frame, id_col)
        x, m = data["frequency"], data["monetary_value"]
        columns = {"expected_spend": self.conditional_expected_spend(x, m)}
        if level is not None:
            columns.update(
                interval_columns(
                    self,
                    [x, m],
                    {"expected_spend": lambda g, *u: g.conditional_expected_spend(*u)},
                    level,
                    draws,
                    rng_seed,
                )
            )
        return result_frame(frame, collected, id_col, columns, {"time_unit": self.time_unit_})

    def log_likelihood(self, frequency: Any, monetary_value: Any) -> FloatArray:
        """Log-density of each customer's mean spend (``frequency >= 1`` rows only).

        Returns
        -------
        ndarray
            NaN where ``frequency == 0``.

        Raises
        ------
        DataError
            When the inputs do not broadcast together (the message gives their shapes),
            or a repeat buyer's ``monetary_value`` is not positive.

        Examples
        --------
        >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
        >>> gg.log_likelihood([0, 1], [0.0, 20.0]).round(4)
        array([    nan, -3.5942])
        """
        params = self._params_array()
        x, m = _broadcast(
            {
                "frequency": as_float_array(frequency, "frequency"),
                "monetary_value": as_float_array(monetary_value, "monetary_value"),
            }
        )
        self._validate_spend(x, m, positive_spend=True)
        out = np.full(x.shape, np.nan)
        pos = x > 0
        out[pos] = _k.loglik(params, x[pos], m[pos])
        return out
