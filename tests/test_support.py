"""klviz.support: divergences as the supports stop overlapping, against scipy (ch-kl)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from klviz.support import box_shift_divergences, kl_blowup_curves


def test_kl_blowup_curves():
    eps = np.array([1e-3, 1e-6, 1e-9, 0.0])
    c = kl_blowup_curves(eps, 0.2)
    ref = [stats.entropy([0.2, 0.8], [e, 1 - e]) for e in eps]
    np.testing.assert_allclose(c["forward"], ref, rtol=1e-12)
    assert np.isinf(c["forward"][-1])
    assert np.all(c["js"] <= np.log(2)) and np.all(np.isfinite(c["reverse"]))
    np.testing.assert_allclose(c["js"][:3], [jensenshannon([0.2, 0.8], [e, 1 - e]) ** 2 for e in eps[:3]], rtol=1e-9)
    np.testing.assert_allclose(c["forward"][:3], c["asymptote"][:3], atol=1e-2)


def test_box_shift_divergences():
    d = box_shift_divergences(np.array([0.0, 0.25, 0.5, 1.0, 2.0]))
    assert d["kl"][0] == 0 and np.all(np.isinf(d["kl"][1:]))
    np.testing.assert_allclose(d["js"], np.minimum(d["shift"], 1.0) * np.log(2), atol=1e-12)
    np.testing.assert_allclose(d["wasserstein"], d["shift"], atol=1e-12)


def test_bad_support_arguments():
    with pytest.raises(ValueError, match="p_rare"):
        kl_blowup_curves(np.array([0.1]), 1.0)
    with pytest.raises(ValueError, match="eps"):
        kl_blowup_curves(np.array([1.5]))
    with pytest.raises(ValueError, match="shifts"):
        box_shift_divergences(np.array([-1.0]))
    with pytest.raises(ValueError, match="n_per_unit"):
        box_shift_divergences(np.array([1.0]), n_per_unit=0)
