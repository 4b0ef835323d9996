"""Gibbs updates for finite discrete sites (used by ``mh_chain(..., discrete="gibbs")``).

A Gibbs update of a site with finitely many values re-executes the model once
per value (on copy-on-write clones of the current trace), scores each, and
draws the new value from the exact conditional
``p(value | everything else) ∝ exp(log joint with the site at value)``.  Every
update is accepted (the conditional is exact), so no Hastings correction is
needed.  The sites that qualify are scalar :class:`~fugue_lab.Bernoulli`,
:class:`~fugue_lab.Categorical` and :class:`~fugue_lab.DiscreteUniform` sites
(with at most :data:`MAX_GIBBS_VALUES` values); other sites keep MH.

Examples
--------
>>> from fugue_lab import Bernoulli, Categorical, Normal
>>> finite_values(Bernoulli(0.3)), finite_values(Categorical([0.5, 0.5])), finite_values(
...     Normal(0.0, 1.0))
([False, True], [0, 1], None)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from fugue_lab.core.distributions import Bernoulli, Categorical, DiscreteUniform, Distribution

__all__ = ["MAX_GIBBS_VALUES", "draw_conditional", "finite_values"]

#: The most values a site may have for a Gibbs update (a wider site keeps MH).
MAX_GIBBS_VALUES = 1024


def finite_values(dist: Distribution) -> list | None:
    """Every value of a scalar Bernoulli, Categorical or DiscreteUniform site, else None.

    Examples
    --------
    >>> from fugue_lab import DiscreteUniform
    >>> finite_values(DiscreteUniform(2, 4))
    [2, 3, 4]
    """
    if dist.batch_shape != ():
        return None
    if isinstance(dist, Bernoulli):
        return [False, True]
    if isinstance(dist, (Categorical, DiscreteUniform)):
        support = dist.support
        low, high = int(support.low), int(support.high)
        if high - low + 1 > MAX_GIBBS_VALUES:
            return None
        return list(range(low, high + 1))
    return None


def draw_conditional(rng: np.random.Generator, log_weights: Sequence[float]) -> tuple[int, float]:
    """Draw an index with probability ∝ ``exp(log_weights)``; also return the probabilities' sum
    over the *other* entries relative to the first (the chance of moving away from entry 0).

    Entries that are -inf or NaN get probability 0.

    Examples
    --------
    >>> import numpy as np
    >>> draw_conditional(np.random.default_rng(0), [0.0, -np.inf])
    (0, 0.0)
    """
    clean = [w if w == w else -math.inf for w in log_weights]
    top = max(clean)
    if top == -math.inf:
        return 0, 0.0
    probs = [math.exp(w - top) for w in clean]
    total = math.fsum(probs)
    u = rng.random() * total
    acc = 0.0
    index = len(probs) - 1
    for i, p in enumerate(probs):
        acc += p
        if u < acc:
            index = i
            break
    while probs[index] == 0.0:  # guard against rounding landing on a zero-probability tail
        index -= 1
    return index, 1.0 - probs[0] / total
