"""TRADES objectives against independent transcriptions (float64): the authors' released
adversarial-training losses (DKLv1 and DKLv2 ``train_dkl_cifar10.py``), TRADES-KL, and the
inner maximisation's direction."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from klviz.losses import ClassStats
from klviz.robust import Method, inner_max, robust_loss


def _authors_v2(logits_student, logits_teacher, class_prior, alpha, beta, gamma, temperature=1.0):
    """DKLv2/Adv-training-dkl/train_dkl_cifar10.py, dkl_loss, transcribed (B x C x C form)."""
    C = logits_teacher.size(1)
    delta_n = logits_teacher.view(-1, C, 1) - logits_teacher.view(-1, 1, C)
    delta_a = logits_student.view(-1, C, 1) - logits_student.view(-1, 1, C)
    with torch.no_grad():
        prior = torch.pow(class_prior, gamma)
        p_n = prior.view(-1, C, 1) @ prior.view(-1, 1, C)
    loss_mse = 0.25 * (torch.pow(delta_n - delta_a, 2) * p_n).sum() / p_n.sum()
    loss_sce = -(F.softmax(logits_teacher / temperature, dim=1).detach()
                 * F.log_softmax(logits_student / temperature, dim=-1)).sum(1).mean()
    return beta * loss_mse + alpha * loss_sce


def _authors_v1(logits_nat, logits_adv, weight, alpha, beta):
    """DKLv1/Adv-training-dkl/train_dkl_cifar10.py, dkl_loss, transcribed."""
    C = logits_nat.size(1)
    delta_n = logits_nat.view(-1, C, 1) - logits_nat.view(-1, 1, C)
    delta_a = logits_adv.view(-1, C, 1) - logits_adv.view(-1, 1, C)
    loss_mse = 0.25 * (torch.pow(delta_n - delta_a, 2) * weight).sum() / logits_nat.size(0)
    loss_sce = -(F.softmax(logits_nat, dim=1).detach() * F.log_softmax(logits_adv, dim=-1)).sum(1).mean()
    return beta * loss_mse + alpha * loss_sce


def _data(B=16, C=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    nat = (3 * torch.randn(B, C, generator=g, dtype=torch.float64)).requires_grad_(True)
    adv = (nat.detach() + torch.randn(B, C, generator=g, dtype=torch.float64)).requires_grad_(True)
    y = torch.randint(0, C, (B,), generator=g)
    table = torch.rand(C, C, generator=g, dtype=torch.float64) ** 3
    table = table / table.sum(1, keepdim=True)  # the script normalises its WEIGHT rows
    return nat, adv, y, table


def _value_and_grads(fn, nat, adv):
    v = fn(nat, adv)
    gn, ga = torch.autograd.grad(v, [nat, adv])
    return v.detach(), gn, ga


@pytest.mark.parametrize("gamma", [1.0, 0.5, 0.2])
@pytest.mark.parametrize("code_alpha,code_beta", [(4.0, 20.0), (3.0, 12.0)])
def test_gkl_at_equals_the_released_v2_loss_value_and_both_gradients(gamma, code_alpha, code_beta):
    nat, adv, y, table = _data()
    stats = ClassStats(10, temperature=4.0).double()
    stats.means.copy_(table)
    m = Method("gkl_at", gamma=gamma, code_alpha=code_alpha, code_beta=code_beta)
    ours = _value_and_grads(lambda n, a: robust_loss(m, n, a, y, stats)[0], nat, adv)
    ref = _value_and_grads(lambda n, a: F.cross_entropy(n, y) + _authors_v2(
        a, n, F.one_hot(y, 10).double() @ table, code_alpha, code_beta, gamma), nat, adv)
    for o, r in zip(ours, ref):
        torch.testing.assert_close(o, r, rtol=1e-13, atol=1e-15)
    assert float(ref[1].abs().sum()) > 0  # the natural logits are trained through the wMSE too


def test_gkl_at_with_gamma_one_equals_the_released_v1_loss():
    nat, adv, y, table = _data(seed=1)
    stats = ClassStats(10).double()
    stats.means.copy_(table)
    s_n = F.one_hot(y, 10).double() @ table
    weight = s_n.view(-1, 10, 1) @ s_n.view(-1, 1, 10)
    m = Method("gkl_at")
    ours = _value_and_grads(lambda n, a: robust_loss(m, n, a, y, stats)[0], nat, adv)
    ref = _value_and_grads(lambda n, a: F.cross_entropy(n, y) + _authors_v1(n, a, weight, 4.0, 20.0), nat, adv)
    for o, r in zip(ours, ref):
        torch.testing.assert_close(o, r, rtol=1e-13, atol=1e-15)


def test_class_statistics_match_the_scripts_running_weight():
    """ClassStats(T=4) on (natural logits, labels) = the script's WEIGHT / WEIGHT.sum(1); uniform first."""
    g = torch.Generator().manual_seed(5)
    stats = ClassStats(10, temperature=4.0).double()
    assert torch.allclose(stats.weights(torch.arange(10)), torch.full((10, 10), 0.1, dtype=torch.float64))
    WEIGHT = torch.zeros(10, 10, dtype=torch.float64)
    for _ in range(4):
        logits = torch.randn(50, 10, generator=g, dtype=torch.float64) * 3
        y = torch.cat([torch.arange(10), torch.randint(0, 10, (40,), generator=g)])
        WEIGHT = WEIGHT + F.one_hot(y, 10).double().t() @ F.softmax(logits / 4.0, dim=-1)
        stats.update(logits, y)
    stats.end_epoch()
    # ClassStats takes the softmax in float32 (it accumulates in float64): agreement to float32
    torch.testing.assert_close(stats.means, WEIGHT / WEIGHT.sum(dim=1, keepdim=True), rtol=1e-6, atol=1e-7)


def test_trades_kl_is_zhang_et_al_and_trades_dkl_has_its_gradients():
    nat, adv, y, _ = _data(seed=2)

    def zhang(n, a):  # TRADES: CE + beta * KL(nat || adv), batchmean, both sides trained
        kl = (F.softmax(n, 1) * (F.log_softmax(n, 1) - F.log_softmax(a, 1))).sum(1).mean()
        return F.cross_entropy(n, y) + 6.0 * kl

    ref = _value_and_grads(zhang, nat, adv)
    ours = _value_and_grads(lambda n, a: robust_loss(Method("trades_kl"), n, a, y)[0], nat, adv)
    for o, r in zip(ours, ref):
        torch.testing.assert_close(o, r, rtol=1e-12, atol=1e-14)
    dkl = _value_and_grads(lambda n, a: robust_loss(Method("trades_dkl"), n, a, y)[0], nat, adv)
    torch.testing.assert_close(dkl[1], ref[1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(dkl[2], ref[2], rtol=1e-10, atol=1e-12)


def test_inner_kl_step_is_the_released_scripts_step():
    """One L∞ step of inner="kl" = the script's perturb_input (its loss with alpha=1, beta=0)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 10)).double()
    x = torch.rand(8, 1, 4, 4, dtype=torch.float64)
    y = torch.randint(0, 10, (8,))
    eps, eta = 0.1, 0.05
    ours = inner_max(net, x, y, Method("trades_ikl"), eps=eps, steps=1, step_size=eta,
                     generator=torch.Generator().manual_seed(3))
    noise = 0.001 * torch.randn(x.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    xa = (x + noise).clamp(0, 1).requires_grad_(True)  # our start stays in [0, 1]
    loss = _authors_v1(net(x), net(xa), torch.ones(8, 10, 10, dtype=torch.float64), 1.0, 0.0)
    (g,) = torch.autograd.grad(loss, xa)
    ref = torch.min(torch.max(xa.detach() + eta * g.sign(), x - eps), x + eps).clamp(0, 1)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-15)


def test_inner_outer_differs_from_inner_kl_for_gkl():
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 10)).double()
    x = torch.rand(32, 1, 4, 4, dtype=torch.float64)
    y = torch.randint(0, 10, (32,))
    stats = ClassStats(10).double()
    kw = {"eps": 0.2, "steps": 3, "stats": stats}
    a = inner_max(net, x, y, Method("trades_gkl", inner="kl"), generator=torch.Generator().manual_seed(0), **kw)
    b = inner_max(net, x, y, Method("trades_gkl", inner="outer"), generator=torch.Generator().manual_seed(0), **kw)
    assert not torch.equal(a, b)


@pytest.mark.parametrize("kw,match", [({"name": "fgsm_at"}, "method must be one of"),
                                      ({"inner": "ce"}, "inner"), ({"beta": -1.0}, "beta")])
def test_bad_methods_are_one_line_errors(kw, match):
    with pytest.raises(ValueError, match=match) as e:
        Method(**kw)
    assert "\n" not in str(e.value)
