"""The modelling primitives and the handler stack they talk to.

A model is a plain Python function that calls :func:`sample`, :func:`observe`,
:func:`factor` and :func:`guard`, and groups independent repetition with
:func:`plate`.  None of these does anything by itself: each hands its site to
the *active handler*, which decides what a site means (draw from the prior,
replay a value, score a value, ...).  The active handler lives in a
:class:`contextvars.ContextVar`, so runs are safe in threads and async code.

Handlers are installed by :func:`fugue_lab.run`; this module only defines the
protocol (:class:`Handler`) and the dispatch.

Examples
--------
>>> from fugue_lab import Normal, PriorHandler, run, sample, observe
>>> import numpy as np
>>> def model():
...     x = sample("x", Normal(0.0, 1.0))
...     observe("y", Normal(x, 0.5), 1.2)
...     return x
>>> value, trace = run(PriorHandler(np.random.default_rng(0)), model)
>>> list(trace.choices)
['x']
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

import numpy as np

from fugue_lab.core.address import _SCOPE, escape
from fugue_lab.core.distributions import Distribution
from fugue_lab.errors import HandlerError, InvalidParameterError, NoHandlerError

__all__ = [
    "Handler",
    "PlateFrame",
    "active_handler",
    "current_plates",
    "factor",
    "guard",
    "install",
    "observe",
    "plate",
    "sample",
]


class Handler:
    """The protocol every handler implements.

    A handler interprets one run of a model.  :func:`fugue_lab.run` calls
    :meth:`begin`, then the model (whose primitives call the ``on_*`` methods),
    then :meth:`finish`, which hands over the finished trace.  A handler may be
    reused for another run after :meth:`finish` (or :meth:`abort`).

    Subclasses override the ``on_*`` methods; each receives the full address
    (scope prefix applied).
    """

    #: True while the handler is installed; installing it twice at once is an error.
    _active: bool = False

    def begin(self) -> None:
        """Start a new run (reset per-run state)."""

    def on_sample(self, address: str, dist: Distribution) -> Any:
        """Return the value of the latent site ``address`` drawn from ``dist``."""
        raise NotImplementedError

    def on_observe(self, address: str, dist: Distribution, value: Any) -> None:
        """Condition on ``value`` observed at ``address`` under ``dist``."""
        raise NotImplementedError

    def on_factor(self, log_weight: Any) -> None:
        """Add ``log_weight`` to the run's log weight."""
        raise NotImplementedError

    def finish(self) -> Any:
        """End the run and return its trace."""
        raise NotImplementedError

    def abort(self) -> None:
        """End a run that raised; drop whatever it recorded."""


_HANDLER: ContextVar[Handler | None] = ContextVar("fugue_lab_handler", default=None)


class PlateFrame(NamedTuple):
    """One active :func:`plate`: its name, its size and its nesting depth (0 = outermost)."""

    name: str
    size: int
    depth: int


_PLATES: ContextVar[tuple[PlateFrame, ...]] = ContextVar("fugue_lab_plates", default=())


def active_handler() -> Handler | None:
    """The handler that the primitives currently talk to, or None outside :func:`fugue_lab.run`.

    Examples
    --------
    >>> active_handler() is None
    True
    """
    return _HANDLER.get()


def current_plates() -> tuple[PlateFrame, ...]:
    """The active plates, outermost first.

    Examples
    --------
    >>> with plate("data", 3):
    ...     current_plates()
    (PlateFrame(name='data', size=3, depth=0),)
    """
    return _PLATES.get()


@contextmanager
def install(handler: Handler) -> Iterator[Handler]:
    """Make ``handler`` the active handler inside the block (used by :func:`fugue_lab.run`).

    Raises
    ------
    HandlerError
        If the handler is already installed (a handler serves one run at a time).
    TypeError
        If ``handler`` is not a :class:`Handler`.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, PriorHandler
    >>> handler = PriorHandler(np.random.default_rng(0))
    >>> handler.begin()
    >>> with install(handler):
    ...     x = sample("x", Normal(0.0, 1.0))
    ...     active_handler() is handler
    True
    >>> list(handler.finish().choices), active_handler() is None
    (['x'], True)
    """
    if not isinstance(handler, Handler):
        raise TypeError(
            f"handler must be a fugue_lab Handler (PriorHandler, ReplayHandler, ...), "
            f"got {type(handler).__name__}"
        )
    if handler._active:
        raise HandlerError(
            f"{type(handler).__name__} is already running a model; a handler serves one run at "
            "a time: create a second handler for a nested or concurrent run"
        )
    handler._active = True
    token = _HANDLER.set(handler)
    try:
        yield handler
    finally:
        _HANDLER.reset(token)
        handler._active = False


def _no_handler(primitive: str) -> NoHandlerError:
    return NoHandlerError(
        f"{primitive}() was called outside a run: there is no handler to interpret the site. "
        "Run the model through a handler, e.g. run(PriorHandler(rng), model, *args)"
    )


#: Distribution classes already seen by a primitive (a set lookup is cheaper than an
#: isinstance check against the abstract base class on every site).
_KNOWN_DISTRIBUTIONS: set[type] = set()


def _check_site(address: object, dist: object, primitive: str) -> None:
    if type(address) is not str:
        raise TypeError(
            f"{primitive}: address must be a str (use addr(name, i) to build one), "
            f"got {type(address).__name__} {address!r}"
        )
    if not isinstance(dist, Distribution):
        raise TypeError(
            f"{primitive}({address!r}, ...): dist must be a fugue_lab Distribution, "
            f"got {type(dist).__name__}"
        )
    _KNOWN_DISTRIBUTIONS.add(dist.__class__)


def sample(address: str, dist: Distribution) -> Any:
    """Draw (or replay, or score) the latent random choice ``address`` from ``dist``.

    Parameters
    ----------
    address
        The site's address, unique within a run (see :func:`fugue_lab.addr`).
    dist
        The distribution the choice follows.

    Returns
    -------
    Any
        The value the active handler gives the site: a float, int or bool in
        scalar runs, an array with the particle axis first in batched runs.

    Raises
    ------
    NoHandlerError
        If called outside :func:`fugue_lab.run`.
    AddressConflictError
        If the address was already used in this run.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, PriorHandler, run
    >>> value, trace = run(PriorHandler(np.random.default_rng(1)), sample, "x", Normal(0.0, 1.0))
    >>> trace.get_float("x") == value
    True
    """
    handler = _HANDLER.get()
    if handler is None:
        raise _no_handler("sample")
    if type(address) is not str or dist.__class__ not in _KNOWN_DISTRIBUTIONS:
        _check_site(address, dist, "sample")
    prefix = _SCOPE.get()
    return handler.on_sample(prefix + address if prefix else address, dist)


def observe(address: str, dist: Distribution, value: Any) -> None:
    """Condition the run on ``value`` having been observed from ``dist``.

    The log-density of the value is added to the trace's log-likelihood.  Inside
    a :func:`plate`, ``value`` may be an array of independent observations that
    is scored in one vectorized call and summed.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, PriorHandler, run
    >>> _, trace = run(PriorHandler(np.random.default_rng(0)), observe, "y", Normal(0.0, 1.0), 0.0)
    >>> round(trace.log_likelihood, 6)
    -0.918939
    """
    handler = _HANDLER.get()
    if handler is None:
        raise _no_handler("observe")
    if type(address) is not str or dist.__class__ not in _KNOWN_DISTRIBUTIONS:
        _check_site(address, dist, "observe")
    prefix = _SCOPE.get()
    handler.on_observe(prefix + address if prefix else address, dist, value)


def factor(log_weight: float | np.ndarray) -> None:
    """Add ``log_weight`` to the run's log weight (a soft constraint).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import PriorHandler, run
    >>> _, trace = run(PriorHandler(np.random.default_rng(0)), factor, -1.5)
    >>> trace.log_factors
    -1.5
    """
    handler = _HANDLER.get()
    if handler is None:
        raise _no_handler("factor")
    if type(log_weight) is not float:
        log_weight = _as_log_weight(log_weight)
    handler.on_factor(log_weight)


def _as_log_weight(log_weight: object) -> float | np.ndarray:
    if isinstance(log_weight, np.ndarray):
        if log_weight.dtype.kind not in "fiu":
            raise TypeError(f"factor: log_weight must be numeric, got dtype {log_weight.dtype}")
        return log_weight
    if isinstance(log_weight, (bool, np.bool_)) or not isinstance(
        log_weight, (int, float, np.number)
    ):
        raise TypeError(
            f"factor: log_weight must be a real number or an array, "
            f"got {type(log_weight).__name__} {log_weight!r}"
        )
    return float(log_weight)


def guard(condition: bool | np.ndarray) -> None:
    """Keep the run only where ``condition`` holds: a factor of 0 if true, -inf if false.

    In a batched run ``condition`` may be an array (one entry per particle).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import PriorHandler, run
    >>> _, trace = run(PriorHandler(np.random.default_rng(0)), guard, False)
    >>> trace.log_factors
    -inf
    """
    if isinstance(condition, np.ndarray) and condition.ndim > 0:
        factor(np.where(condition, 0.0, -math.inf))
    else:
        factor(0.0 if condition else -math.inf)


@contextmanager
def plate(name: str, size: int) -> Iterator[PlateFrame]:
    """Mark independent repetition of size ``size``.

    Inside a plate a site may take array-valued parameters and values, which are
    scored in one vectorized call: the fast way to write a data likelihood.

    Parameters
    ----------
    name
        The plate's name (for diagnostics; it does not change addresses).
    size
        The number of independent repetitions, >= 0.

    Raises
    ------
    InvalidParameterError
        If ``size`` is negative.
    TypeError
        If ``size`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, PriorHandler, run
    >>> def model(ys):
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     with plate("data", len(ys)):
    ...         observe("y", Normal(mu, 1.0), ys)
    >>> _, trace = run(PriorHandler(np.random.default_rng(0)), model, np.zeros(3))
    >>> trace.num_observations
    1
    """
    escape(name)  # validates the type
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"plate {name!r}: size must be an int, got {type(size).__name__} {size!r}")
    if size < 0:
        raise InvalidParameterError(f"plate {name!r}", "size", size, ">= 0")
    plates = _PLATES.get()
    frame = PlateFrame(name, int(size), len(plates))
    token = _PLATES.set((*plates, frame))
    try:
        yield frame
    finally:
        _PLATES.reset(token)
