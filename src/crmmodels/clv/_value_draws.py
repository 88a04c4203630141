"""Parameter uncertainty of a valuation: equity and per-customer CLV under parameter draws.

Parameters are drawn from the asymptotic normal distribution of the log parameters
(:func:`crmmodels.clv._predict.draw_models`): first the transaction model's, then the
spend model's, from one generator. Each draw is evaluated on the distinct histories (a
loop over draws, never over customers).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtri

from crmmodels._progress import Progress
from crmmodels.clv._base import unique_rows
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._predict import draw_models
from crmmodels.clv._value_inputs import Settings
from crmmodels.clv._value_integrals import Histories, discounted

__all__ = ["Draws", "clv_interval", "equity_delta", "equity_draws", "parameter_draws"]

FloatArray = npt.NDArray[np.float64]
#: the transaction models drawn, and the spend models drawn (None for a constant spend)
Draws = tuple[list[Any], list[Any] | None]
# values held at once when the spend varies by customer: draws x distinct rows
_BLOCK = 4_000_000


def parameter_draws(
    transaction_model: Any, spend: GammaGamma | float | None, n_draws: int, seed: int
) -> Draws | None:
    """Models with drawn parameters; None without draws or when a model has no covariance.

    Models built with ``from_params`` carry no covariance: there is then no interval.
    """
    if n_draws == 0:
        return None
    rng = np.random.default_rng(seed)
    transaction = draw_models(transaction_model, n_draws, rng)
    spend_draws = draw_models(spend, n_draws, rng) if isinstance(spend, GammaGamma) else None
    if transaction is None or (isinstance(spend, GammaGamma) and spend_draws is None):
        return None
    return transaction, spend_draws


def _constant_spend(spend: GammaGamma | float | None) -> float:
    return 1.0 if spend is None or isinstance(spend, GammaGamma) else float(spend)


def equity_draws(
    draws: Draws,
    spend: GammaGamma | float | None,
    h: Histories,
    settings: Settings,
    report: Progress,
) -> list[float]:
    """Customer equity under each parameter draw, computed on the distinct histories.

    The Gamma-Gamma expected spend is affine in the mean spend for a given frequency, so
    the spend of the customers sharing a history sums to their count times the expected
    spend at their mean spend.
    """
    transaction, spend_draws = draws
    out: list[float] = []
    for i, model in enumerate(transaction):  # a loop over parameter draws, not customers
        det, _, _ = discounted(model, h, settings)
        if spend_draws is not None:
            z = spend_draws[i].conditional_expected_spend(h.f, h.mean_spend)
            spend_sum = h.counts * np.asarray(z, dtype=np.float64)
        else:
            spend_sum = h.counts * _constant_spend(spend)
        out.append(settings.margin * float(det @ spend_sum))
        report.update(i + 1)
    return out


def clv_interval(
    draws: Draws,
    spend: GammaGamma | float | None,
    h: Histories,
    monetary_value: FloatArray | None,
    settings: Settings,
    level: float,
    report: Progress,
) -> tuple[FloatArray, FloatArray]:
    """Per-customer percentile interval of CLV under the parameter draws.

    The discounted transactions are computed once per draw and distinct history; with a
    Gamma-Gamma spend model the spend is evaluated per draw on the distinct (history,
    mean spend) rows, in blocks of bounded memory.
    """
    transaction, spend_draws = draws
    det = np.empty((len(transaction), h.f.size))
    for i, model in enumerate(transaction):  # a loop over parameter draws, not customers
        det[i] = discounted(model, h, settings)[0]
        report.update(i + 1)
    tail = (1.0 - level) / 2.0
    if spend_draws is None or monetary_value is None:
        values = settings.margin * _constant_spend(spend) * det
        low, high = np.quantile(values, [tail, 1.0 - tail], axis=0)
        return low[h.inverse], high[h.inverse]
    (history, mean_spend), inverse = unique_rows([h.inverse.astype(np.float64), monetary_value])
    rows = history.astype(np.intp)
    low = np.empty(rows.size)
    high = np.empty(rows.size)
    step = max(1, _BLOCK // len(spend_draws))
    for lo in range(0, rows.size, step):  # bounded memory, not a loop over customers
        sl = slice(lo, lo + step)
        z = np.stack(
            [
                np.asarray(m.conditional_expected_spend(h.f[rows[sl]], mean_spend[sl]))
                for m in spend_draws
            ]
        )
        values = settings.margin * z * det[:, rows[sl]]
        low[sl], high[sl] = np.quantile(values, [tail, 1.0 - tail], axis=0)
    return low[inverse], high[inverse]


#: relative step in the log parameters for the central differences of the delta method
_LOG_STEP = 1e-4


def _log_covariance(model: Any) -> tuple[list[str], FloatArray, FloatArray] | None:
    """Names, log parameters and covariance of the log parameters (None without one)."""
    cov = getattr(model, "covariance_", None)
    if cov is None:
        return None
    names = list(model.params_)
    p = np.array([model.params_[k] for k in names], dtype=np.float64)
    arr = np.asarray(
        cov.loc[names, names] if isinstance(cov, pd.DataFrame) else cov, dtype=np.float64
    )
    if not (np.all(np.isfinite(arr)) and np.all(p > 0)):
        return None
    jac = np.diag(1.0 / p)
    return names, np.log(p), jac @ arr @ jac


def _with_log_params(model: Any, names: list[str], log_p: FloatArray) -> Any:
    return type(model).from_params(**dict(zip(names, np.exp(log_p), strict=True)))


def _log_gradient(model: Any, value: Any, names: list[str], log_p: FloatArray) -> FloatArray:
    """Central differences of ``value(model)`` in each log parameter."""
    grad = np.empty(log_p.size)
    for j in range(log_p.size):  # a loop over the parameters (4 at most), not customers
        step = np.zeros(log_p.size)
        step[j] = _LOG_STEP
        up = value(_with_log_params(model, names, log_p + step))
        down = value(_with_log_params(model, names, log_p - step))
        grad[j] = (up - down) / (2.0 * _LOG_STEP)
    return grad


def equity_delta(
    transaction_model: Any,
    spend: GammaGamma | float | None,
    h: Histories,
    settings: Settings,
    level: float,
) -> tuple[float, float] | None:
    """Interval of the customer equity by the delta method on the log parameters.

    With ``E(theta)`` the equity as a function of the log parameters of both models
    (fitted separately, so their covariances form a block-diagonal matrix),
    ``Var(log E) ~ g' Sigma g / E^2`` with ``g`` the gradient of ``E`` by central
    differences. The interval ``E exp(-+ z sd(log E))`` stays positive. It needs
    ``2 k`` equity evaluations for ``k`` parameters instead of one per draw. None when a
    model has no covariance or the equity is not positive.
    """
    transaction = _log_covariance(transaction_model)
    if transaction is None:
        return None
    gamma = _log_covariance(spend) if isinstance(spend, GammaGamma) else None
    if isinstance(spend, GammaGamma) and gamma is None:
        return None

    def spend_sum(model: GammaGamma | float | None) -> FloatArray:
        if isinstance(model, GammaGamma):
            z = model.conditional_expected_spend(h.f, h.mean_spend)
            return h.counts * np.asarray(z, dtype=np.float64)
        return h.counts * _constant_spend(model)

    det = discounted(transaction_model, h, settings)[0]
    base_spend = spend_sum(spend)
    total = settings.margin * float(det @ base_spend)
    if not (math.isfinite(total) and total > 0):
        return None
    names, log_p, cov = transaction
    grad = _log_gradient(
        transaction_model,
        lambda m: settings.margin * float(discounted(m, h, settings)[0] @ base_spend),
        names,
        log_p,
    )
    var = float(grad @ cov @ grad)
    if gamma is not None:
        g_names, g_log_p, g_cov = gamma
        g_grad = _log_gradient(
            spend, lambda m: settings.margin * float(det @ spend_sum(m)), g_names, g_log_p
        )
        var += float(g_grad @ g_cov @ g_grad)
    sd_log = math.sqrt(max(var, 0.0)) / total
    z = float(ndtri(0.5 + level / 2.0))
    return total * math.exp(-z * sd_log), total * math.exp(z * sd_log)
