"""klviz.plots.lab: the lab's figures draw what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from klviz.plots.lab import accuracy_by_seed, learning_curves  # noqa: E402


def test_learning_curves_plot_the_mean_over_seeds():
    h = {"ce": np.array([[0.5, 0.6], [0.7, 0.8]]), "kd": np.array([[0.55, 0.65]])}
    fig = learning_curves(h, teacher_acc=0.9)
    ax = fig.axes[0]
    lines = {l.get_label(): l for l in ax.get_lines()}
    np.testing.assert_allclose(lines["ce (n=2)"].get_ydata(), [60.0, 70.0])
    np.testing.assert_allclose(lines["kd (n=1)"].get_ydata(), [55.0, 65.0])
    np.testing.assert_allclose(lines["teacher"].get_ydata(), [90.0, 90.0])
    assert len(ax.collections) == 1  # one std band: only ce has more than one seed
    plt.close(fig)
    with pytest.raises(ValueError, match="histories is empty"):
        learning_curves({})


def test_accuracy_by_seed_marks_mean_and_std():
    fig, ax = plt.subplots()
    out = accuracy_by_seed({"ce": [0.6, 0.62, 0.64], "kd": [0.65, 0.66, 0.70]}, ax=ax)
    assert out is fig
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ce", "kd"]
    means = [c.lines[0].get_ydata()[0] for c in ax.containers]
    np.testing.assert_allclose(means, [62.0, 67.0])
    plt.close(fig)
