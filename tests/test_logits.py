"""klviz.logits, klviz.examples and the vector check of klviz._checks they rest on."""

from __future__ import annotations

import numpy as np
import pytest

from klviz import _checks as checks
from klviz import examples
from klviz.logits import as_logits, logit_pair


def test_as_logits_and_pair():
    z = as_logits([1, 2, 3])
    assert z.dtype == np.float64 and z.shape == (3,)
    zt, zs = logit_pair(examples.TEN_CLASS_LOGITS, examples.KD_STUDENT_LOGITS)
    assert zt.shape == zs.shape == (10,)


@pytest.mark.parametrize("bad, match", [([1.0], "at least 2"), ([[1.0, 2.0]], "1-D"), ([1.0, np.nan], "finite"),
                                        ([1.0, np.inf], "finite")])
def test_as_logits_rejects(bad, match):
    with pytest.raises(ValueError, match=match):
        as_logits(bad, "teacher_logits")
    with pytest.raises(ValueError, match="teacher_logits"):
        as_logits(bad, "teacher_logits")


def test_pair_needs_equal_class_counts():
    with pytest.raises(ValueError, match="same number of classes"):
        logit_pair([1.0, 2.0], [1.0, 2.0, 3.0])


def test_vector_check():
    np.testing.assert_array_equal(checks.vector((1, 2), "x"), [1.0, 2.0])
    with pytest.raises(TypeError, match="x must"):
        checks.vector(["a", "b"], "x")
    with pytest.raises(ValueError, match="strictly increasing"):
        checks.vector([1.0, 1.0, 2.0], "x", increasing=True)
    with pytest.raises(ValueError, match="> 0"):
        checks.vector([1.0, 0.0], "temperatures", positive=True)


def test_examples_are_the_chapters_numbers():
    # printed in ch-probability, ch-dkl and ch-gkl: changing them changes the chapters
    assert examples.TEN_CLASS_LOGITS == (2.1, 0.5, -1.2, 3.4, 0.8, -0.5, 1.1, -2.0, 0.3, 1.8)
    assert len(examples.KD_STUDENT_LOGITS) == 10
    assert len(examples.DKL_TEACHER_LOGITS) == len(examples.DKL_STUDENT_LOGITS) == len(examples.GKL_CLASS_MEAN) == 6
    assert sum(examples.GKL_CLASS_MEAN) == pytest.approx(1.0)
    assert np.argmax(examples.TEN_CLASS_LOGITS) == np.argmax(examples.KD_STUDENT_LOGITS)
