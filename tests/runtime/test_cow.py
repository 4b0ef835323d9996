"""CowTrace: structural sharing, incremental weights, exact round trips (with property tests)."""

from __future__ import annotations

import copy
import math
import pickle
import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fugue_lab.core.address import addr
from fugue_lab.core.distributions import Bernoulli, Normal, Poisson
from fugue_lab.core.primitives import factor, observe, sample
from fugue_lab.errors import AddressConflictError, MissingAddressError, TypeMismatchError
from fugue_lab.runtime.handlers import PriorHandler, run
from fugue_lab.runtime.memory import CowTrace, TraceBuilder, exact_sum
from fugue_lab.runtime.trace import Choice, Trace

U = 2.0**-53  # unit roundoff of float64


def mixed_model(n: int) -> None:
    mu = sample("mu", Normal(0.0, 1.0))
    for i in range(n):
        sample(addr("x", i), Normal(mu, 1.0))
        observe(addr("y", i), Normal(mu, 0.5), 0.1 * i)
    sample("k", Poisson(3.0))
    sample("b", Bernoulli(0.3))
    factor(-0.75)


def cow_of(n: int, seed: int = 0) -> CowTrace:
    _, trace = run(PriorHandler(np.random.default_rng(seed)), mixed_model, n)
    return CowTrace.from_trace(trace)


# -- round trips ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 5, 200])
@pytest.mark.parametrize("seed", [0, 1])
def test_round_trip_is_exact(n: int, seed: int) -> None:
    _, trace = run(PriorHandler(np.random.default_rng(seed)), mixed_model, n)
    cow = CowTrace.from_trace(trace)
    back = cow.to_trace()
    assert back == trace  # order, values, log-probs, observations, weights: exactly
    assert list(back.choices) == list(trace.choices)
    assert list(back.observations) == list(trace.observations)
    assert all(back.choices[a] is trace.choices[a] for a in trace.choices)
    assert (back.log_prior, back.log_likelihood, back.log_factors) == (
        trace.log_prior,
        trace.log_likelihood,
        trace.log_factors,
    )
    assert cow == trace and trace == cow and cow == cow.clone()


def test_from_trace_rejects_batched_and_foreign_objects() -> None:
    batched = Trace({"x": Choice("x", np.zeros(3), np.zeros(3))}, log_prior=np.zeros(3))
    with pytest.raises(TypeError, match="scalar traces"):
        CowTrace.from_trace(batched)
    with pytest.raises(TypeError, match="expected a Trace"):
        CowTrace.from_trace({"x": 1.0})  # type: ignore[arg-type]


def test_round_trip_after_writes_keeps_dict_order_semantics() -> None:
    cow = CowTrace()
    for name in "abcd":
        cow.set_choice(name, 0.0, -1.0)
    cow.set_choice("b", 5.0, -2.0)  # replacing keeps the position
    cow.remove_choice("a")
    cow.set_choice("a", 1.0, -1.0)  # re-adding puts it last
    cow.set_observation("y", -0.5)
    reference = {"b": 5.0, "c": 0.0, "d": 0.0, "a": 1.0}
    assert cow.values() == reference and list(cow.values()) == list(reference)
    assert list(cow) == list(reference)
    trace = cow.to_trace()
    assert list(trace.choices) == list(reference)
    assert CowTrace.from_trace(trace).to_trace() == trace


# -- sharing --------------------------------------------------------------------------------
def test_clone_shares_and_a_write_replaces_only_the_writers_map() -> None:
    base = cow_of(20)
    clone = base.clone()
    assert clone.choices is base.choices and clone.observations is base.observations
    before = base.choices
    clone.set_choice("mu", 3.0, -5.0)
    assert base.choices is before
    assert clone.choices is not before
    assert base.get_float("mu") != 3.0 and clone.get_float("mu") == 3.0
    assert copy.copy(base) == base


def _allocated_by(action: Any) -> tuple[Any, int]:
    """What ``action()`` returns, and the bytes it left allocated (tracemalloc)."""
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        result = action()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return result, sum(stat.size_diff for stat in after.compare_to(before, "filename"))


@pytest.mark.parametrize("sites", [1_000, 10_000])
def test_clone_and_change_copies_a_path_not_the_trace(sites: int) -> None:
    cow = CowTrace.from_trace(
        TraceBuilder()
        .add_samples([f"x#{i}" for i in range(sites)], [0.0] * sites, [-0.9] * sites)
        .build()
    )
    clone, cow_bytes = _allocated_by(lambda: cow.with_choice("x#7", 1.0, -1.4))
    _, dict_bytes = _allocated_by(lambda: dict(cow.choices))
    assert clone.get_float("x#7") == 1.0 and cow.get_float("x#7") == 0.0
    # A HAMT write copies one path: at most 3 nodes of <= 32 slots at 10,000 keys, about
    # 2 kB whatever the size, where a dict copy takes 20 to 30 bytes per site (26 kB at
    # 1,000 sites).  The margin of 4 leaves room for tracemalloc's own bookkeeping.
    assert cow_bytes * 4 < dict_bytes


# -- writes and weights ---------------------------------------------------------------------
def test_replacing_a_choice_adjusts_log_prior_by_the_difference() -> None:
    cow = CowTrace()
    cow.set_choice("a", 0.0, -1.0)
    cow.set_choice("b", 0.0, -2.0)
    new = cow.with_choice("a", 1.0, -4.0)
    assert new.log_prior == -6.0 and cow.log_prior == -3.0
    new.remove_choice("b")
    assert new.log_prior == -4.0 and new.num_choices == 1
    assert cow.without_choice("a").log_prior == -2.0 and cow.num_choices == 2


def test_observations_and_factors() -> None:
    cow = CowTrace()
    cow.set_observation("y", -1.0)
    other = cow.with_observation("y", -3.0)
    other.set_observation("z", -0.5)
    assert (cow.log_likelihood, other.log_likelihood) == (-1.0, -3.5)
    other.remove_observation("y")
    assert other.log_likelihood == -0.5 and other.observation_addresses() == ["z"]
    other.add_factor(-2.0)
    other.log_factors = -1.0
    other.add_factor(-0.5)
    assert other.log_factors == -1.5 and cow.log_factors == 0.0
    assert other.total_log_weight == -2.0


@pytest.mark.parametrize(
    ("terms", "final"),
    [
        ([-1.0, -math.inf, -2.0], -3.0),  # the -inf term is replaced by 0.0 below
        ([-1.0, math.nan, -2.0], -3.0),
        ([-1.0, math.inf, -2.0], -3.0),
    ],
)
def test_non_finite_terms_are_replaced_exactly(terms: list[float], final: float) -> None:
    cow = CowTrace()
    for i, lp in enumerate(terms):
        cow.set_choice(f"s{i}", 0.0, lp)
    middle = terms[1]
    assert cow.log_prior == middle or (math.isnan(middle) and math.isnan(cow.log_prior))
    assert not cow.is_valid
    cow.set_choice("s1", 0.0, 0.0)  # replacing the non-finite term: an exact recomputation
    assert cow.log_prior == final and cow.is_valid
    cow.set_choice("s1", 0.0, -math.inf)
    cow.remove_choice("s1")
    assert cow.log_prior == final


def test_conflicts_and_missing_addresses() -> None:
    cow = CowTrace()
    cow.set_choice("x", 1.0, -1.0)
    cow.set_observation("y", -2.0)
    with pytest.raises(AddressConflictError, match="'y'"):
        cow.set_choice("y", 0.0, -1.0)
    with pytest.raises(AddressConflictError, match="'x'"):
        cow.set_observation("x", -1.0)
    with pytest.raises(MissingAddressError, match="'z'"):
        cow.remove_choice("z")
    with pytest.raises(MissingAddressError, match="'x'"):
        cow.remove_observation("x")
    with pytest.raises(MissingAddressError, match="'z'"):
        cow["z"]
    with pytest.raises(TypeError, match="address must be a str"):
        cow.set_choice(3, 0.0, -1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="real number"):
        cow.set_choice("w", 0.0, np.zeros(2))
    with pytest.raises(TypeError, match="real number"):
        cow.set_observation("v", "bad")
    assert cow.num_choices == 1 and cow.num_observations == 1
    assert (cow.log_prior, cow.log_likelihood) == (-1.0, -2.0)


def test_read_api_matches_trace() -> None:
    _, trace = run(PriorHandler(np.random.default_rng(3)), mixed_model, 4)
    cow = CowTrace.from_trace(trace)
    assert cow.get_float("mu") == trace.get_float("mu")
    assert cow.get_int("k") == trace.get_int("k")
    assert cow.get_bool("b") == trace.get_bool("b")
    assert cow.get("mu") == trace.get("mu") and cow["mu"] is trace["mu"]
    with pytest.raises(TypeMismatchError):
        cow.get_int("mu")
    with pytest.raises(TypeMismatchError):
        cow.get_float("b")
    with pytest.raises(TypeMismatchError):
        cow.get_bool("k")
    assert cow.values() == trace.values() and list(cow.values()) == list(trace.values())
    assert cow.log_probs() == trace.log_probs()
    assert list(cow) == list(trace) and len(cow) == len(trace)
    assert ("mu" in cow, "y#0" in cow, "nope" in cow) == ("mu" in trace, False, False)
    assert dict(cow.choices) == trace.choices
    assert dict(cow.observations) == trace.observations
    assert (cow.num_choices, cow.num_observations) == (trace.num_choices, trace.num_observations)
    assert cow.total_log_weight == trace.total_log_weight == cow.log_joint
    assert cow.is_valid == trace.is_valid
    assert "CowTrace(mu=" in repr(cow)


def test_pickle_round_trip() -> None:
    cow = cow_of(3)
    assert pickle.loads(pickle.dumps(cow)) == cow


def test_rescore_removes_drift() -> None:
    cow = CowTrace()
    for i in range(10):
        cow.set_choice(f"x#{i}", 0.0, 0.1)
    assert cow.log_prior != 1.0  # sequential sum of ten 0.1s rounds to 0.9999999999999999
    cow.rescore_weights()
    assert cow.log_prior == 1.0 == exact_sum([0.1] * 10)


def test_exact_sum_edge_cases() -> None:
    assert exact_sum([]) == 0.0
    assert exact_sum([1e308, 1e308]) == math.inf
    assert math.isnan(exact_sum([math.inf, -math.inf]))
    assert exact_sum([-math.inf, 1.0]) == -math.inf
    assert math.isnan(exact_sum([math.nan, 1.0]))


# -- property tests ---------------------------------------------------------------------------
ADDRESSES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g#0", "g#1"])
LOG_PROBS = st.one_of(
    st.floats(min_value=-1e4, max_value=50.0, allow_nan=False),
    st.floats(min_value=-2.0, max_value=0.0, allow_nan=False),
    st.just(-math.inf),
)
OPS = st.one_of(
    st.tuples(st.just("set"), ADDRESSES, st.floats(allow_nan=False), LOG_PROBS),
    st.tuples(st.just("with"), ADDRESSES, st.integers(-5, 5), LOG_PROBS),
    st.tuples(st.just("remove"), ADDRESSES),
    st.tuples(st.just("obs"), ADDRESSES, LOG_PROBS),
    st.tuples(st.just("remove_obs"), ADDRESSES),
    st.tuples(st.just("factor"), st.floats(min_value=-10.0, max_value=10.0)),
)


class Reference:
    """The same trace kept in plain dicts, copied in full on clone (the obvious, slow way)."""

    def __init__(self) -> None:
        self.choices: dict[str, tuple[Any, float]] = {}
        self.observations: dict[str, float] = {}
        self.log_factors = 0.0
        self.writes = 0
        self.magnitude = 0.0  # the sum of |every log weight ever written|

    def copy(self) -> Reference:
        new = Reference()
        new.choices, new.observations = dict(self.choices), dict(self.observations)
        new.log_factors, new.writes, new.magnitude = self.log_factors, self.writes, self.magnitude
        return new


def apply(cow: CowTrace, ref: Reference, op: tuple) -> CowTrace:
    """Apply ``op`` to both; return the CowTrace that now stands for ``ref``."""
    kind, *args = op
    if kind in ("set", "with"):
        address, value, log_prob = args
        if address in ref.observations:
            with pytest.raises(AddressConflictError):
                cow.set_choice(address, value, log_prob)
            return cow
        if kind == "with":
            original = cow.to_trace()
            new = cow.with_choice(address, value, log_prob)
            assert cow.to_trace() == original  # with_choice leaves its receiver alone
            cow = new
        else:
            cow.set_choice(address, value, log_prob)
        ref.choices[address] = (value, log_prob)
        ref.magnitude += abs(log_prob)
    elif kind == "remove":
        (address,) = args
        if address not in ref.choices:
            with pytest.raises(MissingAddressError):
                cow.remove_choice(address)
            return cow
        cow.remove_choice(address)
        ref.magnitude += abs(ref.choices.pop(address)[1])
    elif kind == "obs":
        address, log_lik = args
        if address in ref.choices:
            with pytest.raises(AddressConflictError):
                cow.set_observation(address, log_lik)
            return cow
        cow.set_observation(address, log_lik)
        ref.observations[address] = log_lik
        ref.magnitude += abs(log_lik)
    elif kind == "remove_obs":
        (address,) = args
        if address not in ref.observations:
            with pytest.raises(MissingAddressError):
                cow.remove_observation(address)
            return cow
        cow.remove_observation(address)
        ref.magnitude += abs(ref.observations.pop(address))
    else:
        (log_weight,) = args
        cow.add_factor(log_weight)
        ref.log_factors += log_weight
        return cow
    ref.writes += 1
    return cow


def close(incremental: float, exact: float, ref: Reference) -> bool:
    """Whether an incrementally kept accumulator agrees with the exact sum.

    Each write rounds at most twice (``delta = new - old`` and ``acc += delta``); each
    rounding errs by at most u times its result, and every partial result is bounded by
    the sum of the magnitudes of all terms ever written (``ref.magnitude``).  So after k
    writes the drift is at most ``2 k u M``; ``exact_sum`` adds at most ``u |sum| <= u M``.
    Where a non-finite term is present both sides must agree exactly (same inf or NaN).
    """
    if not math.isfinite(exact):
        return incremental == exact or (math.isnan(exact) and math.isnan(incremental))
    return abs(incremental - exact) <= (2 * ref.writes + 1) * U * ref.magnitude


def check(cow: CowTrace, ref: Reference) -> None:
    assert cow.values() == {a: v for a, (v, _) in ref.choices.items()}
    assert list(cow.values()) == list(ref.choices)  # insertion order, dict semantics
    assert list(cow.log_probs().values()) == [lp for _, lp in ref.choices.values()]
    assert cow.observation_addresses() == list(ref.observations)
    assert dict(cow.observations) == ref.observations
    exact_prior = exact_sum(lp for _, lp in ref.choices.values())
    exact_lik = exact_sum(ref.observations.values())
    assert close(cow.log_prior, exact_prior, ref)
    assert close(cow.log_likelihood, exact_lik, ref)
    assert cow.log_factors == ref.log_factors
    # rescore_weights gives the exact sums, and only to the trace it is called on.
    rescored = cow.clone()
    rescored.rescore_weights()
    assert rescored.log_prior == exact_prior or math.isnan(exact_prior)
    assert rescored.log_likelihood == exact_lik or math.isnan(exact_lik)


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(OPS, max_size=40))
def test_incremental_weights_equal_a_fresh_rescore(ops: list[tuple]) -> None:
    cow, ref = CowTrace(), Reference()
    for op in ops:
        cow = apply(cow, ref, op)
        check(cow, ref)
    back = CowTrace.from_trace(cow.to_trace())
    assert back == cow


@settings(max_examples=150, deadline=None)
@given(initial=st.lists(OPS, max_size=15), writes=st.lists(OPS, min_size=1, max_size=25))
def test_a_write_to_a_clone_never_changes_the_original(
    initial: list[tuple], writes: list[tuple]
) -> None:
    original, ref = CowTrace(), Reference()
    for op in initial:
        original = apply(original, ref, op)
    frozen = original.to_trace()
    maps = (original.choices, original.observations)
    clone, clone_ref = original.clone(), ref.copy()
    for op in writes:
        clone = apply(clone, clone_ref, op)
    assert original.to_trace() == frozen  # exact: records and weights untouched
    assert (original.choices, original.observations) == maps
    assert original.choices is maps[0] and original.observations is maps[1]
    check(original, ref)
    check(clone, clone_ref)


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(min_value=0), st.lists(OPS, max_size=6)), min_size=1, max_size=12
    )
)
def test_clones_of_clones_stay_independent(steps: list[tuple[int, list[tuple]]]) -> None:
    traces, refs = [CowTrace()], [Reference()]
    for parent, ops in steps:
        index = parent % len(traces)
        cow, ref = traces[index].clone(), refs[index].copy()
        for op in ops:
            cow = apply(cow, ref, op)
        traces.append(cow)
        refs.append(ref)
    for cow, ref in zip(traces, refs):
        check(cow, ref)
