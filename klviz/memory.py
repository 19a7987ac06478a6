r"""Memory of the logits tensor at large vocabularies, chapter ``ch-cross-entropy``.

A language model's logits have shape :math:`B \times n \times V` (batch, sequence length,
vocabulary); at :math:`V \approx 50{,}000` they can outgrow the model itself.  Exact integer
arithmetic, so the chapter's printed byte counts are exact.
"""

from __future__ import annotations

import math

import numpy as np

from klviz import _checks as checks

__all__ = ["logits_bytes", "max_batch", "logits_gigabytes"]


def logits_bytes(batch: int, seq_len: int, vocab: int, bytes_per_element: int = 4) -> int:
    r"""Bytes of a logits tensor of shape ``(batch, seq_len, vocab)``:
    :math:`B \cdot n \cdot V \cdot b` (4 bytes in FP32, 2 in FP16/BF16).  Exact integers.
    Chapter ``ch-cross-entropy`` (large vocabularies)."""
    b = checks.positive_int(batch, "batch")
    n = checks.positive_int(seq_len, "seq_len")
    v = checks.positive_int(vocab, "vocab")
    e = checks.positive_int(bytes_per_element, "bytes_per_element", hint="4 for FP32, 2 for FP16/BF16")
    return b * n * v * e


def max_batch(budget_bytes: float, seq_len: int, vocab: int, bytes_per_element: int = 4) -> int:
    r"""The largest batch whose logits fit in ``budget_bytes``:
    :math:`\lfloor \text{budget} / (n V b) \rfloor`.  Chapter ``ch-cross-entropy``."""
    budget = checks.positive(budget_bytes, "budget_bytes", hint="a memory budget in bytes, e.g. 10e9")
    return int(math.floor(budget / logits_bytes(1, seq_len, vocab, bytes_per_element)))


def logits_gigabytes(batch: int, seq_len: int, vocab: np.ndarray, bytes_per_element: int = 4) -> np.ndarray:
    r"""Decimal gigabytes (:math:`10^9` bytes) of the logits for each vocabulary size in
    ``vocab`` (an array, for curves): :math:`B n V b / 10^9`.  Chapter ``ch-cross-entropy``."""
    per_class = logits_bytes(batch, seq_len, 1, bytes_per_element)
    v = checks.vector(vocab, "vocab", positive=True, hint="vocabulary sizes, e.g. [1000, 50257]")
    return per_class * v / 1e9
