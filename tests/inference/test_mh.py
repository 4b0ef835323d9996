"""Tests for single-site MH (fugue_lab.inference.mh), its proposals and Gibbs updates.

Exact answers are closed forms or enumerations (tests/inference/inference_models.py).
Tolerances come from the chains' own Monte Carlo error: ``mcse_mean`` (ArviZ's
definition, from fugue_lab.inference.mcmc_diagnostics) of the quantity, times 4.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import inference_models as im  # tests/inference/inference_models.py
import numpy as np
import pytest
from scipy import stats

from fugue_lab import (
    Bernoulli,
    Beta,
    Categorical,
    Exponential,
    Gamma,
    Normal,
    Poisson,
    Uniform,
    observe,
    sample,
)
from fugue_lab.errors import (
    DegenerateWeightsError,
    InvalidParameterError,
    MissingAddressError,
)
from fugue_lab.inference.mcmc_diagnostics import mcse_mean, mcse_sd, rhat
from fugue_lab.inference.mh import MHInfo, MHState, SingleSiteMH, mh_chain, mh_chains
from fugue_lab.inference.proposals import (
    Flip,
    IntegerStep,
    LogRandomWalk,
    PriorResample,
    RandomWalk,
    ReflectiveRandomWalk,
    SiteState,
    _reflect,
    default_proposal,
)
from fugue_lab.runtime.cow import CowTrace


def _within(draws: np.ndarray, exact: float, sds: float = 4.0) -> None:
    """|mean(draws) - exact| < sds * mcse_mean(draws), with draws of shape (chains, draws)."""
    err = abs(float(np.mean(draws)) - exact)
    se = mcse_mean(np.asarray(draws, dtype=float))
    assert err < sds * se, f"mean {np.mean(draws):.5f} vs exact {exact:.5f} (mcse {se:.5f})"


# --------------------------------------------------------------------------- proposals


@pytest.mark.parametrize(
    ("dist", "kind"),
    [
        (Normal(0.0, 1.0), RandomWalk),
        (Gamma(2.0, 1.0), LogRandomWalk),
        (Beta(2.0, 3.0), ReflectiveRandomWalk),
        (Uniform(-1.0, 2.0), ReflectiveRandomWalk),
        (Bernoulli(0.2), Flip),
        (Poisson(3.0), IntegerStep),
        (Categorical([0.2, 0.8]), PriorResample),
    ],
)
def test_default_proposal_by_support(dist, kind):
    assert type(default_proposal(dist)) is kind


def test_log_random_walk_hastings_term_is_the_jacobian(rng):
    for value in (0.01, 1.0, 250.0):
        new, log_q = LogRandomWalk().propose(rng, value, Gamma(2.0, 1.0), SiteState(0.7))
        assert new > 0.0
        assert log_q == pytest.approx(math.log(new) - math.log(value), abs=1e-12)


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (-2.0, 5.0), (0.0, math.inf)])
def test_reflection_stays_inside_and_is_identity_inside(low, high, rng):
    for x in rng.normal(0.0, 20.0, size=2000):
        y = _reflect(float(x), low, high)
        assert low <= y <= high
    assert _reflect(0.5, low, high) == 0.5 or not low <= 0.5 <= high


def test_reflected_walk_kernel_is_symmetric(rng):
    # Symmetry q(b | a) = q(a | b): histogram the move from a into bins around b and back.
    low, high, scale = 0.0, 1.0, 0.6
    a, b, half = 0.15, 0.8, 0.02
    n = 200_000
    from_a = np.array([_reflect(a + scale * z, low, high) for z in rng.standard_normal(n)])
    from_b = np.array([_reflect(b + scale * z, low, high) for z in rng.standard_normal(n)])
    p_ab = np.mean(np.abs(from_a - b) < half)
    p_ba = np.mean(np.abs(from_b - a) < half)
    # binomial standard errors of the two frequencies
    se = math.sqrt(p_ab * (1 - p_ab) / n + p_ba * (1 - p_ba) / n)
    assert abs(p_ab - p_ba) < 4.0 * se


def test_integer_step_is_symmetric(rng):
    steps = [IntegerStep(3).propose(rng, 10, Poisson(3.0), SiteState(1.0))[0] - 10
             for _ in range(30_000)]
    counts = {k: steps.count(k) for k in (-3, -2, -1, 1, 2, 3)}
    assert set(steps) == set(counts)
    # each of the 6 steps has probability 1/6: binomial sd sqrt(n p (1-p))
    sd = math.sqrt(30_000 * (1 / 6) * (5 / 6))
    assert all(abs(c - 5000) < 4.0 * sd for c in counts.values())


def test_prior_resample_hastings_term(rng):
    d = Categorical([0.1, 0.2, 0.7])
    for _ in range(20):
        new, log_q = PriorResample().propose(rng, 1, d, SiteState(1.0))
        assert log_q == pytest.approx(d.log_prob(1) - d.log_prob(new))


def test_flip_and_bad_proposal_arguments(rng):
    assert Flip().propose(rng, False, Bernoulli(0.5), SiteState(1.0)) == (True, 0.0)
    with pytest.raises(InvalidParameterError, match="max_step must be >= 1"):
        IntegerStep(0)
    with pytest.raises(InvalidParameterError, match="scale must be finite and > 0"):
        RandomWalk(scale=-1.0)


# --------------------------------------------------------------------------- prior targets


def _prior_only(dist):
    def model():
        sample("v", dist)

    return model


@pytest.mark.parametrize(
    "dist",
    [Normal(1.0, 2.0), Gamma(3.0, 2.0), Exponential(0.5), Beta(2.0, 5.0), Uniform(-1.0, 3.0)],
    ids=["normal", "gamma", "exponential", "beta", "uniform"],
)
def test_continuous_prior_is_invariant(dist):
    # With no data the target is the prior: the chain's mean and sd must match it.  This
    # checks each proposal's Hastings term (a missing Jacobian biases the gamma chain).
    r = mh_chains(_prior_only(dist), 4, 3000, 300, seed=11)
    draws = r.values["v"]
    _within(draws, float(dist.mean))
    sd_err = abs(float(np.std(draws, ddof=1)) - math.sqrt(float(dist.variance)))
    assert sd_err < 4.0 * mcse_sd(draws)


@pytest.mark.parametrize(
    "dist",
    [Poisson(2.5), Categorical([0.1, 0.6, 0.3]), Bernoulli(0.3)],
    ids=["poisson", "categorical", "bernoulli"],
)
def test_discrete_prior_is_invariant(dist):
    r = mh_chains(_prior_only(dist), 4, 3000, 100, seed=12)
    draws = r.values["v"].astype(int)
    for k in range(4):
        freq = (draws == k).astype(float)
        p = float(np.exp(dist.log_prob(k)))
        if p == 0.0:
            assert not freq.any()
        else:
            _within(freq, p)


# --------------------------------------------------------------------------- WORKLOADS.md W3


@pytest.mark.slow
def test_w3_reference_posterior_four_chains():
    # WORKLOADS.md W3 (n = 20): E[mu] = 0.7506, sd 0.2485, with split R-hat < 1.01.
    # Single-site updates of this hierarchical model mix slowly (mu moves once in 20
    # steps, and its conditional sd is 0.22 of a marginal 0.25), so 4 chains of 50,000
    # draws give a bulk ESS of a few thousand; they run on 2 processes.
    mean, sd, _ = im.reference_exact(20)
    with ProcessPoolExecutor(2) as ex:
        r = mh_chains(im.reference, 4, 50_000, 2000, seed=2026, args=(20,), executor=ex)
    mu = r.values["mu"]
    assert mu.shape == (4, 50_000)
    assert rhat(mu) < 1.01
    _within(mu, mean)
    assert abs(float(np.std(mu, ddof=1)) - sd) < 4.0 * mcse_sd(mu)
    assert 0.3 < float(r.acceptance_rates["mu"].mean()) < 0.6


# --------------------------------------------------------------------------- stochastic structure


def test_dimension_changing_model_keeps_the_exact_posterior():
    # Sites x_j appear and vanish with k: this needs the fresh/stale prior terms and the
    # log(|D| / |D'|) selection term of Wingate et al. (2011).
    y = 3.0
    post, mean_x0 = im.dimension_exact(y)
    r = mh_chains(im.dimension, 4, 12_000, 500, seed=31, args=(y,))
    k = r.values["k"]
    for j in (1, 2, 3, 4):
        _within((k == j).astype(float), post[j - 1])
    assert not r.present("x#1")[k == 1].any()
    assert r.present("x#1")[k >= 2].all()
    x0 = r.values["x#0"]  # exists in every draw
    _within(x0, mean_x0)


@pytest.mark.parametrize("discrete", ["mh", "gibbs"])
def test_branch_with_vanishing_site(discrete):
    p_b, mean_z, _ = im.branch_exact(1.5)
    r = mh_chains(im.branch, 4, 6000, 500, seed=32, args=(1.5,), discrete=discrete)
    b = r.values["b"]
    _within(b.astype(float), p_b)
    z = r.values["z"]
    present = r.present("z")
    np.testing.assert_array_equal(present, b)
    assert np.isnan(z[~present]).all()
    assert abs(r.mean("z") - mean_z) < 4.0 * math.sqrt(0.5) / math.sqrt(present.sum() / 20)


@pytest.mark.parametrize("discrete", ["mh", "gibbs"])
def test_address_whose_value_type_depends_on_a_branch(discrete):
    # "v" is a float on one branch and an int on the other: a value is reused only at a
    # site of its own type, symmetrically, or the chain is biased.
    p_b = im.branch_types_exact(1.0)
    r = mh_chains(im.branch_types, 4, 6000, 500, seed=33, args=(1.0,), discrete=discrete)
    _within(r.values["b"].astype(float), p_b)


# --------------------------------------------------------------------------- Gibbs


@pytest.mark.parametrize("model", [im.mixture, im.mixture_categorical],
                         ids=["bernoulli", "categorical"])
def test_gibbs_on_a_two_component_mixture(model):
    p_z, e_mu = im.mixture_exact()
    r = mh_chains(model, 4, 4000, 400, seed=41, discrete="gibbs")
    for i, p in enumerate(p_z):
        _within(r.values[f"z#{i}"].astype(float), p)
    for j in (0, 1):
        _within(r.values[f"mu#{j}"], e_mu[j])


def test_gibbs_steps_draw_from_the_exact_conditional(rng):
    # One Gibbs update of z#3 from a fixed state: the new value's frequency must be the
    # exact conditional, computed here by hand from the normal densities.
    kernel = SingleSiteMH(im.mixture, discrete="gibbs")
    values = {"mu#0": -0.5, "mu#1": 2.5}
    values.update({f"z#{i}": False for i in range(6)})
    state = kernel.init(rng, values=values)
    y = im.MIXTURE_DATA[3]
    w1 = im.MIXTURE_WEIGHT * stats.norm.pdf(y, 2.5, 1.0)
    w0 = (1 - im.MIXTURE_WEIGHT) * stats.norm.pdf(y, -0.5, 1.0)
    n = 4000
    hits = 0
    for _ in range(n):
        new, info = kernel.step(rng, state, "z#3")
        assert info.gibbs and info.acceptance_prob == pytest.approx(w1 / (w0 + w1))
        hits += new.trace.get_bool("z#3")
    p = w1 / (w0 + w1)
    assert abs(hits / n - p) < 4.0 * math.sqrt(p * (1 - p) / n)


# --------------------------------------------------------------------------- the kernel


def test_step_is_pure_and_trace_is_current(rng):
    kernel = SingleSiteMH(im.reference, args=(6,))
    state = kernel.init(rng)
    before = state.trace.to_trace()
    for _ in range(200):
        new, info = kernel.step(rng, state)
        assert isinstance(info, MHInfo) and isinstance(new, MHState)
        assert state.trace.to_trace() == before  # the input state never changes
        if info.accepted:
            assert new.trace is not state.trace
            # the state's log-densities are those of a fresh scoring of its values
            rescored = kernel.init(rng, values=new.trace.values())
            assert new.log_prior == pytest.approx(rescored.log_prior, abs=1e-9)
            assert new.log_likelihood == pytest.approx(rescored.log_likelihood, abs=1e-9)
            assert new.trace.log_prior == pytest.approx(new.log_prior, abs=1e-9)
            assert new.trace.log_likelihood == pytest.approx(new.log_likelihood, abs=1e-9)
            state, before = new, new.trace.to_trace()
    assert isinstance(state.trace, CowTrace)


def test_step_on_a_given_address(rng):
    kernel = SingleSiteMH(im.reference, args=(4,))
    state = kernel.init(rng)
    for _ in range(20):
        _, info = kernel.step(rng, state, "x#1")
        assert info.address == "x#1"
    with pytest.raises(MissingAddressError, match="'nope'"):
        kernel.step(rng, state, "nope")


def test_adaptation_tunes_during_warmup_and_freezes_after():
    def model():
        sample("x", Normal(0.0, 5.0))

    r = mh_chain(model, 2000, 3000, rng=np.random.default_rng(3))
    # The scale adapted toward acceptance 0.44 (a 1-D Gaussian: scale ~ 2.4 sd).
    assert 0.36 < r.acceptance_rate[0] < 0.52
    assert 5.0 < r.step_sizes["x"][0] < 25.0
    kernel = SingleSiteMH(model)
    rng = np.random.default_rng(4)
    state = kernel.init(rng)._replace(adapting=False)
    scales = {kernel.step(rng, state)[1].scale for _ in range(50)}
    assert len(scales) == 1  # frozen: every step uses the same scale


def test_proposal_override_is_used(rng):
    calls = []

    class Recording(RandomWalk):
        def propose(self, rng, value, dist, state):
            calls.append(state.scale)
            return super().propose(rng, value, dist, state)

    r = mh_chain(im.normal_normal, 300, 0, rng=rng,
                 proposals={"mu": Recording(scale=0.25, adaptive=False)})
    assert len(calls) == 300 and set(calls) == {0.25}
    assert math.isnan(r.step_sizes["mu"][0])


def test_result_shapes_and_stats():
    r = mh_chains(im.reference, 3, 400, 50, seed=5, args=(5,))
    assert r.n_chains == 3 and r.n_draws == 400
    assert r.addresses == ["mu", "x#0", "x#1", "x#2", "x#3"]
    for a in r.addresses:
        assert r.values[a].shape == (3, 400)
        assert r.acceptance_rates[a].shape == (3,)
        assert r.step_sizes[a].shape == (3,)
    for key in ("lp", "accepted", "acceptance_prob", "site"):
        assert r.sample_stats[key].shape == (3, 400)
    assert r.sampling_time_s.shape == (3,) and (r.sampling_time_s > 0).all()
    # the recorded values are those of each draw's state: replay the draw's log joint
    kernel = SingleSiteMH(im.reference, args=(5,))
    rng = np.random.default_rng(0)
    for d in (0, 123, 399):
        vals = {a: r.values[a][1, d] for a in r.addresses}
        state = kernel.init(rng, values={a: float(v) for a, v in vals.items()})
        assert state.log_joint == pytest.approx(r.log_joint[1, d], abs=1e-9)
    # a draw's value changes only where that draw accepted a move of that site
    mu = r.values["mu"][0]
    moved = np.flatnonzero(np.diff(mu) != 0) + 1
    assert (r.sample_stats["site"][0][moved] == "mu").all()
    assert r.sample_stats["accepted"][0][moved].all()
    assert set(r.to_arrays()) == set(r.addresses)


def test_same_seed_same_chains_whatever_the_executor():
    base = mh_chains(im.reference, 3, 200, 20, seed=77, args=(4,))
    with ThreadPoolExecutor(2) as ex:
        threaded = mh_chains(im.reference, 3, 200, 20, seed=77, args=(4,), executor=ex)
    with ProcessPoolExecutor(2) as ex:
        processes = mh_chains(im.reference, 3, 200, 20, seed=77, args=(4,), executor=ex)
    for other in (threaded, processes):
        for a in base.addresses:
            np.testing.assert_array_equal(base.values[a], other.values[a])
        np.testing.assert_array_equal(base.log_joint, other.log_joint)
    # chains differ from each other
    assert not np.array_equal(base.values["mu"][0], base.values["mu"][1])


def test_mh_chain_equals_a_single_chain_of_its_generator():
    a = mh_chain(im.gamma_poisson, 100, 10, rng=np.random.default_rng(8))
    b = mh_chain(im.gamma_poisson, 100, 10, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a.values["rate"], b.values["rate"])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples must be >= 1, got 0"),
        ({"n_warmup": -1}, "n_warmup must be >= 0, got -1"),
        ({"discrete": "slice"}, "discrete must be 'mh' or 'gibbs'"),
    ],
)
def test_bad_counts_and_modes_raise(kwargs, match, rng):
    args = {"n_samples": 10, "n_warmup": 5, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        mh_chain(im.normal_normal, rng=rng, **args)
    with pytest.raises(InvalidParameterError, match=match):
        mh_chains(im.normal_normal, 2, seed=0, **args)


def test_bad_arguments_raise(rng):
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        mh_chain(im.normal_normal, 10, 0, rng=1)
    with pytest.raises(TypeError, match="proposals must be a mapping"):
        mh_chain(im.normal_normal, 10, 0, rng=rng, proposals=[RandomWalk()])
    with pytest.raises(TypeError, match="propose"):
        mh_chain(im.normal_normal, 10, 0, rng=rng, proposals={"mu": object()})
    with pytest.raises(InvalidParameterError, match="n_chains must be >= 1"):
        mh_chains(im.normal_normal, 0, 10, 0, seed=0)
    with pytest.raises(InvalidParameterError, match="rng must be None when seed is given"):
        mh_chains(im.normal_normal, 2, 10, 0, seed=0, rng=rng)
    with pytest.raises(TypeError, match="n_samples must be an int"):
        mh_chain(im.normal_normal, 10.5, 0, rng=rng)


def test_impossible_model_raises(rng):
    with pytest.raises(DegenerateWeightsError, match="none of 1000 prior draws"):
        mh_chain(im.impossible, 10, 0, rng=rng)


def test_a_model_that_reuses_an_address_raises(rng):
    def twice():
        x = sample("x", Normal(0.0, 1.0))
        if x > 0:
            sample("x", Normal(0.0, 1.0))
        observe("y", Normal(x, 1.0), 0.0)

    from fugue_lab.errors import AddressConflictError

    with pytest.raises(AddressConflictError, match="'x'"):
        mh_chain(twice, 200, 0, rng=rng)


def test_vectorized_route_runs_the_lockstep_path():
    from fugue_lab.inference._chunks import spawn_seeds
    from fugue_lab.inference.vectorized import lockstep_mh_chains

    a = mh_chains(im.reference, 6, 300, 50, seed=13, args=(5,), vectorized=True)
    stream = np.random.default_rng(spawn_seeds(13, 1)[0])
    b = lockstep_mh_chains(im.reference, 6, 300, 50, rng=stream, args=(5,))
    np.testing.assert_array_equal(a.values["mu"], b.values["mu"])
    assert a.values["mu"].shape == (6, 300)
    with ThreadPoolExecutor(1) as ex, pytest.raises(InvalidParameterError, match="executor"):
        mh_chains(im.reference, 2, 10, 0, seed=0, args=(5,), vectorized=True, executor=ex)
    with pytest.raises(InvalidParameterError, match="discrete must be left at its default"):
        mh_chains(im.reference, 2, 10, 0, seed=0, args=(5,), vectorized=True, discrete="gibbs")


class _Independence:
    """A user proposal (only the protocol's propose and adaptive): x' ~ N(1, 1), with its
    Hastings term log q(x) - log q(x')."""

    adaptive = False

    def propose(self, rng, value, dist, state):
        new = 1.0 + rng.standard_normal()
        return new, stats.norm.logpdf(value, 1.0, 1.0) - stats.norm.logpdf(new, 1.0, 1.0)


def test_user_proposal_protocol_with_hastings_term():
    exact = im.normal_normal_exact()
    r = mh_chains(im.normal_normal, 4, 3000, 0, seed=14, proposals={"mu": _Independence()})
    _within(r.values["mu"], exact.mean)
    assert abs(float(np.std(r.values["mu"], ddof=1)) - exact.sd) < 4.0 * mcse_sd(r.values["mu"])
