r"""The optimisation steps of the covariate fits: the Hessian, the subsample start, the search.

A covariate fit of BG/NBD or Pareto/NBD works on rows compressed by (history, covariate
pattern); every evaluation of the likelihood runs the kernels over all of them, so the
fit is as fast as it needs few evaluations. Three things keep their number down:

* **The Hessian from the four row parameters.** Row :math:`i` depends on
  :math:`\theta` only through :math:`u_i = A_i\theta`: ``(log r, log alpha_i, log a or
  log s, log b_i or log beta_i)`` with :math:`\log\alpha_i = \theta_1 - z^p_i{}'\gamma_p`
  and :math:`\log b_i = \theta_3 - z^d_i{}'\gamma_d` (the map is linear). So the Hessian
  of the log-likelihood is :math:`\sum_i w_i A_i' G_i A_i` with :math:`G_i` the
  :math:`4 \times 4` Hessian of row :math:`i` in :math:`u_i`, exactly. :func:`row_hessian`
  takes :math:`G_i` by differences of the analytic row derivatives in the four base
  directions (forward: 4 evaluations, whatever the number of coefficients; central
  differences of the gradient in every parameter took :math:`2 k`) and sums
  :math:`w_i G_i` per covariate pattern before the products with the design.
* **A start from a subsample.** :func:`subsample` draws a fixed (seeded) weighted sample
  of the distinct rows, with inclusion probabilities proportional to their weight
  (heavy rows are always kept) and inverse-probability weights, so its likelihood
  estimates the full one. Its optimum is within a few standard errors of the full one
  and its Hessian, at that point, is close to the full Hessian.
* **A quasi-Newton search from there.** :func:`quasi_newton` starts from the subsample
  optimum with the subsample Hessian as its first curvature (BFGS updates, a
  backtracking line search): a handful of full evaluations instead of the 30 to 40 of
  L-BFGS-B from the fit without covariates. When a step fails it returns ``None`` and
  the caller falls back to L-BFGS-B.

:func:`maximise` runs the search (quasi-Newton from a given curvature, else L-BFGS-B) and
returns the estimate with its covariance; the spend model's covariate fit uses it too,
with the Hessian by central differences of its gradient (:func:`gradient_hessian`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.optimize

from crmmodels.errors import ConvergenceError, warn
from crmmodels.kernels._optim import FloatArray, IntArray, single_thread_blas

__all__ = [
    "bounds",
    "gradient_hessian",
    "lbfgsb",
    "maximise",
    "mean_objective",
    "penalty_hessian",
    "quasi_newton",
    "row_hessian",
    "subsample",
]

#: ``theta -> (log L per row, d log L / d u per row (4, n))``
RowEval = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
#: ``theta -> (value, gradient)`` of the objective that is minimised
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


def row_hessian(
    row_eval: RowEval,
    theta: FloatArray,
    counts: FloatArray,
    pattern: IntArray,
    patterns: Mapping[str, FloatArray],
    slots: Mapping[str, int | tuple[tuple[int, float], ...]],
    *,
    central: bool = False,
    step: float | None = None,
) -> FloatArray:
    """Hessian of the summed log-likelihood in ``theta`` (see the module docstring).

    Parameters
    ----------
    row_eval : callable
        ``theta -> (log L, d)`` per row, ``d`` the derivatives in the four row parameters
        on the log scale (shape ``(4, n)``).
    theta : numpy.ndarray
        ``(4 base log parameters, purchase coefficients, dropout coefficients)``.
    counts : numpy.ndarray
        Weight of each row.
    pattern : numpy.ndarray
        Covariate pattern of each row (``0 .. P - 1``).
    patterns : mapping
        ``"purchase"`` and ``"dropout"``: the design row of each pattern (``P x k``).
    slots : mapping
        Row parameter (0 to 3) whose log scale each process's coefficients lower, or
        ``((slot, sign), ...)``: the row parameters whose log scale they move, each by
        ``sign * z'gamma`` (BG/NBD's "ab" form raises both shapes).
    central : bool
        Central differences (8 evaluations) instead of forward differences from the
        derivatives at ``theta`` (4 evaluations and the one at ``theta``, which a caller
        that caches its last evaluation has already).
    step : float, optional
        Step on the log scale of the row parameters (default 1e-4 central, 1e-6 forward:
        either gives standard errors within about 1e-6 relative of the exact ones).

    Returns
    -------
    numpy.ndarray
        The symmetric ``len(theta) x len(theta)`` Hessian.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0], [1.0]])
    >>> def rows(th):  # log L_i = -(u_1 - 1)^2 per row, u_1 = theta_1 - z_i gamma
    ...     u1 = th[1] - z[:, 0] * th[4]
    ...     d = np.zeros((4, 2))
    ...     d[1] = -2 * (u1 - 1)
    ...     return -((u1 - 1) ** 2), d
    >>> h = row_hessian(rows, np.zeros(5), np.ones(2), np.array([0, 1]),
    ...                 {"purchase": z, "dropout": np.zeros((2, 0))},
    ...                 {"purchase": 1, "dropout": 3})
    >>> np.round(h[[1, 4]][:, [1, 4]], 6).tolist()
    [[-4.0, 2.0], [2.0, -2.0]]
    """
    step = (1e-4 if central else 1e-6) if step is None else step
    k = theta.size
    g = np.empty((4, 4, counts.size))
    at = None if central else row_eval(theta)[1]
    for j in range(4):  # the four row parameters, not the rows
        e = np.zeros(k)
        e[j] = step
        if at is None:
            g[:, j] = (row_eval(theta + e)[1] - row_eval(theta - e)[1]) / (2.0 * step)
        else:
            g[:, j] = (row_eval(theta + e)[1] - at) / step
    n_pat = patterns["purchase"].shape[0]
    kp = patterns["purchase"].shape[1]
    blocks = []  # d u_a / d theta per pattern (P x k)
    for a in range(4):
        block = np.zeros((n_pat, k))
        block[:, a] = 1.0
        for process, given in slots.items():
            moves = ((given, -1.0),) if isinstance(given, int) else given
            for slot, sign in moves:
                if slot == a:
                    cols = slice(4, 4 + kp) if process == "purchase" else slice(4 + kp, k)
                    block[:, cols] = sign * patterns[process]
        blocks.append(block)
    hess = np.zeros((k, k))
    for a in range(4):
        for b in range(a, 4):
            sym = 0.5 * (g[a, b] + g[b, a])
            per_pattern = np.bincount(pattern, weights=counts * sym, minlength=n_pat)
            part = blocks[a].T @ (per_pattern[:, None] * blocks[b])
            hess += part if a == b else part + part.T
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def subsample(
    counts: FloatArray, pattern: IntArray, target: int, *, per_pattern: int = 30, seed: int = 0
) -> tuple[IntArray, FloatArray] | None:
    """A seeded weighted sample of about ``target`` rows with inverse-probability weights.

    Row ``i`` is kept with probability ``min(1, counts_i / tau)`` (``tau`` such that about
    ``target`` rows are kept), raised within a pattern so that every pattern keeps about
    ``per_pattern`` rows, or all of its rows when it has no more; a kept row weighs
    ``counts_i`` over its probability, so the weighted likelihood of the sample estimates
    the full one. The draw is fixed by ``seed``: the same rows give the same sample.
    Returns ``None`` when the rows are too few for a sample to save time (fewer than four
    times ``target``), or when keeping every pattern would keep more than half of them
    (a continuous covariate makes almost every row its own pattern).

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.ones(100_000)
    >>> rows, w = subsample(counts, np.zeros(100_000, dtype=np.int64), 5_000)
    >>> 4_500 < rows.size < 5_500, bool(np.allclose(w, 20.0))
    (True, True)
    >>> subsample(np.ones(100), np.zeros(100, dtype=np.int64), 5_000) is None
    True
    """
    n = counts.size
    if n < 4 * target or target <= 0:
        return None
    total = float(counts.sum())
    tau = total / target
    for _ in range(8):  # rows at or above tau are certain; share the rest out
        light = counts < tau
        room = target - float(np.count_nonzero(~light))
        if room <= 0:
            break
        tau = float(counts[light].sum()) / room
    prob = np.minimum(1.0, counts / tau)
    n_pat = int(pattern.max()) + 1
    expected = np.bincount(pattern, weights=prob, minlength=n_pat)
    raise_by = np.maximum(1.0, per_pattern / np.maximum(expected, 1e-300))
    prob = np.minimum(1.0, prob * raise_by[pattern])
    few = np.bincount(pattern, minlength=n_pat) <= per_pattern
    prob[few[pattern]] = 1.0  # a pattern of few rows is kept whole
    keep = np.random.default_rng(seed).random(n) < prob
    rows = np.flatnonzero(keep & (counts > 0))
    if rows.size > n // 2:  # patterns too many and too small (a continuous covariate)
        return None
    return rows.astype(np.int64), counts[rows] / prob[rows]


def quasi_newton(
    fun: Objective,
    theta0: FloatArray,
    hess0: FloatArray,
    bounds: tuple[FloatArray, FloatArray],
    *,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, int] | None:
    """Minimise ``fun`` by BFGS from ``theta0`` with the first curvature ``hess0``.

    Unit quasi-Newton steps with backtracking (Armijo) and BFGS updates of the inverse
    curvature. Stops when the gradient sup-norm is at most ``tol`` (the test of
    L-BFGS-B's ``gtol``). Returns the point and the number of iterations,
    or ``None`` when ``hess0`` is not positive definite, a step leaves ``bounds``, the
    line search fails or ``max_iter`` is reached (the caller then runs L-BFGS-B).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> quad = lambda th: (0.5 * th @ a @ th - th[0], a @ th - np.array([1.0, 0.0]))
    >>> th, it = quasi_newton(quad, np.zeros(2), np.eye(2) * 2.5,
    ...                       (np.full(2, -9.0), np.full(2, 9.0)), tol=1e-10, max_iter=50)
    >>> np.round(th, 6).tolist()
    [0.4, -0.2]
    """
    try:
        inv = np.linalg.inv(np.linalg.cholesky(hess0))
    except np.linalg.LinAlgError:
        return None
    h_inv = inv.T @ inv
    lower, upper = bounds
    theta = np.asarray(theta0, dtype=np.float64).copy()
    f, g = fun(theta)
    for it in range(max_iter):
        if float(np.max(np.abs(g))) <= tol:
            return theta, it
        direction = -(h_inv @ g)
        slope = float(g @ direction)
        if not slope < 0.0:
            return None
        t = 1.0
        while True:
            trial = theta + t * direction
            if np.any(trial < lower) or np.any(trial > upper):
                return None
            f_new, g_new = fun(trial)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
            if t < 1e-3:
                return None
        s, y = trial - theta, g_new - g
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            rho = 1.0 / sy
            left = np.eye(theta.size) - rho * np.outer(s, y)
            h_inv = left @ h_inv @ left.T + rho * np.outer(s, s)
        theta, f, g = trial, f_new, g_new
    return None


def gradient_hessian(fun: Any, theta: FloatArray, step: float = 1e-4) -> FloatArray:
    """Hessian by central differences of the analytic gradient (symmetrised)."""
    k = theta.size
    h = np.empty((k, k))
    for j in range(k):  # k = a handful of parameters, not rows
        e = np.zeros(k)
        e[j] = step
        h[:, j] = (fun(theta + e)[1] - fun(theta - e)[1]) / (2 * step)
    return np.asarray(0.5 * (h + h.T), dtype=np.float64)


def mean_objective(
    loglik: Callable[[FloatArray], tuple[float, FloatArray]], n: float, pen: float, n_base: int
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """The minimised objective: mean negative log-likelihood plus the penalty."""

    def fun(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, g = loglik(theta)
        base = np.exp(theta[:n_base])
        value = -ll / n + pen * float(np.sum(base**2) + np.sum(theta[n_base:] ** 2))
        grad = -g / n + pen * np.concatenate([2 * base**2, 2 * theta[n_base:]])
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return value, grad

    return fun


def penalty_hessian(theta: FloatArray, pen: float, n_base: int) -> FloatArray:
    """Hessian of the penalty of :func:`mean_objective` (diagonal)."""
    return np.diag(
        pen * np.concatenate([4 * np.exp(2 * theta[:n_base]), np.full(theta.size - n_base, 2.0)])
    )


def bounds(theta: FloatArray, n_base: int) -> list[tuple[float, float]]:
    return [(-23.0, 23.0)] * n_base + [(-50.0, 50.0)] * (theta.size - n_base)


def lbfgsb(
    fun: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    model: Any,
    gtol: float | None = None,
) -> Any:
    return scipy.optimize.minimize(
        fun,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds(theta0, len(model._param_names)),
        options={
            "maxiter": model.max_iter,
            "gtol": model.tol if gtol is None else gtol,
            "ftol": 1e-15,
        },
    )


def maximise(
    model: Any,
    where: str,
    loglik: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    n: float,
    *,
    hessian: Callable[[FloatArray], FloatArray] | None = None,
    curvature: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, float, dict[str, Any]]:
    """Maximise a covariate likelihood over ``theta`` = (log base parameters, coefficients).

    ``loglik`` returns the summed log-likelihood and its gradient in ``theta``. With
    ``curvature`` (an approximation of the Hessian of the summed log-likelihood at
    ``theta0``, e.g. from a subsample) the search is quasi-Newton from ``theta0``
    (:func:`crmmodels.clv._covariates_optim.quasi_newton`), else, or when that fails,
    L-BFGS-B. ``hessian`` gives the Hessian of the summed log-likelihood at the optimum
    (default: central differences of the gradient in every parameter). Returns the
    estimate, its covariance (inverse Hessian of the negative log-likelihood, NaN when
    singular), the log-likelihood and the diagnostics.
    """
    n_base = len(model._param_names)
    pen = float(model.penalizer)
    fun = mean_objective(loglik, n, pen, n_base)
    with single_thread_blas():
        found = None
        if curvature is not None:
            lower, upper = np.array(bounds(theta0, n_base)).T
            start_curv = -curvature / n + penalty_hessian(theta0, pen, n_base)
            found = quasi_newton(
                fun,
                theta0,
                start_curv,
                (lower, upper),
                tol=model.tol,
                max_iter=min(model.max_iter, 100),
            )
        if found is not None:
            theta = found[0]
            message = f"quasi-Newton search converged ({found[1]} steps)"
        else:
            res = lbfgsb(fun, theta0, model)
            theta, message = np.asarray(res.x, dtype=np.float64), str(res.message)
        gnorm = float(np.max(np.abs(fun(theta)[1])))
        if gnorm > 100 * model.tol:
            message = (
                f"{where}: the covariate fit did not converge ({message}; gradient "
                f"sup-norm {gnorm:.3g}). Try fewer covariates, centred or rescaled numeric "
                "covariates, or a small penalizer."
            )
            if model.on_nonconvergence == "raise":
                raise ConvergenceError(message)
            warn(message, RuntimeWarning)
        ll_total = loglik(theta)[0]  # before the Hessian moves the last evaluated point
        if hessian is None:
            hess = gradient_hessian(fun, theta) * n
        else:
            hess = -hessian(theta) + n * penalty_hessian(theta, pen, n_base)
    try:
        cov = np.asarray(np.linalg.inv(hess), dtype=np.float64)
        if np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full(hess.shape, np.nan)
    diagnostics: dict[str, Any] = {
        "converged": bool(gnorm <= 100 * model.tol),
        "optimizer_message": message,
    }
    return theta, cov, ll_total, diagnostics
