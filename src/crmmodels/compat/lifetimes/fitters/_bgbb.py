"""BG/BB with lifetimes' API (``BetaGeoBetaBinomFitter``)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln

from crmmodels._ingest.arguments import check_number
from crmmodels.clv._base import MLEModel, as_float_array
from crmmodels.clv._bgbb import BGBB
from crmmodels.compat.lifetimes.fitters._base import BaseFitter, _whole_counts, _wrap

__all__ = ["BetaGeoBetaBinomFitter"]


class BetaGeoBetaBinomFitter(BaseFitter):
    """BG/BB model with lifetimes' API (``BetaGeoBetaBinomFitter``), computed by ``BGBB``.

    Examples
    --------
    >>> from crmmodels.compat.lifetimes import BetaGeoBetaBinomFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_donations
    >>> d = load_donations()
    >>> m = BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"], d["weights"])
    >>> m  # doctest: +NORMALIZE_WHITESPACE
    <lifetimes.BetaGeoBetaBinomFitter: fitted with 22 subjects, alpha: 1.20, beta: 0.75, delta:
    2.78, gamma: 0.66>
    """

    _engine: ClassVar[type[MLEModel]] = BGBB
    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        weights: Any = None,
        initial_params: Any = None,
        verbose: bool = False,
        tol: float = 1e-7,
        index: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Fit the BG/BB model (lifetimes' signature; ``initial_params`` are log values).

        Returns
        -------
        self
        """
        x = _whole_counts(frequency, "frequency")
        tx = _whole_counts(recency, "recency")
        n = _whole_counts(n_periods, "n_periods")
        w = np.ones_like(tx) if weights is None else np.asarray(weights)
        engine = BGBB(
            penalizer=check_number(self.penalizer_coef, "penalizer_coef", low=0.0),
            initial_params=self._initial(initial_params, [1.0] * 4, True),
            **self._engine_kwargs(tol, kwargs),
        )
        engine.fit(
            frequency=x.astype(np.float64),
            recency=tx.astype(np.float64),
            n_periods=n.astype(np.float64),
            weights=as_float_array(w, "weights"),
        )
        data = pd.DataFrame(
            {"frequency": x, "recency": tx, "n_periods": n, "weights": w}, index=index
        )
        self._store(engine, [1.0] * 4, data, verbose)
        return self

    @property
    def _bgbb(self) -> BGBB:
        model = self._model()
        assert isinstance(model, BGBB)
        return model

    def conditional_expected_number_of_purchases_up_to_time(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Expected transactions in the next ``m_periods_in_future`` opportunities."""
        out = self._bgbb.conditional_expected_purchases(
            m_periods_in_future, frequency, recency, n_periods
        )
        return _wrap(out, m_periods_in_future, frequency, recency, n_periods)

    def conditional_probability_alive(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Probability of being alive at opportunity ``n_periods + m_periods_in_future``.

        The engine's P(alive at ``n_periods + 1``) times the posterior probability of
        surviving to ``n + m``, ``B(gamma, delta + n + m) / B(gamma, delta + n + 1)``.
        """
        model = self._bgbb
        alive = model.probability_alive(frequency, recency, n_periods)
        g, d = self.params_["gamma"], self.params_["delta"]
        n = as_float_array(n_periods, "n_periods")
        m = as_float_array(m_periods_in_future, "m_periods_in_future")
        survive = np.exp(betaln(g, d + n + m) - betaln(g, d + n + 1.0))
        return _wrap(alive * survive, m_periods_in_future, frequency, recency, n_periods)

    def expected_number_of_transactions_in_first_n_periods(self, n: Any) -> pd.DataFrame:
        """Expected number of customers with ``x`` transactions in the first ``n`` opportunities.

        Returns
        -------
        pandas.DataFrame
            Index ``frequency`` (the values seen in the data), column ``model``.
        """
        model = self._bgbb
        counts = self.data.groupby("frequency")["weights"].sum()
        x = np.asarray(counts.index, dtype=np.float64)
        prob = model.probability_of_purchases(x, n)
        idx = pd.Index(np.asarray(counts.index), name="frequency")
        return pd.DataFrame(np.asarray(prob) * float(counts.sum()), index=idx, columns=["model"])
