"""``crmmodels.errors``: the class hierarchy, the message builders and ``warn``."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from crmmodels import errors
from crmmodels.errors import (
    ArgumentError,
    BoundaryWarning,
    ConvergenceError,
    CRMModelsError,
    CRMModelsWarning,
    DataError,
    EmptyQuadrantWarning,
    NotFittedError,
    SchemaError,
    SkippedStepWarning,
    bad_rows_message,
    missing_column_message,
    warn,
)

#: each class and the built-ins it promises (module docstring) to derive from
HIERARCHY = {
    SchemaError: (CRMModelsError, ValueError),
    DataError: (CRMModelsError, ValueError),
    ArgumentError: (DataError, CRMModelsError, ValueError, TypeError),
    ConvergenceError: (CRMModelsError, RuntimeError),
    NotFittedError: (CRMModelsError, AttributeError),
    CRMModelsError: (Exception,),
    CRMModelsWarning: (UserWarning,),
    BoundaryWarning: (CRMModelsWarning, RuntimeWarning, UserWarning),
    SkippedStepWarning: (CRMModelsWarning, UserWarning),
    EmptyQuadrantWarning: (CRMModelsWarning, UserWarning),
}


def test_every_public_class_is_in_the_table() -> None:
    public = {getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)}
    assert public == set(HIERARCHY)


@pytest.mark.parametrize("cls", list(HIERARCHY), ids=lambda c: c.__name__)
def test_class_derives_from_the_documented_bases(cls: type) -> None:
    for base in HIERARCHY[cls]:
        assert issubclass(cls, base), base
    if issubclass(cls, Warning):
        assert issubclass(cls, CRMModelsWarning)
    else:
        assert issubclass(cls, CRMModelsError)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (SchemaError, ValueError),
        (DataError, ValueError),
        (ArgumentError, TypeError),
        (ArgumentError, ValueError),
        (ConvergenceError, RuntimeError),
        (NotFittedError, AttributeError),
    ],
)
def test_errors_are_caught_by_the_matching_builtin(cls: type[Exception], builtin: type) -> None:
    with pytest.raises(builtin, match="the message"):
        raise cls("the message")


def test_not_fitted_error_makes_getattr_fall_back() -> None:
    class Model:
        @property
        def params_(self) -> float:
            raise NotFittedError("fit first")

    assert getattr(Model(), "params_", None) is None
    assert not hasattr(Model(), "params_")


def test_convergence_error_keeps_a_copy_of_its_diagnostics() -> None:
    diag = {"gradient_norm": 1.5, "iterations": 10}
    exc = ConvergenceError("no convergence", diag)
    assert str(exc) == "no convergence"
    assert exc.diagnostics == diag
    diag["iterations"] = 99
    assert exc.diagnostics["iterations"] == 10
    assert ConvergenceError("x").diagnostics == {}


@pytest.mark.parametrize(
    ("n_bad", "example", "fix", "expected"),
    [
        (1, -2.5, "", "column 'amount' is negative in 1 row (first example: -2.5)."),
        (3, "a", "", "column 'amount' is negative in 3 rows (first example: 'a')."),
        (
            2,
            {"id": 1},
            "Drop them.",
            "column 'amount' is negative in 2 rows (first example: {'id': 1}). Drop them.",
        ),
        (0, None, "", "column 'amount' is negative in 0 rows (first example: None)."),
    ],
)
def test_bad_rows_message(n_bad: int, example: object, fix: str, expected: str) -> None:
    assert bad_rows_message("amount", "is negative", n_bad, example, fix) == expected


def test_missing_column_message_suggests_the_closest_name() -> None:
    text = missing_column_message("customer_id", ["custmer_id", "date", "customer"], "tx")
    assert text.startswith("tx has no column 'customer_id'. Did you mean 'custmer_id'?")
    assert text.endswith("Available: ['custmer_id', 'date', 'customer'].")


def test_missing_column_message_without_a_close_name() -> None:
    text = missing_column_message("amount", ["date", 3])
    assert text == "input has no column 'amount'. Available: ['date', '3']."
    assert "Did you mean" not in text


def test_warn_points_at_the_callers_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line() + 1
        warn("look here", BoundaryWarning)
    assert len(caught) == 1
    assert caught[0].category is BoundaryWarning
    assert str(caught[0].message) == "look here"
    assert Path(caught[0].filename).resolve() == Path(__file__).resolve()
    assert caught[0].lineno == line


def test_warn_from_inside_the_package_still_points_at_the_caller() -> None:
    """A warning issued deep inside crmmodels is attributed to the user's call."""
    import numpy as np
    import pandas as pd

    from crmmodels.quadrants import clv_quadrants

    table = {"customer_id": [1, 2, 3, 4], "current_value": np.arange(4.0)}
    table["potential_value"] = np.arange(4.0)  # same ranks: two quadrants stay empty
    with pytest.warns(CRMModelsWarning) as caught:
        line = _line() + 1
        clv_quadrants(pd.DataFrame(table))
    assert Path(caught[0].filename).resolve() == Path(__file__).resolve()
    assert caught[0].lineno == line


def test_warn_default_category() -> None:
    with pytest.warns(CRMModelsWarning, match="plain") as caught:
        warn("plain")
    assert caught[0].category is CRMModelsWarning


def _line() -> int:
    import inspect

    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno
