"""Probabilistic identity resolution: the Fellegi-Sunter kernel and the public function.

References: closed forms of the log2 Bayes factors and of Bayes' rule on hand cases, and
parameter recovery on simulated pairs and records with known m and u.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.errors import ArgumentError, ConvergenceError, DataError, SchemaError
from crmmodels.idic import (
    Comparison,
    ProbabilisticIdentityResult,
    linkage_quality,
    resolve_identities_probabilistic,
)
from crmmodels.kernels.identity import (
    fellegi_sunter_em,
    level_patterns,
    match_probability,
    match_weights,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _engines import to_engine

# -- the kernel: EM, weights, probabilities ----------------------------------------------------


def _simulate_pairs(
    m: np.ndarray, u: np.ndarray, n_levels: list[int], prior: float, n: int, seed: int
) -> np.ndarray:
    """Pairs whose levels are drawn from m (matches) or u (non-matches), 10% missing."""
    rng = np.random.default_rng(seed)
    match = rng.random(n) < prior
    cols = []
    for f, k in enumerate(n_levels):
        cum_m, cum_u = np.cumsum(m[f, :k]), np.cumsum(u[f, :k])
        draw = rng.random(n)
        lev = np.where(match, np.searchsorted(cum_m, draw), np.searchsorted(cum_u, draw))
        lev = np.minimum(lev, k - 1)
        lev[rng.random(n) < 0.1] = -1
        cols.append(lev)
    return np.stack(cols, axis=1)


M_TRUE = np.array([[0.05, 0.15, 0.8], [0.1, 0.9, 0.0], [0.02, 0.08, 0.9], [0.2, 0.8, 0.0]])
U_TRUE = np.array([[0.9, 0.08, 0.02], [0.7, 0.3, 0.0], [0.95, 0.04, 0.01], [0.6, 0.4, 0.0]])
LEVELS = [3, 2, 3, 2]


def test_em_recovers_known_m_u_and_prior() -> None:
    gamma = _simulate_pairs(M_TRUE, U_TRUE, LEVELS, prior=0.2, n=200_000, seed=3)
    fit = fellegi_sunter_em(gamma, LEVELS)
    assert fit.converged
    assert fit.prior == pytest.approx(0.2, abs=0.01)
    np.testing.assert_allclose(fit.m, M_TRUE, atol=0.015)
    np.testing.assert_allclose(fit.u, U_TRUE, atol=0.015)
    # each field's probabilities sum to one over its own levels
    np.testing.assert_allclose(fit.m.sum(axis=1), 1.0)
    assert fit.m[1, 2] == 0.0 and fit.u[3, 2] == 0.0


def test_em_with_fixed_u_keeps_u_and_recovers_m() -> None:
    gamma = _simulate_pairs(M_TRUE, U_TRUE, LEVELS, prior=0.4, n=100_000, seed=4)
    fit = fellegi_sunter_em(gamma, LEVELS, u_start=U_TRUE, fix_u=True)
    np.testing.assert_allclose(fit.u, U_TRUE, atol=1e-8)
    np.testing.assert_allclose(fit.m, M_TRUE, atol=0.02)
    assert fit.prior == pytest.approx(0.4, abs=0.01)


def test_weights_add_as_log2_bayes_factors_on_a_hand_case() -> None:
    m = np.array([[0.1, 0.2, 0.7], [0.05, 0.95, 0.0]])
    u = np.array([[0.8, 0.15, 0.05], [0.9, 0.1, 0.0]])
    gamma = np.array([[2, 1], [1, 0], [0, -1]])
    w = match_weights(gamma, m, u)
    expected = np.array(
        [
            [np.log2(0.7 / 0.05), np.log2(0.95 / 0.1)],
            [np.log2(0.2 / 0.15), np.log2(0.05 / 0.9)],
            [np.log2(0.1 / 0.8), 0.0],
        ]
    )
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    # Bayes' rule: P(match | levels) = lam * prod m / (lam * prod m + (1 - lam) * prod u)
    lam = 0.01
    num = lam * 0.7 * 0.95
    p = match_probability(w.sum(axis=1), lam)
    assert p[0] == pytest.approx(num / (num + (1 - lam) * 0.05 * 0.1), rel=1e-12)
    assert p[2] == pytest.approx(lam * 0.1 / (lam * 0.1 + (1 - lam) * 0.8), rel=1e-12)


def test_missing_level_is_neutral_in_the_kernel() -> None:
    m = np.array([[0.1, 0.9], [0.3, 0.7]])
    u = np.array([[0.9, 0.1], [0.6, 0.4]])
    w = match_weights([[1, -1], [-1, -1]], m, u)
    assert w[0, 1] == 0.0 and w[1].tolist() == [0.0, 0.0]
    assert match_probability(w[1].sum(), 0.25) == pytest.approx(0.25)


def test_level_patterns_counts_each_distinct_row() -> None:
    gamma = np.array([[0, 1, -1], [0, 1, -1], [2, 0, 1], [0, 1, -1], [-1, -1, -1]])
    pats, counts = level_patterns(gamma, [3, 2, 2])
    got = {tuple(p): c for p, c in zip(pats.tolist(), counts.tolist(), strict=True)}
    assert got == {(0, 1, -1): 3, (2, 0, 1): 1, (-1, -1, -1): 1}


def test_kernel_rejects_bad_levels() -> None:
    with pytest.raises(ValueError, match="outside"):
        fellegi_sunter_em([[0, 3]], [2, 2])
    with pytest.raises(ValueError, match="at least 2"):
        fellegi_sunter_em([[0]], [1])
    with pytest.raises(ValueError, match="at least one pair"):
        fellegi_sunter_em(np.empty((0, 2), dtype=int), [2, 2])
    with pytest.raises(ValueError, match="prior"):
        match_probability([1.0], 1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-40, 40), min_size=2, max_size=20), st.floats(1e-6, 0.5))
def test_probability_rises_with_the_weight(weights: list[float], prior: float) -> None:
    w = np.sort(np.asarray(weights))
    p = match_probability(w, prior)
    assert np.all(np.diff(p) >= 0) and np.all((p >= 0) & (p <= 1))


# -- simulated person records -----------------------------------------------------------------

_GIVEN = [
    "anna",
    "ben",
    "carla",
    "david",
    "emma",
    "felix",
    "greta",
    "hugo",
    "ida",
    "jonas",
    "karin",
    "lars",
    "mia",
    "nils",
    "olga",
    "paul",
    "rosa",
    "sven",
    "tina",
    "ulf",
]
_SUR = [
    "berg",
    "dahl",
    "eklund",
    "falk",
    "holm",
    "isaksson",
    "jansson",
    "karlsson",
    "lind",
    "moberg",
    "nyberg",
    "olsson",
    "persson",
    "quist",
    "rydberg",
    "strand",
    "torn",
    "vik",
]


def _typo(values: pd.Series, rate: float, rng: np.random.Generator) -> pd.Series:
    """Replace one character of a share of the values by 'x' (vectorised)."""
    s = values.astype("string")
    hit = rng.random(len(s)) < rate
    pos = pd.Series((rng.random(len(s)) * s.str.len().fillna(1)).astype(int), index=s.index)
    out = [
        v if not h or v is pd.NA else v[:p] + "x" + v[p + 1 :]
        for v, h, p in zip(s.tolist(), hit, pos.tolist(), strict=True)
    ]  # test data only
    return pd.Series(out, index=s.index, dtype="string")


def simulate_people(n_people: int = 600, seed: int = 0) -> pd.DataFrame:
    """Originals plus one duplicate for 40% of the people, with typos and missing values."""
    rng = np.random.default_rng(seed)
    people = pd.DataFrame(
        {
            "person": np.arange(n_people),
            "given": rng.choice(_GIVEN, n_people),
            "surname": rng.choice(_SUR, n_people),
            "dob": pd.Series(
                pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 20000, n_people), "D")
            ).dt.strftime("%Y%m%d"),
            "zip": rng.integers(1000, 1100, n_people).astype(str),
        }
    )
    dup = people.sample(frac=0.4, random_state=seed).copy()
    for col, rate in (("given", 0.2), ("surname", 0.2), ("dob", 0.1), ("zip", 0.1)):
        dup[col] = _typo(dup[col], rate, rng)
    dup.loc[rng.random(len(dup)) < 0.1, "dob"] = None
    recs = pd.concat([people, dup], ignore_index=True)
    recs.insert(0, "rid", [f"r{k:04d}" for k in range(len(recs))])
    return recs


PEOPLE_COMPARISONS = [
    Comparison("given"),
    Comparison("surname"),
    Comparison("dob", method="levenshtein", thresholds=(2, 1)),
    Comparison("zip", method="levenshtein", thresholds=(1,)),
]
PEOPLE_BLOCKS = [("given", "surname"), "dob", "zip"]


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return simulate_people()


@pytest.fixture(scope="module")
def resolved(people: pd.DataFrame) -> ProbabilisticIdentityResult:
    return resolve_identities_probabilistic(
        people, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS
    )


def test_simulated_people_are_resolved(
    people: pd.DataFrame, resolved: ProbabilisticIdentityResult
) -> None:
    q = linkage_quality(resolved.records["customer_key"], people["person"])
    # measured: precision 1.0, recall 0.958 (seed 0; the misses have typos in most fields)
    assert q["precision"] > 0.98 and q["recall"] > 0.94
    assert resolved.n_customers == resolved.records["customer_key"].nunique()
    assert resolved.n_links == len(resolved.links)
    assert (resolved.links["match_probability"] >= 0.9).all()


def test_em_recovers_the_simulated_error_rates(resolved: ProbabilisticIdentityResult) -> None:
    par = resolved.parameters.set_index(["field", "level"])
    # 60% originals never match each other; a duplicate keeps its dob with prob. 0.9
    assert par.loc[("dob", "exact"), "m"] == pytest.approx(0.9, abs=0.04)
    assert par.loc[("given", "exact"), "m"] == pytest.approx(0.8, abs=0.05)
    # u of the exact level: the chance two random people share the value (1/20 names)
    assert par.loc[("given", "exact"), "u"] == pytest.approx(1 / 20, rel=0.15)
    assert par.loc[("surname", "exact"), "u"] == pytest.approx(1 / 18, rel=0.15)
    # 240 true pairs among 840 * 839 / 2
    assert resolved.prior == pytest.approx(240 / (840 * 839 / 2), rel=0.15)


def test_explanation_sums_to_the_total_weight(resolved: ProbabilisticIdentityResult) -> None:
    link = resolved.links.iloc[0]
    ex = resolved.explain(link["record_a"], link["record_b"])
    assert ex["field"].tolist() == ["prior", "given", "surname", "dob", "zip", "total"]
    assert ex["weight"].iloc[:-1].sum() == pytest.approx(ex["weight"].iloc[-1], abs=1e-9)
    assert ex["weight"].iloc[-1] == pytest.approx(link["match_weight"], abs=1e-9)
    assert ex["probability"].iloc[-1] == pytest.approx(link["match_probability"], rel=1e-9)
    fields = ex.iloc[1:-1]
    seen = fields[fields["level"] != "missing"]
    assert len(seen) >= 3
    np.testing.assert_allclose(seen["weight"], np.log2(seen["m"] / seen["u"]), rtol=1e-9)
    assert (fields.loc[fields["level"] == "missing", "weight"] == 0.0).all()
    weights = link[[f"weight_{f}" for f in ("given", "surname", "dob", "zip")]]
    np.testing.assert_allclose(fields["weight"].to_numpy(), weights.to_numpy(dtype=float))


def test_explain_any_pair_and_unknown_ids(resolved: ProbabilisticIdentityResult) -> None:
    ex = resolved.explain("r0000", "r0001")  # not linked: a low probability
    assert ex["probability"].iloc[-1] < 0.5
    with pytest.raises(ArgumentError, match="record_b='nope'"):
        resolved.explain("r0000", "nope")


def test_missing_value_gives_weight_zero(
    people: pd.DataFrame, resolved: ProbabilisticIdentityResult
) -> None:
    rid = people.loc[people["dob"].isna(), "rid"].iloc[0]
    ex = resolved.explain(rid, "r0000").set_index("field")
    assert ex.loc["dob", "level"] == "missing" and ex.loc["dob", "weight"] == 0.0
    assert np.isnan(ex.loc["dob", "m"])


def test_missing_value_is_neutral_end_to_end() -> None:
    # two records agree on the name; a third field is missing on one side: the pair's
    # probability equals the one without that field (same fitted m and u for the name)
    recs = simulate_people(300, seed=5)
    full = resolve_identities_probabilistic(
        recs, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS
    )
    rid = recs.loc[recs["dob"].isna(), "rid"].iloc[0]
    ex = full.explain(rid, "r0000").set_index("field")
    without = ex.drop(index=["dob", "total"])["weight"].sum()
    assert ex.loc["total", "weight"] == pytest.approx(without, abs=1e-12)


def test_the_callers_frame_is_not_changed_and_comes_back_whole(people: pd.DataFrame) -> None:
    before = people.copy()
    res = resolve_identities_probabilistic(
        people, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS
    )
    pd.testing.assert_frame_equal(people, before)
    assert list(res.to_frame().columns) == [*people.columns, "customer_key"]
    assert len(res.keys()) == len(people)


@pytest.mark.parametrize("engine", ["polars", "polars_lazy", "pyarrow", "duckdb"])
def test_engines_agree(
    engine: str, people: pd.DataFrame, resolved: ProbabilisticIdentityResult
) -> None:
    native = to_engine(people.astype({"person": "int64"}), engine)
    res = resolve_identities_probabilistic(
        native, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS
    )
    got = res.records.set_index("rid")["customer_key"].reindex(people["rid"]).to_numpy()
    assert np.array_equal(got, resolved.records["customer_key"].to_numpy())


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000))
def test_row_order_does_not_change_the_customers(seed: int) -> None:
    recs = simulate_people(120, seed=1)
    a = resolve_identities_probabilistic(
        recs, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS
    )
    shuffled = recs.sample(frac=1.0, random_state=seed)
    b = resolve_identities_probabilistic(
        shuffled, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS,
        n_random_pairs=10**6,
    )  # fmt: skip
    back = b.records.set_index("rid")["customer_key"].reindex(recs["rid"]).to_numpy()
    # all pairs are compared for u at this size, so the fit depends on the set only
    a_all = resolve_identities_probabilistic(
        recs, id_col="rid", comparisons=PEOPLE_COMPARISONS, block_cols=PEOPLE_BLOCKS,
        n_random_pairs=10**6,
    )  # fmt: skip
    assert np.array_equal(back, a_all.records["customer_key"].to_numpy())
    assert a.n_records == b.n_records


def test_plots(resolved: ProbabilisticIdentityResult) -> None:
    import matplotlib.pyplot as plt

    ax = resolved.plot()
    assert "pairs compared" in ax.get_title() and ax.get_lines()
    link = resolved.links.iloc[0]
    ax2 = resolved.plot(pair=(link["record_a"], link["record_b"]))
    labels = [t.get_text() for t in ax2.get_xticklabels()]
    assert labels == ["prior", "given", "surname", "dob", "zip", "total"]
    assert len(ax2.patches) == 6
    plt.close("all")


def test_repr_is_short(resolved: ProbabilisticIdentityResult) -> None:
    text = repr(resolved)
    assert text.startswith("ProbabilisticIdentityResult(") and len(text.splitlines()) < 8


# -- bad input ----------------------------------------------------------------------------------


def _call(recs: pd.DataFrame, **kw: object) -> ProbabilisticIdentityResult:
    args: dict[str, object] = {
        "id_col": "rid",
        "comparisons": ["given", "surname"],
        "block_cols": ["zip"],
    }
    args.update(kw)
    return resolve_identities_probabilistic(recs, **args)  # type: ignore[arg-type]


def test_missing_column_is_a_schema_error(people: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="email"):
        _call(people, comparisons=["email"])
    with pytest.raises(SchemaError, match="city"):
        _call(people, block_cols=["city"])


def test_duplicate_ids_are_a_data_error(people: pd.DataFrame) -> None:
    recs = people.copy()
    recs.loc[1, "rid"] = recs.loc[0, "rid"]
    with pytest.raises(DataError, match="2 rows"):
        _call(recs)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"comparisons": []}, "comparisons is empty"),
        ({"comparisons": [3]}, "comparisons must hold"),
        ({"comparisons": [{"column": "given", "method": "soundex"}]}, "Comparison.method"),
        ({"comparisons": [{"column": "given", "thresholds": (1.5,)}]}, r"\(0, 1\)"),
        ({"comparisons": [{"column": "zip", "method": "levenshtein", "thresholds": (0.5,)}]},
         "whole numbers"),
        ({"comparisons": [{"column": "zip", "method": "exact", "thresholds": (1,)}]},
         "no close levels"),
        ({"comparisons": [{"column": "given", "typo": 1}]}, "typo"),
        ({"comparisons": ["given", {"column": "given", "method": "exact"}]}, "same label"),
        ({"block_cols": []}, "block_cols is empty"),
        ({"block_cols": [()]}, "block_cols must hold"),
        ({"threshold_probability": 1.0}, "threshold_probability"),
        ({"threshold_probability": "high"}, "threshold_probability"),
        ({"max_block_size": 1}, "max_block_size"),
        ({"n_random_pairs": 10}, "n_random_pairs"),
    ],
)  # fmt: skip
def test_bad_arguments_are_argument_errors(
    people: pd.DataFrame, kw: dict[str, object], match: str
) -> None:
    with pytest.raises(ArgumentError, match=match):
        _call(people, **kw)


def test_no_shared_block_is_a_convergence_error() -> None:
    recs = pd.DataFrame({"rid": [1, 2, 3], "given": ["a", "b", "c"], "zip": ["1", "2", "3"]})
    with pytest.raises(ConvergenceError, match="no two records share a block"):
        _call(recs, comparisons=["given"])


def test_pseudo_count_keeps_unseen_levels_finite() -> None:
    # field 1 never takes level 0: without pseudo-counts m and u of that level sit at the
    # floor; with them they are the pseudo-count over each class's expected pairs
    rng = np.random.default_rng(8)
    match = rng.random(5000) < 0.3
    f0 = np.where(match, rng.random(5000) < 0.95, rng.random(5000) < 0.05).astype(int)
    gamma = np.stack([f0, np.ones(5000, dtype=int)], axis=1)
    mle = fellegi_sunter_em(gamma, [2, 2])
    smooth = fellegi_sunter_em(gamma, [2, 2], pseudo_count=1.0)
    assert mle.m[1, 0] < 1e-8 and mle.u[1, 0] < 1e-8
    n_match = smooth.prior * 5000
    assert smooth.m[1, 0] == pytest.approx(1.0 / (n_match + 2.0), rel=1e-3)
    assert smooth.u[1, 0] == pytest.approx(1.0 / (5000 - n_match + 2.0), rel=1e-3)
    with pytest.raises(ValueError, match="pseudo_count"):
        fellegi_sunter_em(gamma, [2, 2], pseudo_count=-1.0)


def test_email_and_phone_normalisation_before_comparing() -> None:
    recs = pd.DataFrame(
        {
            "rid": [1, 2, 3, 4],
            "zip": ["1", "1", "2", "2"],
            "phone": ["(555) 123-4567", "+1 555 123 4567", "555 999 0000", None],
            "email": ["Ann+x@Mail.org", "ann@mail.org", "bo@y.org", "BO@y.org "],
        }
    )
    res = resolve_identities_probabilistic(
        recs,
        id_col="rid",
        block_cols=["zip"],
        comparisons=[
            Comparison("phone", method="exact", normalize="phone"),
            Comparison("email", method="exact", normalize="email"),
        ],
    )
    ex = res.explain(1, 2).set_index("field")
    assert ex.loc["phone", "level"] == "exact" and ex.loc["email", "level"] == "exact"
    assert res.explain(3, 4).set_index("field").loc["phone", "level"] == "missing"
    with pytest.raises(ArgumentError, match=r"Comparison\.normalize"):
        Comparison("phone", normalize="digits")
    with pytest.raises(ArgumentError, match="reads one column"):
        Comparison(("a", "b"), normalize="email")
