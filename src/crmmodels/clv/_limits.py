r"""Boundary (limiting) solutions of the maximum-likelihood fits.

The CLV models mix a distribution over customers (a gamma for purchase or dropout rates,
a beta for purchase or dropout probabilities). When the data show no heterogeneity, or
no dropout, the likelihood has no interior maximum: the optimiser runs along a ridge
(for example :math:`r, \alpha \to \infty` with :math:`r/\alpha` fixed, the Poisson limit
of the gamma mixture) while the log-likelihood flattens to its supremum. A model states
the limits it can reach as :class:`Limit` objects; :func:`reduced_map` turns a set of
limits into a reparameterisation with fewer free parameters, so that the ordinary
optimiser can fit the limiting model itself.

Kinds of limit
--------------
``"gamma"`` (a shape ``k`` and a rate ``theta`` of a gamma mixture)
    No heterogeneity: the mixture collapses on its mean :math:`m = k/\theta`. The limit
    is represented by :math:`k = K` (``SHAPE_LIMIT``, 1e8) and :math:`\theta = K/m`: a
    gamma whose coefficient of variation is :math:`10^{-4}`, so that every prediction of
    the usual formulas equals the limit's to about :math:`10^{-6}` relative (the error is
    of order :math:`(m t)^2 / K` for a horizon :math:`t`).
``"beta"`` (the two shapes ``a``, ``b`` of a beta mixture)
    No heterogeneity: the beta collapses on its mean :math:`a/(a+b)`, represented with
    :math:`a + b = K` and the free odds :math:`o = a/b`.
``"vanish"`` (a parameter going to 0, another one unidentified)
    The mixture collapses on 0: for a dropout process, nobody drops out. Represented by
    the vanishing parameter at ``VANISH`` (1e-8) and the unidentified one fixed at 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from crmmodels.kernels._optim import FloatArray, numeric_hessian

__all__ = [
    "LOGLIK_TOLERANCE",
    "SHAPE_LIMIT",
    "VANISH",
    "BoundaryFit",
    "Limit",
    "Solution",
    "candidate_sets",
    "looks_like_boundary",
    "reduced_map",
    "reduced_start",
    "rounding_error",
    "search_limits",
]

#: the shape (or total concentration) that stands for infinity in a "no heterogeneity" limit
SHAPE_LIMIT = 1e8
#: the value that stands for 0 in a "vanish" limit
VANISH = 1e-8


@dataclass(frozen=True)
class Limit:
    """One limiting model a fit can run into.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"poisson_purchases"``.
    kind : {"gamma", "beta", "vanish"}
        See the module docstring.
    params : tuple of str
        ``(shape, rate)`` for "gamma", ``(a, b)`` for "beta", ``(vanishing, unidentified)``
        for "vanish".
    group : str
        The process the limit belongs to (``"purchase"``, ``"dropout"``, ``"spend"``);
        at most one limit per group is applied at a time.
    words : str
        Plain-words description with ``{value}`` standing for the kept ratio (the mean
        rate of a "gamma", the mean probability of a "beta").
    """

    name: str
    kind: Literal["gamma", "beta", "vanish"]
    params: tuple[str, str]
    group: str
    words: str

    def kept_value(self, values: dict[str, float]) -> float:
        """The quantity the limit keeps (mean rate or mean probability), from parameters."""
        first, second = (values[p] for p in self.params)
        if self.kind == "gamma":
            return first / second
        if self.kind == "beta":
            return first / (first + second)
        return 0.0

    def describe(self, values: dict[str, float]) -> str:
        """The plain-words sentence for the fitted values."""
        return self.words.format(value=self.kept_value(values))


def candidate_sets(limits: Sequence[Limit]) -> list[tuple[Limit, ...]]:
    """Every non-empty combination of limits with at most one limit per group.

    Examples
    --------
    >>> a = Limit("p", "gamma", ("r", "alpha"), "purchase", "")
    >>> b = Limit("d", "beta", ("a", "b"), "dropout", "")
    >>> c = Limit("n", "vanish", ("a", "b"), "dropout", "")
    >>> [[lim.name for lim in s] for s in candidate_sets([a, b, c])]
    [['d'], ['n'], ['p'], ['p', 'd'], ['p', 'n']]
    """
    groups: dict[str, list[Limit]] = {}
    for lim in limits:
        groups.setdefault(lim.group, []).append(lim)
    options = [[None, *members] for members in groups.values()]
    out = [tuple(c for c in combo if c is not None) for combo in itertools.product(*options)]
    # limits applied together must tie disjoint parameters
    out = [c for c in out if c and len({p for lim in c for p in lim.params}) == 2 * len(c)]
    return sorted(out, key=len)


def reduced_map(
    names: Sequence[str], limits: Sequence[Limit]
) -> tuple[list[str], Callable[[FloatArray], tuple[FloatArray, FloatArray]]]:
    """Reparameterise the model under ``limits``.

    Parameters
    ----------
    names : sequence of str
        The model's parameter names, in order.
    limits : sequence of Limit
        Limits applied together (disjoint parameters).

    Returns
    -------
    (free names, mapping)
        The names of the free parameters (a "gamma" limit frees ``"<shape>/<rate>"``, a
        "beta" limit ``"<a>/<b>"``, a "vanish" limit nothing), and a function from the
        free values to ``(full parameters, Jacobian d full / d free)``.

    Examples
    --------
    >>> lim = Limit("p", "gamma", ("r", "alpha"), "purchase", "")
    >>> free, f = reduced_map(["r", "alpha", "a", "b"], [lim])
    >>> free
    ['a', 'b', 'r/alpha']
    >>> full, jac = f(np.array([0.5, 2.0, 0.01]))
    >>> full.tolist()
    [100000000.0, 10000000000.0, 0.5, 2.0]
    """
    index = {n: i for i, n in enumerate(names)}
    tied = {p for lim in limits for p in lim.params}
    free = [n for n in names if n not in tied]
    free_idx = [index[n] for n in free]
    parts: list[tuple[Limit, int | None]] = []
    for lim in limits:
        if lim.kind == "vanish":
            parts.append((lim, None))
        else:
            parts.append((lim, len(free)))
            free.append(f"{lim.params[0]}/{lim.params[1]}")
    k, n_free = len(names), len(free)

    def mapping(q: FloatArray) -> tuple[FloatArray, FloatArray]:
        full = np.empty(k)
        jac = np.zeros((k, n_free))
        for j, i in enumerate(free_idx):
            full[i] = q[j]
            jac[i, j] = 1.0
        for lim, slot in parts:
            i0, i1 = index[lim.params[0]], index[lim.params[1]]
            if slot is None:
                full[i0], full[i1] = VANISH, 1.0
                continue
            v = float(q[slot])
            if lim.kind == "gamma":  # shape K, rate K / mean
                full[i0], full[i1] = SHAPE_LIMIT, SHAPE_LIMIT / v
                jac[i1, slot] = -SHAPE_LIMIT / (v * v)
            else:  # beta: a = K o / (1 + o), b = K / (1 + o)
                full[i0], full[i1] = SHAPE_LIMIT * v / (1.0 + v), SHAPE_LIMIT / (1.0 + v)
                d = SHAPE_LIMIT / (1.0 + v) ** 2
                jac[i0, slot], jac[i1, slot] = d, -d
        return full, jac

    return free, mapping


def reduced_start(names: Sequence[str], limits: Sequence[Limit], params: FloatArray) -> FloatArray:
    """Starting values of the free parameters, read off a full parameter vector.

    Examples
    --------
    >>> lim = Limit("p", "gamma", ("r", "alpha"), "purchase", "")
    >>> reduced_start(["r", "alpha", "a", "b"], [lim], np.array([1e7, 2e7, 0.5, 2.0])).tolist()
    [0.5, 2.0, 0.5]
    """
    index = {n: i for i, n in enumerate(names)}
    tied = {p for lim in limits for p in lim.params}
    out = [float(params[index[n]]) for n in names if n not in tied]
    for lim in limits:
        if lim.kind == "vanish":
            continue
        first, second = float(params[index[lim.params[0]]]), float(params[index[lim.params[1]]])
        out.append(first / second)
    return np.clip(np.asarray(out, dtype=np.float64), 1e-9, 1e9)


@dataclass
class Solution:
    """A maximum of a log-likelihood with its curvature (from one optimiser run)."""

    params: FloatArray
    loglik: float
    covariance: FloatArray
    hessian_ok: bool
    converged: bool
    diagnostics: dict[str, Any] = field(default_factory=dict)


#: Solver: (loglik with gradient, natural-scale start) -> Solution
Solver = Callable[[Callable[[FloatArray], tuple[float, FloatArray]], FloatArray], Solution]

#: parameters beyond these bounds make an optimum suspicious (a possible ridge)
_SUSPICIOUS = (1e-6, 1e6)
#: a limiting model is taken when its log-likelihood is within this of the best one found
LOGLIK_TOLERANCE = 1e-3


def looks_like_boundary(solution: Solution) -> bool:
    """Whether an optimum may be a ridge towards a limit (not converged, flat or extreme)."""
    p = solution.params
    extreme = bool(np.any(p < _SUSPICIOUS[0]) or np.any(p > _SUSPICIOUS[1]))
    return extreme or not solution.converged or not solution.hessian_ok


@dataclass
class BoundaryFit:
    """A limiting model chosen by :func:`search_limits`."""

    limits: tuple[Limit, ...]
    solution: Solution
    free_names: list[str]
    loglik_unrestricted: float

    def describe(self, names: Sequence[str]) -> str:
        """Plain-words sentences, one per limit, joined."""
        values = dict(zip(names, map(float, self.solution.params), strict=True))
        return "; ".join(lim.describe(values) for lim in self.limits)

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """JSON-friendly summary for ``diagnostics_["boundary"]``."""
        values = dict(zip(names, map(float, self.solution.params), strict=True))
        return {
            "limits": [lim.name for lim in self.limits],
            "description": self.describe(names),
            "free_parameters": list(self.free_names),
            "kept": {
                f"{lim.params[0]}/{lim.params[1]}": lim.kept_value(values)
                for lim in self.limits
                if lim.kind != "vanish"
            },
            "log_likelihood_unrestricted": self.loglik_unrestricted,
        }


def _restricted(
    loglik: Callable[[FloatArray], tuple[float, FloatArray]],
    mapping: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    def reduced(q: FloatArray) -> tuple[float, FloatArray]:
        full, jac = mapping(q)
        value, grad = loglik(full)
        return value, jac.T @ np.asarray(grad, dtype=np.float64)

    return reduced


def rounding_error(params: FloatArray, n_obs: float) -> float:
    r"""A bound on the rounding error of a summed log-likelihood at extreme parameters.

    Terms such as :math:`r \ln \alpha` are of size :math:`p |\ln p|` for a parameter
    :math:`p`; summed over ``n_obs`` customers, their rounding error grows like
    :math:`\epsilon\, n\, p |\ln p|`. Differences of log-likelihoods smaller than this
    carry no information.

    Examples
    --------
    >>> rounding_error(np.array([0.5, 2.0]), 100.0) < 1e-10
    True
    >>> 1e-3 < rounding_error(np.array([1e9, 1e10]), 300.0) < 1.0
    True
    """
    size = float(np.max(params * np.abs(np.log(params)) + 1.0))
    return 64.0 * float(np.finfo(np.float64).eps) * float(n_obs) * size


def _gradient_newton(
    loglik: Callable[[FloatArray], tuple[float, FloatArray]], sol: Solution
) -> Solution:
    """Newton steps on the analytic gradient (no function values).

    At the huge shapes that stand for a limit, the summed log-likelihood carries rounding
    noise that stalls a line search, while the analytic gradient stays accurate; a few
    Newton steps on the gradient locate the optimum to the gradient's precision. A step
    is kept only while the gradient shrinks and the parameters stay positive.
    """
    if not sol.hessian_ok:
        return sol
    q = sol.params.copy()
    g = np.asarray(loglik(q)[1], dtype=np.float64)
    cov = sol.covariance
    for _ in range(8):
        step = cov @ g
        cand = q + step
        if not np.all(cand > 0) or not np.all(np.isfinite(cand)):
            break
        g_new = np.asarray(loglik(cand)[1], dtype=np.float64)
        if not np.max(np.abs(g_new * cand)) < np.max(np.abs(g * q)):
            break
        q, g = cand, g_new
        if np.max(np.abs(step) / q) < 1e-13:
            break
        hess = numeric_hessian(lambda v: -np.asarray(loglik(v)[1], dtype=np.float64), q)
        try:
            inv_chol = np.linalg.inv(np.linalg.cholesky(hess))
        except np.linalg.LinAlgError:
            break
        cov = inv_chol.T @ inv_chol
    return Solution(q, float(loglik(q)[0]), cov, True, sol.converged, sol.diagnostics)


def _proper(sol: Solution, free: Sequence[str]) -> bool:
    """A restricted optimum with curvature, a small gradient and no free parameter at 0 or inf."""
    if not (sol.hessian_ok and np.isfinite(sol.loglik)):
        return False
    if not (sol.converged or float(sol.diagnostics.get("gradient_norm", np.inf)) < 1e-3):
        return False
    plain = np.array([v for v, n in zip(sol.params, free, strict=True) if "/" not in n])
    low, high = _SUSPICIOUS
    return not bool(np.any(plain < low) or np.any(plain > high))


def search_limits(
    loglik: Callable[[FloatArray], tuple[float, FloatArray]],
    names: Sequence[str],
    limits: Sequence[Limit],
    unrestricted: Solution,
    solve: Solver,
    n_obs: float,
) -> BoundaryFit | None:
    """Fit every limiting model and keep the simplest one that is as good as the best.

    A limiting model is kept when its fit is a proper optimum in its free parameters
    (a positive-definite Hessian, a small gradient, no free parameter running to 0 or
    infinity) and its log-likelihood is within :data:`LOGLIK_TOLERANCE` plus the
    likelihood's rounding error (:func:`rounding_error`) of the best log-likelihood
    found; among those the one with the fewest free parameters wins (ties: the higher
    log-likelihood). A last check refits the full model from a point near the chosen
    limit: if that reaches a clearly higher log-likelihood at a proper interior optimum,
    ``None`` is returned.

    Returns
    -------
    BoundaryFit or None
        ``None`` when no limiting model explains the data as well as the best fit.
    """
    fits: list[tuple[tuple[Limit, ...], Solution, list[str]]] = []
    for combo in candidate_sets(limits):
        free, mapping = reduced_map(names, combo)
        start = reduced_start(names, combo, unrestricted.params)
        reduced = _restricted(loglik, mapping)
        sol = _gradient_newton(reduced, solve(reduced, start))
        if not _proper(sol, free):
            continue
        full, jac = mapping(sol.params)
        cov = jac @ sol.covariance @ jac.T
        fits.append((combo, Solution(full, sol.loglik, cov, True, True, sol.diagnostics), free))
    if not fits:
        return None
    best_ll = max([unrestricted.loglik, *(s.loglik for _, s, _ in fits)])
    noise = rounding_error(unrestricted.params, n_obs)
    good = [
        f
        for f in fits
        if f[1].loglik
        >= best_ll - LOGLIK_TOLERANCE - max(noise, rounding_error(f[1].params, n_obs))
    ]
    if not good:
        return None
    combo, sol, free = min(good, key=lambda f: (len(f[2]), -f[1].loglik))
    # from near the limit, does the full model climb clearly higher (an interior optimum)?
    near = sol.params.copy()
    index = {n: i for i, n in enumerate(names)}
    for lim in combo:
        i0, i1 = index[lim.params[0]], index[lim.params[1]]
        if lim.kind == "vanish":
            near[i0] = 1e-3
        else:
            near[i0] *= 1e3 / SHAPE_LIMIT
            near[i1] *= 1e3 / SHAPE_LIMIT
    check = solve(loglik, near)
    if (
        check.converged
        and check.hessian_ok
        and not looks_like_boundary(check)
        and check.loglik > sol.loglik + LOGLIK_TOLERANCE + rounding_error(sol.params, n_obs)
    ):
        return None
    return BoundaryFit(combo, sol, free, unrestricted.loglik)


# ---------------------------------------------------------------- the models' limits
_POISSON = (
    "purchase rates show no heterogeneity: {first} and {second} grow without bound at "
    "{first}/{second} = {{value:.4g}} purchases per unit of T, so the Poisson limit (one "
    "purchase rate for everybody) is used"
)
_NO_DROPOUT = (
    "no customer appears to drop out: {first} goes to 0 ({second} is then not identified "
    "and is fixed at 1), so the model without dropout is used"
)


def _gamma(name: str, first: str, second: str, group: str, words: str) -> Limit:
    return Limit(name, "gamma", (first, second), group, words.format(first=first, second=second))


def _beta(name: str, first: str, second: str, group: str, what: str) -> Limit:
    words = (
        f"{what} probabilities show no heterogeneity: {first} and {second} grow without "
        f"bound at {first}/({first}+{second}) = {{value:.4g}}, so one {what} probability "
        "for everybody is used"
    )
    return Limit(name, "beta", (first, second), group, words)


def _vanish(first: str, second: str) -> Limit:
    return Limit(
        "no_dropout",
        "vanish",
        (first, second),
        "dropout",
        _NO_DROPOUT.format(first=first, second=second),
    )


#: BG/NBD and MBG/NBD: Poisson purchases, one dropout probability, no dropout
BETA_GEOMETRIC_LIMITS = (
    _gamma("poisson_purchases", "r", "alpha", "purchase", _POISSON),
    _beta("homogeneous_dropout", "a", "b", "dropout", "dropout"),
    _vanish("a", "b"),
)
#: Pareto/NBD: Poisson purchases, one exponential lifetime, no dropout
PARETO_NBD_LIMITS = (
    _gamma("poisson_purchases", "r", "alpha", "purchase", _POISSON),
    _gamma(
        "homogeneous_dropout",
        "s",
        "beta",
        "dropout",
        "dropout rates show no heterogeneity: {first} and {second} grow without bound at "
        "{first}/{second} = {{value:.4g}} per unit of T, so one exponential lifetime for "
        "everybody is used",
    ),
    _vanish("s", "beta"),
)
#: BG/BB: one purchase probability, one dropout probability, no dropout
BGBB_LIMITS = (
    _beta("homogeneous_purchases", "alpha", "beta", "purchase", "purchase"),
    _beta("homogeneous_dropout", "gamma", "delta", "dropout", "dropout"),
    _vanish("gamma", "delta"),
)
#: Gamma-Gamma: one spend rate for every customer
GAMMA_GAMMA_LIMITS = (
    _gamma(
        "homogeneous_spend",
        "q",
        "v",
        "spend",
        "average spend shows no heterogeneity across customers: {first} and {second} grow "
        "without bound at {first}/{second} = {{value:.4g}} (the spend rate nu of every "
        "customer), so one spend distribution for everybody is used",
    ),
)
