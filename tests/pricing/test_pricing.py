from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crmmodels.datasets._survey import simulate_demand, simulate_price_survey
from crmmodels.errors import DataError, SchemaError
from crmmodels.pricing import price_elasticity, van_westendorp

from _engines import to_engine

# ------------------------------------------------------------------ Van Westendorp
#
# Hand-computed example. Respondents A = (1, 2, 3, 4) and B = (2, 3, 4, 5) are ordered;
# C = (5, 3, 4, 6) is not and is excluded. Prices 1..5. Curves (share of A and B):
#   price          1    2    3    4    5
#   too cheap     .5    0    0    0    0      (1 - F_tc, answers 1, 2)
#   cheap          1   .5    0    0    0      (1 - F_ch, answers 2, 3)
#   not cheap      0   .5    1    1    1
#   expensive      0    0   .5    1    1      (F_ex, answers 3, 4)
#   not expensive  1    1   .5    0    0
#   too expensive  0    0    0   .5    1      (F_te, answers 4, 5)
# lower bound: not cheap - too cheap = -.5 at 1, +.5 at 2 -> interpolated 1.5 (step: 2)
# upper bound: too exp - not exp = -.5 at 3, +.5 at 4 -> 3.5 (step: 4)
# optimal:     too exp - too cheap = -.5 at 1, 0 at 2 -> 2 (both)
# indifference: expensive - cheap = -.5 at 2, +.5 at 3 -> 2.5 (step: 3)
HAND = {
    "too_cheap": [1.0, 2.0, 5.0],
    "cheap": [2.0, 3.0, 3.0],
    "expensive": [3.0, 4.0, 4.0],
    "too_expensive": [4.0, 5.0, 6.0],
}


def _vw(**kw):  # type: ignore[no-untyped-def]
    return van_westendorp(
        HAND["too_cheap"], HAND["cheap"], HAND["expensive"], HAND["too_expensive"], **kw
    )


def test_hand_computed_interpolated() -> None:
    res = _vw()
    assert res.lower_bound == pytest.approx(1.5)
    assert res.upper_bound == pytest.approx(3.5)
    assert res.optimal_price == pytest.approx(2.0)
    assert res.indifference_price == pytest.approx(2.5)
    assert res.acceptable_range == (res.lower_bound, res.upper_bound)
    assert (res.n_respondents, res.n_invalid, res.n_used) == (3, 1, 2)
    c = res.curves.set_index("price")
    np.testing.assert_allclose(c["too_cheap"], [0.5, 0, 0, 0, 0])
    np.testing.assert_allclose(c["cheap"], [1, 0.5, 0, 0, 0])
    np.testing.assert_allclose(c["not_cheap"], [0, 0.5, 1, 1, 1])
    np.testing.assert_allclose(c["expensive"], [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(c["not_expensive"], [1, 1, 0.5, 0, 0])
    np.testing.assert_allclose(c["too_expensive"], [0, 0, 0, 0.5, 1])


def test_hand_computed_step_rule() -> None:
    res = _vw(interpolate=False)
    assert (res.lower_bound, res.upper_bound) == (2.0, 4.0)
    assert (res.optimal_price, res.indifference_price) == (2.0, 3.0)


def test_without_validation_keeps_unordered() -> None:
    res = _vw(validate=False)
    assert res.n_invalid == 1 and res.n_used == 3
    assert res.curves["price"].max() == 6.0


def test_newton_miller_smith_by_hand() -> None:
    # A: 0 at 1, .6 at 2, .2 at 3, 0 at 4; B: 0 at 2, .4 at 3, 0 at 4 -> trial .3 at 2 and 3
    res = _vw(purchase_cheap=[0.6, 0.4, 0.9], purchase_expensive=[0.2, 0.0, 0.9])
    np.testing.assert_allclose(res.nms["trial"], [0, 0.3, 0.3, 0, 0], atol=1e-12)
    np.testing.assert_allclose(res.nms["revenue"], [0, 0.6, 0.9, 0, 0], atol=1e-12)
    assert res.trial_optimal_price == 2.0
    assert res.revenue_optimal_price == 3.0


def test_trial_curve_between_knots_is_linear_in_price() -> None:
    sim = simulate_price_survey(60, seed=3, invalid_share=0.0)
    a = sim.answers
    res = van_westendorp(
        "too_cheap", "cheap", "expensive", "too_expensive", data=a,
        purchase_cheap="purchase_cheap", purchase_expensive="purchase_expensive",
    )  # fmt: skip
    grid = res.nms["price"].to_numpy()
    x = a[["too_cheap", "cheap", "expensive", "too_expensive"]].to_numpy()
    probs = np.column_stack(
        [np.zeros(60), a["purchase_cheap"], a["purchase_expensive"], np.zeros(60)]
    )
    expected = np.mean(
        [np.interp(grid, x[i], probs[i], left=0.0, right=0.0) for i in range(60)], axis=0
    )
    np.testing.assert_allclose(res.nms["trial"], expected, atol=1e-12)


def test_weights_equal_replication() -> None:
    w = np.array([3.0, 1.0, 2.0])
    res = _vw(weights=w, validate=False)
    rep = {k: np.repeat(v, w.astype(int)) for k, v in HAND.items()}
    ref = van_westendorp(
        rep["too_cheap"], rep["cheap"], rep["expensive"], rep["too_expensive"], validate=False
    )
    for name in ("lower_bound", "upper_bound", "optimal_price", "indifference_price"):
        assert getattr(res, name) == pytest.approx(getattr(ref, name), abs=1e-12)


def test_recovers_population_price_points() -> None:
    sim = simulate_price_survey(6000, seed=4)
    res = van_westendorp("too_cheap", "cheap", "expensive", "too_expensive", data=sim.answers)
    assert res.n_invalid == sim.n_invalid
    for name, value in sim.truth.items():
        assert getattr(res, name) == pytest.approx(value, rel=0.02), name


@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(
            st.floats(1, 50, allow_nan=False),
            st.floats(0.1, 20),
            st.floats(0.1, 20),
            st.floats(0.1, 20),
        ),
        min_size=2,
        max_size=30,
    ),
    st.booleans(),
)
def test_points_inside_price_range_and_row_order_free(
    rows: list[tuple[float, float, float, float]], interpolate: bool
) -> None:
    a = np.array(rows)
    x = np.round(np.cumsum(a, axis=1), 2)  # ordered answers
    res = van_westendorp(*x.T, interpolate=interpolate)
    lo, hi = x.min(), x.max()
    for v in (res.lower_bound, res.upper_bound, res.optimal_price, res.indifference_price):
        assert np.isnan(v) or lo <= v <= hi
    rev = van_westendorp(*x[::-1].T, interpolate=interpolate)
    for name in ("lower_bound", "upper_bound", "optimal_price", "indifference_price"):
        np.testing.assert_allclose(getattr(rev, name), getattr(res, name), atol=1e-12)


def test_bad_input() -> None:
    with pytest.raises(SchemaError, match="has 2 values"):
        van_westendorp([1, 2, 3], [2, 3], [3, 4, 5], [4, 5, 6])
    with pytest.raises(SchemaError, match="non-numeric"):
        van_westendorp(["a"], [2], [3], [4])
    with pytest.raises(DataError, match="'cheap' is negative"):
        van_westendorp([1], [-2], [3], [4])
    with pytest.raises(DataError, match="no usable respondent"):
        van_westendorp([3], [2], [1], [0.5])
    with pytest.raises(DataError, match="'weights' is negative"):
        _vw(weights=[1, -1, 1])
    with pytest.raises(DataError, match=r"'weights' is negative or not finite .*example: nan\)"):
        _vw(weights=[1, float("nan"), 1])
    with pytest.raises(DataError, match=r"'cheap' is negative .*example: -2\.0\)"):
        van_westendorp([1], [-2], [3], [4])
    with pytest.raises(DataError, match="not a probability"):
        _vw(purchase_cheap=[5, 1, 1], purchase_expensive=[1, 1, 1])
    with pytest.raises(SchemaError, match="both purchase_cheap"):
        _vw(purchase_cheap=[0.5, 0.5, 0.5])
    frame = pd.DataFrame(HAND)
    with pytest.raises(SchemaError, match="no column 'chep'"):
        van_westendorp("too_cheap", "chep", "expensive", "too_expensive", data=frame)
    with pytest.raises(SchemaError, match="must be numeric"):
        van_westendorp(
            "too_cheap", "cheap", "expensive", "too_expensive",
            data=frame.assign(cheap=["a", "b", "c"]),
        )  # fmt: skip


def test_missing_answers_are_invalid_and_input_not_mutated() -> None:
    frame = pd.DataFrame(HAND).astype(float)
    frame.loc[0, "cheap"] = np.nan
    before = frame.copy()
    res = van_westendorp("too_cheap", "cheap", "expensive", "too_expensive", data=frame)
    assert res.n_invalid == 2 and res.n_used == 1
    pd.testing.assert_frame_equal(frame, before)


def test_van_westendorp_plot_and_repr() -> None:
    res = _vw(purchase_cheap=[0.6, 0.4, 0.9], purchase_expensive=[0.2, 0.0, 0.9])
    ax = res.plot()
    assert ax.get_xlabel() == "price"
    texts = " ".join(t.get_text() for t in ax.texts)
    for label in ("PMC", "OPP", "IDP", "PME"):
        assert label in texts
    assert "lower_bound=1.5" in repr(res)
    assert len(res.to_frame()) == 5


# ------------------------------------------------------------------ elasticity


def _lstsq(sub: pd.DataFrame) -> tuple[float, float, float]:
    x = np.log(sub["price"].to_numpy())
    y = np.log(sub["quantity"].to_numpy())
    design = np.column_stack([np.ones_like(x), x])
    coef, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    n = len(x)
    sigma2 = float(rss[0]) / (n - 2)
    cov = sigma2 * np.linalg.inv(design.T @ design)
    return float(coef[1]), float(np.sqrt(cov[1, 1])), float(coef[0])


def test_elasticity_matches_numpy_lstsq() -> None:
    tx = simulate_demand(1500, seed=1).transactions
    out = price_elasticity(tx, group_col="product").to_frame().set_index("product")
    for g, sub in tx.groupby("product"):
        slope, se, icpt = _lstsq(sub)
        row = out.loc[g]
        assert row["elasticity"] == pytest.approx(slope, abs=1e-10)
        assert row["se"] == pytest.approx(se, abs=1e-10)
        assert row["intercept"] == pytest.approx(icpt, abs=1e-9)
        t = stats.t.ppf(0.975, len(sub) - 2)
        assert row["ci_low"] == pytest.approx(slope - t * se, abs=1e-9)
        assert row["ci_high"] == pytest.approx(slope + t * se, abs=1e-9)
        assert row["n"] == len(sub)
        assert row["n_prices"] == sub["price"].nunique()


def test_elasticity_recovers_truth() -> None:
    sim = simulate_demand(6000, seed=2)
    out = price_elasticity(sim.transactions, group_col="product", ci=0.99).to_frame()
    out = out.set_index("product")
    for g, truth in sim.elasticities.items():
        assert out.loc[g, "elasticity"] == pytest.approx(truth, abs=0.06)
        assert out.loc[g, "ci_low"] < truth < out.loc[g, "ci_high"]
    overall = price_elasticity(sim.transactions).to_frame()
    assert len(overall) == 1 and overall["n"].iloc[0] == 6000


def test_minimum_variation_checks() -> None:
    tx = pd.DataFrame(
        {
            "g": ["a", "a", "a", "b", "b", "c", "c"],
            "price": [2.0, 2.0, 2.0, 1.0, 2.0, 1.0, 3.0],
            "quantity": [5.0, 6.0, 7.0, 4.0, 1.0, 9.0, 1.0],
        }
    )
    out = price_elasticity(tx, group_col="g").to_frame().set_index("g")
    assert np.isnan(out.loc["a", "elasticity"])
    assert out.loc["a", "note"] == "fewer than 2 distinct prices"
    assert out.loc["b", "elasticity"] == pytest.approx(-2.0)
    assert np.isnan(out.loc["b", "ci_low"])
    assert out.loc["b", "note"] == "fewer than 3 rows: no interval"
    assert out.loc["c", "elasticity"] == pytest.approx(np.log(1 / 9) / np.log(3))


def test_elasticity_row_order_and_no_mutation() -> None:
    tx = simulate_demand(500, seed=3).transactions
    before = tx.copy()
    a = price_elasticity(tx, group_col="product").to_frame()
    b = price_elasticity(tx.sample(frac=1.0, random_state=0), group_col="product").to_frame()
    pd.testing.assert_frame_equal(a, b, atol=1e-10)
    pd.testing.assert_frame_equal(tx, before)


def test_elasticity_bad_input() -> None:
    tx = simulate_demand(50, seed=4).transactions
    with pytest.raises(SchemaError, match="no column 'prize'"):
        price_elasticity(tx, price_col="prize")
    with pytest.raises(SchemaError, match="must be numeric"):
        price_elasticity(tx.assign(price=tx["price"].astype(str)))
    with pytest.raises(DataError, match="'quantity' is zero, negative or infinite in 1 row"):
        price_elasticity(tx.assign(quantity=np.r_[0.0, tx["quantity"].to_numpy()[1:]]))
    with pytest.raises(DataError, match="is null"):
        price_elasticity(tx.assign(price=np.r_[np.nan, tx["price"].to_numpy()[1:]]))
    with pytest.raises(DataError, match="ci must"):
        price_elasticity(tx, ci=1.5)
    with pytest.raises(DataError, match="empty"):
        price_elasticity(tx.iloc[:0])


def test_demand_plot() -> None:
    from crmmodels.plotting.pricing import plot_demand_curves

    sim = simulate_demand(300, seed=5)
    out = price_elasticity(sim.transactions, group_col="product")
    ax = plot_demand_curves(out, data=sim.transactions, group_col="product")
    assert ax.get_xscale() == "log"
    assert len(ax.get_lines()) == 3


def test_pricing_engines(engine: str) -> None:
    sim = simulate_demand(200, seed=6)
    ref = price_elasticity(sim.transactions, group_col="product").to_frame()
    got = price_elasticity(to_engine(sim.transactions, engine), group_col="product").to_frame()
    pd.testing.assert_frame_equal(got, ref, check_dtype=False, atol=1e-9)
    survey = simulate_price_survey(80, seed=6).answers
    vref = van_westendorp("too_cheap", "cheap", "expensive", "too_expensive", data=survey)
    vgot = van_westendorp(
        "too_cheap", "cheap", "expensive", "too_expensive", data=to_engine(survey, engine)
    )
    assert vgot.to_dict() == vref.to_dict()


def _r_rule(x: np.ndarray, step: float | None) -> dict[str, float]:
    """pricesensitivitymeter's algorithm written out: ecdf curves on all observed prices,
    optionally linearly interpolated on a fine grid (interpolate = TRUE with
    interpolation_steps = step), then the first grid price where var1 >= var2."""
    prices = np.unique(x)
    ecdf = [np.array([np.mean(x[:, j] <= p) for p in prices]) for j in range(4)]
    curves = {
        "tc": 1 - ecdf[0], "ch": 1 - ecdf[1], "ex": ecdf[2], "te": ecdf[3],
    }  # fmt: skip
    grid = prices
    if step is not None:
        grid = np.arange(prices[0], prices[-1] + step / 2, step)
        curves = {k: np.interp(grid, prices, v) for k, v in curves.items()}
    curves["nch"] = 1 - curves["ch"]
    curves["nex"] = 1 - curves["ex"]

    def first(v1: str, v2: str) -> float:
        hit = np.nonzero(curves[v1] >= curves[v2] - 1e-12)[0]
        return float(grid[hit[0]]) if hit.size else float("nan")

    return {
        "lower_bound": first("nch", "tc"),
        "upper_bound": first("te", "nex"),
        "indifference_price": first("ex", "ch"),
        "optimal_price": first("te", "tc"),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pricesensitivitymeter_algorithm(seed: int) -> None:
    x = (
        simulate_price_survey(60, seed=seed, invalid_share=0.0)
        .answers[["too_cheap", "cheap", "expensive", "too_expensive"]]
        .to_numpy()
    )
    step_rule = van_westendorp(*x.T, interpolate=False)
    for name, value in _r_rule(x, None).items():
        assert getattr(step_rule, name) == pytest.approx(value, abs=1e-12), name
    interpolated = van_westendorp(*x.T)
    for name, value in _r_rule(x, 0.001).items():
        # the fine grid lands on the first grid price at or after the exact crossing
        assert value - 0.001 - 1e-9 <= getattr(interpolated, name) <= value + 1e-9, name
