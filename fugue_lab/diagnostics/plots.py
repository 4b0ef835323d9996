"""Plots of the diagnostics frames (matplotlib).

Every function takes the frame (or the object the frame is built from) and an
optional ``ax``; without one it makes a new figure with ``plt.subplots()``. It
draws on that one Axes, returns it, never calls ``plt.show()`` and never
touches global state (``rcParams``, styles, the backend).

Examples
--------
>>> import numpy as np
>>> from fugue_lab.inference.results import MCMCResult
>>> r = MCMCResult({"mu": np.random.default_rng(0).normal(size=(2, 100))}, {})
>>> ax = plot_trace(r)
>>> ax.get_title()
'mu'
>>> import matplotlib.pyplot as plt; plt.close(ax.figure)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from fugue_lab.diagnostics._deps import ArgumentTypeError, pandas, pyplot
from fugue_lab.errors import InvalidParameterError, MissingAddressError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_latency",
    "plot_pool",
    "plot_precision_sweep",
    "plot_rank",
    "plot_trace",
    "plot_trace_characteristics",
    "plot_weights",
]


def _axes(ax: Any, owner: str) -> Axes:
    plt = pyplot(owner)
    if ax is None:
        _, ax = plt.subplots()
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise ArgumentTypeError(owner, "ax", ax, "a matplotlib Axes or None")
    return ax


def _frame(obj: Any, owner: str, columns: tuple[str, ...], build: Any) -> Any:
    """``obj`` if it is a frame with ``columns``, else ``build(obj)``."""
    pd = pandas(owner)
    if isinstance(obj, pd.DataFrame):
        missing = [c for c in columns if c not in obj.columns]
        if missing:
            raise InvalidParameterError(
                owner, "frame", f"a frame without {missing}", f"a frame with columns {columns}"
            )
        return obj
    return build(obj)


def _cycle_color(i: int) -> str:
    return f"C{i % 10}"


# --------------------------------------------------------------------------- pools and traces


def plot_pool(frame_or_pool: Any, ax: Any = None) -> Axes:
    """A pool's hit ratio (left axis) and traces in use (right axis) against gets.

    Parameters
    ----------
    frame_or_pool
        A :func:`~fugue_lab.diagnostics.frames.pool_frame` frame, a
        TracePool, or a PoolStats. With a single row (no history), draws
        the counters as bars instead.
    ax
        The Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes holding the hit ratio (the in-use lines are on its twin).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from fugue_lab import TracePool
    >>> pool = TracePool(4, history_every=1)
    >>> for _ in range(3):
    ...     pool.put(pool.get())
    >>> ax = plot_pool(pool)
    >>> ax.get_title(), ax.get_ylabel()
    ('pool: hit ratio 0.667, drops 0, peak in use 1', 'hit ratio')
    >>> plt.close(ax.figure)
    """
    from fugue_lab.diagnostics.frames import pool_frame

    cols = ("total_gets", "hit_ratio", "in_use", "peak_in_use", "hits", "misses", "drops")
    frame = _frame(frame_or_pool, "plot_pool", cols, pool_frame)
    ax = _axes(ax, "plot_pool")
    last = frame.iloc[-1]
    if len(frame) == 1:
        names = ["hits", "misses", "returns", "drops"]
        ax.bar(names, [float(last[n]) for n in names], color=[_cycle_color(i) for i in range(4)])
        ax.set_ylabel("count")
        ax.set_title(f"pool: hit ratio {last['hit_ratio']:.3f}, peak in use {last['peak_in_use']}")
        return ax
    x = frame["total_gets"].to_numpy(dtype=float)
    ax.plot(x, frame["hit_ratio"], color="C0", marker="o", ms=3, label="hit ratio")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("gets")
    ax.set_ylabel("hit ratio", color="C0")
    twin = ax.twinx()
    twin.step(x, frame["in_use"], where="post", color="C1", label="in use")
    twin.step(x, frame["peak_in_use"], where="post", color="C2", ls="--", label="peak in use")
    twin.set_ylabel("traces in use")
    handles = ax.get_legend_handles_labels()
    twin_handles = twin.get_legend_handles_labels()
    ax.legend(handles[0] + twin_handles[0], handles[1] + twin_handles[1], loc="lower right")
    ax.set_title(
        f"pool: hit ratio {last['hit_ratio']:.3f}, drops {int(last['drops'])}, "
        f"peak in use {int(last['peak_in_use'])}"
    )
    return ax


def plot_trace_characteristics(
    frame_or_traces: Any, ax: Any = None, *, x: str = "n_choices", y: str = "size_bytes"
) -> Axes:
    """Scatter of two trace characteristics (default: bytes against choices).

    Valid traces are dots; traces with a non-finite weight are red crosses.

    Parameters
    ----------
    frame_or_traces
        A :func:`~fugue_lab.diagnostics.frames.trace_frame` frame or traces.
    ax
        The Axes to draw on (default: a new figure).
    x, y
        Columns of the frame.

    Raises
    ------
    InvalidParameterError
        If ``x`` or ``y`` is not a column of the frame.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from fugue_lab.runtime.trace import Choice, Trace
    >>> good = [Trace({f"x{i}": Choice(f"x{i}", 0.5, -1.0) for i in range(n)}) for n in (1, 5)]
    >>> ax = plot_trace_characteristics([*good, Trace(log_factors=-float("inf"))])
    >>> ax.get_xlabel(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('n_choices', ['valid (2)', 'non-finite weight (1)'])
    >>> plt.close(ax.figure)
    """
    from fugue_lab.diagnostics.frames import TRACE_COLUMNS, trace_frame

    frame = _frame(frame_or_traces, "plot_trace_characteristics", ("is_valid",), trace_frame)
    for name, col in (("x", x), ("y", y)):
        if col not in frame.columns:
            raise InvalidParameterError(
                "plot_trace_characteristics", name, col, f"one of {list(TRACE_COLUMNS)}"
            )
    ax = _axes(ax, "plot_trace_characteristics")
    valid = frame["is_valid"].to_numpy(dtype=bool)
    xs = frame[x].to_numpy(dtype=float)
    ys = frame[y].to_numpy(dtype=float)
    ax.scatter(xs[valid], ys[valid], s=12, color="C0", label=f"valid ({int(valid.sum())})")
    if (~valid).any():
        ax.scatter(
            xs[~valid], ys[~valid], s=24, color="C3", marker="x",
            label=f"non-finite weight ({int((~valid).sum())})",
        )  # fmt: skip
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(loc="best")
    ax.set_title(f"{len(frame)} traces")
    return ax


# --------------------------------------------------------------------------- chains


def _draws(result: Any, var_name: str | None, owner: str) -> tuple[str, np.ndarray]:
    from fugue_lab.inference.results import MCMCResult

    if not isinstance(result, MCMCResult):
        raise ArgumentTypeError(owner, "result", result, "an MCMCResult")
    if not result.values:
        raise InvalidParameterError(owner, "result", result, "a result with at least one address")
    if var_name is None:
        var_name = next(iter(result.values))
    base, index = var_name, ()
    if var_name not in result.values and var_name.endswith("]") and "[" in var_name:
        base, _, rest = var_name.partition("[")
        try:
            index = tuple(int(i) for i in rest[:-1].split(","))
        except ValueError:
            raise MissingAddressError(var_name, result.values) from None
    if base not in result.values:
        raise MissingAddressError(var_name, result.values)
    a = np.asarray(result.values[base], dtype=np.float64)
    a = a[(slice(None), slice(None), *index)]
    if a.ndim != 2:
        raise InvalidParameterError(
            owner, "var_name", var_name, f"a scalar element, e.g. '{base}[0]'"
        )
    return var_name, a


def plot_trace(result: Any, var_name: str | None = None, ax: Any = None) -> Axes:
    """Each chain's draws of one parameter against the draw number.

    Parameters
    ----------
    result
        An :class:`~fugue_lab.inference.results.MCMCResult`.
    var_name
        An address, or ``"v[0]"`` for an element of an array site (default:
        the first address).
    ax
        The Axes to draw on (default: a new figure).

    Raises
    ------
    MissingAddressError
        If ``var_name`` is not in the result.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from fugue_lab import MCMCResult
    >>> draws = np.random.default_rng(0).normal(size=(2, 100, 3))  # 2 chains, a 3-vector site
    >>> ax = plot_trace(MCMCResult({"beta": draws}, {}), "beta[1]")
    >>> ax.get_title(), len(ax.lines)
    ('beta[1]', 2)
    >>> plt.close(ax.figure)
    """
    name, a = _draws(result, var_name, "plot_trace")
    ax = _axes(ax, "plot_trace")
    for c in range(a.shape[0]):
        ax.plot(np.arange(a.shape[1]), a[c], lw=0.8, color=_cycle_color(c), label=f"chain {c}")
    ax.set_xlabel("draw")
    ax.set_ylabel(name)
    ax.set_title(name)
    if a.shape[0] > 1:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_rank(result: Any, var_name: str | None = None, ax: Any = None, *, bins: int = 20) -> Axes:
    """Rank plot: a histogram of each chain's ranks among all draws (Vehtari et al. 2021).

    If the chains mix, every chain's histogram is flat; the dashed line is the
    uniform count. Chains are stacked vertically, as ArviZ's ``plot_rank``.

    Parameters
    ----------
    result
        An :class:`~fugue_lab.inference.results.MCMCResult`.
    var_name
        As :func:`plot_trace`.
    ax
        The Axes to draw on (default: a new figure).
    bins
        Number of rank bins, an int >= 1.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from fugue_lab import MCMCResult
    >>> result = MCMCResult({"mu": np.random.default_rng(0).normal(size=(4, 200))}, {})
    >>> ax = plot_rank(result, bins=10)
    >>> ax.get_title(), len(ax.patches)  # 4 chains x 10 bins
    ('mu: rank plot', 40)
    >>> plt.close(ax.figure)
    """
    from scipy.stats import rankdata

    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise InvalidParameterError("plot_rank", "bins", bins, "an int >= 1")
    name, a = _draws(result, var_name, "plot_rank")
    ax = _axes(ax, "plot_rank")
    n_chains = a.shape[0]
    ranks = rankdata(a, axis=None, method="average").reshape(a.shape)
    edges = np.linspace(0.5, a.size + 0.5, bins + 1)
    counts = np.stack([np.histogram(ranks[c], bins=edges)[0] for c in range(n_chains)])
    scale = 0.9 / max(int(counts.max()), 1)  # the tallest bar fills 90% of a chain's band
    expected = a.shape[1] / bins  # each chain's count per bin if the chains mix
    for c in range(n_chains):
        ax.bar(
            edges[:-1], counts[c] * scale, width=np.diff(edges), bottom=c, align="edge",
            color=_cycle_color(c), alpha=0.8, edgecolor="white",
        )  # fmt: skip
        ax.axhline(c + expected * scale, color="k", ls="--", lw=0.8)
    ax.set_yticks(np.arange(n_chains) + 0.45, [str(c) for c in range(n_chains)])
    ax.set_ylabel("chain")
    ax.set_xlabel("rank (all chains)")
    ax.set_title(f"{name}: rank plot")
    return ax


# --------------------------------------------------------------------------- weights


def plot_weights(result: Any, ax: Any = None, *, kind: str = "weights") -> Axes:
    """Importance or SMC weights: sorted normalised weights, or the ESS over SMC steps.

    Parameters
    ----------
    result
        An ImportanceResult or SMCResult.
    ax
        The Axes to draw on (default: a new figure).
    kind
        ``"weights"``: the normalised weights sorted from largest to smallest
        (log scale) against the uniform ``1/n``, with the ESS in the title.
        ``"ess"`` (SMC only): the ESS after each tempering step, with
        resampling steps marked.

    Raises
    ------
    ArgumentTypeError
        If ``result`` holds no weighted particles.
    InvalidParameterError
        If ``kind`` is unknown, or ``"ess"`` for an importance result.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from fugue_lab import Normal, importance_sampling, observe, sample
    >>> def model():
    ...     observe("y", Normal(sample("mu", Normal(0.0, 1.0)), 1.0), 0.5)
    >>> ax = plot_weights(importance_sampling(model, 200, rng=np.random.default_rng(0)))
    >>> ax.get_title(), ax.get_yscale()
    ('ESS 169.2 of 200; 0 zero-weight particles', 'log')
    >>> plt.close(ax.figure)
    """
    from fugue_lab.inference.results import ImportanceResult, SMCResult

    if not isinstance(result, (ImportanceResult, SMCResult)):
        raise ArgumentTypeError(
            "plot_weights", "result", result, "an ImportanceResult or SMCResult"
        )
    if kind not in ("weights", "ess") or (kind == "ess" and not isinstance(result, SMCResult)):
        expected = "'weights' or 'ess'" if isinstance(result, SMCResult) else "'weights'"
        raise InvalidParameterError("plot_weights", "kind", kind, expected)
    ax = _axes(ax, "plot_weights")
    n = result.n_particles
    if kind == "ess":
        steps = np.arange(1, result.n_steps + 1)
        ax.plot(steps, result.ess_history, marker="o", color="C0", label="ESS")
        resampled = np.asarray(result.resampled, dtype=bool)
        if resampled.any():
            ax.scatter(
                steps[resampled], result.ess_history[resampled], color="C3", zorder=3,
                label="resampled after",
            )  # fmt: skip
        ax.axhline(n, color="k", ls=":", lw=0.8, label=f"n = {n}")
        ax.set_xlabel("tempering step")
        ax.set_ylabel("effective sample size")
        ax.set_ylim(0, n * 1.05)
        ax.legend(loc="best")
        ax.set_title(f"SMC: {result.n_steps} steps, log evidence {result.log_evidence:.4g}")
        return ax
    w = np.sort(np.asarray(result.weights, dtype=np.float64))[::-1]
    positive = w[w > 0]
    ax.plot(np.arange(1, positive.size + 1), positive, color="C0", label="normalised weight")
    ax.axhline(1.0 / n, color="k", ls="--", lw=0.8, label="uniform 1/n")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("particle (sorted by weight)")
    ax.set_ylabel("weight")
    ax.legend(loc="best")
    ax.set_title(
        f"ESS {result.ess:.4g} of {n}; {int(result.n_nonfinite)} zero-weight particles"
    )
    return ax


# --------------------------------------------------------------------------- precision


def plot_precision_sweep(
    frame: Any,
    ax: Any = None,
    *,
    dtype: str | None = None,
    metric: str = "ulp_error",
    functions: Any = None,
) -> Axes:
    """Error against scale, one line per function: the stable ones stay flat.

    Parameters
    ----------
    frame
        A :func:`~fugue_lab.diagnostics.precision.precision_sweep` frame.
    ax
        The Axes to draw on (default: a new figure).
    dtype
        ``"float32"`` or ``"float64"`` (default: float64 if present).
    metric
        ``"ulp_error"``, ``"rel_error"`` or ``"abs_error"``.
    functions
        Names to draw (default: every function in the frame).

    Notes
    -----
    Both axes are logarithmic. Rows whose input did not fit the dtype
    (``input_in_range`` False) are left out. An error below 0.01 ulp (or
    1e-19 relative, 0 included) is drawn at the bottom of the axis, and an
    infinite or NaN error (an overflow, a NaN, an exception) as a cross along
    the top. Naive functions are dashed, in the
    colour of their stable counterpart.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from fugue_lab.diagnostics.precision import precision_sweep
    >>> frame = precision_sweep(["log_sum_exp", "naive_log_sum_exp"], scales=[1.0, 1e3],
    ...                         dtypes=["float64"], min_time_s=0)
    >>> ax = plot_precision_sweep(frame)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['log_sum_exp', 'naive_log_sum_exp']
    >>> plt.close(ax.figure)
    """
    pd = pandas("plot_precision_sweep")
    from fugue_lab.diagnostics.precision import PRECISION_COLUMNS

    if not isinstance(frame, pd.DataFrame):
        raise ArgumentTypeError("plot_precision_sweep", "frame", frame, "a precision_sweep frame")
    missing = [c for c in ("function", "family", "variant", "scale", "dtype") if c not in frame]
    if missing:
        raise InvalidParameterError(
            "plot_precision_sweep", "frame", f"a frame without {missing}",
            f"a frame with columns {list(PRECISION_COLUMNS)}",
        )  # fmt: skip
    if metric not in ("ulp_error", "rel_error", "abs_error"):
        raise InvalidParameterError(
            "plot_precision_sweep", "metric", metric, "'ulp_error', 'rel_error' or 'abs_error'"
        )
    dtypes = list(dict.fromkeys(frame["dtype"]))
    if dtype is None:
        dtype = "float64" if "float64" in dtypes else (dtypes[0] if dtypes else "float64")
    if dtype not in dtypes:
        raise InvalidParameterError("plot_precision_sweep", "dtype", dtype, f"one of {dtypes}")
    data = frame[(frame["dtype"] == dtype) & frame.get("input_in_range", True)]
    names = list(dict.fromkeys(data["function"]))
    if functions is not None:
        wanted = [functions] if isinstance(functions, str) else list(functions)
        for name in wanted:
            if name not in names:
                raise InvalidParameterError(
                    "plot_precision_sweep", "functions", name, f"one of {names}"
                )
        names = wanted
    ax = _axes(ax, "plot_precision_sweep")
    values = data[metric].to_numpy(dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    # Errors below the floor (a hundredth of an ulp, or its relative equivalent) are drawn
    # on it: they are all "exact" for the purpose of the picture.
    floor = {"ulp_error": 1e-2, "rel_error": 1e-19}.get(metric)
    if floor is None:
        floor = 10.0 ** (math.floor(math.log10(finite.min())) - 1) if finite.size else 1e-3
    ceiling = 10.0 ** (math.ceil(math.log10(max(finite.max(), floor))) + 1) if finite.size else 1e3
    families = list(dict.fromkeys(data["family"]))
    for name in names:
        rows = data[data["function"] == name].sort_values("scale")
        family = rows["family"].iloc[0]
        naive = rows["variant"].iloc[0] == "naive"
        color = _cycle_color(families.index(family))
        err = rows[metric].to_numpy(dtype=float)
        xs = rows["scale"].to_numpy(dtype=float)
        bad = ~np.isfinite(err)
        shown = np.where(bad, np.nan, np.maximum(err, floor))
        ax.plot(
            xs, shown, color=color, ls="--" if naive else "-", marker="s" if naive else "o",
            ms=3, label=name,
        )  # fmt: skip
        if bad.any():
            ax.scatter(xs[bad], np.full(bad.sum(), ceiling), color=color, marker="x", s=30)
    scales = data["scale"].to_numpy(dtype=float)
    if scales.size:  # fixed limits first: autoscaling's 5% log margin past 1e300 overflows
        ax.set_xlim(scales.min() / 3, min(scales.max() * 3, 1e308))
    ax.set_ylim(floor / 2, ceiling * 3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if scales.size:  # and fixed ticks: the log locator's decades past 1e308 overflow too
        from matplotlib.ticker import FixedLocator, NullLocator

        lo = math.floor(math.log10(scales.min()))
        hi = math.ceil(math.log10(scales.max()))
        step = max(1, math.ceil((hi - lo) / 8))
        ax.xaxis.set_major_locator(FixedLocator(10.0 ** np.arange(lo, hi + 1, step)))
        ax.xaxis.set_minor_locator(NullLocator())
    ax.axhline(ceiling, color="0.5", lw=0.6, ls=":")
    ax.set_xlabel("scale")
    unit = {"ulp_error": "error (ulp)", "rel_error": "relative error", "abs_error": "abs. error"}
    ax.set_ylabel(f"{unit[metric]} ({dtype}); x = inf/NaN, bottom = exact")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.set_title(f"precision sweep, {dtype}")
    return ax


# --------------------------------------------------------------------------- monitoring


def plot_latency(monitor_or_frame: Any, ax: Any = None) -> Axes:
    """Latency of each tracked run, by label, with the median and the 99th percentile.

    Parameters
    ----------
    monitor_or_frame
        A :class:`~fugue_lab.diagnostics.monitor.PerformanceMonitor` or its
        :meth:`~fugue_lab.diagnostics.monitor.PerformanceMonitor.frame`.
    ax
        The Axes to draw on (default: a new figure).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"run": [0, 1, 2, 3], "label": ["fit", "fit", "predict", "predict"],
    ...                       "latency_us": [10.0, 12.0, 30.0, 35.0]})
    >>> ax = plot_latency(frame)  # or plot_latency(monitor)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['fit', 'predict', 'p50 21 us', 'p99 34.85 us']
    >>> plt.close(ax.figure)
    """
    from fugue_lab.diagnostics.monitor import PerformanceMonitor

    def build(obj: Any) -> Any:
        if not isinstance(obj, PerformanceMonitor):
            raise ArgumentTypeError(
                "plot_latency", "monitor_or_frame", obj, "a PerformanceMonitor or its frame()"
            )
        return obj.frame()

    frame = _frame(monitor_or_frame, "plot_latency", ("run", "label", "latency_us"), build)
    ax = _axes(ax, "plot_latency")
    for i, (label, group) in enumerate(frame.groupby("label", sort=False)):
        ax.plot(
            group["run"], group["latency_us"], ls="none", marker="o", ms=3,
            color=_cycle_color(i), label=str(label),
        )  # fmt: skip
    if len(frame):
        lat = frame["latency_us"].to_numpy(dtype=float)
        p50, p99 = np.percentile(lat, [50, 99])
        ax.axhline(p50, color="k", lw=0.8, ls="--", label=f"p50 {p50:.4g} us")
        ax.axhline(p99, color="C3", lw=0.8, ls=":", label=f"p99 {p99:.4g} us")
        if lat.min() > 0 and lat.max() / lat.min() > 100:
            ax.set_yscale("log")
    ax.set_xlabel("run")
    ax.set_ylabel("latency_us")
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"latency of {len(frame)} runs")
    return ax
