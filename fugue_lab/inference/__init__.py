"""Inference algorithms built on the runtime.

=====================================  ===================================================
function                               what it does
=====================================  ===================================================
:func:`importance_sampling`            likelihood-weighted importance sampling
                                       (``batched=True``: chunked vectorized executions)
:func:`mh_chain`, :func:`mh_chains`    adaptive single-site Metropolis-Hastings, with Gibbs
                                       for finite discrete sites (``vectorized=True``:
                                       lockstep chains)
:func:`smc`                            adaptively tempered SMC with MH rejuvenation
                                       (``batched=True``: the population as one batch)
:func:`run_batch`                      many prior executions, on any executor or a Dask
                                       cluster, reproducibly
=====================================  ===================================================

MCMC convergence diagnostics (R-hat, bulk/tail ESS, MCSE) are NumPy kernels in
:mod:`fugue_lab.inference.mcmc_diagnostics`.
"""

from fugue_lab.inference.batch import BatchResult, run_batch
from fugue_lab.inference.importance import importance_sampling
from fugue_lab.inference.mh import MHInfo, MHState, SingleSiteMH, mh_chain, mh_chains
from fugue_lab.inference.proposals import (
    Flip,
    IntegerStep,
    LogRandomWalk,
    PriorResample,
    Proposal,
    RandomWalk,
    ReflectiveRandomWalk,
    SiteState,
)
from fugue_lab.inference.results import ImportanceResult, MCMCResult, SMCResult
from fugue_lab.inference.smc import SMCConfig, SMCInfo, SMCState, TemperedSMC, smc
from fugue_lab.inference.vectorized import LockstepMH, lockstep_mh_chains

__all__ = [
    "BatchResult",
    "Flip",
    "ImportanceResult",
    "IntegerStep",
    "LockstepMH",
    "LogRandomWalk",
    "MCMCResult",
    "MHInfo",
    "MHState",
    "PriorResample",
    "Proposal",
    "RandomWalk",
    "ReflectiveRandomWalk",
    "SMCConfig",
    "SMCInfo",
    "SMCResult",
    "SMCState",
    "SingleSiteMH",
    "SiteState",
    "TemperedSMC",
    "importance_sampling",
    "lockstep_mh_chains",
    "mh_chain",
    "mh_chains",
    "run_batch",
    "smc",
]
