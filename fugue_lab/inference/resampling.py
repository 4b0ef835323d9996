"""Resampling schemes for particle methods: systematic, stratified, multinomial, residual.

Each scheme takes normalised weights ``w`` (non-negative, summing to 1) and
returns ``n`` ancestor indices.  All four are unbiased: the expected number of
copies of particle ``i`` is ``n * w[i]``.  They differ in variance:
multinomial draws the ``n`` ancestors independently; residual keeps
``floor(n * w[i])`` copies deterministically and draws the rest by
multinomial; stratified draws one uniform per stratum ``[k/n, (k+1)/n)``;
systematic uses a single uniform shifted by ``k/n`` (the lowest variance in
practice, and it keeps either ``floor(n * w[i])`` or ``ceil(n * w[i])``
copies of every particle).

The indices are returned in non-decreasing order.  A particle of weight 0 is
never chosen.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> systematic(rng, np.array([0.5, 0.25, 0.25, 0.0]), 4).tolist()
[0, 0, 1, 2]
>>> resample("residual", rng, np.array([0.0, 1.0]), 3).tolist()
[1, 1, 1]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError

__all__ = [
    "RESAMPLING_METHODS",
    "multinomial",
    "resample",
    "residual",
    "stratified",
    "systematic",
]


def _check(weights: ArrayLike, n: int, owner: str) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise InvalidParameterError(owner, "weights", f"shape {w.shape}", "a non-empty 1-D array")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{owner}: n must be an int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise InvalidParameterError(owner, "n", n, ">= 1")
    if not np.isfinite(w).all() or (w < 0.0).any():
        bad = w[~(np.isfinite(w) & (w >= 0.0))][0]
        raise InvalidParameterError(owner, "weights", float(bad), "finite and >= 0")
    total = w.sum()
    if total <= 0.0:
        raise DegenerateWeightsError(f"{owner}: every weight is 0: there is nothing to resample")
    return w / total


def _cdf(w: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(w)
    cdf /= cdf[-1]  # x / x == 1.0 exactly, so the last entry is exactly 1
    return cdf


def _invert(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    # side="right": the first i with cdf[i] > u, so a zero-weight particle (cdf[i] == cdf[i-1])
    # is never chosen; u < 1 == cdf[-1] keeps the index in range.
    return np.searchsorted(cdf, u, side="right")


def systematic(rng: np.random.Generator, weights: ArrayLike, n: int) -> np.ndarray:
    """Systematic resampling: one uniform ``u``, points ``(u + k) / n`` for ``k < n``.

    Parameters
    ----------
    rng
        The source of the single uniform.
    weights
        Non-negative weights (normalised here).
    n
        The number of indices to return.

    Returns
    -------
    numpy.ndarray
        ``n`` ancestor indices (int64, non-decreasing).

    Raises
    ------
    InvalidParameterError
        If a weight is negative or non-finite, or ``n < 1``.
    DegenerateWeightsError
        If every weight is 0.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.bincount(systematic(np.random.default_rng(1), [0.1, 0.6, 0.3], 10),
    ...                      minlength=3)
    >>> counts.tolist()
    [1, 6, 3]
    """
    w = _check(weights, n, "systematic")
    u = (rng.random() + np.arange(n)) / n
    return _invert(_cdf(w), u)


def stratified(rng: np.random.Generator, weights: ArrayLike, n: int) -> np.ndarray:
    """Stratified resampling: one uniform in each stratum ``[k/n, (k+1)/n)``.

    Examples
    --------
    >>> import numpy as np
    >>> idx = stratified(np.random.default_rng(1), [0.5, 0.5], 4)
    >>> np.bincount(idx, minlength=2).sum()
    np.int64(4)
    """
    w = _check(weights, n, "stratified")
    u = (np.arange(n) + rng.random(n)) / n
    return _invert(_cdf(w), u)


def multinomial(rng: np.random.Generator, weights: ArrayLike, n: int) -> np.ndarray:
    """Multinomial resampling: ``n`` independent draws from the weights.

    Examples
    --------
    >>> import numpy as np
    >>> multinomial(np.random.default_rng(1), [0.0, 1.0, 0.0], 3).tolist()
    [1, 1, 1]
    """
    w = _check(weights, n, "multinomial")
    u = np.sort(rng.random(n))
    return _invert(_cdf(w), u)


def residual(rng: np.random.Generator, weights: ArrayLike, n: int) -> np.ndarray:
    """Residual resampling: ``floor(n * w[i])`` copies, the remainder multinomially.

    Examples
    --------
    >>> import numpy as np
    >>> idx = residual(np.random.default_rng(1), [0.5, 0.3, 0.2], 10)
    >>> np.bincount(idx, minlength=3).tolist()
    [5, 3, 2]
    """
    w = _check(weights, n, "residual")
    scaled = n * w
    copies = np.floor(scaled).astype(np.int64)
    remaining = n - int(copies.sum())
    if remaining > 0:
        rest = scaled - copies
        rest_total = rest.sum()
        if rest_total > 0.0:
            extra = _invert(_cdf(rest), np.sort(rng.random(remaining)))
        else:  # rounding left a deficit with no residual mass: spread it by the weights
            extra = _invert(_cdf(w), np.sort(rng.random(remaining)))
        copies += np.bincount(extra, minlength=w.size)
    return np.repeat(np.arange(w.size), copies)


#: The resampling schemes by name.
RESAMPLING_METHODS: dict[str, Callable[[np.random.Generator, ArrayLike, int], np.ndarray]] = {
    "multinomial": multinomial,
    "residual": residual,
    "stratified": stratified,
    "systematic": systematic,
}


def resample(method: str, rng: np.random.Generator, weights: ArrayLike, n: int) -> np.ndarray:
    """Draw ``n`` ancestor indices with the named scheme.

    Parameters
    ----------
    method
        One of ``"systematic"``, ``"stratified"``, ``"multinomial"``, ``"residual"``.
    rng, weights, n
        As for :func:`systematic`.

    Raises
    ------
    InvalidParameterError
        If ``method`` is not one of the four names.

    Examples
    --------
    >>> import numpy as np
    >>> resample("systematic", np.random.default_rng(0), [1.0, 0.0], 2).tolist()
    [0, 0]
    """
    scheme = RESAMPLING_METHODS.get(method) if isinstance(method, str) else None
    if scheme is None:
        raise InvalidParameterError(
            "resample", "method", method, f"one of {sorted(RESAMPLING_METHODS)}"
        )
    return scheme(rng, weights, n)
