"""Train a teacher, distil it into a student, compare distillation losses.

The trainer is deliberately plain: in-memory data, one optimiser, one LR schedule, one loss.
What it adds is bookkeeping that makes results trustworthy:

- deterministic: the data order of epoch ``e`` is a function of ``(seed, e)`` only (a
  :class:`~torch.utils.data.DistributedSampler`, also with one process), augmentation draws from a
  generator seeded by ``(seed, epoch, rank)``, and every other random state is checkpointed;
- resumable: ``last.pt`` (written atomically every epoch) holds the model, optimiser, scheduler,
  grad scaler, GKL class statistics, RNG states and the metrics so far, so a run killed at any
  moment and resumed gives bitwise the same numbers as an uninterrupted one (same machine, same
  thread count);
- distributed: under ``torchrun`` it uses DistributedDataParallel (NCCL on GPUs, gloo on CPUs);
  ``batch_size`` is the *global* batch, split evenly over the ranks, so one process and N processes
  see the same batches; class statistics are all-reduced (by :class:`klviz.losses.ClassStats`);
  rank 0 writes checkpoints and metrics.

The student objective is

.. math:: \\mathcal L = w_{\\mathrm{CE}}\\,\\mathrm{CE}(y, s) + \\lambda(t)\\, w_{\\mathrm{D}}\\, \\ell(s, t)

with :math:`\\ell` a loss from :data:`klviz.losses.LOSSES` and :math:`\\lambda(t)` rising linearly
from 0 to 1 over ``warmup_epochs`` (per optimisation step), as DKD {cite}`zhao2022decoupled` does.
Chapter ``ch-lab`` (the distillation lab) runs it on MNIST-1D; the CLI runs it on CIFAR-100.
"""

from __future__ import annotations

import csv
import dataclasses
import inspect
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from klviz.distill.checkpoint import (
    CheckpointError,
    get_rng_state,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
)
from klviz.distill.data import DATASETS, Dataset, load_dataset
from klviz.distill.models import MODELS, build_model

__all__ = [
    "ConfigError",
    "RunResult",
    "StudentConfig",
    "TrainConfig",
    "loss_names",
    "resolve_device",
    "train_student",
    "train_teacher",
]

#: files a run writes; a run dir holding any of them "has results"
RESULT_FILES = ("last.pt", "best.pt", "metrics.json", "metrics.csv")
#: the loss hyper-parameters a student config can set (``None``: the loss's own default)
HYPER = ("temperature", "alpha", "beta", "gamma", "weight_temperature", "convention")
#: config fields that may differ between a run and its resumption
_RESUME_FREE = {"resume", "force", "progress", "device", "run_dir", "data_dir", "download"}


class ConfigError(ValueError):
    """A configuration or command line that cannot run; the message says what to do."""


@dataclass
class TrainConfig:
    """Settings of a teacher run (and the shared part of a student run).

    Defaults train the MNIST-1D CNN teacher of chapter ``ch-lab`` in well under a minute on a CPU.
    """

    run_dir: str = "runs/teacher"
    dataset: str = "mnist1d"
    model: str = "cnn1d"
    #: constructor options of the model, e.g. ``{"hidden": 100}`` for ``mlp``
    model_options: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    #: global batch size (split evenly over DDP ranks)
    batch_size: int = 100
    optimizer: str = "adam"  # "adam" | "sgd"
    lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "cosine"  # "cosine" | "step" | "constant"
    milestones: tuple[int, ...] = ()
    lr_decay: float = 0.1
    seed: int = 0
    device: str = "auto"
    #: mixed precision on CUDA: "auto" (bf16 where supported, else fp16), "bf16", "fp16", "off"
    amp: str = "auto"
    deterministic: bool = True
    sync_bn: bool = False
    data_dir: str | None = None
    download: bool = False
    num_samples: int = 5000
    train_subset: int | None = None
    test_subset: int | None = None
    progress: bool = True
    force: bool = False
    resume: bool = False


@dataclass
class StudentConfig(TrainConfig):
    """Settings of a student run: a :class:`TrainConfig` plus the teacher and the loss."""

    run_dir: str = "runs/student"
    model: str = "mlp"
    #: teacher checkpoint (``best.pt`` or ``last.pt`` of a teacher run); not needed for ``loss="ce"``
    teacher: str | None = None
    #: "ce" (no teacher) or a name in :data:`klviz.losses.LOSSES`
    loss: str = "kd"
    ce_weight: float = 1.0
    distill_weight: float = 1.0
    warmup_epochs: int = 0
    temperature: float | None = None
    alpha: float | None = None
    beta: float | None = None
    gamma: float | None = None
    weight_temperature: float | None = None
    convention: str | None = None


@dataclass
class RunResult:
    """What a finished run produced."""

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


# --------------------------------------------------------------------------- helpers


def loss_names() -> list[str]:
    """Valid student losses: ``"ce"`` and the names in :data:`klviz.losses.LOSSES`."""
    from klviz.losses import LOSSES

    return ["ce", *LOSSES]


def resolve_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"``: CUDA (this rank's GPU) if available, else Apple MPS, else the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"device={device!r} is not a torch device; use auto, cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={device!r} but CUDA is not available here; use --device cpu or auto")
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _Dist:
    """This process's place in a ``torchrun`` job (world size 1 without one)."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.owns_group = False

    @property
    def active(self) -> bool:
        return self.world > 1

    def init(self, device: torch.device) -> None:
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            self.owns_group = True

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        if self.active:
            dist.all_reduce(t)
        return t

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


class _IndexDataset(torch.utils.data.Dataset):
    """Yields example indices; the trainer gathers the examples from tensors already on the device."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i

    def __getitems__(self, indices: list[int]) -> torch.Tensor:
        return torch.as_tensor(indices, dtype=torch.long)


def _identity(batch: torch.Tensor) -> torch.Tensor:
    return batch


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 32x32 crop of the zero-padded (4 px) image and a random horizontal flip, per example."""
    b, c, h, w = x.shape
    pad = 4
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x.device)
    flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)
    cols = dx[:, None] + torch.arange(w, device=x.device)
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return xp[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]


class _Preprocess:
    """Turns stored examples (float, or uint8 images) into model inputs on the device."""

    def __init__(self, data: Dataset, device: torch.device) -> None:
        self.images = data.mean is not None
        if self.images:
            self.mean = torch.tensor(data.mean, device=device).view(1, -1, 1, 1)
            self.std = torch.tensor(data.std, device=device).view(1, -1, 1, 1)

    def __call__(self, x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        if not self.images:
            return x
        x = x.float() / 255.0
        if gen is not None:
            x = _augment(x, gen)
        return (x - self.mean) / self.std


def _write_json(path: Path, obj: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as fh:
        if rows:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _config_dict(cfg: TrainConfig) -> dict[str, Any]:
    d = dataclasses.asdict(cfg)
    d["milestones"] = list(d["milestones"])
    d["kind"] = "student" if isinstance(cfg, StudentConfig) else "teacher"
    return d


# --------------------------------------------------------------------------- validation


def _validate(cfg: TrainConfig, world: int) -> None:
    if cfg.dataset not in DATASETS:
        raise ConfigError(f"unknown data set {cfg.dataset!r}; choose one of: {', '.join(DATASETS)}")
    if cfg.model not in MODELS:
        raise ConfigError(f"unknown model {cfg.model!r}; choose one of: {', '.join(MODELS)}")
    if cfg.epochs < 1:
        raise ConfigError(f"epochs={cfg.epochs}: train for at least 1 epoch")
    if cfg.batch_size < 1 or cfg.batch_size % world:
        raise ConfigError(
            f"batch_size={cfg.batch_size} must be a positive multiple of the number of processes ({world}); "
            "it is the global batch, split evenly over the ranks"
        )
    if not cfg.lr > 0:
        raise ConfigError(f"lr={cfg.lr} must be positive")
    if cfg.optimizer not in ("adam", "sgd"):
        raise ConfigError(f"optimizer={cfg.optimizer!r}; choose adam or sgd")
    if cfg.schedule not in ("cosine", "step", "constant"):
        raise ConfigError(f"schedule={cfg.schedule!r}; choose cosine, step or constant")
    if cfg.amp not in ("auto", "bf16", "fp16", "off"):
        raise ConfigError(f"amp={cfg.amp!r}; choose auto, bf16, fp16 or off")
    if isinstance(cfg, StudentConfig):
        names = loss_names()
        if cfg.loss not in names:
            raise ConfigError(f"unknown loss {cfg.loss!r}; choose one of: {', '.join(names)}")
        for name in ("temperature", "weight_temperature"):
            v = getattr(cfg, name)
            if v is not None and not v > 0:
                raise ConfigError(f"{name}={v} must be positive (e.g. --{name.replace('_', '-')} 4)")
        if cfg.warmup_epochs < 0:
            raise ConfigError(f"warmup_epochs={cfg.warmup_epochs} must be >= 0")
        if cfg.loss != "ce" and not cfg.teacher:
            raise ConfigError(f"loss {cfg.loss!r} needs a teacher checkpoint: pass --teacher RUN_DIR/best.pt")
        if cfg.loss == "ce":
            extra = [k for k in HYPER if getattr(cfg, k) is not None]
            if extra:
                raise ConfigError(f"loss 'ce' takes no distillation hyper-parameters; drop --{extra[0].replace('_', '-')}")


def _prepare_run_dir(cfg: TrainConfig, ctx: _Dist) -> Path:
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


# --------------------------------------------------------------------------- the loss


class _Objective:
    """CE plus (optionally) a distillation loss from :mod:`klviz.losses`, with its class statistics."""

    def __init__(self, cfg: TrainConfig, num_classes: int, device: torch.device) -> None:
        self.fn = None
        self.stats = None
        self.kwargs: dict[str, Any] = {}
        self.needs_target = False
        self.ce_weight = getattr(cfg, "ce_weight", 1.0)
        self.distill_weight = getattr(cfg, "distill_weight", 0.0)
        if not isinstance(cfg, StudentConfig) or cfg.loss == "ce":
            return
        from klviz import losses

        fn = losses.LOSSES[cfg.loss]
        params = inspect.signature(fn).parameters
        hp = {k: getattr(cfg, k) for k in HYPER if getattr(cfg, k) is not None}
        bad = [k for k in hp if k not in params]
        if bad:
            takes = [k for k in HYPER if k in params]
            raise ConfigError(
                f"--{bad[0].replace('_', '-')} does not apply to loss {cfg.loss!r} "
                f"(it takes: {', '.join('--' + t.replace('_', '-') for t in takes) or 'nothing'}); drop it"
            )
        self.fn, self.kwargs = fn, hp
        self.needs_target = "target" in params
        if "class_stats" in params:
            # the class means replace softmax(teacher / T_w): they carry the weight temperature
            t = hp.get("weight_temperature") or hp.get("temperature") or params["temperature"].default
            self.stats = losses.ClassStats(num_classes, temperature=t).to(device)
            self.kwargs["class_stats"] = self.stats

    @property
    def distilling(self) -> bool:
        return self.fn is not None

    def __call__(self, logits: torch.Tensor, target: torch.Tensor, teacher_logits: torch.Tensor | None, ramp: float):
        logits = logits.float()
        ce = F.cross_entropy(logits, target)
        if self.fn is None:
            return self.ce_weight * ce, ce, torch.zeros_like(ce)
        if self.needs_target:
            d = self.fn(logits, teacher_logits, target, **self.kwargs)
        else:
            d = self.fn(logits, teacher_logits, **self.kwargs)
        return self.ce_weight * ce + ramp * self.distill_weight * d, ce, d


# --------------------------------------------------------------------------- teacher loading


def load_teacher(path: str | os.PathLike, data: Dataset, device: torch.device) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a teacher model from a run's ``best.pt``/``last.pt`` and check it fits ``data``."""
    hint = "pass the best.pt of a teacher run (python -m klviz.distill teacher --run-dir runs/teacher)"
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


# --------------------------------------------------------------------------- the loop


def _amp_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    if device.type != "cuda" or cfg.amp == "off":
        return None
    if cfg.amp == "fp16":
        return torch.float16
    if cfg.amp == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def _scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer):
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(cfg.milestones), gamma=cfg.lr_decay)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


@torch.no_grad()
def _logits(model: nn.Module, x: torch.Tensor, prep: _Preprocess, amp: torch.dtype | None, chunk: int = 1000) -> torch.Tensor:
    # a fixed chunk size makes the result independent of the number of processes
    out = []
    for i in range(0, len(x), chunk):
        with torch.autocast("cuda", dtype=amp, enabled=amp is not None):
            out.append(model(prep(x[i : i + chunk])).float())
    return torch.cat(out)


@torch.no_grad()
def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, prep, amp, ctx: _Dist) -> tuple[float, float]:
    """Test loss and accuracy; each rank scores every ``world``-th example, sums are all-reduced."""
    was_training = model.training
    model.eval()
    idx = torch.arange(ctx.rank, len(y), ctx.world, device=y.device)
    logits = _logits(model, x[idx], prep, amp)
    sums = torch.stack([F.cross_entropy(logits, y[idx], reduction="sum"), (logits.argmax(1) == y[idx]).sum().float()])
    sums = ctx.all_reduce(sums.double())
    model.train(was_training)
    return float(sums[0]) / len(y), float(sums[1]) / len(y)


def _model_record(cfg: TrainConfig, data: Dataset, model: nn.Module) -> dict[str, Any]:
    return {
        "model": cfg.model,
        "model_options": dict(cfg.model_options),
        "input_shape": list(data.input_shape),
        "num_classes": data.num_classes,
        "dataset": data.name,
        "model_state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }


def _fit(cfg: TrainConfig, epoch_callback=None) -> RunResult:
    ctx = _Dist()
    _validate(cfg, ctx.world)
    device = resolve_device(cfg.device, ctx.local_rank)
    ctx.init(device)
    try:
        return _fit_inner(cfg, ctx, device, epoch_callback)
    finally:
        ctx.close()


def _fit_inner(cfg: TrainConfig, ctx: _Dist, device: torch.device, epoch_callback) -> RunResult:
    t_start = time.perf_counter()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not cfg.deterministic
        torch.backends.cudnn.deterministic = cfg.deterministic
    seed_everything(cfg.seed)
    is_student = isinstance(cfg, StudentConfig)
    role = f"student[{cfg.loss}]" if is_student else "teacher"

    data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, download=cfg.download, num_samples=cfg.num_samples)
    data = data.subset(cfg.train_subset, cfg.test_subset)
    x_train = torch.from_numpy(data.x_train).to(device)
    y_train = torch.from_numpy(data.y_train).to(device)
    x_test = torch.from_numpy(data.x_test).to(device)
    y_test = torch.from_numpy(data.y_test).to(device)
    prep = _Preprocess(data, device)
    amp = _amp_dtype(cfg, device)

    teacher, teacher_acc, teacher_train_logits = None, None, None
    objective = _Objective(cfg, data.num_classes, device)
    if is_student and objective.distilling:
        teacher, _ = load_teacher(cfg.teacher, data, device)
        teacher_acc = _evaluate(teacher, x_test, y_test, prep, amp, ctx)[1]
        if not data.augment:
            # without augmentation the teacher sees the same inputs every epoch: score them once
            teacher_train_logits = _logits(teacher, x_train, prep, amp)

    # only now, when the inputs have been checked, touch the run directory
    run_dir = _prepare_run_dir(cfg, ctx)
    # reseed here so a seed gives the same initial student whatever the loss (building the
    # teacher consumed random numbers): the comparison across losses is then paired
    seed_everything(cfg.seed)
    try:
        model = build_model(cfg.model, input_shape=data.input_shape, num_classes=data.num_classes, **cfg.model_options)
    except TypeError as exc:
        raise ConfigError(f"model {cfg.model!r} does not take options {cfg.model_options} ({exc})") from None
    if cfg.sync_bn and ctx.active:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    net: nn.Module = model
    if ctx.active:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _scheduler(cfg, opt)
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)

    local_bs = cfg.batch_size // ctx.world
    sampler = DistributedSampler(
        _IndexDataset(len(y_train)), num_replicas=ctx.world, rank=ctx.rank, shuffle=True, seed=cfg.seed, drop_last=False
    )
    loader_gen = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(_IndexDataset(len(y_train)), batch_size=local_bs, sampler=sampler, collate_fn=_identity, generator=loader_gen)
    steps_per_epoch = len(loader)

    history: list[dict[str, Any]] = []
    best = -1.0
    start_epoch = 0
    config = _config_dict(cfg)
    if cfg.resume:
        ck = load_checkpoint(run_dir / "last.pt", what="checkpoint", hint="delete it and start again with --force")
        saved = ck["config"]
        diff = [k for k in config if k not in _RESUME_FREE and saved.get(k) != config[k]]
        if diff:
            k = diff[0]
            raise ConfigError(f"{run_dir}/last.pt was written with {k}={saved.get(k)!r}, not {config[k]!r}; resume with the same options")
        model.load_state_dict(ck["model_state"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        if objective.stats is not None:
            objective.stats.load_state_dict(ck["class_stats"])
        set_rng_state(ck["rng"], loader_gen)
        history = list(ck["history"])
        best = float(ck["best_test_acc"])
        start_epoch = int(ck["epoch"])

    def write_metrics(done: bool) -> None:
        if ctx.rank != 0:
            return
        _write_csv(run_dir / "metrics.csv", history)
        _write_json(
            run_dir / "metrics.json",
            {
                "role": "student" if is_student else "teacher",
                "world_size": ctx.world,
                "device": str(device),
                "amp": str(amp).replace("torch.", "") if amp else "off",
                "teacher_test_acc": teacher_acc,
                "best_test_acc": best if history else None,
                "last_test_acc": history[-1]["test_acc"] if history else None,
                "epochs_done": len(history),
                "done": done,
                "config": config,
                "history": history,
            },
        )

    write_metrics(start_epoch >= cfg.epochs)  # a resumed run rewrites what the checkpoint knows
    show = cfg.progress and ctx.rank == 0
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        sampler.set_epoch(epoch)
        net.train()
        aug_gen = None
        if data.augment:
            aug_gen = torch.Generator().manual_seed((cfg.seed * 1_000_003 + epoch) * 1009 + ctx.rank)
        sums = torch.zeros(5, dtype=torch.float64, device=device)  # loss, ce, distill, correct, n
        bar = tqdm(loader, desc=f"{role} epoch {epoch + 1}/{cfg.epochs}", disable=not show, file=sys.stderr, leave=True, ascii=True)
        for step, idx in enumerate(bar):
            idx = idx.to(device)
            xb, yb = prep(x_train[idx], aug_gen), y_train[idx]
            t_logits = None
            if objective.distilling:
                if teacher_train_logits is not None:
                    t_logits = teacher_train_logits[idx]
                else:
                    with torch.no_grad(), torch.autocast("cuda", dtype=amp, enabled=amp is not None):
                        t_logits = teacher(xb).float()
            warm = getattr(cfg, "warmup_epochs", 0)
            ramp = min(1.0, (epoch * steps_per_epoch + step + 1) / (warm * steps_per_epoch)) if warm else 1.0
            with torch.autocast("cuda", dtype=amp, enabled=amp is not None):
                out = net(xb)
            loss, ce, dl = objective(out, yb, t_logits, ramp)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{role}: the loss became {loss.item()} in epoch {epoch + 1}; lower --lr")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if objective.stats is not None:
                objective.stats.update(t_logits.detach(), yb)
            n = len(yb)
            sums += torch.stack([loss.detach() * n, ce.detach() * n, dl.detach() * n, (out.argmax(1) == yb).sum(), torch.tensor(n, device=device)]).double()
            if show and step % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
        lr = opt.param_groups[0]["lr"]
        sched.step()
        spread = None
        if objective.stats is not None:
            objective.stats.end_epoch()
            spread = _rank_spread(objective.stats, ctx)
        sums = ctx.all_reduce(sums)
        test_loss, test_acc = _evaluate(model, x_test, y_test, prep, amp, ctx)
        improved = test_acc > best
        best = max(best, test_acc)
        n = float(sums[4])
        row = {
            "epoch": epoch + 1,
            "lr": lr,
            "ramp": ramp if objective.distilling else 0.0,
            "train_loss": float(sums[0]) / n,
            "train_ce": float(sums[1]) / n,
            "train_distill": float(sums[2]) / n,
            "train_acc": float(sums[3]) / n,
            "test_loss": test_loss,
            "test_acc": test_acc,
            "best_test_acc": best,
            "world_size": ctx.world,
            "epoch_time_s": time.perf_counter() - t0,
        }
        if spread is not None:
            row["class_stats_rank_spread"] = spread
        history.append(row)
        if show:
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", test_acc=f"{test_acc:.4f}", best=f"{best:.4f}")
            bar.close()
        if ctx.rank == 0:
            record = _model_record(cfg, data, model)
            if improved:
                save_checkpoint({**record, "kind": "best", "epoch": epoch + 1, "test_acc": test_acc, "config": config}, run_dir / "best.pt")
            save_checkpoint(
                {
                    **record,
                    "kind": "last",
                    "epoch": epoch + 1,
                    "test_acc": test_acc,
                    "best_test_acc": best,
                    "config": config,
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "scaler": scaler.state_dict(),
                    "class_stats": objective.stats.state_dict() if objective.stats is not None else {},
                    "rng": get_rng_state(loader_gen),
                    "history": history,
                },
                run_dir / "last.pt",
            )
        write_metrics(epoch + 1 == cfg.epochs)
        if epoch_callback is not None:
            epoch_callback(row)
    ctx.barrier()
    return RunResult(
        run_dir=run_dir,
        history=history,
        best_test_acc=best,
        last_test_acc=history[-1]["test_acc"],
        world_size=ctx.world,
        wall_time_s=time.perf_counter() - t_start,
        config=config,
        teacher_test_acc=teacher_acc,
    )


def _rank_spread(stats: nn.Module, ctx: _Dist) -> float:
    """Largest difference between any rank's class statistics and rank 0's (0 when all-reduced)."""
    if not ctx.active:
        return 0.0
    flat = torch.cat([v.detach().double().flatten() for v in stats.state_dict().values() if torch.is_tensor(v)])
    gathered = [torch.empty_like(flat) for _ in range(ctx.world)]
    dist.all_gather(gathered, flat)
    return max(float((g - gathered[0]).abs().max()) if g.numel() else 0.0 for g in gathered)


def train_teacher(config: TrainConfig | None = None, *, epoch_callback=None, **overrides: Any) -> RunResult:
    """Train a model on labels alone (cross-entropy) and keep its best and last checkpoints.

    ``train_teacher(TrainConfig(...))`` or ``train_teacher(epochs=5, run_dir=...)``.
    ``epoch_callback(row)`` is called with each epoch's metrics after its checkpoint is written.
    """
    cfg = dataclasses.replace(config or TrainConfig(), **overrides)
    return _fit(cfg, epoch_callback)


def train_student(config: StudentConfig | None = None, *, epoch_callback=None, **overrides: Any) -> RunResult:
    """Train a student with ``ce_weight * CE + ramp * distill_weight * loss(student, teacher)``.

    ``loss`` is ``"ce"`` (no teacher) or a name in :data:`klviz.losses.LOSSES`; its
    hyper-parameters left at ``None`` take the loss's own defaults.
    ``epoch_callback(row)`` is called with each epoch's metrics after its checkpoint is written.
    """
    cfg = dataclasses.replace(config or StudentConfig(), **overrides)
    return _fit(cfg, epoch_callback)
