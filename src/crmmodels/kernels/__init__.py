"""Pure numeric kernels: numpy/scipy functions of (parameters, arrays), no frames.

One module per model family (``bgnbd``, ``mbgnbd``, ``gamma_gamma``, ``pareto_nbd``,
``bgbb``, ``hypergeometric``, ``itemsets``, ...). Nothing here imports pandas, narwhals or
pydantic; modules are imported explicitly by their full path.
"""
