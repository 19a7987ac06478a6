"""Differential entropy and quantisation (klviz.differential) against scipy."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from klviz.differential import gaussian_entropy, quantised_gaussian_entropy


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0, 4.0])
def test_gaussian_entropy_is_scipys(sigma):
    assert gaussian_entropy(sigma) == pytest.approx(float(stats.norm(scale=sigma).entropy()), abs=1e-12)


@pytest.mark.parametrize("sigma", [0.1, 1.0, 3.0])
def test_quantisation_limit(sigma):
    # H(X_delta) + log delta -> h(X), with an error of order delta^2 / sigma^2
    for delta in (sigma * 0.01, sigma * 0.001):
        got = quantised_gaussian_entropy(sigma, delta) + math.log(delta)
        assert got == pytest.approx(gaussian_entropy(sigma), abs=(delta / sigma) ** 2)


def test_coarse_bins_and_bad_input():
    assert quantised_gaussian_entropy(1.0, 100.0) == pytest.approx(math.log(2), abs=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_entropy(-1.0)
    with pytest.raises(ValueError, match="delta"):
        quantised_gaussian_entropy(1.0, 1e-9)
    with pytest.raises(TypeError, match="delta"):
        quantised_gaussian_entropy(1.0, "0.1")
