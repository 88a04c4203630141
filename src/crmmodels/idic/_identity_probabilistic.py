"""Identify, probabilistic mode: Fellegi-Sunter record linkage with EM-estimated evidence.

Pairs of records that share a block are compared field by field (:mod:`._identity_compare`).
Each field's level carries a match weight, the log2 Bayes factor ``log2(m / u)``; the
weights of a pair add up, and with the prior they give the pair's match probability
(:mod:`crmmodels.kernels.identity`). The ``u`` probabilities come from random pairs of
records, the ``m`` probabilities and the share of matches among the blocked pairs from EM
on the blocked pairs. Pairs at or above ``threshold_probability`` are linked and the
customers are the connected components.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_bool, check_column_name, check_int, check_number
from crmmodels._progress import Progress
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, ConvergenceError
from crmmodels.idic._identify import _read_records
from crmmodels.idic._identity_compare import (
    Comparison,
    as_blocks,
    as_comparisons,
    block_agreement,
    block_pairs,
    comparison_levels,
    field_values,
    random_pairs,
    random_u,
)
from crmmodels.kernels.identity import (
    components,
    estimate_prior,
    fellegi_sunter_em,
    match_probability,
    match_weights,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ProbabilisticIdentityResult", "resolve_identities_probabilistic"]

_MIN_SHARE = 1e-6  # floor of a level's probability among random pairs
_PSEUDO_COUNT = 0.01  # pseudo-pairs per level in each M step (see fellegi_sunter_em)


@dataclass(frozen=True, repr=False)
class ProbabilisticIdentityResult(Result):
    """Result of :func:`resolve_identities_probabilistic`.

    Attributes
    ----------
    records : pandas.DataFrame
        The input records plus ``customer_key`` (see :func:`resolve_identities`).
    links : pandas.DataFrame
        One row per linked pair: ``record_a``, ``record_b``, one ``weight_<field>``
        column per comparison (log2 Bayes factor; 0 when a value is missing),
        ``match_weight`` (the prior's log2 odds plus the field weights),
        ``match_probability`` and ``customer_key``.
    parameters : pandas.DataFrame
        One row per field and level: ``field``, ``level``, ``m``, ``u`` and ``weight``
        (``log2(m / u)``).
    compared : pandas.DataFrame
        The normalised values compared, one column per field, indexed by record id.
    comparisons : tuple of Comparison
        The fields and their levels.
    id_col : str
        Name of the record id column.
    prior : float
        Probability that two records drawn at random are the same person.
    threshold_probability : float
        Pairs at or above this match probability are linked.
    n_records, n_customers, n_merged_clusters, n_singletons : int
        Records in, customers out, clusters with more than one record, customers with
        one record.
    n_candidate_pairs, n_links : int
        Pairs compared (sharing a block), pairs linked.
    n_skipped_blocks : int
        Blocks larger than ``max_block_size`` that were not compared.
    em_iterations : int
        EM iterations run.
    pair_weights : numpy.ndarray
        The match weight of every candidate pair (for the histogram).

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"rid": range(6), "zip": ["1", "1", "2", "2", "3", "3"],
    ...                      "name": ["ann lee", "ann le", "bo ek", "bob eck", "cy", "di"]})
    >>> res = resolve_identities_probabilistic(recs, id_col="rid", comparisons=["name"],
    ...                                        block_cols=["zip"])
    >>> res.explain(0, 1)[["field", "level"]].values.tolist()
    [['prior', ''], ['name', 'jaro_winkler>=0.92'], ['total', '']]
    >>> ax = res.plot()
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    records: pd.DataFrame
    links: pd.DataFrame
    parameters: pd.DataFrame
    compared: pd.DataFrame
    comparisons: tuple[Comparison, ...]
    id_col: str
    prior: float
    threshold_probability: float
    n_records: int
    n_customers: int
    n_merged_clusters: int
    n_singletons: int
    n_candidate_pairs: int
    n_links: int
    n_skipped_blocks: int
    em_iterations: int
    pair_weights: npt.NDArray[np.float64]

    def to_frame(self) -> pd.DataFrame:
        """Return the records with their ``customer_key``."""
        return self.records.copy()

    def keys(self) -> pd.DataFrame:
        """Return the mapping ``record id -> customer_key``."""
        return self.records[[self.id_col, "customer_key"]].copy()

    @property
    def prior_weight(self) -> float:
        """The prior as a match weight: ``log2(prior / (1 - prior))``."""
        return float(np.log2(self.prior / (1.0 - self.prior)))

    def explain(self, record_a: Any, record_b: Any) -> pd.DataFrame:
        """Explain the match weight of any two records field by field.

        Returns one row per field (``field``, ``value_a``, ``value_b``, ``level``, ``m``,
        ``u``, ``weight``) after a ``prior`` row and before a ``total`` row: the weights
        of the rows above ``total`` add up to its weight, and its ``probability`` is the
        pair's match probability. A missing value gives level ``missing`` and weight 0.

        Raises
        ------
        ArgumentError
            A record id that is not in the records.
        """
        pos = pd.Index(self.compared.index)
        where = []
        for arg, rid in (("record_a", record_a), ("record_b", record_b)):
            hit = pos.get_indexer([rid])[0] if pos.is_unique else -1
            if hit < 0:
                raise ArgumentError(
                    f"{arg}={rid!r} is not a record id of the resolved records "
                    f"(column {self.id_col!r}); pass one of its values."
                )
            where.append(int(hit))
        i, j = np.array([where[0]]), np.array([where[1]])
        gamma = _levels(self.compared, self.comparisons, i, j)
        m, u = _tables(self.parameters, self.comparisons)
        w = match_weights(gamma, m, u)[0]
        lev = gamma[0]
        rows = [
            {"field": "prior", "value_a": "", "value_b": "", "level": "", "m": np.nan,
             "u": np.nan, "weight": self.prior_weight},
        ]  # fmt: skip
        for f, comp in enumerate(self.comparisons):  # one row per field
            col = self.compared.iloc[:, f]
            a, b = col.iloc[where[0]], col.iloc[where[1]]
            rows.append(
                {
                    "field": comp.name,
                    "value_a": str(a) if isinstance(a, str) else "",
                    "value_b": str(b) if isinstance(b, str) else "",
                    "level": comp.levels[lev[f]] if lev[f] >= 0 else "missing",
                    "m": m[f, lev[f]] if lev[f] >= 0 else np.nan,
                    "u": u[f, lev[f]] if lev[f] >= 0 else np.nan,
                    "weight": float(w[f]),
                }
            )
        total = self.prior_weight + float(w.sum())
        out = pd.DataFrame(rows)
        out["probability"] = np.nan
        out.loc[len(out)] = ["total", "", "", "", np.nan, np.nan, total, 1 / (1 + 2.0**-total)]
        return out

    def plot(
        self, ax: Axes | None = None, *, pair: tuple[Any, Any] | None = None, **kwargs: Any
    ) -> Axes:
        """Histogram of the candidate pairs' match weights, or the waterfall of one pair.

        With ``pair=(record_a, record_b)`` the bars show how the prior and each field
        move the pair's match weight (:meth:`explain`).
        """
        from crmmodels.plotting.idic import plot_match_waterfall, plot_match_weights

        if pair is not None:
            return plot_match_waterfall(self, pair[0], pair[1], ax=ax, **kwargs)
        return plot_match_weights(self, ax=ax, **kwargs)


def _levels(
    compared: pd.DataFrame,
    comparisons: Sequence[Comparison],
    i: npt.NDArray[np.int64],
    j: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    cols = [
        comparison_levels(compared.iloc[:, f], comp, i, j)
        for f, comp in enumerate(comparisons)  # one column per field
    ]
    return np.stack(cols, axis=1).astype(np.int64) if cols else np.empty((i.size, 0), np.int64)


def _tables(
    parameters: pd.DataFrame, comparisons: Sequence[Comparison]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    width = max(c.n_levels for c in comparisons)
    m = np.zeros((len(comparisons), width))
    u = np.zeros((len(comparisons), width))
    f = parameters["field_index"].to_numpy(dtype=np.int64)
    lev = parameters["level_index"].to_numpy(dtype=np.int64)
    m[f, lev] = parameters["m"].to_numpy(dtype=np.float64)
    u[f, lev] = parameters["u"].to_numpy(dtype=np.float64)
    return m, u


def resolve_identities_probabilistic(
    records: Any,
    *,
    id_col: str,
    comparisons: Sequence[Comparison | str | dict[str, Any]],
    block_cols: Sequence[str | Sequence[str]],
    threshold_probability: float = 0.9,
    max_block_size: int = 1000,
    n_random_pairs: int = 100_000,
    max_iter: int = 200,
    seed: int = 0,
    progress: bool = False,
) -> ProbabilisticIdentityResult:
    r"""Link person records by Fellegi-Sunter match weights estimated from the data.

    Parameters
    ----------
    records : DataFrame-like
        One row per record, any engine that :func:`resolve_identities` accepts; only the
        compared and blocking columns are collected from lazy engines.
    id_col : str
        Unique, non-null record id.
    comparisons : sequence of Comparison, dict or str
        The fields compared, each with its levels (a column name means a Jaro-Winkler
        comparison with the default thresholds; a dict holds the arguments of
        :class:`Comparison`).
    block_cols : sequence of str or tuple of str
        Blocking rules: only pairs that agree exactly (after normalisation) on at least
        one rule are compared. A tuple is one rule over several columns.
    threshold_probability : float, optional
        Link the pairs whose match probability is at least this (0 < p < 1).
    max_block_size : int, optional
        Blocks with more records are not compared (counted in ``n_skipped_blocks``).
    n_random_pairs : int, optional
        Random pairs compared to estimate ``u`` (all pairs when there are fewer).
    max_iter : int, optional
        Cap on the EM iterations.
    seed : int, optional
        Seed of the random pairs.
    progress : bool, default False
        Report the steps through ``logging``.

    Returns
    -------
    ProbabilisticIdentityResult

    Raises
    ------
    SchemaError
        A named column is missing.
    DataError
        Null or duplicate record ids.
    ArgumentError
        A bad comparison, blocking rule or scalar argument.
    ConvergenceError
        No pair shares a block, so nothing can be estimated.

    Notes
    -----
    For field :math:`f` at level :math:`\\gamma_f` the match weight is
    :math:`w_f = \\log_2 m_{f,\\gamma_f} / u_{f,\\gamma_f}` with
    :math:`m = P(\\gamma_f \\mid \\text{match})` and :math:`u = P(\\gamma_f \\mid
    \\text{non-match})`; a missing value has weight 0. A pair's match weight is
    :math:`\\log_2 \\lambda / (1 - \\lambda) + \\sum_f w_f` and its match probability
    :math:`1 / (1 + 2^{-w})`, where :math:`\\lambda` is the probability that two random
    records match. ``u`` comes from random pairs (the exact level in closed form from
    the value frequencies); ``m`` and the share of matches among the blocked pairs come
    from EM on the blocked pairs with ``u`` held; :math:`\\lambda` is that share times the
    blocked pairs over all pairs.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({
    ...     "rid": range(8),
    ...     "name": ["anna berg", "ana berg", "tom hill", "tom hil", "eva lind",
    ...              "evert lund", "ivan orr", "ian orr"],
    ...     "dob": ["19800101", "19800101", "19751231", "19751231", "19900505",
    ...             "19660212", "19551111", "19551111"],
    ...     "zip": ["1000", "1000", "2000", "2000", "3000", "3000", "4000", "4000"],
    ... })
    >>> res = resolve_identities_probabilistic(
    ...     recs, id_col="rid", block_cols=["zip", "dob"],
    ...     comparisons=["name", Comparison("dob", method="levenshtein", thresholds=(1,))])
    >>> res.to_frame()["customer_key"].tolist()
    [0, 0, 1, 1, 2, 3, 4, 4]
    >>> ex = res.explain(0, 1)
    >>> bool(abs(ex["weight"].iloc[:-1].sum() - ex["weight"].iloc[-1]) < 1e-9)
    True
    """
    comps = as_comparisons(comparisons)
    blocks = as_blocks(block_cols)
    check_column_name(id_col, "id_col")
    threshold = check_number(
        threshold_probability,
        "threshold_probability",
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        fix="It is a match probability, e.g. 0.9.",
    )
    max_block_size = check_int(max_block_size, "max_block_size", low=2)
    n_random_pairs = check_int(n_random_pairs, "n_random_pairs", low=1000)
    max_iter = check_int(max_iter, "max_iter", low=1)
    seed = check_int(seed, "seed", low=0)
    progress = check_bool(progress, "progress")
    try:
        import rapidfuzz  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "probabilistic matching needs rapidfuzz: pip install 'crmmodels[fuzzy]'"
        ) from exc
    used = tuple(dict.fromkeys(c for comp in comps for c in comp.columns))
    block_used = tuple(dict.fromkeys(c for b in blocks for c in b))
    cols: dict[str, tuple[str, ...]] = {
        k: () for k in ("email_cols", "phone_cols", "name_cols", "address_cols")
    }
    cols.update({"exact_cols": used, "block_cols": block_used})
    full, df = _read_records(records, id_col=id_col, source_col=None, cols=cols)
    steps = Progress("resolve_identities_probabilistic", enabled=progress, logger=__name__)
    n = len(df)
    compared = pd.DataFrame({c.name: field_values(df, c) for c in comps})
    compared.index = pd.Index(df[id_col])
    pairs, n_skipped = block_pairs(df, blocks, max_block_size)
    steps.info("%d records, %d candidate pairs from %d blocking rules", n, len(pairs), len(blocks))
    if len(pairs) == 0:
        raise ConvergenceError(
            "resolve_identities_probabilistic: no two records share a block, so there is "
            "nothing to compare or estimate; use looser block_cols (e.g. one column each)."
        )
    i, j = pairs[:, 0], pairs[:, 1]
    gamma = _levels(compared, comps, i, j)
    n_levels = np.array([c.n_levels for c in comps], dtype=np.int64)
    width = int(n_levels.max())
    sample = random_pairs(n, n_random_pairs, seed)
    u = np.zeros((len(comps), width))
    for f, comp in enumerate(comps):  # one field at a time, vectorised over the pairs
        u[f, : comp.n_levels] = random_u(compared.iloc[:, f], comp, sample, _MIN_SHARE)
    m, n_iter = _estimate_m(df, comps, blocks, pairs, gamma, n_levels, u, max_iter)
    n_all = n * (n - 1) / 2.0
    field_w = match_weights(gamma, m, u)
    prior = estimate_prior(field_w.sum(axis=1), n_all)
    steps.info("EM: %d iterations; prior probability of a match %.4g", n_iter, prior)
    weight = field_w.sum(axis=1) + np.log2(prior / (1.0 - prior))
    prob = match_probability(field_w.sum(axis=1), prior)
    keep = prob >= threshold
    rank = pd.factorize(df[id_col], sort=True)[0].astype(np.int64)
    labels = components(n, i[keep], j[keep], order_key=rank)
    steps.info("%d links at a match probability >= %g", int(keep.sum()), threshold)
    steps.done()
    out = full.copy()
    out["customer_key"] = labels
    ids = df[id_col].reset_index(drop=True)
    links = pd.DataFrame(
        {
            "record_a": ids.take(i[keep]).reset_index(drop=True),
            "record_b": ids.take(j[keep]).reset_index(drop=True),
        }
    )
    for f, comp in enumerate(comps):  # one weight column per field
        links[f"weight_{comp.name}"] = field_w[keep, f]
    links["match_weight"] = weight[keep]
    links["match_probability"] = prob[keep]
    links["customer_key"] = labels[i[keep]]
    links = links.sort_values(["customer_key", "record_a", "record_b"], kind="stable")
    sizes = np.bincount(labels) if n else np.zeros(0, dtype=np.int64)
    return ProbabilisticIdentityResult(
        records=out,
        links=links.reset_index(drop=True),
        parameters=_parameter_table(comps, m, u),
        compared=compared,
        comparisons=comps,
        id_col=id_col,
        prior=prior,
        threshold_probability=float(threshold),
        n_records=n,
        n_customers=int(sizes.size),
        n_merged_clusters=int(np.sum(sizes > 1)),
        n_singletons=int(np.sum(sizes == 1)),
        n_candidate_pairs=len(pairs),
        n_links=int(keep.sum()),
        n_skipped_blocks=n_skipped,
        em_iterations=n_iter,
        pair_weights=weight,
    )


def _estimate_m(
    df: pd.DataFrame,
    comps: Sequence[Comparison],
    blocks: Sequence[tuple[str, ...]],
    pairs: npt.NDArray[np.int64],
    gamma: npt.NDArray[np.int64],
    n_levels: npt.NDArray[np.int64],
    u: npt.NDArray[np.float64],
    max_iter: int,
) -> tuple[npt.NDArray[np.float64], int]:
    """M by EM with u held, one session per blocking rule.

    The pairs of a rule agree on its columns whatever their match status, so a session
    leaves out the fields that share a column with its rule and estimates the others;
    each field's m is the mean over the sessions that estimated it, weighted by their
    expected matches. A field compared only inside its own blocks (every rule uses it)
    takes its m from EM on all candidate pairs.
    """
    agree = block_agreement(df, blocks, pairs[:, 0], pairs[:, 1])
    total = np.zeros_like(u)
    mass = np.zeros(len(comps))
    n_iter = 0
    for r, cols in enumerate(blocks):  # one EM session per blocking rule
        touched = np.array([bool(set(c.columns) & set(cols)) for c in comps])
        rows = agree[:, r]
        if touched.all() or rows.sum() < 2:
            continue
        g = gamma[rows].copy()
        g[:, touched] = -1
        fit = fellegi_sunter_em(
            g, n_levels, u_start=u, fix_u=True, max_iter=max_iter, pseudo_count=_PSEUDO_COUNT
        )
        n_iter += fit.n_iter
        expected = fit.prior * rows.sum()
        total[~touched] += expected * fit.m[~touched]
        mass[~touched] += expected
    fit_all = fellegi_sunter_em(
        gamma, n_levels, u_start=u, fix_u=True, max_iter=max_iter, pseudo_count=_PSEUDO_COUNT
    )
    n_iter += fit_all.n_iter
    m = fit_all.m.copy()
    have = mass > 0
    m[have] = total[have] / mass[have, None]
    return m, n_iter


def _parameter_table(
    comps: Sequence[Comparison], m: npt.NDArray[np.float64], u: npt.NDArray[np.float64]
) -> pd.DataFrame:
    f = np.concatenate([np.full(c.n_levels, k) for k, c in enumerate(comps)])
    lev = np.concatenate([np.arange(c.n_levels) for c in comps])
    return pd.DataFrame(
        {
            "field": [comps[k].name for k in f],
            "level": [comps[k].levels[v] for k, v in zip(f, lev, strict=True)],
            "m": m[f, lev],
            "u": u[f, lev],
            "weight": np.log2(m[f, lev] / u[f, lev]),
            "field_index": f,
            "level_index": lev,
        }
    )
