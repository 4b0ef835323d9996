"""Module-level models for tests/inference/test_batch.py.

Process executors and Dask workers import a model by its module and name, so
the models a batch test sends to another process live here, in an importable
module, rather than inside the test functions.
"""

from __future__ import annotations

import threading

from fugue_lab import Bernoulli, Normal, guard, observe, sample


def prior3() -> float:
    """WORKLOADS.md W1: x ~ N(0, 1); y ~ N(x, 0.5); observe N(y, 0.1) at 1.5; return x."""
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    return x


def branching(p: float) -> float:
    """A site ``z`` that exists only when ``b`` is true (stochastic structure)."""
    b = sample("b", Bernoulli(p))
    if b:
        return sample("z", Normal(5.0, 1.0))
    return 0.0


def guarded() -> float:
    """Weight -inf whenever x <= 0 (a hard constraint through guard)."""
    x = sample("x", Normal(0.0, 1.0))
    guard(x > 0.0)
    return x


def unlucky(threshold: float) -> float:
    """Like the x site of prior3, but raises when x exceeds ``threshold``."""
    x = sample("x", Normal(0.0, 1.0))
    if x > threshold:
        raise ValueError(f"x = {x} exceeds {threshold}")
    return x


def lucky(threshold: float) -> float:
    """The twin of :func:`unlucky` that never raises (same draws)."""
    return sample("x", Normal(0.0, 1.0))


class StubbornError(Exception):
    """An exception that cannot be pickled: it holds a lock.

    (An __init__ with extra required arguments is not enough: importing
    ``distributed`` installs tblib's exception pickling, which rebuilds those.)
    """

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")
        self.lock = threading.Lock()


def stubborn() -> float:
    """Raises an exception that cannot cross a process boundary as itself."""
    sample("x", Normal(0.0, 1.0))
    raise StubbornError("stubborn", "always fails")


def returns_a_function() -> object:
    """Returns a lambda: fine in this process, cannot be pickled back from a worker."""
    sample("x", Normal(0.0, 1.0))
    return lambda: 0.0


def worker_pools(index, seed_seq, payload) -> dict[int, int]:
    """A chunk function: the sizes and get counts of the pools this worker process holds."""
    from fugue_lab.inference import batch

    return {size: pool.stats.total_gets for size, pool in batch._WORKER_POOLS.items()}
