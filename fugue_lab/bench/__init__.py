"""The benchmark suite: WORKLOADS.md's W1-W5 against hand-written floors and the peers.

``fugue-lab bench`` (or ``python -m fugue_lab.bench``) runs it; see
:mod:`fugue_lab.bench.suite` for the options and how to read the table, and
``docs/benchmarks.md`` for a full run.

- :mod:`~fugue_lab.bench.floors`: the floors, an exact copy of the project's
  reference floors (never edit it: a slowed floor makes every ratio a lie);
- :mod:`~fugue_lab.bench.harness`: timing (warm-up, repeats, medians, one BLAS
  thread) and the environment header;
- :mod:`~fugue_lab.bench.workloads`: the models and fugue_lab's modes;
- :mod:`~fugue_lab.bench.peers`: the same workloads in Pyro and NumPyro;
- :mod:`~fugue_lab.bench.suite`: :func:`run_suite` and the command line.

Examples
--------
>>> from fugue_lab.bench import run_suite
>>> callable(run_suite)
True
"""

from fugue_lab.bench.suite import main, run_suite

__all__ = ["main", "run_suite"]
