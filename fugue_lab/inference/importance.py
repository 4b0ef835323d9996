"""Likelihood-weighted importance sampling: prior draws weighted by the likelihood.

Each particle is one execution of the model under
:class:`~fugue_lab.runtime.handlers.PriorHandler`: its latent sites are drawn
from the prior (the proposal), so its importance weight is
``log_likelihood + log_factors``.  The mean of the weights estimates the
evidence ``p(data)``; the self-normalised weights estimate posterior
expectations.

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Normal, observe, sample
>>> def model():
...     mu = sample("mu", Normal(0.0, 1.0))
...     observe("y", Normal(mu, 1.0), 1.0)
>>> r = importance_sampling(model, 20_000, rng=np.random.default_rng(0))
>>> exact = -0.5 * np.log(2 * np.pi * 2.0) - 0.25       # y ~ N(0, sqrt(2))
>>> bool(abs(r.log_evidence - exact) < 0.02), abs(r.mean("mu") - 0.5) < 0.03
(True, True)
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fugue_lab.core.validation import check_count, check_rng
from fugue_lab.errors import FugueLabWarning, InvalidParameterError
from fugue_lab.inference.results import ImportanceResult, stack_values
from fugue_lab.runtime.handlers import PriorHandler, run

__all__ = ["importance_sampling"]




def importance_sampling(
    model: Callable[..., Any],
    n: int,
    *,
    rng: np.random.Generator,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    keep_traces: bool = False,
    batched: bool = False,
    chunk_size: int | None = None,
    pool: Any = None,
    dtype: Any = None,
) -> ImportanceResult:
    """Run ``n`` prior executions of ``model`` and weight each by its likelihood.

    Parameters
    ----------
    model
        The model function.
    n
        The number of particles, >= 1.
    rng
        The source of randomness.
    args, kwargs
        Passed to the model.
    keep_traces
        Keep every particle's :class:`~fugue_lab.runtime.trace.Trace` in
        ``result.traces`` (memory grows with ``n``); not with ``batched``.
    batched
        Run ``chunk_size`` particles per model execution with the batched
        handler (:func:`fugue_lab.inference.vectorized.batched_importance`); the
        model must run batched (NumPy arithmetic, no branching on sampled values).
    chunk_size, pool
        Particles per batched execution and a
        :class:`~fugue_lab.runtime.pool.TracePool` whose buffers the chunks
        reuse (only with ``batched=True``).
    dtype
        ``np.float32`` runs the batched executions in single precision (only with
        ``batched=True``; the default is ``np.float64``).

    Returns
    -------
    ImportanceResult
        Log weights, ``log_evidence``, ``ess``, per-address values, ``mean(address)``.

    Raises
    ------
    InvalidParameterError
        If ``n < 1``, or ``chunk_size``, ``pool``, ``dtype`` are given without ``batched=True``,
        or ``keep_traces`` with it.
    UnbatchableModelError
        With ``batched=True``, if the model cannot run batched.
    DegenerateWeightsError
        If every particle has weight -inf (or NaN), or any has +inf.

    Warns
    -----
    FugueLabWarning
        If some log weights are NaN (they are counted in ``n_nan`` and weigh 0).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Bernoulli, Beta, observe, sample
    >>> def coin():
    ...     p = sample("p", Beta(2.0, 2.0))
    ...     observe("flip", Bernoulli(p), True)
    >>> r = importance_sampling(coin, 5000, rng=np.random.default_rng(1))
    >>> r.values["p"].shape, abs(r.mean("p") - 0.6) < 0.02   # Beta(3, 2) has mean 0.6
    ((5000,), True)
    """
    n = check_count("importance_sampling", "n", n)
    check_rng("importance_sampling", rng)
    if not callable(model):
        raise TypeError(f"importance_sampling: model must be callable, got {type(model).__name__}")
    args = tuple(args)
    kwargs = dict(kwargs or {})
    if batched:
        if keep_traces:
            raise InvalidParameterError(
                "importance_sampling", "keep_traces", keep_traces,
                "False with batched=True (a batched run has no per-particle traces)",
            )
        from fugue_lab.inference.vectorized import batched_importance

        return batched_importance(
            model, n, rng=rng, args=args, kwargs=kwargs, chunk_size=chunk_size, pool=pool,
            dtype=np.float64 if dtype is None else dtype,
        )
    for name, value in (("chunk_size", chunk_size), ("pool", pool), ("dtype", dtype)):
        if value is not None:
            raise InvalidParameterError(
                "importance_sampling", name, value, "None unless batched=True"
            )
    start = time.perf_counter()
    handler = PriorHandler(rng)
    log_weights = np.empty(n)
    rows: list[dict[str, Any]] = []
    traces: list[Any] | None = [] if keep_traces else None
    for i in range(n):
        _, trace = run(handler, model, *args, **kwargs)
        log_weights[i] = trace.log_likelihood + trace.log_factors
        rows.append({a: c[1] for a, c in trace.choices.items()})
        if traces is not None:
            traces.append(trace)
    values, present = stack_values(rows)
    n_nan = int(np.isnan(log_weights).sum())
    if n_nan:
        warnings.warn(
            f"importance_sampling: {n_nan} of {n} particles have a NaN log weight (the model "
            "produced a NaN log-density); they are given weight 0 and counted in n_nan",
            FugueLabWarning,
            stacklevel=2,
        )
    return ImportanceResult(
        log_weights, values, present, traces, elapsed_s=time.perf_counter() - start
    )

