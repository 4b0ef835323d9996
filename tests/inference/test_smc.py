"""Tests for tempered SMC (fugue_lab.inference.smc).

Exact answers are closed forms (tests/inference/inference_models.py).  Tolerances
are 4 standard errors estimated from independent runs, or from the Bernoulli
variance of a frequency.
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ProcessPoolExecutor

import inference_models as im  # tests/inference/inference_models.py
import numpy as np
import pytest

from fugue_lab import Trace
from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError
from fugue_lab.inference.smc import SMCConfig, SMCInfo, SMCState, TemperedSMC, smc

# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ess_threshold": 0.0}, "ess_threshold must be in \\(0, 1\\], got 0.0"),
        ({"ess_threshold": 1.5}, "ess_threshold must be in \\(0, 1\\], got 1.5"),
        ({"ess_threshold": -0.2}, "ess_threshold must be in \\(0, 1\\]"),
        ({"ess_threshold": math.nan}, "ess_threshold must be in \\(0, 1\\]"),
        ({"resampling": "bogus"}, "resampling must be one of"),
        ({"rejuvenation_steps": -1}, "rejuvenation_steps must be >= 0, got -1"),
        ({"max_steps": 0}, "max_steps must be >= 1"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        SMCConfig(**kwargs)


def test_config_is_frozen_with_the_documented_defaults():
    config = SMCConfig()
    assert (config.resampling, config.ess_threshold, config.rejuvenation_steps) == (
        "systematic", 0.5, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.ess_threshold = 0.9
    with pytest.raises(TypeError, match="rejuvenation_steps must be an int"):
        SMCConfig(rejuvenation_steps=2.0)


@pytest.mark.parametrize("n", [0, -1])
def test_bad_particle_count_raises(n, rng):
    with pytest.raises(InvalidParameterError, match=f"n_particles must be >= 1, got {n}"):
        smc(im.normal_normal, n, rng=rng)


def test_every_particle_impossible_raises(rng):
    with pytest.raises(DegenerateWeightsError, match="every one of the 30 initial particles"):
        smc(im.impossible, 30, rng=rng)


# --------------------------------------------------------------------------- the algorithm


def test_schedule_ess_and_history(rng):
    n = 100
    r = smc(im.reference, n, rng=rng, args=(8,))
    t = r.temperatures
    assert t[0] == 0.0 and t[-1] == 1.0 and (np.diff(t) > 0).all()
    assert len(t) == r.n_steps + 1
    assert r.ess_history.shape == r.resampled.shape == r.acceptance_rates.shape == (r.n_steps,)
    # every step but the last is limited by the bisection: its ESS is the target
    np.testing.assert_allclose(r.ess_history[:-1], 0.5 * n, rtol=1e-6)
    assert r.resampled[:-1].all()
    assert r.ess_history[-1] >= 0.5 * n or r.resampled[-1]
    assert np.isclose(r.log_evidence_increments.sum(), r.log_evidence, rtol=1e-12)
    assert ((r.acceptance_rates > 0.2) & (r.acceptance_rates < 0.9)).all()
    assert r.weights.sum() == pytest.approx(1.0)
    assert r.values["mu"].shape == (n,)


def test_evidence_estimate_is_unbiased():
    # E[Z_hat] = Z for SMC (Del Moral et al. 2006).  Averaging Z_hat / Z over many small
    # runs checks it; counting the prior twice would give E[Z_hat] = Z * E_post[p(mu)],
    # about 0.3 Z here.  The tolerance is 4 standard errors of the mean ratio.
    exact = im.normal_normal_exact()
    ratios = np.array([
        math.exp(smc(im.normal_normal, 8, rng=np.random.default_rng(k)).log_evidence
                 - exact.log_evidence)
        for k in range(300)
    ])
    assert abs(ratios.mean() - 1.0) < 4.0 * ratios.std(ddof=1) / math.sqrt(len(ratios))


def test_without_rejuvenation(rng):
    r = smc(im.normal_normal, 400, rng=rng, config=SMCConfig(rejuvenation_steps=0))
    assert np.isnan(r.acceptance_rates).all()
    exact = im.normal_normal_exact()
    # resampling without moves keeps duplicates: the check uses the final ESS only loosely
    assert abs(r.log_evidence - exact.log_evidence) < 0.5


def test_ess_threshold_one_still_progresses(rng):
    r = smc(im.normal_normal, 50, rng=rng, config=SMCConfig(ess_threshold=1.0))
    assert r.temperatures[-1] == 1.0
    assert r.resampled[:-1].all()
    np.testing.assert_allclose(r.ess_history[:-1], 49.0, rtol=1e-6)  # the target is N - 1


def test_particles_of_likelihood_zero_drop_out(rng):
    # half the prior draws violate the constraint x > 0: the evidence is P(x > 0) = 1/2
    r = smc(im.half_impossible, 400, rng=rng)
    assert r.n_initial_nonfinite > 100
    x = r.values["x"]
    assert (r.weights[x <= 0.0] == 0.0).all() and r.n_nonfinite == int((x <= 0.0).sum())
    # Z_hat's first step keeps the fraction of valid particles: a binomial proportion
    assert abs(math.exp(r.log_evidence) - 0.5) < 4.0 * 0.5 / math.sqrt(400)
    # E[x | x > 0] = sqrt(2 / pi), sd sqrt(1 - 2 / pi); at most 400 distinct particles
    assert abs(r.mean("x") - math.sqrt(2.0 / math.pi)) < 4.0 * math.sqrt(
        (1.0 - 2.0 / math.pi) / r.ess)


def test_stochastic_structure(rng):
    p_b, mean_z, log_z = im.branch_exact(1.5)
    runs = [smc(im.branch, 200, rng=np.random.default_rng(50 + k), args=(1.5,))
            for k in range(6)]
    pb = np.array([r.mean("b") for r in runs])
    lz = np.array([r.log_evidence for r in runs])
    mz = np.array([r.mean("z") for r in runs])
    assert abs(pb.mean() - p_b) < 4.0 * pb.std(ddof=1) / math.sqrt(6)
    assert abs(lz.mean() - log_z) < 4.0 * lz.std(ddof=1) / math.sqrt(6)
    assert abs(mz.mean() - mean_z) < 4.0 * mz.std(ddof=1) / math.sqrt(6)
    r = runs[0]
    np.testing.assert_array_equal(r.present("z"), r.values["b"].astype(bool))


def test_kernel_step_is_pure(rng):
    algo = TemperedSMC(im.reference, args=(5,))
    state = algo.init(rng, 40)
    assert isinstance(state, SMCState) and state.temperature == 0.0
    before = [p.trace.to_trace() for p in state.particles]
    weights = state.log_weights.copy()
    new, info = algo.step(rng, state)
    assert isinstance(info, SMCInfo) and 0.0 < info.temperature <= 1.0
    assert [p.trace.to_trace() for p in state.particles] == before
    np.testing.assert_array_equal(state.log_weights, weights)
    assert new.temperature == info.temperature
    assert all(p.temperature == info.temperature for p in new.particles)
    assert new.log_evidence == info.log_evidence_increment


def test_same_seed_same_result_and_traces():
    a = smc(im.reference, 30, rng=np.random.default_rng(4), args=(5,), keep_traces=True)
    b = smc(im.reference, 30, rng=np.random.default_rng(4), args=(5,))
    assert a.log_evidence == b.log_evidence
    np.testing.assert_array_equal(a.values["mu"], b.values["mu"])
    assert b.traces is None and len(a.traces) == 30 and isinstance(a.traces[0], Trace)
    assert a.traces[3].get_float("mu") == a.values["mu"][3]


# --------------------------------------------------------------------------- WORKLOADS.md W4


@pytest.mark.slow
def test_w4_median_log_evidence_over_20_seeds():
    # WORKLOADS.md W4: 64 particles, systematic resampling, ESS threshold 0.5, 3 full MH
    # sweeps per step.  The exact log evidence is -30.392; Fugue's single-site moves give
    # a median near -41.6.  The median over 20 seeds must be within 1 of the exact value.
    _, _, exact = im.reference_exact(20)
    with ProcessPoolExecutor(2) as ex:
        estimates = np.array(list(ex.map(im.w4_log_evidence, range(20))))
    assert abs(np.median(estimates) - exact) < 1.0
    assert np.isfinite(estimates).all()



def test_batched_route_runs_the_vectorized_path():
    from fugue_lab.inference.vectorized import batched_smc

    config = SMCConfig(resampling="residual", ess_threshold=0.6, rejuvenation_steps=2)
    a = smc(im.reference, 40, rng=np.random.default_rng(8), args=(5,), config=config,
            batched=True)
    b = batched_smc(im.reference, 40, rng=np.random.default_rng(8), args=(5,),
                    resampling="residual", ess_threshold=0.6, rejuvenation_steps=2)
    assert a.log_evidence == b.log_evidence
    np.testing.assert_array_equal(a.values["mu"], b.values["mu"])
    with pytest.raises(InvalidParameterError, match="keep_traces must be left at its default"):
        smc(im.reference, 40, rng=np.random.default_rng(8), args=(5,), batched=True,
            keep_traces=True)
