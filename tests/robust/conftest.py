"""Fixtures of the robustness tests: a small MLP trained on digits pixels (once per session)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from klviz.distill.data import digits_split


@pytest.fixture(scope="session")
def digits():
    d = digits_split()
    return (torch.from_numpy(d.raw_train.reshape(-1, 1, 8, 8)), torch.from_numpy(d.y_train),
            torch.from_numpy(d.raw_test.reshape(-1, 1, 8, 8)), torch.from_numpy(d.y_test))


@pytest.fixture(scope="session")
def trained(digits):
    """An MLP trained for 150 full-batch Adam steps on clean digits (about 95 % test accuracy)."""
    x, y, _, _ = digits
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return net.eval()
