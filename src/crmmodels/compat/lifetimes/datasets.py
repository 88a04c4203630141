"""lifetimes' dataset loaders, reading the data bundled with crmmodels.

Same data and columns as ``lifetimes.datasets``: ``load_cdnow_summary`` (``ID``,
``frequency``, ``recency``, ``T``), ``load_cdnow_summary_data_with_monetary_value``
(indexed by ``customer_id``), ``load_donations`` and ``load_dataset`` by lifetimes' file
names. ``load_transaction_data`` differs: lifetimes ships a synthetic log; crmmodels
simulates a log of the same shape (see the function).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from crmmodels.datasets._cdnow import _path, load_cdnow_sample
from crmmodels.errors import DataError

__all__ = [
    "load_cdnow_summary",
    "load_cdnow_summary_data_with_monetary_value",
    "load_dataset",
    "load_donations",
    "load_transaction_data",
]

_FILES = {
    "cdnow_customers_summary.csv": "cdnow_summary.csv",
    "cdnow_customers_summary_with_transactions.csv": "cdnow_summary.csv",
    "donations.csv": "donations.csv",
}


def load_dataset(filename: str, **kwargs: Any) -> pd.DataFrame:
    """Read one of lifetimes' bundled files by its lifetimes name (``read_csv`` kwargs).

    Examples
    --------
    >>> load_dataset("donations.csv").shape
    (22, 4)
    """
    if filename == "example_transactions.csv":
        tx: pd.DataFrame = load_transaction_data(**kwargs)
        return tx
    if filename == "CDNOW_sample.txt":
        sample: pd.DataFrame = pd.read_csv(io.StringIO(_cdnow_sample_text()), **kwargs)
        return sample
    if filename not in _FILES:
        raise DataError(
            f"load_dataset: unknown file {filename!r}; available: {sorted(_FILES)}, "
            "'CDNOW_sample.txt' and 'example_transactions.csv'."
        )
    frame: pd.DataFrame = pd.read_csv(_path(_FILES[filename]), **kwargs)
    if filename == "cdnow_customers_summary.csv":
        frame = frame.drop(columns=["monetary_value"], errors="ignore")
        frame = frame.rename(columns={"customer_id": "ID"}).rename_axis(
            index=lambda name: "ID" if name == "customer_id" else name
        )
    elif filename == "cdnow_customers_summary_with_transactions.csv":
        frame = frame.rename(
            columns={
                "customer_id": "ID",
                "frequency": "x",
                "recency": "t_x",
                "monetary_value": "zbar",
            }
        )
    return frame


def _cdnow_sample_text() -> str:
    """The text of lifetimes' ``CDNOW_sample.txt``, built from ``load_cdnow_sample``.

    Fixed-width lines without a header: master id (5 digits), sample id (4 digits),
    date ``YYYYMMDD``, number of CDs and dollar value, as in the file lifetimes ships.
    """
    tx = load_cdnow_sample()
    lines = (
        " "
        + tx["master_id"].astype(str).str.zfill(5)
        + " "
        + tx["customer_id"].astype(str).str.zfill(4)
        + " "
        + tx["date"].dt.strftime("%Y%m%d")
        + tx["quantity"].astype(str).str.rjust(3)
        + pd.Series(np.char.mod("%8.2f", tx["amount"].to_numpy()), index=tx.index)
    )
    return "\n".join(lines.tolist()) + "\n"


def load_cdnow_summary(**kwargs: Any) -> pd.DataFrame:
    """CDNOW summary of 2,357 customers (weeks): ``ID``, ``frequency``, ``recency``, ``T``.

    Examples
    --------
    >>> load_cdnow_summary().columns.tolist()
    ['ID', 'frequency', 'recency', 'T']
    """
    return load_dataset("cdnow_customers_summary.csv", **kwargs)


def load_cdnow_summary_data_with_monetary_value(**kwargs: Any) -> pd.DataFrame:
    """CDNOW summary with the mean repeat-purchase value, indexed by ``customer_id``.

    Examples
    --------
    >>> load_cdnow_summary_data_with_monetary_value().columns.tolist()
    ['frequency', 'recency', 'T', 'monetary_value']
    """
    df = load_dataset("cdnow_customers_summary_with_transactions.csv", **kwargs)
    df.columns = pd.Index(["customer_id", "frequency", "recency", "T", "monetary_value"])
    return df.set_index("customer_id")


def load_donations(**kwargs: Any) -> pd.DataFrame:
    """Donations data (BG/BB): ``frequency``, ``recency``, ``periods``, ``weights``.

    Examples
    --------
    >>> int(load_donations()["weights"].sum())
    11104
    """
    return load_dataset("donations.csv", **kwargs)


def load_transaction_data(**kwargs: Any) -> pd.DataFrame:
    """A synthetic transaction log with lifetimes' layout: ``date`` (text) and ``id``.

    lifetimes ships a synthetic log of 5,000 customers over 2014; this builds a log of the
    same shape with crmmodels' BG/NBD simulator (fixed seed, parameters close to those
    fitted on lifetimes' file, first purchases 121 to 364 days before 2014-12-31, times
    floored to the day). The rows are not lifetimes' rows. ``kwargs`` are ignored.

    Examples
    --------
    >>> tx = load_transaction_data()
    >>> tx.columns.tolist(), int(tx["id"].nunique()), tx["date"].max()
    (['date', 'id'], 5000, '2014-12-30 00:00:00')
    """
    from crmmodels.compat.lifetimes.generate_data import (
        beta_geometric_nbd_model_transactional_data,
    )

    rng = np.random.default_rng(20141231)
    ages = rng.integers(121, 365, size=5000).astype(np.float64)
    tx = beta_geometric_nbd_model_transactional_data(
        ages, 0.16, 1.86, 1.85, 3.18, observation_period_end="2014-12-31", size=5000, seed=7
    )
    return pd.DataFrame(
        {
            "date": tx["date"].dt.floor("D").dt.strftime("%Y-%m-%d %H:%M:%S"),
            "id": tx["customer_id"].to_numpy(),
        }
    )
