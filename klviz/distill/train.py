"""The training loop: set up, train one epoch, evaluate, checkpoint; and its two front doors,
:func:`train_teacher` and :func:`train_student`.

The loop is deliberately plain (in-memory data, one optimiser, one LR schedule, one objective).
What it adds is bookkeeping that makes results trustworthy:

- deterministic: the data order of epoch ``e`` is a function of ``(seed, e)`` only
  (:func:`klviz.distill.batches.index_loader`), augmentation draws from a generator seeded by
  ``(seed, epoch, rank)``, and every other random state is checkpointed;
- resumable: ``last.pt`` (written atomically every epoch) holds the model, optimiser, scheduler,
  grad scaler, the task's running state (GKL class statistics), RNG states and the metrics so
  far, so a run killed at any moment and resumed gives bitwise the same numbers as an
  uninterrupted one (same machine, same thread count);
- distributed: under ``torchrun`` it uses DistributedDataParallel (NCCL on GPUs, gloo on CPUs);
  ``batch_size`` is the *global* batch, split evenly over the ranks, so one process and N processes
  see the same batches; rank 0 writes checkpoints and metrics.

What is trained is a :class:`~klviz.distill.task.Task` (the extension point for new trainers,
see :mod:`klviz.distill.task`); the objective of a student is described in
:mod:`klviz.distill.objective`. Chapter ``ch-lab`` runs it on MNIST-1D; the CLI on CIFAR-100.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from tqdm import tqdm

from klviz.distill.batches import index_loader
from klviz.distill.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from klviz.distill.config import ConfigError, StudentConfig, TrainConfig, config_dict, resume_free, validate
from klviz.distill.files import write_csv, write_json
from klviz.distill.runtime import Distributed, Runtime, amp_dtype, configure_backends, resolve_device, seed_everything
from klviz.distill.task import ClassifierTask, Task

__all__ = ["RESULT_FILES", "RunResult", "fit", "train_student", "train_teacher"]

#: files a run writes; a run dir holding any of them "has results"
RESULT_FILES = ("last.pt", "best.pt", "metrics.json", "metrics.csv")


@dataclass
class RunResult:
    """What a finished run produced (``*_test_acc``: the task's monitored metric, test accuracy)."""

    run_dir: Path
    history: list[dict[str, Any]]
    best_test_acc: float
    last_test_acc: float
    world_size: int
    wall_time_s: float
    config: dict[str, Any]
    teacher_test_acc: float | None = None

    @property
    def best_path(self) -> Path:
        return self.run_dir / "best.pt"

    @property
    def last_path(self) -> Path:
        return self.run_dir / "last.pt"


def _prepare_run_dir(cfg: TrainConfig, ctx: Distributed) -> Path:
    run_dir = Path(cfg.run_dir)
    existing = [f for f in RESULT_FILES if (run_dir / f).exists()]
    if cfg.resume:
        if not (run_dir / "last.pt").exists():
            raise ConfigError(f"nothing to resume in {run_dir}: last.pt not found; start without --resume")
    elif existing and not cfg.force:
        raise ConfigError(
            f"{run_dir} already has results ({', '.join(existing)}); pass --force to overwrite them, "
            "--resume to continue, or choose another run directory"
        )
    ctx.barrier()  # every rank has checked before rank 0 deletes anything
    if ctx.rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
        if not cfg.resume:
            for f in existing:
                (run_dir / f).unlink()
    ctx.barrier()
    return run_dir


def _scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer):
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(cfg.milestones), gamma=cfg.lr_decay)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


class _Run:
    """One run's state between the steps of the loop."""

    def __init__(self, cfg: TrainConfig, task: Task, rt: Runtime) -> None:
        self.cfg, self.task, self.rt, self.ctx = cfg, task, rt, rt.dist
        self.config = config_dict(cfg)
        self.history: list[dict[str, Any]] = []
        self.best = float("-inf")
        self.start_epoch = 0

    # ------------------------------------------------------------------ set up
    def setup(self) -> None:
        cfg, ctx, dev = self.cfg, self.ctx, self.rt.device
        self.task.setup(self.rt)
        # only now, when the inputs have been checked, touch the run directory
        self.run_dir = _prepare_run_dir(cfg, ctx)
        # reseed here so a seed gives the same initial model whatever the task loaded (building a
        # teacher consumes random numbers): a comparison across losses is then paired
        seed_everything(cfg.seed)
        model = self.task.build_model()
        if cfg.sync_bn and ctx.active:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.model = model.to(dev)
        self.net = self.model
        if ctx.active:
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=[dev.index] if dev.type == "cuda" else None)
        if cfg.optimizer == "sgd":
            self.opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        else:
            self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.sched = _scheduler(cfg, self.opt)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.rt.amp == torch.float16)
        self.loader, self.sampler, self.loader_gen = index_loader(
            self.task.num_train(), cfg.batch_size // ctx.world, seed=cfg.seed, rank=ctx.rank, world=ctx.world)
        if cfg.resume:
            self.resume()

    def resume(self) -> None:
        ck = load_checkpoint(self.run_dir / "last.pt", what="checkpoint", hint="delete it and start again with --force")
        saved, free = ck["config"], resume_free(self.cfg)
        diff = [k for k in self.config if k not in free and saved.get(k) != self.config[k]]
        if diff:
            k = diff[0]
            raise ConfigError(f"{self.run_dir}/last.pt was written with {k}={saved.get(k)!r}, not {self.config[k]!r}; "
                              "resume with the same options")
        self.model.load_state_dict(ck["model_state"])
        self.opt.load_state_dict(ck["optimizer"])
        self.sched.load_state_dict(ck["scheduler"])
        self.scaler.load_state_dict(ck["scaler"])
        self.task.load_state_dict(ck)
        set_rng_state(ck["rng"], self.loader_gen)
        self.history = list(ck["history"])
        self.best = float(ck[f"best_{self.task.monitor}"])
        self.start_epoch = int(ck["epoch"])

    # ------------------------------------------------------------------ one epoch
    def train_epoch(self, epoch: int) -> tuple[dict[str, Any], dict[str, float]]:
        """Optimise over one pass of the training set; the epoch's training metrics (averaged over
        its examples) and the task's end-of-epoch metrics."""
        cfg, task, dev = self.cfg, self.task, self.rt.device
        self.sampler.set_epoch(epoch)
        self.net.train()
        task.start_epoch(epoch)
        show = cfg.progress and self.ctx.rank == 0
        spe = len(self.loader)
        sums, names, last, counts = None, [], {}, False
        self.bar = tqdm(self.loader, desc=f"{task.role} epoch {epoch + 1}/{cfg.epochs}", disable=not show,
                        file=sys.stderr, leave=True, ascii=True)
        for step, idx in enumerate(self.bar):
            r = task.step(self.net, idx, epoch * spe + step + 1, spe)
            if not torch.isfinite(r.loss):
                raise FloatingPointError(f"{task.role}: the loss became {r.loss.item()} in epoch {epoch + 1}; lower --lr")
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(r.loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
            task.after_step()
            names, last, counts = list(r.parts), r.last, r.correct is not None
            n = r.n
            row = torch.stack([r.loss.detach() * n, *(p.detach() * n for p in r.parts.values()),
                               *([r.correct] if counts else []), torch.tensor(n, device=dev)]).double()
            sums = row if sums is None else sums + row
            if show and step % 20 == 0:
                self.bar.set_postfix(loss=f"{r.loss.item():.4f}")
        lr = self.opt.param_groups[0]["lr"]
        self.sched.step()
        extra = task.end_epoch()
        sums = self.ctx.all_reduce(sums)
        n = float(sums[-1])
        return {"lr": lr, **last, "train_loss": float(sums[0]) / n,
                **{f"train_{k}": float(sums[1 + i]) / n for i, k in enumerate(names)},
                **({"train_acc": float(sums[-2]) / n} if counts else {})}, extra

    # ------------------------------------------------------------------ evaluate, checkpoint
    def checkpoint(self, epoch: int, row: dict[str, Any], improved: bool) -> None:
        if self.ctx.rank != 0:
            return
        monitor = self.task.monitor
        record = {**self.task.model_record(self.model), "epoch": epoch + 1, monitor: row[monitor], "config": self.config}
        if improved:
            save_checkpoint({**record, "kind": "best"}, self.run_dir / "best.pt")
        save_checkpoint({
            **record,
            "kind": "last",
            f"best_{monitor}": self.best,
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "scaler": self.scaler.state_dict(),
            **self.task.state_dict(),
            "rng": get_rng_state(self.loader_gen),
            "history": self.history,
        }, self.run_dir / "last.pt")

    def write_metrics(self, done: bool) -> None:
        if self.ctx.rank != 0:
            return
        h, amp, monitor = self.history, self.rt.amp, self.task.monitor
        write_csv(self.run_dir / "metrics.csv", h)
        write_json(self.run_dir / "metrics.json", {
            "role": self.cfg.kind,
            "world_size": self.ctx.world,
            "device": str(self.rt.device),
            "amp": str(amp).replace("torch.", "") if amp else "off",
            **self.task.info(),
            f"best_{monitor}": self.best if h else None,
            f"last_{monitor}": h[-1][monitor] if h else None,
            "epochs_done": len(h),
            "done": done,
            "config": self.config,
            "history": h,
        })

    def run(self, epoch_callback: Callable[[dict[str, Any]], None] | None) -> None:
        cfg, task = self.cfg, self.task
        self.write_metrics(self.start_epoch >= cfg.epochs)  # a resumed run rewrites what the checkpoint knows
        for epoch in range(self.start_epoch, cfg.epochs):
            t0 = time.perf_counter()
            train, extra = self.train_epoch(epoch)
            test = task.evaluate(self.model)
            score = test[task.monitor]
            improved = score > self.best
            self.best = max(self.best, score)
            row = {"epoch": epoch + 1, **train, **test, f"best_{task.monitor}": self.best, "world_size": self.ctx.world,
                   "epoch_time_s": time.perf_counter() - t0, **extra}
            self.history.append(row)
            if self.bar is not None and cfg.progress and self.ctx.rank == 0:
                self.bar.set_postfix(loss=f"{row['train_loss']:.4f}", **{task.monitor: f"{score:.4f}"}, best=f"{self.best:.4f}")
                self.bar.close()
            self.checkpoint(epoch, row, improved)
            self.write_metrics(epoch + 1 == cfg.epochs)
            if epoch_callback is not None:
                epoch_callback(row)
        self.ctx.barrier()


def fit(cfg: TrainConfig, task: Task | None = None, *, epoch_callback=None) -> RunResult:
    """Validate ``cfg``, then train ``task`` (default: a :class:`~klviz.distill.task.ClassifierTask`).

    ``epoch_callback(row)`` is called with each epoch's metrics after its checkpoint is written.
    """
    t_start = time.perf_counter()
    ctx = Distributed()
    validate(cfg, ctx.world)
    device = resolve_device(cfg.device, ctx.local_rank)
    ctx.init(device)
    try:
        configure_backends(device, cfg.deterministic)
        seed_everything(cfg.seed)
        task = task if task is not None else ClassifierTask(cfg)
        run = _Run(cfg, task, Runtime(device, amp_dtype(cfg.amp, device), ctx))
        run.setup()
        run.run(epoch_callback)
    finally:
        ctx.close()
    h = run.history
    return RunResult(run_dir=run.run_dir, history=h, best_test_acc=run.best, last_test_acc=h[-1][task.monitor],
                     world_size=ctx.world, wall_time_s=time.perf_counter() - t_start, config=run.config,
                     teacher_test_acc=task.info().get("teacher_test_acc"))


def train_teacher(config: TrainConfig | None = None, *, epoch_callback=None, **overrides: Any) -> RunResult:
    """Train a model on labels alone (cross-entropy) and keep its best and last checkpoints.

    ``train_teacher(TrainConfig(...))`` or ``train_teacher(epochs=5, run_dir=...)``.
    ``epoch_callback(row)`` is called with each epoch's metrics after its checkpoint is written.
    """
    return fit(dataclasses.replace(config or TrainConfig(), **overrides), epoch_callback=epoch_callback)


def train_student(config: StudentConfig | None = None, *, epoch_callback=None, **overrides: Any) -> RunResult:
    """Train a student with ``ce_weight * CE + ramp * distill_weight * loss(student, teacher)``.

    ``loss`` is ``"ce"`` (no teacher) or a registered loss of :mod:`klviz.losses`; its
    hyper-parameters left at ``None`` take the loss's own defaults (:mod:`klviz.distill.objective`).
    ``epoch_callback(row)`` is called with each epoch's metrics after its checkpoint is written.
    """
    return fit(dataclasses.replace(config or StudentConfig(), **overrides), epoch_callback=epoch_callback)
