"""The ``crmmodels`` command: ``demo`` runs every model on the bundled data.

Run ``crmmodels --help`` for the commands. Every error is reported as one line on
standard error, with exit code 2 for a usage mistake (unknown option, bad option value)
and 1 for a problem with the data (missing file or column, unparsable dates ...).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from crmmodels._version import __version__
from crmmodels.errors import CRMModelsError, missing_column_message

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

#: Exit codes: a usage mistake, and a problem with the input data or files.
EXIT_USAGE = 2
EXIT_DATA = 1


class _UsageError(Exception):
    """A mistake on the command line (reported with exit code 2)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class _DataProblem(Exception):
    """A problem with the input file or its contents (reported with exit code 1)."""


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors become :class:`_UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self.prog, message)


#: Keyword arguments named in library messages, and the options that set them here.
_OPTION_OF = {
    "customer_col": "--customer-col",
    "date_col": "--date-col",
    "amount_col": "--amount-col",
    "observation_end": "--observation-end",
    "time_unit": "--time-unit",
    "date_format": "--date-format",
}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _in_option_words(text: str) -> str:
    """Name command-line options where a library message names keyword arguments."""
    for keyword, option in _OPTION_OF.items():
        text = text.replace(f"{keyword}=", option).replace(keyword, option)
    return text


def _period_value(text: str) -> str | int:
    """``D``, ``W``, ``M`` or a positive whole number of days (for ``--period``)."""
    value = text.strip().upper()
    if value in ("D", "W", "M"):
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a period; use D (day), W (week), M (month) or a whole number of days"
    )


def _time_unit_value(text: str) -> str | int:
    """``D``, ``W`` or a positive whole number of days (for ``--time-unit``)."""
    value = text.strip().upper()
    if value in ("D", "W"):
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a time unit; use D (days), W (weeks) or a whole number of days"
    )


def _demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    steps = [s for s in DEMO_STEPS if not args.only or s[0] in args.only]
    if args.only and len(steps) != len(set(args.only)):
        known = ", ".join(name for name, _ in DEMO_STEPS)
        unknown = ", ".join(sorted(set(args.only) - {name for name, _ in DEMO_STEPS}))
        raise _UsageError(
            "crmmodels demo", f"unknown step in --only: {unknown}; known steps: {known}"
        )
    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, title in steps:
        started = time.perf_counter()
        print(f"\n=== {title} ===")
        module = importlib.import_module(f"crmmodels._demo.{name}")
        for block in module.run(out_dir):
            print(block)
        print(f"[{name}: {time.perf_counter() - started:.1f} s]")
    print(f"\nFigures written to {out_dir}")
    return 0


def _read_csv(path: str) -> Any:
    import pandas as pd

    source = Path(path)
    if not source.exists():
        raise _DataProblem(f"input file '{path}' does not exist; check the path.")
    if source.is_dir():
        raise _DataProblem(f"input '{path}' is a folder; give the path of a CSV file.")
    try:
        return pd.read_csv(source)
    except pd.errors.EmptyDataError as exc:
        raise _DataProblem(f"input file '{path}' is empty; it needs a header row.") from exc
    except pd.errors.ParserError as exc:
        raise _DataProblem(
            f"input file '{path}' is not a readable CSV file ({_one_line(str(exc))})."
        ) from exc
    except UnicodeDecodeError as exc:
        raise _DataProblem(f"input file '{path}' is not UTF-8 text; save it as UTF-8 CSV.") from exc


def _summarize(args: argparse.Namespace) -> int:
    from crmmodels.transactions import summarize_transactions

    tx = _read_csv(args.input)
    columns = [str(c) for c in tx.columns]
    options = (
        ("--customer-col", args.customer_col),
        ("--date-col", args.date_col),
        ("--amount-col", args.amount_col),
    )
    for option, col in options:
        if col is not None and col not in columns:
            message = missing_column_message(col, columns, f"'{args.input}'")
            raise _DataProblem(f"{message} Name the column with {option}.")
    summary = summarize_transactions(
        tx,
        customer_col=args.customer_col,
        date_col=args.date_col,
        amount_col=args.amount_col,
        observation_end=args.observation_end,
        period=args.period,
        time_unit=args.time_unit,
        date_format=args.date_format,
    )
    if args.output:
        try:
            summary.to_csv(args.output, index=False)
        except OSError as exc:
            raise _DataProblem(
                f"cannot write '{args.output}' ({_one_line(str(exc))}); check that its folder "
                "exists and is writable."
            ) from exc
        print(f"{len(summary)} customers written to {args.output}")
    else:
        print(summary.to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``crmmodels`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser; its errors raise instead of exiting (see :func:`main`).

    Examples
    --------
    >>> args = build_parser().parse_args(["summarize", "tx.csv", "--time-unit", "W"])
    >>> args.input, args.period, args.time_unit
    ('tx.csv', 'D', 'W')
    """
    parser = _Parser(
        prog="crmmodels",
        description="Classic CRM models on DataFrames. 'crmmodels demo' runs them all on "
        "the bundled CDNOW data.",
    )
    parser.add_argument("--version", action="version", version=f"crmmodels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
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
    summ.add_argument("--customer-col", default="customer_id", help="default: %(default)s")
    summ.add_argument("--date-col", default="date", help="default: %(default)s")
    summ.add_argument("--amount-col", default=None, help="purchase value column (optional)")
    summ.add_argument(
        "--observation-end", default=None, help="last day observed (default: last purchase)"
    )
    summ.add_argument(
        "--period",
        type=_period_value,
        default="D",
        help="grid on which purchases are merged: D, W, M or a number of days "
        "(default: %(default)s)",
    )
    summ.add_argument(
        "--time-unit",
        type=_time_unit_value,
        default=None,
        help="unit of recency and T: D, W or a number of days (default: the period)",
    )
    summ.add_argument(
        "--date-format",
        default=None,
        help="strftime format of the dates, e.g. %%d/%%m/%%Y (default: ISO dates)",
    )
    summ.set_defaults(func=_summarize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmmodels`` command.

    Errors are printed as one line on standard error (no traceback): exit code 2 for a
    usage mistake, 1 for a problem with the input file or its data.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 on success, 1 for bad data, 2 for a usage mistake.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     code = main(["summarize", "tx.csv", "--period", "fortnight"])
    >>> code
    2
    >>> print(err.getvalue().strip())  # doctest: +NORMALIZE_WHITESPACE
    crmmodels summarize: error: argument --period: 'fortnight' is not a period; use D (day),
    W (week), M (month) or a whole number of days. Run 'crmmodels summarize --help' for help.
    """
    try:
        args = build_parser().parse_args(argv)
        code: int = args.func(args)
    except _UsageError as exc:
        _report(f"{exc.prog}: error: {exc}. Run '{exc.prog} --help' for help.")
        return EXIT_USAGE
    except _DataProblem as exc:
        _report(f"crmmodels: error: {exc}")
        return EXIT_DATA
    except CRMModelsError as exc:
        _report(f"crmmodels: error: {_in_option_words(str(exc))}")
        return EXIT_DATA
    except OSError as exc:
        name = f" '{exc.filename}'" if exc.filename else ""
        _report(f"crmmodels: error: cannot use{name}: {exc.strerror or exc}.")
        return EXIT_DATA
    return code


def _report(message: str) -> None:
    print(_one_line(message), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
