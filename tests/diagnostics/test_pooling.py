"""pool_trial: the pool's counters under a known batch pattern, and the suggested size."""

from __future__ import annotations

import pytest

from fugue_lab.core.distributions import Normal
from fugue_lab.core.primitives import sample
from fugue_lab.diagnostics import ArgumentTypeError, pool_frame
from fugue_lab.diagnostics.pooling import pool_trial, suggest_pool_size
from fugue_lab.errors import InvalidParameterError


def one_site() -> float:
    return sample("x", Normal(0.0, 1.0))


@pytest.mark.parametrize(("pool_size", "batch_size"), [(1, 6), (3, 6), (6, 6), (10, 6)])
def test_one_worker_counts_are_exact(pool_size: int, batch_size: int) -> None:
    n_batches = 4
    trial = pool_trial(one_site, pool_size=pool_size, workers=1, batch_size=batch_size,
                       n_batches=n_batches)  # fmt: skip
    row = trial.stats.iloc[0]
    kept = min(pool_size, batch_size)  # idle traces after each batch
    assert row["misses"] == batch_size + (n_batches - 1) * (batch_size - kept)
    assert row["hits"] == (n_batches - 1) * kept
    assert row["returns"] == n_batches * kept
    assert row["drops"] == n_batches * (batch_size - kept)
    assert row["peak_in_use"] == batch_size == row["suggested_pool_size"]
    assert row["hit_ratio"] == trial.pool.stats.hit_ratio
    assert list(trial.latency["batch"].unique()) == list(range(n_batches))
    assert pool_frame(trial.pool)["is_current"].iloc[-1]


def test_prewarmed_pool_of_the_suggested_size_never_misses() -> None:
    trial = pool_trial(one_site, pool_size=5, workers=1, batch_size=5, n_batches=3,
                       prewarm=True)  # fmt: skip
    row = trial.stats.iloc[0]
    assert row["hit_ratio"] == 1.0 and row["misses"] == 0 and row["drops"] == 0


def test_bad_arguments() -> None:
    for name in ("pool_size", "workers", "batch_size", "n_batches"):
        kwargs = {"pool_size": 2, name: 0}
        with pytest.raises(InvalidParameterError) as info:
            pool_trial(one_site, **kwargs)
        assert info.value.name == name
    with pytest.raises(ArgumentTypeError, match="model"):
        pool_trial(None, pool_size=2)
    assert suggest_pool_size(0) == 1
