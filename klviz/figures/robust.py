r"""Figures of chapter ``ch-robust``, *adversarial robustness*, each declared once.

- :data:`pgd_box` -- PGD on a 2-D linear classifier: the L∞ box of radius ε around a point,
  clipped to the unit square, the iterates, and the closed-form worst corner (slider over ε).
- :data:`robust_vs_eps` -- worst-case robust accuracy against the evaluation ε, mean over seeds
  and a band of one standard deviation, one colour per method (slider over the training ε).
- :data:`attack_strength` -- accuracy under each attack and under the per-example worst case,
  per method: a weak attack overstates robustness.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param, book_style

__all__ = ["attack_strength", "pgd_box", "robust_vs_eps"]

#: the 2-D toy: logits (0, w.x + b), a point of class 1 and the attack's step
_W, _B, _X0, _STEP = (1.0, 2.0), -1.3, (0.6, 0.55), 0.05


def _box_data(eps: float) -> dict:
    from klviz.robust.attacks import Attack, perturb

    lin = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0, 0.0], list(_W)], dtype=torch.float64))
        lin.bias.copy_(torch.tensor([0.0, _B], dtype=torch.float64))
    x = torch.tensor([_X0], dtype=torch.float64)
    y = torch.tensor([1])
    path = [x[0].numpy().copy()]
    for k in range(1, 9):  # the prefix of k steps: the iterates of one run
        xa, _ = perturb(lin, x, y, Attack(eps, steps=k, step_size=_STEP, random_start=False, early_stop=False))
        path.append(xa[0].numpy().copy())
    lo = np.clip(np.array(_X0) - eps, 0, 1)
    hi = np.clip(np.array(_X0) + eps, 0, 1)
    corner = np.where(np.array(_W) > 0, lo, hi)  # minimises w.x over the clipped box
    score = float(np.dot(_W, corner) + _B)
    return {"path": np.array(path), "lo": lo, "hi": hi, "corner": corner, "score": score,
            "verdict": "broken" if score < 0 else "still class 1"}


def _box_draw(ax, d: dict, values: dict) -> None:
    with book_style():
        xs = np.linspace(0, 1, 2)
        ax.plot(xs, (-_B - _W[0] * xs) / _W[1], color=PALETTE[7], label="decision boundary")
        lo, hi = d["lo"], d["hi"]
        ax.fill([lo[0], hi[0], hi[0], lo[0]], [lo[1], lo[1], hi[1], hi[1]], color=PALETTE[0], alpha=0.2,
                label="ε-box ∩ [0, 1]²")
        p = d["path"]
        ax.plot(p[:, 0], p[:, 1], "o-", color=PALETTE[1], markersize=4, label="PGD iterates")
        ax.plot([d["corner"][0]], [d["corner"][1]], "x", color=PALETTE[3], markersize=10, mew=2,
                label="worst corner")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.legend(loc="upper right")


pgd_box = FigureSpec(
    "robust-pgd-box", "ε = {eps:.2f}: worst score w·x + b = {score:.2f} ({verdict})", _box_data, _box_draw,
    xlabel="pixel 1", ylabel="pixel 2",
    params=(Param.range("eps", "ε", start=0.0, stop=0.5, step=0.05, default=0.2),),
    doc=r"""PGD (L∞, sign steps of 0.05 from the point, no random start) on the linear model
    :math:`z_1 = w\cdot x + b` of two pixels: the iterates walk to the corner of the box
    :math:`[x-\varepsilon, x+\varepsilon]\cap[0,1]^2` that minimises :math:`w\cdot x`, the closed-form
    worst case. Chapter ``ch-robust``.""",
)


def _curves(curves: Mapping, eps) -> dict:
    if not curves:
        raise ValueError("curves is empty; pass {train_eps: {method: array (seeds, len(eps))}}")
    return {float(k): {m: np.atleast_2d(np.asarray(a, dtype=float)) * 100.0 for m, a in v.items()}
            for k, v in curves.items()}


def _eps_grid(inputs: Mapping) -> tuple[float, ...]:
    return tuple(sorted(float(k) for k in inputs["curves"]))


def _vs_eps_data(curves, eps, train_eps: float) -> dict:
    c = _curves(curves, eps)
    e = np.asarray(eps, dtype=float)
    for m, a in c[float(train_eps)].items():
        if a.shape[1] != len(e):
            raise ValueError(f"curves[{train_eps}][{m!r}] has {a.shape[1]} columns, eps has {len(e)} values")
    return {"eps": e, "runs": c[float(train_eps)], "train_eps": float(train_eps)}


def _vs_eps_draw(ax, d: dict, values: dict) -> None:
    with book_style():
        for i, (m, a) in enumerate(d["runs"].items()):
            colour = PALETTE[i % len(PALETTE)]
            mean = a.mean(0)
            ax.plot(d["eps"], mean, "o-", color=colour, markersize=3, label=f"{m} (n={a.shape[0]})")
            if a.shape[0] > 1:
                sd = a.std(0, ddof=1)
                ax.fill_between(d["eps"], mean - sd, mean + sd, color=colour, alpha=0.2, linewidth=0)
        ax.axvline(d["train_eps"], color="0.5", linestyle=":", linewidth=1)
        ax.set_ylim(0, 100)
        ax.legend(loc="upper right")


robust_vs_eps = FigureSpec(
    "robust-vs-eps", "Trained at ε = {train_eps:g}", _vs_eps_data, _vs_eps_draw,
    xlabel="ε of the evaluation (L∞)", ylabel="worst-case robust accuracy (%)",
    params=(Param("train_eps", "training ε", _eps_grid),),
    inputs={"curves": REQUIRED, "eps": REQUIRED},
    example={"curves": {0.1: {"standard": [[0.9, 0.4, 0.0], [0.92, 0.38, 0.01]], "trades": [[0.9, 0.7, 0.3]]},
                        0.2: {"standard": [[0.9, 0.4, 0.0]], "trades": [[0.85, 0.72, 0.4]]}},
             "eps": [0.0, 0.1, 0.2]},
    doc=r"""Robust accuracy under the per-example worst case of FGSM and PGD
    (:func:`klviz.robust.worst_case`) against the evaluation radius, for models trained at the
    slider's ε (dotted line); mean over seeds and a band of one standard deviation.
    Chapter ``ch-robust``.""",
)


def _strength_data(accuracies: Mapping) -> dict:
    if not accuracies:
        raise ValueError("accuracies is empty; pass {method: {attack: accuracy}}")
    methods = list(accuracies)
    attacks = list(next(iter(accuracies.values())))
    return {"methods": methods, "attacks": attacks,
            "values": np.array([[100.0 * accuracies[m][a] for a in attacks] for m in methods])}


def _strength_draw(ax, d: dict, values: dict) -> None:
    with book_style():
        n = len(d["attacks"])
        width = 0.8 / n
        x = np.arange(len(d["methods"]))
        for j, a in enumerate(d["attacks"]):
            ax.bar(x + (j - (n - 1) / 2) * width, d["values"][:, j], width, color=PALETTE[j % len(PALETTE)], label=a)
        ax.set_xticks(x, d["methods"])
        ax.set_ylim(0, 100)
        ax.legend(loc="upper left", fontsize="small")


attack_strength = FigureSpec(
    "robust-attack-strength", None, _strength_data, _strength_draw,
    xlabel="training method", ylabel="test accuracy under attack (%)",
    inputs={"accuracies": REQUIRED},
    example={"accuracies": {"standard": {"FGSM": 0.5, "PGD": 0.4, "worst case": 0.38},
                            "trades": {"FGSM": 0.8, "PGD": 0.75, "worst case": 0.74}}},
    doc=r"""Accuracy of each method under each attack alone and under the per-example worst case
    over all of them (mean over seeds): the gap between a single weak attack and the worst case
    is robustness that attack overstates. Chapter ``ch-robust``.""",
)
