"""TracePool, PoolStats, the buffer pool and PooledPriorHandler."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest

from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import factor, observe, sample
from fugue_lab.errors import InvalidParameterError
from fugue_lab.runtime.handlers import PriorHandler, run
from fugue_lab.runtime.memory import (
    BufferStats,
    PooledPriorHandler,
    PoolSnapshot,
    PoolStats,
    TracePool,
)
from fugue_lab.runtime.trace import Choice, Trace


def prior3() -> float:
    """W1 of WORKLOADS.md."""
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    return x


def failing_model() -> None:
    sample("x", Normal(0.0, 1.0))
    raise RuntimeError("model failed")


# -- construction ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_size": 0}, "max_size"),
        ({"max_size": -3}, "max_size"),
        ({"max_size": 2.0}, "max_size"),
        ({"max_size": "4"}, "max_size"),
        ({"max_size": True}, "max_size"),
        ({"max_size": None}, "max_size"),
        ({"max_size": 4, "min_size": 5}, "min_size"),
        ({"max_size": 4, "min_size": -1}, "min_size"),
        ({"max_size": 4, "min_size": 1.5}, "min_size"),
        ({"max_size": 4, "history_every": 0}, "history_every"),
        ({"max_size": 4, "max_buffer_bytes": -1}, "max_buffer_bytes"),
    ],
)
def test_bad_sizes_raise_naming_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError, match=name) as info:
        TracePool(**kwargs)
    assert info.value.name == name


def test_sizes_and_defaults() -> None:
    pool = TracePool(8, min_size=3)
    assert (pool.capacity, pool.max_size, pool.min_size, len(pool)) == (8, 8, 3, 0)
    assert TracePool(1).min_size == 0
    assert TracePool(np.int64(5)).capacity == 5
    assert TracePool(5, min_size=5).min_size == 5
    assert pool.stats == PoolStats(0, 0, 0, 0, 0, 0)
    assert pool.stats.hit_ratio == 0.0
    assert pool.history_every is None


# -- get / put ------------------------------------------------------------------------------
def test_put_then_get_returns_the_same_object_cleared_with_its_dicts() -> None:
    pool = TracePool(4)
    trace = pool.get()
    choices, observations = trace.choices, trace.observations
    trace.choices["x"] = Choice("x", 1.0, -1.4)
    trace.observations["y"] = -2.0
    trace.log_prior, trace.log_likelihood, trace.log_factors = -1.4, -2.0, -0.5
    pool.put(trace)
    again = pool.get()
    assert again is trace
    assert again.choices is choices and again.observations is observations
    assert again == Trace()
    assert pool.stats == PoolStats(hits=1, misses=1, returns=1, drops=0, in_use=1, peak_in_use=1)


def test_reuse_is_last_in_first_out() -> None:
    pool = TracePool(4)
    a, b = pool.get(), pool.get()
    pool.put(a)
    pool.put(b)
    assert pool.get() is b
    assert pool.get() is a
    assert pool.get() is not a  # empty again: a miss


@pytest.mark.parametrize("bad", [None, {"x": 1.0}, 3, "trace", [Trace()]])
def test_put_non_trace_is_a_type_error(bad: object) -> None:
    pool = TracePool(2)
    with pytest.raises(TypeError, match="expected a Trace"):
        pool.put(bad)  # type: ignore[arg-type]
    assert pool.stats.total_puts == 0


def test_putting_the_same_trace_twice_is_a_value_error() -> None:
    pool = TracePool(3)
    trace = pool.get()
    pool.put(trace)
    with pytest.raises(ValueError, match="already idle"):
        pool.put(trace)
    assert len(pool) == 1
    assert pool.stats.returns == 1
    # Once handed out again it may be put back again.
    assert pool.get() is trace
    pool.put(trace)
    assert pool.stats.returns == 2


def test_put_beyond_capacity_drops_and_counts() -> None:
    pool = TracePool(2)
    traces = [pool.get() for _ in range(5)]
    for trace in traces:
        pool.put(trace)
    stats = pool.stats
    assert len(pool) == 2
    assert (stats.returns, stats.drops, stats.misses, stats.in_use, stats.peak_in_use) == (
        2,
        3,
        5,
        0,
        5,
    )
    assert stats.total_puts == 5


def test_put_clears_even_a_dropped_trace() -> None:
    pool = TracePool(1)
    pool.put(Trace())
    full = Trace({"x": Choice("x", 1.0, -1.0)}, log_prior=-1.0)
    pool.put(full)
    assert pool.stats.drops == 1
    assert full == Trace()


def test_a_foreign_trace_is_adopted_without_changing_in_use() -> None:
    pool = TracePool(2)
    held = pool.get()
    foreign = Trace({"x": Choice("x", 1.0, -1.0)})
    pool.put(foreign)
    assert pool.stats.in_use == 1  # `held` is still out
    assert pool.get() is foreign
    pool.put(held)
    pool.put(foreign)
    assert pool.stats.in_use == 0


def test_in_use_and_peak_follow_gets_and_puts() -> None:
    pool = TracePool(10)
    out = [pool.get() for _ in range(4)]
    pool.put(out.pop())
    assert (pool.stats.in_use, pool.stats.peak_in_use) == (3, 4)
    out.append(pool.get())  # a hit: in use again
    assert (pool.stats.in_use, pool.stats.peak_in_use) == (4, 4)
    for trace in out:
        pool.put(trace)
    assert (pool.stats.in_use, pool.stats.peak_in_use) == (0, 4)


def test_a_trace_garbage_collected_without_put_is_no_longer_in_use() -> None:
    pool = TracePool(4)
    kept = pool.get()
    lost = pool.get()
    assert pool.stats.in_use == 2
    del lost
    gc.collect()
    assert pool.stats.in_use == 1
    pool.put(kept)
    assert pool.stats.in_use == 0
    # New traces (possibly at the dead one's memory address) are counted normally.
    fresh = [pool.get() for _ in range(3)]
    assert pool.stats.in_use == 3
    for trace in fresh:
        pool.put(trace)
    assert pool.stats.in_use == 0


def test_hit_ratio_and_total_gets() -> None:
    pool = TracePool(1)
    for _ in range(10):
        pool.put(pool.get())
    stats = pool.stats
    assert stats.total_gets == 10
    assert stats.hit_ratio == pytest.approx(9 / 10, rel=0, abs=0)
    assert 0.0 <= stats.hit_ratio <= 1.0


def test_return_trace_is_put() -> None:
    pool = TracePool(2)
    trace = pool.get()
    pool.return_trace(trace)
    assert pool.get() is trace


# -- borrow ---------------------------------------------------------------------------------
def test_borrow_returns_the_trace_on_exit_and_on_exceptions() -> None:
    pool = TracePool(2)
    with pool.borrow() as trace:
        assert pool.stats.in_use == 1
        trace.log_factors = -3.0
    assert pool.stats.in_use == 0 and len(pool) == 1
    with pytest.raises(KeyError), pool.borrow() as again:
        assert again is trace
        raise KeyError("boom")
    assert pool.stats == PoolStats(hits=1, misses=1, returns=2, drops=0, in_use=0, peak_in_use=1)
    assert trace.log_factors == 0.0


# -- sizing ---------------------------------------------------------------------------------
def test_prewarm_defaults_to_min_size_and_is_not_counted() -> None:
    pool = TracePool(6, min_size=2)
    assert pool.prewarm() == 2
    assert pool.prewarm(5) == 3
    assert pool.prewarm(1) == 0
    assert len(pool) == 5
    assert pool.stats == PoolStats(0, 0, 0, 0, 0, 0)
    for _ in range(5):
        pool.get()
    assert pool.stats.hits == 5 and pool.stats.misses == 0


@pytest.mark.parametrize("n", [7, -1, 2.5, "3"])
def test_prewarm_rejects_bad_counts(n: object) -> None:
    with pytest.raises(InvalidParameterError, match="n must be"):
        TracePool(6).prewarm(n)  # type: ignore[arg-type]


def test_shrink_keeps_min_size_and_shrink_to_keeps_n() -> None:
    pool = TracePool(10, min_size=3)
    pool.prewarm(10)
    newest = pool.get()
    pool.put(newest)
    assert pool.shrink_to(6) == 4
    assert len(pool) == 6
    assert pool.get() is newest  # the oldest idle traces went first
    pool.put(newest)
    assert pool.shrink() == 3
    assert len(pool) == 3
    assert pool.shrink() == 0
    assert pool.shrink_to(8) == 0
    with pytest.raises(InvalidParameterError):
        pool.shrink_to(-1)
    pool.clear()
    assert len(pool) == 0
    # Dropping idle traces is not a put, so it is not a drop.
    assert pool.stats.drops == 0


def test_a_shrunk_trace_can_be_put_again() -> None:
    pool = TracePool(4)
    pool.prewarm(1)
    trace = pool.get()
    pool.put(trace)
    pool.clear()
    pool.put(trace)  # no longer idle in the pool: accepted
    assert len(pool) == 1


# -- statistics -----------------------------------------------------------------------------
def test_reset_stats_keeps_in_use() -> None:
    pool = TracePool(4, history_every=1)
    held = pool.get()
    pool.put(pool.get())
    pool.reset_stats()
    assert pool.stats == PoolStats(0, 0, 0, 0, in_use=1, peak_in_use=1)
    assert pool.stats_history == []
    pool.put(held)
    assert pool.stats.returns == 1


def test_history_snapshots_every_k_gets() -> None:
    pool = TracePool(2, history_every=3)
    for _ in range(10):
        pool.put(pool.get())
    history = pool.stats_history
    assert [s.total_gets for s in history] == [3, 6, 9]
    assert all(isinstance(s, PoolSnapshot) for s in history)
    assert [s.timestamp for s in history] == sorted(s.timestamp for s in history)
    # Each snapshot is taken inside get(), before that get's trace is put back.
    assert history[1].stats == PoolStats(
        hits=5, misses=1, returns=5, drops=0, in_use=1, peak_in_use=1
    )
    row = history[1].as_row()
    assert row["total_gets"] == 6 and row["hit_ratio"] == pytest.approx(5 / 6)
    assert set(row) >= {"timestamp_s", "hits", "misses", "in_use", "peak_in_use"}
    pool.record_history(None)
    for _ in range(6):
        pool.get()
    assert len(pool.stats_history) == 3
    assert pool.history_every is None


def test_history_is_bounded() -> None:
    pool = TracePool(2, history_every=1, history_maxlen=4)
    for _ in range(10):
        pool.put(pool.get())
    assert [s.total_gets for s in pool.stats_history] == [7, 8, 9, 10]


def test_record_history_validates() -> None:
    with pytest.raises(InvalidParameterError, match="history_every"):
        TracePool(2).record_history(0)


def test_stats_is_an_immutable_snapshot() -> None:
    pool = TracePool(2)
    before = pool.stats
    pool.get()
    assert before.total_gets == 0
    with pytest.raises(AttributeError):
        before.hits = 5  # type: ignore[misc]


# -- array buffers --------------------------------------------------------------------------
def test_buffers_are_reused_by_shape_and_dtype() -> None:
    pool = TracePool(1)
    a = pool.get_buffer((4, 2))
    assert a.shape == (4, 2) and a.dtype == np.float64
    pool.put_buffer(a)
    assert pool.buffer_stats == BufferStats(0, 1, 1, 0, 1, a.nbytes)
    assert pool.get_buffer(8) is not a  # another shape
    assert pool.get_buffer((4, 2), np.float32) is not a  # another dtype
    assert pool.get_buffer([4, 2], "f8") is a
    stats = pool.buffer_stats
    assert (stats.hits, stats.misses, stats.held, stats.held_bytes) == (1, 3, 0, 0)
    assert stats.hit_ratio == pytest.approx(1 / 4)


@pytest.mark.parametrize("shape", [-1, (3, -2), (2.0,), "3"])
def test_get_buffer_rejects_bad_shapes(shape: object) -> None:
    with pytest.raises((InvalidParameterError, TypeError)):
        TracePool(1).get_buffer(shape)  # type: ignore[arg-type]


def test_put_buffer_rejects_what_cannot_be_reused() -> None:
    pool = TracePool(1)
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        pool.put_buffer([1.0, 2.0])  # type: ignore[arg-type]
    base = np.zeros(10)
    with pytest.raises(ValueError, match="owns its memory"):
        pool.put_buffer(base[::2])
    with pytest.raises(ValueError, match="owns its memory"):
        pool.put_buffer(np.empty(3, dtype=object))
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="owns its memory"):
        pool.put_buffer(frozen)
    pool.put_buffer(base)
    with pytest.raises(ValueError, match="already idle"):
        pool.put_buffer(base)


def test_buffers_over_the_byte_budget_are_dropped() -> None:
    pool = TracePool(1, max_buffer_bytes=100)
    pool.put_buffer(np.zeros(10))  # 80 bytes: kept
    pool.put_buffer(np.zeros(10))  # would make 160: dropped
    stats = pool.buffer_stats
    assert (stats.returns, stats.drops, stats.held, stats.held_bytes) == (1, 1, 1, 80)


def test_put_can_recycle_the_arrays_of_a_batched_trace() -> None:
    pool = TracePool(2)
    values, log_probs = pool.get_buffer(5), pool.get_buffer(5)
    log_prior = pool.get_buffer(5)
    view = np.zeros(10)[:5]  # not reusable: skipped silently
    trace = pool.get()
    trace.choices["x"] = Choice("x", values, log_probs)
    trace.choices["z"] = Choice("z", view, log_probs)  # the same array twice
    trace.log_prior = log_prior
    pool.put(trace, recycle_arrays=True)
    assert pool.buffer_stats.held == 3
    assert {id(pool.get_buffer(5)) for _ in range(3)} == {id(values), id(log_probs), id(log_prior)}
    assert trace == Trace()


def test_clear_empties_buffers_too() -> None:
    pool = TracePool(1)
    pool.put_buffer(np.zeros(4))
    pool.clear()
    assert pool.buffer_stats.held == 0 and pool.buffer_stats.held_bytes == 0


# -- the pooled handler -------------------------------------------------------------------
def test_pooled_handler_returns_the_very_trace_put_back() -> None:
    pool = TracePool(4)
    handler = PooledPriorHandler(np.random.default_rng(1), pool)
    _, first = run(handler, prior3)
    first_choices = first.choices
    values = first.values()
    pool.put(first)
    _, second = run(PooledPriorHandler(np.random.default_rng(2), pool), prior3)
    assert second is first
    assert second.choices is first_choices  # refilled in place: its own dict
    assert list(second.choices) == ["x", "y"] and list(second.observations) == ["obs"]
    assert second.values() != values


def test_a_trace_put_by_the_caller_is_the_one_the_pooled_handler_records_into() -> None:
    pool = TracePool(4)
    t = Trace({"stale": Choice("stale", 1.0, -1.0)}, log_factors=-7.0)
    pool.put(t)
    _, trace = run(PooledPriorHandler(np.random.default_rng(0), pool), prior3)
    assert trace is t
    assert "stale" not in trace and trace.log_factors == 0.0
    assert trace.num_choices == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooled_handler_draws_what_prior_handler_draws(seed: int) -> None:
    pool = TracePool(2)
    pooled = PooledPriorHandler(np.random.default_rng(seed), pool)
    plain = PriorHandler(np.random.default_rng(seed))
    for _ in range(5):
        value_a, a = run(plain, prior3)
        value_b, b = run(pooled, prior3)
        assert value_a == value_b
        assert a == b  # values, log-probs and all three weights exactly
        pool.put(b)
    assert pool.stats.hits == 4 and pool.stats.misses == 1


def test_pooled_handler_keeps_factors_and_weights() -> None:
    def model() -> None:
        sample("x", Normal(0.0, 1.0))
        factor(-2.5)

    pool = TracePool(2)
    _, trace = run(PooledPriorHandler(np.random.default_rng(0), pool), model)
    assert trace.log_factors == -2.5
    assert trace.total_log_weight == trace.log_prior - 2.5


def test_abort_returns_the_trace_to_the_pool() -> None:
    pool = TracePool(2)
    handler = PooledPriorHandler(np.random.default_rng(0), pool)
    with pytest.raises(RuntimeError, match="model failed"):
        run(handler, failing_model)
    assert len(pool) == 1 and pool.stats.in_use == 0
    idle = pool.get()
    assert idle == Trace()
    pool.put(idle)
    _, trace = run(handler, prior3)  # the handler is reusable after an abort
    assert trace is idle


def test_pooled_handler_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="TracePool"):
        PooledPriorHandler(np.random.default_rng(0), object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Generator"):
        PooledPriorHandler(0, TracePool(1))  # type: ignore[arg-type]


# -- threads --------------------------------------------------------------------------------
def test_eight_threads_hammering_one_pool_keep_the_invariants() -> None:
    pool = TracePool(4)  # fewer idle slots than threads: hits, misses, returns and drops
    n_threads, pairs = 8, 2_000
    holders: dict[int, int] = {}
    holders_lock = threading.Lock()
    errors: list[str] = []
    start = threading.Barrier(n_threads)

    def worker(tid: int) -> None:
        try:
            work(tid)
        except Exception as exc:  # an exception in a thread would otherwise go unnoticed
            errors.append(f"thread {tid}: {exc!r}")

    def work(tid: int) -> None:
        start.wait()
        for i in range(pairs):
            trace = pool.get()
            key = id(trace)
            with holders_lock:
                if key in holders:
                    errors.append(f"trace {key} handed to {tid} while {holders[key]} holds it")
                holders[key] = tid
            if trace.choices or trace.log_factors != 0.0:
                errors.append("a trace came out of the pool not cleared")
            trace.choices["owner"] = Choice("owner", tid, 0.0)
            trace.log_factors = float(tid)
            if i % 3 == 0:  # hold two at once now and then to push in_use up
                extra = pool.get()
                pool.put(extra)
            if trace.choices["owner"].value != tid or trace.log_factors != tid:
                errors.append("a trace was written by two threads at once")
            with holders_lock:
                del holders[key]
            pool.put(trace)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, to make races likely
    try:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old_interval)

    assert errors == []
    stats = pool.stats
    gets = n_threads * (pairs + (pairs + 2) // 3)
    assert stats.hits + stats.misses == gets
    assert stats.returns + stats.drops == gets  # every get was paired with a put
    assert stats.in_use == 0
    assert 1 <= stats.peak_in_use <= 2 * n_threads
    assert len(pool) <= pool.capacity
    # Nothing lost: every trace ever created is either idle in the pool or was dropped.
    assert stats.misses == len(pool) + stats.drops
