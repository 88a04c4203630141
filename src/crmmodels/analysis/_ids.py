"""Customer ids coded once: the steps of ``analyze`` group by small integers.

Grouping a pandas log by text ids costs several times grouping it by integers (hashing
and comparing strings at every ``group_by``, and the analysis groups the log six
times). ``analyze`` therefore replaces text ids by their rank among the sorted distinct
ids once, runs the steps on the coded log, and puts the ids back in every per-customer
output. Ranks of the *sorted* ids keep every output in the order the text ids give.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["IdCodes", "code_ids"]


@dataclasses.dataclass(frozen=True)
class IdCodes:
    """The distinct ids of a coded log, in sorted order (code ``k`` is ``ids[k]``)."""

    column: str
    ids: pd.Index

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its coded id column replaced by the ids (a new frame)."""
        codes = frame[self.column].to_numpy()
        out = frame.copy(deep=False)
        out[self.column] = pd.Series(self.ids.take(codes), index=frame.index)
        return out

    def decode_result(self, result: Any, field: str) -> Any:
        """A frozen result with the id column of its frame ``field`` decoded."""
        if result is None:
            return None
        return dataclasses.replace(result, **{field: self.decode(getattr(result, field))})


def code_ids(log: Any, customer_col: str) -> tuple[Any, IdCodes | None]:
    """The log with integer-coded ids and the codes, or the log unchanged and None.

    Only pandas logs with non-integer ids are coded (other engines group text keys
    fast, and integer ids need no coding). The caller's frame is not changed.
    """
    if not isinstance(log, pd.DataFrame):
        return log, None
    ids = log[customer_col]
    if pd.api.types.is_integer_dtype(ids.dtype):
        return log, None
    codes, uniques = pd.factorize(ids, sort=True)
    coded = log.copy(deep=False)
    coded[customer_col] = codes.astype(np.int64)
    return coded, IdCodes(customer_col, uniques)
