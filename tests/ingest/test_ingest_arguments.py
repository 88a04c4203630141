import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmmodels._ingest.arguments import (
    check_bool,
    check_choice,
    check_column_name,
    check_int,
    check_level,
    check_number,
)
from crmmodels.errors import ArgumentError, CRMModelsError, DataError


def test_argument_error_is_ours_and_both_builtins():
    assert issubclass(ArgumentError, CRMModelsError)
    assert issubclass(ArgumentError, DataError)
    assert issubclass(ArgumentError, ValueError)
    assert issubclass(ArgumentError, TypeError)


@pytest.mark.parametrize("bad", ["abc", "1", None, True, np.bool_(False), [1.0], 10**400, math.inf])
def test_check_number_refuses_with_name(bad):
    with pytest.raises(ArgumentError, match="horizon must be a finite number"):
        check_number(bad, "horizon")


def test_check_number_bounds():
    assert check_number(np.float32(0.5), "x", low=0, high=1) == 0.5
    assert check_number(0, "x", low=0) == 0.0
    with pytest.raises(ArgumentError, match="> 0"):
        check_number(0, "x", low=0, low_open=True)
    with pytest.raises(ArgumentError, match="<= 100"):
        check_number(150, "fuzzy_threshold", low=0, high=100)


@pytest.mark.parametrize("bad", [4.5, "3", None, True, math.nan, 0, -1])
def test_check_int_refuses(bad):
    with pytest.raises(ArgumentError, match="n_nodes must be a whole number >= 1"):
        check_int(bad, "n_nodes", low=1)


@given(st.integers(min_value=1, max_value=10**6))
def test_check_int_accepts_whole_numbers(n):
    assert check_int(n, "k", low=1) == n
    assert check_int(float(n), "k", low=1) == n
    assert check_int(np.int64(n), "k", low=1) == n


def test_check_level_choice_bool_column():
    assert check_level(0.95) == 0.95
    for bad in (0, 1, "0.9", 1.5):
        with pytest.raises(ArgumentError, match="level"):
            check_level(bad)
    assert check_choice("D", "period", ["D", "W"]) == "D"
    for bad in (["D"], "X", 10**30, np.array(["D"])):
        with pytest.raises(ArgumentError, match="period must be one of"):
            check_choice(bad, "period", ["D", "W"])
    assert check_bool(np.bool_(True), "progress") is True
    with pytest.raises(ArgumentError):
        check_bool(1, "progress")
    with pytest.raises(ArgumentError, match="amount_col"):
        check_column_name("", "amount_col")
    with pytest.raises(ArgumentError, match="amount_col"):
        check_column_name(0, "amount_col")
