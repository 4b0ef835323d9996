"""Handlers: the interpreters of a model, and :func:`run`, which installs one.

===================  ================================================================
handler              what a run through it does
===================  ================================================================
PriorHandler         draws every latent site from its prior and records it
ReplayHandler        reuses a base trace's values where the address exists, draws the rest
ScoreHandler         scores a base trace's values; a missing address is an error
SafeReplayHandler    ReplayHandler that weights -inf (and warns once) on a type mismatch
SafeScoreHandler     ScoreHandler that weights -inf (and warns once) on a missing address
                     or a type mismatch
===================  ================================================================

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Normal, sample, observe
>>> def model():
...     x = sample("x", Normal(0.0, 1.0))
...     observe("y", Normal(x, 0.5), 1.0)
...     return x
>>> x, trace = run(PriorHandler(np.random.default_rng(0)), model)
>>> _, rescored = run(ScoreHandler(trace), model)
>>> rescored.total_log_weight == trace.total_log_weight
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from fugue_lab.core.distributions import Distribution
from fugue_lab.core.primitives import _HANDLER, _PLATES, Handler, install
from fugue_lab.core.validation import check_rng
from fugue_lab.errors import (
    AddressConflictError,
    FugueLabWarning,
    MissingAddressError,
    TypeMismatchError,
)
from fugue_lab.runtime.trace import Choice, Trace, new_choice

__all__ = [
    "PriorHandler",
    "RecordingHandler",
    "ReplayHandler",
    "SafeReplayHandler",
    "SafeScoreHandler",
    "ScoreHandler",
    "run",
]

R = TypeVar("R")

_NEG_INF = -math.inf


def run(handler: Handler, model: Callable[..., R], *args: Any, **kwargs: Any) -> tuple[R, Any]:
    """Run ``model(*args, **kwargs)`` through ``handler``.

    Parameters
    ----------
    handler
        The interpreter of the run's sites (a fresh or a finished handler).
    model
        A plain function that calls the primitives.
    *args, **kwargs
        Passed to the model.

    Returns
    -------
    (value, trace)
        What the model returned, and the trace the handler recorded.

    Raises
    ------
    HandlerError
        If ``handler`` is already running a model.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Bernoulli, sample
    >>> value, trace = run(PriorHandler(np.random.default_rng(3)), sample, "b", Bernoulli(0.5))
    >>> type(value), trace.get_bool("b") == value
    (<class 'bool'>, True)
    """
    if handler.__class__ not in _CHECKED:
        _check_handler(handler)
    if handler._active:
        install(handler).__enter__()  # raises HandlerError with the explanation
    handler._active = True
    token = _HANDLER.set(handler)
    try:
        handler.begin()
        value = model(*args, **kwargs)
        trace = handler.finish()
    except BaseException:
        handler.abort()
        raise
    finally:
        _HANDLER.reset(token)
        handler._active = False
    return value, trace


#: Handler classes already checked by run() (the isinstance check is off the hot path).
_CHECKED: set[type] = set()


def _check_handler(handler: object) -> None:
    if not isinstance(handler, Handler):
        install(handler).__enter__()  # type: ignore[arg-type]  # raises the TypeError
    _CHECKED.add(handler.__class__)


def _reduce(log_density: Any) -> Any:
    """Sum an observed plate's log-densities to one float (scalar runs)."""
    if type(log_density) is float:
        return log_density
    if isinstance(log_density, np.ndarray):
        return float(log_density.sum())
    return float(log_density)


class RecordingHandler(Handler):
    """The shared machinery of the scalar handlers: one :class:`Trace` per run.

    Subclasses decide the value of a latent site in :meth:`on_sample`; this class
    records observations and factors, checks for duplicate addresses, and hands
    the trace over in :meth:`finish`.  ``on_sample`` records its choice with
    ``self.record(address, value, log_prob)``, which also rejects a duplicate address.

    Examples
    --------
    A handler that puts every latent site at its distribution's mean:

    >>> from fugue_lab import Normal, observe, run, sample
    >>> class MeanHandler(RecordingHandler):
    ...     def on_sample(self, address, dist):
    ...         value = dist.mean
    ...         self.record(address, value, dist.log_prob(value))
    ...         return value
    >>> def model():
    ...     x = sample("x", Normal(2.0, 1.0))
    ...     observe("y", Normal(x, 1.0), 2.0)
    ...     return x
    >>> x, trace = run(MeanHandler(), model)
    >>> x, trace.log_prior == trace.log_likelihood == Normal(0.0, 1.0).log_prob(0.0)
    (2.0, True)
    """

    trace: Trace | None

    def __init__(self) -> None:
        self.trace = None

    def begin(self) -> None:
        if self.trace is None:
            self.trace = Trace()

    def record(self, address: str, value: Any, log_prob: Any) -> None:
        """Record the latent site ``address`` with its value and log-density in this run's trace.

        Raises
        ------
        AddressConflictError
            If the address is already used in this run.
        """
        trace = self.trace
        choices = trace.choices
        if address in choices or address in trace.observations:
            raise AddressConflictError(address)
        if type(log_prob) is not float:
            log_prob = _reduce(log_prob)
        choices[address] = new_choice(Choice, (address, value, log_prob))
        trace.log_prior += log_prob

    def on_observe(self, address: str, dist: Distribution, value: Any) -> None:
        trace = self.trace
        observations = trace.observations
        if address in observations or address in trace.choices:
            raise AddressConflictError(address)
        log_lik = dist.log_prob(value)
        if type(log_lik) is not float:
            log_lik = _reduce(log_lik)
        observations[address] = log_lik
        trace.log_likelihood += log_lik

    def on_factor(self, log_weight: Any) -> None:
        if type(log_weight) is not float:
            log_weight = _reduce(log_weight)
        self.trace.log_factors += log_weight

    def finish(self) -> Trace:
        trace = self.trace
        self.trace = None  # the next begin() starts a fresh one
        return trace

    def abort(self) -> None:
        self.trace = None


class PriorHandler(RecordingHandler):
    """Draw every latent site from its prior and record it.

    Parameters
    ----------
    rng
        The source of randomness; the same seed gives the same trace.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, sample
    >>> a = run(PriorHandler(np.random.default_rng(7)), sample, "x", Normal(0.0, 1.0))[0]
    >>> b = run(PriorHandler(np.random.default_rng(7)), sample, "x", Normal(0.0, 1.0))[0]
    >>> a == b
    True
    """

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.rng = check_rng(None, rng)

    def on_sample(self, address: str, dist: Distribution) -> Any:
        trace = self.trace
        choices = trace.choices
        if address in choices or address in trace.observations:
            raise AddressConflictError(address)
        if _PLATES.get():
            value = dist.sample(self.rng, size=plate_shape(dist))
            log_prob = _reduce(dist.log_prob(value))
        else:
            value = dist.sample(self.rng)
            log_prob = dist.log_prob(value)
            if type(log_prob) is not float:  # a site with array parameters: one log-density
                log_prob = _reduce(log_prob)
        choices[address] = new_choice(Choice, (address, value, log_prob))
        trace.log_prior += log_prob
        return value


def plate_shape(dist: Distribution) -> tuple[int, ...]:
    """The shape of a latent site's value inside the active plates (scalar runs).

    A site inside ``plate("data", m)`` draws ``m`` independent values (nested
    plates give one axis each, outermost first), unless the distribution's own
    parameters already have that shape.
    """
    sizes = tuple(frame.size for frame in _PLATES.get())
    return tuple(np.broadcast_shapes(dist.batch_shape, sizes))




def _base_values(base: Trace | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(base, Trace):
        return base.values()
    if isinstance(base, Mapping):
        return base
    raise TypeError(
        f"base must be a Trace or a mapping of address -> value, got {type(base).__name__}"
    )


def conforms(dist: Distribution, value: Any) -> bool:
    """Whether ``value`` is of the kind ``dist`` produces (arrays are checked by dtype).

    Examples
    --------
    >>> from fugue_lab import Bernoulli, Normal
    >>> conforms(Normal(0.0, 1.0), 0.5), conforms(Bernoulli(0.5), 0.5)
    (True, False)
    """
    kind = dist.value_type
    if isinstance(value, np.ndarray):
        code = value.dtype.kind
        if kind is bool:
            return code == "b"
        if kind is int:
            return code in "iu"
        return code in "fiu"
    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    if isinstance(value, (bool, np.bool_)):
        return False
    if kind is int:
        return isinstance(value, (int, np.integer))
    return isinstance(value, (int, float, np.integer, np.floating))


def _placeholder(dist: Distribution) -> Any:
    """An in-support value that keeps a model running after a safe handler gave up on a site."""
    support = dist.support
    if dist.value_type is bool:
        return False
    if dist.value_type is int:
        return int(support.low) if math.isfinite(support.low) else 0
    mean = dist.mean
    if isinstance(mean, float) and math.isfinite(mean):
        return mean
    low, high = support.low, support.high
    if math.isfinite(low) and math.isfinite(high):
        return 0.5 * (low + high)
    if math.isfinite(low):
        return low + 1.0
    if math.isfinite(high):
        return high - 1.0
    return 0.0


class ReplayHandler(RecordingHandler):
    """Reuse ``base``'s values where the address exists and draw the rest from the prior.

    Parameters
    ----------
    rng
        Draws the sites that ``base`` does not hold.
    base
        A trace, or a ``{address: value}`` mapping (e.g. ``trace.values()``).

    Raises
    ------
    TypeMismatchError
        (during a run) If a base value is of the wrong kind for its site.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, sample
    >>> x, _ = run(ReplayHandler(np.random.default_rng(0), {"x": 0.25}), sample, "x",
    ...            Normal(0.0, 1.0))
    >>> x
    0.25
    """

    def __init__(self, rng: np.random.Generator, base: Trace | Mapping[str, Any]) -> None:
        super().__init__()
        self.rng = check_rng(None, rng)
        self.base = _base_values(base)

    def on_sample(self, address: str, dist: Distribution) -> Any:
        base = self.base
        if address in base:
            value = base[address]
            if not conforms(dist, value):
                raise TypeMismatchError(address, dist.value_type.__name__, value)
        else:
            value = dist.sample(self.rng, size=plate_shape(dist)) if _PLATES.get() else (
                dist.sample(self.rng)
            )
        self.record(address, value, dist.log_prob(value))
        return value


class ScoreHandler(RecordingHandler):
    """Score ``base``'s values under the model; every latent address must be in ``base``.

    Parameters
    ----------
    base
        A trace or a ``{address: value}`` mapping.

    Raises
    ------
    MissingAddressError
        (during a run) If the model reaches an address that ``base`` does not hold.
    TypeMismatchError
        (during a run) If a base value is of the wrong kind for its site.

    Examples
    --------
    >>> from fugue_lab import Normal, sample
    >>> _, t = run(ScoreHandler({"x": 0.0}), sample, "x", Normal(0.0, 1.0))
    >>> round(t.log_prior, 6)
    -0.918939
    """

    def __init__(self, base: Trace | Mapping[str, Any]) -> None:
        super().__init__()
        self.base = _base_values(base)

    def on_sample(self, address: str, dist: Distribution) -> Any:
        base = self.base
        if address not in base:
            raise MissingAddressError(address, base)
        value = base[address]
        if not conforms(dist, value):
            raise TypeMismatchError(address, dist.value_type.__name__, value)
        self.record(address, value, dist.log_prob(value))
        return value


class _SafeMixin:
    """Turns a missing address or a type mismatch into a -inf weight and one warning."""

    _warned: set[tuple[str, str]]

    def _warn_once(self, address: str, cause: str, message: str) -> None:
        key = (address, cause)
        if key in self._warned:
            return
        self._warned.add(key)
        # stacklevel: _warn_once <- on_sample <- sample() <- the model's line
        warnings.warn(message, FugueLabWarning, stacklevel=4)

    def _give_up(self, address: str, dist: Distribution) -> Any:
        value = _placeholder(dist)
        self.record(address, value, _NEG_INF)  # type: ignore[attr-defined]
        return value


class SafeReplayHandler(_SafeMixin, ReplayHandler):
    """:class:`ReplayHandler` that weights a type mismatch -inf (and warns once per address).

    Examples
    --------
    >>> import numpy as np, warnings
    >>> from fugue_lab import Normal, sample
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     _, t = run(SafeReplayHandler(np.random.default_rng(0), {"x": True}), sample, "x",
    ...                Normal(0.0, 1.0))
    >>> t.total_log_weight
    -inf
    """

    def __init__(self, rng: np.random.Generator, base: Trace | Mapping[str, Any]) -> None:
        super().__init__(rng, base)
        self._warned = set()

    def on_sample(self, address: str, dist: Distribution) -> Any:
        base = self.base
        if address in base:
            value = base[address]
            if not conforms(dist, value):
                self._warn_once(
                    address,
                    "type",
                    f"address {address!r}: replayed value {value!r} is not a "
                    f"{dist.value_type.__name__}; the trace is weighted -inf",
                )
                return self._give_up(address, dist)
        else:
            value = dist.sample(self.rng, size=plate_shape(dist)) if _PLATES.get() else (
                dist.sample(self.rng)
            )
        self.record(address, value, dist.log_prob(value))
        return value


class SafeScoreHandler(_SafeMixin, ScoreHandler):
    """:class:`ScoreHandler` that weights a missing address or a type mismatch -inf.

    It warns once per address and cause instead of raising, so a batch of
    traces can be scored without one bad trace stopping it.

    Examples
    --------
    >>> import warnings
    >>> from fugue_lab import Normal, sample
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     _, t = run(SafeScoreHandler({}), sample, "x", Normal(0.0, 1.0))
    >>> t.total_log_weight
    -inf
    """

    def __init__(self, base: Trace | Mapping[str, Any]) -> None:
        super().__init__(base)
        self._warned = set()

    def on_sample(self, address: str, dist: Distribution) -> Any:
        base = self.base
        if address not in base:
            self._warn_once(
                address,
                "missing",
                f"address {address!r} is not in the scored trace; the trace is weighted -inf",
            )
            return self._give_up(address, dist)
        value = base[address]
        if not conforms(dist, value):
            self._warn_once(
                address,
                "type",
                f"address {address!r}: scored value {value!r} is not a "
                f"{dist.value_type.__name__}; the trace is weighted -inf",
            )
            return self._give_up(address, dist)
        self.record(address, value, dist.log_prob(value))
        return value
