r"""Model selection for the customer base: fit the candidates, judge them on a holdout, choose.

:func:`select_model` splits a transaction log into a calibration and a holdout period
(:mod:`crmmodels.clv._selection_data`), fits each candidate (BG/NBD, MBG/NBD,
Pareto/NBD; BG/BB when purchases happen on a fixed schedule of opportunities) on the
calibration period, measures how well each forecasts the holdout, chooses one by a
criterion and refits it on the whole period. The result is a
:class:`~crmmodels.clv._selection_result.ModelSelectionResult`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_choice, check_column_name
from crmmodels._ingest.log import prepare_log
from crmmodels._ingest.periods import Period, check_period
from crmmodels.clv._bgbb import BGBB
from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._fitting import levels
from crmmodels.clv._mbgnbd import MBGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.clv._selection_data import LogSplit, split_log
from crmmodels.clv._selection_result import (
    CRITERIA,
    ModelSelectionResult,
    curve_errors,
    tracking_frame,
)
from crmmodels.errors import ArgumentError, BoundaryWarning, ConvergenceError, CRMModelsError
from crmmodels.kernels._optim import compress_rows

__all__ = ["CANDIDATES", "select_model"]

#: the candidate models by class name, in the order ties are broken
CANDIDATES: dict[str, type[Any]] = {
    "BGNBD": BGNBD,
    "MBGNBD": MBGNBD,
    "ParetoNBD": ParetoNBD,
    "BGBB": BGBB,
}
_CONTINUOUS = ("BGNBD", "MBGNBD", "ParetoNBD")
#: relative difference under which two criterion values are a tie
TIE_TOLERANCE = 1e-9


def _check_names(value: Any, name: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    bad = [v for v in items if v not in CANDIDATES]
    if not items or bad:
        raise ArgumentError(
            f"{name} must name models among {list(CANDIDATES)}; got {value!r}"
            + (f" ({bad} unknown)." if bad else " (empty).")
        )
    return list(dict.fromkeys(items))


def _candidates(candidates: Any, model: Any, discrete: bool) -> list[str]:
    default = [*_CONTINUOUS, "BGBB"] if discrete else list(_CONTINUOUS)
    names = default if candidates is None else _check_names(candidates, "candidates")
    if model is not None and model not in names:
        raise ArgumentError(
            f"model={model!r} is not among the candidates {names}; add it to candidates or "
            "leave candidates out."
        )
    if "BGBB" in names and not discrete:
        raise ArgumentError(
            "BGBB needs discrete purchase opportunities (at most one purchase date per "
            "time unit period); this log is not discrete for this time_unit. Pass "
            "discrete=True to count whole periods as opportunities, or leave BGBB out."
        )
    return names


def _fit(
    name: str, data: pd.DataFrame, unit: Period, customer_col: str | None, **extra: Any
) -> tuple[Any, str]:
    """Fit one candidate; return the model (None when the fit failed) and its status."""
    model = CANDIDATES[name]()
    if name == "BGBB":
        extra["n_periods_col"] = "T"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BoundaryWarning)
        try:
            model.fit(data, customer_col=customer_col, time_unit=unit, **extra)
        except (CRMModelsError, FloatingPointError) as exc:
            return None, f"failed: {exc}"
    for w in caught:
        if not issubclass(w.category, BoundaryWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    boundary = model.diagnostics_.get("boundary")
    if boundary:
        return model, f"boundary: {boundary['description']}"
    return model, "converged"


def _histories(split: LogSplit) -> tuple[pd.DataFrame, Any]:
    """The distinct calibration histories with their counts, and each customer's row.

    The candidates are fitted on these rows weighted by their counts: the likelihood of
    the customers, compressed once instead of once per candidate.
    """
    if split.histories is not None:  # the eager pass compressed them already
        return split.histories
    cal = split.calibration
    hist = [cal[c].to_numpy(dtype=np.float64) for c in ("frequency", "recency", "T")]
    distinct, counts, inverse = compress_rows(hist, levels=levels(hist))
    rows = pd.DataFrame(dict(zip(("frequency", "recency", "T"), distinct, strict=True)))
    return rows.assign(weights=counts), inverse


def _row(
    name: str,
    model: Any,
    status: str,
    split: LogSplit,
    curve: Any,
    histories: tuple[pd.DataFrame, Any],
) -> dict[str, Any]:
    nan = math.nan
    row: dict[str, Any] = {"model": name, "status": status}
    if model is None:
        return row | dict.fromkeys(
            (
                "n_params",
                "log_likelihood",
                "aic",
                "bic",
                "mae",
                "rmse",
                "curve_mape",
                "curve_end_error",
            ),
            nan,
        )
    boundary = model.diagnostics_.get("boundary")
    rows, inverse = histories
    expected = model.conditional_expected_purchases(
        split.holdout, *(rows[c].to_numpy() for c in ("frequency", "recency", "T"))
    )
    error = np.asarray(expected, dtype=np.float64)[inverse]
    error -= split.calibration["frequency_holdout"].to_numpy()  # counts: exact as floats
    mape, end_error = curve_errors(curve, name)
    return row | {
        "n_params": len(boundary["free_parameters"]) if boundary else len(model.params_),
        "log_likelihood": model.log_likelihood_,
        "aic": model.aic_,
        "bic": model.bic_,
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error * error))),
        "curve_mape": mape,
        "curve_end_error": end_error,
    }


_BETTER_HIGH = {"log_likelihood"}
_COLUMN = {
    "mae": "mae",
    "rmse": "rmse",
    "curve": "curve_mape",
    "curve_end": "curve_end_error",
    "loglik": "log_likelihood",
    "aic": "aic",
    "bic": "bic",
}
_WORDS = {
    "mae": "lowest holdout MAE per customer",
    "rmse": "lowest holdout RMSE per customer",
    "curve": "lowest mean absolute percentage error of the cumulative holdout curve",
    "curve_end": "smallest error of the total holdout repeat purchases",
    "loglik": "highest calibration log-likelihood",
    "aic": "lowest AIC on the calibration period",
    "bic": "lowest BIC on the calibration period",
}


def _score(table: pd.DataFrame, criterion: str) -> pd.Series:
    """The criterion per candidate, oriented so that lower is better (NaN: not eligible)."""
    col = _COLUMN[criterion]
    values = table[col].astype(np.float64)
    if criterion == "curve_end":
        values = values.abs()
    if col in _BETTER_HIGH:
        values = -values
    return values.where(~table["status"].str.startswith("failed"))


def _refit(chosen: str, split: LogSplit, unit: Period, customer_col: str) -> tuple[Any, str]:
    """The chosen model fitted on the whole period (on its distinct histories if so given).

    The distinct histories with their counts are the rows the fit compresses the summary
    to, so the fit is the same; ``n_rows`` is set back to the number of customers.
    """
    if split.whole_weights is None:
        return _fit(chosen, split.whole, unit, customer_col)
    final, status = _fit(chosen, split.whole, unit, customer_col, weights_col=split.whole_weights)
    if final is not None:
        n_rows = split.whole[split.whole_weights].to_numpy().sum()
        final.diagnostics_["n_rows"] = round(float(n_rows))
    return final, status


def _check_refit(final: Any, chosen: str, status: str) -> None:
    """The error when the chosen model's fit on the whole period failed."""
    if final is None:
        raise ConvergenceError(
            f"{chosen} was chosen on the calibration period, but its fit on the whole period "
            f"failed ({status}). Choose another model with model= or candidates=.",
            {"model": chosen, "status": status},
        )


def _chosen(table: pd.DataFrame, model: str | None, criterion: str, names: Sequence[str]) -> str:
    """The forced model, else the best candidate; an error naming each status when none fits."""
    chosen = model if model is not None else _choose(table, criterion, names)
    if chosen is None:
        reasons = "; ".join(
            f"{n}: {s}" for n, s in zip(table["model"], table["status"], strict=True)
        )
        raise ConvergenceError(
            f"no candidate could be fitted on the calibration period ({reasons}). Try "
            "another time_unit or a longer calibration period.",
            {"statuses": dict(zip(table["model"], table["status"], strict=True))},
        )
    return chosen


def _choose(table: pd.DataFrame, criterion: str, order: Sequence[str]) -> str | None:
    """The best candidate; ties go to fewer parameters, then to the order of ``order``."""
    score = _score(table, criterion)
    ok = score.notna().to_numpy()
    if not ok.any():
        return None
    best = float(score[ok].min())
    tied = ok & (score.to_numpy() - best <= TIE_TOLERANCE * max(abs(best), 1e-300))
    pool = table.loc[tied]
    rank = pool.assign(__order=[order.index(m) for m in pool["model"]])
    return str(rank.sort_values(["n_params", "__order"]).iloc[0]["model"])


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _reason(table: pd.DataFrame, chosen: str, criterion: str, forced: bool) -> str:
    col = _COLUMN[criterion]
    values = dict(zip(table["model"], table[col], strict=True))
    others = [f"{_fmt(v)} for {m}" for m, v in values.items() if m != chosen and not math.isnan(v)]
    against = f" ({_fmt(values[chosen])} against {', '.join(others)})" if others else ""
    if forced:
        best = _choose(table, criterion, list(table["model"]))
        note = f"; by {criterion} the best is {best}" if best and best != chosen else ""
        return f"{chosen}: chosen by the caller (model={chosen!r}){note}{against}."
    return f"{chosen}: {_WORDS[criterion]}{against}."


def _likelihood_criterion(criterion: str, names: list[str]) -> None:
    if criterion in ("loglik", "aic", "bic") and "BGBB" in names and len(names) > 1:
        raise ArgumentError(
            f"criterion={criterion!r} compares likelihoods, which BG/BB (probabilities of "
            "counts of opportunities) and the continuous-time models (densities of purchase "
            "times) do not share. Use a holdout criterion ('rmse', 'mae', 'curve', "
            "'curve_end') or candidates of one kind."
        )


def select_model(
    transactions: Any,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    observation_end: Any = None,
    calibration_end: Any = None,
    holdout: float | None = None,
    time_unit: Period = "W",
    candidates: Sequence[str] | None = None,
    model: str | None = None,
    criterion: str = "rmse",
    discrete: bool | str = "auto",
    date_format: str | None = None,
) -> ModelSelectionResult:
    r"""Choose a buy-till-you-die model for a transaction log by its holdout forecasts.

    The log is split into a calibration and a holdout period. Each candidate is fitted
    on the calibration period and forecasts each calibration customer's purchases in the
    holdout; the candidate with the best ``criterion`` is chosen and refitted on the
    whole period.

    Parameters
    ----------
    transactions : DataFrame-like
        The transaction log (one row per purchase) on any engine.
    customer_col, date_col : str
        Customer id and purchase date columns.
    observation_end : date-like, optional
        Last day of the log (default: the last purchase).
    calibration_end : date-like, optional
        Last day of the calibration period (the holdout runs from the next period of
        the grid to ``observation_end``).
    holdout : int, optional
        Length of the holdout in whole time units, counted back from
        ``observation_end``. With neither ``calibration_end`` nor ``holdout`` the
        default rule applies: the last third of the whole time units from the first
        purchase to ``observation_end`` (rounded down; CDNOW in weeks: 78 weeks, a
        26-week holdout).
    time_unit : {"D", "W", "M", "Q", "Y"} or int, default "W"
        The unit the models count time in. Purchases are merged per day and counted in
        the unit; months, quarters and years (of unequal lengths) merge purchases per
        period; discrete data are counted in whole periods (opportunities).
    candidates : sequence of str, optional
        Class names of the models to compare: ``"BGNBD"``, ``"MBGNBD"``,
        ``"ParetoNBD"``, ``"BGBB"``. Default: the first three, and BGBB too when the
        data are discrete.
    model : str, optional
        Force this candidate as the choice; the others are still fitted and compared,
        and the reason says the caller chose it.
    criterion : {"rmse", "mae", "curve", "curve_end", "loglik", "aic", "bic"}, default "rmse"
        How to choose (see Notes). Ties (relative difference under 1e-9) go to the model
        with fewer free parameters, then to the order above.
    discrete : {"auto", True, False}, default "auto"
        Whether purchases happen on a fixed schedule of opportunities. ``"auto"``: when
        no period of ``time_unit`` holds two distinct purchase dates over the whole log
        (a day unit is never discrete by this rule).
    date_format : str, optional
        strftime layout of text dates.

    Returns
    -------
    ModelSelectionResult

    Raises
    ------
    ArgumentError
        Unknown candidates or criterion, both ``calibration_end`` and ``holdout``, a
        likelihood criterion across BG/BB and continuous models.
    DataError
        A holdout that is empty, longer than the data, or leaves no calibration period; a
        log where nobody bought twice; bad columns or dates (as
        :func:`crmmodels.summarize_transactions`).
    ConvergenceError
        When no candidate could be fitted on the calibration period.

    Notes
    -----
    With :math:`y_i` the holdout purchases of calibration customer :math:`i`,
    :math:`\hat y_i` the model's conditional expectation given the calibration history
    and :math:`n` the calibration customers: ``mae`` is :math:`\frac1n\sum|\hat y_i - y_i|`
    and ``rmse`` :math:`\sqrt{\frac1n\sum(\hat y_i - y_i)^2}`. ``curve`` is the mean over
    the holdout time units of :math:`|\hat C_t - C_t| / C_t`, with :math:`C_t` the
    repeat purchases of the whole base from the calibration end to the end of unit
    :math:`t` and :math:`\hat C_t` the model's expectation; ``curve_end`` is
    :math:`(\hat C - C)/C` at the end of the holdout. The default, ``rmse``, judges the
    forecast users make with these models (each customer's expected purchases): the
    expectation is the forecast that minimises the squared error, so RMSE rewards the
    right expectation, where MAE would reward a median (0 for most customers).

    Examples
    --------
    >>> from crmmodels.clv import select_model
    >>> from crmmodels.datasets import load_cdnow
    >>> res = select_model(load_cdnow())
    >>> res.chosen, res.holdout, str(res.calibration_end.date())
    ('BGNBD', 26.0, '1997-12-30')
    >>> res.to_frame()[["model", "status", "rmse"]].round(3)
           model     status   rmse
    0      BGNBD  converged  1.117
    1     MBGNBD  converged  1.118
    2  ParetoNBD  converged  1.120
    """
    check_column_name(customer_col, "customer_col")
    check_column_name(date_col, "date_col")
    unit = check_period(time_unit, "time_unit")
    check_choice(criterion, "criterion", list(CRITERIA))
    if not (discrete == "auto" or isinstance(discrete, bool)):
        raise ArgumentError(f"discrete must be 'auto', True or False; got {discrete!r}.")
    if candidates is not None:
        _check_names(candidates, "candidates")
    if model is not None and not (isinstance(model, str) and model in CANDIDATES):
        raise ArgumentError(f"model must be one of {list(CANDIDATES)}; got {model!r}.")
    frame, end, tz = prepare_log(
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=None,
        date_format=date_format,
        allow_negative=True,
        observation_end=observation_end,
    )
    split = split_log(
        frame,
        customer_col=customer_col,
        date_col=date_col,
        end=end,
        tz=tz,
        unit=unit,
        discrete=discrete,
        calibration_end=calibration_end,
        holdout=holdout,
    )
    names = _candidates(candidates, model, split.discrete)
    _likelihood_criterion(criterion, names)
    histories = _histories(split)
    fits = {name: _fit(name, histories[0], unit, None, weights_col="weights") for name in names}
    tracking = tracking_frame(split, {n: m for n, (m, _) in fits.items() if m is not None})
    table = pd.DataFrame([_row(n, m, s, split, tracking, histories) for n, (m, s) in fits.items()])
    chosen = _chosen(table, model, criterion, names)
    table["chosen"] = table["model"] == chosen
    final, status = _refit(chosen, split, unit, customer_col)
    _check_refit(final, chosen, status)
    return ModelSelectionResult(
        table=table,
        chosen=chosen,
        reason=_reason(table, chosen, criterion, model is not None),
        criterion=criterion,
        calibration_end=split.calibration_end,
        observation_end=split.observation_end,
        holdout=split.holdout,
        holdout_rule=split.holdout_rule,
        time_unit=unit,
        discrete=split.discrete,
        n_customers=len(split.calibration),
        n_new_in_holdout=split.n_new_in_holdout,
        models={n: m for n, (m, _) in fits.items() if m is not None},
        model=final,
        tracking=tracking,
    )
