"""pool_frame and trace_frame: columns and values checked against the objects they describe."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import factor, observe, sample
from fugue_lab.diagnostics import ArgumentTypeError, pool_frame, trace_frame, trace_size_bytes
from fugue_lab.diagnostics.frames import POOL_COLUMNS, TRACE_COLUMNS
from fugue_lab.errors import InvalidParameterError
from fugue_lab.runtime.handlers import PriorHandler, run
from fugue_lab.runtime.memory import CowTrace, PoolStats, TracePool
from fugue_lab.runtime.trace import Choice, Trace


def prior3() -> float:
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    return x


def sites(n: int) -> None:
    mu = sample("mu", Normal(0.0, 1.0))
    for i in range(n):
        sample(f"x#{i}", Normal(mu, 1.0))
    if n == 2:
        factor(-math.inf)


# -- pool_frame ---------------------------------------------------------------------------------
def test_pool_frame_rows_match_history_and_current_stats() -> None:
    pool = TracePool(3, history_every=4)
    held = [pool.get() for _ in range(5)]  # 5 misses, 5 in use
    for t in held:
        pool.put(t)  # 3 returns, 2 drops
    for _ in range(7):
        pool.put(pool.get())
    frame = pool_frame(pool)
    history = pool.stats_history
    assert list(frame.columns) == list(POOL_COLUMNS)
    assert len(frame) == len(history) + 1
    assert frame["snapshot"].tolist() == list(range(len(frame)))
    assert frame["is_current"].tolist() == [False] * len(history) + [True]
    for i, snap in enumerate(history):
        row = frame.iloc[i]
        for field in ("hits", "misses", "returns", "drops", "in_use", "peak_in_use"):
            assert row[field] == getattr(snap.stats, field)
        assert row["total_gets"] == snap.total_gets
        assert row["hit_ratio"] == pytest.approx(snap.stats.hit_ratio, abs=0)
    last, stats = frame.iloc[-1], pool.stats
    assert (last["hits"], last["misses"], last["returns"], last["drops"]) == (
        stats.hits, stats.misses, stats.returns, stats.drops,
    )  # fmt: skip
    assert last["total_gets"] == stats.total_gets == 12
    assert last["hit_ratio"] == stats.hit_ratio == 7 / 12
    assert last["peak_in_use"] == 5 and last["drops"] == 2
    elapsed = frame["elapsed_s"].to_numpy()
    assert elapsed[0] == 0.0 and (np.diff(elapsed) >= 0).all()


def test_pool_frame_without_history_is_one_current_row() -> None:
    pool = TracePool(2)
    pool.put(pool.get())
    frame = pool_frame(pool)
    assert len(frame) == 1 and bool(frame["is_current"].iloc[0])
    assert frame["hits"].iloc[0] == 0 and frame["misses"].iloc[0] == 1


def test_pool_frame_accepts_pool_stats() -> None:
    frame = pool_frame(PoolStats(hits=3, misses=1, returns=4, drops=0, in_use=0, peak_in_use=1))
    assert frame["hit_ratio"].iloc[0] == 0.75 and math.isnan(frame["elapsed_s"].iloc[0])


@pytest.mark.parametrize("bad", [None, [1, 2], "pool", 3.0, Trace()])
def test_pool_frame_rejects_a_non_pool(bad: object) -> None:
    with pytest.raises(ArgumentTypeError, match="pool_frame: pool must be a TracePool") as info:
        pool_frame(bad)
    assert isinstance(info.value, TypeError)


# -- trace_frame --------------------------------------------------------------------------------
def test_trace_frame_matches_the_traces(rng: np.random.Generator) -> None:
    traces = [run(PriorHandler(rng), sites, n)[1] for n in (0, 1, 2, 5)]
    traces.append(run(PriorHandler(rng), prior3)[1])
    frame = trace_frame(traces)
    assert list(frame.columns) == list(TRACE_COLUMNS)
    assert frame["trace"].tolist() == list(range(len(traces)))
    for (_, row), t in zip(frame.iterrows(), traces):
        assert row["n_choices"] == t.num_choices
        assert row["n_observations"] == t.num_observations
        assert row["log_prior"] == t.log_prior
        assert row["log_likelihood"] == t.log_likelihood
        assert row["log_factors"] == t.log_factors
        assert row["total_log_weight"] == t.total_log_weight or (
            math.isinf(row["total_log_weight"]) and math.isinf(t.total_log_weight)
        )
        assert row["is_valid"] == t.is_valid
        assert row["size_bytes"] == trace_size_bytes(t)
    assert frame["is_valid"].tolist() == [True, True, False, True, True]
    assert frame["log_prior"].dtype == np.float64 and frame["size_bytes"].dtype == np.int64


def test_size_bytes_counts_every_object_once() -> None:
    # Distinct objects everywhere, so the expected total is a plain sum of getsizeof.
    addr_x, addr_y, addr_o = "".join(["x", "1"]), "".join(["y", "2"]), "".join(["o", "3"])
    vx, lx, vy, ly = 0.25, -1.5, 7, -2.25
    choices = {addr_x: Choice(addr_x, vx, lx), addr_y: Choice(addr_y, vy, ly)}
    observations = {addr_o: -0.75}
    trace = Trace(choices, observations, log_prior=-3.75, log_likelihood=-0.5, log_factors=-0.125)
    expected = sys.getsizeof(trace) + sys.getsizeof(choices) + sys.getsizeof(observations)
    for a, c in choices.items():
        expected += sys.getsizeof(a) + sys.getsizeof(c) + sys.getsizeof(c.value)
        expected += sys.getsizeof(c.log_prob)
    expected += sys.getsizeof(addr_o) + sys.getsizeof(observations[addr_o])
    expected += sum(sys.getsizeof(v) for v in (-3.75, -0.5, -0.125))
    assert trace_size_bytes(trace) == expected


def test_size_bytes_counts_arrays_by_nbytes() -> None:
    small = Trace({"v": Choice("v", np.zeros(1), -1.0)})
    big = Trace({"v": Choice("v", np.zeros(1001), -1.0)})
    assert trace_size_bytes(big) - trace_size_bytes(small) == 1000 * 8
    view = np.zeros(4000)[:1001]  # a view: counts the 1001 elements it exposes
    assert trace_size_bytes(Trace({"v": Choice("v", view, -1.0)})) >= trace_size_bytes(big)


def test_size_bytes_grows_with_choices(rng: np.random.Generator) -> None:
    sizes = [trace_size_bytes(run(PriorHandler(rng), sites, n)[1]) for n in (1, 10, 100)]
    assert sizes[0] < sizes[1] < sizes[2]
    # Each extra choice costs at least its Choice tuple, a float value and a float log-prob.
    per_choice = sys.getsizeof(Choice("x#0", 0.5, -1.0)) + 2 * sys.getsizeof(0.5)
    assert sizes[2] - sizes[1] >= 90 * per_choice


def test_trace_frame_reads_cow_traces(rng: np.random.Generator) -> None:
    _, base = run(PriorHandler(rng), prior3)
    cow = CowTrace.from_trace(base)
    clone = cow.clone()
    clone.set_choice("x", 0.0, -0.9189385332046727)
    frame = trace_frame([base, cow, clone])
    assert frame["n_choices"].tolist() == [2, 2, 2]
    assert frame["log_prior"].iloc[1] == pytest.approx(base.log_prior, rel=1e-15)
    assert (frame["size_bytes"] > 0).all()


def test_trace_frame_accepts_one_trace_and_generators(rng: np.random.Generator) -> None:
    _, t = run(PriorHandler(rng), prior3)
    assert len(trace_frame(t)) == 1
    assert len(trace_frame(x for x in [t, t])) == 2


def test_trace_frame_rejects_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match="non-empty"):
        trace_frame([])
    with pytest.raises(ArgumentTypeError, match=r"traces\[1\]"):
        trace_frame([Trace(), "not a trace"])
    with pytest.raises(ArgumentTypeError):
        trace_frame(42)
    batched = Trace(log_prior=np.zeros(3))
    with pytest.raises(InvalidParameterError, match="batched"):
        trace_frame([batched])
