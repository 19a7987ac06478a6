"""Fixtures of the trainer's tests: CIFAR files in the official format, a data cache per module."""

from __future__ import annotations

import pickle

import numpy as np
import pytest


def _write_fake_cifar(root, name: str, n_per_batch: int = 8, seed: int = 0):
    """Tiny files in the exact format of the official python-version archives."""
    rng = np.random.default_rng(seed)
    if name == "cifar10":
        folder = root / "cifar-10-batches-py"
        files, key, classes = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], b"labels", 10
    else:
        folder = root / "cifar-100-python"
        files, key, classes = ["train", "test"], b"fine_labels", 100
    folder.mkdir(parents=True)
    written = {}
    for f in files:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, classes, n_per_batch).tolist()
        d = {b"batch_label": f.encode(), b"data": data, key: labels, b"filenames": [b"x.png"] * n_per_batch}
        if name == "cifar100":
            d[b"coarse_labels"] = [v // 5 for v in labels]
        with open(folder / f, "wb") as fh:
            pickle.dump(d, fh, protocol=2)
        written[f] = (data, labels)
    return folder, written


@pytest.fixture
def fake_cifar():
    """``fake_cifar(root, "cifar10" | "cifar100", n_per_batch=8)`` -> ``(folder, {file: (data, labels)})``."""
    return _write_fake_cifar


@pytest.fixture
def fresh_data_memo():
    """Forget the data sets loaded so far (so a test reads its own files)."""
    from klviz.distill import data

    data.clear_cache()
    yield
    data.clear_cache()
