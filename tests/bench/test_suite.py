"""The benchmark suite end to end: `fugue-lab bench --quick --no-peers` and its frame.

These tests check the shape of the output and the correctness figures beside the
times, never the times themselves (they depend on the machine and its load).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fugue_lab.bench import floors
from fugue_lab.bench.harness import Timing, time_call, time_self_timed
from fugue_lab.bench.suite import main, run_suite
from fugue_lab.bench.workloads import COLUMNS, EXACT, make_row

# Markov's inequality on an unbiased estimate Z_hat of the evidence Z gives
# P(log Z_hat > log Z + t) <= exp(-t): t = 6 fails by chance with probability < 0.25 %.
MARKOV_NATS = 6.0


def reference_posterior(n_sites: int = 20) -> tuple[float, float, float]:
    """Exact posterior mean and sd of mu, and the log evidence, of the W3/W4 reference model.

    Integrating x_i out, y_i | mu ~ N(mu, 1 + 0.5**2) independently: conjugate normal.
    """
    ys = 0.2 * np.arange(n_sites - 1) - 1.0
    noise = 1.0 + 0.25
    precision = 1.0 + ys.size / noise
    mean = ys.sum() / noise / precision
    cov = noise * np.eye(ys.size) + np.ones((ys.size, ys.size))  # marginal of y, mu ~ N(0, 1)
    log_z = stats.multivariate_normal(np.zeros(ys.size), cov).logpdf(ys)
    return float(mean), float(precision**-0.5), float(log_z)


def w2_log_evidence() -> float:
    """W2's exact log evidence by numerical integration over (mu, precision)."""
    ys = floors.OBS_W2
    n, s1, s2 = ys.size, ys.sum(), (ys**2).sum()
    mu = np.linspace(3.0, 7.0, 801)[:, None]
    tau = np.linspace(0.03, 0.3, 801)[None, :]
    log_lik = 0.5 * n * np.log(tau / (2 * np.pi)) - 0.5 * tau * (s2 - 2 * mu * s1 + n * mu**2)
    log_joint = log_lik + stats.norm(0, 10).logpdf(mu) + stats.gamma(2.0).logpdf(tau)
    top = log_joint.max()
    area = (mu[1, 0] - mu[0, 0]) * (tau[0, 1] - tau[0, 0])
    return float(top + np.log(np.exp(log_joint - top).sum() * area))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One `fugue-lab bench --quick --no-peers` run, shared by the tests of this module."""
    out = tmp_path_factory.mktemp("bench")
    csv, png = out / "results.csv", out / "results.png"
    code = main(["--quick", "--no-peers", "--out", str(csv), "--plot", str(png)])
    return {"code": code, "csv": csv, "png": png, "frame": pd.read_csv(csv)}


def ok_rows(frame: pd.DataFrame, workload: str, implementation: str = "fugue_lab"):
    sel = frame[(frame["workload"] == workload) & (frame["implementation"] == implementation)]
    return sel[sel["status"] == "ok"]


def test_cli_exit_code_and_files(quick_run: dict) -> None:
    assert quick_run["code"] == 0  # 1 would mean some mode raised
    assert quick_run["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frame_shape_and_columns(quick_run: dict) -> None:
    frame = quick_run["frame"]
    assert list(frame.columns) == list(COLUMNS)
    assert {"W1 prior3", "W2 is_vec100", "W3 mh20", "W4 smc20", "W5 cow"} <= set(frame["workload"])
    assert set(frame["status"]) <= {"ok", "skipped"}
    # Every timed row has ordered, positive times; skipped rows carry no time and a reason.
    timed = frame[frame["status"] == "ok"]
    assert (timed["min_s"] > 0).all()
    assert (timed["min_s"] <= timed["median_s"]).all()
    assert (timed["median_s"] <= timed["max_s"]).all()
    skipped = frame[frame["status"] == "skipped"]
    assert skipped["median_s"].isna().all()
    assert skipped["note"].str.len().gt(0).all()


def test_floors_timed_and_ratios_consistent(quick_run: dict) -> None:
    frame = quick_run["frame"]
    floor_names = set(frame.loc[frame["implementation"] == "floor", "floor_name"])
    assert {"floor_prior3", "floor_is_vec100", "is_vec100_python", "floor_mh"} <= floor_names
    with_ratio = frame[frame["ratio_to_floor"].notna()]
    np.testing.assert_allclose(
        with_ratio["ratio_to_floor"], with_ratio["median_s"] / with_ratio["floor_s"], rtol=1e-12
    )
    assert with_ratio["min_ratio_to_floor"].notna().all()
    # W4 and W5 have no floor: no ratio.
    assert frame.loc[frame["workload"].isin(["W4 smc20", "W5 cow"]), "ratio_to_floor"].isna().all()


def test_w1_correctness(quick_run: dict) -> None:
    rows = ok_rows(quick_run["frame"], "W1 prior3")
    scalar = rows[rows["mode"] == "scalar"]
    assert len(scalar) == 1 and bool(scalar["check_ok"].iloc[0])
    pooled = rows[rows["mode"] == "pooled"]
    if len(pooled):  # pool of 50, trace returned after every run: one miss in thousands of gets
        assert pooled["hit_ratio"].iloc[0] > 0.99


def test_w2_correctness(quick_run: dict) -> None:
    frame = quick_run["frame"]
    exact = w2_log_evidence()
    assert exact == pytest.approx(EXACT["W2 log_evidence"], abs=2e-3)
    rows = frame[(frame["workload"] == "W2 is_vec100") & (frame["status"] == "ok")]
    assert len(rows) >= 2  # at least the two floors
    assert np.isfinite(rows["log_evidence"]).all()
    assert np.isfinite(rows["posterior_mean_mu"]).all()
    assert (rows["log_evidence"] < exact + MARKOV_NATS).all()
    # The estimates are noisy (ESS of a few particles) but not lost: E[mu] = 4.9459 exactly and
    # the posterior sd of mu is about 0.29; a particle 2 away from it has a likelihood about
    # 24 nats lower (100 obs, sigma about 2.85), so an error of 2 means a broken sampler.
    assert (rows["posterior_mean_mu"].sub(4.9459).abs() < 2.0).all()


def test_w3_correctness(quick_run: dict) -> None:
    mean, sd, _ = reference_posterior(20)
    frame = quick_run["frame"]
    assert (EXACT["W3 mean_mu"], EXACT["W3 sd_mu"]) == (round(mean, 4), round(sd, 4))
    rows = frame[(frame["workload"] == "W3 mh20") & (frame["status"] == "ok")]
    assert np.isfinite(rows["posterior_mean_mu"]).all()
    long = rows[(rows["implementation"] == "fugue_lab") & (rows["n"] == 1500)]
    for _, row in long.iterrows():  # within 5 Monte Carlo standard errors, sd / sqrt(ESS)
        assert row["ess"] > 5
        assert abs(row["posterior_mean_mu"] - mean) < 5 * sd / math.sqrt(row["ess"])


def test_w4_correctness(quick_run: dict) -> None:
    _, _, log_z = reference_posterior(20)
    frame = quick_run["frame"]
    assert EXACT["W4 log_evidence"] == pytest.approx(log_z, abs=1e-3)
    assert frame.loc[frame["workload"] == "W4 smc20", "exact_log_evidence"].dropna().eq(
        EXACT["W4 log_evidence"]).all()
    rows = ok_rows(frame, "W4 smc20")
    assert np.isfinite(rows["log_evidence"]).all()
    assert (rows["log_evidence"] < log_z + MARKOV_NATS).all()


def test_w5_correctness(quick_run: dict) -> None:
    frame = quick_run["frame"]
    rows = frame[(frame["workload"] == "W5 cow") & (frame["status"] == "ok")]
    assert set(rows["n"]) >= {3, 100, 1000}
    assert rows["check_ok"].astype(bool).all()


def test_subset_and_environment_header() -> None:
    frame = run_suite(quick=True, include_peers=False, workloads="W5")
    assert set(frame["workload"]) == {"W5 cow"}
    header = frame.attrs["environment"]
    assert "# cpu:" in header and "numpy" in header and "malloc" in header


@pytest.mark.parametrize("bad", ["W9", "", "W1,X"])
def test_unknown_workloads_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="workloads"):
        run_suite(quick=True, include_peers=False, workloads=bad)
    with pytest.raises(SystemExit):
        main(["--quick", "--no-peers", "--workloads", bad])


def test_floors_copy_is_exact() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "bench" / "floors.py"
    if not shared.exists():
        pytest.skip("shared/bench/floors.py is not beside the checkout")
    assert Path(floors.__file__).read_bytes() == shared.read_bytes()


def test_time_call_counts_and_values() -> None:
    calls = []
    t = time_call(lambda: calls.append(1) or len(calls), repeats=3, warmup=2, number=4)
    assert len(calls) == 2 + 3 * 4 and t.value == 14
    assert (t.repeats, t.number) == (3, 4) and t.min_s <= t.median_s <= t.max_s
    assert time_self_timed(iter([3.0, 1.0, 2.0]).__next__, repeats=3) == Timing(
        2.0, 1.0, 3.0, 3, 1, None
    )


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"number": 0}, {"warmup": -1},
                                    {"repeats": 1.5}])
def test_time_call_rejects_bad_counts(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        time_call(lambda: None, **kwargs)


def test_make_row_rejects_unknown_columns() -> None:
    with pytest.raises(KeyError, match="median_ms"):
        make_row("W1 prior3", "scalar", "fugue_lab", 1, median_ms=1.0)
