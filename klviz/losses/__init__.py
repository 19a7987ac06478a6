r"""Distillation losses on logits: KD, DKD, DKL, IKL/GKL and the generalized JSD.

Every loss takes ``(student_logits, teacher_logits, ...)`` of shape ``(B, C)`` (one
distribution per sample) or ``(B, N, C)`` (one distribution per token), keyword-only
hyper-parameters, an optional boolean ``mask`` of shape ``(B,)`` / ``(B, N)`` (``True`` =
keep; padded tokens get ``False``) and a ``reduction``. Inputs may be float32, float16 or
bfloat16 (computed in float32) or float64 (computed in float64, used by the gradient
checks); the result is float32 (float64 for float64 inputs). All costs are O(B·C): the
pairwise weighted MSE of DKL/IKL/GKL is evaluated in its centred O(C) form
(:func:`wmse`), never as a ``B×C×C`` tensor.

Reductions (``F.kl_div``'s meaning where they overlap):

==============  =====================================================================
``batchmean``   sum of the per-row losses / number of rows; for ``(B, N, C)`` the
                number of *unmasked tokens* (``F.kl_div`` would divide a 3-D input by
                ``B`` only: this module follows TRL's GKD trainer instead)
``sum``         sum of the per-row losses
``mean``        sum / (number of unmasked rows · C), the mean over all elements as
                ``F.kl_div(reduction="mean")`` computes it (rarely what you want)
``none``        per-row values, shape ``(B,)`` or ``(B, N)``; masked rows hold 0
==============  =====================================================================

A batch whose rows are all masked gives 0 (not NaN) for every reduction.

Conventions, compared with the code people copy hyper-parameters from
(``o = logits / T``, ``p = softmax(teacher/T)``, ``q = softmax(student/T)``, ``S`` =
stop-gradient): the table below is generated from the registry
(:func:`conventions_table`, one row per registered loss).

Symbols of the DKL/IKL/GKL papers (Cui et al., arXiv:2305.13948) and the names used here:
``m`` (the distribution that is imitated: teacher, or the clean input in adversarial
training) is ``teacher_logits``; ``n`` (the one that learns: student, or the adversarial
input) is ``student_logits``; the paper's ``α`` (weight of the wMSE, Theorem 1) is
``alpha`` and the paper's ``β`` (weight of the soft-label cross-entropy) is ``beta``;
``τ``/``T`` is ``temperature``; the exponent of the smoother weight function is
``gamma``; the temperature of the weights (``T2`` in the code) is ``weight_temperature``.
**The published code swaps the two weights**: it returns ``beta * loss_mse + alpha *
loss_sce``. With ``convention="official"`` this module reads ``alpha``/``beta`` the way
the code does (``alpha`` multiplies the CE, ``beta`` the wMSE), so a config's ``ALPHA``
and ``BETA`` can be copied unchanged; with ``convention="book"`` they follow the paper.

The chapter ``ch-dkl`` explains all of this; :func:`pairwise_wmse_bruteforce` is the
``B×C×C`` reference used by tests, the chapter and the benchmarks only.

Large vocabularies: pass ``chunk_size=k`` to process ``k`` rows (tokens) at a time. The
value and the gradients of a chunk are computed together, so at most ``k·C`` float32
values exist at once and the only full-size tensors are the gradients, stored in the
input's dtype (no float32 copy of a bfloat16 ``(B·N, V)`` tensor). The chunked path
supports first derivatives only (no double backward).

Speed: ``dkl_loss``, ``gkl_loss``, ``ikl_loss`` and ``js_loss`` default to ``fused=True``,
a hand-written value-and-gradient kernel (no autograd graph; backward hands over the stored
gradient). On CPU it works through the rows in chunks of about
``klviz.losses._engine.FUSED_CHUNK_ELEMENTS`` (2**17) values even without ``chunk_size``, so its temporaries stay in
cache; see the Performance appendix of the book for the measurements.

Layout of the package: :mod:`~klviz.losses.checks` (argument checks),
:mod:`~klviz.losses._engine` (row selection, chunking, the fused and chunked autograd
Functions, reductions), one module per family (:mod:`~klviz.losses.kd`: KD and DKD;
:mod:`~klviz.losses.decoupled`: wMSE, DKL, IKL, GKL; :mod:`~klviz.losses.js`; :mod:`~klviz.losses.skew`: skew KL and skew reverse KL),
:mod:`~klviz.losses.class_stats`, :mod:`~klviz.losses.reference` (brute-force and teaching
forms of the wMSE) and :mod:`~klviz.losses.registry`, in which each loss is registered
where it is defined, with its metadata.
"""

from __future__ import annotations

# Import order matters only for the registry: the families register their losses in the
# order of loss_names() (kd, dkd, dkl, ikl, gkl, js, skl, srkl).
from klviz.losses.checks import REDUCTIONS
from klviz.losses.class_stats import ClassStats
from klviz.losses.kd import dkd_loss, dkd_terms, kd_loss, log1mexp
from klviz.losses.decoupled import CONVENTIONS, dkl_loss, gkl_loss, ikl_loss, wmse
from klviz.losses.js import js_loss
from klviz.losses.skew import skew_kl_loss, skew_reverse_kl_loss
from klviz.losses.reference import (
    pairwise_wmse_bruteforce,
    wmse_appendix_form,
    wmse_centred,
    wmse_cost,
    wmse_uncentred,
)
from klviz.losses.registry import (
    LOSSES,
    REGISTRY,
    Hyper,
    LossSpec,
    all_hypers,
    conventions_table,
    get_loss,
    get_spec,
    loss_names,
)

__all__ = [
    "REDUCTIONS",
    "CONVENTIONS",
    "LOSSES",
    "REGISTRY",
    "ClassStats",
    "Hyper",
    "LossSpec",
    "all_hypers",
    "conventions_table",
    "dkd_loss",
    "dkd_terms",
    "dkl_loss",
    "get_loss",
    "get_spec",
    "gkl_loss",
    "ikl_loss",
    "js_loss",
    "kd_loss",
    "skew_kl_loss",
    "skew_reverse_kl_loss",
    "log1mexp",
    "loss_names",
    "pairwise_wmse_bruteforce",
    "wmse",
    "wmse_appendix_form",
    "wmse_centred",
    "wmse_cost",
    "wmse_uncentred",
]

if __doc__ is not None:  # python -OO strips docstrings
    __doc__ += "\n" + conventions_table("rst") + "\n"
