"""Customise: a typed, validated rule table from customer attributes to an action."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from crmmodels._ingest.arguments import check_bool, check_column_name
from crmmodels._ingest.frames import check_columns, check_not_null, to_narwhals, to_pandas
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["NO_RULE_MATCHED", "CustomizationResult", "Range", "Rule", "RuleSet", "customize"]

NO_RULE_MATCHED = "no rule matched"

Scalar = StrictBool | int | float | str


def _validation_message(exc: ValidationError, what: str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else str(err["msg"]))
    return f"invalid {what}: " + "; ".join(parts)


class Range(BaseModel):
    """An inclusive numeric interval condition ``{"min": ..., "max": ...}``.

    Either bound may be omitted (open on that side), not both.

    Examples
    --------
    >>> Range(min=2).max is None
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("empty range: give 'min' and/or 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"range min {self.min} is greater than max {self.max}")
        return self


class Rule(BaseModel):
    """One row of the customisation table.

    A customer matches the rule when every condition holds: a scalar means equality, a
    list means membership, a :class:`Range` (or ``{"min": .., "max": ..}``) means an
    inclusive interval on a numeric column. Null values never match.

    Attributes
    ----------
    name : str
        Unique rule name.
    action : str
        The action (treatment, offer, contact plan) for the matching customers.
    priority : int, optional
        Larger wins when several rules match (default 0); ties go to the earlier rule.
    conditions : dict
        ``{column: value | [values] | {"min": .., "max": ..}}``; at least one.

    Raises
    ------
    DataError
        An empty name, action, condition set, value list or range.

    Examples
    --------
    >>> r = Rule(name="vip", action="account manager", priority=10,
    ...          conditions={"tier": "A", "quadrant": ["vip", "improve"]})
    >>> r.conditions["quadrant"]
    ['vip', 'improve']
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    action: str = Field(min_length=1)
    priority: int = 0
    conditions: dict[str, Range | list[Scalar] | Scalar]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ArgumentError(
                _validation_message(exc, f"rule {data.get('name', '?')!r}")
            ) from exc

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if not self.conditions:
            raise ValueError(
                "empty condition: give at least one column condition "
                "(use RuleSet(no_match_action=...) for a catch-all action)"
            )
        for col, cond in self.conditions.items():
            if not str(col):
                raise ValueError("empty column name in conditions")
            if isinstance(cond, list) and not cond:
                raise ValueError(f"empty list of values for column {col!r}")
        return self


class RuleSet(BaseModel):
    """An ordered, validated list of :class:`Rule` objects.

    Attributes
    ----------
    rules : list of Rule
        At least one rule; names must be unique.
    no_match_action : str, optional
        The explicit action of customers no rule matches (default ``"no rule matched"``).

    Examples
    --------
    >>> rs = RuleSet.from_dicts([
    ...     {"name": "vip", "action": "call", "priority": 2, "conditions": {"tier": "A"}},
    ...     {"name": "rest", "action": "email", "conditions": {"tier": ["B", "C"]}},
    ... ])
    >>> [r.name for r in rs.rules], rs.no_match_action
    (['vip', 'rest'], 'no rule matched')
    >>> RuleSet.from_dicts([{"name": "x", "action": "a", "conditions": {}}])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmmodels.errors.ArgumentError: invalid rule 'x': Value error, empty condition: ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[Rule] = Field(min_length=1)
    no_match_action: str = Field(default=NO_RULE_MATCHED, min_length=1)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ArgumentError(_validation_message(exc, "rule set")) from exc

    @model_validator(mode="after")
    def _check(self) -> RuleSet:
        names = [r.name for r in self.rules]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise ValueError(f"duplicate rule names: {dups}")
        return self

    @classmethod
    def from_dicts(cls, rules: Sequence[Mapping[str, Any] | Rule] | Mapping[str, Any]) -> RuleSet:
        """Build a rule set from a list of rule dicts (or a ``{"rules": [...]}`` dict)."""
        data = dict(rules) if isinstance(rules, Mapping) else {"rules": list(rules)}
        raw = data.get("rules")
        if not isinstance(raw, list):
            raise ArgumentError("invalid rule set: 'rules' must be a list of rules.")
        data["rules"] = [r if isinstance(r, Rule) else Rule(**dict(r)) for r in raw]
        return cls(**data)

    @classmethod
    def from_json(cls, source: str | Path) -> RuleSet:
        """Build a rule set from a JSON text or a path to a JSON file.

        Examples
        --------
        >>> RuleSet.from_json('[{"name": "a", "action": "x", "conditions": {"n": {"min": 1}}}]')
        ... # doctest: +ELLIPSIS
        RuleSet(rules=[Rule(name='a', action='x', priority=0, conditions={'n': Range(...)})], ...)
        """
        text = str(source)
        if isinstance(source, Path) or not text.lstrip().startswith(("[", "{")):
            text = Path(source).read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArgumentError(f"invalid rule set JSON: {exc}") from exc
        return cls.from_dicts(data)

    def to_json(self) -> str:
        """Serialise the rule set to JSON (round-trips through :meth:`from_json`)."""
        return self.model_dump_json(exclude_none=True)


@dataclass(frozen=True, repr=False)
class CustomizationResult(Result):
    """Result of :func:`customize`.

    Attributes
    ----------
    assignments : pandas.DataFrame
        One row per customer: id, ``action``, ``rule`` (winning rule name, empty when
        none matched), ``n_matching_rules``.
    rule_report : pandas.DataFrame
        Per rule: ``name``, ``action``, ``priority``, ``n_matched``, ``n_won`` and
        ``n_overridden`` (matched but lost to a higher-priority rule).
    overlaps : pandas.DataFrame
        Rules x rules counts of customers matching both (diagonal: ``n_matched``).
    n_customers, n_no_match, n_overlapping : int
        Customers, customers with no matching rule, customers matching 2+ rules.
    no_match_action : str
        The action given to customers without a matching rule.

    Examples
    --------
    >>> import pandas as pd
    >>> cust = pd.DataFrame({"customer_id": [1, 2, 3], "tier": ["A", "B", "C"]})
    >>> rules = [{"name": "vip", "action": "call", "conditions": {"tier": "A"}}]
    >>> res = customize(cust, rules)
    >>> res.to_frame()["action"].tolist()
    ['call', 'no rule matched', 'no rule matched']
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    assignments: pd.DataFrame
    rule_report: pd.DataFrame
    overlaps: pd.DataFrame
    n_customers: int
    n_no_match: int
    n_overlapping: int
    no_match_action: str

    def to_frame(self) -> pd.DataFrame:
        """Return the action per customer."""
        return self.assignments.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of customers per action."""
        from crmmodels.plotting.idic import plot_actions

        return plot_actions(self, ax=ax, **kwargs)


def _as_ruleset(rules: Any) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, (str, Path)):
        return RuleSet.from_json(rules)
    if isinstance(rules, (Mapping, Sequence)):
        return RuleSet.from_dicts(rules)
    raise ArgumentError(
        f"rules must be a RuleSet, a list of rules or JSON; got {type(rules).__name__}"
    )


def _check_values(col: str, series: pd.Series, values: list[Any], rule: str) -> None:
    if isinstance(series.dtype, pd.CategoricalDtype):
        known = pd.Index(series.cat.categories)
    else:
        known = pd.Index(series.dropna().unique())
    unknown = [v for v in values if v not in set(known.tolist())]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), [str(k) for k in known], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        shown = sorted(map(str, known.tolist()))[:20]
        raise DataError(
            f"rule {rule!r}: value {unknown[0]!r} is not a value of column {col!r}.{hint} "
            f"Known values: {shown}. Pass allow_unknown_values=True to allow it."
        )


def customize(
    customers: Any,
    rules: RuleSet | Sequence[Rule | Mapping[str, Any]] | Mapping[str, Any] | str | Path,
    *,
    customer_col: str = "customer_id",
    allow_unknown_values: bool = False,
) -> CustomizationResult:
    r"""Give every customer exactly one action from a prioritised rule table.

    Parameters
    ----------
    customers : DataFrame-like
        One row per customer (any engine) with the columns the rules test: value tier,
        needs segment, lifecycle stage, quadrant, or any other.
    rules : RuleSet, list of Rule or dict, dict, JSON text or path
        The rule table.
    customer_col : str, optional
        Customer id column (non-null, unique).
    allow_unknown_values : bool, optional
        Accept condition values absent from the column (default: reject them, which
        catches typos like ``"vpi"``).

    Returns
    -------
    CustomizationResult

    Raises
    ------
    SchemaError
        A rule names a missing column, or a range condition is put on a non-numeric
        column, or a text value on a numeric column.
    DataError
        Invalid rules (empty condition, empty list, duplicate names), unknown category
        values, null or duplicate customer ids.

    Notes
    -----
    Each rule becomes a boolean mask over all customers (one vectorised test per
    condition), stacked into a customers x rules matrix :math:`M`. The rules are ordered
    by decreasing ``priority`` and, for equal priority, by their position in the table;
    each customer's action is that of the first matching rule in this order, or
    ``no_match_action`` when its row of :math:`M` is empty. Overlaps are reported as
    :math:`M^\\top M` and per rule as ``n_overridden``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import customize
    >>> cust = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...                      "tier": ["A", "A", "B", "C"],
    ...                      "orders": [12, 3, 5, 1]})
    >>> rules = [
    ...     {"name": "top", "action": "key account", "priority": 10,
    ...      "conditions": {"tier": "A", "orders": {"min": 10}}},
    ...     {"name": "grow", "action": "cross-sell", "priority": 5,
    ...      "conditions": {"tier": ["A", "B"]}},
    ... ]
    >>> res = customize(cust, rules)
    >>> res.assignments["action"].tolist()
    ['key account', 'cross-sell', 'cross-sell', 'no rule matched']
    >>> res.rule_report[["name", "n_matched", "n_won", "n_overridden"]].to_numpy().tolist()
    [['top', 1, 1, 0], ['grow', 3, 2, 1]]
    """
    check_column_name(customer_col, "customer_col")
    allow_unknown_values = check_bool(allow_unknown_values, "allow_unknown_values")
    ruleset = _as_ruleset(rules)
    frame = to_narwhals(customers, what="customers")
    cond_cols = list(dict.fromkeys(c for r in ruleset.rules for c in r.conditions))
    for r in ruleset.rules:
        try:
            check_columns(frame, list(r.conditions), what="customers")
        except SchemaError as exc:
            raise SchemaError(f"rule {r.name!r}: {exc}") from exc
    check_columns(frame, [customer_col], what="customers")
    check_not_null(frame, [customer_col], what="customers")
    df = to_pandas(frame.select(list(dict.fromkeys([customer_col, *cond_cols]))))
    ids = df[customer_col]
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataError(
            "customers: "
            + bad_rows_message(customer_col, "has duplicate ids", int(dup.sum()), ids[dup].iloc[0])
        )
    n = len(df)
    n_rules = len(ruleset.rules)
    match = np.zeros((n, n_rules), dtype=bool)
    for k, rule in enumerate(ruleset.rules):
        mask = np.ones(n, dtype=bool)
        for col, cond in rule.conditions.items():
            s = df[col]
            numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            if isinstance(cond, Range):
                if not numeric:
                    raise SchemaError(
                        f"rule {rule.name!r}: range condition on column {col!r} of type "
                        f"{s.dtype}; ranges need a numeric column."
                    )
                v = s.to_numpy(dtype=np.float64, na_value=np.nan)
                lo = -np.inf if cond.min is None else cond.min
                hi = np.inf if cond.max is None else cond.max
                mask &= (v >= lo) & (v <= hi)
                continue
            values = cond if isinstance(cond, list) else [cond]
            if numeric and any(isinstance(v, str) for v in values):
                raise SchemaError(
                    f"rule {rule.name!r}: text value {values[0]!r} for numeric column {col!r}."
                )
            if not allow_unknown_values:
                _check_values(col, s, values, rule.name)
            mask &= s.isin(values).fillna(False).to_numpy(dtype=bool)
        match[:, k] = mask

    priority = np.array([r.priority for r in ruleset.rules], dtype=np.int64)
    order = np.lexsort((np.arange(n_rules), -priority))
    ordered = match[:, order]
    any_match = ordered.any(axis=1)
    winner = order[np.argmax(ordered, axis=1)] if n_rules else np.zeros(n, dtype=np.int64)
    names = np.array([r.name for r in ruleset.rules], dtype=object)
    actions = np.array([r.action for r in ruleset.rules], dtype=object)
    assignments = pd.DataFrame(
        {
            customer_col: ids.to_numpy(),
            "action": np.where(any_match, actions[winner], ruleset.no_match_action),
            "rule": np.where(any_match, names[winner], ""),
            "n_matching_rules": match.sum(axis=1).astype(np.int64),
        }
    )
    won = np.bincount(winner[any_match], minlength=n_rules).astype(np.int64)
    matched = match.sum(axis=0).astype(np.int64)
    report = pd.DataFrame(
        {
            "name": names,
            "action": actions,
            "priority": priority,
            "n_matched": matched,
            "n_won": won,
            "n_overridden": matched - won,
        }
    )
    m = match.astype(np.int64)
    overlaps = pd.DataFrame(m.T @ m, index=pd.Index(names, name="rule"), columns=names)
    return CustomizationResult(
        assignments=assignments,
        rule_report=report,
        overlaps=overlaps,
        n_customers=n,
        n_no_match=int((~any_match).sum()),
        n_overlapping=int((match.sum(axis=1) > 1).sum()),
        no_match_action=ruleset.no_match_action,
    )
