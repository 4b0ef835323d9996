"""Vectorized inference: many particles or chains per model execution.

These are the batched counterparts of :mod:`~fugue_lab.inference.importance`,
:mod:`~fugue_lab.inference.mh` and :mod:`~fugue_lab.inference.smc`.  Each
executes the model once for a whole population under the batched handlers of
:mod:`fugue_lab.runtime.batched`, so the per-site Python overhead is paid once
per population instead of once per particle.  Models must run batched (NumPy
arithmetic, no Python branches on sampled values, at most one plate level);
one that cannot fails with :class:`~fugue_lab.errors.UnbatchableModelError`.

The public entry points route here: ``importance_sampling(..., batched=True)``,
``mh_chains(..., vectorized=True)`` and ``smc(..., batched=True)``.

Lockstep chains
---------------
:class:`LockstepMH` advances ``C`` independent chains together: each
iteration picks one site (one element of a plate site) uniformly at random,
proposes a new value for it in every chain, scores all chains in one batched
execution and accepts or rejects per chain.  The site choice is shared, but it
is independent of the chains' states, so each chain is still a valid
single-site Metropolis-Hastings chain.  Proposals by support kind: real ->
Gaussian random walk; positive -> random walk on the log scale (with its
Jacobian); interval -> random walk reflected at the bounds; boolean -> flip;
integer -> +-1 step; categorical -> uniform over the categories.  Random-walk
scales adapt per chain and site toward acceptance 0.44 during warm-up
(Robbins-Monro, step ``t**-0.6``) and are frozen afterwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from fugue_lab.core.distributions import Distribution
from fugue_lab.core.numerical import log_sum_exp, normalize_log_probs
from fugue_lab.core.validation import check_count
from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError
from fugue_lab.inference.resampling import resample
from fugue_lab.inference.results import ImportanceResult, MCMCResult, SMCResult
from fugue_lab.runtime.batched import (
    BatchedPriorHandler,
    BatchedScoreHandler,
)
from fugue_lab.runtime.handlers import run
from fugue_lab.runtime.trace import Trace

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "LockstepInfo",
    "LockstepMH",
    "LockstepState",
    "batched_importance",
    "batched_smc",
    "lockstep_mh_chains",
]

#: Particles per batched execution when no chunk size is given: large enough to amortise
#: the per-site overhead, small enough that a 100-observation plate block stays ~13 MB.
DEFAULT_CHUNK_SIZE = 16_384

TARGET_ACCEPTANCE = 0.44
_ADAPT_EXPONENT = 0.6




# ---------------------------------------------------------------------------------------------
# Importance sampling
# ---------------------------------------------------------------------------------------------


def batched_importance(
    model: Callable[..., Any],
    n: int,
    *,
    rng: np.random.Generator,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    chunk_size: int | None = None,
    pool: Any = None,
    dtype: DTypeLike = np.float64,
) -> ImportanceResult:
    """Likelihood-weighted importance sampling with batched executions of ``chunk_size``.

    Memory is bounded by the chunk: only the per-particle values and weights of
    all ``n`` particles are kept (``8 * n`` bytes per scalar site, plus the log
    weights), never a whole ``(n, m)`` likelihood block.  The chunks draw in
    turn from ``rng``, so the same seed gives the same particles for the same
    ``chunk_size`` and dtype (changing either changes the draws, not their
    distribution).

    Parameters
    ----------
    model, n, rng, args, kwargs
        As for :func:`~fugue_lab.inference.importance.importance_sampling`.
    chunk_size
        Particles per batched execution (default :data:`DEFAULT_CHUNK_SIZE`).
    pool
        A :class:`~fugue_lab.runtime.pool.TracePool` whose buffers every chunk
        reuses (scoring then runs in cache-sized blocks).
    dtype
        ``np.float64`` or ``np.float32`` for the executions; the returned log
        weights are float64 either way.

    Returns
    -------
    ImportanceResult

    Examples
    --------
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     observe("y", Normal(mu, 1.0), 1.0)
    >>> r = batched_importance(model, 100_000, rng=np.random.default_rng(0))
    >>> round(r.mean("mu"), 2)
    0.5
    """
    n = check_count("importance_sampling", "n", n, 1)
    chunk = DEFAULT_CHUNK_SIZE if chunk_size is None else check_count(
        "importance_sampling", "chunk_size", chunk_size, 1
    )
    kwargs = dict(kwargs or {})
    started = time.perf_counter()
    log_weights = np.empty(n)
    values: dict[str, np.ndarray] = {}
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        handler = BatchedPriorHandler(rng, stop - start, dtype=dtype, pool=pool)
        _, trace = run(handler, model, *args, **kwargs)
        np.add(trace.log_likelihood, trace.log_factors, out=log_weights[start:stop])
        for address, choice in trace.choices.items():
            column = values.get(address)
            if column is None:
                column = values[address] = np.empty((n, *choice.value.shape[1:]),
                                                    choice.value.dtype)
            column[start:stop] = choice.value
        if pool is not None:
            pool.put(trace, recycle_arrays=True)
    return ImportanceResult(log_weights, values, elapsed_s=time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# Lockstep Metropolis-Hastings
# ---------------------------------------------------------------------------------------------


class _SiteInfo(NamedTuple):
    """What a proposal needs to know about a latent site (fixed for a batched model)."""

    address: str
    kind: str
    low: float
    high: float
    width: int  # 1 for a site outside plates, m inside plate(m)
    is_column: bool  # stored as (C, m) rather than (C,)


class LockstepState(NamedTuple):
    """The state of ``C`` lockstep chains.

    Attributes
    ----------
    values
        Address -> array ``(C,)`` (``(C, m)`` for a plate site).
    log_prior, log_likelihood, log_factors
        Per-chain log weights, shape ``(C,)``.
    log_scales
        Address -> per-chain (and per-element) log random-walk scale.
    updates
        Address -> how often each element was updated during warm-up (adaptation clock).
    """

    values: dict[str, np.ndarray]
    log_prior: np.ndarray
    log_likelihood: np.ndarray
    log_factors: np.ndarray
    log_scales: dict[str, np.ndarray]
    updates: dict[str, np.ndarray]


class LockstepInfo(NamedTuple):
    """What one lockstep iteration did: the site (and element), acceptance per chain."""

    site: str
    element: int
    accepted: np.ndarray
    acceptance_prob: np.ndarray


class _RecordingScore(BatchedScoreHandler):
    """Scores given values and remembers each site's distribution (for the support)."""

    def __init__(self, n: int, values: Mapping[str, Any], dtype: DTypeLike) -> None:
        super().__init__(n, values, dtype)
        self.dists: dict[str, Distribution] = {}

    def on_sample(self, address: str, dist: Distribution):
        self.dists[address] = dist
        return super().on_sample(address, dist)


def _scalar_bound(bound: Any) -> float:
    """A bound that is the same in every state (a number), else NaN (no reflection).

    An array bound comes from parameters that depend on other sites: even when
    the chains happen to share it now, it moves with them, so reflecting at it
    would confine the chain to the initial bound.
    """
    if isinstance(bound, np.ndarray):
        return float(bound) if bound.ndim == 0 else math.nan
    return float(bound)


def _reflect(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Fold ``x`` into ``[low, high]`` by reflection at the bounds (a symmetric move)."""
    width = high - low
    y = np.mod(x - low, 2.0 * width)
    return low + np.where(y > width, 2.0 * width - y, y)


class LockstepMH:
    """Single-site MH for ``n_chains`` chains in lockstep (see the module docstring).

    Parameters
    ----------
    model
        A model that runs batched.
    n_chains
        The number of chains, >= 1.
    args, kwargs
        Passed to the model.
    temperature
        Targets ``prior * likelihood**temperature`` (1 for the posterior).
    dtype
        Floating type of the executions.

    Examples
    --------
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     observe("y", Normal(mu, 1.0), 1.0)
    >>> kernel = LockstepMH(model, 8)
    >>> rng = np.random.default_rng(0)
    >>> state = kernel.init(rng)
    >>> state, info = kernel.step(rng, state)
    >>> info.site, info.accepted.shape
    ('mu', (8,))
    """

    def __init__(
        self,
        model: Callable[..., Any],
        n_chains: int,
        *,
        args: tuple = (),
        kwargs: Mapping[str, Any] | None = None,
        temperature: float = 1.0,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.model = model
        self.n_chains = check_count("mh_chains", "n_chains", n_chains, 1)
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.temperature = float(temperature)
        self.dtype = np.dtype(dtype)
        self.sites: list[_SiteInfo] = []
        self._elements: list[tuple[int, int]] = []  # (site index, element) pairs

    # -- execution -------------------------------------------------------------------------
    def _score(self, values: Mapping[str, np.ndarray]) -> tuple[Trace, dict[str, Distribution]]:
        handler = _RecordingScore(self.n_chains, values, self.dtype)
        _, trace = run(handler, self.model, *self.args, **self.kwargs)
        if list(trace.choices) != list(values):
            extra = sorted(set(trace.choices) ^ set(values))
            raise InvalidParameterError(
                "mh_chains", "model", self.model, f"a fixed set of latent sites (changed: {extra})"
            )
        return trace, handler.dists

    def _target(self, log_prior, log_likelihood, log_factors) -> np.ndarray:
        """``log_prior + temperature * (log_likelihood + log_factors)``, per chain.

        Factors are tempered with the observations, as in the scalar SMC; at
        temperature 0 the target is the prior alone (``0 * -inf`` is taken as 0).
        """
        if self.temperature == 0.0:
            return np.asarray(log_prior, dtype=np.float64).copy()
        with np.errstate(invalid="ignore"):
            weight = log_likelihood + log_factors
            if self.temperature != 1.0:
                weight = self.temperature * weight
            return log_prior + weight

    def init(self, rng: np.random.Generator, values: Mapping[str, Any] | None = None):
        """Start every chain from a prior draw (or from ``values``) with unit scales."""
        if values is None:
            handler = BatchedPriorHandler(rng, self.n_chains, dtype=self.dtype)
            _, trace = run(handler, self.model, *self.args, **self.kwargs)
            values = {a: c.value for a, c in trace.choices.items()}
        trace, dists = self._score(dict(values))
        self.sites = []
        self._elements = []
        for index, (address, choice) in enumerate(trace.choices.items()):
            dist = dists[address]
            support = dist.support
            is_column = choice.value.ndim == 2
            width = choice.value.shape[1] if is_column else 1
            self.sites.append(
                _SiteInfo(address, support.kind, _scalar_bound(support.low),
                          _scalar_bound(support.high), width, is_column)
            )
            self._elements.extend((index, j) for j in range(width))
        if not self._elements:
            raise InvalidParameterError(
                "mh_chains", "model", self.model, "at least one latent site"
            )
        shape_of = {s.address: (self.n_chains, s.width) for s in self.sites}
        return LockstepState(
            values={a: np.array(c.value) for a, c in trace.choices.items()},
            log_prior=np.array(trace.log_prior, dtype=np.float64),
            log_likelihood=np.array(trace.log_likelihood, dtype=np.float64),
            log_factors=np.array(trace.log_factors, dtype=np.float64),
            log_scales={a: np.zeros(shape) for a, shape in shape_of.items()},
            updates={a: np.zeros(shape[1], dtype=np.int64) for a, shape in shape_of.items()},
        )

    # -- proposals -------------------------------------------------------------------------
    def _propose(
        self, rng: np.random.Generator, site: _SiteInfo, current: np.ndarray, scale: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """New values for one element in every chain, and the log proposal-density ratio."""
        c = self.n_chains
        zero = np.zeros(c)
        kind = site.kind
        if kind == "real":
            return current + scale * rng.standard_normal(c), zero
        if kind == "positive":
            with np.errstate(divide="ignore", invalid="ignore"):
                step = scale * rng.standard_normal(c)
                proposed = current * np.exp(step)
            return proposed, step  # log q(x | x') - log q(x' | x) = log x' - log x
        if kind == "interval":
            proposed = current + scale * rng.standard_normal(c)
            if math.isfinite(site.low) and math.isfinite(site.high):
                proposed = _reflect(proposed, site.low, site.high)
            return proposed, zero  # out-of-support proposals score -inf and are rejected
        if kind == "boolean":
            return ~current.astype(bool), zero
        if kind == "integer":
            step = np.where(rng.random(c) < 0.5, -1, 1)
            return current + step, zero
        if kind == "categorical":
            k = int(site.high) + 1
            return rng.integers(0, k, size=c), zero
        raise InvalidParameterError("mh_chains", "support kind", kind, "a known kind")

    def step(
        self, rng: np.random.Generator, state: LockstepState, adapt: bool = False
    ) -> tuple[LockstepState, LockstepInfo]:
        """One lockstep iteration: pick a site element, propose in every chain, accept per chain.

        Parameters
        ----------
        rng
            The source of randomness.
        state
            The chains' current state.
        adapt
            Adapt the random-walk scales (warm-up only: adaptation must stop for
            the kept draws to be a valid MH chain).
        """
        site_index, element = self._elements[int(rng.integers(len(self._elements)))]
        return self.step_at(rng, state, site_index, element, adapt)

    def step_at(
        self,
        rng: np.random.Generator,
        state: LockstepState,
        site_index: int,
        element: int,
        adapt: bool = False,
    ) -> tuple[LockstepState, LockstepInfo]:
        """Update element ``element`` of site number ``site_index`` in every chain."""
        site = self.sites[site_index]
        address = site.address
        values = state.values[address]
        current = values[:, element] if site.is_column else values
        log_scale = state.log_scales[address][:, element]
        proposed, log_q = self._propose(rng, site, current, np.exp(log_scale))
        if site.is_column:
            new_column = values.copy()
            new_column[:, element] = proposed
        else:
            new_column = proposed.astype(values.dtype, copy=False)
        candidate = dict(state.values)
        candidate[address] = new_column
        trace, _ = self._score(candidate)
        old = self._target(state.log_prior, state.log_likelihood, state.log_factors)
        new = self._target(trace.log_prior, trace.log_likelihood, trace.log_factors)
        with np.errstate(invalid="ignore", over="ignore"):
            log_alpha = np.where(np.isnan(new), -math.inf, new - old + log_q)
            log_alpha = np.where(np.isnan(log_alpha), -math.inf, log_alpha)
        accepted = np.log(rng.random(self.n_chains)) < log_alpha
        acceptance_prob = np.exp(np.minimum(log_alpha, 0.0))

        next_values = dict(state.values)
        next_values[address] = np.where(
            accepted[:, None] if site.is_column else accepted, new_column, values
        )
        log_scales, updates = state.log_scales, state.updates
        if adapt and site.kind in ("real", "positive", "interval"):
            count = state.updates[address][element] + 1
            gamma = count ** -_ADAPT_EXPONENT
            log_scales = dict(log_scales)
            scales = log_scales[address].copy()
            scales[:, element] += gamma * (acceptance_prob - TARGET_ACCEPTANCE)
            log_scales[address] = scales
            updates = dict(updates)
            counts = updates[address].copy()
            counts[element] = count
            updates[address] = counts
        next_state = LockstepState(
            next_values,
            np.where(accepted, trace.log_prior, state.log_prior),
            np.where(accepted, trace.log_likelihood, state.log_likelihood),
            np.where(accepted, trace.log_factors, state.log_factors),
            log_scales,
            updates,
        )
        return next_state, LockstepInfo(address, element, accepted, acceptance_prob)


def lockstep_mh_chains(
    model: Callable[..., Any],
    n_chains: int,
    n_samples: int,
    n_warmup: int,
    *,
    rng: np.random.Generator,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    dtype: DTypeLike = np.float64,
) -> MCMCResult:
    """Run ``n_chains`` single-site MH chains in lockstep (see :class:`LockstepMH`).

    Returns
    -------
    MCMCResult
        Draws with axes ``(chain, draw)``; ``sample_stats`` holds ``lp``,
        ``accepted``, ``acceptance_prob`` and ``site``; ``step_sizes`` holds the
        per-chain random-walk scales after warm-up (the mean over a plate site's
        elements).  The chains run together, so each chain's ``warmup_time_s`` and
        ``sampling_time_s`` is the shared wall-clock time.

    Examples
    --------
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     observe("y", Normal(mu, 1.0), 1.0)
    >>> r = lockstep_mh_chains(model, 16, 500, 200, rng=np.random.default_rng(1))
    >>> r.values["mu"].shape
    (16, 500)
    """
    n_samples = check_count("mh_chains", "n_samples", n_samples, 1)
    n_warmup = check_count("mh_chains", "n_warmup", n_warmup, 0)
    kernel = LockstepMH(model, n_chains, args=args, kwargs=kwargs, dtype=dtype)
    started = time.perf_counter()
    state = kernel.init(rng)
    for _ in range(n_warmup):
        state, _ = kernel.step(rng, state, adapt=True)
    warmup_s = time.perf_counter() - started

    c = kernel.n_chains
    draws = {a: np.empty((c, n_samples, *v.shape[1:]), v.dtype) for a, v in state.values.items()}
    lp = np.empty((c, n_samples))
    accepted = np.empty((c, n_samples), dtype=bool)
    acceptance_prob = np.empty((c, n_samples))
    sites = np.empty((c, n_samples), dtype=object)
    proposed = {a: np.zeros(c) for a in state.values}
    taken = {a: np.zeros(c) for a in state.values}
    started = time.perf_counter()
    for t in range(n_samples):
        state, info = kernel.step(rng, state)
        for address, value in state.values.items():
            draws[address][:, t] = value
        lp[:, t] = kernel._target(state.log_prior, state.log_likelihood, state.log_factors)
        accepted[:, t] = info.accepted
        acceptance_prob[:, t] = info.acceptance_prob
        sites[:, t] = info.site
        proposed[info.site] += 1
        taken[info.site] += info.accepted
    sampling_s = time.perf_counter() - started
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = {a: np.where(proposed[a] > 0, taken[a] / proposed[a], np.nan) for a in proposed}
    step_sizes = {
        site.address: (
            np.exp(state.log_scales[site.address]).mean(axis=1)
            if site.kind in ("real", "positive", "interval")
            else np.full(c, np.nan)
        )
        for site in kernel.sites
    }
    return MCMCResult(
        draws,
        {"lp": lp, "accepted": accepted, "acceptance_prob": acceptance_prob,
         "site": sites.astype(str)},
        acceptance_rates=rates,
        step_sizes=step_sizes,
        warmup_time_s=np.full(c, warmup_s),
        sampling_time_s=np.full(c, sampling_s),
        n_warmup=n_warmup,
    )


# ---------------------------------------------------------------------------------------------
# Tempered SMC
# ---------------------------------------------------------------------------------------------


def _ess_of(log_w: np.ndarray) -> float:
    w = np.exp(normalize_log_probs(log_w))
    return float(1.0 / np.sum(w * w))


def _next_temperature(
    log_w: np.ndarray, log_lik: np.ndarray, beta: float, target: float
) -> float:
    """The largest next temperature whose reweighted ESS stays at ``target`` (bisection)."""

    def ess_at(b: float) -> float:
        with np.errstate(invalid="ignore"):
            inc = np.where(np.isneginf(log_lik), -math.inf, (b - beta) * log_lik)
        return _ess_of(log_w + inc)

    if ess_at(1.0) >= target:
        return 1.0
    low, high = beta, 1.0
    for _ in range(60):
        mid = 0.5 * (low + high)
        if ess_at(mid) >= target:
            low = mid
        else:
            high = mid
    return max(low, beta + 1e-12)


def batched_smc(
    model: Callable[..., Any],
    n_particles: int,
    *,
    rng: np.random.Generator,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    resampling: str = "systematic",
    ess_threshold: float = 0.5,
    rejuvenation_steps: int = 3,
    max_steps: int = 10_000,
    dtype: DTypeLike = np.float64,
) -> SMCResult:
    """Tempered SMC with the particle population executed as one batch.

    The algorithm is that of :func:`~fugue_lab.inference.smc.smc` (adaptive
    likelihood tempering by bisection on the ESS, resampling at the threshold,
    an unbiased evidence estimate with the prior counted once), and each
    rejuvenation step is a full sweep: every latent site element of every
    particle is proposed once, in lockstep over the particles, targeting
    ``prior * likelihood**beta`` with random-walk scales set to the particle
    population's spread.

    Examples
    --------
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     observe("y", Normal(mu, 0.5), 1.0)
    >>> r = batched_smc(model, 512, rng=np.random.default_rng(0))
    >>> exact = -0.5 * np.log(2 * np.pi * 1.25) - 0.5 / 1.25
    >>> bool(abs(r.log_evidence - exact) < 0.05)
    True
    """
    n = check_count("smc", "n_particles", n_particles, 1)
    started = time.perf_counter()
    kernel = LockstepMH(model, n, args=args, kwargs=kwargs, temperature=0.0, dtype=dtype)
    state = kernel.init(rng)
    n_initial_nonfinite = int((~np.isfinite(_tempered_part(state))).sum())
    if n_initial_nonfinite == n:
        raise DegenerateWeightsError(
            f"smc: every one of the {n} initial particles has likelihood -inf or NaN: the "
            "observations are impossible under the prior draws"
        )
    log_w = np.full(n, -math.log(n))
    beta = 0.0
    temperatures, ess_history, resampled, acceptance, increments = [0.0], [], [], [], []
    target = ess_threshold * n if ess_threshold < 1.0 else n - 1.0
    for _ in range(max_steps):
        if beta >= 1.0:
            break
        log_lik = _tempered_part(state)
        new_beta = _next_temperature(log_w, log_lik, beta, target)
        with np.errstate(invalid="ignore"):
            inc = np.where(np.isneginf(log_lik), -math.inf, (new_beta - beta) * log_lik)
        increment = log_sum_exp(log_w + inc)
        increments.append(float(increment))
        log_w = normalize_log_probs(log_w + inc)
        beta = new_beta
        temperatures.append(beta)
        ess = _ess_of(log_w)
        ess_history.append(ess)
        did_resample = ess <= target * (1.0 + 1e-9)
        if did_resample:
            idx = resample(resampling, rng, np.exp(log_w), n)
            state = _take(state, idx)
            log_w = np.full(n, -math.log(n))
        resampled.append(bool(did_resample))
        kernel.temperature = beta
        rates = []
        for _ in range(rejuvenation_steps):
            state, rate = _sweep(kernel, rng, state)
            rates.append(rate)
        acceptance.append(float(np.mean(rates)) if rates else math.nan)
    else:
        raise InvalidParameterError("smc", "max_steps", max_steps, "enough steps to reach beta = 1")
    return SMCResult(
        log_w,
        {a: v for a, v in state.values.items()},
        log_evidence=float(np.sum(increments)),
        temperatures=np.array(temperatures),
        ess_history=np.array(ess_history),
        resampled=np.array(resampled),
        acceptance_rates=np.array(acceptance),
        log_evidence_increments=np.array(increments),
        n_initial_nonfinite=n_initial_nonfinite,
        elapsed_s=time.perf_counter() - started,
    )


def _tempered_part(state: LockstepState) -> np.ndarray:
    """What tempering raises to the power beta: observations and factors (NaN as -inf)."""
    with np.errstate(invalid="ignore"):
        part = state.log_likelihood + state.log_factors
    return np.where(np.isnan(part), -math.inf, part)


def _take(state: LockstepState, idx: np.ndarray) -> LockstepState:
    return LockstepState(
        {a: v[idx] for a, v in state.values.items()},
        state.log_prior[idx],
        state.log_likelihood[idx],
        state.log_factors[idx],
        {a: v[idx] for a, v in state.log_scales.items()},
        state.updates,
    )


def _population_scales(kernel: LockstepMH, state: LockstepState) -> dict[str, np.ndarray]:
    """Per-site log random-walk scales from the particles' spread (log scale for positive)."""
    scales = {}
    for site in kernel.sites:
        values = np.asarray(state.values[site.address], dtype=np.float64)
        values = values if site.is_column else values[:, None]
        if site.kind == "positive":
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.log(values)
        with np.errstate(invalid="ignore"):
            sd = np.nanstd(np.where(np.isfinite(values), values, np.nan), axis=0)
        sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
        scales[site.address] = np.broadcast_to(np.log(sd), values.shape).copy()
    return scales


def _sweep(kernel: LockstepMH, rng: np.random.Generator, state: LockstepState):
    """Propose every site element once (in random order) for all particles."""
    state = state._replace(log_scales=_population_scales(kernel, state))
    elements = kernel._elements
    accepted = 0.0
    for k in rng.permutation(len(elements)):
        state, info = kernel.step_at(rng, state, *elements[k])
        accepted += float(info.accepted.mean())
    return state, accepted / max(1, len(elements))
