"""Figures, explorers and online slider of chapter ``ch-cross-entropy`` (Cross-entropy)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from klviz.online.crossentropy import DEFAULT_EPSILONS, smoothing_slider
from klviz.plots.crossentropy import bce_figure, ce_smoothing_figure, logits_memory_figure
from klviz.widgets import figure_data
from klviz.widgets.crossentropy import memory_explorer, smoothing_explorer


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_ce_smoothing_figure_data():
    fig = ce_smoothing_figure(0.1, 10)
    assert isinstance(fig, Figure)
    hard, smooth, point = fig.axes[0].get_lines()[:3]
    np.testing.assert_allclose(hard.get_ydata(), -np.log(hard.get_xdata()), rtol=1e-10)
    assert point.get_xdata()[0] == pytest.approx(0.91)
    assert point.get_ydata()[0] == pytest.approx(-(0.91 * np.log(0.91) + 9 * 0.01 * np.log(0.01)))
    assert np.all(smooth.get_ydata() >= point.get_ydata()[0] - 1e-12)


def test_bce_figure_gradient_is_sigmoid_minus_y():
    lines = bce_figure().axes[0].get_lines()
    z = lines[0].get_xdata()
    zt = torch.tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(zt, torch.ones_like(zt), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(lines[0].get_ydata(), -F.logsigmoid(zt).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(lines[1].get_ydata(), zt.grad.numpy(), atol=1e-12)


def test_logits_memory_figure():
    fig = logits_memory_figure(16, 1024, 10.0)
    fp32 = fig.axes[0].get_lines()[0].get_xydata()
    np.testing.assert_allclose(fp32[:, 1], 16 * 1024 * fp32[:, 0] * 4 / 1e9)


def test_bad_smoothing_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        ce_smoothing_figure(1.5)
    with pytest.raises(ValueError, match="num_classes"):
        ce_smoothing_figure(0.1, 1)


@pytest.mark.parametrize("make, name, value", [
    (smoothing_explorer, "epsilon", 0.3),
    (smoothing_explorer, "num_classes", 50),
    (memory_explorer, "batch", 64),
    (memory_explorer, "budget_gb", 40.0),
])
def test_explorers_redraw(make, name, value):
    ex = make()
    before = figure_data(ex.figure)
    ex.controls[name].value = value
    after = figure_data(ex.figure)
    assert len(before) != len(after) or any(
        a.shape != b.shape or not np.allclose(a, b) for a, b in zip(before, after)
    )


def test_online_slider():
    fig = smoothing_slider()
    n = len(DEFAULT_EPSILONS)
    assert len(fig.layout.sliders[0].steps) == n
    assert len(fig.data) == 3 * n
    smooth = [np.asarray(fig.data[3 * i + 1].y) for i in range(n)]
    assert all(not np.allclose(smooth[i], smooth[i + 1]) for i in range(n - 1))
    np.testing.assert_allclose(smooth[0], np.asarray(fig.data[0].y))  # epsilon = 0 is the hard label
    assert sum(t.visible for t in fig.data) == 3
