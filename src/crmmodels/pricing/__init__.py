r"""Price sensitivity: the Van Westendorp (1976) meter and price elasticity (Tellis 1988).

* :func:`van_westendorp`: the Van Westendorp price sensitivity meter from the four
  survey questions (at what price is the product *too cheap* to trust, *cheap* (a
  bargain), *expensive* (but still worth considering), *too expensive*), with the
  Newton-Miller-Smith extension for trial- and revenue-optimal prices.
* :func:`price_elasticity`: the price elasticity of demand per product or segment from
  transactions, by log-log least squares computed from grouped sums on the caller's
  engine.

The curve and price-point definitions follow the R package *pricesensitivitymeter*
(Alletsee, M., pricesensitivitymeter: Van Westendorp Price Sensitivity Meter Analysis,
R package on CRAN), itself following Van Westendorp (1976) and Newton, Miller & Smith
(1993).
Both return frozen results (:class:`VanWestendorpResult`, :class:`ElasticityResult`)
with ``to_frame()`` and ``plot()``. The modules are private: ``_van_westendorp`` and
``_elasticity``.
"""

from crmmodels.pricing._elasticity import ElasticityResult, price_elasticity
from crmmodels.pricing._van_westendorp import VanWestendorpResult, van_westendorp

__all__ = ["ElasticityResult", "VanWestendorpResult", "price_elasticity", "van_westendorp"]
