"""Identify, step 2: fuzzy links between records of the same block.

Candidate pairs come only from blocks (the phonetic key of each name column, and the
normalised ``block_cols``); pairs already linked exactly are not scored. A pair is scored
on the token-sorted full name and on the address with the normalised Indel similarity of
``rapidfuzz`` and kept at or above the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels.idic._identity_keys import Fields
from crmmodels.idic._normalize import normalize_name
from crmmodels.kernels.identity import within_block_pairs

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


@dataclass(frozen=True)
class FuzzyLinks:
    """Accepted fuzzy pairs (record positions), their scores and per-field scores."""

    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    score: npt.NDArray[np.float64]
    text: npt.NDArray[np.object_]
    n_candidates: int
    n_skipped_blocks: int


NO_FUZZY_LINKS = FuzzyLinks(
    i=np.empty(0, dtype=np.int64),
    j=np.empty(0, dtype=np.int64),
    score=np.empty(0, dtype=np.float64),
    text=np.empty(0, dtype=object),
    n_candidates=0,
    n_skipped_blocks=0,
)


def candidate_pairs(
    df: pd.DataFrame,
    *,
    name_cols: Sequence[str],
    block_cols: Sequence[str],
    phonetic_blocking: bool,
    max_block_size: int,
) -> tuple[npt.NDArray[np.int64], int]:
    """Distinct pairs of records sharing a block, and the number of blocks too large."""
    passes: list[pd.Series] = []
    if phonetic_blocking:
        passes += [phonetic_key(normalize_name(df[c], sort_tokens=True)) for c in name_cols]
    passes += [normalize_name(df[c]) for c in block_cols]
    pair_list = []
    n_skipped = 0
    for blk in passes:  # one pass per blocking column
        codes = pd.factorize(blk)[0].astype(np.int64)
        sizes = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0)
        n_skipped += int(np.sum(sizes > max_block_size))
        pair_list.append(within_block_pairs(codes, max_block_size))
    pairs = np.unique(np.concatenate(pair_list), axis=0) if pair_list else np.empty((0, 2))
    return pairs.astype(np.int64).reshape(-1, 2), n_skipped


def without_conflicts(pairs: npt.NDArray[np.int64], fields: Fields) -> npt.NDArray[np.int64]:
    """Drop the pairs whose records both carry an email (or both a phone).

    Had any of those values agreed, the records would already be linked exactly, so
    they contradict each other.
    """
    for group in (fields.emails, fields.phones):
        if group:
            has = np.logical_or.reduce([g.notna().to_numpy() for g in group])
            pairs = pairs[~(has[pairs[:, 0]] & has[pairs[:, 1]])]
    return pairs


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


def score_pairs(
    pairs: npt.NDArray[np.int64],
    fields: Fields,
    *,
    threshold: float,
    rule: str,
    n_skipped_blocks: int,
) -> FuzzyLinks:
    """Score the candidate pairs on name and address; keep those at the threshold."""
    i, j = pairs[:, 0], pairs[:, 1]
    total = np.zeros(i.size)
    lowest = np.full(i.size, 100.0)
    n_fields = np.zeros(i.size)
    texts: list[npt.NDArray[np.object_]] = []
    for label, text in (("name", fields.full_name), ("address", fields.address)):
        if text is None:
            continue
        compare = normalize_name(text, sort_tokens=True) if label == "name" else text
        score, valid = _fuzzy_scores(compare, i, j)
        total += np.where(valid, score, 0.0)
        lowest = np.where(valid, np.minimum(lowest, score), lowest)
        n_fields += valid
        texts.append(np.where(valid, f"{label}=" + np.round(score).astype(int).astype(str), ""))
    if rule == "min":
        combined = np.where(n_fields > 0, lowest, 0.0)
    else:
        combined = np.divide(total, n_fields, out=np.zeros_like(total), where=n_fields > 0)
    keep = (n_fields > 0) & (combined >= float(threshold))
    joined_text = np.empty(int(keep.sum()), dtype=object)
    if texts:
        joined = pd.Series(texts[0][keep], dtype="string")
        for t in texts[1:]:  # name and address: at most two fields
            joined = joined.str.cat(pd.Series(t[keep], dtype="string"), sep=",")
        joined_text = joined.str.strip(",").to_numpy(dtype=object)
    return FuzzyLinks(
        i=i[keep],
        j=j[keep],
        score=combined[keep],
        text=joined_text,
        n_candidates=int(i.size),
        n_skipped_blocks=n_skipped_blocks,
    )
