"""Customer summary on an hourly or minute grid (``summarize_transactions``).

Stated behaviour: hours are those of the local wall clock (timezone-aware dates are read
at their local time, as days are); around a daylight-saving change the repeated hour is
one period and the skipped hour an empty one. ``observation_end`` is an instant: the
period holding it is the last one, and a purchase in a later period is an error.
"""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from crmmodels.errors import DataError
from crmmodels.transactions import summarize_transactions

TX = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 2],
        "date": pd.to_datetime(
            ["2024-01-01 05:30", "2024-01-01 05:50", "2024-01-02 17:45", "2024-01-02 03:00"]
        ),
        "amount": [10.0, 5.0, 20.0, 7.0],
    }
)


def _rows(frame: pd.DataFrame) -> list[list[float]]:
    return frame[["frequency", "recency", "T"]].astype(float).to_numpy().tolist()


def test_hourly_summary_by_hand() -> None:
    s = summarize_transactions(TX, amount_col="amount", period="h")
    # customer 1: hours 05 (twice) and 17 the next day: 36 hours apart; end = 17:45
    assert _rows(s) == [[1.0, 36.0, 36.0], [0.0, 0.0, 14.0]]
    assert s["monetary_value"].tolist() == [20.0, 0.0]
    assert s.attrs["time_unit"] == "h"


def test_minute_summary_by_hand() -> None:
    s = summarize_transactions(TX, period="min")
    assert _rows(s) == [[2.0, 2175.0, 2175.0], [0.0, 0.0, 885.0]]


def test_hourly_grid_counted_in_days() -> None:
    s = summarize_transactions(TX, period="h", time_unit="D", observation_end="2024-01-02T23:00")
    assert [v for row in _rows(s) for v in row] == pytest.approx([1.0, 1.5, 1.75, 0, 0, 20 / 24])


def test_lazy_and_eager_agree() -> None:
    eager = summarize_transactions(TX, amount_col="amount", period="h")
    lazy = summarize_transactions(pl.from_pandas(TX).lazy(), amount_col="amount", period="h")
    got = lazy.collect().to_pandas()
    assert _rows(got) == _rows(eager)
    assert got["monetary_value"].tolist() == eager["monetary_value"].tolist()


@pytest.mark.parametrize("lazy", [False, True])
def test_purchase_after_the_end_hour_is_an_error(lazy: bool) -> None:
    data = pl.from_pandas(TX).lazy() if lazy else TX
    with pytest.raises(DataError, match=r"'date'.*after the one holding observation_end in 1 row"):
        summarize_transactions(data, period="h", observation_end="2024-01-02T10:00")


def test_end_inside_the_last_hour_keeps_it() -> None:
    s = summarize_transactions(TX, period="h", observation_end="2024-01-02T17:59")
    assert _rows(s)[0] == [1.0, 36.0, 36.0]


def test_daylight_saving_fall_back_repeats_a_local_hour() -> None:
    # 2024-10-27 in Paris: 02:00-03:00 happens twice (CEST, then CET)
    utc = pd.to_datetime(["2024-10-27 00:30", "2024-10-27 01:30"]).tz_localize("UTC")
    local = utc.tz_convert("Europe/Paris")
    tx = pd.DataFrame({"customer_id": [1, 1], "date": local})
    on_wall_clock = summarize_transactions(tx, period="h")
    assert _rows(on_wall_clock) == [[0.0, 0.0, 0.0]]  # both at 02:30 local: one period
    elapsed = summarize_transactions(tx.assign(date=utc), period="h")
    assert _rows(elapsed) == [[1.0, 1.0, 1.0]]


def test_daylight_saving_spring_forward_skips_a_local_hour() -> None:
    # 2024-03-31 in Paris: 02:00-03:00 does not exist; one real hour is two on the clock
    utc = pd.to_datetime(["2024-03-31 00:30", "2024-03-31 01:30"]).tz_localize("UTC")
    tx = pd.DataFrame({"customer_id": [1, 1], "date": utc.tz_convert("Europe/Paris")})
    assert _rows(summarize_transactions(tx, period="h")) == [[1.0, 2.0, 2.0]]


def test_day_grid_unchanged_by_times_of_day() -> None:
    s = summarize_transactions(TX, period="D")
    assert _rows(s) == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
