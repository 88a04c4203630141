"""The covariate design on every kind of column: the same levels, reference and design.

The fit factorises a categorical column once (Arrow's dictionary encoding, with pandas'
factorize for objects Arrow cannot type) and reuses it for the design; the collinearity
check works on one product of the design. These tests pin that every representation of
the same values gives the same specification and design as a hand-built one-hot matrix.
"""

from __future__ import annotations

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest

from crmmodels.clv._covariates import build_spec_design
from crmmodels.errors import DataError

LISTS = {"purchase": ["channel", "age"], "dropout": ["channel"]}
CHANNEL = ["web", "app", "web", "store", "web", "app", "web", "store"]
AGE = [30.0, 41.0, 25.0, 52.0, 33.0, 47.0, 29.0, 60.0]


def _expected() -> tuple[np.ndarray, np.ndarray]:
    levels = ["app", "store"]  # "web" is the most frequent: the reference
    onehot = np.array([[c == lvl for lvl in levels] for c in CHANNEL], dtype=float)
    age = np.array(AGE) - np.mean(AGE)
    return np.column_stack([onehot, age]), onehot


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"channel": CHANNEL, "age": AGE}),
        pd.DataFrame({"channel": pd.Series(CHANNEL, dtype=object), "age": AGE}),
        pd.DataFrame(
            {
                "channel": pd.Categorical(CHANNEL, categories=["web", "app", "store", "unused"]),
                "age": AGE,
            }
        ),
        pd.DataFrame({"channel": pd.Series(CHANNEL, dtype="string[pyarrow]"), "age": AGE}),
        pl.DataFrame({"channel": CHANNEL, "age": AGE}),
        pl.DataFrame({"channel": pl.Series(CHANNEL, dtype=pl.Categorical), "age": AGE}),
    ],
    ids=[
        "pandas-str",
        "pandas-object",
        "pandas-categorical",
        "pandas-arrow",
        "polars",
        "polars-cat",
    ],
)
def test_every_representation_gives_the_same_spec_and_design(frame: object) -> None:
    spec, design = build_spec_design(nw.from_native(frame, eager_only=True), LISTS, "test")
    (term,) = [t for t in spec.purchase if t.column == "channel"]
    assert term.levels == ("app", "store", "web")  # used levels only, sorted
    assert term.reference == "web"
    purchase, dropout = _expected()
    np.testing.assert_allclose(design["purchase"], purchase, atol=1e-12)
    np.testing.assert_allclose(design["dropout"], dropout, atol=1e-12)
    # the prediction path (no cached factorisation) gives the same design
    again = spec.design(nw.from_native(frame, eager_only=True), "test")
    np.testing.assert_allclose(again["purchase"], purchase, atol=1e-12)


def test_mixed_python_objects_fall_back_to_their_text() -> None:
    values = pd.Series(["a", 1, "a", 2.5, "a", 1], dtype=object)
    frame = pd.DataFrame({"kind": values, "age": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]})
    spec, design = build_spec_design(
        nw.from_native(frame, eager_only=True), {"purchase": ["kind"], "dropout": []}, "test"
    )
    assert spec.purchase[0].levels == ("1", "2.5", "a")
    assert spec.purchase[0].reference == "a"
    np.testing.assert_array_equal(design["purchase"][:, 0], [0, 1, 0, 0, 0, 1])


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_a_missing_category_is_refused_with_its_count(kind: str) -> None:
    channel = ["web", None, "app", None, "web"]
    frame = (pd if kind == "pandas" else pl).DataFrame({"channel": channel, "age": AGE[:5]})
    with pytest.raises(DataError, match=r"channel.*2"):
        build_spec_design(nw.from_native(frame, eager_only=True), LISTS, "test")


def test_collinear_columns_are_still_refused() -> None:
    frame = pd.DataFrame(
        {"channel": CHANNEL, "age": AGE, "web": [float(c == "web") for c in CHANNEL]}
    )
    with pytest.raises(DataError, match="collinear"):
        build_spec_design(
            nw.from_native(frame, eager_only=True),
            {"purchase": ["channel", "web"], "dropout": []},
            "test",
        )
