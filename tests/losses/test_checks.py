"""Argument checks of the losses (klviz.losses.checks): every bad argument, a clear error."""

from __future__ import annotations

import pytest
import torch

from klviz.losses import (
    ClassStats,
    dkd_loss,
    dkl_loss,
    get_loss,
    gkl_loss,
    js_loss,
    kd_loss,
    loss_names,
    wmse,
)

ALL = loss_names()
pytestmark = pytest.mark.usefixtures("torch_seed")


def test_validation_errors(logit_pair, call_loss):
    s, t = logit_pair(3, 4)
    y = torch.randint(0, 4, (3,))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(3, 5\)"):
        kd_loss(s, torch.randn(3, 5))
    with pytest.raises(ValueError, match="reduction must be one of 'batchmean', 'sum', 'mean', 'none'"):
        kd_loss(s, t, reduction="avg")
    for bad_T in (0.0, -1.0, float("nan"), float("inf")):
        for name in ALL:
            with pytest.raises(ValueError, match="temperature"):
                call_loss(name, s, t, y, temperature=bad_T)
    for name in ALL:
        with pytest.raises(ValueError, match="reduction"):
            call_loss(name, s, t, y, reduction="batch_mean")
        with pytest.raises(ValueError, match="same shape"):
            call_loss(name, s, t[:, :3], y)
        with pytest.raises(ValueError, match="mask"):
            call_loss(name, s, t, y, mask=torch.ones(3))  # not bool
        with pytest.raises(ValueError, match="mask must have shape"):
            call_loss(name, s, t, y, mask=torch.ones(4, dtype=torch.bool))
        with pytest.raises(ValueError, match="chunk_size"):
            call_loss(name, s, t, y, chunk_size=0)
    with pytest.raises(TypeError, match="student_logits"):
        kd_loss(s.tolist(), t)
    with pytest.raises(ValueError, match="floating-point"):
        kd_loss(torch.ones(3, 4, dtype=torch.long), t)
    with pytest.raises(ValueError, match=r"\(B, C\) or \(B, N, C\)"):
        kd_loss(torch.randn(4), torch.randn(4))
    with pytest.raises(ValueError, match="needs target"):
        dkd_loss(s, t, None)
    with pytest.raises(ValueError, match="target values must lie in"):
        dkd_loss(s, t, torch.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        dkd_loss(s, t, y.float())
    with pytest.raises(ValueError, match="target must have shape"):
        dkd_loss(s, t, y[:2])
    with pytest.raises(ValueError, match="at least 2 classes"):
        dkd_loss(s[:, :1], t[:, :1], torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="beta must lie in"):
        js_loss(s, t, beta=1.5)
    with pytest.raises(ValueError, match="gamma"):
        gkl_loss(s, t, gamma=0.0)
    with pytest.raises(ValueError, match="weight_temperature"):
        gkl_loss(s, t, weight_temperature=-2.0)
    with pytest.raises(ValueError, match="convention must be one of 'book', 'official'"):
        gkl_loss(s, t, convention="paper")
    with pytest.raises(ValueError, match="needs target"):
        gkl_loss(s, t, class_stats=ClassStats(4))
    with pytest.raises(ValueError, match=r"class_stats must have shape \(4, 4\)"):
        gkl_loss(s, t, y, class_stats=torch.ones(3, 3))
    with pytest.raises(TypeError, match="class_stats"):
        gkl_loss(s, t, y, class_stats=[[1.0]])
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        dkl_loss(s, t, alpha=float("nan"))
    with pytest.raises(ValueError, match="unknown loss 'kl'; choose one of kd, dkd, dkl, ikl, gkl, js"):
        get_loss("kl")
    with pytest.raises(ValueError, match="num_classes"):
        ClassStats(0)
    with pytest.raises(ValueError, match="broadcast"):
        wmse(torch.ones(2, 3), torch.ones(2, 4), torch.ones(2, 3))
