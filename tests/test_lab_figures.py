"""Figures of chapter ``ch-lab``: the seed explorer and the kernel-free seed slider."""

from __future__ import annotations

import numpy as np
import pytest

from klviz.online.lab import learning_curves_by_seed_slider
from klviz.widgets import figure_data
from klviz.widgets.lab import learning_curves_explorer

RNG = np.random.default_rng(0)
HIST = {name: RNG.uniform(0.3, 0.7, size=(3, 5)) for name in ("ce", "kd")}


def test_explorer_changes_with_the_seed():
    ex = learning_curves_explorer(HIST, teacher_acc=0.9)
    before = figure_data(ex.figure)
    ex.controls["seed_index"].value = 2
    after = figure_data(ex.figure)
    assert len(before) == len(after)
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    # the curve drawn is the chosen run's, in percent
    np.testing.assert_allclose(after[0][:, 1], 100 * HIST["ce"][2])


def test_online_slider_has_one_step_per_seed_and_frames_differ():
    fig = learning_curves_by_seed_slider(HIST, seeds=[100, 101, 102], teacher_acc=0.9)
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["seed 100", "seed 101", "seed 102"]
    assert len(fig.data) == 3 * 3  # two losses and the teacher line, per seed
    np.testing.assert_allclose(fig.data[3].y, 100 * HIST["ce"][1])
    assert not np.allclose(fig.data[0].y, fig.data[3].y)


def test_online_slider_rejects_wrong_seed_labels():
    with pytest.raises(ValueError, match="seeds"):
        learning_curves_by_seed_slider(HIST, seeds=[1, 2])
