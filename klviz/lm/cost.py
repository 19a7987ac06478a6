r"""Time and peak memory of one forward and backward pass of a distillation loss on token
logits of vocabulary size ``V``, with and without ``chunk_size`` (chapter ``ch-lm`` and the
Performance appendix).

Peak memory is measured as in ``benchmarks/run.py``: on CPU the largest "Total Allocated" of
the torch profiler's memory records during the call (the gradient included), on CUDA
``torch.cuda.max_memory_allocated`` above what was held before. Compare methods as ratios
measured side by side; absolute times depend on the machine and its load.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from typing import Any

import torch

from klviz import _checks
from klviz.lm.metrics import token_distill_loss

__all__ = ["loss_cost"]


def _peak_bytes(call, device: torch.device) -> float:
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
    return {"time_s": statistics.median(times), "peak_bytes": _peak_bytes(call, dev)}
