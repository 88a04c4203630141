r"""Win-back targeting: churned and at-risk customers ranked by the value of winning them back.

For each targeted customer :math:`i`, from the columns of a customer summary (time in
the summary's time unit, e.g. the weeks of ``crm.analyze``):

* spend per purchase :math:`m_i = \text{amount}_i / (x_i + 1)`: their total value over
  their :math:`x_i + 1` purchases (``frequency`` counts the repeat purchases);
* purchase rate while active :math:`r_i = (x_i + 1) / (t_{x,i} + 1 / \bar r)`: their
  :math:`x_i` repeat purchases over the time :math:`t_{x,i}` from their first purchase to
  their last (``recency``), with one more purchase over one mean gap of the base added,
  :math:`\bar r = \sum x / \sum t_x` over the repeat buyers of the table. This is the
  posterior mean of a Poisson rate under a gamma prior with mean :math:`\bar r` (an
  empirical-Bayes estimate): a customer with a long history keeps their own rate, one
  whose two purchases fell on consecutive days is not valued at a purchase a day, and a
  one-time buyer gets the base rate :math:`\bar r`;
* ``value_if_reactivated`` :math:`= r_i \, m_i \, h`: what the customer spends over the
  ``horizon`` :math:`h` when buying again as they did while active (undiscounted);
* ``expected_value`` :math:`= P_i(\text{alive}) \times` ``value_if_reactivated``. P(alive)
  stands for the chance of reactivation: a customer whom the model still gives a chance
  of being in the relationship is the one most likely to answer a win-back offer. It is
  a proxy: measure the real response with a control group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_int, check_level, check_number
from crmmodels._ingest.frames import to_narwhals
from crmmodels._results import Result
from crmmodels.errors import DataError, SchemaError, bad_rows_message
from crmmodels.lifecycle._churn_input import churn_rule, p_alive_values, read_customers
from crmmodels.lifecycle._winback_drivers import applicable_drivers, driver_matrix

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["WinBackTargetsResult", "win_back_targets"]


@dataclass(frozen=True, repr=False)
class WinBackTargetsResult(Result):
    r"""The win-back list: targeted customers ranked by expected value.

    Attributes
    ----------
    targets : pandas.DataFrame
        One row per targeted customer, best first: ``rank``, the customer id,
        ``expected_value``, ``value_if_reactivated``, ``p_alive``, ``purchase_rate``,
        ``spend_per_purchase``, ``repeat_purchases``, ``targeted_by`` (the parts of the
        rule that select the customer); with drivers, ``drivers`` (those that apply,
        separated by ``"; "``) and ``n_drivers``; and ``reason``, the row in plain words.
    rule : str
        Who is targeted, in words.
    n_customers : int
        Customers in the input.
    n_targets : int
        Customers the rule selects (each once).
    n_listed : int
        Rows of ``targets`` (``n_targets``, or ``top`` when fewer).
    horizon : float
        The horizon of ``value_if_reactivated``, in the time unit of the summary columns.
    total_expected_value : float
        Sum of ``expected_value`` over all targets (not only the listed ones).
    base_purchase_rate : float
        The base rate :math:`\bar r`: repeat purchases per time unit of the repeat
        buyers, pooled (their purchases over their time from first to last purchase).
    notes : tuple of str
        Warnings about the inputs, in plain words: e.g. that P(alive) is 1 for every
        one-time buyer, as under BG/NBD, where a customer cannot drop out before a
        repeat purchase, so that P(alive) ranks them by spend alone.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.lifecycle import win_back_targets
    >>> customers = pd.DataFrame({
    ...     "customer_id": [1, 2, 3, 4],
    ...     "frequency": [2, 0, 4, 6],
    ...     "recency": [10.0, 0.0, 20.0, 30.0],
    ...     "total_value": [90.0, 20.0, 200.0, 70.0],
    ...     "p_alive": [0.2, 0.1, 0.4, 0.9],
    ... })
    >>> res = win_back_targets(customers, horizon=52)
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    WinBackTargetsResult(rule=p_alive < 0.5, n_customers=4, n_targets=3, n_listed=3,
                         horizon=52, total_expected_value=249.6, base_purchase_rate=0.2,
                         rows=3)
    >>> res.to_frame()[["customer_id", "expected_value", "purchase_rate"]].round(3)
       customer_id  expected_value  purchase_rate
    0            3           166.4            0.2
    1            1            62.4            0.2
    2            2            20.8            0.2
    """

    targets: pd.DataFrame
    rule: str
    n_customers: int
    n_targets: int
    n_listed: int
    horizon: float
    total_expected_value: float
    base_purchase_rate: float
    _notes: tuple[str, ...] = field(default=(), repr=False)

    @property
    def notes(self) -> tuple[str, ...]:
        """Warnings about the inputs, in plain words (empty when there are none)."""
        return self._notes

    def to_frame(self) -> pd.DataFrame:
        """The ranked list (a copy)."""
        return self.targets.copy()

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Cumulative expected value down the list (``kind="distribution"``: histogram).

        Draws :func:`crmmodels.plotting.lifecycle.plot_win_back_value`; ``kwargs`` go
        to it.
        """
        from crmmodels.plotting.lifecycle import plot_win_back_value

        return plot_win_back_value(self, ax=ax, **kwargs)


def _numbers(data: pd.DataFrame, col: str, key: str, *, fix: str) -> np.ndarray[Any, Any]:
    values = data[col]
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise SchemaError(f"customers: column '{col}' must be numeric; its type is {values.dtype}.")
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        example = f"{key}={data[key].to_numpy()[bad][0]!r}: {x[bad][0]!r}"
        raise DataError(
            "customers: "
            + bad_rows_message(
                col, "is missing, infinite or negative", int(bad.sum()), example, fix
            )
        )
    return x


def _notes(
    p: np.ndarray[Any, Any], x: np.ndarray[Any, Any], targeted: np.ndarray[Any, Any]
) -> tuple[str, ...]:
    one_time = targeted & (x == 0)
    if one_time.any() and bool((p[one_time] >= 1.0 - 1e-9).all()):
        return (
            f"P(alive) is 1 for all {int(one_time.sum())} targeted one-time buyers: under "
            "BG/NBD a customer cannot drop out before a repeat purchase, so their "
            "P(alive) says nothing about reactivation and they rank by spend alone. Use "
            "P(alive) from MBG/NBD or Pareto/NBD, or compare one-time buyers among "
            "themselves.",
        )
    return ()


def _text(values: np.ndarray[Any, Any], fmt: str) -> np.ndarray[Any, Any]:
    return np.char.mod(fmt, values).astype(object)


def win_back_targets(
    customers: Any,
    *,
    p_alive_col: str = "p_alive",
    threshold: float | None = 0.5,
    lifecycle_stage_col: str | None = None,
    churned_stages: Sequence[str] = ("churned",),
    churned_col: str | None = None,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    amount_col: str = "total_value",
    horizon: float = 52.0,
    drivers: Any = None,
    level: float = 0.95,
    customer_col: str = "customer_id",
    top: int | None = None,
) -> WinBackTargetsResult:
    r"""Rank churned and at-risk customers by the expected value of winning them back.

    A customer is targeted when any given part of the rule selects them: P(alive) below
    ``threshold``, a stage in ``churned_stages`` (with ``lifecycle_stage_col``), or a
    True ``churned_col``. Each target's ``expected_value`` is
    :math:`P(\text{alive}) \times r \times m \times h`: their purchase rate while active
    :math:`r = (x + 1) / (t_x + 1 / \bar r)` (repeat purchases over the time from first to
    last purchase, with one purchase at the base rate :math:`\bar r` of the table's repeat
    buyers added, so one-time buyers get :math:`\bar r`), their spend per purchase
    :math:`m` (``amount_col`` over their purchases) and the ``horizon`` :math:`h`.
    P(alive) is the reactivation proxy. See the module notes and
    ``docs/churn_winback.md`` for the reasoning.

    Parameters
    ----------
    customers : DataFrame
        One row per customer (pandas, polars, pyarrow, DuckDB, Dask or PySpark), e.g.
        ``crm.analyze(log).customers``; only the columns used are collected.
    p_alive_col : str
        P(alive) of each customer (from a fitted model; ``crm.analyze`` gives it).
    threshold : float or None
        Target customers whose P(alive) is below it (strictly between 0 and 1); None
        does not target by P(alive).
    lifecycle_stage_col : str, optional
        Also target the customers whose stage is in ``churned_stages``.
    churned_stages : sequence of str
        The stages that mean churned (default ``("churned",)``).
    churned_col : str, optional
        Also target the customers for whom this boolean column is True.
    frequency_col, recency_col : str
        Repeat purchases and the time from the first to the last purchase (in the time
        unit of ``horizon``; weeks in ``crm.analyze``).
    amount_col : str
        The customer's total spend (``total_value`` in ``crm.analyze``).
    horizon : float
        How far ahead ``value_if_reactivated`` looks, in the time unit of ``recency_col``.
    drivers : ChurnDriversResult or DataFrame, optional
        Churn drivers (``crmmodels.clv.churn_drivers(model)``, or a frame with columns
        ``process``, ``covariate``, ``effect``, ``p_value``). The significant dropout
        drivers with effect > 1 that a customer has are listed per customer; their
        covariates must be columns of ``customers``.
    level : float
        A driver is significant when its p-value is below ``1 - level``.
    customer_col : str
        The customer id; each customer on one row.
    top : int, optional
        Keep the first ``top`` rows of the ranked list.

    Returns
    -------
    WinBackTargetsResult
        Every targeted customer exactly once (the first ``top`` with ``top``), sorted by
        expected value (ties by id). No target gives an empty list, not an error.

    Raises
    ------
    ArgumentError
        No targeting rule, a threshold outside (0, 1), a bad horizon, level or top.
    SchemaError
        A missing column (with a did-you-mean), a column of the wrong type.
    DataError
        A customer on more than one row, missing or negative numbers, P(alive) outside
        [0, 1], or no repeat buyer in the table (no purchase rate to lend to one-time
        buyers).

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c"],
    ...     "frequency": [3, 1, 5],
    ...     "recency": [30.0, 10.0, 25.0],
    ...     "total_value": [120.0, 50.0, 300.0],
    ...     "p_alive": [0.3, 0.05, 0.95],
    ...     "lifecycle_stage": ["loyal", "churned", "loyal"],
    ... })
    >>> res = win_back_targets(customers, lifecycle_stage_col="lifecycle_stage", horizon=10)
    >>> res.to_frame()[["customer_id", "expected_value"]].round(2)
      customer_id  expected_value
    0           a            9.67
    1           b            1.45
    >>> res.targets["targeted_by"].tolist()
    ['p_alive < 0.5', "lifecycle_stage in ('churned'); p_alive < 0.5"]
    >>> print(res.targets["reason"].iloc[1])  # doctest: +NORMALIZE_WHITESPACE
    lifecycle_stage in ('churned'); p_alive < 0.5. P(alive) 0.05; worth 29.03 over 10
    time units if back (a purchase every 8.61; 25.00 a purchase)
    """
    rule = churn_rule(
        churned_col=churned_col,
        lifecycle_stage_col=lifecycle_stage_col,
        churned_stages=churned_stages,
        p_alive_col=p_alive_col,
        threshold=threshold,
        exactly_one=False,
    )
    p_col = check_column_name(p_alive_col, "p_alive_col")
    key = check_column_name(customer_col, "customer_col")
    f_col = check_column_name(frequency_col, "frequency_col")
    r_col = check_column_name(recency_col, "recency_col")
    a_col = check_column_name(amount_col, "amount_col")
    h = check_number(horizon, "horizon", low=0.0, low_open=True)
    lvl = check_level(level)
    n_top = None if top is None else check_int(top, "top", low=1)
    base_cols = [p_col, f_col, r_col, a_col, *rule.columns]
    available = list(to_narwhals(customers, what="customers").collect_schema().names())
    found = [] if drivers is None else applicable_drivers(drivers, level=lvl, columns=available)
    data, _ = read_customers(
        customers, customer_col=key, columns=[*base_cols, *(d.column for d in found)]
    )
    p = p_alive_values(data, p_col, key)
    x = _numbers(data, f_col, key, fix="frequency counts repeat purchases.")
    t_x = _numbers(data, r_col, key, fix="recency is a time since the first purchase.")
    amount = data[a_col].to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(amount).all():
        bad = ~np.isfinite(amount)
        example = f"{key}={data[key].to_numpy()[bad][0]!r}"
        raise DataError(
            "customers: " + bad_rows_message(a_col, "is missing", int(bad.sum()), example)
        )
    repeat = (x > 0) & (t_x > 0)
    if not repeat.any():
        raise DataError(
            f"customers: no customer has a repeat purchase ({f_col} > 0 with {r_col} > 0), "
            "so there is no purchase rate to value a reactivation with. Use a longer "
            "history."
        )
    # exactly rounded sums: the same base rate (to the last bit) in any row order
    base_rate = math.fsum(x[repeat]) / math.fsum(t_x[repeat])
    rate = (x + 1.0) / (t_x + 1.0 / base_rate)
    spend = amount / (x + 1.0)
    value = rate * spend * h
    flags = rule.flags(data, key)
    targeted = np.logical_or.reduce(list(flags.values()))
    by = np.full(len(data), "", dtype=object)
    for words, hit in flags.items():  # one pass per part of the rule (at most three)
        by = np.where(hit, np.where(by == "", words, by + "; " + words), by)
    table = pd.DataFrame(
        {
            key: data[key].to_numpy(),
            "expected_value": p * value,
            "value_if_reactivated": value,
            p_col: p,
            "purchase_rate": rate,
            "spend_per_purchase": spend,
            "repeat_purchases": x,
            "targeted_by": by,
        }
    )
    reason = (
        by + _text(p, ". P(alive) %.2f") + _text(value, "; worth %.2f")
        + _text(np.full(len(data), h), " over %g time units if back")
        + np.where(repeat, " (", " (one purchase so far, so the base rate: ").astype(object)
        + _text(1.0 / rate, "a purchase every %.3g")
        + _text(spend, "; %.2f a purchase)")
    )  # fmt: skip
    if drivers is not None:
        hits, labels = driver_matrix(data, found)
        names = np.full(len(data), "", dtype=object)
        for j, label in enumerate(labels):  # one pass per driver
            names = np.where(hits[:, j], np.where(names == "", label, names + "; " + label), names)
        table["drivers"] = names
        table["n_drivers"] = hits.sum(axis=1).astype(np.int64)
        reason = reason + np.where(names == "", "", "; drivers: " + names).astype(object)
    table["reason"] = reason
    table = table[targeted]
    total = math.fsum(table["expected_value"].to_numpy(dtype="float64"))
    table = table.sort_values(
        ["expected_value", key], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    n_targets = len(table)
    if n_top is not None:
        table = table.head(n_top)
    table.insert(0, "rank", np.arange(1, len(table) + 1, dtype=np.int64))
    return WinBackTargetsResult(
        targets=table,
        rule=rule.describe(),
        n_customers=len(data),
        n_targets=n_targets,
        n_listed=len(table),
        horizon=h,
        total_expected_value=total,
        base_purchase_rate=base_rate,
        _notes=_notes(p, x, targeted),
    )
