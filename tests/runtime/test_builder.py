"""TraceBuilder: single and batched adds, conflicts, and equality with a handler's trace."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fugue_lab.core.address import addr
from fugue_lab.core.distributions import Bernoulli, Gamma, Normal, Poisson
from fugue_lab.core.primitives import factor, observe, sample
from fugue_lab.errors import AddressConflictError, InvalidParameterError
from fugue_lab.runtime.handlers import PriorHandler, ScoreHandler, run
from fugue_lab.runtime.memory import TraceBuilder
from fugue_lab.runtime.trace import Choice, Trace


def mixed_model(n: int) -> None:
    mu = sample("mu", Normal(0.0, 1.0))
    rate = sample("rate", Gamma(2.0, 1.0))
    for i in range(n):
        sample(addr("x", i), Normal(mu, 1.0))
        observe(addr("y", i), Normal(mu, 0.5), 0.1 * i)
    sample("k", Poisson(rate))
    sample("b", Bernoulli(0.3))
    factor(-0.75)


def _records(trace: Trace) -> tuple[list[str], list[object], list[float]]:
    addresses = list(trace.choices)
    return (
        addresses,
        [trace.choices[a].value for a in addresses],
        [trace.choices[a].log_prob for a in addresses],
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_single_adds_rebuild_a_handler_trace_exactly(seed: int) -> None:
    _, trace = run(PriorHandler(np.random.default_rng(seed)), mixed_model, 30)
    builder = TraceBuilder()
    for address, choice in trace.choices.items():
        builder.add_sample(address, choice.value, choice.log_prob)
    for address, log_lik in trace.observations.items():
        builder.add_observation(log_lik, address)
    builder.add_factor(trace.log_factors)
    built = builder.build()
    # Trace equality is exact: order, values, log-probs and the three accumulators.
    assert built == trace
    assert built.total_log_weight == trace.total_log_weight


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("split", [0, 1, 17, 34])
def test_a_batch_equals_the_same_single_adds(seed: int, split: int) -> None:
    _, trace = run(PriorHandler(np.random.default_rng(seed)), mixed_model, 30)
    addresses, values, log_probs = _records(trace)
    single = TraceBuilder()
    for a, v, lp in zip(addresses, values, log_probs):
        single.add_sample(a, v, lp)
    batched = TraceBuilder(capacity=len(addresses))
    for a, v, lp in zip(addresses[:split], values[:split], log_probs[:split]):
        batched.add_sample(a, v, lp)
    batched.add_samples(addresses[split:], values[split:], log_probs[split:])
    a, b = single.build(), batched.build()
    assert a == b
    assert a.log_prior == b.log_prior  # summed in the same order: bit for bit


def test_built_trace_rescores_to_its_own_weights() -> None:
    """A builder fed ScoreHandler's view of the values gives the weights a re-run gives."""
    _, trace = run(PriorHandler(np.random.default_rng(11)), mixed_model, 5)
    _, rescored = run(ScoreHandler(trace), mixed_model, 5)
    built = TraceBuilder().add_samples(*_records(trace)).add_factor(-0.75)
    for address, log_lik in trace.observations.items():
        built.add_observation(log_lik, address)
    assert built.build().total_log_weight == rescored.total_log_weight


@pytest.mark.parametrize(
    ("lengths", "text"),
    [((3, 2, 3), "got 3, 2 and 3"), ((1, 1, 0), "got 1, 1 and 0"), ((0, 2, 2), "got 0, 2 and 2")],
)
def test_batch_length_mismatch_names_the_lengths(lengths: tuple[int, int, int], text: str) -> None:
    n_a, n_v, n_l = lengths
    builder = TraceBuilder()
    with pytest.raises(ValueError, match=text):
        builder.add_samples([f"a{i}" for i in range(n_a)], [0.0] * n_v, [0.0] * n_l)
    assert len(builder) == 0


def test_duplicate_addresses_raise_and_leave_the_builder_unchanged() -> None:
    builder = TraceBuilder().add_sample("a", 1.0, -1.0).add_observation(-2.0, "y")
    with pytest.raises(AddressConflictError, match="'a'"):
        builder.add_sample("a", 2.0, -2.0)
    with pytest.raises(AddressConflictError, match="'y'"):
        builder.add_sample("y", 2.0, -2.0)
    with pytest.raises(AddressConflictError, match="'a'"):
        builder.add_observation(-1.0, "a")
    with pytest.raises(AddressConflictError, match="'b'"):
        builder.add_samples(["b", "c", "b"], [1.0, 2.0, 3.0], [-1.0, -2.0, -3.0])
    with pytest.raises(AddressConflictError, match="'a'"):
        builder.add_samples(["d", "a"], [1.0, 2.0], [-1.0, -2.0])
    with pytest.raises(AddressConflictError, match="'y'"):
        builder.add_samples(["e", "y"], [1.0, 2.0], [-1.0, -2.0])
    trace = builder.build()
    assert trace == Trace({"a": Choice("a", 1.0, -1.0)}, {"y": -2.0}, -1.0, -2.0, 0.0)


@pytest.mark.parametrize("bad", [3, None, ("a",), b"a"])
def test_addresses_must_be_strings(bad: object) -> None:
    with pytest.raises(TypeError, match="address must be a str"):
        TraceBuilder().add_sample(bad, 1.0, -1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="address must be a str"):
        TraceBuilder().add_samples(["ok", bad], [1.0, 2.0], [-1.0, -2.0])  # type: ignore[list-item]
    if bad is not None:  # None means an anonymous observation
        with pytest.raises(TypeError, match="address must be a str"):
            TraceBuilder().add_observation(-1.0, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["-1.0", None, True, [1.0], complex(1, 0)])
def test_log_weights_must_be_real(bad: object) -> None:
    with pytest.raises(TypeError, match="real number"):
        TraceBuilder().add_sample("a", 1.0, bad)
    with pytest.raises(TypeError, match="real number"):
        TraceBuilder().add_samples(["a", "b"], [1.0, 2.0], [-1.0, bad])
    with pytest.raises(TypeError, match="real number"):
        TraceBuilder().add_observation(bad)
    with pytest.raises(TypeError, match="real number"):
        TraceBuilder().add_factor(bad)


def test_numpy_scalars_ints_and_arrays_are_accepted() -> None:
    lp = np.array([-1.0, -2.0])
    trace = (
        TraceBuilder()
        .add_sample("a", 1, np.float64(-0.5))
        .add_samples(["b", "c"], np.array([1.0, 2.0]), [np.float32(-1.0), -2])
        .add_sample("v", np.array([0.1, 0.2]), lp)
        .build()
    )
    assert trace.get_int("a") == 1
    np.testing.assert_array_equal(trace.log_prior, -3.5 + lp)


def test_anonymous_observation_only_adds_to_the_likelihood() -> None:
    trace = TraceBuilder().add_observation(-1.5).add_observation(-0.5, "y").build()
    assert trace.observations == {"y": -0.5}
    assert trace.log_likelihood == -2.0


def test_build_hands_over_and_resets() -> None:
    builder = TraceBuilder(capacity=4).add_sample("x", 0.5, -1.0).add_factor(-math.inf)
    first = builder.build()
    assert first.num_choices == 1 and first.log_factors == -math.inf
    assert len(builder) == 0 and builder.capacity == 4
    second = builder.add_sample("x", 0.25, -0.5).build()  # "x" is free again
    assert second.get_float("x") == 0.25 and second.log_factors == 0.0
    assert first.get_float("x") == 0.5


def test_empty_batch_is_a_no_op() -> None:
    assert TraceBuilder().add_samples([], [], []).build() == Trace()


@pytest.mark.parametrize("capacity", [-1, 2.5, "10", True])
def test_capacity_is_validated(capacity: object) -> None:
    with pytest.raises(InvalidParameterError, match="capacity"):
        TraceBuilder(capacity)  # type: ignore[arg-type]
