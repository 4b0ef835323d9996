"""Traces: the record of one run of a model.

A :class:`Trace` holds the latent random choices of a run (address ->
:class:`Choice`, in the order the model made them), the log-likelihood of each
observed site, and three log-weight accumulators: ``log_prior`` (the latent
choices' log-densities), ``log_likelihood`` (the observations') and
``log_factors`` (from :func:`~fugue_lab.factor` and :func:`~fugue_lab.guard`).

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Normal, PriorHandler, run, sample
>>> _, trace = run(PriorHandler(np.random.default_rng(0)), sample, "x", Normal(0.0, 1.0))
>>> trace.get_float("x") == trace["x"].value
True
>>> trace.total_log_weight == trace.log_prior
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from fugue_lab.errors import MissingAddressError, TypeMismatchError

__all__ = ["Choice", "Trace"]


class Choice(NamedTuple):
    """One latent random choice.

    Attributes
    ----------
    addr
        The site's full address.
    value
        The value taken (float, int or bool; an array in batched runs).
    log_prob
        The log-density (or log-mass) of ``value`` under the site's distribution.
    """

    addr: str
    value: Any
    log_prob: Any


#: Builds a Choice without the Python-level ``__new__`` of a NamedTuple (hot path).
new_choice = tuple.__new__


def _is_float(value: object) -> bool:
    return type(value) is float or isinstance(value, (float, np.floating))


def _is_int(value: object) -> bool:
    return type(value) is int or (
        isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    )


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


class Trace:
    """The record of one run: latent choices, observation log-likelihoods, log weights.

    Parameters
    ----------
    choices
        Address -> :class:`Choice`, in insertion order.  Taken as is (not copied).
    observations
        Address -> log-likelihood of the value observed there.
    log_prior, log_likelihood, log_factors
        The log-weight accumulators.

    Examples
    --------
    >>> t = Trace()
    >>> t.choices["x"] = Choice("x", 0.5, -1.04)
    >>> t.log_prior = -1.04
    >>> t.values()
    {'x': 0.5}
    """

    __slots__ = (
        "__weakref__",
        "choices",
        "log_factors",
        "log_likelihood",
        "log_prior",
        "observations",
    )

    def __init__(
        self,
        choices: dict[str, Choice] | None = None,
        observations: dict[str, Any] | None = None,
        log_prior: Any = 0.0,
        log_likelihood: Any = 0.0,
        log_factors: Any = 0.0,
    ) -> None:
        self.choices: dict[str, Choice] = {} if choices is None else choices
        self.observations: dict[str, Any] = {} if observations is None else observations
        self.log_prior = log_prior
        self.log_likelihood = log_likelihood
        self.log_factors = log_factors

    # -- weights -------------------------------------------------------------------------
    @property
    def total_log_weight(self) -> Any:
        """``log_prior + log_likelihood + log_factors`` (an array in batched runs)."""
        return self.log_prior + self.log_likelihood + self.log_factors

    @property
    def log_joint(self) -> Any:
        """Alias of :attr:`total_log_weight`: the log joint density of the run."""
        return self.total_log_weight

    @property
    def is_valid(self) -> bool:
        """True when the total log weight is finite (for batched traces: every entry is)."""
        total = self.total_log_weight
        if isinstance(total, np.ndarray):
            return bool(np.isfinite(total).all())
        return math.isfinite(total)

    @property
    def num_choices(self) -> int:
        """The number of latent choices."""
        return len(self.choices)

    @property
    def num_observations(self) -> int:
        """The number of observed sites (a plate's vector of values counts once)."""
        return len(self.observations)

    # -- access --------------------------------------------------------------------------
    def __getitem__(self, address: str) -> Choice:
        try:
            return self.choices[address]
        except KeyError:
            raise MissingAddressError(address, self.choices) from None

    def __contains__(self, address: object) -> bool:
        return address in self.choices

    def __iter__(self) -> Iterator[str]:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)

    def get(self, address: str) -> Any:
        """The value at ``address``.

        Raises
        ------
        MissingAddressError
            If the trace has no choice at ``address``.
        """
        return self[address].value

    def get_float(self, address: str) -> float:
        """The value at ``address`` as a float.

        Raises
        ------
        MissingAddressError
            If the address is not in the trace.
        TypeMismatchError
            If the value there is not a real number (an int or a bool, say).

        Examples
        --------
        >>> t = Trace({"k": Choice("k", 3, -1.0)})
        >>> t.get_int("k")
        3
        >>> t.get_float("k")
        Traceback (most recent call last):
        ...
        fugue_lab.errors.TypeMismatchError: address 'k': expected a float value, got int 3
        """
        value = self[address].value
        if not _is_float(value):
            raise TypeMismatchError(address, "float", value)
        return float(value)

    def get_int(self, address: str) -> int:
        """The value at ``address`` as an int (bools are not ints here)."""
        value = self[address].value
        if not _is_int(value):
            raise TypeMismatchError(address, "int", value)
        return int(value)

    def get_bool(self, address: str) -> bool:
        """The value at ``address`` as a bool."""
        value = self[address].value
        if not _is_bool(value):
            raise TypeMismatchError(address, "bool", value)
        return bool(value)

    def values(self) -> dict[str, Any]:
        """A plain ``{address: value}`` dict of the latent choices (replayable).

        Examples
        --------
        >>> Trace({"x": Choice("x", 1.5, -2.0)}).values()
        {'x': 1.5}
        """
        return {address: choice.value for address, choice in self.choices.items()}

    def log_probs(self) -> dict[str, Any]:
        """A plain ``{address: log_prob}`` dict of the latent choices."""
        return {address: choice.log_prob for address, choice in self.choices.items()}

    # -- lifecycle -----------------------------------------------------------------------
    def clear(self) -> None:
        """Empty the trace in place, keeping its storage objects (for reuse by a pool)."""
        self.choices.clear()
        self.observations.clear()
        self.log_prior = 0.0
        self.log_likelihood = 0.0
        self.log_factors = 0.0

    def copy(self) -> Trace:
        """A shallow copy: new dicts, the same (immutable) Choice records."""
        return Trace(
            dict(self.choices),
            dict(self.observations),
            self.log_prior,
            self.log_likelihood,
            self.log_factors,
        )

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], log_probs: Mapping[str, Any] | None = None
    ) -> Trace:
        """A trace holding ``values`` (log-probs 0 unless given; rescore with ScoreHandler).

        Examples
        --------
        >>> Trace.from_values({"x": 0.5}).get_float("x")
        0.5
        """
        lp = log_probs or {}
        choices = {a: Choice(a, v, lp.get(a, 0.0)) for a, v in values.items()}
        return cls(choices, log_prior=sum(c.log_prob for c in choices.values()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return (
            _same(self.values(), other.values())
            and _same(self.log_probs(), other.log_probs())
            and _same(self.observations, other.observations)
            and _same(
                (self.log_prior, self.log_likelihood, self.log_factors),
                (other.log_prior, other.log_likelihood, other.log_factors),
            )
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = ", ".join(f"{a}={_short(c.value)}" for a, c in list(self.choices.items())[:6])
        more = ", ..." if len(self.choices) > 6 else ""
        return (
            f"Trace({shown}{more}; log_prior={_short(self.log_prior)}, "
            f"log_likelihood={_short(self.log_likelihood)}, "
            f"log_factors={_short(self.log_factors)})"
        )


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.dtype} {value.shape}>"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and list(a) == list(b)
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)
