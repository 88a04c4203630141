"""Plots for the CLV models (matplotlib; ``ax=`` in, Axes out).

The ``draw_*`` functions draw the results of :mod:`crmmodels.clv._tracking` (their
``.plot()`` calls them). The ``plot_*`` functions take a fitted transaction model
(``BGNBD``, ``ParetoNBD``, ``MBGNBD``; anything with the prediction methods used); those
that compute a result first and draw it live in ``_clv_from_model`` and are re-exported
here. Every function returns the Axes it drew on; nothing here calls ``plt.show()`` or
changes global style. Model expectations are exact (computed from the model's
probabilities), not simulated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.periods import unit_name
from crmmodels.plotting._clv_from_model import (
    plot_alive_history,
    plot_calibration_vs_holdout,
    plot_cumulative_transactions,
    plot_incremental_transactions,
)
from crmmodels.plotting._common import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.clv._churn_drivers import ChurnDriversResult
    from crmmodels.clv._tracking import (
        AliveHistoryResult,
        CumulativeTransactionsResult,
        HoldoutComparisonResult,
    )

__all__ = [
    "draw_actual_vs_model",
    "draw_alive_history",
    "draw_cumulative_transactions",
    "draw_holdout_comparison",
    "draw_holdout_means",
    "plot_alive_history",
    "plot_calibration_vs_holdout",
    "plot_churn_drivers",
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


def draw_holdout_comparison(
    result: HoldoutComparisonResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw a :class:`~crmmodels.clv.HoldoutComparisonResult` (its ``.plot()``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = result.to_frame()
    by = result.by
    xlabel = "purchases in the calibration period" if by == "frequency_cal" else by
    return draw_actual_vs_model(
        frame[by],
        frame["actual"],
        frame["expected"],
        ax=ax,
        markers=True,
        title="Calibration vs holdout purchases",
        xlabel=xlabel,
        ylabel="mean purchases in the holdout period",
        **kwargs,
    )


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


def draw_holdout_means(cal_holdout: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Mean holdout purchases by calibration frequency (a calibration/holdout table).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"frequency_cal": [0, 0, 1], "frequency_holdout": [0, 1, 2]})
    >>> draw_holdout_means(t).get_lines()[0].get_ydata().tolist()
    [0.5, 2.0]
    """
    ax = _axes(ax)
    grouped = cal_holdout.groupby("frequency_cal")["frequency_holdout"].mean()
    ax.plot(grouped.index, grouped.to_numpy(), marker="o", **kwargs)
    ax.set_xlabel("purchases in calibration (frequency_cal)")
    ax.set_ylabel("mean purchases in holdout")
    ax.set_title("Calibration vs holdout purchases")
    return ax


def draw_actual_vs_model(
    x: Any,
    actual: Any,
    model: Any,
    *,
    ax: Axes | None = None,
    labels: tuple[str, str] = ("actual", "model"),
    markers: bool = False,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    **kwargs: Any,
) -> Axes:
    """Observed values and the model's as two lines over ``x``.

    The one routine behind the calibration-vs-holdout and the tracking plots.

    ``markers=True`` draws circles and squares (grouped data); otherwise the model line is
    dashed (a time axis).

    Examples
    --------
    >>> ax = draw_actual_vs_model([1, 2], [0.5, 1.0], [0.6, 0.9], title="t")
    >>> [line.get_label() for line in ax.get_lines()]
    ['actual', 'model']
    """
    ax = _axes(ax)
    if markers:
        ax.plot(x, actual, marker="o", label=labels[0], **kwargs)
        ax.plot(x, model, marker="s", label=labels[1], **kwargs)
    else:
        ax.plot(x, actual, label=labels[0], **kwargs)
        ax.plot(x, model, linestyle="--", label=labels[1], **kwargs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def _unit_words(unit: str | int) -> str:
    """One time unit in words: ``"week"``, ``"7 days"``."""
    if isinstance(unit, int) and unit > 1:
        return f"{unit} days"
    return unit_name(unit).removesuffix("s")


def draw_cumulative_transactions(
    result: CumulativeTransactionsResult,
    *,
    kind: str = "cumulative",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw a :class:`~crmmodels.clv.CumulativeTransactionsResult` (its ``.plot()``).

    ``kind="cumulative"`` draws the running totals, ``"incremental"`` the transactions
    per time unit; the calibration end, when known, is a dotted vertical line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = result.to_frame()
    ylabel = (
        "cumulative repeat transactions"
        if kind == "cumulative"
        else f"repeat transactions per {_unit_words(result.time_unit)}"
    )
    ax = draw_actual_vs_model(
        frame["date"],
        frame[f"actual_{kind}"],
        frame[f"expected_{kind}"],
        ax=ax,
        title=f"Tracking {kind} transactions",
        xlabel="date",
        ylabel=ylabel,
        **kwargs,
    )
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    if result.calibration_end is not None:
        x = float(mdates.date2num(result.calibration_end.to_pydatetime()))  # type: ignore[no-untyped-call]
        ax.axvline(x, color="grey", linestyle=":", label="calibration end")
        ax.legend()
    return ax


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


def draw_alive_history(
    result: AliveHistoryResult, *, ax: Axes | None = None, **kwargs: Any
) -> Axes:
    """Draw an :class:`~crmmodels.clv.AliveHistoryResult` (its ``.plot()``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = result.to_frame()
    ax = _axes(ax)
    ax.plot(frame["age"], frame["p_alive"], **kwargs)
    for t in result.purchase_times:
        if t <= result.end:
            ax.axvline(t, color="grey", alpha=0.4, linestyle=":")
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("time since first purchase")
    ax.set_ylabel("P(alive)")
    ax.set_title("P(alive) history (dotted lines: purchases)")
    return ax


def plot_churn_drivers(
    result: ChurnDriversResult,
    *,
    ax: Axes | None = None,
    process: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Forest plot of covariate effects: each effect with its interval on a log scale.

    Parameters
    ----------
    result : ChurnDriversResult
        From :func:`crmmodels.clv.churn_drivers`.
    ax : matplotlib Axes, optional
    process : {"dropout", "purchase"}, optional
        Only the effects of one process (default: both, dropout first).
    **kwargs
        Passed to ``Axes.errorbar``.

    Returns
    -------
    matplotlib.axes.Axes
        Effects left of the line at 1 lower the rate, effects right of it raise it; for
        BG/NBD's ``dropout_form="ab"`` a dropout effect scales both beta shapes (the
        concentration of the dropout probabilities), as the axis label says.
    """
    data = result.data
    if process is not None:
        data = data[data["process"] == process]
    new = ax is None
    ax = _axes(ax, (7.0, 1.6 + 0.45 * max(len(data), 1)))
    y = np.arange(len(data))[::-1].astype(np.float64)
    eff = data["effect"].to_numpy(dtype=np.float64)
    err = np.vstack(
        [
            eff - data["low"].to_numpy(dtype=np.float64),
            data["high"].to_numpy(dtype=np.float64) - eff,
        ]
    )
    colors = np.where(data["process"].to_numpy() == "dropout", "C3", "C0")
    for proc, color in (("dropout", "C3"), ("purchase", "C0")):
        sel = colors == color
        if sel.any():
            ax.errorbar(
                eff[sel],
                y[sel],
                xerr=err[:, sel],
                fmt="o",
                color=color,
                capsize=3,
                label=(
                    "dropout shapes a and b"
                    if proc == "dropout" and result.dropout_form == "ab"
                    else f"{proc} rate"
                ),
                **kwargs,
            )
    ax.axvline(1.0, color="0.5", lw=1, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(
        [f"{p}: {c}" for p, c in zip(data["process"], data["covariate"], strict=True)]
    )
    what = "the rate, or on both dropout shapes" if result.dropout_form == "ab" else "the rate"
    ax.set_xlabel(f"multiplicative effect on {what} ({result.level:.0%} interval)")
    ax.set_title(f"{result.model}: churn and purchase drivers")
    if len(data):
        ax.legend(loc="best", fontsize="small")
    fig = ax.get_figure(root=True)
    if new and fig is not None:
        fig.tight_layout()
    return ax
