"""Demo step: CDNOW transaction log -> customer summary -> RFM segments."""

from __future__ import annotations

from pathlib import Path

from crmmodels.datasets import load_cdnow
from crmmodels.transactions import rfm_scores, rfm_segments, summarize_transactions


def run(out_dir: Path) -> list[str]:
    """Summarise CDNOW, score RFM, name segments and plot the segment sizes."""
    import matplotlib.pyplot as plt

    tx = load_cdnow()
    summary = summarize_transactions(tx, amount_col="amount", time_unit="W")
    segments = rfm_segments(rfm_scores(summary))
    counts = segments["segment"].value_counts()
    value = (
        summary.assign(segment=segments["segment"].to_numpy())
        .groupby("segment")["total_value"]
        .sum()
        .reindex(counts.index)
    )
    table = counts.rename("customers").to_frame()
    table["share_of_value"] = (value / value.sum()).round(3)
    fig, ax = plt.subplots(figsize=(7, 4))
    counts.sort_values().plot.barh(ax=ax)
    ax.set_xlabel("customers")
    ax.set_title("CDNOW customers by RFM segment")
    fig.tight_layout()
    path = out_dir / "rfm_segments.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    head = summary.head(5)[["customer_id", "frequency", "recency", "T", "monetary_value"]]
    return [
        f"CDNOW: {len(tx):,} transactions of {len(summary):,} customers "
        f"({tx['date'].min():%Y-%m-%d} to {tx['date'].max():%Y-%m-%d}).",
        "Customer summary (day grid, recency and T in weeks):\n" + head.to_string(index=False),
        "RFM segments:\n" + table.to_string(),
        f"figure: {path}",
    ]
