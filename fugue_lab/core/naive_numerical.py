"""Textbook, numerically *unstable* versions of the functions in :mod:`fugue_lab.core.numerical`.

These exist for teaching and comparison only: the diagnostics layer's
precision sweep plots them against the stable versions to show why
probabilistic programs work in log space.  Do not use them for inference.

Each one is the formula straight from the definition (``log(sum(exp(x)))``
and so on), evaluated in the input's floating dtype (``float32`` stays
``float32``, which overflows already at ``exp(89)``).  They never warn:
floating-point exceptions are silenced, so where the formula breaks down they
return what IEEE arithmetic gives -- ``inf`` on overflow, ``-inf`` or ``0`` on
underflow, ``nan`` for ``inf / inf`` or the log of a negative number -- and a
plot can show the failure.  They return NumPy scalars or arrays, and do no
input validation.

Examples
--------
>>> from fugue_lab.core.naive_numerical import naive_log_sum_exp
>>> from fugue_lab.core.numerical import log_sum_exp
>>> float(naive_log_sum_exp([1000.0, 1000.0])), log_sum_exp([1000.0, 1000.0])
(inf, 1000.6931471805599)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "naive_ln",
    "naive_log1p_exp",
    "naive_log_sum_exp",
    "naive_normalize_log_probs",
    "naive_weighted_log_sum_exp",
]

Axis = int | tuple[int, ...] | None


def _float(x: ArrayLike) -> NDArray[np.floating[Any]]:
    a = np.asarray(x)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def naive_log_sum_exp(x: ArrayLike, axis: Axis = None) -> Any:
    """``log(sum(exp(x)))`` as written: overflows above ~709 and underflows below ~-745.

    Examples
    --------
    >>> float(naive_log_sum_exp([-1000.0, -1000.0]))  # the true value is -999.307
    -inf
    """
    a = _float(x)
    with np.errstate(all="ignore"):
        return np.log(np.sum(np.exp(a), axis=axis))


def naive_weighted_log_sum_exp(x: ArrayLike, weights: ArrayLike, axis: Axis = None) -> Any:
    """``log(sum(weights * exp(x)))`` as written.

    Examples
    --------
    >>> float(naive_weighted_log_sum_exp([800.0], [1e-300]))  # the true value is 109.22
    inf
    """
    a = _float(x)
    w = _float(weights)
    with np.errstate(all="ignore"):
        return np.log(np.sum(w * np.exp(a), axis=axis))


def naive_normalize_log_probs(x: ArrayLike, axis: Axis = None) -> Any:
    """``log(exp(x) / sum(exp(x)))`` as written: ``nan`` once ``exp`` overflows or underflows.

    Examples
    --------
    >>> naive_normalize_log_probs([1000.0, 1000.0]).tolist()
    [nan, nan]
    """
    a = _float(x)
    with np.errstate(all="ignore"):
        e = np.exp(a)
        return np.log(e / np.sum(e, axis=axis, keepdims=True))


def naive_log1p_exp(x: ArrayLike) -> Any:
    """``log(1 + exp(x))`` as written: ``inf`` above ~709, ``0`` below ~-37.

    Examples
    --------
    >>> float(naive_log1p_exp(-40.0))  # the true value is 4.25e-18
    0.0
    """
    a = _float(x)
    with np.errstate(all="ignore"):
        return np.log(1.0 + np.exp(a))


def naive_ln(x: ArrayLike) -> Any:
    """``log(x)`` as written: ``nan`` for negative input (where ``safe_ln`` gives ``-inf``).

    Examples
    --------
    >>> float(naive_ln(-1.0))
    nan
    """
    a = _float(x)
    with np.errstate(all="ignore"):
        return np.log(a)
