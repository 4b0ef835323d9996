"""Tests for fugue_lab.core.distributions.

References are independent of the implementation: scipy.stats for log-densities, moments
and goodness of fit, and mpmath (50 digits) for the far tails, where some scipy.stats
densities underflow to -inf, overflow, or lose digits to cancellation (Poisson and
binomial near the mode with huge counts).
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hst

from fugue_lab.core.distributions import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    ChiSquared,
    DiscreteUniform,
    Distribution,
    Exponential,
    Gamma,
    InverseGamma,
    Laplace,
    LogNormal,
    Normal,
    Poisson,
    StudentT,
    Support,
    Uniform,
    Weibull,
)
from fugue_lab.errors import InvalidObservationError, InvalidParameterError

INF = math.inf
NAN = math.nan
RTOL = 1e-12  # relative, or absolute for |log p| < 1
P_MIN = 1e-3  # goodness-of-fit threshold at a fixed seed
N_DRAWS = 20_000


# ---------------------------------------------------------------------------------------------
# Families: constructor, parameter sets, scipy.stats reference, value grid
# ---------------------------------------------------------------------------------------------

FAMILIES = {
    "Normal": (
        Normal,
        [(0.5, 2.0), (0.0, 1.0), (-3.0, 1e-3)],
        lambda mu, s: st.norm(mu, s),
        [-INF, -1e3, -40.0, -3.0, -1e-3, 0.0, 0.5, 2.0, 40.0, 80.5, 1e3, INF],
    ),
    "LogNormal": (
        LogNormal,
        [(0.3, 0.7), (-2.0, 0.1), (5.0, 3.0)],
        lambda mu, s: st.lognorm(s, scale=np.exp(mu)),
        [-INF, -1.0, -0.0, 0.0, 1e-300, 1e-5, 0.1, 1.0, 5.0, 1e10, 1e300, INF],
    ),
    "Uniform": (
        Uniform,
        [(-1.0, 2.0), (0.0, 1e-3), (-1e5, 1e5)],
        lambda lo, hi: st.uniform(lo, hi - lo),
        [-INF, -1e6, -1e5, -1.0, -0.5, 0.0, 5e-4, 1e-3, 2.0, 2.0000001, 1e5, INF],
    ),
    "Exponential": (
        Exponential,
        [(2.0,), (1e-3,), (50.0,)],
        lambda r: st.expon(scale=1.0 / r),
        # rate * x = 1000 for each rate: 20 * 50, 500 * 2, 1e6 * 1e-3
        [-INF, -1.0, -1e-300, 0.0, 1e-300, 0.5, 20.0, 500.0, 1e6, INF],
    ),
    "Gamma": (
        Gamma,
        [(0.5, 2.0), (1.0, 2.0), (3.0, 1.0), (3.0, 2.0), (50.0, 0.1)],
        lambda a, r: st.gamma(a, scale=1.0 / r),
        [-INF, -1.0, 0.0, 1e-300, 0.3, 2.0, 500.0, 1000.0],
    ),
    "Beta": (
        Beta,
        [(0.5, 2.0), (2.0, 0.5), (1.0, 1.0), (1.0, 3.0), (3.0, 1.0), (2.5, 0.7), (0.5, 0.5)],
        lambda a, b: st.beta(a, b),
        [-INF, -0.1, -0.0, 0.0, 1e-300, 1e-10, 0.3, 0.5, 1.0 - 1e-10, 1.0, 1.1, INF],
    ),
    "StudentT": (
        StudentT,
        [(3.0, 1.0, 2.0), (0.5, 0.0, 1.0), (1.0, -2.0, 0.5), (30.0, 0.0, 1.0), (1e6, 0.0, 1.0)],
        lambda df, loc, s: st.t(df, loc, s),
        [-INF, -1e100, -1e10, -3.0, 0.0, 1.0, 1e5, INF],
    ),
    "Cauchy": (
        Cauchy,
        [(1.0, 2.0), (0.0, 1e-3)],
        lambda loc, s: st.cauchy(loc, s),
        [-INF, -1e100, -3.0, 0.0, 1.0, 1e5, INF],
    ),
    "Laplace": (
        Laplace,
        [(1.0, 2.0), (0.0, 0.5)],
        lambda loc, s: st.laplace(loc, s),
        [-INF, -300.0, -3.0, 0.0, 1.0, 5.0, 300.0, INF],
    ),
    "Weibull": (
        Weibull,
        [(0.7, 2.0), (1.0, 2.0), (2.5, 2.0)],
        lambda k, lam: st.weibull_min(k, scale=lam),
        [-INF, -1.0, 0.0, 1e-300, 0.1, 2.0, 50.0, 1e5],
    ),
    "ChiSquared": (
        ChiSquared,
        [(1.0,), (2.0,), (3.0,), (7.5,)],
        lambda k: st.chi2(k),
        [-INF, -1.0, 0.0, 1e-300, 0.1, 2.0, 50.0, 1000.0],
    ),
    "InverseGamma": (
        InverseGamma,
        [(2.5, 1.5), (0.5, 1.0), (1.0, 3.0)],
        lambda a, b: st.invgamma(a, scale=b),
        [-INF, -1.0, 0.0, 1e-3, 0.1, 2.0, 50.0, 1e10, INF],
    ),
    "Bernoulli": (
        Bernoulli,
        [(0.3,), (0.0,), (1.0,), (1e-300,)],
        lambda p: st.bernoulli(p),
        [-INF, -1.0, 0.0, 0.5, 1.0, 2.0, INF],
    ),
    "Binomial": (
        Binomial,
        [(10, 0.3), (5, 0.0), (5, 1.0), (0, 0.4), (1, 0.5), (40, 0.999)],
        lambda n, p: st.binom(n, p),
        [-INF, -1.0, 0.0, 1.0, 2.5, 3.0, 5.0, 9.0, 10.0, 11.0, 39.0, 40.0, INF],
    ),
    "Poisson": (
        Poisson,
        [(3.5,), (1e-3,), (0.5,), (40.0,)],
        lambda r: st.poisson(r),
        [-INF, -1.0, 0.0, 1.0, 2.5, 3.0, 20.0, 40.0, 1000.0, 1e5],
    ),
    "Categorical": (
        Categorical,
        [([0.2, 0.0, 0.8],), ([1.0],), ([0.25, 0.25, 0.25, 0.25],)],
        lambda probs: st.rv_discrete(values=(np.arange(len(probs)), probs)),
        [-INF, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0, INF],
    ),
    "DiscreteUniform": (
        DiscreteUniform,
        [(-2, 3), (0, 0), (5, 7)],
        lambda lo, hi: st.randint(lo, hi + 1),
        [-INF, -3.0, -2.0, 0.0, 0.5, 3.0, 4.0, 5.0, 7.0, 8.0, INF],
    ),
}

CASES = [
    pytest.param(name, params, id=f"{name}{params}")
    for name, (_, sets, _, _) in FAMILIES.items()
    for params in sets
]
FIRST = [pytest.param(name, sets[0], id=name) for name, (_, sets, _, _) in FAMILIES.items()]


def make(name: str, params: tuple) -> Distribution:
    return FAMILIES[name][0](*params)


def reference(name: str, params: tuple):
    return FAMILIES[name][2](*params)


def ref_logp(ref, discrete: bool, x):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return ref.logpmf(x) if discrete else ref.logpdf(x)


def assert_logp_close(actual, expected, rtol: float = RTOL) -> None:
    """Equal infinities and NaNs; finite values within rtol * max(|expected|, 1)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    special = ~np.isfinite(expected)
    np.testing.assert_array_equal(actual[special], expected[special])
    fin = ~special
    err = np.abs(actual[fin] - expected[fin])
    tol = rtol * np.maximum(np.abs(expected[fin]), 1.0)
    assert np.all(err <= tol), (actual[fin], expected[fin], err / tol)


# ---------------------------------------------------------------------------------------------
# Log-densities against scipy.stats
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), CASES)
def test_scalar_path_matches_scipy(name, params):
    d = make(name, params)
    grid = FAMILIES[name][3]
    expected = ref_logp(reference(name, params), d.is_discrete, np.array(grid))
    got = [d.log_prob(float(x)) for x in grid]
    assert all(type(v) is float for v in got)
    assert_logp_close(got, expected)
    if d.is_discrete:  # Python ints take their own fast path
        ints = [(int(x), e) for x, e in zip(grid, expected) if math.isfinite(x) and x == int(x)]
        got_int = [d.log_prob(k) for k, _ in ints]
        assert all(type(v) is float for v in got_int)
        assert_logp_close(got_int, [e for _, e in ints])


@pytest.mark.parametrize(("name", "params"), CASES)
def test_array_path_matches_scipy(name, params):
    d = make(name, params)
    grid = np.array(FAMILIES[name][3])
    got = d.log_prob(grid)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.float64
    assert_logp_close(got, ref_logp(reference(name, params), d.is_discrete, grid))
    # a 2-D value array keeps its shape
    assert d.log_prob(grid.reshape(1, -1)).shape == (1, grid.size)


@pytest.mark.parametrize("name", [n for n in FAMILIES if n != "Categorical"])
def test_batched_params_broadcast_and_match_scipy(name):
    cls, sets, ref_factory, grid = FAMILIES[name]
    columns = list(zip(*sets))
    arrays = [np.array(c).reshape(-1, 1) for c in columns]  # params of shape (m, 1)
    d = cls(*arrays)
    assert d.batch_shape == (len(sets), 1)
    x = np.array(grid)
    got = d.log_prob(x)
    assert got.shape == (len(sets), x.size)
    expected = np.stack([ref_logp(ref_factory(*p), d.is_discrete, x) for p in sets])
    assert_logp_close(got, expected)
    # a scalar value against array params gives an array of the batch shape
    one = d.log_prob(float(grid[len(grid) // 2]))
    assert isinstance(one, np.ndarray)
    assert one.shape == (len(sets), 1)


def test_batched_categorical_matches_rowwise():
    probs = np.array([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]])
    d = Categorical(probs)
    assert d.batch_shape == (2,)
    x = np.array([[0, 1], [1, 2], [2, 0], [3, -1]])  # shape (4, 2) broadcasts with (2,)
    got = d.log_prob(x)
    expected = np.empty(x.shape)
    for j in range(2):
        ref = st.rv_discrete(values=(np.arange(3), probs[j]))
        expected[:, j] = ref_logp(ref, True, x[:, j])
    assert_logp_close(got, expected)
    assert_logp_close(d.log_prob(1), [-INF, math.log(0.25)])


def test_normal_and_gamma_tails_are_finite():
    assert math.isfinite(Normal(0.0, 1.0).log_prob(40.0))
    assert Normal(0.0, 1.0).log_prob(40.0) == pytest.approx(-800.0 - 0.5 * math.log(2 * math.pi))
    assert math.isfinite(Gamma(3.0, 1.0).log_prob(1000.0))
    assert np.all(np.isfinite(Gamma(3.0, 1.0).log_prob(np.array([1000.0, 1e5]))))


# Points where scipy.stats is not a usable reference (it underflows, overflows, returns
# NaN, or loses digits to cancellation): compare with mpmath at 50 digits.
def _mp_t(df, loc, s):
    def f(x):
        z = (x - loc) / s
        return (
            mp.loggamma((df + 1) / 2)
            - mp.loggamma(df / 2)
            - mp.log(df * mp.pi) / 2
            - mp.log(s)
            - (df + 1) / 2 * mp.log(1 + z * z / df)
        )

    return f


def _mp_binom(n, p):
    return lambda k: (
        mp.loggamma(n + 1)
        - mp.loggamma(k + 1)
        - mp.loggamma(n - k + 1)
        + k * mp.log(p)
        + (n - k) * mp.log(1 - p)
    )


MP_TAILS = [
    (Normal(0.0, 1.0), 40.0, lambda x: -x * x / 2 - mp.log(2 * mp.pi) / 2),
    (Laplace(1.0, 2.0), 1e5, lambda x: -mp.log(4) - abs(x - 1) / 2),
    (Laplace(1.0, 2.0), -1e100, lambda x: -mp.log(4) - abs(x - 1) / 2),
    (StudentT(3.0, 1.0, 2.0), 1e200, _mp_t(3, 1, 2)),
    (StudentT(3.0, 1.0, 2.0), -1e300, _mp_t(3, 1, 2)),
    (StudentT(0.5, 0.0, 1.0), 1e250, _mp_t(mp.mpf(0.5), 0, 1)),
    (StudentT(1e3, 0.0, 1.0), 2.0, _mp_t(mp.mpf(1e3), 0, 1)),
    (StudentT(1e12, 0.0, 1.0), 5.0, _mp_t(mp.mpf(1e12), 0, 1)),
    (Cauchy(1.0, 2.0), 1e200, lambda x: -mp.log(2 * mp.pi) - mp.log(1 + ((x - 1) / 2) ** 2)),
    (Cauchy(0.0, 1.0), -1e300, lambda x: -mp.log(mp.pi) - mp.log(1 + x * x)),
    (Gamma(3.0, 1.0), 1000.0, lambda x: -mp.loggamma(3) + 2 * mp.log(x) - x),
    (Weibull(2.5, 2.0), 1e100, lambda x: mp.log(1.25) + 1.5 * mp.log(x / 2) - (x / 2) ** 2.5),
    (
        InverseGamma(2.5, 1.5),
        1e-300,
        lambda x: 2.5 * mp.log(1.5) - mp.loggamma(2.5) - 3.5 * mp.log(x) - 1.5 / x,
    ),
    (Poisson(1e6), 1e6, lambda k: k * mp.log(1e6) - 1e6 - mp.loggamma(k + 1)),
    (Poisson(1e6), 1e6 + 1000, lambda k: k * mp.log(1e6) - 1e6 - mp.loggamma(k + 1)),
    (Poisson(1e12), 1e12 + 7, lambda k: k * mp.log(1e12) - 1e12 - mp.loggamma(k + 1)),
    (Poisson(3.0), 1e15, lambda k: k * mp.log(3) - 3 - mp.loggamma(k + 1)),
    (Poisson(1e-3), 1e6, lambda k: k * mp.log(mp.mpf(1e-3)) - mp.mpf(1e-3) - mp.loggamma(k + 1)),
    (Binomial(10**6, 0.3), 300_000.0, _mp_binom(10**6, mp.mpf(0.3))),
    (Binomial(10**9, 0.5), 500_000_007.0, _mp_binom(10**9, mp.mpf(0.5))),
    (Binomial(10**6, 1e-6), 3.0, _mp_binom(10**6, mp.mpf(1e-6))),
    (Binomial(1000, 0.3), 300.0, _mp_binom(1000, mp.mpf(0.3))),
    (Binomial(1000, 0.3), 1.0, _mp_binom(1000, mp.mpf(0.3))),
]


@pytest.mark.parametrize(("d", "x", "f"), MP_TAILS, ids=[f"{d!r}@{x:g}" for d, x, _ in MP_TAILS])
def test_far_tails_match_mpmath(d, x, f):
    with mp.workdps(50):
        expected = float(f(mp.mpf(x)))
    assert math.isfinite(expected)
    assert_logp_close(d.log_prob(x), expected)
    assert_logp_close(d.log_prob(np.array([x])), [expected])


@pytest.mark.parametrize(
    "d",
    [
        Gamma(3.0, 2.0),
        Gamma(0.5, 1.0),
        Weibull(2.5, 2.0),
        ChiSquared(3.0),
        Exponential(1.0),
        Poisson(3.5),
        Binomial(10, 0.3),
    ],
    ids=repr,
)
def test_infinite_value_scores_minus_inf(d):
    # scipy.stats returns NaN here for some of these (inf - inf inside its formula)
    assert d.log_prob(INF) == -INF
    assert d.log_prob(np.array([INF]))[0] == -INF


def test_exact_at_probability_endpoints():
    assert Binomial(5, 0.0).log_prob(0) == 0.0
    assert Binomial(5, 0.0).log_prob(1) == -INF
    assert Binomial(5, 1.0).log_prob(5) == 0.0
    assert Binomial(5, 1.0).log_prob(4) == -INF
    assert Binomial(0, 0.7).log_prob(0) == 0.0
    for x in (False, 0, 0.0, np.False_):
        assert Bernoulli(0.0).log_prob(x) == 0.0
        assert Bernoulli(1.0).log_prob(x) == -INF
    for x in (True, 1, 1.0, np.True_):
        assert Bernoulli(1.0).log_prob(x) == 0.0
        assert Bernoulli(0.0).log_prob(x) == -INF
    np.testing.assert_array_equal(
        Binomial(np.array([5, 5]), np.array([0.0, 1.0])).log_prob(np.array([[0], [5]])),
        [[0.0, -INF], [-INF, 0.0]],
    )
    np.testing.assert_array_equal(
        Bernoulli(np.array([0.0, 1.0])).log_prob(np.array([True, True])), [-INF, 0.0]
    )


def test_beta_endpoints_follow_scipy():
    for a in (0.5, 1.0, 2.0):
        for b in (0.5, 1.0, 2.0):
            d = Beta(a, b)
            expected = ref_logp(st.beta(a, b), False, np.array([0.0, 1.0]))
            assert_logp_close([d.log_prob(0.0), d.log_prob(1.0)], expected)
            assert_logp_close(d.log_prob(np.array([0.0, 1.0])), expected)


@pytest.mark.parametrize(
    "d",
    [Poisson(3.0), Binomial(10, 0.3), Categorical([0.5, 0.5]), DiscreteUniform(-2, 3)],
    ids=repr,
)
def test_discrete_values_accept_integral_numbers_only(d):
    ref = d.log_prob(1)
    for x in (1.0, np.int64(1), np.uint8(1), np.float32(1.0), True):
        assert d.log_prob(x) == ref
    for x in (0.5, 1.0 + 1e-12, -0.5, INF):
        assert d.log_prob(x) == -INF
    got = d.log_prob(np.array([1.0, 1.5, np.nan]))
    assert got[0] == ref
    assert got[1] == -INF
    assert math.isnan(got[2])
    assert d.log_prob(np.array([1], dtype=np.int8))[0] == ref


@pytest.mark.parametrize(("name", "params"), FIRST)
def test_nan_value_gives_nan_on_both_paths(name, params):
    d = make(name, params)
    assert math.isnan(d.log_prob(NAN))
    assert math.isnan(d.log_prob(np.float64(NAN)))
    got = d.log_prob(np.array([NAN, 1.0]))
    assert math.isnan(got[0])
    assert not math.isnan(got[1])


@pytest.mark.parametrize("d", [Normal(0.0, 1.0), Poisson(3.0), Gamma(2.0, 1.0)], ids=repr)
def test_huge_python_int_value_never_raises(d):
    assert d.log_prob(10**400) == -INF
    assert d.log_prob(-(10**400)) == -INF


# ---------------------------------------------------------------------------------------------
# Observations of the wrong kind
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), FIRST)
@pytest.mark.parametrize(
    "value",
    ["1.0", None, [1.0, "a"], np.array(["x"]), object(), 1 + 2j, {"a": 1}],
    ids=["str", "None", "mixed-list", "str-array", "object", "complex", "dict"],
)
def test_non_numeric_value_raises_invalid_observation(name, params, value):
    d = make(name, params)
    with pytest.raises(InvalidObservationError) as info:
        d.log_prob(value)
    assert name in str(info.value)
    assert repr(value)[:20] in str(info.value)
    assert isinstance(info.value, TypeError)


# ---------------------------------------------------------------------------------------------
# Parameter validation
# ---------------------------------------------------------------------------------------------

INVALID = [
    (Normal, (0.0, -2.5), "sigma", "-2.5"),
    (Normal, (0.0, 0.0), "sigma", "0.0"),
    (Normal, (NAN, 1.0), "mu", "nan"),
    (Normal, (INF, 1.0), "mu", "inf"),
    (Normal, (0.0, INF), "sigma", "inf"),
    (Normal, (0.0, NAN), "sigma", "nan"),
    (Normal, (0, -1), "sigma", "-1.0"),
    (Normal, (np.float32(0.0), np.float32(-2.0)), "sigma", "-2.0"),
    (LogNormal, (0.0, -1.0), "sigma", "-1.0"),
    (LogNormal, (-INF, 1.0), "mu", "-inf"),
    (Uniform, (2.0, 1.0), "high", "1.0"),
    (Uniform, (1.0, 1.0), "high", "1.0"),
    (Uniform, (-INF, 1.0), "low", "-inf"),
    (Uniform, (0.0, NAN), "high", "nan"),
    (Exponential, (0.0,), "rate", "0.0"),
    (Exponential, (NAN,), "rate", "nan"),
    (Gamma, (-1.0, 1.0), "shape", "-1.0"),
    (Gamma, (1.0, -3.0), "rate", "-3.0"),
    (Gamma, (INF, 1.0), "shape", "inf"),
    (Beta, (0.0, 1.0), "alpha", "0.0"),
    (Beta, (1.0, NAN), "beta", "nan"),
    (StudentT, (-1.0,), "df", "-1.0"),
    (StudentT, (INF,), "df", "inf"),
    (StudentT, (3.0, 0.0, -1.0), "scale", "-1.0"),
    (StudentT, (3.0, NAN, 1.0), "loc", "nan"),
    (Cauchy, (0.0, -1.0), "scale", "-1.0"),
    (Laplace, (INF, 1.0), "loc", "inf"),
    (Laplace, (0.0, 0.0), "scale", "0.0"),
    (Weibull, (0.0, 1.0), "shape", "0.0"),
    (Weibull, (1.0, -2.0), "scale", "-2.0"),
    (ChiSquared, (-3.0,), "k", "-3.0"),
    (InverseGamma, (0.0, 1.0), "shape", "0.0"),
    (InverseGamma, (1.0, 0.0), "rate", "0.0"),
    (Bernoulli, (1.5,), "p", "1.5"),
    (Bernoulli, (-0.1,), "p", "-0.1"),
    (Bernoulli, (NAN,), "p", "nan"),
    (Binomial, (2.5, 0.3), "n", "2.5"),
    (Binomial, (-1, 0.3), "n", "-1"),
    (Binomial, (NAN, 0.3), "n", "nan"),
    (Binomial, (INF, 0.3), "n", "inf"),
    (Binomial, (10, 1.01), "p", "1.01"),
    (Poisson, (0.0,), "rate", "0.0"),
    (Poisson, (INF,), "rate", "inf"),
    (Poisson, (-2.0,), "rate", "-2.0"),
    (Categorical, ([0.5, 0.6],), "probs", "[0.5, 0.6]"),
    (Categorical, ([0.5, 0.5 + 1e-7],), "probs", "[0.5, 0.5000001]"),
    (Categorical, ([],), "probs", "[]"),
    (Categorical, ([-0.1, 1.1],), "probs[0]", "-0.1"),
    (Categorical, ([NAN, 1.0],), "probs[0]", "nan"),
    (Categorical, ([INF, 1.0],), "probs[0]", "inf"),
    (Categorical, ([[0.5, 0.5], [0.2, 0.2]],), "probs[1]", "[0.2, 0.2]"),
    (DiscreteUniform, (3, 1), "high", "1"),
    (DiscreteUniform, (0.5, 3), "low", "0.5"),
    (DiscreteUniform, (0, NAN), "high", "nan"),
    # array parameters are validated elementwise and name the offending element
    (Normal, (0.0, np.array([1.0, -1.0])), "sigma[1]", "-1.0"),
    (Gamma, (np.array([[1.0], [NAN]]), 1.0), "shape[1, 0]", "nan"),
    (Uniform, (np.array([0.0, 2.0]), 1.0), "high[1]", "1.0"),
    (Bernoulli, (np.array([0.5, 2.0], dtype=np.float32),), "p[1]", "2.0"),
    (Binomial, (np.array([3, -2]), 0.5), "n[1]", "-2"),
    (DiscreteUniform, (np.array([0, 5]), 3), "high[1]", "3"),
]


@pytest.mark.parametrize(
    ("cls", "args", "pname", "shown"),
    INVALID,
    ids=[f"{c.__name__}-{p}-{s}" for c, _, p, s in INVALID],
)
def test_invalid_parameters_raise_naming_owner_parameter_and_value(cls, args, pname, shown):
    with pytest.raises(InvalidParameterError) as info:
        cls(*args)
    msg = str(info.value)
    assert msg.startswith(f"{cls.__name__}: {pname} must be "), msg
    assert msg.endswith(f"got {shown}") or f"got {shown}" in msg, msg
    assert info.value.owner == cls.__name__
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("cls", "args"),
    [
        (Normal, ("a", 1.0)),
        (Normal, (True, 1.0)),
        (Normal, (0.0, None)),
        (Normal, (np.array(["a"]), 1.0)),
        (Gamma, (np.array([True, False]), 1.0)),
        (Bernoulli, (np.True_,)),
        (Binomial, (True, 0.5)),
        (Binomial, ("10", 0.5)),
        (Categorical, (0.5,)),
        (DiscreteUniform, ("a", 3)),
    ],
)
def test_non_numeric_parameters_raise_type_error(cls, args):
    with pytest.raises(TypeError) as info:
        cls(*args)
    assert not isinstance(info.value, ValueError)
    assert cls.__name__ in str(info.value)


def test_incompatible_parameter_shapes_raise():
    with pytest.raises(InvalidParameterError, match="Normal"):
        Normal(np.zeros(3), np.ones(4))


def test_categorical_probs_within_tolerance_are_kept_as_given():
    probs = [0.5, 0.5 + 1e-12]
    d = Categorical(probs)
    assert d.log_prob(1) == math.log(0.5 + 1e-12)  # not renormalised
    with pytest.raises(InvalidParameterError, match="1-D"):
        Categorical(np.full((2, 2, 2), 0.5))


def test_integral_floats_are_accepted_for_integer_parameters():
    assert Binomial(10.0, 0.5).params == {"n": 10, "p": 0.5}
    assert type(Binomial(np.int32(10), 0.5).params["n"]) is int
    assert DiscreteUniform(1.0, 3.0).params == {"low": 1, "high": 3}


# ---------------------------------------------------------------------------------------------
# Description: params, repr, batch shape, support, moments
# ---------------------------------------------------------------------------------------------


def test_params_repr_and_flags():
    d = Normal(0.0, 1.0)
    assert repr(d) == "Normal(mu=0.0, sigma=1.0)"
    assert repr(Normal(0, 1)) == "Normal(mu=0.0, sigma=1.0)"
    assert list(StudentT(3.0).params) == ["df", "loc", "scale"]
    assert StudentT(3.0).params == {"df": 3.0, "loc": 0.0, "scale": 1.0}
    assert Gamma(2.0, 3.0).params == {"shape": 2.0, "rate": 3.0}
    assert repr(Binomial(10, 0.25)) == "Binomial(n=10, p=0.25)"
    assert d.batch_shape == ()
    assert Normal(np.zeros((3, 1)), np.ones(4)).batch_shape == (3, 4)
    assert Categorical(np.full((5, 2), 0.5)).batch_shape == (5,)
    assert "shape=(100,)" in repr(Normal(np.zeros(100), 1.0))
    expected_types = {
        "Bernoulli": bool,
        "Binomial": int,
        "Poisson": int,
        "Categorical": int,
        "DiscreteUniform": int,
    }
    for name, (cls, sets, _, _) in FAMILIES.items():
        inst = cls(*sets[0])
        assert inst.value_type is expected_types.get(name, float)
        assert inst.is_discrete is (name in expected_types)
        assert list(inst.params) == list(
            cls.__init__.__code__.co_varnames[1 : 1 + len(inst.params)]
        )
        assert inst.params[next(iter(inst.params))] is getattr(inst, next(iter(inst.params)))


def test_distributions_are_slotted():
    for name, (cls, sets, _, _) in FAMILIES.items():
        inst = cls(*sets[0])
        assert not hasattr(inst, "__dict__"), name


SUPPORT_KINDS = {
    "Normal": "real",
    "LogNormal": "positive",
    "Uniform": "interval",
    "Exponential": "positive",
    "Gamma": "positive",
    "Beta": "interval",
    "StudentT": "real",
    "Cauchy": "real",
    "Laplace": "real",
    "Weibull": "positive",
    "ChiSquared": "positive",
    "InverseGamma": "positive",
    "Bernoulli": "boolean",
    "Binomial": "integer",
    "Poisson": "integer",
    "Categorical": "categorical",
    "DiscreteUniform": "integer",
}


@pytest.mark.parametrize(("name", "params"), FIRST)
def test_support_kind_and_bounds(name, params):
    s = make(name, params).support
    assert isinstance(s, Support)
    assert s.kind == SUPPORT_KINDS[name]
    expected_bounds = {
        "Uniform": (-1.0, 2.0),
        "Beta": (0.0, 1.0),
        "Binomial": (0.0, 10.0),
        "Poisson": (0.0, INF),
        "Categorical": (0.0, 2.0),
        "DiscreteUniform": (-2.0, 3.0),
        "Bernoulli": (0.0, 1.0),
    }
    if name in expected_bounds:
        assert (s.low, s.high) == expected_bounds[name]


def test_support_contains():
    assert Support("real", -INF, INF).contains(1e300)
    assert not Support("real", -INF, INF).contains(INF)
    assert not Support("positive", 0.0, INF).contains(0.0)
    assert Support("nonnegative", 0.0, INF).contains(0.0)
    assert Support("interval", 0.0, 1.0).contains(1.0)
    assert Support("boolean", 0.0, 1.0).contains(True)
    assert not Support("boolean", 0.0, 1.0).contains(0.5)
    assert isinstance(Support("integer", 0.0, INF).contains(10**400), bool)  # never raises
    assert not Support("categorical", 0.0, 2.0).contains(3)
    np.testing.assert_array_equal(
        Support("integer", -1.0, 3.0).contains(np.array([-2, -1, 0.5, 3, np.nan])),
        [False, True, False, True, False],
    )
    assert not Support("real", -INF, INF).contains(NAN)
    assert Support("real", -INF, INF).contains("a") is False
    with pytest.raises(ValueError, match="kind"):
        Support("reals", -INF, INF)
    # every draw lies in the support
    rng = np.random.default_rng(7)
    for name, (cls, sets, _, _) in FAMILIES.items():
        d = cls(*sets[0])
        assert np.all(d.support.contains(d.sample(rng, 500))), name


EXTRA_MOMENT_CASES = [
    ("StudentT", p) for p in [(0.5, 1.0, 2.0), (1.0, 0.0, 1.0), (1.5, 1.0, 2.0), (2.0, 0.0, 1.0)]
] + [("InverseGamma", p) for p in [(0.5, 1.0), (1.0, 2.0), (1.5, 1.0), (2.0, 1.0), (3.5, 2.0)]]


@pytest.mark.parametrize(
    ("name", "params"),
    CASES + [pytest.param(n, p, id=f"{n}{p}") for n, p in EXTRA_MOMENT_CASES],
)
def test_mean_and_variance_match_scipy(name, params):
    d = make(name, params)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # scipy divides by zero for randint(0, 1)
        m, v = reference(name, params).stats(moments="mv")
    assert type(d.mean) is float
    assert type(d.variance) is float
    # Weibull's variance is Gamma(1 + 2/k) - Gamma(1 + 1/k)**2, which cancels: both sides
    # lose the same few digits, so allow 1e-10 there
    assert_logp_close(d.mean, m)
    assert_logp_close(d.variance, v, rtol=1e-10 if name == "Weibull" else RTOL)


def test_batched_moments_have_the_batch_shape():
    d = Normal(np.zeros((3, 1)), np.arange(1.0, 5.0))
    assert d.mean.shape == (3, 4)
    np.testing.assert_array_equal(d.variance, np.broadcast_to(np.arange(1.0, 5.0) ** 2, (3, 4)))
    t = StudentT(np.array([0.5, 1.5, 4.0]))
    np.testing.assert_array_equal(t.mean, [INF, 0.0, 0.0])
    np.testing.assert_array_equal(t.variance, [NAN, INF, 2.0])
    c = Categorical(np.array([[0.5, 0.5], [0.0, 1.0]]))
    np.testing.assert_allclose(c.mean, [0.5, 1.0])
    np.testing.assert_allclose(c.variance, [0.25, 0.0])


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


def chi2_pvalue(samples: np.ndarray, ref) -> float:
    """Chi-square goodness of fit of integer samples; cells with expected count < 5 are
    pooled, and a degenerate distribution must reproduce its single value."""
    samples = np.asarray(samples).astype(np.int64).ravel()
    n = samples.size
    ks = np.arange(int(samples.min()), int(samples.max()) + 1)
    pmf = ref.pmf(ks)
    assert np.all(pmf[np.isin(ks, samples)] > 0), "a draw has probability zero"
    expected = n * pmf
    keep = expected >= 5
    obs = np.array([np.sum(samples == k) for k in ks[keep]], dtype=float)
    exp = expected[keep]
    rest_obs, rest_exp = n - obs.sum(), n - exp.sum()
    if rest_exp >= 5:
        obs, exp = np.append(obs, rest_obs), np.append(exp, rest_exp)
    elif obs.size:
        i = int(np.argmin(exp))
        obs[i] += rest_obs
        exp[i] += rest_exp
    if obs.size <= 1:
        # one cell holds nearly all the mass: test its count exactly instead
        if expected[keep].sum() == n:
            assert np.unique(samples).size == 1
            return 1.0
        k_main = int(ks[keep][0])
        count = int(np.sum(samples == k_main))
        return float(st.binomtest(count, n, float(ref.pmf(k_main))).pvalue)
    return float(st.chisquare(obs, exp).pvalue)


def gof_pvalue(samples: np.ndarray, ref, discrete: bool) -> float:
    if discrete:
        return chi2_pvalue(samples, ref)
    return float(st.kstest(np.asarray(samples, dtype=np.float64).ravel(), ref.cdf).pvalue)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_array_sampling_goodness_of_fit(name, params):
    rng = np.random.default_rng(20240601)
    d = make(name, params)
    draws = d.sample(rng, N_DRAWS)
    assert draws.shape == (N_DRAWS,)
    assert gof_pvalue(draws, reference(name, params), d.is_discrete) > P_MIN


@pytest.mark.parametrize(("name", "params"), CASES)
def test_sample_mean_within_monte_carlo_error(name, params):
    d = make(name, params)
    if not np.isfinite(d.variance):
        pytest.skip("no finite variance")
    draws = d.sample(np.random.default_rng(99), N_DRAWS).astype(np.float64)
    # 5 standard errors of the mean: a correct sampler fails with probability ~6e-7
    assert abs(draws.mean() - d.mean) <= 5.0 * math.sqrt(d.variance / N_DRAWS) + 1e-12


@pytest.mark.parametrize(("name", "params"), FIRST)
def test_scalar_sampling_type_and_goodness_of_fit(name, params):
    rng = np.random.default_rng(11)
    d = make(name, params)
    draws = [d.sample(rng) for _ in range(4000)]
    assert all(type(v) is d.value_type for v in draws)
    assert gof_pvalue(np.array(draws), reference(name, params), d.is_discrete) > P_MIN


@pytest.mark.parametrize(("name", "params"), FIRST)
def test_sample_shapes_and_dtypes(name, params):
    rng = np.random.default_rng(3)
    d = make(name, params)
    dtype = {float: np.float64, int: np.int64, bool: np.bool_}[d.value_type]
    for size, shape in [((3, 4), (3, 4)), (5, (5,)), (np.int64(2), (2,))]:
        draws = d.sample(rng, size)
        assert isinstance(draws, np.ndarray)
        assert draws.shape == shape
        assert draws.dtype == dtype


@pytest.mark.parametrize("name", [n for n in FAMILIES if n != "Categorical"])
def test_batched_sampling_shapes_and_fit(name):
    """Params of shape (n, 1): sizes (n, 1) and (n, m) broadcast; each row fits its params."""
    cls, sets, ref_factory, _ = FAMILIES[name]
    n = len(sets)
    d = cls(*[np.array(c).reshape(-1, 1) for c in zip(*sets)])
    rng = np.random.default_rng(5)
    assert d.sample(rng).shape == (n, 1)
    assert d.sample(rng, (n, 1)).shape == (n, 1)
    assert d.sample(rng, (n, 3)).shape == (n, 3)
    assert d.sample(rng, (2, n, 1)).shape == (2, n, 1)
    with pytest.raises(ValueError, match="broadcast"):
        d.sample(rng, (n + 1, 1))
    draws = d.sample(rng, (n, 5000))
    for i, p in enumerate(sets):
        assert gof_pvalue(draws[i], ref_factory(*p), d.is_discrete) > P_MIN, p


def test_batched_categorical_sampling():
    probs = np.array([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25], [0.0, 0.0, 1.0]])
    d = Categorical(probs)
    rng = np.random.default_rng(9)
    assert d.sample(rng).shape == (3,)
    draws = d.sample(rng, (10000, 3))
    assert draws.dtype == np.int64
    for j in range(3):
        ref = st.rv_discrete(values=(np.arange(3), probs[j]))
        assert chi2_pvalue(draws[:, j], ref) > P_MIN


def test_categorical_never_draws_a_zero_probability_category():
    # the cumulative sum rounds below 1; trailing zero-probability categories stay unreachable
    probs = np.array([0.1] * 10 + [0.0, 0.0])
    probs = probs / probs.sum()
    d = Categorical(probs)
    draws = d.sample(np.random.default_rng(0), 200_000)
    assert draws.max() <= 9
    d0 = Categorical([0.0, 1.0])
    assert d0.sample(np.random.default_rng(0)) == 1


FAST_INTO = ["Normal", "LogNormal", "Uniform", "Exponential", "Gamma", "ChiSquared", "InverseGamma"]


@pytest.mark.parametrize(("name", "params"), FIRST)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sample_into_fills_in_place(name, params, dtype):
    rng = np.random.default_rng(17)
    d = make(name, params)
    buf = np.full(N_DRAWS, np.nan, dtype=dtype)
    out = d.sample_into(rng, buf)
    assert out is buf
    assert np.shares_memory(out, buf)
    assert out.dtype == dtype
    assert not np.isnan(out).any()
    assert gof_pvalue(out, reference(name, params), d.is_discrete) > P_MIN


@pytest.mark.parametrize("name", FAST_INTO)
def test_sample_into_does_not_allocate_a_buffer_sized_array(name):
    import tracemalloc

    d = make(name, FAMILIES[name][1][0])
    rng = np.random.default_rng(1)
    buf = np.empty(200_000)
    d.sample_into(rng, buf)  # warm up
    tracemalloc.start()
    try:
        d.sample_into(rng, buf)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < buf.nbytes // 10, peak


def test_sample_into_with_batched_params_and_bad_shapes():
    rng = np.random.default_rng(2)
    d = Normal(np.array([[0.0], [100.0]]), 1.0)
    out = d.sample_into(rng, np.empty((2, 5000)))
    assert abs(out[0].mean()) < 0.1  # 5 standard errors: 5 / sqrt(5000) = 0.07
    assert abs(out[1].mean() - 100.0) < 0.1
    with pytest.raises(ValueError, match="broadcast"):
        d.sample_into(rng, np.empty((3, 5)))
    # a non-contiguous view falls back to a copy but still fills in place
    base = np.zeros((4, 6))
    view = base[:, ::2]
    Normal(5.0, 1.0).sample_into(rng, view)
    assert np.all(base[:, 1::2] == 0.0)
    assert np.all(view != 0.0)
    ints = np.zeros(1000, dtype=np.int64)
    assert Poisson(3.0).sample_into(rng, ints) is ints


def test_same_seed_same_draws():
    for name, (cls, sets, _, _) in FAMILIES.items():
        a = cls(*sets[0]).sample(np.random.default_rng(42), 10)
        b = cls(*sets[0]).sample(np.random.default_rng(42), 10)
        np.testing.assert_array_equal(a, b, err_msg=name)


# ---------------------------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------------------------

CONTINUOUS = [n for n, (cls, sets, _, _) in FAMILIES.items() if not cls(*sets[0]).is_discrete]


@pytest.mark.parametrize("name", CONTINUOUS)
def test_float32_values_give_float32_close_to_float64(name):
    cls, sets, _, grid = FAMILIES[name]
    params = sets[0]
    d = cls(*params)  # Python-float parameters must not upcast
    x32 = np.array([g for g in grid if abs(g) < 1e30], dtype=np.float32)
    x32 = x32[np.isfinite(x32) & (x32 != 0.0)]  # 1e-300 underflows to 0 in float32
    got = d.log_prob(x32)
    assert got.dtype == np.float32
    # the reference uses the float32-rounded parameters and values, in float64
    d64 = cls(*[type(p)(np.float32(p)) for p in params])
    expected = d64.log_prob(x32.astype(np.float64))
    # float32 carries about 7 digits; 1e-5 relative (absolute below 1) leaves room for the
    # few roundings of each formula
    assert_logp_close(got, expected, rtol=1e-5)
    # float32 parameter arrays keep float32 too
    d32 = cls(*[np.array([p], dtype=np.float32) for p in params])
    got32 = d32.log_prob(x32)
    assert got32.dtype == np.float32
    assert_logp_close(got32[...], np.broadcast_to(expected, got32.shape), rtol=1e-5)
    # a Python float value against float32 parameter arrays stays float32
    assert d32.log_prob(float(x32[len(x32) // 2])).dtype == np.float32


def test_float32_discrete():
    assert Bernoulli(np.array([0.2, 0.7], dtype=np.float32)).log_prob(True).dtype == np.float32
    assert Poisson(3.0).log_prob(np.arange(5, dtype=np.float32)).dtype == np.float32
    assert Poisson(3.0).log_prob(np.arange(5)).dtype == np.float64
    got = Binomial(10, 0.3).log_prob(np.arange(11, dtype=np.float32))
    assert got.dtype == np.float32
    assert_logp_close(got, Binomial(10, 0.3).log_prob(np.arange(11.0)), rtol=1e-6)
    probs32 = np.array([0.25, 0.75], dtype=np.float32)
    assert Categorical(probs32).log_prob(np.array([0, 1])).dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

positive = hst.floats(min_value=1e-3, max_value=1e3)
unit = hst.floats(min_value=1e-6, max_value=1 - 1e-6)


@settings(max_examples=200, deadline=None)
@given(
    mu=hst.floats(-1e3, 1e3),
    sigma=positive,
    a=positive,
    b=positive,
    u=unit,
    z=hst.floats(-30.0, 30.0),
)
def test_log_prob_is_finite_inside_the_support_and_paths_agree(mu, sigma, a, b, u, z):
    x_pos = float(np.exp(z / 3.0))
    cases = [
        (Normal(mu, sigma), mu + sigma * z),
        (LogNormal(mu / 100.0, sigma / 100.0), x_pos),
        (Gamma(a, b), x_pos),
        (Beta(a, b), u),
        (StudentT(a, mu, sigma), mu + sigma * z),
        (Weibull(a / 100.0 + 0.1, b), x_pos),
        (InverseGamma(a, b), x_pos),
        (Uniform(mu, mu + sigma), mu + sigma * u),
    ]
    for d, x in cases:
        scalar = d.log_prob(x)
        assert math.isfinite(scalar), (d, x)
        array = d.log_prob(np.array([x]))[0]
        assert scalar == pytest.approx(array, rel=1e-12, abs=1e-12), (d, x)
        assert d.support.contains(x)


@settings(max_examples=60, deadline=None)
@given(n=hst.integers(0, 400), p=hst.floats(0.0, 1.0), rate=hst.floats(1e-3, 1e4))
def test_discrete_masses_sum_to_one(n, p, rate):
    total = math.fsum(math.exp(Binomial(n, p).log_prob(k)) for k in range(n + 1))
    assert total == pytest.approx(1.0, abs=1e-12)
    lo = max(0, int(rate - 40 * math.sqrt(rate) - 10))
    hi = int(rate + 40 * math.sqrt(rate) + 40)
    ks = np.arange(lo, hi + 1)
    assert math.fsum(np.exp(Poisson(rate).log_prob(ks))) == pytest.approx(1.0, abs=1e-12)
