"""The GPU recipe's path on tiny CIFAR-format files: uint8 images scaled to [0, 1], augmented,
normalised inside the model, attacked in pixel space."""

from __future__ import annotations

import pickle

import numpy as np
import torch

from klviz.distill.data import clear_cache
from klviz.robust import RobustConfig, load_robust_model, train_robust
from klviz.robust.train import Normalize


def _fake_cifar10(root, n=8, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for f in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"labels": rng.integers(0, 10, n).tolist()}
        with open(folder / f, "wb") as fh:
            pickle.dump(d, fh, protocol=2)


def test_cifar_run_normalises_inside_the_model(tmp_path):
    torch.set_num_threads(1)
    _fake_cifar10(tmp_path / "data")
    clear_cache()
    cfg = RobustConfig(dataset="cifar10", data_dir=str(tmp_path / "data"), model="resnet8", epochs=2,
                       batch_size=8, method="gkl_at", eps=8 / 255, eps_schedule="linear", optimizer="sgd",
                       lr=0.05, run_dir=str(tmp_path / "run"), progress=False, eval_steps=2)
    res = train_robust(cfg)
    assert [round(h["eps"], 6) for h in res.history] == [round(4 / 255, 6), round(8 / 255, 6)]
    assert 0.0 <= res.history[-1]["test_robust_acc"] <= res.history[-1]["test_acc"]
    model = load_robust_model(str(res.last_path))
    assert isinstance(model[0], Normalize)
    clear_cache()
