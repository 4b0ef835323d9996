"""The same workloads in the peer libraries, Pyro and NumPyro, timed in the same process.

Install the peers with ``pip install 'fugue_lab[bench-peers]'`` (torch is pinned to
2.13.0, the CPU build this project's machines carry).  A peer that is not installed
gives one ``status="skipped"`` row saying so; nothing is estimated.

What each peer runs, and how comparable it is:

==========  =====================================================================
W1 prior3   ``pyro.poutine.trace(model).get_trace()`` plus ``log_prob_sum()``;
            NumPyro ``handlers.trace(handlers.seed(model, key))`` plus the log
            joint, eagerly and under ``jax.jit``.  fugue_lab's handler computes
            the log-densities as it runs, so the peers are asked for them too.
W2          likelihood weighting vectorized over particles: Pyro's
            ``vectorized_importance_weights`` with the prior as the guide;
            NumPyro ``Predictive`` draws plus ``log_likelihood`` (eager and jit).
W3 mh20     Pyro's ``RandomWalkKernel`` (an adaptive Gaussian random walk that moves
            *every* site at once, not one site per iteration: the nearest thing Pyro
            has).  NumPyro has no random-walk MH kernel: skipped.
W4, W5      no comparable algorithm in either peer (Pyro's SMCFilter is for state
            space models, NumPyro has no SMC; neither has a copy-on-write trace):
            skipped.
==========  =====================================================================

Everything runs in float64 (``jax_enable_x64`` for NumPyro) on one thread
(``torch.set_num_threads(1)``; XLA's CPU thread pool is limited through
``XLA_FLAGS`` when JAX is first imported here), to match fugue_lab's NumPy path.

Examples
--------
>>> sorted(available())  # doctest: +SKIP
['numpyro', 'pyro']
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from fugue_lab.bench import floors
from fugue_lab.bench.harness import XLA_ONE_THREAD, Timing, time_call
from fugue_lab.bench.workloads import (
    EXACT,
    BenchConfig,
    _weighted_summary,
    guarded,
    make_row,
    skipped,
    with_floor,
)

__all__ = ["PEERS", "available", "peer_rows"]

#: peer name -> the modules it needs.
PEERS = {"pyro": ("torch", "pyro"), "numpyro": ("jax", "numpyro")}


def available() -> dict[str, bool]:
    """Which peers are installed (found without importing them).

    Examples
    --------
    >>> set(available()) == set(PEERS)
    True
    """
    return {
        name: all(importlib.util.find_spec(m) is not None for m in modules)
        for name, modules in PEERS.items()
    }


@contextmanager
def _torch_one_thread() -> Iterator[Any]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield torch
    finally:
        torch.set_num_threads(before)


def _import_jax() -> Any:
    """Import JAX on one CPU thread, with float64 (the suite's NumPy path is float64)."""
    if "jax" not in sys.modules and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = XLA_ONE_THREAD
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


# -- Pyro --------------------------------------------------------------------------------------
def _pyro_rows(config: BenchConfig, workloads: set[str], floor_s: dict[str, Any]) -> list[dict]:
    rows: list[dict[str, Any]] = []
    with _torch_one_thread() as torch:
        import pyro
        import pyro.distributions as dist
        from pyro import poutine

        f64 = torch.float64
        pyro.set_rng_seed(config.seed)

        def t(x: float) -> Any:
            return torch.tensor(x, dtype=f64)

        zero, one, half, tenth, ten, two = t(0.0), t(1.0), t(0.5), t(0.1), t(10.0), t(2.0)
        obs15 = t(1.5)

        if "W1" in workloads:
            def prior3() -> Any:
                x = pyro.sample("x", dist.Normal(zero, one))
                y = pyro.sample("y", dist.Normal(x, half))
                pyro.sample("obs", dist.Normal(y, tenth), obs=obs15)
                return x

            def w1() -> dict[str, Any]:
                number = max(200, config.w1_number // 10)

                def once() -> Any:
                    tr = poutine.trace(prior3).get_trace()
                    return tr.log_prob_sum()

                timing = time_call(once, repeats=config.w1_repeats, number=number,
                                   warmup=number // 10)
                row = make_row("W1 prior3", "trace + log joint", "pyro", number, timing,
                               throughput_per_s=1.0 / timing.median_s,
                               check_ok=bool(torch.isfinite(timing.value)),
                               note="poutine.trace(model).get_trace(), then log_prob_sum()")
                return with_floor(row, "floor_prior3", floor_s.get("W1"))

            rows.append(guarded("W1 prior3", "trace + log joint", "pyro", 0, w1))

        if "W2" in workloads:
            from pyro.infer.importance import vectorized_importance_weights

            ys = torch.tensor(floors.OBS_W2, dtype=f64)

            def model(ys: Any) -> Any:
                mu = pyro.sample("mu", dist.Normal(zero, ten))
                precision = pyro.sample("precision", dist.Gamma(two, one))
                sigma = torch.sqrt(1.0 / precision)
                with pyro.plate("obs", ys.shape[0]):
                    pyro.sample("y", dist.Normal(mu, sigma), obs=ys)
                return mu

            def prior_guide(ys: Any) -> None:
                pyro.sample("mu", dist.Normal(zero, ten))
                pyro.sample("precision", dist.Gamma(two, one))

            for n in config.w2_sizes[:1]:
                def w2(n: int = n) -> dict[str, Any]:
                    def once() -> Any:
                        log_w, model_tr, _ = vectorized_importance_weights(
                            model, prior_guide, ys, num_samples=n, max_plate_nesting=1)
                        return log_w, model_tr.nodes["mu"]["value"]

                    timing = time_call(once, repeats=config.repeats_fast, warmup=1)
                    log_w, mu = timing.value
                    log_z, mean, ess = _weighted_summary(log_w.numpy(), mu.reshape(-1).numpy())
                    row = make_row("W2 is_vec100", "vectorized LW", "pyro", n, timing,
                                   log_evidence=log_z, posterior_mean_mu=mean, ess=ess,
                                   exact_log_evidence=EXACT["W2 log_evidence"],
                                   exact_mean_mu=EXACT["W2 mean_mu"],
                                   throughput_per_s=n / timing.median_s,
                                   note="pyro.infer.importance.vectorized_importance_weights, "
                                        "guide = the prior")
                    return with_floor(row, "floor_is_vec100", floor_s.get(("W2", n)))

                rows.append(guarded("W2 is_vec100", "vectorized LW", "pyro", n, w2))

        if "W3" in workloads:
            from pyro.infer import MCMC
            from pyro.infer.mcmc import RandomWalkKernel

            def reference(n_sites: int) -> Any:
                mu = pyro.sample("mu", dist.Normal(zero, one))
                for i in range(n_sites - 1):
                    x = pyro.sample(f"x#{i}", dist.Normal(mu, one))
                    pyro.sample(f"y#{i}", dist.Normal(x, half), obs=t(0.2 * i - 1.0))
                return mu

            for sites, warmup, kept in config.w3_cases:
                if sites != 20:
                    continue
                mode = f"RandomWalkKernel {warmup}+{kept}"

                def w3(warmup: int = warmup, kept: int = kept, mode: str = mode) -> dict:
                    def once() -> Any:
                        kernel = RandomWalkKernel(reference, init_step_size=0.1,
                                                  target_accept_prob=0.234)
                        mcmc = MCMC(kernel, num_samples=kept, warmup_steps=warmup,
                                    disable_progbar=True)
                        mcmc.run(20)
                        return mcmc.get_samples()["mu"]

                    reps = config.repeats_fast if warmup + kept <= 100 else 3
                    timing = time_call(once, repeats=max(1, reps // 3), warmup=1)
                    draws = timing.value.numpy()
                    row = make_row("W3 mh20", mode, "pyro", warmup + kept, timing,
                                   posterior_mean_mu=float(draws.mean()),
                                   exact_mean_mu=EXACT["W3 mean_mu"],
                                   throughput_per_s=(warmup + kept) / timing.median_s,
                                   note="NOT single-site: an adaptive Gaussian random walk "
                                        "on all 20 sites at once (the nearest Pyro kernel); "
                                        "n = iterations")
                    return with_floor(row, "floor_mh", floor_s.get(("W3", warmup + kept)))

                rows.append(guarded("W3 mh20", mode, "pyro", warmup + kept, w3))
    return rows


# -- NumPyro -----------------------------------------------------------------------------------
def _numpyro_rows(config: BenchConfig, workloads: set[str], floor_s: dict[str, Any]) -> list:
    jax = _import_jax()
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as ndist
    from numpyro import handlers

    rows: list[dict[str, Any]] = []
    keys = jax.random.split(jax.random.PRNGKey(config.seed), 1024)

    if "W1" in workloads:
        def prior3() -> Any:
            x = numpyro.sample("x", ndist.Normal(0.0, 1.0))
            y = numpyro.sample("y", ndist.Normal(x, 0.5))
            numpyro.sample("obs", ndist.Normal(y, 0.1), obs=1.5)
            return x

        def traced(key: Any) -> Any:
            tr = handlers.trace(handlers.seed(prior3, key)).get_trace()
            return sum(site["fn"].log_prob(site["value"]) for site in tr.values()
                       if site["type"] == "sample")

        jitted = jax.jit(traced)
        for impl, fn, number in (("numpyro", traced, max(50, config.w1_number // 100)),
                                 ("numpyro-jit", jitted, max(200, config.w1_number // 10))):
            def w1(fn: Any = fn, number: int = number, impl: str = impl) -> dict[str, Any]:
                counter = iter(range(10**9))

                def once() -> Any:
                    return fn(keys[next(counter) % 1024]).block_until_ready()

                timing = time_call(once, repeats=config.w1_repeats, number=number,
                                   warmup=max(2, number // 10))
                how = ("eager: handlers.trace(handlers.seed(model, key)), then the log joint"
                       if impl == "numpyro" else "the same function under jax.jit")
                row = make_row("W1 prior3", "trace + log joint", impl, number, timing,
                               throughput_per_s=1.0 / timing.median_s,
                               check_ok=bool(np.isfinite(float(timing.value))), note=how)
                return with_floor(row, "floor_prior3", floor_s.get("W1"))

            rows.append(guarded("W1 prior3", "trace + log joint", impl, 0, w1))

    if "W2" in workloads:
        from numpyro.infer import Predictive
        from numpyro.infer.util import log_likelihood

        ys = jnp.asarray(floors.OBS_W2)

        def model(ys: Any) -> Any:
            mu = numpyro.sample("mu", ndist.Normal(0.0, 10.0))
            precision = numpyro.sample("precision", ndist.Gamma(2.0, 1.0))
            sigma = jnp.sqrt(1.0 / precision)
            with numpyro.plate("obs", ys.shape[0]):
                numpyro.sample("y", ndist.Normal(mu, sigma), obs=ys)
            return mu

        for n in config.w2_sizes[:1]:
            def lw(key: Any, n: int = n) -> Any:
                prior = Predictive(model, num_samples=n, return_sites=["mu", "precision"])(
                    key, ys)
                log_w = log_likelihood(model, prior, ys)["y"].sum(axis=-1)
                return log_w, prior["mu"]

            jitted = jax.jit(lw)
            for impl, fn in (("numpyro", lw), ("numpyro-jit", jitted)):
                def w2(fn: Any = fn, impl: str = impl, n: int = n) -> dict[str, Any]:
                    counter = iter(range(10**9))

                    def once() -> Any:
                        log_w, mu = fn(keys[next(counter) % 1024])
                        return np.asarray(log_w), np.asarray(mu)

                    timing = time_call(once, repeats=config.repeats_fast, warmup=1)
                    log_z, mean, ess = _weighted_summary(*timing.value)
                    how = ("Predictive (prior draws, vmapped) + infer.util.log_likelihood, eager"
                           if impl == "numpyro" else "the same function under jax.jit")
                    row = make_row("W2 is_vec100", "vectorized LW", impl, n, timing,
                                   log_evidence=log_z, posterior_mean_mu=mean, ess=ess,
                                   exact_log_evidence=EXACT["W2 log_evidence"],
                                   exact_mean_mu=EXACT["W2 mean_mu"],
                                   throughput_per_s=n / timing.median_s, note=how)
                    return with_floor(row, "floor_is_vec100", floor_s.get(("W2", n)))

                rows.append(guarded("W2 is_vec100", "vectorized LW", impl, n, w2))

    if "W3" in workloads:
        rows.append(skipped("W3 mh20", "random-walk MH", "numpyro", 0,
                            "NumPyro has no random-walk MH kernel (HMC/NUTS/BarkerMH use "
                            "gradients, SA is an ensemble method): nothing comparable"))
    return rows


def peer_rows(
    config: BenchConfig, workloads: set[str], floor_s: dict[Any, Timing | None]
) -> list[dict[str, Any]]:
    """Rows for every installed peer on the selected workloads; a skipped row per missing peer.

    Parameters
    ----------
    config
        Sizes and repeats (the same as fugue_lab's rows).
    workloads
        The selected workload keys, e.g. ``{"W1", "W2"}``.
    floor_s
        The floors already timed in this process: ``"W1"``, ``("W2", n)``,
        ``("W3", iterations)`` -> :class:`~fugue_lab.bench.harness.Timing`.
    """
    rows: list[dict[str, Any]] = []
    have = available()
    for name, runner in (("pyro", _pyro_rows), ("numpyro", _numpyro_rows)):
        if not have[name]:
            rows.append(skipped("all", "peer", name, 0,
                                f"{name} is not installed: pip install 'fugue_lab[bench-peers]'"))
            continue
        try:
            rows.extend(runner(config, workloads, floor_s))
        except Exception as exc:  # a broken peer install must not stop the suite
            rows.append(make_row("all", "peer", name, 0, status="error",
                                 note=f"{type(exc).__name__}: {exc}"))
    reasons = {
        "W4": ("W4 smc20", "no comparable algorithm: Pyro's SMCFilter is for state-space models "
                           "(no likelihood tempering), NumPyro has no SMC"),
        "W5": ("W5 cow", "nothing comparable: neither Pyro nor NumPyro has a copy-on-write "
                         "trace (their traces are plain dicts: the python-dict row)"),
    }
    for key, (label, reason) in reasons.items():
        if key in workloads:
            rows.append(skipped(label, "peer", "pyro, numpyro", 0, reason))
    return rows

