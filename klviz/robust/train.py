"""The adversarial-training trainer: :class:`RobustConfig`, :class:`RobustTask`, :func:`train_robust`
and the command ``python -m klviz.distill robust``.

It runs on the distillation trainer's loop (:func:`klviz.distill.fit`): checkpoints, exact
``--resume``, metrics files, progress bars, DDP and AMP come from there. The task owns the data
(pixels in [0, 1]: sklearn's digits, or CIFAR-10/100 with the normalisation inside the model),
the inner maximisation (:func:`klviz.robust.methods.inner_max`), the outer loss
(:func:`klviz.robust.methods.robust_loss`), the class statistics of IKL/GKL, and an evaluation
of clean and PGD accuracy per epoch. Chapter ``ch-robust``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from klviz.distill.batches import augment
from klviz.distill.commands import command
from klviz.distill.config import ConfigError, TrainConfig, at_least_one, nonnegative, option, positive
from klviz.distill.data import Dataset, digits_split, load_dataset
from klviz.distill.models import build_model
from klviz.distill.runtime import Runtime
from klviz.distill.task import StepResult, Task
from klviz.distill.train import RunResult, fit
from klviz.losses import ClassStats
from klviz.robust.attacks import NORMS, Attack, worst_case
from klviz.robust.methods import INNER, METHODS, Method, inner_max, robust_loss

__all__ = ["Normalize", "RobustConfig", "RobustTask", "load_robust_model", "train_robust"]

_R = "adversarial training"
ROBUST_DATASETS = ("digits", "cifar10", "cifar100")


def _redefault(name: str, default: Any) -> Any:
    # a TrainConfig field with another default (help, choices and checks kept)
    return dataclasses.field(default=default, metadata=TrainConfig.__dataclass_fields__[name].metadata)


def _positive_or_none(v: Any, name: str) -> None:
    if v is not None:
        positive(v, name)


@dataclass
class RobustConfig(TrainConfig):
    """Settings of an adversarial-training run (defaults: TRADES-KL on digits at ε = 0.1, L∞)."""

    kind: ClassVar[str] = "robust"

    run_dir: str = _redefault("run_dir", "runs/robust")
    dataset: str = option("digits", help="data set (pixels in [0, 1])", group="data", metavar="NAME",
                          choices=ROBUST_DATASETS, noun="data set", default_text="digits, bundled with sklearn")
    model: str = _redefault("model", "mlp")
    epochs: int = _redefault("epochs", 30)
    batch_size: int = _redefault("batch_size", 64)
    lr: float = _redefault("lr", 3e-3)
    method: str = option("trades_kl", help="training method", group=_R, metavar="NAME", choices=METHODS,
                         noun="method")
    eps: float = option(0.1, help="radius of the threat model's ball (pixels in [0, 1]; 8/255 on CIFAR)", group=_R,
                        check=nonnegative)
    norm: str = option("linf", help="ball of the threat model", group=_R, choices=NORMS, noun="norm")
    eps_schedule: str = option("constant", help="constant eps, or linear: eps*epoch/epochs (the released script)",
                               group=_R, metavar="NAME", choices=("constant", "linear"), noun="eps schedule")
    train_steps: int = option(5, help="attack steps of the inner maximisation", group=_R, metavar="N",
                              check=at_least_one)
    train_step_size: float | None = option(None, help="step size of the inner maximisation", group=_R, type=float,
                                           check=_positive_or_none, default_text="2.5*eps/steps")
    inner: str = option("kl", help="what the TRADES family's inner maximisation ascends: kl (the released "
                        "script) or outer (the method's own robust term)", group=_R, choices=INNER, noun="inner")
    beta: float = option(6.0, help="TRADES weight of the robust term", group=_R, check=nonnegative)
    alpha_w: float = option(1.0, help="DKL/IKL/GKL: the book's alpha (weight of the wMSE)", group=_R,
                            check=nonnegative)
    beta_ce: float = option(1.0, help="DKL/IKL/GKL: the book's beta (weight of the soft CE)", group=_R,
                            check=nonnegative)
    gamma: float = option(1.0, help="GKL: exponent of the class-wise weights", group=_R, check=positive)
    stats_temperature: float = option(4.0, help="temperature of the class statistics (IKL/GKL)", group=_R,
                                      metavar="T", check=positive)
    code_alpha: float = option(4.0, help="gkl_at: the released script's --alpha (weight of the soft CE)",
                               group=_R, check=nonnegative)
    code_beta: float = option(20.0, help="gkl_at: the released script's --beta (weight of the wMSE)",
                              group=_R, check=nonnegative)
    eval_steps: int = option(10, help="PGD steps of the per-epoch robust evaluation", group=_R, metavar="N",
                             check=at_least_one)

    @property
    def method_spec(self) -> Method:
        """The :class:`~klviz.robust.methods.Method` these settings describe."""
        return Method(self.method, self.inner, self.beta, self.alpha_w, self.beta_ce, self.gamma,
                      self.code_alpha, self.code_beta)

    def cross_check(self, world: int) -> None:
        TrainConfig.cross_check(self, world)
        if self.dataset == "digits" and self.model.startswith("resnet"):
            raise ConfigError(f"model {self.model!r} is for 32x32 images; use mlp or cnn2d on digits")


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel: the first layer of a model that takes pixels in [0, 1]."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _load(cfg: RobustConfig) -> Dataset:
    if cfg.dataset == "digits":
        d = digits_split()
        data = Dataset("digits-raw", d.raw_train.reshape(-1, 1, 8, 8), d.y_train, d.raw_test.reshape(-1, 1, 8, 8),
                       d.y_test, 10)
    else:
        data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, download=cfg.download)
    return data.subset(cfg.train_subset, cfg.test_subset)


def _build(cfg: RobustConfig, data: Dataset) -> nn.Module:
    try:
        net = build_model(cfg.model, input_shape=data.input_shape, num_classes=data.num_classes, **cfg.model_options)
    except TypeError as exc:
        raise ConfigError(f"model {cfg.model!r} does not take options {cfg.model_options} ({exc})") from None
    # attacks act on pixels in [0, 1]; the normalisation is the model's first layer
    return nn.Sequential(Normalize(data.mean, data.std), net) if data.mean is not None else net


class RobustTask(Task):
    """Adversarial training of a classifier by the method its :class:`RobustConfig` names."""

    monitor = "test_robust_acc"

    def setup(self, rt: Runtime) -> None:
        super().setup(rt)
        cfg, dev = self.cfg, rt.device
        self.method = cfg.method_spec
        self.data = data = _load(cfg)
        self.x_train, self.y_train = torch.from_numpy(data.x_train).to(dev), torch.from_numpy(data.y_train).to(dev)
        self.x_test, self.y_test = torch.from_numpy(data.x_test).to(dev), torch.from_numpy(data.y_test).to(dev)
        self.stats = ClassStats(data.num_classes, temperature=cfg.stats_temperature).to(dev) \
            if self.method.classwise else None

    def build_model(self) -> nn.Module:
        return _build(self.cfg, self.data)

    def num_train(self) -> int:
        return len(self.y_train)

    def _pixels(self, x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        if x.dtype != torch.uint8:
            return x
        x = x.float() / 255.0
        return augment(x, gen) if gen is not None else x

    def start_epoch(self, epoch: int) -> None:
        cfg = self.cfg
        self.epoch = epoch
        self.eps_now = cfg.eps * (epoch + 1) / cfg.epochs if cfg.eps_schedule == "linear" else cfg.eps
        self.aug_gen = None
        if self.data.augment:
            self.aug_gen = torch.Generator().manual_seed((cfg.seed * 1_000_003 + epoch) * 1009 + self.rt.dist.rank)

    def step(self, net: nn.Module, idx: torch.Tensor, step: int, steps_per_epoch: int) -> StepResult:
        cfg, rt = self.cfg, self.rt
        idx = idx.to(rt.device)
        xb, yb = self._pixels(self.x_train[idx], self.aug_gen), self.y_train[idx]
        # the attack's random start is a function of (seed, step, rank): resumable, no global RNG
        gen = torch.Generator().manual_seed((cfg.seed * 1_000_003 + step) * 1009 + rt.dist.rank)
        bare = getattr(net, "module", net)  # attack the bare model: no DDP gradient hooks on inputs
        with rt.autocast():
            xa = inner_max(bare, xb, yb, self.method, eps=self.eps_now, norm=cfg.norm, steps=cfg.train_steps,
                           step_size=cfg.train_step_size, stats=self.stats, generator=gen)
            # one forward of both halves: one DDP forward per backward (the small models have no BatchNorm)
            both = net(torch.cat([xb, xa])) if self.method.name != "standard" else net(xb)
        nat, adv = both[: len(yb)], (both[len(yb):] if self.method.name != "standard" else None)
        loss, parts = robust_loss(self.method, nat, adv, yb, self.stats)
        self._pending = (nat.detach(), yb)
        shown = adv if adv is not None else nat
        return StepResult(loss, parts, (shown.argmax(1) == yb).sum(), len(yb), {"eps": self.eps_now})

    def after_step(self) -> None:
        if self.stats is not None:
            self.stats.update(*self._pending)

    def end_epoch(self) -> dict[str, float]:
        if self.stats is None:
            return {}
        self.stats.end_epoch()
        return {"class_stats_rank_spread": self.rt.dist.spread(self.stats.means.double().flatten())}

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Clean accuracy and robust accuracy under PGD-``eval_steps`` (CE) at ``eps`` on the test set."""
        cfg, ctx = self.cfg, self.rt.dist
        idx = torch.arange(ctx.rank, len(self.y_test), ctx.world, device=self.y_test.device)
        x, y = self._pixels(self.x_test[idx]), self.y_test[idx]
        r = worst_case(model, x, y, [Attack(cfg.eps, cfg.norm, steps=cfg.eval_steps)], seed=cfg.seed)
        sums = ctx.all_reduce(torch.tensor([r.clean_acc * len(y), r.robust_acc * len(y)], dtype=torch.float64,
                                           device=y.device))
        n = len(self.y_test)
        return {"test_acc": float(sums[0]) / n, "test_robust_acc": float(sums[1]) / n}

    def model_record(self, model: nn.Module) -> dict[str, Any]:
        cfg, data = self.cfg, self.data
        return {"model": cfg.model, "model_options": dict(cfg.model_options), "input_shape": list(data.input_shape),
                "num_classes": data.num_classes, "dataset": data.name, **super().model_record(model)}

    def state_dict(self) -> dict[str, Any]:
        return {"class_stats": self.stats.state_dict() if self.stats is not None else {}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.stats is not None:
            self.stats.load_state_dict(state["class_stats"])


def train_robust(config: RobustConfig | None = None, *, epoch_callback=None, **overrides: Any) -> RunResult:
    """Train with the method of ``config`` through :func:`klviz.distill.fit` (checkpoints, resume, DDP).

    ``train_robust(RobustConfig(...))`` or ``train_robust(method="pgd_at", eps=0.2, run_dir=...)``.
    Chapter ``ch-robust``.
    """
    cfg = dataclasses.replace(config or RobustConfig(), **overrides)
    if not isinstance(cfg, RobustConfig):
        raise TypeError(f"config must be a RobustConfig, got {type(cfg).__name__}")
    return fit(cfg, RobustTask(cfg), epoch_callback=epoch_callback)


def load_robust_model(path: str, device: str | torch.device = "cpu") -> nn.Module:
    """The model of a robust run's ``best.pt`` or ``last.pt``, in eval mode."""
    from klviz.distill.checkpoint import load_checkpoint

    ck = load_checkpoint(path, what="robust checkpoint", hint="pass the last.pt of a robust run")
    cfg = RobustConfig(**{k: v for k, v in ck["config"].items()
                          if k in {f.name for f in dataclasses.fields(RobustConfig)}})
    cfg = dataclasses.replace(cfg, milestones=tuple(cfg.milestones))
    model = _build(cfg, _load(cfg))
    model.load_state_dict(ck["model_state"])
    return model.to(device).eval()


def default_attacks(eps: float, norm: str = "linf") -> list[Attack]:
    """The evaluation's set: FGSM, PGD-20 with CE (1 restart) and with the margin loss (3 restarts)."""
    return [Attack(eps, norm, kind="fgsm"), Attack(eps, norm, steps=20),
            Attack(eps, norm, steps=20, loss="margin", restarts=3)]


@command("robust", config=RobustConfig, help="adversarial training (PGD-AT, TRADES with KL/DKL/IKL/GKL)",
         description="Train a classifier on pixels in [0, 1] with an adversarial-training method, then report "
                     "clean accuracy and the worst case over FGSM and PGD; writes best.pt, last.pt, metrics.json.",
         model_options=True)
def _run(cfg: RobustConfig) -> None:
    import os

    res = train_robust(cfg)
    if int(os.environ.get("RANK", "0")) != 0:
        return
    model = load_robust_model(str(res.last_path))
    data = _load(cfg)
    x, y = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x
    r = worst_case(model, x, y, default_attacks(cfg.eps, cfg.norm), seed=cfg.seed)
    print(f"{res.run_dir}: {cfg.method}, eps {cfg.eps} ({cfg.norm}): clean accuracy {r.clean_acc:.4f}, "
          f"worst-case robust accuracy {r.robust_acc:.4f} ({len(res.history)} epochs, {res.wall_time_s:.1f} s)")
    for name, acc in r.per_attack.items():
        print(f"  {name:<32}{acc:.4f}")
