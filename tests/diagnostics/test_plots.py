"""Every plot returns its Axes, draws what it should, and leaves global state alone.

The backend comes from ``MPLBACKEND=Agg`` (set by CI; a machine without a display falls back
to Agg by itself). No conftest here: with ``--doctest-modules`` a second ``conftest.py``
basename collides with the others at collection.
"""

from __future__ import annotations

import math

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from fugue_lab.diagnostics import (
    ArgumentTypeError,
    PerformanceMonitor,
    plot_latency,
    plot_pool,
    plot_precision_sweep,
    plot_rank,
    plot_trace,
    plot_trace_characteristics,
    plot_weights,
    pool_frame,
    precision_sweep,
    trace_frame,
)
from fugue_lab.errors import InvalidParameterError, MissingAddressError
from fugue_lab.inference.results import ImportanceResult, MCMCResult, SMCResult
from fugue_lab.runtime.memory import TracePool
from fugue_lab.runtime.trace import Choice, Trace


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test opened, so none leaks into the next test."""
    yield
    plt.close("all")


@pytest.fixture
def mcmc(rng: np.random.Generator) -> MCMCResult:
    return MCMCResult({"mu": rng.normal(size=(3, 200)), "v": rng.normal(size=(3, 200, 2))}, {})


@pytest.fixture
def pool() -> TracePool:
    pool = TracePool(2, history_every=2)
    for n in (1, 3, 2, 4, 1):
        held = [pool.get() for _ in range(n)]
        for t in held:
            pool.put(t)
    return pool


@pytest.fixture
def smc() -> SMCResult:
    return SMCResult(
        np.log([0.1, 0.2, 0.3, 0.4]), {"x": np.arange(4.0)}, log_evidence=-2.0,
        temperatures=np.array([0.0, 0.5, 1.0]), ess_history=np.array([3.5, 2.0]),
        resampled=np.array([False, True]), acceptance_rates=np.array([0.4, 0.3]),
    )  # fmt: skip


def _monitor() -> PerformanceMonitor:
    monitor = PerformanceMonitor()
    for label in ("a", "b", "a"):
        with monitor.track(label):
            sum(range(100))
    return monitor


def _traces() -> list[Trace]:
    return [
        Trace({f"x{i}": Choice(f"x{i}", 0.5, -1.0) for i in range(n)}, log_prior=-float(n))
        for n in (1, 2, 5)
    ] + [Trace(log_factors=-math.inf)]


CASES = {
    "pool": lambda f: plot_pool(f["pool"]),
    "pool_frame": lambda f: plot_pool(pool_frame(f["pool"])),
    "pool_stats": lambda f: plot_pool(f["pool"].stats),
    "traces": lambda f: plot_trace_characteristics(_traces()),
    "trace_frame": lambda f: plot_trace_characteristics(trace_frame(_traces()), y="log_prior"),
    "trace": lambda f: plot_trace(f["mcmc"]),
    "trace_element": lambda f: plot_trace(f["mcmc"], "v[1]"),
    "rank": lambda f: plot_rank(f["mcmc"], bins=10),
    "weights": lambda f: plot_weights(f["smc"]),
    "ess": lambda f: plot_weights(f["smc"], kind="ess"),
    "precision": lambda f: plot_precision_sweep(
        precision_sweep(["log_sum_exp", "naive_log_sum_exp"], scales=[1.0, 1e3, 1e300],
                        min_time_s=0)
    ),
    "latency": lambda f: plot_latency(_monitor()),
    "latency_frame": lambda f: plot_latency(_monitor().frame()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plot_returns_axes_and_changes_no_global_state(
    case: str, mcmc: MCMCResult, pool: TracePool, smc: SMCResult
) -> None:
    before = dict(mpl.rcParams)
    backend = mpl.get_backend()
    ax = CASES[case]({"mcmc": mcmc, "pool": pool, "smc": smc})
    assert isinstance(ax, Axes)
    assert ax.has_data()
    assert dict(mpl.rcParams) == before and mpl.get_backend() == backend


@pytest.mark.parametrize("case", ["trace", "rank", "weights", "latency", "pool"])
def test_plot_draws_on_the_given_axes(
    case: str, mcmc: MCMCResult, pool: TracePool, smc: SMCResult
) -> None:
    _, ax = plt.subplots()
    n_figs = len(plt.get_fignums())
    calls = {
        "trace": lambda: plot_trace(mcmc, "mu", ax=ax),
        "rank": lambda: plot_rank(mcmc, "mu", ax=ax),
        "weights": lambda: plot_weights(smc, ax=ax),
        "latency": lambda: plot_latency(_monitor(), ax=ax),
        "pool": lambda: plot_pool(pool, ax=ax),
    }
    assert calls[case]() is ax
    assert len(plt.get_fignums()) == n_figs  # no new figure


def test_trace_plot_draws_each_chain(mcmc: MCMCResult) -> None:
    ax = plot_trace(mcmc, "mu")
    lines = ax.get_lines()
    assert len(lines) == 3
    for c, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_ydata(), mcmc.values["mu"][c])


def test_rank_plot_bars_count_each_chains_ranks(mcmc: MCMCResult) -> None:
    from scipy.stats import rankdata

    ax = plot_rank(mcmc, "mu", bins=10)
    heights = np.array([p.get_height() for p in ax.patches]).reshape(3, 10)
    ranks = rankdata(mcmc.values["mu"], axis=None).reshape(3, 200)
    counts = np.stack([np.histogram(r, bins=np.linspace(0.5, 600.5, 11))[0] for r in ranks])
    # Bars are the counts scaled so that the tallest fills 0.9 of a chain's band.
    np.testing.assert_allclose(heights, counts * 0.9 / counts.max())
    bottoms = np.array([p.get_y() for p in ax.patches]).reshape(3, 10)
    np.testing.assert_array_equal(bottoms, np.repeat([[0.0], [1.0], [2.0]], 10, axis=1))


def test_precision_plot_marks_failures_at_the_top() -> None:
    frame = precision_sweep(["log_sum_exp", "naive_log_sum_exp"], scales=[1.0, 1e3, 1e300],
                            dtypes=["float64"], min_time_s=0)
    ax = plot_precision_sweep(frame)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "log_sum_exp" in labels and "naive_log_sum_exp" in labels
    crosses = ax.collections[0].get_offsets()
    assert len(crosses) == 2  # naive fails at 1e3 and 1e300
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_plots_reject_bad_input(mcmc: MCMCResult, smc: SMCResult) -> None:
    with pytest.raises(ArgumentTypeError, match="Axes"):
        plot_trace(mcmc, ax="not axes")
    with pytest.raises(MissingAddressError):
        plot_trace(mcmc, "nope")
    with pytest.raises(InvalidParameterError, match="scalar element"):
        plot_trace(mcmc, "v")
    with pytest.raises(ArgumentTypeError):
        plot_rank(smc)
    with pytest.raises(InvalidParameterError, match="bins"):
        plot_rank(mcmc, bins=0)
    importance = ImportanceResult(np.zeros(3), {"x": np.zeros(3)})
    with pytest.raises(InvalidParameterError, match="kind"):
        plot_weights(importance, kind="ess")
    with pytest.raises(ArgumentTypeError):
        plot_weights(mcmc)
    with pytest.raises(ArgumentTypeError):
        plot_pool([1, 2, 3])
    with pytest.raises(ArgumentTypeError):
        plot_latency("monitor")
    with pytest.raises(InvalidParameterError, match="metric"):
        plot_precision_sweep(precision_sweep(["safe_ln"], scales=[1.0], min_time_s=0),
                             metric="bits")
    with pytest.raises(InvalidParameterError, match="y"):
        plot_trace_characteristics(_traces(), y="weight")
