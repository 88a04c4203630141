r"""Relationship quality from survey answers (Crosby, Evans & Cowles 1990).

Relationship quality is measured by a few *constructs* (by default trust, satisfaction
and commitment), each asked through several Likert items, some of them reverse-coded.
:func:`relationship_quality` scores every respondent, checks that each construct is
measured reliably and distinctly, and, when both sides of a relationship answered
(customer and company: "quality is judged by the two together"), compares the sides.

Rules, in order:

1. Reverse-coded items are turned around: :math:`x' = lo + hi - x` on the scale
   ``(lo, hi)``.
2. A respondent's construct score is the mean of the construct's answered items when at
   least ``min_answered`` of them are answered, otherwise missing (counted in
   ``reliability["n_unscored"]``).
3. The relationship-quality index is the weighted mean of the construct scores
   (weights normalised to sum to one); it is missing when a construct score is.
4. Reliability and validity statistics come from the item covariance matrix, computed
   pairwise (each pair of items on the respondents who answered both) or listwise (only
   respondents who answered every item of the construct; for HTMT every item).

See :mod:`crmmodels.kernels.quality` for the formulas (Cronbach's alpha and Feldt's
interval, corrected item-total correlation, alpha if item deleted, the one-factor
minimum-residual fit behind McDonald's omega, composite reliability and AVE, HTMT).
The steps live in private modules: ``_items`` (answers as a matrix and the scale
statistics), ``_alpha`` (:func:`cronbach_alpha`), ``_survey`` (reading and checking a
survey), ``_relationship`` (:func:`relationship_quality`) and ``_result``
(:class:`RelationshipQualityResult`).
"""

from crmmodels.quality._alpha import CronbachAlphaResult, cronbach_alpha
from crmmodels.quality._relationship import relationship_quality
from crmmodels.quality._result import RelationshipQualityResult
from crmmodels.quality._survey import DEFAULT_CONSTRUCTS

__all__ = [
    "DEFAULT_CONSTRUCTS",
    "CronbachAlphaResult",
    "RelationshipQualityResult",
    "cronbach_alpha",
    "relationship_quality",
]
