r"""Figures of chapter ``ch-dkl``, *The DKL decomposition*, each declared once.

The decomposition of :math:`D_{\mathrm{KL}}(s_m\|s_n)` into a weighted MSE over pairwise logit
differences (which carries the gradient with respect to :math:`o_m`) and a soft-label
cross-entropy (which carries the gradient with respect to :math:`o_n`), Cui et al. (2023),
*Decoupled Kullback-Leibler Divergence Loss*, Theorem 1.

- :data:`dkl_gradients` -- the two halves of the KL gradient per class; the chapter's static
  figure, explorer and web slider (over :math:`T` from 0.5 to 10 in steps of 0.5).
- :data:`wmse_cost` -- a cost (seconds or bytes) of the O(C) centred wMSE against the O(C²)
  brute-force form (static).
- :data:`cancellation` -- float32 relative error of wMSE formulas as an offset grows (static).

The gradients come from :func:`klviz.gradients.kl_gradient_components`.
"""

from __future__ import annotations

import numpy as np

from klviz import _checks as checks
from klviz import info
from klviz.examples import DKL_STUDENT_LOGITS, DKL_TEACHER_LOGITS
from klviz.gradients import kl_gradient_components
from klviz.viz import PALETTE, REQUIRED, FigureSpec, Param

__all__ = ["dkl_gradients", "wmse_cost", "cancellation"]


def _gradients_data(teacher_logits, student_logits, ylim, temperature: float) -> dict:
    t = checks.temperature(temperature)
    g_m, g_n = kl_gradient_components(teacher_logits, student_logits, temperature=t)
    return {"g_m": g_m, "g_n": g_n, "s_m": info.softmax(np.asarray(teacher_logits, dtype=float), temperature=t)}


def _gradients_draw(ax, d: dict, values: dict) -> None:
    k = np.arange(len(d["g_m"]))
    width = 0.38
    ax.bar(k - width / 2, d["g_m"], width, color=PALETTE[0], label=r"$\partial/\partial o_m$ (wMSE half)")
    ax.bar(k + width / 2, d["g_n"], width, color=PALETTE[1], label=r"$\partial/\partial o_n$ (soft-label CE half)")
    ax.plot(k, d["s_m"], "o", color=PALETTE[7], markersize=6, label=r"teacher probability $s_m$")
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(k)
    if values["ylim"] is not None:  # fixed limits keep the bars comparable across the slider
        ax.set_ylim(*values["ylim"])
    ax.legend(loc="lower right", ncol=1)


dkl_gradients = FigureSpec(
    "dkl-gradients", "The two halves of the KL gradient, T = {temperature:g}", _gradients_data, _gradients_draw,
    xlabel="class $i$", ylabel=r"gradient of $T^2\,D_{{\mathrm{{KL}}}}(s_m\|s_n)$",
    # one grid for the explorer and the web slider: 0.5 to 10 in steps of 0.5
    params=(Param.range("temperature", "T", start=0.5, stop=10.0, step=0.5, default=4.0),),
    inputs={"teacher_logits": DKL_TEACHER_LOGITS, "student_logits": DKL_STUDENT_LOGITS, "ylim": (-1.0, 1.0)},
    doc=r"""Bars of the two halves of the gradient of :math:`T^2 D_{\mathrm{KL}}(s_m\|s_n)`, per class:
    :math:`\partial/\partial o_m` (blue), the part the weighted MSE of DKL reproduces, and
    :math:`\partial/\partial o_n` (orange), the part the soft-label cross-entropy reproduces; dots, the
    teacher probabilities :math:`s_m` (the wMSE weights are :math:`w_{jk} = s_m^j s_m^k`).  Cui et al.
    (2023), Theorem 1.  Chapter ``ch-dkl``.""",
)


def _cost_data(sizes, fast, brute, ylabel: str) -> dict:
    sizes, fast, brute = (checks.vector(v, n) for v, n in ((sizes, "sizes"), (fast, "fast"), (brute, "brute")))
    if not (sizes.shape == fast.shape == brute.shape):
        raise ValueError("sizes, fast and brute must have the same length")
    return {"sizes": sizes, "fast": fast, "brute": brute}


def _cost_draw(ax, d: dict, values: dict) -> None:
    ax.loglog(d["sizes"], d["brute"], "s-", color=PALETTE[1], label=r"brute force, $B\times C\times C$")
    ax.loglog(d["sizes"], d["fast"], "o-", color=PALETTE[0], label=r"centred form, $B\times C$")
    ax.legend(loc="upper left")


wmse_cost = FigureSpec(
    "wmse-cost", None, _cost_data, _cost_draw,
    xlabel="number of classes $C$", ylabel="{ylabel}",
    inputs={"sizes": REQUIRED, "fast": REQUIRED, "brute": REQUIRED, "ylabel": REQUIRED},
    example={"sizes": (10, 100), "fast": (1.0, 2.0), "brute": (3.0, 40.0), "ylabel": "bytes"},
    doc=r"""Log-log plot of a cost (seconds or bytes) of the O(C) centred wMSE against the O(C²)
    brute-force pairwise form, as the number of classes ``C`` grows (Cui et al. 2023).
    Chapter ``ch-dkl``.""",
)

_FLOAT32_EPS = float(np.finfo(np.float32).eps)


def _cancellation_data(offsets, errors) -> dict:
    offsets = checks.vector(offsets, "offsets", positive=True)
    # zero errors are drawn at the float32 machine epsilon so they stay on the log axis
    errs = {name: np.maximum(np.asarray(err, dtype=float), _FLOAT32_EPS) for name, err in errors.items()}
    for name, err in errs.items():
        if err.shape != offsets.shape:
            raise ValueError(f"errors[{name!r}] must have one value per offset")
    return {"offsets": offsets, "errors": errs}


def _cancellation_draw(ax, d: dict, values: dict) -> None:
    markers = "os^dv"
    for i, (name, err) in enumerate(d["errors"].items()):
        ax.loglog(d["offsets"], err, markers[i % len(markers)] + "-", color=PALETTE[i % len(PALETTE)], label=name)
    ax.axhline(_FLOAT32_EPS, color="0.4", linestyle=":", linewidth=1.2, label="float32 machine epsilon")
    ax.legend(loc="upper left")


cancellation = FigureSpec(
    "wmse-cancellation", None, _cancellation_data, _cancellation_draw,
    xlabel="offset added to every logit difference", ylabel="relative error vs float64",
    inputs={"offsets": REQUIRED, "errors": REQUIRED},
    example={"offsets": (1.0, 10.0), "errors": {"a": (1e-5, 1e-3), "b": (0.0, 1e-5)}},
    doc=r"""Relative error (against a float64 reference) of float32 wMSE formulas as a constant offset
    is added to the logit differences; ``errors`` maps a formula's name to its errors.  Chapter ``ch-dkl``.""",
)
