r"""Shared helpers for maximum-likelihood fits of the CLV models.

Pure numpy/scipy: row compression to distinct rows with counts, grouping of a column by
its distinct values, L-BFGS-B on the log-parameter scale with restarts, and the observed
information (Hessian) by central differences of an analytic gradient.

Nothing here knows a particular model; the model classes in :mod:`crmmodels.clv` supply
a function returning the summed log-likelihood and its gradient in natural parameters.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.optimize
from numpy.typing import NDArray

__all__ = [
    "FloatArray",
    "IntArray",
    "OptimResult",
    "compress_rows",
    "describe_status",
    "distinct",
    "maximize_loglik",
    "numeric_hessian",
    "single_thread_blas",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: signature of a model's objective: natural parameters -> (summed LL, gradient)
LoglikFn = Callable[[FloatArray], tuple[float, FloatArray]]


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """Limit BLAS to one thread while small dense algebra runs (optimiser, Hessian).

    The fits do only tiny (k x k) linear algebra, where threaded BLAS never helps and, on
    a busy machine, its spinning threads slow L-BFGS-B down tenfold. Uses
    ``threadpoolctl`` when it is installed and does nothing otherwise.

    Examples
    --------
    >>> with single_thread_blas():
    ...     pass
    """
    try:
        from threadpoolctl import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
            threadpool_limits,
        )
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def compress_rows(
    columns: Sequence[FloatArray],
    weights: FloatArray | None = None,
    *,
    exact: bool = True,
    levels: Sequence[tuple[FloatArray, IntArray]] | None = None,
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    """Compress rows to the distinct rows with their (weighted) counts.

    With ``exact=False`` (for a likelihood, which only needs every row once with its
    weight) continuous data whose last column has more distinct values than half the
    rows is not compressed, only sorted by the first column: compressing cannot pay off
    there and would cost a full lexicographic sort. ``levels`` may give each column's
    sorted distinct values and the code of every row in them (a caller with a hash-based
    factorisation saves the sorts of ``numpy.unique``).

    Rows are sorted lexicographically with the first column as the primary key, so the
    first column of the output is sorted (which lets :func:`distinct` take its fast path).

    Parameters
    ----------
    columns : sequence of 1-D float arrays
        Columns of equal length ``n``.
    weights : 1-D float array, optional
        Weight of each row (default 1). Rows with zero total weight are dropped.

    Returns
    -------
    unique : list of arrays
        The distinct rows, one array per column.
    counts : float array
        Sum of the weights of each distinct row.
    inverse : int array
        For each input row, the index of its distinct row (-1 when it was dropped because
        its distinct row had zero weight).

    Examples
    --------
    >>> import numpy as np
    >>> u, c, inv = compress_rows([np.array([1.0, 0.0, 1.0]), np.array([2.0, 0.0, 2.0])])
    >>> [a.tolist() for a in u], c.tolist(), inv.tolist()
    ([[0.0, 1.0], [0.0, 2.0]], [1.0, 2.0], [1, 0, 1])
    """
    n = len(columns[0])
    if n == 0:
        empty = [np.asarray(c, dtype=np.float64)[:0] for c in columns]
        return empty, np.zeros(0), np.zeros(0, dtype=np.int64)
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    limit = max(4 * n, 1 << 22)  # cells of the dense path: a few times the rows at most
    given = list(levels) if levels is not None else None
    last = given[-1] if given else np.unique(cols[-1], return_inverse=True)
    if not exact and n > 10_000 and last[0].size > n // 2:
        unique, counts, inverse = _sort_only(cols, w)
    else:
        unique, counts, inverse = _compress_exact(cols, w, last, limit, given)
    keep = counts > 0
    if not keep.all():
        remap = (np.cumsum(keep) - 1).astype(np.int64)
        remap[~keep] = -1
        unique = [u[keep] for u in unique]
        counts = counts[keep]
        inverse = remap[inverse]
    return unique, counts, inverse


def _sort_only(
    cols: Sequence[FloatArray], w: FloatArray
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    """Every row kept, sorted by the first column (continuous data, ``exact=False``)."""
    order = np.argsort(cols[0], kind="stable")
    inverse = np.empty(order.size, dtype=np.int64)
    inverse[order] = np.arange(order.size, dtype=np.int64)
    return [c[order] for c in cols], w[order], inverse


def _compress_exact(
    cols: Sequence[FloatArray],
    w: FloatArray,
    last: tuple[FloatArray, IntArray],
    limit: int,
    given: list[tuple[FloatArray, IntArray]] | None,
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    """Distinct rows: counting cells when they are few, a lexicographic sort otherwise."""
    levels: list[tuple[FloatArray, IntArray]] = []
    cells = last[0].size
    for i, c in enumerate(cols[:-1]):  # stop once the cells outgrow the rows (continuous)
        if cells > limit:
            break
        levels.append(given[i] if given else np.unique(c, return_inverse=True))
        cells *= levels[-1][0].size
    levels.append(last)
    if cells <= limit:
        return _compress_dense(levels, [u.size for u, _ in levels], w)
    return _compress_sorted(cols, w)


def _compress_dense(
    levels: Sequence[tuple[FloatArray, IntArray]], sizes: Sequence[int], w: FloatArray
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    """Few distinct values per column: a mixed-radix cell number and one bincount, O(n).

    The first column is the most significant digit, so cells in increasing order are the
    rows in lexicographic order.
    """
    cells = math.prod(sizes)
    key = levels[0][1].astype(np.int64)
    for (_, codes), size in zip(levels[1:], sizes[1:], strict=True):
        key *= size
        key += codes
    # one byte per cell marks the occupied ones; the cell -> row table is as narrow as
    # the number of distinct rows allows (the tables are a few times the rows)
    present = np.zeros(cells, dtype=bool)
    present[key] = True
    occupied = np.flatnonzero(present)
    del present
    position = np.empty(cells, dtype=np.int32 if occupied.size < 2**31 else np.int64)
    position[occupied] = np.arange(occupied.size, dtype=position.dtype)
    inverse = position[key].astype(np.int64)
    del position, key
    counts = np.bincount(inverse, weights=w, minlength=occupied.size).astype(np.float64)
    digits = []
    rest = occupied
    for size in reversed(sizes):
        digits.append(rest % size)
        rest = rest // size
    unique = [u[d] for (u, _), d in zip(levels, reversed(digits), strict=True)]
    return unique, counts, inverse


def _compress_sorted(
    cols: Sequence[FloatArray], w: FloatArray
) -> tuple[list[FloatArray], FloatArray, IntArray]:
    """Many distinct values: a lexicographic sort of the rows, O(n log n)."""
    n = cols[0].size
    order = np.lexsort(tuple(reversed(cols)))
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for c in cols:
        sc = c[order]
        new[1:] |= sc[1:] != sc[:-1]
    group_sorted = (np.cumsum(new) - 1).astype(np.int64)
    unique = [c[order[new]] for c in cols]
    counts = np.bincount(group_sorted, weights=w[order], minlength=int(new.sum()))
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group_sorted
    return unique, counts.astype(np.float64), inverse


def distinct(x: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct values of ``x`` and, per element, the index of its value.

    Linear time when ``x`` is already sorted (as the first column returned by
    :func:`compress_rows`); otherwise ``np.unique``.

    Examples
    --------
    >>> import numpy as np
    >>> v, idx = distinct(np.array([0.0, 0.0, 2.0, 5.0, 5.0]))
    >>> v.tolist(), idx.tolist()
    ([0.0, 2.0, 5.0], [0, 0, 1, 2, 2])
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x, np.zeros(0, dtype=np.int64)
    if x.ndim == 1 and bool(np.all(x[1:] >= x[:-1])):
        new = np.empty(x.size, dtype=bool)
        new[0] = True
        np.not_equal(x[1:], x[:-1], out=new[1:])
        idx = np.cumsum(new) - 1
        return x[new], idx
    values, inverse = np.unique(x, return_inverse=True)
    return values, inverse.reshape(x.shape).astype(np.int64)


@dataclass
class OptimResult:
    """Outcome of :func:`maximize_loglik`.

    Attributes
    ----------
    params : float array
        Natural-scale parameters at the best optimum found.
    loglik : float
        Summed log-likelihood there (without the penalty).
    objective : float
        Value of the minimised objective (mean negative log-likelihood plus penalty).
    gradient_norm : float
        Sup-norm of the objective's gradient on the log-parameter scale.
    converged : bool
        Whether the convergence criterion was met.
    diagnostics : dict
        Iterations, function evaluations, optimiser message, number of starts.
    """

    params: FloatArray
    loglik: float
    objective: float
    gradient_norm: float
    converged: bool
    diagnostics: dict[str, Any] = field(default_factory=dict)


def maximize_loglik(
    loglik: LoglikFn,
    initial: FloatArray,
    *,
    n_obs: float,
    penalizer: float = 0.0,
    log_bounds: Sequence[tuple[float, float]] | None = None,
    n_restarts: int = 3,
    tol: float = 1e-7,
    max_iter: int = 1000,
    seed: int = 0,
    callback: Callable[[int, float, float], None] | None = None,
) -> OptimResult:
    r"""Maximise a log-likelihood over positive parameters with L-BFGS-B on the log scale.

    The minimised objective is

    .. math:: f(\theta) = -\ell(e^\theta) / N + \lambda \sum_j e^{2\theta_j},

    with :math:`N` = ``n_obs`` and :math:`\lambda` = ``penalizer`` (an L2 penalty on the
    natural parameters). Its gradient is the chain rule applied to the analytic gradient
    of :math:`\ell`.

    The fit from ``initial`` counts as converged when the optimiser reports success or the
    sup-norm of the gradient of :math:`f` is below ``100 * tol``. While it has not
    converged the optimiser is restarted, at most ``n_restarts`` times, alternately from
    the best point so far (a fresh quasi-Newton memory) and from a random perturbation of
    it (normal, standard deviation 0.5 on the log scale, seeded by ``seed``).

    Parameters
    ----------
    loglik : callable
        ``params -> (sum of log-likelihood, gradient)`` in natural parameters.
    initial : float array
        Natural-scale starting values (all > 0).
    n_obs : float
        Number of customers (sum of counts): the objective is a mean.
    penalizer : float
        L2 penalty coefficient :math:`\lambda \ge 0`.
    log_bounds : sequence of (low, high), optional
        Bounds on the log parameters (default ``(-23, 23)`` each, about 1e-10 to 1e10).
    n_restarts : int
        Maximum number of restarts when the first run did not converge.
    tol : float
        Optimiser tolerance (``gtol`` and ``ftol`` of L-BFGS-B).
    max_iter : int
        Maximum iterations per run.
    seed : int
        Seed of the restart perturbations.
    callback : callable, optional
        Called after each optimiser run as ``callback(start, loglik, gradient_norm)``
        with the best point so far (for progress reports).

    Returns
    -------
    OptimResult

    Examples
    --------
    >>> import numpy as np
    >>> def ll(p):  # Poisson log-likelihood of counts 1, 2, 3 (mean 2), minus constants
    ...     lam = p[0]
    ...     return 6.0 * np.log(lam) - 3.0 * lam, np.array([6.0 / lam - 3.0])
    >>> res = maximize_loglik(ll, np.array([1.0]), n_obs=3.0)
    >>> round(float(res.params[0]), 6), res.converged
    (2.0, True)
    """
    theta0 = np.log(np.asarray(initial, dtype=np.float64))
    k = theta0.size
    bounds = list(log_bounds) if log_bounds is not None else [(-23.0, 23.0)] * k
    theta0 = np.clip(theta0, [b[0] for b in bounds], [b[1] for b in bounds])
    n = float(n_obs)
    lam = float(penalizer)
    evals = 0

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        nonlocal evals
        evals += 1
        p = np.exp(theta)
        ll, g = loglik(p)
        if not np.isfinite(ll) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros(k)
        f = -ll / n + lam * float(np.sum(p * p))
        grad = (-np.asarray(g) / n + 2.0 * lam * p) * p
        return float(f), grad

    rng = np.random.default_rng(seed)
    best_theta = theta0
    best_f, best_g = objective(theta0)
    iterations = 0
    messages: list[str] = []
    success = False
    n_starts = 0
    start = theta0
    for attempt in range(max(0, int(n_restarts)) + 1):
        n_starts += 1
        res = scipy.optimize.minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": int(max_iter), "gtol": tol, "ftol": tol * 1e-4},
        )
        iterations += int(res.nit)
        messages.append(str(res.message))
        f_val, g_val = objective(res.x)
        if f_val <= best_f:
            best_theta, best_f, best_g = np.asarray(res.x), f_val, g_val
            success = bool(res.success)
        gnorm = float(np.max(np.abs(best_g))) if k else 0.0
        if callback is not None:
            callback(n_starts, -best_f * n, gnorm)
        if (success and gnorm < 1e-3) or gnorm < 100 * tol:
            break
        if attempt % 2 == 0:
            start = best_theta
        else:
            start = np.clip(
                best_theta + rng.normal(0.0, 0.5, size=k),
                [b[0] for b in bounds],
                [b[1] for b in bounds],
            )
    gnorm = float(np.max(np.abs(best_g))) if k else 0.0
    params = np.exp(best_theta)
    ll_best, _ = loglik(params)
    converged = bool(np.isfinite(ll_best)) and ((success and gnorm < 1e-3) or gnorm < 100 * tol)
    at_bound = [
        bool(np.isclose(t, lo) or np.isclose(t, hi))
        for t, (lo, hi) in zip(best_theta, bounds, strict=True)
    ]
    diagnostics: dict[str, Any] = {
        "converged": converged,
        "gradient_norm": gnorm,
        "iterations": iterations,
        "function_evaluations": evals,
        "n_starts": n_starts,
        "message": messages[-1] if messages else "",
        "at_bound": at_bound,
    }
    return OptimResult(
        params=params,
        loglik=float(ll_best),
        objective=float(best_f),
        gradient_norm=gnorm,
        converged=converged,
        diagnostics=diagnostics,
    )


_STATUS_WORDS = (
    ("NORM OF PROJECTED GRADIENT", "the gradient vanished (a maximum was reached)"),
    ("REL_REDUCTION_OF_F", "the log-likelihood stopped improving (a maximum was reached)"),
    ("REDUCTION OF F", "the log-likelihood stopped improving (a maximum was reached)"),
    (
        "ABNORMAL",
        "the line search found no step that improves the log-likelihood (typical of a flat "
        "ridge, where parameters can grow without bound at almost no gain)",
    ),
    ("ITERATIONS REACHED LIMIT", "the iteration limit (max_iter) was reached"),
    ("EVALUATIONS EXCEEDS LIMIT", "the limit on likelihood evaluations was reached"),
    ("NAN", "the log-likelihood was not a number at the parameters tried"),
)


def describe_status(message: str) -> str:
    """Translate an L-BFGS-B status message into plain words.

    Parameters
    ----------
    message : str
        The optimiser's message (possibly empty or cut short, such as ``"ABNORMAL: "``).

    Returns
    -------
    str
        A sentence fragment that never is empty.

    Examples
    --------
    >>> describe_status("ABNORMAL: ")[:48]
    'the line search found no step that improves the '
    >>> describe_status("")
    'the optimiser stopped without giving a reason'
    """
    upper = str(message).upper()
    for key, words in _STATUS_WORDS:
        if key in upper:
            return words
    text = str(message).strip().rstrip(":").strip()
    if not text:
        return "the optimiser stopped without giving a reason"
    return f"the optimiser stopped ({text.lower()})"


def numeric_hessian(
    grad: Callable[[FloatArray], FloatArray], params: FloatArray, rel_step: float = 1e-4
) -> FloatArray:
    r"""Hessian in natural parameters by central differences of an analytic gradient.

    Steps are taken on the log scale, :math:`p_j e^{\pm h}`, so that parameters stay
    positive; column :math:`j` is :math:`(g(p_j e^{h}) - g(p_j e^{-h})) /
    (p_j (e^{h} - e^{-h}))`. The result is symmetrised.

    Parameters
    ----------
    grad : callable
        ``params -> gradient`` (natural scale) of the function to differentiate.
    params : float array
        Point (all > 0).
    rel_step : float
        Log-scale step :math:`h`.

    Returns
    -------
    float array of shape (k, k)

    Examples
    --------
    >>> import numpy as np
    >>> h = numeric_hessian(lambda p: np.array([2 * p[0] * p[1] ** 2, 2 * p[0] ** 2 * p[1]]),
    ...                     np.array([1.0, 2.0]))
    >>> np.round(h, 6).tolist()
    [[8.0, 8.0], [8.0, 2.0]]
    """
    p = np.asarray(params, dtype=np.float64)
    k = p.size
    hess = np.empty((k, k))
    up, down = np.exp(rel_step), np.exp(-rel_step)
    for j in range(k):
        pu, pd = p.copy(), p.copy()
        pu[j] *= up
        pd[j] *= down
        hess[:, j] = (np.asarray(grad(pu)) - np.asarray(grad(pd))) / (pu[j] - pd[j])
    return 0.5 * (hess + hess.T)
