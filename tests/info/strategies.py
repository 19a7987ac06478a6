"""Shared hypothesis strategies and random probability vectors for the tests of klviz.info."""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st


def rng_probs(shape, rng, *, zeros=False):
    x = rng.gamma(0.5, size=shape)
    if zeros:
        x[..., 0] = 0.0
    return x / x.sum(axis=-1, keepdims=True)


# hypothesis: probability vectors of length 2..8 with strictly positive entries (and, when
# allowed, exact zeros)
def prob_vectors(n_min=2, n_max=8, allow_zero=False):
    lo = 0.0 if allow_zero else 1e-3
    return st.integers(n_min, n_max).flatmap(
        lambda n: st.lists(
            st.floats(lo, 1.0, allow_nan=False, allow_infinity=False), min_size=n, max_size=n
        )
        .filter(lambda xs: sum(xs) > 1e-3)
        .map(lambda xs: np.array(xs) / np.sum(xs))
    )


def prob_pairs(allow_zero=False):
    return st.integers(2, 8).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(1e-3 if not allow_zero else 0.0, 1.0), min_size=n, max_size=n)
            .filter(lambda xs: sum(xs) > 1e-3),
            st.lists(st.floats(1e-3, 1.0), min_size=n, max_size=n),
        ).map(lambda t: (np.array(t[0]) / np.sum(t[0]), np.array(t[1]) / np.sum(t[1])))
    )


FAST = settings(max_examples=60, deadline=None)
