"""The memory layer (the guide's "Pool First"): trace pools, a trace builder, copy-on-write traces.

This module gathers the public names of three small modules:

- :mod:`fugue_lab.runtime.pool`: :class:`TracePool` (reusable traces and NumPy
  buffers, with :class:`PoolStats`, :class:`PoolSnapshot` history and
  :class:`BufferStats`) and :class:`PooledPriorHandler`;
- :mod:`fugue_lab.runtime.builder`: :class:`TraceBuilder`;
- :mod:`fugue_lab.runtime.cow`: :class:`CowTrace` (and :func:`exact_sum`).

Examples
--------
>>> pool = TracePool(4)
>>> with pool.borrow() as trace:
...     trace.num_choices
0
>>> CowTrace.from_trace(TraceBuilder().add_sample("x", 1.0, -1.4).build()).log_prior
-1.4
"""

from __future__ import annotations

from fugue_lab.runtime.builder import TraceBuilder
from fugue_lab.runtime.cow import CowTrace, exact_sum
from fugue_lab.runtime.pool import (
    BufferStats,
    PooledPriorHandler,
    PoolSnapshot,
    PoolStats,
    TracePool,
)

__all__ = [
    "BufferStats",
    "CowTrace",
    "PoolSnapshot",
    "PoolStats",
    "PooledPriorHandler",
    "TraceBuilder",
    "TracePool",
    "exact_sum",
]
