"""Identify: resolve customer records from several sources into one customer key.

Records are linked when they share a normalised exact key (email, phone, any column in
``exact_cols``, or the full name together with the address); linking is transitive and
computed as connected components of the record-key graph (see
:mod:`crmmodels.kernels.unionfind`). Optionally, records whose names (and addresses)
are similar are linked too, comparing only pairs inside blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._frames import (
    check_columns,
    check_not_null,
    is_lazy,
    python_scalar,
    to_narwhals,
    to_pandas,
)
from crmmodels._ingest.arguments import (
    check_bool,
    check_choice,
    check_column_name,
    check_int,
    check_number,
)
from crmmodels._progress import Progress
from crmmodels._results import Result
from crmmodels.errors import ArgumentError, DataError, SchemaError, bad_rows_message
from crmmodels.idic._normalize import (
    blank_to_na,
    normalize_address,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from crmmodels.kernels.unionfind import components, within_block_pairs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["IdentityResult", "linkage_quality", "phonetic_key", "resolve_identities"]

_SOUNDEX_FROM = "abcdefghijklmnopqrstuvwxyz"
_SOUNDEX_TO = "01230120022455012623010202"
_SOUNDEX_TABLE = str.maketrans(_SOUNDEX_FROM, _SOUNDEX_TO)


def phonetic_key(values: pd.Series) -> pd.Series:
    """A Soundex-like code of the first word of each (normalised) value.

    The first letter is kept; the following letters are mapped to the Soundex digit
    classes (b f p v = 1, c g j k q s x z = 2, d t = 3, l = 4, m n = 5, r = 6; vowels
    and h w y = 0), runs of the same digit are collapsed, a digit equal to the first
    letter's class is dropped, zeros are removed and the code is cut to three digits.
    Unlike classic Soundex, h and w separate equal digits like vowels do.

    Parameters
    ----------
    values : pandas.Series
        Normalised names (see ``normalize_name``).

    Returns
    -------
    pandas.Series of string
        The codes (``<NA>`` for missing values or values not starting with a letter).

    Examples
    --------
    >>> import pandas as pd
    >>> phonetic_key(pd.Series(["robert", "rupert", "smith john", "smyth", None])).tolist()
    ['r163', 'r163', 's53', 's53', <NA>]
    """
    s = values.astype("string").str.split(" ").str[0].astype("string")
    s = s.where(s.str.match(r"^[a-z]").fillna(False).astype(bool))
    s = s.str.replace(r"[^a-z]", "", regex=True)
    first = s.str.slice(0, 1)
    digits = s.str.translate(_SOUNDEX_TABLE)
    digits = digits.str.replace(r"(\d)\1+", r"\1", regex=True)
    rest = digits.str.slice(1)
    first_code = digits.str.slice(0, 1)
    same = (rest.str.slice(0, 1) == first_code).fillna(False).astype(bool)
    rest = rest.where(~same, rest.str.slice(1))
    rest = rest.str.replace("0", "", regex=False).str.slice(0, 3)
    out: pd.Series = (first + rest).astype("string")
    return out


def linkage_quality(predicted: npt.ArrayLike, truth: npt.ArrayLike) -> dict[str, float]:
    r"""Pairwise precision, recall and F1 of a clustering against the true entities.

    A pair of records is a predicted match when both have the same predicted key and a
    true match when both belong to the same true entity. Counts come from the
    contingency table, :math:`\\sum \\binom{n}{2}`, without listing pairs.

    Parameters
    ----------
    predicted, truth : array-like
        Predicted cluster key and true entity per record.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` and the pair counts ``true_positive_pairs``,
        ``predicted_pairs``, ``true_pairs``.

    Examples
    --------
    >>> q = linkage_quality([0, 0, 0, 1], ["a", "a", "b", "b"])
    >>> round(q["precision"], 3), q["recall"]
    (0.333, 0.5)
    """
    p = pd.factorize(pd.Series(np.asarray(predicted)))[0].astype(np.int64)
    t = pd.factorize(pd.Series(np.asarray(truth)))[0].astype(np.int64)

    def pairs(counts: npt.NDArray[np.int64]) -> float:
        c = counts.astype(np.float64)
        return float(np.sum(c * (c - 1.0) / 2.0))

    cell = p * (int(t.max(initial=0)) + 1) + t
    tp = pairs(np.unique(cell, return_counts=True)[1])
    pp = pairs(np.unique(p, return_counts=True)[1])
    tt = pairs(np.unique(t, return_counts=True)[1])
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positive_pairs": tp,
        "predicted_pairs": pp,
        "true_pairs": tt,
    }


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


def _tuple(cols: str | Sequence[str] | None, name: str) -> tuple[str, ...]:
    if cols is None:
        return ()
    if isinstance(cols, str):
        return (check_column_name(cols, name),)
    if not isinstance(cols, Iterable):
        raise ArgumentError(f"{name} must be a column name or a list of them; got {cols!r}.")
    return tuple(check_column_name(c, name) for c in cols)


def _join_parts(parts: list[pd.Series]) -> pd.Series:
    if not parts:
        raise ValueError("no parts")
    out = parts[0].astype("string").fillna("")
    for part in parts[1:]:  # a handful of columns; str.cat is vectorised over the rows
        out = out.str.cat(part.astype("string").fillna(""), sep=" ")
    return blank_to_na(out.str.replace(r"\s+", " ", regex=True).str.strip())


def _fuzzy_scores(
    a: pd.Series, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    from rapidfuzz import fuzz, process

    valid = (a.notna().to_numpy()[i]) & (a.notna().to_numpy()[j])
    vals = a.fillna("").astype(str).to_numpy(dtype=object)
    scores = np.zeros(i.size, dtype=np.float64)
    if valid.any():
        scores[valid] = process.cpdist(
            vals[i[valid]].tolist(), vals[j[valid]].tolist(), scorer=fuzz.ratio, workers=1
        )
    return scores, valid


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
    email_cols = _tuple(email_cols, "email_cols")
    phone_cols = _tuple(phone_cols, "phone_cols")
    name_cols = _tuple(name_cols, "name_cols")
    address_cols = _tuple(address_cols, "address_cols")
    exact_cols = _tuple(exact_cols, "exact_cols")
    block_cols = _tuple(block_cols, "block_cols")
    if not (email_cols or phone_cols or exact_cols or name_cols):
        raise SchemaError(
            "resolve_identities needs at least one key: pass email_cols, phone_cols, "
            "exact_cols or name_cols (with fuzzy=True or address_cols)."
        )
    fuzzy_threshold = check_number(
        fuzzy_threshold, "fuzzy_threshold", low=0.0, high=100.0, fix="It is a similarity score."
    )
    check_choice(fuzzy_rule, "fuzzy_rule", ("min", "mean"))
    fuzzy = check_bool(fuzzy, "fuzzy")
    phonetic_blocking = check_bool(phonetic_blocking, "phonetic_blocking")
    name_address_key = check_bool(name_address_key, "name_address_key")
    veto_conflicts = check_bool(veto_conflicts, "veto_conflicts")
    max_block_size = check_int(max_block_size, "max_block_size", low=1)
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
    if fuzzy and not name_cols and not address_cols:
        raise SchemaError("fuzzy=True needs name_cols and/or address_cols to compare.")
    if fuzzy:
        try:
            import rapidfuzz  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "fuzzy matching needs rapidfuzz: pip install 'crmmodels[fuzzy]'"
            ) from exc

    frame = to_narwhals(records, what="records")
    extra = (source_col,) if source_col is not None else ()
    used = (id_col, *email_cols, *phone_cols, *name_cols, *address_cols, *exact_cols)
    used = (*used, *block_cols, *extra)
    check_columns(frame, list(dict.fromkeys(used)), what="records")
    check_not_null(frame, [id_col], what="records")
    used = tuple(dict.fromkeys(used))
    # lazy engines: collect only the columns used for linking; eager frames are already
    # in memory and are returned whole by to_frame()
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
    n = len(df)
    steps = Progress("resolve_identities", enabled=progress, logger=__name__)
    steps.info("%d records", n)
    id_rank = pd.factorize(ids, sort=True)[0].astype(np.int64)

    # -- normalised keys ---------------------------------------------------------------
    rec_parts: list[npt.NDArray[np.int64]] = []
    key_parts: list[pd.Series] = []
    ns_parts: list[npt.NDArray[np.int64]] = []
    emails = [normalize_email(df[c]) for c in email_cols]
    phones = [normalize_phone(df[c], default_country_code) for c in phone_cols]
    full_name = _join_parts([normalize_name(df[c]) for c in name_cols]) if name_cols else None
    address = (
        _join_parts([normalize_address(df[c]) for c in address_cols]) if address_cols else None
    )
    spaces: list[tuple[str, pd.Series]] = [("email", s) for s in emails]
    spaces += [("phone", s) for s in phones]
    spaces += [(f"exact:{c}", df[c].astype("string").str.strip()) for c in exact_cols]
    if name_address_key and full_name is not None and address is not None:
        sorted_name = normalize_name(full_name, sort_tokens=True)
        spaces.append(("name+address", sorted_name + " | " + address))
    positions = np.arange(n, dtype=np.int64)
    code_parts: list[npt.NDArray[np.int64]] = []
    ns_names = np.array(list(dict.fromkeys(rule for rule, _ in spaces)), dtype=object)
    n_keys = 0
    for k, name in enumerate(ns_names):
        # all columns of one kind (e.g. every email column) share one key space
        vals = [v for rule, v in spaces if rule == name]
        pos = np.concatenate([positions[v.notna().to_numpy()] for v in vals])
        values = pd.concat([v[v.notna()].astype("string") for v in vals], ignore_index=True)
        codes, uniques = pd.factorize(values)
        rec_parts.append(pos)
        code_parts.append(codes.astype(np.int64) + n_keys)
        n_keys += len(uniques)
        key_parts.append(values)
        ns_parts.append(np.full(pos.size, k, dtype=np.int64))
    if rec_parts:
        inc_rec = np.concatenate(rec_parts)
        key_code = np.concatenate(code_parts)
        inc_val = pd.concat(key_parts, ignore_index=True)
        inc_ns = np.concatenate(ns_parts)
    else:
        inc_rec = key_code = inc_ns = np.empty(0, dtype=np.int64)
        inc_val = pd.Series([], dtype="string")
    exact_labels = components(n, inc_rec, n + key_code, n_extra=n_keys, order_key=id_rank)
    steps.info(
        "exact keys: %d distinct keys link the records into %d clusters",
        n_keys,
        int(exact_labels.max(initial=-1)) + 1,
    )

    # -- fuzzy pairs inside blocks --------------------------------------------------------
    fuzzy_i = np.empty(0, dtype=np.int64)
    fuzzy_j = np.empty(0, dtype=np.int64)
    fuzzy_score = np.empty(0, dtype=np.float64)
    fuzzy_text = np.empty(0, dtype=object)
    n_skipped = 0
    if fuzzy:
        passes: list[pd.Series] = []
        if phonetic_blocking:
            passes += [phonetic_key(normalize_name(df[c], sort_tokens=True)) for c in name_cols]
        passes += [normalize_name(df[c]) for c in block_cols]
        pair_list = []
        for blk in passes:
            codes = pd.factorize(blk)[0].astype(np.int64)
            sizes = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0)
            n_skipped += int(np.sum(sizes > max_block_size))
            pair_list.append(within_block_pairs(codes, max_block_size))
        pairs = np.unique(np.concatenate(pair_list), axis=0) if pair_list else np.empty((0, 2))
        pairs = pairs.astype(np.int64).reshape(-1, 2)
        pairs = pairs[exact_labels[pairs[:, 0]] != exact_labels[pairs[:, 1]]]
        steps.info("fuzzy: scoring %d candidate pairs from the blocks", len(pairs))
        if veto_conflicts:
            for group in (emails, phones):
                if group:
                    has = np.logical_or.reduce([g.notna().to_numpy() for g in group])
                    pairs = pairs[~(has[pairs[:, 0]] & has[pairs[:, 1]])]
        i, j = pairs[:, 0], pairs[:, 1]
        total = np.zeros(i.size)
        lowest = np.full(i.size, 100.0)
        fields = np.zeros(i.size)
        texts: list[npt.NDArray[np.object_]] = []
        for label, text in (("name", full_name), ("address", address)):
            if text is None:
                continue
            compare = normalize_name(text, sort_tokens=True) if label == "name" else text
            score, valid = _fuzzy_scores(compare, i, j)
            total += np.where(valid, score, 0.0)
            lowest = np.where(valid, np.minimum(lowest, score), lowest)
            fields += valid
            texts.append(np.where(valid, f"{label}=" + np.round(score).astype(int).astype(str), ""))
        mean = np.divide(total, fields, out=np.zeros_like(total), where=fields > 0)
        if fuzzy_rule == "min":
            mean = np.where(fields > 0, lowest, 0.0)
        keep = (fields > 0) & (mean >= float(fuzzy_threshold))
        fuzzy_i, fuzzy_j, fuzzy_score = i[keep], j[keep], mean[keep]
        steps.info("fuzzy: %d links at a score >= %g", fuzzy_i.size, float(fuzzy_threshold))
        if texts:
            joined = pd.Series(texts[0][keep], dtype="string")
            for t in texts[1:]:  # name and address: at most two fields
                joined = joined.str.cat(pd.Series(t[keep], dtype="string"), sep=",")
            fuzzy_text = joined.str.strip(",").to_numpy(dtype=object)

    labels = (
        components(
            n,
            np.concatenate([inc_rec, fuzzy_i]),
            np.concatenate([n + key_code, fuzzy_j]),
            n_extra=n_keys,
            order_key=id_rank,
        )
        if fuzzy_i.size
        else exact_labels
    )

    out = full.copy()
    out["customer_key"] = labels

    # -- links: each record to the first record (by position) holding the same key ----
    order = np.lexsort((inc_rec, key_code))
    sorted_key, sorted_rec = key_code[order], inc_rec[order]
    is_first = np.r_[True, sorted_key[1:] != sorted_key[:-1]] if order.size else np.zeros(0, bool)
    first_rec = sorted_rec[is_first][np.cumsum(is_first) - 1]
    keep = ~is_first
    first, other, sel = first_rec[keep], sorted_rec[keep], order[keep]
    exact_links = pd.DataFrame(
        {
            "record_a": ids.take(first).reset_index(drop=True),
            "record_b": ids.take(other).reset_index(drop=True),
            "rule": ns_names[inc_ns[sel]] if sel.size else np.empty(0, dtype=object),
            "key": inc_val.take(sel).reset_index(drop=True),
            "score": 100.0,
            "customer_key": labels[first],
        }
    )
    fuzzy_links = pd.DataFrame(
        {
            "record_a": ids.take(fuzzy_i).reset_index(drop=True),
            "record_b": ids.take(fuzzy_j).reset_index(drop=True),
            "rule": "fuzzy",
            "key": pd.Series(fuzzy_text, dtype="string"),
            "score": fuzzy_score,
            "customer_key": labels[fuzzy_i],
        }
    )
    parts = [df_ for df_ in (exact_links, fuzzy_links) if len(df_)]
    links = pd.concat(parts, ignore_index=True) if parts else exact_links
    links = links.sort_values(["customer_key", "rule"], kind="stable").reset_index(drop=True)

    # -- report -----------------------------------------------------------------------------
    incidences = (inc_rec, key_code, inc_ns, ns_names)
    report = _report(labels, incidences, df[source_col] if source_col else None, links)
    n_customers = int(labels.max()) + 1 if n else 0
    sizes = np.bincount(labels, minlength=n_customers) if n else np.zeros(0, dtype=np.int64)
    steps.info("%d customers", n_customers)
    steps.done()
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
        n_fuzzy_links=int(fuzzy_i.size),
        n_skipped_blocks=n_skipped,
    )


def _distinct_per_cluster(
    labels: npt.NDArray[np.int64],
    rec: npt.NDArray[np.int64],
    code: npt.NDArray[np.int64],
    n_codes: int,
) -> npt.NDArray[np.int64]:
    """Number of distinct codes per cluster label (dense array over all labels)."""
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    if rec.size == 0:
        return np.zeros(n_clusters, dtype=np.int64)
    pair = np.unique(labels[rec] * np.int64(max(n_codes, 1)) + code)
    return np.bincount(pair // max(n_codes, 1), minlength=n_clusters).astype(np.int64)


def _report(
    labels: npt.NDArray[np.int64],
    incidences: tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[Any]
    ],
    sources: pd.Series | None,
    links: pd.DataFrame,
) -> pd.DataFrame:
    inc_rec, key_code, inc_ns, ns_names = incidences
    n_keys = int(key_code.max()) + 1 if key_code.size else 0
    sizes = np.bincount(labels) if labels.size else np.zeros(0, dtype=np.int64)
    merged = np.flatnonzero(sizes > 1)
    idx = pd.Index(merged, name="customer_key")
    rep = pd.DataFrame({"n_records": sizes[merged].astype(np.int64)}, index=idx)
    if sources is not None:
        src_code = pd.factorize(sources)[0].astype(np.int64)
        ok = src_code >= 0
        rec = np.flatnonzero(ok)
        n_src = _distinct_per_cluster(labels, rec, src_code[ok], int(src_code.max()) + 1)
        rep["n_sources"] = n_src[merged]
    else:
        rep["n_sources"] = np.ones(len(merged), dtype=np.int64)
    for kind in ("email", "phone"):
        sel = np.isin(inc_ns, np.flatnonzero(ns_names == kind))
        counts = _distinct_per_cluster(labels, inc_rec[sel], key_code[sel], n_keys)
        rep[f"n_{kind}s"] = counts[merged] if counts.size else np.zeros(len(merged), np.int64)
    rule_code, rule_names = pd.factorize(links["rule"], sort=True)
    n_clusters = int(labels.max()) + 1 if labels.size else 0
    present = np.zeros((n_clusters, len(rule_names)), dtype=bool)
    present[links["customer_key"].to_numpy(dtype=np.int64), rule_code] = True
    present = present[idx.to_numpy(dtype=np.int64)]
    rules = np.full(len(idx), "", dtype=object)
    for r, rule in enumerate(rule_names):
        has = present[:, r]
        sep = np.where(rules == "", "", ",")
        rules = np.where(has, rules + sep + rule, rules)
    rep["rules"] = rules
    e = np.where(rep["n_emails"] > 1, rep["n_emails"].astype(str) + " emails", "")
    p = np.where(rep["n_phones"] > 1, rep["n_phones"].astype(str) + " phones", "")
    conflict = pd.Series(e, index=idx) + np.where((e != "") & (p != ""), "; ", "") + p
    rep["conflict"] = conflict.astype(str)
    return rep.reset_index()
