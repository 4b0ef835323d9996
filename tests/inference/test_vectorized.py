"""Vectorized inference against exact answers (tolerances from the Monte Carlo error)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fugue_lab import (
    Bernoulli,
    Beta,
    Gamma,
    Normal,
    Poisson,
    Uniform,
    factor,
    observe,
    plate,
    sample,
)
from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError, UnbatchableModelError
from fugue_lab.inference.mcmc_diagnostics import ess_bulk
from fugue_lab.inference.vectorized import (
    LockstepMH,
    batched_importance,
    batched_smc,
    lockstep_mh_chains,
)
from fugue_lab.models import W2_OBS
from fugue_lab.models import is_vec100 as w2
from fugue_lab.runtime.batched import BatchedScoreHandler
from fugue_lab.runtime.handlers import run
from fugue_lab.runtime.pool import TracePool

W3_OBS = 0.2 * np.arange(19) - 1.0




def w3():
    mu = sample("mu", Normal(0.0, 1.0))
    with plate("x", 19):
        x = sample("x", Normal(mu, 1.0))
        observe("y", Normal(x, 0.5), W3_OBS)
    return mu


FLIPS = np.array([1, 1, 0, 1, 1, 1, 0, 1, 0, 1], dtype=bool)  # 7 heads in 10
COUNTS = np.array([2, 4, 3, 5, 1])


def beta_bernoulli():
    p = sample("p", Beta(2.0, 2.0))
    with plate("flips", len(FLIPS)):
        observe("flip", Bernoulli(p), FLIPS)


def gamma_poisson():
    rate = sample("rate", Gamma(3.0, 1.0))
    with plate("counts", len(COUNTS)):
        observe("count", Poisson(rate), COUNTS)


def within_mc_error(draws: np.ndarray, exact_mean: float, exact_sd: float, k: float = 4.0):
    """|mean - exact| < k * sd / sqrt(ESS), with ESS the bulk ESS of the chains."""
    ess = ess_bulk(draws)
    error = abs(draws.mean() - exact_mean)
    assert error < k * exact_sd / math.sqrt(ess), (draws.mean(), exact_mean, ess)


def test_batched_importance_w2_evidence_and_posterior_mean():
    r = batched_importance(w2, 400_000, rng=np.random.default_rng(3), args=(W2_OBS,))
    # var(log Z-hat) ~ 1 / ESS for self-normalised weights; 4 sigma
    assert abs(r.log_evidence - (-256.9617)) < 4.0 / math.sqrt(r.ess)
    assert abs(r.mean("mu") - 4.9459) < 4.0 * r.sd("mu") / math.sqrt(r.ess)
    assert abs(r.mean("precision") - 0.12332) < 4.0 * r.sd("precision") / math.sqrt(r.ess)


def test_chunking_and_pooling_do_not_change_the_answer():
    def run_with(**options):
        return batched_importance(w2, 5000, rng=np.random.default_rng(11), args=(W2_OBS,),
                                  **options)

    plain = run_with()
    np.testing.assert_allclose(run_with(pool=TracePool(2)).log_weights, plain.log_weights,
                               rtol=1e-12)
    chunked = run_with(chunk_size=1000, pool=TracePool(2))
    assert chunked.n_particles == 5000
    assert np.all(np.isfinite(chunked.log_weights))
    single = run_with(dtype=np.float32)
    assert single.values["mu"].dtype == np.float32
    # float32 draws follow another stream; check the weights against a float64 rescoring
    values = {a: v.astype(np.float64) for a, v in single.values.items()}
    _, rescored = run(BatchedScoreHandler(5000, values), w2, W2_OBS)
    np.testing.assert_allclose(single.log_weights, rescored.log_likelihood, rtol=2e-4)


def test_batched_importance_rejects_impossible_models_and_bad_sizes():
    def impossible():
        sample("x", Normal(0.0, 1.0))
        observe("y", Bernoulli(0.0), True)

    with pytest.raises(DegenerateWeightsError, match="every one of the 100 particles"):
        batched_importance(impossible, 100, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="chunk_size must be >= 1, got 0"):
        batched_importance(w3, 10, rng=np.random.default_rng(0), chunk_size=0)


@pytest.mark.parametrize(
    ("model", "address", "mean", "sd"),
    [
        (beta_bernoulli, "p", 9 / 14, math.sqrt(9 * 5 / (14**2 * 15))),
        (gamma_poisson, "rate", 18 / 6, math.sqrt(18) / 6),
    ],
)
def test_lockstep_chains_recover_conjugate_posteriors(model, address, mean, sd):
    r = lockstep_mh_chains(model, 32, 1500, 500, rng=np.random.default_rng(5))
    draws = r.values[address]
    within_mc_error(draws, mean, sd)
    # the spread is right too: sd within 10% (an MC error of ~3% at this ESS)
    assert abs(draws.std() - sd) < 0.1 * sd


def test_lockstep_w3_posterior_of_mu():
    r = lockstep_mh_chains(w3, 64, 3000, 1500, rng=np.random.default_rng(2))
    within_mc_error(r.values["mu"], 0.7506, 0.2485)
    assert r.values["x"].shape == (64, 3000, 19)
    assert 0.2 < float(r.acceptance_rate.mean()) < 0.7


def test_lockstep_kernel_adapts_only_when_asked():
    kernel = LockstepMH(w3, 4)
    rng = np.random.default_rng(0)
    state = kernel.init(rng)
    frozen, _ = kernel.step(rng, state)
    assert all(np.array_equal(frozen.log_scales[a], state.log_scales[a]) for a in state.values)
    adapted, info = kernel.step(rng, state, adapt=True)
    changed = adapted.log_scales[info.site] != state.log_scales[info.site]
    assert changed.any()


def test_batched_smc_w4_median_evidence_over_seeds():
    estimates = [batched_smc(w3, 64, rng=np.random.default_rng(s)).log_evidence
                 for s in range(20)]
    assert abs(np.median(estimates) - (-30.392)) < 1.0


def test_batched_smc_conjugate_evidence():
    # Normal-Normal: y ~ N(0, sqrt(1 + 0.25)) marginally
    def model():
        mu = sample("mu", Normal(0.0, 1.0))
        observe("y", Normal(mu, 0.5), 1.0)

    r = batched_smc(model, 2000, rng=np.random.default_rng(4))
    exact = -0.5 * math.log(2 * math.pi * 1.25) - 0.5 / 1.25
    assert abs(r.log_evidence - exact) < 0.05
    assert abs(r.mean("mu") - 0.8) < 4 * math.sqrt(0.2) / math.sqrt(r.ess)
    assert r.temperatures[0] == 0.0 and r.temperatures[-1] == 1.0


def test_unbatchable_models_fail_clearly():
    def branching():
        x = sample("x", Normal(0.0, 1.0))
        if x > 0:
            observe("y", Normal(x, 1.0), 1.0)

    with pytest.raises(UnbatchableModelError, match="'x'"):
        lockstep_mh_chains(branching, 4, 10, 0, rng=np.random.default_rng(0))


def test_public_entry_points_take_dtype_for_their_batched_paths():
    from fugue_lab import importance_sampling, mh_chains, smc

    r = smc(w3, 64, rng=np.random.default_rng(0), batched=True, dtype=np.float32)
    assert r.values["mu"].dtype == np.float32 and np.isfinite(r.log_evidence)
    chains = mh_chains(w3, 4, 20, 10, seed=1, vectorized=True, dtype=np.float32)
    assert chains.values["mu"].dtype == np.float32
    with pytest.raises(InvalidParameterError, match="dtype"):
        smc(w3, 8, rng=np.random.default_rng(0), dtype=np.float32)
    with pytest.raises(InvalidParameterError, match="dtype"):
        mh_chains(w3, 2, 5, 0, seed=1, dtype=np.float32)
    with pytest.raises(InvalidParameterError, match="dtype"):
        importance_sampling(w3, 8, rng=np.random.default_rng(0), dtype=np.float32)


def test_batched_smc_tempers_factors_like_observations():
    def observed():
        mu = sample("mu", Normal(0.0, 1.0))
        observe("y", Normal(mu, 0.5), 1.0)

    def factored():
        mu = sample("mu", Normal(0.0, 1.0))
        factor(Normal(mu, 0.5).log_prob(1.0))

    a = batched_smc(observed, 512, rng=np.random.default_rng(9))
    b = batched_smc(factored, 512, rng=np.random.default_rng(9))
    assert b.log_evidence == pytest.approx(a.log_evidence, abs=1e-9)
    exact = -0.5 * math.log(2 * math.pi * 1.25) - 0.5 / 1.25
    assert abs(b.log_evidence - exact) < 0.1
    assert abs(b.mean("mu") - 0.8) < 4 * math.sqrt(0.2) / math.sqrt(b.ess)


def test_lockstep_at_temperature_zero_targets_the_prior():
    def model():  # zero likelihood for |x| > 1 must not matter at temperature 0
        x = sample("x", Normal(0.0, 1.0))
        observe("y", Uniform(x - 1.0, x + 1.0), 0.0)

    kernel = LockstepMH(model, 64, temperature=0.0)
    rng = np.random.default_rng(3)
    state = kernel.init(rng)
    draws = []
    for t in range(1500):
        state, _ = kernel.step(rng, state, adapt=t < 500)
        if t >= 500:
            draws.append(state.values["x"])
    draws = np.array(draws)
    # P(|x| > 1) under the prior is 0.317; the likelihood would make it 0
    assert abs(np.mean(np.abs(draws) > 1.0) - 0.3173) < 0.05


def test_lockstep_does_not_reflect_at_bounds_that_move_with_other_sites():
    def model():
        b = sample("b", Gamma(2.0, 1.0))
        sample("x", Uniform(0.0, b))

    kernel = LockstepMH(model, 1)
    kernel.init(np.random.default_rng(0))
    site = next(s for s in kernel.sites if s.address == "x")
    assert site.low == 0.0 and math.isnan(site.high)
