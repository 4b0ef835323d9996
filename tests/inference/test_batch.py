"""Tests for fugue_lab.inference.batch (run_batch) and the chunk runner behind it.

The central claim is that a batch does not depend on where its chunks run: the
same seed gives bit-identical arrays with no executor, a thread pool, a process
pool and a Dask cluster.  The reference for the seeding contract is written out
independently here: chunk i runs PriorHandler(default_rng(SeedSequence(seed).spawn(k)[i])).
Log weights are checked against scipy.stats, prior moments against closed forms.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import batch_models as bm  # tests/inference/batch_models.py: importable by worker processes
import numpy as np
import pytest
from scipy import stats

from fugue_lab import PriorHandler, run
from fugue_lab.errors import BatchError, InvalidParameterError, MissingAddressError
from fugue_lab.inference import _chunks
from fugue_lab.inference.batch import (
    BatchResult,
    chunk_sizes,
    default_chunk_size,
    map_chunks,
    run_batch,
    spawn_seeds,
)
from fugue_lab.runtime.memory import TracePool

SEED = 20261125


# -- executors -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def process_pool():
    with ProcessPoolExecutor(2) as ex:
        yield ex


@pytest.fixture(scope="module")
def thread_pool():
    with ThreadPoolExecutor(2) as ex:
        yield ex


@pytest.fixture(params=["none", "threads", "processes"])
def executor(request):
    if request.param == "none":
        return None
    return request.getfixturevalue({"threads": "thread_pool", "processes": "process_pool"}[
        request.param
    ])


@pytest.fixture(scope="module")
def dask_executor():
    """One LocalCluster (2 worker processes) for the whole module, closed client first.

    ``dashboard_address=":0"`` takes a free port: with None the scheduler's HTTP server
    still tries 8787 and warns (an error here) if another cluster on the machine holds it.
    Closed in this order, the cluster emits no warning at start or shutdown (checked
    with -W error), so no filter is needed; the workers' logs are silenced.
    """
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    client = distributed.Client(cluster)
    try:
        yield client.get_executor()
    finally:
        client.close()
        cluster.close()


def _reference(model, n, seed, chunk_size, args=()):
    """run_batch's contract written out: chunk i draws from child i of SeedSequence(seed)."""
    sizes = chunk_sizes(n, chunk_size)
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    traces, returns = [], []
    for size, child in zip(sizes, children):
        handler = PriorHandler(np.random.default_rng(child))
        for _ in range(size):
            value, trace = run(handler, model, *args)
            returns.append(value)
            traces.append(trace)
    return returns, traces


def assert_same_batch(a: BatchResult, b: BatchResult) -> None:
    """Bit-identical: same addresses in the same order, equal arrays (NaN == NaN)."""
    assert list(a.values) == list(b.values)
    for address in a.values:
        assert a.values[address].dtype == b.values[address].dtype, address
        np.testing.assert_array_equal(a.values[address], b.values[address], strict=True)
    assert list(a.present) == list(b.present)
    for address in a.present:
        np.testing.assert_array_equal(a.present[address], b.present[address], strict=True)
    for name in ("log_prior", "log_likelihood", "log_factors", "log_weight", "returns"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), strict=True)
    assert a.nonfinite == b.nonfinite
    assert a.chunk_size == b.chunk_size and a.n_chunks == b.n_chunks


# -- the seeding contract and the values -----------------------------------------------------


def test_matches_the_written_out_contract():
    returns, traces = _reference(bm.prior3, 250, SEED, 64)
    result = run_batch(bm.prior3, 250, seed=SEED, chunk_size=64, progress=False)
    assert result.n == 250 and result.n_chunks == 4 and result.chunk_size == 64
    np.testing.assert_array_equal(result["x"], [t.get_float("x") for t in traces])
    np.testing.assert_array_equal(result["y"], [t.get_float("y") for t in traces])
    np.testing.assert_array_equal(result.returns, returns)
    np.testing.assert_array_equal(result.log_weight, [t.total_log_weight for t in traces])


def test_log_weights_match_scipy():
    result = run_batch(bm.prior3, 2000, seed=SEED, progress=False)
    x, y = result["x"], result["y"]
    log_prior = stats.norm.logpdf(x, 0.0, 1.0) + stats.norm.logpdf(y, x, 0.5)
    log_lik = stats.norm.logpdf(1.5, y, 0.1)
    np.testing.assert_allclose(result.log_prior, log_prior, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.log_likelihood, log_lik, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(result.log_factors, 0.0)
    np.testing.assert_allclose(result.log_weight, log_prior + log_lik, rtol=1e-12, atol=1e-12)
    assert result.n_nonfinite == 0


def test_prior_moments():
    # y = x + 0.5 e: E[y] = 0, Var[y] = 1.25, Cov(x, y) = 1.  With n = 20,000 the
    # standard error of a mean is sd / sqrt(n) <= 0.008; 5 standard errors is the bar.
    n = 20_000
    result = run_batch(bm.prior3, n, seed=SEED, progress=False)
    x, y = result["x"], result["y"]
    assert abs(x.mean()) < 5 * 1.0 / math.sqrt(n)
    assert abs(y.mean()) < 5 * math.sqrt(1.25) / math.sqrt(n)
    # Var of a sample variance of a normal is 2 sigma^4 / (n - 1).
    assert abs(y.var(ddof=1) - 1.25) < 5 * 1.25 * math.sqrt(2 / (n - 1))
    # Cov(x, y) estimate: sd is sqrt((Var x Var y + Cov^2) / n) = sqrt(2.25 / n).
    assert abs(np.cov(x, y)[0, 1] - 1.0) < 5 * math.sqrt(2.25 / n)


def test_stochastic_structure_masks_and_nans():
    p = 0.3
    n = 4000
    result = run_batch(bm.branching, n, seed=SEED, args=(p,), chunk_size=500, progress=False)
    b = result["b"]
    assert b.dtype == np.bool_
    assert list(result.present) == ["z"]
    np.testing.assert_array_equal(result.present["z"], b)
    z = result["z"]
    assert z.dtype == np.float64
    assert np.isnan(z[~b]).all() and np.isfinite(z[b]).all()
    np.testing.assert_array_equal(result.returns[b], z[b])
    # the fraction of runs that reach z: binomial, 5 standard errors
    assert abs(b.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    # log_prior counts z only where it exists
    expected = np.where(b, math.log(p), math.log(1 - p))
    expected[b] += stats.norm.logpdf(z[b], 5.0, 1.0)
    np.testing.assert_allclose(result.log_prior, expected, rtol=1e-12)


def test_site_reached_only_in_some_chunks():
    # p = 1e-3 with chunks of 200: most chunks never reach z; the merge must still align it.
    result = run_batch(bm.branching, 2000, seed=3, args=(1e-3,), chunk_size=200, progress=False)
    _, traces = _reference(bm.branching, 2000, 3, 200, args=(1e-3,))
    has_z = np.array(["z" in t for t in traces])
    np.testing.assert_array_equal(result.present.get("z", np.zeros(2000, bool)), has_z)
    if has_z.any():
        np.testing.assert_array_equal(
            result["z"][has_z], [t.get_float("z") for t in traces if "z" in t]
        )


def test_nonfinite_weights_are_counted():
    result = run_batch(bm.guarded, 1000, seed=SEED, progress=False)
    negative = int(np.count_nonzero(result["x"] <= 0.0))
    assert 0 < negative < 1000
    assert result.nonfinite == {
        "log_prior": 0,
        "log_likelihood": 0,
        "log_factors": negative,
        "log_weight": negative,
    }
    assert result.n_nonfinite == negative
    assert f"non-finite weights={negative}" in repr(result)


def test_keep_traces():
    result = run_batch(bm.prior3, 300, seed=SEED, chunk_size=100, keep_traces=True,
                       progress=False)
    assert result.traces is not None and len(result.traces) == 300
    np.testing.assert_array_equal(result["y"], [t.get_float("y") for t in result.traces])
    np.testing.assert_array_equal(result.log_weight,
                                  [t.total_log_weight for t in result.traces])
    assert run_batch(bm.prior3, 10, seed=SEED, progress=False).traces is None


def test_result_accessors():
    result = run_batch(bm.prior3, 50, seed=SEED, progress=False)
    assert result.addresses == ["x", "y"]
    assert result.runs_per_second > 0 and result.total_seconds > 0
    assert result.chunk_seconds.shape == (1,)
    with pytest.raises(MissingAddressError, match="'nope'"):
        result["nope"]


# -- executors give the same result -----------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [None, 37])
def test_identical_with_every_executor(executor, chunk_size):
    reference = run_batch(bm.prior3, 3000, seed=SEED, chunk_size=chunk_size, progress=False)
    result = run_batch(bm.prior3, 3000, seed=SEED, chunk_size=chunk_size, executor=executor,
                       progress=False)
    assert_same_batch(result, reference)


def test_identical_with_every_executor_stochastic_structure(executor):
    kwargs = dict(seed=SEED, args=(0.2,), chunk_size=50, progress=False)
    reference = run_batch(bm.branching, 600, **kwargs)
    assert_same_batch(run_batch(bm.branching, 600, executor=executor, **kwargs), reference)


def test_independent_of_worker_count():
    kwargs = dict(seed=SEED, chunk_size=100, progress=False)
    with ProcessPoolExecutor(1) as one, ThreadPoolExecutor(3) as three:
        a = run_batch(bm.prior3, 1000, executor=one, **kwargs)
        b = run_batch(bm.prior3, 1000, executor=three, **kwargs)
    assert_same_batch(a, b)


def test_chunk_size_changes_the_streams():
    a = run_batch(bm.prior3, 200, seed=SEED, chunk_size=100, progress=False)
    b = run_batch(bm.prior3, 200, seed=SEED, chunk_size=50, progress=False)
    np.testing.assert_array_equal(a["x"][:50], b["x"][:50])  # chunk 0 shares child 0
    assert not np.array_equal(a["x"][100:], b["x"][100:])


# -- pools ------------------------------------------------------------------------------------


def test_pool_gives_the_same_values_and_is_reused():
    pool = TracePool(50)
    plain = run_batch(bm.prior3, 2000, seed=SEED, chunk_size=500, progress=False)
    pooled = run_batch(bm.prior3, 2000, seed=SEED, chunk_size=500, pool=pool, progress=False)
    assert_same_batch(pooled, plain)
    stats_ = pool.stats
    assert stats_.total_gets == 2000 and stats_.misses == 1 and stats_.hits == 1999


def test_pool_is_shared_by_threads_and_not_sent_to_processes(thread_pool, process_pool):
    plain = run_batch(bm.prior3, 1000, seed=SEED, chunk_size=100, progress=False)
    shared = TracePool(50)
    pooled = run_batch(bm.prior3, 1000, seed=SEED, chunk_size=100, pool=shared,
                       executor=thread_pool, progress=False)
    assert_same_batch(pooled, plain)
    assert shared.stats.total_gets == 1000
    local = TracePool(50)
    pooled = run_batch(bm.prior3, 1000, seed=SEED, chunk_size=100, pool=local,
                       executor=process_pool, progress=False)
    assert_same_batch(pooled, plain)
    assert local.stats.total_gets == 0  # each worker process used a pool of its own
    seen = map_chunks(bm.worker_pools, [(s, None) for s in spawn_seeds(0, 8)],
                      executor=process_pool, progress=False)
    assert any(o.value.get(50, 0) > 0 for o in seen)  # a worker's own pool of max_size 50


def test_pool_with_keep_traces_is_refused():
    with pytest.raises(InvalidParameterError, match="keep_traces"):
        run_batch(bm.prior3, 10, seed=0, pool=TracePool(4), keep_traces=True, progress=False)


# -- seeds ------------------------------------------------------------------------------------


def test_seed_forms():
    by_int = run_batch(bm.prior3, 200, seed=7, progress=False)
    sequence = np.random.SeedSequence(7)
    by_seq = run_batch(bm.prior3, 200, seed=sequence, progress=False)
    again = run_batch(bm.prior3, 200, seed=sequence, progress=False)  # not advanced
    assert_same_batch(by_seq, by_int)
    assert_same_batch(again, by_int)
    assert sequence.n_children_spawned == 0


def test_seed_none_is_fresh_and_repeatable_through_result_seed():
    a = run_batch(bm.prior3, 100, seed=None, progress=False)
    b = run_batch(bm.prior3, 100, seed=None, progress=False)
    assert not np.array_equal(a["x"], b["x"])
    assert_same_batch(run_batch(bm.prior3, 100, seed=a.seed, progress=False), a)


def test_seed_generator_is_deterministic_given_its_state():
    a = run_batch(bm.prior3, 100, seed=np.random.default_rng(1), progress=False)
    b = run_batch(bm.prior3, 100, seed=np.random.default_rng(1), progress=False)
    assert_same_batch(a, b)


def test_spawn_seeds_matches_numpy():
    for child, ref in zip(spawn_seeds(11, 5), np.random.SeedSequence(11).spawn(5)):
        np.testing.assert_array_equal(child.generate_state(8), ref.generate_state(8))


def test_default_chunking_depends_on_n_only():
    assert default_chunk_size(1) == 1
    assert default_chunk_size(999) == 999
    assert default_chunk_size(100_000) == 3125
    assert chunk_sizes(100_000) == [3125] * 32
    assert sum(chunk_sizes(123_457)) == 123_457
    assert chunk_sizes(5, 10) == [5]


# -- failures ---------------------------------------------------------------------------------


def _failing_chunks(threshold, n, chunk_size):
    twin = run_batch(bm.lucky, n, seed=SEED, args=(threshold,), chunk_size=chunk_size,
                     progress=False)
    over = twin["x"] > threshold
    return set(np.flatnonzero(over.reshape(-1, chunk_size).any(axis=1)).tolist())


def test_failing_chunk_is_named(executor):
    threshold, n, chunk_size = 2.0, 400, 40  # P(x > 2) = 0.023: a few of the 10 chunks fail
    failing = _failing_chunks(threshold, n, chunk_size)
    assert failing and len(failing) < 10
    with pytest.raises(BatchError) as info:
        run_batch(bm.unlucky, n, seed=SEED, args=(threshold,), chunk_size=chunk_size,
                  executor=executor, progress=False)
    err = info.value
    # in this process chunks run in order, so the first failing chunk is named; an
    # executor names whichever failing chunk finished first
    if executor is None:
        assert err.chunk_index == min(failing)
    assert err.chunk_index in failing
    assert f"chunk {err.chunk_index} of 10 failed: ValueError" in str(err)
    assert isinstance(err.__cause__, ValueError)
    assert "exceeds 2.0" in str(err.__cause__)


def test_unpicklable_exception_from_a_worker_process(process_pool):
    with pytest.raises(BatchError, match="StubbornError") as info:
        run_batch(bm.stubborn, 10, seed=0, executor=process_pool, progress=False)
    assert isinstance(info.value.__cause__, _chunks.RemoteChunkError)
    assert "could not be pickled" in str(info.value.__cause__)
    assert "raise StubbornError" in str(info.value.__cause__)  # the worker's traceback
    assert "\n" not in str(info.value)  # the BatchError's message is one line
    # the pool is not broken by it
    assert run_batch(bm.prior3, 10, seed=0, executor=process_pool, progress=False).n == 10


def test_unpicklable_exception_with_tblib_installed():
    # Importing distributed installs tblib's exception pickling in this process and in
    # workers forked after it, which pickles an exception's __context__ chain too.
    pytest.importorskip("distributed")
    with ProcessPoolExecutor(1) as fresh:
        with pytest.raises(BatchError, match="StubbornError") as info:
            run_batch(bm.stubborn, 10, seed=0, executor=fresh, progress=False)
        assert isinstance(info.value.__cause__, _chunks.RemoteChunkError)
        assert run_batch(bm.prior3, 10, seed=0, executor=fresh, progress=False).n == 10


def test_unpicklable_return_value_names_the_fix(process_pool):
    with pytest.raises(BatchError, match=r"define the model.*at module level") as info:
        run_batch(bm.returns_a_function, 10, seed=0, executor=process_pool, progress=False)
    assert info.value.chunk_index == 0
    assert "pickle" in str(info.value.__cause__).lower()
    here = run_batch(bm.returns_a_function, 10, seed=0, progress=False)  # no pickling here
    assert here.returns.dtype == object and callable(here.returns[0])


def test_unpicklable_exception_in_process_is_kept():
    with pytest.raises(BatchError) as info:
        run_batch(bm.stubborn, 10, seed=0, progress=False)
    assert isinstance(info.value.__cause__, bm.StubbornError)


def test_pending_chunks_are_cancelled_after_a_failure():
    calls = []
    lock = threading.Lock()
    gate = threading.Event()

    def work(index, seed_seq, payload):
        with lock:
            calls.append(index)
        if index == 0:
            raise RuntimeError("boom")
        gate.wait(5.0)  # chunk 1 may start before the failure is seen; it waits here
        return index

    chunks = [(s, None) for s in spawn_seeds(0, 20)]
    with ThreadPoolExecutor(1) as ex:
        with pytest.raises(BatchError, match="chunk 0 of 20 failed: RuntimeError: boom"):
            map_chunks(work, chunks, executor=ex, progress=False)
        gate.set()
    assert len(calls) <= 2  # chunk 0, maybe chunk 1; the other 18 were cancelled


def test_map_chunks_orders_results_and_times_them(thread_pool):
    def work(index, seed_seq, payload):
        return index, payload, int(np.random.default_rng(seed_seq).integers(1 << 30))

    chunks = list(zip(spawn_seeds(4, 6), "abcdef"))
    here = map_chunks(work, chunks, progress=False)
    there = map_chunks(work, chunks, executor=thread_pool, progress=False)
    assert [o.value for o in here] == [o.value for o in there]
    assert [o.index for o in here] == list(range(6))
    assert [o.value[1] for o in here] == list("abcdef")
    assert all(o.seconds >= 0 for o in here)


def test_runs_in_a_fresh_context_like_a_worker():
    # A scope active around run_batch must not leak into the runs, or the result
    # would depend on whether the chunks ran here or elsewhere.
    from fugue_lab import scope

    with scope("outer"):
        result = run_batch(bm.prior3, 5, seed=0, progress=False)
    assert result.addresses == ["x", "y"]


# -- pickling ---------------------------------------------------------------------------------


def test_unpicklable_model_on_a_process_pool_names_the_fix(process_pool):
    def local_model():
        return bm.prior3()

    with pytest.raises(InvalidParameterError, match=r"run_batch: model must be picklable.*"
                       r"module level.*ThreadPoolExecutor.*cloudpickle"):
        run_batch(local_model, 10, seed=0, executor=process_pool, progress=False)
    with pytest.raises(InvalidParameterError, match="run_batch: args must be picklable"):
        run_batch(bm.branching, 10, seed=0, args=(lambda: 0.5,), executor=process_pool,
                  progress=False)


def test_a_closure_runs_on_threads(thread_pool):
    def local_model():
        return bm.prior3()

    a = run_batch(local_model, 100, seed=0, executor=thread_pool, progress=False)
    assert_same_batch(a, run_batch(bm.prior3, 100, seed=0, progress=False))


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -3])
def test_n_below_one(n):
    with pytest.raises(InvalidParameterError, match=rf"run_batch: n must be an int >= 1, got {n}"):
        run_batch(bm.prior3, n, seed=0, progress=False)


@pytest.mark.parametrize("n", [2.5, True, "10", None])
def test_n_not_an_int(n):
    with pytest.raises(InvalidParameterError, match="run_batch: n must be an int >= 1"):
        run_batch(bm.prior3, n, seed=0, progress=False)


@pytest.mark.parametrize("chunk_size", [0, -1, 1.5])
def test_bad_chunk_size(chunk_size):
    with pytest.raises(InvalidParameterError, match="run_batch: chunk_size must be an int >= 1"):
        run_batch(bm.prior3, 10, seed=0, chunk_size=chunk_size, progress=False)


def test_bad_seed():
    with pytest.raises(InvalidParameterError, match="seed must be an int >= 0, got -1"):
        run_batch(bm.prior3, 10, seed=-1, progress=False)
    with pytest.raises(TypeError, match="seed must be an int"):
        run_batch(bm.prior3, 10, seed=1.5, progress=False)
    with pytest.raises(TypeError, match="seed must be an int"):
        run_batch(bm.prior3, 10, seed=True, progress=False)


def test_bad_model_executor_args_pool():
    with pytest.raises(TypeError, match="model must be callable"):
        run_batch("prior3", 10, seed=0, progress=False)
    with pytest.raises(TypeError, match=r"executor must be None or a concurrent\.futures"):
        run_batch(bm.prior3, 10, seed=0, executor=object(), progress=False)
    with pytest.raises(TypeError, match="args must be a tuple"):
        run_batch(bm.branching, 10, seed=0, args=0.5, progress=False)
    with pytest.raises(TypeError, match="kwargs must be a mapping"):
        run_batch(bm.branching, 10, seed=0, kwargs=[0.5], progress=False)
    with pytest.raises(TypeError, match="pool must be a TracePool"):
        run_batch(bm.prior3, 10, seed=0, pool=50, progress=False)


# -- progress ---------------------------------------------------------------------------------


def test_progress_bar_is_quiet_when_output_is_not_a_terminal(capsys):
    pytest.importorskip("tqdm")
    run_batch(bm.prior3, 100, seed=0, chunk_size=10, progress=True)
    assert capsys.readouterr().err == ""  # pytest's capture is not a TTY: tqdm disables itself
    bar = _chunks._progress_bar(True, 10, "x", "run")
    try:
        assert type(bar).__module__.startswith("tqdm")
    finally:
        bar.close()


def test_progress_without_tqdm_falls_back_silently(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import tqdm.auto -> ImportError
    assert isinstance(_chunks._progress_bar(True, 10, "x", "run"), _chunks._NoBar)
    result = run_batch(bm.prior3, 50, seed=0, progress=True)
    assert result.n == 50 and capsys.readouterr().err == ""


# -- a Dask cluster ---------------------------------------------------------------------------


@pytest.mark.slow
def test_dask_cluster_gives_the_same_batch(dask_executor):
    kwargs = dict(seed=SEED, chunk_size=250, progress=False)
    reference = run_batch(bm.prior3, 2000, **kwargs)
    assert_same_batch(run_batch(bm.prior3, 2000, executor=dask_executor, **kwargs), reference)
    pooled = run_batch(bm.prior3, 2000, executor=dask_executor, pool=TracePool(50), **kwargs)
    assert_same_batch(pooled, reference)
    branchy = dict(seed=SEED, args=(0.2,), chunk_size=50, progress=False)
    assert_same_batch(run_batch(bm.branching, 600, executor=dask_executor, **branchy),
                      run_batch(bm.branching, 600, **branchy))


@pytest.mark.slow
def test_dask_cluster_takes_a_closure_and_names_a_failing_chunk(dask_executor):
    def local_model():  # cloudpickle sends it by value
        return bm.prior3()

    a = run_batch(local_model, 200, seed=1, chunk_size=50, executor=dask_executor,
                  progress=False)
    assert_same_batch(a, run_batch(bm.prior3, 200, seed=1, chunk_size=50, progress=False))
    failing = _failing_chunks(2.0, 400, 40)
    with pytest.raises(BatchError, match="ValueError") as info:
        run_batch(bm.unlucky, 400, seed=SEED, args=(2.0,), chunk_size=40,
                  executor=dask_executor, progress=False)
    assert info.value.chunk_index in failing
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.slow
def test_dask_cluster_runs_multi_chain_mh_like_a_local_run(dask_executor):
    from fugue_lab.inference.mh import mh_chains

    kwargs = dict(seed=SEED, progress=False)
    local = mh_chains(bm.prior3, 3, 150, 50, **kwargs)
    remote = mh_chains(bm.prior3, 3, 150, 50, executor=dask_executor, **kwargs)
    for address in local.addresses:
        np.testing.assert_array_equal(remote.values[address], local.values[address])
    np.testing.assert_array_equal(remote.log_joint, local.log_joint)
    assert remote.n_chains == 3 and remote.n_draws == 150


def test_importance_log_weight_leaves_out_the_prior():
    from fugue_lab import Normal, observe, sample
    from fugue_lab.core.numerical import log_mean_exp
    from fugue_lab.inference.batch import run_batch

    def model():
        mu = sample("mu", Normal(0.0, 1.0))
        observe("y", Normal(mu, 1.0), 1.0)

    result = run_batch(model, 20_000, seed=3, progress=False)
    np.testing.assert_array_equal(
        result.importance_log_weight, result.log_likelihood + result.log_factors
    )
    exact = -0.5 * np.log(2 * np.pi * 2.0) - 0.25  # y ~ N(0, sqrt(2))
    # the relative variance of the weights is below 1 here, so 0.03 is > 4 standard errors
    assert abs(log_mean_exp(result.importance_log_weight) - exact) < 0.03
