"""The scikit-learn pipeline of lead scoring, the feature effects and the leak check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels.errors import DataError
from crmmodels.funnel import _leads_metrics as lm


@dataclass(frozen=True)
class Leads:
    ids: npt.NDArray[Any]
    dates: pd.Series
    y: npt.NDArray[np.float64]  # 1 won, 0 lost, NaN open
    features: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    stage: pd.Series | None


def pipeline(numeric: list[str], categorical: list[str], model: str, seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        num = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
            ]
        )
        parts.append(("num", num, numeric))
    if categorical:
        cat = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(
                        strategy="constant", fill_value="missing", keep_empty_features=True
                    ),
                ),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        parts.append(("cat", cat, categorical))
    classifier: Any = (
        LogisticRegression(max_iter=2000)
        if model == "logistic"
        else HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_depth=3,
            min_samples_leaf=50,
            max_iter=300,
            early_stopping=True,
            random_state=seed,
        )
    )
    return Pipeline([("prepare", ColumnTransformer(parts)), ("model", classifier)])


def fit(
    x: pd.DataFrame,
    y: Any,
    numeric: list[str],
    categorical: list[str],
    model: str,
    calibration: str,
    seed: int,
    what: str,
) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import TimeSeriesSplit

    pipe = pipeline(numeric, categorical, model, seed)
    est = (
        pipe
        if calibration == "none"
        else CalibratedClassifierCV(pipe, method=calibration, cv=TimeSeriesSplit(n_splits=3))
    )
    try:
        return est.fit(x, y)
    except ValueError as exc:
        raise DataError(
            f"lead_scores could not fit the {what} ({exc}). A time-ordered calibration "
            "fold holds only won or only lost leads: give more closed leads, or pass "
            "calibration='none'."
        ) from exc


def feature_effects(est: Any, x: pd.DataFrame, y: Any, leads: Leads, model: str, seed: int) -> Any:
    """Odds ratios per coded feature (logistic) or permutation importance (boosting)."""
    if model == "gradient_boosting":
        from sklearn.inspection import permutation_importance

        imp = permutation_importance(est, x, y, scoring="roc_auc", n_repeats=5, random_state=seed)
        out = pd.DataFrame(
            {
                "column": list(x.columns),
                "importance": imp.importances_mean,
                "importance_std": imp.importances_std,
            }
        )
        return out.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    prep = est.named_steps["prepare"]
    names: list[str] = []
    sources: list[str] = []
    if leads.numeric:
        imputer = prep.named_transformers_["num"].named_steps["impute"]
        names += leads.numeric
        sources += leads.numeric
        if imputer.indicator_ is not None:
            flagged = [leads.numeric[i] for i in imputer.indicator_.features_]
            names += [f"{c} missing" for c in flagged]
            sources += flagged
    if leads.categorical:
        enc = prep.named_transformers_["cat"].named_steps["onehot"]
        for col, cats in zip(leads.categorical, enc.categories_, strict=True):
            names += [f"{col}={c}" for c in cats]
            sources += [col] * len(cats)
    coef = est.named_steps["model"].coef_[0]
    out = pd.DataFrame(
        {"feature": names, "column": sources, "coefficient": coef, "odds_ratio": np.exp(coef)}
    )
    order = np.argsort(-np.abs(coef), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def leak_check(leads: Leads, train: Any, valid: Any, seed: int, leak_auc: float) -> Any:
    """One-feature validation AUC, and missingness aligned with open/closed status."""
    is_open = np.isnan(leads.y)
    y = leads.y
    rows = []
    for col in [*leads.numeric, *leads.categorical]:
        numeric = [col] if col in leads.numeric else []
        categorical = [] if numeric else [col]
        pipe = pipeline(numeric, categorical, "logistic", seed)
        xt, xv = leads.features.loc[train, [col]], leads.features.loc[valid, [col]]
        if np.unique(y[train]).size == 2:
            p = pipe.fit(xt, y[train]).predict_proba(xv)[:, 1]
            auc = lm.delong_auc(y[valid], p).auc
            auc = max(auc, 1.0 - auc)
        else:  # pragma: no cover - lead_scores refuses a one-class training part
            auc = float("nan")
        miss = leads.features[col].isna().to_numpy()
        m_open = float(miss[is_open].mean()) if is_open.any() else float("nan")
        m_closed = float(miss[~is_open].mean())
        reasons = []
        if auc > leak_auc:
            reasons.append(f"alone it gives a validation AUC of {auc:.3f}")
        if is_open.any() and (m_open, m_closed) in ((1.0, 0.0), (0.0, 1.0)):
            side = "open" if m_open == 1.0 else "closed"
            reasons.append(f"it is missing exactly for the {side} leads")
        rows.append(
            {
                "column": col,
                "validation_auc": auc,
                "missing_open": m_open,
                "missing_closed": m_closed,
                "suspect": bool(reasons),
                "reason": "; ".join(reasons),
            }
        )
    return pd.DataFrame(rows)
