"""The published vocabulary (docs/names.md) against the public API.

Every public function, method and result class of ``crmmodels`` (the compatibility layer
and the array kernels aside) is walked: each parameter naming a column must be in the
columns table, and no parameter or result field may use a name of the "Not" column.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crmmodels

NAMES_PAGE = Path(__file__).resolve().parents[1] / "docs" / "names.md"

#: old names still present until their rename lands; the test fails on a stale entry
PENDING: dict[str, str] = {}


def _table_rows() -> Iterator[tuple[list[str], list[str]]]:
    for line in NAMES_PAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`([^`]+)`", cells[0])
        banned = re.findall(r"`([^`]+)`", cells[2]) if len(cells) > 2 else []
        yield names, banned


PUBLISHED = {name for names, _ in _table_rows() for name in names}
BANNED = {old for _, olds in _table_rows() for old in olds}


def _public_modules() -> list[Any]:
    mods = [crmmodels]
    for info in pkgutil.walk_packages(crmmodels.__path__, "crmmodels."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] in ("compat", "kernels"):
            continue
        mods.append(importlib.import_module(info.name))
    return mods


def _callables() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for mod in _public_modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            qual = f"{mod.__name__}.{name}"
            if inspect.isclass(obj):
                found[qual] = obj
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and callable(member):
                        found[f"{qual}.{attr}"] = member
            elif callable(obj):
                found[qual] = obj
    return found


CALLABLES = _callables()


def _parameters(obj: Any) -> list[str]:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters if p not in ("self", "cls") and not p.startswith("_")]


def _fields(obj: Any) -> list[str]:
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj) if not f.name.startswith("_")]
    return []


def _uses_old_word(name: str) -> bool:
    """The name is an old one, or holds an old two-word name (``n_after_as_of``)."""
    padded = f"_{name}_"
    if name in PUBLISHED:
        return False
    return name in BANNED or any("_" in old and f"_{old}_" in padded for old in BANNED)


def test_the_names_page_parses() -> None:
    assert {"customer_col", "date_col", "amount_col", "observation_end", "time_unit"} <= PUBLISHED
    assert {"as_of", "time_col", "value_col", "monetary_col"} <= BANNED
    assert not PUBLISHED & BANNED
    assert len(CALLABLES) > 100


def test_every_column_argument_is_published() -> None:
    unknown = sorted(
        f"{qual}({p})"
        for qual, obj in CALLABLES.items()
        for p in _parameters(obj)
        if (p.endswith("_col") or p.endswith("_cols")) and p not in PUBLISHED | set(PENDING)
    )
    assert not unknown, f"column arguments missing from docs/names.md: {unknown}"


def test_no_public_name_uses_an_old_word() -> None:
    used = sorted(
        f"{qual}: {p}"
        for qual, obj in CALLABLES.items()
        for p in _parameters(obj) + _fields(obj)
        if _uses_old_word(p)
    )
    pending = {u for u in used if u.split(": ")[1] in PENDING}
    assert _uses_old_word("n_after_as_of") and not _uses_old_word("discount_rate")
    assert sorted(set(used) - pending) == [], "old names in the public API"
    stale = set(PENDING) - {u.split(": ")[1] for u in used}
    assert not stale, f"entries of PENDING that are fixed now: {sorted(stale)}"


@pytest.mark.parametrize("name", ["period", "time_unit", "cohort"])
def test_period_arguments_document_the_one_vocabulary(name: str) -> None:
    """A ``period``/``time_unit``/``cohort`` argument accepts the codes of the vocabulary."""
    from crmmodels._ingest.periods import check_period

    for code in ("D", "W", "M", "Q", "Y"):
        assert check_period(code, name) == code
    owners = [q for q, obj in CALLABLES.items() if name in _parameters(obj)]
    assert owners or name == "cohort"


def test_an_old_argument_name_warns_and_still_works() -> None:
    from crmmodels.datasets import load_cdnow_summary
    from crmmodels.errors import ArgumentError

    s = load_cdnow_summary().head(50)
    new = crmmodels.rfm_scores(s, monetary_value_col=None)
    with pytest.warns(FutureWarning, match="'monetary_col' is now called 'monetary_value_col'"):
        old = crmmodels.rfm_scores(s, monetary_col=None)
    assert old.equals(new)
    with pytest.raises(ArgumentError, match="give 'monetary_value_col' only"):
        crmmodels.rfm_scores(s, monetary_col=None, monetary_value_col=None)


def test_an_invalid_configuration_object_is_an_argument_error_not_pydantics() -> None:
    from pydantic import ValidationError

    from crmmodels.errors import ArgumentError

    for make in (
        lambda: crmmodels.RFMRule(segment="x", r=(4, 2)),
        lambda: crmmodels.RFMRule(segment="", r=(1, 2)),
        lambda: crmmodels.RFMRule(segment="x", q=(1, 2)),
    ):
        with pytest.raises(ArgumentError, match=r"RFMRule \(segment .*\) is not valid") as info:
            make()
        assert not isinstance(info.value, ValidationError)


OLD_CLASS_NAMES = {
    "BundleCandidates": "BundleCandidatesResult",
    "CalibrationHoldout": "CalibrationHoldoutResult",
    "CohortRetention": "CohortRetentionResult",
    "ForecastBacktest": "ForecastBacktestResult",
    "LifecycleStages": "LifecycleStagesResult",
    "LifecycleTransitions": "LifecycleTransitionsResult",
    "PipelineForecast": "PipelineForecastResult",
    "RetentionMetrics": "RetentionMetricsResult",
    "SalesVelocity": "SalesVelocityResult",
}


@pytest.mark.parametrize("old", sorted(OLD_CLASS_NAMES))
def test_old_result_names_warn_and_give_the_new_class(old: str) -> None:
    new = OLD_CLASS_NAMES[old]
    with pytest.warns(FutureWarning, match=f"crmmodels.{old} is now called {new}"):
        assert getattr(crmmodels, old) is getattr(crmmodels, new)
    assert old not in crmmodels.__all__ and new in crmmodels.__all__
    with pytest.raises(AttributeError):
        crmmodels.NoSuchName  # noqa: B018


def test_every_public_result_class_ends_in_result() -> None:
    from crmmodels._results import Result

    for qual, obj in CALLABLES.items():
        if inspect.isclass(obj) and issubclass(obj, Result):
            assert obj.__name__.endswith("Result"), qual


def test_bad_argument_choices_are_argument_errors_everywhere() -> None:
    """One error class per kind of mistake: a bad argument value is an ArgumentError."""
    from crmmodels.errors import ArgumentError
    from crmmodels.idic import RuleSet, normalize_phone
    from crmmodels.plotting.idic import plot_value_needs

    calls = [
        lambda: crmmodels.datasets.simulate_crm(0),
        lambda: normalize_phone(__import__("pandas").Series(["1"]), "uk"),
        lambda: RuleSet.from_dicts([{"name": "x", "action": "a", "conditions": {}}]),
        lambda: plot_value_needs(None, what="sizes"),  # type: ignore[arg-type]
        lambda: crmmodels.summarize_transactions(
            __import__("pandas").DataFrame({"customer_id": [1], "date": ["2024-01-01"]}),
            period="fortnight",
        ),
    ]
    for call in calls:
        with pytest.raises(ArgumentError):
            call()
