"""The lifetimes quickstart, run on crmmodels with only the imports changed.

``QUICKSTART`` follows the lifetimes documentation's quickstart (cdnow summary, BG/NBD,
matrices, ranking, period transactions, calibration/holdout, P(alive) history,
Gamma-Gamma and CLV). The test rewrites ``lifetimes`` into ``crmmodels.compat.lifetimes``
in the import lines only and executes the script with the Agg backend.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

QUICKSTART = """
from lifetimes.datasets import load_cdnow_summary
data = load_cdnow_summary(index_col=[0])
print(data.head())

from lifetimes import BetaGeoFitter
bgf = BetaGeoFitter(penalizer_coef=0.0)
bgf.fit(data['frequency'], data['recency'], data['T'])
print(bgf)
print(bgf.summary)

from lifetimes.plotting import plot_frequency_recency_matrix
plot_frequency_recency_matrix(bgf)

from lifetimes.plotting import plot_probability_alive_matrix
plot_probability_alive_matrix(bgf)

t = 1
data['predicted_purchases'] = bgf.conditional_expected_number_of_purchases_up_to_time(
    t, data['frequency'], data['recency'], data['T'])
top = data.sort_values(by='predicted_purchases').tail(5)
print(top)

from lifetimes.plotting import plot_period_transactions
plot_period_transactions(bgf)

from lifetimes.datasets import load_transaction_data
from lifetimes.utils import summary_data_from_transaction_data
transaction_data = load_transaction_data()
summary = summary_data_from_transaction_data(transaction_data, 'id', 'date',
                                             observation_period_end='2014-12-31')
print(summary.head())
bgf.fit(summary['frequency'], summary['recency'], summary['T'])

from lifetimes.utils import calibration_and_holdout_data
summary_cal_holdout = calibration_and_holdout_data(transaction_data, 'id', 'date',
                                                   calibration_period_end='2014-09-01',
                                                   observation_period_end='2014-12-31')
print(summary_cal_holdout.head())

from lifetimes.plotting import plot_calibration_purchases_vs_holdout_purchases
bgf.fit(summary_cal_holdout['frequency_cal'], summary_cal_holdout['recency_cal'],
        summary_cal_holdout['T_cal'])
plot_calibration_purchases_vs_holdout_purchases(bgf, summary_cal_holdout)

t = 10
individual = summary.iloc[20]
individual_prediction = bgf.predict(t, individual['frequency'], individual['recency'],
                                    individual['T'])

from lifetimes.plotting import plot_history_alive
id = 35
days_since_birth = 200
sp_trans = transaction_data.loc[transaction_data['id'] == id]
plot_history_alive(bgf, days_since_birth, sp_trans, 'date')

from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value
summary_with_money_value = load_cdnow_summary_data_with_monetary_value()
returning_customers_summary = summary_with_money_value[summary_with_money_value['frequency'] > 0]
print(returning_customers_summary[['monetary_value', 'frequency']].corr())

from lifetimes import GammaGammaFitter
ggf = GammaGammaFitter(penalizer_coef=0)
ggf.fit(returning_customers_summary['frequency'], returning_customers_summary['monetary_value'])
print(ggf)
expected_profit = ggf.conditional_expected_average_profit(
    summary_with_money_value['frequency'], summary_with_money_value['monetary_value'])
print(expected_profit.head(10))
print("Expected conditional average profit: %s, Average profit: %s" % (
    expected_profit.mean(),
    summary_with_money_value[summary_with_money_value['frequency'] > 0]['monetary_value'].mean()))

bgf.fit(summary_with_money_value['frequency'], summary_with_money_value['recency'],
        summary_with_money_value['T'])
clv = ggf.customer_lifetime_value(
    bgf,
    summary_with_money_value['frequency'],
    summary_with_money_value['recency'],
    summary_with_money_value['T'],
    summary_with_money_value['monetary_value'],
    time=12,
    discount_rate=0.01,
)
print(clv.head(10))
"""


def _migrate(script: str) -> str:
    """The one-line change: import from crmmodels.compat.lifetimes instead of lifetimes."""
    return re.sub(
        r"^(\s*)(from|import) lifetimes\b", r"\1\2 crmmodels.compat.lifetimes", script, flags=re.M
    )


def _run(script: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "quickstart"}
    exec(compile(script, "quickstart", "exec"), namespace)
    return namespace


def test_only_imports_change() -> None:
    migrated = _migrate(QUICKSTART)
    changed = [
        (a, b)
        for a, b in zip(QUICKSTART.splitlines(), migrated.splitlines(), strict=True)
        if a != b
    ]
    assert changed and all("import" in a and "lifetimes" in a for a, _ in changed)


def test_quickstart_runs_on_crmmodels(capsys: pytest.CaptureFixture[str]) -> None:
    ns = _run(_migrate(QUICKSTART))
    out = capsys.readouterr().out
    assert "<lifetimes.BetaGeoFitter: fitted with 2357 subjects, a: 0.79, alpha: 4.41" in out
    assert (
        "<lifetimes.GammaGammaFitter: fitted with 946 subjects, p: 6.25, q: 3.74, v: 15.45>" in out
    )
    top = ns["top"]
    assert list(top.columns) == ["frequency", "recency", "T", "predicted_purchases"]
    assert top["predicted_purchases"].is_monotonic_increasing
    assert np.isfinite(float(ns["individual_prediction"]))
    clv = ns["clv"]
    assert isinstance(clv, pd.Series) and clv.name == "clv" and len(clv) == 2357
    assert list(ns["summary_cal_holdout"].columns) == [
        "frequency_cal",
        "recency_cal",
        "T_cal",
        "frequency_holdout",
        "duration_holdout",
    ]


def test_quickstart_values_match_lifetimes_formulas(capsys: pytest.CaptureFixture[str]) -> None:
    """The final CLV equals lifetimes' CLV evaluated with the same fitted parameters."""
    lifetimes = pytest.importorskip("lifetimes")
    ns = _run(_migrate(QUICKSTART))
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_bgf = lifetimes.BetaGeoFitter()
        ref_bgf.params_ = ns["bgf"].params_.copy()
        ref_bgf.predict = ref_bgf.conditional_expected_number_of_purchases_up_to_time
        ref_ggf = lifetimes.GammaGammaFitter()
        ref_ggf.params_ = ns["ggf"].params_.copy()
        s = ns["summary_with_money_value"]
        ref = ref_ggf.customer_lifetime_value(
            ref_bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"], 12, 0.01
        )
    assert np.allclose(ns["clv"].to_numpy(), ref.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, "2", None])
def test_freq_multiplier_must_be_positive(bad) -> None:
    import pandas as pd

    from crmmodels.compat.lifetimes.utils import summary_data_from_transaction_data
    from crmmodels.errors import ArgumentError

    tx = pd.DataFrame({"id": [1, 1, 2], "date": ["2020-01-01", "2020-01-05", "2020-01-03"]})
    with pytest.raises(ArgumentError, match="freq_multiplier"):
        summary_data_from_transaction_data(tx, "id", "date", freq_multiplier=bad)
