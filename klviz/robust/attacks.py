r"""Evasion attacks in pixel space: FGSM and PGD on L∞ and L2 balls, and the worst case over a set.

An attack looks for :math:`x' \in B_\varepsilon(x) \cap [0, 1]^d` that the model misclassifies,
by (projected) gradient ascent on an attack loss :math:`\ell(f(x'), y)`:

.. math::
    x^{(k+1)} = \Pi_{B_\varepsilon(x)\cap[0,1]^d}\big(x^{(k)} + \eta\, g^{(k)}\big),\qquad
    g = \operatorname{sign}\nabla_{x}\ell\ (L_\infty),\quad
    g = \nabla_{x}\ell / \lVert\nabla_{x}\ell\rVert_2\ (L_2)

(FGSM {cite}`goodfellow2015explaining` is one step of size ε from ``x``; PGD
{cite}`madry2018towards` many steps from a random start). Pixels live in [0, 1]:
normalisation belongs to the model. The two attack losses are the cross-entropy and the
margin :math:`\max_{j\ne y} z_j - z_y` (the CW loss; DLR {cite}`croce2020reliable` divides it by
a logit range, which the sign of an L∞ step does not see, so it is not offered separately).

Every iterate is scored by the margin, and each example keeps its **best iterate** (largest
margin, so a misclassifying one if any was found) over steps, restarts and attacks: robust
accuracy is the share of examples whose best iterate is still classified correctly (margin < 0),
the per-example worst case over the attacks. With a fixed step size, restarts seeded from one
generator and best iterates kept, more steps or more restarts never raise robust accuracy.
Chapter ``ch-robust``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from klviz import _checks

__all__ = ["ATTACK_LOSSES", "KINDS", "NORMS", "Attack", "WorstCase", "margin", "perturb", "project", "worst_case"]

KINDS: tuple[str, ...] = ("pgd", "fgsm")
NORMS: tuple[str, ...] = ("linf", "l2")
ATTACK_LOSSES: tuple[str, ...] = ("ce", "margin")


def margin(logits: Tensor, y: Tensor) -> Tensor:
    r"""Per-example margin :math:`\max_{j\ne y} z_j - z_y`: positive iff the example is misclassified."""
    # half precision (AMP) is scored in float32; float64 stays float64
    z = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
    zy = z.gather(1, y[:, None]).squeeze(1)
    other = z.scatter(1, y[:, None], float("-inf")).amax(1)
    return other - zy


def _attack_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    if name == "ce":
        return lambda z, y: F.cross_entropy(z.float() if z.dtype in (torch.float16, torch.bfloat16) else z, y,
                                            reduction="none")
    return margin


@dataclass(frozen=True)
class Attack:
    """One attack: its kind, ball, radius, steps, step size, restarts, loss and early stop.

    ``kind="fgsm"`` is one step of size ε without random start (``steps``, ``step_size``,
    ``restarts`` and ``random_start`` are then ignored). ``step_size=None`` means
    ``2.5·ε/steps`` (Madry et al.); a fixed step size keeps the iterates of ``k`` steps a prefix
    of those of ``k + 1``. ``early_stop`` freezes an example once it is misclassified (the
    best iterate is kept either way). Chapter ``ch-robust``.
    """

    eps: float
    norm: str = "linf"
    kind: str = "pgd"
    steps: int = 10
    step_size: float | None = None
    restarts: int = 1
    random_start: bool = True
    loss: str = "ce"
    early_stop: bool = True
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _checks.number(self.eps, "eps", low=0.0, hint="the radius of the ball: use eps >= 0, e.g. 0.1")
        _checks.choice(self.norm, "norm", NORMS)
        _checks.choice(self.kind, "kind (the attack)", KINDS)
        _checks.positive_int(self.steps, "steps", hint="use at least one attack step, e.g. steps=10")
        _checks.positive_int(self.restarts, "restarts", hint="use restarts=1 for a single run")
        if self.step_size is not None:
            _checks.positive(self.step_size, "step_size", hint="or None for 2.5*eps/steps")
        _checks.choice(self.loss, "loss (the attack loss)", ATTACK_LOSSES)

    @property
    def label(self) -> str:
        """A short description, e.g. ``PGD-20 (ce, 1 restart)``."""
        if self.name:
            return self.name
        if self.kind == "fgsm":
            return f"FGSM ({self.loss})"
        r = "restart" if self.restarts == 1 else "restarts"
        return f"PGD-{self.steps} ({self.loss}, {self.restarts} {r})"

    @property
    def eta(self) -> float:
        """The step size used."""
        if self.kind == "fgsm":
            return float(self.eps)
        return float(self.step_size) if self.step_size is not None else 2.5 * self.eps / self.steps


def _flat_norm(v: Tensor) -> Tensor:
    return v.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (v.dim() - 1)))


def project(x_adv: Tensor, x: Tensor, eps: float, norm: str) -> Tensor:
    r"""The Euclidean projection of ``x_adv`` onto :math:`B_\varepsilon(x) \cap [0, 1]^d`.

    L∞: clipping to the ball and then to [0, 1] (two boxes: their intersection is a box).
    L2: :math:`\delta = \mathrm{clip}(t\,(x_{adv} - x), -x, 1 - x)` with the largest
    :math:`t \in [0, 1]` that keeps :math:`\lVert\delta\rVert_2 \le \varepsilon` (the KKT
    conditions of the projection; ``t`` by bisection), not the common "project onto the ball,
    then clip", which is not the projection onto the intersection and stalls short of the worst
    case when clipping is active."""
    d = x_adv - x
    if norm == "linf":
        return (x + d.clamp(-eps, eps)).clamp(0.0, 1.0)
    lo, hi = -x, 1.0 - x
    shape = (-1, *([1] * (d.dim() - 1)))

    def clipped(t: Tensor) -> Tensor:
        return torch.maximum(torch.minimum(t.view(shape) * d, hi), lo)

    inside = clipped(torch.ones(len(d), dtype=d.dtype, device=d.device)).flatten(1).norm(dim=1) <= eps
    a = torch.zeros(len(d), dtype=d.dtype, device=d.device)
    b = torch.ones_like(a)
    for _ in range(60 if d.dtype == torch.float64 else 30):  # the norm grows with t: bisection
        mid = (a + b) / 2
        ok = clipped(mid).flatten(1).norm(dim=1) <= eps
        a, b = torch.where(ok, mid, a), torch.where(ok, b, mid)
    t = torch.where(inside, torch.ones_like(a), a)
    return (x + clipped(t)).clamp(0.0, 1.0)


def _random_start(x: Tensor, eps: float, norm: str, gen: torch.Generator) -> Tensor:
    shape = x.shape
    if norm == "linf":
        d = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * eps
    else:  # uniform in the L2 ball: a Gaussian direction and radius eps·U^(1/n)
        g = torch.randn(shape, generator=gen, dtype=torch.float64)
        n = g[0].numel()
        r = torch.rand(shape[0], generator=gen, dtype=torch.float64) ** (1.0 / n) * eps
        d = g / g.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (g.dim() - 1))) * r.view(-1, *([1] * (g.dim() - 1)))
    return project(x + d.to(x.device, x.dtype), x, eps, norm)


def _scores(model: nn.Module, x: Tensor, y: Tensor, loss_fn) -> tuple[Tensor, Tensor, Tensor]:
    """Margin, attack loss and its input gradient at ``x``."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        z = model(x)
        loss = loss_fn(z, y)
        (g,) = torch.autograd.grad(loss.sum(), x)
    return margin(z.detach(), y), loss.detach(), g


def perturb(model: nn.Module, x: Tensor, y: Tensor, attack: Attack, *,
            generator: torch.Generator | None = None, seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""Run ``attack`` on ``(x, y)``; return each example's best iterate and its margin.

    The candidates are ``x`` itself and every iterate of every restart; the best has the largest
    margin :math:`\max_{j\ne y} z_j - z_y` (positive: misclassified). Random starts draw from
    ``generator`` (default: a CPU generator seeded with ``seed``), restart after restart, so the
    starts of ``R`` restarts are the first ``R`` of ``R + 1``. The model is put in eval mode and
    restored. Chapter ``ch-robust``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(attack, Attack):
        raise TypeError(f"attack must be a klviz.robust.Attack, got {type(attack).__name__}")
    x = _checks.tensor(x, "x", floating=True)
    if x.numel() and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
        raise ValueError("x must be pixels in [0, 1]; put the normalisation into the model")
    gen = generator if generator is not None else torch.Generator().manual_seed(int(seed))
    was_training = model.training
    model.eval()
    loss_fn = _attack_loss(attack.loss)
    try:
        with torch.no_grad():
            best_m = margin(model(x), y)
        best_x = x.detach().clone()
        eps, norm, eta = float(attack.eps), attack.norm, attack.eta
        fgsm = attack.kind == "fgsm"
        for _ in range(1 if fgsm else attack.restarts):
            xa = x.detach().clone() if fgsm or not attack.random_start else _random_start(x, eps, norm, gen)
            active = torch.ones(len(x), dtype=torch.bool, device=x.device)
            for _ in range(1 if fgsm else attack.steps):
                m, _, g = _scores(model, xa, y, loss_fn)
                _keep(best_x, best_m, xa, m)
                if attack.early_stop:
                    active &= m <= 0
                    if not bool(active.any()):
                        break
                step = g.sign() if norm == "linf" else g / _flat_norm(g)
                nxt = project(xa + eta * step, x, eps, norm)
                mask = active.view(-1, *([1] * (x.dim() - 1)))
                xa = torch.where(mask, nxt, xa).detach()
            with torch.no_grad():
                _keep(best_x, best_m, xa, margin(model(xa), y))
    finally:
        model.train(was_training)
    return best_x, best_m


def _keep(best_x: Tensor, best_m: Tensor, xa: Tensor, m: Tensor) -> None:
    better = m > best_m
    best_m.copy_(torch.where(better, m, best_m))
    best_x.copy_(torch.where(better.view(-1, *([1] * (xa.dim() - 1))), xa.detach(), best_x))


@dataclass
class WorstCase:
    """The result of :func:`worst_case` on ``n`` examples."""

    clean_acc: float
    robust_acc: float  #: share correct under the per-example worst case over all attacks
    per_attack: dict[str, float]  #: robust accuracy of each attack alone
    margins: Tensor  #: each example's worst-case margin (positive: broken)
    x_adv: Tensor  #: each example's best iterate over all attacks


def worst_case(model: nn.Module, x: Tensor, y: Tensor, attacks: Sequence[Attack], *, seed: int = 0,
               batch_size: int = 1000) -> WorstCase:
    r"""Robust accuracy under the strongest of ``attacks``, example by example.

    .. math::
        \mathrm{acc}_{\mathrm{rob}} = \frac1n\sum_i \mathbb 1\Big[\max_{a}\ \max_{x'\in
        \mathrm{iterates}_a(x_i)} \big(\max_{j\ne y_i} z_j(x') - z_{y_i}(x')\big) < 0\Big]

    (each attack's best iterate, then the best over the attacks). Every attack starts from the
    same seed. Chapter ``ch-robust``; AutoAttack {cite}`croce2020reliable` is the same idea with
    stronger, parameter-free attacks.
    """
    attacks = list(attacks)
    if not attacks:
        raise ValueError("attacks is empty; pass at least one klviz.robust.Attack")
    _checks.positive_int(batch_size, "batch_size")
    n = len(y)
    with torch.no_grad():
        was = model.training
        model.eval()
        clean = torch.cat([margin(model(x[i:i + batch_size]), y[i:i + batch_size]) for i in range(0, n, batch_size)])
        model.train(was)
    worst_m, worst_x = clean.clone(), x.detach().clone()
    per = {}
    for a in attacks:
        ms = []
        for i in range(0, n, batch_size):
            xa, m = perturb(model, x[i:i + batch_size], y[i:i + batch_size], a, seed=seed)
            better = m > worst_m[i:i + batch_size]
            worst_x[i:i + batch_size][better] = xa[better]
            worst_m[i:i + batch_size] = torch.maximum(worst_m[i:i + batch_size], m)
            ms.append(m)
        per[a.label] = float((torch.cat(ms) < 0).float().mean())
    return WorstCase(float((clean < 0).float().mean()), float((worst_m < 0).float().mean()), per, worst_m, worst_x)
