"""The simulated big-log generator of the benchmarks (benchmarks/make_big_log.py)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from make_big_log import make_big_log


def _digest(folder: Path) -> list[str]:
    return [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("part-*.parquet"))
    ]


def test_writes_exactly_the_rows_asked_in_files_of_bounded_size(tmp_path: Path) -> None:
    info = make_big_log(10_000, tmp_path / "a", seed=3, rows_per_file=3_000, workers=1)
    files = sorted((tmp_path / "a").glob("part-*.parquet"))
    assert info["rows"] == 10_000
    assert info["files"] == len(files) >= 3
    table = pq.read_table(files)
    assert table.num_rows == 10_000
    assert table.schema.equals(
        pa.schema(
            [("customer_id", pa.int64()), ("date", pa.timestamp("us")), ("amount", pa.float64())]
        )
    )
    assert all(pq.read_metadata(f).num_rows <= 3_000 * 1.5 for f in files)
    assert pc.min(table["amount"]).as_py() > 0
    ids = table["customer_id"].to_numpy()
    assert ids.min() == 1 and ids.max() == info["max_customer_id"]
    dates = table["date"].to_numpy()
    assert dates.min() >= np.datetime64("2024-01-01")
    assert dates.max() < np.datetime64("2025-12-29")


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    make_big_log(10_000, tmp_path / "a", seed=3, rows_per_file=3_000, workers=1)
    make_big_log(10_000, tmp_path / "b", seed=3, rows_per_file=3_000, workers=2)
    make_big_log(10_000, tmp_path / "c", seed=4, rows_per_file=3_000, workers=1)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
