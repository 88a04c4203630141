"""Plots for the CLV models (matplotlib; ``ax=`` in, Axes out).

Every function takes a fitted transaction model (``BGNBD``, ``ParetoNBD``, ``MBGNBD``;
anything with the prediction methods used) and returns the Axes it drew on. Nothing here
calls ``plt.show()`` or changes global style. Model expectations are exact (computed from
the model's probabilities), not simulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "expected_cumulative_transactions",
    "plot_alive_history",
    "plot_calibration_vs_holdout",
    "plot_cumulative_transactions",
    "plot_frequency_recency_matrix",
    "plot_heterogeneity",
    "plot_incremental_transactions",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
]

FloatArray = npt.NDArray[np.float64]


class TransactionModel(Protocol):
    """What the plots need from a fitted transaction model."""

    params_: dict[str, float]

    def expected_purchases(self, t: Any) -> Any: ...

    def conditional_expected_purchases(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any: ...

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any: ...

    def probability_of_purchases(self, n: Any, t: Any) -> Any: ...


def _axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.5)) -> Axes:
    return new_axes(ax, figsize)


def _col(frame: pd.DataFrame, name: str) -> FloatArray:
    if name not in frame.columns:
        from crmmodels.errors import SchemaError

        raise SchemaError(f"the summary has no column '{name}'.")
    return frame[name].to_numpy(dtype=np.float64)


def plot_period_transactions(
    model: TransactionModel,
    summary: pd.DataFrame,
    *,
    max_frequency: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    r"""Customers by number of repeat purchases: actual against the model's expectation.

    The expected number of customers with ``x`` repeat purchases is
    :math:`\sum_i P(X(T_i) = x)`, exact rather than simulated; the last bar collects
    ``max_frequency`` and more.

    Parameters
    ----------
    model : fitted transaction model
    summary : pandas.DataFrame
        The calibration summary the model was fitted on (``frequency``, ``T``).
    max_frequency : int, default 7
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from crmmodels.clv import BGNBD
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> plot_period_transactions(m, s).get_title()
    'Repeat purchases per customer: actual vs model'
    """
    freq = _col(summary, "frequency")
    T = _col(summary, "T")
    k = np.arange(max_frequency)
    probs = np.vstack([np.asarray(model.probability_of_purchases(int(x), T)) for x in k])
    expected = probs.sum(axis=1)
    expected = np.append(expected, freq.size - expected.sum())
    actual = np.bincount(
        np.minimum(freq.astype(np.int64), max_frequency), minlength=max_frequency + 1
    )
    ax = _axes(ax)
    pos = np.arange(max_frequency + 1)
    ax.bar(pos - 0.2, actual, width=0.4, label="actual", **kwargs)
    ax.bar(pos + 0.2, expected, width=0.4, label="model", **kwargs)
    labels = [str(x) for x in k] + [f"{max_frequency}+"]
    ax.set_xticks(pos, labels)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("customers")
    ax.set_title("Repeat purchases per customer: actual vs model")
    ax.legend()
    return ax


def plot_calibration_vs_holdout(
    model: TransactionModel,
    cal_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Mean holdout purchases by calibration frequency: actual against conditional expectation.

    Parameters
    ----------
    model : fitted transaction model
    cal_holdout : pandas.DataFrame
        ``CalibrationHoldout.to_frame()``: ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``frequency_holdout``, ``duration_holdout`` (in the model's time unit).
    max_frequency : int, default 7
        Customers with more calibration purchases are pooled in the last point.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    f = _col(cal_holdout, "frequency_cal")
    pred = np.asarray(
        model.conditional_expected_purchases(
            _col(cal_holdout, "duration_holdout"),
            f,
            _col(cal_holdout, "recency_cal"),
            _col(cal_holdout, "T_cal"),
        ),
        dtype=np.float64,
    )
    bucket = np.minimum(f.astype(np.int64), max_frequency)
    counts = np.bincount(bucket, minlength=max_frequency + 1)
    seen = counts > 0
    actual = np.bincount(
        bucket, weights=_col(cal_holdout, "frequency_holdout"), minlength=max_frequency + 1
    )
    model_mean = np.bincount(bucket, weights=pred, minlength=max_frequency + 1)
    x = np.arange(max_frequency + 1)[seen]
    ax = _axes(ax)
    ax.plot(x, actual[seen] / counts[seen], marker="o", label="actual", **kwargs)
    ax.plot(x, model_mean[seen] / counts[seen], marker="s", label="model", **kwargs)
    ax.set_xlabel("purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title("Calibration vs holdout purchases")
    ax.legend()
    return ax


def _matrix(
    values: FloatArray, title: str, xlabel: str, ylabel: str, ax: Axes | None, **kwargs: Any
) -> Axes:
    ax = _axes(ax, (6.0, 5.0))
    image = ax.imshow(values, origin="lower", aspect="auto", interpolation="none", **kwargs)
    ax.figure.colorbar(image, ax=ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def _grid(max_frequency: int, max_recency: float, n: int = 60) -> tuple[FloatArray, FloatArray]:
    freq = np.arange(max_frequency + 1, dtype=np.float64)
    rec = np.linspace(0.0, max_recency, n)
    f, r = np.meshgrid(freq, rec, indexing="ij")
    return f, r


def plot_frequency_recency_matrix(
    model: TransactionModel,
    *,
    T: float,
    t: float = 1.0,
    max_frequency: int = 30,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Expected purchases in the next ``t`` by frequency (rows) and recency (columns).

    Parameters
    ----------
    model : fitted transaction model
    T : float
        Customer age used for every cell.
    t : float, default 1
        Horizon of the expectation.
    max_frequency : int, default 30
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.imshow``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    f, r = _grid(max_frequency, T)
    r = np.where(f == 0, 0.0, r)
    values = np.asarray(
        model.conditional_expected_purchases(t, f.ravel(), r.ravel(), np.full(f.size, T))
    )
    kwargs.setdefault("extent", (0.0, T, -0.5, max_frequency + 0.5))
    ax = _matrix(
        values.reshape(f.shape),
        f"Expected purchases in the next {t:g} time units",
        "recency (time of the last purchase)",
        "frequency",
        ax,
        **kwargs,
    )
    return ax


def plot_probability_alive_matrix(
    model: TransactionModel,
    *,
    T: float,
    max_frequency: int = 30,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """P(alive) by frequency (rows) and recency (columns) for customers of age ``T``.

    Parameters
    ----------
    model : fitted transaction model
    T : float
        Customer age used for every cell.
    max_frequency : int, default 30
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.imshow``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    f, r = _grid(max_frequency, T)
    r = np.where(f == 0, 0.0, r)
    values = np.asarray(model.probability_alive(f.ravel(), r.ravel(), np.full(f.size, T)))
    kwargs.setdefault("extent", (0.0, T, -0.5, max_frequency + 0.5))
    kwargs.setdefault("vmin", 0.0)
    kwargs.setdefault("vmax", 1.0)
    return _matrix(
        values.reshape(f.shape),
        "Probability that a customer is alive",
        "recency (time of the last purchase)",
        "frequency",
        ax,
        **kwargs,
    )


def _tracking(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    date_col: str,
    days_per_unit: float,
    calibration_end: Any,
    freq_days: int,
) -> tuple[pd.DatetimeIndex, FloatArray, FloatArray, pd.Timestamp | None]:
    """Actual and expected cumulative repeat transactions on a date grid.

    Customers are grouped by their first purchase day (the only thing the unconditional
    expectation depends on), so the work is (grid points) x (distinct first days).
    """
    tx = transactions[[customer_col, date_col]].copy()
    tx[date_col] = pd.to_datetime(tx[date_col]).dt.normalize()
    tx = tx.drop_duplicates()
    first = tx.groupby(customer_col)[date_col].transform("min")
    repeat_dates = tx.loc[tx[date_col] > first, date_col]
    start = tx[date_col].min()
    end = tx[date_col].max()
    grid = pd.date_range(start, end, freq=f"{freq_days}D")
    first_days = tx.groupby(customer_col)[date_col].min()
    cohorts = first_days.value_counts()
    age = (grid.to_numpy()[:, None] - cohorts.index.to_numpy()[None, :]) / np.timedelta64(1, "D")
    age_units = np.clip(age, 0.0, None) / days_per_unit
    expected_each = np.asarray(model.expected_purchases(age_units.ravel()), dtype=np.float64)
    expected = (expected_each.reshape(age.shape) * cohorts.to_numpy()[None, :]).sum(axis=1)
    actual = np.searchsorted(np.sort(repeat_dates.to_numpy()), grid.to_numpy(), side="right")
    cal = None if calibration_end is None else pd.Timestamp(calibration_end)
    return grid, actual.astype(np.float64), expected, cal


def _draw_tracking(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    incremental: bool,
    customer_col: str,
    date_col: str,
    days_per_unit: float,
    calibration_end: Any,
    freq_days: int,
    ax: Axes | None,
    **kwargs: Any,
) -> Axes:
    grid, actual, expected, cal = _tracking(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=calibration_end,
        freq_days=freq_days,
    )
    if incremental:
        grid, actual, expected = grid[1:], np.diff(actual), np.diff(expected)
    ax = _axes(ax)
    ax.plot(grid, actual, label="actual", **kwargs)
    ax.plot(grid, expected, linestyle="--", label="model", **kwargs)
    if cal is not None:
        import matplotlib.dates as mdates

        x = float(mdates.date2num(cal.to_pydatetime()))  # type: ignore[no-untyped-call]
        ax.axvline(x, color="grey", linestyle=":", label="calibration end")
    kind = "incremental" if incremental else "cumulative"
    ylabel = (
        f"repeat transactions per {freq_days} days"
        if incremental
        else "cumulative repeat transactions"
    )
    ax.set_ylabel(ylabel)
    ax.set_title(f"Tracking {kind} transactions")
    ax.legend()
    return ax


def plot_cumulative_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    days_per_unit: float = 7.0,
    calibration_end: Any = None,
    freq_days: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Cumulative repeat transactions over calendar time: actual against the model.

    The model line sums, over customers, the unconditional expected repeat purchases
    since each customer's first purchase.

    Parameters
    ----------
    model : fitted transaction model
    transactions : pandas.DataFrame
        The transaction log (one row per purchase).
    customer_col, date_col : str
    days_per_unit : float, default 7
        Days in one model time unit (7 for a model fitted in weeks).
    calibration_end : date-like, optional
        Drawn as a vertical line.
    freq_days : int, default 7
        Spacing of the date grid.
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _draw_tracking(
        model,
        transactions,
        incremental=False,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=calibration_end,
        freq_days=freq_days,
        ax=ax,
        **kwargs,
    )


def plot_incremental_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    days_per_unit: float = 7.0,
    calibration_end: Any = None,
    freq_days: int = 7,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Repeat transactions per ``freq_days`` over calendar time: actual against the model.

    Parameters are those of :func:`plot_cumulative_transactions`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _draw_tracking(
        model,
        transactions,
        incremental=True,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=calibration_end,
        freq_days=freq_days,
        ax=ax,
        **kwargs,
    )


def plot_heterogeneity(
    model: TransactionModel,
    *,
    kind: str = "transaction",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Population density of the transaction rate or of the dropout propensity.

    ``kind="transaction"`` draws the gamma(r, alpha) density of the purchase rate.
    ``kind="dropout"`` draws the beta(a, b) density of the dropout probability
    (BG/NBD, MBG/NBD) or the gamma(s, beta) density of the dropout rate (Pareto/NBD).

    Parameters
    ----------
    model : fitted transaction model
    kind : {"transaction", "dropout"}
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy import stats

    from crmmodels.errors import DataError

    p = model.params_
    ax = _axes(ax)
    if kind == "transaction":
        dist: Any = stats.gamma(p["r"], scale=1.0 / p["alpha"])
        label = "purchase rate λ"
        title = f"Heterogeneity in the purchase rate (mean {dist.mean():.3g})"
    elif kind == "dropout" and "a" in p:
        dist = stats.beta(p["a"], p["b"])
        label = "dropout probability p"
        title = f"Heterogeneity in the dropout probability (mean {dist.mean():.3g})"
    elif kind == "dropout" and "s" in p:
        dist = stats.gamma(p["s"], scale=1.0 / p["beta"])
        label = "dropout rate μ"
        title = f"Heterogeneity in the dropout rate (mean {dist.mean():.3g})"
    else:
        raise DataError(f"kind must be 'transaction' or 'dropout'; got {kind!r}.")
    hi = float(dist.ppf(0.99))
    x = np.linspace(hi / 1000.0, hi, 400)
    if "beta" in str(dist.dist.name):
        x = np.linspace(0.001, 0.999, 400)
    ax.plot(x, dist.pdf(x), **kwargs)
    ax.set_xlabel(label)
    ax.set_ylabel("density")
    ax.set_title(title)
    return ax


def plot_alive_history(
    model: TransactionModel,
    purchase_times: Any,
    *,
    end: float,
    n_points: int = 200,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """P(alive) of one customer over time, from the first purchase to ``end``.

    Parameters
    ----------
    model : fitted transaction model
    purchase_times : array-like of float
        The customer's purchase times in model units since the first purchase (the first
        is 0); purchases in one period should already be merged.
    end : float
        Age at which the history stops.
    n_points : int, default 200
    ax : matplotlib Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    times = np.sort(np.asarray(purchase_times, dtype=np.float64))
    times = times - times[0]
    grid = np.unique(np.concatenate([np.linspace(0.0, end, n_points), times[times <= end]]))
    n_before = np.searchsorted(times, grid, side="right")
    frequency = (n_before - 1).astype(np.float64)
    recency = times[n_before - 1]
    alive = np.asarray(model.probability_alive(frequency, recency, grid), dtype=np.float64)
    ax = _axes(ax)
    ax.plot(grid, alive, **kwargs)
    for t in times[times <= end]:
        ax.axvline(t, color="grey", alpha=0.4, linestyle=":")
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("time since first purchase")
    ax.set_ylabel("P(alive)")
    ax.set_title("P(alive) history (dotted lines: purchases)")
    return ax


def expected_cumulative_transactions(
    model: TransactionModel,
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    days_per_unit: float = 7.0,
    freq_days: int = 7,
) -> pd.DataFrame:
    """Actual and expected cumulative repeat transactions on a date grid.

    Parameters
    ----------
    model : fitted transaction model
    transactions : pandas.DataFrame
    customer_col, date_col : str
    days_per_unit : float, default 7
    freq_days : int, default 7

    Returns
    -------
    pandas.DataFrame
        Columns ``date``, ``actual``, ``predicted``.
    """
    grid, actual, expected, _ = _tracking(
        model,
        transactions,
        customer_col=customer_col,
        date_col=date_col,
        days_per_unit=days_per_unit,
        calibration_end=None,
        freq_days=freq_days,
    )
    return pd.DataFrame({"date": grid, "actual": actual, "predicted": expected})
