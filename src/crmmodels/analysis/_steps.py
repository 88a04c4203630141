"""The steps of a customer-base analysis: run each, time it, and record what happened.

A step that the data cannot support (no repeat buyers for a spend model, a holdout that
does not fit in the log, a fit that does not converge) is recorded as *skipped* with the
reason in plain words, and the analysis goes on: the customer table still comes out with
that step's columns empty. Warnings of a step (a fit ending at a limiting model, customers
left out of a spend model) are kept as notes of the step, for the report.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import narwhals.stable.v2 as nw
import pandas as pd

from crmmodels._progress import Progress
from crmmodels._results import Result
from crmmodels.clv._selection import CANDIDATES
from crmmodels.errors import ConvergenceError, DataError

__all__ = ["AnalysisStep", "StepLog", "StepsResult", "whole_period_model"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class AnalysisStep:
    """One step of the analysis.

    Attributes
    ----------
    name : str
        What the step computes ("Model selection", "Spend model" ...).
    status : {"done", "skipped"}
        Whether it ran.
    detail : str
        What it found, or why it was skipped, in one plain sentence.
    notes : tuple of str
        Warnings the step raised, in their own words.
    seconds : float
        Wall time of the step.
    """

    name: str
    status: str
    detail: str
    notes: tuple[str, ...]
    seconds: float


@dataclasses.dataclass(frozen=True, repr=False)
class StepsResult(Result):
    """The steps of one analysis, in order (``.to_frame()``: one row per step).

    Examples
    --------
    >>> steps = StepsResult((AnalysisStep("Summary", "done", "10 customers", (), 0.1),))
    >>> steps.to_frame()[["step", "status"]]
          step status
    0  Summary   done
    """

    steps: tuple[AnalysisStep, ...]

    @property
    def skipped(self) -> tuple[AnalysisStep, ...]:
        """The steps that did not run."""
        return tuple(s for s in self.steps if s.status == "skipped")

    def to_frame(self) -> pd.DataFrame:
        """One row per step: step, status, detail, notes, seconds."""
        return pd.DataFrame(
            {
                "step": [s.name for s in self.steps],
                "status": [s.status for s in self.steps],
                "detail": [s.detail for s in self.steps],
                "notes": [" ".join(s.notes) for s in self.steps],
                "seconds": [s.seconds for s in self.steps],
            }
        )

    def __repr__(self) -> str:
        """Steps done and skipped."""
        done = len(self.steps) - len(self.skipped)
        return f"StepsResult(done={done}, skipped={len(self.skipped)})"


class StepLog:
    """Runs the steps of an analysis and keeps their records (reports progress on request)."""

    def __init__(self, progress: bool) -> None:
        self.records: list[AnalysisStep] = []
        self._report = Progress("analyze", enabled=progress, logger=__name__)

    def run(
        self,
        name: str,
        fn: Callable[[], T],
        describe: Callable[[T], str] | None = None,
    ) -> T | None:
        """Run ``fn``; on a data problem record the step as skipped and return None.

        Only the errors a valid log can produce are caught (:class:`DataError`,
        :class:`ConvergenceError`); a bug still raises.
        """
        start = time.perf_counter()
        self._report.info("%s ...", name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = fn()
            except (DataError, ConvergenceError) as exc:
                self._add(name, "skipped", _sentence(str(exc)), caught, start)
                return None
        detail = describe(out) if describe is not None else ""
        self._add(name, "done", detail, caught, start)
        return out

    def skip(self, name: str, reason: str) -> None:
        """Record a step that cannot run because an earlier one was skipped."""
        self.records.append(AnalysisStep(name, "skipped", _sentence(reason), (), 0.0))

    def result(self) -> StepsResult:
        """The records so far."""
        return StepsResult(tuple(self.records))

    def _add(self, name: str, status: str, detail: str, caught: list[Any], start: float) -> None:
        notes: list[str] = []
        for w in caught:
            text = str(w.message)
            if text not in notes:
                notes.append(text)
        seconds = time.perf_counter() - start
        self.records.append(AnalysisStep(name, status, detail, tuple(notes), seconds))
        word = "done" if status == "done" else f"skipped: {detail}"
        self._report.info("%s: %s (%.1f s)", name, word, seconds)

    def finish(self) -> None:
        """Report the total time (when progress is shown)."""
        self._report.done()


def _sentence(text: str) -> str:
    """The first paragraph of an error message, as one line."""
    first = text.strip().split("\n\n")[0]
    return " ".join(first.split())


def whole_period_model(
    steps: StepLog, selection: Any, summary: Any, model_name: str | None, customer_col: str
) -> Any:
    """The chosen model refitted on the whole period, or a fallback fit.

    When the selection was skipped, the forced model (else BG/NBD) is fitted on the whole
    period's ``summary`` (a pandas frame or a narwhals frame of an engine) without a
    holdout comparison.
    """
    if selection is not None:
        return selection.model
    name = model_name if model_name is not None and model_name != "BGBB" else "BGNBD"
    cls = CANDIDATES[name]
    data = summary.to_native() if isinstance(summary, (nw.DataFrame, nw.LazyFrame)) else summary
    return steps.run(
        f"Transaction model ({name}, whole period)",
        lambda: cls().fit(data, customer_col=customer_col),
        lambda m: f"{name} fitted on {int(m.n_customers_):,} customers, no holdout comparison",
    )
