"""klviz.memory: exact byte counts of the logits tensor (ch-cross-entropy)."""

from __future__ import annotations

import numpy as np
import pytest

from klviz.memory import logits_bytes, logits_gigabytes, max_batch


def test_logits_memory_numbers():
    assert logits_bytes(16, 1024, 50_257, 4) == 3_293_642_752
    assert logits_bytes(16, 1024, 50_257, 2) == 1_646_821_376
    assert max_batch(10e9, 1024, 50_257, 2) == 97
    assert max_batch(10e9, 1024, 50_257, 4) == 48
    # the largest batch fits and one more does not
    assert logits_bytes(97, 1024, 50_257, 2) <= 10e9 < logits_bytes(98, 1024, 50_257, 2)


def test_logits_gigabytes_is_the_byte_count_over_1e9():
    v = np.array([1_000, 50_257, 300_000])
    np.testing.assert_allclose(logits_gigabytes(16, 1024, v, 4),
                               [logits_bytes(16, 1024, int(k), 4) / 1e9 for k in v], rtol=1e-15)


def test_bad_memory_arguments():
    with pytest.raises(ValueError, match="vocab"):
        logits_bytes(1, 1, 0)
    with pytest.raises(TypeError, match="batch"):
        logits_bytes(1.5, 1, 10)
    with pytest.raises(ValueError, match="budget_bytes"):
        max_batch(0.0, 1024, 50_257)


def test_peak_bytes_sees_an_allocation_on_the_cpu():
    import torch

    from klviz.memory import peak_bytes

    n = 1_000_000
    small = peak_bytes(lambda: torch.ones(10), torch.device("cpu"))
    big = peak_bytes(lambda: torch.ones(n), torch.device("cpu"))
    assert big >= 4 * n and small < 4 * n
