r"""A small causal transformer language model (pre-norm GPT blocks).

Each position's logits depend on the tokens up to it only: the attention is causal
(:func:`torch.nn.functional.scaled_dot_product_attention` with ``is_causal=True``) and every
other layer acts position by position. Sized for a CPU: the chapter ``ch-lm`` trains a
teacher and its students in minutes. Tied input and output embeddings (Press & Wolf, 2017).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from klviz import _checks

__all__ = ["TinyLM", "count_parameters"]


class _Block(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: Tensor) -> Tensor:
        B, N, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        q, k, v = (z.view(B, N, self.heads, D // self.heads).transpose(1, 2) for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(B, N, D))
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    r"""Causal transformer: token + learned position embeddings, ``layers`` pre-norm blocks,
    a final LayerNorm and the tied output projection. ``forward(ids (B, N)) -> logits (B, N, V)``
    with :math:`p(x_{n+1} \mid x_{\le n}) = \mathrm{softmax}(\text{logits}[:, n])`.
    Chapter ``ch-lm``."""

    def __init__(self, vocab_size: int, *, d_model: int = 128, layers: int = 2, heads: int = 4,
                 context: int = 64) -> None:
        super().__init__()
        V = _checks.positive_int(vocab_size, "vocab_size")
        d = _checks.positive_int(d_model, "d_model")
        h = _checks.positive_int(heads, "heads")
        if d % h:
            raise ValueError(f"d_model={d} must be a multiple of heads={h}; e.g. heads=4 with d_model=128")
        self.context = _checks.integer(context, "context", low=2, hint="the longest sequence, at least 2")
        self.vocab_size = V
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Embedding(self.context, d)
        self.blocks = nn.ModuleList(_Block(d, h) for _ in range(_checks.positive_int(layers, "layers")))
        self.ln = nn.LayerNorm(d)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        # GPT-2's initialisation: small normal weights, zero biases
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, ids: Tensor) -> Tensor:
        if ids.dim() != 2:
            raise ValueError(f"ids must have shape (B, N), got {tuple(ids.shape)}")
        N = ids.shape[1]
        if not 1 <= N <= self.context:
            raise ValueError(f"sequence length {N} must be in [1, context={self.context}]; "
                             "cut the input or build the model with a longer context")
        x = self.tok(ids) + self.pos(torch.arange(N, device=ids.device))
        for b in self.blocks:
            x = b(x)
        return self.ln(x) @ self.tok.weight.t()


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (frozen ones included)."""
    return sum(p.numel() for p in model.parameters())
