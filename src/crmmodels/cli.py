"""The ``crmmodels`` command: ``analyze`` a transaction log; ``demo`` runs every model.

``crmmodels analyze PATH`` reads a CSV file, a Parquet file or a table (or query) of a
DuckDB database, runs :func:`crmmodels.analyze` and writes the customer table, the
report and the models to a folder. Run ``crmmodels --help`` for the commands.

Every error is reported as one line on standard error, with exit code 2 for a usage
mistake (unknown option, bad option value) and 1 for a problem with the data (missing
file, table or column, unparsable dates, purchases after the observation end ...).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from crmmodels._cli_inputs import (
    ANALYZE,
    DataProblem,
    UsageError,
    check_columns,
    one_line,
    read_csv,
    read_input,
)
from crmmodels._version import __version__
from crmmodels.errors import CRMModelsError

#: Demo steps in order: module names under ``crmmodels._demo`` and their titles.
DEMO_STEPS: tuple[tuple[str, str], ...] = (
    ("analysis", "From the log to the answer: crmmodels analyze on CDNOW"),
    ("summary", "Customer summary and RFM"),
    ("clv", "CLV: BG/NBD and Gamma-Gamma on CDNOW"),
    ("pareto", "Pareto/NBD on a customer base acquired over a year"),
    ("covariates", "Why customers leave: CLV models with covariates"),
    ("bigdata", "Logs bigger than memory: a Parquet log on DuckDB"),
    ("portfolio", "80/20 portfolio analysis and CLV quadrants"),
    ("lifecycle", "Customer lifecycle and retention"),
    ("winback", "Churn and win-back"),
    ("contractual", "Contractual retention: sBG and BdW"),
    ("funnel", "Sales funnel"),
    ("leads", "Lead scoring"),
    ("streams", "Funnels on event streams"),
    ("idic", "IDIC: identify, differentiate, interact, customise"),
    ("privacy", "Pseudonymised identities"),
    ("referrals", "Referral tracking"),
    ("basket", "Cross-selling and bundles"),
    ("quality_price", "Relationship quality, price sensitivity and KPI scorecard"),
)

#: Exit codes: a usage mistake, and a problem with the input data or files.
EXIT_USAGE = 2
EXIT_DATA = 1

#: the output folder of ``crmmodels analyze`` when ``--out`` is not given
DEFAULT_OUT = "crmmodels_output"


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors become :class:`UsageError` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


#: Keyword arguments named in library messages, and the options that set them here.
_OPTION_OF = {
    "customer_col": "--customer-col",
    "date_col": "--date-col",
    "amount_col": "--amount-col",
    "observation_end": "--observation-end",
    "time_unit": "--time-unit",
    "date_format": "--date-format",
}

#: settings of ``analyze`` whose messages start with the argument's name, and their options
_SETTING_OPTION = {
    **_OPTION_OF,
    "horizon": "--horizon",
    "holdout": "--holdout",
    "model": "--model",
    "discount_rate": "--discount-rate",
    "margin": "--margin",
    "duckdb_table": "--duckdb-table",
    "table_format": "--format",
}


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
        raise UsageError(
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


def _summarize(args: argparse.Namespace) -> int:
    from crmmodels.transactions import summarize_transactions

    tx = read_csv(args.input)
    check_columns([str(c) for c in tx.columns], args)
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
            raise DataProblem(
                f"cannot write '{args.output}' ({one_line(str(exc))}); check that its folder "
                "exists and is writable."
            ) from exc
        print(f"{len(summary)} customers written to {args.output}")
    else:
        print(summary.to_string(index=False))
    return 0


def _setting_problem(exc: CRMModelsError) -> UsageError:
    """A bad option value found by the library's checks, named by its option."""
    text = str(exc)
    name = text.split(" ", 1)[0]
    if name in _SETTING_OPTION:
        text = _SETTING_OPTION[name] + text[len(name) :]
    return UsageError(ANALYZE, _in_option_words(text).rstrip("."))


def _analyze_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of the command, checked by the library's own checks (usage errors)."""
    from crmmodels._ingest.dates import to_timestamp
    from crmmodels.analysis._settings import CANDIDATE_MODELS, check_settings
    from crmmodels.analysis._write import check_table_name, import_duckdb

    by_lower = {name.lower(): name for name in CANDIDATE_MODELS}
    model = None if args.model is None else by_lower.get(args.model.lower(), args.model)
    unit_text = args.time_unit.strip()
    try:
        unit, horizon, rate, margin, _, holdout, model = check_settings(
            time_unit=int(unit_text) if unit_text.isdigit() else unit_text,
            horizon=args.horizon,
            discount_rate=args.discount_rate,
            margin=args.margin,
            level=0.95,
            holdout=args.holdout,
            model=model,
        )
        if args.observation_end is not None:
            to_timestamp(args.observation_end, "observation_end")
        if args.to_duckdb is not None:
            check_table_name(args.duckdb_table)
    except CRMModelsError as exc:
        raise _setting_problem(exc) from exc
    if args.format == "none" and args.to_duckdb is None:
        raise UsageError(ANALYZE, "--format none writes no customer table; add --to-duckdb DB")
    if args.to_duckdb is not None:
        import_duckdb()  # a missing package is found before the analysis runs
    return {
        "pseudonymize_key": _pseudonymize_key(args.pseudonymize_key_env),
        "customer_col": args.customer_col,
        "date_col": args.date_col,
        "amount_col": args.amount_col,
        "observation_end": args.observation_end,
        "time_unit": unit,
        "horizon": None if args.horizon is None else horizon,
        "discount_rate": rate,
        "margin": margin,
        "holdout": holdout,
        "model": model,
        "date_format": args.date_format,
    }


def _pseudonymize_key(variable: str | None) -> str | None:
    """The key held by the environment variable ``variable`` (never printed), or None."""
    import os

    from crmmodels.idic._pseudonymize import MIN_KEY_BYTES

    if variable is None:
        return None
    key = os.environ.get(variable)
    if not key:
        raise UsageError(
            ANALYZE,
            f"--pseudonymize-key-env names the environment variable {variable}, which is not "
            "set or empty; export the key in it first (export "
            f'{variable}="$(openssl rand -hex 32)" makes a new one).',
        )
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        raise UsageError(
            ANALYZE,
            f"the key in {variable} is shorter than {MIN_KEY_BYTES} bytes; use a longer "
            "secret (openssl rand -hex 32 makes one).",
        )
    return key


def _analyze(args: argparse.Namespace) -> int:
    import shlex

    from crmmodels._demo.analysis import analyze_source, outcome_lines

    settings = _analyze_settings(args)
    data, con = read_input(args)
    try:
        check_columns([str(c) for c in data.columns], args)
        extra = ""
        if args.table is not None:
            extra = f" --table {shlex.quote(args.table)}"
        elif args.query is not None:
            extra = f" --query {shlex.quote(args.query)}"
        result, command = analyze_source(
            data,
            source=args.input,
            command_options=extra,
            progress=not args.quiet,
            key_env=args.pseudonymize_key_env or "CRMMODELS_PSEUDONYMIZE_KEY",
            **settings,
        )
    finally:
        if con is not None:  # closed before writing: --to-duckdb may name the same file
            con.close()
    files = result.save(
        Path(args.out),
        table_format=None if args.format == "none" else args.format,
        command=command,
        duckdb_database=args.to_duckdb,
        duckdb_table=args.duckdb_table,
    )
    if not args.quiet:
        print(f"{ANALYZE}: outputs written to {files.out_dir}", file=sys.stderr)
    print("\n".join(outcome_lines(result, files, source=args.input)))
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
    _add_analyze_parser(sub)
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


_MODEL_HELP = "force this transaction model (default: the best on the holdout)"
_FMT = "file of the customer table; none: DuckDB only (default: %(default)s)"
_KEY_HELP = (
    "replace the customer ids by keyed pseudonyms (HMAC-SHA256) in every output; the key "
    "is read from this environment variable and never written"
)


def _add_analyze_parser(sub: Any) -> None:
    from crmmodels.analysis._settings import CANDIDATE_MODELS

    ana = sub.add_parser(
        "analyze",
        help="analyse a transaction log: customer table, report and models",
        description="Read a transaction log (CSV, Parquet, or a DuckDB table or query), "
        "run crmmodels.analyze and write the customer table, report.html, the models as "
        "JSON and analysis.json (key figures and settings) to a folder. Progress goes to "
        "standard error; the key figures and the paths to standard output.",
    )
    ana.add_argument("input", help="a .csv, .parquet or DuckDB (.duckdb, .db) file")
    source = ana.add_mutually_exclusive_group()
    source.add_argument("--table", default=None, help="DuckDB: the table of transactions")
    source.add_argument("--query", default=None, help="DuckDB: a SELECT giving the transactions")
    d = "(default: %(default)s)"
    options: tuple[tuple[str, dict[str, Any]], ...] = (
        ("--customer-col", {"default": "customer_id", "help": d}),
        ("--date-col", {"default": "date", "help": d}),
        ("--amount-col", {"default": "amount", "help": d}),
        ("--date-format", {"help": "strftime format of text dates, e.g. %%d/%%m/%%Y"}),
        ("--observation-end", {"help": "YYYY-MM-DD (default: the last purchase)"}),
        ("--time-unit", {"default": "W", "help": f"D, W or a number of days {d}"}),
        ("--horizon", {"type": float, "help": "in time units (default: one year)"}),
        ("--holdout", {"type": float, "help": "in time units (default: the last third)"}),
        ("--model", {"metavar": "{" + ",".join(CANDIDATE_MODELS) + "}", "help": _MODEL_HELP}),
        ("--discount-rate", {"type": float, "default": 0.10, "help": f"yearly rate {d}"}),
        ("--margin", {"type": float, "default": 1.0, "help": f"share of revenue kept {d}"}),
        ("--out", {"default": DEFAULT_OUT, "help": f"output folder {d}"}),
        ("--format", {"choices": ("parquet", "csv", "none"), "default": "parquet", "help": _FMT}),
        ("--to-duckdb", {"metavar": "DB", "help": "also write the table into this DuckDB file"}),
        ("--duckdb-table", {"default": "customers", "metavar": "NAME", "help": d}),
        ("--pseudonymize-key-env", {"metavar": "VAR", "help": _KEY_HELP}),
    )
    for flag, spec in options:
        ana.add_argument(flag, **spec)
    ana.add_argument("--quiet", action="store_true", help="no progress on standard error")
    ana.set_defaults(func=_analyze)


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
    except UsageError as exc:
        _report(f"{exc.prog}: error: {exc}. Run '{exc.prog} --help' for help.")
        return EXIT_USAGE
    except DataProblem as exc:
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
    print(one_line(message), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
