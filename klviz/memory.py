r"""Memory of the logits tensor at large vocabularies, chapter ``ch-cross-entropy``.

A language model's logits have shape :math:`B \times n \times V` (batch, sequence length,
vocabulary); at :math:`V \approx 50{,}000` they can outgrow the model itself.  Exact integer
arithmetic, so the chapter's printed byte counts are exact. :func:`peak_bytes` measures what
a call really allocates (the benchmarks, chapter ``ch-lm``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from klviz import _checks as checks

if TYPE_CHECKING:
    import torch

__all__ = ["logits_bytes", "max_batch", "logits_gigabytes", "peak_bytes"]


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


def peak_bytes(call: Callable[[], object], device: torch.device) -> float:
    """Peak bytes allocated while ``call()`` runs on ``device`` (the benchmarks and ``ch-lm``).

    On CUDA: ``torch.cuda.max_memory_allocated`` above what was held before. On the CPU: the
    largest "Total Allocated" of the torch profiler's memory records during the call. Compare
    methods by ratios measured side by side.
    """
    import torch  # only here: the rest of this module is numpy

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        call()
        torch.cuda.synchronize(device)
        return float(torch.cuda.max_memory_allocated(device) - before)
    from torch.profiler import ProfilerActivity, profile

    # the profiler's C++ side prints a start/stop line per use to file descriptor 2, which a
    # notebook would show under the cell: point the descriptor at /dev/null meanwhile
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
                call()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as fh:
            events = json.load(fh)["traceEvents"]
    totals = [e["args"]["Total Allocated"] for e in events
              if e.get("name") == "[memory]" and e["args"].get("Device Type", 0) == 0]
    return float(max(totals, default=0))
