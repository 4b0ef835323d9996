"""pytest configuration for the notebooks: find the sanitize file from any working directory.

``pyproject.toml`` passes ``--nbval-sanitize-with notebooks/sanitize.cfg``, a path relative
to the repository root; when pytest runs from elsewhere, resolve it against the root.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    name = getattr(config.option, "nbval_sanitize_with", None)
    if name and not Path(name).exists():
        candidate = Path(config.rootpath, name)
        if not candidate.exists():
            candidate = Path(__file__).with_name(Path(name).name)
        if candidate.exists():
            config.option.nbval_sanitize_with = str(candidate)
