"""Batch processing: many prior executions of a model, here or on a cluster.

:func:`run_batch` runs a model ``n`` times from its prior and returns a
:class:`BatchResult` with one NumPy array per address, the log weights, the
return values and the timing.  The work is split into chunks whose number
depends only on ``n`` and ``chunk_size``, and chunk ``i`` draws from child
``i`` of ``numpy.random.SeedSequence(seed)``.  So the result is bit-identical
whether the chunks run in this process, on a thread or process pool, or on a
Dask cluster (``distributed.Client(...).get_executor()``), whatever the number
of workers.  Changing ``chunk_size`` changes the streams, and so the draws.

Process executors pickle the model: define it with ``def`` at module level
in an importable file.  A lambda, a closure or a function defined in a
notebook cell cannot be pickled by the standard library; use a
``ThreadPoolExecutor`` or a Dask client's executor (which pickles with
cloudpickle) for those.

A :class:`~fugue_lab.runtime.memory.TracePool` (``pool=``) cannot be shared
across processes: in this process and on threads the pool you pass is used;
each worker process of a process pool or a Dask cluster uses a pool of its
own of the same ``max_size`` instead.  The progress bar is tqdm's
(``tqdm.auto``, from the ``lab`` extra); without tqdm there is no bar, and
nothing else changes.

Examples
--------
>>> from fugue_lab import Normal, observe, sample
>>> def prior3():
...     x = sample("x", Normal(0.0, 1.0))
...     y = sample("y", Normal(x, 0.5))
...     observe("obs", Normal(y, 0.1), 1.5)
...     return x
>>> result = run_batch(prior3, 1000, seed=0, progress=False)
>>> result["x"].shape, result.n_chunks
((1000,), 1)
>>> bool((result.returns == result["x"]).all())
True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from fugue_lab.errors import BatchError, InvalidParameterError, MissingAddressError
from fugue_lab.inference._chunks import (
    ChunkOutcome,
    Seed,
    as_seed_sequence,
    check_picklable,
    map_chunks,
    spawn_seeds,
)
from fugue_lab.runtime.handlers import PriorHandler, run
from fugue_lab.runtime.memory import PooledPriorHandler, TracePool
from fugue_lab.runtime.trace import Trace

__all__ = [
    "BatchError",
    "BatchResult",
    "ChunkOutcome",
    "chunk_sizes",
    "default_chunk_size",
    "map_chunks",
    "run_batch",
    "spawn_seeds",
]

#: The default chunking aims at this many chunks (enough to balance a few dozen workers) ...
_TARGET_CHUNKS = 32
#: ... but keeps at least this many runs in a chunk (so small batches are one chunk).
_MIN_CHUNK = 1000


def default_chunk_size(n: int) -> int:
    """The chunk size used when ``chunk_size=None``: a function of ``n`` only.

    At least 1000 runs per chunk (or ``n`` if smaller), at most about 32 chunks.

    Examples
    --------
    >>> default_chunk_size(10), default_chunk_size(10_000), default_chunk_size(100_000)
    (10, 1000, 3125)
    """
    return max(min(n, _MIN_CHUNK), -(-n // _TARGET_CHUNKS))


def chunk_sizes(n: int, chunk_size: int | None = None) -> list[int]:
    """How ``n`` runs are split: full chunks of ``chunk_size``, then the remainder.

    Examples
    --------
    >>> chunk_sizes(10, 4)
    [4, 4, 2]
    """
    size = default_chunk_size(n) if chunk_size is None else min(chunk_size, n)
    full, rest = divmod(n, size)
    return [size] * full + ([rest] if rest else [])


# -- the result ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BatchResult:
    """The outcome of :func:`run_batch`; every array has the runs on axis 0, in run order.

    Attributes
    ----------
    values
        Address -> array of the values drawn there, shape ``(n,)`` (or ``(n, ...)``
        for array-valued sites).  An address that some runs did not reach holds
        NaN there (ints and bools are then promoted to float); see ``present``.
    present
        Address -> boolean mask of the runs that reached it, only for addresses
        that some runs did not reach.
    log_prior, log_likelihood, log_factors
        The three log-weight accumulators of each run.
    log_weight
        Their sum, the total log weight of each run (as ``Trace.total_log_weight``).
        This is *not* an importance weight: for prior draws that is
        :attr:`importance_log_weight`.
    returns
        What the model returned (a numeric array when the returns are numbers,
        else an object array).
    nonfinite
        The number of runs whose ``log_prior``, ``log_likelihood``,
        ``log_factors`` and ``log_weight`` are not finite (-inf or NaN).
    chunk_seconds
        Wall time of each chunk in its worker.
    total_seconds
        Wall time of the whole call, submission and merging included.
    chunk_size
        The runs per chunk (the last chunk may be smaller).
    seed
        The root SeedSequence: ``run_batch(..., seed=result.seed)`` repeats the
        batch (useful after ``seed=None``).
    traces
        The traces in run order with ``keep_traces=True``, else None.

    Examples
    --------
    >>> from fugue_lab import Normal, run_batch, sample
    >>> def model():
    ...     return sample("x", Normal(0.0, 1.0))
    >>> result = run_batch(model, 8, seed=0, progress=False)
    >>> result.n, result.values["x"].shape, result.nonfinite["log_weight"]
    (8, (8,), 0)
    >>> again = run_batch(model, 8, seed=result.seed, progress=False)
    >>> bool(np.array_equal(again.returns, result.values["x"]))
    True
    """

    values: dict[str, np.ndarray]
    present: dict[str, np.ndarray]
    log_prior: np.ndarray
    log_likelihood: np.ndarray
    log_factors: np.ndarray
    log_weight: np.ndarray
    returns: np.ndarray
    nonfinite: dict[str, int]
    chunk_seconds: np.ndarray
    total_seconds: float
    chunk_size: int
    seed: np.random.SeedSequence
    traces: list[Trace] | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """The number of runs."""
        return len(self.log_weight)

    @property
    def importance_log_weight(self) -> np.ndarray:
        """``log_likelihood + log_factors``: each run's weight as a draw from the prior.

        The runs are prior draws, so the prior cancels from the importance weight;
        ``log_mean_exp(result.importance_log_weight)`` estimates the log evidence.
        """
        return self.log_likelihood + self.log_factors

    @property
    def n_chunks(self) -> int:
        """The number of chunks the runs were split into."""
        return len(self.chunk_seconds)

    @property
    def n_nonfinite(self) -> int:
        """The number of runs whose total log weight is -inf or NaN."""
        return self.nonfinite["log_weight"]

    @property
    def addresses(self) -> list[str]:
        """The addresses seen, in the order they were first reached."""
        return list(self.values)

    @property
    def runs_per_second(self) -> float:
        """Throughput of the whole call (``n / total_seconds``)."""
        return self.n / self.total_seconds if self.total_seconds > 0 else float("inf")

    def __getitem__(self, address: str) -> np.ndarray:
        try:
            return self.values[address]
        except KeyError:
            raise MissingAddressError(address, self.values) from None

    def __repr__(self) -> str:
        shown = self.addresses[:6]
        more = ", ..." if len(self.values) > 6 else ""
        return (
            f"BatchResult(n={self.n}, addresses={shown}{more}, chunks={self.n_chunks} x "
            f"{self.chunk_size}, non-finite weights={self.n_nonfinite}, "
            f"{self.total_seconds:.3g} s)"
        )


# -- one chunk (runs in the worker) ------------------------------------------------------------


class _PoolRef:
    """Carries a TracePool to a chunk.

    In this process (no executor, threads) it is the caller's pool itself.
    Pickled to another process it travels as its size only, and the worker
    uses a pool of that size of its own, kept for the life of the process.
    """

    __slots__ = ("max_size", "pool")

    def __init__(self, pool: TracePool | None, max_size: int) -> None:
        self.pool = pool
        self.max_size = max_size

    def __reduce__(self) -> tuple[Any, tuple[None, int]]:
        return (_PoolRef, (None, self.max_size))

    def resolve(self) -> TracePool:
        if self.pool is not None:
            return self.pool
        with _WORKER_POOLS_LOCK:
            pool = _WORKER_POOLS.get(self.max_size)
            if pool is None:
                pool = _WORKER_POOLS[self.max_size] = TracePool(self.max_size)
            return pool


#: Per-process pools of worker processes, by size (a pool cannot be shared across processes).
_WORKER_POOLS: dict[int, TracePool] = {}
_WORKER_POOLS_LOCK = threading.Lock()


class _PriorPayload(NamedTuple):
    model: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    size: int
    pool: _PoolRef | None
    keep_traces: bool


class _ChunkData(NamedTuple):
    """What a chunk sends back: compact arrays, cheap to pickle."""

    size: int
    #: address -> (values, positions within the chunk, or None if every run reached it)
    sites: dict[str, tuple[np.ndarray, np.ndarray | None]]
    log_prior: np.ndarray
    log_likelihood: np.ndarray
    log_factors: np.ndarray
    returns: np.ndarray
    traces: list[Trace] | None


def _as_array(items: list[Any]) -> np.ndarray:
    """Numbers become a numeric array, equal-shaped arrays a stacked one, the rest objects."""
    first = items[0] if items else None
    if isinstance(first, (int, float, bool, np.number, np.bool_)):
        try:
            numeric = np.asarray(items)
        except ValueError:  # a ragged mix of numbers and sequences
            numeric = None
        if numeric is not None and numeric.ndim == 1 and numeric.dtype.kind in "biufc":
            return numeric
    elif isinstance(first, np.ndarray):
        try:
            stacked = np.stack(items)
        except ValueError:  # unequal shapes
            stacked = None
        if stacked is not None and stacked.dtype.kind != "O":
            return stacked
    out = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        out[i] = v
    return out


def _prior_chunk(
    index: int, seed_seq: np.random.SeedSequence, payload: _PriorPayload
) -> _ChunkData:
    model, args, kwargs, size, pool_ref, keep = payload
    rng = np.random.default_rng(seed_seq)
    pool = None if pool_ref is None else pool_ref.resolve()
    handler = PriorHandler(rng) if pool is None else PooledPriorHandler(rng, pool)
    # address -> (values, positions of the runs that reached it), in first-reached order
    sites: dict[str, tuple[list[Any], list[int]]] = {}
    get_site = sites.get
    log_prior: list[Any] = []
    log_likelihood: list[Any] = []
    log_factors: list[Any] = []
    returns: list[Any] = []
    traces: list[Trace] | None = [] if keep else None
    for i in range(size):
        value, trace = run(handler, model, *args, **kwargs)
        for address, choice in trace.choices.items():
            site = get_site(address)
            if site is None:
                site = sites[address] = ([], [])
            site[0].append(choice.value)
            site[1].append(i)
        log_prior.append(trace.log_prior)
        log_likelihood.append(trace.log_likelihood)
        log_factors.append(trace.log_factors)
        returns.append(value)
        if pool is not None:
            pool.put(trace)  # after its values were read: the pool clears it
        elif traces is not None:
            traces.append(trace)
    return _ChunkData(
        size,
        {
            a: (_as_array(v), None if len(v) == size else np.asarray(p, dtype=np.intp))
            for a, (v, p) in sites.items()
        },
        np.asarray(log_prior, dtype=np.float64),
        np.asarray(log_likelihood, dtype=np.float64),
        np.asarray(log_factors, dtype=np.float64),
        _as_array(returns),
        traces,
    )


# -- merging -----------------------------------------------------------------------------------


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    """Join chunk arrays; if their shapes disagree, one object array of all their items."""
    try:
        return np.concatenate(parts)
    except ValueError:
        return _as_array([item for part in parts for item in part])


def _merge_site(
    parts: list[tuple[int, int, tuple[np.ndarray, np.ndarray | None] | None]], n: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """One address's values over all chunks; parts are (offset, size, chunk site or None)."""
    if all(p is not None and p[1] is None for _, _, p in parts):
        return _concat([p[0] for _, _, p in parts]), None  # type: ignore[index]
    given = _concat([p[0] for _, _, p in parts if p is not None])
    dtype = given.dtype if given.dtype.kind in "fcO" else np.dtype(np.float64)
    fill = None if dtype.kind == "O" else np.nan
    values = np.full((n, *given.shape[1:]), fill, dtype=dtype)
    mask = np.zeros(n, dtype=bool)
    for offset, size, part in parts:
        if part is None:
            continue
        vals, positions = part
        where = np.arange(offset, offset + size) if positions is None else offset + positions
        values[where] = vals
        mask[where] = True
    return values, mask


def _merge(outcomes: list[ChunkOutcome], n: int) -> dict[str, Any]:
    chunks: list[_ChunkData] = [o.value for o in outcomes]
    offsets = np.concatenate([[0], np.cumsum([c.size for c in chunks])[:-1]]).tolist()
    addresses: dict[str, None] = {}
    for c in chunks:
        addresses.update(dict.fromkeys(c.sites))
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for address in addresses:
        parts = [(off, c.size, c.sites.get(address)) for off, c in zip(offsets, chunks)]
        vals, mask = _merge_site(parts, n)
        values[address] = vals
        if mask is not None:
            present[address] = mask
    traces = None
    if chunks[0].traces is not None:
        traces = [t for c in chunks for t in c.traces]  # type: ignore[union-attr]
    return {
        "values": values,
        "present": present,
        "log_prior": np.concatenate([c.log_prior for c in chunks]),
        "log_likelihood": np.concatenate([c.log_likelihood for c in chunks]),
        "log_factors": np.concatenate([c.log_factors for c in chunks]),
        "returns": _concat([c.returns for c in chunks]),
        "traces": traces,
    }


# -- the entry point ---------------------------------------------------------------------------


def _check_count(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidParameterError("run_batch", name, value, "an int >= 1")
    if value < 1:
        raise InvalidParameterError("run_batch", name, value, "an int >= 1")
    return int(value)


def run_batch(
    model: Callable[..., Any],
    n: int,
    *,
    seed: Seed,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    pool: TracePool | None = None,
    progress: bool = True,
    keep_traces: bool = False,
) -> BatchResult:
    """Run ``model(*args, **kwargs)`` ``n`` times from its prior, in chunks.

    Parameters
    ----------
    model
        A model function.  For a process executor it must pickle: define it with
        ``def`` at module level in an importable file (see the module docs).
    n
        The number of runs, >= 1.
    seed
        An int >= 0, a ``numpy.random.SeedSequence`` (not advanced: the same one
        gives the same batch), a ``numpy.random.Generator`` (entropy is drawn
        from it) or None (fresh OS entropy; keep ``result.seed`` to repeat it).
        Chunk ``i`` uses child ``i`` of ``SeedSequence(seed).spawn(n_chunks)``.
    args, kwargs
        Passed to every run of the model.
    executor
        None runs in this process.  Any :class:`concurrent.futures.Executor`
        (``ThreadPoolExecutor``, ``ProcessPoolExecutor``,
        ``distributed.Client(...).get_executor()``) runs the chunks there; the
        result is the same, bit for bit.
    chunk_size
        Runs per chunk, >= 1 (default: :func:`default_chunk_size` of ``n``).  The
        chunking never depends on the executor or its number of workers.
    pool
        A :class:`~fugue_lab.runtime.memory.TracePool`: runs use
        :class:`~fugue_lab.runtime.memory.PooledPriorHandler`, and each trace goes
        back to the pool once its values are read.  The values drawn are the same
        as without a pool.  A pool cannot be shared across processes: with a
        process executor (or a Dask cluster) each worker process uses a pool of
        its own of the same ``max_size``, kept for the life of the worker, and
        ``pool`` itself is not touched (its ``stats`` stay unchanged).  With no
        executor or a thread pool, ``pool`` itself is used (it is thread-safe).
    progress
        Show a progress bar over the runs (tqdm, notebook-aware; hidden when the
        output is not a terminal or a notebook).  tqdm comes with the ``lab``
        extra; without it there is silently no bar.
    keep_traces
        Also return every trace (memory grows with ``n``; not with ``pool``).

    Returns
    -------
    BatchResult

    Raises
    ------
    InvalidParameterError
        If ``n`` or ``chunk_size`` is not an int >= 1, if ``seed`` is negative,
        if ``pool`` is combined with ``keep_traces``, or if a process executor
        cannot pickle ``model``, ``args`` or ``kwargs`` (the message says how to fix it).
    TypeError
        If ``model`` is not callable, or ``executor`` is not an Executor.
    BatchError
        If a run raises: names the chunk and chains the original exception.
        Nothing is returned.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from fugue_lab import Normal, sample
    >>> def model(scale):
    ...     return sample("x", Normal(0.0, scale))
    >>> here = run_batch(model, 500, seed=1, args=(2.0,), chunk_size=100, progress=False)
    >>> with ThreadPoolExecutor(2) as ex:
    ...     there = run_batch(model, 500, seed=1, args=(2.0,), chunk_size=100,
    ...                       executor=ex, progress=False)
    >>> here.n_chunks, bool((here["x"] == there["x"]).all())
    (5, True)
    """
    start = time.perf_counter()
    if not callable(model):
        raise TypeError(f"run_batch: model must be callable, got {type(model).__name__} {model!r}")
    n = _check_count(n, "n")
    if chunk_size is not None:
        chunk_size = _check_count(chunk_size, "chunk_size")
    if isinstance(args, (str, bytes)) or not isinstance(args, Sequence):
        raise TypeError(f"run_batch: args must be a tuple, got {type(args).__name__} {args!r}")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(
            f"run_batch: kwargs must be a mapping or None, got {type(kwargs).__name__}"
        )
    pool_ref = None
    if pool is not None:
        if not isinstance(pool, TracePool):
            raise TypeError(
                f"run_batch: pool must be a TracePool or None, got {type(pool).__name__}"
            )
        if keep_traces:
            raise InvalidParameterError(
                "run_batch", "pool", pool, "None when keep_traces=True (a kept trace cannot "
                "go back to a pool)"
            )
        pool_ref = _PoolRef(pool, pool.max_size)
    args = tuple(args)
    kwargs = dict(kwargs or {})
    check_picklable(executor, "run_batch", model=model, args=args, kwargs=kwargs)

    root = as_seed_sequence(seed, "run_batch")
    sizes = chunk_sizes(n, chunk_size)
    payloads = [_PriorPayload(model, args, kwargs, s, pool_ref, keep_traces) for s in sizes]
    outcomes = map_chunks(
        _prior_chunk,
        zip(spawn_seeds(root, len(sizes)), payloads),
        executor=executor,
        progress=progress,
        desc=f"run_batch {getattr(model, '__name__', 'model')}",
        units=sizes,
        unit="run",
    )
    merged = _merge(outcomes, n)
    log_weight = merged["log_prior"] + merged["log_likelihood"] + merged["log_factors"]
    nonfinite = {
        key: int(np.count_nonzero(~np.isfinite(arr)))
        for key, arr in (
            ("log_prior", merged["log_prior"]),
            ("log_likelihood", merged["log_likelihood"]),
            ("log_factors", merged["log_factors"]),
            ("log_weight", log_weight),
        )
    }
    return BatchResult(
        values=merged["values"],
        present=merged["present"],
        log_prior=merged["log_prior"],
        log_likelihood=merged["log_likelihood"],
        log_factors=merged["log_factors"],
        log_weight=log_weight,
        returns=merged["returns"],
        nonfinite=nonfinite,
        chunk_seconds=np.array([o.seconds for o in outcomes]),
        total_seconds=time.perf_counter() - start,
        chunk_size=sizes[0],
        seed=root,
        traces=merged["traces"],
    )
