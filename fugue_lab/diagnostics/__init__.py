"""Frames, plots, monitoring and precision sweeps (needs the ``lab`` extra).

Three layers, as in ArviZ: NumPy kernels below (:mod:`fugue_lab.inference.mcmc_diagnostics`),
functions that return tidy :class:`pandas.DataFrame` objects of raw floats
(:func:`pool_frame`, :func:`trace_frame`, :func:`summary`, :func:`precision_sweep`,
:meth:`PerformanceMonitor.frame`, :func:`to_frame`), and plots that take a frame
or an object, an optional ``ax``, and return the Axes (``plot_*``). The guide's
topics (:mod:`fugue_lab.diagnostics.topics`) run on these, for ``fugue-lab tour``
and the HTML report (:func:`write_report`).

pandas, matplotlib and arviz are imported when first needed, so importing this
package is cheap; a missing extra fails at the call with a message naming it.

Examples
--------
>>> import numpy as np
>>> from fugue_lab.diagnostics import summary
>>> from fugue_lab.inference.results import MCMCResult
>>> result = MCMCResult({"mu": np.random.default_rng(1).normal(size=(4, 250))}, {})
>>> row = summary(result).loc["mu"]
>>> bool(abs(row["mean"]) < 4 * row["mcse_mean"]), bool(row["r_hat"] < 1.01)
(True, True)
"""

from fugue_lab.diagnostics._deps import ArgumentTypeError
from fugue_lab.diagnostics.frames import pool_frame, trace_frame, trace_size_bytes
from fugue_lab.diagnostics.interop import (
    pointwise_log_likelihood,
    to_frame,
    to_inference_data,
)
from fugue_lab.diagnostics.monitor import PerformanceMonitor, RunRecord
from fugue_lab.diagnostics.plots import (
    plot_latency,
    plot_pool,
    plot_precision_sweep,
    plot_rank,
    plot_trace,
    plot_trace_characteristics,
    plot_weights,
)
from fugue_lab.diagnostics.pooling import PoolTrial, pool_trial, suggest_pool_size
from fugue_lab.diagnostics.precision import available_functions, precision_sweep
from fugue_lab.diagnostics.report import write_report
from fugue_lab.diagnostics.summary import (
    smc_steps_frame,
    summary,
    weighted_summary_stats,
    weights_summary,
)

__all__ = [
    "ArgumentTypeError",
    "PerformanceMonitor",
    "PoolTrial",
    "RunRecord",
    "available_functions",
    "plot_latency",
    "plot_pool",
    "plot_precision_sweep",
    "plot_rank",
    "plot_trace",
    "plot_trace_characteristics",
    "plot_weights",
    "pointwise_log_likelihood",
    "pool_frame",
    "pool_trial",
    "precision_sweep",
    "smc_steps_frame",
    "suggest_pool_size",
    "summary",
    "to_frame",
    "to_inference_data",
    "trace_frame",
    "trace_size_bytes",
    "weighted_summary_stats",
    "weights_summary",
    "write_report",
]
