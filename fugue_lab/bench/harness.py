"""Timing method and environment report for the benchmark suite.

Every figure the suite reports comes from :func:`time_call` (or
:func:`time_self_timed` for the floors, which time themselves): warm-up calls
first, then ``repeats`` timed repeats of ``number`` calls each, reported as
the median, minimum and maximum seconds per call.  BLAS is held to one thread
while timing (:func:`single_threaded`, through ``threadpoolctl`` when it is
installed) so that runs on machines with different core counts compare.

:func:`environment` collects what a reader needs to judge a figure: CPU,
Python, NumPy and BLAS versions, the ``OPENBLAS_*``/``OMP_*``/``MKL_*`` and
``MALLOC_*`` environment knobs, the C library, and torch's thread count when
torch is loaded.  :func:`format_environment` renders it as ``#`` comment
lines for the top of the suite's output.

Examples
--------
>>> t = time_call(lambda: sum(range(100)), repeats=3, number=10)
>>> t.repeats, t.number, t.min_s <= t.median_s <= t.max_s, t.value
(3, 10, True, 4950)
"""

from __future__ import annotations

import gc
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "MALLOC_NOTE",
    "XLA_ONE_THREAD",
    "Timing",
    "environment",
    "finite_or_nan",
    "format_environment",
    "peak_bytes",
    "single_threaded",
    "time_call",
    "time_self_timed",
]

#: Environment variables whose prefix makes them worth reporting beside a timing.
_KNOB_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "MALLOC_", "GLIBC_TUNABLES", "XLA_FLAGS",
                  "PYTHONMALLOC", "NUMPY_", "JAX_")

#: The XLA_FLAGS the suite sets (when JAX is not yet imported) to keep XLA on one CPU thread.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

MALLOC_NOTE = (
    "glibc malloc serves blocks >= M_MMAP_THRESHOLD (128 KiB, raised dynamically up to 32 MiB "
    "when such blocks are freed) with mmap and unmaps them on free, and trims the heap top "
    "above M_TRIM_THRESHOLD: a fresh large NumPy array is then page-faulted on first touch, "
    "which is time a pooled buffer saves.  MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, "
    "MALLOC_TOP_PAD_ (or GLIBC_TUNABLES=glibc.malloc.*) change this; set them before Python "
    "starts (setting one turns the dynamic threshold off)."
)


class Timing(NamedTuple):
    """Seconds per call over the timed repeats.

    Attributes
    ----------
    median_s, min_s, max_s
        Median, minimum and maximum over the repeats of (repeat time / number).
    repeats
        How many timed repeats there were.
    number
        How many calls each repeat made.
    value
        What the last call returned (for correctness figures).
    """

    median_s: float
    min_s: float
    max_s: float
    repeats: int
    number: int
    value: Any

    @classmethod
    def from_times(cls, times: list[float], number: int = 1, value: Any = None) -> Timing:
        """Summarise per-call times (seconds)."""
        if not times:
            raise ValueError("time_call: no timed repeats (repeats must be >= 1)")
        arr = np.asarray(times, dtype=float)
        return cls(float(np.median(arr)), float(arr.min()), float(arr.max()), len(times),
                   number, value)


def _check_counts(repeats: int, warmup: int, number: int) -> None:
    for name, value, low in (("repeats", repeats, 1), ("warmup", warmup, 0), ("number", number, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"time_call: {name} must be an int >= {low}, got {value!r}")


def time_call(
    fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1, number: int = 1
) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` repeats of ``number`` calls.

    The garbage collector stays on (a library's allocations are part of its cost) but
    is run before each repeat so that one repeat does not pay for another's garbage.

    Parameters
    ----------
    fn
        A callable without arguments.
    repeats
        The number of timed repeats, >= 1.
    warmup
        The number of untimed calls first, >= 0.
    number
        Calls per repeat, >= 1 (use many for calls of a few microseconds).

    Returns
    -------
    Timing
        Median, min and max seconds per call, and the last call's return value.

    Examples
    --------
    >>> time_call(lambda: 1, repeats=2).value
    1
    """
    _check_counts(repeats, warmup, number)
    value = None
    for _ in range(warmup):
        value = fn()
    times = []
    clock = time.perf_counter
    for _ in range(repeats):
        gc.collect()
        start = clock()
        for _ in range(number):
            value = fn()
        times.append((clock() - start) / number)
    return Timing.from_times(times, number, value)


def time_self_timed(fn: Callable[[], float], *, repeats: int = 5, warmup: int = 0) -> Timing:
    """Summarise a function that times itself and returns seconds (the floors do).

    Examples
    --------
    >>> time_self_timed(lambda: 0.5, repeats=3).median_s
    0.5
    """
    _check_counts(repeats, warmup, 1)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(float(fn()))
    return Timing.from_times(times, 1, None)


@contextmanager
def single_threaded() -> Iterator[bool]:
    """Hold BLAS/OpenMP thread pools to one thread inside the block.

    Yields True when ``threadpoolctl`` is installed and applied the limit, False when
    it is not installed (then the pools keep their defaults: the environment header
    says so).

    Examples
    --------
    >>> with single_threaded() as limited:
    ...     isinstance(limited, bool)
    True
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=1):
        yield True


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "filepath")
    return [{k: info.get(k) for k in keep if k in info} for info in threadpool_info()]


def environment() -> dict[str, Any]:
    """What a reader needs to judge the timings: machine, versions, thread and malloc knobs.

    Returns
    -------
    dict
        Keys ``cpu``, ``cpus``, ``cpus_usable``, ``platform``, ``python``, ``numpy``,
        ``libc``, ``blas`` (a list, from threadpoolctl; empty without it),
        ``threadpoolctl`` (bool), ``env`` (the knobs that are set), ``malloc_note``,
        and ``torch_threads`` / ``torch`` / ``jax`` / ``pyro`` / ``numpyro`` when
        those are loaded.

    Examples
    --------
    >>> info = environment()
    >>> info["numpy"] == np.__version__
    True
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    try:
        import threadpoolctl  # noqa: F401

        have_tpc = True
    except ImportError:
        have_tpc = False
    libc = platform.libc_ver()
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": usable,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "libc": " ".join(part for part in libc if part) or "unknown",
        "blas": _blas(),
        "threadpoolctl": have_tpc,
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(_KNOB_PREFIXES)},
        "malloc_note": MALLOC_NOTE,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    for name in ("pyro", "jax", "numpyro"):
        module = sys.modules.get(name)
        if module is not None:
            info[name] = getattr(module, "__version__", "?")
    return info


def format_environment(info: dict[str, Any] | None = None) -> str:
    """Render :func:`environment` as ``#`` comment lines (the suite's output header).

    Examples
    --------
    >>> print(format_environment({"cpu": "x", "python": "3", "numpy": "2", "blas": [],
    ...                           "env": {}, "threadpoolctl": False}))  # doctest: +ELLIPSIS
    # cpu: x
    ...
    """
    info = environment() if info is None else info
    lines = [f"cpu: {info.get('cpu')} ({info.get('cpus')} cpus, {info.get('cpus_usable')} usable)",
             f"platform: {info.get('platform')}; libc: {info.get('libc')}",
             f"python {info.get('python')}, numpy {info.get('numpy')}"]
    for blas in info.get("blas", []):
        lines.append(
            f"blas: {blas.get('internal_api')} {blas.get('version')} "
            f"({blas.get('num_threads')} threads by default, "
            f"threading layer {blas.get('threading_layer')})"
        )
    if info.get("threadpoolctl"):
        lines.append("timing: BLAS/OpenMP pools held to 1 thread (threadpoolctl)")
    else:
        lines.append("timing: threadpoolctl not installed: BLAS keeps its default threads")
    knobs = info.get("env", {})
    lines.append(
        "env knobs: " + (", ".join(f"{k}={v}" for k, v in knobs.items()) if knobs else "none set")
    )
    peers = [f"{name} {info[name]}" for name in ("torch", "pyro", "jax", "numpyro") if name in info]
    if peers:
        lines.append("peers loaded: " + ", ".join(peers))
    if knobs.get("XLA_FLAGS") == XLA_ONE_THREAD and "jax" in info:
        lines.append("jax: XLA_FLAGS set to one CPU thread by the suite (it was unset)")
    if "torch_threads" in info:
        lines.append(
            f"torch threads: {info['torch_threads']} (the suite times torch with 1 thread)"
        )
    if "malloc_note" in info:
        lines.append("malloc: " + info["malloc_note"])
    return "\n".join("# " + line for line in lines)


def peak_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak bytes traced by :mod:`tracemalloc` during one call of ``fn`` (NumPy reports its arrays).

    Examples
    --------
    >>> peak, value = peak_bytes(lambda: np.zeros(1_000_000))
    >>> peak >= 8_000_000
    True
    """
    import tracemalloc

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        value = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base), value


def finite_or_nan(x: Any) -> float:
    """``float(x)``, or NaN when ``x`` is None or not a real number.

    Examples
    --------
    >>> finite_or_nan(None), finite_or_nan(np.float32(1.5))
    (nan, 1.5)
    """
    if x is None:
        return math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan
