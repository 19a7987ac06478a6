r"""Sampling from a causal language model with a temperature and top-k, under a seed.

Without a key-value cache: each new token runs the model on the last ``context`` tokens,
which is simple and exact, and fast enough for the small models of the chapter ``ch-lm``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from klviz import _checks

__all__ = ["filter_logits", "sample"]


def filter_logits(logits: Tensor, *, temperature: float = 1.0, top_k: int | None = None) -> Tensor:
    r"""Logits of the sampling distribution :math:`\mathrm{softmax}(z/T)` restricted to the
    ``top_k`` largest entries (the others get :math:`-\infty`). Chapter ``ch-lm``."""
    T = _checks.temperature(temperature)
    z = logits.float() / T
    if top_k is not None:
        k = _checks.integer(top_k, "top_k", low=1, hint="keep at least one token, e.g. top_k=10 (None: all)")
        if k < z.shape[-1]:
            kth = z.topk(k, dim=-1).values[..., -1:]
            z = z.masked_fill(z < kth, float("-inf"))
    return z


@torch.no_grad()
def sample(model: nn.Module, prompt: Tensor, new_tokens: int, *, temperature: float = 1.0,
           top_k: int | None = None, generator: torch.Generator | None = None) -> Tensor:
    r"""``prompt`` ``(B, P)`` followed by ``new_tokens`` tokens drawn one at a time from
    :math:`x_{n+1} \sim \mathrm{softmax}(z_n/T)` restricted to the top ``k`` (:func:`filter_logits`),
    shape ``(B, P + new_tokens)``. The same ``generator`` seed gives the same tokens.
    Chapter ``ch-lm``."""
    _checks.tensor(prompt, "prompt", what="token ids of shape (B, P)")
    if prompt.dim() != 2 or prompt.shape[1] < 1:
        raise ValueError(f"prompt must have shape (B, P) with P >= 1, got {tuple(prompt.shape)}")
    n = _checks.integer(new_tokens, "new_tokens", low=0, hint="how many tokens to add")
    filter_logits(prompt.new_zeros(1, 1, dtype=torch.float), temperature=temperature, top_k=top_k)
    was = model.training
    model.eval()
    ctx = getattr(model, "context", prompt.shape[1] + n)
    ids = prompt
    for _ in range(n):
        z = filter_logits(model(ids[:, -ctx:])[:, -1], temperature=temperature, top_k=top_k)
        nxt = torch.multinomial(z.softmax(-1), 1, generator=generator)
        ids = torch.cat([ids, nxt], dim=1)
    model.train(was)
    return ids
