"""crmmodels: classic CRM models as fast, typed, tested computations on DataFrames."""

from crmmodels import errors
from crmmodels._version import __version__

__all__ = ["__version__", "errors"]
