"""Pytest setup shared by the tests, the doctests and the notebooks: figures are closed."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield None
    import matplotlib.pyplot as plt

    plt.close("all")
