r"""The RLHF KL penalty on sampled sequences: k1, k2, k3 against the exact chain-rule sum.

For a policy :math:`\pi` and a reference :math:`\rho` over sequences, the KL of the
continuation :math:`y = (y_1, \dots, y_G)` of a prompt splits by the chain rule into

.. math::
    \mathrm{KL}(\pi\|\rho) = \mathbb E_{y\sim\pi}\Big[\sum_{n} \mathrm{KL}\big(\pi(\cdot\mid y_{<n})
    \,\|\,\rho(\cdot\mid y_{<n})\big)\Big],

a sum of per-position KLs along the sampled prefix, each computed exactly over the vocabulary.
The sequence-level estimators use only the sampled tokens, through
:math:`\log r(y) = \sum_n \log\rho(y_n\mid y_{<n}) - \log\pi(y_n\mid y_{<n})`:
:math:`k_1 = -\log r`, :math:`k_2 = \tfrac12(\log r)^2`, :math:`k_3 = r - 1 - \log r`
(Schulman 2020, :mod:`klviz.estimators`); ``"k3 per token"`` sums :math:`k_3` of each token's
log-ratio instead, as RLHF libraries do. Chapter ``ch-lm``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from klviz import _checks, estimators
from klviz.lm.sampling import sample

__all__ = ["SEQUENCE_ESTIMATORS", "Tempered", "estimator_rows", "sequence_kl_samples"]

#: the estimators of :func:`sequence_kl_samples`, in the order the chapter shows them
SEQUENCE_ESTIMATORS = ("k1", "k2", "k3", "k3 per token")


class Tempered(nn.Module):
    r"""``model`` with its logits divided by ``temperature``: a policy near the reference
    :math:`\mathrm{softmax}(z)` whose distance grows as ``temperature`` leaves 1 (a stand-in for a
    fine-tuned copy of the reference in the chapter ``ch-lm``)."""

    def __init__(self, model: nn.Module, temperature: float) -> None:
        super().__init__()
        self.model, self.temperature = model, _checks.temperature(temperature)
        if hasattr(model, "context"):
            self.context = model.context

    def forward(self, ids: Tensor) -> Tensor:
        return self.model(ids) / self.temperature


@torch.no_grad()
def sequence_kl_samples(policy: nn.Module, ref: nn.Module, prompt: Tensor, new_tokens: int, *,
                        generator: torch.Generator | None = None) -> dict[str, Tensor]:
    r"""Sample continuations of ``prompt`` ``(B, P)`` from ``policy`` (temperature 1) and return,
    per sequence ``(B,)`` in float64: ``"exact"`` (the chain-rule sum of per-position KLs along
    the sample) and the estimators of :data:`SEQUENCE_ESTIMATORS`. Chapter ``ch-lm``."""
    P = prompt.shape[1]
    ids = sample(policy, prompt, new_tokens, generator=generator)
    lp = policy(ids[:, :-1]).double().log_softmax(-1)[:, P - 1:]
    lq = ref(ids[:, :-1]).double().log_softmax(-1)[:, P - 1:]
    tok = ids[:, P:].unsqueeze(-1)
    log_r_tok = (lq.gather(-1, tok) - lp.gather(-1, tok)).squeeze(-1)
    log_r = log_r_tok.sum(-1)
    return {"exact": (lp.exp() * (lp - lq)).sum(-1).sum(-1),
            "k1": estimators.k1(log_r), "k2": estimators.k2(log_r), "k3": estimators.k3(log_r),
            "k3 per token": estimators.k3(log_r_tok).sum(-1), "ids": ids}


def estimator_rows(samples: dict[str, Tensor]) -> list[dict[str, float | str]]:
    r"""One row per estimator: its mean, its bias against the exact sum (the mean of
    ``k − exact``, paired sample by sample) with the standard error of that mean, its standard
    deviation, and the standard deviation of the exact sum for scale. Chapter ``ch-lm``."""
    ex = samples["exact"].double()
    n = ex.numel()
    rows = []
    for name in SEQUENCE_ESTIMATORS:
        k = samples[name].double()
        d = k - ex
        rows.append({"estimator": name, "mean": float(k.mean()), "bias": float(d.mean()),
                     "bias_se": float(d.std() / math.sqrt(n)), "std": float(k.std()),
                     "exact_std": float(ex.std()), "frac_negative": float((k < 0).double().mean())})
    return rows
