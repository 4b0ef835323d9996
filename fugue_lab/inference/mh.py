"""Single-site Metropolis-Hastings (with optional Gibbs updates of finite discrete sites).

The kernel follows BlackJAX's shape: :class:`SingleSiteMH` builds a kernel for a
model, ``kernel.init(rng) -> MHState`` and ``kernel.step(rng, state) ->
(MHState, MHInfo)``, where ``step`` never changes its input state.
:func:`mh_chain` runs one chain and :func:`mh_chains` several (optionally on an
executor) and return an :class:`~fugue_lab.inference.results.MCMCResult`.

One step
--------
One latent site ``s`` is chosen uniformly among the current trace's sites.
Its proposal (chosen by the support of its distribution, see
:mod:`fugue_lab.inference.proposals`, or given per address) moves its value,
and the model is re-executed once with a handler that reuses the current
value of every other site.  Sites that the new run reaches but the current
trace lacks are drawn from their prior ("fresh"); sites of the current trace
the new run no longer reaches are dropped ("stale").  The proposal is
accepted with probability ``min(1, r)``,

.. math::

    \\log r = \\log \\pi(x') - \\log \\pi(x) + \\log q(x_s | x'_s) - \\log q(x'_s | x_s)
            + \\log |D(x)| - \\log |D(x')| + \\log p(\\text{stale}) - \\log p(\\text{fresh})

(Wingate, Stuhlmüller and Goodman 2011, "Lightweight implementations of
probabilistic programming languages via transformational compilation"),
where ``π = prior × likelihood^temperature``, ``|D|`` counts the latent
sites (the chance of choosing ``s`` is ``1/|D|``) and the last two terms are
the prior log-densities of the stale and fresh sites.  When a step is asked to
update a given address (an SMC sweep), the ``|D|`` term is left out: that
site is updated with probability 1 in both directions.

The new trace is a :class:`~fugue_lab.runtime.cow.CowTrace` clone of the
current one in which only the sites whose value or log-density changed are
written, so a rejected proposal costs one model execution and no copy.

Adaptation
----------
While ``state.adapting`` (warm-up), a random-walk site's scale follows the
Robbins-Monro recursion ``log s <- log s + n**-0.6 * (a - 0.44)`` with ``a``
the acceptance probability of the move and ``n`` the number of moves at that
site so far: a diminishing adaptation toward acceptance 0.44, the optimum for
a one-dimensional random walk.  After warm-up the scales are frozen, so the
kept draws come from a fixed, valid kernel.

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Normal, observe, sample
>>> def model():
...     mu = sample("mu", Normal(0.0, 1.0))
...     observe("y", Normal(mu, 1.0), 1.0)
>>> result = mh_chain(model, 2000, 500, rng=np.random.default_rng(1))
>>> abs(result.mean("mu") - 0.5) < 0.15     # exact posterior: N(0.5, 0.5)
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any, NamedTuple

import numpy as np
from immutables import Map

from fugue_lab.core.distributions import Distribution
from fugue_lab.core.primitives import _HANDLER as _ACTIVE_HANDLER
from fugue_lab.core.primitives import Handler
from fugue_lab.core.validation import check_count, check_rng
from fugue_lab.errors import (
    AddressConflictError,
    DegenerateWeightsError,
    InvalidParameterError,
    MissingAddressError,
)
from fugue_lab.inference._chunks import Seed, check_picklable, map_chunks, spawn_seeds
from fugue_lab.inference.gibbs import draw_conditional, finite_values
from fugue_lab.inference.proposals import _DEFAULTS, Proposal, SiteState, default_proposal
from fugue_lab.inference.results import _ABSENT, MCMCResult
from fugue_lab.runtime.cow import CowTrace
from fugue_lab.runtime.handlers import PriorHandler, ReplayHandler, run
from fugue_lab.runtime.trace import Trace

__all__ = [
    "MHInfo",
    "MHState",
    "SingleSiteMH",
    "mh_chain",
    "mh_chains",
]

_NEG_INF = -math.inf
_EMPTY_MAP: Map = Map()
#: Target acceptance rate of the adaptive random walks.
TARGET_ACCEPTANCE = 0.44
#: Exponent of the Robbins-Monro step size ``n ** -ADAPT_EXPONENT``.
ADAPT_EXPONENT = 0.6
_LOG_SCALE_BOUNDS = (math.log(1e-12), math.log(1e12))
_DISCRETE_MODES = ("mh", "gibbs")


class MHState(NamedTuple):
    """The state of a single-site MH chain.

    Attributes
    ----------
    trace
        The current trace (a :class:`~fugue_lab.runtime.cow.CowTrace`; never
        written after it became a state's trace).
    addresses
        The latent addresses in the order the model reached them.
    log_prior
        The sum of the latent sites' log-densities.
    log_likelihood
        The observations' log-likelihood plus the factors: the part of the
        density that the temperature scales.
    temperature
        The target is ``prior × likelihood^temperature`` (1 for the posterior).
    sites
        Address -> :class:`~fugue_lab.inference.proposals.SiteState` (the
        random-walk scales), for the sites that have one.
    adapting
        Whether steps tune the scales (warm-up).
    """

    trace: CowTrace
    addresses: tuple[str, ...]
    log_prior: float
    log_likelihood: float
    temperature: float = 1.0
    sites: Map = _EMPTY_MAP
    adapting: bool = True

    @property
    def log_density(self) -> float:
        """``log_prior + temperature * log_likelihood``: the log target density."""
        return self.log_prior + _temper(self.temperature, self.log_likelihood)

    @property
    def log_joint(self) -> float:
        """``log_prior + log_likelihood`` (the untempered log joint)."""
        return self.log_prior + self.log_likelihood


class MHInfo(NamedTuple):
    """What one step did.

    Attributes
    ----------
    address
        The site updated (None if the trace has no latent site).
    accepted
        Whether the state moved.
    acceptance_prob
        ``min(1, r)`` for an MH move; for a Gibbs update, the probability of
        leaving the current value.
    log_density
        The log target density after the step.
    scale
        The random-walk scale used (NaN for non-random-walk proposals).
    structure_changed
        Whether the accepted move added or removed sites.
    gibbs
        Whether the step was a Gibbs update.
    """

    address: str | None
    accepted: bool
    acceptance_prob: float
    log_density: float
    scale: float
    structure_changed: bool
    gibbs: bool


def _temper(temperature: float, log_likelihood: float) -> float:
    if temperature == 1.0:
        return log_likelihood
    if temperature == 0.0:
        return 0.0
    return temperature * log_likelihood


class _Reject(BaseException):
    """Stops a proposal run as soon as its density is -inf (it will be rejected).

    A BaseException, so that a model's own ``except Exception`` cannot swallow it.
    """


def _as_float(log_density: Any) -> float:
    if type(log_density) is float:
        return log_density
    if isinstance(log_density, np.ndarray):
        return float(log_density.sum())
    return float(log_density)


def _kind(value: Any) -> type | None:
    """The value type (float, int or bool) that ``value`` is of, for reuse decisions.

    A value is reused at a site only when it is of exactly the site's value type:
    the test must give the same answer for a move and its reverse, so an int is
    not reused at a float site (as it would be by ``conforms``) when the reverse
    move would redraw it.
    """
    if isinstance(value, np.ndarray):
        code = value.dtype.kind
        return float if code == "f" else int if code in "iu" else bool if code == "b" else None
    if isinstance(value, (bool, np.bool_)):
        return bool
    if isinstance(value, (int, np.integer)):
        return int
    if isinstance(value, (float, np.floating)):
        return float
    return None


class _InitHandler(ReplayHandler):
    """ReplayHandler that stores a given int at a float site as a float (see _kind)."""

    def on_sample(self, address: str, dist: Distribution) -> Any:
        base = self.base
        if address in base and dist.value_type is float and _kind(base[address]) is int:
            value = float(base[address])
            self.record(address, value, dist.log_prob(value))
            return value
        return super().on_sample(address, dist)


class _Record(NamedTuple):
    """The outcome of one proposal run (see _ProposalHandler)."""

    log_prior: float
    log_likelihood: float  # observations + factors
    changes: list  # (address, value, log_prob) of the latent sites to write
    seen: dict  # every reached address, in order: its value, or _OBS for an observation
    observations: list  # (address, log_likelihood)
    fresh_log_prob: float
    n_fresh: int
    n_reused: int
    log_factors: float
    replaced: set | None  # addresses reused with another kind of value (old one is stale)


#: Marks an observed address in ``_ProposalHandler.seen``.
_OBS = object()


class _ProposalHandler(Handler):
    """Re-executes the model reusing the current trace, except at the proposed site.

    For speed it records only what the new trace needs: the sites whose value or
    log-density changed (``changes``), every reached address (``seen``, in
    order) and every observation's log-likelihood.  The model's ``on_*`` calls
    are the hot path of MH: keep them lean.
    """

    def __init__(self) -> None:
        self.rng: np.random.Generator | None = None
        self.old_get: Callable[[str], Any] = _EMPTY_MAP.get
        self.site: str | None = None
        self.site_fn: Callable[[Any, Distribution], tuple[Any, float]] | None = None
        self.tempered = True
        self.reset()

    def reset(self) -> None:
        self.seen: dict[str, Any] = {}
        self.observations: list[tuple[str, float]] = []
        self.changes: list[tuple[str, Any, float]] = []
        self.replaced: set[str] | None = None
        self.log_prior = 0.0
        self.log_lik = 0.0
        self.log_factors = 0.0
        self.fresh_lp = 0.0
        self.n_fresh = 0
        self.log_q = 0.0

    def begin(self) -> None:
        pass

    def finish(self) -> None:
        return None

    def take(self) -> _Record:
        n_latent = len(self.seen) - len(self.observations)
        return _Record(
            self.log_prior,
            self.log_lik + self.log_factors,
            self.changes,
            self.seen,
            self.observations,
            self.fresh_lp,
            self.n_fresh,
            n_latent - self.n_fresh,
            self.log_factors,
            self.replaced,
        )

    def on_sample(self, address: str, dist: Distribution) -> Any:
        seen = self.seen
        if address in seen:
            raise AddressConflictError(address)
        old = self.old_get(address)
        if old is not None and address != self.site:
            # The common case: reuse the current value and rescore it.
            value = old[1]
            if type(value) is dist.value_type or _kind(value) is dist.value_type:
                lp = dist.log_prob(value)
                if type(lp) is not float:
                    lp = _as_float(lp)
                if lp != old[2]:
                    self.changes.append((address, value, lp))
                    if not lp > _NEG_INF:  # -inf or NaN: the proposal has density 0
                        raise _Reject
                seen[address] = value
                self.log_prior += lp
                return value
        return self._new_value(address, dist, old)

    def _new_value(self, address: str, dist: Distribution, old: Any) -> Any:
        """The proposed site, or a site the current trace lacks (drawn from the prior)."""
        if old is not None and address == self.site:
            value, self.log_q = self.site_fn(old[1], dist)
            fresh = False
        else:
            value = dist.sample(self.rng)
            fresh = True
        lp = dist.log_prob(value)
        if type(lp) is not float:
            lp = _as_float(lp)
        self.changes.append((address, value, lp))
        if fresh:
            self.fresh_lp += lp
            self.n_fresh += 1
            if old is not None:  # same address, another kind of value: the old one is stale
                if self.replaced is None:
                    self.replaced = set()
                self.replaced.add(address)
        if not lp > _NEG_INF:
            raise _Reject
        self.seen[address] = value
        self.log_prior += lp
        return value

    def on_observe(self, address: str, dist: Distribution, value: Any) -> None:
        seen = self.seen
        if address in seen:
            raise AddressConflictError(address)
        ll = dist.log_prob(value)
        if type(ll) is not float:
            ll = _as_float(ll)
        if not ll > _NEG_INF and self.tempered:
            raise _Reject
        seen[address] = _OBS
        self.observations.append((address, ll))
        self.log_lik += ll

    def on_factor(self, log_weight: Any) -> None:
        if type(log_weight) is not float:
            log_weight = _as_float(log_weight)
        if not log_weight > _NEG_INF and self.tempered:
            raise _Reject
        self.log_factors += log_weight


class _SiteMove:
    """Decides the proposed site's value inside a run (called by the handler with its dist)."""

    __slots__ = ("adaptive", "gibbs_values", "kernel", "override", "rng", "site", "site_state")

    def __init__(self, kernel: SingleSiteMH, rng: np.random.Generator, site: str) -> None:
        self.kernel = kernel
        self.site = site
        self.rng = rng
        self.override: Proposal | None = None
        self.site_state: SiteState | None = None
        self.gibbs_values: list | None = None
        self.adaptive = False

    def __call__(self, value: Any, dist: Distribution) -> tuple[Any, float]:
        proposal = self.override
        if proposal is None:
            if self.kernel.gibbs:
                values = finite_values(dist)
                if values is not None and len(values) > 1:
                    self.gibbs_values = values
                    return _first_other(values, value), 0.0
            kind = dist.support.kind
            proposal = _DEFAULTS.get(kind) or default_proposal(dist)
        if self.kernel.site_proposals.get(self.site) is not proposal:
            self.kernel.site_proposals[self.site] = proposal
        site_state = self.site_state
        if site_state is None:
            initial = getattr(proposal, "initial_scale", None)
            site_state = SiteState(float(initial(dist)) if initial is not None else 1.0, 0)
            self.site_state = site_state
        self.adaptive = proposal.adaptive
        return proposal.propose(self.rng, value, dist, site_state)


def _first_other(values: list, current: Any) -> Any:
    for v in values:
        if v != current:
            return v
    return values[0]


class _Forced:
    """A site function that sets the proposed site to a fixed value (Gibbs candidates)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, value: Any, dist: Distribution) -> tuple[Any, float]:
        return self.value, 0.0


def _check_proposals(proposals: Mapping[str, Proposal] | None) -> dict[str, Proposal]:
    if proposals is None:
        return {}
    if not isinstance(proposals, Mapping):
        raise TypeError(
            "proposals must be a mapping of address -> proposal (e.g. {'mu': RandomWalk(0.5)}), "
            f"got {type(proposals).__name__}"
        )
    out = {}
    for address, proposal in proposals.items():
        if type(address) is not str:
            raise TypeError(f"proposals: an address must be a str, got {address!r}")
        if not callable(getattr(proposal, "propose", None)):
            raise TypeError(
                f"proposals[{address!r}] must have a propose(rng, value, dist, state) method, "
                f"got {type(proposal).__name__}"
            )
        if not hasattr(proposal, "adaptive"):
            raise TypeError(
                f"proposals[{address!r}] must have an 'adaptive' attribute (True to tune "
                "its scale during warm-up)"
            )
        out[address] = proposal
    return out






class SingleSiteMH:
    """A single-site MH kernel for one model: ``init(rng)`` and ``step(rng, state)``.

    Parameters
    ----------
    model
        The model function.
    args, kwargs
        Passed to the model on every execution.
    proposals
        Address -> proposal overriding the default for that site (see
        :mod:`fugue_lab.inference.proposals`).
    discrete
        ``"mh"`` (default): every site takes an MH move.  ``"gibbs"``: scalar
        Bernoulli, Categorical and DiscreteUniform sites without an override
        take a Gibbs update (see :mod:`fugue_lab.inference.gibbs`).

    Raises
    ------
    InvalidParameterError
        If ``discrete`` is not ``"mh"`` or ``"gibbs"``.
    TypeError
        If ``model`` is not callable or ``proposals`` is malformed.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     observe("y", Normal(sample("mu", Normal(0.0, 1.0)), 1.0), 2.0)
    >>> kernel = SingleSiteMH(model)
    >>> rng = np.random.default_rng(0)
    >>> state = kernel.init(rng)
    >>> new_state, info = kernel.step(rng, state)
    >>> info.address, state.trace is not new_state.trace or not info.accepted
    ('mu', True)
    """

    def __init__(
        self,
        model: Callable[..., Any],
        *,
        args: tuple = (),
        kwargs: Mapping[str, Any] | None = None,
        proposals: Mapping[str, Proposal] | None = None,
        discrete: str = "mh",
    ) -> None:
        if not callable(model):
            raise TypeError(f"model must be callable, got {type(model).__name__}")
        if discrete not in _DISCRETE_MODES:
            raise InvalidParameterError("SingleSiteMH", "discrete", discrete, "'mh' or 'gibbs'")
        if not isinstance(args, tuple):
            args = tuple(args)
        self.model = model
        self.args = args
        self.kwargs = dict(kwargs or {})
        self.proposals = _check_proposals(proposals)
        self.discrete = discrete
        self.gibbs = discrete == "gibbs"
        self._handlers: list[_ProposalHandler] = []
        #: Address -> the proposal last used there (read by SMC to tune scales).
        self.site_proposals: dict[str, Proposal] = {}

    # -- initial states -------------------------------------------------------------------
    def init(
        self,
        rng: np.random.Generator,
        *,
        values: Trace | CowTrace | Mapping[str, Any] | None = None,
        temperature: float = 1.0,
        max_tries: int = 1000,
    ) -> MHState:
        """A starting state: a prior draw with finite density, or given ``values``.

        Parameters
        ----------
        rng
            Draws the prior sample (or the sites ``values`` lacks).
        values
            Start from these values (a trace or ``{address: value}``); they are
            rescored by re-executing the model.
        temperature
            The target's temperature, in [0, 1].
        max_tries
            How many prior draws to try for one of finite density.

        Raises
        ------
        DegenerateWeightsError
            If no draw (or the given values) has a finite density.
        """
        check_rng("SingleSiteMH.init", rng)
        temperature = _check_temperature(temperature)
        if values is not None:
            base = values.values() if isinstance(values, (Trace, CowTrace)) else values
            _, trace = run(_InitHandler(rng, base), self.model, *self.args, **self.kwargs)
            state = self.state_from_trace(trace, temperature)
            if not state.log_density > _NEG_INF:
                raise DegenerateWeightsError(
                    f"SingleSiteMH.init: the given values have log density {state.log_density} "
                    "under the model: start from values the model can produce"
                )
            return state
        handler = PriorHandler(rng)
        density = math.nan
        for _ in range(max_tries):
            _, trace = run(handler, self.model, *self.args, **self.kwargs)
            state = self.state_from_trace(trace, temperature)
            density = state.log_density
            if density > _NEG_INF:
                return state
        raise DegenerateWeightsError(
            f"SingleSiteMH.init: none of {max_tries} prior draws has a finite log density (last: "
            f"{density}): the observations or factors are (nearly) impossible under the prior; "
            "pass values= to start from a valid point"
        )

    def state_from_trace(
        self, trace: Trace | CowTrace, temperature: float = 1.0, adapting: bool = True
    ) -> MHState:
        """The state holding ``trace`` as it is (its log-densities are trusted, not rescored).

        Examples
        --------
        >>> import numpy as np
        >>> from fugue_lab import Normal, PriorHandler, run, sample
        >>> kernel = SingleSiteMH(sample, args=("x", Normal(0.0, 1.0)))
        >>> _, t = run(PriorHandler(np.random.default_rng(0)), sample, "x", Normal(0.0, 1.0))
        >>> kernel.state_from_trace(t).addresses
        ('x',)
        """
        if isinstance(trace, CowTrace):
            cow = trace
            addresses = tuple(trace)
        elif isinstance(trace, Trace):
            cow = CowTrace.from_trace(trace)
            addresses = tuple(trace.choices)
        else:
            raise TypeError(f"trace must be a Trace or a CowTrace, got {type(trace).__name__}")
        return MHState(
            cow,
            addresses,
            float(trace.log_prior),
            float(trace.log_likelihood) + float(trace.log_factors),
            float(temperature),
            _EMPTY_MAP,
            adapting,
        )

    # -- one step -------------------------------------------------------------------------
    def _execute(self, handler: _ProposalHandler) -> bool:
        """Run the model through ``handler``; False if the run was cut short (density 0).

        The handler is private to this kernel and never installed twice, so it is
        made active with the primitives' context variable directly: the checks of
        :func:`~fugue_lab.core.primitives.install` cost a microsecond a proposal.
        """
        token = _ACTIVE_HANDLER.set(handler)
        try:
            self.model(*self.args, **self.kwargs)
        except _Reject:
            return False
        finally:
            _ACTIVE_HANDLER.reset(token)
        return True

    def step(
        self, rng: np.random.Generator, state: MHState, address: str | None = None
    ) -> tuple[MHState, MHInfo]:
        """Update one site: a uniformly chosen one, or ``address``.

        Parameters
        ----------
        rng
            The source of randomness.
        state
            The current state (not modified).
        address
            Update this site (it must exist in the state); None chooses one
            uniformly and includes the selection term in the acceptance ratio.

        Returns
        -------
        (MHState, MHInfo)
            The next state (``state`` itself if the move was rejected) and what happened.

        Raises
        ------
        MissingAddressError
            If ``address`` is not a latent site of ``state``.
        """
        addresses = state.addresses
        n_old = len(addresses)
        if address is None:
            if n_old == 0:
                return state, MHInfo(None, False, 0.0, state.log_density, math.nan, False, False)
            site = addresses[int(rng.random() * n_old)]
            uniform = True
        else:
            if address not in state.trace.choices:
                raise MissingAddressError(address, addresses)
            site = address
            uniform = False

        handlers = self._handlers
        handler = handlers.pop() if handlers else _ProposalHandler()
        try:
            return self._step_site(rng, state, site, uniform, handler)
        finally:
            handler.rng = None
            handler.site_fn = None
            handlers.append(handler)

    def _step_site(
        self,
        rng: np.random.Generator,
        state: MHState,
        site: str,
        uniform: bool,
        handler: _ProposalHandler,
    ) -> tuple[MHState, MHInfo]:
        move = _SiteMove(self, rng, site)
        move.override = self.proposals.get(site) if self.proposals else None
        move.site_state = state.sites.get(site)
        handler.reset()
        handler.rng = rng
        handler.old_get = state.trace.choices.get
        handler.site = site
        handler.site_fn = move
        handler.tempered = state.temperature > 0.0
        completed = self._execute(handler)
        if move.gibbs_values is not None:
            result = self._gibbs(rng, state, site, move.gibbs_values, handler, completed)
            if result is not None:
                return result
            # The site's values change the model's structure: fall back to an MH move.
            move = _SiteMove(self, rng, site)
            move.override = _DEFAULTS["categorical"]
            handler.reset()
            handler.site_fn = move
            completed = self._execute(handler)

        scale = move.site_state.scale if move.site_state is not None else math.nan
        old_density = state.log_density
        if completed:
            record = handler.take()
            n_old = len(state.addresses)
            changed = record.n_fresh > 0 or record.n_reused != n_old
            log_alpha = (
                record.log_prior
                + _temper(state.temperature, record.log_likelihood)
                - old_density
                + handler.log_q
            )
            if changed:
                stale = self._stale_log_prob(state, record)
                log_alpha += stale - record.fresh_log_prob
                if uniform:
                    n_new = record.n_reused + record.n_fresh
                    log_alpha += math.log(n_old) - math.log(n_new)
            if log_alpha >= 0.0:
                prob = 1.0
            elif log_alpha > _NEG_INF:
                prob = math.exp(log_alpha)
            else:  # -inf, or NaN (both densities -inf)
                prob = 0.0
        else:
            record = None
            changed = False
            prob = 0.0
        accepted = prob > 0.0 and (prob == 1.0 or rng.random() < prob)

        sites = state.sites
        if state.adapting and move.adaptive and move.site_state is not None:
            ss = move.site_state
            n = ss.n_adapt + 1
            log_scale = math.log(ss.scale) + n**-ADAPT_EXPONENT * (prob - TARGET_ACCEPTANCE)
            log_scale = min(max(log_scale, _LOG_SCALE_BOUNDS[0]), _LOG_SCALE_BOUNDS[1])
            sites = sites.set(site, SiteState(math.exp(log_scale), n))

        if not accepted:
            new_state = state if sites is state.sites else state._replace(sites=sites)
            return new_state, MHInfo(site, False, prob, old_density, scale, False, False)
        assert record is not None  # accepted implies a completed run
        new_state = self._accept(state, record, changed, sites)
        return new_state, MHInfo(site, True, prob, new_state.log_density, scale, changed, False)

    @staticmethod
    def _stale_log_prob(state: MHState, record: _Record) -> float:
        """The log-prior of the current sites the proposal no longer has (or re-drew)."""
        seen = record.seen
        replaced = record.replaced
        get = state.trace.choices.get
        stale = 0.0
        for a in state.addresses:
            if seen.get(a, _OBS) is _OBS or (replaced is not None and a in replaced):
                stale += get(a)[2]
        return stale

    @staticmethod
    def _accept(state: MHState, record: _Record, changed: bool, sites: Map) -> MHState:
        """The state of an accepted proposal: a CowTrace clone with only the changes written."""
        old_trace = state.trace
        trace = old_trace.clone()
        old_obs = old_trace.observations
        old_get = old_obs.get
        to_set = []
        n_common = 0
        for a, ll in record.observations:
            old_ll = old_get(a)
            if old_ll is None:
                to_set.append((a, ll))
            else:
                n_common += 1
                if old_ll != ll:
                    to_set.append((a, ll))
        seen = record.seen
        if n_common != len(old_obs):
            for a in [a for a in old_obs if seen.get(a) is not _OBS]:
                trace.remove_observation(a)
        addresses = state.addresses
        if changed:
            for a in addresses:
                if seen.get(a, _OBS) is _OBS:
                    trace.remove_choice(a)
            addresses = tuple(a for a, v in seen.items() if v is not _OBS)
        for a, value, lp in record.changes:
            trace.set_choice(a, value, lp)
        for a, ll in to_set:
            trace.set_observation(a, ll)
        if record.log_factors != trace.log_factors:
            trace.log_factors = record.log_factors
        return MHState(
            trace,
            addresses,
            record.log_prior,
            record.log_likelihood,
            state.temperature,
            sites,
            state.adapting,
        )

    def _gibbs(
        self,
        rng: np.random.Generator,
        state: MHState,
        site: str,
        values: list,
        handler: _ProposalHandler,
        first_completed: bool,
    ) -> tuple[MHState, MHInfo] | None:
        """A Gibbs update of ``site``; None if some value changes the model's structure."""
        current = state.trace.choices[site][1]
        n_old = len(state.addresses)
        candidates: list[Any] = [current]
        densities: list[float] = [state.log_density]
        records: list[_Record | None] = [None]
        forced = _Forced(None)
        is_first = True  # the handler still holds the run of the first other value
        for value in values:
            if value == current:
                continue
            if is_first:
                completed = first_completed
                is_first = False
            else:
                forced.value = value
                handler.reset()
                handler.site_fn = forced
                completed = self._execute(handler)
            if completed:
                record = handler.take()
                if record.n_fresh > 0 or record.n_reused != n_old:
                    return None
                density = record.log_prior + _temper(state.temperature, record.log_likelihood)
            else:
                record, density = None, _NEG_INF
            candidates.append(value)
            densities.append(density)
            records.append(record)
        index, move_prob = draw_conditional(rng, densities)
        if index == 0:
            return state, MHInfo(site, False, move_prob, state.log_density, math.nan, False, True)
        record = records[index]
        assert record is not None  # a -inf candidate is never drawn
        new_state = self._accept(state, record, False, state.sites)
        info = MHInfo(site, True, move_prob, new_state.log_density, math.nan, False, True)
        return new_state, info


def _check_temperature(temperature: object) -> float:
    if isinstance(temperature, (bool, np.bool_)) or not isinstance(
        temperature, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"temperature must be a real number, got {temperature!r}")
    t = float(temperature)
    if not 0.0 <= t <= 1.0:
        raise InvalidParameterError("SingleSiteMH", "temperature", temperature, "in [0, 1]")
    return t


# --------------------------------------------------------------------------- running chains


class ChainDraws(NamedTuple):
    """The raw record of one chain (merged into an MCMCResult by :func:`merge_chains`)."""

    values: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    lp: np.ndarray
    accepted: np.ndarray
    acceptance_prob: np.ndarray
    site: np.ndarray
    step_sizes: dict[str, float]
    warmup_time_s: float
    sampling_time_s: float


def _column(n_draws: int, events: list[tuple[int, Any]]) -> tuple[np.ndarray, np.ndarray | None]:
    """An address's per-draw values from its change events ``(first draw, value)``."""
    starts = [d for d, _ in events]
    counts = np.diff(np.asarray([*starts, n_draws]))
    vals = [v for _, v in events]
    if all(v is not _ABSENT for v in vals):
        return np.repeat(np.asarray(vals), counts, axis=0), None
    mask_short = np.asarray([v is not _ABSENT for v in vals])
    template = np.asarray(next(v for v in vals if v is not _ABSENT), dtype=np.float64)
    short = np.full((len(vals), *template.shape), np.nan)
    short[mask_short] = np.asarray([v for v in vals if v is not _ABSENT], dtype=np.float64)
    return np.repeat(short, counts, axis=0), np.repeat(mask_short, counts)


def _values_of(state: MHState) -> dict[str, Any]:
    get = state.trace.choices.get
    return {a: get(a)[1] for a in state.addresses}


def run_chain(
    kernel: SingleSiteMH,
    rng: np.random.Generator,
    n_samples: int,
    n_warmup: int,
    state: MHState | None = None,
) -> ChainDraws:
    """Run ``n_warmup`` adapting steps and ``n_samples`` kept steps of ``kernel``.

    The per-draw values are rebuilt at the end from the accepted moves (one site
    changes per accepted move), so recording costs O(1) per step.
    """
    step = kernel.step
    start = time.perf_counter()
    if state is None:
        state = kernel.init(rng)
    state = state._replace(adapting=True)
    for _ in range(n_warmup):
        state, _info = step(rng, state)
    state = state._replace(adapting=False)
    warmup_time = time.perf_counter() - start

    start = time.perf_counter()
    initial = _values_of(state)
    events: list[tuple[int, str | None, Any]] = []
    lp = np.empty(n_samples)
    accepted = np.zeros(n_samples, dtype=bool)
    prob = np.empty(n_samples)
    site: list[str | None] = [None] * n_samples
    for d in range(n_samples):
        state, info = step(rng, state)
        if info.accepted:
            accepted[d] = True
            if info.structure_changed:
                events.append((d, None, _values_of(state)))
            else:
                events.append((d, info.address, state.trace.choices[info.address][1]))
        lp[d] = state.log_prior + state.log_likelihood
        prob[d] = info.acceptance_prob
        site[d] = info.address
    sampling_time = time.perf_counter() - start

    per_address: dict[str, list[tuple[int, Any]]] = {a: [(0, v)] for a, v in initial.items()}
    for d, a, v in events:
        if a is not None:
            per_address[a].append((d, v))
            continue
        for a2, lst in per_address.items():
            if a2 not in v:
                lst.append((d, _ABSENT))
        for a2, v2 in v.items():
            lst = per_address.get(a2)
            if lst is None:
                per_address[a2] = [(0, _ABSENT), (d, v2)]
            else:
                lst.append((d, v2))
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for a, lst in per_address.items():
        values[a], mask = _column(n_samples, lst)
        if mask is not None:
            present[a] = mask
    step_sizes = {a: float(ss.scale) for a, ss in state.sites.items()}
    return ChainDraws(
        values,
        present,
        lp,
        accepted,
        prob,
        np.asarray(["" if s is None else s for s in site], dtype=str),
        step_sizes,
        warmup_time,
        sampling_time,
    )


def merge_chains(chains: list[ChainDraws], n_warmup: int = 0) -> MCMCResult:
    """Stack per-chain records into one :class:`MCMCResult` with a leading chain axis."""
    n_chains = len(chains)
    n_draws = chains[0].lp.shape[0]
    order: dict[str, None] = {}
    for chain in chains:
        order.update(dict.fromkeys(chain.values))
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for a in order:
        cols = []
        masks = []
        partial = False
        for chain in chains:
            col = chain.values.get(a)
            if col is None:
                partial = True
                cols.append(None)
                masks.append(np.zeros(n_draws, dtype=bool))
            else:
                mask = chain.present.get(a)
                partial = partial or mask is not None
                cols.append(col)
                masks.append(np.ones(n_draws, dtype=bool) if mask is None else mask)
        if not partial:
            values[a] = np.stack(cols)
            continue
        template = next(c for c in cols if c is not None)
        out = np.full((n_chains, n_draws, *template.shape[1:]), np.nan)
        for i, col in enumerate(cols):
            if col is not None:
                out[i] = col
        values[a] = out
        present[a] = np.stack(masks)
    sites = np.stack([c.site for c in chains])
    accepted = np.stack([c.accepted for c in chains])
    rates: dict[str, np.ndarray] = {}
    for a in order:
        here = sites == a
        n = here.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates[a] = np.where(n > 0, (accepted & here).sum(axis=1) / np.maximum(n, 1), np.nan)
    step_sizes = {
        a: np.asarray([c.step_sizes.get(a, np.nan) for c in chains], dtype=np.float64)
        for a in order
    }
    return MCMCResult(
        values,
        {
            "lp": np.stack([c.lp for c in chains]),
            "accepted": accepted,
            "acceptance_prob": np.stack([c.acceptance_prob for c in chains]),
            "site": sites,
        },
        acceptance_rates=rates,
        step_sizes=step_sizes,
        warmup_time_s=[c.warmup_time_s for c in chains],
        sampling_time_s=[c.sampling_time_s for c in chains],
        present=present,
        n_warmup=n_warmup,
    )


def mh_chain(
    model: Callable[..., Any],
    n_samples: int,
    n_warmup: int,
    *,
    rng: np.random.Generator,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    proposals: Mapping[str, Proposal] | None = None,
    discrete: str = "mh",
    init: Trace | CowTrace | Mapping[str, Any] | None = None,
) -> MCMCResult:
    """Run one single-site MH chain: ``n_warmup`` adapting steps, then ``n_samples`` kept.

    Each step updates one uniformly chosen latent site (see the module docstring).

    Parameters
    ----------
    model
        The model function.
    n_samples
        Kept draws, >= 1.
    n_warmup
        Warm-up steps (scales adapt, draws discarded), >= 0.
    rng
        The source of randomness.
    args, kwargs
        Passed to the model.
    proposals
        Address -> proposal, overriding the default for those sites.
    discrete
        ``"mh"`` or ``"gibbs"`` (Gibbs updates for finite discrete sites).
    init
        Start from these values instead of a prior draw.

    Returns
    -------
    MCMCResult
        Draws with shape ``(1, n_samples)`` per address.

    Raises
    ------
    InvalidParameterError
        If ``n_samples < 1``, ``n_warmup < 0`` or ``discrete`` is unknown.
    DegenerateWeightsError
        If no starting point with a finite density is found.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Bernoulli, Beta, observe, sample
    >>> def coin():
    ...     p = sample("p", Beta(1.0, 1.0))
    ...     for i in range(10):
    ...         observe(f"flip#{i}", Bernoulli(p), i < 7)
    >>> r = mh_chain(coin, 2000, 200, rng=np.random.default_rng(0))
    >>> r.values["p"].shape, abs(r.mean("p") - 8 / 12) < 0.05
    ((1, 2000), True)
    """
    n_samples = check_count("mh_chain", "n_samples", n_samples, 1)
    n_warmup = check_count("mh_chain", "n_warmup", n_warmup, 0)
    check_rng("mh_chain", rng)
    kernel = SingleSiteMH(model, args=args, kwargs=kwargs, proposals=proposals, discrete=discrete)
    state = kernel.init(rng, values=init) if init is not None else None
    return merge_chains([run_chain(kernel, rng, n_samples, n_warmup, state)], n_warmup)


def _chain_chunk(index: int, seed_seq: np.random.SeedSequence, payload: tuple) -> ChainDraws:
    """One chain of :func:`mh_chains` (module level, so that it pickles)."""
    model, args, kwargs, proposals, discrete, n_samples, n_warmup, init = payload
    rng = np.random.default_rng(seed_seq)
    kernel = SingleSiteMH(model, args=args, kwargs=kwargs, proposals=proposals, discrete=discrete)
    state = kernel.init(rng, values=init) if init is not None else None
    return run_chain(kernel, rng, n_samples, n_warmup, state)


def mh_chains(
    model: Callable[..., Any],
    n_chains: int,
    n_samples: int,
    n_warmup: int,
    *,
    seed: Seed = None,
    rng: np.random.Generator | None = None,
    executor: Executor | None = None,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    proposals: Mapping[str, Proposal] | None = None,
    discrete: str = "mh",
    init: Trace | CowTrace | Mapping[str, Any] | None = None,
    progress: bool = False,
    vectorized: bool = False,
    dtype: Any = None,
) -> MCMCResult:
    """Run ``n_chains`` independent single-site MH chains, here or on an executor.

    Chain ``i`` draws from the stream ``SeedSequence(seed).spawn(n_chains)[i]``,
    so the result is the same with no executor, threads, processes or a Dask
    cluster (``distributed.Client(...).get_executor()``).

    Parameters
    ----------
    model
        The model function (for a process pool: defined at module level).
    n_chains
        The number of chains, >= 1.
    n_samples, n_warmup
        As for :func:`mh_chain`.
    seed
        The root seed (int, SeedSequence or Generator); give ``seed`` or ``rng``.
    rng
        A Generator to draw the root seed from (advances it).
    executor
        Any :class:`concurrent.futures.Executor`; None runs the chains here, one after another.
    args, kwargs, proposals, discrete, init
        As for :func:`mh_chain` (the same ``init`` for every chain).
    progress
        Show a progress bar (one tick per chain).
    vectorized
        Run the chains in lockstep, one batched model execution per iteration for
        all of them (:func:`fugue_lab.inference.vectorized.lockstep_mh_chains`);
        the model must run batched, and ``executor``, ``proposals``, ``init`` and
        ``discrete="gibbs"`` are not supported.  The chains then share one
        random stream drawn from ``seed``.
    dtype
        ``np.float32`` runs the lockstep executions in single precision (only with
        ``vectorized=True``; the default is ``np.float64``).

    Returns
    -------
    MCMCResult
        Draws with shape ``(n_chains, n_samples)`` per address.

    Raises
    ------
    InvalidParameterError
        If a count is out of range, or both ``seed`` and ``rng`` are given.
    BatchError
        If a chain fails (names the chain; nothing is returned).

    Examples
    --------
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     observe("y", Normal(sample("mu", Normal(0.0, 1.0)), 1.0), 1.0)
    >>> r = mh_chains(model, 2, 500, 100, seed=3)
    >>> r.n_chains, r.n_draws
    (2, 500)
    """
    n_chains = check_count("mh_chains", "n_chains", n_chains, 1)
    n_samples = check_count("mh_chains", "n_samples", n_samples, 1)
    n_warmup = check_count("mh_chains", "n_warmup", n_warmup, 0)
    if seed is not None and rng is not None:
        raise InvalidParameterError(
            "mh_chains", "rng", rng, "None when seed is given (pass one of seed or rng)"
        )
    if rng is not None:
        seed = check_rng("mh_chains", rng)
    if vectorized:
        for name, value, ok in (
            ("executor", executor, executor is None),
            ("proposals", proposals, proposals is None),
            ("init", init, init is None),
            ("discrete", discrete, discrete == "mh"),
        ):
            if not ok:
                raise InvalidParameterError(
                    "mh_chains", name, value, "left at its default with vectorized=True"
                )
        from fugue_lab.inference.vectorized import lockstep_mh_chains

        stream = np.random.default_rng(spawn_seeds(seed, 1, "mh_chains")[0])
        return lockstep_mh_chains(
            model, n_chains, n_samples, n_warmup, rng=stream, args=tuple(args), kwargs=kwargs,
            dtype=np.float64 if dtype is None else dtype,
        )
    if dtype is not None:
        raise InvalidParameterError("mh_chains", "dtype", dtype, "None unless vectorized=True")
    # Validate the kernel's arguments here, not in a worker.
    SingleSiteMH(model, args=args, kwargs=kwargs, proposals=proposals, discrete=discrete)
    check_picklable(executor, "mh_chains", model=model, args=args, kwargs=kwargs)
    payload = (model, tuple(args), dict(kwargs or {}), proposals, discrete, n_samples, n_warmup,
               init)
    seeds = spawn_seeds(seed, n_chains, "mh_chains")
    outcomes = map_chunks(
        _chain_chunk,
        [(s, payload) for s in seeds],
        executor=executor,
        progress=progress,
        desc="mh_chains",
        unit="chain",
    )
    return merge_chains([o.value for o in outcomes], n_warmup)
