"""Single-site MH proposals, chosen by the support of the site's distribution.

A proposal moves the value of one latent site.  It implements the small
:class:`Proposal` protocol::

    propose(rng, value, dist, state) -> (new_value, log_q_ratio)

where ``state`` is the site's :class:`SiteState` (its current random-walk
scale) and ``log_q_ratio = log q(value | new_value) - log q(new_value | value)``
is the Hastings correction of the move.  A proposal with ``adaptive = True``
has its scale tuned during warm-up (toward acceptance 0.44); otherwise the
scale is ignored.

=================  ================================  ============================================
support kind       default proposal                  Hastings term
=================  ================================  ============================================
``real``           :class:`RandomWalk`               0 (symmetric)
``positive``       :class:`LogRandomWalk`            ``log(new) - log(old)`` (the Jacobian)
``interval``       :class:`ReflectiveRandomWalk`     0 (reflection keeps it symmetric)
``boolean``        :class:`Flip`                     0
``integer``        :class:`IntegerStep`              0 (out-of-support values score -inf)
``categorical``    :class:`PriorResample`            ``log p(old) - log p(new)``
=================  ================================  ============================================

Examples
--------
>>> import numpy as np
>>> from fugue_lab import Gamma
>>> new, log_q = LogRandomWalk().propose(np.random.default_rng(0), 2.0, Gamma(2.0, 1.0),
...                                      SiteState(0.5))
>>> bool(np.isclose(log_q, np.log(new) - np.log(2.0)))
True
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from fugue_lab.core.distributions import Distribution
from fugue_lab.errors import InvalidParameterError

__all__ = [
    "Flip",
    "IntegerStep",
    "LogRandomWalk",
    "PriorResample",
    "Proposal",
    "RandomWalk",
    "ReflectiveRandomWalk",
    "SiteState",
    "default_proposal",
]


class SiteState(NamedTuple):
    """The adaptation state of one site's proposal.

    Attributes
    ----------
    scale
        The random-walk scale (standard deviation of the Gaussian step; in log
        units for :class:`LogRandomWalk`).
    n_adapt
        How many proposals at this site have adapted the scale so far.
    """

    scale: float
    n_adapt: int = 0


@runtime_checkable
class Proposal(Protocol):
    """What a single-site proposal implements (see the module docstring)."""

    #: Whether the kernel tunes ``state.scale`` for this proposal during warm-up.
    adaptive: bool

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        """Return ``(new_value, log q(value | new) - log q(new | value))``."""
        ...

    def initial_scale(self, dist: Distribution) -> float:
        """The scale a site starts with (optional: 1.0 when a proposal does not define it)."""
        ...


def _finite_sd(dist: Distribution, default: float) -> float:
    try:
        var = float(dist.variance)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return default
    if math.isfinite(var) and var > 0.0:
        return math.sqrt(var)
    return default


class RandomWalk:
    """Gaussian random walk ``new = value + scale * N(0, 1)`` (symmetric).

    Parameters
    ----------
    scale
        A fixed starting scale; None starts at the prior's standard deviation
        (1 if it is infinite).
    adaptive
        Tune the scale during warm-up.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Normal
    >>> new, log_q = RandomWalk().propose(np.random.default_rng(0), 0.0, Normal(0.0, 1.0),
    ...                                   SiteState(1.0))
    >>> log_q
    0.0
    """

    def __init__(self, scale: float | None = None, adaptive: bool = True) -> None:
        if scale is not None and not (math.isfinite(scale) and scale > 0.0):
            raise InvalidParameterError(type(self).__name__, "scale", scale, "finite and > 0")
        self.scale = scale
        self.adaptive = adaptive

    def initial_scale(self, dist: Distribution) -> float:
        return self.scale if self.scale is not None else _finite_sd(dist, 1.0)

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        if isinstance(value, np.ndarray):
            return value + state.scale * rng.standard_normal(value.shape), 0.0
        return float(value) + state.scale * rng.standard_normal(), 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scale={self.scale}, adaptive={self.adaptive})"


class LogRandomWalk(RandomWalk):
    """Random walk on ``log(value)`` for positive sites: ``new = value * exp(scale * N(0, 1))``.

    The move is symmetric in log space, so in the original space its Hastings
    term is the Jacobian ``log(new) - log(value)``.  The default scale is 1
    (log units).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Exponential
    >>> new, log_q = LogRandomWalk().propose(np.random.default_rng(3), 1.0, Exponential(1.0),
    ...                                      SiteState(0.1))
    >>> new > 0.0, bool(np.isclose(log_q, np.log(new)))
    (True, True)
    """

    def initial_scale(self, dist: Distribution) -> float:
        return self.scale if self.scale is not None else 1.0

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        if isinstance(value, np.ndarray):
            step = state.scale * rng.standard_normal(value.shape)
            return value * np.exp(step), float(step.sum())
        step = state.scale * rng.standard_normal()
        return float(value) * math.exp(step), step


def _reflect(x: float, low: float, high: float) -> float:
    """Fold ``x`` into ``[low, high]`` by reflecting at the (finite) bounds."""
    if math.isfinite(low) and math.isfinite(high):
        width = high - low
        y = math.fmod(x - low, 2.0 * width)
        if y < 0.0:
            y += 2.0 * width
        return low + (y if y <= width else 2.0 * width - y)
    if math.isfinite(low) and x < low:
        return 2.0 * low - x
    if math.isfinite(high) and x > high:
        return 2.0 * high - x
    return x


class ReflectiveRandomWalk(RandomWalk):
    """Gaussian random walk reflected at the support's bounds (still symmetric).

    Reflection maps the Gaussian step onto the interval without piling mass on
    the bounds, and the folded kernel is symmetric, so the Hastings term is 0.
    The default scale is the prior's standard deviation (at most half the width).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Beta
    >>> new, log_q = ReflectiveRandomWalk().propose(np.random.default_rng(0), 0.99,
    ...                                             Beta(2.0, 2.0), SiteState(0.5))
    >>> 0.0 <= new <= 1.0, log_q
    (True, 0.0)
    """

    def initial_scale(self, dist: Distribution) -> float:
        if self.scale is not None:
            return self.scale
        support = dist.support
        width = support.high - support.low
        sd = _finite_sd(dist, 1.0)
        return min(sd, 0.5 * width) if math.isfinite(width) and width > 0 else sd

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        support = dist.support
        low, high = float(support.low), float(support.high)
        if isinstance(value, np.ndarray):
            raw = value + state.scale * rng.standard_normal(value.shape)
            flat = [_reflect(float(v), low, high) for v in raw.reshape(-1)]
            return np.asarray(flat).reshape(value.shape), 0.0
        return _reflect(float(value) + state.scale * rng.standard_normal(), low, high), 0.0


class Flip:
    """Flip a boolean site (deterministic and its own inverse, so symmetric).

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Bernoulli
    >>> Flip().propose(np.random.default_rng(0), True, Bernoulli(0.3), SiteState(1.0))
    (False, 0.0)
    """

    adaptive = False

    def initial_scale(self, dist: Distribution) -> float:
        return math.nan

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        if isinstance(value, np.ndarray):
            return ~value, 0.0
        return not value, 0.0

    def __repr__(self) -> str:
        return "Flip()"


class IntegerStep:
    """Symmetric integer step: ``new = value ± k`` with ``k`` uniform on ``1..max_step``.

    A step out of the support scores -inf and is rejected, which keeps the
    kernel symmetric (no clipping).

    Parameters
    ----------
    max_step
        The largest step size, >= 1.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Poisson
    >>> new, log_q = IntegerStep(2).propose(np.random.default_rng(0), 5, Poisson(4.0),
    ...                                     SiteState(1.0))
    >>> new in (3, 4, 6, 7), log_q
    (True, 0.0)
    """

    adaptive = False

    def __init__(self, max_step: int = 1) -> None:
        if isinstance(max_step, bool) or not isinstance(max_step, (int, np.integer)):
            raise TypeError(f"IntegerStep: max_step must be an int, got {max_step!r}")
        if max_step < 1:
            raise InvalidParameterError("IntegerStep", "max_step", max_step, ">= 1")
        self.max_step = int(max_step)

    def initial_scale(self, dist: Distribution) -> float:
        return math.nan

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        u = rng.random()
        k = 1 + int(u * 2 * self.max_step)  # 1 .. 2 * max_step
        step = k if k <= self.max_step else self.max_step - k
        if isinstance(value, np.ndarray):
            return value + step, 0.0
        return int(value) + step, 0.0

    def __repr__(self) -> str:
        return f"IntegerStep({self.max_step})"


class PriorResample:
    """Draw a new value from the site's prior (independence proposal).

    The Hastings term ``log p(old) - log p(new)`` cancels the prior in the
    acceptance ratio, which then compares only what the site influences.

    Examples
    --------
    >>> import numpy as np
    >>> from fugue_lab import Categorical
    >>> d = Categorical([0.2, 0.8])
    >>> new, log_q = PriorResample().propose(np.random.default_rng(0), 0, d, SiteState(1.0))
    >>> bool(np.isclose(log_q, d.log_prob(0) - d.log_prob(new)))
    True
    """

    adaptive = False

    def initial_scale(self, dist: Distribution) -> float:
        return math.nan

    def propose(
        self, rng: np.random.Generator, value: Any, dist: Distribution, state: SiteState
    ) -> tuple[Any, float]:
        new = dist.sample(rng)
        log_q = dist.log_prob(value) - dist.log_prob(new)
        return new, float(np.sum(log_q))

    def __repr__(self) -> str:
        return "PriorResample()"


_DEFAULTS: dict[str, Any] = {
    "real": RandomWalk(),
    "positive": LogRandomWalk(),
    "interval": ReflectiveRandomWalk(),
    "boolean": Flip(),
    "integer": IntegerStep(1),
    "categorical": PriorResample(),
}


def default_proposal(dist: Distribution) -> Proposal:
    """The proposal a site of ``dist`` gets unless overridden (by ``dist.support.kind``).

    Raises
    ------
    InvalidParameterError
        If the support kind is unknown.

    Examples
    --------
    >>> from fugue_lab import Bernoulli, Gamma, Normal
    >>> [type(default_proposal(d)).__name__
    ...  for d in (Normal(0.0, 1.0), Gamma(2.0, 1.0), Bernoulli(0.5))]
    ['RandomWalk', 'LogRandomWalk', 'Flip']
    """
    kind = dist.support.kind
    proposal = _DEFAULTS.get(kind)
    if proposal is None:
        raise InvalidParameterError(
            type(dist).__name__, "support.kind", kind, f"one of {sorted(_DEFAULTS)}"
        )
    return proposal
