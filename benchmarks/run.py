"""Run every benchmark (or assemble existing results) and write RESULTS.md.

python benchmarks/run.py              # run all bench_*.py, then assemble
python benchmarks/run.py --quick      # small sizes
python benchmarks/run.py --assemble   # only rebuild RESULTS.md from results/*.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "transactions",
    "clv",
    "clv_pareto_nbd",
    "equity",
    "covariates",
    "portfolio",
    "idic",
    "funnel",
    "retention",
    "basket",
    "compat",
    "analysis",
    "analysis_scale",
    "analysis_common",
    "engines",
]


def assemble() -> Path:
    parts = sorted(
        (HERE / "results").glob("*.md"),
        key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem),
    )
    text = [
        "# Benchmark results",
        "",
        "Measured on the project's 2-core CI-class machine; every table times crmmodels",
        "and the reference tool side by side in one run. Absolute times on a shared",
        "machine are noise: read the ratios. Regenerate with `python benchmarks/run.py`",
        f"(assembled {dt.date.today().isoformat()}).",
        "",
    ]
    for p in parts:
        text.append(p.read_text().strip())
        text.append("")
    out = HERE / "RESULTS.md"
    out.write_text("\n".join(text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--assemble", action="store_true")
    args = ap.parse_args()
    if not args.assemble:
        for script in sorted(HERE.glob("bench_*.py")):
            cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
            print("running", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
    print(assemble())


if __name__ == "__main__":
    main()
