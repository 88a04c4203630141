"""Write a simulated transaction log of any size as a folder of Parquet files.

The log is built in blocks of customers, each simulated with
:func:`crmmodels.datasets.simulate_transactions` (BG/NBD purchases, Gamma-Gamma amounts,
vectorised over the customers of a block), so memory stays bounded by one block whatever
the total: one file per block, about ``--rows-per-file`` rows each (default 1e7). The
last block is cut at exactly ``--rows`` rows (only its last customer can lose purchases).

Columns: ``customer_id`` (int64, 1..n), ``date`` (timestamp[us], the time of day kept)
and ``amount`` (float64, rounded to cents). Rows are in date order within a file;
a customer's purchases sit in one file. The same ``--seed``, ``--rows`` and
``--rows-per-file`` give byte-identical data.

Customers: BG/NBD with r=1.0, alpha=8.0, a=0.5, b=5.0 (weeks), first purchases spread
over the first 52 weeks from 2024-01-01, observed for 104 weeks (observation_end
2025-12-28); about 7.4 transactions per customer, so 1e8 rows hold about 1.35e7
customers. Measured on the 2-core benchmark machine (see results/engines.md), while
other jobs kept its load average between 12 and 16 (at load 4 one process wrote 1e7
rows in 17 s, so a quiet machine should write 1e8 in about 3 minutes with 2 workers;
not measured):

======  ==========  =====  ============  =======================
rows    customers   files  on disk       seconds (load 12 to 16)
======  ==========  =====  ============  =======================
1e6     135,271     1      11 MiB        28
1e7     1,346,901   1      104 MiB       131
1e8     13,469,783  10     1019 MiB      744
======  ==========  =====  ============  =======================

Peak memory: about 1.3 GB per worker (one block of 1e7 rows).

    python benchmarks/make_big_log.py                         # 1e8 rows
    python benchmarks/make_big_log.py --rows 1e7 --out /tmp/log_1e7 --seed 7
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crmmodels.datasets import simulate_transactions

HERE = Path(__file__).resolve().parent
PARAMS = {"r": 1.0, "alpha": 8.0, "a": 0.5, "b": 5.0}
SPEND = {"p": 6.25, "q": 3.74, "v": 15.44}
START = "2024-01-01"
OBSERVATION_WEEKS = 104.0
ACQUISITION_WEEKS = 52.0
#: the end of observation as a calendar day (START + 104 weeks - 1 day), for the summary
OBSERVATION_END = "2025-12-28"
ROWS_PER_CUSTOMER = 7.4
SCHEMA = pa.schema(
    [("customer_id", pa.int64()), ("date", pa.timestamp("us")), ("amount", pa.float64())]
)


def _block(n_customers: int, first_id: int, seed: int, block: int) -> pa.Table:
    """Customers ``first_id ..`` of one block, in customer then date order."""
    state = np.random.SeedSequence(seed, spawn_key=(block,)).generate_state(1, np.uint64)
    tx = simulate_transactions(
        n_customers,
        model="bgnbd",
        params=PARAMS,
        spend_params=SPEND,
        observation_weeks=OBSERVATION_WEEKS,
        acquisition_weeks=ACQUISITION_WEEKS,
        seed=int(state[0]),
        start=START,
    )
    return pa.table(
        {
            "customer_id": tx["customer_id"].to_numpy() + (first_id - 1),
            "date": tx["date"].to_numpy().astype("datetime64[us]"),
            "amount": tx["amount"].to_numpy().round(2),
        },
        schema=SCHEMA,
    )


def _write_block(task: tuple[Path, int, int, int]) -> tuple[int, int]:
    """Simulate block ``i`` and write it in date order; return (rows, last customer id)."""
    out, seed, i, n_customers = task
    table = _block(n_customers, 1 + i * n_customers, seed, i)
    _write(table, out / f"part-{i:05d}.parquet")
    return table.num_rows, int(table["customer_id"][-1].as_py())


def _write(table: pa.Table, path: Path) -> None:
    table = table.sort_by([("date", "ascending"), ("customer_id", "ascending")])
    pq.write_table(table, path, compression="zstd")


def make_big_log(
    rows: int,
    out: Path,
    *,
    seed: int = 0,
    rows_per_file: int = 10_000_000,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write ``rows`` transactions to ``out/part-NNNNN.parquet``; return a description.

    Blocks of customers are simulated by ``workers`` processes (default: one per core);
    block ``i`` always holds the same customers, drawn from its own child of ``seed``,
    so the data depend on ``rows``, ``seed`` and ``rows_per_file`` only.
    """
    if rows < 1 or rows_per_file < 1:
        raise ValueError(f"rows and rows_per_file must be >= 1; got {rows}, {rows_per_file}")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.parquet"):
        old.unlink()
    per_block = min(rows_per_file, int(rows * 1.05) + 8)
    n_customers = max(int(per_block / ROWS_PER_CUSTOMER), 1)
    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    written = 0
    files = 0
    last_id = 0
    submitted = 0
    if workers == 1:
        while written < rows:
            n, last_id = _write_block((out, seed, submitted, n_customers))
            submitted += 1
            written += n
            files += 1
    else:  # forked workers share the imported modules
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending: deque[Future[tuple[int, int]]] = deque()
            while written < rows:
                while len(pending) < workers:
                    pending.append(pool.submit(_write_block, (out, seed, submitted, n_customers)))
                    submitted += 1
                n, last_id = pending.popleft().result()
                written += n
                files += 1
            for extra in pending:  # blocks beyond the last one needed
                extra.result()
    for i in range(files, submitted):
        (out / f"part-{i:05d}.parquet").unlink()
    if written > rows:  # cut the last block's tail, in customer order
        path = out / f"part-{files - 1:05d}.parquet"
        table = pq.read_table(path).sort_by([("customer_id", "ascending"), ("date", "ascending")])
        table = table.slice(0, table.num_rows - (written - rows))
        last_id = int(table["customer_id"][-1].as_py())
        _write(table, path)
        written = rows
    size = sum(p.stat().st_size for p in out.glob("part-*.parquet"))
    info = {
        "rows": written,
        "files": files,
        "bytes": size,
        "max_customer_id": last_id,
        "seconds": time.perf_counter() - t0,
        "seed": seed,
        "rows_per_file": rows_per_file,
        "observation_end": OBSERVATION_END,
    }
    # a leading "_": Spark and Hadoop skip the file when they read the folder
    (out / "_log.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def default_dir(rows: int, seed: int = 0) -> Path:
    """The cache folder of a log of ``rows`` rows (benchmarks/_cache is not committed)."""
    return HERE / "_cache" / f"big_log_{rows:.0e}_seed{seed}".replace("+", "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=lambda s: int(float(s)), default=100_000_000)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows-per-file", type=lambda s: int(float(s)), default=10_000_000)
    ap.add_argument("--workers", type=int, help="processes (default: one per core)")
    args = ap.parse_args()
    out = args.out or default_dir(args.rows, args.seed)
    info = make_big_log(
        args.rows, out, seed=args.seed, rows_per_file=args.rows_per_file, workers=args.workers
    )
    print(out, json.dumps(info))


if __name__ == "__main__":
    main()
