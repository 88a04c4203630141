"""Pure numeric kernels: numpy/scipy functions of (parameters, arrays), no frames.

One module per area they serve, named after it: ``summary`` (the customer summary),
``bgnbd``, ``mbgnbd``, ``pareto_nbd``, ``bgbb``, ``gamma_gamma`` (the CLV models, with
``hypergeometric`` for their special functions and ``_optim`` for the likelihood
maximisation), ``funnel`` (stage histories), ``basket`` (itemset mining), ``portfolio``
(concentration curves and indices), ``quality`` (reliability) and ``identity`` (record
linkage components). Nothing here imports pandas, narwhals or pydantic; modules are
imported explicitly by their full path.
"""
