"""Figures of chapter ``ch-lab`` (the distillation lab): klviz.figures.lab draws what it is given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from klviz.figures.lab import accuracy_by_seed, curves_by_seed, learning_curves
from klviz.viz import figure_data

RNG = np.random.default_rng(0)
HIST = {name: RNG.uniform(0.3, 0.7, size=(3, 5)) for name in ("ce", "kd")}


def test_learning_curves_plot_the_mean_over_seeds():
    h = {"ce": np.array([[0.5, 0.6], [0.7, 0.8]]), "kd": np.array([[0.55, 0.65]])}
    ax = learning_curves(histories=h, teacher_acc=0.9).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["ce (n=2)"].get_ydata(), [60.0, 70.0])
    np.testing.assert_allclose(lines["kd (n=1)"].get_ydata(), [55.0, 65.0])
    np.testing.assert_allclose(lines["teacher"].get_ydata(), [90.0, 90.0])
    assert len(ax.collections) == 1  # one std band: only ce has more than one seed
    assert ax.get_ylabel() == "test accuracy (%)"
    with pytest.raises(ValueError, match="histories is empty"):
        learning_curves(histories={})


def test_accuracy_by_seed_marks_mean_and_std():
    fig, ax = plt.subplots()
    out = accuracy_by_seed(accuracies={"ce": [0.6, 0.62, 0.64], "kd": [0.65, 0.66, 0.70]}, ax=ax)
    assert out is fig
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ce", "kd"]
    means = [c.lines[0].get_ydata()[0] for c in ax.containers]
    np.testing.assert_allclose(means, [62.0, 67.0])


def test_explorer_changes_with_the_seed():
    ex = curves_by_seed.explorer(histories=HIST, teacher_acc=0.9)
    before = figure_data(ex.figure)
    ex.controls["seed"].value = 2
    after = figure_data(ex.figure)
    assert len(before) == len(after)
    assert any(not np.allclose(a, b) for a, b in zip(before, after))
    # the curve drawn is the chosen run's, in percent
    np.testing.assert_allclose(after[0][:, 1], 100 * HIST["ce"][2])


def test_online_slider_has_one_step_per_seed_and_frames_differ():
    seeds = [np.int64(100), np.int64(101), np.int64(102)]  # as pandas' unique() gives them
    fig = curves_by_seed.online(histories=HIST, seeds=seeds, teacher_acc=0.9)
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["100", "101", "102"]
    assert fig.layout.sliders[0].currentvalue.prefix == "seed = "
    frames = [[t for t, on in zip(fig.data, s.args[0]["visible"]) if on] for s in steps]
    np.testing.assert_allclose(frames[1][0].y, 100 * HIST["ce"][1])
    assert not np.allclose(frames[0][0].y, frames[1][0].y)
    # one y range for every seed
    assert {s.args[1]["yaxis.range"][1] for s in steps} == {100.0}


def test_wrong_seed_labels_are_rejected():
    with pytest.raises(ValueError, match="seeds"):
        curves_by_seed.online(histories=HIST, seeds=[1, 2])
