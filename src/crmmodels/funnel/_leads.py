"""Lead scoring: learn from closed leads, validate on the latest ones, score the open ones.

The model is a scikit-learn pipeline (imputation with missing-value indicators and
standardisation for numeric features, one-hot coding with a "missing" level for the
categorical ones) around a logistic regression or gradient boosting, calibrated on
time-ordered folds. See :func:`lead_scores`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import (
    check_choice,
    check_column_name,
    check_int,
    check_level,
    check_number,
)
from crmmodels._ingest.dates import parse_dates
from crmmodels._ingest.frames import (
    check_columns,
    check_ids,
    local_dates,
    pandas_ready,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels.engines import require
from crmmodels.errors import ArgumentError, CRMModelsWarning, DataError, bad_rows_message, warn
from crmmodels.funnel import _leads_metrics as lm
from crmmodels.funnel._leads_model import Leads, feature_effects, fit, leak_check, pipeline
from crmmodels.funnel._leads_result import LeadScoresResult

__all__ = ["lead_scores"]

_MODELS = ("logistic", "gradient_boosting")
_CALIBRATIONS = ("sigmoid", "isotonic", "none")


def _labels(value: Any, name: str) -> set[str]:
    values = [value] if isinstance(value, str) else list(value)
    if not values or not all(isinstance(v, str) for v in values):
        raise ArgumentError(f"{name} must be a text value or a list of them; got {value!r}.")
    return set(values)


def _outcomes(col: pd.Series, name: str, won: Any, lost: Any, still_open: Any) -> Any:
    """1.0 for won, 0.0 for lost, NaN for open; refuse values that are none of these."""
    null = col.isna().to_numpy()
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if pd.api.types.is_bool_dtype(col.dtype) or kind == "boolean":
        return np.where(null, np.nan, col.fillna(False).astype(bool).to_numpy(dtype=np.float64))
    if pd.api.types.is_numeric_dtype(col.dtype):
        v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~null & (v != 0.0) & (v != 1.0)
        if bad.any():
            raise DataError(
                bad_rows_message(
                    name,
                    "is neither 1 (won), 0 (lost) nor missing (open)",
                    int(bad.sum()),
                    python_scalar(v[bad][0]),
                    "Code the outcome as 1/0/missing, True/False/missing, or text labels.",
                )
            )
        return v
    won_s, lost_s, open_s = (
        _labels(won, "won"),
        _labels(lost, "lost"),
        _labels(still_open, "still_open"),
    )
    if won_s & lost_s or won_s & open_s or lost_s & open_s:
        raise ArgumentError("won, lost and still_open must not share a label.")
    text = col.astype(object).where(~null, None).map(lambda v: v if v is None else str(v))
    is_won = text.isin(won_s).to_numpy()
    is_lost = text.isin(lost_s).to_numpy()
    bad = ~null & ~is_won & ~is_lost & ~text.isin(open_s).to_numpy()
    if bad.any():
        raise DataError(
            bad_rows_message(
                name,
                f"is none of won={sorted(won_s)}, lost={sorted(lost_s)}, "
                f"still_open={sorted(open_s)}",
                int(bad.sum()),
                python_scalar(col[bad].iloc[0]),
                "Pass the labels your data uses as won=, lost= and still_open= "
                "(missing values always count as open).",
            )
        )
    return np.where(is_won, 1.0, np.where(is_lost, 0.0, np.nan))


def _read(
    leads: Any,
    *,
    entity_col: str,
    date_col: str,
    outcome_col: str,
    feature_cols: Sequence[str],
    stage_col: str | None,
    date_format: str | None,
    won: Any,
    lost: Any,
    still_open: Any,
) -> Leads:
    leads = pandas_ready(leads, date_cols=[date_col])
    frame = to_narwhals(leads, what="leads")
    cols = [entity_col, date_col, outcome_col, *feature_cols]
    cols += [stage_col] if stage_col is not None else []
    check_columns(frame, cols, what="leads")
    check_ids(leads, entity_col, what="leads")
    frame = local_dates(
        parse_dates(frame, date_col, date_format=date_format, what="leads"), date_col
    )
    df = to_pandas(frame.select(list(dict.fromkeys(cols))))
    if df.empty:
        raise DataError("leads has no rows.")
    ids = df[entity_col]
    for mask, problem, fix in (
        (ids.isna(), "is missing", "Every lead needs an id."),
        (
            ids.duplicated(keep=False),
            "repeats a lead id (one row per lead is needed)",
            f"Keep one row per lead, e.g. df.drop_duplicates({entity_col!r}, keep='last').",
        ),
    ):
        if mask.any():
            example = python_scalar(ids[mask].iloc[0])
            raise DataError(bad_rows_message(entity_col, problem, int(mask.sum()), example, fix))
    no_date = df[date_col].isna()
    if no_date.any():
        raise DataError(
            bad_rows_message(
                date_col,
                "is missing",
                int(no_date.sum()),
                f"lead {python_scalar(ids[no_date].iloc[0])!r}",
                "Every lead needs its creation date.",
            )
        )
    y = _outcomes(df[outcome_col], outcome_col, won, lost, still_open)
    features = pd.DataFrame(index=df.index)
    numeric: list[str] = []
    categorical: list[str] = []
    for col in feature_cols:
        s = df[col]
        if pd.api.types.is_bool_dtype(s.dtype) or (
            pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype)
        ):
            features[col] = s.astype(np.float64)
            numeric.append(col)
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            raise DataError(
                f"feature column '{col}' holds dates; turn it into a number first "
                "(e.g. days since the lead was created)."
            )
        else:
            features[col] = (
                s.astype(object)
                .where(s.notna(), np.nan)
                .map(lambda v: v if v is np.nan else str(v))
            )
            categorical.append(col)
    stage = df[stage_col].reset_index(drop=True) if stage_col is not None else None
    return Leads(
        ids=ids.to_numpy(),
        dates=df[date_col].reset_index(drop=True),
        y=np.asarray(y, dtype=np.float64),
        features=features.reset_index(drop=True),
        numeric=numeric,
        categorical=categorical,
        stage=stage,
    )


def _feature_cols(feature_cols: Any, taken: set[str]) -> list[str]:
    if isinstance(feature_cols, str) or not len(feature_cols):
        raise ArgumentError(
            f"feature_cols must be a non-empty list of column names; got {feature_cols!r}."
        )
    cols = [check_column_name(c, "feature_cols") for c in feature_cols]
    if taken & set(cols) or len(set(cols)) != len(cols):
        raise ArgumentError(
            "feature_cols must name each feature once and must not hold the id, date or "
            f"outcome column; got {cols!r}."
        )
    return cols


def _split(data: Leads, train_share: float, outcome_col: str) -> tuple[Any, Any, Any, int, int]:
    """Closed leads in time order (date, then id), the training and the validation part."""
    closed = np.flatnonzero(~np.isnan(data.y))
    if closed.size == 0:
        raise DataError(
            f"leads has no closed lead ({len(data.y)} rows, all open): the model learns "
            f"from won and lost leads. Check outcome_col={outcome_col!r} and won=/lost=."
        )
    order = closed[np.lexsort((_sort_key(data.ids[closed]), data.dates.to_numpy()[closed]))]
    n_won = int((data.y[closed] == 1.0).sum())
    n_lost = int(closed.size - n_won)
    if n_won == 0 or n_lost == 0:
        raise DataError(
            f"the closed leads are all {'lost' if n_won == 0 else 'won'} ({n_won} won, "
            f"{n_lost} lost): a score needs both outcomes among the closed leads."
        )
    n_train = int(np.ceil(train_share * order.size))
    train, valid = order[:n_train], order[n_train:]
    for part, rows in (("training", train), ("validation", valid)):
        w = int((data.y[rows] == 1.0).sum())
        if w == 0 or w == rows.size:
            raise DataError(
                f"the {part} part ({rows.size} of {order.size} closed leads, by date) holds "
                f"{w} won and {rows.size - w} lost leads: it needs both. Give more closed "
                f"leads or change train_share (now {train_share})."
            )
    return order, train, valid, n_won, n_lost


def _warn_leaks(leak: pd.DataFrame) -> tuple[str, ...]:
    suspects = tuple(leak.loc[leak["suspect"], "column"])
    if suspects:
        detail = "; ".join(
            f"'{c}': {r}"
            for c, r in leak.loc[leak["suspect"], ["column", "reason"]].itertuples(index=False)
        )
        warn(
            f"lead_scores: {len(suspects)} feature(s) look recorded after the outcome "
            f"({detail}). A field filled in when a lead closes predicts the past "
            "perfectly and open leads badly: leave it out of feature_cols.",
            CRMModelsWarning,
        )
    return suspects


def _scored(
    data: Leads, rows: Any, p: Any, n_bins: int, cols: tuple[str, str, str | None]
) -> pd.DataFrame:
    """The open leads, most likely first: id, date, stage, probability, rank, decile."""
    entity_col, date_col, stage_col = cols
    rank, decile = lm.rank_and_decile(p, n_bins)
    table = pd.DataFrame({entity_col: data.ids[rows], date_col: data.dates.iloc[rows]})
    if data.stage is not None and stage_col is not None:
        table[stage_col] = data.stage.iloc[rows].to_numpy()
    table["probability"] = p
    table["rank"] = rank
    table["decile"] = decile
    by = np.lexsort((_sort_key(data.ids[rows]), rank)) if rows.size else rows
    return table.iloc[by].reset_index(drop=True)


def lead_scores(
    leads: Any,
    *,
    feature_cols: Sequence[str],
    outcome_col: str = "outcome",
    entity_col: str = "lead_id",
    date_col: str = "created_at",
    stage_col: str | None = None,
    won: str | Sequence[str] = "won",
    lost: str | Sequence[str] = "lost",
    still_open: str | Sequence[str] = "open",
    model: str = "logistic",
    calibration: str = "sigmoid",
    train_share: float = 0.75,
    n_bins: int = 10,
    level: float = 0.9,
    leak_auc: float = 0.99,
    seed: int = 0,
    date_format: str | None = None,
) -> LeadScoresResult:
    r"""Score open leads with their calibrated probability of becoming a won deal.

    The model learns from the closed leads (won or lost) and scores the open ones.

    1. **Validation in time order.** The closed leads are ordered by ``date_col`` (then
       by id); the earliest ``train_share`` of them train the model and the latest are
       the validation part, so no lead created after a validation lead trains the model
       that is judged on it. On the validation part: the AUC with DeLong's interval at
       ``level``, the Brier score, lift and cumulative gains by decile, a calibration
       table (predicted mean against observed won rate per bin) and the
       Hosmer-Lemeshow statistic.
    2. **Calibration.** The classifier is wrapped in scikit-learn's
       ``CalibratedClassifierCV`` on three time-ordered folds (``TimeSeriesSplit``):
       each fold's classifier is trained on earlier leads and its Platt (``"sigmoid"``)
       or isotonic map is fitted on the later leads; the probabilities are the mean
       over the folds. ``calibration="none"`` keeps the classifier's own probabilities.
    3. **Scores.** The same model is refitted on all closed leads and scores the open
       ones: ``probability``, ``rank`` (1 = most likely; ties share the best rank) and
       ``decile`` (1 = the top 10%).
    4. **Effects.** For the logistic regression, the odds ratio of each coded feature
       (numeric features per standard deviation, a "missing" indicator per numeric
       feature with missing values, one column per category), from a fit on all closed
       leads without calibration. For gradient boosting, the permutation importance of
       each input column on the validation part (mean drop of the AUC over 5 shuffles).
    5. **Leak check.** A feature recorded after the outcome (a close date, a
       lost-reason) makes the model look perfect on the past and useless on open leads.
       A ``CRMModelsWarning`` names each feature that alone gives a validation AUC above
       ``leak_auc``, or whose missing values fall exactly on the open (or exactly on
       the closed) leads; the table is ``result.leak_check``.

    Numeric (and boolean) features are imputed with their median plus a missing-value
    indicator and standardised; text and categorical features are one-hot coded with
    missing values as their own level, and a category first seen among the open leads
    is coded as none of the known ones.

    Parameters
    ----------
    leads : DataFrame
        One row per lead (pandas, polars, pyarrow, DuckDB, Dask, PySpark).
    feature_cols : sequence of str
        The columns the model learns from.
    outcome_col : str
        The outcome: booleans or 1/0 (won/lost), or text labels (``won``, ``lost``,
        ``still_open``). A missing outcome means open.
    entity_col : str
        The lead id (unique).
    date_col : str
        The lead's creation date (or date and time).
    stage_col : str, optional
        The lead's current stage, copied to the scored table.
    won, lost, still_open : str or sequence of str
        The labels of a text outcome. Any other label is refused.
    model : {"logistic", "gradient_boosting"}
        scikit-learn's ``LogisticRegression`` (L2, C = 1) or
        ``HistGradientBoostingClassifier`` (trees of depth 3, at least 50 leads a leaf,
        learning rate 0.05, up to 300 rounds with early stopping on a random 10% of the
        training part: settings for the few thousand rows of a lead table).
    calibration : {"sigmoid", "isotonic", "none"}
        The calibration map on time-ordered folds.
    train_share : float
        Share of the closed leads (the earliest) that trains the validation model.
    n_bins : int
        Number of bins of the gains and calibration tables.
    level : float
        Level of the AUC interval and of the observed rates' intervals.
    leak_auc : float
        One-feature validation AUC above which a feature is reported as a leak.
    seed : int
        Seed of gradient boosting and of the permutation importance.
    date_format : str, optional
        strftime layout of text dates.

    Returns
    -------
    LeadScoresResult

    Raises
    ------
    SchemaError
        A named column is missing.
    DataError
        Missing or repeated lead ids, missing dates, unknown outcome labels, no closed
        leads, or only won or only lost leads in the training or validation part.
    ModuleNotFoundError
        scikit-learn is not installed (the message names ``crmmodels[segments]``).

    Examples
    --------
    >>> from crmmodels.datasets import simulate_leads
    >>> sim = simulate_leads(3000, seed=1)
    >>> res = lead_scores(sim.leads, feature_cols=["source", "industry", "engagement", "budget"])
    >>> 0.7 < res.auc < 0.85
    True
    >>> list(res.to_frame().columns)
    ['lead_id', 'created_at', 'probability', 'rank', 'decile']
    >>> bool(res.to_frame()["probability"].between(0, 1).all())
    True
    """
    require("sklearn", "lead_scores")
    entity_col = check_column_name(entity_col, "entity_col")
    date_col = check_column_name(date_col, "date_col")
    outcome_col = check_column_name(outcome_col, "outcome_col")
    if stage_col is not None:
        stage_col = check_column_name(stage_col, "stage_col")
    feature_cols = _feature_cols(feature_cols, {entity_col, date_col, outcome_col})
    model = check_choice(model, "model", _MODELS)
    calibration = check_choice(calibration, "calibration", _CALIBRATIONS)
    train_share = check_number(
        train_share, "train_share", low=0.0, high=1.0, low_open=True, high_open=True
    )
    n_bins = check_int(n_bins, "n_bins", low=2)
    level = check_level(level)
    leak_auc = check_number(leak_auc, "leak_auc", low=0.5, high=1.0)
    seed = check_int(seed, "seed", low=0)
    data = _read(
        leads,
        entity_col=entity_col,
        date_col=date_col,
        outcome_col=outcome_col,
        feature_cols=feature_cols,
        stage_col=stage_col,
        date_format=date_format,
        won=won,
        lost=lost,
        still_open=still_open,
    )
    order, train, valid, n_won, n_lost = _split(data, train_share, outcome_col)
    with _threads():
        x, y = data.features, data.y

        def fit_on(rows: Any, what: str) -> Any:
            return fit(
                x.iloc[rows],
                y[rows],
                data.numeric,
                data.categorical,
                model,
                calibration,
                seed,
                what,
            )

        fitted = fit_on(train, "validation model")
        p_valid = fitted.predict_proba(x.iloc[valid])[:, 1]
        y_valid = y[valid] == 1.0
        auc = lm.delong_auc(y_valid, p_valid, level)
        gains = lm.gains_table(y_valid, p_valid, n_bins)
        cal, hl, hl_p = lm.calibration_table(y_valid, p_valid, n_bins, level)
        leak = leak_check(data, train, valid, seed, leak_auc)
        suspects = _warn_leaks(leak)
        final = fit_on(order, "final model")
        if model == "logistic":
            plain = pipeline(data.numeric, data.categorical, model, seed).fit(
                x.iloc[order], y[order]
            )
            effects = feature_effects(plain, x.iloc[order], y[order], data, model, seed)
        else:
            effects = feature_effects(fitted, x.iloc[valid], y[valid], data, model, seed)
        open_rows = np.flatnonzero(np.isnan(y))
        p_open = final.predict_proba(x.iloc[open_rows])[:, 1] if open_rows.size else np.empty(0)
    table = _scored(data, open_rows, p_open, n_bins, (entity_col, date_col, stage_col))
    train_rate = float((y[train] == 1.0).mean())
    return LeadScoresResult(
        table=table,
        gains=gains,
        calibration=cal,
        effects=effects,
        leak_check=leak,
        entity_col=entity_col,
        model=model,
        calibration_method=calibration,
        auc=auc.auc,
        auc_low=auc.low,
        auc_high=auc.high,
        level=level,
        brier=lm.brier(y_valid, p_valid),
        brier_base=lm.brier(y_valid, np.full(p_valid.shape, train_rate)),
        hosmer_lemeshow=hl,
        hosmer_lemeshow_p=hl_p,
        n_train=int(train.size),
        n_validation=int(valid.size),
        n_won=n_won,
        n_lost=n_lost,
        n_open=int(open_rows.size),
        validation_start=str(data.dates.iloc[valid[0]]),
        expected_wins=float(p_open.sum()),
        leak_suspects=suspects,
        estimator=final,
    )


def _threads() -> Any:
    """One thread for BLAS and OpenMP: a lead table is small, and threads only cost.

    On a busy machine the OpenMP threads of many small fits wait on each other for
    minutes (gradient boosting on 6,000 leads: 2 minutes instead of 7 seconds).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1)


def _sort_key(ids: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A sortable key of lead ids (their codes in sorted order), for a stable tie-break."""
    return pd.factorize(pd.Series(ids), sort=True)[0]
