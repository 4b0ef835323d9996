"""Argument checks shared by every layer: counts and random generators.

Each check raises at the boundary with a message that names the function,
the parameter and the value, as the rest of fugue_lab does.

Examples
--------
>>> check_count("mh_chain", "n_warmup", 0, low=0)
0
>>> check_count("mh_chain", "n_samples", 0)
Traceback (most recent call last):
...
fugue_lab.errors.InvalidParameterError: mh_chain: n_samples must be >= 1, got 0
"""

from __future__ import annotations

import numpy as np

from fugue_lab.errors import InvalidParameterError

__all__ = ["check_count", "check_rng"]


def check_count(owner: str, name: str, value: object, low: int = 1) -> int:
    """``value`` as an int, if it is an integer >= ``low``.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (bools are not counts).
    InvalidParameterError
        If it is below ``low``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise InvalidParameterError(owner, name, value, f">= {low}")
    return int(value)


def check_rng(owner: str | None, rng: object) -> np.random.Generator:
    """``rng`` itself, if it is a :class:`numpy.random.Generator`.

    Raises
    ------
    TypeError
        Otherwise, saying how to make one.

    Examples
    --------
    >>> check_rng("run", np.random.default_rng(0)).__class__.__name__
    'Generator'
    """
    if not isinstance(rng, np.random.Generator):
        prefix = f"{owner}: " if owner else ""
        raise TypeError(
            f"{prefix}rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__} {rng!r}"
        )
    return rng
