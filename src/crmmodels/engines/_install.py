"""The one place that imports an optional package, with the install hint when it is missing.

Engines (PySpark, Dask, DuckDB, polars) and the learning and matching packages
(scikit-learn, rapidfuzz) are optional extras of crmmodels.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "require"]

#: the extra of crmmodels that installs each engine's package
EXTRAS = {
    "pyspark": "spark",
    "dask": "dask",
    "duckdb": "duckdb",
    "polars": "polars",
    "pyarrow": "duckdb",
    "sklearn": "segments",
    "rapidfuzz": "fuzzy",
}


def require(module: str, what: str = "this step") -> ModuleType:
    """Import an engine's package, or raise ModuleNotFoundError naming the extra to install.

    Parameters
    ----------
    module : str
        The package (``"pyspark"``, ``"dask"``, ``"duckdb"``, ``"polars"``, ``"pyarrow"``)
        or one of its modules (``"pyspark.sql.types"``).
    what : str
        What needs it, for the message.

    Returns
    -------
    module

    Raises
    ------
    ModuleNotFoundError
        With ``pip install "crmmodels[<extra>]"`` in the message.

    Examples
    --------
    >>> require("numpy").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        extra = EXTRAS.get(top)
        hint = f'pip install "crmmodels[{extra}]"' if extra else f"pip install {top}"
        raise ModuleNotFoundError(
            f"{what} needs the {top} package, which is not installed; install it with {hint}.",
            name=top,
        ) from exc
