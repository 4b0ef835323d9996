"""Module-level models (and their exact answers) for the inference tests.

Worker processes import a model by module and name, so the models that tests
send to a process pool live here.  Every exact answer is a closed form
computed with scipy, independent of fugue_lab.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
from scipy import special, stats

from fugue_lab import (
    Bernoulli,
    Beta,
    Categorical,
    DiscreteUniform,
    Gamma,
    Normal,
    Poisson,
    addr,
    factor,
    guard,
    observe,
    plate,
    sample,
)

# --------------------------------------------------------------------------- WORKLOADS.md


def reference(n: int) -> float:
    """W3/W4: mu ~ N(0, 1); x_i ~ N(mu, 1), observe N(x_i, 0.5) at 0.2 i - 1, for i < n - 1."""
    mu = sample("mu", Normal(0.0, 1.0))
    for i in range(n - 1):
        x = sample(addr("x", i), Normal(mu, 1.0))
        observe(addr("y", i), Normal(x, 0.5), 0.2 * i - 1.0)
    return mu


def reference_exact(n: int) -> tuple[float, float, float]:
    """(posterior mean of mu, posterior sd of mu, log evidence) of :func:`reference`.

    Marginally y_i | mu ~ N(mu, sqrt(1.25)) independently, and mu ~ N(0, 1), so the
    data are jointly Gaussian: y ~ N(0, 1.25 I + 1 1').
    """
    ys = np.array([0.2 * i - 1.0 for i in range(n - 1)])
    precision = 1.0 + (n - 1) / 1.25
    mean = ys.sum() / 1.25 / precision
    cov = 1.25 * np.eye(n - 1) + np.ones((n - 1, n - 1))
    log_z = stats.multivariate_normal(np.zeros(n - 1), cov).logpdf(ys)
    return mean, 1.0 / math.sqrt(precision), float(log_z)


def w4_log_evidence(seed: int) -> float:
    """WORKLOADS.md W4: the log evidence of one SMC run (64 particles) of reference(20)."""
    from fugue_lab.inference.smc import smc

    return smc(reference, 64, rng=np.random.default_rng(seed), args=(20,)).log_evidence


W2_OBS = 0.1 * np.arange(100)


def w2_model(ys: np.ndarray = W2_OBS) -> float:
    """W2: mu ~ N(0, 10); precision ~ Gamma(2, 1); ys ~ N(mu, 1/sqrt(precision)) in a plate."""
    mu = sample("mu", Normal(0.0, 10.0))
    precision = sample("precision", Gamma(2.0, 1.0))
    with plate("data", len(ys)):
        observe("y", Normal(mu, (1.0 / precision) ** 0.5), ys)  # batchable (no math.sqrt)
    return mu


# --------------------------------------------------------------------------- conjugate families

FLIPS = [True, True, False, True, True, True, False, True]
COUNTS = [3, 5, 2, 4, 6]
NORMAL_DATA = [0.8, 1.9, 1.2]


def beta_bernoulli(flips: list[bool] = FLIPS) -> float:
    """p ~ Beta(2, 2); flips ~ Bernoulli(p)."""
    p = sample("p", Beta(2.0, 2.0))
    for i, flip in enumerate(flips):
        observe(addr("flip", i), Bernoulli(p), flip)
    return p


def gamma_poisson(counts: list[int] = COUNTS) -> float:
    """rate ~ Gamma(shape 2, rate 1); counts ~ Poisson(rate)."""
    rate = sample("rate", Gamma(2.0, 1.0))
    for i, k in enumerate(counts):
        observe(addr("k", i), Poisson(rate), k)
    return rate


def normal_normal(ys: list[float] = NORMAL_DATA) -> float:
    """mu ~ N(0, 2); ys ~ N(mu, 1)."""
    mu = sample("mu", Normal(0.0, 2.0))
    for i, y in enumerate(ys):
        observe(addr("y", i), Normal(mu, 1.0), y)
    return mu


class Exact:
    """The exact posterior of a conjugate model's one latent site, and its log evidence."""

    def __init__(self, address: str, posterior: stats.rv_continuous, log_evidence: float):
        self.address = address
        self.posterior = posterior
        self.log_evidence = log_evidence
        self.mean = float(posterior.mean())
        self.sd = float(posterior.std())


def beta_bernoulli_exact(flips: list[bool] = FLIPS) -> Exact:
    k = sum(flips)
    n = len(flips)
    log_z = special.betaln(2.0 + k, 2.0 + n - k) - special.betaln(2.0, 2.0)
    return Exact("p", stats.beta(2.0 + k, 2.0 + n - k), float(log_z))


def gamma_poisson_exact(counts: list[int] = COUNTS) -> Exact:
    a, b = 2.0, 1.0
    s, n = sum(counts), len(counts)
    log_z = (
        a * math.log(b)
        - special.gammaln(a)
        + special.gammaln(a + s)
        - (a + s) * math.log(b + n)
        - sum(special.gammaln(k + 1.0) for k in counts)
    )
    return Exact("rate", stats.gamma(a + s, scale=1.0 / (b + n)), float(log_z))


def normal_normal_exact(ys: list[float] = NORMAL_DATA) -> Exact:
    prior_var, noise_var = 4.0, 1.0
    n = len(ys)
    precision = 1.0 / prior_var + n / noise_var
    mean = sum(ys) / noise_var / precision
    cov = noise_var * np.eye(n) + prior_var * np.ones((n, n))
    log_z = stats.multivariate_normal(np.zeros(n), cov).logpdf(ys)
    return Exact("mu", stats.norm(mean, 1.0 / math.sqrt(precision)), float(log_z))


CONJUGATE = {
    "beta_bernoulli": (beta_bernoulli, beta_bernoulli_exact),
    "gamma_poisson": (gamma_poisson, gamma_poisson_exact),
    "normal_normal": (normal_normal, normal_normal_exact),
}


# --------------------------------------------------------------------------- stochastic structure


def dimension(y: float) -> None:
    """k ~ U{1..4}; x_j ~ N(0, 1) for j < k; observe N(sum x, 1) at y: sites come and go."""
    k = sample("k", DiscreteUniform(1, 4))
    total = 0.0
    for j in range(k):
        total += sample(addr("x", j), Normal(0.0, 1.0))
    observe("y", Normal(total, 1.0), y)


def dimension_exact(y: float) -> tuple[np.ndarray, float]:
    """(P(k = 1..4 | y), E[x_0 | y]): y | k ~ N(0, sqrt(k + 1)); E[x_0 | k, y] = y / (k + 1)."""
    ks = np.arange(1, 5)
    post = stats.norm.pdf(y, 0.0, np.sqrt(ks + 1.0))
    post /= post.sum()
    return post, float((post * y / (ks + 1.0)).sum())


def branch_types(y: float) -> None:
    """The address "v" holds a float on one branch and an int on the other."""
    b = sample("b", Bernoulli(0.5))
    v = sample("v", Normal(0.0, 1.0)) if b else float(sample("v", Poisson(3.0)))
    observe("y", Normal(v, 1.0), y)


def branch_types_exact(y: float) -> float:
    """P(b | y)."""
    p1 = stats.norm.pdf(y, 0.0, math.sqrt(2.0))
    ks = np.arange(80)
    p0 = float((stats.poisson.pmf(ks, 3.0) * stats.norm.pdf(y, ks, 1.0)).sum())
    return float(p1 / (p1 + p0))


def branch(y: float) -> None:
    """b ~ Bernoulli(0.4); z ~ N(2, 1) only when b; observe y ~ N(z, 1) or N(0, 1)."""
    b = sample("b", Bernoulli(0.4))
    if b:
        z = sample("z", Normal(2.0, 1.0))
        observe("y", Normal(z, 1.0), y)
    else:
        observe("y", Normal(0.0, 1.0), y)


def branch_exact(y: float) -> tuple[float, float, float]:
    """(P(b | y), E[z | b, y], log evidence)."""
    l1 = 0.4 * stats.norm.pdf(y, 2.0, math.sqrt(2.0))
    l0 = 0.6 * stats.norm.pdf(y, 0.0, 1.0)
    return float(l1 / (l1 + l0)), (2.0 + y) / 2.0, float(math.log(l1 + l0))


# --------------------------------------------------------------------------- mixtures (Gibbs)

MIXTURE_DATA = [-1.3, -0.4, 0.2, 1.9, 2.6, 3.4]
MIXTURE_WEIGHT = 0.4  # P(z_i = 1)
MIXTURE_PRIOR_MEANS = (-2.0, 3.0)  # informative priors keep the labels apart
MIXTURE_PRIOR_SD = 1.5


def mixture(ys: list[float] = MIXTURE_DATA) -> None:
    """A two-component mixture with an indicator per datum (unit noise, normal means)."""
    mu0 = sample("mu#0", Normal(MIXTURE_PRIOR_MEANS[0], MIXTURE_PRIOR_SD))
    mu1 = sample("mu#1", Normal(MIXTURE_PRIOR_MEANS[1], MIXTURE_PRIOR_SD))
    for i, y in enumerate(ys):
        z = sample(addr("z", i), Bernoulli(MIXTURE_WEIGHT))
        observe(addr("y", i), Normal(mu1 if z else mu0, 1.0), y)


def mixture_categorical(ys: list[float] = MIXTURE_DATA) -> None:
    """:func:`mixture` with a Categorical indicator (exercises Gibbs on categoricals)."""
    mus = [sample(addr("mu", j), Normal(MIXTURE_PRIOR_MEANS[j], MIXTURE_PRIOR_SD))
           for j in range(2)]
    probs = np.array([1.0 - MIXTURE_WEIGHT, MIXTURE_WEIGHT])
    for i, y in enumerate(ys):
        z = sample(addr("z", i), Categorical(probs))
        observe(addr("y", i), Normal(mus[z], 1.0), y)


def mixture_exact(ys: list[float] = MIXTURE_DATA) -> tuple[np.ndarray, np.ndarray]:
    """(P(z_i = 1 | y) for each i, [E[mu_0 | y], E[mu_1 | y]]) by enumerating all assignments.

    Given an assignment, the two means are independent conjugate normals.
    """
    ys = np.asarray(ys)
    n = len(ys)
    tau2 = MIXTURE_PRIOR_SD**2
    log_ws = []
    post_means = []
    zs = []
    for z in product([0, 1], repeat=n):
        z = np.array(z)
        log_w = float(np.sum(np.where(z == 1, math.log(MIXTURE_WEIGHT),
                                      math.log(1.0 - MIXTURE_WEIGHT))))
        means = []
        for j in (0, 1):
            yj = ys[z == j]
            m = len(yj)
            cov = np.eye(m) + tau2 * np.ones((m, m))
            prior_mean = MIXTURE_PRIOR_MEANS[j]
            if m:
                log_w += stats.multivariate_normal(np.full(m, prior_mean), cov).logpdf(yj)
            means.append((yj.sum() + prior_mean / tau2) / (m + 1.0 / tau2))  # conjugate
        log_ws.append(log_w)
        post_means.append(means)
        zs.append(z)
    w = np.exp(np.asarray(log_ws) - special.logsumexp(log_ws))
    p_z = (w[:, None] * np.asarray(zs)).sum(axis=0)
    e_mu = (w[:, None] * np.asarray(post_means)).sum(axis=0)
    return p_z, e_mu


# --------------------------------------------------------------------------- degenerate models


def impossible() -> None:
    """Every execution has weight -inf."""
    sample("x", Normal(0.0, 1.0))
    guard(False)


def half_impossible() -> float:
    """x ~ N(0, 1) constrained to x > 0 (half the prior draws have weight -inf)."""
    x = sample("x", Normal(0.0, 1.0))
    guard(x > 0.0)
    return x


def nan_factor() -> None:
    """A model whose weight is NaN when x < 0."""
    x = sample("x", Normal(0.0, 1.0))
    factor(math.nan if x < 0.0 else 0.0)
