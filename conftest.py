"""pytest configuration shared by the test suite, the doctests and the notebooks.

It is the project's only conftest.py: with ``--doctest-modules`` two conftest
modules in different folders would collide on import.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed for each test."""
    return np.random.default_rng(20261125)


def pytest_configure(config: pytest.Config) -> None:
    """Resolve ``--nbval-sanitize-with notebooks/sanitize.cfg`` against the repository root.

    pyproject.toml gives the path relative to the root; when pytest runs from
    elsewhere the relative path would not be found.
    """
    name = getattr(config.option, "nbval_sanitize_with", None)
    if name and not Path(name).exists():
        candidate = Path(config.rootpath, name)
        if not candidate.exists():
            candidate = Path(__file__).parent / "notebooks" / Path(name).name
        if candidate.exists():
            config.option.nbval_sanitize_with = str(candidate)
