"""PerformanceMonitor: what it records, its summary and alerts, and that off means off."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import factor, observe, sample
from fugue_lab.diagnostics import ArgumentTypeError, PerformanceMonitor
from fugue_lab.diagnostics.monitor import MONITOR_COLUMNS
from fugue_lab.errors import InvalidParameterError
from fugue_lab.inference.results import ImportanceResult
from fugue_lab.runtime.handlers import PriorHandler, run
from fugue_lab.runtime.memory import PooledPriorHandler, TracePool
from fugue_lab.runtime.trace import Trace


def prior3(bad: bool = False) -> float:
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    if bad:
        factor(-math.inf)
    return x


def test_track_records_one_row_per_run(rng: np.random.Generator) -> None:
    monitor = PerformanceMonitor()
    for i in range(4):
        with monitor.track("prior3") as record:
            traces = [run(PriorHandler(rng), prior3, j < i)[1] for j in range(4)]
            record.observe_traces(traces)
    frame = monitor.frame()
    assert list(frame.columns) == list(MONITOR_COLUMNS)
    assert frame["run"].tolist() == [0, 1, 2, 3]
    assert (frame["latency_us"] > 0).all() and frame["ok"].all()
    assert frame["n_traces"].tolist() == [4, 4, 4, 4]
    assert frame["n_choices_mean"].tolist() == [2.0] * 4
    assert frame["n_invalid"].tolist() == [0, 1, 2, 3]
    assert frame["invalid_fraction"].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert frame["start_s"].is_monotonic_increasing
    assert frame["pool_hits"].isna().all() and frame["memory_peak_bytes"].isna().all()


def test_pool_counters_are_the_runs_own(rng: np.random.Generator) -> None:
    pool = TracePool(2)
    monitor = PerformanceMonitor()
    handler = PooledPriorHandler(rng, pool)
    for n_held in (3, 1, 2):
        before = pool.stats
        with monitor.track("pooled", pool=pool):
            held = [run(handler, prior3)[1] for _ in range(n_held)]
            for t in held:
                pool.put(t)
        after = pool.stats
        row = monitor.frame().iloc[-1]
        assert row["pool_hits"] == after.hits - before.hits
        assert row["pool_misses"] == after.misses - before.misses
        assert row["pool_drops"] == after.drops - before.drops
        assert row["pool_gets"] == n_held
        assert row["pool_hit_ratio"] == (after.hits - before.hits) / n_held
        assert row["pool_peak_in_use"] == after.peak_in_use
    assert monitor.frame()["pool_hit_ratio"].tolist() == [0.0, 1.0, 1.0]


def test_failed_runs_are_recorded_and_reraised() -> None:
    monitor = PerformanceMonitor()
    with pytest.raises(ZeroDivisionError), monitor.track("boom"):
        1 / 0
    row = monitor.frame().iloc[0]
    assert not row["ok"] and row["error"] == "ZeroDivisionError"
    assert monitor.summary().loc["boom", "n_failed"] == 1


def test_wrap_observes_what_the_function_returns(rng: np.random.Generator) -> None:
    monitor = PerformanceMonitor()

    @monitor.wrap
    def infer(n: int) -> ImportanceResult:
        log_w = np.zeros(n)
        log_w[:2] = -np.inf
        return ImportanceResult(log_w, {"x": rng.normal(size=n)})

    @monitor.wrap
    def one_run() -> tuple[float, Trace]:
        return run(PriorHandler(rng), prior3)

    result = infer(10)
    assert isinstance(result, ImportanceResult)
    one_run()
    frame = monitor.frame()
    assert frame["label"].tolist() == ["infer", "one_run"]
    assert frame["n_traces"].tolist() == [10, 1]
    assert frame["n_invalid"].tolist() == [2, 0]
    assert frame["n_choices_mean"].tolist() == [1.0, 2.0]
    assert infer.__name__ == "infer"


def test_batched_traces_count_each_particle() -> None:
    monitor = PerformanceMonitor()
    with monitor.track() as record:
        record.observe_traces([Trace(log_prior=np.array([0.0, -np.inf, np.nan, -1.0]))])
    row = monitor.frame().iloc[0]
    assert row["n_traces"] == 4 and row["n_invalid"] == 2


def test_off_costs_nothing_and_records_nothing() -> None:
    monitor = PerformanceMonitor(enabled=False)

    def f(x: int) -> int:
        return x + 1

    assert monitor.wrap(f) is f
    first, second = monitor.track("a"), monitor.track("b", pool=TracePool(1))
    assert first is second  # one shared do-nothing context manager, nothing allocated
    with first as record:
        record.observe_traces([Trace(log_prior=-math.inf)])
    assert len(monitor) == 0 and len(monitor.frame()) == 0


def test_switching_off_a_wrapped_function_stops_recording() -> None:
    monitor = PerformanceMonitor()
    g = monitor.wrap(lambda: 1)
    g()
    monitor.enabled = False
    g()
    assert len(monitor) == 1


def test_memory_tracking_sees_an_allocation() -> None:
    monitor = PerformanceMonitor(memory=True)
    with monitor.track("alloc"):
        block = np.ones(500_000)  # 4 MB
        del block
    assert monitor.frame()["memory_peak_bytes"].iloc[0] >= 4_000_000


def test_summary_percentiles_come_from_the_frame(rng: np.random.Generator) -> None:
    monitor = PerformanceMonitor()
    for label in ("a", "b", "a", "a", "b"):
        with monitor.track(label) as record:
            record.observe_traces([run(PriorHandler(rng), prior3)[1]])
    frame, summary = monitor.frame(), monitor.summary()
    assert summary.index.tolist() == ["a", "b"]
    for label, group in frame.groupby("label"):
        lat = group["latency_us"].to_numpy()
        row = summary.loc[label]
        assert row["n_runs"] == len(group)
        assert row["latency_p50_us"] == np.percentile(lat, 50)
        assert row["latency_p99_us"] == np.percentile(lat, 99)
        assert row["latency_max_us"] == lat.max()
        assert row["runs_per_s"] == pytest.approx(len(group) / (lat.sum() / 1e6))
        assert row["traces_per_s"] == pytest.approx(len(group) / (lat.sum() / 1e6))
        assert row["invalid_fraction"] == 0.0


def test_alerts_report_what_crossed(rng: np.random.Generator) -> None:
    pool = TracePool(1)
    monitor = PerformanceMonitor()
    handler = PooledPriorHandler(rng, pool)
    for bad in (False, True):
        with monitor.track("run", pool=pool) as record:
            traces = [run(handler, prior3, bad)[1] for _ in range(2)]  # the 2nd get misses
            record.observe_traces(traces)
            for t in traces:
                pool.put(t)
    assert monitor.alerts().empty
    assert list(monitor.alerts().columns) == ["run", "label", "metric", "value", "threshold",
                                              "message"]
    alerts = monitor.alerts(max_latency_us=0.0, min_hit_ratio=0.9, max_invalid_fraction=0.5)
    by_metric = alerts.groupby("metric")["run"].apply(list).to_dict()
    assert by_metric == {
        "latency_us": [0, 1],  # every latency is > 0
        "pool_hit_ratio": [0, 1],  # 0/2 and 1/2 hits
        "invalid_fraction": [1],  # 1.0 > 0.5; run 0 has 0.0
    }
    assert alerts["run"].is_monotonic_increasing
    row = alerts[alerts["metric"] == "invalid_fraction"].iloc[0]
    assert row["value"] == 1.0 and row["threshold"] == 0.5 and "above 0.5" in row["message"]
    assert monitor.alerts(max_latency_us=1e12, min_hit_ratio=0.0).empty


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_latency_us": -1.0}, "max_latency_us"),
        ({"max_latency_us": math.nan}, "max_latency_us"),
        ({"min_hit_ratio": -0.1}, "min_hit_ratio"),
        ({"min_hit_ratio": 1.5}, "min_hit_ratio"),
        ({"max_invalid_fraction": -0.5}, "max_invalid_fraction"),
        ({"max_invalid_fraction": "high"}, "max_invalid_fraction"),
        ({"max_memory_bytes": -1}, "max_memory_bytes"),
    ],
)
def test_bad_thresholds_raise(kwargs: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        PerformanceMonitor().alerts(**kwargs)
    assert info.value.name == name


def test_bad_arguments_raise() -> None:
    monitor = PerformanceMonitor()
    with pytest.raises(ArgumentTypeError, match="pool"):
        monitor.track(pool=[1, 2])
    with pytest.raises(ArgumentTypeError, match="callable"):
        monitor.wrap(42)
    with pytest.raises(InvalidParameterError, match="max_records"):
        PerformanceMonitor(max_records=0)


def test_threads_record_every_run_once() -> None:
    monitor = PerformanceMonitor()

    def work() -> None:
        for _ in range(50):
            with monitor.track("thread"):
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    frame = monitor.frame()
    assert sorted(frame["run"]) == list(range(200))


def test_max_records_keeps_the_newest() -> None:
    monitor = PerformanceMonitor(max_records=3)
    for _ in range(5):
        with monitor.track():
            pass
    assert monitor.frame()["run"].tolist() == [2, 3, 4]
    monitor.reset()
    assert len(monitor) == 0
