"""IDIC (Peppers & Rogers): identify, differentiate, interact, customise.

* :func:`resolve_identities` links customer records from several sources into one
  ``customer_key`` (normalised exact keys, union-find, optional blocked fuzzy matching).
* :func:`resolve_identities_probabilistic` links records by Fellegi-Sunter match weights
  whose m and u probabilities are estimated from the data by EM, field by field
  (:class:`Comparison`), and explains every pair.
* :func:`differentiate` crosses value tiers with needs-based segments.
* :func:`interaction_profile` summarises each customer's contacts and the coverage of
  the strategic customers.
* :func:`customize` maps customers to one action each through a validated rule table.
"""

from crmmodels._ingest.renames import renamed_attributes
from crmmodels.idic._customize import (
    NO_RULE_MATCHED,
    CustomizationResult,
    Range,
    Rule,
    RuleSet,
    customize,
)
from crmmodels.idic._differentiate import DifferentiationResult, differentiate
from crmmodels.idic._identify import IdentityResult, resolve_identities
from crmmodels.idic._identity_compare import Comparison
from crmmodels.idic._identity_fuzzy import phonetic_key
from crmmodels.idic._identity_probabilistic import (
    ProbabilisticIdentityResult,
    resolve_identities_probabilistic,
)
from crmmodels.idic._identity_report import linkage_quality
from crmmodels.idic._interact import InteractionProfileResult, interaction_profile
from crmmodels.idic._normalize import (
    normalize_address,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from crmmodels.idic._pseudonymize import collision_probability, pseudonymize

__all__ = [
    "NO_RULE_MATCHED",
    "Comparison",
    "CustomizationResult",
    "DifferentiationResult",
    "IdentityResult",
    "InteractionProfileResult",
    "ProbabilisticIdentityResult",
    "Range",
    "Rule",
    "RuleSet",
    "collision_probability",
    "customize",
    "differentiate",
    "interaction_profile",
    "linkage_quality",
    "normalize_address",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "phonetic_key",
    "pseudonymize",
    "resolve_identities",
    "resolve_identities_probabilistic",
]

# old name of the result class, kept for now

#: names of 0.1, served with a FutureWarning until 1.0
__getattr__ = renamed_attributes(
    __name__,
    globals(),
    {
        "InteractionProfile": "InteractionProfileResult",
    },
)
