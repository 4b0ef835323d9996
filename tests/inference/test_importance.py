"""Tests for fugue_lab.inference.importance and ImportanceResult.

Exact answers are closed forms (tests/inference/inference_models.py).  Tolerances
come from the Monte Carlo error of self-normalised importance sampling: a
posterior mean has standard error about ``sd / sqrt(ESS)``, and the log of the
evidence estimate about ``sqrt(1 / ESS - 1 / N)`` (delta method on the mean of
the weights, whose relative variance is ``N / ESS - 1``).
"""

from __future__ import annotations

import math
import time

import inference_models as im  # tests/inference/inference_models.py
import numpy as np
import pytest

from fugue_lab import Normal, Trace, observe, sample
from fugue_lab.errors import DegenerateWeightsError, FugueLabWarning, InvalidParameterError
from fugue_lab.inference.importance import importance_sampling
from fugue_lab.inference.results import ImportanceResult


def _log_z_tolerance(result: ImportanceResult, sds: float = 4.0) -> float:
    rel_var = max(1.0 / result.ess - 1.0 / result.n_particles, 0.0)
    return sds * math.sqrt(rel_var) + 1e-12


def test_result_arrays_and_weights(rng):
    r = importance_sampling(im.normal_normal, 2000, rng=rng)
    assert r.log_weights.shape == (2000,)
    assert r.values["mu"].shape == (2000,)
    assert r.traces is None
    w = r.weights
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    lw = r.log_weights
    expected_w = np.exp(lw - lw.max()) / np.exp(lw - lw.max()).sum()
    np.testing.assert_allclose(w, expected_w, rtol=1e-12)
    assert r.ess == pytest.approx(1.0 / np.sum(expected_w**2), rel=1e-12)
    top = lw.max()
    assert r.log_evidence == pytest.approx(top + math.log(np.mean(np.exp(lw - top))), rel=1e-12)
    assert r.mean("mu") == pytest.approx(float(np.sum(expected_w * r.values["mu"])), rel=1e-12)
    assert r.n_nonfinite == 0 and r.n_nan == 0


def test_weights_are_likelihood_times_factors(rng):
    # Each particle's log weight is its log-likelihood (prior draws are the proposal).
    r = importance_sampling(im.normal_normal, 50, rng=rng, keep_traces=True)
    assert len(r.traces) == 50 and isinstance(r.traces[0], Trace)
    for lw, trace, mu in zip(r.log_weights, r.traces, r.values["mu"]):
        assert lw == trace.log_likelihood + trace.log_factors
        assert trace.get_float("mu") == mu
        expected = sum(Normal(mu, 1.0).log_prob(y) for y in im.NORMAL_DATA)
        assert lw == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_w2_log_evidence(rng):
    # WORKLOADS.md W2: log evidence -256.9617, E[mu] = 4.9459.  The prior is very diffuse
    # (the ESS of 1e5 particles is a few dozen), so the tolerance follows the ESS.
    start = time.perf_counter()
    r = importance_sampling(im.w2_model, 100_000, rng=rng)
    elapsed = time.perf_counter() - start
    assert r.ess > 10
    assert abs(r.log_evidence - (-256.9617)) < _log_z_tolerance(r)
    # posterior sd of mu is about 0.29 (numerical integration); error ~ sd / sqrt(ESS)
    assert abs(r.mean("mu") - 4.9459) < 4.0 * 0.29 / math.sqrt(r.ess)
    assert r.elapsed_s <= elapsed


def test_stochastic_structure_values_and_conditional_means(rng):
    p_b, mean_z, log_z = im.branch_exact(1.5)
    r = importance_sampling(im.branch, 20_000, rng=rng, args=(1.5,))
    present = r.present("z")
    np.testing.assert_array_equal(present, r.values["b"].astype(bool))
    assert np.isnan(r.values["z"][~present]).all()
    assert abs(r.mean("b") - p_b) < 4.0 * math.sqrt(p_b * (1 - p_b) / r.ess)
    # E[z | b, y] over the particles where z exists; posterior sd of z given b is sqrt(1/2)
    ess_b = 1.0 / np.sum((r.weights[present] / r.weights[present].sum()) ** 2)
    assert abs(r.mean("z") - mean_z) < 4.0 * math.sqrt(0.5 / ess_b)
    assert abs(r.log_evidence - log_z) < _log_z_tolerance(r)


def test_minus_inf_weights_are_counted_and_weigh_nothing(rng):
    r = importance_sampling(im.half_impossible, 4000, rng=rng)
    negative = r.values["x"] <= 0.0
    assert r.n_neg_inf == int(negative.sum()) > 0
    assert r.n_nonfinite == r.n_neg_inf and r.n_nan == 0
    assert (r.weights[negative] == 0.0).all()
    # evidence = P(x > 0) = 1/2; a Bernoulli(1/2) mean over N draws has sd 0.5/sqrt(N)
    assert abs(math.exp(r.log_evidence) - 0.5) < 4.0 * 0.5 / math.sqrt(4000)
    # E[x | x > 0] = sqrt(2 / pi), posterior sd sqrt(1 - 2/pi)
    assert abs(r.mean("x") - math.sqrt(2 / math.pi)) < 4.0 * math.sqrt(1 - 2 / math.pi) / math.sqrt(
        r.ess
    )


def test_nan_weights_warn_and_are_counted(rng):
    with pytest.warns(FugueLabWarning, match="NaN log weight"):
        r = importance_sampling(im.nan_factor, 500, rng=rng)
    assert r.n_nan == int((r.values["x"] < 0.0).sum()) > 0
    assert not np.isnan(r.log_weights).any()
    assert (r.weights[r.values["x"] < 0.0] == 0.0).all()


def test_all_minus_inf_raises(rng):
    with pytest.raises(DegenerateWeightsError, match="every one of the 20 particles"):
        importance_sampling(im.impossible, 20, rng=rng)


@pytest.mark.parametrize("n", [0, -3])
def test_bad_particle_count_raises(n, rng):
    with pytest.raises(InvalidParameterError, match=f"n must be >= 1, got {n}"):
        importance_sampling(im.normal_normal, n, rng=rng)


def test_bad_arguments_raise(rng):
    with pytest.raises(TypeError, match="n must be an int"):
        importance_sampling(im.normal_normal, 10.0, rng=rng)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        importance_sampling(im.normal_normal, 10, rng=0)
    with pytest.raises(TypeError, match="model must be callable"):
        importance_sampling("model", 10, rng=rng)


def test_same_seed_same_result():
    a = importance_sampling(im.gamma_poisson, 300, rng=np.random.default_rng(9))
    b = importance_sampling(im.gamma_poisson, 300, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a.log_weights, b.log_weights)
    np.testing.assert_array_equal(a.values["rate"], b.values["rate"])


def test_kwargs_reach_the_model(rng):
    def model(*, y):
        observe("y", Normal(sample("mu", Normal(0.0, 1.0)), 1.0), y)

    r = importance_sampling(model, 5000, rng=rng, kwargs={"y": 2.0})
    # posterior N(1, sqrt(1/2))
    assert abs(r.mean("mu") - 1.0) < 4.0 * math.sqrt(0.5 / r.ess)


def test_missing_address_in_mean_raises(rng):
    r = importance_sampling(im.normal_normal, 10, rng=rng)
    with pytest.raises(LookupError, match="'nope'"):
        r.mean("nope")


def test_batched_route_runs_the_vectorized_path():
    from fugue_lab.inference.vectorized import batched_importance

    a = importance_sampling(im.w2_model, 3000, rng=np.random.default_rng(6), batched=True,
                            chunk_size=1000)
    b = batched_importance(im.w2_model, 3000, rng=np.random.default_rng(6), chunk_size=1000)
    np.testing.assert_array_equal(a.log_weights, b.log_weights)
    np.testing.assert_array_equal(a.values["mu"], b.values["mu"])


def test_batched_only_options_raise_without_it(rng):
    with pytest.raises(InvalidParameterError, match="chunk_size must be None unless batched"):
        importance_sampling(im.normal_normal, 10, rng=rng, chunk_size=5)
    with pytest.raises(InvalidParameterError, match="keep_traces must be False with batched"):
        importance_sampling(im.normal_normal, 10, rng=rng, batched=True, keep_traces=True)
