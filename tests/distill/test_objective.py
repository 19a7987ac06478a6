"""klviz.distill.objective: each objective equals its formula computed directly."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from klviz import losses
from klviz.distill import StudentConfig, TrainConfig
from klviz.distill.objective import CrossEntropy, Distillation, build_objective

CPU = torch.device("cpu")


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g), torch.randint(0, 5, (6,), generator=g)


def test_objective_is_picked_by_name_not_by_type():
    assert isinstance(build_objective(TrainConfig(), 5, CPU), CrossEntropy)
    assert isinstance(build_objective(StudentConfig(loss="ce"), 5, CPU), CrossEntropy)
    assert isinstance(build_objective(StudentConfig(loss="kd"), 5, CPU), Distillation)


def test_cross_entropy(batch):
    s, _, y = batch
    loss, parts, ramp = build_objective(StudentConfig(loss="ce", ce_weight=0.5), 5, CPU)(s, y, None, 1, 10)
    torch.testing.assert_close(loss, 0.5 * F.cross_entropy(s, y))
    assert parts["distill"] == 0 and ramp == 0.0


@pytest.mark.parametrize("loss", ["kd", "dkd", "js", "gkl"])
def test_distillation_with_warmup(batch, loss):
    s, t, y = batch
    cfg = StudentConfig(loss=loss, teacher="t.pt", ce_weight=0.3, distill_weight=2.0, warmup_epochs=2, temperature=2.0)
    obj = build_objective(cfg, 5, CPU)
    spec = losses.get_spec(loss)
    args = (s, t, y) if spec.accepts_target else (s, t)
    kw = {"class_stats": obj.stats} if obj.stats is not None else {}
    d = spec.fn(*args, temperature=2.0, **kw)
    for step, ramp in ((1, 1 / 20), (10, 0.5), (20, 1.0), (25, 1.0)):  # 10 steps per epoch
        total, parts, r = obj(s, y, t, step, 10)
        assert r == pytest.approx(ramp)
        torch.testing.assert_close(total, 0.3 * F.cross_entropy(s, y) + ramp * 2.0 * d)
        torch.testing.assert_close(parts["distill"], d)


def test_class_statistics_carry_the_weight_temperature():
    assert build_objective(StudentConfig(loss="kd", teacher="t"), 5, CPU).stats is None
    obj = build_objective(StudentConfig(loss="gkl", teacher="t", temperature=3.0), 5, CPU)
    assert obj.stats.temperature == 3.0
    obj = build_objective(StudentConfig(loss="ikl", teacher="t", temperature=3.0, weight_temperature=2.0), 5, CPU)
    assert obj.stats.temperature == 2.0
    obj = build_objective(StudentConfig(loss="gkl", teacher="t"), 5, CPU)
    assert obj.stats.temperature == {h.name: h.default for h in losses.get_spec("gkl").hypers}["temperature"]


@pytest.mark.parametrize("loss", ["ikl", "gkl"])
def test_class_weights_off_gives_per_sample_weights(batch, loss):
    """--no-class-weights (the released configs' GI: False): no ClassStats, the loss weighs each
    sample by softmax(teacher / T_w)^gamma, here with the official convention's T_w = 100 of IKL."""
    s, t, y = batch
    hypers = {"temperature": 4.0, "weight_temperature": 100.0, "convention": "official", "beta": 8.0}
    cfg = StudentConfig(loss=loss, teacher="t.pt", class_weights=False, **hypers)
    obj = build_objective(cfg, 5, CPU)
    assert obj.stats is None and "class_stats" not in obj.kwargs
    total, parts, _ = obj(s, y, t, 1, 10)
    torch.testing.assert_close(parts["distill"], losses.get_spec(loss).fn(s, t, y, **hypers))
    on = build_objective(dataclasses.replace(cfg, class_weights=True), 5, CPU)
    assert on.stats is not None and on.stats.temperature == 100.0
    with torch.no_grad():  # uniform class rows before the first epoch: another value
        assert not torch.allclose(on(s, y, t, 1, 10)[1]["distill"], parts["distill"])
