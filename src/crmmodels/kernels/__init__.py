"""Pure numeric kernels (numpy/scipy only): likelihoods, expectations, aggregations."""
