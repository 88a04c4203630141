"""A small synthetic CRM data set with known ground truth (for the IDIC models)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmmodels._ingest.arguments import check_int

__all__ = ["CRMData", "simulate_crm"]

_FIRST = np.array(
    ["José", "Maria", "Zoë", "Renée", "François", "Anna", "John", "Li", "Ahmed", "Olga",
     "Peter", "Sofia", "Chloé", "Lukas", "Mei", "Raúl", "Ines", "Tom", "Sara", "Björn",
     "Noah", "Emma", "Liam", "Amélie", "Jonas", "Hana", "Diego", "Nora", "Kofi", "Aiko",
     "Mateo", "Léa", "Omar", "Eva", "Yusuf", "Ingrid", "Pablo", "Mia", "Arjun", "Greta"]
)  # fmt: skip
_LAST = np.array(
    ["García", "Smith", "Müller", "O'Brien", "Nguyen", "Kowalski", "Rossi", "Dubois",
     "Novák", "Jensen", "Silva", "Tanaka", "Brown", "Schröder", "Martin", "López",
     "Wang", "Ivanova", "Clark", "Łukasik", "Andersson", "Fernández", "Kim", "Moreau",
     "Weber", "Costa", "Hughes", "Petrov", "Yilmaz", "Sato", "Ortiz", "Fischer", "Bianchi",
     "Lefèvre", "Murphy", "Chen", "Haddad", "Nowak", "Varga", "Okafor"]
)  # fmt: skip
_STREETS = np.array(["Main St", "Oak Ave", "Pine Rd", "Elm St", "Lake Dr", "Hill Rd"])
_DOMAINS = np.array(["gmail.com", "example.com", "mail.org", "outlook.com"])
_SOURCES = np.array(["webshop", "store", "callcenter"])
CATEGORIES = ("books", "electronics", "home", "fashion")
CHANNELS = ("web", "app", "store")
SEGMENTS = ("readers", "gadget fans", "home and style")
# category and channel probabilities of each needs segment (rows: SEGMENTS)
_CAT_P = np.array([[0.75, 0.1, 0.1, 0.05], [0.05, 0.8, 0.1, 0.05], [0.05, 0.05, 0.45, 0.45]])
_CHAN_P = np.array([[0.8, 0.1, 0.1], [0.15, 0.75, 0.1], [0.1, 0.1, 0.8]])
_CONTACT = np.array(["email", "phone", "sms", "store visit"])
_KINDS = np.array(["campaign", "service", "sales call"])


@dataclass(frozen=True)
class CRMData:
    """The tables returned by :func:`simulate_crm`.

    Attributes
    ----------
    records : pandas.DataFrame
        Customer records from several sources: ``record_id``, ``source``,
        ``first_name``, ``last_name``, ``email``, ``phone``, ``postcode``, ``street``
        and the ground truth ``true_customer_id`` (drop it before resolving).
    interactions : pandas.DataFrame
        ``customer_id``, ``timestamp``, ``channel``, ``kind``, ``responded`` (bool).
    purchases : pandas.DataFrame
        ``customer_id``, ``date``, ``category``, ``channel``, ``amount``.
    customers : pandas.DataFrame
        Ground truth per customer: ``customer_id``, ``needs_segment`` (one of
        ``SEGMENTS``), ``spend_scale`` and ``n_records``.

    Examples
    --------
    >>> crm = simulate_crm(50, seed=0)
    >>> sorted(k for k in vars(crm) if not k.startswith('_'))
    ['customers', 'interactions', 'purchases', 'records']
    """

    records: pd.DataFrame
    interactions: pd.DataFrame
    purchases: pd.DataFrame
    customers: pd.DataFrame


def _strip_accents(s: pd.Series) -> pd.Series:
    out: pd.Series = s.str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    return out.str.replace("Ł", "L").str.replace("ł", "l")


def _typo(values: npt.NDArray[np.str_], rng: np.random.Generator) -> npt.NDArray[np.str_]:
    """Replace one inner character of each string with a random letter (vectorised)."""
    arr = np.asarray(values, dtype="U32").copy()
    n = arr.size
    if n == 0:
        return arr
    lengths = np.char.str_len(arr)
    pos = 1 + np.floor(rng.random(n) * np.maximum(lengths - 1, 1)).astype(np.int64)
    pos = np.minimum(pos, np.maximum(lengths - 1, 0))
    codes = arr.view(np.uint32).reshape(n, 32)
    letters = rng.integers(ord("a"), ord("z") + 1, size=n).astype(np.uint32)
    same = codes[np.arange(n), pos] == letters
    letters[same] = np.where(letters[same] == ord("z"), ord("a"), letters[same] + 1)
    codes[np.arange(n), pos] = letters
    return arr


def simulate_crm(n_customers: int = 500, *, seed: int = 0) -> CRMData:
    """Simulate a small CRM data set with known duplicates and needs segments.

    Each simulated person has one record in a primary source and, with probability
    0.35 each, up to two more in other sources. Duplicate records carry the
    normalisation cases identity resolution must handle: email case, whitespace,
    ``+tags``, Gmail dots and the ``googlemail.com`` alias, phone numbers in national,
    ``+1`` and ``001`` formats with punctuation, names in capitals, without accents, in
    "Last, First" order, with one typo, and missing emails or phones. Each person
    belongs to one of three needs segments (``SEGMENTS``) that set the category and
    channel mix of the purchases; spend levels are log-normal, so value is concentrated.

    Parameters
    ----------
    n_customers : int, optional
        Number of true persons.
    seed : int, optional
        Seed of the random generator (the output is deterministic).

    Returns
    -------
    CRMData

    Examples
    --------
    >>> from crmmodels.datasets._crm import simulate_crm
    >>> crm = simulate_crm(200, seed=1)
    >>> crm.records["true_customer_id"].nunique(), len(crm.customers)
    (200, 200)
    >>> sorted(crm.purchases["category"].unique())
    ['books', 'electronics', 'fashion', 'home']
    """
    n = check_int(n_customers, "n_customers", low=1)
    rng = np.random.default_rng(seed)
    cid = np.arange(1, n + 1)

    # -- true persons -----------------------------------------------------------------------
    first = _FIRST[rng.integers(0, _FIRST.size, n)]
    last = _LAST[rng.integers(0, _LAST.size, n)]
    domain = _DOMAINS[rng.integers(0, _DOMAINS.size, n)]
    f_ascii = _strip_accents(pd.Series(first)).str.lower().str.replace("'", "")
    l_ascii = _strip_accents(pd.Series(last)).str.lower().str.replace("'", "")
    email = f_ascii + "." + l_ascii + pd.Series(cid).astype(str) + "@" + domain
    phone_num = rng.permutation(9_000_000)[:n] + 1_000_000
    phone = pd.Series(rng.choice(["212", "415", "617"], n)) + pd.Series(phone_num).astype(str)
    postcode = pd.Series(rng.integers(10000, 10060, n)).astype(str)
    street = (
        pd.Series(rng.integers(1, 200, n)).astype(str)
        + " "
        + pd.Series(_STREETS[rng.integers(0, _STREETS.size, n)])
    )
    seg = rng.choice(len(SEGMENTS), size=n, p=[0.4, 0.35, 0.25])
    scale = rng.lognormal(mean=3.5, sigma=0.9, size=n)

    # -- records ------------------------------------------------------------------------------
    n_extra = rng.binomial(2, 0.35, n)
    owner = np.repeat(np.arange(n), 1 + n_extra)
    is_dup = np.ones(owner.size, dtype=bool)
    starts = np.r_[0, np.cumsum(1 + n_extra)[:-1]]
    is_dup[starts] = False
    m = owner.size
    rec = pd.DataFrame(
        {
            "record_id": "R" + pd.Series(np.arange(1, m + 1)).astype(str).str.zfill(6),
            "source": _SOURCES[rng.integers(0, _SOURCES.size, m)],
            "first_name": first[owner],
            "last_name": last[owner],
            "email": email.to_numpy()[owner],
            "phone": phone.to_numpy()[owner],
            "postcode": postcode.to_numpy()[owner],
            "street": street.to_numpy()[owner],
            "true_customer_id": cid[owner],
        }
    )
    d = np.flatnonzero(is_dup)
    u = rng.random((d.size, 8))
    # emails
    em = rec["email"].copy()
    local = em.str.split("@").str[0]
    dom = em.str.split("@").str[1]
    case_ws = d[u[:, 0] < 0.3]
    em.iloc[case_ws] = "  " + em.iloc[case_ws].str.upper() + " "
    tag = d[(u[:, 0] >= 0.3) & (u[:, 0] < 0.5)]
    em.iloc[tag] = local.iloc[tag] + "+promo@" + dom.iloc[tag]
    gm = d[(dom.iloc[d] == "gmail.com").to_numpy() & (u[:, 1] < 0.7)]
    em.iloc[gm] = local.iloc[gm].str.replace(".", "", regex=False) + "@googlemail.com"
    no_email = d[u[:, 2] < 0.3]
    em.iloc[no_email] = None
    rec["email"] = em
    # phones
    ph = rec["phone"].copy()
    a, b, c = ph.str.slice(0, 3), ph.str.slice(3, 6), ph.str.slice(6, 10)
    fmt = rng.integers(0, 5, d.size)
    styles = [
        "(" + a + ") " + b + "-" + c,
        "+1 " + a + " " + b + " " + c,
        "001-" + a + "-" + b + "-" + c,
        a + "." + b + "." + c,
        "1-" + a + "-" + b + "-" + c + " x12",
    ]
    for k, style in enumerate(styles):
        rows = d[fmt == k]
        ph.iloc[rows] = style.iloc[rows]
    no_phone = d[(u[:, 3] < 0.3) & ~np.isin(d, no_email)]
    ph.iloc[no_phone] = None
    both_missing = d[(u[:, 3] < 0.08)]
    ph.iloc[both_missing] = None
    em.iloc[both_missing] = None
    rec["email"], rec["phone"] = em, ph
    # names
    fn, ln = rec["first_name"].copy(), rec["last_name"].copy()
    upper = d[u[:, 4] < 0.25]
    fn.iloc[upper], ln.iloc[upper] = fn.iloc[upper].str.upper(), ln.iloc[upper].str.upper()
    plain = d[(u[:, 4] >= 0.25) & (u[:, 4] < 0.5)]
    fn.iloc[plain] = _strip_accents(fn.iloc[plain])
    ln.iloc[plain] = _strip_accents(ln.iloc[plain])
    typo = d[u[:, 5] < 0.2]
    ln.iloc[typo] = _typo(ln.iloc[typo].to_numpy(dtype=str), rng)
    swap = d[u[:, 6] < 0.15]
    fn.iloc[swap], ln.iloc[swap] = (ln.iloc[swap] + ",").to_numpy(), fn.iloc[swap].to_numpy()
    rec["first_name"], rec["last_name"] = " " + fn, ln + "  "
    rec["first_name"] = rec["first_name"].str.strip()
    rec = rec.sample(frac=1.0, random_state=int(rng.integers(0, 2**31 - 1))).reset_index(drop=True)

    # -- purchases ----------------------------------------------------------------------------
    n_buy = 1 + rng.poisson(4, n)
    buyer = np.repeat(np.arange(n), n_buy)
    k = buyer.size
    cum_cat = np.cumsum(_CAT_P[seg[buyer]], axis=1)
    cat = (rng.random(k)[:, None] > cum_cat).sum(axis=1)
    cum_chan = np.cumsum(_CHAN_P[seg[buyer]], axis=1)
    chan = (rng.random(k)[:, None] > cum_chan).sum(axis=1)
    start = np.datetime64("2024-01-01")
    purchases = pd.DataFrame(
        {
            "customer_id": cid[buyer],
            "date": pd.to_datetime(start + rng.integers(0, 366, k).astype("timedelta64[D]")),
            "category": np.asarray(CATEGORIES)[np.minimum(cat, len(CATEGORIES) - 1)],
            "channel": np.asarray(CHANNELS)[np.minimum(chan, len(CHANNELS) - 1)],
            "amount": np.round(scale[buyer] * rng.gamma(4.0, 0.25, k), 2),
        }
    ).sort_values(["customer_id", "date"], kind="stable", ignore_index=True)

    # -- interactions -------------------------------------------------------------------------
    n_int = rng.poisson(1.0 + 4.0 * (scale / scale.mean()).clip(0, 3), n)
    who = np.repeat(np.arange(n), n_int)
    j = who.size
    ch_p = np.array([0.5, 0.2, 0.2, 0.1])
    ch = _CONTACT[rng.choice(_CONTACT.size, size=j, p=ch_p)]
    resp_p = pd.Series(ch).map({"email": 0.1, "phone": 0.35, "sms": 0.15, "store visit": 0.6})
    seconds = rng.integers(0, 366 * 86400, j).astype("timedelta64[s]")
    interactions = pd.DataFrame(
        {
            "customer_id": cid[who],
            "timestamp": pd.to_datetime(np.datetime64("2024-01-01T00:00:00") + seconds),
            "channel": ch,
            "kind": _KINDS[rng.integers(0, _KINDS.size, j)],
            "responded": rng.random(j) < resp_p.to_numpy(dtype=np.float64),
        }
    ).sort_values(["timestamp", "customer_id"], kind="stable", ignore_index=True)

    customers = pd.DataFrame(
        {
            "customer_id": cid,
            "needs_segment": np.asarray(SEGMENTS)[seg],
            "spend_scale": scale,
            "n_records": 1 + n_extra,
        }
    )
    return CRMData(records=rec, interactions=interactions, purchases=purchases, customers=customers)
