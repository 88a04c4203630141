"""The purchase models' shared layer: ``predict`` on frames and the history checks.

:class:`PurchaseModel` is the base of every model of purchases (BG/NBD, MBG/NBD,
Pareto/NBD, BG/BB): one ``predict`` for all of them, reading a summary frame with the
columns of the fit. :class:`RFMModel` adds what the models fitted on ``frequency``,
``recency`` and ``T`` share: the checks of those histories and the frequency x recency
matrices used for plotting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from crmmodels import engines
from crmmodels._ingest.arguments import check_choice, check_int, check_number
from crmmodels._ingest.renames import renamed_arguments
from crmmodels.clv._covariates_predict import predict_covariates
from crmmodels.clv._fitting import SummaryModel
from crmmodels.clv._inputs import as_float_array, broadcast, check, nonnegative, unique_rows
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
from crmmodels.errors import ArgumentError
from crmmodels.kernels._optim import FloatArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PurchaseModel", "RFMModel"]

#: largest frequency x recency grid the matrix methods build
_MAX_GRID_CELLS = 10_000_000


class PurchaseModel(SummaryModel):
    """Base of the models of purchases (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB): ``predict``."""

    def _check_horizon(self, horizon: Any) -> float:
        return check_number(horizon, "horizon", low=0.0)

    def _validated_history(
        self, frequency: Any, recency: Any, age: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Validate one model's three history arrays (broadcast float arrays)."""
        raise NotImplementedError

    def _history_args(
        self, method: str, args: tuple[Any, ...], names: tuple[str, ...], lead: int = 0
    ) -> tuple[list[Any], FloatArray, FloatArray, FloatArray]:
        """Leading arguments and the validated history, from arrays or a summary frame."""
        self._check_fitted()
        if hasattr(self, "covariates_"):
            raise ArgumentError(
                f"{type(self).__name__}.{method}: this model has covariates, so every customer "
                "has its own parameters; use predict(summary, horizon=...) on a summary with "
                f"the covariate columns {self.covariates_.columns}."
            )
        leading, (frequency, recency, age) = split_arguments(self, method, args, names, lead)
        x, tx, tt = self._validated_history(frequency, recency, age)
        return leading, x, tx, tt

    @renamed_arguments(interval="level")
    def predict(
        self,
        summary: Any,
        *,
        horizon: float,
        pmf: int | None = None,
        level: float | None = None,
        customer_col: str | None = AUTO_ID,
        n_draws: int = 200,
        seed: int = 0,
    ) -> Any:
        """Per-customer predictions on a summary frame: one row per input customer.

        Parameters
        ----------
        summary : DataFrame-like
            Customer summary on any engine, with the columns the model was fitted with
            (``columns_``; the defaults for a model built with ``from_params``).
        horizon : float
            Length of the prediction period after each customer's ``T``, in the model's
            time unit (``time_unit_``); whole periods for BG/BB.
        pmf : int, optional
            Also give ``p_0`` ... ``p_<pmf>``: the probability of exactly k purchases
            over the horizon (``conditional_probability_of_purchases``).
        level : float, optional
            Level (e.g. 0.9) of per-customer intervals from parameter uncertainty:
            adds ``<column>_low`` and ``<column>_high`` for ``p_alive`` and
            ``expected_purchases`` (NaN when the model has no covariance, e.g. built
            with ``from_params``). With covariates the draws are of the base parameters
            and the coefficients together, each customer at its drawn parameters.
        customer_col : str or None, default "customer_id"
            Key column carried into the result: the id column of the fit when the
            summary has it, else ``"customer_id"`` when present; a column named
            explicitly must exist; None: no key.
        n_draws, seed : int
            Parameter draws for ``level`` and their seed.

        Returns
        -------
        DataFrame-like
            The key, ``p_alive``, ``expected_purchases``, then the optional columns, one
            row per input row in input order, in the caller's kind of frame. DuckDB,
            Dask, PySpark and lazy polars inputs are scored on their engine, batch by
            batch (see :mod:`crmmodels.engines`: the model travels as JSON, ``level``
            uses the same draws, from ``seed``, in every batch). A pandas result states
            the time unit and horizon in ``attrs``.

        Raises
        ------
        ArgumentError
            A non-frame ``summary``, or a bad ``horizon``, ``pmf``, ``level``,
            ``n_draws`` or ``seed``.
        SchemaError
            Missing columns.
        DataError
            Invalid histories.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmmodels.clv import BGNBD
        >>> bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> s = pd.DataFrame({"customer_id": ["a", "b"], "frequency": [0, 2],
        ...                   "recency": [0.0, 30.43], "T": [38.86, 38.86]})
        >>> bg.predict(s, horizon=39).round(3)
          customer_id  p_alive  expected_purchases
        0           a    1.000               0.195
        1           b    0.727               1.226
        """
        self._check_fitted()
        frame = summary_frame(self, summary, "predict")
        h = self._check_horizon(horizon)
        if hasattr(self, "covariates_"):  # per-customer parameters from the covariates
            return predict_covariates(self, summary, h, pmf, level, customer_col, n_draws, seed)
        k = None if pmf is None else check_int(pmf, "pmf", low=0, high=1000)
        level, draws, rng_seed = check_predict_args(level, n_draws, seed)
        id_col = prediction_customer_column(self, summary, customer_col)
        if engines.on_engine(frame):  # scored where the data live, batch by batch
            args: dict[str, Any] = {"horizon": h, "pmf": k, "level": level, "seed": rng_seed}
            return engines.score_frame(self, frame, customer_col=id_col, n_draws=draws, **args)
        data, collected = read_frame(self, frame, id_col)
        hist = [data[name] for name in self._data_names]
        me: Any = self  # the subclasses define the prediction methods
        columns: dict[str, FloatArray] = {
            "p_alive": me.probability_alive(*hist),
            "expected_purchases": me.conditional_expected_purchases(h, *hist),
        }
        if level is not None:
            columns.update(
                interval_columns(
                    self,
                    hist,
                    {
                        "p_alive": lambda m, *u: m.probability_alive(*u),
                        "expected_purchases": lambda m, *u: m.conditional_expected_purchases(h, *u),
                    },
                    level,
                    draws,
                    rng_seed,
                )
            )
        if k is not None:
            columns.update(self._pmf_columns(k, h, hist))
        attrs = {"time_unit": self.time_unit_, "horizon": h}
        return result_frame(frame, collected, id_col, columns, attrs)

    def _pmf_columns(self, k: int, horizon: float, hist: list[FloatArray]) -> dict[str, FloatArray]:
        """``p_0`` ... ``p_<k>``, evaluated once per distinct history."""
        distinct, inverse = unique_rows(hist)
        counts = np.arange(k + 1, dtype=np.float64)[None, :]
        me: Any = self  # the subclasses define the prediction methods
        probs = me.conditional_probability_of_purchases(
            counts, horizon, *(a[:, None] for a in distinct)
        )
        return {f"p_{j}": np.asarray(probs[inverse, j], dtype=np.float64) for j in range(k + 1)}


class RFMModel(PurchaseModel):
    """Base of the models fitted on ``frequency`` (x), ``recency`` (t_x) and ``T``.

    Subclasses (BG/NBD, MBG/NBD, Pareto/NBD) implement ``_loglik_grad``,
    ``_initial_params``, ``probability_alive`` and ``conditional_expected_purchases``;
    this class checks their histories and provides the matrices used for plotting.
    """

    _data_names: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")

    def _check_inputs(
        self, data: dict[str, FloatArray], weights: FloatArray | None, where: str
    ) -> tuple[dict[str, FloatArray], FloatArray | None, dict[str, int]]:
        self._validate_rfm(data["frequency"], data["recency"], data["T"])
        return data, weights, {}

    @staticmethod
    def _validate_rfm(
        frequency: FloatArray, recency: FloatArray, T: FloatArray, *, t_name: str = "T"
    ) -> None:
        """Raise :class:`DataError` for invalid (x, t_x, T) values (arrays broadcast)."""
        x, tx, tt = np.broadcast_arrays(frequency, recency, T)
        for arr, nm in ((x, "frequency"), (tx, "recency"), (tt, t_name)):
            check(arr, ~np.isfinite(arr), nm, "is not finite (NaN or inf)")
            check(arr, arr < 0, nm, "is negative")
        check(
            x,
            x != np.round(x),
            "frequency",
            "is not an integer",
            "frequency counts repeat purchases.",
        )
        check(
            tx,
            tx > tt * (1 + 1e-12) + 1e-12,
            "recency",
            f"is larger than {t_name}",
            f"recency (time of the last purchase) must lie in [0, {t_name}].",
        )
        check(
            tx,
            (x == 0) & (tx != 0),
            "recency",
            "is not 0 although frequency is 0",
            "customers without repeat purchases have recency 0.",
        )

    def _rfm_arrays(
        self, frequency: Any, recency: Any, T: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Validate prediction inputs and return broadcast float arrays."""
        x, tx, tt = broadcast(
            {
                "frequency": as_float_array(frequency, "frequency"),
                "recency": as_float_array(recency, "recency"),
                "T": as_float_array(T, "T"),
            }
        )
        self._validate_rfm(x, tx, tt)
        return x, tx, tt

    def _validated_history(
        self, frequency: Any, recency: Any, age: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        return self._rfm_arrays(frequency, recency, age)

    @staticmethod
    def _horizon(t: Any, name: str = "t") -> FloatArray:
        return nonnegative(t, name)

    # prediction hooks implemented by the subclasses
    def probability_alive(self, frequency: Any, recency: Any = None, T: Any = None) -> FloatArray:
        """Probability that a customer with history (x, t_x, T) is still alive at T."""
        raise NotImplementedError

    def conditional_expected_purchases(
        self, t: Any, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> FloatArray:
        """Expected purchases in (T, T + t] given the history (x, t_x, T)."""
        raise NotImplementedError

    def probability_alive_matrix(
        self, max_frequency: int | None = None, max_recency: float | None = None, T: float = 0.0
    ) -> FloatArray:
        """P(alive) on a grid of frequency (rows, 0..max_frequency) x recency (columns).

        Recency runs over ``0, 1, ..., max_recency`` (whole time units); cells with
        recency > T get NaN. ``T`` defaults to ``max_recency``; without arguments the
        grid spans the data the model was fitted on.

        Returns
        -------
        ndarray of shape (max_frequency + 1, floor(max_recency) + 1)
        """
        x, tx, tt = self._grid(max_frequency, max_recency, T)
        out = np.full(x.shape, np.nan)
        ok = (tx <= tt) & ~((x == 0) & (tx > 0))
        out[ok] = self.probability_alive(x[ok], tx[ok], tt[ok])
        return out

    def frequency_recency_matrix(
        self,
        t: float = 1.0,
        max_frequency: int | None = None,
        max_recency: float | None = None,
        T: float = 0.0,
    ) -> FloatArray:
        """Conditional expected purchases in the next ``t`` on a frequency x recency grid.

        Same grid as :meth:`probability_alive_matrix`.

        Returns
        -------
        ndarray of shape (max_frequency + 1, floor(max_recency) + 1)
        """
        x, tx, tt = self._grid(max_frequency, max_recency, T)
        out = np.full(x.shape, np.nan)
        ok = (tx <= tt) & ~((x == 0) & (tx > 0))
        out[ok] = self.conditional_expected_purchases(t, x[ok], tx[ok], tt[ok])
        return out

    def plot(
        self,
        kind: str = "period_transactions",
        summary: Any = None,
        *,
        ax: Axes | None = None,
        **kwargs: Any,
    ) -> Axes:
        """Diagnostic figures of the fitted model; returns the Axes.

        Parameters
        ----------
        kind : {"period_transactions", "frequency_recency", "probability_alive", \
"heterogeneity"}
            ``"period_transactions"``: customers by repeat purchases, actual against
            expected (needs ``summary``); ``"frequency_recency"`` and
            ``"probability_alive"``: the matrices over frequency and recency (pass ``T``);
            ``"heterogeneity"``: a mixing density (``which="transaction"`` or
            ``"dropout"``).
        summary : DataFrame, optional
            The customer summary, for ``"period_transactions"``.
        ax : matplotlib Axes, optional
        **kwargs
            Passed to the plotting function of ``crmmodels.plotting.clv``.

        Examples
        --------
        >>> from crmmodels.clv import BGNBD
        >>> from crmmodels.datasets import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> bg = BGNBD().fit(s)
        >>> bg.plot("period_transactions", s).get_xlabel()
        'repeat purchases in the calibration period'
        """
        from crmmodels.plotting import clv as plots

        model: Any = self  # every subclass has the expectations the plots read
        kind = check_choice(
            kind,
            "kind",
            ("period_transactions", "frequency_recency", "probability_alive", "heterogeneity"),
        )
        if kind == "period_transactions":
            if summary is None:
                raise ArgumentError("kind='period_transactions' needs the summary: plot(kind, s).")
            return plots.plot_period_transactions(model, summary, ax=ax, **kwargs)
        if kind == "frequency_recency":
            return plots.plot_frequency_recency_matrix(model, ax=ax, **kwargs)
        if kind == "probability_alive":
            return plots.plot_probability_alive_matrix(model, ax=ax, **kwargs)
        which = kwargs.pop("which", "transaction")
        return plots.plot_heterogeneity(model, kind=which, ax=ax, **kwargs)

    def _grid(
        self, max_frequency: int | None, max_recency: float | None, T: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_fitted()
        stats = self.diagnostics_.get("data_range", {})
        if max_frequency is None:
            max_frequency = int(stats.get("max_frequency", 20))
        if max_recency is None:
            max_recency = float(stats.get("max_T", 40.0))
        max_frequency = check_int(max_frequency, "max_frequency", low=0)
        max_recency = check_number(max_recency, "max_recency", low=0.0)
        T = check_number(T, "T", low=0.0)
        if not T:
            T = float(max_recency)
        cells = (max_frequency + 1) * (math.floor(max_recency) + 1)
        if cells > _MAX_GRID_CELLS:
            raise ArgumentError(
                f"the frequency x recency grid would have {cells:,} cells (max_frequency="
                f"{max_frequency}, max_recency={max_recency:g}), more than "
                f"{_MAX_GRID_CELLS:,}; pass smaller max_frequency and max_recency."
            )
        fr = np.arange(max_frequency + 1, dtype=np.float64)
        rc = np.arange(math.floor(max_recency) + 1, dtype=np.float64)
        x, tx = np.meshgrid(fr, rc, indexing="ij")
        return x, tx, np.full(x.shape, float(T))

    def _fit_arrays(self, data: Mapping[str, FloatArray], weights: FloatArray | None) -> Self:
        super()._fit_arrays(data, weights)
        self.diagnostics_["data_range"] = {
            "max_frequency": float(np.max(data["frequency"])),
            "max_T": float(np.max(data["T"])),
        }
        return self
