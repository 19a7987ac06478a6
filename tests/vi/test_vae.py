"""The VAE's rate and distortion against their definitions written out."""

from __future__ import annotations

import pytest
import torch

from klviz.vi import VAE, vae_terms


def test_terms_match_the_formulas():
    g = torch.Generator().manual_seed(0)
    logits, x = torch.randn(6, 64, dtype=torch.float64, generator=g) * 5, torch.rand(6, 64, dtype=torch.float64, generator=g)
    mu, logvar = torch.randn(6, 3, dtype=torch.float64, generator=g), torch.randn(6, 3, dtype=torch.float64, generator=g)
    d, r = vae_terms(logits, mu, logvar, x)
    p = torch.sigmoid(logits)
    torch.testing.assert_close(d, -(x * p.log() + (1 - x) * (1 - p).log()).sum(-1), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(r, 0.5 * (mu**2 + logvar.exp() - 1 - logvar), rtol=1e-12, atol=1e-12)
    # the rate is the KL of the diagonal Gaussian from N(0, I), as torch.distributions computes it
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    torch.testing.assert_close(r, torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)))


def test_extreme_logits_stay_finite():
    logits = torch.tensor([[1e4, -1e4]])
    d, _ = vae_terms(logits, torch.zeros(1, 1), torch.zeros(1, 1), torch.tensor([[0.0, 1.0]]))
    assert torch.isfinite(d).all() and d.item() == pytest.approx(2e4)


def test_model_shapes_and_reparameterisation():
    torch.manual_seed(0)
    net = VAE(64, 4, 16)
    x = torch.rand(5, 64)
    logits, mu, logvar = net(x, torch.zeros(5, 4))
    assert logits.shape == (5, 64) and mu.shape == logvar.shape == (5, 4)
    torch.testing.assert_close(logits, net.decode(mu))  # eps = 0 decodes the mean
    logits.sum().backward()
    assert net.encoder[0].weight.grad is not None  # gradients reach the encoder through z


@pytest.mark.parametrize("kw, match", [({"latent_dim": 0}, "latent_dim"), ({"hidden": 0}, "hidden"),
                                       ({"pixels": -1}, "pixels")])
def test_bad_sizes(kw, match):
    with pytest.raises(ValueError, match=match):
        VAE(**kw)


def test_bad_term_shapes():
    with pytest.raises(ValueError, match="must match x"):
        vae_terms(torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="logits"):
        vae_terms([[0.0]], torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1))
