from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmmodels.datasets._crm import simulate_crm
from crmmodels.errors import DataError, SchemaError
from crmmodels.idic import InteractionProfileResult, interaction_profile

from _engines import to_engine


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cid": [1, 1, 1, 1, 2, 2, 3],
            "ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-02-01",
                    "2024-03-01",
                    "2024-03-31 12:00",
                    "2023-12-01",
                    "2024-01-15",
                    "2024-03-30",
                ],
                format="mixed",
            ),
            "ch": ["email", "email", "phone", "sms", "store", "store", "email"],
            "resp": [True, False, None, True, False, False, True],
        }
    )


def _plain_pandas(log: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Independent per-customer computation with plain pandas."""
    g = log.groupby("cid")
    out = pd.DataFrame(
        {
            "n_interactions": g.size(),
            "last_contact": g["ts"].max(),
            "response_rate": g["resp"].apply(lambda s: s.dropna().astype(float).mean()),
        }
    )
    out["days_since_contact"] = (as_of - out["last_contact"]).dt.total_seconds() / 86400
    counts = pd.crosstab(log["cid"], log["ch"])
    p = counts.div(counts.sum(axis=1), axis=0)
    out["channel_entropy"] = -(p * np.log(p.where(p > 0, 1.0))).sum(axis=1)
    out["preferred_channel"] = counts[sorted(counts.columns)].idxmax(axis=1)
    for c in counts.columns:
        out[f"n_{c}"] = counts[c]
    return out


def test_profile_matches_plain_pandas_by_hand() -> None:
    log = _log()
    before = log.copy()
    res = interaction_profile(
        log,
        customer_col="cid",
        date_col="ts",
        channel_col="ch",
        response_col="resp",
        strategic=[1, 2, 4],
        coverage_days=30,
    )
    pd.testing.assert_frame_equal(log, before)
    assert isinstance(res, InteractionProfileResult)
    got = res.profiles.set_index("cid")
    want = _plain_pandas(log, pd.Timestamp("2024-03-31 12:00"))
    for col in ["n_interactions", "n_email", "n_phone", "n_sms", "n_store"]:
        assert got[col].tolist() == want[col].tolist(), col
    np.testing.assert_allclose(got["days_since_contact"], want["days_since_contact"])
    np.testing.assert_allclose(got["response_rate"], want["response_rate"])
    np.testing.assert_allclose(got["channel_entropy"], want["channel_entropy"])
    assert got["preferred_channel"].tolist() == want["preferred_channel"].tolist()
    # hand values: customer 1 has 4 contacts on 3 channels (2,1,1); response 2 of 3 known
    assert got.loc[1, "channel_entropy"] == pytest.approx(-(0.5 * np.log(0.5) + 0.5 * np.log(0.25)))
    assert got.loc[1, "response_rate"] == pytest.approx(2 / 3)
    assert got.loc[1, "n_responses_known"] == 3
    assert got.loc[2, "channel_entropy"] == 0.0
    assert got.loc[2, "days_since_contact"] == pytest.approx(76.5)
    # coverage: 1 contacted 0 days ago, 2 76.5 days ago, 4 never -> 1 of 3
    assert res.coverage == pytest.approx(1 / 3)
    assert (res.n_strategic, res.n_strategic_contacted) == (3, 1)
    assert res.uncontacted["cid"].tolist() == [2, 4]
    assert res.uncontacted["last_contact"].isna().tolist() == [False, True]
    mix = res.channel_mix.set_index("channel")
    assert mix["n_interactions"].to_dict() == {"email": 3, "phone": 1, "sms": 1, "store": 2}
    assert mix["share"].sum() == pytest.approx(1.0)
    assert res.observation_end == "2024-03-31T12:00:00"


def test_as_of_excludes_later_interactions_and_ties() -> None:
    log = _log()
    res = interaction_profile(
        log, customer_col="cid", date_col="ts", channel_col="ch", observation_end="2024-02-15"
    )
    assert res.n_after_observation_end == 3 and res.n_interactions == 4
    got = res.profiles.set_index("cid")
    assert sorted(got.index) == [1, 2]
    assert got.loc[1, "preferred_channel"] == "email"
    # tie-break: alphabetical; customer 9 has one email and one sms -> email
    tie = pd.DataFrame(
        {"cid": [9, 9], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"]), "ch": ["sms", "email"]}
    )
    r = interaction_profile(tie, customer_col="cid", date_col="ts", channel_col="ch")
    assert r.profiles["preferred_channel"].iloc[0] == "email"
    assert r.profiles["channel_entropy"].iloc[0] == pytest.approx(np.log(2))
    assert r.coverage is None and "response_rate" not in r.profiles


def test_simulated_log_against_pandas() -> None:
    crm = simulate_crm(300, seed=3)
    log = crm.interactions.rename(
        columns={"customer_id": "cid", "timestamp": "ts", "channel": "ch", "responded": "resp"}
    )
    res = interaction_profile(
        log, customer_col="cid", date_col="ts", channel_col="ch", response_col="resp"
    )
    got = res.profiles.set_index("cid")
    want = _plain_pandas(log, log["ts"].max())
    np.testing.assert_allclose(got["channel_entropy"], want["channel_entropy"], atol=1e-12)
    np.testing.assert_allclose(got["response_rate"], want["response_rate"])
    assert got["n_interactions"].sum() == len(log)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 100), st.sampled_from(["a", "b", "c"])),
        min_size=1,
        max_size=40,
    )
)
def test_property_counts_and_entropy_bounds(rows: list[tuple[int, int, str]]) -> None:
    log = pd.DataFrame(rows, columns=["cid", "day", "ch"])
    log["ts"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(log["day"], unit="D")
    res = interaction_profile(log, customer_col="cid", date_col="ts", channel_col="ch")
    prof = res.profiles
    assert prof["cid"].is_unique and len(prof) == log["cid"].nunique()
    assert prof["n_interactions"].sum() == len(log)
    n_cols = [c for c in prof.columns if c.startswith("n_") and c != "n_interactions"]
    assert (prof[n_cols].sum(axis=1) == prof["n_interactions"]).all()
    assert (prof["channel_entropy"] >= -1e-12).all()
    assert (prof["channel_entropy"] <= np.log(3) + 1e-12).all()
    assert (prof["days_since_contact"] >= 0).all()
    shuffled = interaction_profile(
        log.sample(frac=1.0, random_state=1), customer_col="cid", date_col="ts", channel_col="ch"
    )
    pd.testing.assert_frame_equal(prof, shuffled.profiles)


def test_bad_inputs() -> None:
    log = _log()
    kw = {"customer_col": "cid", "date_col": "ts", "channel_col": "ch"}
    with pytest.raises(SchemaError, match="no column 'chan'"):
        interaction_profile(log, customer_col="cid", date_col="ts", channel_col="chan")
    with pytest.raises(SchemaError, match="'respnse'"):
        interaction_profile(log, response_col="respnse", **kw)
    with pytest.raises(DataError, match="'cid' is null in 1 row"):
        interaction_profile(log.assign(cid=[None, 1, 1, 1, 2, 2, 3]), **kw)
    with pytest.raises(DataError, match="'ts' is null"):
        interaction_profile(log.assign(ts=log["ts"].where(log.index > 0)), **kw)
    with pytest.raises(DataError, match="empty"):
        interaction_profile(log.iloc[:0], **kw)
    with pytest.raises(ValueError, match="coverage_days"):
        interaction_profile(log, coverage_days=-1, **kw)


def test_engines(engine: str) -> None:
    log = _log().drop(columns="resp").assign(resp=[1.0, 0.0, None, 1.0, 0.0, 0.0, 1.0])
    kw = {"customer_col": "cid", "date_col": "ts", "channel_col": "ch", "response_col": "resp"}
    ref = interaction_profile(log, strategic=[1, 2, 4], coverage_days=30, **kw)
    res = interaction_profile(to_engine(log, engine), strategic=[1, 2, 4], coverage_days=30, **kw)
    got = res.profiles.sort_values("cid").reset_index(drop=True)
    want = ref.profiles
    for col in ["cid", "n_interactions", "n_email", "n_store", "preferred_channel"]:
        assert got[col].tolist() == want[col].tolist(), col
    np.testing.assert_allclose(got["days_since_contact"], want["days_since_contact"])
    np.testing.assert_allclose(got["response_rate"], want["response_rate"])
    np.testing.assert_allclose(got["channel_entropy"], want["channel_entropy"])
    assert res.coverage == pytest.approx(1 / 3)


def test_plot_and_repr() -> None:
    res = interaction_profile(
        _log(), customer_col="cid", date_col="ts", channel_col="ch", strategic=[1, 2]
    )
    ax = res.plot()
    assert ax.get_ylabel() == "share of interactions" and "coverage" in ax.get_title()
    assert len(ax.patches) == 4
    assert "InteractionProfileResult(" in repr(res)
