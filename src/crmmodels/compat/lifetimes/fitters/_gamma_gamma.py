"""Gamma-Gamma spend model with lifetimes' API (``GammaGammaFitter``)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_number
from crmmodels.clv._base import MLEModel, as_float_array
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.compat.lifetimes.fitters._base import BaseFitter, _wrap
from crmmodels.errors import DataError

__all__ = ["GammaGammaFitter"]


class GammaGammaFitter(BaseFitter):
    """Gamma-Gamma spend model with lifetimes' API, computed by ``GammaGamma``.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import GammaGammaFitter
    >>> from crmmodels.compat.lifetimes.datasets import (
    ...     load_cdnow_summary_data_with_monetary_value)
    >>> d = load_cdnow_summary_data_with_monetary_value()
    >>> r = d[d["frequency"] > 0]
    >>> GammaGammaFitter().fit(r["frequency"], r["monetary_value"])
    <lifetimes.GammaGammaFitter: fitted with 946 subjects, p: 6.25, q: 3.74, v: 15.45>
    """

    _engine: ClassVar[type[MLEModel]] = GammaGamma
    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def fit(
        self,
        frequency: Any,
        monetary_value: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        q_constraint: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Fit the Gamma-Gamma model (lifetimes' signature).

        ``q_constraint=True`` restricts ``q >= 1`` (a positive population mean).

        Returns
        -------
        self
        """
        x = as_float_array(frequency, "frequency")
        m = as_float_array(monetary_value, "monetary_value")
        if np.any(m <= 0):
            raise DataError(
                "monetary_value: there exist non-positive (<= 0) values; the Gamma-Gamma "
                "model needs positive mean spends (fit on customers with frequency > 0)."
            )
        w = np.ones_like(x, dtype=int) if weights is None else np.asarray(weights)
        cls: type[GammaGamma] = _GammaGammaQ if q_constraint else GammaGamma
        engine = cls(
            penalizer=check_number(self.penalizer_coef, "penalizer_coef", low=0.0),
            initial_params=self._initial(initial_params, [1.0] * 3, True),
            **self._engine_kwargs(tol, kwargs),
        )
        engine.fit(frequency=x, monetary_value=m, weights=as_float_array(w, "weights"))
        data = pd.DataFrame({"monetary_value": m, "frequency": x, "weights": w}, index=index)
        plain = GammaGamma.from_params(**engine.params_)
        plain._set_fitted(
            dict(engine.params_),
            log_likelihood=engine.log_likelihood_,
            n_customers=engine.n_customers_,
            standard_errors=dict(engine.standard_errors_),
            covariance=engine.covariance_,
            diagnostics=dict(engine.diagnostics_),
        )
        self._store(plain, [1.0] * 3, data, verbose)
        return self

    def conditional_expected_average_profit(
        self, frequency: Any = None, monetary_value: Any = None
    ) -> Any:
        """Expected mean transaction value per customer (defaults: the fitted data)."""
        self._check_fitted()
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        if frequency is None:
            frequency = self.data["frequency"]
        model = self._model()
        assert isinstance(model, GammaGamma)
        out = model.conditional_expected_spend(frequency, monetary_value)
        return _wrap(out, frequency, monetary_value)

    def customer_lifetime_value(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> pd.Series:
        """Lifetimes' CLV: monthly discounted expected purchases times expected spend.

        See :func:`crmmodels.compat.lifetimes.utils.customer_lifetime_value`.
        """
        from crmmodels.compat.lifetimes.utils import _customer_lifetime_value

        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        return _customer_lifetime_value(
            transaction_prediction_model,
            frequency,
            recency,
            T,
            spend,
            time,
            discount_rate,
            freq=freq,
        )


class _GammaGammaQ(GammaGamma):
    """Gamma-Gamma with ``q >= 1`` (lifetimes' ``q_constraint``)."""

    _log_bounds: ClassVar[tuple[tuple[float, float], ...] | None] = (
        (-23.0, 23.0),
        (0.0, 23.0),
        (-23.0, 23.0),
    )
