"""Normalisation of identity keys: emails, phone numbers, names and addresses.

Every function takes a pandas Series of strings and returns a Series of normalised
strings with missing or unusable values as ``<NA>``. They are vectorised pandas string
operations (no Python loop over rows). Identity resolution collects only the key
columns it needs from the caller's engine and normalises them here, in pandas.

Email rules
-----------
* strip surrounding and inner whitespace, lower-case (the local part is treated as
  case-insensitive, as every large provider does);
* drop a ``+tag`` suffix of the local part (sub-addressing, documented by Gmail,
  Outlook.com and Fastmail, and common elsewhere);
* Gmail: ``googlemail.com`` is an alias of ``gmail.com`` and dots in the local part are
  ignored (Google documents both), so ``J.Smith+news@GoogleMail.com`` becomes
  ``jsmith@gmail.com``. Dots are kept for every other provider, where they may matter;
* a value without exactly one ``@`` and a dotted domain is not an email (``<NA>``).

Phone rules
-----------
Extensions (``x12``, ``ext. 12``) are dropped and only digits are kept. A leading ``+``
or ``00`` marks an international number whose digits already start with the country
code. A national number with a trunk ``0`` (``020 7946 0018``) loses the ``0`` and gets
the default country code; a number that already starts with the default country code
and has at least 11 digits is kept; any other number gets the default country code
prefixed. Fewer than 7 digits is not a phone number (``<NA>``). The result is the E.164
digits without ``+``.

Name rules
----------
Unicode NFKD decomposition with combining accents removed (``José`` -> ``jose``),
case-folded (``ß`` -> ``ss``), apostrophes and dots removed (``O'Brien`` -> ``obrien``),
other punctuation turned into spaces, whitespace collapsed. ``sort_tokens=True`` also
sorts the tokens, so ``Smith, John`` and ``john smith`` agree (used for fuzzy matching).
"""

from __future__ import annotations

import re

import pandas as pd

from crmmodels.errors import ArgumentError

__all__ = ["normalize_address", "normalize_email", "normalize_name", "normalize_phone"]

_COMBINING = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_GMAIL_ALIASES = {"googlemail.com": "gmail.com"}
_DOTLESS_DOMAINS = frozenset({"gmail.com"})


def blank_to_na(values: pd.Series) -> pd.Series:
    """Turn empty strings into missing values (``<NA>``).

    Examples
    --------
    >>> import pandas as pd
    >>> blank_to_na(pd.Series(["a", "  ", None])).tolist()
    ['a', '  ', nan]
    """
    out: pd.Series = values.where(values != "")
    return out


def _as_string(values: pd.Series) -> pd.Series:
    return blank_to_na(values.astype("string").str.strip())


def normalize_email(values: pd.Series) -> pd.Series:
    """Normalise email addresses to a comparable key.

    Parameters
    ----------
    values : pandas.Series
        Raw email addresses (any dtype; non-strings are converted).

    Returns
    -------
    pandas.Series of string
        Normalised addresses; ``<NA>`` where the value is missing or not an email.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series([" J.Smith+news@GoogleMail.com ", "Ann.Lee@Example.COM", "bad", None])
    >>> normalize_email(s).tolist()
    ['jsmith@gmail.com', 'ann.lee@example.com', <NA>, <NA>]
    """
    s = _as_string(values).str.lower().str.replace(r"[ \t\r\n\f\v]+", "", regex=True)
    valid = s.str.fullmatch(r"[^@]+@[^@]+\.[^@]+").fillna(False).astype(bool)
    s = s.where(valid)
    local = s.str.replace(r"@.*$", "", regex=True).str.replace(r"\+.*$", "", regex=True)
    domain = s.str.replace(r"^[^@]*@", "", regex=True)
    for alias, canonical in _GMAIL_ALIASES.items():
        domain = domain.str.replace(f"^{re.escape(alias)}$", canonical, regex=True)
    dotless = domain.isin(list(_DOTLESS_DOMAINS)).fillna(False).astype(bool)
    local = local.where(~dotless, local.str.replace(".", "", regex=False))
    local = blank_to_na(local)
    out = local + "@" + domain
    out.index = values.index
    return out


def normalize_phone(values: pd.Series, default_country_code: str = "1") -> pd.Series:
    """Normalise phone numbers to E.164 digits (without the ``+``).

    Parameters
    ----------
    values : pandas.Series
        Raw phone numbers.
    default_country_code : str, optional
        Country calling code for numbers written in national format (default ``"1"``,
        North America).

    Returns
    -------
    pandas.Series of string
        Digits with country code; ``<NA>`` when fewer than 7 digits remain.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["(555) 123-4567", "+1 555.123.4567", "001-555-123-4567 x12",
    ...                "1 555 123 4567", "020 7946 0018", "123"])
    >>> normalize_phone(s).tolist()
    ['15551234567', '15551234567', '15551234567', '15551234567', '12079460018', <NA>]
    >>> normalize_phone(pd.Series(["020 7946 0018", "+44 20 7946 0018"]), "44").tolist()
    ['442079460018', '442079460018']
    """
    cc = "".join(ch for ch in str(default_country_code) if ch.isdigit())
    if not cc:
        raise ArgumentError(
            f"default_country_code must contain digits, such as '1' or '44'; got "
            f"{default_country_code!r}."
        )
    s = _as_string(values).str.lower()
    s = s.str.replace(r"(?:ext\.?|x|#)\s*\d+\s*$", "", regex=True).str.strip()
    plus = s.str.startswith("+").fillna(False).astype(bool)
    digits = s.str.replace(r"\D", "", regex=True)
    intl00 = digits.str.startswith("00").fillna(False).astype(bool) & ~plus
    trunk = digits.str.startswith("0").fillna(False).astype(bool) & ~plus & ~intl00
    has_cc = (
        digits.str.startswith(cc).fillna(False).astype(bool)
        & (digits.str.len().fillna(0) >= 11)
        & ~plus
        & ~intl00
        & ~trunk
    )
    national = ~plus & ~intl00 & ~trunk & ~has_cc
    out = digits.copy()
    out = out.where(~intl00, digits.str.slice(2))
    out = out.where(~trunk, cc + digits.str.slice(1))
    out = out.where(~national, cc + digits)
    short = digits.str.len().fillna(0) < 7
    out = out.mask(short, pd.NA)
    out.index = values.index
    return out


def normalize_name(values: pd.Series, *, sort_tokens: bool = False) -> pd.Series:
    """Normalise personal names (or any free text) for comparison.

    Parameters
    ----------
    values : pandas.Series
        Raw names.
    sort_tokens : bool, optional
        Sort the words alphabetically (token order independence).

    Returns
    -------
    pandas.Series of string
        Normalised names; ``<NA>`` when nothing is left.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["  José  O'Brien ", "SMITH, John", "Strauß-Weiß", ""])
    >>> normalize_name(s).tolist()
    ['jose obrien', 'smith john', 'strauss weiss', <NA>]
    >>> normalize_name(s, sort_tokens=True).tolist()[:2]
    ['jose obrien', 'john smith']
    """
    s = _as_string(values).str.normalize("NFKD").str.replace(_COMBINING, "", regex=True)
    s = s.str.casefold().str.replace(r"['’`.]", "", regex=True)
    s = s.str.replace(r"[\W_]+", " ", regex=True).str.strip()
    if sort_tokens:
        s = (
            s.str.split()
            .map(lambda toks: " ".join(sorted(toks)) if isinstance(toks, list) else pd.NA)
            .astype("string")
        )
    s = blank_to_na(s)
    s.index = values.index
    return s


def normalize_address(values: pd.Series) -> pd.Series:
    """Normalise a free-text address (same rules as names, order kept).

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_address(pd.Series(["12, Rue de l'Église", None])).tolist()
    ['12 rue de leglise', <NA>]
    """
    return normalize_name(values, sort_tokens=False)
