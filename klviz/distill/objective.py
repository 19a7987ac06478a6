r"""Training objectives of a classifier: labels alone, or labels plus a teacher.

- ``"ce"``: :math:`\mathcal L = w_{\mathrm{CE}}\,\mathrm{CE}(y, s)` (a teacher run, or a student
  without a teacher);
- ``"distill"``: :math:`\mathcal L = w_{\mathrm{CE}}\,\mathrm{CE}(y, s) + \lambda(t)\, w_{\mathrm{D}}\, \ell(s, t)`
  with :math:`\ell` a registered loss of :mod:`klviz.losses` and :math:`\lambda(t)` rising linearly
  from 0 to 1 over ``warmup_epochs`` (per optimisation step), as DKD {cite}`zhao2022decoupled` does.

A config names its objective (:attr:`klviz.distill.TrainConfig.objective`) and
:func:`build_objective` looks it up in :data:`OBJECTIVES`; a new objective (an adversarial
loss, a KL on a language model's tokens) is a class with the same call signature, added there.
Chapter ``ch-lab`` (the distillation lab) compares them.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from klviz.losses import get_spec

__all__ = ["OBJECTIVES", "CrossEntropy", "Distillation", "Objective", "build_objective", "uses_class_stats"]


def uses_class_stats(loss: str) -> bool:
    """Whether registered loss ``loss`` takes class-wise weights (a ``class_stats`` argument: IKL, GKL).

    The registry has no entry for that argument (it is running state, not a hyper-parameter),
    so the loss's signature tells.
    """
    return "class_stats" in inspect.signature(get_spec(loss).fn).parameters


class Objective(Protocol):
    """What the classification task asks of an objective."""

    #: whether the objective reads teacher logits (the task then loads and runs the teacher)
    needs_teacher: bool
    #: a module with running state to checkpoint and all-reduce (class statistics), or ``None``
    stats: torch.nn.Module | None

    def __call__(self, logits: torch.Tensor, target: torch.Tensor, teacher_logits: torch.Tensor | None,
                 step: int, steps_per_epoch: int) -> tuple[torch.Tensor, dict[str, torch.Tensor], float]:
        """``(loss, parts, ramp)``: the loss to minimise, its logged parts (``ce``, ``distill``)
        and the weight of the distillation term at optimisation ``step`` (counted from 1)."""


class CrossEntropy:
    """``ce_weight * CE(y, s)``: training on labels alone."""

    needs_teacher = False
    stats = None

    def __init__(self, ce_weight: float = 1.0) -> None:
        self.ce_weight = ce_weight

    @classmethod
    def from_config(cls, cfg: Any, num_classes: int, device: torch.device) -> CrossEntropy:
        return cls(getattr(cfg, "ce_weight", 1.0))

    def __call__(self, logits, target, teacher_logits, step, steps_per_epoch):
        ce = F.cross_entropy(logits.float(), target)
        return self.ce_weight * ce, {"ce": ce, "distill": torch.zeros_like(ce)}, 0.0


class Distillation:
    """``ce_weight * CE + ramp * distill_weight * loss(student, teacher)`` with a registered loss.

    For IKL/GKL it keeps the teacher's running class means (:class:`klviz.losses.ClassStats`,
    the class-wise weights); ``class_weights=False`` (``--no-class-weights``, the released
    configs' ``GI: False``) leaves them out, so the loss weighs each sample by
    ``softmax(teacher / T_w)^gamma``.
    """

    needs_teacher = True

    def __init__(self, loss: str, hypers: dict[str, Any], *, ce_weight: float = 1.0, distill_weight: float = 1.0,
                 warmup_epochs: int = 0, class_weights: bool = True, num_classes: int = 0,
                 device: torch.device | None = None) -> None:
        from klviz.losses import ClassStats

        spec = get_spec(loss)
        self.fn, self.kwargs, self.pass_target = spec.fn, dict(hypers), spec.accepts_target
        self.ce_weight, self.distill_weight, self.warmup_epochs = ce_weight, distill_weight, warmup_epochs
        self.stats = None
        # class-wise losses (IKL/GKL) read running class means of the teacher, unless switched off
        # (class_weights=False: the loss then weights each sample by softmax(teacher / T_w)^gamma)
        if class_weights and uses_class_stats(loss):
            defaults = {h.name: h.default for h in spec.hypers}
            # the class means replace softmax(teacher / T_w): they carry the weight temperature
            t = hypers.get("weight_temperature") or hypers.get("temperature") or defaults["temperature"]
            self.stats = ClassStats(num_classes, temperature=t).to(device)
            self.kwargs["class_stats"] = self.stats

    @classmethod
    def from_config(cls, cfg: Any, num_classes: int, device: torch.device) -> Distillation:
        hypers = {k: getattr(cfg, k) for k in get_spec(cfg.loss).hyper_names() if getattr(cfg, k) is not None}
        return cls(cfg.loss, hypers, ce_weight=cfg.ce_weight, distill_weight=cfg.distill_weight,
                   warmup_epochs=cfg.warmup_epochs, class_weights=getattr(cfg, "class_weights", True),
                   num_classes=num_classes, device=device)

    def __call__(self, logits, target, teacher_logits, step, steps_per_epoch):
        w = self.warmup_epochs
        ramp = min(1.0, step / (w * steps_per_epoch)) if w else 1.0
        logits = logits.float()
        ce = F.cross_entropy(logits, target)
        if self.pass_target:
            d = self.fn(logits, teacher_logits, target, **self.kwargs)
        else:
            d = self.fn(logits, teacher_logits, **self.kwargs)
        return self.ce_weight * ce + ramp * self.distill_weight * d, {"ce": ce, "distill": d}, ramp


#: objective name -> class with ``from_config(cfg, num_classes, device)``
OBJECTIVES: dict[str, Any] = {"ce": CrossEntropy, "distill": Distillation}


def build_objective(cfg: Any, num_classes: int, device: torch.device) -> Objective:
    """The objective ``cfg.objective`` names, set up from ``cfg``."""
    return OBJECTIVES[cfg.objective].from_config(cfg, num_classes, device)
