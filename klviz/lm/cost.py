r"""Time and peak memory of one forward and backward pass of a distillation loss on token
logits of vocabulary size ``V``, with and without ``chunk_size`` (chapter ``ch-lm`` and the
Performance appendix).

Peak memory is measured by :func:`klviz.memory.peak_bytes` (as in ``benchmarks/run.py``): on CPU the largest "Total Allocated" of
the torch profiler's memory records during the call (the gradient included), on CUDA
``torch.cuda.max_memory_allocated`` above what was held before. Compare methods as ratios
measured side by side; absolute times depend on the machine and its load.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from klviz import _checks
from klviz.memory import peak_bytes
from klviz.lm.metrics import token_distill_loss

__all__ = ["loss_cost"]


def loss_cost(loss: str, tokens: int, vocab: int, *, chunk_size: int | None = None, reps: int = 3,
              dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu", seed: int = 0,
              **hypers: Any) -> dict[str, float]:
    """Median time (s) of ``reps`` forward+backward passes and peak bytes of one, for
    :func:`~klviz.lm.metrics.token_distill_loss` on ``(1, tokens, vocab)`` logits (student
    requires grad, teacher detached). Chapter ``ch-lm``."""
    n = _checks.positive_int(tokens, "tokens")
    V = _checks.positive_int(vocab, "vocab")
    r = _checks.positive_int(reps, "reps")
    dev = torch.device(device)
    g = torch.Generator().manual_seed(seed)
    s = (2 * torch.randn(1, n, V, generator=g)).to(dev, dtype).requires_grad_(True)
    t = (2 * torch.randn(1, n, V, generator=g)).to(dev, dtype)

    def call() -> None:
        token_distill_loss(s, t, loss, chunk_size=chunk_size, **hypers).backward()
        s.grad = None

    call()  # warm-up
    times = []
    for _ in range(r):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        call()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - t0)
    return {"time_s": statistics.median(times), "peak_bytes": peak_bytes(call, dev)}
