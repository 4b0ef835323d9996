"""Batched execution: one run of a model for ``n`` particles at once.

In a batched run every latent site draws an array with the *particle axis
first*, and every log-density and log weight is an array of shape ``(n,)``.
The same model function runs unchanged in scalar and batched mode as long as
it computes with NumPy (``np.sqrt``, ``np.exp``, arithmetic) rather than the
:mod:`math` module or Python branches.

Layout
------
* A latent site outside any plate gets a value of shape ``(n, 1)`` (the trace
  stores it as ``(n,)``).  The trailing 1 lines the particle axis up against
  a plate's data axis, so ``Normal(mu, sigma).log_prob(ys)`` with ``ys`` of
  shape ``(m,)`` scores an ``(n, m)`` block, and ``slope * xs`` is ``(n, m)``.
* A latent site inside ``plate(name, m)`` gets a value of shape ``(n, m)``.
* Observations and factors are summed over every axis but the particle axis.
  A site whose log-density does not depend on any particle (no latent value
  reaches it) is broadcast to all particles.
* One level of :func:`~fugue_lab.plate` is supported in batched mode; nested
  plates raise :class:`~fugue_lab.errors.UnbatchableModelError`.

Values handed to the model are :class:`BatchedValue` arrays: ordinary NumPy
arrays that refuse to be used as a single truth value or number.  A model that
branches on a sampled value (``if x > 0:``), or passes one to ``math.exp`` or
``range``, fails with an error that names the site, never with a wrong answer.

Pooled buffers
--------------
With ``pool=`` a :class:`~fugue_lab.runtime.pool.TracePool` supplies the run's
array buffers (draws, log-probabilities, log weights and a scoring
workspace), and observations are scored in cache-sized blocks of particles
with ``out=`` writes.  After a warm-up, a pooled run allocates almost nothing
new: put the trace back with ``pool.put(trace, recycle_arrays=True)`` once
its arrays have been read.

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Gamma, Normal, observe, plate, run, sample
>>> def w2(ys):
...     mu = sample("mu", Normal(0.0, 10.0))
...     precision = sample("precision", Gamma(2.0, 1.0))
...     sigma = np.sqrt(1.0 / precision)
...     with plate("obs", len(ys)):
...         observe("y", Normal(mu, sigma), ys)
...     return mu
>>> mu, trace = run(BatchedPriorHandler(np.random.default_rng(0), 1000), w2, np.arange(5.0))
>>> trace["mu"].value.shape, trace.log_likelihood.shape
((1000,), (1000,))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from fugue_lab.core.distributions import Distribution, Normal
from fugue_lab.core.primitives import Handler, current_plates
from fugue_lab.core.validation import check_count, check_rng
from fugue_lab.errors import (
    AddressConflictError,
    InvalidParameterError,
    MissingAddressError,
    UnbatchableModelError,
)
from fugue_lab.runtime.trace import Choice, Trace, new_choice

__all__ = [
    "BatchedPriorHandler",
    "BatchedReplayHandler",
    "BatchedScoreHandler",
    "BatchedValue",
    "particle_values",
]

#: Bytes of one scoring block: small enough to stay in a 2 vCPU machine's L2 cache.
BLOCK_BYTES = 256 * 1024

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class BatchedValue(np.ndarray):
    """A particle-axis array handed to a model in a batched run.

    It behaves as a NumPy array in arithmetic and NumPy functions (results stay
    BatchedValues and remember the site they came from), but using it where a
    single number is needed (``if``, ``bool()``, ``float()``, ``math.exp``,
    ``range``) raises :class:`~fugue_lab.errors.UnbatchableModelError` naming the
    site, instead of silently using one particle's value.

    Examples
    --------
    >>> v = np.zeros((3, 1)).view(BatchedValue)
    >>> v.site = "x"
    >>> bool(v > 0)
    Traceback (most recent call last):
    ...
    fugue_lab.errors.UnbatchableModelError: the model uses a value derived from site 'x' ...
    """

    site: str | None = None

    def __array_finalize__(self, obj: Any) -> None:
        self.site = getattr(obj, "site", None)

    def _refuse(self, use: str, hint: str) -> UnbatchableModelError:
        return UnbatchableModelError(
            f"the model uses a value derived from site {self.site!r} as {use}, which differs "
            f"from particle to particle, so it cannot run batched: {hint}, or run it with the "
            "scalar PriorHandler"
        )

    def __bool__(self) -> bool:
        if self.size > 1:
            raise self._refuse(
                "a single truth value (an if, while, and/or, or bool())",
                "write the branch with np.where(condition, a, b)",
            )
        return bool(self.view(np.ndarray).reshape(()))

    def __float__(self) -> float:
        if self.size > 1:
            raise self._refuse("a single number (float() or a math function)", "use NumPy (np.exp)")
        return float(self.view(np.ndarray).reshape(()))

    def __int__(self) -> int:
        if self.size > 1:
            raise self._refuse("a single integer (int())", "keep it an array")
        return int(self.view(np.ndarray).reshape(()))

    def __index__(self) -> int:
        if self.size > 1:
            raise self._refuse("an index or a size (range(), a list index)", "keep it an array")
        return int(self.view(np.ndarray).reshape(()))


def particle_values(value: Any, n: int) -> Any:
    """Turn a batched run's return value into plain arrays with the particle axis first.

    ``(n, 1)`` becomes ``(n,)``; BatchedValues become ndarrays; tuples, lists
    and dicts are converted element-wise; anything else is returned as is.

    Examples
    --------
    >>> particle_values(np.zeros((4, 1)).view(BatchedValue), 4).shape
    (4,)
    """
    if isinstance(value, np.ndarray):
        array = value.view(np.ndarray)
        if array.ndim == 2 and array.shape == (n, 1):
            return array[:, 0]
        return array
    if isinstance(value, tuple):
        return tuple(particle_values(v, n) for v in value)
    if isinstance(value, list):
        return [particle_values(v, n) for v in value]
    if isinstance(value, dict):
        return {k: particle_values(v, n) for k, v in value.items()}
    return value




class _BatchedHandler(Handler):
    """The shared machinery of batched runs: layout, buffers, scoring, the trace."""

    def __init__(
        self,
        rng: np.random.Generator | None,
        n: int,
        dtype: DTypeLike = np.float64,
        pool: Any = None,
    ) -> None:
        self.rng = rng if rng is None else check_rng(None, rng)
        self.n = check_count(type(self).__name__, "n", n)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise InvalidParameterError(
                type(self).__name__, "dtype", self.dtype, "float64 or float32"
            )
        if pool is not None and not hasattr(pool, "get_buffer"):
            raise TypeError(f"pool must be a TracePool, got {type(pool).__name__}")
        self.pool = pool
        self.trace = Trace()

    # -- buffers ---------------------------------------------------------------------------
    def _buffer(self, shape: tuple[int, ...], dtype: np.dtype | None = None) -> np.ndarray:
        dtype = self.dtype if dtype is None else dtype
        if self.pool is not None:
            return self.pool.get_buffer(shape, dtype)
        return np.empty(shape, dtype)

    def _zeros(self) -> np.ndarray:
        buf = self._buffer((self.n,))
        buf.fill(0.0)
        return buf

    # -- lifecycle -------------------------------------------------------------------------
    def begin(self) -> None:
        trace = self.pool.get() if self.pool is not None else Trace()
        trace.log_prior = self._zeros()
        trace.log_likelihood = self._zeros()
        trace.log_factors = self._zeros()
        self.trace = trace

    def finish(self) -> Trace:
        trace = self.trace
        self.trace = Trace()
        return trace

    def abort(self) -> None:
        trace = self.trace
        self.trace = Trace()
        if self.pool is not None and isinstance(trace, Trace):
            self.pool.put(trace, recycle_arrays=True)

    # -- layout ----------------------------------------------------------------------------
    def _site_shape(self, address: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shape a site's value has in the model, and the shape the trace stores."""
        plates = current_plates()
        if not plates:
            return (self.n, 1), (self.n,)
        if len(plates) > 1:
            raise UnbatchableModelError(
                f"site {address!r} is inside nested plates "
                f"({', '.join(p.name for p in plates)}); batched runs support one plate level: "
                "flatten the inner plate into the data axis or run the model with the scalar "
                "PriorHandler"
            )
        shape = (self.n, plates[0].size)
        return shape, shape

    def _check_layout(self, address: str, dist: Distribution, shape: tuple[int, ...]) -> None:
        batch = dist.batch_shape
        if batch and batch != shape:
            try:
                ok = np.broadcast_shapes(batch, shape) == shape
            except ValueError:
                ok = False
            if not ok:
                raise UnbatchableModelError(
                    f"site {address!r}: the distribution's parameters have shape {batch}, which "
                    f"does not line up with the batched layout {shape} (particles first); keep "
                    "sampled values in the (n, 1) shape they are handed out in (no ravel() or "
                    "[:, 0]) or run the model with the scalar PriorHandler"
                )

    # -- sites -----------------------------------------------------------------------------
    def _check_new(self, address: str) -> None:
        trace = self.trace
        if address in trace.choices or address in trace.observations:
            raise AddressConflictError(address)

    def _draw(
        self, dist: Distribution, shape: tuple[int, ...], stored: tuple[int, ...]
    ) -> np.ndarray:
        """An owned array of the site's values in the stored shape, ``(n,)`` or ``(n, m)``."""
        if dist.value_type is float:
            buf = self._buffer(stored)
            dist.sample_into(self.rng, buf.reshape(shape))
            return buf
        draws = dist.sample(self.rng, size=shape)
        return np.ascontiguousarray(draws.reshape(stored))

    def _site_values(
        self, address: str, dist: Distribution, shape: tuple[int, ...], stored: tuple[int, ...]
    ) -> np.ndarray:
        """The site's values as an array of the stored shape (drawn, given, ...)."""
        raise NotImplementedError

    def on_sample(self, address: str, dist: Distribution) -> BatchedValue:
        self._check_new(address)
        shape, stored_shape = self._site_shape(address)
        self._check_layout(address, dist, shape)
        stored = self._site_values(address, dist, shape, stored_shape)
        view = stored.reshape(shape)
        log_prob = self._per_particle(address, dist.log_prob(view), self._buffer((self.n,)))
        trace = self.trace
        trace.choices[address] = new_choice(Choice, (address, stored, log_prob))
        trace.log_prior += log_prob
        value = view.view(BatchedValue)
        value.site = address
        return value

    def on_observe(self, address: str, dist: Distribution, value: Any) -> None:
        self._check_new(address)
        shape, _ = self._site_shape(address)  # also refuses nested plates
        self._check_layout(address, dist, shape)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != self.dtype:
            value = value.astype(self.dtype)
        elif isinstance(value, (list, tuple)):
            value = np.asarray(value)
        log_lik = self._score(address, dist, value)
        self.trace.observations[address] = log_lik
        self.trace.log_likelihood += log_lik

    def on_factor(self, log_weight: Any) -> None:
        if isinstance(log_weight, BatchedValue) and log_weight.ndim == 1:
            # derived from sampled values (x[:, 0], say): one entry per particle
            if log_weight.shape[0] != self.n:
                raise UnbatchableModelError(
                    f"factor: a 1-D log weight must have one entry per particle ({self.n}), "
                    f"got shape {log_weight.shape}"
                )
            self.trace.log_factors += log_weight.view(np.ndarray)
            return
        self.trace.log_factors += self._per_particle("factor", log_weight, None)

    # -- scoring ---------------------------------------------------------------------------
    def _per_particle(self, address: str, log_density: Any, out: np.ndarray | None) -> Any:
        """Sum a log-density over every axis but the particle axis (into ``out`` if given)."""
        n = self.n
        if isinstance(log_density, np.ndarray) and log_density.ndim >= 2:
            array = log_density.view(np.ndarray)
            if array.shape[0] != n:
                raise UnbatchableModelError(
                    f"site {address!r}: its log-density has shape {array.shape}, whose first "
                    f"axis is not the particle axis ({n})"
                )
            if out is None:
                out = np.empty(n, self.dtype)
            if array.ndim == 2 and array.shape[1] == 1:
                out[:] = array[:, 0]
            else:
                np.sum(array.reshape(n, -1), axis=1, out=out)
            return out
        # no particle dependency: one number for every particle
        total = float(np.sum(log_density))
        if out is None:
            return total
        out.fill(total)
        return out

    def _score(self, address: str, dist: Distribution, value: Any) -> np.ndarray | float:
        if self.pool is not None and isinstance(value, np.ndarray) and value.ndim == 1:
            blocked = self._score_blocked(address, dist, value)
            if blocked is not None:
                return blocked
        return self._per_particle(address, dist.log_prob(value), self._buffer((self.n,)))

    def _score_blocked(
        self, address: str, dist: Distribution, value: np.ndarray
    ) -> np.ndarray | None:
        """Score a plate of ``m`` observations for all particles in cache-sized blocks.

        Returns None when the distribution's parameters are not laid out as
        scalars or ``(n, 1)`` particle columns (the generic path handles those).
        """
        n, m = self.n, value.shape[0]
        params = dist.params.values()
        if any(isinstance(p, np.ndarray) and p.shape not in ((), (n, 1)) for p in params):
            return None
        if m == 0 or not any(isinstance(p, np.ndarray) and p.shape == (n, 1) for p in params):
            return None  # no particle axis: the generic path scores the data once
        rows = max(8, min(n, BLOCK_BYTES // (m * self.dtype.itemsize)))
        out = self._buffer((n,))
        work = self._buffer((rows, m))
        try:
            if type(dist) is Normal:
                self._normal_rows(dist, value, out, work, rows)
            else:
                self._generic_rows(dist, value, out, rows)
        finally:
            if self.pool is not None:
                self.pool.put_buffer(work)
        return out

    def _normal_rows(
        self, dist: Normal, value: np.ndarray, out: np.ndarray, work: np.ndarray, rows: int
    ) -> None:
        """Normal with scalar or per-particle (n, 1) mu and sigma, scored by blocks in place.

        log p(y | mu_i, sigma_i) summed over the m observations is
        ``-0.5 * sum_j ((y_j - mu_i) / sigma_i)**2 - m * (log sigma_i + log sqrt(2 pi))``:
        every observation's residual is still evaluated; only the normalising
        constant, equal for the whole row, is added once per row.
        """
        n, m = self.n, value.shape[0]
        mu, sigma = dist.mu, dist.sigma
        mu_col = mu if isinstance(mu, np.ndarray) and mu.ndim == 2 else None
        sigma_col = sigma if isinstance(sigma, np.ndarray) and sigma.ndim == 2 else None
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            block = work[: stop - start]
            np.subtract(value, mu_col[start:stop] if mu_col is not None else mu, out=block)
            if sigma_col is not None:
                np.divide(block, sigma_col[start:stop], out=block)
            else:
                block /= sigma
            np.square(block, out=block)
            np.sum(block, axis=1, out=out[start:stop])
        out *= -0.5
        if sigma_col is not None:
            log_sigma = self._buffer((n,))
            np.log(sigma_col[:, 0], out=log_sigma)
            log_sigma += _HALF_LOG_2PI
            log_sigma *= m
            out -= log_sigma
            if self.pool is not None:
                self.pool.put_buffer(log_sigma)
        else:
            out -= m * (math.log(sigma) + _HALF_LOG_2PI)

    def _generic_rows(self, dist: Distribution, value: np.ndarray, out: np.ndarray, rows: int):
        n = self.n
        names = list(dist.params)
        kind = type(dist)
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            part = {
                k: (v[start:stop] if isinstance(v, np.ndarray) and v.ndim == 2 else v)
                for k, v in dist.params.items()
            }
            sub = kind(*(part[k] for k in names))
            np.sum(np.asarray(sub.log_prob(value)).reshape(stop - start, -1), axis=1,
                   out=out[start:stop])


class BatchedPriorHandler(_BatchedHandler):
    """Run a model once for ``n`` particles, drawing every latent site from its prior.

    Parameters
    ----------
    rng
        The source of randomness.
    n
        The number of particles, >= 1.
    dtype
        ``np.float64`` (default) or ``np.float32`` for draws, log-densities and
        log weights.
    pool
        A :class:`~fugue_lab.runtime.pool.TracePool` that supplies the trace and
        its array buffers; observations are then scored in cache-sized blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, run, sample
    >>> x, trace = run(BatchedPriorHandler(np.random.default_rng(0), 4), sample, "x",
    ...                Normal(0.0, 1.0))
    >>> x.shape, trace.log_prior.shape
    ((4, 1), (4,))
    """

    def __init__(
        self, rng: np.random.Generator, n: int, dtype: DTypeLike = np.float64, pool: Any = None
    ) -> None:
        if rng is None:
            raise TypeError("BatchedPriorHandler needs rng, a numpy.random.Generator")
        super().__init__(rng, n, dtype, pool)

    def _site_values(self, address, dist, shape, stored):
        return self._draw(dist, shape, stored)


def _given(
    handler: _BatchedHandler, address: str, values: Mapping[str, Any], stored: tuple[int, ...]
) -> np.ndarray:
    """The caller's values for a site, copied into a buffer the run owns.

    The copy matters with a pool: the trace's arrays go back to the pool with
    ``put(trace, recycle_arrays=True)`` and are overwritten by later runs, which
    must never happen to the caller's own array.
    """
    array = np.asarray(values[address])
    if array.shape != stored:
        raise UnbatchableModelError(
            f"site {address!r}: the given values have shape {array.shape}, expected {stored}"
        )
    buffer = handler._buffer(stored, array.dtype)
    buffer[...] = array
    return buffer


class BatchedReplayHandler(_BatchedHandler):
    """Reuse per-particle values (``{address: array}``) where given; draw the rest.

    Values are arrays of shape ``(n,)`` (``(n, m)`` inside a plate).  Used by
    lockstep MCMC chains and batched SMC rejuvenation.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, run, sample
    >>> h = BatchedReplayHandler(np.random.default_rng(0), 3, {"x": np.array([0.0, 1.0, 2.0])})
    >>> x, trace = run(h, sample, "x", Normal(0.0, 1.0))
    >>> x[:, 0]
    BatchedValue([0., 1., 2.])
    """

    def __init__(
        self,
        rng: np.random.Generator,
        n: int,
        values: Mapping[str, Any],
        dtype: DTypeLike = np.float64,
        pool: Any = None,
    ) -> None:
        super().__init__(rng, n, dtype, pool)
        self.values = values

    def _site_values(self, address, dist, shape, stored):
        if address in self.values:
            return _given(self, address, self.values, stored)
        return self._draw(dist, shape, stored)


class BatchedScoreHandler(_BatchedHandler):
    """Score per-particle values (``{address: array}``); a missing address is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, run, sample
    >>> _, t = run(BatchedScoreHandler(2, {"x": np.array([0.0, 1.0])}), sample, "x",
    ...            Normal(0.0, 1.0))
    >>> np.round(t.log_prior, 4)
    array([-0.9189, -1.4189])
    """

    def __init__(
        self, n: int, values: Mapping[str, Any], dtype: DTypeLike = np.float64, pool: Any = None
    ) -> None:
        super().__init__(None, n, dtype, pool)
        self.values = values

    def _site_values(self, address, dist, shape, stored):
        if address not in self.values:
            raise MissingAddressError(address, self.values)
        return _given(self, address, self.values, stored)
