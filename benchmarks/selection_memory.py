"""Working memory and time of ``select_model`` on the cached analysis log.

python benchmarks/selection_memory.py 1e6 1e7

For each size: the tracemalloc peak of ``select_model`` above the memory before the
call and the best of 3 wall times (without tracemalloc). The log is that of
``bench_analysis``: int64 ids, ``datetime64[ns]`` dates, float64 amounts (generated and
cached on first use).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import warnings
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from bench_analysis import data_dir
from crmmodels.clv import select_model

END = "1998-06-30"
MIB = 2**20


def _peak(fn: Any) -> float:
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        fn()
        return (tracemalloc.get_traced_memory()[1] - start) / MIB
    finally:
        tracemalloc.stop()


def measure(n: int) -> str:
    """The figures of one size, as one line."""
    cols = {p.stem: np.load(p) for p in data_dir(n).glob("*.npy")}
    log = pd.DataFrame({c: cols[c] for c in ("customer_id", "date", "amount")})
    del cols
    input_mib = log.memory_usage(index=False).sum() / MIB
    kw: dict[str, Any] = {"observation_end": END, "time_unit": "W"}
    plain = _peak(partial(select_model, log, **kw))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        select_model(log, **kw)
        times.append(time.perf_counter() - t0)
    return (
        f"{n:.0e} rows (input {input_mib:.0f} MiB): select_model peak {plain:.0f} MiB; "
        f"best of 3 {min(times):.2f} s"
    )


def main(sizes: list[int]) -> None:
    warnings.simplefilter("ignore")
    for n in sizes:
        print(measure(n), flush=True)


if __name__ == "__main__":
    main([int(float(a)) for a in sys.argv[1:]] or [1_000_000])
