"""The benchmark suite lives in the package (:mod:`fugue_lab.bench`); this is a thin shim.

``python -m benchmarks`` from the repository root runs ``fugue-lab bench``.
"""
