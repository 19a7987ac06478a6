r"""Adversarial training objectives: standard, PGD-AT, TRADES with KL, DKL, IKL or GKL.

With natural logits :math:`z = f(x)` and adversarial logits :math:`z' = f(x')`:

- ``standard``: :math:`\mathrm{CE}(y, z)`;
- ``pgd_at`` (Madry et al. {cite}`madry2018towards`): :math:`\mathrm{CE}(y, z')`, the inner
  maximisation ascends :math:`\mathrm{CE}(y, f(x'))` from a uniform random start;
- ``trades_kl`` (Zhang et al. {cite}`zhang2019theoretically`):
  :math:`\mathrm{CE}(y, z) + \beta\,\mathrm{KL}(\mathrm{softmax}\,z \,\Vert\, \mathrm{softmax}\,z')`:
  the natural prediction is the imitated distribution, the adversarial one the learner, and both
  receive gradients; the inner maximisation ascends the KL from :math:`x + 0.001\,\mathcal N(0, I)`;
- ``trades_dkl``, ``trades_ikl``, ``trades_gkl``: the KL replaced by
  :func:`klviz.losses.dkl_loss` / :func:`~klviz.losses.ikl_loss` / :func:`~klviz.losses.gkl_loss`
  (``convention="book"``, natural logits in the teacher's place, nothing detached but the
  weights and the CE's natural probabilities) with class-wise weights from
  :class:`klviz.losses.ClassStats` on the labels;
- ``gkl_at``: the authors' released adversarial-training script (``train_dkl_cifar10.py``,
  DKLv2) as a named setting: :math:`\mathrm{CE}(y, z) + \beta_c\,\tfrac14\sum_b\sum_{jk}
  u_{bj}u_{bk}((z_{bj}-z_{bk})-(z'_{bj}-z'_{bk}))^2 / \sum_b(\sum_j u_{bj})^2
  - \alpha_c\,\tfrac1B\sum_b \mathrm{softmax}(z_b)^\top\log\mathrm{softmax}(z'_b)` with
  :math:`u_b = \bar p_{y_b}^{\gamma}` (class means of ``softmax(z/4)`` of the previous epoch,
  uniform in the first). It is ``gkl_loss(z', z, y, convention="book", temperature=1,
  alpha=β_c·B/Σ_b(Σ_j u_bj)², beta=α_c, gamma=γ, class_stats=...)`` (the factor is per batch and
  detached); the code's ``alpha`` weighs the CE and its ``beta`` the wMSE.

The inner maximisation of the TRADES family is a named choice (``inner``): ``"kl"`` ascends the
KL (what the authors' script does: it calls its loss with the wMSE weight set to 0, leaving the
soft cross-entropy, whose input gradient is the KL's) or ``"outer"`` ascends the method's own
robust term. Chapter ``ch-robust``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from klviz import _checks
from klviz.losses import ClassStats, dkl_loss, gkl_loss
from klviz.robust.attacks import NORMS, project

__all__ = ["INNER", "METHODS", "Method", "authors_alpha", "inner_max", "robust_loss"]

METHODS: tuple[str, ...] = ("standard", "pgd_at", "trades_kl", "trades_dkl", "trades_ikl", "trades_gkl", "gkl_at")
INNER: tuple[str, ...] = ("kl", "outer")
#: methods whose loss reads class-wise weights
CLASSWISE: tuple[str, ...] = ("trades_ikl", "trades_gkl", "gkl_at")


@dataclass(frozen=True)
class Method:
    """A training method and its hyper-parameters (see the module docstring for the losses).

    ``beta``: TRADES weight of the robust term (not used by ``gkl_at``, whose weights are
    ``code_alpha`` and ``code_beta`` as the released script names them); ``alpha_w``/``beta_ce``:
    the book's α (wMSE) and β (CE) of DKL/IKL/GKL; ``gamma``: GKL's exponent of the weights.
    """

    name: str = "trades_kl"
    inner: str = "kl"
    beta: float = 6.0
    alpha_w: float = 1.0
    beta_ce: float = 1.0
    gamma: float = 1.0
    code_alpha: float = 4.0
    code_beta: float = 20.0

    def __post_init__(self) -> None:
        _checks.choice(self.name, "method", METHODS)
        _checks.choice(self.inner, "inner (the inner maximisation)", INNER)
        for k in ("beta", "alpha_w", "beta_ce", "code_alpha", "code_beta"):
            _checks.nonnegative(getattr(self, k), k)
        _checks.positive(self.gamma, "gamma")

    @property
    def classwise(self) -> bool:
        return self.name in CLASSWISE


def authors_alpha(u: Tensor, code_beta: float) -> float:
    r"""The book's :math:`\alpha = \beta_c\,B/\sum_b(\sum_j u_{bj})^2` for weights ``u`` (detached)."""
    u = u.detach().double()
    return float(code_beta * u.shape[0] / (u.sum(-1) ** 2).sum().clamp_min(1e-300))


def _robust_term(m: Method, nat: Tensor, adv: Tensor, y: Tensor, stats: ClassStats | None) -> Tensor:
    if m.name == "trades_kl":
        return F.kl_div(F.log_softmax(adv, 1), F.log_softmax(nat, 1), log_target=True, reduction="batchmean")
    if m.name == "trades_dkl":
        return dkl_loss(adv, nat, alpha=m.alpha_w, beta=m.beta_ce, fused=False)
    if m.name in ("trades_ikl", "trades_gkl"):
        g = 1.0 if m.name == "trades_ikl" else m.gamma
        return gkl_loss(adv, nat, y, alpha=m.alpha_w, beta=m.beta_ce, gamma=g, class_stats=stats,
                        convention="book", fused=False)
    if m.name == "gkl_at":
        u = stats.weights(y).to(nat.dtype) ** m.gamma
        return gkl_loss(adv, nat, y, alpha=authors_alpha(u, m.code_beta), beta=m.code_alpha, gamma=m.gamma,
                        class_stats=stats, convention="book", temperature=1.0, fused=False)
    raise ValueError(f"method {m.name!r} has no robust term")


def _full(z: Tensor) -> Tensor:
    # half-precision logits (AMP) are scored in float32; float64 stays float64 (checks)
    return z.float() if z.dtype in (torch.float16, torch.bfloat16) else z


def robust_loss(m: Method, nat: Tensor, adv: Tensor | None, y: Tensor,
                stats: ClassStats | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """The outer loss of method ``m`` and its logged parts (``ce``: natural CE, ``robust``)."""
    nat = _full(nat)
    ce = F.cross_entropy(nat, y)
    if m.name == "standard":
        return ce, {"ce": ce, "robust": torch.zeros_like(ce)}
    adv = _full(adv)
    if m.name == "pgd_at":
        r = F.cross_entropy(adv, y)
        return r, {"ce": ce, "robust": r}
    r = _robust_term(m, nat, adv, y, stats)
    w = 1.0 if m.name == "gkl_at" else m.beta
    return ce + w * r, {"ce": ce, "robust": r}


def inner_max(model: nn.Module, x: Tensor, y: Tensor, m: Method, *, eps: float, norm: str = "linf",
              steps: int = 5, step_size: float | None = None, stats: ClassStats | None = None,
              generator: torch.Generator | None = None) -> Tensor:
    r"""The training-time adversarial example of method ``m`` (its last iterate).

    ``pgd_at``: uniform start in the ball, ascent of :math:`\mathrm{CE}(y, f(x'))`; the TRADES
    family: start :math:`x + 0.001\,\mathcal N(0, I)`, ascent of
    :math:`\mathrm{KL}(\mathrm{softmax} f(x)\Vert \mathrm{softmax} f(x'))` (``inner="kl"``) or of
    the method's robust term (``inner="outer"``). L∞ steps are ``step_size·sign(g)``, L2 steps
    ``step_size·g/‖g‖``; ``step_size=None`` is ``2.5·eps/steps`` (5 steps of ε/2, the released
    script's setting). The model is evaluated in eval mode, as in the released script.
    Chapter ``ch-robust``.
    """
    _checks.nonnegative(eps, "eps", hint="the radius of the ball, e.g. 0.1")
    _checks.choice(norm, "norm", NORMS)
    _checks.positive_int(steps, "steps", hint="use at least one attack step")
    eta = 2.5 * eps / steps if step_size is None else _checks.positive(step_size, "step_size")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    if m.name == "standard" or eps == 0:
        return x.detach()
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            nat = _full(model(x))
        if m.name == "pgd_at":
            noise = (torch.rand(x.shape, generator=gen, dtype=torch.float64) * 2 - 1) * eps
        else:
            noise = 0.001 * torch.randn(x.shape, generator=gen, dtype=torch.float64)
        xa = project(x + noise.to(x.device, x.dtype), x, eps, norm)
        for _ in range(steps):
            xa = xa.detach().requires_grad_(True)
            with torch.enable_grad():
                adv = _full(model(xa))
                if m.name == "pgd_at":
                    loss = F.cross_entropy(adv, y)
                elif m.inner == "kl":
                    loss = F.kl_div(F.log_softmax(adv, 1), F.log_softmax(nat, 1), log_target=True, reduction="sum")
                else:
                    loss = _robust_term(m, nat, adv, y, stats)
                (g,) = torch.autograd.grad(loss, xa)
            if norm == "linf":
                step = g.sign()
            else:
                step = g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (g.dim() - 1)))
            xa = project(xa.detach() + eta * step, x, eps, norm)
    finally:
        model.train(was)
    return xa.detach()
