"""pseudonymize: keyed hashes of identifiers on every engine."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.errors import ArgumentError, DataError, SchemaError
from crmmodels.idic import _pseudonymize as module
from crmmodels.idic import collision_probability, pseudonymize, resolve_identities

from _engines import to_engine, to_pandas

KEY = "k3y-for-the-tests-0123456789"
OTHER_KEY = b"another-key-of-32-bytes-length!!"


def direct(value: str, key: str | bytes = KEY, length: int = 16) -> str:
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw, value.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


def base_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array([17, 42, 17, None, 9_007_199_254_740_993], dtype="Int64"),
            "email": ["a@x.org", None, "b@y.org", "a@x.org", "ü@z.de"],
            "score": [1.0, 2.5, np.nan, 1.0, -0.125],
            "amount": [10, 20, 30, 40, 50],
        }
    )


def as_lists(native: object) -> list[list[object]]:
    df = to_pandas(native)
    return df.astype(object).where(df.notna(), None).to_numpy().tolist()


EXPECTED = [
    [direct("17"), direct("a@x.org"), direct("1"), 10],
    [direct("42"), None, direct("2.5"), 20],
    [direct("17"), direct("b@y.org"), None, 30],
    [None, direct("a@x.org"), direct("1"), 40],
    [direct("9007199254740993"), direct("ü@z.de"), direct("-0.125"), 50],
]


def test_known_answers_against_a_direct_hmac() -> None:
    out = pseudonymize(base_frame(), ["customer_id", "email", "score"], key=KEY)
    assert as_lists(out) == EXPECTED


def test_same_key_same_ids_on_every_engine(engine: str) -> None:
    native = to_engine(base_frame(), engine)
    out = pseudonymize(native, ["customer_id", "email", "score"], key=KEY)
    assert type(out) is type(native)
    assert as_lists(out) == EXPECTED
    # a second run gives the same pseudonyms
    again = pseudonymize(
        to_engine(base_frame(), engine), ["customer_id", "email", "score"], key=KEY
    )
    assert as_lists(again) == EXPECTED


def test_a_different_key_gives_different_ids() -> None:
    a = pseudonymize(base_frame(), "email", key=KEY)["email"].dropna()
    b = pseudonymize(base_frame(), "email", key=OTHER_KEY)["email"].dropna()
    assert not set(a) & set(b)


@pytest.mark.parametrize("key", [b"\x00" * 16, "k" * 64, "a much longer key " * 8, "ключ" * 5])
def test_known_answers_for_short_block_size_and_long_keys(key: str) -> None:
    out = pseudonymize(base_frame(), "email", key=key, length=64)["email"].tolist()
    assert out[0] == direct("a@x.org", key=key, length=64)
    assert out[4] == direct("ü@z.de", key=key, length=64)


def test_bytes_and_text_keys_agree() -> None:
    a = pseudonymize(base_frame(), "email", key=KEY)
    b = pseudonymize(base_frame(), "email", key=KEY.encode())
    pd.testing.assert_frame_equal(a, b)


def test_prefix_and_length() -> None:
    out = pseudonymize(base_frame(), "customer_id", key=KEY, prefix="c_", length=40)
    assert out["customer_id"].iloc[0] == "c_" + direct("17", length=40)


def test_the_input_is_not_modified_and_the_index_is_kept() -> None:
    df = base_frame().set_index(pd.Index([5, 6, 7, 8, 9]))
    before = df.copy()
    out = pseudonymize(df, "email", key=KEY)
    pd.testing.assert_frame_equal(df, before)
    assert list(out.index) == [5, 6, 7, 8, 9]
    assert list(out.columns) == list(df.columns)


def test_raw_values_do_not_appear_in_the_output() -> None:
    df = base_frame()
    out = pseudonymize(df, ["customer_id", "email"], key=KEY)
    text = out.to_csv()
    for raw in ["a@x.org", "b@y.org", "ü@z.de", "9007199254740993"]:
        assert raw not in text


def test_pseudonymised_tables_still_join(engine: str) -> None:
    customers = pd.DataFrame({"cid": [1, 2, 3], "city": ["Oslo", "Rome", "Lima"]})
    orders = pd.DataFrame({"customer": ["3", "1", "1", "4"], "amount": [5.0, 6.0, 7.0, 8.0]})
    raw = orders.merge(customers, left_on="customer", right_on=customers["cid"].astype(str))
    pc = to_pandas(pseudonymize(to_engine(customers, engine), "cid", key=KEY))
    po = to_pandas(pseudonymize(to_engine(orders, engine), "customer", key=KEY))
    joined = po.merge(pc, left_on="customer", right_on="cid")
    assert sorted(joined["amount"]) == sorted(raw["amount"]) == [5.0, 6.0, 7.0]
    assert sorted(joined["city"]) == ["Lima", "Oslo", "Oslo"]


def test_identity_resolution_then_pseudonymize_the_resolved_key() -> None:
    records = pd.DataFrame(
        {
            "rid": ["a1", "a2", "b1", "c1"],
            "email": ["J.Smith@gmail.com", None, "jsmith+shop@googlemail.com", "ann@x.org"],
            "phone": ["555-123-4567", "+1 (555) 123 4567", None, None],
        }
    )
    resolved = resolve_identities(
        records, id_col="rid", email_cols=["email"], phone_cols=["phone"]
    ).to_frame()
    out = pseudonymize(resolved, ["customer_key", "rid"], key=KEY)
    keys = out["customer_key"].tolist()
    assert keys[0] == keys[1] == keys[2] == direct("0") != keys[3] == direct("1")
    assert out["rid"].tolist() == [direct(r) for r in ["a1", "a2", "b1", "c1"]]


@pytest.mark.parametrize("key", ["short", b"15-bytes-key!!!", "ü" * 7])
def test_a_short_key_is_refused_without_showing_it(key: str | bytes) -> None:
    with pytest.raises(ArgumentError, match="at least 16 bytes") as info:
        pseudonymize(base_frame(), "email", key=key)
    shown = key if isinstance(key, str) else key.decode()
    assert shown not in str(info.value)
    assert "secrets.token_hex" in str(info.value)


def test_the_key_is_not_in_reprs_or_errors() -> None:
    lazy = pseudonymize(pl.DataFrame(base_frame()[["email"]]).lazy(), "email", key=KEY)
    assert KEY not in repr(lazy) and KEY not in str(lazy.explain())
    with pytest.raises(SchemaError) as info:
        pseudonymize(base_frame(), "nope", key=KEY)
    assert KEY not in str(info.value)
    with pytest.raises(ArgumentError) as info2:
        pseudonymize(base_frame(), "email", key=12345678901234567890)  # type: ignore[arg-type]
    assert "12345678901234567890" not in str(info2.value)


def test_bad_arguments() -> None:
    with pytest.raises(ArgumentError, match="length"):
        pseudonymize(base_frame(), "email", key=KEY, length=8)
    with pytest.raises(ArgumentError, match="length"):
        pseudonymize(base_frame(), "email", key=KEY, length=65)
    with pytest.raises(ArgumentError, match="columns"):
        pseudonymize(base_frame(), [], key=KEY)
    with pytest.raises(ArgumentError, match="twice"):
        pseudonymize(base_frame(), ["email", "email"], key=KEY)
    with pytest.raises(ArgumentError, match="prefix"):
        pseudonymize(base_frame(), "email", key=KEY, prefix=1)  # type: ignore[arg-type]


def test_unhashable_types_are_refused_with_the_fix() -> None:
    df = pd.DataFrame({"d": pd.to_datetime(["2024-01-01"]), "b": [True]})
    with pytest.raises(SchemaError, match=r"column 'd' has type Datetime.*astype\(str\)"):
        pseudonymize(df, "d", key=KEY)
    with pytest.raises(SchemaError, match="column 'b'"):
        pseudonymize(df, "b", key=KEY)


def test_mixed_id_types_are_refused() -> None:
    with pytest.raises(SchemaError, match="mixes value types"):
        pseudonymize(pd.DataFrame({"c": [1, "1"]}, dtype=object), "c", key=KEY)


def test_collisions_are_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    # a forced collision: every distinct value hashed as the same text
    monkeypatch.setattr(module, "_canonical", lambda values: ["same"] * len(values))
    with pytest.raises(DataError, match=r"1 pair.*same pseudonym.*length=32"):
        pseudonymize(pd.DataFrame({"c": ["a", "b", "a"]}), "c", key=KEY)


def test_collision_probability_is_the_birthday_bound() -> None:
    assert collision_probability(0) == 0.0 == collision_probability(1)
    assert collision_probability(2, length=16) == pytest.approx(2.0**-64)
    assert collision_probability(10**6, length=16) == pytest.approx(1e12 / 2**65, rel=1e-5)


def test_categorical_columns_hash_their_labels() -> None:
    df = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"])})
    assert pseudonymize(df, "c", key=KEY)["c"].tolist() == [direct("x"), direct("y"), direct("x")]


@given(st.lists(st.text(min_size=1, max_size=8) | st.integers(-(10**12), 10**12), max_size=30))
def test_equal_values_equal_pseudonyms_distinct_values_distinct(values: list[object]) -> None:
    texts = [str(v) for v in values]
    out = pseudonymize(pd.DataFrame({"c": texts}, dtype=object), "c", key=KEY)["c"].tolist()
    assert out == [direct(t) for t in texts]
    assert len(set(out)) == len(set(texts))
