"""Tests for fugue_lab.core.numerical and the naive versions it is compared with.

Accuracy is measured against mpmath at 50 significant digits, in ulps of the
output dtype: ``|computed - exact| / spacing(S)``.  ``S`` is ``|exact|`` for
the element-wise functions; for the sums it is the conditioning scale
``max(|exact|, sum_i p_i |x_i|)`` with ``p = softmax(x)`` (the module docstring
explains why no max-shift algorithm can beat a few ulp of that when the result
cancels its inputs).  The property tests are derandomized, so CI sees the same
examples every run; the bounds are analytic (rounding of ``x_i - m``, ``exp``,
the sum and ``log1p``), not fitted to the examples.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from fugue_lab.core import naive_numerical as naive
from fugue_lab.core import numerical as num
from fugue_lab.errors import DegenerateWeightsError, InvalidParameterError

INF = math.inf
NAN = math.nan
DPS = 50
EPS64 = float(np.finfo(np.float64).eps)
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)


# --------------------------------------------------------------------------- references


def mpf(v: float) -> mpmath.mpf:
    return mpmath.mpf(float(v))


def spacing(scale: float, dtype: type = np.float64) -> float:
    """The gap from ``scale`` to the next float of ``dtype`` away from zero (the largest
    finite float's gap for anything larger; np.spacing would overflow there)."""
    info = np.finfo(dtype)
    s = min(abs(float(scale)), float(info.max))
    exponent = math.frexp(s)[1]  # s = f * 2**exponent with 0.5 <= f < 1
    return max(math.ldexp(1.0, exponent - info.nmant - 1), float(info.smallest_subnormal))


def ulps(got: float, exact: mpmath.mpf, scale: mpmath.mpf, dtype: type = np.float64) -> float:
    """|got - exact| in units of the spacing of ``scale`` in ``dtype``."""
    unit = spacing(scale, dtype)
    with mpmath.workdps(DPS):
        return float(abs(mpf(got) - exact) / mpf(unit))


def ref_lse(xs: list[float], weights: list[float] | None = None) -> tuple[mpmath.mpf, mpmath.mpf]:
    """Exact log(sum(w exp(x))) of finite inputs, and its scale.

    The scale is max(|result|, sum_i p_i (|x_i| + |log w_i|)), p_i = w_i exp(x_i) / sum:
    the size of the rounding errors in x_i - m (and x_i + log w_i) that any
    max-shift algorithm makes, weighted by how much each term matters.
    """
    ws = [1.0] * len(xs) if weights is None else weights
    with mpmath.workdps(DPS):
        pairs = [(mpf(x), mpmath.log(mpf(w))) for x, w in zip(xs, ws) if w > 0]
        zs = [x + lw for x, lw in pairs]
        k = max(range(len(zs)), key=zs.__getitem__)
        e = [mpmath.exp(z - zs[k]) for z in zs]
        # log1p of the other terms: log(1 + 1e-40) at 50 digits keeps only 10 of them.
        exact = zs[k] + mpmath.log1p(mpmath.fsum(e[:k] + e[k + 1 :]))
        size = mpmath.fsum(ei * (abs(x) + abs(lw)) for ei, (x, lw) in zip(e, pairs))
        return exact, max(abs(exact), size / mpmath.fsum(e))


def same(got: float, expected: float) -> bool:
    """Equal, or both NaN (and a NumPy NaN equals a Python one)."""
    return (math.isnan(got) and math.isnan(expected)) or got == expected


# --------------------------------------------------------------------------- strategies


def scaled(lo: int = -300, hi: int = 300, sign: bool = True) -> st.SearchStrategy[float]:
    """Numbers +-m * 10**e with e uniform in [lo, hi]: every scale from 1e-300 to 1e300."""
    signs = st.sampled_from([-1.0, 1.0]) if sign else st.just(1.0)
    return st.builds(
        lambda s, m, e: s * m * 10.0**e, signs, st.floats(1.0, 9.99), st.integers(lo, hi)
    )


def clustered(lo: int = -300, hi: int = 300, spread: float = 60.0) -> st.SearchStrategy:
    """Log-values near one centre, so that several terms matter (and may cancel)."""
    return st.builds(
        lambda c, offs: [c + o for o in offs],
        scaled(lo, hi),
        st.lists(st.floats(-spread, 0.0), min_size=1, max_size=20),
    )


#: log(p) for probabilities p from 1e-300 to 1.
LOG_PROBS = st.floats(0.0, 300.0).map(lambda u: -u * math.log(10.0))

LOG_VALUES = st.one_of(
    st.lists(scaled(), min_size=1, max_size=20),
    clustered(),
    clustered(-300, 2),
    st.lists(LOG_PROBS, min_size=1, max_size=20),
)
LOG_VALUES_32 = st.one_of(
    st.lists(scaled(-37, 37), min_size=1, max_size=20),
    clustered(-37, 37, spread=20.0),
    st.lists(st.floats(0.0, 37.0).map(lambda u: -u * math.log(10.0)), min_size=1, max_size=20),
).map(lambda xs: [float(np.float32(x)) for x in xs])
WEIGHT = st.one_of(st.just(1.0), st.just(0.0), scaled(sign=False), st.floats(0.0, 1.0))


# --------------------------------------------------------------------------- log_sum_exp


@PROPERTY
@given(LOG_VALUES)
def test_log_sum_exp_accuracy(xs):
    exact, scale = ref_lse(xs)
    # Python path (short list) and NumPy path; bound derived in the module docstring.
    assert ulps(num.log_sum_exp(xs), exact, scale) <= 4
    assert ulps(num.log_sum_exp(np.array(xs)), exact, scale) <= 4


@PROPERTY
@given(LOG_VALUES_32)
def test_log_sum_exp_float32_accuracy(xs):
    exact, scale = ref_lse(xs)
    got = num.log_sum_exp(np.array(xs, dtype=np.float32))
    assert type(got) is np.float32
    # Computed in float64 and rounded once: at most half a float32 ulp plus a
    # float64 error that is 2**-29 times smaller.
    assert ulps(got, exact, scale, np.float32) <= 1


@pytest.mark.parametrize("n", [num._PY_MAX_LEN, num._PY_MAX_LEN + 1, 1000])
def test_log_sum_exp_long_inputs_both_paths(rng, n):
    xs = [float(v) for v in rng.normal(-50.0, 20.0, n)]
    exact, scale = ref_lse(xs)
    got_list = num.log_sum_exp(xs)
    assert type(got_list) is float
    assert ulps(got_list, exact, scale) <= 4
    assert ulps(num.log_sum_exp(np.array(xs)), exact, scale) <= 4


LSE_EDGES = [
    ([], -INF),
    ([-INF], -INF),
    ([-INF, -INF, -INF], -INF),
    ([1.0, INF], INF),
    ([INF, -INF], INF),
    ([INF, INF], INF),
    ([NAN, 1.0], NAN),
    ([1.0, NAN], NAN),
    ([NAN, INF], NAN),
    ([INF, NAN], NAN),
    ([-INF, NAN], NAN),
    ([2.5], 2.5),
]
#: Ways to pass the same values: the Python path, NumPy through a long list, arrays.
PATHS = {
    "list": list,
    "tuple": tuple,
    "long_list": lambda xs: [*xs, *([-INF] * (num._PY_MAX_LEN + 1))],
    "float64": lambda xs: np.array(xs, dtype=np.float64),
    "float32": lambda xs: np.array(xs, dtype=np.float32),
}
#: The paths that pass exactly the given values (padding changes a mean or a normalisation).
UNPADDED = [p for p in PATHS if p != "long_list"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("xs", "expected"), LSE_EDGES)
def test_log_sum_exp_edge_cases(path, xs, expected):
    # filterwarnings = error: any RuntimeWarning from NumPy fails this test.
    assert same(num.log_sum_exp(PATHS[path](xs)), expected)


def test_log_sum_exp_edge_cases_along_an_axis():
    x = np.array([[-INF, -INF], [1.0, INF], [NAN, INF], [0.0, 0.0], [-INF, 3.0]])
    got = num.log_sum_exp(x, axis=1)
    expected = [-INF, INF, NAN, math.log(2.0), 3.0]
    assert all(same(g, e) for g, e in zip(got.tolist(), expected))
    assert num.log_sum_exp(np.empty((3, 0)), axis=1).tolist() == [-INF] * 3
    assert num.log_sum_exp(np.empty((0, 3)), axis=1).shape == (0,)
    assert num.log_sum_exp(np.empty((0, 3)), axis=0).tolist() == [-INF] * 3


@pytest.mark.parametrize("path", ["list", "float64"])
@pytest.mark.parametrize(
    "xs",
    [
        [709.0, 709.0],
        [1e308, 1e308],
        [1.7976931348623157e308, 1.7976931348623157e308],
        [-1e308, -1e308],
        [-1e308, 0.0],
        [1e308, -1e308],
        [-745.0, -745.0],
        [1e-300, -1e-300],
        [-1e-300, -1e-300, -1e-300],
        [1e-20, -50.0],
    ],
)
def test_log_sum_exp_near_float64_limits(path, xs):
    exact, _ = ref_lse(xs)
    got = num.log_sum_exp(PATHS[path](xs))
    assert math.isfinite(got)
    assert ulps(got, exact, abs(exact)) <= 1


@pytest.mark.parametrize("path", ["list", "tuple", "long_list", "float64"])
def test_log_sum_exp_of_two_1e308_is_1e308(path):
    # 1e308 + log 2 rounds to 1e308 (its ulp is ~2e292): no overflow, no inf.
    assert num.log_sum_exp(PATHS[path]([1e308, 1e308])) == 1e308
    if path != "long_list":  # (padding x with -inf would pad the weights with -inf too)
        assert num.weighted_log_sum_exp(PATHS[path]([1e308]), PATHS[path]([2.0])) == 1e308


@pytest.mark.parametrize(
    ("xs", "expected"),
    [([88.0, 88.0], 88.0 + math.log(2.0)), ([3e38, 3e38], 3e38), ([-3e38, -3e38], -3e38)],
)
def test_log_sum_exp_near_float32_limits(xs, expected):
    got = num.log_sum_exp(np.array(xs, dtype=np.float32))
    assert type(got) is np.float32
    assert got == np.float32(expected)


def test_log_sum_exp_against_scipy_along_axes(rng):
    x = rng.normal(0.0, 10.0, size=(3, 4, 5))
    for axis in [0, 1, 2, -1, (0, 2), (2, 0), (1, 2), (0, 1, 2), None]:
        got = num.log_sum_exp(x, axis=axis)
        expected = special.logsumexp(x, axis=axis)
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
        assert np.shape(got) == np.shape(expected)


@pytest.mark.parametrize("axis", [3, -4, (0, 0), (1, 5), "rows", 1.5])
def test_invalid_axis_raises(axis):
    with pytest.raises(InvalidParameterError, match="axis"):
        num.log_sum_exp(np.zeros((2, 3, 4)), axis=axis)


def test_inputs_are_not_modified(rng):
    x = rng.normal(size=(4, 6))
    w = rng.uniform(size=(4, 6))
    x0, w0 = x.copy(), w.copy()
    num.log_sum_exp(x, axis=1)
    num.log_mean_exp(x, axis=0)
    num.weighted_log_sum_exp(x, w, axis=1)
    num.normalize_log_probs(x, axis=1)
    num.normalize_log_probs(x)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


# --------------------------------------------------------------------------- return types

F32 = np.float32


@pytest.mark.parametrize(
    ("call", "kind", "dtype"),
    [
        (lambda: num.log_sum_exp([1.0, 2.0]), float, None),
        (lambda: num.log_sum_exp((1.0, 2.0)), float, None),
        (lambda: num.log_sum_exp(1.5), float, None),
        (lambda: num.log_sum_exp([1, 2]), float, None),
        (lambda: num.log_sum_exp(np.array([1.0, 2.0])), np.float64, None),
        (lambda: num.log_sum_exp(np.array([1.0, 2.0], dtype=F32)), F32, None),
        (lambda: num.log_sum_exp(np.array([1.0, 2.0], dtype=np.float16)), F32, None),
        (lambda: num.log_sum_exp(np.array([1, 2])), np.float64, None),
        (lambda: num.log_sum_exp(F32(1.0)), F32, None),
        (lambda: num.log_sum_exp(np.ones((2, 3), dtype=F32), axis=1), np.ndarray, F32),
        (lambda: num.log_sum_exp([[1.0, 2.0], [3.0, 4.0]], axis=0), np.ndarray, np.float64),
        (lambda: num.log_mean_exp([1.0, 2.0]), float, None),
        (lambda: num.log_mean_exp(np.array([1.0, 2.0], dtype=F32)), F32, None),
        (lambda: num.weighted_log_sum_exp([1.0], [2.0]), float, None),
        (lambda: num.weighted_log_sum_exp(np.ones(2, F32), np.ones(2, F32)), F32, None),
        (lambda: num.weighted_log_sum_exp(np.ones(2, F32), np.ones(2)), np.float64, None),
        (lambda: num.weighted_log_sum_exp(np.ones(2), [1.0, 1.0]), np.float64, None),
        (lambda: num.normalize_log_probs([0.0, 1.0]), np.ndarray, np.float64),
        (lambda: num.normalize_log_probs(np.zeros(3, F32)), np.ndarray, F32),
        (lambda: num.log1p_exp(1.0), float, None),
        (lambda: num.log1p_exp(1), float, None),
        (lambda: num.log1p_exp(F32(1.0)), F32, None),
        (lambda: num.log1p_exp([1.0]), np.ndarray, np.float64),
        (lambda: num.log1p_exp(np.ones(2, F32)), np.ndarray, F32),
        (lambda: num.safe_ln(2.0), float, None),
        (lambda: num.safe_ln(np.float64(2.0)), np.float64, None),
        (lambda: num.safe_ln(np.ones(2, F32)), np.ndarray, F32),
        (lambda: num.log_gamma(2.5), float, None),
        (lambda: num.log_gamma(np.float64(2.5)), np.float64, None),
        (lambda: num.log_gamma(np.full(2, 3e38, F32)), np.ndarray, F32),
        (lambda: num.log_diff_exp(1.0, 0.0), float, None),
        (lambda: num.log_diff_exp(np.ones(2, F32), 0.0), np.ndarray, F32),
        (lambda: num.log_diff_exp(np.ones(2, F32), np.zeros(2)), np.ndarray, np.float64),
        (lambda: num.log_diff_exp([1.0, 2.0], 0.0), np.ndarray, np.float64),
        (lambda: num.log_diff_exp([1.0, 2.0], np.zeros(2, F32)), np.ndarray, np.float64),
    ],
)
def test_return_type_rule(call, kind, dtype):
    got = call()
    assert type(got) is kind
    if dtype is not None:
        assert got.dtype == dtype


@pytest.mark.parametrize(
    "fn",
    [num.log_sum_exp, num.log_mean_exp, num.normalize_log_probs, num.log1p_exp, num.safe_ln],
)
@pytest.mark.parametrize("x", [np.array([1j, 2.0]), ["a", "b"], np.array(["1.0"])])
def test_non_real_input_raises_type_error(fn, x):
    with pytest.raises(TypeError):
        fn(x)


# --------------------------------------------------------------------------- weighted_log_sum_exp


@PROPERTY
@given(
    st.lists(st.tuples(st.one_of(scaled(), LOG_PROBS), WEIGHT), min_size=1, max_size=20).filter(
        lambda pairs: any(w > 0 for _, w in pairs)
    )
)
def test_weighted_log_sum_exp_accuracy(pairs):
    xs = [x for x, _ in pairs]
    ws = [w for _, w in pairs]
    exact, scale = ref_lse(xs, ws)
    # The weights enter as z = x + log(w), so the scale is that of lse(z).
    assert ulps(num.weighted_log_sum_exp(xs, ws), exact, scale) <= 4
    assert ulps(num.weighted_log_sum_exp(np.array(xs), np.array(ws)), exact, scale) <= 4


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("xs", "expected"), [e for e in LSE_EDGES if e[0]])
def test_weighted_unit_weights_follow_log_sum_exp_edges(path, xs, expected):
    ws = [1.0] * len(xs)
    if path == "long_list":  # long lists take the NumPy path; zero weights drop the padding
        xs, ws = [*xs, *([INF] * num._PY_MAX_LEN)], [*ws, *([0.0] * num._PY_MAX_LEN)]
    wrap = list if path == "long_list" else PATHS[path]
    assert same(num.weighted_log_sum_exp(wrap(xs), wrap(ws)), expected)


@pytest.mark.parametrize("path", ["list", "float64", "float32"])
@pytest.mark.parametrize(
    ("xs", "ws", "expected"),
    [
        ([1.0, INF, NAN], [1.0, 0.0, 0.0], 1.0),  # a zero weight drops +inf and NaN terms
        ([1.0, 2.0], [0.0, 0.0], -INF),
        ([], [], -INF),
        ([INF, 1.0], [3.0, 1.0], INF),
        ([NAN, 1.0], [3.0, 1.0], NAN),
        ([0.0, 0.0], [0.5, 0.5], 0.0),
        ([5.0], [1.0], 5.0),
    ],
)
def test_weighted_log_sum_exp_edge_cases(path, xs, ws, expected):
    assert same(num.weighted_log_sum_exp(PATHS[path](xs), PATHS[path](ws)), expected)


@pytest.mark.parametrize("path", ["list", "float64"])
@pytest.mark.parametrize(
    ("xs", "ws"),
    [
        ([1.7976931348623157e308], [2.0]),
        ([709.0, 709.0], [1e300, 1e300]),
        ([-1e308, -1e308], [1e-300, 1e300]),
        ([0.0, 0.0], [1e-300, 1e-300]),
    ],
)
def test_weighted_log_sum_exp_extreme_weights(path, xs, ws):
    exact, scale = ref_lse(xs, ws)
    got = num.weighted_log_sum_exp(PATHS[path](xs), PATHS[path](ws))
    assert math.isfinite(got)
    assert ulps(got, exact, scale) <= 1


@pytest.mark.parametrize("path", ["list", "float64"])
@pytest.mark.parametrize(("bad", "text"), [(-0.5, "-0.5"), (NAN, "nan"), (INF, "inf")])
def test_weighted_log_sum_exp_rejects_bad_weights(path, bad, text):
    with pytest.raises(InvalidParameterError, match="weights") as info:
        num.weighted_log_sum_exp(PATHS[path]([0.0, 1.0, 2.0]), PATHS[path]([1.0, bad, 1.0]))
    assert text in str(info.value)
    assert isinstance(info.value, ValueError)


def test_weighted_log_sum_exp_rejects_a_shape_mismatch():
    with pytest.raises(InvalidParameterError, match="weights") as info:
        num.weighted_log_sum_exp(np.zeros(3), np.ones((2, 3)))
    assert "(3,)" in str(info.value)
    assert "(2, 3)" in str(info.value)
    with pytest.raises(ValueError, match=r"length as x, 2, got 3"):
        num.weighted_log_sum_exp([0.0, 1.0], [1.0, 1.0, 1.0])


def test_weighted_log_sum_exp_along_an_axis(rng):
    x = rng.normal(0.0, 5.0, size=(4, 6))
    w = rng.uniform(0.0, 3.0, size=(4, 6))
    w[1, :] = 0.0
    for axis in [0, 1, (0, 1), None]:
        with np.errstate(divide="ignore"):  # scipy's own log(0) for the all-zero row
            expected = special.logsumexp(x, axis=axis, b=w)
        np.testing.assert_allclose(num.weighted_log_sum_exp(x, w, axis=axis), expected, rtol=1e-14)


# --------------------------------------------------------------------------- log_mean_exp


@PROPERTY
@given(LOG_VALUES)
def test_log_mean_exp_accuracy(xs):
    n = len(xs)
    lse, scale = ref_lse(xs)
    with mpmath.workdps(DPS):
        exact = lse - mpmath.log(n)
        # Computed as m + log(s / n): the constant log(n) joins the scale.
        scale = max(abs(exact), scale, mpmath.log(n))
    assert ulps(num.log_mean_exp(xs), exact, scale) <= 4
    assert ulps(num.log_mean_exp(np.array(xs)), exact, scale) <= 4


@pytest.mark.parametrize("path", UNPADDED)
@pytest.mark.parametrize(("xs", "expected"), [e for e in LSE_EDGES if e[0]])
def test_log_mean_exp_edge_cases(path, xs, expected):
    assert same(num.log_mean_exp(PATHS[path](xs)), expected)


@pytest.mark.parametrize("path", ["list", "float64"])
@pytest.mark.parametrize("c", [0.0, -1000.0, 1e308, -1e308, 1e-300, 709.5])
def test_log_mean_exp_of_equal_values_is_exact(path, c):
    assert num.log_mean_exp(PATHS[path]([c] * 7)) == c


@pytest.mark.parametrize("x", [[], (), np.array([]), np.empty((0, 2))])
def test_log_mean_exp_of_nothing_raises(x):
    with pytest.raises(InvalidParameterError, match="mean of nothing"):
        num.log_mean_exp(x)
    with pytest.raises(ValueError, match=r"\(3, 0\)"):
        num.log_mean_exp(np.empty((3, 0)), axis=1)


def test_log_mean_exp_along_axes(rng):
    x = rng.normal(0.0, 10.0, size=(3, 4, 5))
    for axis in [0, 2, (0, 1), None]:
        n = x.size // np.asarray(special.logsumexp(x, axis=axis)).size
        expected = special.logsumexp(x, axis=axis) - math.log(n)
        np.testing.assert_allclose(num.log_mean_exp(x, axis=axis), expected, rtol=1e-13)


# --------------------------------------------------------------------------- normalize_log_probs


@PROPERTY
@given(LOG_VALUES)
def test_normalize_log_probs_accuracy(xs):
    with mpmath.workdps(DPS):
        m = max(mpf(x) for x in xs)
        d = [mpf(x) - m for x in xs]  # x - lse would lose digits when |x| ~ 1e300
        e = sorted(mpmath.exp(di) for di in d)
        shifted_lse = mpmath.log1p(mpmath.fsum(e[:-1]))  # the largest term is exp(0) = 1
        exact = [di - shifted_lse for di in d]
        # sum_j p_j |x_j - m|: the size of the rounding errors in the shifts.
        shift_size = mpmath.fsum(mpmath.exp(ex) * abs(di) for di, ex in zip(d, exact))
    n = len(xs)
    for y in (num.normalize_log_probs(xs), num.normalize_log_probs(np.array(xs))):
        # y_i = (x_i - m) - log1p(t): rounding x_i - m, exp, log1p and the final
        # subtraction give a few ulp of max(|y_i|, log1p(t), sum_j p_j |x_j - m|).
        for got, ex in zip(y.tolist(), exact):
            assert ulps(got, ex, max(abs(ex), shifted_lse, shift_size)) <= 4
        with mpmath.workdps(DPS):
            total = mpmath.fsum(mpmath.exp(mpf(v)) for v in y.tolist())
            # Each exp(y_i) is off by p_i * (4 ulp of max(|y_i|, log n)): the sum
            # is 1 within 4 eps (1 + entropy + log n) <= 4 eps (1 + 2 log n).
            assert abs(total - 1) <= 4 * EPS64 * (1 + 2 * math.log(n))


@pytest.mark.parametrize("path", ["list", "float64"])
@pytest.mark.parametrize(
    "xs",
    [[1e300, 1e300], [-1e300, -1e300, -1e300, -1e300], [1.7976931348623157e308] * 2, [0.0]],
)
def test_normalize_log_probs_at_extreme_scales(path, xs):
    got = num.normalize_log_probs(PATHS[path](xs))
    assert got.tolist() == [-math.log(len(xs))] * len(xs)


def test_normalize_log_probs_float32_sums_to_one():
    x = np.array([-1e30, -1e30 + 1e24, 3.0, 3.5, -80.0], dtype=np.float32)
    y = num.normalize_log_probs(x)
    assert y.dtype == np.float32
    # Each float32 y_i is rounded once (half a float32 ulp of |y_i| <= 1.5 here).
    assert abs(float(np.exp(y.astype(np.float64)).sum()) - 1.0) <= 4 * np.finfo(np.float32).eps


@pytest.mark.parametrize("path", UNPADDED)
@pytest.mark.parametrize(
    ("xs", "text"),
    [
        ([], "nothing to normalise"),
        ([-INF], "nothing to normalise"),
        ([-INF, -INF], "nothing to normalise"),
        ([0.0, INF], r"\+inf"),
        ([0.0, NAN], "NaN"),
        ([INF, NAN], "NaN"),
    ],
)
def test_normalize_log_probs_degenerate_raises(path, xs, text):
    with pytest.raises(DegenerateWeightsError, match=text) as info:
        num.normalize_log_probs(PATHS[path](xs))
    assert isinstance(info.value, ValueError)


def test_normalize_log_probs_along_axes(rng):
    x = rng.normal(0.0, 10.0, size=(3, 4, 5))
    for axis in [0, 1, -1, (0, 2), (1, 2), None]:
        got = num.normalize_log_probs(x, axis=axis)
        assert got.shape == x.shape
        np.testing.assert_allclose(got, special.log_softmax(x, axis=axis), rtol=1e-13, atol=1e-13)
    # -inf entries are fine as long as no slice is all -inf ...
    y = np.array([[0.0, 0.0], [-INF, -INF]])
    assert num.normalize_log_probs(y, axis=0).tolist() == [[0.0, 0.0], [-INF, -INF]]
    # ... and a degenerate slice is reported with the count.
    with pytest.raises(DegenerateWeightsError, match="1 of the 2 slices"):
        num.normalize_log_probs(y, axis=1)
    with pytest.raises(DegenerateWeightsError, match="nothing to normalise"):
        num.normalize_log_probs(np.empty((2, 0)), axis=1)
    assert num.normalize_log_probs(np.empty((0, 2)), axis=1).shape == (0, 2)


# --------------------------------------------------------------------------- log1p_exp


def ref_log1p_exp(x: float) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        v = mpf(x)
        return v + mpmath.log1p(mpmath.exp(-v)) if v > 0 else mpmath.log1p(mpmath.exp(v))


@PROPERTY
@given(
    st.one_of(scaled(), st.floats(-800.0, 800.0), st.floats(allow_nan=False, allow_infinity=False))
)
def test_log1p_exp_accuracy(x):
    exact = ref_log1p_exp(x)
    assert ulps(num.log1p_exp(x), exact, abs(exact)) <= 2
    assert ulps(num.log1p_exp(np.array([x]))[0], exact, abs(exact)) <= 2


@PROPERTY
@given(st.floats(-110.0, 110.0, width=32))
def test_log1p_exp_float32_accuracy(x):
    exact = ref_log1p_exp(x)
    got = num.log1p_exp(np.float32(x))
    assert type(got) is np.float32
    assert ulps(got, exact, abs(exact), np.float32) <= 1


@pytest.mark.parametrize("path", ["float", "numpy_scalar", "array"])
@pytest.mark.parametrize(
    "x", [-INF, -1e308, -800.0, -745.5, -745.0, -700.0, -40.0, -1e-300, 0.0, 36.0, 800.0, 1e308]
)
def test_log1p_exp_extremes_match_mpmath_rounded(path, x):
    # -800: the exact value ~1e-348 is below the smallest subnormal, so 0.0 is
    # the correctly rounded answer; -700 must give ~exp(-700), not 0.
    wrap = {"float": float, "numpy_scalar": np.float64, "array": lambda v: np.array([v])}[path]
    got = np.asarray(num.log1p_exp(wrap(x))).reshape(-1)[0]
    exact = ref_log1p_exp(x)
    assert ulps(got, exact, abs(exact)) <= 1
    if x == -700.0:
        assert got > 0.0


@pytest.mark.parametrize("x", [INF, -INF, NAN])
def test_log1p_exp_special_values(x):
    expected = {INF: INF, -INF: 0.0}.get(x, NAN)
    assert same(num.log1p_exp(x), expected)
    assert same(num.log1p_exp(np.array([x]))[0], expected)
    assert same(num.log1p_exp(np.array([x], dtype=np.float32))[0], expected)


# --------------------------------------------------------------------------- safe_ln


@PROPERTY
@given(st.one_of(scaled(sign=False), st.floats(min_value=5e-324, allow_infinity=False)))
def test_safe_ln_accuracy(x):
    with mpmath.workdps(DPS):
        exact = mpmath.log(mpf(x))
    assert ulps(num.safe_ln(x), exact, abs(exact)) <= 1
    assert ulps(num.safe_ln(np.array([x]))[0], exact, abs(exact)) <= 1


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0.0, -INF),
        (-0.0, -INF),
        (-1.0, -INF),
        (-1e308, -INF),
        (-INF, -INF),
        (INF, INF),
        (NAN, NAN),
        (1.0, 0.0),
        (0, -INF),
        (-3, -INF),
        (10**400, 400 * math.log(10)),
    ],
)
def test_safe_ln_edge_cases(x, expected):
    got = num.safe_ln(x)
    assert type(got) is float
    assert same(got, expected) or math.isclose(got, expected, rel_tol=1e-15)
    if isinstance(x, float):
        assert same(num.safe_ln(np.array([x]))[0], expected)
    if isinstance(x, float) and (abs(x) < 3e38 or not math.isfinite(x)):  # float32's range
        assert same(num.safe_ln(np.array([x], dtype=np.float32))[0], np.float32(expected))


def test_safe_ln_at_float_limits():
    tiny, huge = 5e-324, 1.7976931348623157e308
    with mpmath.workdps(DPS):
        expected = [float(mpmath.log(mpf(tiny))), float(mpmath.log(mpf(huge)))]
    assert [num.safe_ln(tiny), num.safe_ln(huge)] == expected
    assert num.safe_ln(np.array([tiny, huge])).tolist() == expected


# --------------------------------------------------------------------------- log_gamma


def ref_log_gamma(x: float) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        return mpmath.log(abs(mpmath.gamma(mpf(x))))


@PROPERTY
@given(scaled(sign=False))
def test_log_gamma_accuracy(x):
    exact = ref_log_gamma(x)
    for got in (num.log_gamma(x), num.log_gamma(np.array([x]))[0]):
        with mpmath.workdps(DPS):
            err = abs(mpf(got) - exact)
            if 0.5 <= x <= 2.5:
                # Near the zeros at 1 and 2 only the absolute error is small
                # (math.lgamma: up to ~6 eps measured, so 16 eps).
                assert err <= 16 * EPS64
            else:
                assert err <= 1e-14 * abs(exact)


@pytest.mark.parametrize("x", [-0.5, -1.5, -2.5, -10.3, -100.7, -170.5])
def test_log_gamma_negative_non_integers(x):
    # log|Gamma(x)| by reflection; these points are away from its zeros.
    exact = ref_log_gamma(x)
    for got in (num.log_gamma(x), num.log_gamma(np.array([x]))[0]):
        assert abs(got - float(exact)) <= 1e-13 * abs(float(exact))


@pytest.mark.parametrize(
    "x", [0.0, -0.0, -1.0, -2.0, -1e10, 0, -3, INF, -INF, NAN, 1.0, 2.0, 1e306, 2.6e305]
)
def test_log_gamma_special_values_follow_scipy(x):
    expected = float(special.gammaln(x))
    assert same(num.log_gamma(x), expected)
    assert same(num.log_gamma(np.array([x], dtype=np.float64))[0], expected)


def test_log_gamma_float32_overflow_is_inf_without_warning():
    got = num.log_gamma(np.array([3e38, 4.0], dtype=np.float32))
    assert got.dtype == np.float32
    assert got[0] == np.inf
    assert got[1] == np.float32(math.log(6.0))


# --------------------------------------------------------------------------- log_diff_exp


def ordered_pairs() -> st.SearchStrategy[tuple[float, float]]:
    near = st.builds(lambda a, d: (a, a - d), scaled(), scaled(-300, 2, sign=False))
    wide = st.tuples(scaled(), scaled()).map(lambda p: (max(p), min(p)))
    return st.one_of(near, wide).filter(lambda p: p[0] > p[1])


@PROPERTY
@given(ordered_pairs())
def test_log_diff_exp_accuracy(pair):
    a, b = pair
    with mpmath.workdps(DPS):
        d = mpf(b) - mpf(a)
        one_minus_r = -mpmath.expm1(d)  # r = exp(b - a)
        # log1p(-r) for small r: log(1 - 1e-44) at 50 digits keeps only 6 digits.
        exact = mpf(a) + (mpmath.log1p(-mpmath.exp(d)) if d < -1 else mpmath.log(one_minus_r))
        # Conditioning: d/da = 1 / (1 - r), d/db = -r / (1 - r).
        scale = max(abs(exact), (abs(mpf(a)) + (1 - one_minus_r) * abs(mpf(b))) / one_minus_r)
    assert ulps(num.log_diff_exp(a, b), exact, scale) <= 4
    assert ulps(num.log_diff_exp(np.array([a]), np.array([b]))[0], exact, scale) <= 4


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (0.0, 0.0, -INF),
        (1e308, 1e308, -INF),
        (-INF, -INF, -INF),
        (3.0, -INF, 3.0),
        (INF, 1.0, INF),
        (INF, -INF, INF),
        (INF, INF, NAN),
        (NAN, 1.0, NAN),
        (1.0, NAN, NAN),
        (0.0, -1e-20, math.log(1e-20)),
        (1.7976931348623157e308, 0.0, 1.7976931348623157e308),
    ],
)
def test_log_diff_exp_edge_cases(a, b, expected):
    assert same(num.log_diff_exp(a, b), expected)
    assert same(num.log_diff_exp(np.array([a]), np.array([b]))[0], expected)


@pytest.mark.parametrize(
    ("a", "b"), [(1.0, 2.0), (-INF, 0.0), (np.array([0.0, 1.0]), np.array([-1.0, 3.0]))]
)
def test_log_diff_exp_rejects_b_above_a(a, b):
    with pytest.raises(InvalidParameterError, match="b must be <= a") as info:
        num.log_diff_exp(a, b)
    assert isinstance(info.value, ValueError)
    if isinstance(b, np.ndarray):
        assert "3.0" in str(info.value)


def test_log_diff_exp_broadcasts():
    got = num.log_diff_exp(np.array([[1.0], [2.0]]), np.array([0.0, -1.0]))
    expected = np.log(np.exp([[1.0], [2.0]]) - np.exp([0.0, -1.0]))
    np.testing.assert_allclose(got, expected, rtol=1e-15)


# --------------------------------------------------------------------------- naive versions


X32 = np.array([89.0, 89.0], dtype=np.float32)


@pytest.mark.parametrize(
    ("naive_fn", "stable_fn", "args", "expected"),
    [
        ("naive_log_sum_exp", "log_sum_exp", ([1000.0, 1000.0],), INF),
        ("naive_log_sum_exp", "log_sum_exp", ([-1000.0, -1000.0],), -INF),
        ("naive_log_sum_exp", "log_sum_exp", (X32,), INF),  # float32 overflows at exp(89)
        ("naive_weighted_log_sum_exp", "weighted_log_sum_exp", ([800.0], [1e-300]), INF),
        ("naive_log1p_exp", "log1p_exp", (1000.0,), INF),
        ("naive_log1p_exp", "log1p_exp", (-40.0,), 0.0),
        ("naive_ln", "safe_ln", (-1.0,), NAN),
    ],
)
def test_naive_versions_fail_where_expected(naive_fn, stable_fn, args, expected):
    # The naive formula gives the IEEE failure value (silently: warnings are
    # errors here), the stable one a finite or correct answer.
    assert same(float(getattr(naive, naive_fn)(*args)), expected)
    assert not same(float(getattr(num, stable_fn)(*args)), expected)


def test_naive_normalize_fails_where_expected():
    assert np.isnan(naive.naive_normalize_log_probs([1000.0, 1000.0])).all()  # inf / inf
    assert np.isnan(naive.naive_normalize_log_probs([-1000.0, -1000.0])).all()  # 0 / 0
    np.testing.assert_allclose(num.normalize_log_probs([-1000.0, -1000.0]), [-math.log(2.0)] * 2)


def test_naive_versions_agree_on_benign_inputs(rng):
    # Where nothing overflows the two compute the same function.
    x = rng.normal(0.0, 3.0, size=(4, 5))
    w = rng.uniform(0.1, 2.0, size=(4, 5))
    for axis in [None, 0, 1]:
        np.testing.assert_allclose(
            naive.naive_log_sum_exp(x, axis), num.log_sum_exp(x, axis), rtol=1e-13
        )
        np.testing.assert_allclose(
            naive.naive_weighted_log_sum_exp(x, w, axis),
            num.weighted_log_sum_exp(x, w, axis),
            rtol=1e-13,
        )
    np.testing.assert_allclose(
        naive.naive_normalize_log_probs(x, axis=1), num.normalize_log_probs(x, axis=1), rtol=1e-13
    )
    np.testing.assert_allclose(naive.naive_log1p_exp(x), num.log1p_exp(x), rtol=1e-13)
    np.testing.assert_allclose(naive.naive_ln(w), num.safe_ln(w), rtol=1e-15)
