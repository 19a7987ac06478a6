"""Adversarial robustness: attacks in pixel space, adversarial-training objectives, a trainer.

- :mod:`klviz.robust.attacks` -- FGSM and PGD (L∞, L2), the worst case over a set of attacks
- :mod:`klviz.robust.methods` -- standard, PGD-AT, TRADES with KL, DKL, IKL, GKL; the authors' setting
- :mod:`klviz.robust.train` -- :class:`RobustConfig`, :class:`RobustTask`, ``python -m klviz.distill robust``
- :mod:`klviz.robust.experiment` -- the digits experiment of the chapter (methods x eps x seeds)

Chapter ``ch-robust``.
"""

from klviz.robust.attacks import ATTACK_LOSSES, KINDS, NORMS, Attack, WorstCase, margin, perturb, worst_case
from klviz.robust.methods import INNER, METHODS, Method, authors_alpha, inner_max, robust_loss
from klviz.robust.train import RobustConfig, RobustTask, default_attacks, load_robust_model, train_robust

__all__ = ["ATTACK_LOSSES", "INNER", "KINDS", "METHODS", "NORMS", "Attack", "Method", "RobustConfig",
           "RobustTask", "WorstCase", "authors_alpha", "default_attacks", "inner_max", "load_robust_model",
           "margin", "perturb", "robust_loss", "train_robust", "worst_case"]
