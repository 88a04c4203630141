"""Identify: resolve customer records from several sources into one customer key.

Records are linked when they share a normalised exact key (email, phone, any column in
``exact_cols``, or the full name together with the address); linking is transitive and
computed as connected components of the record-key graph (see
:mod:`crmmodels.kernels.identity`). Optionally, records whose names (and addresses)
are similar are linked too, comparing only pairs inside blocks.

The steps live in their own modules: the exact keys (:mod:`._identity_keys`), the
blocked fuzzy pairs (:mod:`._identity_fuzzy`) and the links and merge report
(:mod:`._identity_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmmodels._ingest.arguments import (
    check_bool,
    check_choice,
    check_column_name,
    check_int,
    check_number,
)
from crmmodels._ingest.frames import (
    check_columns,
    check_not_null,
    is_lazy,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._progress import Progress
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.idic._identity_fuzzy import (
    NO_FUZZY_LINKS,
    FuzzyLinks,
    candidate_pairs,
    phonetic_key,
    score_pairs,
    without_conflicts,
)
from crmmodels.idic._identity_keys import (
    Incidences,
    column_tuple,
    exact_keys,
    normalized_fields,
)
from crmmodels.idic._identity_report import linkage_quality, links_table, merge_report
from crmmodels.kernels.identity import components

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["IdentityResult", "linkage_quality", "phonetic_key", "resolve_identities"]


@dataclass(frozen=True, repr=False)
class IdentityResult(Result):
    """Result of :func:`resolve_identities`.

    Attributes
    ----------
    records : pandas.DataFrame
        The input records plus ``customer_key`` (all columns for eager input, the
        columns used for linking for lazy input).
    links : pandas.DataFrame
        One row per link that explains a merge: ``record_a``, ``record_b`` (record ids),
        ``rule`` (``email``, ``phone``, ``exact:<column>``, ``name+address`` or
        ``fuzzy``), ``key`` (the shared normalised value, or the fuzzy field scores),
        ``score`` (100 for exact keys) and ``customer_key``.
    report : pandas.DataFrame
        One row per merged cluster (more than one record): ``customer_key``,
        ``n_records``, ``n_sources``, ``n_emails``, ``n_phones``, ``rules`` and
        ``conflict`` (e.g. ``"2 emails; 2 phones"``, empty when none).
    id_col : str
        Name of the record id column.
    n_records, n_customers : int
        Records in, resolved customers out.
    n_merged_clusters, n_merged_records : int
        Clusters with more than one record, and the records in them.
    n_singletons : int
        Customers with one record.
    n_conflicts : int
        Merged clusters holding different emails or different phones.
    n_fuzzy_links : int
        Fuzzy pairs accepted (before transitivity).
    n_skipped_blocks : int
        Blocks larger than ``max_block_size`` that were not compared.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"rid": [1, 2, 3], "email": ["Ann@x.org", "ann@x.org ", "bo@y.org"]})
    >>> res = resolve_identities(recs, id_col="rid", email_cols=["email"])
    >>> res.to_frame()["customer_key"].tolist()
    [0, 0, 1]
    >>> res.n_customers, res.n_singletons
    (2, 1)
    >>> ax = res.plot()
    >>> type(ax).__name__
    'Axes'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """

    records: pd.DataFrame
    links: pd.DataFrame
    report: pd.DataFrame
    id_col: str
    n_records: int
    n_customers: int
    n_merged_clusters: int
    n_merged_records: int
    n_singletons: int
    n_conflicts: int
    n_fuzzy_links: int
    n_skipped_blocks: int

    def to_frame(self) -> pd.DataFrame:
        """Return the records with their ``customer_key``."""
        return self.records.copy()

    def keys(self) -> pd.DataFrame:
        """Return the mapping ``record id -> customer_key`` (to join back on any engine)."""
        return self.records[[self.id_col, "customer_key"]].copy()

    def cluster_sizes(self) -> pd.Series:
        """Return the number of customers per cluster size (index: records per customer)."""
        sizes = self.records["customer_key"].value_counts()
        return sizes.value_counts().sort_index().rename("customers").rename_axis("records")

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Bar chart of the cluster sizes with the merge report in the title."""
        from crmmodels.plotting.idic import plot_identity

        return plot_identity(self, ax=ax, **kwargs)


def resolve_identities(
    records: Any,
    *,
    id_col: str,
    email_cols: Sequence[str] = (),
    phone_cols: Sequence[str] = (),
    name_cols: Sequence[str] = (),
    address_cols: Sequence[str] = (),
    exact_cols: Sequence[str] = (),
    fuzzy: bool = False,
    source_col: str | None = None,
    default_country_code: str = "1",
    fuzzy_threshold: float = 85.0,
    block_cols: Sequence[str] = (),
    phonetic_blocking: bool = True,
    max_block_size: int = 1000,
    name_address_key: bool = True,
    veto_conflicts: bool = True,
    fuzzy_rule: str = "min",
    progress: bool = False,
) -> IdentityResult:
    r"""Link customer records from several sources to one ``customer_key`` per person.

    Parameters
    ----------
    records : DataFrame-like
        One row per record, any engine (pandas, polars, pyarrow, DuckDB, Dask, PySpark).
        Only the named columns are used for linking and, for lazy engines (polars
        LazyFrame, DuckDB, Dask, PySpark), only those are collected: ``to_frame()`` then
        holds them plus ``customer_key``, and ``keys()`` joins back on the engine. Eager
        frames are returned whole.
    id_col : str
        Unique, non-null record id.
    email_cols, phone_cols : sequence of str
        Email and phone columns; values are normalised (see Notes) and all email columns
        share one key space (so do all phone columns).
    name_cols, address_cols : sequence of str
        Name parts (e.g. given name, surname) and address parts, joined with spaces
        after normalisation. Used by the ``name+address`` exact key and by fuzzy
        matching.
    exact_cols : sequence of str
        Further identifiers linked on equality after trimming whitespace (customer
        number, national id, ...). Each column is its own key space.
    fuzzy : bool, optional
        Also link pairs of records in the same block whose mean similarity of name and
        address is at least ``fuzzy_threshold``. Needs ``rapidfuzz``.
    source_col : str, optional
        Source system of each record, counted per cluster in the report.
    default_country_code : str, optional
        Country code for phone numbers written in national format.
    fuzzy_threshold : float, optional
        Minimum similarity (0-100): the normalised Indel (Levenshtein without
        substitutions) similarity of the token-sorted full names and of the addresses,
        over the fields both records have, combined by ``fuzzy_rule``.
    block_cols : sequence of str, optional
        Columns whose normalised value defines extra blocking passes (e.g. postcode).
    phonetic_blocking : bool, optional
        Add one blocking pass per name column on the phonetic key of its first word
        (see :func:`phonetic_key`).
    max_block_size : int, optional
        Blocks with more records are not compared and are counted in
        ``n_skipped_blocks``.
    name_address_key : bool, optional
        Use the normalised full name plus the normalised address as an exact key when
        both ``name_cols`` and ``address_cols`` are given.
    fuzzy_rule : {"min", "mean"}, optional
        How the field similarities of a pair combine before the threshold: ``"min"``
        (default; every compared field must reach it) or ``"mean"``.
    veto_conflicts : bool, optional
        Reject a fuzzy pair when both records carry an email (or both a phone): had any
        of those values agreed, the records would already be linked exactly, so they
        contradict each other.
    progress : bool, default False
        Report the steps (keys, exact clusters, fuzzy candidate pairs and links) on
        standard error (see :mod:`crmmodels._progress`; the logger is
        ``crmmodels.idic._identify``).

    Returns
    -------
    IdentityResult

    Raises
    ------
    SchemaError
        A named column is missing, or no linking key was given.
    DataError
        Null or duplicate record ids.
    ImportError
        ``fuzzy=True`` without ``rapidfuzz`` installed.

    Notes
    -----
    Keys are normalised by :func:`crmmodels.idic.normalize_email`,
    :func:`~crmmodels.idic.normalize_phone` and :func:`~crmmodels.idic.normalize_name`.
    The record-key incidences are factorised into integer codes and the customers are
    the connected components of the sparse bipartite record-key graph (plus the fuzzy
    pairs as direct edges), found by :func:`scipy.sparse.csgraph.connected_components`.
    Fuzzy candidate pairs are generated only inside blocks and scored element-wise with
    ``rapidfuzz.process.cpdist``; pairs already linked by an exact key are not scored.
    ``customer_key`` numbers the customers ``0..k-1`` by their smallest record id, so
    it does not depend on the order of the rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import resolve_identities
    >>> recs = pd.DataFrame({
    ...     "rid": ["a1", "a2", "b1", "c1"],
    ...     "email": ["J.Smith@gmail.com", None, "jsmith+shop@googlemail.com", "ann@x.org"],
    ...     "phone": ["555-123-4567", "+1 (555) 123 4567", None, None],
    ... })
    >>> res = resolve_identities(recs, id_col="rid", email_cols=["email"], phone_cols=["phone"])
    >>> res.to_frame()["customer_key"].tolist()
    [0, 0, 0, 1]
    >>> res.n_customers, res.n_merged_clusters, res.n_singletons
    (2, 1, 1)
    >>> res.links[["record_a", "record_b", "rule"]].values.tolist()
    [['a1', 'b1', 'email'], ['a1', 'a2', 'phone']]
    """
    cols = {
        "email_cols": column_tuple(email_cols, "email_cols"),
        "phone_cols": column_tuple(phone_cols, "phone_cols"),
        "name_cols": column_tuple(name_cols, "name_cols"),
        "address_cols": column_tuple(address_cols, "address_cols"),
        "exact_cols": column_tuple(exact_cols, "exact_cols"),
        "block_cols": column_tuple(block_cols, "block_cols"),
    }
    fuzzy_threshold, fuzzy = _check_arguments(
        cols,
        id_col=id_col,
        source_col=source_col,
        fuzzy=fuzzy,
        fuzzy_threshold=fuzzy_threshold,
        fuzzy_rule=fuzzy_rule,
        default_country_code=default_country_code,
    )
    phonetic_blocking = check_bool(phonetic_blocking, "phonetic_blocking")
    name_address_key = check_bool(name_address_key, "name_address_key")
    veto_conflicts = check_bool(veto_conflicts, "veto_conflicts")
    max_block_size = check_int(max_block_size, "max_block_size", low=1)
    full, df = _read_records(records, id_col=id_col, source_col=source_col, cols=cols)
    ids = df[id_col]
    n = len(df)
    steps = Progress("resolve_identities", enabled=progress, logger=__name__)
    steps.info("%d records", n)
    id_rank = pd.factorize(ids, sort=True)[0].astype(np.int64)

    fields = normalized_fields(
        df,
        email_cols=cols["email_cols"],
        phone_cols=cols["phone_cols"],
        name_cols=cols["name_cols"],
        address_cols=cols["address_cols"],
        default_country_code=str(default_country_code),
    )
    inc = exact_keys(df, fields, cols["exact_cols"], name_address_key)
    exact_labels = components(n, inc.rec, n + inc.code, n_extra=inc.n_keys, order_key=id_rank)
    steps.info(
        "exact keys: %d distinct keys link the records into %d clusters",
        inc.n_keys,
        int(exact_labels.max(initial=-1)) + 1,
    )
    links_found = NO_FUZZY_LINKS
    if fuzzy:
        pairs, n_skipped = candidate_pairs(
            df,
            name_cols=cols["name_cols"],
            block_cols=cols["block_cols"],
            phonetic_blocking=phonetic_blocking,
            max_block_size=max_block_size,
        )
        pairs = pairs[exact_labels[pairs[:, 0]] != exact_labels[pairs[:, 1]]]
        steps.info("fuzzy: scoring %d candidate pairs from the blocks", len(pairs))
        if veto_conflicts:
            pairs = without_conflicts(pairs, fields)
        links_found = score_pairs(
            pairs,
            fields,
            threshold=fuzzy_threshold,
            rule=fuzzy_rule,
            n_skipped_blocks=n_skipped,
        )
        steps.info("fuzzy: %d links at a score >= %g", links_found.i.size, fuzzy_threshold)
    labels = _customer_labels(n, inc, links_found, exact_labels, id_rank)
    out = full.copy()
    out["customer_key"] = labels
    links = links_table(ids, inc, links_found, labels)
    report = merge_report(labels, inc, df[source_col] if source_col else None, links)
    n_customers = int(labels.max()) + 1 if n else 0
    steps.info("%d customers", n_customers)
    steps.done()
    sizes = np.bincount(labels, minlength=n_customers) if n else np.zeros(0, dtype=np.int64)
    return IdentityResult(
        records=out,
        links=links,
        report=report,
        id_col=id_col,
        n_records=n,
        n_customers=n_customers,
        n_merged_clusters=int(np.sum(sizes > 1)),
        n_merged_records=int(sizes[sizes > 1].sum()),
        n_singletons=int(np.sum(sizes == 1)),
        n_conflicts=int((report["conflict"] != "").sum()),
        n_fuzzy_links=int(links_found.i.size),
        n_skipped_blocks=links_found.n_skipped_blocks,
    )


def _check_arguments(
    cols: dict[str, tuple[str, ...]],
    *,
    id_col: str,
    source_col: str | None,
    fuzzy: Any,
    fuzzy_threshold: Any,
    fuzzy_rule: str,
    default_country_code: Any,
) -> tuple[float, bool]:
    """Check the keys and the scalar arguments; return the fuzzy threshold and ``fuzzy``."""
    if not (cols["email_cols"] or cols["phone_cols"] or cols["exact_cols"] or cols["name_cols"]):
        raise SchemaError(
            "resolve_identities needs at least one key: pass email_cols, phone_cols, "
            "exact_cols or name_cols (with fuzzy=True or address_cols)."
        )
    threshold = check_number(
        fuzzy_threshold, "fuzzy_threshold", low=0.0, high=100.0, fix="It is a similarity score."
    )
    check_choice(fuzzy_rule, "fuzzy_rule", ("min", "mean"))
    fuzzy = check_bool(fuzzy, "fuzzy")
    if isinstance(default_country_code, bool) or not isinstance(default_country_code, (str, int)):
        raise ArgumentError(
            "default_country_code must be a country calling code such as '1' or '44'; "
            f"got {default_country_code!r}."
        )
    if not any(ch.isdigit() for ch in str(default_country_code)):
        raise ArgumentError(
            "default_country_code must contain digits (a calling code such as '1' or '44'); "
            f"got {default_country_code!r}."
        )
    check_column_name(id_col, "id_col")
    if source_col is not None:
        check_column_name(source_col, "source_col")
    if fuzzy and not cols["name_cols"] and not cols["address_cols"]:
        raise SchemaError("fuzzy=True needs name_cols and/or address_cols to compare.")
    if fuzzy:
        try:
            import rapidfuzz  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "fuzzy matching needs rapidfuzz: pip install 'crmmodels[fuzzy]'"
            ) from exc
    return float(threshold), fuzzy


def _read_records(
    records: Any, *, id_col: str, source_col: str | None, cols: dict[str, tuple[str, ...]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records as pandas (whole for eager input) and the columns used for linking.

    Lazy engines collect only the columns used for linking; eager frames are already in
    memory and are returned whole by ``to_frame()``. Record ids must be unique.
    """
    frame = to_narwhals(records, what="records")
    extra = (source_col,) if source_col is not None else ()
    used = (id_col, *cols["email_cols"], *cols["phone_cols"], *cols["name_cols"])
    used = (*used, *cols["address_cols"], *cols["exact_cols"], *cols["block_cols"], *extra)
    used = tuple(dict.fromkeys(used))
    check_columns(frame, list(used), what="records")
    check_not_null(frame, [id_col], what="records")
    full = to_pandas(frame.select(list(used)) if is_lazy(frame) else frame)
    full = full.reset_index(drop=True)
    df = full[list(used)]
    ids = df[id_col]
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataError(
            "records: "
            + bad_rows_message(
                id_col,
                "has duplicate record ids",
                int(dup.sum()),
                python_scalar(ids[dup].iloc[0]),
                "Record ids must be unique; de-duplicate or build a composite id.",
            )
        )
    return full, df


def _customer_labels(
    n: int,
    inc: Incidences,
    fuzzy: FuzzyLinks,
    exact_labels: np.ndarray[Any, Any],
    id_rank: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    """Customers: the components of the key graph plus the fuzzy pairs as direct edges."""
    if not fuzzy.i.size:
        return exact_labels
    return components(
        n,
        np.concatenate([inc.rec, fuzzy.i]),
        np.concatenate([n + inc.code, fuzzy.j]),
        n_extra=inc.n_keys,
        order_key=id_rank,
    )
