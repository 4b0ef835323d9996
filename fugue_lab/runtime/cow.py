"""CowTrace: a copy-on-write trace with O(1) clones, for MCMC proposals.

Examples
--------
>>> from fugue_lab import Choice, Trace
>>> base = CowTrace.from_trace(Trace({"x": Choice("x", 0.0, -0.92)}, log_prior=-0.92))
>>> proposal = base.with_choice("x", 1.0, -1.42)
>>> base.get_float("x"), proposal.get_float("x"), proposal.log_prior
(0.0, 1.0, -1.42)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any

import numpy as np
from immutables import Map

from fugue_lab.errors import AddressConflictError, MissingAddressError, TypeMismatchError
from fugue_lab.runtime.trace import Choice, Trace, _is_bool, _is_float, _is_int, new_choice

__all__ = ["CowTrace", "exact_sum"]

_EMPTY: Map = Map()
_new = object.__new__
_second = itemgetter(1)


def exact_sum(terms: Iterable[Any]) -> float:
    """The correctly rounded sum of real numbers (``math.fsum``), with IEEE semantics for inf/NaN.

    ``math.fsum`` raises on ``inf + -inf`` and on intermediate overflow; here the
    first gives NaN and the second the ordinary (infinite) float sum.

    Examples
    --------
    >>> exact_sum([0.1] * 10), sum([0.1] * 10)
    (1.0, 0.9999999999999999)
    >>> exact_sum([float("inf"), float("-inf")])
    nan
    """
    terms = list(terms)
    try:
        return math.fsum(terms)
    except ValueError:  # inf + -inf
        return math.nan
    except OverflowError:
        return float(sum(terms))


def _check_real(value: Any, owner: str, name: str) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"{owner}: {name} must be a real number (CowTrace holds scalar traces), "
            f"got {type(value).__name__} {value!r}"
        )


def _finite(x: Any) -> bool:
    # x - x is 0.0 for a finite x and NaN for +-inf and NaN: cheaper than math.isfinite.
    return x - x == 0.0


class CowTrace:
    """A trace whose clones share storage: ``clone()`` is O(1), a write copies one map path.

    Choices (address -> :class:`Choice`) and observations (address ->
    log-likelihood) live in persistent hash maps (``immutables.Map``).  A write
    (:meth:`set_choice`, :meth:`remove_choice`, :meth:`set_observation`, ...)
    replaces *this* CowTrace's reference with a new map that shares all but one
    path of nodes with the old one, so clones and the trace a clone came from never
    see each other's writes.  The three log-weight accumulators are kept current
    incrementally: replacing a choice adds ``new_log_prob - old_log_prob`` to
    ``log_prior``, removing one subtracts its log-prob.

    Why ``immutables.Map``: it is a hash array mapped trie (HAMT, the structure
    behind CPython's ``contextvars``) written in C.  A clone shares the root
    (O(1)); a write copies the O(log32 n) nodes on one path (3 levels at 10,000
    sites); lookups cost about what a dict's do.  Measured (W5 of WORKLOADS.md,
    ``benchmarks/memory_figures.py``), a clone-and-change takes about 0.5 us at
    3, 100, 1,000 and 10,000 sites alike, where copying a dict of choices and
    changing one takes 0.25 us at 3 sites, 0.4 us at 100, 2.3 us at 1,000 and
    31 us at 10,000 (Fugue's Rust CowTrace copied its whole map: 37 us at 1,000).
    Below a few hundred sites a plain dict copy is as fast or faster; from there
    on the persistent map wins, by 4x at 1,000 sites and 55x at 10,000.
    A pure-Python persistent map would be several times slower, and a ChainMap
    of overlays slows every lookup as clones stack up.

    Floating point: an incremental update rounds once or twice per write, so
    after k writes the accumulators may differ from a fresh sum in the last bits
    (at most about ``2 k eps`` times the sum of the magnitudes involved).
    :meth:`rescore_weights` replaces them with correctly rounded sums
    (``math.fsum``).  Replacing or removing a term that is infinite or NaN (where
    subtracting would give NaN) triggers that exact recomputation automatically.

    Order: the maps iterate in hash order, so :attr:`choices` and
    :attr:`observations` are unordered mappings; the insertion order (that of the
    model's run) is tracked separately, and :meth:`values`, :meth:`log_probs`,
    iteration and :meth:`to_trace` follow it.  As in a dict, replacing a choice
    keeps its position; removing and re-adding puts it last.

    Log-probs must be real numbers: CowTrace holds scalar traces, not batched
    ones.  It is not safe to write to one CowTrace from several threads at once;
    clones may be written from different threads.

    Examples
    --------
    >>> t = CowTrace()
    >>> t.set_choice("mu", 0.0, -0.92)
    >>> t.set_choice("x", 1.0, -1.42)
    >>> c = t.clone()
    >>> c.set_choice("x", 2.0, -2.92)
    >>> t.get_float("x"), c.get_float("x"), round(c.log_prior, 2)
    (1.0, 2.0, -3.84)
    >>> c.remove_choice("x")
    >>> list(c), list(t)
    (['mu'], ['mu', 'x'])
    """

    __slots__ = (
        "__weakref__",
        "_choices",
        "_log_factors",
        "_log_likelihood",
        "_log_prior",
        "_next",
        "_observations",
        "_order",
    )

    def __init__(self) -> None:
        self._choices: Map = _EMPTY
        self._observations: Map = _EMPTY
        # address -> insertion sequence number, for choices and observations alike.
        self._order: Map = _EMPTY
        self._next = 0
        self._log_prior: Any = 0.0
        self._log_likelihood: Any = 0.0
        self._log_factors: Any = 0.0

    # -- conversion ----------------------------------------------------------------------
    @classmethod
    def from_trace(cls, trace: Trace) -> CowTrace:
        """A CowTrace holding ``trace``'s records and log weights (taken as they are).

        Raises
        ------
        TypeError
            If ``trace`` is not a Trace, or holds array log-probs (a batched trace).

        Examples
        --------
        >>> from fugue_lab import Choice, Trace
        >>> t = Trace({"x": Choice("x", 0.5, -1.0)}, {"y": -2.0}, -1.0, -2.0, 0.0)
        >>> CowTrace.from_trace(t).to_trace() == t
        True
        """
        if not isinstance(trace, Trace):
            raise TypeError(f"CowTrace.from_trace: expected a Trace, got {type(trace).__name__}")
        for choice in trace.choices.values():
            if type(choice[2]) is not float:
                _check_real(choice[2], "CowTrace.from_trace", f"log_prob of {choice[0]!r}")
        for address, log_lik in trace.observations.items():
            if type(log_lik) is not float:
                _check_real(log_lik, "CowTrace.from_trace", f"log-likelihood of {address!r}")
        for name in ("log_prior", "log_likelihood", "log_factors"):
            value = getattr(trace, name)
            if type(value) is not float:
                _check_real(value, "CowTrace.from_trace", name)
        new = _new(cls)
        new._choices = Map(trace.choices)
        new._observations = Map(trace.observations)
        addresses = [*trace.choices, *trace.observations]
        new._order = Map(zip(addresses, range(len(addresses))))
        new._next = len(addresses)
        new._log_prior = trace.log_prior
        new._log_likelihood = trace.log_likelihood
        new._log_factors = trace.log_factors
        return new

    def to_trace(self) -> Trace:
        """A plain :class:`Trace` with the same records (in insertion order) and log weights.

        Examples
        --------
        >>> c = CowTrace()
        >>> c.set_choice("b", 1.0, -1.0)
        >>> c.set_choice("a", 2.0, -2.0)
        >>> list(c.to_trace().choices)
        ['b', 'a']
        """
        choices: dict[str, Choice] = {}
        observations: dict[str, Any] = {}
        own_choices = self._choices
        for address, _ in sorted(self._order.items(), key=_second):
            choice = own_choices.get(address)
            if choice is not None:
                choices[address] = choice
            else:
                observations[address] = self._observations[address]
        return Trace(
            choices, observations, self._log_prior, self._log_likelihood, self._log_factors
        )

    def clone(self) -> CowTrace:
        """An independent CowTrace sharing all storage with this one (O(1)).

        Examples
        --------
        >>> a = CowTrace()
        >>> b = a.clone()
        >>> b.set_choice("x", 1.0, -1.0)
        >>> "x" in a, "x" in b
        (False, True)
        """
        new = _new(CowTrace)
        new._choices = self._choices
        new._observations = self._observations
        new._order = self._order
        new._next = self._next
        new._log_prior = self._log_prior
        new._log_likelihood = self._log_likelihood
        new._log_factors = self._log_factors
        return new

    __copy__ = clone

    # -- writes --------------------------------------------------------------------------
    def set_choice(self, address: str, value: Any, log_prob: Any) -> None:
        """Add or replace the choice at ``address`` in this CowTrace (never in its clones).

        ``log_prior`` changes by ``log_prob`` minus the replaced choice's log-prob.

        Raises
        ------
        AddressConflictError
            If ``address`` is an observation of this trace.
        TypeError
            If ``address`` is not a str or ``log_prob`` not a real number.
        """
        if type(address) is not str:
            raise TypeError(f"CowTrace: an address must be a str, got {type(address).__name__}")
        if type(log_prob) is not float:
            _check_real(log_prob, "CowTrace.set_choice", "log_prob")
        choices = self._choices
        old = choices.get(address)
        if old is None:
            if address in self._observations:
                raise AddressConflictError(address, "this trace (it is an observation)")
            self._choices = choices.set(address, new_choice(Choice, (address, value, log_prob)))
            self._order = self._order.set(address, self._next)
            self._next += 1
            self._log_prior += log_prob
            return
        self._choices = choices.set(address, new_choice(Choice, (address, value, log_prob)))
        old_log_prob = old[2]
        if old_log_prob - old_log_prob == 0.0:  # finite (inlined _finite: this is the hot path)
            self._log_prior += log_prob - old_log_prob
        else:
            self._log_prior = exact_sum(c[2] for c in self._choices.values())

    def with_choice(self, address: str, value: Any, log_prob: Any) -> CowTrace:
        """A clone with the choice at ``address`` added or replaced; this trace is unchanged.

        Examples
        --------
        >>> a = CowTrace()
        >>> a.with_choice("x", 1.0, -1.0).num_choices, a.num_choices
        (1, 0)
        """
        new = self.clone()
        new.set_choice(address, value, log_prob)
        return new

    def remove_choice(self, address: str) -> None:
        """Remove the choice at ``address`` (e.g. a site a proposal's structure no longer has).

        Raises
        ------
        MissingAddressError
            If there is no choice at ``address``.
        """
        old = self._choices.get(address)
        if old is None:
            raise MissingAddressError(address, list(self))
        self._choices = self._choices.delete(address)
        self._order = self._order.delete(address)
        if _finite(old[2]):
            self._log_prior -= old[2]
        else:
            self._log_prior = exact_sum(c[2] for c in self._choices.values())

    def without_choice(self, address: str) -> CowTrace:
        """A clone without the choice at ``address``; this trace is unchanged."""
        new = self.clone()
        new.remove_choice(address)
        return new

    def set_observation(self, address: str, log_lik: Any) -> None:
        """Add or replace the observation at ``address``; ``log_likelihood`` follows.

        Raises
        ------
        AddressConflictError
            If ``address`` is a latent choice of this trace.

        Examples
        --------
        >>> c = CowTrace()
        >>> c.set_observation("y", -1.0)
        >>> c.set_observation("y", -0.25)
        >>> c.log_likelihood, c.num_observations
        (-0.25, 1)
        """
        if type(address) is not str:
            raise TypeError(f"CowTrace: an address must be a str, got {type(address).__name__}")
        if type(log_lik) is not float:
            _check_real(log_lik, "CowTrace.set_observation", "log_lik")
        observations = self._observations
        old = observations.get(address, None)
        if old is None:
            if address in self._choices:
                raise AddressConflictError(address, "this trace (it is a latent choice)")
            self._observations = observations.set(address, log_lik)
            self._order = self._order.set(address, self._next)
            self._next += 1
            self._log_likelihood += log_lik
            return
        self._observations = observations.set(address, log_lik)
        if _finite(old):
            self._log_likelihood += log_lik - old
        else:
            self._log_likelihood = exact_sum(self._observations.values())

    def with_observation(self, address: str, log_lik: Any) -> CowTrace:
        """A clone with the observation at ``address`` added or replaced."""
        new = self.clone()
        new.set_observation(address, log_lik)
        return new

    def remove_observation(self, address: str) -> None:
        """Remove the observation at ``address``.

        Raises
        ------
        MissingAddressError
            If there is no observation at ``address``.
        """
        observations = self._observations
        if address not in observations:
            raise MissingAddressError(address, list(self.observation_addresses()))
        old = observations[address]
        self._observations = observations.delete(address)
        self._order = self._order.delete(address)
        if _finite(old):
            self._log_likelihood -= old
        else:
            self._log_likelihood = exact_sum(self._observations.values())

    def add_factor(self, log_weight: Any) -> None:
        """Add ``log_weight`` to ``log_factors`` (set :attr:`log_factors` to replace it)."""
        if type(log_weight) is not float:
            _check_real(log_weight, "CowTrace.add_factor", "log_weight")
        self._log_factors += log_weight

    def rescore_weights(self) -> None:
        """Recompute ``log_prior`` and ``log_likelihood`` as correctly rounded sums.

        This removes the rounding drift of incremental updates (``log_factors``
        has no per-site records and is left as it is).

        Examples
        --------
        >>> c = CowTrace()
        >>> for i in range(10):
        ...     c.set_choice(f"x#{i}", 0.0, 0.1)
        >>> c.log_prior
        0.9999999999999999
        >>> c.rescore_weights()
        >>> c.log_prior
        1.0
        """
        self._log_prior = exact_sum(c[2] for c in self._choices.values())
        self._log_likelihood = exact_sum(self._observations.values())

    # -- weights -------------------------------------------------------------------------
    @property
    def log_prior(self) -> Any:
        """The sum of the choices' log-probs (kept incrementally)."""
        return self._log_prior

    @property
    def log_likelihood(self) -> Any:
        """The sum of the observations' log-likelihoods (kept incrementally)."""
        return self._log_likelihood

    @property
    def log_factors(self) -> Any:
        """The sum of the factors (settable)."""
        return self._log_factors

    @log_factors.setter
    def log_factors(self, value: Any) -> None:
        if type(value) is not float:
            _check_real(value, "CowTrace", "log_factors")
        self._log_factors = value

    @property
    def total_log_weight(self) -> Any:
        """``log_prior + log_likelihood + log_factors``."""
        return self._log_prior + self._log_likelihood + self._log_factors

    @property
    def log_joint(self) -> Any:
        """Alias of :attr:`total_log_weight`."""
        return self.total_log_weight

    @property
    def is_valid(self) -> bool:
        """True when the total log weight is finite."""
        return math.isfinite(self.total_log_weight)

    # -- read access (the read API of Trace) ---------------------------------------------
    @property
    def choices(self) -> Mapping[str, Choice]:
        """Address -> :class:`Choice`: a read-only persistent map, in no particular order."""
        return self._choices

    @property
    def observations(self) -> Mapping[str, Any]:
        """Address -> log-likelihood: a read-only persistent map, in no particular order."""
        return self._observations

    @property
    def num_choices(self) -> int:
        """The number of latent choices."""
        return len(self._choices)

    @property
    def num_observations(self) -> int:
        """The number of observations."""
        return len(self._observations)

    def _ordered(self, mapping: Map) -> list[str]:
        order = self._order
        return sorted(mapping, key=order.__getitem__)

    def observation_addresses(self) -> list[str]:
        """The observations' addresses in insertion order."""
        return self._ordered(self._observations)

    def __getitem__(self, address: str) -> Choice:
        choice = self._choices.get(address)
        if choice is None:
            raise MissingAddressError(address, list(self))
        return choice

    def __contains__(self, address: object) -> bool:
        return address in self._choices

    def __iter__(self) -> Iterator[str]:
        """The choices' addresses in insertion order."""
        return iter(self._ordered(self._choices))

    def __len__(self) -> int:
        return len(self._choices)

    def get(self, address: str) -> Any:
        """The value at ``address`` (MissingAddressError if absent)."""
        return self[address][1]

    def get_float(self, address: str) -> float:
        """The value at ``address`` as a float (TypeMismatchError if it is not one)."""
        value = self[address][1]
        if not _is_float(value):
            raise TypeMismatchError(address, "float", value)
        return float(value)

    def get_int(self, address: str) -> int:
        """The value at ``address`` as an int (bools are not ints here)."""
        value = self[address][1]
        if not _is_int(value):
            raise TypeMismatchError(address, "int", value)
        return int(value)

    def get_bool(self, address: str) -> bool:
        """The value at ``address`` as a bool."""
        value = self[address][1]
        if not _is_bool(value):
            raise TypeMismatchError(address, "bool", value)
        return bool(value)

    def values(self) -> dict[str, Any]:
        """A plain ``{address: value}`` dict in insertion order (replayable)."""
        choices = self._choices
        return {address: choices[address][1] for address in self._ordered(choices)}

    def log_probs(self) -> dict[str, Any]:
        """A plain ``{address: log_prob}`` dict in insertion order."""
        choices = self._choices
        return {address: choices[address][2] for address in self._ordered(choices)}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CowTrace):
            return self.to_trace() == other.to_trace()
        if isinstance(other, Trace):
            return self.to_trace() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = ", ".join(f"{a}={self._choices[a][1]!r}" for a in list(self)[:6])
        more = ", ..." if len(self._choices) > 6 else ""
        return (
            f"CowTrace({shown}{more}; log_prior={self._log_prior!r}, "
            f"log_likelihood={self._log_likelihood!r}, log_factors={self._log_factors!r})"
        )
