"""Token-level losses at language-model vocabularies: time and peak memory with and without
``chunk_size`` (chapter ``ch-lm``, the Performance appendix).

    python benchmarks/lm_vocab.py                       # V = 32000, 128000; 256 tokens
    python benchmarks/lm_vocab.py --tokens 512 --chunk 64 --out benchmarks/results/lm_vocab.md

For each vocabulary size and loss it runs one forward and backward pass on ``(1, tokens, V)``
float32 logits with :func:`klviz.lm.cost.loss_cost` (the median of ``--reps`` warm runs; peak
memory as in ``run.py``: the torch profiler's largest "Total Allocated" on CPU) and writes a
markdown table of the chunked run against the unchunked one, as ratios measured side by side,
with the size of the logits themselves (:func:`klviz.memory.logits_bytes`).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from klviz.lm.cost import loss_cost  # noqa: E402
from klviz.memory import logits_bytes  # noqa: E402

#: label -> (registered loss, hyper-parameters): the chapter's forward, reverse and skew KL
LOSSES = {"forward KL (kd)": ("kd", {}), "reverse KL (js, beta=1)": ("js", {"beta": 1.0}),
          "skew KL 0.1 (skl)": ("skl", {"skew": 0.1})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=256, help="B*N token positions (default 256)")
    ap.add_argument("--vocab", type=str, default="32000,128000", help="comma-separated vocabulary sizes")
    ap.add_argument("--chunk", type=int, default=32, help="chunk_size of the chunked runs (default 32)")
    ap.add_argument("--reps", type=int, default=3, help="timed runs per cell (default 3)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/lm_vocab.md"))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    MiB = 2**20
    lines = [f"{a.tokens} tokens, float32, one thread, {platform.processor() or platform.machine()}, "
             f"torch {torch.__version__}; chunked = `chunk_size={a.chunk}`.", "",
             "| V | loss | logits MiB | peak MiB (unchunked) | peak MiB (chunked) | peak ratio | time ms "
             "(unchunked) | time ratio |", "|---|---|---|---|---|---|---|---|"]
    for V in (int(v) for v in a.vocab.split(",")):
        size = logits_bytes(1, a.tokens, V) / MiB
        for label, (loss, hyp) in LOSSES.items():
            full = loss_cost(loss, a.tokens, V, reps=a.reps, **hyp)
            part = loss_cost(loss, a.tokens, V, chunk_size=a.chunk, reps=a.reps, **hyp)
            row = (f"| {V:,} | {label} | {size:.0f} | {full['peak_bytes'] / MiB:.0f} | "
                   f"{part['peak_bytes'] / MiB:.0f} | {part['peak_bytes'] / full['peak_bytes']:.2f} | "
                   f"{1e3 * full['time_s']:.0f} | {part['time_s'] / full['time_s']:.2f} |")
            print(row, flush=True)
            lines.append(row)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")
    print("wrote", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
