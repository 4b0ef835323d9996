"""Tidy frames of runtime objects: a pool's statistics over time, trace characteristics.

Each function returns a plain :class:`pandas.DataFrame` of raw (unrounded)
numbers, one row per observation, with units in the column names; the
matching plots are in :mod:`fugue_lab.diagnostics.plots`.

Examples
--------
>>> import numpy as np
>>> from fugue_lab.runtime.trace import Choice, Trace
>>> t = Trace({"x": Choice("x", 0.5, -1.0)}, {"y": -2.0}, log_prior=-1.0, log_likelihood=-2.0)
>>> trace_frame([t])[["n_choices", "n_observations", "total_log_weight", "is_valid"]]
   n_choices  n_observations  total_log_weight  is_valid
0          1               1              -3.0      True
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from fugue_lab.diagnostics._deps import ArgumentTypeError, pandas
from fugue_lab.errors import InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "POOL_COLUMNS",
    "TRACE_COLUMNS",
    "pool_frame",
    "trace_frame",
    "trace_size_bytes",
]

#: The columns of :func:`pool_frame`, in order.
POOL_COLUMNS: tuple[str, ...] = (
    "snapshot",
    "elapsed_s",
    "total_gets",
    "hits",
    "misses",
    "returns",
    "drops",
    "hit_ratio",
    "in_use",
    "peak_in_use",
    "is_current",
)

#: The columns of :func:`trace_frame`, in order.
TRACE_COLUMNS: tuple[str, ...] = (
    "trace",
    "n_choices",
    "n_observations",
    "log_prior",
    "log_likelihood",
    "log_factors",
    "total_log_weight",
    "is_valid",
    "size_bytes",
)

_STAT_FIELDS = ("hits", "misses", "returns", "drops", "in_use", "peak_in_use")


# --------------------------------------------------------------------------- pools


def _is_stats(obj: object) -> bool:
    return all(hasattr(obj, f) for f in _STAT_FIELDS) and hasattr(obj, "hit_ratio")


def _stats_row(stats: Any) -> dict[str, Any]:
    row: dict[str, Any] = {f: int(getattr(stats, f)) for f in _STAT_FIELDS}
    row["total_gets"] = row["hits"] + row["misses"]
    row["hit_ratio"] = float(stats.hit_ratio)
    return row


def pool_frame(pool: Any) -> pd.DataFrame:
    """A pool's statistics over time: its ``stats_history`` snapshots, then its state now.

    Parameters
    ----------
    pool
        A :class:`~fugue_lab.runtime.pool.TracePool` (record snapshots with
        ``TracePool(..., history_every=k)`` or ``pool.record_history(k)``), or a
        single :class:`~fugue_lab.runtime.pool.PoolStats`.

    Returns
    -------
    pandas.DataFrame
        One row per snapshot, oldest first, and a last row for the pool's
        current ``stats`` (``is_current`` True). Columns (:data:`POOL_COLUMNS`):
        ``snapshot`` (0, 1, ...), ``elapsed_s`` (seconds since the first row;
        NaN for a bare PoolStats), ``total_gets``, ``hits``, ``misses``,
        ``returns``, ``drops``, ``hit_ratio`` (a fraction in [0, 1]), ``in_use``,
        ``peak_in_use``, ``is_current``. The counters are cumulative, as the
        pool keeps them.

    Raises
    ------
    ArgumentTypeError
        If ``pool`` is neither a pool nor a PoolStats (a TypeError).

    Examples
    --------
    >>> from fugue_lab.runtime.pool import TracePool
    >>> pool = TracePool(4, history_every=2)
    >>> for _ in range(4):
    ...     pool.put(pool.get())
    >>> pool_frame(pool)[["snapshot", "total_gets", "hits", "hit_ratio", "is_current"]]
       snapshot  total_gets  hits  hit_ratio  is_current
    0         0           2     1       0.50       False
    1         1           4     3       0.75       False
    2         2           4     3       0.75        True
    """
    pd = pandas("pool_frame")
    rows: list[dict[str, Any]] = []
    if _is_stats(pool):
        row = _stats_row(pool)
        row["elapsed_s"] = math.nan
        row["is_current"] = True
        rows.append(row)
    elif _is_stats(getattr(pool, "stats", None)) and hasattr(pool, "stats_history"):
        history = list(pool.stats_history)
        now = pool.stats
        stamp_now = time.perf_counter()
        stamps = [float(getattr(s, "timestamp", math.nan)) for s in history] + [stamp_now]
        for snap, stamp in zip(history, stamps):
            row = _stats_row(getattr(snap, "stats", snap))
            row["timestamp"] = stamp
            row["is_current"] = False
            rows.append(row)
        row = _stats_row(now)
        row["timestamp"] = stamp_now
        row["is_current"] = True
        rows.append(row)
        first = stamps[0]
        for row in rows:
            row["elapsed_s"] = row.pop("timestamp") - first
    else:
        raise ArgumentTypeError("pool_frame", "pool", pool, "a TracePool or a PoolStats")
    for i, row in enumerate(rows):
        row["snapshot"] = i
    return pd.DataFrame(rows, columns=list(POOL_COLUMNS))


# --------------------------------------------------------------------------- traces


def _array_bytes(a: np.ndarray) -> int:
    """The array object's header plus ``nbytes`` (the data it exposes, owned or a view)."""
    header = sys.getsizeof(a) - (a.nbytes if a.flags.owndata else 0)
    return int(header + a.nbytes)


def trace_size_bytes(trace: Any) -> int:
    """The bytes of the Python objects that make up a trace, each counted once.

    What is counted: the trace object itself (``sys.getsizeof``, which for a
    slotted :class:`~fugue_lab.runtime.trace.Trace` is its fixed header and
    slot pointers) and everything its slots (or ``__dict__``) hold: the
    ``choices`` and ``observations`` containers (``sys.getsizeof``: a dict's
    hash table; for a :class:`~fugue_lab.runtime.cow.CowTrace`'s persistent
    maps, the map objects as ``sys.getsizeof`` reports them, which does not
    include the trie nodes shared between clones), every address
    string; every :class:`~fugue_lab.runtime.trace.Choice` tuple, its value and
    its log-prob; every observation log-likelihood; and the three log-weight
    accumulators. Containers inside values (lists, tuples, dicts) are walked;
    a NumPy array counts as its header plus ``nbytes``. An object reached
    twice (the same address string as a dict key and as ``Choice.addr``, say)
    counts once. Shared objects (cached small ints, interned strings, ``True``)
    count as if this trace were their only holder, so the figure is the
    trace's standalone footprint, not the memory it adds to a process.

    Parameters
    ----------
    trace
        A trace: any object with ``choices`` and ``observations`` mappings and
        ``log_prior``, ``log_likelihood`` and ``log_factors``.

    Returns
    -------
    int
        The size in bytes.

    Examples
    --------
    >>> from fugue_lab.runtime.trace import Choice, Trace
    >>> small = Trace({"x": Choice("x", 0.5, -1.0)})
    >>> big = Trace({f"x{i}": Choice(f"x{i}", 0.5 + i, -1.0 - i) for i in range(100)})
    >>> 0 < trace_size_bytes(small) < trace_size_bytes(big)
    True
    """
    seen: set[int] = set()
    total = 0

    def visit(obj: Any) -> None:
        nonlocal total
        stack = [obj]
        while stack:
            item = stack.pop()
            key = id(item)
            if key in seen:
                continue
            seen.add(key)
            if isinstance(item, np.ndarray):
                total += _array_bytes(item)
                if item.dtype == object:
                    stack.extend(item.ravel().tolist())
                continue
            total += sys.getsizeof(item)
            if isinstance(item, (str, bytes, int, float, complex, bool, np.generic)):
                continue
            if isinstance(item, Mapping):
                for k, v in item.items():
                    stack.append(k)
                    stack.append(v)
            elif isinstance(item, (tuple, list, set, frozenset)):
                stack.extend(item)

    seen.add(id(trace))
    total += sys.getsizeof(trace)
    for part in _own_attributes(trace):
        visit(part)
    return total


def _own_attributes(obj: Any) -> list[Any]:
    """The values of an object's slots and ``__dict__`` (its own storage, not properties)."""
    names: list[str] = []
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    out = [getattr(obj, n) for n in names if n != "__weakref__" and n != "__dict__"
           and hasattr(obj, n)]
    out.extend(getattr(obj, "__dict__", {}).values())
    if not out:  # an unusual trace type: fall back to its public attributes
        out = [obj.choices, obj.observations, obj.log_prior, obj.log_likelihood, obj.log_factors]
    return out


def _is_trace(obj: object) -> bool:
    return all(
        hasattr(obj, name)
        for name in ("choices", "observations", "log_prior", "log_likelihood", "log_factors")
    )


def _as_float(value: Any, index: int, name: str) -> float:
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise InvalidParameterError(
            "trace_frame",
            f"traces[{index}].{name}",
            f"<array {value.dtype} {value.shape}>",
            "a scalar trace (a batched trace holds arrays of per-particle weights; "
            "pass the particles' own traces)",
        )
    return float(value)


def trace_frame(traces: Iterable[Any] | Any) -> pd.DataFrame:
    """One row per trace: its size in choices and bytes, its log weights, its validity.

    Parameters
    ----------
    traces
        A non-empty iterable of scalar traces (:class:`~fugue_lab.runtime.trace.Trace`
        or any object with the same ``choices``/``observations``/``log_*``
        attributes, such as a copy-on-write trace), or one trace.

    Returns
    -------
    pandas.DataFrame
        Columns (:data:`TRACE_COLUMNS`): ``trace`` (0-based position),
        ``n_choices``, ``n_observations``, ``log_prior``, ``log_likelihood``,
        ``log_factors``, ``total_log_weight`` (their sum), ``is_valid`` (the
        total is finite), ``size_bytes`` (measured by :func:`trace_size_bytes`).

    Raises
    ------
    InvalidParameterError
        If ``traces`` is empty, or holds a batched trace (array log weights).
    ArgumentTypeError
        If an element is not a trace (a TypeError).

    Examples
    --------
    >>> from fugue_lab.runtime.trace import Trace
    >>> trace_frame([Trace(log_prior=-1.0), Trace(log_factors=-float("inf"))])["is_valid"].tolist()
    [True, False]
    """
    pd = pandas("trace_frame")
    items = [traces] if _is_trace(traces) else traces
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ArgumentTypeError("trace_frame", "traces", traces, "an iterable of traces")
    rows: list[dict[str, Any]] = []
    for i, trace in enumerate(items):
        if not _is_trace(trace):
            raise ArgumentTypeError("trace_frame", f"traces[{i}]", trace, "a Trace")
        lp = _as_float(trace.log_prior, i, "log_prior")
        ll = _as_float(trace.log_likelihood, i, "log_likelihood")
        lf = _as_float(trace.log_factors, i, "log_factors")
        total = lp + ll + lf
        rows.append(
            {
                "trace": i,
                "n_choices": len(trace.choices),
                "n_observations": len(trace.observations),
                "log_prior": lp,
                "log_likelihood": ll,
                "log_factors": lf,
                "total_log_weight": total,
                "is_valid": math.isfinite(total),
                "size_bytes": trace_size_bytes(trace),
            }
        )
    if not rows:
        raise InvalidParameterError("trace_frame", "traces", [], "a non-empty list of traces")
    return pd.DataFrame(rows, columns=list(TRACE_COLUMNS))
