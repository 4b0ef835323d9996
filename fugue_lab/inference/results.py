"""Result containers of the inference algorithms: plain holders of NumPy arrays.

* :class:`ImportanceResult` (from :func:`~fugue_lab.inference.importance.importance_sampling`)
  and :class:`SMCResult` (from :func:`~fugue_lab.inference.smc.smc`) hold weighted
  particles: one value per particle and address, and log weights.
* :class:`MCMCResult` (from :func:`~fugue_lab.inference.mh.mh_chain` and
  :func:`~fugue_lab.inference.mh.mh_chains`) holds draws with axes ``(chain, draw)``
  and the per-draw statistics a diagnostic needs.

Values per address
------------------
``values[address]`` is an array with the particle (or ``(chain, draw)``) axes
first and the site's own shape after them.  In a model with stochastic
structure an address may be missing from some particles or draws: there the
array holds NaN (so it is a float array, even for an int or bool site) and
``present(address)`` tells which entries are real.  Every statistic
(``mean``, ``var``) is taken over the entries where the address exists, so it
is the posterior expectation *given that the site exists*.

Examples
--------
>>> import numpy as np
>>> r = ImportanceResult(np.log([1.0, 3.0]), {"x": np.array([0.0, 4.0])})
>>> r.mean("x")
3.0
>>> round(r.ess, 3)
1.6
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from fugue_lab.core.numerical import log_mean_exp, normalize_log_probs
from fugue_lab.errors import DegenerateWeightsError, MissingAddressError

__all__ = ["ImportanceResult", "MCMCResult", "SMCResult"]

#: Marks an address that does not exist in one particle or draw.
_ABSENT = object()


def stack_values(
    rows: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Stack per-particle ``{address: value}`` dicts into one array per address.

    Returns ``(values, present)``: ``present`` holds a boolean mask only for the
    addresses that are missing somewhere (there ``values`` has NaN).
    """
    order: dict[str, None] = {}
    for row in rows:
        for address in row:
            if address not in order:
                order[address] = None
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for address in order:
        column = [row.get(address, _ABSENT) for row in rows]
        values[address], mask = column_array(column)
        if mask is not None:
            present[address] = mask
    return values, present


def column_array(column: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """One address's values (``_ABSENT`` where missing) as an array and a presence mask."""
    mask = np.fromiter((v is not _ABSENT for v in column), dtype=bool, count=len(column))
    if mask.all():
        return np.asarray(column), None
    filled = [v for v in column if v is not _ABSENT]
    sample = np.asarray(filled[0], dtype=np.float64)
    out = np.full((len(column), *sample.shape), np.nan)
    out[mask] = np.asarray(filled, dtype=np.float64)
    return out, mask


def _missing(address: str, values: Mapping[str, Any]) -> MissingAddressError:
    return MissingAddressError(address, values)


class _Interop:
    """``to_frame()`` and ``to_inference_data()`` (the diagnostics layer, imported on call).

    The imports stay inside the methods so that the inference layer never loads
    pandas or ArviZ at import time.
    """

    def to_frame(self, **kwargs: Any) -> Any:
        """Tidy draws as a pandas DataFrame (see :func:`fugue_lab.diagnostics.to_frame`)."""
        from fugue_lab.diagnostics.interop import to_frame

        return to_frame(self, **kwargs)

    def to_inference_data(self, **kwargs: Any) -> Any:
        """An ArviZ InferenceData (see :func:`fugue_lab.diagnostics.to_inference_data`)."""
        from fugue_lab.diagnostics.interop import to_inference_data

        return to_inference_data(self, **kwargs)


class _WeightedParticles(_Interop):
    """Shared reading API of weighted particle results (importance sampling, SMC)."""

    log_weights: np.ndarray
    values: dict[str, np.ndarray]
    _present: dict[str, np.ndarray]

    def _init_weights(self, log_weights: ArrayLike) -> None:
        lw = np.array(log_weights, dtype=np.float64).reshape(-1)
        nan = np.isnan(lw)
        self.n_nan = int(nan.sum())
        lw[nan] = -math.inf
        if (lw == math.inf).any():
            raise DegenerateWeightsError(
                f"{type(self).__name__}: {int((lw == math.inf).sum())} log weights are +inf "
                "(an infinite density): the weights cannot be normalised"
            )
        if lw.size == 0 or (lw == -math.inf).all():
            raise DegenerateWeightsError(
                f"{type(self).__name__}: every one of the {lw.size} particles has weight "
                f"-inf or NaN ({self.n_nan} NaN): the model's observations or factors are "
                "impossible under every particle, so there is nothing to normalise"
            )
        self.log_weights = lw
        self.n_neg_inf = int((lw == -math.inf).sum()) - self.n_nan
        self._log_w_norm = normalize_log_probs(lw)
        self._w_norm = np.exp(self._log_w_norm)

    @property
    def n_particles(self) -> int:
        """The number of particles."""
        return int(self.log_weights.size)

    @property
    def n_nonfinite(self) -> int:
        """How many particles have a non-finite log weight (-inf or NaN): they carry no weight."""
        return self.n_neg_inf + self.n_nan

    @property
    def normalized_log_weights(self) -> np.ndarray:
        """The log weights normalised so that their exponentials sum to 1."""
        return self._log_w_norm

    @property
    def weights(self) -> np.ndarray:
        """The normalised weights (sum to 1)."""
        return self._w_norm

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the normalised weights, ``1 / sum(w**2)``."""
        return float(1.0 / np.sum(self._w_norm**2))

    @property
    def addresses(self) -> list[str]:
        """Every address present in at least one particle, in first-seen order."""
        return list(self.values)

    def present(self, address: str) -> np.ndarray:
        """Boolean mask of the particles in which ``address`` exists."""
        if address not in self.values:
            raise _missing(address, self.values)
        mask = self._present.get(address)
        return np.ones(self.n_particles, dtype=bool) if mask is None else mask

    def _moments(self, address: str) -> tuple[np.ndarray, np.ndarray]:
        if address not in self.values:
            raise _missing(address, self.values)
        x = np.asarray(self.values[address], dtype=np.float64)
        w = self._w_norm
        mask = self._present.get(address)
        if mask is not None:
            x, w = x[mask], w[mask]
        total = w.sum()
        if total <= 0.0:
            raise DegenerateWeightsError(
                f"address {address!r} exists only in particles of weight 0: "
                "its posterior mean is undefined"
            )
        w = (w / total).reshape((-1,) + (1,) * (x.ndim - 1))
        return x, w

    def mean(self, address: str) -> Any:
        """The weighted posterior mean of ``address`` (over the particles where it exists)."""
        x, w = self._moments(address)
        m = (w * x).sum(axis=0)
        return float(m) if np.ndim(m) == 0 else m

    def var(self, address: str) -> Any:
        """The weighted posterior variance of ``address`` (the plug-in, biased estimate)."""
        x, w = self._moments(address)
        m = (w * x).sum(axis=0)
        v = (w * (x - m) ** 2).sum(axis=0)
        return float(v) if np.ndim(v) == 0 else v

    def sd(self, address: str) -> Any:
        """The square root of :meth:`var`."""
        v = self.var(address)
        return math.sqrt(v) if isinstance(v, float) else np.sqrt(v)


class ImportanceResult(_WeightedParticles):
    """Weighted particles from importance sampling.

    Parameters
    ----------
    log_weights
        One log weight per particle (NaN is counted in ``n_nan`` and weighs 0).
    values
        Address -> array of per-particle values (see the module docstring).
    present
        Address -> presence mask, for addresses missing from some particles.
    traces
        The particles' traces, kept only when asked for.
    elapsed_s
        Wall-clock seconds the run took.

    Attributes
    ----------
    log_weights : numpy.ndarray
        The log weights; a NaN weight is stored as -inf.
    log_evidence : float
        ``log_mean_exp(log_weights)``: the estimate of the log marginal likelihood.
    n_neg_inf, n_nan : int
        How many particles had a log weight of -inf and of NaN.

    Raises
    ------
    DegenerateWeightsError
        If every log weight is -inf or NaN, or any is +inf.

    Examples
    --------
    >>> import numpy as np
    >>> r = ImportanceResult(np.array([0.0, -np.inf]), {"x": np.array([1.0, 2.0])})
    >>> r.mean("x"), r.n_neg_inf, r.ess
    (1.0, 1, 1.0)
    """

    def __init__(
        self,
        log_weights: ArrayLike,
        values: dict[str, np.ndarray],
        present: dict[str, np.ndarray] | None = None,
        traces: list[Any] | None = None,
        elapsed_s: float = math.nan,
    ) -> None:
        self._init_weights(log_weights)
        self.values = values
        self._present = present or {}
        self.traces = traces
        self.elapsed_s = elapsed_s
        self.log_evidence = float(log_mean_exp(self.log_weights))

    def __repr__(self) -> str:
        return (
            f"ImportanceResult(n_particles={self.n_particles}, "
            f"log_evidence={self.log_evidence:.6g}, ess={self.ess:.4g}, "
            f"n_nonfinite={self.n_nonfinite})"
        )


class SMCResult(_WeightedParticles):
    """Weighted particles from tempered sequential Monte Carlo, with the run's history.

    Attributes
    ----------
    log_weights : numpy.ndarray
        The final log weights (normalised: they log-sum-exp to 0).
    log_evidence : float
        The estimate of the log marginal likelihood: the sum over tempering steps of
        the log of the weighted mean of the incremental weights.
    temperatures : numpy.ndarray
        The schedule, from 0 to 1 (one entry per step plus the initial 0).
    ess_history : numpy.ndarray
        Kish's ESS after each reweighting (one per step).
    resampled : numpy.ndarray
        Whether each step resampled.
    acceptance_rates : numpy.ndarray
        The MH acceptance rate of each step's rejuvenation (NaN if there was none).
    log_evidence_increments : numpy.ndarray
        The per-step terms whose sum is ``log_evidence``.
    n_initial_nonfinite : int
        How many initial particles had a -inf or NaN likelihood.
    elapsed_s : float
        Wall-clock seconds.
    traces : list or None
        The final particles' traces, when asked for.

    Examples
    --------
    >>> import numpy as np
    >>> r = SMCResult(np.zeros(2), {"x": np.array([1.0, 3.0])}, log_evidence=-1.0,
    ...               temperatures=np.array([0.0, 1.0]), ess_history=np.array([2.0]),
    ...               resampled=np.array([False]), acceptance_rates=np.array([0.5]))
    >>> r.mean("x"), r.n_steps
    (2.0, 1)
    """

    def __init__(
        self,
        log_weights: ArrayLike,
        values: dict[str, np.ndarray],
        *,
        log_evidence: float,
        temperatures: np.ndarray,
        ess_history: np.ndarray,
        resampled: np.ndarray,
        acceptance_rates: np.ndarray,
        log_evidence_increments: np.ndarray | None = None,
        present: dict[str, np.ndarray] | None = None,
        n_initial_nonfinite: int = 0,
        traces: list[Any] | None = None,
        elapsed_s: float = math.nan,
    ) -> None:
        self._init_weights(log_weights)
        self.values = values
        self._present = present or {}
        self.log_evidence = float(log_evidence)
        self.temperatures = np.asarray(temperatures, dtype=np.float64)
        self.ess_history = np.asarray(ess_history, dtype=np.float64)
        self.resampled = np.asarray(resampled, dtype=bool)
        self.acceptance_rates = np.asarray(acceptance_rates, dtype=np.float64)
        self.log_evidence_increments = (
            np.asarray(log_evidence_increments, dtype=np.float64)
            if log_evidence_increments is not None
            else np.full(self.n_steps, np.nan)
        )
        self.n_initial_nonfinite = int(n_initial_nonfinite)
        self.traces = traces
        self.elapsed_s = elapsed_s

    @property
    def n_steps(self) -> int:
        """The number of tempering steps."""
        return int(self.ess_history.size)

    def __repr__(self) -> str:
        return (
            f"SMCResult(n_particles={self.n_particles}, n_steps={self.n_steps}, "
            f"log_evidence={self.log_evidence:.6g}, ess={self.ess:.4g})"
        )


class MCMCResult(_Interop):
    """Draws of one or more MCMC chains, with axes ``(chain, draw)``.

    Parameters
    ----------
    values
        Address -> array of shape ``(chains, draws, *site_shape)``.
    sample_stats
        Per-draw statistics, each of shape ``(chains, draws)``: ``"lp"`` (the log
        joint density of the state after the draw), ``"accepted"``,
        ``"acceptance_prob"`` and ``"site"`` (the address updated, a str array).
    acceptance_rates
        Address -> per-chain acceptance rate of the moves at that site, shape
        ``(chains,)`` (NaN where a chain never proposed there).
    step_sizes
        Address -> per-chain random-walk scale at the end of warm-up, shape
        ``(chains,)`` (NaN for sites without an adaptive proposal).
    warmup_time_s, sampling_time_s
        Per-chain wall-clock seconds, shape ``(chains,)``.
    present
        Address -> ``(chains, draws)`` presence mask, for addresses that are
        missing from some draws.

    Examples
    --------
    >>> import numpy as np
    >>> r = MCMCResult({"x": np.arange(6.0).reshape(2, 3)},
    ...                {"accepted": np.ones((2, 3), dtype=bool)})
    >>> r.n_chains, r.n_draws, r.mean("x")
    (2, 3, 2.5)
    """

    def __init__(
        self,
        values: dict[str, np.ndarray],
        sample_stats: dict[str, np.ndarray],
        *,
        acceptance_rates: dict[str, np.ndarray] | None = None,
        step_sizes: dict[str, np.ndarray] | None = None,
        warmup_time_s: ArrayLike | None = None,
        sampling_time_s: ArrayLike | None = None,
        present: dict[str, np.ndarray] | None = None,
        n_warmup: int = 0,
    ) -> None:
        self.values = values
        self.sample_stats = sample_stats
        self.acceptance_rates = acceptance_rates or {}
        self.step_sizes = step_sizes or {}
        shape = next(iter(values.values())).shape[:2] if values else (0, 0)
        if not values and sample_stats:
            shape = next(iter(sample_stats.values())).shape[:2]
        self._shape = (int(shape[0]), int(shape[1]))
        nan = np.full(self._shape[0], np.nan)
        self.warmup_time_s = nan if warmup_time_s is None else np.asarray(warmup_time_s, float)
        self.sampling_time_s = (
            nan if sampling_time_s is None else np.asarray(sampling_time_s, float)
        )
        self._present = present or {}
        self.n_warmup = int(n_warmup)

    @property
    def n_chains(self) -> int:
        """The number of chains."""
        return self._shape[0]

    @property
    def n_draws(self) -> int:
        """The number of kept draws per chain."""
        return self._shape[1]

    @property
    def addresses(self) -> list[str]:
        """Every address present in at least one draw, in first-seen order."""
        return list(self.values)

    @property
    def acceptance_rate(self) -> np.ndarray:
        """The per-chain acceptance rate over all kept draws, shape ``(chains,)``."""
        accepted = self.sample_stats.get("accepted")
        if accepted is None or accepted.size == 0:
            return np.full(self.n_chains, np.nan)
        return accepted.mean(axis=1)

    @property
    def log_joint(self) -> np.ndarray:
        """The log joint density after each draw, shape ``(chains, draws)``."""
        return self.sample_stats["lp"]

    def present(self, address: str) -> np.ndarray:
        """``(chains, draws)`` mask of the draws in which ``address`` exists."""
        if address not in self.values:
            raise _missing(address, self.values)
        mask = self._present.get(address)
        return np.ones(self._shape, dtype=bool) if mask is None else mask

    def _draws(self, address: str) -> np.ndarray:
        """The draws of ``address`` where it exists, flattened to ``(k, *site_shape)``."""
        if address not in self.values:
            raise _missing(address, self.values)
        x = np.asarray(self.values[address], dtype=np.float64)
        mask = self._present.get(address)
        return x.reshape(-1, *x.shape[2:]) if mask is None else x[mask]

    def mean(self, address: str) -> Any:
        """The posterior mean of ``address`` over every chain and draw (where it exists)."""
        m = self._draws(address).mean(axis=0)
        return float(m) if np.ndim(m) == 0 else m

    def var(self, address: str) -> Any:
        """The posterior variance of ``address`` over every chain and draw (ddof 1)."""
        v = self._draws(address).var(axis=0, ddof=1)
        return float(v) if np.ndim(v) == 0 else v

    def sd(self, address: str) -> Any:
        """The square root of :meth:`var`."""
        v = self.var(address)
        return math.sqrt(v) if isinstance(v, float) else np.sqrt(v)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """A ``{address: (chains, draws, ...) array}`` dict of the draws (arrays not copied).

        Examples
        --------
        >>> import numpy as np
        >>> MCMCResult({"x": np.zeros((1, 2))}, {}).to_arrays()["x"].shape
        (1, 2)
        """
        return dict(self.values)

    def __repr__(self) -> str:
        rates = np.round(self.acceptance_rate, 3).tolist()
        return (
            f"MCMCResult(n_chains={self.n_chains}, n_draws={self.n_draws}, "
            f"addresses={len(self.values)}, acceptance_rate={rates})"
        )
