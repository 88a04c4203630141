"""Plots show what carries information: retention colours, lifecycle labels, demo paths."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from crmmodels.lifecycle import lifecycle_transitions
from crmmodels.plotting.lifecycle import plot_stage_mix, plot_transition_heatmap
from crmmodels.plotting.retention import plot_retention_heatmap
from crmmodels.retention import cohort_retention


def _cohort_log() -> pd.DataFrame:
    """Two monthly cohorts of 10 customers; a few come back in later months."""
    rows = [(f"a{i}", "2024-01-10") for i in range(10)]
    rows += [(f"b{i}", "2024-02-10") for i in range(10)]
    rows += [("a0", "2024-02-15"), ("a1", "2024-02-16"), ("a2", "2024-02-17")]
    rows += [("a0", "2024-03-15"), ("b0", "2024-03-15"), ("b1", "2024-04-15")]
    ids, dates = zip(*rows, strict=True)
    return pd.DataFrame({"customer_id": list(ids), "date": pd.to_datetime(list(dates))})


def _texts(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_retention_colours_span_periods_one_onwards() -> None:
    result = cohort_retention(_cohort_log(), period="M")
    later = result.rates.drop(columns=0).to_numpy(dtype=float)
    ax = plot_retention_heatmap(result)
    low, high = ax.images[0].get_clim()
    assert (low, high) == pytest.approx((np.nanmin(later), np.nanmax(later)))
    assert high < 1.0  # period 0 (100 %) does not stretch the scale


def test_retention_period_zero_is_written_not_coloured() -> None:
    result = cohort_retention(_cohort_log(), period="M")
    ax = plot_retention_heatmap(result, annotate=False)
    data = ax.images[0].get_array()
    assert isinstance(data, np.ma.MaskedArray)
    assert bool(np.all(np.ma.getmaskarray(data)[:, 0]))
    assert _texts(ax) == ["100%"] * len(result.rates)


def test_retention_colour_limits_can_be_given() -> None:
    result = cohort_retention(_cohort_log(), period="M")
    ax = plot_retention_heatmap(result, vmin=0.0, vmax=1.0, cmap="magma")
    assert ax.images[0].get_clim() == (0.0, 1.0)


def test_retention_repeat_cohorts_scale_from_period_one() -> None:
    result = cohort_retention(_cohort_log(), period="M")
    later = result.repeat_rates.drop(columns=0).to_numpy(dtype=float)
    ax = plot_retention_heatmap(result, recurring=True)
    assert ax.images[0].get_clim() == pytest.approx((np.nanmin(later), np.nanmax(later)))


def _moves() -> object:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3],
            "date": pd.to_datetime(
                ["2024-01-05", "2024-03-01", "2024-01-10", "2024-02-10", "2024-01-20"]
            ),
        }
    )
    return lifecycle_transitions(tx, snapshots=["2024-01-31", "2024-02-29", "2024-03-31"])


def test_transition_heatmap_leaves_out_empty_stages() -> None:
    moves = _moves()
    ax = plot_transition_heatmap(moves)  # type: ignore[arg-type]
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert "prospect" not in rows + cols
    assert "not_yet_customer" not in rows + cols  # everybody bought before the first snapshot
    counts = moves.counts  # type: ignore[attr-defined]
    assert rows == [s for s in counts.index if counts.loc[s].sum() > 0]
    assert cols == [s for s in counts.columns if counts[s].sum() > 0]
    assert ax.images[0].get_array().shape == (len(rows), len(cols))


def test_stage_mix_leaves_out_empty_stages() -> None:
    ax = plot_stage_mix(_moves())  # type: ignore[arg-type]
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert "prospect" not in labels and "not_yet_customer" not in labels
    assert labels


def test_demo_sections_print_the_paths_of_their_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crmmodels.cli import main

    assert main(["demo", "--out", str(tmp_path), "--only", "lifecycle", "basket"]) == 0
    out = capsys.readouterr().out
    written = sorted(tmp_path.glob("*.png"))
    assert {p.name for p in written} >= {
        "lifecycle_transitions.png",
        "retention_cohorts.png",
        "basket_rules.png",
    }
    for path in written:
        assert str(path) in out, path.name
    assert "prospect" not in out.split("Quarterly stage transitions")[1].split("Monthly")[0]
