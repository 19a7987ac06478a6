"""Bad input to the computation and figure helpers is a clear error naming the argument,
never a NaN, a hang or a deep traceback (the review's list)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from klviz import estimators, fitting, gradients, info, memory, support
from klviz.figures import probability
from klviz.viz import Param, show

GRID = np.linspace(-5, 5, 11)


@pytest.mark.parametrize("call, error, match", [
    (lambda: info.softmax([1.0, math.nan]), ValueError, "^logits contains NaN or \\+inf"),
    (lambda: info.log_softmax([1.0, math.inf]), ValueError, "^logits contains NaN or \\+inf"),
    (lambda: gradients.student_gradients(class_mean=[math.nan] * 6), ValueError, "^class_mean must hold finite"),
    (lambda: gradients.student_gradients(class_mean=[0.5] * 6), ValueError, "^class_mean must sum to 1"),
    (lambda: gradients.student_gradients(teacher_logits=[1, 2], student_logits=[1, 2, 3]),
     ValueError, "^teacher_logits and student_logits need the same number of classes"),
    (lambda: support.box_shift_divergences([math.nan]), ValueError, "^shifts must hold finite numbers"),
    (lambda: support.box_shift_divergences([1e12]), ValueError, "^shifts must lie in \\[0, 1000\\]"),
    (lambda: memory.logits_gigabytes(1, 1, [-5.0, 7.0]), ValueError, "^vocab must hold numbers > 0"),
    (lambda: show(None, alt=3), TypeError, "^alt must be a str"),
    (lambda: Param.range("a", "a", start=0, stop=1e12, step=1), ValueError, "^step: a slider of"),
    (lambda: estimators.kl_estimate([], "k1"), ValueError, "^log_ratio is empty"),
    (lambda: fitting.moment_match(GRID, np.zeros(3)), ValueError, "^log_p must have the grid's shape"),
    (lambda: fitting.grid_kl(GRID, np.zeros(11), np.zeros(3)), ValueError, "^log_q must have the grid's shape"),
    (lambda: fitting.fit_gaussian(GRID, np.full(11, -np.inf)), ValueError, "^log_p is -inf everywhere"),
    (lambda: probability.pmf(outcomes=[1, 2], probs=[0.5, 0.6]), ValueError, "^probs must sum to 1"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_minus_infinity_logits_still_mean_probability_zero():
    np.testing.assert_array_equal(info.softmax([1.0, -np.inf]), [1.0, 0.0])


def test_web_figure_rejects_too_few_points_per_line():
    from klviz.figures.entropy import binary_entropy

    with pytest.raises(ValueError, match="^max_points must be an int in \\[2, inf\\]"):
        binary_entropy.online(max_points=0)
