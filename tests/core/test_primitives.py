from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import stats

from fugue_lab import (
    Normal,
    PriorHandler,
    addr,
    factor,
    guard,
    observe,
    plate,
    run,
    sample,
    scope,
)
from fugue_lab.core.primitives import Handler, active_handler, current_plates
from fugue_lab.errors import (
    AddressConflictError,
    HandlerError,
    InvalidParameterError,
    NoHandlerError,
)


@pytest.mark.parametrize(
    ("primitive", "args"),
    [
        (sample, ("x", Normal(0.0, 1.0))),
        (observe, ("y", Normal(0.0, 1.0), 0.0)),
        (factor, (0.0,)),
        (guard, (True,)),
    ],
)
def test_primitive_outside_run_says_to_use_run(primitive, args):
    with pytest.raises(NoHandlerError, match=r"run\(PriorHandler"):
        primitive(*args)


def test_sample_rejects_bad_address_and_distribution(rng):
    with pytest.raises(TypeError, match="address must be a str"):
        run(PriorHandler(rng), sample, 3, Normal(0.0, 1.0))
    with pytest.raises(TypeError, match="Distribution"):
        run(PriorHandler(rng), sample, "x", 3.0)


@pytest.mark.parametrize(
    "model",
    [
        lambda: (sample("x", Normal(0.0, 1.0)), sample("x", Normal(0.0, 1.0))),
        lambda: (sample("x", Normal(0.0, 1.0)), observe("x", Normal(0.0, 1.0), 0.0)),
        lambda: (observe("y", Normal(0.0, 1.0), 0.0), observe("y", Normal(0.0, 1.0), 0.0)),
        lambda: [sample(addr("x", 1), Normal(0.0, 1.0)) for _ in range(2)],
    ],
)
def test_duplicate_address_names_it(rng, model):
    with pytest.raises(AddressConflictError, match=r"'x(#1)?'|'y'"):
        run(PriorHandler(rng), model)


def test_scope_prefixes_addresses(rng):
    def sub():
        return sample("x", Normal(0.0, 1.0))

    def model():
        with scope("a"):
            sub()
        with scope("b"):
            sub()
        return sample("x", Normal(0.0, 1.0))

    _, trace = run(PriorHandler(rng), model)
    assert list(trace.choices) == ["a::x", "b::x", "x"]


def test_handler_cannot_be_installed_twice(rng):
    handler = PriorHandler(rng)

    def nested():
        run(handler, sample, "x", Normal(0.0, 1.0))

    with pytest.raises(HandlerError, match="already running"):
        run(handler, nested)
    assert active_handler() is None
    # the handler recovers and can run again
    value, trace = run(handler, sample, "x", Normal(0.0, 1.0))
    assert trace.get_float("x") == value


def test_nested_run_with_another_handler_is_independent(rng):
    def inner():
        return sample("z", Normal(0.0, 1.0))

    def outer():
        _, inner_trace = run(PriorHandler(np.random.default_rng(1)), inner)
        sample("x", Normal(0.0, 1.0))
        return inner_trace

    inner_trace, trace = run(PriorHandler(rng), outer)
    assert list(inner_trace.choices) == ["z"]
    assert list(trace.choices) == ["x"]


def test_exception_in_model_unwinds_handler_and_scope(rng):
    handler = PriorHandler(rng)

    def broken():
        with scope("s"):
            sample("x", Normal(0.0, 1.0))
            raise RuntimeError("model failed")

    with pytest.raises(RuntimeError, match="model failed"):
        run(handler, broken)
    assert active_handler() is None
    _, trace = run(handler, sample, "x", Normal(0.0, 1.0))
    assert list(trace.choices) == ["x"]  # nothing left over from the failed run


def test_run_rejects_non_handler():
    with pytest.raises(TypeError, match="Handler"):
        run(object(), sample, "x", Normal(0.0, 1.0))  # type: ignore[arg-type]


def test_plate_scores_vectorized_observations_as_a_sum(rng):
    ys = rng.normal(size=50)

    def model():
        mu = sample("mu", Normal(0.0, 1.0))
        with plate("data", len(ys)) as frame:
            assert current_plates() == (frame,)
            observe("y", Normal(mu, 2.0), ys)
        return mu

    mu, trace = run(PriorHandler(rng), model)
    expected = stats.norm(mu, 2.0).logpdf(ys).sum()
    assert trace.log_likelihood == pytest.approx(expected, rel=1e-12)
    assert type(trace.log_likelihood) is float
    assert current_plates() == ()


def test_plate_validates_size():
    with pytest.raises(InvalidParameterError, match="size must be >= 0, got -1"), plate("p", -1):
        pass
    with pytest.raises(TypeError, match="size must be an int"), plate("p", 2.5):  # type: ignore
        pass


def test_factor_and_guard(rng):
    def model():
        factor(-1.25)
        factor(np.float32(-0.75))
        guard(True)

    _, trace = run(PriorHandler(rng), model)
    assert trace.log_factors == -2.0
    _, trace = run(PriorHandler(rng), guard, False)
    assert trace.log_factors == -np.inf and not trace.is_valid


@pytest.mark.parametrize("bad", ["1.0", None, True])
def test_factor_rejects_non_numbers(rng, bad):
    with pytest.raises(TypeError, match="log_weight"):
        run(PriorHandler(rng), factor, bad)


def test_runs_in_threads_do_not_interfere():
    results = {}
    barrier = threading.Barrier(4)

    def model(tag):
        barrier.wait()
        for i in range(200):
            sample(addr(tag, i), Normal(0.0, 1.0))
        return tag

    def worker(k):
        tag = f"t{k}"
        _, trace = run(PriorHandler(np.random.default_rng(k)), model, tag)
        results[tag] = trace

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for tag, trace in results.items():
        assert len(trace) == 200
        assert all(a.startswith(tag + "#") for a in trace.choices)


def test_base_handler_methods_must_be_overridden():
    h = Handler()
    with pytest.raises(NotImplementedError):
        h.on_sample("x", Normal(0.0, 1.0))
