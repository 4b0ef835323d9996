"""The performance guide, topic by topic, as code that returns frames and figures.

Each :class:`Topic` follows one section of the guide
(``optimizing-performance.md``) and runs it end to end on the library:
``topic.run(quick=True, seed=0)`` returns a :class:`TopicOutput` with named
DataFrames, named matplotlib Figures and short notes. ``fugue-lab tour``
prints the frames as text tables; ``fugue-lab report`` writes them, with the
figures, into one HTML file (:func:`fugue_lab.diagnostics.report.write_report`).

``quick=True`` uses small sizes (the whole tour runs in well under a minute);
``quick=False`` uses the sizes of ``WORKLOADS.md``. Timings are measured on
the machine at hand: compare the rows of one frame with each other, not with
another machine's numbers. The figures are made with ``plt.subplots`` and
belong to the caller, who closes them.

Examples
--------
>>> [t.name for t in TOPICS][:3]
['memory-pooling', 'numerical-stability', 'trace-construction']
>>> out = get_topic("numerical-stability").run(quick=True, seed=0)
>>> sorted(out.frames)
['extremes', 'mixture']
>>> import matplotlib.pyplot as plt
>>> for fig in out.figures.values():
...     plt.close(fig)
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from fugue_lab.core import numerical
from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import factor
from fugue_lab.diagnostics._deps import pandas
from fugue_lab.errors import InvalidParameterError
from fugue_lab.models import EXACT, W2_OBS, is_vec100, prior3, reference_model

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["TOPICS", "Topic", "TopicOutput", "get_topic"]


class TopicOutput(NamedTuple):
    """What a topic produced: named frames, named figures and notes (plain sentences)."""

    frames: dict[str, pd.DataFrame]
    figures: dict[str, Figure]
    notes: list[str]


@dataclass(frozen=True)
class Topic:
    """One section of the guide.

    Attributes
    ----------
    name
        A short id (``fugue-lab tour --topics <name>``).
    title
        The guide's section title.
    run
        ``run(quick=True, seed=0) -> TopicOutput``.
    """

    name: str
    title: str
    run: Callable[..., TopicOutput]


# --------------------------------------------------------------------------- workloads


#: W2 under its topic-local name (the models live in fugue_lab.models).
w2 = is_vec100
chain_model = reference_model


def flaky(p_bad: float) -> float:
    """prior3 with an impossible outcome (weight -inf) with probability about ``p_bad``."""
    x = prior3()
    if x > NormalDist().inv_cdf(1.0 - p_bad):
        factor(-math.inf)
    return x


W2_DATA = W2_OBS
#: Exact answers of WORKLOADS.md.
W2_LOG_EVIDENCE, W3_MEAN, W3_SD = EXACT["W2 log_evidence"], EXACT["W3 mean_mu"], EXACT["W3 sd_mu"]


def _best_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _fig(ax: Any) -> Figure:
    return ax.figure


# --------------------------------------------------------------------------- 1. pooling


def memory_pooling(quick: bool = True, seed: int = 0) -> TopicOutput:
    """Pool First: the same workload with fresh traces and with a warm TracePool."""
    from fugue_lab.diagnostics.frames import pool_frame
    from fugue_lab.diagnostics.plots import plot_pool
    from fugue_lab.runtime.handlers import PriorHandler, run
    from fugue_lab.runtime.pool import PooledPriorHandler, TracePool

    pd = pandas("memory_pooling")
    n = 2_000 if quick else 20_000
    pool = TracePool(50, history_every=max(1, n // 100))

    def plain() -> None:
        handler = PriorHandler(np.random.default_rng(seed))
        for _ in range(n):
            run(handler, prior3)

    def pooled() -> None:
        handler = PooledPriorHandler(np.random.default_rng(seed), pool)
        for _ in range(n):
            _, trace = run(handler, prior3)
            pool.put(trace)

    rows = []
    for name, fn in (("PriorHandler", plain), ("PooledPriorHandler", pooled)):
        pool.reset_stats()
        seconds = _best_time(fn)
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "handler": name,
                "runs": n,
                "seconds": seconds,
                "us_per_run": seconds / n * 1e6,
                "new_traces": n if name == "PriorHandler" else pool.stats.misses,
                "traced_peak_bytes": peak,
            }
        )
    timing = pd.DataFrame(rows)
    frame = pool_frame(pool)
    ratio = timing["us_per_run"].iloc[1] / timing["us_per_run"].iloc[0]
    notes = [
        f"W1 (prior3), {n} runs: the pool served {pool.stats.hit_ratio:.1%} of its gets "
        f"from reused traces; the pooled run took {ratio:.2f}x the time of the plain one.",
        "What the pool buys is fewer new objects (new_traces), not a faster model: "
        "Python's allocator already recycles small dicts cheaply.",
    ]
    return TopicOutput(
        {"timing": timing, "pool": frame}, {"pool": _fig(plot_pool(frame))}, notes
    )


# --------------------------------------------------------------------------- 2. stability


def numerical_stability(quick: bool = True, seed: int = 0) -> TopicOutput:
    """Log Always: the stable functions against the textbook formulas on extreme inputs."""
    import mpmath as mp

    from fugue_lab.core import naive_numerical as naive

    pd = pandas("numerical_stability")
    cases = [
        ("log_sum_exp", "[1000, 1000]", [1000.0, 1000.0]),
        ("log_sum_exp", "[-1000, -1001]", [-1000.0, -1001.0]),
        ("weighted_log_sum_exp", "[800, 799], w=[0.5, 0.5]", ([800.0, 799.0], [0.5, 0.5])),
        ("normalize_log_probs", "[1000, 999] (first)", [1000.0, 999.0]),
        ("log1p_exp", "800", 800.0),
        ("log1p_exp", "-50", -50.0),
        ("safe_ln", "0", 0.0),
    ]
    naive_fns = {
        "log_sum_exp": naive.naive_log_sum_exp,
        "weighted_log_sum_exp": naive.naive_weighted_log_sum_exp,
        "normalize_log_probs": naive.naive_normalize_log_probs,
        "log1p_exp": naive.naive_log1p_exp,
        "safe_ln": naive.naive_ln,
    }

    def exact(name: str, arg: Any) -> float:
        with mp.workdps(50):
            if name == "log_sum_exp":
                return float(mp.log(mp.fsum(mp.exp(mp.mpf(v)) for v in arg)))
            if name == "weighted_log_sum_exp":
                xs, ws = arg
                return float(mp.log(mp.fsum(w * mp.exp(mp.mpf(v)) for v, w in zip(xs, ws))))
            if name == "normalize_log_probs":
                return float(-mp.log1p(mp.fsum(mp.exp(mp.mpf(v) - arg[0]) for v in arg[1:])))
            if name == "log1p_exp":
                return float(mp.log1p(mp.exp(mp.mpf(arg))))
            return float(mp.log(arg)) if arg > 0 else -math.inf

    def call(fn: Callable[..., Any], name: str, arg: Any) -> float:
        out = fn(*arg) if name == "weighted_log_sum_exp" else fn(np.asarray(arg))
        return float(np.asarray(out).reshape(-1)[0])

    rows = []
    for name, shown, arg in cases:
        rows.append(
            {
                "function": name,
                "input": shown,
                "stable": call(getattr(numerical, name), name, arg),
                "naive": call(naive_fns[name], name, arg),
                "exact": exact(name, arg),
            }
        )
    extremes = pd.DataFrame(rows)
    # A two-component mixture likelihood of far-away data.
    ys = np.array([60.0, -45.0, 50.0])
    comp = np.stack(
        [Normal(0.0, 1.0).log_prob(ys), Normal(3.0, 1.0).log_prob(ys)], axis=1
    ) + np.log([0.5, 0.5])
    mixture = pd.DataFrame(
        {
            "y": ys,
            "stable_log_lik": numerical.log_sum_exp(comp, axis=1),
            "naive_log_lik": naive.naive_log_sum_exp(comp, axis=1),
        }
    )
    notes = [
        "The naive formulas overflow to inf, underflow to -inf, or return NaN (inf/inf) "
        "where the stable ones return the exact answer to the last digit.",
        "A mixture's likelihood of outlying data is exp(-1800): zero in floating point, "
        "so the naive log-likelihood is -inf, but its log is perfectly representable.",
    ]
    return TopicOutput({"extremes": extremes, "mixture": mixture}, {}, notes)


# --------------------------------------------------------------------------- 3. construction


def trace_construction(quick: bool = True, seed: int = 0) -> TopicOutput:
    """TraceBuilder: build traces from known values instead of running the model."""
    from fugue_lab.diagnostics.frames import trace_frame
    from fugue_lab.diagnostics.plots import plot_trace_characteristics
    from fugue_lab.runtime.builder import TraceBuilder
    from fugue_lab.runtime.handlers import ScoreHandler, run

    pd = pandas("trace_construction")
    rng = np.random.default_rng(seed)
    reps = 200 if quick else 2_000
    rows, built = [], []
    for n_sites in (3, 20, 100):
        addresses = ["mu"] + [f"x#{i}" for i in range(n_sites - 1)]
        values = rng.normal(size=n_sites).tolist()
        log_probs = [-0.9189 - 0.5 * v * v for v in values]

        def one_by_one(
            addresses: list[str] = addresses, values: list = values, lps: list = log_probs
        ) -> Any:
            b = TraceBuilder()
            for a, v, lp in zip(addresses, values, lps):
                b.add_sample(a, v, lp)
            return b.build()

        def batch(
            addresses: list[str] = addresses, values: list = values, lps: list = log_probs
        ) -> Any:
            return TraceBuilder().add_samples(addresses, values, lps).build()

        point = dict(zip(addresses, values))

        def rescore(point: dict = point, n_sites: int = n_sites) -> Any:
            return run(ScoreHandler(point), chain_model, n_sites)[1]

        for method, fn in (("add_sample", one_by_one), ("add_samples", batch),
                           ("ScoreHandler run", rescore)):  # fmt: skip
            seconds = _best_time(lambda fn=fn: [fn() for _ in range(reps)])
            rows.append(
                {"n_sites": n_sites, "method": method, "us_per_trace": seconds / reps * 1e6}
            )
        built.append(batch())
        built.append(rescore())
    timing = pd.DataFrame(rows)
    traces = trace_frame(built)
    notes = [
        "add_samples builds a trace from known values in one call; running the model with "
        "ScoreHandler also scores the observations (n_observations), which costs more.",
        "size_bytes is measured from the objects (sys.getsizeof over the trace's dicts, "
        "Choice tuples, keys and values).",
    ]
    fig = _fig(plot_trace_characteristics(traces))
    return TopicOutput({"timing": timing, "traces": traces}, {"characteristics": fig}, notes)


# --------------------------------------------------------------------------- 4. copy-on-write


def copy_on_write(quick: bool = True, seed: int = 0) -> TopicOutput:
    """CowTrace: O(1) clones for MCMC proposals, and an MCMC run that uses them."""
    from fugue_lab.diagnostics.plots import plot_rank, plot_trace
    from fugue_lab.diagnostics.summary import summary
    from fugue_lab.inference.mh import mh_chains
    from fugue_lab.runtime.builder import TraceBuilder
    from fugue_lab.runtime.cow import CowTrace

    pd = pandas("copy_on_write")
    reps = 500 if quick else 5_000
    rows = []
    for n_sites in (3, 1_000):
        addresses = [f"x#{i}" for i in range(n_sites)]
        base = TraceBuilder().add_samples(addresses, [0.0] * n_sites, [-0.9] * n_sites).build()
        cow = CowTrace.from_trace(base)

        def dict_copy(base: Any = base) -> Any:
            t = base.copy()
            t.choices["x#0"] = t.choices["x#0"]._replace(value=1.0)
            return t

        def cow_clone(cow: CowTrace = cow) -> Any:
            c = cow.clone()
            c.set_choice("x#0", 1.0, -1.4)
            return c

        for method, fn in (("Trace.copy + write", dict_copy), ("CowTrace.clone + write",
                                                               cow_clone)):  # fmt: skip
            seconds = _best_time(lambda fn=fn: [fn() for _ in range(reps)])
            tracemalloc.start()
            kept = [fn() for _ in range(reps)]
            current, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            original_unchanged = base.get_float("x#0") == 0.0 and cow.get_float("x#0") == 0.0
            rows.append(
                {
                    "n_sites": n_sites,
                    "method": method,
                    "us_per_clone": seconds / reps * 1e6,
                    "bytes_per_clone": (current - 8 * len(kept)) / reps,
                    "original_unchanged": original_unchanged,
                }
            )
            del kept
    clones = pd.DataFrame(rows)
    n_draws, n_warmup = (3_000, 1_000) if quick else (20_000, 2_000)
    result = mh_chains(chain_model, 4, n_draws, n_warmup, seed=seed, args=(20,))
    table = summary(result).loc[["mu"]]
    row = table.loc["mu"]
    notes = [
        "A CowTrace clone shares the persistent map; a write copies one path of nodes, so "
        "its cost and memory do not grow with the number of sites, where a dict copy does.",
        f"Single-site MH on the W3 model (n = 20), 4 chains x {n_draws} draws: exact "
        f"posterior mu has mean {W3_MEAN} and sd {W3_SD}; the estimate is "
        f"{row['mean']:.4f} +- {row['mcse_mean']:.4f} (MCSE).",
        f"Single-site moves mix slowly here (mu is tied to 19 x's): ess_bulk is "
        f"{row['ess_bulk']:.0f} of {4 * n_draws} draws and r_hat {row['r_hat']:.3f}; the "
        "rank plot shows it.",
    ]
    figures = {
        "trace": _fig(plot_trace(result, "mu")),
        "rank": _fig(plot_rank(result, "mu")),
    }
    return TopicOutput({"clones": clones, "mh_summary": table}, figures, notes)


# --------------------------------------------------------------------------- 5. vectorized


def vectorized_patterns(quick: bool = True, seed: int = 0) -> TopicOutput:
    """plate + vectorized observe, and one batched run for a whole population."""
    from fugue_lab.diagnostics.plots import plot_weights
    from fugue_lab.diagnostics.summary import summary, weights_summary
    from fugue_lab.inference.importance import importance_sampling
    from fugue_lab.inference.mh import mh_chains
    from fugue_lab.inference.results import ImportanceResult
    from fugue_lab.runtime.pool import TracePool

    pd = pandas("vectorized_patterns")
    n = 2_000 if quick else 10_000
    notes: list[str] = []
    runs: dict[str, Callable[[], Any]] = {
        "one run per particle": lambda: importance_sampling(
            w2, n, rng=np.random.default_rng(seed), args=(W2_DATA,)
        )
    }
    lockstep = None
    try:
        from fugue_lab.runtime.batched import BatchedPriorHandler
    except ImportError:
        notes.append("The batched path (fugue_lab.runtime.batched) is not available: skipped.")
    else:
        try:
            from fugue_lab.inference.vectorized import batched_importance, lockstep_mh_chains
        except ImportError:  # the handler alone: one batched execution, weights by hand
            from fugue_lab.runtime.handlers import run

            def by_hand() -> ImportanceResult:
                _, trace = run(BatchedPriorHandler(np.random.default_rng(seed), n), w2, W2_DATA)
                return ImportanceResult(
                    trace.log_likelihood + trace.log_factors,
                    {a: np.asarray(c.value) for a, c in trace.choices.items()},
                )

            runs["batched"] = by_hand
        else:
            pool = TracePool(4)
            runs["batched"] = lambda: batched_importance(
                w2, n, rng=np.random.default_rng(seed), args=(W2_DATA,)
            )
            runs["batched, pooled buffers"] = lambda: batched_importance(
                w2, n, rng=np.random.default_rng(seed), args=(W2_DATA,), pool=pool
            )
            lockstep = lockstep_mh_chains
    rows, last = [], None
    for method, fn in runs.items():
        seconds = math.inf
        for _ in range(2):  # best of two: the first call also pays one-off warm-up costs
            t0 = time.perf_counter()
            result = fn()
            seconds = min(seconds, time.perf_counter() - t0)
        row = weights_summary(result).iloc[0]
        rows.append(
            {
                "method": method,
                "particles": n,
                "seconds": seconds,
                "particles_per_s": n / seconds,
                "log_evidence": row["log_evidence"],
                "mean_mu": result.mean("mu"),
                "ess": row["ess"],
            }
        )
        last = result
    frame = pd.DataFrame(rows)
    frames = {"importance": frame}
    if len(frame) > 1:
        speedup = frame["particles_per_s"].iloc[1:].max() / frame["particles_per_s"].iloc[0]
        notes.append(
            f"The same model function, run once for all {n} particles: {speedup:.0f}x the "
            "throughput of one run per particle."
        )
    notes.append(
        f"Exact log evidence {W2_LOG_EVIDENCE}; with so few effective particles (ess) the "
        "estimate is noisy: compare across seeds, not digits."
    )
    if lockstep is not None:  # W3: 64 chains in lockstep against chains one after another
        n_chains, n_draws, n_warmup = 64, (200 if quick else 1_000), (100 if quick else 500)
        chain_rows = []
        for method, fn in (
            ("one chain at a time", lambda: mh_chains(
                chain_model, n_chains, n_draws, n_warmup, seed=seed, args=(20,))),
            ("64 chains in lockstep", lambda: lockstep(
                chain_model, n_chains, n_draws, n_warmup, rng=np.random.default_rng(seed),
                args=(20,))),
        ):  # fmt: skip
            t0 = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - t0
            row = summary(result).loc["mu"]
            chain_rows.append(
                {
                    "method": method,
                    "chains": n_chains,
                    "iterations": n_draws + n_warmup,
                    "seconds": seconds,
                    "chain_iterations_per_s": n_chains * (n_draws + n_warmup) / seconds,
                    "mean_mu": row["mean"],
                    "mcse_mean": row["mcse_mean"],
                    "r_hat": row["r_hat"],
                }
            )
        frames["mh_chains"] = pd.DataFrame(chain_rows)
        notes.append(
            f"mh_chains: {n_draws + n_warmup} iterations per chain measure throughput; they "
            f"are far from converged on W3 (see r_hat; the exact mean of mu is {W3_MEAN})."
        )
    return TopicOutput(frames, {"weights": _fig(plot_weights(last))}, notes)


# --------------------------------------------------------------------------- 6. monitoring


def performance_monitoring(quick: bool = True, seed: int = 0) -> TopicOutput:
    """PerformanceMonitor: latency, trace characteristics, pool statistics, alerts."""
    from fugue_lab.diagnostics.monitor import PerformanceMonitor
    from fugue_lab.diagnostics.plots import plot_latency
    from fugue_lab.runtime.handlers import run
    from fugue_lab.runtime.pool import PooledPriorHandler, TracePool

    pd = pandas("performance_monitoring")
    n_runs, batch = (30, 50) if quick else (300, 200)
    rng = np.random.default_rng(seed)
    pool = TracePool(batch)
    monitor = PerformanceMonitor()
    handler = PooledPriorHandler(rng, pool)
    for i in range(n_runs):
        p_bad = 0.2 if i % 10 == 9 else 0.001  # every tenth run goes wrong
        with monitor.track("flaky" if p_bad > 0.01 else "normal", pool=pool) as record:
            traces = [run(handler, flaky, p_bad)[1] for _ in range(batch)]
            record.observe_traces(traces)
            for t in traces:
                pool.put(t)
    frame = monitor.frame()
    p50 = float(frame["latency_us"].median())
    alerts = monitor.alerts(
        max_latency_us=3 * p50, min_hit_ratio=0.5, max_invalid_fraction=0.05
    )
    # What monitoring costs: a trivial function, bare, wrapped by an off and an on monitor.
    reps = 20_000

    def bare() -> None:
        return None

    costs = []
    for name, fn in (
        ("bare call", bare),
        ("monitor off (wrap returns fn)", PerformanceMonitor(enabled=False).wrap(bare)),
        ("monitor on", PerformanceMonitor(max_records=1).wrap(bare)),
    ):
        seconds = _best_time(lambda fn=fn: [fn() for _ in range(reps)])
        costs.append({"call": name, "us_per_call": seconds / reps * 1e6})
    overhead = pd.DataFrame(costs)
    on_cost = overhead["us_per_call"].iloc[2] - overhead["us_per_call"].iloc[0]
    notes = [
        f"{n_runs} runs of {batch} pooled executions; every tenth run makes impossible "
        "draws, and the alerts name those runs (invalid_fraction), and runs slower than "
        "3x the median latency.",
        f"Monitoring costs about {on_cost:.1f} us per tracked call when on, and nothing "
        "when off (wrap returns the function itself).",
    ]
    return TopicOutput(
        {
            "runs": frame,
            "summary": monitor.summary(),
            "alerts": alerts,
            "overhead": overhead,
        },
        {"latency": _fig(plot_latency(monitor))},
        notes,
    )


# --------------------------------------------------------------------------- 7. batches


def batch_processing(quick: bool = True, seed: int = 0) -> TopicOutput:
    """run_batch: chunks with their own random streams, a shared pool, any executor."""
    from fugue_lab.diagnostics.frames import pool_frame
    from fugue_lab.diagnostics.plots import plot_pool
    from fugue_lab.inference.batch import run_batch
    from fugue_lab.runtime.pool import TracePool

    pd = pandas("batch_processing")
    n = 20_000 if quick else 200_000
    chunk = n // 8
    rows, outputs = [], {}
    pool = TracePool(8, history_every=max(1, n // 100))
    for name, workers, use_pool in (
        ("in process", 0, False), ("in process, pooled", 0, True),
        ("2 threads, pooled", 2, True),
    ):  # fmt: skip
        executor = ThreadPoolExecutor(workers) if workers else None
        t0 = time.perf_counter()
        try:
            result = run_batch(
                prior3, n, seed=seed, chunk_size=chunk, executor=executor,
                pool=pool if use_pool else None, progress=False,
            )  # fmt: skip
        finally:
            if executor is not None:
                executor.shutdown()
        seconds = time.perf_counter() - t0
        outputs[name] = result
        rows.append(
            {
                "how": name,
                "runs": n,
                "chunks": result.n_chunks,
                "seconds": seconds,
                "runs_per_s": n / seconds,
                "mean_x": float(np.mean(result["x"])),
                "nonfinite": result.n_nonfinite,
            }
        )
    frame = pd.DataFrame(rows)
    same = all(
        np.array_equal(outputs["in process"]["x"], r["x"]) for r in outputs.values()
    )
    notes = [
        f"Every way of running gives bit-identical draws: {same}. Chunk i always draws from "
        "child i of SeedSequence(seed), whatever the executor or the number of workers.",
        "Threads share one pool (thread-safe); process pools and Dask workers use one pool "
        "per worker process.",
    ]
    pool_stats = pool_frame(pool)
    return TopicOutput(
        {"batches": frame, "pool": pool_stats}, {"pool": _fig(plot_pool(pool_stats))}, notes
    )


# --------------------------------------------------------------------------- 8. precision


def precision_testing(quick: bool = True, seed: int = 0) -> TopicOutput:
    """Test Extremes: every function from 1e-300 to 1e300, float32 and float64."""
    from fugue_lab.diagnostics.plots import plot_precision_sweep
    from fugue_lab.diagnostics.precision import precision_sweep

    min_time = 5e-5 if quick else 5e-4
    overflow = precision_sweep(min_time_s=min_time)
    underflow = precision_sweep(sign=-1, min_time_s=min_time)
    both = pandas("precision_testing").concat(
        [overflow.assign(sign=1), underflow.assign(sign=-1)], ignore_index=True
    )
    fair = both[both["input_in_range"]]
    worst = (
        fair.groupby(["function", "dtype"], sort=False)
        .agg(
            max_ulp_error=("ulp_error", "max"),
            failures=("ulp_error", lambda e: int((~np.isfinite(e)).sum())),
            median_us_per_call=("seconds_per_call", lambda s: float(np.median(s) * 1e6)),
        )
        .reset_index()
    )
    notes = [
        "Inputs are x = +-s [1, 0.5, 0.25] for the log-sum-exp family and x = +-s for "
        "log1p_exp (s for safe_ln and log_gamma); references are mpmath at 50 digits.",
        "failures counts inf/NaN answers where the exact answer is finite: the naive "
        "formulas fail from s ~ 89 (float32) or 710 (float64) on.",
    ]
    figures = {
        "float64_overflow": _fig(plot_precision_sweep(overflow, dtype="float64")),
        "float32_overflow": _fig(plot_precision_sweep(overflow, dtype="float32")),
        "float64_underflow": _fig(plot_precision_sweep(underflow, dtype="float64")),
    }
    return TopicOutput({"worst": worst, "sweep": both}, figures, notes)


# --------------------------------------------------------------------------- 9. testing


def performance_testing(quick: bool = True, seed: int = 0) -> TopicOutput:
    """The guide's test framework: pool efficiency, stability, construction, COW sharing."""
    from fugue_lab.diagnostics.precision import precision_sweep
    from fugue_lab.diagnostics.summary import summary
    from fugue_lab.inference.mh import mh_chains
    from fugue_lab.runtime.builder import TraceBuilder
    from fugue_lab.runtime.cow import CowTrace
    from fugue_lab.runtime.handlers import PriorHandler, ScoreHandler, run
    from fugue_lab.runtime.pool import PooledPriorHandler, TracePool

    pd = pandas("performance_testing")
    checks = []

    def check(name: str, measured: float, threshold: float, passed: bool) -> None:
        checks.append(
            {"check": name, "measured": float(measured), "threshold": threshold,
             "passed": bool(passed)}
        )  # fmt: skip

    # Pool efficiency: after one miss, every get is a hit, and the same object comes back.
    pool = TracePool(4)
    handler = PooledPriorHandler(np.random.default_rng(seed), pool)
    first = None
    for i in range(1_000):
        _, trace = run(handler, prior3)
        first = trace if i == 0 else first
        pool.put(trace)
    check("pool hit ratio (1000 runs)", pool.stats.hit_ratio, 0.99, pool.stats.hit_ratio >= 0.99)
    _, again = run(handler, prior3)
    check("pooled storage reused (same object)", float(again is first), 1.0, again is first)
    pool.put(again)
    # Numerical stability regression: stable log_sum_exp within 2 ulp from 1e-300 to 1e300.
    sweep = precision_sweep(["log_sum_exp", "naive_log_sum_exp"], min_time_s=0)
    sweep = sweep[sweep["input_in_range"]]
    stable = sweep[sweep["function"] == "log_sum_exp"]["ulp_error"].max()
    check("log_sum_exp max ulp error", stable, 2.0, stable <= 2.0)
    naive_fail = int((~np.isfinite(sweep[sweep["function"] == "naive_log_sum_exp"]["value"])).sum())
    check("naive log_sum_exp failures seen", naive_fail, 1.0, naive_fail >= 1)
    # Construction: a built trace scores like the model's own run.
    _, ref = run(PriorHandler(np.random.default_rng(seed)), chain_model, 5)
    built = TraceBuilder().add_samples(
        list(ref.choices), [c.value for c in ref.choices.values()],
        [c.log_prob for c in ref.choices.values()],
    ).build()  # fmt: skip
    _, rescored = run(ScoreHandler(built), chain_model, 5)
    diff = abs(rescored.log_prior - ref.log_prior)
    check("TraceBuilder trace rescored |delta log_prior|", diff, 1e-12, diff <= 1e-12)
    # COW sharing: a clone shares the choices map until it writes, and never changes the base.
    cow = CowTrace.from_trace(ref)
    clone = cow.clone()
    shared = clone.choices is cow.choices
    clone.set_choice("mu", 5.0, -13.4)
    unchanged = cow.get_float("mu") == ref.get_float("mu") and clone.get_float("mu") == 5.0
    check("CowTrace clone shares storage before a write", float(shared), 1.0, shared)
    check("CowTrace write leaves the original unchanged", float(unchanged), 1.0, unchanged)
    # Correctness beside speed: MH recovers the W3 posterior mean within 4 MCSE.
    n_draws = 5_000 if quick else 20_000
    result = mh_chains(chain_model, 4, n_draws, 1_000, seed=seed, args=(20,))
    row = summary(result).loc["mu"]
    z = abs(row["mean"] - W3_MEAN) / row["mcse_mean"]
    check("MH W3 |mean - exact| / MCSE", z, 4.0, z <= 4.0)
    check("MH W3 r_hat", row["r_hat"], 1.1, row["r_hat"] <= 1.1)
    frame = pd.DataFrame(checks)
    notes = [
        f"{int(frame['passed'].sum())} of {len(frame)} checks passed. Thresholds are "
        "properties (ratios, exactness, Monte Carlo error), not machine-dependent times.",
    ]
    return TopicOutput({"checks": frame}, {}, notes)


# --------------------------------------------------------------------------- 10. production


def production_deployment(quick: bool = True, seed: int = 0) -> TopicOutput:
    """Size the pool by peak concurrent use, pre-warm it, and set alert thresholds."""
    from fugue_lab.diagnostics.plots import plot_pool
    from fugue_lab.diagnostics.pooling import pool_trial

    pd = pandas("production_deployment")
    workers, batch, n_batches = 2, 16, 16 if quick else 128
    probe = pool_trial(prior3, pool_size=1, workers=workers, batch_size=batch,
                       n_batches=n_batches, seed=seed)  # fmt: skip
    suggested = int(probe.stats["suggested_pool_size"].iloc[0])
    rows = []
    last = probe
    for size, prewarm in ((1, False), (max(1, suggested // 2), False), (suggested, False),
                          (suggested, True)):  # fmt: skip
        trial = pool_trial(prior3, pool_size=size, workers=workers, batch_size=batch,
                           n_batches=n_batches, seed=seed, prewarm=prewarm)  # fmt: skip
        rows.append(trial.stats.assign(prewarm=prewarm))
        last = trial
    cols = ["pool_size", "prewarm", "hit_ratio", "misses", "drops", "peak_in_use",
            "suggested_pool_size", "latency_p50_us", "latency_p99_us"]  # fmt: skip
    sizing = pd.concat(rows, ignore_index=True)[cols]
    checklist = pd.DataFrame(
        [
            ("Size TracePool by peak concurrent inference", "pool_trial(...).stats"
             "['suggested_pool_size'] = peak_in_use"),
            ("Monitor hit ratios",
             "PerformanceMonitor.track(pool=pool); frame()['pool_hit_ratio']"),
            ("Use COW traces for MCMC", "CowTrace.clone() (mh_chain uses it)"),
            ("Pre-warm pools", "TracePool.prewarm(n)"),
            ("Always use log space", "fugue_lab.numerical.log_sum_exp & co."),
            ("Alert on instabilities and slowdowns",
             "monitor.alerts(max_latency_us=..., min_hit_ratio=..., max_invalid_fraction=...)"),
        ],
        columns=["guide", "fugue_lab"],
    )  # fmt: skip
    notes = [
        f"{workers} workers x batches of {batch}: peak_in_use = {suggested}, so a pool of "
        f"{suggested} never drops a trace; pre-warmed, it never misses either.",
    ]
    return TopicOutput(
        {"sizing": sizing, "checklist": checklist}, {"pool": _fig(plot_pool(last.pool))}, notes
    )


TOPICS: list[Topic] = [
    Topic("memory-pooling", "Memory-Optimized Inference", memory_pooling),
    Topic("numerical-stability", "Numerical Stability", numerical_stability),
    Topic("trace-construction", "Efficient Trace Construction", trace_construction),
    Topic("copy-on-write", "Copy-on-Write for MCMC", copy_on_write),
    Topic("vectorized-patterns", "Vectorized Model Patterns", vectorized_patterns),
    Topic("performance-monitoring", "Performance Monitoring", performance_monitoring),
    Topic("batch-processing", "Batch Processing", batch_processing),
    Topic("precision-testing", "Numerical Precision Testing", precision_testing),
    Topic("performance-testing", "Performance Testing", performance_testing),
    Topic("production-deployment", "Production Deployment", production_deployment),
]


def get_topic(name: str) -> Topic:
    """The topic called ``name``.

    Raises
    ------
    InvalidParameterError
        If there is no such topic (the message lists them).
    """
    for topic in TOPICS:
        if topic.name == name:
            return topic
    raise InvalidParameterError("get_topic", "name", name, f"one of {[t.name for t in TOPICS]}")
