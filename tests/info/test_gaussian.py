"""Tests of klviz.info.gaussian against quadrature, Monte Carlo and torch.distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from klviz import info

from .strategies import FAST


@pytest.mark.parametrize("mu1,s1,mu2,s2", [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -0.5, 1.5), (0.3, 0.4, 0.0, 1.0)])
def test_gaussian_kl_vs_quadrature(mu1, s1, mu2, s2):
    def integrand(x):
        return stats.norm.pdf(x, mu1, s1) * (
            stats.norm.logpdf(x, mu1, s1) - stats.norm.logpdf(x, mu2, s2)
        )

    ref, _ = integrate.quad(integrand, mu1 - 30 * s1, mu1 + 30 * s1, limit=200)
    assert info.gaussian_kl(mu1, s1, mu2, s2) == pytest.approx(ref, abs=1e-9)


def test_gaussian_kl_vs_monte_carlo():
    rng = np.random.default_rng(9)
    mu1, s1, mu2, s2 = 0.7, 1.3, -0.2, 0.9
    x = rng.normal(mu1, s1, size=400_000)
    samples = stats.norm.logpdf(x, mu1, s1) - stats.norm.logpdf(x, mu2, s2)
    se = samples.std() / math.sqrt(x.size)
    assert abs(info.gaussian_kl(mu1, s1, mu2, s2) - samples.mean()) < 4 * se


def test_gaussian_kl_torch_and_axis():
    mu1, s1 = torch.randn(4, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64) + 0.5
    mu2, s2 = torch.randn(4, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64) + 0.5
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu1, s1), torch.distributions.Normal(mu2, s2)
    )
    torch.testing.assert_close(info.gaussian_kl(mu1, s1, mu2, s2), ref)
    torch.testing.assert_close(info.gaussian_kl(mu1, s1, mu2, s2, axis=-1), ref.sum(-1))
    np.testing.assert_allclose(
        info.gaussian_kl(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy(), axis=0),
        ref.sum(0).numpy(),
    )
    assert info.gaussian_kl(1.0, 1.0, 1.0, 1.0) == 0.0


def test_vae_kl_vs_gaussian_kl():
    mu = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    logvar = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    v = info.vae_kl(mu, logvar)
    torch.testing.assert_close(v, info.gaussian_kl(mu, torch.exp(logvar / 2), axis=-1))
    v.sum().backward()
    torch.testing.assert_close(mu.grad, mu.detach())
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1))
    np.testing.assert_allclose(info.vae_kl(mu.detach().numpy(), logvar.detach().numpy()), v.detach().numpy())
    assert info.vae_kl(mu.detach(), logvar.detach(), axis=None).shape == (5, 4)
    assert info.vae_kl([0.0, 0.0], [0.0, 0.0]) == 0.0


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_gaussian_and_vae_kl_reject_nan_means(backend):
    nan = np.array([0.0, np.nan])
    arr = torch.from_numpy(nan) if backend == "torch" else nan
    with pytest.raises(ValueError, match=r"^mu1 contains NaN"):
        info.gaussian_kl(arr, 1.0)
    with pytest.raises(ValueError, match=r"^mu2 contains NaN"):
        info.gaussian_kl(0.0, 1.0, arr, 1.0)
    with pytest.raises(ValueError, match=r"^mu contains NaN"):
        info.vae_kl(arr, arr * 0)
    with pytest.raises(ValueError, match=r"^logvar contains NaN"):
        info.vae_kl(np.zeros(2) if backend == "numpy" else torch.zeros(2), arr)


# ----------------------------------------------------------------------------- properties
MEANS = st.floats(-50, 50, allow_nan=False)
SIGMAS = st.floats(1e-2, 1e2, allow_nan=False)


@FAST
@given(MEANS, SIGMAS, MEANS, SIGMAS)
def test_gaussian_kl_properties(mu1, s1, mu2, s2):
    kl = info.gaussian_kl(mu1, s1, mu2, s2)
    assert kl >= -1e-12
    assert info.gaussian_kl(mu1, s1, mu1, s1) == 0.0
    # the closed form against torch.distributions (an independent implementation)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(torch.tensor(mu1, dtype=torch.float64), torch.tensor(s1, dtype=torch.float64)),
        torch.distributions.Normal(torch.tensor(mu2, dtype=torch.float64), torch.tensor(s2, dtype=torch.float64)),
    )
    assert kl == pytest.approx(float(ref), rel=1e-9, abs=1e-12)
    # shifting both means, or scaling every mean and deviation, leaves the KL unchanged
    assert info.gaussian_kl(mu1 + 3.0, s1, mu2 + 3.0, s2) == pytest.approx(kl, rel=1e-9, abs=1e-9)
    assert info.gaussian_kl(2 * mu1, 2 * s1, 2 * mu2, 2 * s2) == pytest.approx(kl, rel=1e-9, abs=1e-12)


@FAST
@given(st.lists(st.tuples(MEANS, st.floats(-8, 8, allow_nan=False)), min_size=1, max_size=6))
def test_vae_kl_is_gaussian_kl_from_the_standard_normal(pairs):
    mu = np.array([m for m, _ in pairs])
    logvar = np.array([lv for _, lv in pairs])
    v = info.vae_kl(mu, logvar)
    assert v >= 0.0
    assert v == pytest.approx(float(info.gaussian_kl(mu, np.exp(logvar / 2), axis=-1)), rel=1e-9, abs=1e-12)


def test_axis_must_be_an_int():
    with pytest.raises(TypeError, match="axis must be an int"):
        info.vae_kl(np.zeros(2), np.zeros(2), axis=1.0)
    with pytest.raises(ValueError, match="axis=1 is out of range for mu"):
        info.vae_kl(np.zeros(2), np.zeros(2), axis=1)
