"""Settings of a run, written once: each field carries its default, its help text, its choices
and its check, and :func:`validate` and the command line (:mod:`klviz.distill.cli`) read them from
there. The loss hyper-parameters of :class:`StudentConfig` (``temperature``, ``beta``, ...) are
generated from the loss registry of :mod:`klviz.losses`, so a newly registered loss's
hyper-parameter becomes a config field and a ``--flag`` without further code.

A new trainer (adversarial training, a language-model distiller, a VAE) subclasses
:class:`TrainConfig` with its own :func:`option` fields and overrides :meth:`TrainConfig.cross_check`
for rules that tie fields together.
"""

from __future__ import annotations

import math

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field
from typing import Any, ClassVar

from klviz._checks import ConfigError
from klviz.distill.runtime import AMP_MODES
from klviz.losses import all_hypers, get_spec

__all__ = [
    "CompareConfig",
    "ConfigError",
    "StudentConfig",
    "TrainConfig",
    "config_dict",
    "loss_names",
    "option",
    "validate",
]


def loss_names() -> list[str]:
    """Valid student losses: ``"ce"`` (labels only, no teacher, the objective of
    :mod:`klviz.distill.objective`) and the registered ones, :func:`klviz.losses.loss_names`."""
    from klviz import losses

    return ["ce", *losses.loss_names()]


def _datasets() -> list[str]:
    from klviz.distill.data import DATASETS

    return list(DATASETS)


def _models() -> list[str]:
    from klviz.distill.models import MODELS

    return list(MODELS)


# --------------------------------------------------------------------------- checks of one value


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _real(v: Any, name: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name} must be a number, got {v!r} ({type(v).__name__})")
    if not math.isfinite(v):
        raise ConfigError(f"{name}={v} must be a finite number")


def positive(v: Any, name: str) -> None:
    """``v`` is ``None`` (the default of someone else) or a number > 0."""
    if v is None:
        return
    _real(v, name)
    if not v > 0:
        raise ConfigError(f"{name}={v} must be positive (e.g. {_flag(name)} 4)" if "temperature" in name
                          else f"{name}={v} must be positive")


def nonnegative(v: Any, name: str) -> None:
    """``v`` is a number >= 0."""
    _real(v, name)
    if not v >= 0:
        raise ConfigError(f"{name}={v} must be >= 0")


def at_least_one(v: Any, name: str) -> None:
    """``v`` is ``None`` or an int >= 1."""
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {v!r} ({type(v).__name__})")
    if v < 1:
        raise ConfigError(f"{name}={v}: use at least 1" + (" epoch" if name == "epochs" else ""))


def seed_value(v: Any, name: str) -> None:
    """``v`` is an int in [0, 2**63 - 1] (what torch and numpy accept as a seed)."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {v!r} ({type(v).__name__})")
    if not 0 <= v < 2**63:
        raise ConfigError(f"{name}={v}: use an int in [0, 2**63 - 1]")


def option(default: Any = MISSING, *, help: str, group: str = "options", flag: str | None = None,
           type: Callable | None = None, metavar: str | None = None,
           choices: Sequence[Any] | Callable[[], Sequence[Any]] | None = None, noun: str | None = None,
           check: Callable[[Any, str], None] | None = None, default_text: str | None = None,
           resume_free: bool = False, cli: bool = True, default_factory: Callable | None = None) -> Any:
    """A dataclass field that knows its command-line option.

    ``help`` (one line), ``group`` (the ``--help`` section), ``flag`` (default ``--field-name``;
    for a boolean that defaults to ``True`` the flag that turns it off, e.g. ``--quiet``),
    ``type`` (the parser of a value when the default is ``None``), ``choices`` (a list, or a
    function returning one, checked by :func:`validate`; ``noun`` names the kind in the error),
    ``check(value, name)`` (raises :class:`ConfigError`), ``default_text`` (what ``--help``
    says the default is), ``resume_free`` (may differ between a run and its ``--resume``),
    ``cli=False`` (no flag).
    """
    meta = {"help": help, "group": group, "flag": flag, "type": type, "metavar": metavar, "choices": choices,
            "noun": noun, "check": check, "default_text": default_text, "resume_free": resume_free, "cli": cli}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def choices_of(f: dataclasses.Field) -> list[Any] | None:
    """The allowed values of field ``f`` (``None``: any)."""
    c = f.metadata.get("choices")
    return list(c() if callable(c) else c) if c is not None else None


def default_of(f: dataclasses.Field) -> Any:
    """The default value of field ``f``."""
    return f.default_factory() if f.default is MISSING else f.default


# --------------------------------------------------------------------------- the configs

_D, _O, _H, _OUT, _L = "data", "optimisation", "hardware", "output", "distillation loss"


@dataclass
class TrainConfig:
    """Settings of a teacher run (and the shared part of a student run).

    Defaults train the MNIST-1D CNN teacher of chapter ``ch-lab`` in well under a minute on a CPU.
    """

    #: ``"teacher"`` or ``"student"``: written to the checkpoints and metrics
    kind: ClassVar[str] = "teacher"

    run_dir: str = option("runs/teacher", help="where checkpoints (best.pt, last.pt) and metrics (metrics.json/.csv) go",
                          group=_OUT, metavar="DIR", resume_free=True)
    dataset: str = option("mnist1d", help="data set", group=_D, metavar="NAME", choices=_datasets, noun="data set",
                          default_text="mnist1d, generated locally")
    model: str = option("cnn1d", help="architecture", group="model", metavar="NAME", choices=_models, noun="model")
    #: constructor options of the model, e.g. ``{"hidden": 100}`` for ``mlp``
    model_options: dict[str, Any] = option(help="constructor options of the model", cli=False, default_factory=dict)
    epochs: int = option(30, help="training epochs", group=_O, metavar="N", check=at_least_one)
    batch_size: int = option(100, help="global batch size, split evenly over torchrun processes", group=_O,
                             metavar="N", check=at_least_one)
    optimizer: str = option("adam", help="optimiser", group=_O, metavar="NAME", choices=("adam", "sgd"), noun="optimizer")
    lr: float = option(1e-2, help="learning rate", group=_O, check=positive)
    momentum: float = option(0.9, help="SGD momentum", group=_O, check=nonnegative)
    weight_decay: float = option(0.0, help="weight decay", group=_O, metavar="WD", check=nonnegative)
    schedule: str = option("cosine", help="learning-rate schedule, stepped per epoch", group=_O, metavar="NAME",
                           choices=("cosine", "step", "constant"), noun="schedule")
    milestones: tuple[int, ...] = option((), help="epochs at which --schedule step multiplies the LR by --lr-decay "
                                         "(e.g. 150,180,210)", group=_O, metavar="E1,E2,...", type=int, default_text="none")
    lr_decay: float = option(0.1, help="factor of --schedule step", group=_O, check=positive)
    seed: int = option(0, help="random seed of initialisation and data order", group=_O, check=seed_value)
    device: str = option("auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps", group=_H, resume_free=True)
    amp: str = option("auto", help="mixed precision on CUDA only (auto: bf16 if supported, else fp16 with a grad "
                      "scaler)", group=_H, metavar="MODE", choices=AMP_MODES, noun="amp mode")
    deterministic: bool = option(True, help="let cuDNN pick the fastest (non-deterministic) kernels", group=_H,
                                 flag="--no-deterministic")
    sync_bn: bool = option(False, help="synchronise BatchNorm statistics across torchrun processes", group=_H)
    data_dir: str | None = option(None, help="where data sets are cached or found", group=_D, metavar="DIR", type=str,
                                  default_text="$KLVIZ_DATA or ~/.cache/klviz", resume_free=True)
    download: bool = option(False, help="download CIFAR if it is not in --data-dir (needs internet)", group=_D,
                            resume_free=True)
    num_samples: int = option(5000, help="MNIST-1D examples to generate, 80% train / 20% test", group=_D,
                              metavar="N", check=at_least_one, default_text="5000, the paper's")
    train_subset: int | None = option(None, help="use only the first N training examples", group=_D, metavar="N",
                                      type=int, check=at_least_one, default_text="all")
    test_subset: int | None = option(None, help="use only the first N test examples", group=_D, metavar="N",
                                     type=int, check=at_least_one, default_text="all")
    progress: bool = option(True, help="no progress bars", group=_OUT, flag="--quiet", resume_free=True)
    force: bool = option(False, help="overwrite results already in the output directory", group=_OUT, resume_free=True)
    resume: bool = option(False, help="continue the run in --run-dir from its last.pt", group=_OUT, resume_free=True)

    @property
    def role(self) -> str:
        """How progress bars and error messages name the run."""
        return self.kind

    @property
    def objective(self) -> str:
        """The name of the training objective in :data:`klviz.distill.objective.OBJECTIVES`."""
        return "ce"

    def cross_check(self, world: int) -> None:
        """Rules that tie fields together (called by :func:`validate` after the per-field checks)."""
        if self.batch_size % world:
            raise ConfigError(
                f"batch_size={self.batch_size} must be a positive multiple of the number of processes ({world}); "
                "it is the global batch, split evenly over the ranks"
            )


def _redefault(base: type, name: str, default: Any) -> Any:
    """Field ``name`` of ``base`` with another default (help, choices and checks kept)."""
    return field(default=default, metadata=base.__dataclass_fields__[name].metadata)


@dataclass
class _StudentFields(TrainConfig):
    run_dir: str = _redefault(TrainConfig, "run_dir", "runs/student")
    model: str = _redefault(TrainConfig, "model", "mlp")
    #: teacher checkpoint: the ``last.pt`` of a teacher run (its ``best.pt`` is picked on the test
    #: set, chapter ``ch-lab``); not needed for ``loss="ce"``
    teacher: str | None = option(None, help="teacher checkpoint, e.g. runs/teacher/last.pt (best.pt is chosen on "
                                 "the test set)", group=_L, metavar="CKPT", type=str)
    loss: str = option("kd", help="ce (labels only, no teacher) or a distillation loss", group=_L, metavar="NAME",
                       choices=loss_names, noun="loss")
    ce_weight: float = option(1.0, help="weight of the hard-label cross-entropy", group=_L, check=nonnegative)
    distill_weight: float = option(1.0, help="weight of the distillation term", group=_L, check=nonnegative)
    warmup_epochs: int = option(0, help="ramp the distillation term linearly from 0 to full over N epochs", group=_L,
                                metavar="N", check=nonnegative)
    #: class-wise weights (IKL/GKL): the running per-class mean of the teacher's softmax; off:
    #: per-sample weights softmax(teacher / T_w)^gamma (the released configs' ``GI: False``)
    class_weights: bool = option(True, help="per-sample weights softmax(teacher/T_w)^gamma instead of the class-wise "
                                 "ones (ikl, gkl; GI: False in the released configs)", group=_L,
                                 flag="--no-class-weights")


def _hyper_field(h) -> tuple[str, Any, Any]:
    check = positive if h.name.endswith("temperature") else None
    return (h.name, h.type | None, option(None, help=h.help, group=_L, type=h.type, choices=h.choices, noun=h.name,
                                          check=check, metavar="T" if check else None,
                                          default_text="the loss's own, see klviz.losses"))


def _student_cross_check(self, world: int) -> None:
    TrainConfig.cross_check(self, world)
    given = {k: getattr(self, k) for k in HYPERS if getattr(self, k) is not None}
    if not self.class_weights:
        from klviz.distill.objective import uses_class_stats

        if self.loss == "ce" or not uses_class_stats(self.loss):
            raise ConfigError(f"--no-class-weights does not apply to loss {self.loss!r} (it has no class-wise "
                              "weights; only ikl and gkl do); drop it")
    if self.loss == "ce":
        if given:
            raise ConfigError(f"loss 'ce' takes no distillation hyper-parameters; drop {_flag(next(iter(given)))}")
        return
    if not self.teacher:
        raise ConfigError(f"loss {self.loss!r} needs a teacher checkpoint: pass --teacher RUN_DIR/last.pt")
    takes = get_spec(self.loss).hyper_names()
    bad = [k for k in given if k not in takes]
    if bad:
        raise ConfigError(f"{_flag(bad[0])} does not apply to loss {self.loss!r} "
                          f"(it takes: {', '.join(map(_flag, takes)) or 'nothing'}); drop it")
    _dry_run(self.loss, given)


def _dry_run(loss: str, hypers: dict[str, Any]) -> None:
    """Call the loss once on a tiny batch, so its own checks reject a bad value before any training."""
    import torch

    spec = get_spec(loss)
    args = (torch.zeros(1, 2), torch.zeros(1, 2)) + ((torch.zeros(1, dtype=torch.long),) if spec.accepts_target else ())
    try:
        spec.fn(*args, **hypers)
    except ValueError as exc:
        raise ConfigError(f"loss {loss!r}: {exc}") from None


#: the loss hyper-parameters a student config can set (``None``: the loss's own default)
HYPERS: tuple[str, ...] = tuple(all_hypers())

StudentConfig = dataclasses.make_dataclass(
    "StudentConfig",
    [_hyper_field(h) for h in all_hypers().values()],
    bases=(_StudentFields,),
    namespace={
        "kind": "student",
        "role": property(lambda self: f"student[{self.loss}]", doc="``student[LOSS]``"),
        "objective": property(lambda self: "ce" if self.loss == "ce" else "distill",
                              doc="``ce`` without a teacher, else ``distill``"),
        "cross_check": _student_cross_check,
        "__module__": __name__,
        "__doc__": """Settings of a student run: a :class:`TrainConfig` plus the teacher and the loss.

    ``loss`` is ``"ce"`` (labels only) or a registered loss of :mod:`klviz.losses`; the loss
    hyper-parameters (one field per hyper-parameter of the registry: ``temperature``, ``alpha``,
    ``beta``, ...) left at ``None`` take the loss's own defaults.""",
    },
)


@dataclass
class CompareConfig:
    """A teacher recipe, a student recipe, the losses and the number of seeds.

    ``student`` hyper-parameters (``temperature``, ``beta``, ...) apply to every loss that takes
    them and are ignored by the others; ``loss_options[name]`` overrides any student field for
    one loss, e.g. ``{"dkd": {"beta": 2.0}}``. ``teacher_checkpoint`` reuses a trained teacher.
    """

    out_dir: str = option("runs/compare", help="output directory", flag="--out", metavar="DIR", group=_OUT)
    losses: tuple[str, ...] = option(("ce", "kd", "dkd", "gkl"), help="comma-separated losses", metavar="L1,L2,...",
                                     type=str, group="comparison")
    seeds: int = option(3, help="number of student seeds per loss", metavar="N", group="comparison",
                        check=at_least_one)
    #: students use seeds first_seed .. first_seed + seeds - 1
    first_seed: int = option(0, help="first student seed", metavar="S", group="comparison",
                             check=seed_value)
    teacher: TrainConfig = option(help="teacher recipe", cli=False, default_factory=TrainConfig)
    student: StudentConfig = option(help="student recipe", cli=False, default_factory=StudentConfig)
    loss_options: dict[str, dict[str, Any]] = option(help="per-loss student fields", cli=False, default_factory=dict)
    teacher_checkpoint: str | None = option(None, help="reuse this teacher checkpoint instead of training one",
                                            flag="--teacher", metavar="CKPT", type=str, group="comparison")
    progress: bool = option(True, help="no progress bars", flag="--quiet", group=_OUT)
    force: bool = option(False, help="overwrite results already in the output directory", group=_OUT)

    def cross_check(self, world: int) -> None:
        names = loss_names()
        if not self.losses:
            raise ConfigError("losses is empty; name at least one, e.g. --losses ce,kd,gkl")
        repeated = sorted({loss for loss in self.losses if self.losses.count(loss) > 1})
        if repeated:
            raise ConfigError(f"losses names {', '.join(repeated)} more than once; list each loss once")
        for loss in self.losses:
            if loss not in names:
                raise ConfigError(f"unknown loss {loss!r}; choose from: {', '.join(names)}")
        if self.seeds < 1:
            raise ConfigError(f"seeds={self.seeds}: use at least 1 (3 or more to judge seed noise)")


def validate(cfg: Any, world: int = 1) -> None:
    """Check a config before anything runs; raise :class:`ConfigError` saying what to change.

    Every field's ``choices`` and ``check`` (see :func:`option`), then the config's own
    :meth:`~TrainConfig.cross_check` (e.g. the batch must split over ``world`` processes, a
    distillation loss needs a teacher, a hyper-parameter must apply to the loss).
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"cfg must be a config instance (TrainConfig, StudentConfig, ...), got {type(cfg).__name__}")
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        allowed = choices_of(f)
        if allowed is not None and value is not None and value not in allowed:
            noun = f.metadata.get("noun") or f.name
            raise ConfigError(f"unknown {noun} {value!r}; choose one of: {', '.join(map(str, allowed))}")
        check = f.metadata.get("check")
        if check is not None:
            check(value, f.name)
    cfg.cross_check(world)


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The config as plain data (for checkpoints and ``metrics.json``), with its ``kind``."""
    d = dataclasses.asdict(cfg)
    d["milestones"] = list(d["milestones"])
    d["kind"] = cfg.kind
    return d


def resume_free(cfg: TrainConfig) -> set[str]:
    """Fields that may differ between a run and its resumption (paths, device, progress bars)."""
    return {f.name for f in dataclasses.fields(cfg) if f.metadata.get("resume_free")}
