"""The cases of mlxtend's association_rules tests, checked against mlxtend 0.25 itself.

Same inputs and expected values as mlxtend's own suite (frequent_patterns/tests), written
for crmmodels' names; the cases that check mlxtend's message wording or internals are
listed in docs/basket.md ("Compared with mlxtend").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules as mlx_rules
from mlxtend.frequent_patterns import fpgrowth as mlx_fpgrowth

from crmmodels.basket import RULE_METRICS, association_rules, frequent_itemsets
from crmmodels.errors import ArgumentError, DataError

ONE_ARY = np.array(
    [
        [0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1],
        [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1],
        [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1],
        [0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0],
    ]
)
COLS = [
    "Apple",
    "Corn",
    "Dill",
    "Eggs",
    "Ice cream",
    "Kidney Beans",
    "Milk",
    "Nutmeg",
    "Onion",
    "Unicorn",
    "Yogurt",
]
#: mlxtend's column names for our metrics
MLX = {m: m.replace("_", " ") if m.endswith("_support") else m for m in RULE_METRICS}


def by_position() -> pd.DataFrame:
    """The example with the column positions as item labels (mlxtend's use_colnames=False)."""
    return pd.DataFrame(ONE_ARY)


def by_name() -> pd.DataFrame:
    return pd.DataFrame(ONE_ARY, columns=COLS)


def with_nulls() -> pd.DataFrame:
    """mlxtend's nullability case: one null per column, on a diagonal pattern."""
    values = ONE_ARY.astype(float)
    rows = [0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2]
    values[rows, np.arange(11)] = np.nan
    return pd.DataFrame(values)


def quiet(call, *args, **kwargs):
    """Call mlxtend without its deprecation and division warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def plain(items: frozenset) -> str:
    """A set as sorted text, numpy scalars as Python ones (mlxtend returns both kinds)."""
    return str(sorted(x.item() if isinstance(x, np.generic) else x for x in items))


def keyed(rules: pd.DataFrame) -> pd.DataFrame:
    key = rules["antecedents"].map(plain) + " -> " + rules["consequents"].map(plain)
    return rules.assign(key=key).sort_values("key").reset_index(drop=True)


def assert_same_rules(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Same rules, and every metric equal to mlxtend's to 1e-12 (inf where it is inf)."""
    a, b = keyed(ours), keyed(ref.rename(columns={v: k for k, v in MLX.items()}))
    assert a["key"].tolist() == b["key"].tolist()
    for name in RULE_METRICS:
        x, y = a[name].to_numpy(float), b[name].to_numpy(float)
        assert np.array_equal(np.isinf(x), np.isinf(y)), name
        assert np.array_equal(np.isnan(x), np.isnan(y)), name
        fin = np.isfinite(x)
        np.testing.assert_allclose(x[fin], y[fin], rtol=1e-12, atol=1e-12, err_msg=name)


def rounded_rows(rules: pd.DataFrame) -> list[tuple]:
    rows = []
    for _, r in rules.iterrows():
        metrics = (float(np.round(r[m], 3)) for m in RULE_METRICS)
        rows.append((tuple(sorted(r["antecedents"])), tuple(sorted(r["consequents"])), *metrics))
    return sorted(rows)


# the expected tables of mlxtend's test_default and test_nullability, metrics in the
# order of RULE_METRICS (which is mlxtend's)
DEFAULT = [
    ((8,), (5,), 0.6, 1.0, 0.6, 1.0, 1.0, 1.0, 0.0, np.inf, 0, 0.6, 0.0, 0.8),
    ((6,), (5,), 0.6, 1.0, 0.6, 1.0, 1.0, 1.0, 0.0, np.inf, 0, 0.6, 0.0, 0.8),
    ((3, 8), (5,), 0.6, 1.0, 0.6, 1.0, 1.0, 1.0, 0.0, np.inf, 0, 0.6, 0.0, 0.8),
    ((5, 8), (3,), 0.6, 0.8, 0.6, 1.0, 1.25, 1.0, 0.12, np.inf, 0.5, 0.75, 1.0, 0.875),
    ((8,), (3, 5), 0.6, 0.8, 0.6, 1.0, 1.25, 1.0, 0.12, np.inf, 0.5, 0.75, 1.0, 0.875),
    ((3,), (5,), 0.8, 1.0, 0.8, 1.0, 1.0, 1.0, 0.0, np.inf, 0, 0.8, 0.0, 0.9),
    ((5,), (3,), 1.0, 0.8, 0.8, 0.8, 1.0, 1.0, 0.0, 1.0, 0.0, 0.8, 0.0, 0.9),
    ((10,), (5,), 0.6, 1.0, 0.6, 1.0, 1.0, 1.0, 0.0, np.inf, 0, 0.6, 0.0, 0.8),
    ((8,), (3,), 0.6, 0.8, 0.6, 1.0, 1.25, 1.0, 0.12, np.inf, 0.5, 0.75, 1.0, 0.875),
]
NULLS = [
    ((3, 10), (5,), 0.667, 1.0, 0.667, 1.0, 1.0, 0.6, 0.0, np.inf, 0, 0.667, 0, 0.833),
    ((5, 10), (3,), 0.667, 1.0, 0.667, 1.0, 1.0, 0.6, 0.0, np.inf, 0, 0.667, 0.0, 0.833),
    ((10,), (3, 5), 0.75, 1.0, 0.667, 1.0, 1.0, 0.6, -0.083, np.inf, -0.333, 0.615, 0.0, 0.833),
    ((10,), (3,), 0.75, 1.0, 0.667, 1.0, 1.0, 0.6, -0.083, np.inf, -0.333, 0.615, 0.0, 0.833),
    ((10,), (5,), 0.75, 1.0, 0.667, 1.0, 1.0, 0.6, -0.083, np.inf, -0.333, 0.615, 0, 0.833),
    ((3, 5), (10,), 1.0, 0.75, 0.667, 0.667, 0.889, 0.6, -0.083, 0.75, -1.0, 0.615, -0.333, 0.833),
    ((3,), (5, 10), 1.0, 0.667, 0.667, 0.667, 1.0, 0.6, 0.0, 1.0, 0, 0.667, 0.0, 0.833),
    ((3,), (10,), 1.0, 0.75, 0.667, 0.667, 0.889, 0.6, -0.083, 0.75, -1.0, 0.615, -0.333, 0.833),
    ((3,), (5,), 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.0, np.inf, 0, 1.0, 0, 1.0),
    ((5,), (3, 10), 1.0, 0.667, 0.667, 0.667, 1.0, 0.6, 0.0, 1.0, 0, 0.667, 0, 0.833),
    ((5,), (10,), 1.0, 0.75, 0.667, 0.667, 0.889, 0.6, -0.083, 0.75, -1.0, 0.615, -0.333, 0.833),
    ((5,), (3,), 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.0, np.inf, 0, 1.0, 0.0, 1.0),
]


def as_rows(table: list[tuple]) -> list[tuple]:
    return sorted(tuple(r[:2]) + tuple(float(v) for v in r[2:]) for r in table)


def test_every_mlxtend_metric_in_mlxtends_order() -> None:
    assert [MLX[m] for m in RULE_METRICS] == [
        "antecedent support",
        "consequent support",
        "support",
        "confidence",
        "lift",
        "representativity",
        "leverage",
        "conviction",
        "zhangs_metric",
        "jaccard",
        "certainty",
        "kulczynski",
    ]
    fi = frequent_itemsets(by_position(), min_support=0.6)
    assert list(association_rules(fi).to_frame().columns) == [
        "antecedents",
        "consequents",
        *RULE_METRICS,
    ]


def test_default_table_and_mlxtend() -> None:
    fi = frequent_itemsets(by_position(), min_support=0.6)
    ours = association_rules(fi).to_frame()
    assert rounded_rows(ours) == as_rows(DEFAULT)
    ref_fi = quiet(mlx_fpgrowth, by_position(), min_support=0.6)
    assert_same_rules(ours, quiet(mlx_rules, ref_fi, len(ONE_ARY)))
    # mlxtend's itemsets frame gives the same rules
    assert_same_rules(association_rules(ref_fi).to_frame(), quiet(mlx_rules, ref_fi, 5))


def test_unknown_entries_table_and_mlxtend() -> None:
    df = with_nulls()
    before = df.copy()
    fi = frequent_itemsets(df, min_support=0.6, allow_missing=True)
    assert fi.n_missing_entries == 11
    ours = association_rules(fi, min_threshold=0.6).to_frame()
    assert rounded_rows(ours) == as_rows(NULLS)
    ref_fi = quiet(mlx_fpgrowth, df, min_support=0.6, null_values=True)
    ref = quiet(mlx_rules, ref_fi, len(df), df, null_values=True, min_threshold=0.6)
    assert_same_rules(ours, ref)
    # an itemsets frame with the one-hot frame it came from: the same rules
    again = association_rules(
        fi.to_frame(), transactions=df, allow_missing=True, min_threshold=0.6
    ).to_frame()
    assert_same_rules(again, ref)
    pd.testing.assert_frame_equal(df, before)


def test_items_are_frozensets_even_from_sets() -> None:
    fi = frequent_itemsets(by_position(), min_support=0.6).to_frame()
    as_sets = fi.assign(itemsets=fi["itemsets"].map(set))
    for frame in (fi, as_sets):
        rules = association_rules(frame).to_frame()
        assert all(isinstance(s, frozenset) for s in rules["antecedents"])
        assert all(isinstance(s, frozenset) for s in rules["consequents"])


def test_a_frame_without_support_or_itemsets_is_refused() -> None:
    fi = frequent_itemsets(by_position(), min_support=0.6).to_frame()
    for frame in (fi[["itemsets"]], fi[["support"]]):
        with pytest.raises(DataError, match="itemsets frame"):
            association_rules(frame)


def test_unknown_metric_is_refused() -> None:
    fi = frequent_itemsets(by_position(), min_support=0.6)
    with pytest.raises(ArgumentError, match="metric"):
        association_rules(fi, metric="unicorn")


def test_no_rule_reaches_the_threshold() -> None:
    fi = frequent_itemsets(by_position(), min_support=0.6)
    rules = association_rules(fi, min_threshold=2).to_frame()
    assert len(rules) == 0
    assert list(rules.columns) == ["antecedents", "consequents", *RULE_METRICS]


@pytest.mark.parametrize(
    ("metric", "threshold", "n_rules"),
    [
        ("leverage", 0.1, 6),
        ("conviction", 1.5, 11),
        ("lift", 1.1, 6),
        ("confidence", 0.8, 9),
        ("representativity", 1.0, 16),
        ("jaccard", 0.7, 8),
        ("certainty", 0.6, 3),
        ("kulczynski", 0.9, 2),
        ("kulczynski", 0.6, 16),
        ("support", 0.8, 2),
    ],
)
def test_rules_kept_by_each_metric(metric: str, threshold: float, n_rules: int) -> None:
    for frame, ids in ((by_position(), False), (by_name(), True)):
        fi = frequent_itemsets(frame, min_support=0.6)
        ours = association_rules(fi, metric=metric, min_threshold=threshold).to_frame()
        assert len(ours) == n_rules
        assert (ours[metric] >= threshold).all()
        assert ours[metric].is_monotonic_decreasing
        ref_fi = quiet(mlx_fpgrowth, frame, min_support=0.6, use_colnames=ids)
        ref = quiet(mlx_rules, ref_fi, 5, metric=MLX[metric], min_threshold=threshold)
        assert_same_rules(ours, ref)


def test_frozenset_selection() -> None:
    rules = association_rules(frequent_itemsets(by_position(), min_support=0.6)).to_frame()
    assert (rules["consequents"] == frozenset((3, 5))).sum() == 1
    assert (rules["consequents"] == frozenset((5, 3))).sum() == 1
    assert (rules["antecedents"] == frozenset((8, 3))).sum() == 1


def test_support_only_sets_the_metric_to_support() -> None:
    fi = frequent_itemsets(by_name(), min_support=0.6)
    assert association_rules(fi, min_threshold=0.8).n_rules == 9
    assert association_rules(fi, min_threshold=0.8, metric="support").n_rules == 2
    only = association_rules(fi, min_threshold=0.8, support_only=True)
    assert only.metric == "support" and only.n_rules == 2
    table = only.to_frame()
    others = [m for m in RULE_METRICS if m != "support"]
    assert table[others].isna().all().all()
    ref = quiet(mlx_rules, fi.to_frame(), 5, min_threshold=0.8, support_only=True)
    assert_same_rules(table, ref)
    with pytest.raises(ArgumentError, match="support_only"):
        association_rules(fi, support_only=True, metric="lift")
    with pytest.raises(ArgumentError, match="support_only"):
        association_rules(fi, support_only=True, filters={"confidence": 0.5})


def cropped() -> pd.DataFrame:
    """mlxtend issue 390: itemsets whose antecedents and consequents were cut away."""
    return pd.DataFrame(
        {
            "itemsets": [
                ["177", "176"],
                ["177", "179"],
                ["176", "178"],
                ["176", "179"],
                ["93", "100"],
                ["177", "178"],
                ["177", "176", "178"],
            ],
            "support": [0.253623, 0.253623, 0.217391, 0.217391, 0.181159, 0.108696, 0.108696],
        }
    )


def test_cropped_itemsets_are_refused_without_support_only() -> None:
    with pytest.raises(DataError, match="support_only=True"):
        association_rules(cropped())


def test_cropped_itemsets_with_support_only() -> None:
    ours = association_rules(cropped(), support_only=True, min_threshold=0.1).to_frame()
    assert len(ours) == 18 and not ours["support"].isna().any()
    ref = quiet(mlx_rules, cropped(), 5, support_only=True, min_threshold=0.1)
    assert_same_rules(ours, ref)
    # sorted by support, then the itemsets' order; each itemset's rules together
    assert ours["support"].is_monotonic_decreasing
    assert [
        len(a) + len(c) for a, c in zip(ours["antecedents"], ours["consequents"], strict=True)
    ] == [2] * 12 + [3] * 6


def test_no_itemsets_give_no_rules() -> None:
    """mlxtend raises on an empty itemsets frame; crmmodels returns no rules."""
    fi = frequent_itemsets(by_name(), min_support=0.6).to_frame().iloc[:0]
    rules = association_rules(fi).to_frame()
    assert len(rules) == 0
    assert list(rules.columns) == ["antecedents", "consequents", *RULE_METRICS]
