"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np

from crmmodels.clv._base import MLEModel, _check, as_float_array
from crmmodels.clv._limits import GAMMA_GAMMA_LIMITS, Limit
from crmmodels.errors import DataError
from crmmodels.kernels import gamma_gamma as _k
from crmmodels.kernels._optim import FloatArray

__all__ = ["GammaGamma"]


class GammaGamma(MLEModel):
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
        frequency: FloatArray, monetary_value: FloatArray, *, for_fit: bool = True
    ) -> None:
        x, m = np.broadcast_arrays(frequency, monetary_value)
        for arr, nm in ((x, "frequency"), (m, "monetary_value")):
            _check(arr, ~np.isfinite(arr), nm, "is not finite (NaN or inf)")
            _check(arr, arr < 0, nm, "is negative")
        _check(x, x != np.round(x), "frequency", "is not an integer")
        if for_fit:  # the likelihood needs log(m); predictions are defined at m = 0
            _check(
                m,
                (x > 0) & (m <= 0),
                "monetary_value",
                "is not positive although frequency > 0",
                "The Gamma-Gamma likelihood needs positive mean spend for repeat buyers: "
                "fit on summary[summary['monetary_value'] > 0]; predictions accept 0.",
            )

    def fit(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        monetary_value: Any = None,
        weights: Any = None,
        frequency_col: str = "frequency",
        monetary_value_col: str = "monetary_value",
        weights_col: str | None = None,
    ) -> Self:
        """Fit the spend model by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame-like, optional
            Customer summary with ``frequency_col`` and ``monetary_value_col`` (mean value
            of the repeat transactions), any narwhals-supported frame.
        frequency, monetary_value, weights : array_like, optional
            Keyword arrays instead of a frame.
        frequency_col, monetary_value_col, weights_col : str
            Column names in ``summary``.

        Returns
        -------
        self

        Raises
        ------
        DataError
            Bad values, or no customer with ``frequency >= 1``.
        """
        data, w = self._gather(
            summary,
            {
                "frequency": (frequency_col, frequency),
                "monetary_value": (monetary_value_col, monetary_value),
            },
            weights,
            weights_col,
        )
        x, m = data["frequency"], data["monetary_value"]
        self._validate_spend(x, m)
        keep = x > 0
        if w is not None:
            keep &= w > 0
        if not np.any(keep):
            raise DataError(
                "GammaGamma.fit: no customer with frequency >= 1 (and positive weight); "
                "the spend model needs repeat transactions."
            )
        kept: Mapping[str, FloatArray] = {"frequency": x[keep], "monetary_value": m[keep]}
        self._fit_arrays(kept, None if w is None else w[keep])
        self.n_excluded_ = int(np.count_nonzero(~keep))
        self.diagnostics_["n_excluded"] = self.n_excluded_
        return self

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
        """Rebuild a model from :meth:`to_dict` output (validated)."""
        model = super().from_dict(payload)
        model.n_excluded_ = int(model.diagnostics_.get("n_excluded", 0) or 0)
        return model

    def population_mean_spend(self) -> float:
        r"""Mean transaction value in the population, :math:`pv/(q-1)` (inf if ``q <= 1``)."""
        return _k.population_mean_spend(self._params_array())

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any) -> FloatArray:
        """Expected mean transaction value of each customer.

        A weighted mean of the population mean and the customer's own mean; customers
        with ``frequency == 0`` get the population mean.

        Parameters
        ----------
        frequency, monetary_value : array_like
            Repeat transactions and their mean value (ignored when frequency is 0).

        Returns
        -------
        ndarray
            Aligned with the inputs.
        """
        params = self._params_array()
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        try:
            x, m = np.broadcast_arrays(x, m)
        except ValueError as exc:
            raise DataError(
                "frequency and monetary_value must have equal lengths; got shapes "
                f"{np.shape(x)} and {np.shape(m)}."
            ) from exc
        self._validate_spend(x, m, for_fit=False)
        return _k.conditional_expected_spend(params, x, m)

    def log_likelihood(self, frequency: Any, monetary_value: Any) -> FloatArray:
        """Log-density of each customer's mean spend (``frequency >= 1`` rows only).

        Returns
        -------
        ndarray
            NaN where ``frequency == 0``.
        """
        params = self._params_array()
        x, m = np.broadcast_arrays(
            as_float_array(frequency, "frequency"), as_float_array(monetary_value, "m")
        )
        self._validate_spend(x, m)
        out = np.full(x.shape, np.nan)
        pos = x > 0
        out[pos] = _k.loglik(params, x[pos], m[pos])
        return out
