"""Identify, step 1: the normalised exact keys of the records.

Every email column shares one key space, so does every phone column; each column of
``exact_cols`` is its own key space, and so is the full name together with the address.
The keys become *incidences*: (record position, key code, key space) triples that
:func:`crmmodels.kernels.identity.components` turns into clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_column_name
from crmmodels.errors import ArgumentError
from crmmodels.idic._normalize import (
    blank_to_na,
    normalize_address,
    normalize_email,
    normalize_name,
    normalize_phone,
)


def column_tuple(cols: str | Sequence[str] | None, name: str) -> tuple[str, ...]:
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


@dataclass(frozen=True)
class Fields:
    """The normalised fields of the records: emails, phones, full name and address."""

    emails: list[pd.Series]
    phones: list[pd.Series]
    full_name: pd.Series | None
    address: pd.Series | None


@dataclass(frozen=True)
class Incidences:
    """Record-key incidences: ``rec[i]`` holds key ``code[i]`` of key space ``space[i]``."""

    rec: npt.NDArray[np.int64]
    code: npt.NDArray[np.int64]
    space: npt.NDArray[np.int64]
    value: pd.Series
    space_names: npt.NDArray[np.object_]
    n_keys: int


def normalized_fields(
    df: pd.DataFrame,
    *,
    email_cols: Sequence[str],
    phone_cols: Sequence[str],
    name_cols: Sequence[str],
    address_cols: Sequence[str],
    default_country_code: str,
) -> Fields:
    """Normalise the email, phone, name and address columns."""
    return Fields(
        emails=[normalize_email(df[c]) for c in email_cols],
        phones=[normalize_phone(df[c], default_country_code) for c in phone_cols],
        full_name=(_join_parts([normalize_name(df[c]) for c in name_cols]) if name_cols else None),
        address=(
            _join_parts([normalize_address(df[c]) for c in address_cols]) if address_cols else None
        ),
    )


def exact_keys(
    df: pd.DataFrame, fields: Fields, exact_cols: Sequence[str], name_address_key: bool
) -> Incidences:
    """Factorise every key space into integer codes, one range of codes per space."""
    spaces: list[tuple[str, pd.Series]] = [("email", s) for s in fields.emails]
    spaces += [("phone", s) for s in fields.phones]
    spaces += [(f"exact:{c}", df[c].astype("string").str.strip()) for c in exact_cols]
    if name_address_key and fields.full_name is not None and fields.address is not None:
        sorted_name = normalize_name(fields.full_name, sort_tokens=True)
        spaces.append(("name+address", sorted_name + " | " + fields.address))
    positions = np.arange(len(df), dtype=np.int64)
    names = np.array(list(dict.fromkeys(rule for rule, _ in spaces)), dtype=object)
    rec_parts: list[npt.NDArray[np.int64]] = []
    code_parts: list[npt.NDArray[np.int64]] = []
    space_parts: list[npt.NDArray[np.int64]] = []
    value_parts: list[pd.Series] = []
    n_keys = 0
    for k, name in enumerate(names):  # a handful of key spaces, each vectorised
        vals = [v for rule, v in spaces if rule == name]
        pos = np.concatenate([positions[v.notna().to_numpy()] for v in vals])
        values = pd.concat([v[v.notna()].astype("string") for v in vals], ignore_index=True)
        codes, uniques = pd.factorize(values)
        rec_parts.append(pos)
        code_parts.append(codes.astype(np.int64) + n_keys)
        space_parts.append(np.full(pos.size, k, dtype=np.int64))
        value_parts.append(values)
        n_keys += len(uniques)
    if not rec_parts:
        empty = np.empty(0, dtype=np.int64)
        return Incidences(empty, empty, empty, pd.Series([], dtype="string"), names, 0)
    return Incidences(
        rec=np.concatenate(rec_parts),
        code=np.concatenate(code_parts),
        space=np.concatenate(space_parts),
        value=pd.concat(value_parts, ignore_index=True),
        space_names=names,
        n_keys=n_keys,
    )
