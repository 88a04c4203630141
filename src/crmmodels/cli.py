"""The ``crmmodels`` command: ``demo`` runs every model on the bundled data.

Run ``crmmodels --help`` for the commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from crmmodels._version import __version__

#: Demo steps in order: module names under ``crmmodels._demo`` and their titles.
DEMO_STEPS: tuple[tuple[str, str], ...] = (
    ("summary", "Customer summary and RFM"),
    ("clv", "CLV: BG/NBD and Gamma-Gamma on CDNOW"),
    ("portfolio", "80/20 portfolio analysis and CLV quadrants"),
    ("lifecycle", "Customer lifecycle and retention"),
    ("funnel", "Sales funnel"),
    ("idic", "IDIC: identify, differentiate, interact, customise"),
    ("basket", "Cross-selling and bundles"),
    ("quality_price", "Relationship quality, price sensitivity and KPI scorecard"),
)


def _demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = [s for s in DEMO_STEPS if not args.only or s[0] in args.only]
    if args.only and len(steps) != len(set(args.only)):
        known = ", ".join(name for name, _ in DEMO_STEPS)
        print(f"unknown step in --only; known steps: {known}", file=sys.stderr)
        return 2
    for name, title in steps:
        started = time.perf_counter()
        print(f"\n=== {title} ===")
        module = importlib.import_module(f"crmmodels._demo.{name}")
        for block in module.run(out_dir):
            print(block)
        print(f"[{name}: {time.perf_counter() - started:.1f} s]")
    print(f"\nFigures written to {out_dir}")
    return 0


def _summarize(args: argparse.Namespace) -> int:
    import pandas as pd

    from crmmodels.transactions import summarize_transactions

    tx = pd.read_csv(args.input)
    summary = summarize_transactions(
        tx,
        customer_col=args.customer_col,
        date_col=args.date_col,
        amount_col=args.amount_col,
        observation_end=args.observation_end,
        period=int(args.period) if args.period.isdigit() else args.period,
    )
    if args.output:
        summary.to_csv(args.output, index=False)
        print(f"{len(summary)} customers written to {args.output}")
    else:
        print(summary.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``crmmodels`` command."""
    parser = argparse.ArgumentParser(
        prog="crmmodels",
        description="Classic CRM models on DataFrames. 'crmmodels demo' runs them all on "
        "the bundled CDNOW data.",
    )
    parser.add_argument("--version", action="version", version=f"crmmodels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run every model on the bundled data, print tables and write figures",
        description="Run every model on the bundled CDNOW data (and the bundled "
        "simulators), print readable tables and write figures to a folder.",
    )
    demo.add_argument(
        "--out", default="demo_output", help="folder for figures (default: %(default)s)"
    )
    demo.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="run only these steps: " + ", ".join(name for name, _ in DEMO_STEPS),
    )
    demo.set_defaults(func=_demo)
    summ = sub.add_parser(
        "summarize",
        help="summarise a transaction CSV into one row per customer",
        description="Read a transaction log CSV and write frequency, recency, T (and "
        "monetary value) per customer.",
    )
    summ.add_argument("input", help="CSV file with one row per purchase")
    summ.add_argument("-o", "--output", help="CSV file to write (default: print)")
    summ.add_argument("--customer-col", default="customer_id")
    summ.add_argument("--date-col", default="date")
    summ.add_argument("--amount-col", default=None)
    summ.add_argument("--observation-end", default=None)
    summ.add_argument("--period", default="D", help="D, W, M or a number of days")
    summ.set_defaults(func=_summarize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmmodels`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code.
    """
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
