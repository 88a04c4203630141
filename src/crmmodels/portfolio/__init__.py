r"""Customer portfolio analysis and the 80/20 rule (Buttle's value chain, step 1).

Sort customers by value (revenue, margin or CLV; negative values allowed), then read
the concentration of value off the cumulative share curve: the share held by the top
20% of customers, the smallest share of customers holding 80% of the value, the Gini
and Herfindahl indices, ABC classes and the list of strategic (class A) customers.
See :mod:`crmmodels.kernels.portfolio` for the formulas.

The steps live in private modules: ``_collect`` (values per customer from any input),
``_concentration`` (the curve and its indices, overall and per period), ``_result``
(:class:`ParetoResult`) and ``_analysis`` (:func:`pareto_analysis`).
"""

from crmmodels.portfolio._analysis import pareto_analysis
from crmmodels.portfolio._result import ParetoResult

__all__ = ["ParetoResult", "pareto_analysis"]
