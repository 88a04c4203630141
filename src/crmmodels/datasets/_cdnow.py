"""Bundled CDNOW data (Fader & Hardie) and the donations data (Fader, Hardie & Shang)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = [
    "CDNOW_CITATION",
    "load_cdnow",
    "load_cdnow_sample",
    "load_cdnow_summary",
    "load_donations",
]

CDNOW_CITATION = (
    "CDNOW data set: Fader, P. S. and Hardie, B. G. S. (2001), 'Forecasting Repeat Sales "
    "at CDNOW: A Case Study', Interfaces 31(3), S94-S107; used in Fader, Hardie and Lee "
    "(2005), 'Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD "
    "Model', Marketing Science 24(2), 275-284. Distributed at brucehardie.com."
)


def _path(name: str) -> str:
    return str(resources.files("crmmodels.datasets").joinpath("data", name))


def load_cdnow() -> pd.DataFrame:
    """Load the CDNOW master transaction log.

    All purchases between 1997-01-01 and 1998-06-30 of the 23,570 customers who made
    their first purchase at CDNOW in the first quarter of 1997 (69,659 rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (int), ``date`` (datetime64), ``quantity`` (number of
        CDs, int) and ``amount`` (dollar value, float). Several rows may share a
        customer and a day.

    Notes
    -----
    Source: Fader & Hardie (2001), *Interfaces* 31(3); see ``CDNOW_CITATION``.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow
    >>> tx = load_cdnow()
    >>> tx.shape, tx["customer_id"].nunique()
    ((69659, 4), 23570)
    """
    df = pd.read_csv(_path("cdnow_master.csv.gz"), dtype={"date": str})
    df["date"] = pd.to_datetime(df["date"], format="%Y%m%d")
    return df


def load_cdnow_sample() -> pd.DataFrame:
    """Load the transactions of the 2,357-customer 1/10 CDNOW sample.

    The systematic 1/10 sample of the CDNOW cohort analysed by Fader, Hardie & Lee (2005),
    taken from :func:`load_cdnow`, with the sample's own customer ids (1 to 2,357) so that
    summarising it over the 39-week calibration period (day grid, weeks as unit)
    reproduces :func:`load_cdnow_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (sample id), ``master_id`` (id in :func:`load_cdnow`),
        ``date``, ``quantity`` and ``amount`` (6,919 rows).

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> tx = load_cdnow_sample()
    >>> len(tx), tx["customer_id"].nunique()
    (6919, 2357)
    """
    ids = pd.read_csv(_path("cdnow_sample_ids.csv"))
    tx = load_cdnow().rename(columns={"customer_id": "master_id"})
    out = tx.merge(ids, on="master_id", how="inner")
    cols = ["customer_id", "master_id", "date", "quantity", "amount"]
    return out[cols].sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)


def load_cdnow_summary() -> pd.DataFrame:
    """Load the 2,357-customer CDNOW cohort summary used in the BG/NBD paper.

    A 1/10 systematic sample of the CDNOW cohort, summarised over the 39-week
    calibration period (1997-01-01 to 1997-09-30) with time in weeks, as published with
    Fader, Hardie & Lee (2005).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, ``frequency`` (repeat purchases x), ``recency`` (t_x,
        weeks), ``T`` (weeks) and ``monetary_value`` (mean repeat-transaction value,
        0 when frequency is 0).

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> len(s), float(s["frequency"].sum())
    (2357, 2457.0)
    """
    return pd.read_csv(_path("cdnow_summary.csv"))


def load_donations() -> pd.DataFrame:
    """Load the donations data of Fader, Hardie & Shang (2010) for BG/BB.

    11,104 members of the 1995 cohort of a non-profit, each with six annual donation
    opportunities, compressed to 22 distinct (frequency, recency) patterns with counts.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency``, ``recency``, ``periods`` (6) and ``weights`` (counts).

    Examples
    --------
    >>> from crmmodels.datasets import load_donations
    >>> d = load_donations()
    >>> len(d), int(d["weights"].sum())
    (22, 11104)
    """
    return pd.read_csv(_path("donations.csv"))
