"""The widgets, driven from code: set the controls, click Run, read the frame and the output."""

from __future__ import annotations

import sys

import ipywidgets
import numpy as np
import pytest

from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import observe, sample
from fugue_lab.diagnostics import ArgumentTypeError, precision_sweep
from fugue_lab.errors import InvalidParameterError, MissingExtraError
from fugue_lab.widgets import PoolTuner, PrecisionExplorer, pool_tuner, precision_explorer

PNG = b"\x89PNG\r\n\x1a\n"


def prior3() -> float:
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    return x


def test_pool_tuner_runs_and_updates_in_place() -> None:
    tuner = pool_tuner(prior3, pool_size=4, workers=1, batch_size=4, n_batches=2)
    assert isinstance(tuner, PoolTuner) and isinstance(tuner.widget, ipywidgets.VBox)
    assert tuner.frame is None and bytes(tuner.image.value) == b""
    # An undersized pool: each batch holds 8 traces, the pool keeps 1.
    tuner.pool_size.value, tuner.batch_size.value, tuner.n_batches.value = 1, 8, 5
    tuner.run_button.click()
    row = tuner.frame.iloc[0]
    stats = tuner.trial.pool.stats
    assert (row["hits"], row["misses"], row["drops"]) == (stats.hits, stats.misses, stats.drops)
    assert row["pool_size"] == 1 and row["n_runs"] == 40
    assert row["hits"] == 4 and row["drops"] == 7 * 5 and row["peak_in_use"] == 8
    assert row["suggested_pool_size"] == 8
    assert "Suggested pool size: 8" in tuner.suggestion.value
    assert "too small" in tuner.suggestion.value
    assert bytes(tuner.image.value).startswith(PNG)
    first_image = bytes(tuner.image.value)
    # Follow the suggestion: no drops any more.
    tuner.pool_size.value = int(row["suggested_pool_size"])
    tuner.run_button.click()
    row = tuner.frame.iloc[0]
    assert row["drops"] == 0 and row["hit_ratio"] == pytest.approx(32 / 40)
    assert "no drops" in tuner.suggestion.value
    assert bytes(tuner.image.value).startswith(PNG) and bytes(tuner.image.value) != first_image
    history = tuner.history
    assert history["pool_size"].tolist() == [1, 8] and "<table" in tuner.table.value
    assert len(tuner.trial.latency) == 40 and (tuner.trial.latency["latency_us"] > 0).all()


def test_pool_tuner_threads_share_one_pool() -> None:
    tuner = pool_tuner(prior3, pool_size=64, workers=3, batch_size=8, n_batches=6)
    stats = tuner.run()
    row = stats.iloc[0]
    assert row["hits"] + row["misses"] == 48 == row["returns"] + row["drops"]
    assert 8 <= row["peak_in_use"] <= 3 * 8 and row["drops"] == 0


def test_precision_explorer_matches_precision_sweep() -> None:
    explorer = precision_explorer()
    assert isinstance(explorer, PrecisionExplorer)
    explorer.function.value = "log_sum_exp"
    explorer.log10_scales.value = (0, 4)
    explorer.n_scales.value = 5
    explorer.dtype.value = "float32"
    explorer.sign.value = -1
    explorer.run_button.click()
    frame = explorer.frame
    np.testing.assert_allclose(explorer.scales(), [1.0, 10.0, 100.0, 1e3, 1e4])
    direct = precision_sweep(["log_sum_exp", "naive_log_sum_exp"], scales=explorer.scales(),
                             dtypes=["float32"], sign=-1, min_time_s=0)
    cols = ["function", "scale", "dtype", "value", "reference", "ulp_error"]
    assert frame[cols].equals(direct[cols])
    assert bytes(explorer.image.value).startswith(PNG)
    assert "naive_log_sum_exp" in explorer.table.value
    # Another function: the output is replaced, not appended to.
    explorer.function.value = "safe_ln"
    explorer.run_button.click()
    assert set(explorer.frame["function"]) == {"safe_ln", "naive_ln"}
    assert len(explorer.frame) == 5 * 2


def test_missing_ipywidgets_fails_at_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets -> ImportError
    with pytest.raises(MissingExtraError, match=r"pool_tuner.*ipywidgets.*fugue_lab\[lab\]"):
        pool_tuner(prior3)
    with pytest.raises(MissingExtraError, match="precision_explorer"):
        precision_explorer()


def test_bad_arguments() -> None:
    with pytest.raises(ArgumentTypeError, match="model"):
        pool_tuner("prior3")
    with pytest.raises(InvalidParameterError, match="function"):
        precision_explorer("lse")
    with pytest.raises(InvalidParameterError, match="dtype"):
        precision_explorer(dtype="float16")
    with pytest.raises(InvalidParameterError, match="log10_range"):
        precision_explorer(log10_range=(-400, 0))
    tuner = pool_tuner(prior3)
    tuner.pool_size.value = 0  # the slider clamps to its minimum, 1
    assert tuner.pool_size.value == 1
