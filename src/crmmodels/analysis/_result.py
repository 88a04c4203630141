"""The result of a customer-base analysis: one customer table and the parts behind it."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from crmmodels.analysis._figures import DataChecksResult, KeyFiguresResult
from crmmodels.analysis._settings import AnalysisSettings
from crmmodels.analysis._steps import StepsResult
from crmmodels.errors import ArgumentError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from crmmodels.analysis._parts import Parts
    from crmmodels.analysis._write import AnalysisFiles

__all__ = ["PLOT_KINDS", "CustomerAnalysis"]

#: what :meth:`CustomerAnalysis.plot` can draw, and the part that draws it
PLOT_KINDS = {
    "clv": "the CLV distribution (customer table)",
    "selection": "the holdout tracking plot (model_selection)",
    "lorenz": "the Lorenz curve (portfolio)",
    "pareto": "the 80/20 chart with the A/B/C classes (portfolio)",
    "quadrants": "the CLV quadrants (quadrants)",
    "lifecycle": "the lifecycle mix (lifecycle)",
    "retention": "the cohort retention heatmap (retention)",
    "rfm": "the RFM segment sizes (rfm)",
}


@dataclasses.dataclass(frozen=True, repr=False)
class CustomerAnalysis:
    """A customer base analysed from its transaction log (see :func:`crmmodels.analyze`).

    Attributes
    ----------
    customers : DataFrame
        One row per customer of the log, in the caller's kind of frame (pandas, polars,
        pyarrow, or a lazy frame of the caller's engine). On DuckDB, lazy polars,
        PySpark and Dask the table is computed on the engine (only distinct histories
        and aggregates reach the driver, and the per-customer parts below are None; see
        the docs page "Scaling out"). Columns: the customer
        column, then ``first_purchase``, ``last_purchase``, ``n_orders``, ``frequency``,
        ``recency``, ``T``, ``mean_order_value``, ``monetary_value``, ``total_value``,
        ``r_score``, ``f_score``, ``m_score``, ``rfm``, ``rfm_segment``,
        ``lifecycle_stage``, ``relationship_stage``, ``p_alive``, ``expected_purchases``,
        ``expected_spend`` (per purchase), ``expected_total_spend`` (over the horizon),
        ``clv``, ``clv_rank``, ``clv_decile``, ``value_class``, ``quadrant``,
        ``churn_risk``.
    key_figures : KeyFiguresResult
        Customers, active and repeat shares, customer equity with its interval, value
        share of the top 20%, Gini, expected purchases over the horizon.
    model_selection : ModelSelectionResult or None
        The candidate transaction models compared on the holdout (None when skipped:
        see ``steps``).
    models : dict
        The fitted models used for the customer table, by class name (the chosen
        transaction model refitted on the whole period, and ``"GammaGamma"``); each
        saves to JSON with ``.save(path)``.
    transaction_model : str or None
        Name of the transaction model used.
    equity : EquityResult or None
        The customer equity with its interval.
    clv, rfm, lifecycle, relationship, portfolio, quadrants
        The per-customer parts behind the table's columns: the CLV (``CLVResult``), RFM
        scores and segments (a pandas DataFrame, :func:`crmmodels.rfm_segments`), the
        lifecycle stages under the purchase and the relationship scheme
        (``LifecycleStagesResult``), the 80/20 analysis with the A/B/C classes
        (``ParetoResult``) and the CLV quadrants (``QuadrantResult``, the value of the
        last year against CLV). The analysis keeps only the table: each part is built
        from the table's columns on first use (and kept), equal to what the individual
        function gives. None when its step was skipped, and on the engine route.
    retention : CohortRetentionResult or None
        Monthly cohort retention.
    checks : DataChecksResult
        Rows read, customers, dates, anything set aside.
    steps : StepsResult
        Every step with its status, the reason for any skipped step, and its notes.
    settings : AnalysisSettings
        The settings used (horizon, discounting, margin, holdout ...).
    """

    customers: Any
    key_figures: KeyFiguresResult
    model_selection: Any
    models: dict[str, Any]
    transaction_model: str | None
    equity: Any
    retention: Any
    checks: DataChecksResult
    steps: StepsResult
    settings: AnalysisSettings
    _table: pd.DataFrame = dataclasses.field(repr=False)
    _parts: Parts | None = dataclasses.field(default=None, repr=False)

    @property
    def clv(self) -> Any:
        """The per-customer CLV (``CLVResult``), built from the table on first use."""
        return None if self._parts is None else self._parts.get("clv")

    @property
    def rfm(self) -> pd.DataFrame | None:
        """RFM scores and segments (:func:`crmmodels.rfm_segments`), built on first use."""
        return None if self._parts is None else self._parts.get("rfm")

    @property
    def lifecycle(self) -> Any:
        """Lifecycle stages under the purchase scheme, built on first use."""
        return None if self._parts is None else self._parts.get("lifecycle")

    @property
    def relationship(self) -> Any:
        """Lifecycle stages under the relationship scheme, built on first use."""
        return None if self._parts is None else self._parts.get("relationship")

    @property
    def portfolio(self) -> Any:
        """The 80/20 analysis with the A/B/C classes (``ParetoResult``), built on first use."""
        return None if self._parts is None else self._parts.get("portfolio")

    @property
    def quadrants(self) -> Any:
        """The CLV quadrants (``QuadrantResult``), built on first use."""
        return None if self._parts is None else self._parts.get("quadrants")

    def to_frame(self) -> pd.DataFrame:
        """The customer table as a pandas DataFrame (a copy)."""
        return self._table.copy()

    def __repr__(self) -> str:
        """Customers, the model used and the skipped steps."""
        skipped = ", ".join(s.name for s in self.steps.skipped) or "none"
        k = self.key_figures
        return (
            f"CustomerAnalysis(customers={k.n_customers:,}, "
            f"observation_end={self.settings.observation_end.date()}, "
            f"transaction_model={self.transaction_model}, "
            f"horizon={self.settings.horizon:g} {self.settings.unit}, "
            f"customer_equity={k.customer_equity:,.0f}, skipped={skipped})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
            f"<td>{html.escape(text)}</td></tr>"
            for label, text in self.key_figures.lines()
        )
        skipped = "".join(
            f"<li>{html.escape(s.name)}: {html.escape(s.detail)}</li>" for s in self.steps.skipped
        )
        note = f"<p>Skipped steps:</p><ul>{skipped}</ul>" if skipped else ""
        return (
            f"<div><strong>CustomerAnalysis</strong> (transaction model: "
            f"{html.escape(str(self.transaction_model))})<table>{rows}</table>{note}</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The key figures, settings and steps as JSON-friendly values."""
        s = self.settings
        return {
            "key_figures": self.key_figures.to_dict(),
            "checks": self.checks.to_dict(),
            "transaction_model": self.transaction_model,
            "settings": {
                "customer_col": s.customer_col,
                "date_col": s.date_col,
                "amount_col": s.amount_col,
                "observation_end": str(s.observation_end.date()),
                "time_unit": s.time_unit,
                "horizon": s.horizon,
                "discount_rate": s.discount_rate,
                "margin": s.margin,
                "level": s.level,
                "pseudonymized": s.pseudonymized,
            },
            "steps": self.steps.to_frame().drop(columns="seconds").to_dict("records"),
        }

    def to_parquet(self, path: str | Path) -> Path:
        """Write the customer table to a Parquet file and return its path.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import crmmodels as crm
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> result = crm.analyze(load_cdnow_sample(), amount_col="amount")
        >>> path = result.to_parquet(pathlib.Path(tempfile.mkdtemp()) / "customers.parquet")
        >>> len(pd.read_parquet(path)) == result.key_figures.n_customers
        True
        """
        out = Path(path)
        self._table.to_parquet(out, index=False)
        return out

    def report(
        self, path: str | Path, *, source: str | None = None, command: str | None = None
    ) -> Path:
        """Write the report: one self-contained HTML file that opens offline.

        The sections: key figures; data checks (rows read, customers, period, what was
        set aside, every step with its status and notes); the model selection table and
        the holdout tracking plot; the CLV distribution and the top 20 customers; the CLV
        quadrants; the Lorenz curve and the A/B/C classes; the lifecycle mix; cohort
        retention; the RFM segments; the assumptions and the call and command that
        reproduce the run. A skipped step's section says why instead of showing a
        figure. Styles and figures (PNG) are inside the file and a
        Content-Security-Policy forbids any request, so the page opens offline, can be
        sent by e-mail, and prints one section per page.

        Parameters
        ----------
        path : str or path-like
            The file to write (replaced when it exists); its folder must exist.
        source : str, optional
            The data's path or query, written into the command that reproduces the run
            (``transactions.csv`` stands for it when None).
        command : str, optional
            The exact command line of the run, shown instead of the command built from
            the settings (``crmmodels analyze`` passes its own).

        Returns
        -------
        pathlib.Path
            The path written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import crmmodels as crm
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> result = crm.analyze(load_cdnow_sample(), amount_col="amount")
        >>> path = result.report(pathlib.Path(tempfile.mkdtemp()) / "report.html")
        >>> path.suffix, 'id="top-customers"' in path.read_text(encoding="utf-8")
        ('.html', True)
        """
        from crmmodels.analysis._report import write_report

        return write_report(self, path, source=source, command=command)

    def save(
        self,
        out_dir: str | Path,
        *,
        table_format: str | None = "parquet",
        report: bool = True,
        command: str | None = None,
        duckdb_database: str | Path | None = None,
        duckdb_table: str = "customers",
    ) -> AnalysisFiles:
        """Write the customer table, the report, the models and the key figures to a folder.

        Writes ``customers.parquet`` (or ``customers.csv``), ``report.html``,
        ``models/<Name>.json`` for each fitted model and ``analysis.json`` (key figures,
        data checks, settings, steps and how to reproduce the run) into ``out_dir``,
        which is created when missing; files of the same names are replaced. This is
        what ``crmmodels analyze`` writes.

        Parameters
        ----------
        out_dir : str or Path
            The output folder.
        table_format : {"parquet", "csv"} or None
            File format of the customer table; None writes no file (with
            ``duckdb_database``, for a pipeline that keeps the table in DuckDB only).
        report : bool
            Write ``report.html``.
        command : str, optional
            The command or call that produced the run, recorded in ``analysis.json``
            (default: the :func:`crmmodels.analyze` call from the settings).
        duckdb_database : str or Path, optional
            A DuckDB database file (created when missing) that receives the customer
            table; needs ``pip install "crmmodels[duckdb]"``.
        duckdb_table : str
            Name of that table (created or replaced).

        Returns
        -------
        AnalysisFiles
            The paths written (``.customers``, ``.report``, ``.models``, ``.summary``).

        Examples
        --------
        >>> import tempfile
        >>> import crmmodels as crm
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> result = crm.analyze(load_cdnow_sample(), amount_col="amount")
        >>> files = result.save(tempfile.mkdtemp())
        >>> files.customers.name, files.report.name, "GammaGamma" in files.models
        ('customers.parquet', 'report.html', True)
        """
        from crmmodels.analysis._write import write_analysis

        return write_analysis(
            self,
            out_dir,
            table_format=table_format,
            report=report,
            command=command,
            duckdb_database=duckdb_database,
            duckdb_table=duckdb_table,
        )

    def plot(self, ax: Axes | None = None, *, kind: str = "clv", **kwargs: Any) -> Axes:
        """Draw one view of the analysis and return the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (a new figure when None).
        kind : str
            One of ``"clv"``, ``"selection"``, ``"lorenz"``, ``"pareto"``,
            ``"quadrants"``, ``"lifecycle"``, ``"retention"``, ``"rfm"``.
        **kwargs
            Passed to the part's ``plot``.
        """
        from crmmodels.plotting.analysis import plot_analysis

        if kind not in PLOT_KINDS:
            raise ArgumentError(f"kind must be one of {list(PLOT_KINDS)}; got {kind!r}.")
        return plot_analysis(self, kind=kind, ax=ax, **kwargs)
