"""Pseudonymised identities: replace identifiers by a keyed hash (HMAC-SHA256).

The same value under the same key always gives the same pseudonym, on every engine and
in every run, so tables pseudonymised separately still join; without the key the
pseudonyms cannot be linked back to the values (nor recomputed from a guessed value).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_column_name, check_int
from crmmodels._ingest.frames import check_columns, check_ids, native_like, to_narwhals
from crmmodels.errors import ArgumentError, DataError, SchemaError

__all__ = ["collision_probability", "pseudonymize"]

#: the shortest key accepted, in bytes (the block of SHA-256 is 64 bytes, its output 32)
MIN_KEY_BYTES = 16
#: the block size of SHA-256 in bytes (the length of HMAC's padded key)
_BLOCK = 64
#: the hex characters of one SHA-256 digest
MAX_LENGTH = 64
_KEY_FIX = (
    "Use a random secret of at least 16 bytes kept outside the data, e.g. "
    "secrets.token_hex(32), read from an environment variable or a secrets store."
)


def _key_bytes(key: Any) -> bytes:
    """The key as bytes; the messages never show the key itself."""
    if isinstance(key, str):
        data = key.encode("utf-8")
    elif isinstance(key, (bytes, bytearray, memoryview)):
        data = bytes(key)
    else:
        raise ArgumentError(f"key must be bytes or text; got a {type(key).__name__}. {_KEY_FIX}")
    if len(data) < MIN_KEY_BYTES:
        raise ArgumentError(
            f"key must be at least {MIN_KEY_BYTES} bytes long (UTF-8 for text); got "
            f"{len(data)} bytes. {_KEY_FIX}"
        )
    return data


def collision_probability(n_values: int, length: int = 16) -> float:
    """Probability that two of ``n_values`` distinct values share a pseudonym.

    The birthday bound for ``length`` hex characters (``4 * length`` bits):
    ``1 - exp(-n (n - 1) / 2 ** (4 * length + 1))``.

    Examples
    --------
    >>> f"{collision_probability(1_000_000, length=16):.1e}"
    '2.7e-08'
    >>> collision_probability(1_000_000, length=32) < 1e-25
    True
    """
    n = check_int(n_values, "n_values", low=0)
    length = check_int(length, "length", low=1, high=MAX_LENGTH)
    return -math.expm1(-n * (n - 1) / 2.0 ** (4 * length + 1))


def _canonical(values: npt.NDArray[Any]) -> list[str]:
    """The UTF-8 text hashed for each distinct value.

    Integers (also integral floats) as decimal text, other floats as Python's shortest
    round-trip text, strings as is.
    """
    if values.dtype.kind == "f":
        integral = np.isfinite(values) & (values == np.round(values))
        return [
            str(int(v)) if whole else repr(float(v))
            for v, whole in zip(values.tolist(), integral.tolist(), strict=True)
        ]
    return [str(v) for v in values.tolist()]


def _keyed_states(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the inner and the outer padded key of HMAC (RFC 2104).

    Hashing a value then continues copies of these two states, which gives exactly
    ``hmac.digest(key, value, "sha256")`` without processing the key again per value.
    """
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\x00")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    return inner, outer


def _hasher(
    key: bytes, length: int, prefix: str, column: str
) -> Callable[[Any], npt.NDArray[np.object_]]:
    """A function from a column's values to their pseudonyms.

    Each distinct value is hashed once (factorise, hash the uniques, map back); nulls
    stay null.
    """

    def hash_values(values: Any) -> npt.NDArray[np.object_]:
        # the states are made per call (per batch on a lazy engine): the function that
        # travels to an engine's workers must pickle, and hash states do not
        inner, outer = _keyed_states(key)

        def hmac_hex(text: str) -> str:
            h = inner.copy()
            h.update(text.encode("utf-8"))
            o = outer.copy()
            o.update(h.digest())
            return prefix + str(o.hexdigest())[:length]

        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        hashed = [hmac_hex(t) for t in _canonical(np.asarray(uniques))]
        n_distinct = len(set(hashed))
        digests = np.array(hashed, dtype=object)
        if n_distinct < len(digests):
            raise DataError(
                f"column '{column}': {len(digests) - n_distinct} pair(s) of distinct values got "
                f"the same pseudonym at length={length} ({len(digests)} distinct values). Use "
                "a longer pseudonym, e.g. length=32."
            )
        out = np.empty(len(codes), dtype=object)
        known = codes >= 0
        out[known] = digests[codes[known]]
        out[~known] = None
        return out

    return hash_values


def _check_dtypes(frame: Any, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split ``columns`` into those cast to text on the engine and those kept as floats."""
    schema = frame.collect_schema()
    to_text, floats = [], []
    for col in columns:
        dtype = schema[col]
        if dtype.is_float():
            floats.append(col)
        elif dtype == nw.String:
            continue
        elif dtype.is_integer() or dtype in (nw.Categorical, nw.Enum):
            to_text.append(col)
        else:
            raise SchemaError(
                f"column '{col}' has type {dtype}; pseudonymize hashes text, whole numbers and "
                f"floats. Convert it first, e.g. df[{col!r}] = df[{col!r}].astype(str)."
            )
    return to_text, floats


def _column_list(columns: Any) -> list[str]:
    if isinstance(columns, str):
        return [check_column_name(columns, "columns")]
    if not isinstance(columns, Sequence) or not columns:
        raise ArgumentError(
            f"columns must be a column name or a non-empty list of column names; got "
            f"{type(columns).__name__}."
        )
    names = [check_column_name(c, "columns") for c in columns]
    if len(set(names)) < len(names):
        raise ArgumentError(f"columns names a column twice: {names}.")
    return names


def pseudonymize(
    frame: Any,
    columns: str | Sequence[str],
    *,
    key: str | bytes,
    prefix: str = "",
    length: int = 16,
) -> Any:
    """Replace identifier columns by a keyed hash (HMAC-SHA256), on any engine.

    Parameters
    ----------
    frame : DataFrame-like
        pandas, polars (eager or lazy), pyarrow, DuckDB, Dask or PySpark frame.
    columns : str or sequence of str
        The identifier columns to replace (text, whole numbers or floats).
    key : str or bytes
        The secret, at least 16 bytes (text is encoded as UTF-8). It is used, never
        stored on a returned object, and never shown in a message.
    prefix : str, optional
        Text put before each pseudonym (``"c_"``), so that pseudonyms are never read as
        numbers.
    length : int, optional
        Hex characters kept of the 64 of the digest, 16 (64 bits) to 64. See
        :func:`collision_probability`.

    Returns
    -------
    DataFrame-like
        The caller's kind of frame (lazy engines stay lazy: the hash runs on the engine
        when the frame is computed), with the named columns replaced by text columns of
        pseudonyms; other columns and the row order are unchanged. The input is not
        modified.

    Raises
    ------
    ArgumentError
        A key shorter than 16 bytes or not text/bytes, a bad ``length`` or ``columns``.
    SchemaError
        A named column is missing or has another type (dates, booleans ...).
    DataError
        Two distinct values of one column got the same pseudonym (raise ``length``).

    Notes
    -----
    Each value is hashed as the UTF-8 bytes of its canonical text: integers (and floats
    holding a whole number, as integer columns with nulls become on some engines) as
    decimal text without a fraction, other floats as Python's shortest round-trip text
    (``repr``), strings and categories as they are. An id ``42`` and an id ``"42"``
    therefore get the same pseudonym, which keeps joins between an integer column and a
    text column working. Nulls (and NaN) stay null.

    The pseudonym is ``prefix + hex(HMAC-SHA256(key, text))[:length]`` (RFC 2104). Each
    distinct value is hashed once (the column is factorised first); on lazy engines the
    same function runs batch by batch on the engine (polars ``map_batches``, DuckDB
    ``map``, Dask ``map_partitions``, Spark ``mapInPandas``), so the collision check
    covers one batch there. With ``n`` distinct values the chance of any collision is
    about ``n**2 / 2**(4*length + 1)``: 2.7e-8 for a million ids at the default length.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels.idic import pseudonymize
    >>> orders = pd.DataFrame({"customer_id": [17, 42, 17, None]})
    >>> out = pseudonymize(orders, "customer_id", key="a secret of 16+ bytes")
    >>> out["customer_id"].tolist()[:3]
    ['76d110e7fff88cd1', '2a48c68dcfb81c14', '76d110e7fff88cd1']
    >>> bool(out["customer_id"].isna().iloc[3])
    True
    """
    names = _column_list(columns)
    key_bytes = _key_bytes(key)
    length = check_int(length, "length", low=16, high=MAX_LENGTH)
    if not isinstance(prefix, str):
        raise ArgumentError(f"prefix must be text; got a {type(prefix).__name__}.")
    check_ids(frame, names[0], what="frame")
    for col in names[1:]:
        check_ids(frame, col, what="frame")
    nw_frame = to_narwhals(frame, what="frame")
    check_columns(nw_frame, names, what="frame")
    to_text, _floats = _check_dtypes(nw_frame, names)
    hashers = {c: _hasher(key_bytes, length, prefix, c) for c in names}
    impl = nw_frame.implementation
    if isinstance(nw_frame, nw.DataFrame):
        replaced = [
            nw.new_series(
                c, hashers[c](_eager_values(nw_frame[c], c in to_text)), nw.String, backend=impl
            )
            for c in names
        ]
        out = native_like(nw_frame.with_columns(replaced))
        if impl is nw.Implementation.PYARROW and out.schema.metadata:
            # pandas' dtypes of the replaced columns would make to_pandas() fail
            meta = {k: v for k, v in out.schema.metadata.items() if k != b"pandas"}
            out = out.replace_schema_metadata(meta or None)
        return out
    if to_text:  # whole numbers as decimal text on the engine: never through a float
        nw_frame = nw_frame.with_columns([nw.col(c).cast(nw.String) for c in to_text])
    return _lazy(native_like(nw_frame), impl, names, hashers)


def _eager_values(series: Any, text: bool) -> Any:
    """The values to hash of an eager column.

    Whole numbers without nulls stay numbers (exact and fast); other whole numbers and
    categories become text (a null would turn whole numbers into floats).
    """
    if text and not (series.dtype.is_integer() and series.null_count() == 0):
        series = series.cast(nw.String)
    return series.to_numpy()


def _on_pandas(
    df: pd.DataFrame, hashers: dict[str, Callable[[Any], npt.NDArray[np.object_]]]
) -> pd.DataFrame:
    return df.assign(
        **{c: pd.Series(h(df[c].to_numpy()), index=df.index) for c, h in hashers.items()}
    )


def _lazy(
    native: Any,
    impl: nw.Implementation,
    names: list[str],
    hashers: dict[str, Callable[[Any], npt.NDArray[np.object_]]],
) -> Any:
    """Run the hash on a lazy engine, batch by batch, without collecting the frame."""
    if impl is nw.Implementation.POLARS:
        import polars as pl

        def batch(h: Callable[[Any], npt.NDArray[np.object_]]) -> Callable[[pl.Series], pl.Series]:
            return lambda s: pl.Series(s.name, h(s.to_numpy()), dtype=pl.String)

        return native.with_columns(
            [pl.col(c).map_batches(batch(hashers[c]), return_dtype=pl.String) for c in names]
        )
    if impl is nw.Implementation.DUCKDB:
        schema = {c: str(t) for c, t in zip(native.columns, native.types, strict=True)}
        schema.update(dict.fromkeys(names, "VARCHAR"))
        return native.map(lambda df: _on_pandas(df, hashers), schema=schema)
    if impl is nw.Implementation.DASK:
        meta = native._meta.assign(**{c: pd.Series([], dtype=object) for c in names})
        return native.map_partitions(_on_pandas, hashers, meta=meta)
    if impl is nw.Implementation.PYSPARK:
        from pyspark.sql.types import StringType, StructField, StructType

        fields = [
            StructField(f.name, StringType(), True) if f.name in names else f
            for f in native.schema.fields
        ]
        return native.mapInPandas(
            lambda batches: (_on_pandas(df, hashers) for df in batches), StructType(fields)
        )
    raise SchemaError(f"pseudonymize does not know how to run on {impl} frames.")
