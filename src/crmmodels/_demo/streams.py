"""Demo step: simulated click stream -> ordered funnel as a subsequence, window, channels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.funnel import stream_funnel

STEPS = ["product_view", "add_to_cart", "checkout", "purchase"]


def _click_stream(n_users: int, seed: int) -> pd.DataFrame:
    """Users who browse and move toward purchase with odds that depend on their channel.

    Some put items in the cart before viewing a product, as real shoppers do.
    """
    rng = np.random.default_rng(seed)
    channel = rng.choice(["organic", "paid", "email"], n_users, p=[0.5, 0.3, 0.2])
    lift = pd.Series(channel).map({"organic": 1.0, "paid": 0.8, "email": 1.25}).to_numpy()
    n_ev = rng.poisson(12, n_users) + 1
    user = np.repeat(np.arange(n_users), n_ev)
    pos = np.concatenate([np.arange(k) for k in n_ev]) / np.repeat(n_ev, n_ev)
    names = np.array([*STEPS, "home", "search", "catalog"])
    p_step = np.clip(0.55 * np.repeat(lift, n_ev), 0, 0.9)
    is_step = rng.random(user.size) < p_step
    depth = np.minimum((pos + 0.35 * rng.random(user.size)) * 4 * rng.random(user.size), 3)
    code = np.where(is_step, depth.astype(int), 4 + rng.integers(0, 3, user.size))
    start = rng.integers(0, 60 * 86400, n_users)
    gap = rng.exponential(600, user.size).round()
    cum = np.cumsum(gap)
    first = np.cumsum(n_ev) - n_ev
    secs = np.repeat(start, n_ev) + cum - np.repeat(cum[first] - gap[first], n_ev)
    return pd.DataFrame(
        {
            "user_id": user,
            "event": names[code],
            "timestamp": pd.Timestamp("2024-04-01") + pd.to_timedelta(secs, unit="s"),
            "channel": np.repeat(channel, n_ev),
        }
    )


def run(out_dir: Path) -> list[str]:
    """Count the funnel of a simulated click stream both ways, with a window and by channel."""
    import matplotlib.pyplot as plt

    log = _click_stream(5_000, seed=18)
    kw: dict[str, Any] = {
        "stages": STEPS,
        "entity_col": "user_id",
        "stage_col": "event",
        "date_col": "timestamp",
        "other_events": "ignore",
    }
    seq = stream_funnel(log, segment_col="channel", **kw)
    ordered = stream_funnel(log, mode="ordered", **kw)
    day = stream_funnel(log, window="2h", **kw)
    both = pd.DataFrame(
        {
            "stage": STEPS,
            "sequence": seq.to_frame()["entered"],
            "ordered": ordered.to_frame()["entered"],
            "sequence_2_hours": day.to_frame()["entered"],
            "median_hours_2_hours": (day.to_frame()["time_to_convert_median"] * 24).round(2),
        }
    )
    assert seq.segments is not None
    cols = ["segment", "stage", "entered", "cumulative_conversion", "difference"]
    seg = seq.segments[[*cols, "difference_low", "difference_high"]].round(3)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    seq.plot(ax=ax)
    fig.tight_layout()
    path = out_dir / "stream_funnel.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [
        f"Simulated click stream: {seq.n_events:,} events of {seq.n_entities:,} users; "
        f"{seq.n_ignored_events:,} events are not funnel steps and were ignored "
        f"({', '.join(seq.ignored['event'])}).",
        "Users per step, as a subsequence of the path (product-analytics rule), by the "
        "first-entry rule of funnel_metrics, and within two hours of the first step:\n"
        + both.to_string(index=False),
        f"Channels against {seq.reference!r} (cumulative conversion, difference and its "
        f"{seq.level:.0%} interval):\n" + seg.to_string(index=False),
        f"figure: {path}",
    ]
