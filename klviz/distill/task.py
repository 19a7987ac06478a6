"""What the training loop trains: the :class:`Task` protocol and the classifier task.

The loop (:func:`klviz.distill.train.fit`) owns what every trainer shares: the run directory,
seeding, the optimiser, schedule and grad scaler, DDP, the batches of indices, checkpoints,
``--resume``, metrics files and progress bars. A :class:`Task` owns what differs: the data, the
model, the loss of a batch and the evaluation. :class:`ClassifierTask` trains a teacher or a
student (chapter ``ch-lab``); a new chapter's trainer (adversarial training, a language-model
distiller, a VAE) subclasses :class:`Task` and is run by ``fit(config, MyTask(config))``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from klviz.distill.batches import Preprocess
from klviz.distill.checkpoint import CheckpointError, load_checkpoint
from klviz.distill.config import ConfigError, TrainConfig
from klviz.distill.data import Dataset, load_dataset
from klviz.distill.models import build_model
from klviz.distill.objective import build_objective
from klviz.distill.runtime import Runtime

__all__ = ["ClassifierTask", "StepResult", "Task", "load_teacher"]


@dataclass
class StepResult:
    """One optimisation step's outcome, as the loop accumulates it."""

    loss: torch.Tensor  #: what the loop back-propagates (batch mean)
    parts: dict[str, torch.Tensor]  #: logged batch means, averaged over the epoch as ``train_<name>``
    correct: torch.Tensor | None  #: number of correct predictions in the batch (``None``: no ``train_acc``)
    n: int  #: examples in the batch
    last: dict[str, float] = field(default_factory=dict)  #: logged as is (the last step's value)


class Task:
    """The part of a training run that depends on what is trained (override the methods).

    The loop calls, in order: :meth:`setup` (before the run directory is touched, so bad input
    fails early), :meth:`build_model` (right after reseeding, so a seed gives the same initial
    weights whatever the task loaded), then per epoch :meth:`start_epoch`, per batch of indices
    :meth:`step` and :meth:`after_step`, then :meth:`end_epoch` and :meth:`evaluate`.
    """

    #: the key of :meth:`evaluate` whose largest value marks ``best.pt``
    monitor = "test_acc"

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.role = cfg.role

    def setup(self, rt: Runtime) -> None:
        self.rt = rt

    def build_model(self) -> nn.Module:
        raise NotImplementedError

    def num_train(self) -> int:
        """Number of training examples (the loop samples indices into them)."""
        raise NotImplementedError

    def start_epoch(self, epoch: int) -> None:
        pass

    def step(self, net: nn.Module, idx: torch.Tensor, step: int, steps_per_epoch: int) -> StepResult:
        """The loss of the examples ``idx`` (``step`` counts optimisation steps from 1)."""
        raise NotImplementedError

    def after_step(self) -> None:
        pass

    def end_epoch(self) -> dict[str, float]:
        """Extra metrics of the epoch (after the schedule stepped)."""
        return {}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        raise NotImplementedError

    def model_record(self, model: nn.Module) -> dict[str, Any]:
        """What a checkpoint needs to rebuild the model."""
        return {"model_state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}

    def state_dict(self) -> dict[str, Any]:
        """Running state of the task (beyond model and optimiser) for ``last.pt``."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def info(self) -> dict[str, Any]:
        """Facts about the run for ``metrics.json`` and :class:`~klviz.distill.train.RunResult`."""
        return {}


def load_teacher(path: str | os.PathLike, data: Dataset, device: torch.device) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a teacher model from a run's ``best.pt``/``last.pt`` and check it fits ``data``."""
    hint = "pass the last.pt of a teacher run (python -m klviz.distill teacher --run-dir runs/teacher)"
    ck = load_checkpoint(path, what="teacher checkpoint", hint=hint)
    if "model_state" not in ck or "model" not in ck:
        raise CheckpointError(f"teacher checkpoint {path} holds no model; {hint}")
    if int(ck["num_classes"]) != data.num_classes:
        raise ConfigError(
            f"teacher checkpoint {path} predicts {ck['num_classes']} classes but data set {data.name!r} has "
            f"{data.num_classes}; train a teacher on {data.name} (python -m klviz.distill teacher --dataset {data.name})"
        )
    if tuple(ck["input_shape"]) != data.input_shape:
        raise ConfigError(
            f"teacher checkpoint {path} takes inputs of shape {tuple(ck['input_shape'])} but {data.name!r} has "
            f"{data.input_shape}; train a teacher on {data.name}"
        )
    model = build_model(ck["model"], input_shape=data.input_shape, num_classes=data.num_classes, **ck.get("model_options", {}))
    model.load_state_dict(ck["model_state"])
    model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, ck


class ClassifierTask(Task):
    """A classifier on an in-memory data set, trained by the objective its config names
    (cross-entropy for a teacher, a distillation loss for a student)."""

    def setup(self, rt: Runtime) -> None:
        super().setup(rt)
        cfg, dev = self.cfg, rt.device
        data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, download=cfg.download, num_samples=cfg.num_samples)
        self.data = data = data.subset(cfg.train_subset, cfg.test_subset)
        self.x_train, self.y_train = torch.from_numpy(data.x_train).to(dev), torch.from_numpy(data.y_train).to(dev)
        self.x_test, self.y_test = torch.from_numpy(data.x_test).to(dev), torch.from_numpy(data.y_test).to(dev)
        self.prep = Preprocess(data, dev)
        self.objective = build_objective(cfg, data.num_classes, dev)
        self.teacher, self.teacher_acc, self.teacher_train_logits = None, None, None
        if self.objective.needs_teacher:
            self.teacher, _ = load_teacher(cfg.teacher, data, dev)
            self.teacher_acc = self._evaluate(self.teacher)["test_acc"]
            if not data.augment:
                # without augmentation the teacher sees the same inputs every epoch: score them once
                self.teacher_train_logits = self._logits(self.teacher, self.x_train)

    def build_model(self) -> nn.Module:
        cfg, data = self.cfg, self.data
        try:
            return build_model(cfg.model, input_shape=data.input_shape, num_classes=data.num_classes, **cfg.model_options)
        except TypeError as exc:
            raise ConfigError(f"model {cfg.model!r} does not take options {cfg.model_options} ({exc})") from None

    def num_train(self) -> int:
        return len(self.y_train)

    def start_epoch(self, epoch: int) -> None:
        self.aug_gen = None
        if self.data.augment:
            self.aug_gen = torch.Generator().manual_seed((self.cfg.seed * 1_000_003 + epoch) * 1009 + self.rt.dist.rank)

    def step(self, net: nn.Module, idx: torch.Tensor, step: int, steps_per_epoch: int) -> StepResult:
        idx = idx.to(self.rt.device)
        xb, yb = self.prep(self.x_train[idx], self.aug_gen), self.y_train[idx]
        t_logits = None
        if self.objective.needs_teacher:
            if self.teacher_train_logits is not None:
                t_logits = self.teacher_train_logits[idx]
            else:
                with torch.no_grad(), self.rt.autocast():
                    t_logits = self.teacher(xb).float()
        with self.rt.autocast():
            out = net(xb)
        loss, parts, ramp = self.objective(out, yb, t_logits, step, steps_per_epoch)
        self._pending = (t_logits, yb)
        return StepResult(loss, parts, (out.argmax(1) == yb).sum(), len(yb), {"ramp": ramp})

    def after_step(self) -> None:
        if self.objective.stats is not None:
            t_logits, yb = self._pending
            self.objective.stats.update(t_logits.detach(), yb)

    def end_epoch(self) -> dict[str, float]:
        stats = self.objective.stats
        if stats is None:
            return {}
        stats.end_epoch()
        flat = [v.detach().double().flatten() for v in stats.state_dict().values() if torch.is_tensor(v)]
        # 0 when the statistics were all-reduced, as they must be under DDP
        return {"class_stats_rank_spread": self.rt.dist.spread(torch.cat(flat))}

    @torch.no_grad()
    def _logits(self, model: nn.Module, x: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
        # a fixed chunk size makes the result independent of the number of processes
        out = []
        for i in range(0, len(x), chunk):
            with self.rt.autocast():
                out.append(model(self.prep(x[i : i + chunk])).float())
        return torch.cat(out)

    @torch.no_grad()
    def _evaluate(self, model: nn.Module) -> dict[str, float]:
        # each rank scores every world-th test example; the sums are all-reduced
        ctx, y = self.rt.dist, self.y_test
        was_training = model.training
        model.eval()
        idx = torch.arange(ctx.rank, len(y), ctx.world, device=y.device)
        logits = self._logits(model, self.x_test[idx])
        sums = torch.stack([F.cross_entropy(logits, y[idx], reduction="sum"), (logits.argmax(1) == y[idx]).sum().float()])
        sums = ctx.all_reduce(sums.double())
        model.train(was_training)
        return {"test_loss": float(sums[0]) / len(y), "test_acc": float(sums[1]) / len(y)}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Test loss and accuracy."""
        return self._evaluate(model)

    def model_record(self, model: nn.Module) -> dict[str, Any]:
        cfg, data = self.cfg, self.data
        return {
            "model": cfg.model,
            "model_options": dict(cfg.model_options),
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "dataset": data.name,
            **super().model_record(model),
        }

    def state_dict(self) -> dict[str, Any]:
        stats = self.objective.stats
        return {"class_stats": stats.state_dict() if stats is not None else {}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.objective.stats is not None:
            self.objective.stats.load_state_dict(state["class_stats"])

    def info(self) -> dict[str, Any]:
        return {"teacher_test_acc": self.teacher_acc}
