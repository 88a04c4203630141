from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmmodels.datasets._survey import simulate_survey
from crmmodels.errors import DataError, SchemaError
from crmmodels.quality import cronbach_alpha, relationship_quality

from _engines import to_engine


def _items(n: int = 120, k: int = 5, seed: int = 0, nan_share: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.clip(np.round(4 + 1.3 * rng.normal(size=(n, 1)) + rng.normal(size=(n, k))), 1, 7)
    x[rng.random(x.shape) < nan_share] = np.nan
    return pd.DataFrame(x, columns=[f"q{j}" for j in range(k)])


# ------------------------------------------------------------------ cronbach_alpha vs pingouin


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_pingouin(policy: str, seed: int) -> None:
    df = _items(seed=seed)
    res = cronbach_alpha(df, nan_policy=policy)  # type: ignore[arg-type]
    ref_alpha, ref_ci = pg.cronbach_alpha(df, nan_policy=policy)
    assert res.alpha == pytest.approx(ref_alpha, abs=1e-10)
    # pingouin rounds its interval to 3 decimals
    np.testing.assert_allclose(res.ci, ref_ci, atol=5e-4 + 1e-12)
    # unrounded interval: pingouin's formula written out here
    n = len(df)  # pingouin's convention for both policies
    k = df.shape[1]
    from scipy.stats import f

    lo = 1 - (1 - ref_alpha) * f.isf(0.025, n - 1, (n - 1) * (k - 1))
    hi = 1 - (1 - ref_alpha) * f.isf(0.975, n - 1, (n - 1) * (k - 1))
    np.testing.assert_allclose(res.ci, (lo, hi), atol=1e-10)


def test_alpha_ci_level_and_complete_data() -> None:
    df = _items(nan_share=0.0)
    res = cronbach_alpha(df, ci=0.9)
    ref_alpha, ref_ci = pg.cronbach_alpha(df, ci=0.9)
    assert res.alpha == pytest.approx(ref_alpha, abs=1e-10)
    np.testing.assert_allclose(res.ci, ref_ci, atol=5e-4 + 1e-12)
    assert res.n == len(df) and res.n_items == 5


def test_alpha_item_table_matches_pandas() -> None:
    df = _items(nan_share=0.0)
    res = cronbach_alpha(df)
    for c in df.columns:
        rest = df.drop(columns=c)
        r = np.corrcoef(df[c], rest.sum(axis=1))[0, 1]
        assert res.items.loc[c, "item_total_corr"] == pytest.approx(r, abs=1e-12)
        assert res.items.loc[c, "alpha_if_deleted"] == pytest.approx(
            pg.cronbach_alpha(rest)[0], abs=1e-10
        )
    assert res.to_frame().shape == (5, 5)


@pytest.mark.parametrize("engine", ["polars_lazy", "pyarrow", "duckdb"])
def test_alpha_accepts_arrays_and_engines(engine: str) -> None:
    df = _items(nan_share=0.0)
    a = cronbach_alpha(df).alpha
    assert cronbach_alpha(df.to_numpy()).alpha == pytest.approx(a, abs=1e-12)
    assert cronbach_alpha(to_engine(df, engine)).alpha == pytest.approx(a, abs=1e-12)


def test_alpha_bad_input() -> None:
    with pytest.raises(SchemaError, match="at least two items"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(SchemaError, match="'b' must hold numeric"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
    with pytest.raises(DataError, match="nan_policy"):
        cronbach_alpha(_items(), nan_policy="drop")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="ci must"):
        cronbach_alpha(_items(), ci=95)
    with pytest.raises(DataError, match="at least two respondents"):
        cronbach_alpha(
            pd.DataFrame({"a": [1.0, np.nan], "b": [np.nan, 2.0]}), nan_policy="listwise"
        )
    with pytest.raises(DataError, match="infinite"):
        cronbach_alpha(pd.DataFrame({"a": [1.0, np.inf, 2.0], "b": [1.0, 2.0, 3.0]}))


@settings(max_examples=40)
@given(st.lists(st.lists(st.integers(1, 7), min_size=3, max_size=3), min_size=4, max_size=25))
@example(rows=[[1, 2, 4], [1, 2, 4], [1, 3, 3], [4, 1, 2]])  # every total is 7
def test_alpha_at_most_one_and_row_order_free(rows: list[list[int]]) -> None:
    df = pd.DataFrame(np.array(rows, dtype=float), columns=["a", "b", "c"])
    if (df.std() == 0).any():
        return
    try:
        res = cronbach_alpha(df)
    except DataError:
        return
    assert res.alpha <= 1.0 + 1e-12
    shuffled = cronbach_alpha(df.iloc[::-1])
    assert shuffled.alpha == pytest.approx(res.alpha, abs=1e-10)


# ------------------------------------------------------------------ relationship_quality


def _rq(sim, **kw):  # type: ignore[no-untyped-def]
    return relationship_quality(
        sim.survey,
        constructs=sim.constructs,
        reverse=sim.reverse,
        respondent_col="respondent_id",
        side_col="side",
        relationship_col="relationship_id",
        **kw,
    )


def test_scores_by_hand() -> None:
    survey = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "t1": [7.0, 4.0, 2.0],
            "t2": [1.0, np.nan, 6.0],  # reverse-coded
            "s1": [5.0, 3.0, np.nan],
            "s2": [6.0, 3.0, np.nan],
        }
    )
    res = relationship_quality(
        survey,
        constructs={"trust": ["t1", "t2"], "sat": ["s1", "s2"]},
        reverse=["t2"],
        weights={"trust": 3, "sat": 1},
        respondent_col="id",
    )
    sc = res.scores.set_index("id")
    # trust: reversed t2 = 8 - t2
    assert sc.loc[1, "trust"] == pytest.approx((7 + 7) / 2)
    assert sc.loc[2, "trust"] == pytest.approx(4.0)  # one of two answered: 50% >= 50%
    assert sc.loc[3, "trust"] == pytest.approx((2 + 2) / 2)
    assert sc.loc[1, "sat"] == pytest.approx(5.5)
    assert np.isnan(sc.loc[3, "sat"])
    assert sc.loc[1, "rq_index"] == pytest.approx(0.75 * 7 + 0.25 * 5.5)
    assert np.isnan(sc.loc[3, "rq_index"])
    assert res.n_index_missing == 1
    assert res.reliability.loc["sat", "n_unscored"] == 1
    assert res.reliability.loc["trust", "weight"] == pytest.approx(0.75)
    strict = relationship_quality(
        survey,
        constructs={"trust": ["t1", "t2"], "sat": ["s1", "s2"]},
        reverse=["t2"],
        min_answered=1.0,
    )
    assert np.isnan(strict.scores.loc[1, "trust"])


def test_reliability_matches_pingouin_per_construct() -> None:
    sim = simulate_survey(150, seed=4, missing_rate=0.05)
    res = _rq(sim)
    data = sim.survey.copy()
    for item in sim.reverse:
        data[item] = 8 - data[item]
    for c, items in sim.constructs.items():
        for policy in ("pairwise", "listwise"):
            ref = pg.cronbach_alpha(data[list(items)], nan_policy=policy)[0]
            got = res if policy == "pairwise" else _rq(sim, nan_policy="listwise")
            assert got.reliability.loc[c, "alpha"] == pytest.approx(ref, abs=1e-10)


def test_reliability_high_when_loadings_high_and_low_when_low() -> None:
    high = _rq(simulate_survey(400, loadings=0.85, seed=1))
    low = _rq(simulate_survey(400, loadings=0.35, seed=1))
    assert (high.reliability["alpha"] > 0.85).all()
    assert (low.reliability["alpha"] < 0.55).all()
    assert (high.reliability["ave"] > 0.5).all()
    assert (low.reliability["ave"] < 0.25).all()
    # population composite reliability of the latent responses is an upper bound nearby
    sim = simulate_survey(1500, loadings=0.8, seed=2)
    res = _rq(sim)
    np.testing.assert_allclose(res.reliability["composite_reliability"], sim.reliability, atol=0.06)
    np.testing.assert_allclose(res.items["loading"], sim.loadings, atol=0.08)


def test_htmt_shows_discriminant_validity() -> None:
    res = _rq(simulate_survey(600, construct_correlation=0.3, seed=3))
    off = res.htmt.to_numpy()[~np.eye(3, dtype=bool)]
    assert np.all(off < 0.5)
    assert np.allclose(res.htmt.to_numpy(), res.htmt.to_numpy().T, equal_nan=True)
    close = _rq(simulate_survey(600, construct_correlation=0.95, seed=3))
    assert np.nanmin(close.htmt.to_numpy()) > 0.85


def test_reverse_items_flip_item_total_sign() -> None:
    sim = simulate_survey(300, seed=5)
    wrong = relationship_quality(sim.survey, constructs=sim.constructs)
    right = relationship_quality(sim.survey, constructs=sim.constructs, reverse=sim.reverse)
    for item in sim.reverse:
        assert wrong.items.loc[item, "item_total_corr"] < 0
        assert right.items.loc[item, "item_total_corr"] > 0.5
        assert bool(right.items.loc[item, "reversed"])


def test_dyadic_gap_recovers_truth() -> None:
    sim = simulate_survey(1500, seed=6)
    res = _rq(sim)
    assert res.sides == ("customer", "company")
    assert res.n_unpaired == 0
    mean_gap = res.dyadic.groupby("construct")["gap"].mean()
    truth = sim.expected_scores.loc["customer"] - sim.expected_scores.loc["company"]
    for c in sim.constructs:
        assert mean_gap[c] == pytest.approx(truth[c], abs=0.08)
    top = res.largest_gaps(5)
    assert len(top) == 5
    assert top["max_abs_gap"].is_monotonic_decreasing
    rel = top.index[0]
    d = res.dyadic[(res.dyadic["relationship"] == rel) & (res.dyadic["construct"] != "rq_index")]
    assert d["abs_gap"].max() == pytest.approx(top["max_abs_gap"].iloc[0])


def test_dyadic_by_hand_with_unpaired() -> None:
    survey = pd.DataFrame(
        {
            "rel": [1, 1, 2, 3, 3, 3],
            "who": ["customer", "company", "customer", "company", "customer", "company"],
            "a1": [5.0, 3.0, 4.0, 6.0, 2.0, 4.0],
            "a2": [5.0, 3.0, 4.0, 6.0, 2.0, 4.0],
        }
    )
    res = relationship_quality(
        survey, constructs={"a": ["a1", "a2"]}, side_col="who", relationship_col="rel"
    )
    d = res.dyadic[res.dyadic["construct"] == "a"].set_index("relationship")
    assert d.loc[1, "gap"] == pytest.approx(2.0)
    assert np.isnan(d.loc[2, "gap"])
    assert d.loc[3, "company"] == pytest.approx(5.0)  # two company raters averaged
    assert d.loc[3, "gap"] == pytest.approx(-3.0)
    assert res.n_unpaired == 1


def test_default_constructs_by_prefix_and_row_order() -> None:
    sim = simulate_survey(80, sides=False, seed=7)
    res = relationship_quality(sim.survey, reverse=sim.reverse, respondent_col="respondent_id")
    assert list(res.reliability.index) == ["trust", "satisfaction", "commitment"]
    shuffled = sim.survey.sample(frac=1.0, random_state=1)
    res2 = relationship_quality(shuffled, reverse=sim.reverse, respondent_col="respondent_id")
    pd.testing.assert_frame_equal(res.reliability, res2.reliability, atol=1e-10)
    pd.testing.assert_frame_equal(
        res.scores.sort_values("respondent_id").reset_index(drop=True),
        res2.scores.sort_values("respondent_id").reset_index(drop=True),
    )


def test_input_not_mutated() -> None:
    sim = simulate_survey(40, seed=8, missing_rate=0.1)
    before = sim.survey.copy()
    _rq(sim)
    pd.testing.assert_frame_equal(sim.survey, before)


def test_bad_input() -> None:
    sim = simulate_survey(30, sides=False, seed=9)
    s = sim.survey
    c = sim.constructs
    with pytest.raises(DataError, match=r"'trust_1' is outside the scale \[1, 5\]"):
        relationship_quality(s, constructs=c, scale=(1, 5))
    bad = s.copy()
    bad["trust_2"] = bad["trust_2"].astype(str)
    with pytest.raises(SchemaError, match="'trust_2' must hold numeric"):
        relationship_quality(bad, constructs=c)
    with pytest.raises(SchemaError, match="'trust_1' is listed in 'trust' and in construct 'x'"):
        relationship_quality(s, constructs={**c, "x": ["trust_1", "satisfaction_1"]})
    with pytest.raises(SchemaError, match="no column 'trust_9'"):
        relationship_quality(s, constructs={"trust": ["trust_1", "trust_9"]})
    with pytest.raises(SchemaError, match="needs at least two items"):
        relationship_quality(s, constructs={"trust": ["trust_1"]})
    with pytest.raises(SchemaError, match="reverse items"):
        relationship_quality(s, constructs=c, reverse=["nope"])
    with pytest.raises(SchemaError, match="weights name unknown"):
        relationship_quality(s, constructs=c, weights={"loyalty": 1.0})
    with pytest.raises(DataError, match="min_answered"):
        relationship_quality(s, constructs=c, min_answered=0)
    with pytest.raises(SchemaError, match="relationship_col"):
        relationship_quality(s, constructs=c, side_col="trust_1")
    three = s.assign(side=np.resize(["a", "b", "c"], len(s)), rel=np.arange(len(s)) // 2)
    with pytest.raises(DataError, match="exactly two sides"):
        relationship_quality(three, constructs=c, side_col="side", relationship_col="rel")
    with pytest.raises(DataError, match="kind must be"):
        relationship_quality(s, constructs=c).plot(kind="pie")


def test_plots() -> None:
    res = _rq(simulate_survey(40, seed=10))
    assert res.plot().get_ylabel() == "mean score"
    ax = res.plot(kind="items")
    assert len(ax.get_yticklabels()) == 12
    assert res.plot(kind="gap").get_xlabel() == "mean score"
    one_side = relationship_quality(simulate_survey(20, sides=False).survey)
    with pytest.raises(DataError):
        one_side.plot(kind="gap")
    with pytest.raises(DataError):
        one_side.largest_gaps()
    assert "RelationshipQualityResult" in repr(res)
    assert "<table>" in res._repr_html_()


def test_relationship_quality_engines(engine: str) -> None:
    sim = simulate_survey(30, seed=11, missing_rate=0.05)
    ref = _rq(sim)
    native = to_engine(sim.survey, engine)
    got = relationship_quality(
        native,
        constructs=sim.constructs,
        reverse=sim.reverse,
        respondent_col="respondent_id",
        side_col="side",
        relationship_col="relationship_id",
    )
    order = got.scores.sort_values("respondent_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(order, ref.scores, check_dtype=False, atol=1e-12)
    pd.testing.assert_frame_equal(got.reliability, ref.reliability, atol=1e-10)


def test_cronbach_alpha_on_frame_with_integer_column_labels() -> None:
    items = _items(nan_share=0.0)
    unnamed = pd.DataFrame(items.to_numpy())  # columns 0, 1, 2, ...
    a = cronbach_alpha(unnamed)
    b = cronbach_alpha(items)
    assert a.alpha == pytest.approx(b.alpha, abs=1e-12)
    assert a.ci == pytest.approx(b.ci, abs=1e-12)
    ref = pg.cronbach_alpha(data=items)
    assert a.alpha == pytest.approx(ref[0], abs=1e-9)


def test_cronbach_alpha_constant_items_raise_without_warning() -> None:
    # filterwarnings=error turns any numpy RuntimeWarning into a failure here.
    with pytest.raises(DataError, match="every item constant"):
        cronbach_alpha(pd.DataFrame({"a": [3, 3, 3], "b": [3, 3, 3]}))


def test_item_without_any_answer_is_an_error() -> None:
    items = _items(nan_share=0.0).assign(q2=np.nan)
    with pytest.raises(DataError, match="1 item\\(s\\) have no answer at all \\(first: 'q2'\\)"):
        cronbach_alpha(items)
    sim = simulate_survey(40, seed=0)
    first = next(iter(sim.constructs.values()))[0]
    with pytest.raises(DataError, match=f"first: '{first}'"):
        relationship_quality(
            sim.survey.assign(**{first: np.nan}), constructs=sim.constructs, reverse=sim.reverse
        )


def test_alpha_of_items_that_cancel_out_is_refused() -> None:
    # Rounding leaves a total variance of ~1e-16 here; alpha used to come out as 5e16.
    rows = pd.DataFrame([[1, 2, 4], [1, 2, 4], [1, 3, 3], [4, 1, 2]], columns=["a", "b", "c"])
    with pytest.raises(DataError, match="total score that varies"):
        cronbach_alpha(rows)
