"""Alias of :mod:`crmmodels.compat.lifetimes.generate_data` (lifetimes' simulators)."""

from crmmodels.compat.lifetimes.generate_data import (
    beta_geometric_beta_binom_model,
    beta_geometric_nbd_model,
    beta_geometric_nbd_model_transactional_data,
    modified_beta_geometric_nbd_model,
    pareto_nbd_model,
)

__all__ = [
    "beta_geometric_beta_binom_model",
    "beta_geometric_nbd_model",
    "beta_geometric_nbd_model_transactional_data",
    "modified_beta_geometric_nbd_model",
    "pareto_nbd_model",
]
