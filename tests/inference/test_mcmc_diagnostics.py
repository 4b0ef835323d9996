"""Tests for fugue_lab.inference.mcmc_diagnostics.

The reference is the installed ArviZ (imported once, here only). Every diagnostic
must agree with it to 1e-8 relative: the kernels transcribe ArviZ's arithmetic,
so the only differences are floating-point summation order (observed: < 1e-15).
ArviZ's RuntimeWarnings on degenerate input are silenced around the ArviZ call
only (``_ref``), so our own functions still run with warnings as errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats

from fugue_lab.errors import InvalidParameterError
from fugue_lab.inference import mcmc_diagnostics as md

with warnings.catch_warnings():
    # ArviZ 0.2x announces its refactor with a FutureWarning at import time.
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az

RTOL = 1e-8


def _ref(func, *args, **kwargs):
    """Call ArviZ with its numerical RuntimeWarnings (0/0 on constant chains) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def _close(ours, ref) -> None:
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0.0, equal_nan=True)


def ar1(rho: float, n_chain: int, n_draw: int, seed: int) -> np.ndarray:
    """Stationary AR(1) chains with unit marginal variance and lag-1 correlation rho."""
    rng = np.random.default_rng(seed)
    x = np.empty((n_chain, n_draw))
    x[:, 0] = rng.normal(size=n_chain)
    noise = rng.normal(size=(n_chain, n_draw)) * math.sqrt(1.0 - rho**2)
    for t in range(1, n_draw):
        x[:, t] = rho * x[:, t - 1] + noise[:, t]
    return x


def _cases() -> dict[str, np.ndarray]:
    cases = {}
    for i, rho in enumerate((0.0, 0.5, 0.9, -0.3)):
        for j, (n_chain, n_draw) in enumerate(((1, 500), (4, 1000), (4, 333), (3, 7), (2, 4))):
            cases[f"ar1_rho{rho}_{n_chain}x{n_draw}"] = ar1(rho, n_chain, n_draw, 10 * i + j)
    rng = np.random.default_rng(99)
    cases["shifted_means"] = rng.normal(size=(4, 300)) + np.arange(4.0)[:, None]
    cases["student_t_df1.5"] = rng.standard_t(1.5, size=(4, 401))
    cases["ties_integers"] = rng.integers(0, 3, size=(4, 21)).astype(float)
    cases["ties_sparse_counts"] = rng.poisson(0.1, size=(3, 40)).astype(float)
    cases["antithetic_capped"] = ar1(-0.95, 4, 200, 7)
    # two values symmetric about the median: the folded draws are constant, tail R-hat is 0/0
    cases["two_values"] = rng.choice([-1.0, 1.0], size=(4, 50))
    # 81 draws: the 5% type-7 quantile falls exactly on a draw
    cases["quantile_on_a_draw_3x27"] = rng.normal(size=(3, 27))
    # short chains, where Geyer's pair sequence is cut by the chain length, not by sign
    for seed, (n_chain, n_draw) in enumerate(((4, 10), (2, 11), (3, 12), (4, 13), (2, 14))):
        cases[f"short_{n_chain}x{n_draw}"] = ar1(-0.4, n_chain, n_draw, 100 + seed)
    # seeds chosen (by search) so that the sequence is cut by length with rho_2K <= 0 and
    # P_K >= 0: whether rho_2K enters tau then follows ArviZ's loop exactly
    cases["geyer_tail_mean_2x11"] = ar1(0.3, 2, 11, 5)
    cases["geyer_tail_bulk_2x11"] = ar1(0.3, 2, 11, 25)
    return cases


CASES = _cases()
CASE_IDS = sorted(CASES)

# (our function, reference) for the scalar diagnostics.
DIAGNOSTICS = {
    "rhat": (md.rhat, lambda x: az.rhat(x, method="rank")),
    "ess_bulk": (md.ess_bulk, lambda x: az.ess(x, method="bulk")),
    "ess_tail": (md.ess_tail, lambda x: az.ess(x, method="tail")),
    "ess_mean": (md.ess_mean, lambda x: az.ess(x, method="mean")),
    "ess_sd": (md.ess_sd, lambda x: az.ess(x, method="sd")),
    "ess_geyer": (md.ess_geyer, lambda x: az.ess(x, method="identity")),
    "mcse_mean": (md.mcse_mean, lambda x: az.mcse(x, method="mean")),
    "mcse_sd": (md.mcse_sd, lambda x: az.mcse(x, method="sd")),
}
NAMES = sorted(DIAGNOSTICS)


# --------------------------------------------------------------------------- agreement with ArviZ


@pytest.mark.parametrize("case", CASE_IDS)
@pytest.mark.parametrize("name", NAMES)
def test_matches_arviz(name, case):
    ours_fn, ref_fn = DIAGNOSTICS[name]
    x = CASES[case]
    ours = ours_fn(x)
    assert isinstance(ours, float)
    _close(ours, float(_ref(ref_fn, x)))


@pytest.mark.parametrize("name", NAMES)
def test_one_dimensional_input_is_one_chain(name):
    ours_fn, ref_fn = DIAGNOSTICS[name]
    x = ar1(0.4, 1, 301, 3)[0]
    _close(ours_fn(x), float(_ref(ref_fn, x)))
    _close(ours_fn(x), ours_fn(x[None, :]))
    _close(ours_fn(x.tolist()), ours_fn(x))


@pytest.mark.parametrize("name", NAMES)
def test_trailing_axes_are_separate_parameters(name):
    ours_fn, ref_fn = DIAGNOSTICS[name]
    x = np.stack([ar1(rho, 4, 201, k) for k, rho in enumerate((0.0, 0.6, 0.95))], axis=-1)
    x[:, :, 2] += np.arange(4.0)[:, None]  # one element with bad mixing
    ours = ours_fn(x)
    assert ours.shape == (3,)
    _close(ours, [float(_ref(ref_fn, x[:, :, k])) for k in range(3)])
    # a (chain, draw, 2, 3) array gives a (2, 3) result, element by element
    y = np.random.default_rng(5).normal(size=(2, 50, 2, 3)).cumsum(axis=1)
    ours = ours_fn(y)
    assert ours.shape == (2, 3)
    ref = [[float(_ref(ref_fn, y[:, :, i, j])) for j in range(3)] for i in range(2)]
    _close(ours, ref)


def test_autocovariance_matches_arviz():
    x = CASES["ar1_rho0.9_4x333"]
    _close(md.autocovariance(x), az.autocov(x, axis=1))
    _close(md.autocovariance(x[0]), az.autocov(x[0]))
    x3 = np.stack([x, -2.0 * x**2], axis=-1)
    out = md.autocovariance(x3)
    assert out.shape == x3.shape
    _close(out[:, :, 1], az.autocov(x3[:, :, 1], axis=1))


def test_autocovariance_against_direct_sum():
    x = np.random.default_rng(11).normal(size=(2, 37))
    centred = x - x.mean(axis=1, keepdims=True)
    n = x.shape[1]
    direct = np.array(
        [[np.dot(c[: n - t], c[t:]) / n for t in range(n)] for c in centred],
    )
    np.testing.assert_allclose(md.autocovariance(x), direct, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["ties_integers", "student_t_df1.5", "ar1_rho0.5_3x7"])
def test_rank_normalize_is_blom_scores_of_average_ranks(case):
    x = CASES[case]
    size = x.size
    ranks = scipy.stats.rankdata(x, method="average").reshape(x.shape)
    expected = scipy.stats.norm.ppf((ranks - 3 / 8) / (size + 1 / 4))
    _close(md.rank_normalize(x), expected)
    x3 = np.stack([x, x[::-1]], axis=-1)
    out = md.rank_normalize(x3)
    assert out.shape == x3.shape
    _close(out[:, :, 1], md.rank_normalize(x[::-1]))


@pytest.mark.parametrize("n_draw", [4, 5, 10, 11])
def test_split_chains(n_draw):
    x = np.arange(3 * n_draw, dtype=float).reshape(3, n_draw)
    half = n_draw // 2
    expected = np.vstack([x[:, :half], x[:, n_draw - half :]])
    np.testing.assert_array_equal(md.split_chains(x), expected)
    np.testing.assert_array_equal(md.split_chains(x[0]), expected[[0, 3]])
    x3 = np.stack([x, -x], axis=-1)
    np.testing.assert_array_equal(md.split_chains(x3)[:, :, 1], -expected)


@pytest.mark.parametrize("case", ["ar1_rho0.5_4x1000", "student_t_df1.5", "ties_integers"])
@pytest.mark.parametrize("prob", [0.94, 0.5, 0.89])
def test_hdi_matches_arviz(case, prob):
    x = CASES[case]
    _close(md.hdi(x, prob), az.hdi(x.ravel(), hdi_prob=prob))
    x3 = np.stack([x, np.exp(x / 4)], axis=-1)
    out = md.hdi(x3, prob)
    assert out.shape == (2, 2)
    _close(out, az.hdi(x3, hdi_prob=prob))  # arviz reads 3-D arrays as (chain, draw, param)


def test_hdi_full_mass_is_range():
    x = CASES["student_t_df1.5"]
    np.testing.assert_array_equal(md.hdi(x, 1.0), [x.min(), x.max()])


@pytest.mark.parametrize("prob", [0.94, 0.5])
def test_eti_is_equal_tailed_quantiles(prob):
    x = CASES["student_t_df1.5"]
    expected = np.quantile(x, [(1 - prob) / 2, (1 + prob) / 2])
    _close(md.eti(x, prob), expected)
    row = az.summary(x, round_to="none", stat_focus="median", hdi_prob=prob).iloc[0]
    lo, hi = 100 * (1 - prob) / 2, 100 * (1 - (1 - prob) / 2)
    _close(md.eti(x, prob), [row[f"eti_{lo:g}%"], row[f"eti_{hi:g}%"]])


SUMMARY_COLUMNS = {
    "mean": "mean",
    "sd": "sd",
    "hdi_lower": "hdi_3%",
    "hdi_upper": "hdi_97%",
    "mcse_mean": "mcse_mean",
    "mcse_sd": "mcse_sd",
    "ess_bulk": "ess_bulk",
    "ess_tail": "ess_tail",
    "r_hat": "r_hat",
}


@pytest.mark.parametrize("case", CASE_IDS)
def test_summary_stats_matches_arviz_summary(case):
    x = CASES[case]
    stats = md.summary_stats(x)
    assert list(stats) == [
        "mean", "sd", "hdi_lower", "hdi_upper", "eti_lower", "eti_upper",
        "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat",
    ]  # fmt: skip
    assert all(type(v) is float for v in stats.values())
    row = _ref(az.summary, x, round_to="none").iloc[0]
    for key, column in SUMMARY_COLUMNS.items():
        _close(stats[key], float(row[column]))
    _close([stats["eti_lower"], stats["eti_upper"]], md.eti(x))


def test_summary_rhat_folds_before_splitting_as_arviz_summary():
    # With an odd number of draws arviz.summary and arviz.rhat differ (the median of the
    # folded draws includes the middle draw or not); we reproduce each where it belongs.
    # chains that differ in scale only, so the tail (folded) R-hat is the larger one
    x = np.random.default_rng(49).normal(size=(4, 101)) * np.linspace(1.0, 3.0, 4)[:, None]
    summary_rhat = float(az.summary(x, round_to="none")["r_hat"].iloc[0])
    plain_rhat = float(az.rhat(x))
    assert summary_rhat != plain_rhat  # the case really distinguishes the two
    _close(md.summary_stats(x)["r_hat"], summary_rhat)
    _close(md.rhat(x), plain_rhat)


# --------------------------------------------------------------------------- statistical sanity


def test_ess_of_iid_draws_is_close_to_number_of_draws():
    # Over 400 seeds ess_bulk / 4000 for iid (4, 1000) normal draws had mean 0.984 and
    # sd 0.043; 0.2 is more than 4 sd from the mean on either side.
    x = np.random.default_rng(2024).normal(size=(4, 1000))
    for fn in (md.ess_bulk, md.ess_mean, md.ess_tail):
        assert abs(fn(x) / 4000 - 1.0) < 0.2


def test_ess_of_ar1_chains_is_close_to_theory():
    # AR(1): ESS = S (1 - rho) / (1 + rho) = 4000 / 3 for rho = 0.5. Over 400 seeds
    # ess_mean / (4000/3) had mean 1.001 and sd 0.08; 0.35 is more than 4 sd.
    x = ar1(0.5, 4, 1000, 2025)
    assert abs(md.ess_mean(x) / (4000 / 3) - 1.0) < 0.35
    assert abs(md.ess_bulk(x) / (4000 / 3) - 1.0) < 0.35


def test_ess_is_capped_at_s_log10_s():
    x = CASES["antithetic_capped"]  # rho = -0.95: uncapped ESS would be ~39 S
    size = 4 * 200
    assert md.ess_mean(x) == pytest.approx(size * math.log10(size), rel=1e-12)


def test_rhat_flags_chains_with_different_means():
    good = np.random.default_rng(7).normal(size=(4, 1000))
    # Over 400 seeds rhat of iid (4, 1000) draws stayed below 1.003 (sd 0.0005).
    assert md.rhat(good) < 1.01
    assert md.rhat(good + np.arange(4.0)[:, None]) > 1.5
    assert md.rhat(good + np.array([0.0, 0.0, 0.0, 3.0])[:, None]) > 1.2
    # a chain with a different scale only is caught by the folded (tail) R-hat
    scaled = good * np.array([1.0, 1.0, 1.0, 5.0])[:, None]
    assert md.rhat(scaled) > 1.1


def test_bulk_ess_is_invariant_under_monotone_transforms():
    x = CASES["ar1_rho0.9_4x333"]
    assert md.ess_bulk(np.exp(x)) == md.ess_bulk(x)
    # a decreasing transform negates the z-scores: equal up to summation order
    assert md.ess_bulk(-(x**3)) == pytest.approx(md.ess_bulk(x), rel=1e-12)


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(4, 3), (2, 0), (0, 10), (3,)])
def test_too_few_draws_gives_nan_silently(name, shape):
    ours_fn, ref_fn = DIAGNOSTICS[name]
    x = np.random.default_rng(0).normal(size=shape)
    assert math.isnan(ours_fn(x))
    if x.size:
        assert math.isnan(float(_ref(ref_fn, x)))


def test_rhat_of_one_chain_is_nan():
    assert math.isnan(md.rhat(np.random.default_rng(0).normal(size=(1, 100))))
    assert math.isnan(md.rhat(np.random.default_rng(0).normal(size=100)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_draw", [100, 101])
def test_constant_draws_match_arviz(name, n_draw):
    # rhat and mcse_sd are NaN (0/0), the ESSs count the split draws, mcse_mean is 0;
    # ArviZ warns on the 0/0, we do not (warnings are errors here).
    ours_fn, ref_fn = DIAGNOSTICS[name]
    x = np.full((4, n_draw), 2.5)
    _close(ours_fn(x), float(_ref(ref_fn, x)))


def test_constant_draws_values():
    x = np.full((4, 101), -1.0)
    assert math.isnan(md.rhat(x))
    assert math.isnan(md.mcse_sd(x))
    assert md.mcse_mean(x) == 0.0
    assert md.ess_bulk(x) == md.ess_tail(x) == md.ess_mean(x) == 4 * 100


def test_chains_constant_at_different_values_have_huge_rhat():
    x = np.repeat(np.array([[-1.0], [1.0], [-1.0], [1.0]]), 100, axis=1)
    assert md.rhat(x) > 1e6  # ArviZ gives ~9e15 from round-off; inf is equally right


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_draws_give_nan_for_that_element_only(name, bad):
    ours_fn, ref_fn = DIAGNOSTICS[name]
    x = np.random.default_rng(1).normal(size=(4, 100, 2))
    x[2, 17, 0] = bad
    out = ours_fn(x)
    assert math.isnan(out[0])
    _close(out[1], float(_ref(ref_fn, x[:, :, 1])))
    scalar = np.ascontiguousarray(x[:, :, 0])
    before = scalar.copy()
    assert math.isnan(ours_fn(scalar))
    np.testing.assert_array_equal(scalar, before)  # the caller's array is not modified


def test_non_finite_draws_in_summary_and_intervals():
    x = np.random.default_rng(1).normal(size=(4, 100))
    x[0, 0] = np.inf
    assert all(math.isnan(v) for v in md.summary_stats(x).values())
    assert np.isnan(md.hdi(x)).all()
    assert np.isnan(md.eti(x)).all()
    assert np.isnan(md.rank_normalize(x)).all()


def test_summary_of_short_chains_keeps_moments():
    x = np.random.default_rng(2).normal(size=(2, 3))
    stats = md.summary_stats(x)
    assert stats["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert stats["sd"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    for key in ("mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"):
        assert math.isnan(stats[key])


def test_integer_and_bool_input():
    x = CASES["ties_integers"]
    assert md.ess_bulk(x.astype(int)) == md.ess_bulk(x)
    b = x > 0
    _close(md.ess_mean(b), md.ess_mean(b.astype(float)))


# --------------------------------------------------------------------------- validation

PUBLIC_ARRAY_FUNCTIONS = [getattr(md, name) for name in NAMES] + [
    md.autocovariance,
    md.rank_normalize,
    md.split_chains,
    md.hdi,
    md.eti,
    md.summary_stats,
]


@pytest.mark.parametrize("fn", PUBLIC_ARRAY_FUNCTIONS, ids=lambda f: f.__name__)
def test_scalar_input_raises_naming_the_shape(fn):
    with pytest.raises(InvalidParameterError, match=r"x\.shape.*\(\)"):
        fn(3.0)


@pytest.mark.parametrize("fn", PUBLIC_ARRAY_FUNCTIONS, ids=lambda f: f.__name__)
def test_complex_input_raises_type_error(fn):
    with pytest.raises(TypeError, match="real"):
        fn(np.ones((2, 10), dtype=complex))


def test_summary_stats_rejects_vector_parameters():
    with pytest.raises(InvalidParameterError, match=r"\(4, 10, 3\)"):
        md.summary_stats(np.zeros((4, 10, 3)))


@pytest.mark.parametrize("fn", [md.hdi, md.eti, md.summary_stats], ids=lambda f: f.__name__)
@pytest.mark.parametrize("prob", [0.0, -0.5, 1.5, float("nan"), "wide"])
def test_bad_prob_raises(fn, prob):
    with pytest.raises(InvalidParameterError, match="prob"):
        fn(np.zeros((2, 10)), prob)


def test_all_is_sorted_and_complete():
    assert md.__all__ == sorted(md.__all__)
    for name in md.__all__:
        assert callable(getattr(md, name))
