"""TracePool: reusable trace storage and NumPy buffers, with honest reuse statistics.

The performance guide's first rule is "Pool First".  Here a pool really reuses
storage: :meth:`TracePool.put` clears a trace with :meth:`Trace.clear` (which
keeps its two dict objects) and the next :meth:`TracePool.get` hands out that
very object.  :class:`PooledPriorHandler` records straight into the pooled
trace's own dicts.  The pool also keeps NumPy array buffers, keyed by shape and
dtype, for batched runs (:meth:`TracePool.get_buffer`, :meth:`TracePool.put_buffer`,
``put(trace, recycle_arrays=True)``).

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Normal, run, sample
>>> pool = TracePool(8)
>>> handler = PooledPriorHandler(np.random.default_rng(0), pool)
>>> _, first = run(handler, sample, "x", Normal(0.0, 1.0))
>>> pool.put(first)
>>> _, second = run(handler, sample, "x", Normal(0.0, 1.0))
>>> second is first
True
>>> pool.stats
PoolStats(hits=1, misses=1, returns=1, drops=0, in_use=1, peak_in_use=1)
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from fugue_lab.errors import InvalidParameterError
from fugue_lab.runtime.handlers import PriorHandler
from fugue_lab.runtime.trace import Trace

__all__ = ["BufferStats", "PoolSnapshot", "PoolStats", "PooledPriorHandler", "TracePool"]

#: Default byte budget of the idle array buffers a pool keeps (enough for W2 at N = 1e6).
DEFAULT_MAX_BUFFER_BYTES = 256 * 2**20
#: Default number of :attr:`TracePool.stats_history` snapshots kept (the oldest go first).
DEFAULT_HISTORY_MAXLEN = 10_000


class PoolStats(NamedTuple):
    """A snapshot of a :class:`TracePool`'s counters (immutable; read ``pool.stats`` again).

    Attributes
    ----------
    hits
        ``get()`` calls served with an idle trace from the pool (storage reused).
    misses
        ``get()`` calls that had to allocate a new trace (the pool was empty).
    returns
        ``put()`` calls whose trace was kept for reuse.
    drops
        ``put()`` calls whose trace was let go because the pool held ``max_size``
        idle traces already.  (Traces removed by ``shrink``/``clear`` are not drops.)
    in_use
        Traces handed out by ``get()`` that have neither come back through ``put()``
        nor been garbage-collected.
    peak_in_use
        The largest ``in_use`` seen (since creation or ``reset_stats()``): the
        "peak concurrent inference" the guide says to size a pool by.

    Examples
    --------
    >>> s = PoolStats(hits=3, misses=1, returns=4, drops=0, in_use=0, peak_in_use=1)
    >>> s.total_gets, s.hit_ratio
    (4, 0.75)
    """

    hits: int
    misses: int
    returns: int
    drops: int
    in_use: int
    peak_in_use: int

    @property
    def total_gets(self) -> int:
        """``hits + misses``."""
        return self.hits + self.misses

    @property
    def total_puts(self) -> int:
        """``returns + drops``."""
        return self.returns + self.drops

    @property
    def hit_ratio(self) -> float:
        """The fraction of gets served from the pool, in [0, 1] (0.0 before any get)."""
        gets = self.hits + self.misses
        return self.hits / gets if gets else 0.0


class PoolSnapshot(NamedTuple):
    """One entry of :attr:`TracePool.stats_history`.

    Attributes
    ----------
    total_gets
        The pool's get count when the snapshot was taken.
    timestamp
        ``time.perf_counter()`` at that moment, in seconds (compare entries, not clocks).
    stats
        The :class:`PoolStats` at that moment.
    """

    total_gets: int
    timestamp: float
    stats: PoolStats

    def as_row(self) -> dict[str, Any]:
        """A flat ``dict`` (for a DataFrame row): the snapshot's fields and the stats'.

        Examples
        --------
        >>> s = PoolSnapshot(2, 10.5, PoolStats(1, 1, 0, 0, 2, 2))
        >>> s.as_row()["hit_ratio"], s.as_row()["timestamp_s"]
        (0.5, 10.5)
        """
        row: dict[str, Any] = {"total_gets": self.total_gets, "timestamp_s": self.timestamp}
        row.update(self.stats._asdict())
        row["hit_ratio"] = self.stats.hit_ratio
        return row


class BufferStats(NamedTuple):
    """A snapshot of a pool's array-buffer counters (see :meth:`TracePool.get_buffer`).

    Attributes
    ----------
    hits, misses
        ``get_buffer`` calls served from the pool / that allocated with ``np.empty``.
    returns, drops
        Buffers kept / let go (over ``max_buffer_bytes``) by ``put_buffer`` and by
        ``put(trace, recycle_arrays=True)``.
    held
        Idle buffers the pool holds now.
    held_bytes
        Their total size in bytes (at most ``max_buffer_bytes``).
    """

    hits: int
    misses: int
    returns: int
    drops: int
    held: int
    held_bytes: int

    @property
    def total_gets(self) -> int:
        """``hits + misses``."""
        return self.hits + self.misses

    @property
    def hit_ratio(self) -> float:
        """The fraction of buffer requests served from the pool (0.0 before any)."""
        gets = self.hits + self.misses
        return self.hits / gets if gets else 0.0


def _forget(out: dict[int, Any], key: int, ref: weakref.ref) -> None:
    """Weakref callback: a handed-out trace died without coming back; it is no longer in use.

    It runs during the trace's deallocation, before its id can be reused, and takes
    no lock (a single dict operation is atomic), so it cannot deadlock with a pool
    method that happens to be running in the same thread.
    """
    if out.get(key) is ref:
        out.pop(key, None)


def _check_int(owner: str, name: str, value: object, low: int, expected: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError(owner, name, value, expected)
    if value < low:
        raise InvalidParameterError(owner, name, value, expected)
    return int(value)


def _as_shape(shape: object) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, tuple):
        try:
            shape = tuple(shape)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(
                f"get_buffer: shape must be an int or a tuple of ints, got {shape!r}"
            ) from None
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InvalidParameterError("get_buffer", "shape", shape, "a tuple of ints >= 0")
    return tuple(int(n) for n in shape)


def _reusable(array: np.ndarray) -> bool:
    """Whether ``array`` owns contiguous, writeable, non-object memory (so it may be reused)."""
    flags = array.flags
    return (
        array.base is None and flags.c_contiguous and flags.writeable and not array.dtype.hasobject
    )


def _trace_arrays(trace: Trace) -> list[np.ndarray]:
    """The distinct reusable arrays a (batched) trace holds: values, log-probs, weights."""
    found: dict[int, np.ndarray] = {}
    candidates: list[Any] = [trace.log_prior, trace.log_likelihood, trace.log_factors]
    for choice in trace.choices.values():
        candidates.append(choice[1])
        candidates.append(choice[2])
    candidates.extend(trace.observations.values())
    for item in candidates:
        if isinstance(item, np.ndarray) and _reusable(item):
            found[id(item)] = item
    return list(found.values())


class TracePool:
    """A thread-safe pool of reusable :class:`Trace` objects and NumPy buffers.

    ``get()`` hands out an idle trace (a *hit*) or a new one (a *miss*);
    ``put(trace)`` clears it (:meth:`Trace.clear` keeps its dict objects) and keeps
    it for the next ``get()`` when fewer than ``max_size`` traces are idle (a
    *return*), or lets it go (a *drop*).  Idle traces are reused last-in, first-out.

    What it buys, measured (``benchmarks/memory_figures.py``, W1 of WORKLOADS.md,
    2 vCPU, medians): on scalar traces the pool does *not* make runs faster, a
    pooled W1 execution takes 1.2 times as long as a plain one (4.3 us against
    3.6 us, floor 1.0 us, hit ratio 0.99999) because a locked ``get()`` +
    ``put()`` (about 0.65 us) costs more than allocating a new Trace (0.12 us);
    what it does buy is bounded memory (at most ``max_size`` idle traces and
    ``max_buffer_bytes`` of buffers), reuse statistics (hit ratio,
    ``peak_in_use``, history) and the reusable NumPy buffers that let a
    warmed-up batched run allocate almost nothing.

    Parameters
    ----------
    max_size
        The most idle traces the pool keeps (its ``capacity``), an int >= 1.
    min_size
        The number of idle traces :meth:`shrink` keeps and :meth:`prewarm`
        fills up to by default; an int in ``[0, max_size]``, default 0.
    history_every
        If given (an int >= 1), append a :class:`PoolSnapshot` to
        :attr:`stats_history` every ``history_every`` gets; see :meth:`record_history`.
    history_maxlen
        The most snapshots kept; the oldest are discarded first.
    max_buffer_bytes
        The byte budget of idle array buffers (see :meth:`get_buffer`); a buffer
        that would exceed it is dropped instead of kept.

    Raises
    ------
    InvalidParameterError
        If a size is not an int, ``max_size < 1``, or ``min_size`` is outside
        ``[0, max_size]``.

    Notes
    -----
    One ``threading.Lock`` guards the pool; the uncontended ``get()`` + ``put()``
    pair costs about 0.65 us (two lock round trips, the clear, the bookkeeping).
    A trace belongs to the code that got it until it is put back: put it back
    once (a second put while it is idle raises ValueError), into the pool it came
    from, and do not use it afterwards.
    ``in_use`` counts a handed-out trace until it is put back or garbage-collected.

    Examples
    --------
    >>> pool = TracePool(max_size=4, min_size=2)
    >>> pool.prewarm()
    2
    >>> t = pool.get()
    >>> pool.stats.hit_ratio
    1.0
    >>> with pool.borrow() as u:
    ...     u.log_factors = -1.0
    >>> pool.put(t)
    >>> len(pool), pool.capacity
    (2, 4)
    """

    def __init__(
        self,
        max_size: int,
        min_size: int | None = None,
        *,
        history_every: int | None = None,
        history_maxlen: int = DEFAULT_HISTORY_MAXLEN,
        max_buffer_bytes: int = DEFAULT_MAX_BUFFER_BYTES,
    ) -> None:
        self._max_size = _check_int("TracePool", "max_size", max_size, 1, "an int >= 1")
        if min_size is None:
            self._min_size = 0
        else:
            self._min_size = _check_int(
                "TracePool", "min_size", min_size, 0, f"an int in [0, max_size={max_size}]"
            )
            if self._min_size > self._max_size:
                raise InvalidParameterError(
                    "TracePool", "min_size", min_size, f"an int in [0, max_size={max_size}]"
                )
        self._max_buffer_bytes = _check_int(
            "TracePool", "max_buffer_bytes", max_buffer_bytes, 0, "an int >= 0"
        )
        self._lock = threading.Lock()
        # Idle traces (last in, first out), and id -> the one weakref the pool keeps for each.
        self._free: list[Trace] = []
        self._idle: dict[int, weakref.ref] = {}
        # id -> weakref of every trace handed out and not yet back: in_use == len(_out).
        self._out: dict[int, weakref.ref] = {}
        self._hits = self._misses = self._returns = self._drops = 0
        self._peak = 0
        # History.
        maxlen = _check_int("TracePool", "history_maxlen", history_maxlen, 1, "an int >= 1")
        self._history: deque[PoolSnapshot] = deque(maxlen=maxlen)
        self._history_every = 0
        self._countdown = 0
        if history_every is not None:
            self.record_history(history_every)
        # Array buffers: (shape, dtype) -> idle arrays.
        self._buffers: dict[tuple[tuple[int, ...], np.dtype], list[np.ndarray]] = {}
        self._buffer_ids: set[int] = set()
        self._buffer_bytes = 0
        self._b_hits = self._b_misses = self._b_returns = self._b_drops = 0

    # -- sizes ---------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """The most idle traces the pool keeps (``max_size``)."""
        return self._max_size

    @property
    def max_size(self) -> int:
        """Alias of :attr:`capacity`."""
        return self._max_size

    @property
    def min_size(self) -> int:
        """What :meth:`shrink` keeps and :meth:`prewarm` fills to by default."""
        return self._min_size

    @property
    def max_buffer_bytes(self) -> int:
        """The byte budget of idle array buffers."""
        return self._max_buffer_bytes

    def __len__(self) -> int:
        """The number of idle traces held now."""
        return len(self._free)

    # -- traces --------------------------------------------------------------------------
    def _weakref(self, trace: Trace) -> weakref.ref:
        return weakref.ref(trace, partial(_forget, self._out, id(trace)))

    def get(self) -> Trace:
        """An empty trace: an idle one if the pool holds any (a hit), else a new one (a miss).

        Examples
        --------
        >>> pool = TracePool(2)
        >>> t = pool.get()
        >>> pool.put(t)
        >>> pool.get() is t
        True
        """
        lock = self._lock
        lock.acquire()  # (cheaper than `with`; the try/finally releases it on any error)
        try:
            free = self._free
            if free:
                trace = free.pop()
                key = id(trace)
                ref = self._idle.pop(key)
                self._hits += 1
            else:
                trace = Trace()
                key = id(trace)
                ref = self._weakref(trace)
                self._misses += 1
            out = self._out
            out[key] = ref
            if len(out) > self._peak:
                self._peak = len(out)
            if self._history_every:
                self._countdown -= 1
                if self._countdown <= 0:
                    self._countdown = self._history_every
                    self._history.append(
                        PoolSnapshot(
                            self._hits + self._misses, time.perf_counter(), self._stats_locked()
                        )
                    )
        finally:
            lock.release()
        return trace

    def put(self, trace: Trace, *, recycle_arrays: bool = False) -> None:
        """Clear ``trace`` and keep it for reuse if there is room (a return), else drop it.

        Parameters
        ----------
        trace
            A trace, normally one this pool handed out.  Do not use it afterwards.
        recycle_arrays
            Also keep the NumPy arrays the trace holds (values, log-probs, log
            weights of a batched run) as buffers for :meth:`get_buffer`.  Only
            arrays that own their memory are taken.  Use it only when nothing
            else still refers to those arrays: they will be overwritten.

        Raises
        ------
        TypeError
            If ``trace`` is not a :class:`Trace`.
        ValueError
            If ``trace`` is already idle in this pool (put back twice).

        Examples
        --------
        >>> pool = TracePool(1)
        >>> pool.put(pool.get())
        >>> pool.put(Trace())          # no room: dropped
        >>> pool.stats.returns, pool.stats.drops
        (1, 1)
        """
        if type(trace) is not Trace and not isinstance(trace, Trace):
            raise TypeError(
                f"TracePool.put: expected a Trace, got {type(trace).__name__} {trace!r}"
            )
        arrays = _trace_arrays(trace) if recycle_arrays else None
        trace.clear()
        key = id(trace)
        lock = self._lock
        lock.acquire()
        try:
            idle = self._idle
            if key in idle:
                raise ValueError(
                    "TracePool.put: this trace is already idle in the pool; put each trace "
                    "back once, and only after you are done with it"
                )
            ref = self._out.pop(key, None)
            if len(self._free) < self._max_size:
                if ref is None:  # a trace from elsewhere: the pool adopts it
                    ref = self._weakref(trace)
                self._free.append(trace)
                idle[key] = ref
                self._returns += 1
            else:
                self._drops += 1
            if arrays:
                for array in arrays:
                    self._put_buffer_locked(array)
        finally:
            lock.release()

    #: Alias of :meth:`put` (the name Fugue's pool used).
    return_trace = put

    @contextmanager
    def borrow(self) -> Iterator[Trace]:
        """A context manager: a trace from :meth:`get`, put back on exit (also on exceptions).

        Do not put the borrowed trace back yourself.

        Examples
        --------
        >>> pool = TracePool(2)
        >>> with pool.borrow() as t:
        ...     len(pool)
        0
        >>> len(pool), pool.stats.in_use
        (1, 0)
        """
        trace = self.get()
        try:
            yield trace
        finally:
            self.put(trace)

    def prewarm(self, n: int | None = None) -> int:
        """Fill the pool with new idle traces until it holds ``n`` (default ``min_size``).

        Prewarming is not counted in the statistics.

        Returns
        -------
        int
            How many traces were created.

        Raises
        ------
        InvalidParameterError
            If ``n`` is not an int in ``[0, max_size]``.

        Examples
        --------
        >>> pool = TracePool(10)
        >>> pool.prewarm(4), pool.prewarm(3), len(pool)
        (4, 0, 4)
        """
        if n is None:
            target = self._min_size
        else:
            target = _check_int(
                "TracePool.prewarm", "n", n, 0, f"an int in [0, max_size={self._max_size}]"
            )
            if target > self._max_size:
                raise InvalidParameterError(
                    "TracePool.prewarm", "n", n, f"an int in [0, max_size={self._max_size}]"
                )
        created = 0
        with self._lock:
            while len(self._free) < target:
                trace = Trace()
                self._free.append(trace)
                self._idle[id(trace)] = self._weakref(trace)
                created += 1
        return created

    def shrink_to(self, n: int) -> int:
        """Let go of the oldest idle traces until at most ``n`` remain; return how many went.

        Examples
        --------
        >>> pool = TracePool(8)
        >>> _ = pool.prewarm(5)
        >>> pool.shrink_to(2), len(pool)
        (3, 2)
        """
        n = _check_int("TracePool.shrink_to", "n", n, 0, "an int >= 0")
        with self._lock:
            excess = len(self._free) - n
            if excess <= 0:
                return 0
            for trace in self._free[:excess]:
                del self._idle[id(trace)]
            del self._free[:excess]
            return excess

    def shrink(self) -> int:
        """Let go of idle traces beyond ``min_size``; return how many went.

        Examples
        --------
        >>> pool = TracePool(8, min_size=1)
        >>> _ = pool.prewarm(5)
        >>> pool.shrink(), len(pool)
        (4, 1)
        """
        return self.shrink_to(self._min_size)

    def clear(self) -> None:
        """Let go of every idle trace and every idle buffer (the statistics stay).

        Examples
        --------
        >>> pool = TracePool(4)
        >>> _ = pool.prewarm(4)
        >>> pool.clear()
        >>> len(pool)
        0
        """
        with self._lock:
            self._free.clear()
            self._idle.clear()
            self._buffers.clear()
            self._buffer_ids.clear()
            self._buffer_bytes = 0

    # -- statistics ----------------------------------------------------------------------
    def _stats_locked(self) -> PoolStats:
        return PoolStats(
            self._hits, self._misses, self._returns, self._drops, len(self._out), self._peak
        )

    @property
    def stats(self) -> PoolStats:
        """A consistent snapshot of the counters (see :class:`PoolStats`)."""
        with self._lock:
            return self._stats_locked()

    def reset_stats(self) -> None:
        """Zero the counters (traces and buffers) and the history; ``peak_in_use`` := ``in_use``.

        Examples
        --------
        >>> pool = TracePool(2)
        >>> t = pool.get()
        >>> pool.reset_stats()
        >>> pool.stats
        PoolStats(hits=0, misses=0, returns=0, drops=0, in_use=1, peak_in_use=1)
        """
        with self._lock:
            self._hits = self._misses = self._returns = self._drops = 0
            self._peak = len(self._out)
            self._b_hits = self._b_misses = self._b_returns = self._b_drops = 0
            self._history.clear()
            self._countdown = self._history_every

    def record_history(self, every: int | None) -> None:
        """Take a :class:`PoolSnapshot` every ``every`` gets (``None`` stops recording).

        The snapshots already taken stay in :attr:`stats_history`.

        Raises
        ------
        InvalidParameterError
            If ``every`` is neither None nor an int >= 1.

        Examples
        --------
        >>> pool = TracePool(2)
        >>> pool.record_history(every=2)
        >>> for _ in range(5):
        ...     pool.put(pool.get())
        >>> [s.total_gets for s in pool.stats_history]
        [2, 4]
        """
        value = 0
        if every is not None:
            value = _check_int("TracePool", "history_every", every, 1, "None or an int >= 1")
        with self._lock:
            self._history_every = value
            self._countdown = value

    @property
    def history_every(self) -> int | None:
        """The snapshot interval in gets, or None when no history is recorded."""
        return self._history_every or None

    @property
    def stats_history(self) -> list[PoolSnapshot]:
        """The snapshots taken so far, oldest first (a copy)."""
        with self._lock:
            return list(self._history)

    # -- array buffers -------------------------------------------------------------------
    def get_buffer(self, shape: int | tuple[int, ...], dtype: DTypeLike = np.float64) -> np.ndarray:
        """An array of ``shape`` and ``dtype`` with arbitrary contents, like ``np.empty``.

        ``dtype=None`` means float64, as in NumPy.  The result is an idle buffer
        of exactly that shape and dtype if the pool holds one (a hit in
        :attr:`buffer_stats`), else a new ``np.empty`` array (a miss).  Give it
        back with :meth:`put_buffer` (or inside a trace with
        ``put(trace, recycle_arrays=True)``) when nothing refers to it any more.

        Raises
        ------
        TypeError, InvalidParameterError
            If ``shape`` is not an int or a tuple of ints >= 0.

        Examples
        --------
        >>> import numpy as np
        >>> pool = TracePool(1)
        >>> a = pool.get_buffer(3)
        >>> pool.put_buffer(a)
        >>> pool.get_buffer((3,), np.float64) is a, pool.get_buffer(3, np.float32) is a
        (True, False)
        >>> pool.buffer_stats.hits, pool.buffer_stats.misses
        (1, 2)
        """
        key = (_as_shape(shape), np.dtype(dtype))
        with self._lock:
            stack = self._buffers.get(key)
            if stack:
                array = stack.pop()
                self._buffer_ids.discard(id(array))
                self._buffer_bytes -= array.nbytes
                self._b_hits += 1
                return array
            self._b_misses += 1
        return np.empty(key[0], key[1])

    def put_buffer(self, array: np.ndarray) -> None:
        """Keep ``array`` for a later :meth:`get_buffer` of its shape and dtype (or drop it).

        It is dropped when keeping it would exceed ``max_buffer_bytes``.

        Raises
        ------
        TypeError
            If ``array`` is not a NumPy array.
        ValueError
            If it does not own contiguous writeable memory (a view, say), has
            dtype object, or is already idle in the pool.
        """
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"TracePool.put_buffer: expected a numpy.ndarray, got {type(array).__name__}"
            )
        if not _reusable(array):
            raise ValueError(
                "TracePool.put_buffer: only a C-contiguous, writeable array that owns its memory "
                "(not a view) and has a non-object dtype can be reused; got "
                f"shape {array.shape}, dtype {array.dtype}, base is None: {array.base is None}"
            )
        with self._lock:
            if id(array) in self._buffer_ids:
                raise ValueError("TracePool.put_buffer: this array is already idle in the pool")
            self._put_buffer_locked(array)

    def _put_buffer_locked(self, array: np.ndarray) -> None:
        key = id(array)
        if key in self._buffer_ids:  # already held (recycled twice): nothing to do
            return
        if self._buffer_bytes + array.nbytes > self._max_buffer_bytes:
            self._b_drops += 1
            return
        self._buffers.setdefault((array.shape, array.dtype), []).append(array)
        self._buffer_ids.add(key)
        self._buffer_bytes += array.nbytes
        self._b_returns += 1

    @property
    def buffer_stats(self) -> BufferStats:
        """A snapshot of the array-buffer counters (see :class:`BufferStats`)."""
        with self._lock:
            return BufferStats(
                self._b_hits,
                self._b_misses,
                self._b_returns,
                self._b_drops,
                len(self._buffer_ids),
                self._buffer_bytes,
            )

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"TracePool(idle={len(self)}, max_size={self._max_size}, min_size={self._min_size}, "
            f"in_use={s.in_use}, hit_ratio={s.hit_ratio:.3f})"
        )


class PooledPriorHandler(PriorHandler):
    """A :class:`PriorHandler` whose traces come from a :class:`TracePool`.

    :meth:`begin` takes a trace from the pool, the run records straight into that
    trace's own dicts, and :meth:`finish` hands it to the caller, who puts it back
    with ``pool.put(trace)`` when done.  If the model raises, :meth:`abort` puts the
    trace back.  The values drawn are those of a ``PriorHandler`` with the same rng.

    Parameters
    ----------
    rng
        The source of randomness.
    pool
        Where the traces come from.

    Raises
    ------
    TypeError
        If ``pool`` is not a :class:`TracePool` (or ``rng`` not a Generator).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, run, sample
    >>> pool = TracePool(4)
    >>> _, t = run(PooledPriorHandler(np.random.default_rng(0), pool), sample, "x",
    ...            Normal(0.0, 1.0))
    >>> pool.put(t)
    >>> pool.stats.returns, len(pool)
    (1, 1)
    """

    def __init__(self, rng: np.random.Generator, pool: TracePool) -> None:
        if not isinstance(pool, TracePool):
            raise TypeError(
                f"PooledPriorHandler: pool must be a TracePool, got {type(pool).__name__}"
            )
        super().__init__(rng)
        self.pool = pool
        self.trace = None  # type: ignore[assignment]  # no trace between runs

    def begin(self) -> None:
        self.trace = self.pool.get()

    def finish(self) -> Trace:
        trace = self.trace
        self.trace = None  # type: ignore[assignment]
        return trace

    def abort(self) -> None:
        trace = self.trace
        self.trace = None  # type: ignore[assignment]
        if trace is not None:
            self.pool.put(trace)
