"""The linear-Gaussian model: log p(x) = ELBO(q) + KL(q || p(z|x)) for any Gaussian q, exactly."""

from __future__ import annotations

import math

import pytest
import torch

from klviz.vi import LinearGaussian


def _model(seed=0, d=5, k=3, sigma=0.6):
    g = torch.Generator().manual_seed(seed)
    return LinearGaussian(torch.randn(d, k, dtype=torch.float64, generator=g),
                          torch.randn(d, dtype=torch.float64, generator=g), sigma), g


@pytest.mark.parametrize("seed", range(5))
def test_evidence_is_elbo_plus_posterior_kl_for_any_gaussian_q(seed):
    m, g = _model(seed)
    x = torch.randn(4, 5, dtype=torch.float64, generator=g) * 3
    a = torch.randn(3, 3, dtype=torch.float64, generator=g)
    mean, cov = torch.randn(4, 3, dtype=torch.float64, generator=g), a @ a.T + 0.05 * torch.eye(3, dtype=torch.float64)
    gap = m.elbo(x, mean, cov) + m.posterior_kl(x, mean, cov) - m.log_evidence(x)
    assert gap.abs().max() < 1e-10
    assert (m.elbo(x, mean, cov) < m.log_evidence(x)).all()  # a bound, strict for q != posterior


def test_posterior_is_bayes_rule_by_brute_force():
    # k = 1: p(z|x) on a fine grid, normalised numerically, against the closed form
    m, g = _model(1, d=3, k=1, sigma=0.8)
    x = torch.randn(3, dtype=torch.float64, generator=g)
    z = torch.linspace(-10, 10, 200_001, dtype=torch.float64)
    log_joint = (torch.distributions.Normal(0.0, 1.0).log_prob(z)
                 + torch.distributions.Normal(m.b + z[:, None] * m.W[:, 0], m.sigma).log_prob(x).sum(-1))
    dz = float(z[1] - z[0])
    log_px = torch.logsumexp(log_joint, 0) + math.log(dz)
    w = torch.exp(log_joint - log_px) * dz
    mean, cov = m.posterior(x)
    assert abs(float(log_px - m.log_evidence(x))) < 1e-9
    assert abs(float((w * z).sum() - mean[0])) < 1e-9
    assert abs(float((w * (z - mean[0]) ** 2).sum() - cov[0, 0])) < 1e-9


def test_elbo_equals_monte_carlo_of_log_joint_minus_log_q():
    m, g = _model(2)
    x = torch.randn(5, dtype=torch.float64, generator=g)
    mean, cov = torch.zeros(3, dtype=torch.float64), 0.5 * torch.eye(3, dtype=torch.float64)
    q = torch.distributions.MultivariateNormal(mean, cov)
    torch.manual_seed(0)
    z = q.sample((200_000,))
    lj = (torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64))
          .log_prob(z) + torch.distributions.Normal(z @ m.W.T + m.b, m.sigma).log_prob(x).sum(-1))
    terms = lj - q.log_prob(z)
    assert abs(float(terms.mean() - m.elbo(x, mean, cov))) < 4 * float(terms.std()) / 200_000**0.5


def test_posterior_attains_the_evidence():
    m, g = _model(3)
    x = torch.randn(2, 5, dtype=torch.float64, generator=g)
    mean, cov = m.posterior(x)
    assert (m.elbo(x, mean, cov) - m.log_evidence(x)).abs().max() < 1e-10


@pytest.mark.parametrize("kw, match", [
    ({"W": torch.ones(3), "b": torch.zeros(3), "sigma": 1.0}, "W must have 2 axes"),
    ({"W": torch.ones(3, 2), "b": torch.zeros(2), "sigma": 1.0}, "b has 2 entries"),
    ({"W": torch.ones(3, 2), "b": torch.zeros(3), "sigma": 0.0}, "sigma=0.0 must be"),
    ({"W": torch.full((3, 2), float("nan")), "b": torch.zeros(3), "sigma": 1.0}, "W holds NaN"),
])
def test_bad_model(kw, match):
    with pytest.raises(ValueError, match=match):
        LinearGaussian(**kw)


def test_bad_x_and_q():
    m, _ = _model()
    with pytest.raises(ValueError, match="x has 4 coordinates"):
        m.log_evidence(torch.zeros(4))
    with pytest.raises(ValueError, match="mean must have shape"):
        m.elbo(torch.zeros(5), torch.zeros(2), torch.eye(3))
    with pytest.raises(ValueError, match="cov1 is not positive definite"):
        m.posterior_kl(torch.zeros(5), torch.zeros(3), -torch.eye(3))
