"""Matplotlib figures, one module per area (imported lazily by ``result.plot()``)."""
