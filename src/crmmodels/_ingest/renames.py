"""Old argument and class names, kept for one minor version with a :class:`FutureWarning`.

Version 0.x renamed a few arguments so that one concept has one name across the library
(see the names table in the API reference and ``CHANGELOG.md``). A call with an old name
still works for now: it warns once per call site and passes the value on under the new
name. Giving both names at once is an error.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from crmmodels.errors import ArgumentError

__all__ = ["renamed_arguments", "renamed_attributes", "renamed_property"]

P = ParamSpec("P")
R = TypeVar("R")

#: the release from which the old names stop working
REMOVED_IN = "1.0"


def renamed_arguments(**renames: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept the old keyword names of a function, with a :class:`FutureWarning`.

    Parameters
    ----------
    **renames : str
        ``old_name="new_name"`` pairs.

    Examples
    --------
    >>> import warnings
    >>> @renamed_arguments(as_of="observation_end")
    ... def stages(*, observation_end=None):
    ...     return observation_end
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     stages(as_of="2024-01-31")
    '2024-01-31'
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    stages: the argument 'as_of' is now called 'observation_end'; the old name stops
    working in crmmodels 1.0.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ArgumentError(
                            f"{func.__name__}: give {new!r} only; {old!r} is its old name."
                        )
                    warnings.warn(
                        f"{func.__name__}: the argument {old!r} is now called {new!r}; the "
                        f"old name stops working in crmmodels {REMOVED_IN}.",
                        FutureWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.__renamed_arguments__ = dict(renames)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def renamed_attributes(
    module: str, namespace: Mapping[str, Any], renames: Mapping[str, str]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving old class or function names with a FutureWarning.

    Examples
    --------
    >>> import warnings
    >>> getter = renamed_attributes("m", {"NewResult": int}, {"OldResult": "NewResult"})
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     getter("OldResult")
    <class 'int'>
    """

    def __getattr__(name: str) -> Any:
        if name in renames:
            new = renames[name]
            warnings.warn(
                f"{module}.{name} is now called {new}; the old name stops working in "
                f"crmmodels {REMOVED_IN}.",
                FutureWarning,
                stacklevel=2,
            )
            return namespace[new]
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


def renamed_property(old: str, new: str) -> Any:
    """A read-only property serving the field ``new`` under its old name, with a warning.

    Examples
    --------
    >>> import warnings
    >>> class R:
    ...     observation_end = "2024-01-31"
    ...     as_of = renamed_property("as_of", "observation_end")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     R().as_of
    '2024-01-31'
    >>> print(caught[0].message)
    R.as_of is now called observation_end; the old name stops working in crmmodels 1.0.
    """

    def getter(self: Any) -> Any:
        warnings.warn(
            f"{type(self).__name__}.{old} is now called {new}; the old name stops working "
            f"in crmmodels {REMOVED_IN}.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    return property(getter, doc=f"Old name of ``{new}`` (warns ``FutureWarning``).")
