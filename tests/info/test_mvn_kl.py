"""klviz.info.mvn_kl against torch.distributions, the diagonal gaussian_kl and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal, kl_divergence

from klviz.info import gaussian_kl, mvn_kl


def _spd(gen, *shape, d):
    a = torch.randn(*shape, d, d, dtype=torch.float64, generator=gen)
    return a @ a.mT + 0.2 * torch.eye(d, dtype=torch.float64)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_matches_torch_distributions_float64(d):
    g = torch.Generator().manual_seed(d)
    c1, c2 = _spd(g, 7, d=d), _spd(g, 7, d=d)
    m1, m2 = torch.randn(7, d, dtype=torch.float64, generator=g), torch.randn(7, d, dtype=torch.float64, generator=g)
    ref = kl_divergence(MultivariateNormal(m1, c1), MultivariateNormal(m2, c2))
    got = mvn_kl(m1, c1, m2, c2)
    assert got.dtype == torch.float64 and got.shape == (7,)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mvn_kl(m1.numpy(), c1.numpy(), m2.numpy(), c2.numpy()), ref.numpy(), rtol=1e-12)


def test_diagonal_equals_summed_gaussian_kl():
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    s1, s2 = rng.uniform(0.2, 3, size=(4, 3)), rng.uniform(0.2, 3, size=(4, 3))
    diag = lambda s: np.einsum("...i,ij->...ij", s**2, np.eye(3))  # noqa: E731
    np.testing.assert_allclose(mvn_kl(m1, diag(s1), m2, diag(s2)), gaussian_kl(m1, s1, m2, s2, axis=-1), rtol=1e-12)


def test_broadcasts_leading_axes():
    g = torch.Generator().manual_seed(3)
    c1, c2 = _spd(g, 2, 1, d=3), _spd(g, 4, d=3)
    m1, m2 = torch.randn(3, dtype=torch.float64, generator=g), torch.randn(2, 4, 3, dtype=torch.float64, generator=g)
    got = mvn_kl(m1, c1, m2, c2)
    assert got.shape == (2, 4)
    for i in range(2):
        for j in range(4):
            ref = kl_divergence(MultivariateNormal(m1, c1[i, 0]), MultivariateNormal(m2[i, j], c2[j]))
            torch.testing.assert_close(got[i, j], ref, rtol=1e-12, atol=1e-12)


def test_identity_is_zero_and_monte_carlo_agrees():
    c = _spd(torch.Generator().manual_seed(1), d=4)
    m = torch.ones(4, dtype=torch.float64)
    assert abs(float(mvn_kl(m, c, m, c))) < 1e-12
    c2, m2 = c + torch.eye(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    p, q = MultivariateNormal(m, c), MultivariateNormal(m2, c2)
    torch.manual_seed(0)
    x = p.sample((200_000,))
    lr = p.log_prob(x) - q.log_prob(x)
    exact = float(mvn_kl(m, c, m2, c2))
    assert abs(float(lr.mean()) - exact) < 4 * float(lr.std()) / 200_000**0.5


def test_gradient_flows_and_float32_kept():
    c = torch.eye(2) * 2.0
    m = torch.zeros(2, requires_grad=True)
    kl = mvn_kl(m, c, torch.ones(2), torch.eye(2))
    assert kl.dtype == torch.float32
    kl.backward()
    torch.testing.assert_close(m.grad, -torch.ones(2))  # d/dmu of |mu - 1|^2 / 2


@pytest.mark.parametrize("args, match", [
    (([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]], [0.0, 0.0], np.eye(2)), "cov1 is not symmetric"),
    (([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, 2.0], [2.0, 1.0]]), "cov2 is not positive definite"),
    (([0.0, 0.0], np.eye(3), [0.0, 0.0], np.eye(2)), "cov1 must have shape"),
    (([0.0, 0.0], np.eye(2), [0.0, 0.0, 0.0], np.eye(2)), "mu2 has dimension 3"),
    (([0.0, np.nan], np.eye(2), [0.0, 0.0], np.eye(2)), "mu1 holds NaN"),
    (([0.0, 0.0], np.eye(2), [0.0, 0.0], np.full((2, 2), np.inf)), "cov2 holds NaN or infinite"),
    ((0.0, np.eye(2), [0.0, 0.0], np.eye(2)), "mu1 must have at least 1 axes"),
    (([[0.0, 0.0], [0.0, 0.0]], np.eye(2)[None].repeat(3, 0), [0.0, 0.0], np.eye(2)), "do not broadcast"),
])
def test_bad_input_names_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        mvn_kl(*args)
    with pytest.raises(ValueError, match=match):
        mvn_kl(*(torch.as_tensor(np.asarray(a, dtype=float)) for a in args))


def test_not_positive_definite_in_a_batch():
    covs = torch.stack([torch.eye(2), -torch.eye(2)]).double()
    with pytest.raises(ValueError, match="cov1 is not positive definite"):
        mvn_kl(torch.zeros(2, 2), covs, torch.zeros(2), torch.eye(2))


def test_strings_are_a_type_error():
    with pytest.raises(TypeError, match="mu1"):
        mvn_kl(["a", "b"], np.eye(2), [0.0, 0.0], np.eye(2))
