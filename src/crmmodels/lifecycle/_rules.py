"""The stage rules: the schemes, their thresholds and the checks of the other settings."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

from crmmodels._ingest.arguments import check_choice, check_int, check_number
from crmmodels._ingest.periods import check_period, period_days
from crmmodels.errors import ArgumentError, warn

__all__ = [
    "NOT_YET_CUSTOMER",
    "PURCHASE_STAGES",
    "RELATIONSHIP_STAGES",
    "AliveModel",
    "LifecycleRules",
    "Settings",
    "rules_from_keywords",
    "settings",
]

P = ParamSpec("P")
R = TypeVar("R")

PURCHASE_STAGES: tuple[str, ...] = ("prospect", "first_time", "loyal", "churned")
RELATIONSHIP_STAGES: tuple[str, ...] = (
    "prospect",
    "exploration",
    "formation",
    "stability",
    "decline",
)
NOT_YET_CUSTOMER = "not_yet_customer"


class AliveModel(Protocol):
    """Anything with ``probability_alive(frequency, recency, T)`` (e.g. a fitted BG/NBD).

    Only this method is used; no base class is needed.

    Examples
    --------
    >>> import numpy as np
    >>> from crmmodels.lifecycle import lifecycle_stages
    >>> class Exponential:
    ...     def probability_alive(self, frequency, recency, T):
    ...         return np.exp(-(np.asarray(T) - np.asarray(recency)) / 60.0)
    >>> import pandas as pd
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 2, 2, 3],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-01-05", "2024-03-10", "2022-06-01"]),
    ... })
    >>> res = lifecycle_stages(
    ...     tx, observation_end="2024-03-31", model=Exponential(), time_unit="D"
    ... )
    >>> res.to_frame()["stage"].tolist()
    ['first_time', 'loyal', 'churned']
    """

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that each customer is still alive."""


@dataclass(frozen=True)
class LifecycleRules:
    r"""The stage scheme and its thresholds, checked once when the rules are made.

    One object serves :func:`~crmmodels.lifecycle.lifecycle_stages` and
    :func:`~crmmodels.lifecycle.lifecycle_transitions` (``rules=``); the defaults are
    those of the functions. The rules are frozen: make a variant with
    :func:`dataclasses.replace`.

    Parameters
    ----------
    scheme : {"purchase", "relationship"}
        ``"purchase"``: prospect, first time, loyal, churned (Buttle 2009).
        ``"relationship"``: prospect, exploration, formation, stability, decline (Dwyer,
        Schurr & Oh 1987).
    churn_after_days : int
        Purchase scheme: churned when the last purchase is more than this many days
        before the observation end (without a P(alive) model, or where it gives no
        number).
    alive_threshold : float
        Purchase scheme with a P(alive) model: churned when P(alive) is below this.
    recent_days : int
        Relationship scheme: length in days of the recent window that ends at the
        observation end.
    formation_min_purchases, stability_min_purchases : int
        Relationship scheme: purchase days needed to leave exploration, and to be stable.
    decline_ratio, growth_ratio : float
        Relationship scheme: a trend below ``decline_ratio`` is decline, one above
        ``growth_ratio`` is (still) formation.

    Raises
    ------
    ArgumentError
        A value of the wrong kind or out of range, named with the fix.

    Examples
    --------
    >>> import dataclasses
    >>> rules = LifecycleRules(churn_after_days=180)
    >>> rules.scheme, rules.churn_after_days, rules.stages
    ('purchase', 180, ('prospect', 'first_time', 'loyal', 'churned'))
    >>> dataclasses.replace(rules, scheme="relationship").stages[-1]
    'decline'
    >>> LifecycleRules(decline_ratio=2.0, growth_ratio=1.5)
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: need 0 <= decline_ratio <= growth_ratio; got 2.0 and 1.5.
    """

    scheme: Literal["purchase", "relationship"] = "purchase"
    churn_after_days: int = 365
    alive_threshold: float = 0.5
    recent_days: int = 90
    formation_min_purchases: int = 2
    stability_min_purchases: int = 4
    decline_ratio: float = 0.5
    growth_ratio: float = 1.5

    def __post_init__(self) -> None:
        check_choice(self.scheme, "scheme", ["purchase", "relationship"])
        days = "a positive whole number of days"
        for name in ("churn_after_days", "recent_days"):
            value = check_int(getattr(self, name), name, low=1, fix=f"Pass {days}.")
            object.__setattr__(self, name, value)
        threshold = check_number(self.alive_threshold, "alive_threshold", low=0.0, high=1.0)
        object.__setattr__(self, "alive_threshold", threshold)
        formation = check_int(self.formation_min_purchases, "formation_min_purchases", low=1)
        stability = check_int(self.stability_min_purchases, "stability_min_purchases", low=1)
        if formation > stability:
            raise ArgumentError(
                "need 1 <= formation_min_purchases <= stability_min_purchases; got "
                f"{formation} and {stability}."
            )
        decline = check_number(self.decline_ratio, "decline_ratio", low=0.0)
        growth = check_number(self.growth_ratio, "growth_ratio", low=0.0)
        if decline > growth:
            raise ArgumentError(
                f"need 0 <= decline_ratio <= growth_ratio; got {decline} and {growth}."
            )
        object.__setattr__(self, "formation_min_purchases", formation)
        object.__setattr__(self, "stability_min_purchases", stability)
        object.__setattr__(self, "decline_ratio", decline)
        object.__setattr__(self, "growth_ratio", growth)

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages of the scheme, in order."""
        return PURCHASE_STAGES if self.scheme == "purchase" else RELATIONSHIP_STAGES


#: the keyword arguments that were folded into :class:`LifecycleRules`
RULE_KEYWORDS = tuple(f.name for f in dataclasses.fields(LifecycleRules))


def rules_from_keywords(func: Callable[P, R]) -> Callable[P, R]:
    """Accept the thresholds as separate keyword arguments, with a FutureWarning.

    Before ``rules=``, each threshold of :class:`LifecycleRules` was a keyword argument of
    its own. Those keywords still work until crmmodels 1.0: they are gathered into
    ``rules``. Giving both is an error.

    Examples
    --------
    >>> import warnings
    >>> @rules_from_keywords
    ... def stages(*, rules=None):
    ...     return rules.churn_after_days
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     stages(churn_after_days=30)
    30
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    stages: pass the thresholds as rules=LifecycleRules(churn_after_days=30); the keyword
    argument churn_after_days stops working in crmmodels 1.0.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        old: dict[str, Any] = {n: kwargs.pop(n) for n in RULE_KEYWORDS if n in kwargs}
        if old:
            if kwargs.get("rules") is not None:
                raise ArgumentError(
                    f"{func.__name__}: give the thresholds in rules= only; got rules= and "
                    f"{', '.join(old)}."
                )
            given = ", ".join(f"{name}={value!r}" for name, value in old.items())
            words = "argument " if len(old) == 1 else "arguments "
            warn(
                f"{func.__name__}: pass the thresholds as rules=LifecycleRules({given}); the "
                f"keyword {words}{', '.join(old)} {'stops' if len(old) == 1 else 'stop'} "
                "working in crmmodels 1.0.",
                FutureWarning,
            )
            kwargs["rules"] = LifecycleRules(**old)
        return func(*args, **kwargs)

    wrapper.__rule_keywords__ = RULE_KEYWORDS  # type: ignore[attr-defined]
    return wrapper


@dataclass(frozen=True)
class Settings:
    """The rules and the settings around them, checked, for one call."""

    rules: LifecycleRules
    model: Any
    unit_days: float
    future_customers: str


def settings(
    rules: Any,
    *,
    model: Any,
    time_unit: Any,
    future_customers: str,
) -> Settings:
    """Check ``rules`` (None: the defaults) and the P(alive) model settings."""
    if rules is None:
        rules = LifecycleRules()
    elif not isinstance(rules, LifecycleRules):
        raise ArgumentError(
            f"rules must be a LifecycleRules (e.g. LifecycleRules(churn_after_days=180)) or "
            f"None; got {type(rules).__name__}."
        )
    unit = check_period(time_unit, "time_unit", codes=("D", "W"))
    check_choice(future_customers, "future_customers", ["prospect", "exclude"])
    if isinstance(model, str):
        check_choice(model, "model", ["bgnbd"])
    elif model is not None and not callable(getattr(model, "probability_alive", None)):
        raise ArgumentError(
            "model must have a probability_alive(frequency, recency, T) method "
            f"(a fitted CLV model such as BGNBD) or be 'bgnbd'; got {type(model).__name__}."
        )
    return Settings(rules, model, period_days(unit), future_customers)
