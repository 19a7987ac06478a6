r"""Figures of chapter ``ch-cross-entropy``, Cross-entropy: the classification loss, label smoothing, the
binary cross-entropy and its gradient, and the memory the logits take at LLM vocabularies.
The computation lives in :mod:`klviz.smoothing` and :mod:`klviz.memory`."""

from __future__ import annotations

import numpy as np

from klviz import _checks as checks
from klviz.info import entropy
from klviz.memory import logits_gigabytes
from klviz.plots.style import PALETTE, new_axes
from klviz.smoothing import smoothed_ce_curve, smoothed_target

__all__ = [
    "ce_smoothing_figure",
    "bce_figure",
    "logits_memory_figure",
]


def ce_smoothing_figure(epsilon: float = 0.1, num_classes: int = 10, *, ax=None):
    r"""Cross-entropy loss against the predicted probability of the true class, without
    label smoothing (:math:`-\log q_y`) and with smoothing :math:`\varepsilon`; the marker is
    the minimum, :math:`q_y^\star = 1-\varepsilon+\varepsilon/C`, at height
    :math:`H(p^\varepsilon)`.  Chapter ``ch-cross-entropy`` (Cross-entropy)."""
    epsilon = checks.fraction(epsilon, "epsilon", hint="0 = no smoothing, e.g. 0.1")
    num_classes = checks.integer(num_classes, "num_classes", low=2, hint="the number of classes C")
    fig, ax = new_axes(ax)
    q = np.linspace(1e-3, 1.0 - 1e-6, 600)
    ax.plot(q, smoothed_ce_curve(q, epsilon=0.0, num_classes=num_classes), color=PALETTE[0],
            label=r"hard label: $-\log q_y$")
    loss = smoothed_ce_curve(q, epsilon=epsilon, num_classes=num_classes)
    ax.plot(q, loss, color=PALETTE[1], label=rf"smoothed, $\varepsilon$ = {epsilon:.2f}")
    q_star = 1.0 - epsilon + epsilon / num_classes
    floor = float(entropy(smoothed_target(0, epsilon=epsilon, num_classes=num_classes)))
    ax.plot([q_star], [floor], "o", color=PALETTE[1],
            label=rf"minimum: $q_y^\star$ = {q_star:.3f}, loss {floor:.3f} nats")
    ax.set_ylim(0, 5)
    ax.set_xlim(0, 1)
    ax.set_xlabel(r"predicted probability of the true class $q_y$")
    ax.set_ylabel("cross-entropy loss (nats)")
    ax.set_title(f"Cross-entropy with label smoothing, C = {num_classes} classes")
    ax.legend(loc="upper right")
    return fig


def bce_figure(*, z_max: float = 6.0, ax=None):
    r"""Binary cross-entropy from a logit, :math:`\ell(z, y) = -y\log\sigma(z) -
    (1-y)\log(1-\sigma(z))`, for :math:`y=1` and :math:`y=0`, with its derivative
    :math:`\sigma(z) - y` (dashed).  Computed stably with ``logaddexp``.
    Chapter ``ch-cross-entropy``, Cross-entropy (binary case)."""
    if not z_max > 0:
        raise ValueError(f"z_max must be > 0, got {z_max!r}")
    fig, ax = new_axes(ax)
    z = np.linspace(-z_max, z_max, 400)
    sig = 0.5 * (1.0 + np.tanh(0.5 * z))
    for y, color in ((1, PALETTE[0]), (0, PALETTE[1])):
        # -log sigma(z) = log(1 + e^{-z}) = logaddexp(0, -z): no overflow for large |z|
        loss = np.logaddexp(0.0, -z) if y == 1 else np.logaddexp(0.0, z)
        ax.plot(z, loss, color=color, label=f"loss, y = {y}")
        ax.plot(z, sig - y, color=color, linestyle="--", label=rf"gradient $\sigma(z) - {y}$")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    ax.set_xlabel("logit $z$")
    ax.set_ylabel("loss (nats) / gradient")
    ax.set_title("Binary cross-entropy and its gradient")
    ax.legend(loc="upper center", ncol=2)
    return fig


def logits_memory_figure(
    batch: int = 16, seq_len: int = 1024, budget_gb: float = 10.0, *, ax=None
):
    r"""Memory of the logits :math:`B \times n \times V` against the vocabulary size
    :math:`V` in FP32 and FP16 (decimal GB, :math:`10^9` bytes), with BERT-base's
    30,522 and GPT-2's 50,257 tokens marked and a memory budget as a horizontal line.
    Chapter ``ch-cross-entropy``, Cross-entropy (large vocabularies)."""
    fig, ax = new_axes(ax)
    vocab = np.geomspace(1_000, 300_000, 200)
    for b, name, color in ((4, "FP32", PALETTE[0]), (2, "FP16 / BF16", PALETTE[1])):
        ax.plot(vocab, logits_gigabytes(batch, seq_len, vocab, b), color=color, label=f"{name} logits")
    ax.axhline(budget_gb, color="0.3", linestyle=":", label=f"budget {budget_gb:g} GB")
    for v, name in ((30_522, "BERT-base"), (50_257, "GPT-2")):
        ax.axvline(v, color=PALETTE[2], linewidth=1, alpha=0.7)
        ax.text(v * 1.04, 0.02, name, rotation=90, transform=ax.get_xaxis_transform(),
                color=PALETTE[2], fontsize=8, va="bottom")
    ax.set_xscale("log")
    ax.set_xlabel("vocabulary size $V$ (tokens)")
    ax.set_ylabel("logits memory (GB, $10^9$ bytes)")
    ax.set_title(f"Logits memory, B = {batch}, n = {seq_len}")
    ax.legend(loc="upper left")
    return fig
