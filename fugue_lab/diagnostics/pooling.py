"""Pool sizing trials: run a model in batches on threads with one shared TracePool.

The guide says to size a :class:`~fugue_lab.runtime.pool.TracePool` by the
peak number of traces alive at once, and to check the hit ratio. A trial
measures both for a given pool size, number of concurrent workers and batch
size: each worker runs batches of ``batch_size`` prior executions, keeps the
batch's traces alive until the batch is done (as a particle set or a batch of
requests would), then returns them all to the pool. So up to
``workers * batch_size`` traces are in use at once; a smaller pool drops
traces on return and misses on the next get.

The widget :func:`fugue_lab.widgets.pool_tuner` is a front end to
:func:`pool_trial`.

Examples
--------
>>> from fugue_lab import Normal, sample
>>> def model():
...     return sample("x", Normal(0.0, 1.0))
>>> trial = pool_trial(model, pool_size=4, workers=1, batch_size=4, n_batches=5)
>>> row = trial.stats.iloc[0]
>>> int(row["peak_in_use"]), int(row["drops"]), int(row["suggested_pool_size"])
(4, 0, 4)
>>> float(row["hit_ratio"])  # only the first batch misses
0.8
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from fugue_lab.diagnostics._deps import ArgumentTypeError, pandas
from fugue_lab.errors import InvalidParameterError
from fugue_lab.runtime.handlers import run
from fugue_lab.runtime.pool import PooledPriorHandler, TracePool

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PoolTrial", "pool_trial", "suggest_pool_size"]


class PoolTrial(NamedTuple):
    """What :func:`pool_trial` measured.

    Attributes
    ----------
    stats
        One row: the settings (``pool_size``, ``workers``, ``batch_size``,
        ``n_batches``, ``n_runs``), the pool's counters at the end (``hits``,
        ``misses``, ``returns``, ``drops``, ``hit_ratio``, ``peak_in_use``),
        ``suggested_pool_size``, the run latency percentiles
        (``latency_p50_us``, ``latency_p90_us``, ``latency_p99_us``),
        ``runs_per_s`` and ``wall_s``.
    latency
        One row per model run: ``run``, ``batch``, ``latency_us``.
    pool
        The pool used (for :func:`~fugue_lab.diagnostics.frames.pool_frame`).
    """

    stats: pd.DataFrame
    latency: pd.DataFrame
    pool: TracePool


def suggest_pool_size(peak_in_use: int) -> int:
    """The pool size to use: the peak number of traces in use, at least 1.

    A pool that holds ``peak_in_use`` idle traces never drops a returned trace
    and, once warm (``pool.prewarm()``), never misses on the same workload.

    Examples
    --------
    >>> suggest_pool_size(12), suggest_pool_size(0)
    (12, 1)
    """
    return max(1, int(peak_in_use))


def _count(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidParameterError(owner, name, value, "an int >= 1")
    return int(value)


def _run_batch(
    model: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    pool: TracePool,
    seed: np.random.SeedSequence,
    batch_size: int,
) -> list[int]:
    handler = PooledPriorHandler(np.random.default_rng(seed), pool)
    latencies: list[int] = []
    traces = []
    clock = time.perf_counter_ns
    for _ in range(batch_size):
        t0 = clock()
        _, trace = run(handler, model, *args, **kwargs)
        latencies.append(clock() - t0)
        traces.append(trace)
    for trace in traces:
        pool.put(trace)
    return latencies


def pool_trial(
    model: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    pool_size: int,
    workers: int = 1,
    batch_size: int = 16,
    n_batches: int = 8,
    seed: int = 0,
    prewarm: bool = False,
) -> PoolTrial:
    """Run ``n_batches`` batches of a model on ``workers`` threads sharing one pool.

    Parameters
    ----------
    model, args, kwargs
        The model and its arguments (run from the prior).
    pool_size
        The pool's ``max_size``.
    workers
        Threads running batches at once.
    batch_size
        Runs per batch; a batch's traces stay in use until the batch ends.
    n_batches
        Batches in all (so ``n_batches * batch_size`` runs).
    seed
        Batch ``i`` draws from child ``i`` of ``SeedSequence(seed)``.
    prewarm
        Fill the pool to ``pool_size`` before the trial (then a big enough
        pool never misses).

    Returns
    -------
    PoolTrial

    Raises
    ------
    InvalidParameterError
        If a size or count is not an int >= 1.
    ArgumentTypeError
        If ``model`` is not callable.

    Examples
    --------
    A pool smaller than the peak in use drops traces on return:

    >>> from fugue_lab import Normal, sample
    >>> def model():
    ...     return sample("x", Normal(0.0, 1.0))
    >>> trial = pool_trial(model, pool_size=2, batch_size=4, n_batches=3)
    >>> trial.stats.loc[0, ["drops", "peak_in_use", "suggested_pool_size"]].tolist()
    [6, 4, 4]
    >>> len(trial.latency)  # one row per run
    12
    """
    owner = "pool_trial"
    pd = pandas(owner)
    if not callable(model):
        raise ArgumentTypeError(owner, "model", model, "a callable model")
    pool_size = _count(owner, "pool_size", pool_size)
    workers = _count(owner, "workers", workers)
    batch_size = _count(owner, "batch_size", batch_size)
    n_batches = _count(owner, "n_batches", n_batches)
    n_runs = n_batches * batch_size
    pool = TracePool(pool_size, history_every=max(1, n_runs // 200))
    if prewarm:
        pool.prewarm(pool_size)
        pool.reset_stats()
    seeds = np.random.SeedSequence(seed).spawn(n_batches)
    call_args, call_kwargs = tuple(args), dict(kwargs or {})
    start = time.perf_counter()
    if workers == 1:
        results = [
            _run_batch(model, call_args, call_kwargs, pool, s, batch_size) for s in seeds
        ]
    else:
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = [
                executor.submit(_run_batch, model, call_args, call_kwargs, pool, s, batch_size)
                for s in seeds
            ]
            results = [f.result() for f in futures]
    wall = time.perf_counter() - start
    latency_us = np.concatenate([np.asarray(r, dtype=np.float64) for r in results]) / 1e3
    latency = pd.DataFrame(
        {
            "run": np.arange(n_runs),
            "batch": np.repeat(np.arange(n_batches), batch_size),
            "latency_us": latency_us,
        }
    )
    s = pool.stats
    p50, p90, p99 = np.percentile(latency_us, [50, 90, 99])
    stats = pd.DataFrame(
        [
            {
                "pool_size": pool_size,
                "workers": workers,
                "batch_size": batch_size,
                "n_batches": n_batches,
                "n_runs": n_runs,
                "hits": s.hits,
                "misses": s.misses,
                "returns": s.returns,
                "drops": s.drops,
                "hit_ratio": s.hit_ratio,
                "peak_in_use": s.peak_in_use,
                "suggested_pool_size": suggest_pool_size(s.peak_in_use),
                "latency_p50_us": float(p50),
                "latency_p90_us": float(p90),
                "latency_p99_us": float(p99),
                "runs_per_s": n_runs / wall if wall > 0 else math.nan,
                "wall_s": wall,
            }
        ]
    )
    return PoolTrial(stats, latency, pool)
