r"""BG/NBD dropout covariates on both beta shapes (``dropout_form="ab"``, CLVTools' form).

Two forms of the BG/NBD dropout covariates are offered (``BGNBD().fit(summary,
covariates=[...], dropout_form=...)``):

* ``"b"`` (the default): :math:`b_i = b_0 e^{-\gamma_d' z^d_i}`, ``a`` shared. A positive
  coefficient lowers :math:`b_i` and so raises the mean dropout probability
  :math:`a / (a + b_i)`: customers leave sooner.
* ``"ab"``: :math:`a_i = a_0 e^{\gamma_d' z^d_i}` and :math:`b_i = b_0 e^{\gamma_d' z^d_i}`,
  the parameterisation of CLVTools (its ``bgnbd`` static-covariate likelihood) and of
  Fader & Hardie's covariate note, with CLVTools' sign, so its estimates are directly
  comparable. Both shapes move by the same factor, so the mean dropout probability
  :math:`a_0 / (a_0 + b_0)` is the same for every customer; the coefficient changes the
  concentration :math:`a_i + b_i` of the beta distribution: a positive coefficient makes
  the customers' dropout probabilities more alike (closer to the mean), a negative one
  more spread out (more customers who almost never leave, and more who leave at once).

With ``"ab"`` the terms of the likelihood in :math:`(a_i, b_i, x)` are evaluated once per
distinct (dropout covariate pattern, x), as with ``"b"``. The gradient chains the kernel's
derivatives in :math:`a_i` and :math:`b_i`:
:math:`\partial \ell / \partial \gamma_d = z^d (a_i \partial_{a_i}\ell + b_i
\partial_{b_i}\ell)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from crmmodels._ingest.arguments import check_choice
from crmmodels.errors import ArgumentError
from crmmodels.kernels._optim import FloatArray

__all__ = ["DROPOUT_FORMS", "dropout_form_argument", "shapes"]

#: the forms of the BG/NBD dropout covariates: on ``b`` only, or on ``a`` and ``b``
DROPOUT_FORMS = ("b", "ab")


def dropout_form_argument(
    model: Any, where: str, columns: Mapping[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """``fit``'s ``dropout_form`` (checked) and the other keyword arguments.

    The form is that of BG/NBD (``"b"`` by default); other models have no form (None)
    and refuse the argument.
    """
    rest = dict(columns)
    given = rest.pop("dropout_form", None)
    if type(model).__name__ != "BGNBD":
        if given is not None:
            raise ArgumentError(
                f"{where}: dropout_form= applies to BGNBD only (the BG/NBD dropout shapes); "
                f"leave it out for {type(model).__name__}."
            )
        return None, rest
    form = "b" if given is None else check_choice(given, "dropout_form", DROPOUT_FORMS)
    return str(form), rest


def shapes(
    theta: FloatArray, dropout: FloatArray, n_purchase: int, form: str | None
) -> tuple[float | FloatArray, FloatArray]:
    """The dropout shapes ``(a or s, b_i or beta_i)`` of each row of a dropout design.

    ``a`` stays one number except in the ``"ab"`` form, where both shapes are scaled.
    """
    gd = theta[4 + n_purchase :]
    eta = dropout @ gd
    base3 = float(np.exp(theta[3]))
    base2 = float(np.exp(theta[2]))
    if form == "ab":
        factor = np.exp(eta)
        return base2 * factor, base3 * factor
    return base2, base3 * np.exp(-eta)
