r"""Market-basket analysis: frequent itemsets, association rules, bundles and cross-selling.

Cross-selling after Kamakura et al. (2003), with the association rules of Agrawal,
Imielinski & Swami (1993). A transaction log (one row per basket and
item, on any engine) is reduced engine-side to its distinct ``(basket, item)`` pairs; the
pairs are factorised into integer ids and mined on a sparse incidence by
:func:`crmmodels.kernels.basket.mine_itemsets` (never a dense one-hot frame).

Definitions, for a rule :math:`A \Rightarrow C` over :math:`N` baskets, with
:math:`s(X)` the share of baskets that hold every item of :math:`X`:

* support :math:`s(A \cup C)`; confidence :math:`s(A \cup C) / s(A)`;
* lift :math:`\mathrm{conf} / s(C)`; leverage :math:`s(A \cup C) - s(A)s(C)`;
* conviction :math:`(1 - s(C)) / (1 - \mathrm{conf})`, ``inf`` when the confidence is 1;
* Zhang's metric :math:`\mathrm{leverage} / \max\{s(A \cup C)(1 - s(A)),
  s(A)(s(C) - s(A \cup C))\}`, 0 when the denominator is 0;
* Jaccard :math:`s(A \cup C) / (s(A) + s(C) - s(A \cup C))`;
* certainty :math:`(\mathrm{conf} - s(C)) / (1 - s(C))`, 0 when :math:`s(C) = 1`;
* Kulczynski :math:`(\mathrm{conf}(A \Rightarrow C) + \mathrm{conf}(C \Rightarrow A)) / 2`;
* representativity: the share of baskets that observe every item of the rule (1 unless
  a one-hot frame with unknown entries was mined with ``allow_missing=True``; then the
  supports are shares of the baskets observing each itemset and the confidences are
  counted on the baskets observing the rule).

These are the definitions of mlxtend (0.25), whose results the tests reproduce to 1e-12.

Every function returns a frozen result with ``to_frame()`` and ``plot()``:
:class:`ItemsetsResult`, :class:`RulesResult` (by segment too),
:class:`BundleCandidatesResult` (``BundleCandidatesResult`` is its old name) and
:class:`CrossSellResult`. Functions that take itemsets or rules accept the result or its
table.
"""

from crmmodels._ingest.renames import renamed_attributes
from crmmodels.basket._mine import frequent_itemsets
from crmmodels.basket._recommend import bundle_candidates, cross_sell
from crmmodels.basket._results import (
    BundleCandidatesResult,
    CrossSellResult,
    ItemsetsResult,
    RulesResult,
)
from crmmodels.basket._rules import RULE_METRICS, association_rules, association_rules_by_segment

__all__ = [
    "RULE_METRICS",
    "BundleCandidatesResult",
    "CrossSellResult",
    "ItemsetsResult",
    "RulesResult",
    "association_rules",
    "association_rules_by_segment",
    "bundle_candidates",
    "cross_sell",
    "frequent_itemsets",
]

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "BundleCandidates": "BundleCandidatesResult",
    },
)
