from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy import stats

from fugue_lab import (
    Bernoulli,
    Exponential,
    Gamma,
    Normal,
    PriorHandler,
    ScoreHandler,
    StudentT,
    addr,
    factor,
    guard,
    observe,
    plate,
    run,
    sample,
)
from fugue_lab.errors import AddressConflictError, InvalidParameterError, UnbatchableModelError
from fugue_lab.models import W2_OBS as YS
from fugue_lab.models import is_vec100 as w2
from fugue_lab.runtime.batched import (
    BatchedPriorHandler,
    BatchedReplayHandler,
    BatchedScoreHandler,
    BatchedValue,
    particle_values,
)
from fugue_lab.runtime.pool import TracePool


def w2_loop(ys):
    mu = sample("mu", Normal(0.0, 10.0))
    precision = sample("precision", Gamma(2.0, 1.0))
    sigma = np.sqrt(1.0 / precision)
    for i, y in enumerate(ys):
        observe(addr("y", i), Normal(mu, sigma), float(y))
    return mu


def robust(xs, ys):
    slope = sample("slope", Normal(0.0, 3.0))
    with plate("data", len(xs)):
        offsets = sample("offset", Normal(0.0, 0.1))
        observe("y", StudentT(4.0, slope * xs + offsets, 0.5), ys)
    factor(-0.1 * slope * slope)
    return slope


def scalar_weights(model, trace, n, *args):
    """Each particle's weights from an independent scalar ScoreHandler run."""
    out = []
    for i in range(n):
        values = {a: c.value[i] for a, c in trace.choices.items()}
        values = {a: (float(v) if np.ndim(v) == 0 else v) for a, v in values.items()}
        _, t = run(ScoreHandler(values), model, *args)
        out.append((t.log_prior, t.log_likelihood, t.log_factors))
    return np.array(out)


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("model", [w2, w2_loop])
def test_batched_weights_equal_scalar_scores(rng, model, pooled):
    n = 64
    pool = TracePool(2) if pooled else None
    mu, trace = run(BatchedPriorHandler(rng, n, pool=pool), model, YS)
    assert isinstance(mu, BatchedValue) and mu.shape == (n, 1)
    assert trace["mu"].value.shape == (n,) and trace["mu"].log_prob.shape == (n,)
    expected = scalar_weights(model, trace, n, YS)
    np.testing.assert_allclose(trace.log_prior, expected[:, 0], rtol=1e-12)
    np.testing.assert_allclose(trace.log_likelihood, expected[:, 1], rtol=1e-12)


def test_plate_latents_and_other_distributions_are_scored_right(rng):
    xs = np.linspace(-1, 1, 7)
    ys = 2 * xs + 0.3
    n = 40
    for pool in (None, TracePool(1)):
        _, trace = run(BatchedPriorHandler(rng, n, pool=pool), robust, xs, ys)
        assert trace["offset"].value.shape == (n, 7)
        expected = scalar_weights(robust, trace, n, xs, ys)
        np.testing.assert_allclose(trace.log_prior, expected[:, 0], rtol=1e-12)
        np.testing.assert_allclose(trace.log_likelihood, expected[:, 1], rtol=1e-12)
        np.testing.assert_allclose(trace.log_factors, expected[:, 2], rtol=1e-12)


def test_draws_follow_the_prior(rng):
    n = 20_000
    _, trace = run(BatchedPriorHandler(rng, n), w2, YS)
    mu = trace["mu"].value
    prec = trace["precision"].value
    # 5 standard errors of the mean: a fixed-seed check that fails if scale or rate is wrong
    assert abs(mu.mean()) < 5 * 10.0 / math.sqrt(n)
    assert abs(mu.std() - 10.0) < 5 * 10.0 / math.sqrt(2 * n)
    assert abs(prec.mean() - 2.0) < 5 * math.sqrt(2.0 / n)


def test_float32_runs_in_single_precision_and_agrees(rng):
    seed = 7
    _, t64 = run(BatchedPriorHandler(np.random.default_rng(seed), 256), w2, YS)
    for pool in (None, TracePool(1)):
        handler = BatchedPriorHandler(np.random.default_rng(seed), 256, np.float32, pool=pool)
        _, t32 = run(handler, w2, YS)
        assert t32["mu"].value.dtype == np.float32
        assert t32.log_likelihood.dtype == np.float32
        # same seed, same stream; values agree to float32 rounding
        rescored = scalar_weights(w2, t32, 8, YS)[:, 1]
        np.testing.assert_allclose(t32.log_likelihood[:8], rescored, rtol=1e-4)
    assert t64.log_likelihood.dtype == np.float64


def test_branching_on_a_sampled_value_names_the_site(rng):
    def branching():
        x = sample("x", Normal(0.0, 1.0))
        if x > 0:
            sample("y", Normal(0.0, 1.0))

    with pytest.raises(UnbatchableModelError, match=r"site 'x'.*np.where"):
        run(BatchedPriorHandler(rng, 10), branching)


@pytest.mark.parametrize(
    "use",
    [lambda v: math.exp(v), lambda v: list(range(10))[v], lambda v: range(v), lambda v: int(v)],
)
def test_scalar_uses_of_a_batched_value_are_refused(rng, use):
    def model():
        k = sample("k", Normal(0.0, 1.0))
        use(k)

    with pytest.raises(UnbatchableModelError, match="'k'"):
        run(BatchedPriorHandler(rng, 5), model)


def test_where_branches_and_guard_work_batched(rng):
    def model():
        b = sample("b", Bernoulli(0.3))
        x = sample("x", Normal(np.where(b, 5.0, -5.0), 1.0))
        guard(x > -100.0)
        return b

    _, trace = run(BatchedPriorHandler(rng, 2000), model)
    flags = trace["b"].value
    assert flags.dtype == np.bool_
    x = trace["x"].value
    assert (x[flags] > 0).mean() > 0.99 and (x[~flags] < 0).mean() > 0.99
    assert np.all(trace.log_factors == 0.0)


def test_nested_plates_and_bad_layouts_are_refused(rng):
    def nested():
        with plate("a", 3), plate("b", 2):
            sample("z", Normal(0.0, 1.0))

    with pytest.raises(UnbatchableModelError, match="nested plates"):
        run(BatchedPriorHandler(rng, 4), nested)

    def flattened():
        x = sample("x", Normal(0.0, 1.0))
        sample("y", Normal(x.ravel(), 1.0))

    with pytest.raises(UnbatchableModelError, match="does not line up"):
        run(BatchedPriorHandler(rng, 4), flattened)


def test_duplicate_address_and_bad_arguments(rng):
    def twice():
        sample("x", Normal(0.0, 1.0))
        observe("x", Normal(0.0, 1.0), 0.0)

    with pytest.raises(AddressConflictError, match="'x'"):
        run(BatchedPriorHandler(rng, 3), twice)
    with pytest.raises(InvalidParameterError, match="n must be >= 1, got 0"):
        BatchedPriorHandler(rng, 0)
    with pytest.raises(InvalidParameterError, match="dtype"):
        BatchedPriorHandler(rng, 3, dtype=np.int64)
    with pytest.raises(TypeError, match="Generator"):
        BatchedPriorHandler(3, 3)  # type: ignore[arg-type]


def test_replay_and_score_handlers(rng):
    n = 16
    _, trace = run(BatchedPriorHandler(rng, n), w2, YS)
    values = {a: c.value for a, c in trace.choices.items()}
    _, scored = run(BatchedScoreHandler(n, values), w2, YS)
    np.testing.assert_array_equal(scored.log_prior, trace.log_prior)
    np.testing.assert_array_equal(scored.log_likelihood, trace.log_likelihood)
    _, replayed = run(BatchedReplayHandler(rng, n, {"mu": values["mu"]}), w2, YS)
    np.testing.assert_array_equal(replayed["mu"].value, values["mu"])
    assert not np.array_equal(replayed["precision"].value, values["precision"])


def test_particle_values_unwraps_the_layout():
    v = np.arange(6.0).reshape(6, 1).view(BatchedValue)
    out = particle_values((v, {"a": v}, [v], 3), 6)
    assert out[0].shape == (6,) and type(out[0]) is np.ndarray
    assert out[1]["a"].shape == (6,) and out[2][0].shape == (6,) and out[3] == 3


def _allocated(fn):
    tracemalloc.start()
    try:
        fn()
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_warm_pooled_run_allocates_under_5_percent_of_an_unpooled_run():
    n = 10_000
    pool = TracePool(2)

    def pooled():
        _, trace = run(BatchedPriorHandler(np.random.default_rng(0), n, pool=pool), w2, YS)
        pool.put(trace, recycle_arrays=True)

    def unpooled():
        run(BatchedPriorHandler(np.random.default_rng(0), n), w2, YS)

    pooled()  # warm-up fills the pool
    fresh_pooled = _allocated(pooled)
    fresh_unpooled = _allocated(unpooled)
    assert fresh_pooled < 0.05 * fresh_unpooled, (fresh_pooled, fresh_unpooled)


def _arrays(trace):
    items = [trace.log_prior, trace.log_likelihood, trace.log_factors]
    items += [c.value for c in trace.choices.values()]
    items += [c.log_prob for c in trace.choices.values()]
    items += list(trace.observations.values())
    return {id(a) for a in items if isinstance(a, np.ndarray)}


def test_pooled_run_reuses_the_same_buffers():
    pool = TracePool(1)
    _, t1 = run(BatchedPriorHandler(np.random.default_rng(0), 100, pool=pool), w2, YS)
    first = _arrays(t1)
    pool.put(t1, recycle_arrays=True)
    _, t2 = run(BatchedPriorHandler(np.random.default_rng(1), 100, pool=pool), w2, YS)
    assert t2 is t1
    assert _arrays(t2) == first  # the very same arrays, refilled


def test_flattened_particle_values_in_an_observation_are_refused(rng):
    # a (n,) parameter would otherwise be summed as if it were data
    def flattened():
        x = sample("x", Normal(0.0, 1.0))
        observe("y", Normal(x[:, 0], 1.0), 0.5)

    with pytest.raises(UnbatchableModelError, match=r"site 'y'.*does not line up"):
        run(BatchedPriorHandler(rng, 4), flattened)


def test_pooled_plate_without_particle_parameters_scores_the_data_once(rng):
    ys = np.array([0.3, 1.2, 0.1, 2.0, 0.7, 0.05, 1.5])  # 7 values: not a multiple of anything

    def model():
        sample("x", Normal(0.0, 1.0))
        with plate("data", len(ys)):
            observe("y", Exponential(2.0), ys)

    exact = stats.expon(scale=0.5).logpdf(ys).sum()
    for pool in (None, TracePool(1)):
        _, trace = run(BatchedPriorHandler(rng, 4, pool=pool), model)
        np.testing.assert_allclose(trace.log_likelihood, np.full(4, exact), rtol=1e-12)


def test_pooled_replay_copies_the_callers_values(rng):
    given = np.array([0.0, 1.0, 2.0])
    pool = TracePool(2)
    _, trace = run(BatchedReplayHandler(rng, 3, {"mu": given}, pool=pool), w2, YS)
    assert not np.shares_memory(trace["mu"].value, given)
    pool.put(trace, recycle_arrays=True)
    run(BatchedPriorHandler(rng, 3, pool=pool), w2, YS)
    np.testing.assert_array_equal(given, [0.0, 1.0, 2.0])


def test_a_data_only_factor_array_is_summed_like_the_scalar_run(rng):
    weights = np.log([0.1, 0.2, 0.3, 0.4])

    def model():
        sample("x", Normal(0.0, 1.0))
        factor(weights)

    _, scalar = run(PriorHandler(rng), model)
    for n in (4, 5):  # n == len(weights) must not turn data into per-particle weights
        _, trace = run(BatchedPriorHandler(rng, n), model)
        np.testing.assert_allclose(trace.log_factors, scalar.log_factors, rtol=1e-12)

    def per_particle():
        x = sample("x", Normal(0.0, 1.0))
        factor(-0.5 * x[:, 0] ** 2)  # derived from a sampled value: one weight per particle

    _, trace = run(BatchedPriorHandler(rng, 6), per_particle)
    np.testing.assert_allclose(trace.log_factors, -0.5 * trace["x"].value ** 2)
