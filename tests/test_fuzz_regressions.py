"""Regressions found by fuzzing bad input to the basket, scorecard, funnel, IDIC,
portfolio, quality and RFM functions: every case gets our own error (naming the argument
or column, with a count and an example) or a correct, finite result."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

import crmmodels as crm
from crmmodels.basket import RULE_METRICS
from crmmodels.datasets import simulate_baskets
from crmmodels.errors import ArgumentError, DataError

SRC = str(Path(crm.__file__).resolve().parents[1])


# ------------------------------------------------------------------ 1. itemsets from CSV


def _rules_by_pair(rules: pd.DataFrame) -> pd.DataFrame:
    key = rules.assign(
        a=rules["antecedents"].map(lambda s: str(sorted(s))),
        c=rules["consequents"].map(lambda s: str(sorted(s))),
    )
    return key.sort_values(["a", "c"]).reset_index(drop=True)


@pytest.mark.parametrize("as_int", [False, True], ids=["text-items", "integer-items"])
def test_association_rules_reads_itemsets_back_from_csv(as_int: bool) -> None:
    b = simulate_baskets(300, 20, seed=0).transactions
    if as_int:
        b = b.assign(item=b["item"].str[5:].astype(int))
    fi = crm.frequent_itemsets(b, basket_col="basket_id", item_col="item", min_support=0.02)
    back = pd.read_csv(io.StringIO(fi.to_frame().to_csv(index=False)))
    got = _rules_by_pair(crm.association_rules(back, min_threshold=0).to_frame())
    want = _rules_by_pair(crm.association_rules(fi, min_threshold=0).to_frame())
    assert len(got) == len(want) > 0
    assert got["antecedents"].tolist() == want["antecedents"].tolist()
    assert got["consequents"].tolist() == want["consequents"].tolist()
    metrics = list(RULE_METRICS)
    np.testing.assert_allclose(got[metrics].to_numpy(), want[metrics].to_numpy(), rtol=1e-9)


def test_association_rules_csv_round_trip_under_a_memory_cap() -> None:
    # the old code took each string as a set of characters: 4.4 GB, MemoryError
    script = textwrap.dedent(
        """
        import io, resource
        resource.setrlimit(resource.RLIMIT_AS, (1500 * 2**20, resource.RLIM_INFINITY))
        import pandas as pd, crmmodels as crm
        from crmmodels.datasets import simulate_baskets
        b = simulate_baskets(300, 20, seed=0).transactions
        fi = crm.frequent_itemsets(b, basket_col="basket_id", item_col="item",
                                   min_support=0.02)
        back = pd.read_csv(io.StringIO(fi.to_frame().to_csv(index=False)))
        print(crm.association_rules(back, min_threshold=0).n_rules)
        """
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) > 0


def test_itemset_text_with_numpy_scalars_is_parsed() -> None:
    fi = pd.DataFrame(
        {
            "itemsets": [
                "frozenset({np.int64(1)})",
                "frozenset({np.int64(2)})",
                "frozenset({np.int64(1), np.int64(2)})",
            ],
            "support": [0.5, 0.5, 0.5],
        }
    )
    rules = crm.association_rules(fi, min_threshold=0).to_frame()
    assert rules["antecedents"].tolist() == [frozenset({1}), frozenset({2})]


@pytest.mark.parametrize(
    "value",
    ["abc", "__import__('os').getcwd()", "frozenset({len('ab')})", 5, None],
    ids=["plain-text", "call", "call-inside", "number", "missing"],
)
def test_text_that_is_not_an_itemset_is_refused(value: object) -> None:
    fi = pd.DataFrame({"itemsets": [value, "frozenset({'a'})"], "support": [0.5, 0.5]})
    with pytest.raises(DataError, match=r"column 'itemsets' is not an itemset in 1 row"):
        crm.association_rules(fi, min_threshold=0)


@pytest.mark.parametrize("support", [np.nan, 0.0, 1.5, -0.1])
def test_itemsets_support_outside_zero_one_is_refused(support: float) -> None:
    fi = pd.DataFrame({"itemsets": [frozenset({"a"})], "support": [support]})
    with pytest.raises(DataError, match=r"column 'support' .* in 1 row"):
        crm.association_rules(fi, min_threshold=0)


def test_cross_sell_reads_rules_back_from_csv() -> None:
    b = simulate_baskets(300, 20, seed=0).transactions
    rules = crm.association_rules(
        b, basket_col="basket_id", item_col="item", min_support=0.02, min_threshold=0.1
    )
    back = pd.read_csv(io.StringIO(rules.to_frame().to_csv(index=False)))
    got = crm.cross_sell(b, back).suggestions
    want = crm.cross_sell(b, rules).suggestions
    pd.testing.assert_frame_equal(got, want)


# ------------------------------------------------------------------ 4. basket arguments

_LOG = pd.DataFrame({"o": [1, 1, 2, 2, 3], "i": ["a", "b", "a", "b", "a"]})
_LOG_KW = {"basket_col": "o", "item_col": "i"}


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (
            lambda: crm.association_rules(_LOG, **_LOG_KW, min_support=0.5, min_threshold="x"),
            "min_threshold",
        ),
        (lambda: crm.association_rules(_LOG, **_LOG_KW, min_support=0.5, metric="lifts"), "metric"),
        (
            lambda: crm.association_rules(_LOG, **_LOG_KW, min_support=0.5, filters={"lift": "1"}),
            r"filters\['lift'\]",
        ),
        (lambda: crm.association_rules(_LOG, **_LOG_KW, min_support="0.5"), "min_support"),
        (lambda: crm.frequent_itemsets(_LOG, **_LOG_KW, min_support=0.5, max_len=0), "max_len"),
        (lambda: crm.bundle_candidates(_LOG, **_LOG_KW, min_support=0.5, min_lift="x"), "min_lift"),
        (lambda: crm.bundle_candidates(_LOG, **_LOG_KW, min_support=0.5, top_n=0), "top_n"),
        (lambda: crm.cross_sell(_LOG, pd.DataFrame(), top_n=1.5), "top_n"),
        (
            lambda: crm.association_rules_by_segment(
                _LOG.assign(s=1), segment_col="s", **_LOG_KW, min_support=0.5, min_threshold=None
            ),
            "min_threshold",
        ),
    ],
)
def test_basket_arguments_raise_argument_error(call: object, argument: str) -> None:
    with pytest.raises(ArgumentError, match=argument):
        call()  # type: ignore[operator]


# ------------------------------------------------------------------ 2. amounts


def _tx(amounts: list[float], engine: str) -> object:
    data = {
        "customer_id": [1, 2, 1, 3],
        "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-10"]),
        "amount": amounts,
    }
    if engine == "polars":  # built natively: NaN stays NaN (not null) in polars
        return pl.DataFrame(data)
    return pd.DataFrame(data)


@pytest.mark.parametrize("engine", ["pandas", "polars"])
@pytest.mark.parametrize(
    ("bad", "problem"),
    [(float("nan"), "missing"), (float("inf"), "infinite"), (-5.0, "negative")],
)
def test_kpi_scorecard_refuses_bad_amounts(engine: str, bad: float, problem: str) -> None:
    tx = _tx([10.0, bad, 15.0, 5.0], engine)
    msg = rf"column 'amount' is {problem}.* in 1 row \(first example: 'customer_id=2'\)"
    with pytest.raises(DataError, match=msg):
        crm.kpi_scorecard(tx)


def test_kpi_scorecard_allow_negative_nets_refunds() -> None:
    sc = crm.kpi_scorecard(_tx([10.0, -5.0, 15.0, 5.0], "polars"), allow_negative=True)
    assert sc.kpis["revenue"].tolist() == [5.0, 20.0]


def _deals(amounts: list[float], engine: str = "pandas") -> object:
    data = {
        "entity_id": [1, 1, 2, 2],
        "stage": ["lead_generation", "closed_won", "lead_generation", "closed_won"],
        "entered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09"]),
        "amount": amounts,
    }
    return pl.DataFrame(data) if engine == "polars" else pd.DataFrame(data)


@pytest.mark.parametrize("engine", ["pandas", "polars"])
@pytest.mark.parametrize(
    ("bad", "problem"),
    [(float("nan"), "missing"), (float("inf"), "infinite"), (-1.0, "negative")],
)
def test_funnel_refuses_bad_deal_amounts(engine: str, bad: float, problem: str) -> None:
    deals = _deals([100.0, 100.0, bad, 50.0], engine)
    msg = rf"column 'amount' is {problem}.* in 1 row \(first example: 'entity_id=2'\)"
    with pytest.raises(DataError, match=msg):
        crm.funnel_metrics(deals, stages=["lead_generation", "closed_won"], amount_col="amount")


@pytest.mark.parametrize("as_of", [pd.NaT, None, "garbage", float("nan"), 3, True])
def test_funnel_as_of_must_be_a_date(as_of: object) -> None:
    deals = _deals([100.0, 100.0, 50.0, 50.0])
    if as_of is None:  # None is the default (the last event), and fine
        crm.funnel_metrics(deals, stages=["lead_generation", "closed_won"], observation_end=as_of)
        return
    with pytest.raises(ArgumentError, match="observation_end must be a date"):
        crm.funnel_metrics(deals, stages=["lead_generation", "closed_won"], observation_end=as_of)


@pytest.mark.parametrize("as_of", [float("nan"), float("inf"), "x"])
def test_funnel_as_of_must_be_finite_for_numeric_times(as_of: object) -> None:
    deals = pd.DataFrame(
        {"entity_id": [1, 1], "stage": ["lead_generation", "closed_won"], "entered_at": [0, 3]}
    )
    with pytest.raises(ArgumentError, match="observation_end must be a finite number"):
        crm.funnel_metrics(deals, stages=["lead_generation", "closed_won"], observation_end=as_of)


@pytest.mark.parametrize("engine", ["pandas", "polars"])
@pytest.mark.parametrize(
    ("bad", "problem"),
    [(float("nan"), "missing"), (float("inf"), "infinite"), (-1.0, "negative")],
)
def test_differentiate_refuses_bad_amounts(engine: str, bad: float, problem: str) -> None:
    data = {
        "customer_id": [1, 1, 2, 3, 3, 4],
        "category": ["a", "b", "b", "a", "a", "b"],
        "amount": [bad, 5.0, 20.0, 30.0, 1.0, 8.0],
    }
    p = pl.DataFrame(data) if engine == "polars" else pd.DataFrame(data)
    msg = rf"column 'amount' is {problem}.* in 1 row \(first example: 'customer_id=1'\)"
    with pytest.raises(DataError, match=msg):
        crm.idic.differentiate(p, k=2)


def test_differentiate_allow_negative_nets_returns() -> None:
    p = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3, 4],
            "category": ["a", "a", "b", "a", "b", "b"],
            "amount": [10.0, -4.0, 20.0, 30.0, 1.0, 8.0],
        }
    )
    res = crm.idic.differentiate(p, k=2, allow_negative=True)
    assert res.customers.set_index("customer_id")["value"].loc[1] == 6.0


# ------------------------------------------------------------------ 3. portfolio extremes


def _shares_finite(r: object) -> None:
    for name in ("gini", "hhi", "hhi_normalized", "top_share", "customer_share_for_value"):
        assert np.isfinite(getattr(r, name)), name
    assert np.isfinite(r.classes["cumulative_share"]).all()  # type: ignore[attr-defined]


def test_pareto_two_huge_customers_have_finite_shares() -> None:
    with np.errstate(all="raise"):  # no overflow on the way either
        r = crm.pareto_analysis(np.array([1e308, 1e308]))
    _shares_finite(r)
    assert r.gini == 0.0
    assert r.hhi == pytest.approx(0.5)
    assert r.class_counts == (2, 0, 0)
    assert r.total_value == np.inf  # the true total, 2e308, is beyond the float range


def test_pareto_huge_values_match_the_scaled_down_analysis() -> None:
    values = np.array([8e307, 5e307, 2e307, 1e307, 1e300])
    with np.errstate(all="raise"):
        big = crm.pareto_analysis(values)
    small = crm.pareto_analysis(values / 1e300)
    _shares_finite(big)
    for name in ("gini", "hhi", "hhi_normalized", "top_share", "customer_share_for_value"):
        assert getattr(big, name) == pytest.approx(getattr(small, name), rel=1e-12)
    assert big.total_value == pytest.approx(values.sum())
    np.testing.assert_allclose(
        big.classes["cumulative_share"], small.classes["cumulative_share"], rtol=1e-12
    )


def test_pareto_trend_with_huge_values() -> None:
    data = pd.DataFrame(
        {"customer_id": [1, 2, 1, 2], "period": [1, 1, 2, 2], "value": [1e308, 1e308, 3.0, 1.0]}
    )
    r = crm.pareto_analysis(
        data, amount_col="value", customer_col="customer_id", period_col="period"
    )
    assert r.trend is not None
    assert r.trend["gini"].tolist() == [0.0, 0.25]


# ------------------------------------------------------------------ 4. scalar arguments

_RECORDS = pd.DataFrame({"id": [1, 2], "name": ["Ann Lee", "Ann Lee"]})
_PURCHASES = pd.DataFrame(
    {
        "customer_id": [1, 1, 2, 3, 3, 4],
        "category": ["a", "b", "b", "a", "a", "b"],
        "amount": [10.0, 5.0, 20.0, 30.0, 1.0, 8.0],
    }
)
_CONTACTS = pd.DataFrame(
    {
        "customer_id": [1, 1, 2],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
        "channel": ["email", "phone", "email"],
        "responded": [1, 0, 1],
    }
)
_ITEMS = pd.DataFrame(np.random.default_rng(0).integers(1, 6, (20, 3)), columns=list("abc"))
_SURVEY = pd.DataFrame(
    {
        "r": range(6),
        "side": ["a", "b", "c", "a", "b", "c"],
        "rel": [1, 1, 1, 2, 2, 2],
        "q1": [1, 2, 3, 4, 5, 6],
        "q2": [2, 3, 4, 5, 7, 6],
    }
)
_PRICES = pd.DataFrame({"price": [1.0, 2.0, 3.0], "quantity": [30.0, 20.0, 10.0]})


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (
            lambda: crm.idic.resolve_identities(
                _RECORDS, id_col="id", name_cols=["name"], fuzzy=True, fuzzy_threshold=150
            ),
            "fuzzy_threshold",
        ),
        (
            lambda: crm.idic.resolve_identities(_RECORDS, id_col="id", name_cols=["name"], fuzzy=1),
            "fuzzy",
        ),
        (
            lambda: crm.idic.resolve_identities(
                _RECORDS, id_col="id", exact_cols=["name"], max_block_size=0
            ),
            "max_block_size",
        ),
        (
            lambda: crm.idic.resolve_identities(
                _RECORDS, id_col="id", exact_cols=["name"], fuzzy_rule="max"
            ),
            "fuzzy_rule",
        ),
        (lambda: crm.idic.resolve_identities(_RECORDS, id_col="id", exact_cols=[3]), "exact_cols"),
        (lambda: crm.idic.differentiate(_PURCHASES, k=0), "k must"),
        (lambda: crm.idic.differentiate(_PURCHASES, k_range=[]), "k_range"),
        (lambda: crm.idic.differentiate(_PURCHASES, k=2, seed=-1), "seed"),
        (lambda: crm.idic.interaction_profile(_CONTACTS, coverage_days=-1), "coverage_days"),
        (lambda: crm.idic.interaction_profile(_CONTACTS, coverage_days=1.5), "coverage_days"),
        (
            lambda: crm.idic.interaction_profile(_CONTACTS, observation_end="garbage"),
            "observation_end",
        ),
        (
            lambda: crm.idic.interaction_profile(_CONTACTS, observation_end=pd.NaT),
            "observation_end",
        ),
        (lambda: crm.idic.interaction_profile(_CONTACTS, strategic="abc"), "strategic"),
        (
            lambda: crm.idic.customize(_PURCHASES, [], allow_unknown_values="yes"),
            "allow_unknown_values",
        ),
        (lambda: crm.cronbach_alpha(_ITEMS, ci="x"), "ci"),
        (lambda: crm.cronbach_alpha(_ITEMS, ci=1.0), "ci"),
        (lambda: crm.cronbach_alpha(_ITEMS, nan_policy="drop"), "nan_policy"),
        (
            lambda: crm.relationship_quality(
                _SURVEY,
                constructs={"t": ["q1", "q2"]},
                respondent_col="r",
                side_col="side",
                relationship_col="rel",
                scale=(1, 7),
            ),
            "side_col",
        ),
        (
            lambda: crm.relationship_quality(
                _SURVEY, constructs={"t": ["q1", "q2"]}, scale=("1", 7)
            ),
            "scale",
        ),
        (
            lambda: crm.relationship_quality(
                _SURVEY, constructs={"t": ["q1", "q2"]}, scale=(1, 7), min_answered="half"
            ),
            "min_answered",
        ),
        (
            lambda: crm.relationship_quality(
                _SURVEY, constructs={"t": ["q1", "q2"]}, scale=(1, 7), weights={"t": "1"}
            ),
            r"weights\['t'\]",
        ),
        (lambda: crm.pareto_analysis([1.0, 2.0], top="0.2"), "top"),
        (lambda: crm.pareto_analysis([1.0, 2.0], value_share=float("nan")), "value_share"),
        (lambda: crm.pareto_analysis([1.0, 2.0], abc=0.8), "abc"),
        (lambda: crm.pareto_analysis([1.0, 2.0], gini="mean"), "gini"),
        (lambda: crm.price_elasticity(_PRICES, ci="x"), "ci"),
        (lambda: crm.price_elasticity(_PRICES, group_col=5), "group_col"),
        (lambda: crm.van_westendorp([1], [2], [3], [4], interpolate="no"), "interpolate"),
        (lambda: crm.kpi_scorecard(_tx([1.0, 2.0, 3.0, 4.0], "pandas"), period="X"), "period"),
        (
            lambda: crm.kpi_scorecard(_tx([1.0, 2.0, 3.0, 4.0], "pandas"), allow_negative=1),
            "allow_negative",
        ),
        (lambda: crm.kpi_scorecard(_tx([1.0, 2.0, 3.0, 4.0], "pandas"), order_col=""), "order_col"),
        (lambda: crm.funnel_metrics(_deals([1.0, 1.0, 1.0, 1.0]), mode="strict"), "mode"),
        (
            lambda: crm.funnel_metrics(_deals([1.0, 1.0, 1.0, 1.0]), on_backwards="ignore"),
            "on_backwards",
        ),
        (lambda: crm.funnel_metrics(_deals([1.0, 1.0, 1.0, 1.0]), cohort=3), "cohort"),
        (
            lambda: crm.funnel_metrics(_deals([1.0, 1.0, 1.0, 1.0])).conversion_trend(period=None),
            "period",
        ),
        (lambda: crm.funnel_metrics(_deals([1.0, 1.0, 1.0, 1.0])).plot(kind="pie"), "kind"),
        (lambda: crm.pareto_analysis([1.0, 2.0]).plot(kind="pie"), "kind"),
        (
            lambda: crm.relationship_quality(
                _SURVEY, constructs={"t": ["q1", "q2"]}, scale=(1, 7)
            ).largest_gaps(n=0),
            "n must",
        ),
    ],
)
def test_scalar_arguments_raise_argument_error(call: object, argument: str) -> None:
    with pytest.raises(ArgumentError, match=argument):
        call()  # type: ignore[operator]


# ------------------------------------------------------------------ 5. responses


@pytest.mark.parametrize("engine", ["pandas", "polars"])
def test_interaction_profile_refuses_response_counts(engine: str) -> None:
    log = _CONTACTS.assign(responded=[5, 1, 0])
    data = pl.from_pandas(log) if engine == "polars" else log
    with pytest.raises(DataError, match=r"'responded' is not a 0/1 .* in 1 row .*customer_id=1"):
        crm.idic.interaction_profile(data, response_col="responded")


def test_interaction_profile_nan_response_is_unknown_on_every_engine() -> None:
    data = {**_CONTACTS.to_dict(orient="list"), "responded": [1.0, float("nan"), 0.0]}
    want = crm.idic.interaction_profile(pd.DataFrame(data), response_col="responded").profiles
    got = crm.idic.interaction_profile(pl.DataFrame(data), response_col="responded").profiles
    assert want["response_rate"].tolist() == got["response_rate"].tolist() == [1.0, 0.0]
    assert got["n_responses_known"].tolist() == [1, 1]


def test_interaction_profile_text_responses_are_a_schema_error() -> None:
    log = _CONTACTS.assign(responded=pd.Series(["yes", "no", None], dtype=object))
    with pytest.raises(crm.errors.SchemaError, match="'responded' must be boolean or 0/1"):
        crm.idic.interaction_profile(log, response_col="responded")


# ------------------------------------------------------------------ 5. RFM

_SUMMARY = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4],
        "frequency": [0, 1, 3, 3],
        "recency": [0.0, 5.0, 20.0, 28.0],
        "T": [30.0, 30.0, 30.0, 30.0],
        "monetary_value": [0.0, 10.0, 30.0, 20.0],
    }
)


@pytest.mark.parametrize(
    ("column", "values", "problem"),
    [
        ("frequency", [0, -2, 3, 3], "is negative"),
        ("recency", [0.0, 5.0, 31.0, 28.0], "is greater than 'T'"),
        ("T", [30.0, -1.0, 30.0, 30.0], "is negative"),
        ("monetary_value", [0.0, np.inf, 30.0, 20.0], "is infinite"),
    ],
)
def test_rfm_scores_refuses_impossible_summaries(
    column: str, values: list[float], problem: str
) -> None:
    summary = _SUMMARY.assign(**{column: values})
    with pytest.raises(DataError, match=rf"column '{column}' {problem}.* in 1 row"):
        crm.rfm_scores(summary, bins=2)


def test_rfm_segments_empty_rules_is_an_error() -> None:
    scores = crm.rfm_scores(_SUMMARY, bins=5)
    with pytest.raises(ArgumentError, match="rules is empty"):
        crm.rfm_segments(scores, rules=[])
    assert "segment" in crm.rfm_segments(scores, rules=None).columns


@pytest.mark.parametrize("score", ["r_score", "f_score", "m_score"])
def test_rfm_segments_missing_score_is_an_error(score: str) -> None:
    scores = crm.rfm_scores(_SUMMARY, bins=5)
    scores[score] = scores[score].astype(float)
    scores.loc[2, score] = np.nan
    with pytest.raises(DataError, match=rf"column '{score}' is missing in 1 row"):
        crm.rfm_segments(scores)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"segment": "x", "r": (9, 1)}, "range r"),
        ({"segment": "x", "f": (1, 2, 3)}, "field 'f'"),
        ({"segment": "", "r": (1, 2)}, "field 'segment'"),
        ({"segment": "x", "colour": "red"}, "field 'colour'"),
        ("champions", "must be an RFMRule"),
    ],
)
def test_rfm_segments_bad_rule_names_rule_and_field(rule: object, field: str) -> None:
    scores = crm.rfm_scores(_SUMMARY, bins=5)
    rules = [{"segment": "all", "r": (1, 5)}, rule]
    with pytest.raises(ArgumentError, match=rf"rules\[1\].*{field}"):
        crm.rfm_segments(scores, rules=rules)


def test_array_arguments_still_accepted() -> None:
    r = crm.pareto_analysis([5.0, 3.0, 1.0, 1.0], abc=np.array([0.8, 0.95]))
    assert r.abc == (0.8, 0.95)
    res = crm.idic.differentiate(_PURCHASES, k_range=np.arange(2, 4))
    assert res.k in (2, 3)
    rq = crm.relationship_quality(_SURVEY, constructs={"t": ["q1", "q2"]}, scale=np.array([1, 7]))
    assert rq.scale == (1.0, 7.0)


@pytest.mark.parametrize(
    "rows",
    [
        [[1, 4, 7], [1, 5, 6], [1, 5, 6], [2, 3, 7]],
        [[1, 4, 7], [1, 4, 7], [1, 5, 6], [1, 7, 4], [2, 6, 4]],
    ],
)
def test_cronbach_alpha_with_a_constant_total_is_an_error(rows: list[list[int]]) -> None:
    # every row sums to 12: the total score has no variance, alpha is undefined
    items = pd.DataFrame(np.array(rows, dtype=float), columns=["a", "b", "c"])
    for frame in (items, items.iloc[::-1]):
        with pytest.raises(DataError, match="total score that varies"):
            crm.cronbach_alpha(frame)


def test_funnel_stage_name_strings_are_not_split_into_characters() -> None:
    deals = pd.DataFrame(
        {
            "entity_id": [1, 1, 2, 2],
            "stage": ["lead_generation", "closed_won", "lead_generation", "closed_lost"],
            "entered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09"]),
        }
    )
    stages = ["lead_generation", "closed_won"]
    one = crm.funnel_metrics(deals, stages=stages, exit_stages="closed_lost")
    assert one.to_frame()["dropped"].iloc[0] == 1
    listed = crm.funnel_metrics(deals, stages=stages, exit_stages=["closed_lost"])
    pd.testing.assert_frame_equal(one.to_frame(), listed.to_frame())
    with pytest.raises(ArgumentError, match="exit_stages"):
        crm.funnel_metrics(deals, stages=stages, exit_stages=3)
    with pytest.raises(ArgumentError, match="promotion"):
        crm.funnel_metrics(deals, stages=stages, promotion=["lead_generation"])


def test_scorecard_amounts_follow_the_summary_type_rule() -> None:
    # one rule for amount types (crmmodels._ingest.frames.numeric_amounts): decimals are read as
    # floats, text is refused with a conversion hint, as in summarize_transactions
    import decimal

    import polars as pl

    from crmmodels.errors import SchemaError

    dec = pl.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": ["2024-01-05", "2024-02-06", "2024-01-07"],
            "amount": [decimal.Decimal(v) for v in ("1.50", "2.25", "3.00")],
        },
        schema_overrides={"amount": pl.Decimal(10, 2)},
    )
    assert crm.kpi_scorecard(dec).to_frame()["revenue"].tolist() == [4.5, 2.25]
    text = pd.DataFrame({"customer_id": [1], "date": ["2024-01-05"], "amount": ["$1.50"]})
    with pytest.raises(SchemaError, match="removing currency symbols"):
        crm.kpi_scorecard(text)
