"""Figures of chapter ``ch-cross-entropy`` (Cross-entropy): klviz.figures.crossentropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from klviz.figures.crossentropy import bce, logits_memory, smoothing
from klviz.viz import figure_data


def test_smoothing_figure_data():
    hard, smooth, point = smoothing(epsilon=0.1, num_classes=10).axes[0].get_lines()[:3]
    np.testing.assert_allclose(hard.get_ydata(), -np.log(hard.get_xdata()), rtol=1e-10)
    assert point.get_xdata()[0] == pytest.approx(0.91)
    assert point.get_ydata()[0] == pytest.approx(-(0.91 * np.log(0.91) + 9 * 0.01 * np.log(0.01)))
    assert np.all(smooth.get_ydata() >= point.get_ydata()[0] - 1e-12)


def test_bce_gradient_is_sigmoid_minus_y():
    lines = bce().axes[0].get_lines()
    zt = torch.tensor(lines[0].get_xdata(), requires_grad=True)
    F.binary_cross_entropy_with_logits(zt, torch.ones_like(zt), reduction="sum").backward()
    np.testing.assert_allclose(lines[0].get_ydata(), -F.logsigmoid(zt).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(lines[1].get_ydata(), zt.grad.numpy(), atol=1e-12)


def test_logits_memory_figure():
    fp32 = logits_memory(batch=16, seq_len=1024, budget_gb=10.0).axes[0].get_lines()[0].get_xydata()
    np.testing.assert_allclose(fp32[:, 1], 16 * 1024 * fp32[:, 0] * 4 / 1e9)


def test_bad_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        smoothing(epsilon=1.5)
    with pytest.raises(ValueError, match="num_classes"):
        smoothing(epsilon=0.1, num_classes=1)
    with pytest.raises(ValueError, match="z_max"):
        bce(z_max=0.0)


@pytest.mark.parametrize("spec, name, value", [
    (smoothing, "epsilon", 0.3),
    (smoothing, "num_classes", 50),
    (logits_memory, "batch", 64),
    (logits_memory, "budget_gb", 40.0),
])
def test_explorers_redraw(spec, name, value):
    ex = spec.explorer()
    before = figure_data(ex.figure)
    ex.controls[name].value = value
    after = figure_data(ex.figure)
    assert len(before) != len(after) or any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(before, after))


def test_online_slider():
    fig = smoothing.online()
    n = 11  # epsilon = 0, 0.05, ..., 0.5
    assert len(fig.layout.sliders[0].steps) == n and len(fig.data) == 3 * n
    assert fig.layout.sliders[0].active == 2  # epsilon = 0.1
    smooth = [np.asarray(fig.data[3 * i + 1].y) for i in range(n)]
    assert all(not np.allclose(smooth[i], smooth[i + 1]) for i in range(n - 1))
    np.testing.assert_allclose(smooth[0], np.asarray(fig.data[0].y))  # epsilon = 0 is the hard label
