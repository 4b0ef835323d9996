"""The reference workloads W1-W5 (WORKLOADS.md) in fugue_lab, with their floors.

Each ``w*_rows(config)`` function times one workload in every mode that exists
in this installation and returns one row (a dict with the keys of
:data:`COLUMNS`) per mode, plus the rows of the floors it is compared with.
A mode whose code does not exist yet (the batched path, say) gives a row with
``status="skipped"`` and the reason in ``note``; a mode that raises gives
``status="error"`` and the exception.  Nothing is ever estimated or faked.

The models are written as a user would write them:

>>> import numpy as np
>>> from fugue_lab import PriorHandler, run
>>> x, trace = run(PriorHandler(np.random.default_rng(0)), prior3)
>>> sorted(trace.choices), trace.num_observations
(['x', 'y'], 1)
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from fugue_lab.bench import floors
from fugue_lab.bench.harness import Timing, finite_or_nan, peak_bytes, time_call, time_self_timed
from fugue_lab.core.address import addr
from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import sample
from fugue_lab.models import (
    EXACT,
    W2_OBS,
    is_vec100,
    prior3,
    reference_model,
    reference_model_plate,
)

__all__ = [
    "COLUMNS",
    "EXACT",
    "RUST_ANCHORS_S",
    "BenchConfig",
    "is_vec100",
    "make_row",
    "prior3",
    "reference_model",
    "w1_rows",
    "w2_rows",
    "w3_rows",
    "w4_rows",
    "w5_rows",
]

#: The columns of the suite's frame, in order.  Times are seconds per call (raw floats).
COLUMNS = (
    "workload",  # W1 prior3, W2 is_vec100, ...
    "mode",  # scalar, pooled, batched, batched+pool, float32, lockstep, ...
    "implementation",  # fugue_lab, floor, pyro, numpyro, numpyro-jit, python-dict
    "n",  # particles, executions, iterations or sites: what the note says
    "status",  # ok, skipped, error
    "repeats",
    "median_s",
    "min_s",
    "max_s",
    "floor_name",  # the floor this row is divided by
    "floor_s",  # its median, timed in the same process
    "ratio_to_floor",  # median_s / floor_s (NaN where a workload has no floor)
    "min_ratio_to_floor",  # min_s / the floor's min_s: the best cases, less hurt by a busy machine
    "rust_anchor_s",  # Fugue (Rust) figure from WORKLOADS.md, not measured here
    "throughput_per_s",  # items per second; the note says which items
    "peak_bytes",  # tracemalloc peak of one run, where measured
    "log_evidence",
    "posterior_mean_mu",
    "ess",
    "hit_ratio",
    "exact_log_evidence",
    "exact_mean_mu",
    "check_ok",  # a correctness check passed (W5: original unchanged, weights current)
    "note",
)


#: Fugue (Rust) anchors from WORKLOADS.md, in seconds: Fugue 0.2.0 where it has the
#: feature, else Fugue 0.1.0 (the pool, copy-on-write).  Medians on a 2-vCPU machine.
RUST_ANCHORS_S = {
    ("W1 prior3", "scalar"): 340e-9,
    ("W1 prior3", "pooled"): 268e-9,  # 0.1.0
    ("W2 is_vec100", 10_000): 140e-3,  # 140 to 186 ms (0.2.0); 108 ms in 0.1.0
    ("W3 mh20", 100): 1.14e-3,
    ("W3 mh50", 100): 4.79e-3,
    ("W3 mh20", 1500): 16.9e-3,
    ("W4 smc20", 64): 37.5e-3,
    ("W5 cow", 3): 130e-9,  # 0.1.0
    ("W5 cow", 1000): 37e-6,  # 0.1.0
}


@dataclass(frozen=True)
class BenchConfig:
    """Sizes and repeat counts of one suite run (``quick`` trims both).

    Examples
    --------
    >>> BenchConfig(quick=True).w2_sizes
    (10000,)
    """

    quick: bool = False
    seed: int = 0

    @property
    def w1_number(self) -> int:
        return 2_000 if self.quick else 20_000

    @property
    def w1_repeats(self) -> int:
        return 3 if self.quick else 7

    @property
    def w2_sizes(self) -> tuple[int, ...]:
        return (10_000,) if self.quick else (10_000, 1_000_000)

    @property
    def w2_scalar_n(self) -> int:
        return 1_000 if self.quick else 10_000

    @property
    def repeats_fast(self) -> int:
        """Repeats for calls of milliseconds."""
        return 5 if self.quick else 15

    @property
    def repeats_slow(self) -> int:
        """Repeats for calls of a second or so."""
        return 1 if self.quick else 3

    @property
    def w3_cases(self) -> tuple[tuple[int, int, int], ...]:
        """(sites, warm-up, kept) per W3 case."""
        full = ((20, 50, 50), (50, 50, 50), (20, 500, 1000))
        return full[:1] + full[2:] if self.quick else full

    @property
    def w3_lockstep(self) -> tuple[int, int, int]:
        """(chains, warm-up, kept) of the lockstep case."""
        return (64, 500, 1000)

    @property
    def w4_seeds(self) -> int:
        return 1 if self.quick else 20

    @property
    def w4_batched_n(self) -> int:
        return 256 if self.quick else 1024

    @property
    def w5_sizes(self) -> tuple[int, ...]:
        return (3, 100, 1000) if self.quick else (3, 100, 1000, 10_000)


# -- the models --------------------------------------------------------------------------------
# prior3, is_vec100 and reference_model live in fugue_lab.models (shared with the topics).


# -- rows --------------------------------------------------------------------------------------
def make_row(
    workload: str,
    mode: str,
    implementation: str,
    n: int,
    timing: Timing | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One row of the suite's frame; unknown keys are an error, missing ones are NaN/None.

    Examples
    --------
    >>> row = make_row("W1 prior3", "scalar", "fugue_lab", 10, note="x")
    >>> row["status"], math.isnan(row["median_s"])
    ('ok', True)
    """
    unknown = set(fields) - set(COLUMNS)
    if unknown:
        raise KeyError(f"make_row: unknown columns {sorted(unknown)}")
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(workload=workload, mode=mode, implementation=implementation, n=int(n),
               status="ok", floor_name="", note="", check_ok=None)
    if timing is not None:
        row.update(repeats=timing.repeats, median_s=timing.median_s, min_s=timing.min_s,
                   max_s=timing.max_s)
        if implementation == "floor":  # a floor's ratios to itself
            row.update(ratio_to_floor=1.0, min_ratio_to_floor=1.0)
    row.update(fields)
    return row


def skipped(workload: str, mode: str, implementation: str, n: int, reason: str) -> dict[str, Any]:
    """A row for a mode that does not exist here (never a guessed figure)."""
    return make_row(workload, mode, implementation, n, status="skipped", note=reason)


def with_floor(row: dict[str, Any], name: str, floor: Timing | None) -> dict[str, Any]:
    """Fill ``floor_name``, ``floor_s`` and ``ratio_to_floor`` of a timed row."""
    if floor is None:
        return row
    row["floor_name"] = name
    row["floor_s"] = floor.median_s
    if row["status"] == "ok" and floor.median_s > 0:
        row["ratio_to_floor"] = row["median_s"] / floor.median_s
        row["min_ratio_to_floor"] = row["min_s"] / floor.min_s
    return row


def _append_note(row: dict[str, Any], text: str) -> None:
    row["note"] = f"{row['note']}; {text}" if row["note"] else text


@contextlib.contextmanager
def _watch(row_holder: list[str]) -> Iterator[None]:
    """Record warnings raised inside a case (a benchmark reports them, it does not die)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen:
            seen.append(text)
    row_holder.extend(seen[:3])


def guarded(
    workload: str, mode: str, implementation: str, n: int, case: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run one case; an exception becomes a ``status="error"`` row naming it.

    A case raises :class:`Unavailable` for a mode that does not exist here (a skipped row).
    """
    warned: list[str] = []
    try:
        with _watch(warned):
            row = case()
    except Unavailable as exc:
        return skipped(workload, mode, implementation, n, str(exc))
    except Exception as exc:  # a benchmark reports a failing mode and goes on
        row = make_row(workload, mode, implementation, n, status="error",
                       note=f"{type(exc).__name__}: {exc}")
    if warned:
        _append_note(row, "warnings: " + " | ".join(warned))
    return row


class Unavailable(Exception):
    """A mode that this installation does not provide (yet): its row is skipped."""


# -- feature detection -------------------------------------------------------------------------
def find(module: str, name: str) -> Any:
    """``module.name`` if both exist, else None.

    A module that exists but fails to import raises (an error row), it is not "missing".
    """
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a parent package is missing
        return None
    if spec is None:
        return None
    return getattr(importlib.import_module(module), name, None)


def require(module: str, name: str, why: str) -> Any:
    """``module.name`` or :class:`Unavailable` naming what is missing."""
    obj = find(module, name)
    if obj is None:
        raise Unavailable(f"{module}.{name} does not exist yet ({why})")
    return obj


def accepts(fn: Callable[..., Any], *names: str) -> bool:
    """Whether ``fn``'s signature names every parameter in ``names`` explicitly."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return all(name in params for name in names)


def require_params(fn: Callable[..., Any], *names: str, why: str) -> None:
    """:class:`Unavailable` unless ``fn`` takes every parameter in ``names``."""
    missing = [name for name in names if not accepts(fn, name)]
    if missing:
        label = getattr(fn, "__qualname__", repr(fn))
        raise Unavailable(
            f"{label}() has no {', '.join(m + '=' for m in missing)} parameter yet ({why})"
        )


# -- reading results ---------------------------------------------------------------------------
def _weighted_summary(log_w: np.ndarray, mu: np.ndarray) -> tuple[float, float, float]:
    """(log evidence, weighted mean of mu, Kish ESS) from log weights and mu draws."""
    log_w = np.asarray(log_w, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    finite = np.isfinite(log_w)
    if not finite.any():
        return -math.inf, math.nan, 0.0
    top = log_w[finite].max()
    w = np.where(finite, np.exp(log_w - top), 0.0)
    total = w.sum()
    log_z = top + math.log(total / log_w.size)
    return log_z, float((w * mu).sum() / total), float(total**2 / (w * w).sum())


def is_figures(result: Any, site: str = "mu") -> tuple[float, float, float]:
    """(log evidence, posterior mean of ``site``, Kish ESS) of an ``ImportanceResult``."""
    return (finite_or_nan(result.log_evidence), finite_or_nan(result.mean(site)),
            finite_or_nan(result.ess))


def chain_draws(result: Any, site: str = "mu") -> np.ndarray:
    """The kept draws of ``site`` from an ``MCMCResult``, shape ``(chains, draws)``."""
    return np.asarray(result.values[site], dtype=np.float64)


def _ess(draws: np.ndarray) -> float:
    try:
        from fugue_lab.inference.mcmc_diagnostics import ess_bulk
    except ImportError:
        return math.nan
    draws = np.atleast_2d(draws)
    if draws.shape[-1] < 4:
        return math.nan
    return finite_or_nan(ess_bulk(draws))


# -- W1 ----------------------------------------------------------------------------------------
def w1_rows(config: BenchConfig) -> list[dict[str, Any]]:
    """W1 prior3: microseconds per execution, PriorHandler and PooledPriorHandler."""
    from fugue_lab.runtime.handlers import PriorHandler, run

    wl, number, repeats = "W1 prior3", config.w1_number, config.w1_repeats
    floor = time_self_timed(lambda: floors.floor_prior3(number, config.seed), repeats=repeats,
                            warmup=1)
    rows = [make_row(wl, "floor", "floor", number, floor, floor_name="floor_prior3",
                     floor_s=floor.median_s, ratio_to_floor=1.0,
                     throughput_per_s=1.0 / floor.median_s,
                     note="pure Python: the arithmetic and a dict of choices; n executions/repeat")]

    def scalar() -> dict[str, Any]:
        handler = PriorHandler(np.random.default_rng(config.seed))
        timing = time_call(lambda: run(handler, prior3), repeats=repeats, number=number,
                           warmup=number // 10)
        _, trace = timing.value
        ok = sorted(trace.choices) == ["x", "y"] and math.isfinite(trace.total_log_weight)
        row = make_row(wl, "scalar", "fugue_lab", number, timing, check_ok=ok,
                       rust_anchor_s=RUST_ANCHORS_S[(wl, "scalar")],
                       throughput_per_s=1.0 / timing.median_s,
                       note="PriorHandler, one handler reused; seconds per execution")
        return with_floor(row, "floor_prior3", floor)

    def pooled() -> dict[str, Any]:
        TracePool = require("fugue_lab.runtime.memory", "TracePool", "the memory issue")
        Pooled = require("fugue_lab.runtime.memory", "PooledPriorHandler", "the memory issue")
        pool = TracePool(50)
        handler = Pooled(np.random.default_rng(config.seed), pool)

        def once() -> Any:
            value, trace = run(handler, prior3)
            pool.put(trace)
            return value

        timing = time_call(once, repeats=repeats, number=number, warmup=number // 10)
        stats = pool.stats
        row = make_row(wl, "pooled", "fugue_lab", number, timing,
                       hit_ratio=finite_or_nan(stats.hit_ratio),
                       rust_anchor_s=RUST_ANCHORS_S[(wl, "pooled")],
                       throughput_per_s=1.0 / timing.median_s,
                       note=f"PooledPriorHandler, pool of 50, trace put back after each run; "
                            f"pool stats over all runs: {stats.hits} hits, {stats.misses} misses")
        return with_floor(row, "floor_prior3", floor)

    rows.append(guarded(wl, "scalar", "fugue_lab", number, scalar))
    rows.append(guarded(wl, "pooled", "fugue_lab", number, pooled))
    return rows


# -- W2 ----------------------------------------------------------------------------------------
def _is_call(**extra: Any) -> Callable[[int, np.random.Generator], Any]:
    importance_sampling = require("fugue_lab.inference.importance", "importance_sampling",
                                  "the inference issue")
    need = [k for k in extra if k != "dtype" or extra[k] is not None]
    require_params(importance_sampling, *need, why="the batched issue")

    def call(n: int, rng: np.random.Generator) -> Any:
        return importance_sampling(is_vec100, n, rng=rng, args=(W2_OBS,), **extra)

    return call


def _is_row(wl: str, mode: str, n: int, config: BenchConfig, repeats: int, note: str,
            floor_name: str, floor: Timing | None, measure_peak: bool = False,
            **extra: Any) -> dict[str, Any]:
    call = _is_call(**extra)
    rng = np.random.default_rng(config.seed)
    timing = time_call(lambda: call(n, rng), repeats=repeats, warmup=1)
    log_z, mean, ess = is_figures(timing.value)
    row = make_row(wl, mode, "fugue_lab", n, timing, log_evidence=log_z,
                   posterior_mean_mu=mean, ess=ess,
                   exact_log_evidence=EXACT["W2 log_evidence"], exact_mean_mu=EXACT["W2 mean_mu"],
                   rust_anchor_s=RUST_ANCHORS_S.get((wl, n), math.nan),
                   throughput_per_s=n / timing.median_s, note=note)
    if measure_peak:
        row["peak_bytes"], _ = peak_bytes(lambda: call(n, rng))
        _append_note(row, "peak_bytes: tracemalloc peak of one warmed run")
    pool = extra.get("pool")
    if pool is not None and getattr(pool, "stats", None) is not None:
        row["hit_ratio"] = finite_or_nan(getattr(pool.stats, "hit_ratio", None))
        _append_note(row, "hit_ratio: the pool's trace hit ratio")
    return with_floor(row, floor_name, floor)


def _w2_floor_rows(wl: str, n: int, config: BenchConfig, repeats: int,
                   python_loop: bool) -> tuple[list[dict[str, Any]], Timing, Timing | None]:
    numpy_floor = time_self_timed(lambda: floors.floor_is_vec100(n, config.seed, repeats=1),
                                  repeats=repeats)
    log_z, mean = floors.is_vec100_numpy(n, np.random.default_rng(config.seed))
    rows = [make_row(wl, "floor", "floor", n, numpy_floor, floor_name="floor_is_vec100",
                     floor_s=numpy_floor.median_s, ratio_to_floor=1.0, log_evidence=log_z,
                     posterior_mean_mu=mean, exact_log_evidence=EXACT["W2 log_evidence"],
                     exact_mean_mu=EXACT["W2 mean_mu"], throughput_per_s=n / numpy_floor.median_s,
                     note="hand-written NumPy, vectorized over particles")]
    if n >= 1_000_000:
        rows[0]["peak_bytes"], _ = peak_bytes(
            lambda: floors.is_vec100_numpy(n, np.random.default_rng(config.seed)))
        _append_note(rows[0], "peak_bytes: tracemalloc peak of one run")
    loop_floor = None
    if python_loop:
        m = config.w2_scalar_n

        def loop() -> float:
            start = time.perf_counter()
            loop.value = floors.is_vec100_python(m, config.seed)  # type: ignore[attr-defined]
            return time.perf_counter() - start

        loop_floor = time_self_timed(loop, repeats=config.repeats_slow)
        lz, mu = loop.value  # type: ignore[attr-defined]
        rows.append(make_row(wl, "floor (python loop)", "floor", m, loop_floor,
                             floor_name="is_vec100_python", floor_s=loop_floor.median_s,
                             ratio_to_floor=1.0, log_evidence=lz, posterior_mean_mu=mu,
                             exact_log_evidence=EXACT["W2 log_evidence"],
                             exact_mean_mu=EXACT["W2 mean_mu"],
                             throughput_per_s=m / loop_floor.median_s,
                             note="pure Python, one execution per particle"))
    return rows, numpy_floor, loop_floor


_W2_MODES: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("batched", {"batched": True}, "importance_sampling(batched=True), default chunk size"),
    ("batched+pool", {"batched": True, "pool": "new"},
     "importance_sampling(batched=True, pool=TracePool(8)), the pool warmed by the warm-up call"),
    ("float32", {"batched": True, "dtype": np.float32},
     "importance_sampling(batched=True, dtype=np.float32)"),
)


def _w2_case(config: BenchConfig, mode: str, n: int, reps: int, note: str, floor_name: str,
             floor: Timing | None, big: bool, extra: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(extra)
    if kwargs.get("pool") == "new":
        kwargs["pool"] = require("fugue_lab.runtime.memory", "TracePool", "the memory issue")(8)
    return _is_row("W2 is_vec100", mode, n, config, reps, note, floor_name, floor,
                   measure_peak=big, **kwargs)


#: W2 modes that time one run of the batched handler itself (WORKLOADS.md: "the batched
#: (vectorized) handler, and the batched handler with a pool"), summary included.
_W2_HANDLER_MODES: tuple[tuple[str, Any, bool, str], ...] = (
    ("handler batched", np.float64, False, "one run of BatchedPriorHandler, no pool"),
    ("handler batched+pool", np.float64, True,
     "one run of BatchedPriorHandler with a warmed TracePool (buffers recycled)"),
    ("handler float32", np.float32, False, "one run of BatchedPriorHandler in float32"),
)


def _w2_handler_case(config: BenchConfig, mode: str, n: int, reps: int, dtype: Any,
                     pooled: bool, note: str, floor: Timing | None,
                     big: bool) -> dict[str, Any]:
    from fugue_lab.runtime.handlers import run

    Batched = require("fugue_lab.runtime.batched", "BatchedPriorHandler", "the batched issue")
    pool = require("fugue_lab.runtime.memory", "TracePool", "the memory issue")(8) if pooled \
        else None
    handler = Batched(np.random.default_rng(config.seed), n, dtype=dtype, pool=pool)

    def once() -> tuple[float, float, float]:
        _, trace = run(handler, is_vec100, W2_OBS)
        # Likelihood weighting: the prior is the proposal, so the weight is the likelihood.
        figures = _weighted_summary(trace.log_likelihood + trace.log_factors,
                                    trace["mu"].value)
        if pool is not None:
            pool.put(trace, recycle_arrays=True)
        return figures

    timing = time_call(once, repeats=reps, warmup=2 if pooled else 1)
    log_z, mean, ess = timing.value
    row = make_row("W2 is_vec100", mode, "fugue_lab", n, timing, log_evidence=log_z,
                   posterior_mean_mu=mean, ess=ess,
                   exact_log_evidence=EXACT["W2 log_evidence"], exact_mean_mu=EXACT["W2 mean_mu"],
                   rust_anchor_s=RUST_ANCHORS_S.get(("W2 is_vec100", n), math.nan),
                   throughput_per_s=n / timing.median_s,
                   note=note + "; log evidence, mean and ESS computed from the trace, as the "
                               "floor does")
    if pool is not None:
        row["hit_ratio"] = finite_or_nan(pool.buffer_stats.hit_ratio)
        _append_note(row, "hit_ratio: the pool's buffer hit ratio")
    if big:
        row["peak_bytes"], _ = peak_bytes(once)
        _append_note(row, "peak_bytes: tracemalloc peak of one warmed run")
    return with_floor(row, "floor_is_vec100", floor)


def w2_rows(config: BenchConfig) -> list[dict[str, Any]]:
    """W2 is_vec100: scalar per-particle IS, batched, batched + pool, float32; N=1e6 batched."""
    wl = "W2 is_vec100"
    rows: list[dict[str, Any]] = []
    for n in config.w2_sizes:
        big = n >= 1_000_000
        reps = config.repeats_slow if big else config.repeats_fast
        floor_rows, numpy_floor, loop_floor = _w2_floor_rows(wl, n, config, reps, not big)
        rows.extend(floor_rows)
        if not big:
            # The scalar path is compared with the pure-Python loop floor of the same shape.
            m = config.w2_scalar_n
            rows.append(guarded(wl, "scalar", "fugue_lab", m, partial(
                _w2_case, config, "scalar", m, config.repeats_slow,
                "one scalar execution per particle; floor: the pure-Python loop",
                "is_vec100_python", loop_floor, False, {})))
        for mode, extra, note in _W2_MODES[:2] if big else _W2_MODES:
            rows.append(guarded(wl, mode, "fugue_lab", n, partial(
                _w2_case, config, mode, n, reps, note, "floor_is_vec100", numpy_floor, big,
                extra)))
        for mode, dtype, pooled, note in _W2_HANDLER_MODES[:2] if big else _W2_HANDLER_MODES:
            rows.append(guarded(wl, mode, "fugue_lab", n, partial(
                _w2_handler_case, config, mode, n, reps, dtype, pooled, note, numpy_floor, big)))
    return rows


# -- W3 ----------------------------------------------------------------------------------------
def w3_rows(config: BenchConfig) -> list[dict[str, Any]]:
    """W3 mh20/mh50: single-site MH 50+50 and 500+1000; 64 chains in lockstep."""
    rows: list[dict[str, Any]] = []
    scalar_rate = math.nan
    for sites, warmup, kept in config.w3_cases:
        wl = f"W3 mh{sites}"
        iters = warmup + kept
        reps = config.repeats_fast if iters <= 100 else max(3, config.repeats_slow)
        floor = time_self_timed(lambda s=sites, i=iters: floors.floor_mh(s, i, config.seed),
                                repeats=reps, warmup=1)
        chain = floors.mh_single_site(sites, iters, seed=config.seed)[warmup:]
        rows.append(make_row(wl, f"floor {warmup}+{kept}", "floor", iters, floor,
                             floor_name="floor_mh", floor_s=floor.median_s, ratio_to_floor=1.0,
                             posterior_mean_mu=float(np.mean(chain)),
                             exact_mean_mu=EXACT["W3 mean_mu"] if sites == 20 else math.nan,
                             throughput_per_s=iters / floor.median_s,
                             note="hand-written single-site RW MH (scale 0.5, no adaptation)"))

        def case(sites: int = sites, warmup: int = warmup, kept: int = kept,
                 floor: Timing = floor, reps: int = reps) -> dict[str, Any]:
            mh_chain = require("fugue_lab.inference.mh", "mh_chain", "the inference issue")
            rng = np.random.default_rng(config.seed)
            timing = time_call(
                lambda: mh_chain(reference_model, kept, warmup, rng=rng, args=(sites,)),
                repeats=reps, warmup=1)
            draws = chain_draws(timing.value)
            wl = f"W3 mh{sites}"
            row = make_row(wl, f"scalar {warmup}+{kept}", "fugue_lab", warmup + kept, timing,
                           posterior_mean_mu=float(draws.mean()), ess=_ess(draws),
                           exact_mean_mu=EXACT["W3 mean_mu"] if sites == 20 else math.nan,
                           rust_anchor_s=RUST_ANCHORS_S.get((wl, warmup + kept), math.nan),
                           throughput_per_s=(warmup + kept) / timing.median_s,
                           note="mh_chain, adaptive single-site RW; n = iterations; "
                                "throughput = chain-iterations/s")
            return with_floor(row, "floor_mh", floor)

        row = guarded(wl, f"scalar {warmup}+{kept}", "fugue_lab", iters, case)
        if sites == 20 and row["status"] == "ok":
            scalar_rate = row["throughput_per_s"]
        rows.append(row)

    chains, warmup, kept = config.w3_lockstep

    def lockstep(model: Callable[..., Any], form: str) -> dict[str, Any]:
        mh_chains = require("fugue_lab.inference.mh", "mh_chains", "the inference issue")
        require_params(mh_chains, "vectorized", why="the batched issue (lockstep chains)")
        rng = np.random.default_rng(config.seed)
        quiet = {"progress": False} if accepts(mh_chains, "progress") else {}
        timing = time_call(
            lambda: mh_chains(model, chains, kept, warmup, rng=rng, args=(20,),
                              vectorized=True, **quiet),
            repeats=config.repeats_slow, warmup=1)
        draws = chain_draws(timing.value)
        rate = chains * (warmup + kept) / timing.median_s
        note = (f"mh_chains(vectorized=True), {chains} chains in lockstep, {warmup}+{kept}, "
                f"the model {form}; throughput = chain-iterations/s")
        if math.isfinite(scalar_rate):
            note += f"; {rate / scalar_rate:.1f}x the scalar mh_chain's chain-iterations/s"
        mode = f"lockstep {chains} chains{'' if form == 'as a loop' else ' (plate)'}"
        return make_row("W3 mh20", mode, "fugue_lab", warmup + kept, timing,
                        posterior_mean_mu=float(draws.mean()), ess=_ess(draws),
                        exact_mean_mu=EXACT["W3 mean_mu"], throughput_per_s=rate,
                        floor_name="none", note=note)

    for model, form in ((reference_model, "as a loop"),
                        (reference_model_plate, "with its x_i in one plate")):
        mode = f"lockstep {chains} chains{'' if form == 'as a loop' else ' (plate)'}"
        rows.append(guarded("W3 mh20", mode, "fugue_lab", warmup + kept,
                            partial(lockstep, model, form)))
    return rows


# -- W4 ----------------------------------------------------------------------------------------
def _smc_config(**wanted: Any) -> Any:
    SMCConfig = find("fugue_lab.inference.smc", "SMCConfig")
    if SMCConfig is None:
        return None
    known = {k: v for k, v in wanted.items() if accepts(SMCConfig, k)}
    return SMCConfig(**known)


def _log_evidence(result: Any) -> float:
    return finite_or_nan(result.log_evidence)


def w4_rows(config: BenchConfig) -> list[dict[str, Any]]:
    """W4 smc20: 64 particles over seeds (time and log-evidence spread); 1,024 batched."""
    wl = "W4 smc20"
    settings = {"ess_threshold": 0.5, "resampling": "systematic", "rejuvenation_steps": 3}
    no_floor = "no floor for W4 (ratio NaN)"

    def scalar() -> dict[str, Any]:
        smc = require("fugue_lab.inference.smc", "smc", "the inference issue")
        cfg = _smc_config(**settings)
        seeds = config.w4_seeds
        times, log_zs = [], []
        for seed in range(seeds):
            rng = np.random.default_rng(config.seed + seed)
            if seed == 0 and not config.quick:  # warm-up (a run is slow: none in --quick)
                smc(reference_model, 64, rng=np.random.default_rng(10_000), args=(20,),
                    config=cfg)
            start = time.perf_counter()
            result = smc(reference_model, 64, rng=rng, args=(20,), config=cfg)
            times.append(time.perf_counter() - start)
            log_zs.append(_log_evidence(result))
        timing = Timing.from_times(times, 1, result)
        arr = np.asarray(log_zs)
        if not np.isfinite(arr).any():
            raise ValueError(f"every W4 log evidence estimate is non-finite: {log_zs}")
        q25, q75 = np.nanpercentile(arr, [25, 75])
        n_bad = int((~np.isfinite(arr)).sum())
        return make_row(wl, "scalar", "fugue_lab", 64, timing,
                        log_evidence=float(np.nanmedian(arr)),
                        exact_log_evidence=EXACT["W4 log_evidence"],
                        rust_anchor_s=RUST_ANCHORS_S[(wl, 64)],
                        throughput_per_s=64 / timing.median_s,
                        note=f"{no_floor}; n = particles; times and log evidence over {seeds} "
                             f"seeds (one run each): log evidence median {np.nanmedian(arr):.2f}, "
                             f"IQR [{q25:.2f}, {q75:.2f}], range [{np.nanmin(arr):.2f}, "
                             f"{np.nanmax(arr):.2f}]"
                             + (f"; {n_bad} non-finite estimates" if n_bad else ""))

    def batched(model: Callable[..., Any], form: str) -> dict[str, Any]:
        smc = require("fugue_lab.inference.smc", "smc", "the inference issue")
        require_params(smc, "batched", why="the batched issue")
        n = config.w4_batched_n
        cfg = _smc_config(**settings)
        rng = np.random.default_rng(config.seed)
        timing = time_call(
            lambda: smc(model, n, rng=rng, args=(20,), config=cfg, batched=True),
            repeats=config.repeats_slow, warmup=1)
        return make_row(wl, "batched" if form == "as a loop" else "batched (plate)",
                        "fugue_lab", n, timing,
                        log_evidence=_log_evidence(timing.value),
                        exact_log_evidence=EXACT["W4 log_evidence"],
                        throughput_per_s=n / timing.median_s,
                        note=f"{no_floor}; n = particles; the model {form}")

    return [guarded(wl, "scalar", "fugue_lab", 64, scalar),
            guarded(wl, "batched", "fugue_lab", config.w4_batched_n,
                    partial(batched, reference_model, "as a loop")),
            guarded(wl, "batched (plate)", "fugue_lab", config.w4_batched_n,
                    partial(batched, reference_model_plate, "with its x_i in one plate"))]


# -- W5 ----------------------------------------------------------------------------------------
#: The value W5 writes into the middle site of the cloned trace.
_W5_NEW_VALUE = 0.25


def _sites_model(n_sites: int) -> Any:
    for i in range(n_sites):
        sample(addr("x", i), Normal(0.0, 1.0))


def w5_rows(config: BenchConfig) -> list[dict[str, Any]]:
    """W5 cow: clone-and-change one site, CowTrace against a dict copy, for 3 ... 10,000 sites."""
    from fugue_lab.runtime.handlers import PriorHandler, run

    wl = "W5 cow"
    rows: list[dict[str, Any]] = []
    for n_sites in config.w5_sizes:
        _, trace = run(PriorHandler(np.random.default_rng(config.seed)), _sites_model, n_sites)
        number = max(20, min(20_000, 2_000_000 // (n_sites * 10)))
        reps = config.w1_repeats
        target = addr("x", n_sites // 2)
        new_lp = Normal(0.0, 1.0).log_prob(_W5_NEW_VALUE)

        def dict_copy(trace: Any = trace, target: str = target, new_lp: float = new_lp) -> Any:
            choices = dict(trace.choices)
            old = choices[target]
            choices[target] = type(old)(target, _W5_NEW_VALUE, new_lp)
            return choices, trace.log_prior - old.log_prob + new_lp

        dict_timing = time_call(dict_copy, repeats=reps, number=number, warmup=number // 10)
        copied, lp = dict_timing.value
        ok = (trace.choices[target].value != _W5_NEW_VALUE and copied[target].value == _W5_NEW_VALUE
              and math.isclose(lp, sum(c.log_prob for c in copied.values()), abs_tol=1e-9))
        dict_row = make_row(wl, "dict copy + change", "python-dict", n_sites, dict_timing,
                            check_ok=ok, floor_name="none",
                            note="the comparison for W5 (no floor): copy the choices dict, "
                                 "replace one Choice, update log_prior; n = sites")
        rows.append(dict_row)

        def cow(trace: Any = trace, target: str = target, n_sites: int = n_sites,
                number: int = number, new_lp: float = new_lp, reps: int = reps,
                dict_timing: Timing = dict_timing) -> dict[str, Any]:
            CowTrace = require("fugue_lab.runtime.memory", "CowTrace", "the memory issue")
            base = CowTrace.from_trace(trace)
            before = base.total_log_weight

            def clone_and_change() -> Any:
                clone = base.clone()
                clone.set_choice(target, _W5_NEW_VALUE, new_lp)
                return clone

            timing = time_call(clone_and_change, repeats=reps, number=number,
                               warmup=number // 10)
            clone = timing.value
            expected = before - trace.choices[target].log_prob + new_lp
            ok = (
                base.get(target) == trace.choices[target].value
                and base.total_log_weight == before
                and clone.get(target) == _W5_NEW_VALUE
                and math.isclose(clone.total_log_weight, expected, rel_tol=1e-12, abs_tol=1e-9)
            )
            speed = dict_timing.median_s / timing.median_s
            return make_row(wl, "CowTrace clone + change", "fugue_lab", n_sites, timing,
                            check_ok=ok, floor_name="none",
                            rust_anchor_s=RUST_ANCHORS_S.get((wl, n_sites), math.nan),
                            note=f"no floor (ratio NaN); {speed:.2f}x the dict copy's speed; "
                                 "check: original unchanged and clone's log weight current")

        rows.append(guarded(wl, "CowTrace clone + change", "fugue_lab", n_sites, cow))
    return rows
