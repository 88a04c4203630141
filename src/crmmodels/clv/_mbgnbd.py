"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007) as an estimator."""

from __future__ import annotations

from typing import ClassVar

from crmmodels.clv._bgnbd import _BetaGeometricModel

__all__ = ["MBGNBD"]


class MBGNBD(_BetaGeometricModel):
    r"""Modified BG/NBD model (MBG/NBD).

    As :class:`~crmmodels.clv.BGNBD`, except that a customer can also drop out right
    after the first purchase (time 0), so customers without repeat purchases are not
    certainly alive. The likelihood, P(alive) and expectations are those of BG/NBD with
    ``x + 1`` drop-out opportunities (Batislam, Denizel & Filiztekin 2007, eq. 4).

    Parameters
    ----------
    penalizer, initial_params, n_restarts, tol, max_iter, on_nonconvergence
        See :class:`crmmodels.clv._base.MLEModel`.

    References
    ----------
    Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical validation and
    comparison of models for customer base analysis", International Journal of Research
    in Marketing 24(3), 201-209.

    Examples
    --------
    >>> from crmmodels.clv import MBGNBD
    >>> from crmmodels.datasets import load_cdnow_summary
    >>> model = MBGNBD().fit(load_cdnow_summary())
    >>> {k: round(v, 3) for k, v in model.params_.items()}
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    >>> model.probability_alive([0, 2], [0, 30.43], [38.86, 38.86]).round(3)
    array([0.39 , 0.706])
    """

    _modified: ClassVar[bool] = True
