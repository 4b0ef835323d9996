"""Figures for the memory layer (issue 3): W1 pooled vs unpooled, W5 copy-on-write, TraceBuilder.

Run from the project root::

    python benchmarks/memory_figures.py            # full run, about a minute
    python benchmarks/memory_figures.py --quick    # fewer repeats

Every figure is the median over repeats of ``timeit`` loops, measured in this
process beside the hand-written floor of ``../shared/bench/floors.py`` (set
``FUGUE_LAB_SHARED`` to point elsewhere).  Correctness is checked beside each
timing: a fast wrong answer is not a result.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
import sys
import timeit
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fugue_lab.core.distributions import Normal  # noqa: E402
from fugue_lab.core.primitives import observe, sample  # noqa: E402
from fugue_lab.runtime.handlers import PriorHandler, run  # noqa: E402
from fugue_lab.runtime.memory import (  # noqa: E402
    CowTrace,
    PooledPriorHandler,
    TraceBuilder,
    TracePool,
    exact_sum,
)
from fugue_lab.runtime.trace import Choice, Trace, new_choice  # noqa: E402


def load_floors() -> Any:
    shared = Path(os.environ.get("FUGUE_LAB_SHARED", ROOT.parent / "shared"))
    path = shared / "bench" / "floors.py"
    spec = importlib.util.spec_from_file_location("floors", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the floors from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def median_seconds(fn: Any, number: int, repeat: int) -> float:
    """Median over ``repeat`` timeit loops of ``number`` calls, in seconds per call."""
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number


# -- W1 prior3 ---------------------------------------------------------------------------------
def prior3() -> float:
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    return x


def w1(number: int, repeat: int, floors: Any) -> dict[str, float]:
    plain = PriorHandler(np.random.default_rng(1))
    pool = TracePool(50)
    pooled = PooledPriorHandler(np.random.default_rng(1), pool)
    put = pool.put

    def run_plain() -> None:
        run(plain, prior3)

    def run_pooled() -> None:
        put(run(pooled, prior3)[1])

    # Correctness: the same seed gives the same trace, pooled or not.
    check_plain = PriorHandler(np.random.default_rng(7))
    check_pooled = PooledPriorHandler(np.random.default_rng(7), TracePool(2))
    for _ in range(100):
        a, b = run(check_plain, prior3)[1], run(check_pooled, prior3)[1]
        if a != b:
            raise SystemExit("W1: pooled and plain traces differ")
        check_pooled.pool.put(b)

    def get_put() -> None:
        put(pool.get())

    for fn in (run_plain, run_pooled):  # warm-up
        fn()
    plain_t, pooled_t, floor_t, pair_t, alloc_t, ratios = [], [], [], [], [], []
    for i in range(repeat):
        # Short loops, interleaved and in alternating order, so that the load of a shared
        # machine hits every variant alike; the ratio is the median of back-to-back pairs.
        if i % 2:
            pooled_t.append(median_seconds(run_pooled, number, 1))
            plain_t.append(median_seconds(run_plain, number, 1))
        else:
            plain_t.append(median_seconds(run_plain, number, 1))
            pooled_t.append(median_seconds(run_pooled, number, 1))
        ratios.append(pooled_t[-1] / plain_t[-1])
        floor_t.append(floors.floor_prior3(number, seed=i))
        pair_t.append(median_seconds(get_put, number, 1))
        alloc_t.append(median_seconds(Trace, number, 1))
    stats = pool.stats
    return {
        "plain_us": statistics.median(plain_t) * 1e6,
        "pooled_us": statistics.median(pooled_t) * 1e6,
        "floor_us": statistics.median(floor_t) * 1e6,
        "get_put_us": statistics.median(pair_t) * 1e6,
        "new_trace_us": statistics.median(alloc_t) * 1e6,
        "ratio": statistics.median(ratios),
        "hit_ratio": stats.hit_ratio,
        "gets": stats.total_gets,
        "peak_in_use": stats.peak_in_use,
    }


# -- W5 copy-on-write ------------------------------------------------------------------------
def w5(sites: int, number: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(sites)
    addresses = [f"x#{i}" for i in range(sites)]
    values = rng.normal(size=sites).tolist()
    log_probs = [-0.5 * v * v - 0.9189385332046727 for v in values]
    trace = TraceBuilder(capacity=sites).add_samples(addresses, values, log_probs).build()
    cow = CowTrace.from_trace(trace)
    target = addresses[sites // 2]
    new_value = 0.25
    new_lp = -0.5 * new_value * new_value - 0.9189385332046727

    def cow_clone_and_change() -> CowTrace:
        clone = cow.clone()
        clone.set_choice(target, new_value, new_lp)
        return clone

    choices = trace.choices

    def dict_clone_and_change() -> tuple[dict, float]:
        copied = dict(choices)
        old = copied[target]
        copied[target] = new_choice(Choice, (target, new_value, new_lp))
        return copied, trace.log_prior + (new_lp - old[2])

    # Correctness: the original is unchanged, the clone's weights are current.
    before = cow.to_trace()
    clone = cow_clone_and_change()
    if cow.to_trace() != before or cow.get_float(target) != trace.get_float(target):
        raise SystemExit("W5: a write to a clone changed the original")
    exact = exact_sum(lp for _, _, lp in clone.choices.values())
    magnitude = exact_sum(abs(lp) for lp in log_probs) + abs(new_lp)
    weight_error = abs(clone.log_prior - exact)
    if weight_error > 4 * 2.0**-53 * magnitude * sites:
        raise SystemExit(f"W5: clone log_prior off by {weight_error}")

    cow_t = median_seconds(cow_clone_and_change, number, repeat)
    dict_t = median_seconds(dict_clone_and_change, max(1, number // max(1, sites // 100)), repeat)
    return {
        "sites": sites,
        "cow_ns": cow_t * 1e9,
        "dict_ns": dict_t * 1e9,
        "weight_error": weight_error,
    }


# -- TraceBuilder ---------------------------------------------------------------------------------
def builder(n: int, number: int, repeat: int) -> dict[str, float]:
    addresses = [f"x#{i}" for i in range(n)]
    values = [0.1 * i for i in range(n)]
    log_probs = [-0.5 * v * v - 0.9189385332046727 for v in values]
    records = list(zip(addresses, values, log_probs))

    def single() -> Trace:
        b = TraceBuilder(capacity=n)
        add = b.add_sample
        for a, v, lp in records:
            add(a, v, lp)
        return b.build()

    def batch() -> Trace:
        return TraceBuilder(capacity=n).add_samples(addresses, values, log_probs).build()

    if single() != batch():
        raise SystemExit("builder: batch and single adds built different traces")
    single_t, batch_t, ratios = [], [], []
    for i in range(repeat):  # interleaved, alternating order, paired ratios (as in w1)
        if i % 2:
            batch_t.append(median_seconds(batch, number, 1))
            single_t.append(median_seconds(single, number, 1))
        else:
            single_t.append(median_seconds(single, number, 1))
            batch_t.append(median_seconds(batch, number, 1))
        ratios.append(single_t[-1] / batch_t[-1])
    s, b = statistics.median(single_t), statistics.median(batch_t)
    return {"single_us": s * 1e6, "batch_us": b * 1e6, "ratio": statistics.median(ratios)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    floors = load_floors()

    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}; medians of {repeat} repeats")
    r = w1(number=2_000, repeat=5 * repeat, floors=floors)
    print("\nW1 prior3 (one prior execution with a full trace)")
    print(f"  {'variant':34s} {'us/exec':>8s} {'x floor':>8s}")
    for name, key in [
        ("floor_prior3 (pure Python)", "floor_us"),
        ("PriorHandler", "plain_us"),
        ("PooledPriorHandler, pool of 50", "pooled_us"),
    ]:
        print(f"  {name:34s} {r[key]:8.3f} {r[key] / r['floor_us']:8.2f}")
    print(
        f"  pooled / plain = {r['ratio']:.3f} (median of paired repeats); hit ratio "
        f"{r['hit_ratio']:.6f} over {r['gets']} gets (peak in use {r['peak_in_use']})"
    )
    print(
        f"  uncontended pool.put(pool.get()) {r['get_put_us'] * 1e3:.0f} ns; "
        f"Trace() {r['new_trace_us'] * 1e3:.0f} ns"
    )

    print("\nW5 clone-and-change one site (ns); original unchanged, weights current")
    print(f"  {'sites':>6s} {'CowTrace':>10s} {'dict copy':>11s} {'dict/cow':>9s} {'drift':>9s}")
    for sites in (3, 100, 1_000, 10_000):
        w = w5(sites, number=20_000, repeat=repeat)
        print(
            f"  {sites:6d} {w['cow_ns']:10.0f} {w['dict_ns']:11.0f} "
            f"{w['dict_ns'] / w['cow_ns']:9.2f} {w['weight_error']:9.1e}"
        )

    b = builder(100, number=200, repeat=5 * repeat)
    print("\nTraceBuilder, 100 choices (builder + build)")
    print(
        f"  100 add_sample calls {b['single_us']:.2f} us; one add_samples {b['batch_us']:.2f} us; "
        f"batch is {b['ratio']:.2f}x as fast (median of paired repeats)"
    )
    if not math.isfinite(b["ratio"]):
        raise SystemExit("builder: no timing")


if __name__ == "__main__":
    main()
