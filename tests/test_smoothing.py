"""klviz.smoothing: label smoothing against torch's label_smoothing and the closed-form minimum."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from klviz.smoothing import smoothed_ce_curve, smoothed_target


def test_smoothed_ce_matches_torch_label_smoothing():
    c, eps = 7, 0.2
    q_true = np.array([0.05, 0.5, 0.9])
    got = smoothed_ce_curve(q_true, epsilon=eps, num_classes=c)
    q = np.empty((3, c))
    q[:, 0] = q_true
    q[:, 1:] = ((1 - q_true) / (c - 1))[:, None]
    ref = F.cross_entropy(torch.tensor(np.log(q)), torch.zeros(3, dtype=torch.long),
                          label_smoothing=eps, reduction="none").numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_smoothed_target_sums_to_one_and_minimum_location():
    p = smoothed_target(2, epsilon=0.1, num_classes=5)
    assert p.sum() == pytest.approx(1.0) and p[2] == pytest.approx(0.92)
    q = np.linspace(0.5, 0.999, 20001)
    loss = smoothed_ce_curve(q, epsilon=0.1, num_classes=10)
    assert q[np.argmin(loss)] == pytest.approx(0.91, abs=1e-4)


def test_bad_smoothing_arguments():
    with pytest.raises(ValueError, match="epsilon"):
        smoothed_target(0, epsilon=1.5, num_classes=10)
    with pytest.raises(ValueError, match="num_classes"):
        smoothed_target(0, epsilon=0.1, num_classes=1)
    with pytest.raises(TypeError, match="num_classes"):
        smoothed_ce_curve(np.array([0.5]), epsilon=0.1, num_classes=2.5)
    with pytest.raises(ValueError, match="label"):
        smoothed_target(5, epsilon=0.1, num_classes=5)
    with pytest.raises(ValueError, match="q_true"):
        smoothed_ce_curve(np.array([1.5]), epsilon=0.1, num_classes=3)
