"""Demo steps of `crmmodels demo`, one module per area."""
