"""MCMC convergence diagnostics: NumPy kernels with explicit ``(chain, draw)`` axes.

These are the rank-normalised split-R-hat, bulk/tail effective sample size and
Monte Carlo standard errors of Vehtari, Gelman, Simpson, Carpenter and Bürkner
(2021), "Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", *Bayesian Analysis* 16(2), with the exact
conventions of ArviZ 0.23.4 (``arviz.rhat``, ``arviz.ess``, ``arviz.mcse``,
``arviz.hdi``, ``arviz.summary``): the tests compare every function with the
installed ArviZ to a relative tolerance of 1e-8. ArviZ itself is not needed
here; only NumPy and SciPy are.

Array layout
------------
Every function takes an array with axes ``(chain, draw)``. A 1-D array is one
chain. Extra trailing axes ``(chain, draw, *param_shape)`` hold the elements of
a vector- or matrix-valued parameter; each element is diagnosed on its own and
the result has shape ``param_shape``. A scalar parameter (1-D or 2-D input)
gives a Python ``float``.

Edge cases (the same for every diagnostic)
------------------------------------------
* Fewer than 4 draws per chain, or no chains: NaN, silently (ArviZ logs a
  message and returns NaN).
* R-hat needs at least 2 chains; with 1 chain it is NaN (as ArviZ; Stan's
  single-chain split-R-hat is not what ArviZ computes).
* Any NaN or ±inf among the draws of a parameter element: NaN for that element.
  ArviZ agrees for NaN; for ±inf it still ranks the infinite draws and returns
  finite rank-based R-hat and bulk/tail ESS (and NaN for the rest). We return
  NaN: an infinite draw means the sampler is broken, and a finite R-hat would
  hide that.
* Constant draws: ESS is the number of draws that enter the estimator
  (``chains * 2 * (draws // 2)``), ``mcse_mean`` is 0, R-hat and ``mcse_sd``
  are NaN (0/0), all as ArviZ, but without ArviZ's ``RuntimeWarning``.
  Chains that are each constant at different values give a huge or infinite
  R-hat (ArviZ gives a huge finite value from round-off; the exact number is
  meaningless either way).
* No function emits a warning for any input.

Examples
--------
>>> import numpy as np
>>> from fugue_lab.inference.mcmc_diagnostics import ess_bulk, rhat
>>> rng = np.random.default_rng(0)
>>> draws = rng.normal(size=(4, 1000))
>>> rhat(draws) < 1.01
True
>>> shifted = draws + np.arange(4)[:, None]
>>> rhat(shifted) > 1.5
True
>>> 3000 < ess_bulk(draws) < 5000
True
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.fft import next_fast_len
from scipy.special import ndtri

from fugue_lab.errors import InvalidParameterError

__all__ = [
    "autocovariance",
    "ess_bulk",
    "ess_geyer",
    "ess_mean",
    "ess_sd",
    "ess_tail",
    "eti",
    "hdi",
    "mcse_mean",
    "mcse_sd",
    "rank_normalize",
    "rhat",
    "split_chains",
    "summary_stats",
]

#: Fewest draws per chain for which any diagnostic is computed (as ArviZ).
MIN_DRAWS = 4
_SHAPE_EXPECTED = "(draw,), (chain, draw) or (chain, draw, *param_shape)"
_BLOM_OFFSET = 3.0 / 8.0
_RESOLUTION = float(np.finfo(float).resolution)  # ArviZ's "constant array" threshold


# --------------------------------------------------------------------------- input handling


def _as_array(x: ArrayLike, owner: str) -> np.ndarray:
    """``x`` as float64 with ndim >= 1, or a clear error."""
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise InvalidParameterError(owner, "x.shape", arr.shape, _SHAPE_EXPECTED)
    if np.iscomplexobj(arr):
        raise TypeError(f"{owner}: x must hold real numbers, got an array of dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{owner}: x must hold real numbers, got an array of dtype {arr.dtype}"
            ) from exc
    return arr.astype(np.float64, copy=False)


def _as_kcd(x: ArrayLike, owner: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Return ``x`` as a C-contiguous float64 array of shape ``(K, chain, draw)``.

    K is the number of parameter elements (the product of the trailing shape);
    the trailing shape is returned alongside so results can be reshaped.
    """
    arr = _as_array(x, owner)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    n_chain, n_draw = arr.shape[:2]
    param_shape = arr.shape[2:]
    n_elem = math.prod(param_shape)
    kcd = np.moveaxis(arr.reshape(n_chain, n_draw, n_elem), 2, 0)
    return np.ascontiguousarray(kcd), param_shape


def _finish(values: np.ndarray, param_shape: tuple[int, ...]) -> float | np.ndarray:
    """Per-element results (K,) -> float for a scalar parameter, else ``param_shape``."""
    if param_shape == ():
        return float(values[0])
    return values.reshape(param_shape)


def _prepare(
    x: ArrayLike, owner: str, min_chains: int
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """Validate and canonicalise ``x`` for a diagnostic.

    Returns ``(a, bad, param_shape)``: ``a`` of shape (K, chain, draw) with the
    draws of non-finite elements replaced by zeros (so the kernels never see
    NaN), and ``bad`` the (K,) mask of those elements. ``bad`` is None when the
    shape alone makes every element NaN (too few chains or draws).
    """
    a, param_shape = _as_kcd(x, owner)
    _, n_chain, n_draw = a.shape
    if n_chain < min_chains or n_draw < MIN_DRAWS:
        return a, None, param_shape
    bad = ~np.isfinite(a).all(axis=(1, 2))
    if bad.any():
        a = a.copy()  # ``a`` may be a view of the caller's array
        a[bad] = 0.0
    return a, bad, param_shape


def _nan_result(a: np.ndarray, param_shape: tuple[int, ...]) -> float | np.ndarray:
    return _finish(np.full(a.shape[0], np.nan), param_shape)


def _mask(values: np.ndarray, bad: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    values[bad] = np.nan
    return values


# --------------------------------------------------------------------------- kernels (K, M, N)


def _split(a: np.ndarray) -> np.ndarray:
    """(K, M, N) -> (K, 2M, N // 2): first halves, then second halves (middle draw dropped)."""
    n_draw = a.shape[-1]
    half = n_draw // 2
    return np.concatenate((a[:, :, :half], a[:, :, n_draw - half :]), axis=1)


def _autocov(a: np.ndarray) -> np.ndarray:
    """Biased (divide by n) autocovariance along the last axis, by zero-padded FFT."""
    n = a.shape[-1]
    m = next_fast_len(2 * n, real=True)
    centred = a - a.mean(axis=-1, keepdims=True)
    spec = np.fft.rfft(centred, n=m, axis=-1)
    spec *= np.conjugate(spec)
    cov = np.fft.irfft(spec, n=m, axis=-1)[..., :n]
    cov /= n
    return cov


def _average_ranks(flat: np.ndarray) -> np.ndarray:
    """1-based ranks along the last axis of a 2-D array, ties sharing their average rank.

    The same numbers as ``scipy.stats.rankdata(method="average")`` (sums of
    small integers and halves, so exactly), but vectorised over rows: SciPy's
    ``axis=`` path is several times slower than one sort per row.
    """
    n_rows, size = flat.shape
    order = np.argsort(flat, axis=1)
    ordered = np.take_along_axis(flat, order, axis=1)
    position = np.broadcast_to(np.arange(size), (n_rows, size))
    starts_group = np.ones((n_rows, size), dtype=bool)
    starts_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ranks = np.empty((n_rows, size))
    if starts_group.all():  # no ties: the common case for continuous draws
        np.put_along_axis(ranks, order, position + 1.0, axis=1)
        return ranks
    ends_group = np.ones((n_rows, size), dtype=bool)
    ends_group[:, :-1] = starts_group[:, 1:]
    first = np.maximum.accumulate(np.where(starts_group, position, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends_group, position, size - 1)[:, ::-1], axis=1)
    sorted_ranks = (first + last[:, ::-1]) / 2.0 + 1.0
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    return ranks


def _z_scale(a: np.ndarray) -> np.ndarray:
    """Rank-normalise each element jointly over its (chain, draw) values."""
    n_elem = a.shape[0]
    flat = a.reshape(n_elem, -1)
    size = flat.shape[1]
    ranks = _average_ranks(flat)
    z = ndtri((ranks - _BLOM_OFFSET) / (size - 2 * _BLOM_OFFSET + 1))
    return z.reshape(a.shape)


def _rhat_kernel(a: np.ndarray) -> np.ndarray:
    """Classic (Gelman-Rubin) R-hat of each element of a (K, M, N) array."""
    n_draw = a.shape[-1]
    chain_mean = a.mean(axis=2)
    chain_var = a.var(axis=2, ddof=1)
    between = n_draw * chain_mean.var(axis=1, ddof=1)
    within = chain_var.mean(axis=1)
    return np.sqrt((between / within + n_draw - 1) / n_draw)


def _geyer_kernel(a: np.ndarray) -> np.ndarray:
    """Geyer initial-positive/initial-monotone ESS of each element of a (K, M, N) array.

    A vectorised transcription of ArviZ's ``_ess`` loop:

    * rho_t = 1 - (W - mean_c acov_c(t)) / var_plus, W = mean_c acov_c(0) * N/(N-1),
      var_plus = W (N-1)/N + var(chain means, ddof=1) (the last term only with M > 1),
      rho_0 = 1;
    * pairs P_k = rho_2k + rho_2k+1 are taken for k = 1, 2, ... while the previous
      pair is positive and 2k - 1 < N - 3; with K pairs taken, tau sums the
      monotone (running-minimum) pairs P_0..P_{K-1}, plus rho_2K where ArviZ keeps it;
    * tau = max(tau, 1 / log10(S)) with S = M N, so ESS <= S log10(S);
    * an element whose values span less than float resolution has ESS = S.
    """
    n_elem, n_chain, n_draw = a.shape
    size = n_chain * n_draw
    constant = (a.max(axis=(1, 2)) - a.min(axis=(1, 2))) < _RESOLUTION

    acov = _autocov(a)
    chain_mean = a.mean(axis=2)
    mean_var = acov[:, :, 0].mean(axis=1) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus = var_plus + chain_mean.var(axis=1, ddof=1)

    n_pairs = len(range(1, n_draw - 3, 2))  # iterations ArviZ's loop may make
    last = 2 * n_pairs + 2
    rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)[:, :last]) / var_plus[:, None]
    rho[:, 0] = 1.0
    pairs = rho[:, 0:last:2] + rho[:, 1:last:2]  # P_0 .. P_{n_pairs}

    # K = number of pairs the loop takes: leading run of positive P_0, P_1, ... (at most n_pairs)
    positive = pairs[:, :n_pairs] > 0.0
    taken = np.cumprod(positive, axis=1).sum(axis=1)
    monotone = np.minimum.accumulate(pairs[:, :n_pairs], axis=1)
    used = np.arange(n_pairs)[None, :] < taken[:, None]
    head = np.where(used, monotone, 0.0).sum(axis=1)

    rows = np.arange(n_elem)
    rho_tail = rho[rows, 2 * taken]
    keep_tail = (rho_tail > 0.0) | (pairs[rows, taken] >= 0.0)
    tau = -1.0 + 2.0 * head + np.where(keep_tail, rho_tail, 0.0)
    tau = np.maximum(tau, 1.0 / np.log10(size))
    ess = size / tau
    ess[np.isnan(rho[:, 1]) | np.isnan(tau)] = np.nan
    ess[constant] = size
    return ess


def _type7_quantiles(a: np.ndarray, probs: tuple[float, ...]) -> list[np.ndarray]:
    """Quantiles of each element over (chain, draw), exactly as ``scipy.stats.mstats.mquantiles``
    with ``alphap = betap = 1`` (R type 7), which ArviZ uses for the tail ESS.

    Bit-for-bit agreement matters here: the tail ESS thresholds draws at the
    quantile, so a last-digit difference could flip a tied draw's indicator.
    """
    x = np.sort(a.reshape(a.shape[0], -1), axis=1)
    n = x.shape[1]
    out = []
    for prob in probs:
        if n == 1:
            out.append(x[:, 0])
            continue
        aleph = n * prob + (1.0 + prob * (1.0 - 1.0 - 1.0))
        k = int(np.floor(min(max(aleph, 1), n - 1)))
        gamma = min(max(aleph - k, 0.0), 1.0)
        out.append((1.0 - gamma) * x[:, k - 1] + gamma * x[:, k])
    return out


def _max_like_python(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``max(first, second)`` with Python's NaN semantics, elementwise (as ArviZ's ``max``)."""
    return np.where(second > first, second, first)


def _min_like_python(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``min(first, second)`` with Python's NaN semantics, elementwise (as ArviZ's ``min``)."""
    return np.where(second < first, second, first)


def _rhat_rank_kernel(a: np.ndarray, fold_before_split: bool) -> np.ndarray:
    split = _split(a)
    bulk = _rhat_kernel(_z_scale(split))
    if fold_before_split:  # arviz.summary: fold about the median of all draws, then split
        med = np.median(a.reshape(a.shape[0], -1), axis=1)
        folded = _split(np.abs(a - med[:, None, None]))
    else:  # arviz.rhat: fold the split chains about their own median
        med = np.median(split.reshape(split.shape[0], -1), axis=1)
        folded = np.abs(split - med[:, None, None])
    tail = _rhat_kernel(_z_scale(folded))
    return _max_like_python(bulk, tail)


def _ess_tail_kernel(a: np.ndarray) -> np.ndarray:
    ess = []
    for q in _type7_quantiles(a, (0.05, 0.95)):
        indicator = (a <= q[:, None, None]).astype(np.float64)
        ess.append(_geyer_kernel(_split(indicator)))
    return _min_like_python(ess[0], ess[1])


def _ess_mean_kernel(a: np.ndarray) -> np.ndarray:
    return _geyer_kernel(_split(a))


def _sq_dev(a: np.ndarray) -> np.ndarray:
    """Squared deviations from each element's overall mean."""
    flat_mean = a.reshape(a.shape[0], -1).mean(axis=1)
    return (a - flat_mean[:, None, None]) ** 2


def _mcse_mean_kernel(a: np.ndarray) -> np.ndarray:
    sd = a.reshape(a.shape[0], -1).std(axis=1, ddof=1)
    return sd / np.sqrt(_ess_mean_kernel(a))


def _mcse_sd_kernel(a: np.ndarray) -> np.ndarray:
    sims_c2 = _sq_dev(a)
    flat = sims_c2.reshape(a.shape[0], -1)
    ess = _ess_mean_kernel(sims_c2)
    evar = flat.mean(axis=1)
    varvar = ((flat**2).mean(axis=1) - evar**2) / ess
    varsd = varvar / evar / 4
    return np.sqrt(varsd)


def _diagnostic(x: ArrayLike, owner: str, kernel, min_chains: int = 1) -> float | np.ndarray:
    """Run a (K, M, N) -> (K,) kernel with the shared validation and edge cases."""
    a, bad, param_shape = _prepare(x, owner, min_chains)
    if bad is None:
        return _nan_result(a, param_shape)
    with np.errstate(all="ignore"):
        values = kernel(a)
    return _finish(_mask(values, bad), param_shape)


# --------------------------------------------------------------------------- public helpers


def split_chains(x: ArrayLike) -> np.ndarray:
    """Split every chain into its first and second half.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    numpy.ndarray
        Shape ``(2 * chain, draw // 2, *param_shape)``: the first halves of all
        chains, then the second halves. With an odd number of draws the middle
        draw is dropped (as ArviZ).

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> split_chains([[1.0, 2.0, 3.0, 4.0, 5.0]])
    array([[1., 2.],
           [4., 5.]])
    """
    arr = _as_array(x, "split_chains")
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    n_draw = arr.shape[1]
    half = n_draw // 2
    return np.concatenate((arr[:, :half], arr[:, n_draw - half :]), axis=0)


def rank_normalize(x: ArrayLike) -> np.ndarray:
    """Rank-normalise draws: z = Phi^-1((r - 3/8) / (S + 1/4)).

    ``r`` are the fractional ranks (ties get their average rank) of each
    parameter element over all its chains and draws together, and ``S`` the
    number of those draws (Blom's offset, as ArviZ's ``_z_scale``).

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``. An element with any NaN or ±inf draw is all NaN.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> rank_normalize([0.3, -1.0, 0.3, 7.0]).round(4)  # ranks 2.5, 1, 2.5, 4
    array([ 0.    , -1.0491,  0.    ,  1.0491])
    """
    arr = _as_array(x, "rank_normalize")
    a, param_shape = _as_kcd(arr, "rank_normalize")
    if a.size == 0:
        return np.full(arr.shape, np.nan)
    bad = ~np.isfinite(a).all(axis=(1, 2))
    if bad.any():
        a = a.copy()  # ``a`` may be a view of the caller's array
        a[bad] = 0.0
    z = _z_scale(a)
    z[bad] = np.nan
    out = np.moveaxis(z, 0, 2).reshape(a.shape[1], a.shape[2], *param_shape)
    return out.reshape(arr.shape)


def autocovariance(x: ArrayLike) -> np.ndarray:
    """Autocovariance of every chain at every lag, by FFT.

    The estimate at lag t is ``sum_i (x_i - m)(x_{i+t} - m) / n`` (the biased
    estimator, divided by the number of draws ``n``), as ``arviz.autocov``.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``: lags run along the draw axis (axis 1, or axis 0
        for 1-D input). NaN or ±inf in a chain make that chain's result non-finite.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> autocovariance([1.0, -1.0, 1.0, -1.0])
    array([ 1.  , -0.75,  0.5 , -0.25])
    """
    arr = _as_array(x, "autocovariance")
    a, param_shape = _as_kcd(arr, "autocovariance")
    if a.size == 0:
        return np.zeros(arr.shape)
    with np.errstate(all="ignore"):
        cov = _autocov(a)
    out = np.moveaxis(cov, 0, 2).reshape(a.shape[1], a.shape[2], *param_shape)
    return out.reshape(arr.shape)


# --------------------------------------------------------------------------- diagnostics


def rhat(x: ArrayLike) -> float | np.ndarray:
    """Rank-normalised split R-hat (Vehtari et al. 2021), as ``arviz.rhat(method="rank")``.

    The maximum of the bulk R-hat (classic R-hat of the rank-normalised split
    chains) and the tail R-hat (the same for the split chains folded about
    their median, ``|x - median|``).

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar parameter, else an array of shape ``param_shape``.
        NaN with fewer than 2 chains or 4 draws, or for non-finite draws;
        NaN for constant draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> rhat(rng.normal(size=(4, 200))) < 1.05
    True
    >>> rhat(rng.normal(size=(1, 200)))  # one chain: undefined, as ArviZ
    nan
    """
    return _diagnostic(x, "rhat", lambda a: _rhat_rank_kernel(a, False), min_chains=2)


def ess_geyer(x: ArrayLike) -> float | np.ndarray:
    """Effective sample size of the draws as given: no splitting, no normalisation.

    Geyer's initial positive and initial monotone sequence estimator with
    ArviZ's conventions (``arviz.ess(method="identity")``): the autocorrelation
    combines the chains through the within-chain variance with ArviZ's
    (N-1)/N factors, and ESS is capped at ``S * log10(S)`` for ``S = chains * draws``.
    The other ESS functions apply it to transformed draws.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        ESS in draws (not relative). NaN with fewer than 4 draws or for
        non-finite draws; ``chains * draws`` for constant draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(2).normal(size=(2, 500))
    >>> 700 < ess_geyer(x) < 1300
    True
    """
    return _diagnostic(x, "ess_geyer", _geyer_kernel)


def ess_bulk(x: ArrayLike) -> float | np.ndarray:
    """Bulk effective sample size, as ``arviz.ess(method="bulk")``.

    The Geyer ESS (:func:`ess_geyer`) of the rank-normalised split chains.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        NaN with fewer than 4 draws or for non-finite draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(3).normal(size=(4, 250))
    >>> 700 < ess_bulk(x) < 1300
    True
    """
    return _diagnostic(x, "ess_bulk", lambda a: _geyer_kernel(_z_scale(_split(a))))


def ess_tail(x: ArrayLike) -> float | np.ndarray:
    """Tail effective sample size, as ``arviz.ess(method="tail")``.

    The smaller of the split-chain Geyer ESS of the indicators ``x <= q05`` and
    ``x <= q95``, where the quantiles are taken over all draws (R type 7, as
    ArviZ).

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        NaN with fewer than 4 draws or for non-finite draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(4).normal(size=(4, 250))
    >>> 500 < ess_tail(x) < 1500
    True
    """
    return _diagnostic(x, "ess_tail", _ess_tail_kernel)


def ess_mean(x: ArrayLike) -> float | np.ndarray:
    """Effective sample size for the mean, as ``arviz.ess(method="mean")``.

    The Geyer ESS of the split chains, without rank normalisation.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        NaN with fewer than 4 draws or for non-finite draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(5).normal(size=(4, 250))
    >>> 700 < ess_mean(x) < 1300
    True
    """
    return _diagnostic(x, "ess_mean", _ess_mean_kernel)


def ess_sd(x: ArrayLike) -> float | np.ndarray:
    """Effective sample size for the standard deviation, as ``arviz.ess(method="sd")``.

    ArviZ 0.23.4's definition: the split-chain Geyer ESS of the squared
    deviations ``(x - mean)**2`` (the mean over all chains and draws).

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        NaN with fewer than 4 draws or for non-finite draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(6).normal(size=(4, 250))
    >>> 600 < ess_sd(x) < 1400
    True
    """
    return _diagnostic(x, "ess_sd", lambda a: _ess_mean_kernel(_sq_dev(a)))


def mcse_mean(x: ArrayLike) -> float | np.ndarray:
    """Monte Carlo standard error of the posterior mean, as ``arviz.mcse(method="mean")``.

    ``sd / sqrt(ess_mean)`` with the sample standard deviation (ddof=1) over
    all chains and draws.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        NaN with fewer than 4 draws or for non-finite draws; 0 for constant draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(7).normal(size=(4, 2500))
    >>> 0.007 < mcse_mean(x) < 0.013  # about 1 / sqrt(10000)
    True
    """
    return _diagnostic(x, "mcse_mean", _mcse_mean_kernel)


def mcse_sd(x: ArrayLike) -> float | np.ndarray:
    """Monte Carlo standard error of the posterior sd, as ``arviz.mcse(method="sd")``.

    The definition of the installed ArviZ 0.23.4 (a delta-method estimate;
    later ArviZ versions and arviz-stats changed it): with
    ``s = (x - mean)**2`` over all chains and draws,
    ``sqrt((mean(s**2) - mean(s)**2) / ess_mean(s) / mean(s) / 4)``.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.

    Returns
    -------
    float or numpy.ndarray
        NaN with fewer than 4 draws, for non-finite draws, and for constant draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(8).normal(size=(4, 2500))
    >>> 0.004 < mcse_sd(x) < 0.010  # about 1 / sqrt(2 * 10000)
    True
    """
    return _diagnostic(x, "mcse_sd", _mcse_sd_kernel)


# --------------------------------------------------------------------------- intervals


def _check_prob(owner: str, prob: float) -> float:
    try:
        value = float(prob)
    except (TypeError, ValueError):
        raise InvalidParameterError(owner, "prob", prob, "a number in (0, 1]") from None
    if not 0.0 < value <= 1.0:
        raise InvalidParameterError(owner, "prob", prob, "a number in (0, 1]")
    return value


def _interval_result(lower: np.ndarray, upper: np.ndarray, param_shape) -> np.ndarray:
    return np.stack((lower, upper), axis=-1).reshape(*param_shape, 2)


def _hdi_kernel(flat: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Narrowest interval holding floor(prob * n) + 1 sorted draws, per row of (K, n)."""
    x = np.sort(flat, axis=1)
    n = x.shape[1]
    inc = int(np.floor(prob * n))
    if inc >= n:  # prob == 1: ArviZ raises; the narrowest interval holding all draws is [min, max]
        return x[:, 0], x[:, -1]
    widths = np.subtract(x[:, inc:], x[:, : n - inc], dtype=np.float64)
    start = np.argmin(widths, axis=1)
    rows = np.arange(x.shape[0])
    return x[rows, start], x[rows, start + inc]


def hdi(x: ArrayLike, prob: float = 0.94) -> np.ndarray:
    """Highest-density interval over all chains and draws, as ``arviz.hdi`` (unimodal).

    The narrowest interval between two draws that holds ``floor(prob * n) + 1``
    of the ``n`` sorted draws (ties: the lowest such interval).

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.
        Unlike ``arviz.hdi``, which reads a 2-D array as ``(draw, param)``, a
        2-D array here is ``(chain, draw)`` of one scalar parameter.
    prob
        Probability mass of the interval, in (0, 1]. ``prob=1`` gives
        ``[min, max]`` (ArviZ raises).

    Returns
    -------
    numpy.ndarray
        Shape ``(*param_shape, 2)``: lower and upper bound. NaN for an element
        with non-finite draws or no draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional or ``prob`` is not in (0, 1].

    Examples
    --------
    >>> hdi([0.0, 1.0, 2.0, 3.0, 10.0], prob=0.6)
    array([0., 3.])
    """
    value = _check_prob("hdi", prob)
    a, param_shape = _as_kcd(x, "hdi")
    flat = a.reshape(a.shape[0], -1)
    lower = np.full(a.shape[0], np.nan)
    upper = np.full(a.shape[0], np.nan)
    if flat.shape[1] > 0:
        good = np.isfinite(flat).all(axis=1)
        if good.any():
            lower[good], upper[good] = _hdi_kernel(flat[good], value)
    return _interval_result(lower, upper, param_shape)


def eti(x: ArrayLike, prob: float = 0.94) -> np.ndarray:
    """Equal-tailed interval: the ``(1 - prob) / 2`` and ``(1 + prob) / 2`` quantiles.

    Quantiles over all chains and draws with linear interpolation (NumPy's
    default, R type 7), as the ``eti_*`` columns of
    ``arviz.summary(stat_focus="median")``.

    Parameters
    ----------
    x
        Draws with axes ``(chain, draw, *param_shape)``; a 1-D array is one chain.
    prob
        Probability mass of the interval, in (0, 1].

    Returns
    -------
    numpy.ndarray
        Shape ``(*param_shape, 2)``: lower and upper bound. NaN for an element
        with non-finite draws or no draws.

    Raises
    ------
    InvalidParameterError
        If ``x`` is 0-dimensional or ``prob`` is not in (0, 1].

    Examples
    --------
    >>> eti([0.0, 1.0, 2.0, 3.0, 4.0], prob=0.5)
    array([1., 3.])
    """
    value = _check_prob("eti", prob)
    a, param_shape = _as_kcd(x, "eti")
    flat = a.reshape(a.shape[0], -1)
    lower = np.full(a.shape[0], np.nan)
    upper = np.full(a.shape[0], np.nan)
    if flat.shape[1] > 0:
        good = np.isfinite(flat).all(axis=1)
        if good.any():
            alpha = 1.0 - value
            q = np.quantile(flat[good], (alpha / 2, 1 - alpha / 2), axis=1)
            lower[good], upper[good] = q[0], q[1]
    return _interval_result(lower, upper, param_shape)


# --------------------------------------------------------------------------- summary


def summary_stats(x: ArrayLike, prob: float = 0.94) -> dict[str, float]:
    """Summary statistics of one scalar parameter, as a row of ``arviz.summary``.

    Parameters
    ----------
    x
        Draws of one scalar parameter with axes ``(chain, draw)``; a 1-D array is one chain.
    prob
        Probability mass of the HDI and ETI, in (0, 1]. ArviZ's default is 0.94.

    Returns
    -------
    dict of str to float
        Raw (unrounded) Python floats, in this order:

        ``mean``, ``sd``
            Mean and standard deviation (ddof=1, as ``arviz.summary``) over all draws.
        ``hdi_lower``, ``hdi_upper``
            :func:`hdi` bounds (``arviz.summary``'s ``hdi_3%``/``hdi_97%`` for prob 0.94).
        ``eti_lower``, ``eti_upper``
            :func:`eti` bounds (``arviz.summary(stat_focus="median")``'s ``eti_3%``/``eti_97%``).
        ``mcse_mean``, ``mcse_sd``, ``ess_bulk``, ``ess_tail``, ``r_hat``
            As :func:`mcse_mean`, :func:`mcse_sd`, :func:`ess_bulk`,
            :func:`ess_tail` and :func:`rhat`, except that ``r_hat`` folds
            the draws about the median of *all* draws before splitting, as
            ``arviz.summary`` does (``arviz.rhat`` folds the split chains; the
            two differ only for an odd number of draws).

        Every value is NaN if any draw is NaN or ±inf. The diagnostics are NaN
        with fewer than 4 draws (and ``r_hat`` with one chain).

    Raises
    ------
    InvalidParameterError
        If ``x`` is not 1-D or 2-D, or ``prob`` is not in (0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> stats = summary_stats(np.random.default_rng(9).normal(size=(4, 500)))
    >>> list(stats)[:4]
    ['mean', 'sd', 'hdi_lower', 'hdi_upper']
    >>> abs(stats["mean"]) < 4 * stats["mcse_mean"]
    True
    """
    value = _check_prob("summary_stats", prob)
    arr = _as_array(x, "summary_stats")
    if arr.ndim > 2:
        raise InvalidParameterError(
            "summary_stats",
            "x.shape",
            arr.shape,
            "(draw,) or (chain, draw) for one scalar parameter; pass x[..., i] per element",
        )
    a, _ = _as_kcd(arr, "summary_stats")
    keys = (
        "mean",
        "sd",
        "hdi_lower",
        "hdi_upper",
        "eti_lower",
        "eti_upper",
        "mcse_mean",
        "mcse_sd",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    )
    out = dict.fromkeys(keys, math.nan)
    flat = a.reshape(-1)
    if flat.size == 0 or not np.isfinite(flat).all():
        return out
    out["mean"] = float(flat.mean())
    if flat.size > 1:
        out["sd"] = float(flat.std(ddof=1))
    out["hdi_lower"], out["hdi_upper"] = (float(v) for v in hdi(arr, value))
    out["eti_lower"], out["eti_upper"] = (float(v) for v in eti(arr, value))
    _, n_chain, n_draw = a.shape
    if n_draw < MIN_DRAWS or n_chain < 1:
        return out
    with np.errstate(all="ignore"):
        out["mcse_mean"] = float(_mcse_mean_kernel(a)[0])
        out["mcse_sd"] = float(_mcse_sd_kernel(a)[0])
        out["ess_bulk"] = float(_geyer_kernel(_z_scale(_split(a)))[0])
        out["ess_tail"] = float(_ess_tail_kernel(a)[0])
        if n_chain >= 2:
            out["r_hat"] = float(_rhat_rank_kernel(a, True)[0])
    return out
