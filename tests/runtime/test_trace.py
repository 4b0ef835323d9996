from __future__ import annotations

import math

import numpy as np
import pytest

from fugue_lab import Bernoulli, Normal, Poisson, PriorHandler, run, sample
from fugue_lab.errors import MissingAddressError, TypeMismatchError
from fugue_lab.runtime.trace import Choice, Trace


def mixed_model():
    x = sample("x", Normal(0.0, 1.0))
    k = sample("k", Poisson(3.0))
    b = sample("b", Bernoulli(0.3))
    return x, k, b


def test_typed_getters(rng):
    (x, k, b), trace = run(PriorHandler(rng), mixed_model)
    assert trace.get_float("x") == x and type(trace.get_float("x")) is float
    assert trace.get_int("k") == k and type(trace.get_int("k")) is int
    assert trace.get_bool("b") is b


@pytest.mark.parametrize(
    ("getter", "address", "expected"),
    [("get_int", "x", "int"), ("get_float", "k", "float"), ("get_bool", "k", "bool"),
     ("get_int", "b", "int"), ("get_float", "b", "float")],
)
def test_typed_getter_mismatch_names_address_and_types(rng, getter, address, expected):
    _, trace = run(PriorHandler(rng), mixed_model)
    with pytest.raises(TypeMismatchError, match=rf"'{address}': expected a {expected} value, got"):
        getattr(trace, getter)(address)


def test_missing_address(rng):
    _, trace = run(PriorHandler(rng), mixed_model)
    with pytest.raises(MissingAddressError, match="'nope' is not in the trace"):
        trace.get_float("nope")
    with pytest.raises(MissingAddressError):
        trace["nope"]


def test_weights_and_validity():
    t = Trace({"x": Choice("x", 0.0, -1.0)}, {"y": -2.0}, -1.0, -2.0, -0.5)
    assert t.total_log_weight == -3.5
    assert t.is_valid
    t.log_factors = -math.inf
    assert not t.is_valid
    t.log_factors = math.nan
    assert not t.is_valid


def test_clear_keeps_storage_objects():
    t = Trace({"x": Choice("x", 0.0, -1.0)}, {"y": -2.0}, -1.0, -2.0, -0.5)
    choices, observations = t.choices, t.observations
    t.clear()
    assert t.choices is choices and t.observations is observations
    assert len(t) == 0 and t.total_log_weight == 0.0


def test_copy_is_independent_and_equal(rng):
    _, trace = run(PriorHandler(rng), mixed_model)
    other = trace.copy()
    assert other == trace
    other.choices["z"] = Choice("z", 1.0, 0.0)
    assert "z" not in trace and other != trace


def test_values_and_from_values_round_trip(rng):
    _, trace = run(PriorHandler(rng), mixed_model)
    rebuilt = Trace.from_values(trace.values(), trace.log_probs())
    assert rebuilt.values() == trace.values()
    assert rebuilt.log_prior == pytest.approx(trace.log_prior, rel=1e-15)


def test_repr_is_short_and_informative():
    t = Trace({f"x#{i}": Choice(f"x#{i}", float(i), 0.0) for i in range(10)})
    text = repr(t)
    assert "x#0=0" in text and "..." in text and len(text) < 300
    assert "<array float64 (3,)>" in repr(Trace({"a": Choice("a", np.zeros(3), np.zeros(3))}))
