"""Identify, step 3: the links that explain each merge, the merge report, linkage quality."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels.idic._identity_fuzzy import FuzzyLinks
from crmmodels.idic._identity_keys import Incidences

__all__ = ["linkage_quality"]


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


def links_table(
    ids: pd.Series, inc: Incidences, fuzzy: FuzzyLinks, labels: npt.NDArray[np.int64]
) -> pd.DataFrame:
    """One row per link, sorted by customer and rule.

    Each record is linked to the first record (by position) holding the same key; the
    fuzzy links follow.
    """
    order = np.lexsort((inc.rec, inc.code))
    sorted_key, sorted_rec = inc.code[order], inc.rec[order]
    is_first = np.r_[True, sorted_key[1:] != sorted_key[:-1]] if order.size else np.zeros(0, bool)
    first_rec = sorted_rec[is_first][np.cumsum(is_first) - 1]
    keep = ~is_first
    first, other, sel = first_rec[keep], sorted_rec[keep], order[keep]
    exact_links = pd.DataFrame(
        {
            "record_a": ids.take(first).reset_index(drop=True),
            "record_b": ids.take(other).reset_index(drop=True),
            "rule": inc.space_names[inc.space[sel]] if sel.size else np.empty(0, dtype=object),
            "key": inc.value.take(sel).reset_index(drop=True),
            "score": 100.0,
            "customer_key": labels[first],
        }
    )
    fuzzy_links = pd.DataFrame(
        {
            "record_a": ids.take(fuzzy.i).reset_index(drop=True),
            "record_b": ids.take(fuzzy.j).reset_index(drop=True),
            "rule": "fuzzy",
            "key": pd.Series(fuzzy.text, dtype="string"),
            "score": fuzzy.score,
            "customer_key": labels[fuzzy.i],
        }
    )
    parts = [df_ for df_ in (exact_links, fuzzy_links) if len(df_)]
    links = pd.concat(parts, ignore_index=True) if parts else exact_links
    return links.sort_values(["customer_key", "rule"], kind="stable").reset_index(drop=True)


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


def merge_report(
    labels: npt.NDArray[np.int64],
    inc: Incidences,
    sources: pd.Series | None,
    links: pd.DataFrame,
) -> pd.DataFrame:
    """One row per merged cluster: records, sources, emails, phones, rules, conflicts."""
    inc_rec, key_code, inc_ns, ns_names = inc.rec, inc.code, inc.space, inc.space_names
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
