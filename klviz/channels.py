r"""Discrete channels and the joint tables of Markov chains built from them.

A channel is a row-stochastic matrix ``W[i, j] = P(Y = j | X = i)``.  A Markov chain
:math:`X \to Y \to Z` has the joint table :math:`p(x, y, z) = p(x)\, W_1(y \mid x)\, W_2(z \mid y)`,
the input of :func:`klviz.info.conditional_mutual_information` and, summed over an axis, of
:func:`klviz.info.mutual_information` (the data-processing inequality).
Chapter ``ch-information``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from klviz import _checks as checks

__all__ = ["binary_symmetric_channel", "markov_chain_table"]


def binary_symmetric_channel(flip: float) -> np.ndarray:
    r"""The binary symmetric channel that flips its input bit with probability ``flip``:
    :math:`W = \begin{pmatrix}1-\varepsilon & \varepsilon\\ \varepsilon & 1-\varepsilon\end{pmatrix}`.
    Its capacity is :math:`\log 2 - h(\varepsilon)` (Cover & Thomas 2006, §7.1.4).
    Chapter ``ch-information``."""
    e = checks.fraction(flip, "flip", hint="the probability that the channel flips the bit")
    return np.array([[1.0 - e, e], [e, 1.0 - e]])


def _channel(w: Any, name: str, rows: int) -> np.ndarray:
    m = np.asarray(w, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != rows:
        raise ValueError(f"{name} must be a matrix with {rows} rows (one per input value), "
                         f"got shape {m.shape}")
    for i, row in enumerate(m):
        checks.probability_vector(row, f"{name}[{i}]")
    return m


def markov_chain_table(px: Any, *channels: Any) -> np.ndarray:
    r"""The joint table of the Markov chain :math:`X_0 \to X_1 \to \dots \to X_k` with
    :math:`X_0 \sim` ``px`` and ``channels[i][a, b] = P(X_{i+1} = b \mid X_i = a)``:

    .. math:: p(x_0, \dots, x_k) = p(x_0) \prod_i W_i(x_{i+1} \mid x_i),

    one axis per variable.  Every row of every channel must be a probability vector.
    Chapter ``ch-information``."""
    table = checks.probability_vector(px, "px")
    if not channels:
        raise ValueError("give at least one channel (a row-stochastic matrix)")
    for k, w in enumerate(channels):
        m = _channel(w, f"channels[{k}]", table.shape[-1])
        table = table[..., None] * m.reshape((1,) * (table.ndim - 1) + m.shape)
    return table
