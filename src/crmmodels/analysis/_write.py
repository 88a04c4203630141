"""Writing a customer-base analysis to disk: the customer table, the report, the models.

:meth:`CustomerAnalysis.save` (and so the ``crmmodels analyze`` command) writes into one
folder:

* ``customers.parquet`` (or ``customers.csv``): the customer table, one row per customer;
* ``report.html``: the self-contained report;
* ``models/<Name>.json``: each fitted model, readable with ``<Name>.load(path)``;
* ``analysis.json``: the key figures, the data checks, the settings, the steps and the
  command or call that reproduces the run, for pipelines that read numbers, not HTML.

For pipelines that keep their CRM data in DuckDB, the customer table can also go into a
table of a DuckDB database (created or replaced).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels._ingest.arguments import check_bool, check_choice
from crmmodels.errors import ArgumentError

if TYPE_CHECKING:
    from crmmodels.analysis._result import CustomerAnalysis

__all__ = [
    "DUCKDB_INSTALL_HINT",
    "TABLE_FORMATS",
    "AnalysisFiles",
    "check_table_name",
    "import_duckdb",
    "write_analysis",
    "write_duckdb_table",
]

#: the file formats of the customer table
TABLE_FORMATS = ("parquet", "csv")
#: how to get DuckDB when it is missing
DUCKDB_INSTALL_HINT = 'pip install "crmmodels[duckdb]"'


@dataclasses.dataclass(frozen=True)
class AnalysisFiles:
    """What :meth:`CustomerAnalysis.save` wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    customers : pathlib.Path or None
        The customer table file (None when ``table_format=None``).
    report : pathlib.Path or None
        The HTML report (None when ``report=False``).
    models : dict of str to pathlib.Path
        Each fitted model's JSON file, by class name.
    summary : pathlib.Path
        ``analysis.json``: key figures, checks, settings, steps and the reproducing
        command.
    duckdb_table : str or None
        ``"<database>::<table>"`` when the table was written to DuckDB.
    """

    out_dir: Path
    customers: Path | None
    report: Path | None
    models: dict[str, Path]
    summary: Path
    duckdb_table: str | None = None

    def paths(self) -> list[Path]:
        """Every file written, in the order above."""
        files = [self.customers, self.report, *self.models.values(), self.summary]
        return [p for p in files if p is not None]

    def lines(self) -> list[tuple[str, str]]:
        """The outputs for reading: (what, where)."""
        out: list[tuple[str, str]] = []
        if self.customers is not None:
            out.append(("customer table", str(self.customers)))
        if self.duckdb_table is not None:
            out.append(("customer table (DuckDB)", self.duckdb_table))
        if self.report is not None:
            out.append(("report", str(self.report)))
        out.extend((f"model {name}", str(path)) for name, path in self.models.items())
        out.append(("key figures and settings", str(self.summary)))
        return out


def write_analysis(
    analysis: CustomerAnalysis,
    out_dir: str | Path,
    *,
    table_format: str | None = "parquet",
    report: bool = True,
    command: str | None = None,
    duckdb_database: str | Path | None = None,
    duckdb_table: str = "customers",
) -> AnalysisFiles:
    """Write the outputs of ``analysis`` into ``out_dir`` (created when missing).

    Existing files of the same names are replaced. See :meth:`CustomerAnalysis.save`.
    """
    fmt = (
        None if table_format is None else check_choice(table_format, "table_format", TABLE_FORMATS)
    )
    check_bool(report, "report")
    if command is not None and not isinstance(command, str):
        raise ArgumentError(f"command must be text or None; got {type(command).__name__}.")
    if duckdb_database is not None:  # before anything is written
        check_table_name(duckdb_table)
        import_duckdb()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    table = analysis.to_frame()
    customers: Path | None = None
    if fmt == "parquet":
        customers = folder / "customers.parquet"
        table.to_parquet(customers, index=False)
    elif fmt == "csv":
        customers = folder / "customers.csv"
        table.to_csv(customers, index=False)
    target = None
    if duckdb_database is not None:
        write_duckdb_table(table, duckdb_database, duckdb_table)
        target = f"{duckdb_database}::{duckdb_table}"
    report_path = analysis.report(folder / "report.html", command=command) if report else None
    models: dict[str, Path] = {}
    if analysis.models:
        (folder / "models").mkdir(exist_ok=True)
    for name, model in analysis.models.items():
        path = folder / "models" / f"{name}.json"
        model.save(path)
        models[name] = path
    summary = folder / "analysis.json"
    record = analysis.to_dict()
    record["reproduce"] = command if command is not None else analysis.settings.python_call()
    record["files"] = {
        "customers": None if customers is None else customers.name,
        "report": None if report_path is None else report_path.name,
        "models": {name: f"models/{path.name}" for name, path in models.items()},
        "duckdb_table": target,
    }
    summary.write_text(json.dumps(record, indent=2, default=_json_value) + "\n", encoding="utf-8")
    return AnalysisFiles(
        out_dir=folder,
        customers=customers,
        report=report_path,
        models=models,
        summary=summary,
        duckdb_table=target,
    )


def _json_value(value: Any) -> Any:
    """Numbers of numpy and NaN as JSON values (NaN becomes null)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def check_table_name(name: Any) -> str:
    """A DuckDB table name: non-empty text without a NUL character.

    Examples
    --------
    >>> check_table_name("crm_customers")
    'crm_customers'
    """
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise ArgumentError(
            f"duckdb_table must be a table name (non-empty text); got {name!r}. "
            "Pass a name such as 'customers'."
        )
    return name


def import_duckdb() -> Any:
    """The ``duckdb`` module, or a :class:`DataError` saying how to install it."""
    try:
        import duckdb
    except ImportError as exc:
        from crmmodels.errors import DataError

        raise DataError(
            f"reading or writing a DuckDB database needs the duckdb package; install it "
            f"with {DUCKDB_INSTALL_HINT}."
        ) from exc
    return duckdb


def write_duckdb_table(table: pd.DataFrame, database: str | Path, name: str) -> None:
    """Create or replace table ``name`` in the DuckDB database file ``database``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "crm.duckdb"
    >>> write_duckdb_table(pd.DataFrame({"customer_id": [1, 2]}), db, "customers")
    >>> import duckdb
    >>> con = duckdb.connect(str(db))
    >>> con.execute("select count(*) from customers").fetchall()
    [(2,)]
    >>> con.close()
    """
    duckdb = import_duckdb()
    quoted = '"' + check_table_name(name).replace('"', '""') + '"'
    con = duckdb.connect(str(database))
    try:
        con.register("crmmodels_customer_table", table)
        con.execute(f"CREATE OR REPLACE TABLE {quoted} AS SELECT * FROM crmmodels_customer_table")
        con.unregister("crmmodels_customer_table")
    finally:
        con.close()
