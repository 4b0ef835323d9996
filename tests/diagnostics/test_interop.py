"""to_frame and to_inference_data: tidy draws, ArviZ groups, NetCDF and Parquet round trips."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import observe, sample
from fugue_lab.diagnostics import ArgumentTypeError, to_frame, to_inference_data
from fugue_lab.inference.batch import run_batch
from fugue_lab.inference.results import ImportanceResult, MCMCResult

YS = (0.5, 1.5, -0.25)


def model(ys: tuple[float, ...]) -> float:
    mu = sample("mu", Normal(0.0, 1.0))
    for i, y in enumerate(ys):
        observe(f"y#{i}", Normal(mu, 1.0), y)
    return mu


@pytest.fixture
def mcmc(rng: np.random.Generator) -> MCMCResult:
    return MCMCResult(
        {"mu": rng.normal(size=(3, 40)), "v": rng.normal(size=(3, 40, 2))},
        {
            "lp": rng.normal(size=(3, 40)),
            "accepted": rng.random((3, 40)) < 0.5,
            "acceptance_prob": rng.random((3, 40)),
            "site": np.where(rng.random((3, 40)) < 0.5, "mu", "v"),
        },
    )


def test_to_frame_mcmc_is_tidy(mcmc: MCMCResult) -> None:
    frame = to_frame(mcmc)
    assert list(frame.columns) == [
        "chain", "draw", "lp", "accepted", "acceptance_prob", "site", "mu", "v[0]", "v[1]"
    ]  # fmt: skip
    assert len(frame) == 3 * 40
    assert frame["chain"].tolist() == np.repeat([0, 1, 2], 40).tolist()
    assert frame["draw"].tolist() == list(range(40)) * 3
    np.testing.assert_array_equal(frame["mu"], mcmc.values["mu"].reshape(-1))
    np.testing.assert_array_equal(frame["v[1]"], mcmc.values["v"][:, :, 1].reshape(-1))
    np.testing.assert_array_equal(frame["lp"], mcmc.sample_stats["lp"].reshape(-1))
    row = frame[(frame["chain"] == 2) & (frame["draw"] == 7)].iloc[0]
    assert row["mu"] == mcmc.values["mu"][2, 7]
    assert list(to_frame(mcmc, sample_stats=False).columns) == ["chain", "draw", "mu", "v[0]",
                                                                  "v[1]"]


def test_to_frame_weighted() -> None:
    log_w = np.array([0.0, math.log(3.0), -math.inf])
    result = ImportanceResult(log_w, {"x": np.array([0.0, 4.0, 9.0])})
    frame = to_frame(result)
    assert frame["weight"].tolist() == pytest.approx([0.25, 0.75, 0.0])
    assert frame["log_weight"].iloc[2] == -math.inf
    assert frame["chain"].tolist() == [0, 0, 0] and frame["draw"].tolist() == [0, 1, 2]


def test_parquet_round_trip(mcmc: MCMCResult, tmp_path) -> None:
    frame = to_frame(mcmc)
    path = tmp_path / "draws.parquet"
    frame.to_parquet(path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)


def test_to_inference_data_mcmc_groups(mcmc: MCMCResult) -> None:
    idata = to_inference_data(mcmc)
    assert set(idata.groups()) == {"posterior", "sample_stats"}
    np.testing.assert_array_equal(idata.posterior["mu"].to_numpy(), mcmc.values["mu"])
    np.testing.assert_array_equal(idata.posterior["v"].to_numpy(), mcmc.values["v"])
    assert idata.posterior["v"].dims == ("chain", "draw", "v_dim_0")
    np.testing.assert_array_equal(
        idata.sample_stats["acceptance_rate"].to_numpy(), mcmc.sample_stats["acceptance_prob"]
    )
    assert idata.posterior.attrs["inference_library"] == "fugue_lab"


def test_netcdf_round_trip(mcmc: MCMCResult, tmp_path) -> None:
    idata = to_inference_data(mcmc, model=model, args=(YS,))
    path = tmp_path / "run.nc"
    idata.to_netcdf(str(path))
    back = az.from_netcdf(str(path))
    for group in ("posterior", "sample_stats", "log_likelihood"):
        for name, var in getattr(idata, group).data_vars.items():
            np.testing.assert_array_equal(getattr(back, group)[name].to_numpy(), var.to_numpy())


def test_log_likelihood_group_by_rescoring(mcmc: MCMCResult) -> None:
    idata = to_inference_data(mcmc, model=model, args=(YS,))
    ll = idata.log_likelihood
    assert list(ll.data_vars) == ["y"]  # y#0, y#1, y#2 stacked, as ArviZ's LOO wants
    assert ll["y"].dims == ("chain", "draw", "y_dim_0")
    mu = mcmc.values["mu"]
    for i, y in enumerate(YS):
        np.testing.assert_allclose(ll["y"][..., i].to_numpy(), stats.norm.logpdf(y, mu, 1.0),
                                   rtol=1e-12)


def test_arviz_loo_runs_on_our_result(rng: np.random.Generator) -> None:
    # Exact posterior draws of the conjugate model: mu | ys ~ N(sum(ys) / 4, 1 / 4).
    draws = rng.normal(sum(YS) / 4, 0.5, size=(2, 500))
    idata = to_inference_data(MCMCResult({"mu": draws}, {}), model=model, args=(YS,))
    loo = az.loo(idata, pointwise=True)
    # elpd_loo = sum_i log p(y_i | y_-i); each term is a normal predictive density.
    exact = 0.0
    for i, y in enumerate(YS):
        rest = [v for j, v in enumerate(YS) if j != i]
        mean, var = sum(rest) / (len(rest) + 1), 1 / (len(rest) + 1)
        exact += stats.norm.logpdf(y, mean, math.sqrt(1 + var))
    # PSIS-LOO from 1000 draws: its own standard error is a few 0.01 here.
    assert loo.elpd_loo == pytest.approx(exact, abs=0.1)


def test_weighted_result_carries_weights_and_evidence(rng: np.random.Generator) -> None:
    x = rng.normal(size=50)
    result = ImportanceResult(stats.norm.logpdf(1.0, x, 1.0), {"x": x})
    idata = to_inference_data(result)
    assert idata.posterior["x"].shape == (1, 50)
    np.testing.assert_allclose(idata.sample_stats["weight"].to_numpy()[0], result.weights)
    assert idata.posterior.attrs["log_evidence"] == pytest.approx(result.log_evidence)


def test_kept_traces_fill_the_log_likelihood_group(rng: np.random.Generator) -> None:
    from fugue_lab.runtime.handlers import PriorHandler, run

    traces = [run(PriorHandler(rng), model, YS)[1] for _ in range(5)]
    result = ImportanceResult(
        [t.log_likelihood for t in traces],
        {"mu": np.array([t.get_float("mu") for t in traces])},
        traces=traces,
    )
    idata = to_inference_data(result)
    expected = [t.observations["y#1"] for t in traces]
    np.testing.assert_allclose(idata.log_likelihood["y"].to_numpy()[0, :, 1], expected)


def test_batch_result_becomes_a_prior_group() -> None:
    batch = run_batch(model, 200, seed=3, args=(YS,), progress=False)
    idata = to_inference_data(batch)
    assert set(idata.groups()) == {"prior", "sample_stats_prior"}
    np.testing.assert_array_equal(idata.prior["mu"].to_numpy()[0], batch["mu"])
    np.testing.assert_array_equal(
        idata.sample_stats_prior["log_weight"].to_numpy()[0], batch.log_weight
    )
    frame = to_frame(batch)
    assert len(frame) == 200 and {"log_prior", "log_weight", "mu"} <= set(frame.columns)


@pytest.mark.parametrize("bad", [None, {"mu": np.zeros(3)}, np.zeros((2, 3))])
def test_non_results_raise(bad: object) -> None:
    with pytest.raises(ArgumentTypeError, match="MCMCResult"):
        to_frame(bad)
    with pytest.raises(ArgumentTypeError):
        to_inference_data(bad)


def test_a_real_mh_run_round_trips_and_agrees_with_arviz(tmp_path) -> None:
    from fugue_lab.diagnostics import summary
    from fugue_lab.inference.mh import mh_chains

    result = mh_chains(model, 2, 300, 100, seed=5, args=(YS,))
    idata = to_inference_data(result, model=model, args=(YS,))
    path = tmp_path / "mh.nc"
    idata.to_netcdf(str(path))
    back = az.from_netcdf(str(path))
    np.testing.assert_array_equal(back.posterior["mu"].to_numpy(), result.values["mu"])
    np.testing.assert_array_equal(back.sample_stats["site"].to_numpy(),
                                  result.sample_stats["site"])
    theirs = az.summary(back, round_to="none")
    np.testing.assert_allclose(summary(result).to_numpy(), theirs.to_numpy(dtype=float),
                               rtol=1e-8)
