r"""A hidden Markov source of token sequences whose next-token distribution is known exactly.

With hidden states :math:`z_n` (initial :math:`\pi`, transitions :math:`A`) and emissions
:math:`B`, the forward algorithm gives the filtered state :math:`\alpha_n(k) = P(z_n = k \mid
x_{\le n})` and the true next-token distribution

.. math:: P(x_{n+1} = v \mid x_{\le n}) = \sum_{k'} \Big(\sum_k \alpha_n(k) A_{kk'}\Big) B_{k'v},

so the KL from the truth to any model's next-token distribution can be computed position by
position, and summed along a sequence (the chain rule), without sampling. Chapter ``ch-lm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from klviz import _checks

__all__ = ["HMM"]


@dataclass(frozen=True)
class HMM:
    """Initial probabilities ``init`` ``(K,)``, transitions ``trans`` ``(K, K)`` (rows sum to 1)
    and emissions ``emit`` ``(K, V)`` (rows sum to 1), float64."""

    init: Tensor
    trans: Tensor
    emit: Tensor

    @classmethod
    def random(cls, states: int = 4, vocab: int = 8, *, seed: int = 0, concentration: float = 0.3) -> "HMM":
        """Dirichlet(``concentration``) rows: small values give peaked, predictable sources."""
        K = _checks.positive_int(states, "states")
        V = _checks.integer(vocab, "vocab", low=2, hint="at least 2 tokens")
        c = _checks.positive(concentration, "concentration")
        g = torch.Generator().manual_seed(_checks.integer(seed, "seed", low=0))
        d = torch.distributions.Gamma(torch.tensor(c, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))

        def rows(n: int, m: int) -> Tensor:
            # Gamma draws from torch's global RNG: fork it so the caller's stream is untouched
            with torch.random.fork_rng():
                torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=g)))
                x = d.sample((n, m)) + 1e-12
            return x / x.sum(-1, keepdim=True)

        return cls(rows(1, K)[0], rows(K, K), rows(K, V))

    @property
    def vocab_size(self) -> int:
        return self.emit.shape[1]

    def sample(self, n: int, length: int, *, generator: torch.Generator | None = None) -> Tensor:
        """``n`` sequences of ``length`` tokens, shape ``(n, length)``."""
        n = _checks.positive_int(n, "n")
        L = _checks.integer(length, "length", low=2, hint="a sequence needs at least 2 tokens")
        z = torch.multinomial(self.init.expand(n, -1), 1, generator=generator).squeeze(1)
        out = torch.empty(n, L, dtype=torch.long)
        for i in range(L):
            out[:, i] = torch.multinomial(self.emit[z], 1, generator=generator).squeeze(1)
            z = torch.multinomial(self.trans[z], 1, generator=generator).squeeze(1)
        return out

    def next_token_log_probs(self, ids: Tensor) -> Tensor:
        r"""``(B, N, V)``: entry ``[:, n]`` is :math:`\log P(x_{n+1} = \cdot \mid x_{\le n})`, aligned
        with a language model's logits of ``ids`` (the forward algorithm, normalised each step)."""
        _checks.tensor(ids, "ids", dims=(2,), what="token ids of shape (B, N)")
        alpha = self.init.expand(ids.shape[0], -1)
        out = []
        for n in range(ids.shape[1]):
            alpha = alpha * self.emit[:, ids[:, n]].t()  # condition on x_n
            alpha = alpha / alpha.sum(-1, keepdim=True)
            alpha = alpha @ self.trans  # P(z_{n+1} | x_{<=n})
            out.append((alpha @ self.emit).log())
        return torch.stack(out, 1)

    def first_token_log_probs(self) -> Tensor:
        r""":math:`\log P(x_0 = \cdot)`, shape ``(V,)``."""
        return (self.init @ self.emit).log()

    def exact_kl(self, ids: Tensor, model_logits: Tensor) -> Tensor:
        r"""Per-position :math:`\mathrm{KL}\big(P(\cdot\mid x_{\le n}) \,\|\, \mathrm{softmax}(z_n)\big)`,
        shape ``(B, N)``, for a model's logits ``(B, N, V)`` of ``ids``."""
        lp = self.next_token_log_probs(ids)
        if model_logits.shape != lp.shape:
            raise ValueError(f"model_logits must have shape {tuple(lp.shape)}, got {tuple(model_logits.shape)}")
        lq = model_logits.double().log_softmax(-1)
        return (lp.exp() * (lp - lq)).sum(-1)
