r"""Simulated surveys and demand with known truth: relationship quality, prices, elasticity.

* :func:`simulate_survey`: Likert answers generated from latent constructs with known
  standardised loadings (some items reverse-coded), rated by two sides of each
  relationship (customer and company) with a known gap per construct.
* :func:`simulate_price_survey`: Van Westendorp answers whose log prices are normal with a
  common standard deviation, so the four price points of the population are known in
  closed form; a known number of respondents give unordered answers.
* :func:`simulate_demand`: transactions whose quantity follows a constant-elasticity
  demand curve :math:`q = A p^{\varepsilon} e^{u}` per product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from crmmodels.errors import DataError

__all__ = [
    "DEFAULT_CONSTRUCTS",
    "DemandSimulation",
    "PriceSurveySimulation",
    "SurveySimulation",
    "simulate_demand",
    "simulate_price_survey",
    "simulate_survey",
]

#: Default constructs of relationship quality and their number of items.
DEFAULT_CONSTRUCTS: dict[str, int] = {"trust": 4, "satisfaction": 4, "commitment": 4}
_DEFAULT_GAP = {"trust": 0.0, "satisfaction": 0.5, "commitment": -0.3}
# log-price offsets of too cheap, cheap, expensive, too expensive around the reference price
_PRICE_OFFSETS = (-0.5, -0.2, 0.15, 0.45)


@dataclass(frozen=True)
class SurveySimulation:
    """A simulated relationship-quality survey and its ground truth.

    Attributes
    ----------
    survey : pandas.DataFrame
        One row per respondent: ``respondent_id``, ``relationship_id``, ``side``
        (``"customer"`` or ``"company"``; absent for one-sided surveys) and the item
        columns ``<construct>_<j>`` holding answers on the scale (float, ``NaN`` when
        missing).
    constructs : dict
        Construct name -> tuple of its item columns.
    reverse : tuple of str
        The reverse-coded items.
    loadings : pandas.Series
        True standardised loading of each item on its construct.
    expected_scores : pandas.DataFrame
        Population mean construct score (reverse items reversed back) per side (rows)
        and construct (columns).
    reliability : pandas.Series
        Population composite reliability of each construct's latent responses.

    Examples
    --------
    >>> sim = simulate_survey(50, seed=0)
    >>> sorted(sim.constructs)
    ['commitment', 'satisfaction', 'trust']
    >>> sim.reverse
    ('trust_4', 'satisfaction_4', 'commitment_4')
    """

    survey: pd.DataFrame
    constructs: dict[str, tuple[str, ...]]
    reverse: tuple[str, ...]
    loadings: pd.Series
    expected_scores: pd.DataFrame
    reliability: pd.Series


def _per_construct(
    value: float | Mapping[str, float] | None, names: Sequence[str], default: float, what: str
) -> dict[str, float]:
    if value is None:
        return {c: default for c in names}
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            raise DataError(f"{what} names unknown constructs: {sorted(unknown)}.")
        return {c: float(value.get(c, default)) for c in names}
    return {c: float(value) for c in names}


def simulate_survey(
    n_relationships: int = 200,
    *,
    constructs: Mapping[str, int] | None = None,
    loadings: float | Mapping[str, float] = 0.8,
    construct_correlation: float = 0.5,
    sides: bool = True,
    gap: Mapping[str, float] | None = None,
    scale: tuple[int, int] = (1, 7),
    n_reverse: int = 1,
    missing_rate: float = 0.0,
    seed: int | None = 0,
) -> SurveySimulation:
    r"""Simulate Likert answers from latent constructs (relationship quality).

    Each rater has one latent score per construct, standard normal, correlated across
    constructs (``construct_correlation``). Item :math:`j` of construct :math:`c` has the
    latent response :math:`x^* = \lambda_c \eta_c + \sqrt{1-\lambda_c^2}\,\varepsilon`,
    cut into the scale points at thresholds evenly spaced between -2 and 2. The last
    ``n_reverse`` items of each construct are reverse-coded (``lo + hi - answer``).

    With ``sides=True`` each relationship is rated by a customer and a company
    respondent whose latent scores share 70% of their variance; the company side's
    latent mean is shifted by ``gap[c]`` (latent standard deviations).

    Parameters
    ----------
    n_relationships : int
        Relationships (respondents when ``sides=False``).
    constructs : mapping, optional
        Construct name -> number of items (default: trust, satisfaction, commitment with
        4 items each).
    loadings : float or mapping
        True standardised loading of every item, or per construct.
    construct_correlation : float
        Correlation of the latent constructs.
    sides : bool
        Simulate both sides of each relationship.
    gap : mapping, optional
        Company-minus-customer latent shift per construct (default: trust 0,
        satisfaction 0.5, commitment -0.3; other constructs 0).
    scale : (int, int)
        Lowest and highest scale point.
    n_reverse : int
        Reverse-coded items per construct.
    missing_rate : float
        Share of answers set to missing at random.
    seed : int, optional
        Random seed.

    Returns
    -------
    SurveySimulation

    Examples
    --------
    >>> sim = simulate_survey(50, seed=1)
    >>> sim.survey.shape
    (100, 15)
    >>> sim.constructs["trust"]
    ('trust_1', 'trust_2', 'trust_3', 'trust_4')
    >>> sim.reverse
    ('trust_4', 'satisfaction_4', 'commitment_4')
    """
    if n_relationships < 1:
        raise DataError(f"n_relationships must be at least 1; got {n_relationships}.")
    if not 0.0 <= missing_rate < 1.0:
        raise DataError(f"missing_rate must be in [0, 1); got {missing_rate}.")
    lo, hi = int(scale[0]), int(scale[1])
    if hi <= lo:
        raise DataError(f"scale must be (low, high) with low < high; got {scale!r}.")
    sizes = dict(constructs) if constructs is not None else dict(DEFAULT_CONSTRUCTS)
    names = list(sizes)
    lam = _per_construct(loadings, names, 0.8, "loadings")
    for c, v in lam.items():
        if not 0.0 < v < 1.0:
            raise DataError(f"loading of construct '{c}' must be in (0, 1); got {v}.")
    shift = _per_construct(gap, names, 0.0, "gap") if gap is not None else {}
    if gap is None:
        shift = {c: _DEFAULT_GAP.get(c, 0.0) for c in names}
    m = len(names)
    rng = np.random.default_rng(seed)
    sigma = np.full((m, m), float(construct_correlation))
    np.fill_diagonal(sigma, 1.0)
    chol = np.linalg.cholesky(sigma)
    n_sides = 2 if sides else 1
    n = n_relationships * n_sides
    rel = rng.standard_normal((n_relationships, m)) @ chol.T
    if sides:
        own = rng.standard_normal((n, m)) @ chol.T
        eta = np.sqrt(0.7) * np.repeat(rel, 2, axis=0) + np.sqrt(0.3) * own
        company = np.tile([False, True], n_relationships)
        eta[company] += np.array([shift[c] for c in names])
    else:
        eta = rel
        company = np.zeros(n, dtype=bool)
    thresholds = np.linspace(-2.0, 2.0, hi - lo)
    columns: dict[str, np.ndarray] = {}
    item_map: dict[str, tuple[str, ...]] = {}
    reverse: list[str] = []
    true_load: dict[str, float] = {}
    expected: dict[str, list[float]] = {}
    for ci, c in enumerate(names):
        k = int(sizes[c])
        if k < 1:
            raise DataError(f"construct '{c}' needs at least one item; got {k}.")
        items = tuple(f"{c}_{j + 1}" for j in range(k))
        item_map[c] = items
        rev = items[k - min(n_reverse, k - 1) :] if n_reverse > 0 and k > 1 else ()
        reverse.extend(rev)
        lc = lam[c]
        star = lc * eta[:, [ci]] + np.sqrt(1.0 - lc**2) * rng.standard_normal((n, k))
        answers = lo + np.searchsorted(thresholds, star).astype(np.float64)
        for j, item in enumerate(items):
            col = answers[:, j]
            columns[item] = (lo + hi - col) if item in rev else col
            true_load[item] = lc
        # E[answer] = lo + sum_t P(x* > t), x* ~ N(lambda * mean, 1)
        means = [0.0, shift[c]] if sides else [0.0]
        expected[c] = [lo + float(special.ndtr(lc * mu - thresholds).sum()) for mu in means]
    frame = pd.DataFrame(columns)
    if missing_rate > 0:
        holes = rng.random(frame.shape) < missing_rate
        frame = frame.mask(holes)
    ids = pd.DataFrame({"respondent_id": np.arange(1, n + 1)})
    if sides:
        ids["relationship_id"] = np.repeat(np.arange(1, n_relationships + 1), 2)
        ids["side"] = np.where(company, "company", "customer")
    survey = pd.concat([ids, frame], axis=1)
    index = ["customer", "company"] if sides else ["all"]
    expected_scores = pd.DataFrame(expected, index=pd.Index(index, name="side"))
    rel_true = {}
    for c in names:
        k = int(sizes[c])
        s = (k * lam[c]) ** 2
        rel_true[c] = s / (s + k * (1.0 - lam[c] ** 2))
    return SurveySimulation(
        survey=survey,
        constructs=item_map,
        reverse=tuple(reverse),
        loadings=pd.Series(true_load, name="loading"),
        expected_scores=expected_scores,
        reliability=pd.Series(rel_true, name="composite_reliability"),
    )


@dataclass(frozen=True)
class PriceSurveySimulation:
    """A simulated Van Westendorp survey and its population price points.

    Attributes
    ----------
    answers : pandas.DataFrame
        ``respondent_id``, ``too_cheap``, ``cheap``, ``expensive``, ``too_expensive``,
        ``purchase_cheap`` and ``purchase_expensive`` (purchase probabilities at the
        respondent's cheap and expensive prices).
    n_invalid : int
        Respondents whose four answers are not strictly increasing.
    truth : dict
        Population ``lower_bound``, ``upper_bound``, ``optimal_price`` and
        ``indifference_price`` of the ordered respondents.

    Examples
    --------
    >>> sim = simulate_price_survey(50, seed=0)
    >>> list(sim.answers.columns)[:4]
    ['respondent_id', 'too_cheap', 'cheap', 'expensive']
    >>> sorted(sim.truth)[:2]
    ['indifference_price', 'lower_bound']
    """

    answers: pd.DataFrame
    n_invalid: int
    truth: dict[str, float]


def simulate_price_survey(
    n_respondents: int = 400,
    *,
    reference_price: float = 20.0,
    respondent_sd: float = 0.2,
    answer_sd: float = 0.03,
    invalid_share: float = 0.05,
    seed: int | None = 0,
) -> PriceSurveySimulation:
    r"""Simulate answers to the four Van Westendorp questions with known price points.

    Respondent :math:`i` answers question :math:`q` with
    :math:`\log p_{iq} = \log p_0 + \mu_q + u_i + e_{iq}`, with offsets
    :math:`\mu = (-0.5, -0.2, 0.15, 0.45)`, :math:`u_i \sim N(0, \sigma_u^2)` and
    :math:`e_{iq} \sim N(0, \sigma_e^2)`. Every answer is log-normal with the same
    spread, so each population curve crossing sits at the midpoint of two offsets:
    the lower bound at :math:`p_0 e^{(\mu_1+\mu_2)/2}`, the optimal price at
    :math:`p_0 e^{(\mu_1+\mu_4)/2}`, the indifference price at
    :math:`p_0 e^{(\mu_2+\mu_3)/2}` and the upper bound at :math:`p_0 e^{(\mu_3+\mu_4)/2}`.
    A share ``invalid_share`` of respondents swap their cheap and expensive answers.

    Parameters
    ----------
    n_respondents : int
        Respondents.
    reference_price : float
        :math:`p_0`.
    respondent_sd, answer_sd : float
        :math:`\sigma_u` and :math:`\sigma_e`.
    invalid_share : float
        Share of respondents with swapped (unordered) answers.
    seed : int, optional
        Random seed.

    Returns
    -------
    PriceSurveySimulation

    Examples
    --------
    >>> sim = simulate_price_survey(100, seed=1)
    >>> round(sim.truth["optimal_price"], 2), sim.n_invalid
    (19.51, 5)
    """
    if n_respondents < 2:
        raise DataError(f"n_respondents must be at least 2; got {n_respondents}.")
    if reference_price <= 0:
        raise DataError(f"reference_price must be positive; got {reference_price}.")
    rng = np.random.default_rng(seed)
    mu = np.log(reference_price) + np.asarray(_PRICE_OFFSETS)
    u = rng.normal(0.0, respondent_sd, (n_respondents, 1))
    e = rng.normal(0.0, answer_sd, (n_respondents, 4))
    prices = np.round(np.exp(mu + u + e), 2)
    n_swap = round(invalid_share * n_respondents)
    swap = rng.choice(n_respondents, size=n_swap, replace=False)
    prices[swap, 1], prices[swap, 2] = prices[swap, 2].copy(), prices[swap, 1].copy()
    ordered = np.all(np.diff(prices, axis=1) > 0, axis=1)
    p_cheap = rng.choice([0.7, 0.5, 0.3], size=n_respondents, p=[0.4, 0.4, 0.2])
    p_exp = rng.choice([0.3, 0.1, 0.0], size=n_respondents, p=[0.3, 0.4, 0.3])
    answers = pd.DataFrame(
        {
            "respondent_id": np.arange(1, n_respondents + 1),
            "too_cheap": prices[:, 0],
            "cheap": prices[:, 1],
            "expensive": prices[:, 2],
            "too_expensive": prices[:, 3],
            "purchase_cheap": p_cheap,
            "purchase_expensive": p_exp,
        }
    )
    a = _PRICE_OFFSETS
    truth = {
        "lower_bound": float(reference_price * np.exp((a[0] + a[1]) / 2)),
        "upper_bound": float(reference_price * np.exp((a[2] + a[3]) / 2)),
        "optimal_price": float(reference_price * np.exp((a[0] + a[3]) / 2)),
        "indifference_price": float(reference_price * np.exp((a[1] + a[2]) / 2)),
    }
    return PriceSurveySimulation(answers, int((~ordered).sum()), truth)


@dataclass(frozen=True)
class DemandSimulation:
    """Simulated transactions with a known price elasticity per product.

    Attributes
    ----------
    transactions : pandas.DataFrame
        ``date``, ``customer_id``, ``product``, ``price`` and ``quantity``.
    elasticities : pandas.Series
        True elasticity per product.

    Examples
    --------
    >>> sim = simulate_demand(100, seed=0)
    >>> list(sim.transactions.columns)
    ['date', 'customer_id', 'product', 'price', 'quantity']
    """

    transactions: pd.DataFrame
    elasticities: pd.Series


def simulate_demand(
    n_transactions: int = 3000,
    *,
    elasticities: Mapping[str, float] | None = None,
    base_price: float = 10.0,
    price_sd: float = 0.25,
    noise_sd: float = 0.3,
    n_customers: int = 500,
    seed: int | None = 0,
) -> DemandSimulation:
    r"""Simulate transactions from constant-elasticity demand curves.

    Each transaction picks a product :math:`g` at random, a price
    :math:`p = p_0 e^{z}` with :math:`z \sim N(0, \sigma_p^2)` (rounded to cents) and the
    quantity :math:`q = 5 (p / p_0)^{\varepsilon_g} e^{u}` with
    :math:`u \sim N(0, \sigma_u^2)`.

    Parameters
    ----------
    n_transactions : int
        Rows.
    elasticities : mapping, optional
        Product -> true elasticity (default ``A: -1.5``, ``B: -0.8``, ``C: -2.2``).
    base_price : float
        :math:`p_0`.
    price_sd, noise_sd : float
        :math:`\sigma_p` and :math:`\sigma_u`.
    n_customers : int
        Customers the transactions are spread over.
    seed : int, optional
        Random seed.

    Returns
    -------
    DemandSimulation

    Examples
    --------
    >>> sim = simulate_demand(100, seed=1)
    >>> sim.transactions.columns.tolist()
    ['date', 'customer_id', 'product', 'price', 'quantity']
    >>> sim.elasticities.to_dict()
    {'A': -1.5, 'B': -0.8, 'C': -2.2}
    """
    if n_transactions < 1:
        raise DataError(f"n_transactions must be at least 1; got {n_transactions}.")
    el = dict(elasticities) if elasticities is not None else {"A": -1.5, "B": -0.8, "C": -2.2}
    rng = np.random.default_rng(seed)
    products = np.array(list(el))
    which = rng.integers(0, len(products), n_transactions)
    eps = np.array([el[p] for p in products])[which]
    price = np.round(base_price * np.exp(rng.normal(0.0, price_sd, n_transactions)), 2)
    price = np.maximum(price, 0.01)
    qty = 5.0 * (price / base_price) ** eps * np.exp(rng.normal(0.0, noise_sd, n_transactions))
    days = rng.integers(0, 365, n_transactions)
    tx = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
            "customer_id": rng.integers(1, n_customers + 1, n_transactions),
            "product": products[which],
            "price": price,
            "quantity": np.round(qty, 3),
        }
    )
    tx = tx.sort_values("date", kind="stable").reset_index(drop=True)
    return DemandSimulation(tx, pd.Series(el, name="elasticity", dtype=np.float64))
