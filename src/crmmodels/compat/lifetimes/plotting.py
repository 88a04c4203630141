"""lifetimes' ``plotting`` functions drawn from the crmmodels models.

Same names and arguments as ``lifetimes.plotting``; each returns the matplotlib Axes.
``plot_period_transactions`` draws the model's exact expected counts (lifetimes draws
one simulated data set) using :func:`crmmodels.plotting.clv.plot_period_transactions`;
the calibration-vs-holdout and tracking plots adapt lifetimes' arguments to
:func:`crmmodels.plotting.clv.draw_actual_vs_model`. matplotlib is imported when drawing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_int
from crmmodels.clv._tracking import holdout_comparison
from crmmodels.compat.lifetimes.utils import (
    _PerPeriod,
    calculate_alive_path,
    expected_cumulative_transactions,
)
from crmmodels.errors import ArgumentError
from crmmodels.plotting.clv import draw_actual_vs_model

__all__ = [
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "plot_dropout_rate_heterogeneity",
    "plot_expected_repeat_purchases",
    "plot_frequency_recency_matrix",
    "plot_history_alive",
    "plot_incremental_transactions",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
    "plot_transaction_rate_heterogeneity",
]


_HOLDOUT_XLABEL = {
    "frequency_cal": "Purchases in calibration period",
    "time_since_last_purchase": "Time since user made last purchase",
}


def _new_axes(ax: Any = None) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots()
    return new


def plot_period_transactions(
    model: Any,
    max_frequency: int = 7,
    title: str = "Frequency of Repeat Transactions",
    xlabel: str = "Number of Calibration Period Transactions",
    ylabel: str = "Customers",
    **kwargs: Any,
) -> Any:
    """Customers with 0 .. ``max_frequency - 1`` repeat purchases: actual against the model.

    As in lifetimes, one group of bars per frequency (all ``Actual`` bars first, then
    all ``Model`` bars; ``label=[...]`` renames the two), without a bar for larger
    frequencies. The model bars are the exact expected counts
    ``sum_i w_i P(X(T_i) = x)`` (lifetimes draws one simulated data set instead), and
    rows count with their ``weights``. Other keyword arguments go to ``Axes.bar``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from crmmodels.compat.lifetimes import BetaGeoFitter
    >>> from crmmodels.compat.lifetimes.datasets import load_cdnow_summary
    >>> d = load_cdnow_summary()
    >>> bgf = BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    >>> ax = plot_period_transactions(bgf)
    >>> ax.get_title(), len(ax.patches)
    ('Frequency of Repeat Transactions', 14)
    """
    labels = list(kwargs.pop("label", ["Actual", "Model"]))
    if len(labels) != 2:
        raise ArgumentError(f"label must hold two names (actual, model); got {labels!r}.")
    count = check_int(max_frequency, "max_frequency", low=1)
    data = model.data
    age_col = "n_periods" if "n_periods" in data.columns else "T"
    weights = data["weights"].to_numpy(dtype=np.float64)
    freq = data["frequency"].to_numpy(dtype=np.int64)
    ages, inverse = np.unique(data[age_col].to_numpy(dtype=np.float64), return_inverse=True)
    per_age = np.bincount(inverse, weights=weights, minlength=ages.size)
    engine = model._model()
    k = np.arange(count)
    expected = np.array(
        [float(np.dot(per_age, engine.probability_of_purchases(int(x), ages))) for x in k]
    )
    actual = np.bincount(freq[freq < count], weights=weights[freq < count], minlength=count)
    ax = _new_axes(kwargs.pop("ax", None))
    ax.bar(k - 0.125, actual, width=0.25, label=labels[0], **kwargs)
    ax.bar(k + 0.125, expected, width=0.25, label=labels[1], **kwargs)
    ax.set_xticks(k, [str(x) for x in k])
    ax.legend()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_calibration_purchases_vs_holdout_purchases(
    model: Any,
    calibration_holdout_matrix: pd.DataFrame,
    kind: str = "frequency_cal",
    n: int = 7,
    **kwargs: Any,
) -> Any:
    """Mean holdout purchases against the model's conditional expectation, by ``kind``.

    ``kind`` is a column of the matrix (e.g. ``frequency_cal``) or
    ``"time_since_last_purchase"`` (``T_cal - recency_cal``); the first ``n`` groups are
    drawn.
    """
    comparison = holdout_comparison(
        _PerPeriod(model), calibration_holdout_matrix, by=kind, max_group=None
    )
    means = comparison.to_frame().iloc[:n]
    return draw_actual_vs_model(
        means[kind],
        means["actual"],
        means["expected"],
        ax=kwargs.pop("ax", None),
        labels=("frequency_holdout", "model_predictions"),
        markers=True,
        title="Actual Purchases in Holdout Period vs Predicted Purchases",
        xlabel=_HOLDOUT_XLABEL.get(kind, kind),
        ylabel="Average of Purchases in Holdout Period",
        **kwargs,
    )


def _matrix_plot(z: Any, title: str, xlabel: str, ylabel: str, ax: Any, **kwargs: Any) -> Any:
    ax = _new_axes(ax)
    kwargs.setdefault("interpolation", "none")
    kwargs.setdefault("aspect", "auto")
    image = ax.imshow(z, **kwargs)
    ax.figure.colorbar(image, ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_frequency_recency_matrix(
    model: Any,
    T: float = 1,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    title: str | None = None,
    xlabel: str = "Customer's Historical Frequency",
    ylabel: str = "Customer's Recency",
    **kwargs: Any,
) -> Any:
    """Expected purchases in the next ``T`` by frequency (columns) and recency (rows).

    Every cell is computed, as in lifetimes, including frequency 0 with recency > 0
    (histories a summary never produces; the formulas are evaluated as they stand).
    """
    max_frequency = max_frequency or int(model.data["frequency"].max())
    max_recency = max_recency or int(model.data["T"].max())
    tx, x = np.meshgrid(
        np.arange(max_recency + 1, dtype=np.float64),
        np.arange(max_frequency + 1, dtype=np.float64),
        indexing="ij",
    )
    z = np.asarray(
        model.conditional_expected_number_of_purchases_up_to_time(
            T, x.ravel(), tx.ravel(), np.full(x.size, float(max_recency))
        ),
        dtype=np.float64,
    ).reshape(x.shape)
    if title is None:
        title = (
            f"Expected Number of Future Purchases for {T} Unit{'s' if T != 1 else ''} of "
            "Time,\nby Frequency and Recency of a Customer"
        )
    return _matrix_plot(z, title, xlabel, ylabel, kwargs.pop("ax", None), **kwargs)


def plot_probability_alive_matrix(
    model: Any,
    max_frequency: int | None = None,
    max_recency: int | None = None,
    title: str = "Probability Customer is Alive,\nby Frequency and Recency of a Customer",
    xlabel: str = "Customer's Historical Frequency",
    ylabel: str = "Customer's Recency",
    **kwargs: Any,
) -> Any:
    """P(alive) by frequency (columns) and recency (rows), customers of the largest age."""
    z = model.conditional_probability_alive_matrix(max_frequency, max_recency)
    return _matrix_plot(z, title, xlabel, ylabel, kwargs.pop("ax", None), **kwargs)


def plot_expected_repeat_purchases(
    model: Any,
    title: str = "Expected Number of Repeat Purchases per Customer",
    xlabel: str = "Time Since First Purchase",
    ax: Any = None,
    label: str | None = None,
    **kwargs: Any,
) -> Any:
    """Expected repeat purchases of a new customer against time.

    A solid line up to the largest fitted age and a dashed one (same colour) on to 1.5
    times that age, 100 points each, as in lifetimes.
    """
    ax = _new_axes(ax)
    max_t = float(model.data["T"].max())
    color = kwargs.pop("c", None) or kwargs.pop("color", None)
    times = np.linspace(0.0, max_t, 100)
    (line,) = ax.plot(
        times,
        model.expected_number_of_purchases_up_to_time(times),
        color=color,
        label=label,
        **kwargs,
    )
    later = np.linspace(max_t, 1.5 * max_t, 100)
    ax.plot(
        later,
        model.expected_number_of_purchases_up_to_time(later),
        color=line.get_color(),
        ls="--",
        **kwargs,
    )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if label is not None:
        ax.legend(loc="lower right")
    return ax


def plot_history_alive(
    model: Any,
    t: int,
    transactions: pd.DataFrame,
    datetime_col: str,
    freq: str = "D",
    start_date: Any = None,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """P(alive) of one customer over ``t`` periods, with the purchases marked."""
    ax = _new_axes(ax)
    dates = pd.to_datetime(transactions[datetime_col])
    first = pd.Timestamp(start_date) if start_date is not None else dates.min()
    path = calculate_alive_path(model, transactions, datetime_col, t, freq=freq)
    grid = pd.period_range(first, periods=len(path), freq=freq).to_timestamp()
    ax.plot(grid, path.to_numpy(), label="P_alive", **kwargs)
    for when in dates:
        ax.axvline(when, color="red", linestyle="--", alpha=0.4)
    ax.set_title("History of P_alive")
    ax.set_ylabel("P_alive")
    ax.legend(loc=3)
    return ax


def _tracking_plot(
    frame: pd.DataFrame, t_cal: Any, title: str, xlabel: str, ylabel: str, ax: Any, **kwargs: Any
) -> Any:
    index = frame.index.to_timestamp() if isinstance(frame.index, pd.PeriodIndex) else frame.index
    ax = draw_actual_vs_model(
        index,
        frame["actual"],
        frame["predicted"],
        ax=ax,
        labels=("actual", "predicted"),
        title=title,
        xlabel=xlabel,
        ylabel=ylabel,
        **kwargs,
    )
    if isinstance(frame.index, pd.PeriodIndex):
        ax.axvline(frame.index[0].to_timestamp() + pd.Timedelta(days=int(t_cal)), color="k", ls=":")
    else:
        ax.axvline(t_cal, color="k", linestyle=":")
    return ax


def plot_cumulative_transactions(
    model: Any,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    t_cal: int,
    datetime_format: str | None = None,
    freq: str = "D",
    set_index_date: bool = False,
    title: str = "Tracking Cumulative Transactions",
    xlabel: str = "day",
    ylabel: str = "Cumulative Transactions",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Actual and expected cumulative repeat transactions, calibration end marked."""
    frame = expected_cumulative_transactions(
        model,
        transactions,
        datetime_col,
        customer_id_col,
        t,
        datetime_format=datetime_format,
        freq=freq,
        set_index_date=set_index_date,
    )
    return _tracking_plot(frame, t_cal, title, xlabel, ylabel, ax, **kwargs)


def plot_incremental_transactions(
    model: Any,
    transactions: pd.DataFrame,
    datetime_col: str,
    customer_id_col: str,
    t: int,
    t_cal: int,
    datetime_format: str | None = None,
    freq: str = "D",
    set_index_date: bool = False,
    title: str = "Tracking Daily Transactions",
    xlabel: str = "day",
    ylabel: str = "Transactions",
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Actual and expected repeat transactions per period, calibration end marked."""
    frame = expected_cumulative_transactions(
        model,
        transactions,
        datetime_col,
        customer_id_col,
        t,
        datetime_format=datetime_format,
        freq=freq,
        set_index_date=set_index_date,
    )
    incremental = frame.diff()
    incremental.iloc[0] = frame.iloc[0]
    return _tracking_plot(incremental, t_cal, title, xlabel, ylabel, ax, **kwargs)


def _density_plot(
    dist: Any, suptitle: str, xlabel: str, ylabel: str, fontsize: int, **kwargs: Any
) -> Any:
    """The density on 100 points from 0 to its 99% quantile (lifetimes' grid)."""
    ax = _new_axes(kwargs.pop("ax", None))
    grid = np.linspace(0.0, float(dist.ppf(0.99)), 100)
    ax.plot(grid, dist.pdf(grid), **kwargs)
    ax.set_title(f"mean: {dist.mean():.3f}, var: {dist.var():.3f}")
    ax.figure.suptitle(suptitle, fontsize=fontsize, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_transaction_rate_heterogeneity(
    model: Any,
    suptitle: str = "Heterogeneity in Transaction Rate",
    xlabel: str = "Transaction Rate",
    ylabel: str = "Density",
    suptitle_fontsize: int = 14,
    **kwargs: Any,
) -> Any:
    """Density of the purchase rate: Gamma(r, alpha)."""
    from scipy import stats

    r, alpha = model._unload_params("r", "alpha")
    dist = stats.gamma(r, scale=1.0 / alpha)
    return _density_plot(dist, suptitle, xlabel, ylabel, suptitle_fontsize, **kwargs)


def plot_dropout_rate_heterogeneity(
    model: Any,
    suptitle: str = "Heterogeneity in Dropout Probability",
    xlabel: str = "Dropout Probability p",
    ylabel: str = "Density",
    suptitle_fontsize: int = 14,
    **kwargs: Any,
) -> Any:
    """Density of the dropout probability Beta(a, b) (Gamma(s, beta) for Pareto/NBD)."""
    from scipy import stats

    if "a" in model.params_.index:
        a, b = model._unload_params("a", "b")
        dist: Any = stats.beta(a, b)
    else:
        s, beta = model._unload_params("s", "beta")
        dist = stats.gamma(s, scale=1.0 / beta)
    return _density_plot(dist, suptitle, xlabel, ylabel, suptitle_fontsize, **kwargs)
