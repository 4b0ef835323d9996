"""The reference models of the benchmark workloads, written as a user would write them.

These are WORKLOADS.md's models, shared by the benchmark suite, the guide's
topics and the tests, with the exact answers they are checked against.

=================  ===================================================================
model              what it is
=================  ===================================================================
:func:`prior3`     W1: x ~ N(0, 1); y ~ N(x, 0.5); observe N(y, 0.1) at 1.5
:func:`is_vec100`  W2: mu ~ N(0, 10), precision ~ Gamma(2, 1), 100 observations in a plate
:func:`reference_model`        W3/W4: mu ~ N(0, 1) and ``n_sites - 1`` latent x_i, each
                               observed with noise (a Python loop of scalar sites)
:func:`reference_model_plate`  the same model with the x_i in one plate (runs batched)
=================  ===================================================================

Examples
--------
>>> import numpy as np
>>> from fugue_lab import PriorHandler, run
>>> _, trace = run(PriorHandler(np.random.default_rng(0)), reference_model, 20)
>>> trace.num_choices, trace.num_observations
(20, 19)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fugue_lab.core.address import addr
from fugue_lab.core.distributions import Gamma, Normal
from fugue_lab.core.primitives import observe, plate, sample

__all__ = [
    "EXACT",
    "W2_OBS",
    "is_vec100",
    "prior3",
    "reference_model",
    "reference_model_plate",
]

#: W2's observations, y_i = 0.1 i for i < 100.
W2_OBS = 0.1 * np.arange(100)

#: Exact answers from WORKLOADS.md (numerical integration and closed forms).
EXACT = {
    "W2 log_evidence": -256.9617,
    "W2 mean_mu": 4.9459,
    "W2 mean_precision": 0.12332,
    "W3 mean_mu": 0.7506,
    "W3 sd_mu": 0.2485,
    "W4 log_evidence": -30.392,
}


def prior3() -> float:
    """W1: x ~ N(0, 1); y ~ N(x, 0.5); observe N(y, 0.1) at 1.5; return x."""
    x = sample("x", Normal(0.0, 1.0))
    y = sample("y", Normal(x, 0.5))
    observe("obs", Normal(y, 0.1), 1.5)
    return x


def is_vec100(ys: np.ndarray) -> Any:
    """W2: mu ~ N(0, 10); precision ~ Gamma(2, 1); y ~ N(mu, sqrt(1/precision)) in a plate."""
    mu = sample("mu", Normal(0.0, 10.0))
    precision = sample("precision", Gamma(2.0, 1.0))
    sigma = np.sqrt(1.0 / precision)
    with plate("obs", len(ys)):
        observe("y", Normal(mu, sigma), ys)
    return mu


def reference_model(n_sites: int) -> Any:
    """W3/W4: mu ~ N(0, 1); x_i ~ N(mu, 1), observe N(x_i, 0.5) at 0.2 i - 1, i < n_sites - 1."""
    mu = sample("mu", Normal(0.0, 1.0))
    for i in range(n_sites - 1):
        x = sample(addr("x", i), Normal(mu, 1.0))
        observe(addr("y", i), Normal(x, 0.5), 0.2 * i - 1.0)
    return mu


def reference_model_plate(n_sites: int) -> Any:
    """:func:`reference_model` with the x_i in one plate: the same posterior; it runs batched."""
    mu = sample("mu", Normal(0.0, 1.0))
    with plate("x", n_sites - 1):
        x = sample("x", Normal(mu, 1.0))
        observe("y", Normal(x, 0.5), 0.2 * np.arange(n_sites - 1) - 1.0)
    return mu
