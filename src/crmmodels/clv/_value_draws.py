"""Parameter uncertainty of a valuation: equity and per-customer CLV under parameter draws.

Parameters are drawn from the asymptotic normal distribution of the log parameters
(:func:`crmmodels.clv._predict.draw_models`): first the transaction model's, then the
spend model's, from one generator. Each draw is evaluated on the distinct histories (a
loop over draws, never over customers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from crmmodels._progress import Progress
from crmmodels.clv._base import unique_rows
from crmmodels.clv._gamma_gamma import GammaGamma
from crmmodels.clv._predict import draw_models
from crmmodels.clv._value_inputs import Settings
from crmmodels.clv._value_integrals import Histories, discounted

__all__ = ["Draws", "clv_interval", "equity_draws", "parameter_draws"]

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
