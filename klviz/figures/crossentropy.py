r"""Figures of chapter ``ch-cross-entropy``, *Cross-entropy*, each declared once.

- :data:`smoothing` -- the loss against the predicted probability of the true class, with and
  without label smoothing (static figure, explorer over :math:`\varepsilon` and :math:`C`, web
  slider over :math:`\varepsilon`).
- :data:`bce` -- the binary cross-entropy from a logit and its gradient (static).
- :data:`logits_memory` -- the memory of the logits at LLM vocabularies (static figure and
  explorer over batch, sequence length and budget).

The computation lives in :mod:`klviz.smoothing` and :mod:`klviz.memory`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from klviz import _checks as checks
from klviz.info import entropy
from klviz.memory import logits_gigabytes
from klviz.smoothing import smoothed_ce_curve, smoothed_target
from klviz.viz import PALETTE, FigureSpec, Param

__all__ = ["smoothing", "bce", "logits_memory"]


def _smoothing_data(epsilon: float, num_classes: int) -> dict:
    q = np.linspace(1e-3, 1.0 - 1e-6, 600)
    return {
        "q": q,
        "hard": smoothed_ce_curve(q, epsilon=0.0, num_classes=num_classes),
        "smooth": smoothed_ce_curve(q, epsilon=epsilon, num_classes=num_classes),
        # the minimum of H(p_eps, q) over q_y: at q_y = p_eps[y] = 1 - eps + eps / C, height H(p_eps)
        "q_star": float(smoothed_target(0, epsilon=epsilon, num_classes=num_classes)[0]),
        "floor": float(entropy(smoothed_target(0, epsilon=epsilon, num_classes=num_classes))),
    }


def _smoothing_draw(ax, d: dict, values: dict) -> None:
    ax.plot(d["q"], d["hard"], color=PALETTE[0], label=r"hard label: $-\log q_y$")
    ax.plot(d["q"], d["smooth"], color=PALETTE[1], label=rf"smoothed, $\varepsilon$ = {values['epsilon']:.2f}")
    ax.plot([d["q_star"]], [d["floor"]], "o", color=PALETTE[1],
            label=rf"minimum: $q_y^\star$ = {d['q_star']:.3f}, loss {d['floor']:.3f} nats")
    ax.set_ylim(0, 5)
    ax.set_xlim(0, 1)
    ax.legend(loc="upper right")


smoothing = FigureSpec(
    "ce-smoothing", "Cross-entropy with label smoothing, C = {num_classes} classes", _smoothing_data, _smoothing_draw,
    xlabel=r"predicted probability of the true class $q_y$", ylabel="cross-entropy loss (nats)",
    params=(Param.range("epsilon", "epsilon", start=0.0, stop=0.5, step=0.05, default=0.1, fmt="{:.2f}"),
            Param.range("num_classes", "classes C", start=2, stop=100, step=1, default=10)),
    doc=r"""Cross-entropy against the predicted probability of the true class, without label smoothing
    (:math:`-\log q_y`) and with smoothing :math:`\varepsilon` (Szegedy et al. 2016); the marker is
    the minimum, :math:`q_y^\star = 1-\varepsilon+\varepsilon/C`, at height :math:`H(p^\varepsilon)`.
    Chapter ``ch-cross-entropy``.""",
)


def _bce_data(z_max: float) -> dict:
    z = np.linspace(-checks.positive(z_max, "z_max"), z_max, 400)
    # -log sigma(z) = log(1 + e^{-z}) = logaddexp(0, -z): no overflow for large |z|
    return {"z": z, "loss": {1: np.logaddexp(0.0, -z), 0: np.logaddexp(0.0, z)}, "sigmoid": expit(z)}


def _bce_draw(ax, d: dict, values: dict) -> None:
    for y, color in ((1, PALETTE[0]), (0, PALETTE[1])):
        ax.plot(d["z"], d["loss"][y], color=color, label=f"loss, y = {y}")
        ax.plot(d["z"], d["sigmoid"] - y, color=color, linestyle="--", label=rf"gradient $\sigma(z) - {y}$")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    ax.legend(loc="upper center", ncol=2)


bce = FigureSpec(
    "bce", "Binary cross-entropy and its gradient", _bce_data, _bce_draw,
    xlabel="logit $z$", ylabel="loss (nats) / gradient",
    inputs={"z_max": 6.0},
    doc=r"""Binary cross-entropy from a logit, :math:`\ell(z, y) = -y\log\sigma(z) - (1-y)\log(1-\sigma(z))`,
    for :math:`y=1` and :math:`y=0`, with its derivative :math:`\sigma(z) - y` (dashed).
    Chapter ``ch-cross-entropy``.""",
)

#: the vocabularies marked on the memory figure
_MARKED_VOCABULARIES = ((30_522, "BERT-base"), (50_257, "GPT-2"))


def _memory_data(batch: int, seq_len: int, budget_gb: float) -> dict:
    vocab = np.geomspace(1_000, 300_000, 200)
    return {"vocab": vocab, "gb": {b: logits_gigabytes(batch, seq_len, vocab, b) for b in (4, 2)}}


def _memory_draw(ax, d: dict, values: dict) -> None:
    for b, name, color in ((4, "FP32", PALETTE[0]), (2, "FP16 / BF16", PALETTE[1])):
        ax.plot(d["vocab"], d["gb"][b], color=color, label=f"{name} logits")
    ax.axhline(values["budget_gb"], color="0.3", linestyle=":", label=f"budget {values['budget_gb']:g} GB")
    for v, name in _MARKED_VOCABULARIES:
        ax.axvline(v, color=PALETTE[2], linewidth=1, alpha=0.7)
        ax.text(v * 1.04, 0.02, name, rotation=90, transform=ax.get_xaxis_transform(),
                color=PALETTE[2], fontsize=8, va="bottom")
    ax.set_xscale("log")
    ax.legend(loc="upper left")


logits_memory = FigureSpec(
    "logits-memory", "Logits memory, B = {batch}, n = {seq_len}", _memory_data, _memory_draw,
    xlabel="vocabulary size $V$ (tokens)", ylabel="logits memory (GB, $10^9$ bytes)",
    params=(Param("batch", "batch B", (1, 2, 4, 8, 16, 32, 64, 128), default=16),
            Param.range("seq_len", "seq. n", start=128, stop=8192, step=128, default=1024),
            Param.range("budget_gb", "budget GB", start=1.0, stop=80.0, step=1.0, default=10.0)),
    doc=r"""Memory of the logits :math:`B \times n \times V` against the vocabulary size :math:`V` in FP32
    and FP16 (decimal GB, :math:`10^9` bytes), with BERT-base's 30,522 and GPT-2's 50,257 tokens
    marked and a memory budget as a horizontal line.  Chapter ``ch-cross-entropy``.""",
)
