"""Progress reports for long computations, through the standard :mod:`logging` module.

Steps that can run for more than a few seconds (model fits on millions of customers,
customer equity, identity resolution, itemset mining) report what they are doing as
``INFO`` messages on loggers under ``"crmmodels"`` (the module's own logger, e.g.
``"crmmodels.clv._value"``). They are silent by default. There are two ways to see them:

* ``progress=True`` on the call: that call's messages are written to standard error.
  Nothing in the logging configuration is changed; if logging already lets ``INFO``
  messages from ``crmmodels`` through, the messages go to your handlers instead (never
  twice).
* the standard logging configuration, for every call::

      import logging
      logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
      logging.getLogger("crmmodels").setLevel(logging.INFO)

With neither, nothing is printed and a report costs one level check.

Messages name the task, then the step: ``"customer_equity: draw 50/200 (3.1 s)"``.

A public function takes ``progress: bool = False`` and passes it on; a model fit, for
instance, would report its data and its optimiser starts::

    with Progress(f"{type(self).__name__}.fit", enabled=progress, total=n_starts,
                  unit="start", logger=__name__) as report:
        report.info("%d customers, %d distinct histories", n_customers, n_rows)
        for k in range(n_starts):
            ...  # one optimiser run
            report.update(k + 1)

``Progress`` checks ``progress`` itself (an :class:`~crmmodels.errors.ArgumentError`
naming it when it is not a bool). Report steps, not inner iterations: a message costs a
level check when nothing is shown.

Examples
--------
How a library function reports progress (the ``stream`` argument is only for this
example; by default the messages go to standard error):

>>> import sys
>>> def total(values, progress=False):
...     with Progress("total", enabled=progress, total=len(values), unit="value",
...                   stream=sys.stdout) as report:
...         report.info("adding %d values", len(values))
...         out = 0
...         for i, v in enumerate(values, start=1):  # the slow loop being reported
...             out += v
...             report.update(i)
...     return out
>>> total([1, 2, 3])
6
>>> total([1, 2, 3], progress=True)  # doctest: +ELLIPSIS
total: adding 3 values
total: value 1/3 (... s)
total: value 2/3 (... s)
total: value 3/3 (... s)
total: done in ... s
6
"""

from __future__ import annotations

import logging
import math
import time
from types import TracebackType
from typing import Any, TextIO

from crmmodels._ingest.arguments import check_bool

__all__ = ["Progress"]

_FORMAT = "%(message)s"


class Progress:
    """Report the steps of one long computation (a context manager).

    Parameters
    ----------
    task : str
        Name of the computation, the prefix of every message (``"customer_equity"``).
    enabled : bool, default False
        The caller's ``progress`` argument: when True, the messages are written to
        ``stream`` (standard error) unless logging already shows them. Anything but a
        bool raises :class:`~crmmodels.errors.ArgumentError` naming ``progress``.
    total : int, optional
        Number of steps, for :meth:`update`.
    unit : str, default "step"
        Name of one step in the messages (``"draw"``, ``"block"``).
    every : float, default 0.1
        Share of ``total`` between two :meth:`update` messages (the first and the last
        step are always reported).
    logger : str or logging.Logger, default "crmmodels"
        Logger of the messages; pass the module's ``__name__``.
    stream : file-like, optional
        Where ``enabled`` messages go when logging does not show them (default
        ``sys.stderr`` at the time of the call).

    Notes
    -----
    On a normal exit the context manager reports ``"<task>: done in <seconds> s"``
    (:meth:`done`); after an exception it reports nothing more. Without ``with``, call
    :meth:`done` at the end.
    """

    def __init__(
        self,
        task: str,
        *,
        enabled: bool = False,
        total: int | None = None,
        unit: str = "step",
        every: float = 0.1,
        logger: str | logging.Logger = "crmmodels",
        stream: TextIO | None = None,
    ) -> None:
        check_bool(enabled, "progress")
        self.task = task
        self.total = total
        self.unit = unit
        self._logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self._handler: logging.Handler | None = None
        if enabled:
            self._handler = logging.StreamHandler(stream)  # None: sys.stderr, now
            self._handler.setFormatter(logging.Formatter(_FORMAT))
        self._step = max(1, math.ceil((total or 1) * every))
        self._next = 1
        self._start = time.perf_counter()

    @property
    def active(self) -> bool:
        """Whether messages are shown (``enabled``, or logging lets INFO through)."""
        return self._handler is not None or self._logger.isEnabledFor(logging.INFO)

    def elapsed(self) -> float:
        """Seconds since the report was created."""
        return time.perf_counter() - self._start

    def info(self, message: str, *args: Any) -> None:
        """Report one message (``%``-style arguments, formatted only when shown)."""
        msg = f"{self.task}: {message}"
        if self._logger.isEnabledFor(logging.INFO):
            self._logger.info(msg, *args, stacklevel=2)
        elif self._handler is not None:
            record = self._logger.makeRecord(
                self._logger.name, logging.INFO, "(progress)", 0, msg, args, None
            )
            self._handler.handle(record)

    def update(self, done: int) -> None:
        """Report that ``done`` of ``total`` steps are finished (throttled by ``every``)."""
        if done < self._next and done != self.total:
            return
        self._next = (done // self._step + 1) * self._step
        if self.active:
            of = f"/{self.total}" if self.total is not None else ""
            self.info("%s %d%s (%.1f s)", self.unit, done, of, self.elapsed())

    def done(self) -> None:
        """Report the end of the task and its duration."""
        if self.active:
            self.info("done in %.1f s", self.elapsed())
        if self._handler is not None:
            self._handler.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.done()
        elif self._handler is not None:
            self._handler.flush()
