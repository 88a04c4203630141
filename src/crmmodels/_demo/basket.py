"""Demo of market-basket analysis on simulated baskets with planted rules."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from crmmodels.basket import association_rules, bundle_candidates, cross_sell, frequent_itemsets
from crmmodels.datasets._basket import simulate_baskets

__all__ = ["run"]


def _fmt(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if len(out) and isinstance(out[col].iloc[0], frozenset):
            out[col] = [", ".join(sorted(map(str, s))) for s in out[col]]
    return out.round(3)


def run(out_dir: pathlib.Path) -> list[str]:
    """Mine simulated baskets, save a rules scatter and a top-rules chart, return tables.

    Besides the rules, bundles and cross-sell suggestions, the tables show every rule
    metric of the strongest rules and the rules of a one-hot table with unknown entries
    (``allow_missing=True``) next to the same rules with those entries taken as absent.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the PNG figures.

    Returns
    -------
    list of str
        Text blocks to print.
    """
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    sim = simulate_baskets(20_000, 200, seed=7, n_customers=4_000)
    tx = sim.transactions
    itemsets = frequent_itemsets(tx, basket_col="basket_id", item_col="item", min_support=0.002)
    rules = association_rules(itemsets, metric="lift", min_threshold=1.5)
    bundles = bundle_candidates(itemsets, min_lift=1.5, top_n=8)
    suggestions = cross_sell(tx, rules, customer_col="customer_id", item_col="item", top_n=3)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    rules.plot(ax=axes[0])
    rules.plot(ax=axes[1], kind="top", n=10)
    fig.tight_layout()
    path = out_dir / "basket_rules.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)

    # a one-hot table whose first 5,000 baskets did not record the three most popular items
    onehot = pd.crosstab(tx["basket_id"], tx["item"]).astype(float)
    popular = onehot.sum().nlargest(3).index
    onehot.loc[onehot.index[:5_000], popular] = np.nan
    unknown = association_rules(
        onehot, min_support=0.002, metric="lift", min_threshold=1.5, allow_missing=True
    ).to_frame()
    absent = association_rules(
        onehot.fillna(0.0), min_support=0.002, metric="lift", min_threshold=1.5
    ).to_frame()
    keys = ["antecedents", "consequents"]
    touched = unknown[unknown["consequents"].map(lambda s: bool(s & set(popular)))]
    compared = touched[[*keys, "support", "confidence", "representativity"]].merge(
        absent[[*keys, "support", "confidence"]], on=keys, suffixes=("", "_as_absent")
    )

    cols = ["antecedents", "consequents", "support", "confidence", "lift"]
    every = ["antecedents", "consequents", "jaccard", "certainty", "kulczynski", "conviction"]
    return [
        f"Market baskets: {tx['basket_id'].nunique():,} baskets, {itemsets.n_itemsets:,} "
        f"frequent itemsets, {rules.n_rules:,} rules with lift >= 1.5",
        "Planted rules:\n" + _fmt(sim.planted).to_string(index=False),
        "Top rules by lift:\n" + _fmt(rules.to_frame()[cols].head(8)).to_string(index=False),
        "More metrics of the top rules:\n"
        + _fmt(rules.to_frame()[every].head(5)).to_string(index=False),
        f"Unknown entries ({int(onehot.isna().to_numpy().sum()):,} in a one-hot table): "
        "confidence on the baskets that observe each rule, and with the unknown entries "
        "taken as absent:\n" + _fmt(compared.head(5)).to_string(index=False),
        "Bundle candidates:\n" + _fmt(bundles.to_frame()).to_string(index=False),
        f"Cross-sell ({suggestions.n_without_suggestions:,} of {suggestions.n_customers:,} "
        "customers without a suggestion):\n"
        + _fmt(suggestions.to_frame().head(8)).to_string(index=False),
        f"figure: {path}",
    ]
