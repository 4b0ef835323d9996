"""The chunk runner behind every batch entry point (``run_batch``, ``mh_chains``, ...).

Work is split into chunks.  Each chunk is one picklable task
``ChunkTask(fn, index, seed_seq, payload)``: the worker calls
``fn(index, seed_seq, payload)``, and ``seed_seq`` gives the chunk its own
random stream.  :func:`map_chunks` runs the tasks in this process
(``executor=None``) or on any :class:`concurrent.futures.Executor`: a
``ThreadPoolExecutor``, a ``ProcessPoolExecutor`` or a Dask cluster through
``distributed.Client(...).get_executor()``.  Results come back in chunk
order, so as long as the chunking and the seeds are fixed the result does
not depend on where the chunks ran.

A failing chunk raises :class:`~fugue_lab.errors.BatchError`, which names the
chunk and chains the original exception; the chunks still pending are
cancelled and nothing half-merged is returned.

Examples
--------
>>> import numpy as np
>>> def draw(index, seed_seq, size):
...     return np.random.default_rng(seed_seq).normal(size=size).sum()
>>> chunks = list(zip(spawn_seeds(42, 3), [10, 10, 5]))
>>> a = map_chunks(draw, chunks, progress=False)
>>> b = map_chunks(draw, chunks, progress=False)
>>> [o.index for o in a], [o.value for o in a] == [o.value for o in b]
([0, 1, 2], True)
"""

from __future__ import annotations

import contextvars
import pickle
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import (
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple

import numpy as np

from fugue_lab.errors import BatchError, InvalidParameterError

__all__ = [
    "ChunkOutcome",
    "ChunkTask",
    "RemoteChunkError",
    "Seed",
    "as_seed_sequence",
    "check_picklable",
    "map_chunks",
    "spawn_seeds",
]

#: What the batch entry points accept as ``seed``.
Seed = int | np.integer | np.random.SeedSequence | np.random.Generator | None

#: What to do when a task cannot travel to a worker process (or be rebuilt there).
PICKLE_HINT = (
    "the task could not be sent to a worker process or rebuilt there: define the model, and "
    "every function it calls, with def at module level in an importable .py file (not a lambda, "
    "a closure or a notebook cell), or use a ThreadPoolExecutor, or a Dask client's executor "
    "(distributed.Client(...).get_executor()), which pickles with cloudpickle"
)


class ChunkTask(NamedTuple):
    """One chunk of work, as sent to a worker.

    Attributes
    ----------
    fn
        Called as ``fn(index, seed_seq, payload)`` in the worker; a module-level
        function, so that it pickles by reference.
    index
        The chunk's 0-based position; results are returned in this order.
    seed_seq
        The chunk's own random stream (``numpy.random.default_rng(seed_seq)``).
    payload
        Whatever else the chunk needs (the model, its arguments, a size, ...).
    portable_errors
        True when the task's exception must cross a process boundary: an
        exception that cannot be pickled is then replaced by a
        :class:`RemoteChunkError` that carries its type, message and traceback.
    """

    fn: Callable[[int, np.random.SeedSequence, Any], Any]
    index: int
    seed_seq: np.random.SeedSequence
    payload: Any
    portable_errors: bool = False


class ChunkOutcome(NamedTuple):
    """What one chunk returned.

    Attributes
    ----------
    index
        The chunk's 0-based position.
    value
        What ``fn`` returned for it.
    seconds
        Wall time of ``fn`` in the worker (excludes queueing and transfer).
    """

    index: int
    value: Any
    seconds: float


class RemoteChunkError(RuntimeError):
    """Stands in for a worker's exception that could not be pickled back.

    Its message holds the original type, message and traceback.
    """


def as_seed_sequence(seed: Seed, owner: str = "seed") -> np.random.SeedSequence:
    """The root :class:`numpy.random.SeedSequence` of a batch.

    Parameters
    ----------
    seed
        An int >= 0; a SeedSequence (used as is and never advanced, so the same
        object gives the same batch); a Generator (entropy is drawn from it, so
        it advances); or None for fresh OS entropy (not reproducible unless you
        keep the returned sequence, e.g. ``BatchResult.seed``).
    owner
        Names the caller in error messages.

    Raises
    ------
    InvalidParameterError
        If ``seed`` is a negative int.
    TypeError
        If ``seed`` is of another type (a float or a bool, say).

    Examples
    --------
    >>> as_seed_sequence(7).entropy
    7
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4, dtype=np.uint64).tolist())
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{owner}: seed must be an int >= 0, a numpy.random.SeedSequence, a "
            f"numpy.random.Generator or None, got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise InvalidParameterError(owner, "seed", seed, "an int >= 0")
    return np.random.SeedSequence(int(seed))


def spawn_seeds(seed: Seed, n: int, owner: str = "seed") -> list[np.random.SeedSequence]:
    """``n`` independent child streams of ``seed``: ``SeedSequence(seed).spawn(n)``.

    A SeedSequence passed in is not advanced: its children are numbered from 0
    every time, so the same sequence always gives the same children.

    Examples
    --------
    >>> import numpy as np
    >>> kids = spawn_seeds(5, 2)
    >>> ref = np.random.SeedSequence(5).spawn(2)
    >>> all((k.generate_state(4) == r.generate_state(4)).all() for k, r in zip(kids, ref))
    True
    """
    root = as_seed_sequence(seed, owner)
    return [
        np.random.SeedSequence(
            root.entropy, spawn_key=(*root.spawn_key, i), pool_size=root.pool_size
        )
        for i in range(n)
    ]


def check_picklable(executor: Executor | None, owner: str, **objects: Any) -> None:
    """Fail early, naming the culprit, if a ProcessPoolExecutor cannot pickle an object.

    Only a :class:`~concurrent.futures.ProcessPoolExecutor` is checked (with the
    standard :mod:`pickle`, which is what it uses); threads need no pickling and
    Dask pickles with cloudpickle, which handles lambdas and closures.

    Raises
    ------
    InvalidParameterError
        Naming the first object (by its keyword) that cannot be pickled.

    Examples
    --------
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> with ProcessPoolExecutor(1) as ex:
    ...     check_picklable(ex, "run_batch", model=lambda: 0)
    Traceback (most recent call last):
    ...
    fugue_lab.errors.InvalidParameterError: run_batch: model must be picklable...
    """
    if not isinstance(executor, ProcessPoolExecutor):
        return
    for name, obj in objects.items():
        try:
            pickle.loads(pickle.dumps(obj))
        except Exception as exc:
            raise InvalidParameterError(
                owner,
                name,
                obj,
                "picklable to run on a ProcessPoolExecutor: define it with def at module "
                "level in an importable .py file (not a lambda, a closure or a notebook cell), "
                "or use a ThreadPoolExecutor, or a Dask client's executor "
                "(distributed.Client(...).get_executor()), which pickles with cloudpickle "
                f"[{type(exc).__name__}: {exc}]",
            ) from exc


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip, else a RemoteChunkError describing it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return RemoteChunkError(
            f"{type(exc).__module__}.{type(exc).__qualname__}: {exc} "
            f"(the worker's exception could not be pickled; its traceback follows)\n\n{text}"
        )
    return exc


def _execute(task: ChunkTask) -> tuple[Any, float]:
    """Run one task (in the worker): its value and the seconds it took."""
    start = time.perf_counter()
    try:
        value = task.fn(task.index, task.seed_seq, task.payload)
    except Exception as exc:
        if not task.portable_errors:
            raise
        replacement = _portable(exc)
        if replacement is exc:
            raise
    else:
        return value, time.perf_counter() - start
    # Raised outside the except block, so that it carries no __context__ pointing at the
    # unpicklable original (tblib, which distributed installs, pickles the whole chain).
    raise replacement


def _is_pickling_error(exc: BaseException) -> bool:
    if isinstance(exc, pickle.PicklingError):
        return True
    message = str(exc)
    # "Can't pickle local object ...", "cannot pickle '_thread.lock' object", and a
    # worker's "Can't get attribute 'model' on <module '__main__'>"
    return isinstance(exc, (AttributeError, TypeError)) and (
        "pickle" in message or "Can't get attribute" in message
    )


def _chunk_error(index: int, n_chunks: int, exc: BaseException) -> BatchError:
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    hint = ""
    if _is_pickling_error(exc):
        hint = PICKLE_HINT
    elif isinstance(exc, BrokenProcessPool):
        hint = (
            "a worker process died (out of memory, a crash in native code, or a task it could "
            f"not unpickle); if the model lives in a notebook: {PICKLE_HINT}"
        )
    return BatchError(index, n_chunks, detail, hint)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(enabled: bool, total: int, desc: str | None, unit: str) -> Any:
    """A tqdm bar (notebook-aware), or a do-nothing bar if disabled or tqdm is missing."""
    if not enabled:
        return _NoBar()
    try:
        with warnings.catch_warnings():
            # tqdm.auto warns when a notebook lacks ipywidgets: the bar is cosmetic.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    # disable=None: shown on a terminal and in notebooks, hidden when output is not a
    # TTY (CI logs, pytest's capture, a redirected script).
    return tqdm(total=total, desc=desc, unit=unit, disable=None, dynamic_ncols=True)


def _is_in_process(executor: Executor | None) -> bool:
    return executor is None or isinstance(executor, ThreadPoolExecutor)


def map_chunks(
    fn: Callable[[int, np.random.SeedSequence, Any], Any],
    chunks: Iterable[tuple[np.random.SeedSequence, Any]],
    *,
    executor: Executor | None = None,
    progress: bool = True,
    desc: str | None = None,
    units: Sequence[int] | None = None,
    unit: str = "chunk",
) -> list[ChunkOutcome]:
    """Run ``fn(index, seed_seq, payload)`` for every chunk, here or on an executor.

    Parameters
    ----------
    fn
        The work of one chunk.  For a process executor it must pickle: define it
        at module level (Dask's executor also takes lambdas and closures).
    chunks
        ``(seed_seq, payload)`` pairs, one per chunk, in order; see
        :func:`spawn_seeds` for the seeds.
    executor
        None runs the chunks one after another in this process (each in a fresh
        :mod:`contextvars` context, as a worker would).  Otherwise any
        :class:`concurrent.futures.Executor`: all chunks are submitted at once
        and gathered as they finish.
    progress
        Show a tqdm progress bar (``tqdm.auto``: a widget in notebooks, text on a
        terminal, nothing when output is not a TTY).  tqdm comes with the ``lab``
        extra; without it there is silently no bar.
    desc
        The bar's label.
    units
        How far each chunk advances the bar (e.g. its number of runs); 1 each by default.
    unit
        The bar's unit name.

    Returns
    -------
    list of ChunkOutcome
        One per chunk, in chunk order (not completion order).

    Raises
    ------
    BatchError
        If a chunk raises (or cannot be sent to a worker): names the chunk and
        chains the original exception.  Pending chunks are cancelled; chunks
        already running on other workers finish and are discarded.
    TypeError
        If ``executor`` has no ``submit`` method.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> def square(index, seed_seq, x):
    ...     return x * x
    >>> with ThreadPoolExecutor(2) as ex:
    ...     out = map_chunks(square, [(s, x) for s, x in zip(spawn_seeds(0, 3), [1, 2, 3])],
    ...                      executor=ex, progress=False)
    >>> [o.value for o in out]
    [1, 4, 9]
    >>> map_chunks(square, [(s, "a") for s in spawn_seeds(0, 2)], progress=False)
    Traceback (most recent call last):
    ...
    fugue_lab.errors.BatchError: chunk 0 of 2 failed: TypeError: can't multiply sequence ...
    """
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            "executor must be None or a concurrent.futures.Executor (e.g. ProcessPoolExecutor, "
            f"or distributed.Client(...).get_executor()), got {type(executor).__name__}"
        )
    portable = not _is_in_process(executor)
    tasks = [
        ChunkTask(fn, i, seed_seq, payload, portable)
        for i, (seed_seq, payload) in enumerate(chunks)
    ]
    n_chunks = len(tasks)
    steps = [1] * n_chunks if units is None else [int(u) for u in units]
    if len(steps) != n_chunks:
        raise InvalidParameterError(
            "map_chunks", "units", units, f"one entry per chunk ({n_chunks})"
        )
    outcomes: list[ChunkOutcome | None] = [None] * n_chunks
    bar = _progress_bar(progress, sum(steps), desc, unit)
    try:
        if executor is None:
            for task in tasks:
                try:
                    value, seconds = contextvars.Context().run(_execute, task)
                except Exception as exc:
                    raise _chunk_error(task.index, n_chunks, exc) from exc
                outcomes[task.index] = ChunkOutcome(task.index, value, seconds)
                bar.update(steps[task.index])
        else:
            _gather(executor, tasks, outcomes, bar, steps)
    finally:
        bar.close()
    return outcomes  # type: ignore[return-value]  # every slot is filled or we raised


def _gather(
    executor: Executor,
    tasks: list[ChunkTask],
    outcomes: list[ChunkOutcome | None],
    bar: Any,
    steps: list[int],
) -> None:
    n_chunks = len(tasks)
    futures: dict[Future[Any], int] = {}
    try:
        for task in tasks:
            try:
                future = executor.submit(_execute, task)
            except Exception as exc:
                raise _chunk_error(task.index, n_chunks, exc) from exc
            futures[future] = task.index
        for future in as_completed(futures):
            index = futures[future]
            try:
                value, seconds = future.result()
            except (Exception, CancelledError) as exc:
                raise _chunk_error(index, n_chunks, exc) from exc
            outcomes[index] = ChunkOutcome(index, value, seconds)
            bar.update(steps[index])
    finally:
        # After a failure (or Ctrl-C): drop what has not started.  A no-op when all are done.
        for future in futures:
            future.cancel()
