"""What the commands read: input files of ``crmmodels analyze`` and ``summarize``.

CSV, Parquet and DuckDB (a table or a query) in; one clear message out when a file,
table or column is missing or unreadable. The exceptions carry the exit code the command
reports: :class:`UsageError` (2) for a mistake on the command line, :class:`DataProblem`
(1) for a problem with the input.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crmmodels.errors import missing_column_message

#: input file kinds of ``crmmodels analyze``, by file name ending
INPUT_KINDS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".duckdb": "duckdb",
    ".db": "duckdb",
    ".ddb": "duckdb",
}
ANALYZE = "crmmodels analyze"


class UsageError(Exception):
    """A mistake on the command line (reported with exit code 2)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class DataProblem(Exception):
    """A problem with the input file or its contents (reported with exit code 1)."""


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def read_csv(path: str) -> Any:
    import pandas as pd

    source = Path(path)
    if not source.exists():
        raise DataProblem(f"input file '{path}' does not exist; check the path.")
    if source.is_dir():
        raise DataProblem(f"input '{path}' is a folder; give the path of a CSV file.")
    try:
        return pd.read_csv(source)
    except pd.errors.EmptyDataError as exc:
        raise DataProblem(f"input file '{path}' is empty; it needs a header row.") from exc
    except pd.errors.ParserError as exc:
        raise DataProblem(
            f"input file '{path}' is not a readable CSV file ({one_line(str(exc))})."
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataProblem(f"input file '{path}' is not UTF-8 text; save it as UTF-8 CSV.") from exc


def _input_kind(path: str) -> str:
    lower = path.lower()
    for ending, kind in sorted(INPUT_KINDS.items(), key=lambda item: -len(item[0])):
        if lower.endswith(ending):
            return kind
    raise DataProblem(
        f"cannot tell the kind of input '{path}' from its name; give a .csv, .parquet, "
        ".duckdb or .db file."
    )


def _read_parquet(path: str) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise DataProblem(
            f"input file '{path}' is not a readable Parquet file ({one_line(str(exc))})."
        ) from exc


def _duckdb_tables(con: Any) -> list[str]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "ORDER BY table_schema, table_name"
    ).fetchall()
    return [name if schema == "main" else f"{schema}.{name}" for schema, name in rows]


def _read_duckdb(path: str, table: str | None, query: str | None) -> tuple[Any, Any]:
    """A DuckDB relation of ``table`` or ``query``, and its open connection."""
    from crmmodels.analysis._write import DUCKDB_INSTALL_HINT

    try:
        import duckdb
    except ImportError as exc:
        raise DataProblem(
            f"reading the DuckDB database '{path}' needs the duckdb package; install it "
            f"with {DUCKDB_INSTALL_HINT}."
        ) from exc
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise DataProblem(
            f"'{path}' is not a readable DuckDB database ({one_line(str(exc))})."
        ) from exc
    try:
        return _duckdb_relation(con, duckdb.Error, path, table, query), con
    except BaseException:
        con.close()
        raise


def _duckdb_relation(
    con: Any, error: type[Exception], path: str, table: str | None, query: str | None
) -> Any:
    import difflib

    tables = _duckdb_tables(con)
    if table is None and query is None:
        raise UsageError(
            ANALYZE,
            f"a DuckDB database needs --table NAME or --query SQL; the tables of '{path}': "
            f"{tables}",
        )
    if table is not None:
        name = table.lower().removeprefix("main.")
        if name not in {t.lower() for t in tables}:
            close = difflib.get_close_matches(table, tables, n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise DataProblem(
                f"the DuckDB database '{path}' has no table '{table}'.{hint} Tables: "
                f"{tables}. Name the table with --table."
            )
        return con.table(table)
    try:
        relation = con.sql(str(query))
    except error as exc:
        raise DataProblem(
            f"the --query failed in the DuckDB database '{path}': {one_line(str(exc))}"
        ) from exc
    if relation is None:
        raise DataProblem("--query must be a SELECT that returns the transactions.")
    return relation


def read_input(args: argparse.Namespace) -> tuple[Any, Any]:
    """The transactions of ``args.input`` and the connection to close (or None)."""
    kind = _input_kind(args.input)
    if kind != "duckdb" and (args.table is not None or args.query is not None):
        option = "--table" if args.table is not None else "--query"
        raise UsageError(
            ANALYZE,
            f"{option} reads a DuckDB database (.duckdb or .db); '{args.input}' is a {kind} file",
        )
    source = Path(args.input)
    if not source.exists():
        raise DataProblem(f"input file '{args.input}' does not exist; check the path.")
    if kind == "csv":
        frame = read_csv(args.input)
        if len(frame) == 0:  # before the column types, which an empty file cannot have
            raise DataProblem(f"'{args.input}' has no rows: the transaction log is empty.")
        return frame, None
    if source.is_dir() and kind == "duckdb":
        raise DataProblem(f"input '{args.input}' is a folder; give a DuckDB database file.")
    if kind == "parquet":
        return _read_parquet(args.input), None
    return _read_duckdb(args.input, args.table, args.query)


def check_columns(columns: Sequence[str], args: argparse.Namespace) -> None:
    """A missing column named with its option and the closest column of the input."""
    options = (
        ("--customer-col", args.customer_col),
        ("--date-col", args.date_col),
        ("--amount-col", args.amount_col),
    )
    for option, col in options:
        if col is not None and col not in columns:
            message = missing_column_message(col, columns, f"'{args.input}'")
            raise DataProblem(f"{message} Name the column with {option}.")
