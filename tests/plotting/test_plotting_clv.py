from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmmodels.clv._bgnbd import BGNBD
from crmmodels.clv._pareto_nbd import ParetoNBD
from crmmodels.datasets import load_cdnow_sample, load_cdnow_summary
from crmmodels.errors import DataError, SchemaError
from crmmodels.plotting import clv as P
from crmmodels.transactions import calibration_holdout

BG = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
PNBD = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_cdnow_sample()


def test_period_transactions_expected_counts_sum_to_customers() -> None:
    s = load_cdnow_summary()
    ax = P.plot_period_transactions(BG, s)
    bars = ax.patches
    actual = np.array([b.get_height() for b in bars[:8]])
    model = np.array([b.get_height() for b in bars[8:]])
    assert actual.sum() == len(s) and model.sum() == pytest.approx(len(s))
    # the paper's fit reproduces the zero class closely (1,411 customers)
    assert actual[0] == 1411 and abs(model[0] - 1411) < 40


def test_calibration_vs_holdout(sample: pd.DataFrame) -> None:
    ch = calibration_holdout(
        sample, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    ).to_frame()
    ax = P.plot_calibration_vs_holdout(BG, ch)
    actual, model = (line.get_ydata() for line in ax.get_lines()[:2])
    # BG/NBD tracks the conditional expectations of the holdout (Fader et al. 2005, Fig. 4)
    assert np.max(np.abs(np.asarray(actual) - np.asarray(model))[:4]) < 0.5


def test_tracking_plots_follow_actual_transactions(sample: pd.DataFrame) -> None:
    cal = sample[sample["date"] <= "1997-09-30"]
    from crmmodels.clv import cumulative_transactions

    table = (
        cumulative_transactions(BG, sample, time_unit=7)
        .to_frame()
        .rename(columns={"actual_cumulative": "actual", "expected_cumulative": "predicted"})
    )
    end_cal = table[table["date"] <= "1997-09-30"].iloc[-1]
    assert abs(end_cal["predicted"] / end_cal["actual"] - 1) < 0.05
    final = table.iloc[-1]
    assert abs(final["predicted"] / final["actual"] - 1) < 0.10
    ax = P.plot_cumulative_transactions(BG, sample, calibration_end="1997-09-30")
    assert len(ax.get_lines()) == 3
    ax = P.plot_incremental_transactions(BG, cal)
    assert len(ax.get_lines()) == 2


@pytest.mark.parametrize("model", [BG, PNBD], ids=["bgnbd", "paretonbd"])
def test_matrices(model: object) -> None:
    ax = P.plot_probability_alive_matrix(model, T=38.86, max_frequency=10)
    values = ax.images[0].get_array()
    assert values.shape == (11, 60)
    assert np.all((values >= 0) & (values <= 1))
    ax = P.plot_frequency_recency_matrix(model, T=38.86, t=39, max_frequency=10)
    values = np.asarray(ax.images[0].get_array())
    assert np.all(values >= 0) and np.all(np.isfinite(values))
    # more recent buyers are worth more at equal frequency
    assert np.all(np.diff(values[5]) >= -1e-12)


def test_heterogeneity() -> None:
    assert "purchase rate" in P.plot_heterogeneity(BG).get_title()
    assert "dropout probability" in P.plot_heterogeneity(BG, kind="dropout").get_title()
    assert "dropout rate" in P.plot_heterogeneity(PNBD, kind="dropout").get_title()
    with pytest.raises(DataError):
        P.plot_heterogeneity(BG, kind="x")


def test_alive_history_drops_between_purchases_and_jumps_at_purchases() -> None:
    ax = P.plot_alive_history(BG, [0.0, 5.0, 12.0], end=60.0)
    x, y = (np.asarray(v) for v in ax.get_lines()[0].get_data())
    assert y[0] == pytest.approx(1.0)
    assert np.all((y >= 0) & (y <= 1))
    at_12 = np.flatnonzero(x == 12.0)[0]
    # BG/NBD: right after the x-th repeat purchase P(alive) = 1 / (1 + a / (b + x - 1))
    assert y[at_12] == pytest.approx(1.0 / (1.0 + 0.793 / (2.426 + 1.0)))
    assert y[at_12 - 1] < y[at_12] and y[-1] < 0.5


def test_missing_columns() -> None:
    with pytest.raises(SchemaError, match="frequency"):
        P.plot_period_transactions(BG, pd.DataFrame({"T": [1.0]}))


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("period_transactions", {}),
        ("frequency_recency", {"T": 30.0, "max_frequency": 8}),
        ("probability_alive", {"T": 30.0, "max_frequency": 8}),
        ("heterogeneity", {"which": "dropout"}),
    ],
)
def test_model_level_figures_are_reached_from_the_model(kind: str, extra: dict) -> None:
    from matplotlib.axes import Axes

    s = load_cdnow_summary()
    ax = BG.plot(kind, s if kind == "period_transactions" else None, **extra)
    assert isinstance(ax, Axes) and (ax.has_data() or ax.images)


def test_model_plot_names_a_bad_kind_or_a_missing_summary() -> None:
    from crmmodels.errors import ArgumentError

    with pytest.raises(ArgumentError, match="kind"):
        BG.plot("calibration")
    with pytest.raises(ArgumentError, match="needs the summary"):
        BG.plot("period_transactions")
