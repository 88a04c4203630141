from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels.errors import DataError, SchemaError
from crmmodels.portfolio import ParetoResult, pareto_analysis

from _engines import to_engine

# ---------------------------------------------------------------- plain pandas reference


def _pandas_reference(df: pd.DataFrame, cid: str, val: str, a: float = 0.8, b: float = 0.95):
    """Independent 80/20 analysis with plain pandas: sort, cumsum, shift."""
    per = df.groupby(cid, as_index=False)[val].sum()
    per = per.sort_values([val, cid], ascending=[False, True]).reset_index(drop=True)
    total = per[val].sum()
    per["cum"] = per[val].cumsum() / total
    before = per["cum"].shift(1, fill_value=0.0)
    per["cls"] = np.where(before < a - 1e-12, "A", np.where(before < b - 1e-12, "B", "C"))
    asc = np.sort(per[val].to_numpy())
    n = len(asc)
    gini = (
        (np.abs(asc[:, None] - asc[None, :]).sum() / (2 * n * n * asc.mean()))
        if n < 3000
        else (2 * np.sum(np.arange(1, n + 1) * asc) / (n * total) - (n + 1) / n)
    )
    hhi = float(((per[val] / total) ** 2).sum())
    return per, float(gini), hhi


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    """A transaction log: repeated customers, string ids, some refunds."""
    rng = np.random.default_rng(3)
    n = 4000
    cust = rng.integers(0, 900, n)
    amount = np.round(rng.lognormal(3, 1, n), 2)
    amount[rng.random(n) < 0.03] *= -1
    return pd.DataFrame(
        {
            "customer": np.char.add("c", cust.astype(str)).astype(object),
            "amount": amount,
            "month": rng.integers(1, 4, n),
        }
    )


# ---------------------------------------------------------------- hand-computed


def test_small_vector_by_hand() -> None:
    r = pareto_analysis(np.array([5.0, 40.0, 5.0, 40.0, 10.0]))
    assert isinstance(r, ParetoResult)
    assert r.n_customers == 5
    assert r.total_value == 100.0
    assert r.top_share == pytest.approx(0.4)  # top 20% = 1 customer = 40
    assert r.customer_share_for_value == pytest.approx(0.4)  # 2 customers reach 80%
    # ascending 5, 5, 10, 40, 40: sum i x_i = 5 + 10 + 30 + 160 + 200 = 405
    assert r.gini == pytest.approx(2 * 405 / 500 - 6 / 5)
    assert r.hhi == pytest.approx(0.05**2 * 2 + 0.4**2 * 2 + 0.1**2)
    assert r.hhi_normalized == pytest.approx((r.hhi - 0.2) / 0.8)
    cl = r.classes
    # ties (40, 40) and (5, 5) ordered by id (position)
    assert cl["customer_id"].tolist() == [1, 3, 4, 0, 2]
    assert cl["rank"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(cl["cumulative_share"], [0.4, 0.8, 0.9, 0.95, 1.0])
    # exactly on 80%: in A; exactly on 95%: in B
    assert cl["class"].tolist() == ["A", "A", "B", "B", "C"]
    assert r.class_counts == (2, 2, 1)
    assert r.n_negative == 0 and r.negative_value == 0.0
    lz = r.lorenz
    assert list(lz.columns) == ["customer_share", "cumulative_share", "lorenz"]
    np.testing.assert_allclose(lz["cumulative_share"], [0, 0.4, 0.8, 0.9, 0.95, 1.0])
    np.testing.assert_allclose(lz["lorenz"], [0, 0.05, 0.1, 0.2, 0.6, 1.0])
    pd.testing.assert_frame_equal(r.to_frame(), r.classes)
    mine = r.classes
    mine.loc[0, "value"] = -1.0  # a new frame: the result does not change
    assert r.classes.loc[0, "value"] == 40.0


def test_sample_gini_and_options() -> None:
    x = [3.0, 1.0]
    assert pareto_analysis(x).gini == pytest.approx(0.25)
    assert pareto_analysis(x, gini="sample").gini == pytest.approx(0.5)
    r = pareto_analysis([1.0] * 10, top=0.35, value_share=0.55, abc=(0.5, 0.7, 0.9))
    assert r.top_share == pytest.approx(0.35)
    assert r.customer_share_for_value == pytest.approx(0.6)
    assert r.class_counts == (5, 2, 2, 1)
    assert r.classes["class"].cat.categories.tolist() == ["A", "B", "C", "D"]
    assert r.gini == pytest.approx(0.0, abs=1e-12)


def test_series_ids_and_names() -> None:
    s = pd.Series([10.0, 30.0, 60.0], index=pd.Index(["x", "y", "z"], name="cust"), name="rev")
    r = pareto_analysis(s)
    assert r.customer_col == "cust" and r.amount_col == "rev"
    assert r.classes["cust"].tolist() == ["z", "y", "x"]
    # a Series with repeated ids is a transaction log: summed
    import polars as pl

    rp = pareto_analysis(pl.Series("rev", [1.0, 3.0, 2.0]))
    assert rp.classes["customer_id"].tolist() == [1, 2, 0]
    assert rp.amount_col == "rev"
    s2 = pd.Series([10.0, 5.0, 7.0], index=["a", "b", "a"])
    r2 = pareto_analysis(s2)
    assert dict(zip(r2.classes["customer_id"], r2.classes["value"], strict=True)) == {
        "a": 17.0,
        "b": 5.0,
    }


def test_negative_values_kept_ranked_last() -> None:
    df = pd.DataFrame({"id": [1, 2, 3, 4, 5], "margin": [-3.0, 6.0, 0.0, 8.0, -1.0]})
    r = pareto_analysis(df, amount_col="margin", customer_col="id")
    assert r.n_customers == 5
    assert r.n_negative == 2
    assert r.negative_value == -4.0
    assert r.total_value == 10.0
    cl = r.classes
    assert cl["id"].tolist() == [4, 2, 3, 5, 1]
    np.testing.assert_allclose(cl["cumulative_share"], [0.8, 1.4, 1.4, 1.3, 1.0])
    assert cl["class"].tolist() == ["A", "B", "C", "C", "C"]
    assert r.lorenz["cumulative_share"].max() == pytest.approx(1.4)
    assert r.top_share == pytest.approx(0.8)
    asc = np.array([-3.0, -1.0, 0.0, 6.0, 8.0])
    pairs = np.abs(asc[:, None] - asc[None, :]).sum() / (2 * 25 * 2.0)
    assert r.gini == pytest.approx(pairs)


def test_transaction_log_against_pandas(tx: pd.DataFrame) -> None:
    r = pareto_analysis(tx, amount_col="amount", customer_col="customer")
    ref, gini, hhi = _pandas_reference(tx, "customer", "amount")
    cl = r.classes
    assert cl["customer"].tolist() == ref["customer"].tolist()
    np.testing.assert_allclose(cl["amount"], ref["amount"])
    np.testing.assert_allclose(cl["cumulative_share"], ref["cum"], rtol=1e-12)
    assert cl["class"].astype(str).tolist() == ref["cls"].tolist()
    assert r.gini == pytest.approx(gini, rel=1e-9)
    assert r.hhi == pytest.approx(hhi, rel=1e-9)
    assert r.n_negative == int((ref["amount"] < 0).sum())
    n = len(ref)
    assert r.top_share == pytest.approx(
        np.interp(0.2, np.arange(n + 1) / n, np.r_[0, ref["cum"]]), rel=1e-12
    )
    k = int(np.argmax(ref["cum"].to_numpy() >= 0.8 - 1e-12)) + 1
    assert r.customer_share_for_value == pytest.approx(k / n)


def test_large_random_against_numpy() -> None:
    rng = np.random.default_rng(11)
    n = 300_000
    ids = rng.permutation(n)
    vals = np.round(rng.pareto(1.5, n) * 10, 0)  # many ties
    r = pareto_analysis(pd.DataFrame({"c": ids, "v": vals}), amount_col="v", customer_col="c")
    order = np.lexsort((ids, -vals))
    xs = vals[order]
    cum = np.cumsum(xs) / xs.sum()
    np.testing.assert_array_equal(r.classes["c"].to_numpy(), ids[order])
    np.testing.assert_allclose(r.classes["cumulative_share"], cum, rtol=1e-9)
    asc = xs[::-1]
    g = 2 * np.sum(np.arange(1, n + 1) * asc) / (n * xs.sum()) - (n + 1) / n
    assert r.gini == pytest.approx(g, rel=1e-9)
    assert r.top_share == pytest.approx(xs[: n // 5].sum() / xs.sum(), rel=1e-9)


def test_period_trend(tx: pd.DataFrame) -> None:
    r = pareto_analysis(tx, amount_col="amount", customer_col="customer", period_col="month")
    overall = pareto_analysis(tx, amount_col="amount", customer_col="customer")
    assert r.gini == pytest.approx(overall.gini)
    t = r.trend
    assert t is not None
    assert t["month"].tolist() == [1, 2, 3]
    for _, row in t.iterrows():
        sub = tx[tx["month"] == row["month"]]
        one = pareto_analysis(sub, amount_col="amount", customer_col="customer")
        assert row["gini"] == pytest.approx(one.gini)
        assert row["top_share"] == pytest.approx(one.top_share)
        assert row["hhi"] == pytest.approx(one.hhi)
        assert row["customer_share_for_value"] == pytest.approx(one.customer_share_for_value)
        assert row["n_customers"] == one.n_customers
        assert row["n_class_a"] == one.class_counts[0]
        assert row["n_negative"] == one.n_negative


def test_period_with_non_positive_total_gives_nan() -> None:
    df = pd.DataFrame({"c": [1, 2, 1, 2], "v": [5.0, 1.0, -2.0, 1.0], "p": ["a", "a", "b", "b"]})
    r = pareto_analysis(df, amount_col="v", customer_col="c", period_col="p")
    assert r.trend is not None
    assert np.isnan(r.trend.loc[1, "gini"])
    assert r.trend.loc[1, "total_value"] == -1.0
    assert r.trend.loc[0, "gini"] == pytest.approx(pareto_analysis([5.0, 1.0]).gini)
    ax = r.plot(kind="lorenz", by_period=True)  # only the period with a positive total
    assert [line.get_label() for line in ax.lines] == ["a (Gini 0.333)", "equality"]


def test_strategic_customers() -> None:
    s = pd.Series([50.0, 30.0, 15.0, 5.0], index=[10, 20, 30, 40])
    r = pareto_analysis(s)
    top = r.strategic_customers()
    assert top["customer_id"].tolist() == [10, 20]
    assert (top["class"] == "A").all()
    pot = pd.Series({20: 7.0, 10: 3.0, 99: 1.0}, name="clv")
    joined = r.strategic_customers(pot)
    assert joined["clv"].tolist() == [3.0, 7.0]
    frame = pd.DataFrame({"customer_id": [10], "clv": [3.0], "other": ["x"]})
    j2 = r.strategic_customers(frame, potential_col="clv")
    assert j2["clv"].iloc[0] == 3.0 and np.isnan(j2["clv"].iloc[1])
    assert "other" not in j2.columns
    j3 = r.strategic_customers(frame)
    assert j3["other"].tolist()[0] == "x"
    with pytest.raises(DataError, match="duplicate"):
        r.strategic_customers(pd.DataFrame({"customer_id": [10, 10], "clv": [1.0, 2.0]}))
    with pytest.raises(SchemaError, match="customer_id"):
        r.strategic_customers(pd.DataFrame({"cid": [10], "clv": [1.0]}))


# ---------------------------------------------------------------- properties


@st.composite
def portfolios(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    vals = draw(st.lists(st.integers(-50, 1000), min_size=n, max_size=n))
    if sum(vals) <= 0:
        vals[0] = abs(sum(vals)) + 1 + abs(vals[0])
    return pd.DataFrame({"cid": np.arange(n) * 3 + 1, "v": np.array(vals, dtype=float)})


@given(portfolios())
def test_row_order_independent(df: pd.DataFrame) -> None:
    perm = df.sample(frac=1.0, random_state=np.random.default_rng(len(df))).reset_index(drop=True)
    a = pareto_analysis(df, amount_col="v", customer_col="cid")
    b = pareto_analysis(perm, amount_col="v", customer_col="cid")
    pd.testing.assert_frame_equal(a.classes, b.classes)
    assert a.gini == pytest.approx(b.gini, abs=1e-12)
    assert a.top_share == pytest.approx(b.top_share, abs=1e-12)


@given(portfolios(), st.floats(0.01, 1000))
def test_scaling_changes_only_totals(df: pd.DataFrame, k: float) -> None:
    a = pareto_analysis(df, amount_col="v", customer_col="cid")
    scaled = df.assign(v=df["v"] * k)
    b = pareto_analysis(scaled, amount_col="v", customer_col="cid")
    assert b.total_value == pytest.approx(a.total_value * k)
    assert b.negative_value == pytest.approx(a.negative_value * k)
    for name in ("gini", "hhi", "top_share", "customer_share_for_value"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-9, abs=1e-12)
    assert a.classes["cid"].tolist() == b.classes["cid"].tolist()
    assert a.class_counts == b.class_counts


@given(portfolios())
def test_each_customer_exactly_one_class(df: pd.DataFrame) -> None:
    r = pareto_analysis(df, amount_col="v", customer_col="cid")
    cl = r.classes
    assert sorted(cl["cid"]) == sorted(df["cid"])
    assert cl["class"].notna().all()
    assert sum(r.class_counts) == r.n_customers == len(df)
    codes = cl["class"].cat.codes.to_numpy()
    assert np.all(np.diff(codes) >= 0)
    if (df["v"] >= 0).all():
        assert 0 <= r.top_share <= 1 and 0 < r.customer_share_for_value <= 1
        assert np.all(np.diff(r.lorenz["lorenz"], 2) >= -1e-9)


# ---------------------------------------------------------------- bad input


def test_bad_input() -> None:
    df = pd.DataFrame({"customer_id": [1, 2], "value": [1.0, 2.0]})
    with pytest.raises(SchemaError, match="amount_col"):
        pareto_analysis(df)
    with pytest.raises(SchemaError, match="Did you mean 'value'"):
        pareto_analysis(df, amount_col="valeu")
    with pytest.raises(SchemaError, match="customer_idd"):
        pareto_analysis(df, amount_col="value", customer_col="customer_idd")
    with pytest.raises(SchemaError, match="numeric"):
        pareto_analysis(df.assign(value=["a", "b"]), amount_col="value")
    with pytest.raises(SchemaError, match="numeric"):
        pareto_analysis(np.array(["a", "b"]))
    with pytest.raises(SchemaError, match="one-dimensional"):
        pareto_analysis(np.ones((2, 2)))
    with pytest.raises(DataError, match=r"is null in 1 row \(first example: 'customer_id=2'\)"):
        pareto_analysis(
            pd.DataFrame({"customer_id": [1, 2], "value": [1.0, None]}),
            amount_col="value",
            customer_col="customer_id",
        )
    with pytest.raises(DataError, match="is null"):
        pareto_analysis(pd.Series([1.0, np.nan], index=["a", "b"]))
    with pytest.raises(DataError, match="infinite"):
        pareto_analysis(np.array([1.0, np.inf]))
    with pytest.raises(DataError, match="empty"):
        pareto_analysis(np.array([], dtype=float))
    with pytest.raises(DataError, match="empty"):
        pareto_analysis(df.iloc[:0], amount_col="value", customer_col="customer_id")
    with pytest.raises(DataError, match="positive total"):
        pareto_analysis(np.array([1.0, -2.0]))
    with pytest.raises(DataError, match="positive total"):
        pareto_analysis(np.zeros(3))
    with pytest.raises(DataError, match="top"):
        pareto_analysis([1.0], top=1.5)
    with pytest.raises(DataError, match="value_share"):
        pareto_analysis([1.0], value_share=0.0)
    with pytest.raises(DataError, match="abc"):
        pareto_analysis([1.0], abc=(0.9, 0.8))
    with pytest.raises(DataError, match="abc"):
        pareto_analysis([1.0], abc=(0.8, 1.2))
    with pytest.raises(DataError, match="gini"):
        pareto_analysis([1.0], gini="mean")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="period_col"):
        pareto_analysis([1.0], period_col="p")
    with pytest.raises(SchemaError, match="dataframe"):
        pareto_analysis({"a": 1})
    r = pareto_analysis([1.0, 2.0])
    with pytest.raises(ValueError, match="kind"):
        r.plot(kind="pie")
    with pytest.raises(ValueError, match="period_col"):
        r.plot(kind="trend")


def test_lazy_frame_needs_customer_col() -> None:
    import polars as pl

    lf = pl.DataFrame({"v": [1.0, 2.0]}).lazy()
    with pytest.raises(SchemaError, match="customer_col"):
        pareto_analysis(lf, amount_col="v")
    # an eager frame without customer_col: rows are customers
    r = pareto_analysis(pl.DataFrame({"v": [1.0, 3.0]}), amount_col="v")
    assert r.classes["customer_id"].tolist() == [1, 0]


def test_input_not_mutated(tx: pd.DataFrame) -> None:
    before = tx.copy()
    pareto_analysis(tx, amount_col="amount", customer_col="customer", period_col="month")
    pd.testing.assert_frame_equal(tx, before)


# ---------------------------------------------------------------- engines


def test_engines_agree(engine: str, tx: pd.DataFrame) -> None:
    small = tx.iloc[:600]
    ref = pareto_analysis(small, amount_col="amount", customer_col="customer", period_col="month")
    got = pareto_analysis(
        to_engine(small, engine), amount_col="amount", customer_col="customer", period_col="month"
    )
    pd.testing.assert_frame_equal(got.classes, ref.classes, check_dtype=False)
    assert got.gini == pytest.approx(ref.gini)
    assert got.trend is not None and ref.trend is not None
    np.testing.assert_allclose(got.trend["gini"], ref.trend["gini"])


# ---------------------------------------------------------------- plots and repr


def test_plots_and_repr(tx: pd.DataFrame) -> None:
    import matplotlib.axes

    r = pareto_analysis(tx, amount_col="amount", customer_col="customer", period_col="month")
    ax = r.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.patches) == 50  # binned bars
    ax2 = r.plot(kind="lorenz")
    assert "Gini" in ax2.get_title()
    ax3 = r.plot(kind="trend")
    assert len(ax3.lines) == 3
    ax4 = r.plot(kind="lorenz", by_period=True)
    labels = [line.get_label() for line in ax4.lines]
    assert len(labels) == 4 and labels[0].startswith("1 (Gini ")
    with pytest.raises(ValueError, match="period_col"):
        pareto_analysis([1.0, 2.0]).plot(kind="lorenz", by_period=True)
    small = pareto_analysis([3.0, 2.0, 1.0]).plot()
    assert len(small.patches) == 3
    text = repr(r)
    assert text.startswith("ParetoResult(gini=")
    assert "<table>" in r._repr_html_()
    d = r.to_dict()
    assert d["n_customers"] == r.n_customers and d["abc"] == [0.8, 0.95]


def test_demo_writes_figures(tmp_path) -> None:
    from crmmodels._demo.portfolio import run

    blocks = run(tmp_path)
    assert "23,570 customers" in blocks[0]
    assert any("CLV quadrants" in b for b in blocks)
    for name in ("portfolio_pareto.png", "clv_quadrants.png"):
        assert (tmp_path / name).stat().st_size > 1000
