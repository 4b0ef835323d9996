from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fugue_lab import (
    Bernoulli,
    Categorical,
    Gamma,
    Normal,
    PriorHandler,
    ReplayHandler,
    SafeReplayHandler,
    SafeScoreHandler,
    ScoreHandler,
    addr,
    factor,
    observe,
    plate,
    run,
    sample,
)
from fugue_lab.errors import FugueLabWarning, MissingAddressError, TypeMismatchError
from fugue_lab.runtime.handlers import conforms


def regression(xs, ys):
    slope = sample("slope", Normal(0.0, 10.0))
    noise = sample("noise", Gamma(2.0, 1.0))
    for i, (x, y) in enumerate(zip(xs, ys)):
        observe(addr("y", i), Normal(slope * x, noise), y)
    factor(-0.5)
    return slope


def branching():
    if sample("coin", Bernoulli(0.5)):
        return sample("heads", Normal(0.0, 1.0))
    return sample("tails", Categorical([0.2, 0.3, 0.5]))


XS = [0.0, 1.0, 2.0, 3.0]
YS = [0.1, 0.9, 2.2, 2.8]


def test_prior_handler_records_exact_log_densities(rng):
    slope, trace = run(PriorHandler(rng), regression, XS, YS)
    noise = trace.get_float("noise")
    assert trace.get_float("slope") == slope
    assert trace["slope"].log_prob == pytest.approx(stats.norm(0, 10).logpdf(slope), rel=1e-12)
    assert trace["noise"].log_prob == pytest.approx(
        stats.gamma(2.0, scale=1.0).logpdf(noise), rel=1e-12
    )
    lik = sum(stats.norm(slope * x, noise).logpdf(y) for x, y in zip(XS, YS))
    assert trace.log_likelihood == pytest.approx(lik, rel=1e-12)
    assert trace.log_factors == -0.5
    assert list(trace.observations) == [addr("y", i) for i in range(4)]
    assert trace.total_log_weight == pytest.approx(
        trace.log_prior + trace.log_likelihood - 0.5, rel=1e-15
    )


def test_same_seed_same_trace():
    a = run(PriorHandler(np.random.default_rng(5)), regression, XS, YS)[1]
    b = run(PriorHandler(np.random.default_rng(5)), regression, XS, YS)[1]
    assert a == b


def test_prior_handler_is_reusable(rng):
    handler = PriorHandler(rng)
    t1 = run(handler, regression, XS, YS)[1]
    t2 = run(handler, regression, XS, YS)[1]
    assert t1 is not t2 and t1 != t2


def test_prior_handler_needs_a_generator():
    with pytest.raises(TypeError, match=r"numpy.random.Generator"):
        PriorHandler(42)  # type: ignore[arg-type]


def test_replay_reuses_values_and_draws_the_rest(rng):
    _, base = run(PriorHandler(rng), regression, XS, YS)
    partial = {"slope": base.get_float("slope")}
    _, replayed = run(ReplayHandler(rng, partial), regression, XS, YS)
    assert replayed.get_float("slope") == base.get_float("slope")
    assert replayed.get_float("noise") != base.get_float("noise")


def test_replay_across_structure_change(rng):
    # replaying a 'heads' trace into a run that goes 'tails' draws the new site
    base = {"coin": False, "heads": 0.3}
    value, trace = run(ReplayHandler(rng, base), branching)
    assert list(trace.choices) == ["coin", "tails"]
    assert value in (0, 1, 2)


def test_replay_type_mismatch_raises(rng):
    with pytest.raises(TypeMismatchError, match=r"'coin': expected a bool value, got float"):
        run(ReplayHandler(rng, {"coin": 0.5}), branching)


def test_score_missing_address_raises_and_names_it():
    with pytest.raises(MissingAddressError, match="'heads'"):
        run(ScoreHandler({"coin": True}), branching)


def test_score_type_mismatch_raises():
    with pytest.raises(TypeMismatchError, match="'noise'"):
        run(ScoreHandler({"slope": 1.0, "noise": True}), regression, XS, YS)


def test_safe_score_weights_minus_inf_and_warns_once_per_address():
    handler = SafeScoreHandler({"coin": True})
    with pytest.warns(FugueLabWarning, match=r"'heads' is not in the scored trace") as record:
        for _ in range(5):
            _, trace = run(handler, branching)
            assert trace.total_log_weight == -math.inf
    assert len(record) == 1
    assert record[0].filename == __file__  # points at the model's line


def test_safe_replay_type_mismatch_weights_minus_inf(rng):
    with pytest.warns(FugueLabWarning, match="'coin'"):
        _, trace = run(SafeReplayHandler(rng, {"coin": 1.5}), branching)
    assert trace["coin"].log_prob == -math.inf
    assert not trace.is_valid


def test_safe_handlers_do_not_warn_on_good_traces(rng):
    _, base = run(PriorHandler(rng), branching)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, t1 = run(SafeScoreHandler(base), branching)
        _, t2 = run(SafeReplayHandler(rng, base), branching)
    assert t1.total_log_weight == base.total_log_weight == t2.total_log_weight


def test_out_of_support_value_scores_minus_inf():
    _, trace = run(ScoreHandler({"coin": False, "tails": 7}), branching)
    assert trace["tails"].log_prob == -math.inf
    assert trace.total_log_weight == -math.inf


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_law_replay_then_score_gives_the_same_weight(seed):
    rng = np.random.default_rng(seed)
    _, prior = run(PriorHandler(rng), regression, XS, YS)
    _, replayed = run(ReplayHandler(rng, prior), regression, XS, YS)
    _, scored = run(ScoreHandler(prior), regression, XS, YS)
    _, scored_again = run(ScoreHandler(scored), regression, XS, YS)
    assert replayed == prior
    assert scored == prior
    assert scored_again == scored


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_law_scoring_a_branching_model_is_idempotent(seed):
    _, prior = run(PriorHandler(np.random.default_rng(seed)), branching)
    _, scored = run(ScoreHandler(prior.values()), branching)
    assert scored == prior


def test_vectorized_plate_observe_matches_scalar_loop(rng):
    ys = rng.normal(1.0, 2.0, size=30)

    def vectorized():
        mu = sample("mu", Normal(0.0, 5.0))
        with plate("data", len(ys)):
            observe("y", Normal(mu, 2.0), ys)

    def looped():
        mu = sample("mu", Normal(0.0, 5.0))
        for i, y in enumerate(ys):
            observe(addr("y", i), Normal(mu, 2.0), float(y))

    _, a = run(ScoreHandler({"mu": 0.7}), vectorized)
    _, b = run(ScoreHandler({"mu": 0.7}), looped)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-12)


@pytest.mark.parametrize(
    ("dist", "good", "bad"),
    [
        (Normal(0.0, 1.0), [0.5, 1, np.float32(2.0), np.zeros(3)], [True, np.array([True])]),
        (Bernoulli(0.5), [True, np.bool_(False), np.array([True])], [1, 0.0, np.zeros(2)]),
        (Categorical([0.5, 0.5]), [1, np.int64(0), np.array([1])], [1.0, True]),
    ],
)
def test_conforms(dist, good, bad):
    assert all(conforms(dist, v) for v in good)
    assert not any(conforms(dist, v) for v in bad)


def test_latent_site_in_a_plate_draws_one_value_per_member(rng):
    def model():
        with plate("groups", 5):
            effects = sample("effect", Normal(0.0, 2.0))
        return effects

    effects, trace = run(PriorHandler(rng), model)
    assert effects.shape == (5,)
    assert trace["effect"].log_prob == pytest.approx(
        stats.norm(0.0, 2.0).logpdf(effects).sum(), rel=1e-12
    )
    _, rescored = run(ScoreHandler(trace), model)
    assert rescored == trace


def test_a_site_with_array_parameters_has_one_log_density(rng):
    def model():
        return sample("x", Normal(np.zeros(3), 1.0))

    x, trace = run(PriorHandler(rng), model)
    assert x.shape == (3,) and type(trace.log_prior) is float
    assert trace.log_prior == pytest.approx(stats.norm.logpdf(x).sum(), rel=1e-12)
    _, scored = run(ScoreHandler(trace), model)
    assert scored.log_prior == trace.log_prior
