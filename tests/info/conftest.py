"""Fixtures of the tests of klviz.info: every test starts from the same seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

SEED = 0


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(SEED)
    torch.manual_seed(SEED)
