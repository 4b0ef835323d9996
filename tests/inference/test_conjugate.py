"""Conjugate posteriors and evidences by importance sampling, single-site MH and SMC.

Beta-Bernoulli (an interval site: reflected walk), Gamma-Poisson (a positive site:
log-space walk, whose Jacobian term a wrong implementation drops) and
Normal-Normal (a real site), each against its closed form from scipy
(tests/inference/inference_models.py).  Tolerances are 4 Monte Carlo standard
errors, each estimated from the run(s) themselves:

* importance sampling: ``sd / sqrt(ESS)`` for a mean; ``sqrt(1/ESS - 1/N)`` for the
  log evidence; ``1 / sqrt(2 ESS)`` relative for an sd;
* MH: ``mcse_mean`` and ``mcse_sd`` (ArviZ's definitions) over 4 chains;
* SMC: the spread of the estimates over independent runs, ``sd / sqrt(runs)``.
"""

from __future__ import annotations

import math

import inference_models as im  # tests/inference/inference_models.py
import numpy as np
import pytest

from fugue_lab.inference.importance import importance_sampling
from fugue_lab.inference.mcmc_diagnostics import mcse_mean, mcse_sd, rhat
from fugue_lab.inference.mh import mh_chains
from fugue_lab.inference.smc import SMCConfig, smc

FAMILIES = sorted(im.CONJUGATE)


@pytest.mark.parametrize("name", FAMILIES)
def test_importance_sampling(name, rng):
    model, exact_fn = im.CONJUGATE[name]
    exact = exact_fn()
    r = importance_sampling(model, 20_000, rng=rng)
    rel_var = 1.0 / r.ess - 1.0 / r.n_particles
    assert abs(r.log_evidence - exact.log_evidence) < 4.0 * math.sqrt(rel_var)
    assert abs(r.mean(exact.address) - exact.mean) < 4.0 * exact.sd / math.sqrt(r.ess)
    assert abs(r.sd(exact.address) / exact.sd - 1.0) < 4.0 / math.sqrt(2.0 * r.ess)


@pytest.mark.parametrize("discrete", ["mh", "gibbs"])
@pytest.mark.parametrize("name", FAMILIES)
def test_metropolis_hastings(name, discrete):
    # (discrete="gibbs" changes nothing here: every site is continuous.)
    model, exact_fn = im.CONJUGATE[name]
    exact = exact_fn()
    r = mh_chains(model, 4, 3000, 500, seed=21, discrete=discrete)
    draws = r.values[exact.address]
    assert abs(float(draws.mean()) - exact.mean) < 4.0 * mcse_mean(draws)
    assert abs(float(np.std(draws, ddof=1)) - exact.sd) < 4.0 * mcse_sd(draws)
    assert rhat(draws) < 1.05
    assert 0.25 < float(r.acceptance_rate.mean()) < 0.65


@pytest.mark.parametrize("name", FAMILIES)
def test_smc(name):
    model, exact_fn = im.CONJUGATE[name]
    exact = exact_fn()
    runs = [smc(model, 200, rng=np.random.default_rng(100 + k)) for k in range(10)]
    log_z = np.array([r.log_evidence for r in runs])
    means = np.array([r.mean(exact.address) for r in runs])
    sds = np.array([r.sd(exact.address) for r in runs])
    k = len(runs)
    assert abs(log_z.mean() - exact.log_evidence) < 4.0 * log_z.std(ddof=1) / math.sqrt(k)
    assert abs(means.mean() - exact.mean) < 4.0 * means.std(ddof=1) / math.sqrt(k)
    assert abs(sds.mean() - exact.sd) < 4.0 * sds.std(ddof=1) / math.sqrt(k)
    for r in runs:
        assert r.temperatures[0] == 0.0 and r.temperatures[-1] == 1.0


@pytest.mark.parametrize("resampling", ["systematic", "stratified", "multinomial", "residual"])
def test_smc_every_resampling_scheme(resampling):
    exact = im.normal_normal_exact()
    config = SMCConfig(resampling=resampling, ess_threshold=0.6)
    runs = [smc(im.normal_normal, 150, rng=np.random.default_rng(200 + k), config=config)
            for k in range(8)]
    log_z = np.array([r.log_evidence for r in runs])
    means = np.array([r.mean("mu") for r in runs])
    assert abs(log_z.mean() - exact.log_evidence) < 4.0 * log_z.std(ddof=1) / math.sqrt(8)
    assert abs(means.mean() - exact.mean) < 4.0 * means.std(ddof=1) / math.sqrt(8)
    assert all(r.resampled[:-1].all() for r in runs)
