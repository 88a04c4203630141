"""Price elasticity of demand per group by log-log least squares (Tellis 1988)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
from scipy import stats

from crmmodels._ingest.arguments import check_column_name, check_level
from crmmodels._ingest.frames import (
    check_columns,
    check_not_null,
    collect,
    count_true,
    numeric_amounts,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, bad_rows_message

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True, repr=False)
class ElasticityResult(Result):
    """Price elasticity of demand per group (result of :func:`price_elasticity`).

    Attributes
    ----------
    elasticities : pandas.DataFrame
        One row per group (sorted): the group columns, ``elasticity``, ``ci_low``,
        ``ci_high``, ``se``, ``intercept``, ``r2``, ``n``, ``n_prices``, ``price_min``,
        ``price_max`` and ``note``.
    price_col, quantity_col : str
        The price and quantity columns of the transactions.
    group_col : tuple of str
        The group columns (empty for one overall elasticity).
    ci_level : float
        Confidence level of ``ci_low`` / ``ci_high``.
    n_groups : int
        Groups (rows of the table).
    n_without_elasticity : int
        Groups with fewer than two distinct prices (no elasticity).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.pricing import price_elasticity
    >>> tx = pd.DataFrame({"sku": ["a"] * 3 + ["b"] * 3,
    ...                    "price": [1.0, 2.0, 4.0, 1.0, 2.0, 4.0],
    ...                    "quantity": [16.0, 4.0, 1.0, 8.0, 4.0, 2.0]})
    >>> res = price_elasticity(tx, group_col="sku")
    >>> res  # doctest: +NORMALIZE_WHITESPACE
    ElasticityResult(price_col=price, quantity_col=quantity, group_col=['sku'], ci_level=0.95,
                     n_groups=2, n_without_elasticity=0, rows=2)
    >>> res.to_frame()["elasticity"].round(2).tolist()
    [-2.0, -1.0]
    """

    elasticities: pd.DataFrame
    price_col: str
    quantity_col: str
    group_col: tuple[str, ...]
    ci_level: float
    n_groups: int
    n_without_elasticity: int

    def to_frame(self) -> pd.DataFrame:
        """Return the elasticity table (a copy)."""
        return self.elasticities.copy()

    def plot(self, ax: Axes | None = None, *, data: Any = None, **kwargs: Any) -> Axes:
        """Fitted demand curves on log-log axes, over the transactions when ``data`` is given.

        See :func:`crmmodels.plotting.pricing.plot_demand_curves`.
        """
        from crmmodels.plotting.pricing import plot_demand_curves

        return plot_demand_curves(self, data=data, ax=ax, **kwargs)


def _group_list(group_col: str | Sequence[str] | None) -> list[str]:
    if group_col is None:
        return []
    if isinstance(group_col, str):
        return [group_col]
    if not isinstance(group_col, Iterable):
        raise ArgumentError(
            f"group_col must be a column name or a list of them; got {group_col!r}."
        )
    return list(group_col)


def price_elasticity(
    transactions: Any,
    *,
    price_col: str = "price",
    quantity_col: str = "quantity",
    group_col: str | Sequence[str] | None = None,
    ci: float = 0.95,
) -> ElasticityResult:
    r"""Price elasticity of demand per group by log-log least squares.

    For each group, on its rows :math:`(p_i, q_i)` with :math:`x = \ln p`,
    :math:`y = \ln q`:

    .. math::

        \hat\varepsilon = \frac{S_{xy}}{S_{xx}}, \quad
        \operatorname{se}(\hat\varepsilon) = \sqrt{\frac{S_{yy} - \hat\varepsilon S_{xy}}
        {(n-2)\, S_{xx}}}, \quad
        \hat\varepsilon \pm t_{n-2,\,(1+\text{ci})/2}\, \operatorname{se},

    with :math:`S_{xy} = \sum (x - \bar x)(y - \bar y)` etc. The sums are computed on
    the caller's engine (group means first, then centred sums: numerically stable), so
    only one row per group is collected.

    Parameters
    ----------
    transactions : DataFrame-like
        One row per transaction (any engine).
    price_col, quantity_col : str
        Unit price and quantity columns (both must be positive).
    group_col : str or list of str, optional
        Product / segment column(s); one elasticity per group (overall when None).
    ci : float
        Confidence level.

    Returns
    -------
    ElasticityResult
        Its table (:attr:`ElasticityResult.elasticities`, also ``to_frame()``) has one
        row per group (sorted): the group columns, ``elasticity``, ``ci_low``,
        ``ci_high``, ``se``, ``intercept`` (:math:`\ln q` at :math:`p = 1`), ``r2``,
        ``n``, ``n_prices`` (distinct prices), ``price_min``, ``price_max`` and
        ``note``. A group with fewer than two distinct prices gets no elasticity and
        ``note = "fewer than 2 distinct prices"``; one with fewer than three rows gets
        no interval (``"fewer than 3 rows: no interval"``).

    Raises
    ------
    SchemaError
        Missing or non-numeric columns.
    DataError
        Null, zero, negative or infinite prices or quantities; bad ``ci``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"price": [1.0, 2.0, 4.0, 1.0, 2.0, 4.0],
    ...                    "quantity": [16.0, 4.0, 1.0, 16.0, 4.0, 1.0]})
    >>> res = price_elasticity(tx)
    >>> res.to_frame()[["elasticity", "n", "n_prices"]]
       elasticity  n  n_prices
    0        -2.0  6         3
    >>> ax = res.plot(data=tx)
    >>> ax.get_xscale()
    'log'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    check_level(ci, "ci", fix="It is a confidence level such as 0.95.")
    check_column_name(price_col, "price_col")
    check_column_name(quantity_col, "quantity_col")
    groups = _group_list(group_col)
    for g in groups:
        check_column_name(g, "group_col")
    frame = _read_prices(transactions, price_col, quantity_col, groups)
    table = _log_log_sums(frame, price_col, quantity_col, groups)
    out = _fit(table, groups, float(ci))
    return ElasticityResult(
        elasticities=out,
        price_col=price_col,
        quantity_col=quantity_col,
        group_col=tuple(groups),
        ci_level=float(ci),
        n_groups=len(out),
        n_without_elasticity=int(out["elasticity"].isna().sum()),
    )


def _read_prices(transactions: Any, price_col: str, quantity_col: str, groups: list[str]) -> Any:
    """The checked rows: numeric, non-null, positive and finite prices and quantities."""
    frame = to_narwhals(transactions, what="transactions")
    cols = [price_col, quantity_col]
    check_columns(frame, [*groups, *cols], what="transactions")
    for c in cols:  # decimals become floats; text is refused with the conversion hint
        frame = numeric_amounts(frame, c, what="transactions")
    check_not_null(frame, [*groups, *cols], what="transactions")
    bad_counts = collect(
        frame.select(
            *[count_true((nw.col(c) <= 0) | ~nw.col(c).is_finite()).alias(c) for c in cols],
            nw.len().alias("__n"),
        )
    ).rows(named=True)[0]
    if int(bad_counts["__n"]) == 0:
        raise DataError("transactions is empty: no rows to fit.")
    for c in cols:
        if bad_counts[c]:
            first = collect(
                frame.filter((nw.col(c) <= 0) | ~nw.col(c).is_finite()).select(c).head(1)
            ).item(0, 0)
            raise DataError(
                "transactions: "
                + bad_rows_message(
                    c,
                    "is zero, negative or infinite",
                    int(bad_counts[c]),
                    python_scalar(first),
                    "The log-log model needs positive values: filter such rows first.",
                )
            )
    return frame


def _log_log_sums(frame: Any, price_col: str, quantity_col: str, groups: list[str]) -> pd.DataFrame:
    """Per group: n, the means of log p and log q, the centred sums and the price range.

    Computed on the caller's engine (group means first, then centred sums); one row per
    group is collected.
    """
    key = groups if groups else ["__all"]
    base = frame.select(
        *([nw.col(g) for g in groups] if groups else [nw.lit(0).alias("__all")]),
        nw.col(price_col).cast(nw.Float64).log().alias("__x"),
        nw.col(quantity_col).cast(nw.Float64).log().alias("__y"),
        nw.col(price_col).cast(nw.Float64).alias("__p"),
    )
    means = base.group_by(key).agg(
        nw.len().alias("n"),
        nw.col("__x").mean().alias("__mx"),
        nw.col("__y").mean().alias("__my"),
        nw.col("__p").min().alias("price_min"),
        nw.col("__p").max().alias("price_max"),
    )
    dx = nw.col("__x") - nw.col("__mx")
    dy = nw.col("__y") - nw.col("__my")
    centred = base.join(means.select(*key, "__mx", "__my"), on=key, how="inner")
    centred = centred.select(
        *key,
        (dx * dx).alias("__sxx"),
        (dx * dy).alias("__sxy"),
        (dy * dy).alias("__syy"),
    )
    sums = centred.group_by(key).agg(nw.col("__sxx", "__sxy", "__syy").sum())
    # distinct prices by unique + count (a grouped n_unique is unreliable on some engines)
    n_prices = base.select(*key, "__p").unique().group_by(key).agg(nw.len().alias("n_prices"))
    table = to_pandas(means.join(sums, on=key, how="inner").join(n_prices, on=key, how="inner"))
    table = table.sort_values(key, kind="stable").reset_index(drop=True)
    return table


def _fit(table: pd.DataFrame, groups: list[str], ci: float) -> pd.DataFrame:
    """Slope, interval, R² and notes per group from the centred sums."""
    n = table["n"].to_numpy(dtype=np.float64)
    sxx = table["__sxx"].to_numpy(dtype=np.float64)
    sxy = table["__sxy"].to_numpy(dtype=np.float64)
    syy = table["__syy"].to_numpy(dtype=np.float64)
    varies = table["n_prices"].to_numpy() >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(varies, sxy / sxx, np.nan)
        rss = np.maximum(syy - slope * sxy, 0.0)
        df = n - 2.0
        se = np.where(varies & (df > 0), np.sqrt(rss / np.where(df > 0, df, 1.0) / sxx), np.nan)
        tq = stats.t.ppf(0.5 + float(ci) / 2.0, np.maximum(df, 1.0))
        r2 = np.where(varies & (syy > 0), 1.0 - rss / syy, np.nan)
    intercept = table["__my"].to_numpy() - slope * table["__mx"].to_numpy()
    note = np.where(
        ~varies,
        "fewer than 2 distinct prices",
        np.where(df <= 0, "fewer than 3 rows: no interval", ""),
    )
    out = table[groups].copy() if groups else pd.DataFrame(index=table.index)
    out["elasticity"] = slope
    out["ci_low"] = slope - tq * se
    out["ci_high"] = slope + tq * se
    out["se"] = se
    out["intercept"] = intercept
    out["r2"] = r2
    out["n"] = table["n"].to_numpy(dtype=np.int64)
    out["n_prices"] = table["n_prices"].to_numpy(dtype=np.int64)
    out["price_min"] = table["price_min"].to_numpy(dtype=np.float64)
    out["price_max"] = table["price_max"].to_numpy(dtype=np.float64)
    out["note"] = note
    return out
