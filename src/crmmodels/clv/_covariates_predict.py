r"""Per-customer predictions of the BG/NBD and Pareto/NBD models with covariates.

``predict`` of a covariate model: P(alive), the expected purchases, the pmf of the number
of purchases (``pmf=k``: ``p_0`` ... ``p_k``) and percentile intervals (``level=``), each
customer at its own parameters :math:`(r, \alpha_i, a_i \text{ or } s, b_i \text{ or }
\beta_i)` (:func:`crmmodels.clv._covariates_fit.parameters_at`).

Intervals follow the method of the models without covariates
(:func:`crmmodels.clv._predict.interval_columns`): ``n_draws`` draws of
:math:`\theta` = (log base parameters, coefficients) from its asymptotic normal
distribution (the fit's ``covariate_fit_.covariance``), the prediction recomputed for
each draw with every customer at its own drawn parameters, and the percentiles per
customer. Rows are first reduced to the distinct (history, covariate design) rows, and
the draws run in blocks of bounded memory (a loop over draws and blocks, not customers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from crmmodels._ingest.arguments import check_int
from crmmodels._ingest.frames import to_narwhals
from crmmodels.clv._covariates_fit import _kernel, parameters_at
from crmmodels.clv._inputs import read_columns, unique_rows
from crmmodels.clv._predict import check_predict_args, prediction_customer_column, result_frame
from crmmodels.kernels import bgnbd_covariates as _kbg
from crmmodels.kernels import pareto_nbd_covariates_pmf as _kpn_pmf
from crmmodels.kernels._optim import FloatArray

__all__ = [
    "Distinct",
    "distinct_rows",
    "draw_blocks",
    "predict_covariates",
    "probability_of_purchases",
    "theta_draws",
]

#: values held at once: draws x distinct rows
_BLOCK = 2_000_000

#: a prediction at given parameters: fn(model, params, x, t_x, T) -> values per row
Prediction = Callable[..., FloatArray]


def theta_draws(model: Any, n_draws: int, rng: np.random.Generator) -> FloatArray | None:
    """``n_draws`` draws of theta from its asymptotic normal (None without a finite covariance)."""
    fit = model.covariate_fit_
    cov = np.asarray(fit.covariance, dtype=np.float64)
    if n_draws == 0 or not np.all(np.isfinite(cov)):
        return None
    draws = rng.multivariate_normal(fit.theta, cov, size=n_draws, method="eigh")
    return np.asarray(draws, dtype=np.float64)


def probability_of_purchases(
    model: Any,
    params: tuple[float, FloatArray, float | FloatArray, FloatArray],
    n: FloatArray,
    t: float,
    x: FloatArray,
    tx: FloatArray,
    big_t: FloatArray,
) -> FloatArray:
    """P(exactly ``n`` purchases in the next ``t``), shape (rows, n), per row's parameters."""
    r, sp, shape, sd = params
    col = (sp[:, None], np.asarray(shape)[..., None] if np.ndim(shape) else shape, sd[:, None])
    hist = (x[:, None], tx[:, None], big_t[:, None])
    if _kernel(model) is _kbg:
        return _kbg.conditional_probability_of_purchases(r, col[0], col[1], col[2], n, t, *hist)
    return _kpn_pmf.conditional_probability_of_purchases(
        r, col[0], float(np.asarray(shape)), col[2], n, t, *hist
    )


class Distinct:
    """The distinct rows of the customers (histories and design rows), with the inverse.

    ``columns`` are per-customer arrays (the history, and the mean spend for a value);
    ``design`` maps each process to its design matrix (customers x coefficients).
    """

    def __init__(self, columns: list[FloatArray], design: Mapping[str, FloatArray]) -> None:
        keys = list(design)
        stacked = [*columns, *(c for p in keys for c in design[p].T)]
        distinct, self.inverse = unique_rows(stacked)
        self.n_rows = distinct[0].size
        self.counts = np.bincount(self.inverse, minlength=self.n_rows).astype(np.float64)
        self.columns = distinct[: len(columns)]
        self.design: dict[str, FloatArray] = {}
        k = len(columns)
        for p in keys:
            width = design[p].shape[1]
            cols = distinct[k : k + width]
            self.design[p] = np.column_stack(cols) if cols else np.zeros((self.n_rows, 0))
            k += width

    def rows(self, sl: slice) -> tuple[list[FloatArray], dict[str, FloatArray]]:
        """One block of distinct rows: the columns and the design rows."""
        return [c[sl] for c in self.columns], {p: d[sl] for p, d in self.design.items()}


def distinct_rows(
    x: FloatArray, tx: FloatArray, big_t: FloatArray, design: Mapping[str, FloatArray]
) -> Distinct:
    """:class:`Distinct` of the customers' histories and designs."""
    return Distinct([x, tx, big_t], design)


def draw_blocks(n_rows: int, n_draws: int) -> Iterator[slice]:
    """Blocks of rows such that draws x rows stays bounded."""
    step = max(1, _BLOCK // max(n_draws, 1))
    for lo in range(0, n_rows, step):
        yield slice(lo, lo + step)


def _intervals(
    model: Any,
    rows: Distinct,
    thetas: FloatArray,
    predictions: Mapping[str, Prediction],
    level: float,
) -> dict[str, FloatArray]:
    tail = (1.0 - level) / 2.0
    n = rows.n_rows
    low = {k: np.empty(n) for k in predictions}
    high = {k: np.empty(n) for k in predictions}
    for sl in draw_blocks(n, thetas.shape[0]):
        (x, tx, tt), design = rows.rows(sl)
        values = {k: np.empty((thetas.shape[0], x.size)) for k in predictions}
        for i, theta in enumerate(thetas):  # a loop over parameter draws, not customers
            params = parameters_at(model, theta, design)
            for name, fn in predictions.items():
                values[name][i] = fn(model, params, x, tx, tt)
        for name in predictions:
            low[name][sl], high[name][sl] = np.quantile(values[name], [tail, 1 - tail], axis=0)
    out: dict[str, FloatArray] = {}
    for name in predictions:
        out[f"{name}_low"] = low[name][rows.inverse]
        out[f"{name}_high"] = high[name][rows.inverse]
    return out


def _pmf_columns(model: Any, rows: Distinct, k: int, horizon: float) -> dict[str, FloatArray]:
    """``p_0`` ... ``p_k`` on the distinct rows, in blocks of bounded memory."""
    counts = np.arange(k + 1, dtype=np.float64)[None, :]
    probs = np.empty((rows.n_rows, k + 1))
    for sl in draw_blocks(rows.n_rows, (k + 1) * 64):  # 64 quadrature nodes (Pareto/NBD)
        (x, tx, tt), design = rows.rows(sl)
        params = parameters_at(model, model.covariate_fit_.theta, design)
        probs[sl] = probability_of_purchases(model, params, counts, horizon, x, tx, tt)
    return {f"p_{j}": np.asarray(probs[rows.inverse, j], dtype=np.float64) for j in range(k + 1)}


def predict_covariates(
    model: Any,
    summary: Any,
    horizon: float,
    pmf: Any,
    level: Any,
    customer_col: Any,
    n_draws: Any = 200,
    seed: Any = 0,
) -> Any:
    """``predict`` of a covariate model (see the module docstring)."""
    where = f"{type(model).__name__}.predict"
    k = None if pmf is None else check_int(pmf, "pmf", low=0, high=1000)
    level, draws, rng_seed = check_predict_args(level, n_draws, seed)
    kernel = _kernel(model)
    frame = to_narwhals(summary, what="summary")
    id_col = prediction_customer_column(model, summary, customer_col)
    columns = {k: str(model.columns_.get(k, k)) for k in model._data_names}
    keep = ([] if id_col is None else [id_col]) + model.covariates_.columns
    data, collected = read_columns(frame, columns, keep)
    x, tx, tt = model._validated_history(data["frequency"], data["recency"], data["T"])
    design = model.covariates_.design(collected, where)
    params = parameters_at(model, model.covariate_fit_.theta, design)

    def alive(m: Any, p: Any, x: FloatArray, tx: FloatArray, tt: FloatArray) -> FloatArray:
        return np.asarray(kernel.probability_alive(p[0], p[1], p[2], p[3], x, tx, tt))

    def expected(m: Any, p: Any, x: FloatArray, tx: FloatArray, tt: FloatArray) -> FloatArray:
        values = kernel.conditional_expected_purchases(p[0], p[1], p[2], p[3], horizon, x, tx, tt)
        return np.asarray(values, dtype=np.float64)

    out = {
        "p_alive": alive(model, params, x, tx, tt),
        "expected_purchases": expected(model, params, x, tx, tt),
    }
    if level is not None:
        thetas = theta_draws(model, draws, np.random.default_rng(rng_seed))
        predictions = {"p_alive": alive, "expected_purchases": expected}
        if thetas is None or x.size == 0:
            out.update(
                {f"{n}_{e}": np.full(x.size, np.nan) for n in predictions for e in ("low", "high")}
            )
        else:
            rows = distinct_rows(x, tx, tt, design)
            out.update(_intervals(model, rows, thetas, predictions, level))
    if k is not None:
        out.update(_pmf_columns(model, distinct_rows(x, tx, tt, design), k, horizon))
    attrs = {"time_unit": model.time_unit_, "horizon": horizon}
    return result_frame(frame, collected, id_col, out, attrs)
