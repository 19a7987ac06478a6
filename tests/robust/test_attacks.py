"""Attack invariants: the closed-form worst case of a linear model, feasibility, monotonicity in
steps and restarts, eps = 0 and eps = 1, and one-line errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from klviz.robust import Attack, margin, perturb, worst_case
from klviz.robust.attacks import project


def _linear(d: int, seed: int = 0) -> nn.Linear:
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(d, 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(2, d, generator=g, dtype=torch.float64))
        lin.bias.copy_(torch.randn(2, generator=g, dtype=torch.float64))
    return lin


def _box_linf(x, eps):
    return (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)


def _closed_form_linf(lin, x, y, eps):
    """max over the box [max(x-eps,0), min(x+eps,1)] of the margin z_other - z_y: a corner."""
    w, b = lin.weight.detach(), lin.bias.detach()
    v = torch.where(y[:, None] == 1, w[0] - w[1], w[1] - w[0])
    c = torch.where(y == 1, b[0] - b[1], b[1] - b[0])
    lo, hi = _box_linf(x, eps)
    return c + torch.maximum(v * lo, v * hi).sum(1)


def _closed_form_l2(lin, x, y, eps):
    """max v.(x + d) s.t. |d|_2 <= eps, -x <= d <= 1 - x: d = clip(lam v), |d| = eps (bisection on lam)."""
    w, b = lin.weight.detach(), lin.bias.detach()
    v = torch.where(y[:, None] == 1, w[0] - w[1], w[1] - w[0])
    c = torch.where(y == 1, b[0] - b[1], b[1] - b[0])
    out = []
    for vi, xi, ci in zip(v, x, c):
        def d_of(lam):
            return torch.minimum(torch.maximum(lam * vi, -xi), 1 - xi)
        lo_l, hi_l = 0.0, 1e6
        if d_of(hi_l).norm() <= eps:
            d = d_of(hi_l)
        else:
            for _ in range(200):
                mid = (lo_l + hi_l) / 2
                lo_l, hi_l = (mid, hi_l) if d_of(mid).norm() <= eps else (lo_l, mid)
            d = d_of(lo_l)
        out.append(ci + vi @ (xi + d))
    return torch.stack(out)


@pytest.mark.parametrize("eps", [0.05, 0.3])
def test_linf_pgd_reaches_the_closed_form_worst_case_with_clipping(eps):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 12, generator=g, dtype=torch.float64)
    x[:, :3] = 0.0  # pixels at the edge of [0, 1]: the clipping is active
    x[:, 3:5] = 1.0
    y = torch.randint(0, 2, (40,), generator=g)
    lin = _linear(12)
    a = Attack(eps, "linf", steps=10, step_size=eps / 4, random_start=False, early_stop=False)
    xa, m = perturb(lin, x, y, a)
    torch.testing.assert_close(m.double(), _closed_form_linf(lin, x, y, eps), rtol=0, atol=1e-6)
    torch.testing.assert_close(margin(lin(xa), y).double(), m.double())


def test_l2_pgd_reaches_the_closed_form_worst_case_with_clipping():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(20, 8, generator=g, dtype=torch.float64)
    x[:, :2] = 0.02
    x[:, 2:4] = 0.97
    y = torch.randint(0, 2, (20,), generator=g)
    lin, eps = _linear(8, seed=3), 0.8
    a = Attack(eps, "l2", steps=300, step_size=eps / 20, random_start=False, early_stop=False)
    _, m = perturb(lin, x, y, a)
    torch.testing.assert_close(m.double(), _closed_form_l2(lin, x, y, eps), rtol=0, atol=1e-4)


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("kind,loss", [("fgsm", "ce"), ("pgd", "ce"), ("pgd", "margin")])
def test_every_iterate_lies_in_the_ball_and_in_the_pixel_range(trained, digits, norm, kind, loss):
    x, y = digits[2][:200], digits[3][:200]
    eps = 0.3 if norm == "linf" else 1.5
    xa, _ = perturb(trained, x, y, Attack(eps, norm, kind=kind, loss=loss, steps=15, restarts=2))
    d = (xa - x).flatten(1)
    size = d.abs().amax(1) if norm == "linf" else d.norm(dim=1)
    assert float(size.max()) <= eps * (1 + 1e-5)
    assert float(xa.min()) >= 0.0 and float(xa.max()) <= 1.0


def test_project_is_the_euclidean_projection_onto_ball_and_box():
    from scipy.optimize import minimize

    g = torch.Generator().manual_seed(4)
    x = torch.rand(1, 5, generator=g, dtype=torch.float64)
    p = x + 0.9 * torch.randn(1, 5, generator=g, dtype=torch.float64)
    eps = 0.5
    ours = project(p, x, eps, "l2")[0].numpy()
    cons = [{"type": "ineq", "fun": lambda z: eps**2 - ((z - x[0].numpy()) ** 2).sum()}]
    ref = minimize(lambda z: ((z - p[0].numpy()) ** 2).sum(), x[0].numpy(), bounds=[(0, 1)] * 5,
                   constraints=cons, method="SLSQP", options={"ftol": 1e-14, "maxiter": 500}).x
    assert abs(((ours - p[0].numpy()) ** 2).sum() - ((ref - p[0].numpy()) ** 2).sum()) < 1e-7


@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("l2", 0.8)])
def test_more_steps_or_restarts_never_raise_robust_accuracy(trained, digits, norm, eps):
    x, y = digits[2], digits[3]
    eta = eps / 4
    by_steps = [perturb(trained, x, y, Attack(eps, norm, steps=k, step_size=eta), seed=7)[1] for k in (1, 2, 5, 10, 20)]
    for a, b in zip(by_steps, by_steps[1:]):
        assert bool((b >= a).all())  # every example's best margin only grows
    accs = [float((m < 0).float().mean()) for m in by_steps]
    assert accs == sorted(accs, reverse=True) and accs[-1] < accs[0]
    by_restarts = [perturb(trained, x, y, Attack(eps, norm, steps=5, step_size=eta, restarts=r), seed=7)[1]
                   for r in (1, 2, 4)]
    for a, b in zip(by_restarts, by_restarts[1:]):
        assert bool((b >= a).all())


def test_eps_zero_gives_clean_accuracy_and_eps_one_gives_zero(trained, digits):
    x, y = digits[2], digits[3]
    clean = float((trained(x).argmax(1) == y).float().mean())
    assert clean > 0.9
    r0 = worst_case(trained, x, y, [Attack(0.0, steps=5), Attack(0.0, kind="fgsm")])
    assert r0.robust_acc == clean == r0.clean_acc
    r1 = worst_case(trained, x, y, [Attack(1.0, steps=20, loss="margin", restarts=2)])
    assert r1.robust_acc == 0.0


def test_worst_case_is_per_example_not_the_best_single_attack(trained, digits):
    x, y = digits[2], digits[3]
    attacks = [Attack(0.1, kind="fgsm"), Attack(0.1, steps=10), Attack(0.1, steps=10, loss="margin")]
    r = worst_case(trained, x, y, attacks)
    assert r.robust_acc <= min(r.per_attack.values())
    separately = torch.stack([perturb(trained, x, y, a)[1] for a in attacks]).amax(0)
    assert r.robust_acc == float((separately < 0).float().mean())
    assert bool((margin(trained(r.x_adv), y) >= r.margins - 1e-5).all())


@pytest.mark.parametrize("kw,match", [
    ({"eps": -0.1}, "eps must lie in"),
    ({"eps": 0.1, "steps": 0}, "steps must be an int"),
    ({"eps": 0.1, "kind": "cw"}, "kind"),
    ({"eps": 0.1, "norm": "l1"}, "norm must be one of 'linf', 'l2'"),
    ({"eps": 0.1, "loss": "dlr"}, "loss"),
    ({"eps": 0.1, "restarts": 0}, "restarts"),
])
def test_bad_attack_settings_are_one_line_errors(kw, match):
    with pytest.raises(ValueError, match=match) as e:
        Attack(**kw)
    assert "\n" not in str(e.value)


def test_pixels_outside_the_unit_range_are_refused(trained):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        perturb(trained, torch.full((2, 1, 8, 8), 2.0), torch.zeros(2, dtype=torch.long), Attack(0.1))
