from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.errors import DataError, SchemaError
from crmmodels.idic import NO_RULE_MATCHED, CustomizationResult, Range, Rule, RuleSet, customize


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [10, 11, 12, 13, 14, 15],
            "tier": ["A", "A", "B", "B", "C", "C"],
            "segment": ["readers", "gadgets", "readers", "home", "gadgets", None],
            "stage": ["loyal", "churned", "first-time", "loyal", "loyal", "prospect"],
            "quadrant": ["vip", "improve", "maintain", "vip", "abandon", "abandon"],
            "clv": [900.0, 450.0, 120.0, 300.0, 15.0, np.nan],
        }
    )


RULES = [
    {"name": "protect", "action": "account manager", "priority": 10,
     "conditions": {"tier": "A", "quadrant": "vip"}},
    {"name": "win back", "action": "win-back call", "priority": 8,
     "conditions": {"stage": "churned", "clv": {"min": 100}}},
    {"name": "develop", "action": "cross-sell", "priority": 5,
     "conditions": {"quadrant": ["vip", "improve", "maintain"]}},
    {"name": "nurture", "action": "newsletter", "priority": 5,
     "conditions": {"stage": ["loyal", "first-time"]}},
]  # fmt: skip


def test_priority_ties_and_no_match_by_hand() -> None:
    cust = _customers()
    before = cust.copy()
    res = customize(cust, RULES)
    pd.testing.assert_frame_equal(cust, before)
    assert isinstance(res, CustomizationResult)
    a = res.assignments.set_index("customer_id")
    assert a["action"].to_dict() == {
        10: "account manager",  # protect beats develop and nurture
        11: "win-back call",  # win back (8) beats develop (5)
        12: "cross-sell",  # develop and nurture tie at 5: first listed wins
        13: "cross-sell",  # B + vip: not protect; develop (5) before nurture (5)
        14: "newsletter",
        15: NO_RULE_MATCHED,
    }
    assert a["rule"].to_dict()[15] == ""
    assert a["n_matching_rules"].tolist() == [3, 2, 2, 2, 1, 0]
    rep = res.rule_report.set_index("name")
    assert rep["n_matched"].to_dict() == {"protect": 1, "win back": 1, "develop": 4, "nurture": 4}
    assert rep["n_won"].to_dict() == {"protect": 1, "win back": 1, "develop": 2, "nurture": 1}
    assert rep["n_overridden"].to_dict() == {
        "protect": 0,
        "win back": 0,
        "develop": 2,
        "nurture": 3,
    }
    assert res.n_no_match == 1 and res.n_overlapping == 4 and res.n_customers == 6
    assert res.overlaps.loc["develop", "nurture"] == 3
    np.testing.assert_array_equal(np.diag(res.overlaps), rep["n_matched"].to_numpy())


def test_range_bounds_inclusive_nulls_never_match_and_no_match_action() -> None:
    cust = _customers()
    rs = RuleSet(
        rules=[Rule(name="mid", action="x", conditions={"clv": Range(min=120, max=450)})],
        no_match_action="do nothing",
    )
    res = customize(cust, rs)
    assert res.assignments["action"].tolist() == ["do nothing", "x", "x", "x", "do nothing",
                                                  "do nothing"]  # fmt: skip
    seg = customize(cust, [{"name": "r", "action": "a", "conditions": {"segment": "readers"}}])
    assert seg.assignments["action"].tolist()[5] == NO_RULE_MATCHED


def test_rules_from_json_and_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps({"rules": RULES, "no_match_action": "none"})
    rs = RuleSet.from_json(text)
    assert [r.name for r in rs.rules] == ["protect", "win back", "develop", "nurture"]
    assert rs.rules[1].conditions["clv"] == Range(min=100)
    again = RuleSet.from_json(rs.to_json())
    assert again == rs
    path = tmp_path / "rules.json"
    path.write_text(text, encoding="utf-8")
    a = customize(_customers(), path).assignments
    b = customize(_customers(), rs).assignments
    pd.testing.assert_frame_equal(a, b)
    assert a["action"].iloc[5] == "none"


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ([{"name": "x", "action": "a", "conditions": {}}], "empty condition"),
        ([{"name": "x", "action": "a", "conditions": {"tier": []}}], "empty list"),
        ([{"name": "x", "action": "a", "conditions": {"clv": {}}}], "empty range"),
        ([{"name": "x", "action": "a", "conditions": {"clv": {"min": 5, "max": 1}}}], "greater"),
        ([{"name": "", "action": "a", "conditions": {"tier": "A"}}], "name"),
        ([{"name": "x", "action": "a", "conditions": {"tier": "A"}, "prio": 1}], "prio"),
        (
            [
                {"name": "x", "action": "a", "conditions": {"tier": "A"}},
                {"name": "x", "action": "b", "conditions": {"tier": "B"}},
            ],
            "duplicate rule names",
        ),
        ([], "rules"),
        ("not json", "No such file|invalid"),
        ("[1, 2", "invalid rule set JSON"),
    ],
)
def test_invalid_rules_rejected(rules: object, match: str) -> None:
    with pytest.raises((DataError, FileNotFoundError), match=match):
        customize(_customers(), rules)  # type: ignore[arg-type]


def test_invalid_rules_against_the_data() -> None:
    cust = _customers()
    with pytest.raises(SchemaError, match="rule 'x': customers has no column 'teir'"):
        customize(cust, [{"name": "x", "action": "a", "conditions": {"teir": "A"}}])
    with pytest.raises(DataError, match=r"value 'vpi' is not a value of column 'quadrant'.*'vip'"):
        customize(cust, [{"name": "x", "action": "a", "conditions": {"quadrant": "vpi"}}])
    ok = customize(
        cust,
        [{"name": "x", "action": "a", "conditions": {"quadrant": "vpi"}}],
        allow_unknown_values=True,
    )
    assert ok.n_no_match == 6
    with pytest.raises(SchemaError, match="numeric column"):
        customize(cust, [{"name": "x", "action": "a", "conditions": {"tier": {"min": 1}}}])
    with pytest.raises(SchemaError, match="text value"):
        customize(cust, [{"name": "x", "action": "a", "conditions": {"clv": "high"}}])
    cat = cust.assign(tier=pd.Categorical(cust["tier"], categories=["A", "B", "C", "D"]))
    assert customize(cat, [{"name": "x", "action": "a", "conditions": {"tier": "D"}}]).n_no_match
    with pytest.raises(DataError, match="duplicate ids in 2 rows"):
        customize(cust.assign(customer_id=[1, 1, 2, 3, 4, 5]), RULES)
    with pytest.raises(DataError, match="is null"):
        customize(cust.assign(customer_id=[1, None, 2, 3, 4, 5]), RULES)
    with pytest.raises(DataError, match="rules must be"):
        customize(cust, 42)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=50),
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True),
            st.integers(-3, 3),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_property_exactly_one_action_and_priority(
    tiers: list[str], spec: list[tuple[list[str], int]]
) -> None:
    cust = pd.DataFrame({"customer_id": range(len(tiers)), "tier": tiers})
    rules = [
        {"name": f"r{k}", "action": f"act{k}", "priority": prio, "conditions": {"tier": vals}}
        for k, (vals, prio) in enumerate(spec)
    ]
    res = customize(cust, rules, allow_unknown_values=True)
    a = res.assignments
    assert len(a) == len(cust) and a["customer_id"].is_unique
    assert a["action"].notna().all()
    assert res.rule_report["n_won"].sum() + res.n_no_match == len(cust)
    # winner = independent per-customer loop: highest priority, then first listed
    for tier, action in zip(tiers, a["action"], strict=True):
        cands = [(-p, k) for k, (vals, p) in enumerate(spec) if tier in vals]
        expected = f"act{min(cands)[1]}" if cands else NO_RULE_MATCHED
        assert action == expected
    # row order does not matter
    perm = cust.sample(frac=1.0, random_state=0)
    b = customize(perm, rules, allow_unknown_values=True).assignments.set_index("customer_id")
    assert b.loc[a["customer_id"], "action"].tolist() == a["action"].tolist()


def test_polars_input_and_plot() -> None:
    pl = pytest.importorskip("polars")
    res = customize(pl.from_pandas(_customers()), RULES)
    assert res.assignments["action"].tolist()[0] == "account manager"
    ax = res.plot()
    assert ax.get_xlabel() == "customers" and len(ax.patches) == 5
    assert "CustomizationResult(" in repr(res)
