"""summary(): ArviZ's numbers for chains; self-normalised estimates for weighted particles."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pytest
from scipy import stats

from fugue_lab.diagnostics import (
    ArgumentTypeError,
    smc_steps_frame,
    summary,
    to_inference_data,
    weighted_summary_stats,
    weights_summary,
)
from fugue_lab.errors import InvalidParameterError
from fugue_lab.inference.results import ImportanceResult, MCMCResult, SMCResult

COLUMNS = ["mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail",
           "r_hat"]  # fmt: skip


def ar1_chains(rng: np.random.Generator, shape: tuple[int, ...], phi: float) -> np.ndarray:
    """AR(1) chains (correlated draws, so ESS < n), axes (chain, draw, *site)."""
    out = np.empty(shape)
    out[:, 0] = rng.normal(size=(shape[0], *shape[2:]))
    for t in range(1, shape[1]):
        out[:, t] = phi * out[:, t - 1] + math.sqrt(1 - phi**2) * rng.normal(
            size=(shape[0], *shape[2:])
        )
    return out


@pytest.fixture
def mcmc(rng: np.random.Generator) -> MCMCResult:
    values = {
        "mu": ar1_chains(rng, (4, 300), 0.6) + 2.0,
        "v": ar1_chains(rng, (4, 300, 2), 0.3) * np.array([1.0, 3.0]),
        "scope::x#0": np.exp(ar1_chains(rng, (4, 300), 0.9)),
    }
    values["mu"][1] += 0.3  # a chain slightly off, so r_hat is not ~1 everywhere
    return MCMCResult(values, {"lp": rng.normal(size=(4, 300))})


@pytest.mark.parametrize("prob", [0.94, 0.9, 0.5])
def test_mcmc_summary_agrees_with_arviz(mcmc: MCMCResult, prob: float) -> None:
    ours = summary(mcmc, prob=prob)
    theirs = az.summary(to_inference_data(mcmc), hdi_prob=prob, round_to="none")
    assert list(ours.columns) == list(theirs.columns)
    assert list(ours.index) == ["mu", "v[0]", "v[1]", "scope::x#0"] == list(theirs.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(dtype=float), rtol=1e-8)


def test_mcmc_eti_columns_agree_with_arviz_median_focus(mcmc: MCMCResult) -> None:
    ours = summary(mcmc, interval="eti")
    theirs = az.summary(to_inference_data(mcmc), stat_focus="median", round_to="none")
    assert list(ours.columns[2:4]) == ["eti_3%", "eti_97%"]
    np.testing.assert_allclose(
        ours[["eti_3%", "eti_97%"]].to_numpy(),
        theirs[["eti_3%", "eti_97%"]].to_numpy(dtype=float),
        rtol=1e-8,
    )


def test_summary_values_are_raw_floats(mcmc: MCMCResult) -> None:
    frame = summary(mcmc)
    assert (frame.dtypes == np.float64).all()
    assert frame.loc["mu", "mean"] == mcmc.mean("mu")  # unrounded


def importance(rng: np.random.Generator, n: int) -> tuple[ImportanceResult, float, float]:
    """Prior N(0, 1), likelihood N(1 | x, 1): the posterior is N(0.5, 1/2)."""
    x = rng.normal(size=n)
    log_w = stats.norm.logpdf(1.0, loc=x, scale=1.0)
    return ImportanceResult(log_w, {"x": x}), 0.5, math.sqrt(0.5)


def test_weighted_summary_matches_the_result_and_the_posterior(rng: np.random.Generator) -> None:
    result, mean, sd = importance(rng, 20_000)
    row = summary(result).loc["x"]
    assert row["mean"] == pytest.approx(result.mean("x"), rel=1e-12)
    assert row["sd"] == pytest.approx(result.sd("x"), rel=1e-12)
    assert row["ess_bulk"] == row["ess_tail"] == pytest.approx(result.ess, rel=1e-12)
    assert math.isnan(row["r_hat"])
    # Against the exact posterior, within 5 Monte Carlo standard errors.
    assert abs(row["mean"] - mean) < 5 * row["mcse_mean"]
    assert abs(row["sd"] - sd) < 5 * row["mcse_sd"]
    # The 94% HDI of a normal is the ETI: mean -+ 1.881 sd (the bounds' own MC error is
    # about sd / sqrt(ess) times a small factor; 0.05 is over 5 of those here).
    z = stats.norm.ppf(0.97)
    assert row["hdi_3%"] == pytest.approx(mean - z * sd, abs=0.05)
    assert row["hdi_97%"] == pytest.approx(mean + z * sd, abs=0.05)
    eti = summary(result, interval="eti").loc["x"]
    assert eti["eti_3%"] == pytest.approx(mean - z * sd, abs=0.05)


def test_weighted_mcse_mean_predicts_the_spread_of_the_estimate() -> None:
    # 300 independent runs: the sd of their means vs the average mcse_mean. The sd of
    # 300 draws has a relative standard error of ~1/sqrt(600) = 4%; allow 15%.
    rng = np.random.default_rng(7)
    means, mcses = [], []
    for _ in range(300):
        result, _, _ = importance(rng, 500)
        row = summary(result).loc["x"]
        means.append(row["mean"])
        mcses.append(row["mcse_mean"])
    assert np.std(means, ddof=1) == pytest.approx(np.mean(mcses), rel=0.15)


def test_equal_weights_reduce_to_the_unweighted_statistics(rng: np.random.Generator) -> None:
    x = rng.normal(size=1001)
    s = weighted_summary_stats(x, np.ones_like(x), prob=0.9, interval="eti")
    assert s["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert s["sd"] == pytest.approx(x.std(ddof=0), rel=1e-12)
    assert s["ess_bulk"] == pytest.approx(1001.0, rel=1e-12)
    assert s["mcse_mean"] == pytest.approx(x.std(ddof=0) / math.sqrt(1001), rel=1e-12)
    lower, upper = np.quantile(x, [0.05, 0.95], method="inverted_cdf")
    assert (s["lower"], s["upper"]) == (lower, upper)
    hdi = weighted_summary_stats(x, np.ones_like(x), prob=0.9)
    ref = az.hdi(x, hdi_prob=0.9)
    # Same narrowest-interval rule; ArviZ holds floor(0.9 n) + 1 draws, we >= 0.9 of the mass.
    assert hdi["lower"] == pytest.approx(ref[0], abs=0.02)
    assert hdi["upper"] == pytest.approx(ref[1], abs=0.02)
    assert hdi["upper"] - hdi["lower"] <= ref[1] - ref[0] + 1e-12


def test_absent_addresses_are_summarised_where_present() -> None:
    x = np.array([1.0, np.nan, 3.0, np.nan])
    present = {"x": np.array([True, False, True, False])}
    result = ImportanceResult(np.log([1.0, 5.0, 3.0, 5.0]), {"x": x}, present)
    row = summary(result).loc["x"]
    assert row["mean"] == pytest.approx((1 * 1 + 3 * 3) / 4) == result.mean("x")


def test_weights_summary_and_smc_steps() -> None:
    result = ImportanceResult(np.array([0.0, 0.0, -np.inf, np.nan]), {"x": np.arange(4.0)})
    row = weights_summary(result).iloc[0]
    assert row["n_particles"] == 4 and row["n_nonfinite"] == 2
    assert row["ess"] == pytest.approx(2.0) and row["ess_fraction"] == pytest.approx(0.5)
    assert row["log_evidence"] == pytest.approx(math.log(0.5))
    assert row["max_weight"] == pytest.approx(0.5)
    smc = SMCResult(
        np.zeros(4), {"x": np.arange(4.0)}, log_evidence=-3.0,
        temperatures=np.array([0.0, 0.4, 1.0]), ess_history=np.array([3.0, 2.0]),
        resampled=np.array([False, True]), acceptance_rates=np.array([0.5, 0.25]),
        log_evidence_increments=np.array([-1.0, -2.0]),
    )  # fmt: skip
    steps = smc_steps_frame(smc)
    assert steps["temperature"].tolist() == [0.4, 1.0]
    assert steps["log_evidence_cumulative"].tolist() == [-1.0, -3.0]
    assert steps["ess_fraction"].tolist() == [0.75, 0.5]
    assert summary(smc).loc["x", "mean"] == pytest.approx(1.5)


def test_bad_input_raises() -> None:
    result = MCMCResult({"x": np.zeros((2, 10))}, {})
    with pytest.raises(InvalidParameterError, match="prob"):
        summary(result, prob=0.0)
    with pytest.raises(InvalidParameterError, match="interval"):
        summary(result, interval="quantile")
    with pytest.raises(ArgumentTypeError, match="MCMCResult"):
        summary({"x": np.zeros((2, 10))})
    with pytest.raises(ArgumentTypeError):
        weights_summary(result)
    with pytest.raises(ArgumentTypeError):
        smc_steps_frame(result)
