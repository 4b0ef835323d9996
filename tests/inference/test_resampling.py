"""Tests for fugue_lab.inference.resampling: unbiasedness and the schemes' own guarantees."""

from __future__ import annotations

import numpy as np
import pytest

from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError
from fugue_lab.inference.resampling import RESAMPLING_METHODS, resample

METHODS = sorted(RESAMPLING_METHODS)
WEIGHTS = np.array([0.31, 0.0, 0.05, 0.22, 0.17, 0.0, 0.25])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [7, 12])
def test_expected_counts_are_n_times_weights(method, n, rng):
    # Unbiasedness: E[count_i] = n * w_i.  Over R repetitions the mean count has standard
    # error sd(count_i) / sqrt(R), estimated from the repetitions themselves; 4.5 standard
    # errors (plus a floor for schemes whose count of i is nearly deterministic) bound it.
    reps = 4000
    counts = np.stack(
        [np.bincount(resample(method, rng, WEIGHTS, n), minlength=WEIGHTS.size)
         for _ in range(reps)]
    )
    mean = counts.mean(axis=0)
    se = counts.std(axis=0, ddof=1) / np.sqrt(reps)
    np.testing.assert_array_less(np.abs(mean - n * WEIGHTS), 4.5 * se + 1e-9)
    assert (counts.sum(axis=1) == n).all()


@pytest.mark.parametrize("method", METHODS)
def test_zero_weight_is_never_chosen_and_indices_are_sorted(method, rng):
    for _ in range(200):
        idx = resample(method, rng, WEIGHTS, 50)
        assert idx.shape == (50,)
        assert not np.isin(idx, [1, 5]).any()
        assert (np.diff(idx) >= 0).all()


@pytest.mark.parametrize("method", ["systematic", "stratified", "residual"])
def test_low_variance_schemes_keep_the_deterministic_part(method, rng):
    # residual keeps floor(n w) copies; systematic keeps floor or ceil of n w; stratified
    # keeps at least floor(n w) - 1 and at most ceil(n w) + 1.
    n = 20
    floor, ceil = np.floor(n * WEIGHTS), np.ceil(n * WEIGHTS)
    for _ in range(300):
        counts = np.bincount(resample(method, rng, WEIGHTS, n), minlength=WEIGHTS.size)
        if method == "systematic":
            assert ((counts >= floor) & (counts <= ceil)).all()
        elif method == "residual":
            assert (counts >= floor).all()
        else:
            assert ((counts >= floor - 1) & (counts <= ceil + 1)).all()


@pytest.mark.parametrize("method", METHODS)
def test_unnormalised_weights_are_normalised(method):
    a = resample(method, np.random.default_rng(5), WEIGHTS * 37.0, 9)
    b = resample(method, np.random.default_rng(5), WEIGHTS, 9)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", METHODS)
def test_bad_weights_raise(method, rng):
    with pytest.raises(DegenerateWeightsError):
        resample(method, rng, np.zeros(3), 3)
    with pytest.raises(InvalidParameterError, match="finite and >= 0"):
        resample(method, rng, np.array([0.5, -0.1, 0.6]), 3)
    with pytest.raises(InvalidParameterError, match="finite and >= 0"):
        resample(method, rng, np.array([0.5, np.nan]), 3)
    with pytest.raises(InvalidParameterError, match="n must be >= 1"):
        resample(method, rng, np.array([1.0]), 0)
    with pytest.raises(InvalidParameterError, match="non-empty 1-D"):
        resample(method, rng, np.array([]), 3)


def test_unknown_method_raises(rng):
    with pytest.raises(InvalidParameterError, match="method must be one of"):
        resample("bogus", rng, WEIGHTS, 3)
