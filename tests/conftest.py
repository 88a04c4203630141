from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).parent))

from _engines import ENGINES

# CI draws the same examples on every run (a gate must not flip on a lucky draw); local
# runs keep exploring new ones, and every case they find is kept with @example.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Every supported dataframe engine, by name (use with ``_engines.to_engine``)."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _close_figures() -> object:
    yield None
    import matplotlib.pyplot as plt

    plt.close("all")
