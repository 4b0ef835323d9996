"""Sequential Monte Carlo with adaptive likelihood tempering and MH rejuvenation.

The particles move through the targets ``π_β ∝ prior × likelihood^β`` for a
schedule ``0 = β_0 < β_1 < ... < β_T = 1``:

1. Start with ``N`` prior draws, equally weighted.
2. Choose the next temperature by bisection, so that the effective sample
   size of the reweighted particles, ``W_i ∝ W_i^{prev} L_i^{β' - β}``, is
   ``ess_threshold * N`` (or jump straight to 1 if the ESS stays above it).
3. Add ``log sum_i W_i^{prev} L_i^{β' - β}`` to the log evidence.  The prior
   is counted once, by the initial draws; each step adds only the likelihood
   increment, so the estimate is unbiased for a fixed schedule (Del Moral,
   Doucet and Jasra 2006).
4. Resample (systematic, stratified, multinomial or residual) when the ESS
   fell to the threshold.
5. Rejuvenate: ``rejuvenation_steps`` full single-site MH sweeps targeting
   ``π_β'``: every latent site of every particle is proposed once per sweep.
   The random-walk scales are set, per site, to the standard deviation of the
   particle population (in log space for positive sites).

A step is one tempering step: ``TemperedSMC.init(rng, n) -> SMCState`` and the
pure ``TemperedSMC.step(rng, state) -> (SMCState, SMCInfo)``; :func:`smc` runs
them until the temperature reaches 1.

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Normal, observe, sample
>>> def model():
...     mu = sample("mu", Normal(0.0, 1.0))
...     observe("y", Normal(mu, 0.5), 1.0)
>>> r = smc(model, 200, rng=np.random.default_rng(0))
>>> exact = -0.5 * np.log(2 * np.pi * 1.25) - 0.5 / 1.25   # y ~ N(0, sqrt(1.25))
>>> bool(abs(r.log_evidence - exact) < 0.1), float(r.temperatures[-1])
(True, 1.0)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from immutables import Map

from fugue_lab.core.numerical import log_sum_exp, normalize_log_probs
from fugue_lab.core.validation import check_rng
from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError
from fugue_lab.inference.mh import TARGET_ACCEPTANCE, MHState, SingleSiteMH, _values_of
from fugue_lab.inference.proposals import (
    LogRandomWalk,
    Proposal,
    RandomWalk,
    ReflectiveRandomWalk,
    SiteState,
)
from fugue_lab.inference.resampling import RESAMPLING_METHODS, resample
from fugue_lab.inference.results import SMCResult, stack_values
from fugue_lab.runtime.handlers import PriorHandler, run

__all__ = ["SMCConfig", "SMCInfo", "SMCState", "TemperedSMC", "smc"]

_NEG_INF = -math.inf
#: Bisection iterations for the next temperature (resolution 2**-60 of the remaining range).
_BISECTION_STEPS = 60


@dataclass(frozen=True)
class SMCConfig:
    """Settings of :func:`smc`.

    Parameters
    ----------
    resampling
        ``"systematic"``, ``"stratified"``, ``"multinomial"`` or ``"residual"``.
    ess_threshold
        In (0, 1]: the next temperature is chosen so that the ESS is
        ``ess_threshold * N``, and the particles are resampled when it falls there.
        (At 1 the target is ``N - 1``, since an ESS of exactly ``N`` would
        allow no progress.)
    rejuvenation_steps
        Full MH sweeps per tempering step, >= 0.
    max_steps
        The most tempering steps before giving up (a safeguard), >= 1.

    Raises
    ------
    InvalidParameterError
        For a value out of range or an unknown resampling scheme.

    Examples
    --------
    >>> SMCConfig(resampling="residual", ess_threshold=0.7).rejuvenation_steps
    3
    >>> SMCConfig(ess_threshold=1.5)
    Traceback (most recent call last):
    ...
    fugue_lab.errors.InvalidParameterError: SMCConfig: ess_threshold must be in (0, 1], got 1.5
    """

    resampling: str = "systematic"
    ess_threshold: float = 0.5
    rejuvenation_steps: int = 3
    max_steps: int = 10_000

    def __post_init__(self) -> None:
        if not isinstance(self.resampling, str) or self.resampling not in RESAMPLING_METHODS:
            raise InvalidParameterError(
                "SMCConfig", "resampling", self.resampling, f"one of {sorted(RESAMPLING_METHODS)}"
            )
        t = self.ess_threshold
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer,
                                                                 np.floating)):
            raise TypeError(f"SMCConfig: ess_threshold must be a real number, got {t!r}")
        if not 0.0 < t <= 1.0:
            raise InvalidParameterError("SMCConfig", "ess_threshold", t, "in (0, 1]")
        for name, low in (("rejuvenation_steps", 0), ("max_steps", 1)):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"SMCConfig: {name} must be an int, got {v!r}")
            if v < low:
                raise InvalidParameterError("SMCConfig", name, v, f">= {low}")


class SMCState(NamedTuple):
    """The particle population between tempering steps.

    Attributes
    ----------
    particles
        One :class:`~fugue_lab.inference.mh.MHState` per particle (their
        ``temperature`` is the current one).
    log_weights
        Normalised log weights (they log-sum-exp to 0).
    temperature
        The current temperature β.
    log_evidence
        The running log-evidence estimate (the sum of the increments so far).
    scale_factors
        Address -> the multiplier of the population standard deviation that
        gives that site's random-walk scale; tuned from step to step toward
        acceptance 0.44.
    """

    particles: tuple[MHState, ...]
    log_weights: np.ndarray
    temperature: float
    log_evidence: float
    scale_factors: Map = Map()


class SMCInfo(NamedTuple):
    """What one tempering step did.

    Attributes
    ----------
    temperature
        The new temperature.
    ess
        Kish's ESS after reweighting (before resampling).
    resampled
        Whether the particles were resampled.
    acceptance_rate
        The fraction of accepted MH moves in the rejuvenation (NaN without moves).
    log_evidence_increment
        ``log sum_i W_i L_i^{Δβ}``, this step's term of the log evidence.
    """

    temperature: float
    ess: float
    resampled: bool
    acceptance_rate: float
    log_evidence_increment: float


def _ess(log_w: np.ndarray) -> float:
    """Kish's ESS of unnormalised log weights (0 when every weight is 0)."""
    top = log_w.max()
    if top == _NEG_INF:
        return 0.0
    w = np.exp(log_w - top)
    return float(w.sum() ** 2 / (w * w).sum())


def _increment(delta: float, ll: np.ndarray) -> np.ndarray:
    """``delta * ll``, with ``-inf`` kept as ``-inf`` (and 0 for delta == 0)."""
    if delta == 0.0:
        return np.zeros_like(ll)
    return delta * ll


def _next_delta(log_w: np.ndarray, ll: np.ndarray, room: float, target: float) -> float:
    """The largest temperature increment in (0, room] whose ESS stays >= target (bisection)."""
    if _ess(log_w + _increment(room, ll)) >= target:
        return room
    lo, hi = 0.0, room
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _ess(log_w + _increment(mid, ll)) >= target:
            lo = mid
        else:
            hi = mid
    # lo keeps the ESS at or above the target; if even the smallest step falls below it
    # (particles of likelihood 0 drop out at any positive temperature), take hi.
    return lo if lo > 0.0 else hi


_SCALED_PROPOSALS = (LogRandomWalk, ReflectiveRandomWalk, RandomWalk)


class TemperedSMC:
    """Adaptive tempered SMC for one model: ``init(rng, n)`` and ``step(rng, state)``.

    Parameters
    ----------
    model
        The model function.
    args, kwargs
        Passed to the model.
    config
        An :class:`SMCConfig`.
    proposals
        Address -> proposal for the rejuvenation moves (defaults by support).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     observe("y", Normal(sample("mu", Normal(0.0, 1.0)), 1.0), 0.5)
    >>> algo = TemperedSMC(model)
    >>> rng = np.random.default_rng(0)
    >>> state = algo.init(rng, 100)
    >>> while state.temperature < 1.0:
    ...     state, info = algo.step(rng, state)
    >>> info.temperature
    1.0
    """

    def __init__(
        self,
        model: Callable[..., Any],
        *,
        args: tuple = (),
        kwargs: Mapping[str, Any] | None = None,
        config: SMCConfig | None = None,
        proposals: Mapping[str, Proposal] | None = None,
    ) -> None:
        if config is None:
            config = SMCConfig()
        if not isinstance(config, SMCConfig):
            raise TypeError(f"config must be an SMCConfig, got {type(config).__name__}")
        self.config = config
        self.kernel = SingleSiteMH(model, args=args, kwargs=kwargs, proposals=proposals)
        self.n_initial_nonfinite = 0

    def init(self, rng: np.random.Generator, n_particles: int) -> SMCState:
        """``n_particles`` prior draws at temperature 0, equally weighted.

        Raises
        ------
        DegenerateWeightsError
            If every particle has likelihood 0 (a log-likelihood of -inf or NaN).
        """
        if isinstance(n_particles, (bool, np.bool_)) or not isinstance(
            n_particles, (int, np.integer)
        ):
            raise TypeError(f"n_particles must be an int, got {n_particles!r}")
        if n_particles < 1:
            raise InvalidParameterError("smc", "n_particles", n_particles, ">= 1")
        kernel = self.kernel
        handler = PriorHandler(rng)
        particles = []
        for _ in range(n_particles):
            _, trace = run(handler, kernel.model, *kernel.args, **kernel.kwargs)
            particles.append(kernel.state_from_trace(trace, 0.0, adapting=False))
        ll = self._log_likelihoods(particles)
        finite = ll > _NEG_INF
        self.n_initial_nonfinite = int((~finite).sum())
        if not finite.any():
            raise DegenerateWeightsError(
                f"smc: every one of the {n_particles} initial particles has likelihood 0 (a "
                "log-likelihood of -inf or NaN): the observations or factors are impossible "
                "under every prior draw, so there is nothing to weight"
            )
        log_w = np.full(n_particles, -math.log(n_particles))
        return SMCState(tuple(particles), log_w, 0.0, 0.0, Map())

    @staticmethod
    def _log_likelihoods(particles: Any) -> np.ndarray:
        ll = np.fromiter((p.log_likelihood for p in particles), dtype=np.float64,
                         count=len(particles))
        ll[np.isnan(ll)] = _NEG_INF
        return ll

    def step(self, rng: np.random.Generator, state: SMCState) -> tuple[SMCState, SMCInfo]:
        """One tempering step: reweight to the next temperature, resample, rejuvenate.

        Raises
        ------
        DegenerateWeightsError
            If every particle has weight 0 after reweighting.
        """
        config = self.config
        particles = state.particles
        n = len(particles)
        beta = state.temperature
        if beta >= 1.0:
            raise InvalidParameterError("TemperedSMC.step", "state.temperature", beta, "< 1")
        ll = self._log_likelihoods(particles)
        log_w = state.log_weights
        target = min(config.ess_threshold * n, max(n - 1.0, 1.0))
        room = 1.0 - beta
        delta = _next_delta(log_w, ll, room, target)
        limited = delta < room
        new_beta = beta + delta if limited else 1.0
        unnorm = log_w + _increment(delta, ll)
        increment = float(log_sum_exp(unnorm))
        if not increment > _NEG_INF:
            raise DegenerateWeightsError(
                f"smc: every particle has weight 0 at temperature {new_beta:.6g}"
            )
        log_w = normalize_log_probs(unnorm)
        ess = float(1.0 / np.sum(np.exp(2.0 * log_w)))
        resampled = limited or ess < target
        if resampled:
            idx = resample(config.resampling, rng, np.exp(log_w), n)
            particles = tuple(particles[i] for i in idx)
            log_w = np.full(n, -math.log(n))
        particles, rate, factors = self._rejuvenate(
            rng, particles, log_w, new_beta, state.scale_factors
        )
        new_state = SMCState(particles, log_w, new_beta, state.log_evidence + increment, factors)
        return new_state, SMCInfo(new_beta, ess, resampled, rate, increment)

    def _scales(
        self,
        particles: tuple[MHState, ...],
        log_w: np.ndarray,
        addresses: list[str],
        factors: Map,
    ) -> dict[str, SiteState]:
        """Per-site random-walk scales: a factor times the population's standard deviation."""
        sites = dict(particles[0].sites)
        proposals = self.kernel.site_proposals
        w = np.exp(log_w)
        for a in addresses:
            proposal = proposals.get(a)
            if not isinstance(proposal, _SCALED_PROPOSALS):
                continue
            vals, ws = [], []
            for p, wi in zip(particles, w):
                choice = p.trace.choices.get(a)
                if choice is not None and type(choice[1]) is float:
                    vals.append(choice[1])
                    ws.append(wi)
            if len(vals) < 2:
                continue
            x = np.asarray(vals)
            if isinstance(proposal, LogRandomWalk):
                if (x <= 0.0).any():
                    continue
                x = np.log(x)
            wv = np.asarray(ws)
            wv = wv / wv.sum()
            m = float(wv @ x)
            sd = math.sqrt(max(float(wv @ (x - m) ** 2), 0.0))
            if math.isfinite(sd) and sd > 0.0:
                sites[a] = SiteState(sd * factors.get(a, 1.0), 0)
        return sites

    def _rejuvenate(
        self,
        rng: np.random.Generator,
        particles: tuple[MHState, ...],
        log_w: np.ndarray,
        temperature: float,
        factors: Map,
    ) -> tuple[tuple[MHState, ...], float, Map]:
        sweeps = self.config.rejuvenation_steps
        first = particles[0].addresses
        if all(p.addresses is first or p.addresses == first for p in particles):
            addresses = list(first)
        else:  # stochastic structure: every address any particle has, in first-seen order
            seen: dict[str, None] = {}
            for p in particles:
                seen.update(dict.fromkeys(p.addresses))
            addresses = list(seen)
        sites = Map(self._scales(particles, log_w, addresses, factors)) if sweeps else Map()
        step = self.kernel.step
        moved = []
        tried = dict.fromkeys(addresses, 0)
        accepted = dict.fromkeys(addresses, 0)
        for p, lw in zip(particles, log_w):
            p = p._replace(temperature=temperature, sites=sites, adapting=False)
            if lw == _NEG_INF:  # weight 0: moving it would change nothing
                moved.append(p)
                continue
            for _ in range(sweeps):
                for a in addresses:
                    if a in p.trace.choices:
                        p, info = step(rng, p, a)
                        tried[a] += 1
                        accepted[a] += info.accepted
            moved.append(p)
        n_moves = sum(tried.values())
        rate = sum(accepted.values()) / n_moves if n_moves else math.nan
        # Tune each random-walk site's factor toward acceptance 0.44 for the next step.
        with factors.mutate() as new_factors:
            for a, n in tried.items():
                if n and a in sites:
                    log_f = math.log(factors.get(a, 1.0)) + accepted[a] / n - TARGET_ACCEPTANCE
                    new_factors[a] = math.exp(min(max(log_f, -5.0), 5.0))
            factors = new_factors.finish()
        return tuple(moved), rate, factors


def smc(
    model: Callable[..., Any],
    n_particles: int,
    *,
    rng: np.random.Generator,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    config: SMCConfig | None = None,
    proposals: Mapping[str, Proposal] | None = None,
    keep_traces: bool = False,
    batched: bool = False,
    dtype: Any = None,
) -> SMCResult:
    """Tempered SMC from the prior (β = 0) to the posterior (β = 1).

    Parameters
    ----------
    model
        The model function.
    n_particles
        The number of particles, >= 1.
    rng
        The source of randomness.
    args, kwargs
        Passed to the model.
    config
        An :class:`SMCConfig` (default: systematic resampling, ESS threshold 0.5,
        3 rejuvenation sweeps).
    proposals
        Address -> proposal for the rejuvenation moves.
    keep_traces
        Keep the final particles' traces in ``result.traces`` (not with ``batched``).
    batched
        Execute the whole particle population at once with the batched handlers
        (:func:`fugue_lab.inference.vectorized.batched_smc`, the same algorithm);
        the model must run batched, and ``proposals`` is not supported.
    dtype
        ``np.float32`` runs the batched executions in single precision (only with
        ``batched=True``; the default is ``np.float64``).

    Returns
    -------
    SMCResult
        The final weighted particles, the log evidence, the temperature schedule,
        the ESS and acceptance history.

    Raises
    ------
    InvalidParameterError
        If ``n_particles < 1``, or the schedule needs more than ``config.max_steps`` steps.
    DegenerateWeightsError
        If every particle has weight -inf.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Bernoulli, Beta, observe, sample
    >>> def coin():
    ...     p = sample("p", Beta(1.0, 1.0))
    ...     for i in range(8):
    ...         observe(f"flip#{i}", Bernoulli(p), i < 6)
    >>> r = smc(coin, 300, rng=np.random.default_rng(2))
    >>> abs(r.mean("p") - 0.7) < 0.05          # Beta(7, 3)
    True
    """
    check_rng("smc", rng)
    if batched:
        return _batched(model, n_particles, rng, args, kwargs, config, proposals, keep_traces,
                        np.float64 if dtype is None else dtype)
    if dtype is not None:
        raise InvalidParameterError("smc", "dtype", dtype, "None unless batched=True")
    start = time.perf_counter()
    algo = TemperedSMC(model, args=args, kwargs=kwargs, config=config, proposals=proposals)
    state = algo.init(rng, n_particles)
    temperatures = [0.0]
    infos: list[SMCInfo] = []
    while state.temperature < 1.0:
        if len(infos) >= algo.config.max_steps:
            raise InvalidParameterError(
                "smc",
                "config.max_steps",
                algo.config.max_steps,
                f"larger: the temperature reached only {state.temperature:.6g}",
            )
        state, info = algo.step(rng, state)
        temperatures.append(info.temperature)
        infos.append(info)
    values, present = stack_values([_values_of(p) for p in state.particles])
    traces = [p.trace.to_trace() for p in state.particles] if keep_traces else None
    return SMCResult(
        state.log_weights,
        values,
        log_evidence=state.log_evidence,
        temperatures=np.asarray(temperatures),
        ess_history=np.asarray([i.ess for i in infos]),
        resampled=np.asarray([i.resampled for i in infos], dtype=bool),
        acceptance_rates=np.asarray([i.acceptance_rate for i in infos]),
        log_evidence_increments=np.asarray([i.log_evidence_increment for i in infos]),
        present=present,
        n_initial_nonfinite=algo.n_initial_nonfinite,
        traces=traces,
        elapsed_s=time.perf_counter() - start,
    )


def _batched(
    model: Callable[..., Any],
    n_particles: int,
    rng: np.random.Generator,
    args: tuple,
    kwargs: Mapping[str, Any] | None,
    config: SMCConfig | None,
    proposals: Mapping[str, Proposal] | None,
    keep_traces: bool,
    dtype: Any,
) -> SMCResult:
    """``smc(..., batched=True)``: the population as one batch (see ``vectorized.batched_smc``)."""
    for name, value, ok in (("proposals", proposals, proposals is None),
                            ("keep_traces", keep_traces, not keep_traces)):
        if not ok:
            raise InvalidParameterError(
                "smc", name, value, "left at its default with batched=True"
            )
    if config is None:
        config = SMCConfig()
    if not isinstance(config, SMCConfig):
        raise TypeError(f"config must be an SMCConfig, got {type(config).__name__}")
    from fugue_lab.inference.vectorized import batched_smc

    return batched_smc(
        model,
        n_particles,
        rng=rng,
        args=tuple(args),
        kwargs=kwargs,
        resampling=config.resampling,
        ess_threshold=config.ess_threshold,
        rejuvenation_steps=config.rejuvenation_steps,
        max_steps=config.max_steps,
        dtype=dtype,
    )
