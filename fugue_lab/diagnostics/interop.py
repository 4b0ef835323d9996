"""Interop with the tools users already have: tidy pandas frames and ArviZ InferenceData.

:func:`to_frame` gives one row per (chain, draw) (or per particle) and one
column per scalar parameter; :func:`to_inference_data` gives an
:class:`arviz.InferenceData`, so ``arviz.summary``, ``arviz.plot_*``, NetCDF
(``idata.to_netcdf``) and Parquet (``to_frame(r).to_parquet``) all work on
fugue_lab results. Save through these, never with pickle.

The inference result classes may expose both as thin methods that import this
module lazily (``result.to_frame()``), so the inference layer never imports
pandas or arviz itself.

Examples
--------
>>> import numpy as np
>>> from fugue_lab.inference.results import MCMCResult
>>> r = MCMCResult({"mu": np.arange(6.0).reshape(2, 3)}, {})
>>> to_frame(r)
   chain  draw   mu
0      0     0  0.0
1      0     1  1.0
2      0     2  2.0
3      1     0  3.0
4      1     1  4.0
5      1     2  5.0
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fugue_lab.diagnostics._deps import ArgumentTypeError, arviz, pandas
from fugue_lab.diagnostics.summary import element_names
from fugue_lab.inference.results import ImportanceResult, MCMCResult, SMCResult

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

__all__ = ["pointwise_log_likelihood", "to_frame", "to_inference_data"]

_EXPECTED = "an MCMCResult, ImportanceResult, SMCResult or BatchResult"
#: MCMCResult.sample_stats keys -> ArviZ's sample_stats names.
_STAT_NAMES = {"lp": "lp", "accepted": "accepted", "acceptance_prob": "acceptance_rate"}


def _is_batch(result: object) -> bool:
    return hasattr(result, "log_weight") and hasattr(result, "chunk_seconds")


def _kind(result: Any, owner: str) -> str:
    if isinstance(result, MCMCResult):
        return "mcmc"
    if isinstance(result, (ImportanceResult, SMCResult)):
        return "weighted"
    if _is_batch(result):
        return "batch"
    raise ArgumentTypeError(owner, "result", result, _EXPECTED)


def _chain_draw_values(result: Any, kind: str) -> dict[str, np.ndarray]:
    """Every address as an array with leading ``(chain, draw)`` axes."""
    if kind == "mcmc":
        return {a: np.asarray(v) for a, v in result.values.items()}
    return {a: np.asarray(v)[None, ...] for a, v in result.values.items()}


def to_frame(result: Any, *, sample_stats: bool = True) -> pd.DataFrame:
    """Tidy draws: one row per (chain, draw), one column per scalar parameter.

    Parameters
    ----------
    result
        An MCMCResult, ImportanceResult, SMCResult or BatchResult.
    sample_stats
        Also include the per-draw statistics: ``lp``, ``accepted``,
        ``acceptance_prob`` (and ``site``) for MCMC; ``log_weight`` and the
        normalised ``weight`` for weighted particles; ``log_prior``,
        ``log_likelihood``, ``log_factors``, ``log_weight`` for a batch.

    Returns
    -------
    pandas.DataFrame
        Columns ``chain`` and ``draw`` (for particles and batches: chain 0,
        draw = particle or run index), then the statistics, then one column
        per scalar element (``v[0]`` for element 0 of an array site, as ArviZ
        names it). Where an address is absent from a draw the value is NaN.

    Raises
    ------
    ArgumentTypeError
        If ``result`` is not one of the result types.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab.inference.results import ImportanceResult
    >>> r = ImportanceResult(np.log([1.0, 3.0]), {"x": np.array([0.0, 4.0])})
    >>> to_frame(r)
       chain  draw  log_weight  weight    x
    0      0     0    0.000000    0.25  0.0
    1      0     1    1.098612    0.75  4.0
    """
    pd = pandas("to_frame")
    kind = _kind(result, "to_frame")
    values = _chain_draw_values(result, kind)
    if kind == "mcmc":
        n_chains, n_draws = result.n_chains, result.n_draws
    else:
        n_chains, n_draws = 1, len(result.log_weights if kind == "weighted" else result.log_weight)
    columns: dict[str, Any] = {
        "chain": np.repeat(np.arange(n_chains), n_draws),
        "draw": np.tile(np.arange(n_draws), n_chains),
    }
    if sample_stats:
        if kind == "mcmc":
            for key, stat in result.sample_stats.items():
                stat = np.asarray(stat)
                if stat.shape[:2] == (n_chains, n_draws) and stat.ndim == 2:
                    columns[key] = stat.reshape(-1)
        elif kind == "weighted":
            columns["log_weight"] = np.asarray(result.log_weights, dtype=np.float64)
            columns["weight"] = np.asarray(result.weights, dtype=np.float64)
        else:
            for key in ("log_prior", "log_likelihood", "log_factors", "log_weight"):
                columns[key] = np.asarray(getattr(result, key), dtype=np.float64)
    for address, a in values.items():
        for name, index in element_names(address, a.shape[2:]):
            columns[name] = a[(slice(None), slice(None), *index)].reshape(-1)
    return pd.DataFrame(columns)


def pointwise_log_likelihood(
    values: Mapping[str, np.ndarray],
    model: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Each observed site's log-likelihood at every draw, by rescoring the model.

    Parameters
    ----------
    values
        Address -> draws with leading ``(chain, draw)`` axes (NaN where absent).
    model, args, kwargs
        The model the draws came from, and its arguments.

    Returns
    -------
    dict of str to numpy.ndarray
        Observed address -> ``(chain, draw)`` array of log-likelihoods (NaN
        where a draw did not reach that observation).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal, observe, sample
    >>> def model():
    ...     mu = sample("mu", Normal(0.0, 1.0))
    ...     observe("y", Normal(mu, 1.0), 0.0)
    >>> ll = pointwise_log_likelihood({"mu": np.zeros((1, 2))}, model)
    >>> np.round(ll["y"], 4).tolist()
    [[-0.9189, -0.9189]]
    """
    from fugue_lab.runtime.handlers import ScoreHandler, run

    kwargs = dict(kwargs or {})
    arrays = {a: np.asarray(v) for a, v in values.items()}
    shape = next(iter(arrays.values())).shape[:2] if arrays else (1, 1)
    out: dict[str, np.ndarray] = {}
    for c, d in np.ndindex(*shape):
        point = {}
        for address, a in arrays.items():
            v = a[c, d]
            if np.ndim(v) == 0:
                if isinstance(v, np.floating) and np.isnan(v):
                    continue  # absent from this draw
                v = v.item()
            point[address] = v
        _, trace = run(ScoreHandler(point), model, *args, **kwargs)
        for address, log_lik in trace.observations.items():
            if address not in out:
                out[address] = np.full(shape, np.nan)
            out[address][c, d] = float(np.sum(log_lik))
    return out


def _dataset_dict(values: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays for az.from_dict, and their dims (site axes named ``<address>_dim_k``)."""
    data: dict[str, np.ndarray] = {}
    dims: dict[str, list[str]] = {}
    for address, a in values.items():
        arr = np.asarray(a)
        if arr.dtype.kind == "U":
            arr = arr.astype(object)
        data[address] = arr
        if arr.ndim > 2:
            dims[address] = [f"{address}_dim_{k}" for k in range(arr.ndim - 2)]
    return data, dims


def to_inference_data(
    result: Any,
    *,
    model: Callable[..., Any] | None = None,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> az.InferenceData:
    """An :class:`arviz.InferenceData` with posterior, sample_stats and log_likelihood groups.

    Parameters
    ----------
    result
        An MCMCResult, ImportanceResult, SMCResult or BatchResult.
    model, args, kwargs
        Optional: the model and its arguments. When given, every draw is
        rescored (:func:`pointwise_log_likelihood`) to fill the
        ``log_likelihood`` group, one variable per observed site, which is what
        ``arviz.loo`` and ``arviz.waic`` read. Without them the group is built
        from the kept traces (``keep_traces=True``) when there are any, and is
        left out otherwise. Observations ``y#0, ..., y#{k-1}`` (from
        ``addr("y", i)``) become one variable ``y`` with a ``y_dim_0`` axis, the
        layout ``arviz.loo`` expects.

    Returns
    -------
    arviz.InferenceData
        * MCMC: ``posterior`` (each address with dims ``(chain, draw, ...)``)
          and ``sample_stats`` (``lp``, ``accepted``, ``acceptance_rate`` = the
          per-draw acceptance probability, ``site``).
        * Importance sampling and SMC: ``posterior`` with one chain whose draws
          are the particles, *unweighted*, and ``sample_stats`` with their
          ``log_weight`` and normalised ``weight``. ArviZ ignores weights:
          resample first (or use :func:`~fugue_lab.diagnostics.summary.summary`)
          for weighted summaries.
        * A BatchResult (prior draws): a ``prior`` group (one chain) and
          ``sample_stats_prior`` with the log weights.

        ``attrs`` records ``inference_library="fugue_lab"`` and, for weighted
        results, ``log_evidence``.

    Raises
    ------
    ArgumentTypeError
        If ``result`` is not one of the result types.
    MissingExtraError
        If arviz is not installed (``pip install 'fugue_lab[arviz]'``).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab.inference.results import MCMCResult
    >>> r = MCMCResult({"mu": np.zeros((2, 5))}, {"lp": np.zeros((2, 5))})
    >>> idata = to_inference_data(r)
    >>> idata.posterior["mu"].dims, list(idata.sample_stats.data_vars)
    (('chain', 'draw'), ['lp'])
    """
    az = arviz("to_inference_data")
    kind = _kind(result, "to_inference_data")
    from fugue_lab import __version__

    attrs: dict[str, Any] = {
        "inference_library": "fugue_lab",
        "inference_library_version": __version__,
    }
    values = _chain_draw_values(result, kind)
    data, dims = _dataset_dict(values)
    stats: dict[str, np.ndarray] = {}
    if kind == "mcmc":
        for key, stat in result.sample_stats.items():
            stat = np.asarray(stat)
            if stat.dtype.kind == "U":
                stat = stat.astype(object)
            stats[_STAT_NAMES.get(key, key)] = stat
    elif kind == "weighted":
        stats["log_weight"] = np.asarray(result.log_weights, dtype=np.float64)[None, :]
        stats["weight"] = np.asarray(result.weights, dtype=np.float64)[None, :]
        attrs["log_evidence"] = float(result.log_evidence)
    else:
        for key in ("log_prior", "log_likelihood", "log_factors", "log_weight"):
            stats[key] = np.asarray(getattr(result, key), dtype=np.float64)[None, :]

    log_lik: dict[str, np.ndarray] = {}
    if model is not None:
        log_lik = pointwise_log_likelihood(values, model, args, kwargs)
    elif getattr(result, "traces", None):
        log_lik = _log_lik_from_traces(result.traces)

    if kind == "batch":
        idata = az.from_dict(prior=data, sample_stats_prior=stats or None, dims=dims)
    else:
        groups: dict[str, Any] = {"posterior": data, "sample_stats": stats or None}
        if log_lik:
            log_lik, ll_dims = _stack_indexed(log_lik)
            groups["log_likelihood"] = log_lik
            dims = {**dims, **ll_dims}
        idata = az.from_dict(**groups, dims=dims)
    for group in idata.groups():
        idata[group].attrs.update(attrs)
    return idata


_INDEXED = re.compile(r"^(?P<base>.*[^\\])#(?P<index>\d+)$")


def _stack_indexed(
    arrays: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Join ``y#0 .. y#{k-1}`` into one variable ``y`` with a ``y_dim_0`` axis."""
    groups: dict[str, dict[int, str]] = {}
    for address in arrays:
        match = _INDEXED.match(address)
        if match:
            groups.setdefault(match["base"], {})[int(match["index"])] = address
    out: dict[str, np.ndarray] = {}
    dims: dict[str, list[str]] = {}
    done: set[str] = set()
    for address, a in arrays.items():
        if address in done:
            continue
        match = _INDEXED.match(address)
        members = groups.get(match["base"]) if match else None
        if (
            members is not None
            and sorted(members) == list(range(len(members)))
            and match["base"] not in arrays
            and all(arrays[m].shape == a.shape for m in members.values())
        ):
            base = match["base"]
            out[base] = np.stack([arrays[members[i]] for i in range(len(members))], axis=-1)
            dims[base] = [f"{base}_dim_0"]
            done.update(members.values())
        else:
            out[address] = a
    return out, dims


def _log_lik_from_traces(traces: Sequence[Any]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    n = len(traces)
    for i, trace in enumerate(traces):
        for address, log_lik in trace.observations.items():
            if address not in out:
                out[address] = np.full((1, n), np.nan)
            out[address][0, i] = float(np.sum(log_lik))
    return out
