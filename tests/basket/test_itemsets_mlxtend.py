"""The cases of mlxtend's apriori / fpgrowth tests, checked against mlxtend 0.25 itself.

Same inputs and expected itemsets as mlxtend's own suite (frequent_patterns/tests). The
cases on message wording, progress output, candidate generation and timing are listed in
docs/basket.md ("Compared with mlxtend").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from mlxtend.frequent_patterns import apriori as mlx_apriori
from mlxtend.frequent_patterns import fpgrowth as mlx_fpgrowth

from crmmodels.basket import ItemsetsResult, association_rules, frequent_itemsets
from crmmodels.errors import DataError

ONE_ARY = np.array(
    [
        [0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1],
        [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1],
        [1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1],
        [0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0],
    ]
)
COLS = ["Apple", "Corn", "Dill", "Eggs", "Ice cream", "Kidney Beans", "Milk", "Nutmeg"]
COLS += ["Onion", "Unicorn", "Yogurt"]
#: mlxtend's expected itemsets of the example at min_support 0.5, by column position
EXPECTED = {
    (3,): 0.8,
    (5,): 1.0,
    (6,): 0.6,
    (8,): 0.6,
    (10,): 0.6,
    (3, 5): 0.8,
    (3, 8): 0.6,
    (5, 6): 0.6,
    (5, 8): 0.6,
    (5, 10): 0.6,
    (3, 5, 8): 0.6,
}


def table(result: ItemsetsResult) -> dict[tuple, float]:
    frame = result.to_frame()
    return {
        tuple(sorted(s)): float(v) for s, v in zip(frame["itemsets"], frame["support"], strict=True)
    }


def reference(frame: pd.DataFrame, **kwargs) -> dict[tuple, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mlx_fpgrowth(frame, use_colnames=True, **kwargs)
        alt = mlx_apriori(frame, use_colnames=True, **kwargs)
    a = {tuple(sorted(s)): float(v) for s, v in zip(ref["itemsets"], ref["support"], strict=True)}
    b = {tuple(sorted(s)): float(v) for s, v in zip(alt["itemsets"], alt["support"], strict=True)}
    assert a == b
    return a


@pytest.mark.parametrize("kind", ["int", "bool"])
def test_example_itemsets(kind: str) -> None:
    frame = pd.DataFrame(ONE_ARY.astype(kind))
    got = table(frequent_itemsets(frame, min_support=0.5))
    assert got == EXPECTED == reference(frame, min_support=0.5)


def test_empty_onehot_frame_gives_no_itemsets() -> None:
    for frame in (pd.DataFrame([[]]), pd.DataFrame({"a": []}), pd.DataFrame()):
        fi = frequent_itemsets(frame, min_support=0.5)
        assert fi.n_itemsets == 0 and list(fi.to_frame().columns) == ["itemsets", "support"]
        assert fi.n_baskets == len(frame)
        assert association_rules(fi).n_rules == 0


def test_itemsets_are_frozensets_by_name_and_by_position() -> None:
    for frame in (pd.DataFrame(ONE_ARY), pd.DataFrame(ONE_ARY, columns=COLS)):
        fi = frequent_itemsets(frame, min_support=0.5).to_frame()
        assert all(isinstance(s, frozenset) for s in fi["itemsets"])
    fi = frequent_itemsets(pd.DataFrame(ONE_ARY, columns=COLS), min_support=0.5).to_frame()
    assert (fi["itemsets"] == {"Milk", "Kidney Beans"}).sum() == 1
    assert (fi["itemsets"] == frozenset(("Kidney Beans", "Milk"))).sum() == 1
    assert (fi["itemsets"] == "nothing").sum() == 0


def test_a_value_other_than_0_or_1_is_refused_dense_and_sparse() -> None:
    frame = pd.DataFrame(ONE_ARY, columns=COLS)
    frame.iloc[3, 3] = 2
    for data in (frame, frame.astype(pd.SparseDtype("int", 0))):
        with pytest.raises(DataError, match=r"'Eggs' holds a value other than .* \(2\).*row 3"):
            frequent_itemsets(data, min_support=0.5)


def test_sparse_frames_with_integer_column_names() -> None:
    """mlxtend refuses integer names that do not start at 0; they are just labels here."""
    for start in (0, 1):
        sparse = pd.DataFrame(ONE_ARY).astype(pd.SparseDtype("int", 0))
        sparse.columns = [j + start for j in range(ONE_ARY.shape[1])]
        got = table(frequent_itemsets(sparse, min_support=0.5))
        assert got == {tuple(i + start for i in k): v for k, v in EXPECTED.items()}


@pytest.mark.parametrize("fill", [0, False])
def test_sparse_frames_match_dense(fill) -> None:
    dense = pd.DataFrame(ONE_ARY, columns=COLS)
    sparse = dense.astype(pd.SparseDtype(type(fill), fill_value=fill))
    assert table(frequent_itemsets(sparse, min_support=0.5)) == table(
        frequent_itemsets(dense, min_support=0.5)
    )


def test_sparse_frame_with_stored_zeros() -> None:
    full = ONE_ARY.copy()
    full[3, :] = 1
    matrix = sp.csr_matrix(full)
    matrix[3, :] = ONE_ARY[3, :]  # zeros stored explicitly in row 3
    sparse = pd.DataFrame.sparse.from_spmatrix(matrix, columns=COLS)
    assert table(frequent_itemsets(sparse, min_support=0.5)) == table(
        frequent_itemsets(pd.DataFrame(ONE_ARY, columns=COLS), min_support=0.5)
    )


def test_max_len() -> None:
    frame = pd.DataFrame(ONE_ARY)
    assert max(map(len, table(frequent_itemsets(frame, min_support=0.5)))) == 3
    assert max(map(len, table(frequent_itemsets(frame, min_support=0.5, max_len=2)))) == 2


def test_single_item_baskets_at_a_tiny_support() -> None:
    baskets = [["a"], ["b"], ["c", "d"], ["e"]]
    frame = pd.DataFrame([[item in b for item in "abcde"] for b in baskets], columns=list("abcde"))
    got = table(frequent_itemsets(frame, min_support=0.001))
    singles = {("a",): 0.25, ("b",): 0.25, ("c",): 0.25, ("d",): 0.25, ("e",): 0.25}
    assert got == {**singles, ("c", "d"): 0.25} == reference(frame, min_support=0.001)


@pytest.mark.parametrize("bad", [0.0, 2])
def test_min_support_outside_0_1_is_refused(bad: float) -> None:
    frame = pd.DataFrame({"a": [True, False]})
    with pytest.raises(DataError, match="min_support"):
        frequent_itemsets(frame, min_support=bad)


FOUR = pd.DataFrame(
    [[1, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]],
    columns=["A", "B", "C", "D"],
)


def test_max_len_one_gives_single_items() -> None:
    got = table(frequent_itemsets(FOUR, min_support=0.6, max_len=1))
    assert got == {("A",): 0.8, ("B",): 0.8, ("C",): 0.8, ("D",): 0.8}
    assert got == reference(FOUR, min_support=0.6, max_len=1)


def test_min_support_one_keeps_what_every_basket_holds() -> None:
    frame = pd.DataFrame([[1, 1, 0], [1, 1, 1], [1, 1, 0]], columns=["A", "B", "C"])
    got = table(frequent_itemsets(frame, min_support=1.0))
    assert got == {("A",): 1.0, ("B",): 1.0, ("A", "B"): 1.0}
    assert got == reference(frame, min_support=1.0)


def test_no_item_reaches_min_support() -> None:
    frame = pd.DataFrame([[1, 0], [0, 1]], columns=["A", "B"])
    fi = frequent_itemsets(frame, min_support=1.0).to_frame()
    assert fi.empty and list(fi.columns) == ["itemsets", "support"]


def test_up_to_size_three_matches_both_mlxtend_miners() -> None:
    got = table(frequent_itemsets(FOUR, min_support=0.4, max_len=3))
    assert got == reference(FOUR, min_support=0.4, max_len=3)
    assert max(map(len, got)) == 3
