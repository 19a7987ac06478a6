"""Markov chain tables from channels (klviz.channels)."""

from __future__ import annotations

import numpy as np
import pytest

from klviz.channels import binary_symmetric_channel, markov_chain_table


def test_table_is_the_product_brute_force():
    rng = np.random.default_rng(0)
    px = rng.dirichlet(np.ones(3))
    w1, w2 = rng.dirichlet(np.ones(4), size=3), rng.dirichlet(np.ones(2), size=4)
    t = markov_chain_table(px, w1, w2)
    assert t.shape == (3, 4, 2)
    for i in range(3):
        for j in range(4):
            for k in range(2):
                assert t[i, j, k] == pytest.approx(px[i] * w1[i, j] * w2[j, k], rel=1e-15)
    assert t.sum() == pytest.approx(1.0)


def test_bsc():
    np.testing.assert_array_equal(binary_symmetric_channel(0.25), [[0.75, 0.25], [0.25, 0.75]])


@pytest.mark.parametrize("call, error, match", [
    (lambda: binary_symmetric_channel(1.5), ValueError, "flip"),
    (lambda: markov_chain_table([0.5, 0.5]), ValueError, "at least one channel"),
    (lambda: markov_chain_table([0.5, 0.5], np.eye(3)), ValueError, "2 rows"),
    (lambda: markov_chain_table([0.5, 0.5], [[0.5, 0.6], [0.5, 0.5]]), ValueError, r"channels\[0\]\[0\]"),
    (lambda: markov_chain_table([0.5, 0.6], np.eye(2)), ValueError, "px"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
