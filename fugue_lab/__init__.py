"""fugue_lab: probabilistic programming for people who live in notebooks.

A model is a plain Python function that draws with :func:`sample`, conditions
with :func:`observe` and weights with :func:`factor`; handlers interpret it,
inference algorithms are built on handlers, and the diagnostics layer turns
what they record into DataFrames and plots.

Examples
--------
>>> import numpy as np
>>> import fugue_lab as fl
>>> def coin(flips):
...     p = fl.sample("p", fl.Beta(1.0, 1.0))
...     for i, flip in enumerate(flips):
...         fl.observe(fl.addr("flip", i), fl.Bernoulli(p), flip)
...     return p
>>> p, trace = fl.run(fl.PriorHandler(np.random.default_rng(0)), coin, [True, False, True])
>>> trace.num_observations
3
"""

from fugue_lab.core.address import addr, scope
from fugue_lab.core.distributions import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    ChiSquared,
    DiscreteUniform,
    Distribution,
    Exponential,
    Gamma,
    InverseGamma,
    Laplace,
    LogNormal,
    Normal,
    Poisson,
    StudentT,
    Support,
    Uniform,
    Weibull,
)
from fugue_lab.core.primitives import Handler, factor, guard, observe, plate, sample
from fugue_lab.inference import (
    ImportanceResult,
    MCMCResult,
    SMCConfig,
    SMCResult,
    importance_sampling,
    mh_chain,
    mh_chains,
    run_batch,
    smc,
)
from fugue_lab.runtime.batched import (
    BatchedPriorHandler,
    BatchedReplayHandler,
    BatchedScoreHandler,
)
from fugue_lab.runtime.handlers import (
    PriorHandler,
    ReplayHandler,
    SafeReplayHandler,
    SafeScoreHandler,
    ScoreHandler,
    run,
)
from fugue_lab.runtime.memory import (
    CowTrace,
    PooledPriorHandler,
    PoolStats,
    TraceBuilder,
    TracePool,
)
from fugue_lab.runtime.trace import Choice, Trace

__version__ = "0.1.0"

__all__ = [
    "BatchedPriorHandler",
    "BatchedReplayHandler",
    "BatchedScoreHandler",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "ChiSquared",
    "Choice",
    "CowTrace",
    "DiscreteUniform",
    "Distribution",
    "Exponential",
    "Gamma",
    "Handler",
    "ImportanceResult",
    "InverseGamma",
    "Laplace",
    "LogNormal",
    "MCMCResult",
    "Normal",
    "Poisson",
    "PoolStats",
    "PooledPriorHandler",
    "PriorHandler",
    "ReplayHandler",
    "SMCConfig",
    "SMCResult",
    "SafeReplayHandler",
    "SafeScoreHandler",
    "ScoreHandler",
    "StudentT",
    "Support",
    "Trace",
    "TraceBuilder",
    "TracePool",
    "Uniform",
    "Weibull",
    "__version__",
    "addr",
    "factor",
    "guard",
    "importance_sampling",
    "mh_chain",
    "mh_chains",
    "observe",
    "plate",
    "run",
    "run_batch",
    "sample",
    "scope",
    "smc",
]
