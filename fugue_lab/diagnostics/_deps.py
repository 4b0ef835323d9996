"""Lazy imports of the optional packages and the argument checks shared by the diagnostics.

pandas, matplotlib and arviz are imported on first use, not when
:mod:`fugue_lab.diagnostics` is imported: the import stays fast, and a missing
extra fails at the call with :class:`~fugue_lab.errors.MissingExtraError`,
which names the extra to install.

Examples
--------
>>> pd = pandas("pool_frame")
>>> pd.DataFrame({"a": [1.0]}).shape
(1, 1)
>>> check_threshold("alerts", "max_latency_us", 5.0)
5.0
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType
from typing import Any

from fugue_lab.errors import ArgumentTypeError, InvalidParameterError, MissingExtraError

__all__ = [
    "ArgumentTypeError",
    "arviz",
    "check_threshold",
    "pandas",
    "pyplot",
    "require",
]


def require(package: str, extra: str, feature: str) -> ModuleType:
    """Import ``package`` or raise :class:`MissingExtraError` naming ``extra``."""
    try:
        return importlib.import_module(package)
    except ImportError:
        raise MissingExtraError(package.split(".")[0], extra, feature) from None


def pandas(feature: str) -> ModuleType:
    """The pandas module (the ``lab`` extra)."""
    return require("pandas", "lab", feature)


def pyplot(feature: str) -> ModuleType:
    """``matplotlib.pyplot`` (the ``lab`` extra). Importing it changes no global style."""
    return require("matplotlib.pyplot", "lab", feature)


def arviz(feature: str) -> ModuleType:
    """The arviz module (the ``arviz`` extra)."""
    return require("arviz", "arviz", feature)


def check_threshold(
    owner: str, name: str, value: Any, *, upper: float | None = None
) -> float | None:
    """``value`` as a float if it is None or a finite number in ``[0, upper]``; else raise.

    Raises
    ------
    InvalidParameterError
        If ``value`` is negative, NaN, infinite, above ``upper`` or not a number.
    """
    if value is None:
        return None
    expected = "a finite number >= 0" if upper is None else f"a number in [0, {upper:g}]"
    if isinstance(value, bool):
        raise InvalidParameterError(owner, name, value, expected)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(owner, name, value, expected) from None
    if not math.isfinite(number) or number < 0 or (upper is not None and number > upper):
        raise InvalidParameterError(owner, name, value, expected)
    return number
