"""Diagnostics tests draw with matplotlib's non-interactive Agg backend and close every figure."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test opened, so none leaks into the next test."""
    import matplotlib.pyplot as plt

    yield
    plt.close("all")
