"""The extension point: a task that is not a classifier runs under the same loop, checkpoints and resume."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from klviz.distill import TrainConfig, fit
from klviz.distill.checkpoint import load_checkpoint
from klviz.distill.task import StepResult, Task

W = torch.tensor([1.0, -2.0, 0.5])


class Regression(Task):
    """Least squares on y = x w: the loop knows nothing of classes or teachers."""

    monitor = "test_score"

    def setup(self, rt):
        super().setup(rt)
        g = torch.Generator().manual_seed(0)
        self.x, self.x_test = torch.randn(64, 3, generator=g), torch.randn(32, 3, generator=g)
        self.y, self.y_test = self.x @ W, self.x_test @ W

    def build_model(self):
        return nn.Linear(3, 1)

    def num_train(self):
        return len(self.y)

    def step(self, net, idx, step, steps_per_epoch):
        mse = ((net(self.x[idx]).squeeze(1) - self.y[idx]) ** 2).mean()
        return StepResult(mse, {"mse": mse}, None, len(idx), {"step": float(step)})

    @torch.no_grad()
    def evaluate(self, model):
        mse = float(((model(self.x_test).squeeze(1) - self.y_test) ** 2).mean())
        return {"test_mse": mse, "test_score": -mse}


def _cfg(tmp_path, name, **kw):
    return TrainConfig(run_dir=str(tmp_path / name), epochs=4, batch_size=16, lr=0.05, schedule="constant",
                       progress=False, **kw)


def test_a_regression_task_trains_checkpoints_and_resumes(tmp_path):
    full = fit(_cfg(tmp_path, "full"), Regression(_cfg(tmp_path, "full")))
    h = full.history
    assert [r["step"] for r in h] == [4.0, 8.0, 12.0, 16.0]  # the last step's value, as logged
    assert "train_acc" not in h[0] and h[-1]["train_mse"] < h[0]["train_mse"]
    assert h[-1]["test_mse"] < h[0]["test_mse"] and full.best_test_acc == max(r["test_score"] for r in h)
    m = json.loads((full.run_dir / "metrics.json").read_text())
    assert m["best_test_score"] == full.best_test_acc and m["done"]

    def crash(row):
        if row["epoch"] == 2:
            raise KeyboardInterrupt

    cut = _cfg(tmp_path, "cut")
    with pytest.raises(KeyboardInterrupt):
        fit(cut, Regression(cut), epoch_callback=crash)
    assert load_checkpoint(tmp_path / "cut" / "last.pt")["epoch"] == 2
    cut = _cfg(tmp_path, "cut", resume=True)
    resumed = fit(cut, Regression(cut))
    strip = lambda hs: [{k: v for k, v in r.items() if k != "epoch_time_s"} for r in hs]  # noqa: E731
    assert strip(resumed.history) == strip(h)
