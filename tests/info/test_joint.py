"""Joint/conditional entropy and (conditional) mutual information against sklearn, brute
force and the identities of Cover & Thomas ch. 2."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import mutual_info_score

from klviz import info

from .strategies import FAST


def tables(shape_max=5, ndim=2):
    """Random joint tables with some exact zeros."""
    return st.tuples(*[st.integers(1, shape_max)] * ndim, st.integers(0, 2**31 - 1)).map(
        lambda t: _random_table(t[:ndim], t[ndim]))


def _random_table(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.gamma(0.5, size=shape)
    x[rng.random(shape) < 0.2] = 0.0
    if x.sum() == 0:
        x.flat[0] = 1.0
    return x / x.sum()


def _brute_entropy(p):
    return -sum(v * math.log(v) for v in np.ravel(p) if v > 0)


def test_mutual_information_matches_sklearn_on_count_tables():
    rng = np.random.default_rng(1)
    for _ in range(20):
        counts = rng.integers(0, 30, size=(rng.integers(2, 6), rng.integers(2, 6)))
        counts[0, 0] += 1
        expected = mutual_info_score(None, None, contingency=counts)  # nats
        got = info.mutual_information(counts / counts.sum())
        assert got == pytest.approx(expected, abs=1e-12)


def test_mutual_information_matches_sklearn_on_labels():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 4, 500)
    y = (x + rng.integers(0, 2, 500)) % 3
    table = np.zeros((4, 3))
    np.add.at(table, (x, y), 1.0)
    assert info.mutual_information(table / 500) == pytest.approx(mutual_info_score(x, y), abs=1e-12)


@FAST
@given(tables())
def test_brute_force_and_chain_rule(pxy):
    px, py = pxy.sum(1), pxy.sum(0)
    hxy = info.joint_entropy(pxy)
    assert hxy == pytest.approx(_brute_entropy(pxy), abs=1e-12)
    # chain rule H(X, Y) = H(X) + H(Y | X); H(Y|X) brute force from the conditional rows
    h_y_x = sum(px[i] * _brute_entropy(pxy[i] / px[i]) for i in range(len(px)) if px[i] > 0)
    assert info.conditional_entropy(pxy) == pytest.approx(h_y_x, abs=1e-12)
    assert hxy == pytest.approx(info.entropy(px) + info.conditional_entropy(pxy), abs=1e-12)
    assert hxy == pytest.approx(info.entropy(py) + info.conditional_entropy(pxy.T), abs=1e-12)
    # I = H(Y) - H(Y|X) = KL(p(x,y) || p(x)p(y))
    mi = info.mutual_information(pxy)
    assert mi == pytest.approx(info.entropy(py) - info.conditional_entropy(pxy), abs=1e-12)
    assert mi == pytest.approx(info.kl_divergence(pxy.ravel(), np.outer(px, py).ravel()), abs=1e-12)


@FAST
@given(tables())
def test_mutual_information_is_nonnegative_symmetric_and_bounded(pxy):
    mi = info.mutual_information(pxy)
    assert mi >= -1e-12
    assert mi == pytest.approx(info.mutual_information(pxy.T), abs=1e-12)
    assert mi <= min(info.entropy(pxy.sum(1)), info.entropy(pxy.sum(0))) + 1e-12
    assert info.conditional_entropy(pxy) >= 0.0


def test_independent_and_copy():
    px, py = np.array([0.2, 0.8]), np.array([0.1, 0.3, 0.6])
    assert abs(info.mutual_information(np.outer(px, py))) < 1e-15
    copy = np.diag(py)
    assert info.mutual_information(copy) == pytest.approx(info.entropy(py), abs=1e-15)
    assert info.conditional_entropy(copy) == 0.0
    assert info.mutual_information(copy, base=2) == pytest.approx(info.entropy(py, base=2))


def _markov_chain(seed, nx=3, ny=4, nz=3):
    rng = np.random.default_rng(seed)
    px = rng.dirichlet(np.ones(nx))
    a = rng.dirichlet(np.ones(ny), size=nx)  # p(y | x)
    b = rng.dirichlet(np.ones(nz), size=ny)  # p(z | y)
    return px[:, None, None] * a[:, :, None] * b[None, :, :]  # p(x, y, z)


@FAST
@given(st.integers(0, 2**31 - 1))
def test_data_processing_on_random_markov_chains(seed):
    pxyz = _markov_chain(seed)
    i_xy = info.mutual_information(pxyz.sum(2))
    i_xz = info.mutual_information(pxyz.sum(1))
    assert i_xz <= i_xy + 1e-12
    # X -> Y -> Z: X and Z independent given Y (the middle axis moved last)
    assert abs(info.conditional_mutual_information(pxyz.transpose(0, 2, 1))) < 1e-12
    # chain rule of MI: I(X; Y, Z) = I(X; Z) + I(X; Y | Z)
    i_x_yz = info.mutual_information(pxyz.reshape(pxyz.shape[0], -1))
    assert i_x_yz == pytest.approx(i_xz + info.conditional_mutual_information(pxyz), abs=1e-12)


@FAST
@given(tables(4, ndim=3))
def test_conditional_mi_brute_force(pxyz):
    pz = pxyz.sum((0, 1))
    total = 0.0
    for k in range(pxyz.shape[2]):
        if pz[k] > 0:
            total += pz[k] * info.mutual_information(pxyz[:, :, k] / pz[k])
    got = info.conditional_mutual_information(pxyz)
    assert got == pytest.approx(total, abs=1e-12)
    assert got >= -1e-12


def test_torch_and_autograd():
    pxy = torch.tensor([[0.3, 0.1], [0.0, 0.6]], dtype=torch.float64, requires_grad=True)
    mi = info.mutual_information(pxy)
    assert isinstance(mi, torch.Tensor)
    assert mi.item() == pytest.approx(info.mutual_information(pxy.detach().numpy()))
    (g,) = torch.autograd.grad(mi, pxy)
    assert torch.isfinite(g).all()
    pxyz = torch.tensor(_markov_chain(3))
    assert info.conditional_mutual_information(pxyz).item() == pytest.approx(
        info.conditional_mutual_information(pxyz.numpy()))
    assert info.joint_entropy(pxyz).item() == pytest.approx(_brute_entropy(pxyz.numpy()))


@pytest.mark.parametrize("call, error, match", [
    (lambda: info.mutual_information([0.5, 0.5]), ValueError, "2-D joint probability table"),
    (lambda: info.joint_entropy([0.5, 0.5]), ValueError, "at least 2 axes"),
    (lambda: info.conditional_mutual_information(np.eye(2) / 2), ValueError, "3-D joint"),
    (lambda: info.mutual_information([[0.5, 0.5], [0.5, 0.5]]), ValueError, "sum to 1 over the whole"),
    (lambda: info.conditional_entropy([[0.5, -0.1], [0.3, 0.3]]), ValueError, r"negative entry pxy\[0, 1\]"),
    (lambda: info.mutual_information([[0.5, math.nan], [0.3, 0.2]]), ValueError, "NaN"),
    (lambda: info.mutual_information([["a", "b"]]), TypeError, "real numbers"),
    (lambda: info.mutual_information(np.eye(2) / 2, base=1), ValueError, "base must not be 1"),
    (lambda: info.joint_entropy(np.eye(2) / 2, atol=-1), ValueError, "atol"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_validate_false_skips_the_checks():
    assert np.isfinite(info.joint_entropy(np.eye(2), validate=False))
