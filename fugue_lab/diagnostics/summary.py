"""Posterior summaries of inference results, with ArviZ's column names.

:func:`summary` gives one row per scalar parameter (an array-valued site
``v`` of shape ``(2,)`` gives rows ``v[0]`` and ``v[1]``, as ArviZ names them)
and the columns of ``arviz.summary``: ``mean``, ``sd``, the interval bounds
(``hdi_3%``/``hdi_97%`` for ``prob=0.94``, or ``eti_3%``/``eti_97%``),
``mcse_mean``, ``mcse_sd``, ``ess_bulk``, ``ess_tail``, ``r_hat``. Values are
raw floats: round only for display.

* MCMC results (and prior batches, read as one chain): the kernels of
  :mod:`fugue_lab.inference.mcmc_diagnostics`, which agree with
  ``arviz.summary(to_inference_data(result))`` to 1e-8.
* Weighted particles (importance sampling, SMC): the self-normalised
  estimates. ``mean`` and ``sd`` are weighted (``sd`` is the plug-in
  ``sqrt(sum w (x - mean)^2)``, as ``result.sd``); the HDI is the narrowest
  interval of sorted particles holding weight >= ``prob``; the ETI bounds are
  weighted inverse-CDF quantiles; ``mcse_mean`` is the delta-method standard
  error ``sqrt(sum w_i^2 (x_i - mean)^2)`` and ``mcse_sd`` its analogue for the
  variance divided by ``2 sd``; ``ess_bulk`` and ``ess_tail`` are both Kish's
  ``1 / sum w^2`` (particles have no chain structure to tell them apart);
  ``r_hat`` is NaN. Particles where an address is absent are left out and the
  rest re-normalised.

Examples
--------
>>> import numpy as np
>>> from fugue_lab.inference.results import MCMCResult
>>> rng = np.random.default_rng(0)
>>> result = MCMCResult({"mu": rng.normal(size=(4, 500))}, {})
>>> summary(result).columns.tolist()
['mean', 'sd', 'hdi_3%', 'hdi_97%', 'mcse_mean', 'mcse_sd', 'ess_bulk', 'ess_tail', 'r_hat']
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fugue_lab.diagnostics._deps import ArgumentTypeError, pandas
from fugue_lab.errors import InvalidParameterError
from fugue_lab.inference.mcmc_diagnostics import summary_stats
from fugue_lab.inference.results import ImportanceResult, MCMCResult, SMCResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "element_names",
    "interval_columns",
    "smc_steps_frame",
    "summary",
    "weighted_summary_stats",
    "weights_summary",
]

_DIAGNOSTICS = ("mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat")


def interval_columns(prob: float = 0.94, interval: str = "hdi") -> tuple[str, str]:
    """ArviZ's names of the interval bound columns, e.g. ``("hdi_3%", "hdi_97%")``.

    Examples
    --------
    >>> interval_columns(0.9, "eti")
    ('eti_5%', 'eti_95%')
    """
    alpha = 1.0 - prob
    return (f"{interval}_{100 * alpha / 2:g}%", f"{interval}_{100 * (1 - alpha / 2):g}%")


def element_names(name: str, shape: Sequence[int]) -> Iterator[tuple[str, tuple[int, ...]]]:
    """ArviZ-style row names of a site's elements: ``x``, or ``v[0]``, ``m[0, 1]``.

    Examples
    --------
    >>> [n for n, _ in element_names("v", (2,))]
    ['v[0]', 'v[1]']
    """
    if not shape:
        yield name, ()
        return
    for index in np.ndindex(*shape):
        yield f"{name}[{', '.join(str(i) for i in index)}]", index


def _check_options(owner: str, prob: float, interval: str) -> float:
    if interval not in ("hdi", "eti"):
        raise InvalidParameterError(owner, "interval", interval, "'hdi' or 'eti'")
    try:
        value = float(prob)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 < value <= 1.0:
        raise InvalidParameterError(owner, "prob", prob, "a number in (0, 1]")
    return value


def _weighted_interval(x: np.ndarray, w: np.ndarray, prob: float, interval: str):
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cdf = np.cumsum(ws)
    cdf /= cdf[-1]
    if interval == "eti":
        lo_q, hi_q = (1.0 - prob) / 2.0, (1.0 + prob) / 2.0
        idx = np.searchsorted(cdf, [lo_q, hi_q], side="left").clip(0, xs.size - 1)
        return float(xs[idx[0]]), float(xs[idx[1]])
    before = np.concatenate(([0.0], cdf[:-1]))
    # For each start i, the first end j with mass(i..j) >= prob (less a rounding allowance).
    ends = np.searchsorted(cdf, before + prob - 1e-12, side="left")
    ok = ends < xs.size
    if not ok.any():
        return float(xs[0]), float(xs[-1])
    starts = np.flatnonzero(ok)
    widths = xs[ends[ok]] - xs[starts]
    best = int(np.argmin(widths))
    return float(xs[starts[best]]), float(xs[ends[ok][best]])


def weighted_summary_stats(
    x: np.ndarray, weights: np.ndarray, prob: float = 0.94, interval: str = "hdi"
) -> dict[str, float]:
    """Summary statistics of one scalar quantity from weighted particles.

    Parameters
    ----------
    x
        One value per particle.
    weights
        Non-negative weights of the particles (normalised here).
    prob, interval
        As :func:`summary`.

    Returns
    -------
    dict of str to float
        ``mean``, ``sd``, ``lower``, ``upper``, ``mcse_mean``, ``mcse_sd``,
        ``ess_bulk``, ``ess_tail``, ``r_hat`` (see the module docstring); all NaN
        when no particle has positive weight or a value is not finite.

    Examples
    --------
    >>> s = weighted_summary_stats(np.array([0.0, 1.0]), np.array([1.0, 3.0]))
    >>> s["mean"], s["ess_bulk"]
    (0.75, 1.6)
    """
    value = _check_options("weighted_summary_stats", prob, interval)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    keys = ("mean", "sd", "lower", "upper", *_DIAGNOSTICS)
    out = dict.fromkeys(keys, math.nan)
    total = w.sum()
    if x.size == 0 or not total > 0 or not np.isfinite(x[w > 0]).all():
        return out
    keep = w > 0
    x, w = x[keep], w[keep] / total
    mean = float(np.dot(w, x))
    dev = x - mean
    var = float(np.dot(w, dev**2))
    sd = math.sqrt(var)
    out["mean"], out["sd"] = mean, sd
    out["lower"], out["upper"] = _weighted_interval(x, w, value, interval)
    out["mcse_mean"] = float(math.sqrt(np.dot(w**2, dev**2)))
    out["mcse_sd"] = (
        float(math.sqrt(np.dot(w**2, (dev**2 - var) ** 2)) / (2.0 * sd)) if sd > 0 else math.nan
    )
    ess = float(1.0 / np.dot(w, w))
    out["ess_bulk"] = out["ess_tail"] = ess
    return out


def _mcmc_rows(values: dict[str, np.ndarray], prob: float, interval: str):
    for address, draws in values.items():
        a = np.asarray(draws, dtype=np.float64)
        if a.ndim < 2:
            a = a.reshape(1, -1)
        for name, index in element_names(address, a.shape[2:]):
            stats = summary_stats(a[(slice(None), slice(None), *index)], prob)
            yield name, {
                "mean": stats["mean"],
                "sd": stats["sd"],
                "lower": stats[f"{interval}_lower"],
                "upper": stats[f"{interval}_upper"],
                **{k: stats[k] for k in _DIAGNOSTICS},
            }


def _weighted_rows(result: Any, prob: float, interval: str):
    w_all = np.asarray(result.weights, dtype=np.float64)
    for address, vals in result.values.items():
        a = np.asarray(vals, dtype=np.float64)
        mask = result.present(address)
        for name, index in element_names(address, a.shape[1:]):
            column = a[(slice(None), *index)]
            yield name, weighted_summary_stats(column[mask], w_all[mask], prob, interval)


def _batch_values(result: Any) -> dict[str, np.ndarray]:
    return {a: np.asarray(v, dtype=np.float64)[None, ...] for a, v in result.values.items()}


def _is_batch(result: object) -> bool:
    return hasattr(result, "log_weight") and hasattr(result, "chunk_seconds")


def summary(result: Any, prob: float = 0.94, interval: str = "hdi") -> pd.DataFrame:
    """One row per scalar parameter with ArviZ's summary columns.

    Parameters
    ----------
    result
        An :class:`~fugue_lab.inference.results.MCMCResult`,
        :class:`~fugue_lab.inference.results.ImportanceResult`,
        :class:`~fugue_lab.inference.results.SMCResult` or a
        :class:`~fugue_lab.inference.batch.BatchResult` (prior draws, read as
        one chain).
    prob
        The interval's probability mass, in (0, 1] (ArviZ's default 0.94).
    interval
        ``"hdi"`` (ArviZ's default) or ``"eti"`` (equal-tailed).

    Returns
    -------
    pandas.DataFrame
        Indexed by parameter name; columns ``mean``, ``sd``, the two interval
        bounds named as ArviZ names them (:func:`interval_columns`),
        ``mcse_mean``, ``mcse_sd``, ``ess_bulk``, ``ess_tail``, ``r_hat``.
        See the module docstring for how weighted results are summarised.

    Raises
    ------
    ArgumentTypeError
        If ``result`` is not an inference result (a TypeError).
    InvalidParameterError
        If ``prob`` is not in (0, 1] or ``interval`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab.inference.results import ImportanceResult
    >>> r = ImportanceResult(np.log([1.0, 3.0]), {"x": np.array([0.0, 4.0])})
    >>> summary(r, interval="eti").loc["x", ["mean", "eti_3%", "eti_97%", "ess_bulk"]].tolist()
    [3.0, 0.0, 4.0, 1.6]
    """
    pd = pandas("summary")
    value = _check_options("summary", prob, interval)
    if isinstance(result, MCMCResult):
        rows = list(_mcmc_rows(result.values, value, interval))
    elif isinstance(result, (ImportanceResult, SMCResult)):
        rows = list(_weighted_rows(result, value, interval))
    elif _is_batch(result):
        rows = list(_mcmc_rows(_batch_values(result), value, interval))
    else:
        raise ArgumentTypeError(
            "summary",
            "result",
            result,
            "an MCMCResult, ImportanceResult, SMCResult or BatchResult",
        )
    lower, upper = interval_columns(value, interval)
    columns = ["mean", "sd", lower, upper, *_DIAGNOSTICS]
    data = [
        [r["mean"], r["sd"], r["lower"], r["upper"], *(r[k] for k in _DIAGNOSTICS)]
        for _, r in rows
    ]
    index = pd.Index([name for name, _ in rows], dtype=object)
    return pd.DataFrame(data, index=index, columns=columns, dtype=np.float64)


def weights_summary(result: Any) -> pd.DataFrame:
    """One row describing a weighted particle set: evidence, ESS, non-finite weights.

    Parameters
    ----------
    result
        An ImportanceResult or SMCResult.

    Returns
    -------
    pandas.DataFrame
        One row: ``n_particles``, ``log_evidence``, ``ess``, ``ess_fraction``
        (ESS / particles), ``max_weight`` (the largest normalised weight),
        ``n_nonfinite`` (particles with a -inf or NaN log weight),
        ``invalid_fraction`` and ``elapsed_s``.

    Raises
    ------
    ArgumentTypeError
        If ``result`` holds no weighted particles.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab.inference.results import ImportanceResult
    >>> r = ImportanceResult(np.array([0.0, 0.0, -np.inf]), {"x": np.zeros(3)})
    >>> weights_summary(r)[["n_particles", "ess", "n_nonfinite"]]
       n_particles  ess  n_nonfinite
    0            3  2.0            1
    """
    pd = pandas("weights_summary")
    if not isinstance(result, (ImportanceResult, SMCResult)):
        raise ArgumentTypeError(
            "weights_summary", "result", result, "an ImportanceResult or SMCResult"
        )
    n = result.n_particles
    return pd.DataFrame(
        [
            {
                "n_particles": n,
                "log_evidence": float(result.log_evidence),
                "ess": result.ess,
                "ess_fraction": result.ess / n,
                "max_weight": float(np.max(result.weights)),
                "n_nonfinite": int(result.n_nonfinite),
                "invalid_fraction": result.n_nonfinite / n,
                "elapsed_s": float(getattr(result, "elapsed_s", math.nan)),
            }
        ]
    )


def smc_steps_frame(result: SMCResult) -> pd.DataFrame:
    """One row per SMC tempering step: temperature, ESS, resampling, acceptance, evidence.

    Returns
    -------
    pandas.DataFrame
        Columns ``step``, ``temperature`` (after the step), ``ess``,
        ``ess_fraction``, ``resampled``, ``acceptance_rate``,
        ``log_evidence_increment`` and ``log_evidence_cumulative``.

    Raises
    ------
    ArgumentTypeError
        If ``result`` is not an SMCResult.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab.inference.results import SMCResult
    >>> r = SMCResult(np.zeros(2), {"x": np.array([1.0, 3.0])}, log_evidence=-1.0,
    ...               temperatures=np.array([0.0, 1.0]), ess_history=np.array([2.0]),
    ...               resampled=np.array([False]), acceptance_rates=np.array([0.5]),
    ...               log_evidence_increments=np.array([-1.0]))
    >>> smc_steps_frame(r)[["step", "temperature", "ess", "log_evidence_cumulative"]]
       step  temperature  ess  log_evidence_cumulative
    0     1          1.0  2.0                     -1.0
    """
    pd = pandas("smc_steps_frame")
    if not isinstance(result, SMCResult):
        raise ArgumentTypeError("smc_steps_frame", "result", result, "an SMCResult")
    k = result.n_steps
    increments = np.asarray(result.log_evidence_increments, dtype=np.float64)
    return pd.DataFrame(
        {
            "step": np.arange(1, k + 1),
            "temperature": result.temperatures[1 : k + 1],
            "ess": result.ess_history,
            "ess_fraction": result.ess_history / result.n_particles,
            "resampled": result.resampled,
            "acceptance_rate": result.acceptance_rates,
            "log_evidence_increment": increments,
            "log_evidence_cumulative": np.cumsum(increments),
        }
    )
