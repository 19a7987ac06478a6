r"""The language-model trainer of the chapter ``ch-lm``: a teacher on the corpus, and students
distilled from it token by token, off-policy (teacher-forced on the corpus) or on-policy (on
the student's own samples, as in GKD, Agarwal et al. 2024, and MiniLLM, Gu et al. 2024).

Both run on the distillation runtime (:func:`klviz.distill.fit`): checkpoints, exact
``--resume``, ``metrics.json``/``.csv``, progress bars, DDP and AMP come from there. The
command line::

    python -m klviz.distill lm-teacher --run-dir runs/lm-teacher
    python -m klviz.distill lm-student --teacher runs/lm-teacher/last.pt --loss js --beta 1 \
        --policy on --run-dir runs/lm-rkl-on

A student's loss is ``ce`` (the corpus alone) or a registered loss of :mod:`klviz.losses`
that takes no labels, on the ``(B, N, V)`` logits of teacher and student (temperature 1
unless ``--temperature`` is given): ``kd`` is the forward KL, ``js --beta 1`` the reverse KL.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from klviz.distill.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from klviz.distill.commands import command
from klviz.distill.config import (HYPERS, ConfigError, StudentConfig, TrainConfig, at_least_one, loss_names,
                                  nonnegative, option, positive)
from klviz.distill.runtime import Runtime
from klviz.distill.task import StepResult, Task
from klviz.distill.train import RunResult, fit
from klviz.lm.corpus import CharTokenizer, load_corpus, split_tokens
from klviz.lm.metrics import bits_per_token, token_distill_loss, windows
from klviz.lm.model import TinyLM, count_parameters
from klviz.lm.sampling import sample
from klviz.losses import get_spec

__all__ = ["BOOK_TEACHER", "LMStudentConfig", "LMTask", "LMTeacherConfig", "export_teacher", "load_lm", "train_lm_student", "train_lm_teacher"]

_M, _D, _P = "model", "data", "on-policy data"


def _context(v: Any, name: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {v!r} ({type(v).__name__})")
    if v < 2:
        raise ConfigError(f"{name}={v}: a sequence needs at least 2 tokens (an input and the next one); "
                          "use e.g. --context 64")


def _fraction(v: Any, name: str) -> None:
    positive(v, name)
    if not v < 1:
        raise ConfigError(f"{name}={v} must be in (0, 1), e.g. 0.1")


def _top_k(v: Any, name: str) -> None:
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, got {v!r} ({type(v).__name__})")
    if v < 1:
        raise ConfigError(f"{name}={v}: keep at least 1 token (e.g. --top-k 10), or omit it to keep all")


def _lm_losses() -> list[str]:
    return [n for n in loss_names() if n == "ce" or not get_spec(n).needs_target]


def _hidden(base: type, name: str, default: Any) -> Any:
    """Field ``name`` of ``base`` without a command-line flag (it does not apply here)."""
    return field(default=default, metadata={**base.__dataclass_fields__[name].metadata, "cli": False})


@dataclass
class LMTeacherConfig(TrainConfig):
    """A character-level language model trained on the ``pydoc_data`` corpus (chapter ``ch-lm``)."""

    run_dir: str = option("runs/lm-teacher", help="where checkpoints and metrics go", group="output",
                          metavar="DIR", resume_free=True)
    dataset: str = option("pydoc", help="corpus: the pydoc_data topics of this Python", group=_D,
                          metavar="NAME", choices=("pydoc",), noun="corpus")
    model: str = option("tinylm", help="architecture: a causal transformer", group=_M, metavar="NAME",
                        choices=("tinylm",), noun="model")
    epochs: int = option(4, help="passes over the training windows", group="optimisation", metavar="N",
                         check=at_least_one)
    batch_size: int = option(32, help="global batch of windows, split evenly over torchrun processes",
                             group="optimisation", metavar="N", check=at_least_one)
    lr: float = option(3e-3, help="learning rate", group="optimisation", check=positive)
    d_model: int = option(128, help="width of the transformer", group=_M, metavar="D", check=at_least_one)
    layers: int = option(2, help="transformer blocks", group=_M, metavar="N", check=at_least_one)
    heads: int = option(4, help="attention heads (d_model must be a multiple)", group=_M, metavar="H",
                        check=at_least_one)
    context: int = option(64, help="tokens the model sees (a window holds context + 1)", group=_M,
                          metavar="N", check=_context)
    stride: int | None = option(None, help="start of one training window to the next", group=_D, metavar="N",
                                type=int, check=at_least_one, default_text="context")
    max_chars: int | None = option(None, help="use only the first N characters of the corpus", group=_D,
                                   metavar="N", type=int, check=at_least_one, default_text="all")
    val_fraction: float = option(0.1, help="tail of the corpus held out for validation", group=_D,
                                 check=_fraction)
    val_windows: int = option(64, help="validation windows scored after each epoch", group=_D, metavar="N",
                              check=at_least_one)
    test_subset: int | None = _hidden(TrainConfig, "test_subset", None)
    num_samples: int = _hidden(TrainConfig, "num_samples", 5000)
    download: bool = _hidden(TrainConfig, "download", False)
    data_dir: str | None = _hidden(TrainConfig, "data_dir", None)
    sync_bn: bool = _hidden(TrainConfig, "sync_bn", False)

    def cross_check(self, world: int) -> None:
        TrainConfig.cross_check(self, world)
        if self.d_model % self.heads:
            raise ConfigError(f"d_model={self.d_model} must be a multiple of heads={self.heads}")


@dataclass
class LMStudentConfig(LMTeacherConfig, StudentConfig):
    """A smaller language model distilled from an ``lm-teacher`` checkpoint, token by token."""

    kind: ClassVar[str] = "student"
    run_dir: str = option("runs/lm-student", help="where checkpoints and metrics go", group="output",
                          metavar="DIR", resume_free=True)
    loss: str = option("kd", help="ce (corpus only) or a distillation loss on the tokens' distributions",
                       group="distillation loss", metavar="NAME", choices=_lm_losses, noun="loss")
    ce_weight: float = option(0.0, help="weight of the cross-entropy on the corpus's next characters",
                              group="distillation loss", check=nonnegative)
    epochs: int = option(2, help="passes over the training windows", group="optimisation", metavar="N",
                         check=at_least_one)
    d_model: int = option(48, help="width of the transformer", group=_M, metavar="D", check=at_least_one)
    layers: int = option(1, help="transformer blocks", group=_M, metavar="N", check=at_least_one)
    policy: str = option("off", help="off: teacher-forced on the corpus; on: on the student's own samples",
                         group=_P, metavar="MODE", choices=("off", "on"), noun="policy")
    prompt_len: int = option(16, help="corpus tokens that start each on-policy sample", group=_P, metavar="N",
                             check=at_least_one)
    gen_len: int = option(48, help="tokens the student samples after the prompt", group=_P, metavar="N",
                          check=at_least_one)
    off_epochs: int = option(0, help="epochs on the corpus before --policy on starts (a teacher-forced warm start, "
                             "as GKD and MiniLLM start from a fine-tuned student)", group=_P, metavar="N",
                             check=nonnegative)
    sample_temperature: float = option(1.0, help="temperature of the student's sampling", group=_P,
                                       check=positive)
    top_k: int | None = option(None, help="sample from the k most likely tokens only", group=_P, metavar="K",
                               type=int, check=_top_k, default_text="all")
    class_weights: bool = _hidden(StudentConfig, "class_weights", False)

    def cross_check(self, world: int) -> None:
        LMTeacherConfig.cross_check(self, world)
        given = {k: getattr(self, k) for k in HYPERS if getattr(self, k) is not None}
        if self.loss == "ce":
            if given:
                raise ConfigError(f"loss 'ce' takes no distillation hyper-parameters; drop --{next(iter(given))}")
            if self.policy == "on":
                raise ConfigError("loss 'ce' has no teacher to score the student's samples; use --policy off")
            return
        if not self.teacher:
            raise ConfigError(f"loss {self.loss!r} needs a teacher: pass --teacher runs/lm-teacher/last.pt")
        takes = get_spec(self.loss).hyper_names()
        bad = [k for k in given if k not in takes]
        if bad:
            raise ConfigError(f"--{bad[0].replace('_', '-')} does not apply to loss {self.loss!r} "
                              f"(it takes: {', '.join(takes) or 'nothing'}); drop it")
        try:
            get_spec(self.loss).fn(torch.zeros(1, 2), torch.zeros(1, 2), **given)
        except ValueError as exc:
            raise ConfigError(f"loss {self.loss!r}: {exc}") from None
        if self.policy == "on" and self.off_epochs >= self.epochs:
            raise ConfigError(f"off_epochs={self.off_epochs} leaves no on-policy epoch of {self.epochs}; "
                              "lower --off-epochs or raise --epochs")
        if self.policy == "on" and self.prompt_len + self.gen_len > self.context + 1:
            raise ConfigError(f"prompt_len + gen_len = {self.prompt_len + self.gen_len} exceeds context + 1 = "
                              f"{self.context + 1}; shorten --gen-len")


def load_lm(path: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[TinyLM, CharTokenizer, dict]:
    """The model, tokenizer and checkpoint of an ``lm-teacher``/``lm-student`` run (``best.pt``
    or ``last.pt``), in eval mode with frozen parameters. Chapter ``ch-lm``."""
    hint = "pass the last.pt of a run of python -m klviz.distill lm-teacher"
    ck = load_checkpoint(path, what="language-model checkpoint", hint=hint)
    if "tokenizer" not in ck or "lm" not in ck:
        raise CheckpointError(f"{path} is not a language-model checkpoint; {hint}")
    model = TinyLM(**ck["lm"])
    model.load_state_dict(ck["model_state"])
    model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, CharTokenizer.from_state_dict(ck["tokenizer"]), ck


#: the teacher of the chapter ``ch-lm``, made by :func:`export_teacher` from the ``last.pt`` of
#: ``python -m klviz.distill lm-teacher --run-dir runs/lm-teacher --epochs 10 --stride 32``
#: (one thread, ``OMP_NUM_THREADS=1``; Python 3.11.7, torch 2.13.0, CPU)
BOOK_TEACHER = Path(__file__).with_name("teacher.pt")


def export_teacher(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Keep only what :func:`load_lm` needs from a run's checkpoint (model, tokenizer, corpus
    record, config and epoch), so the book's teacher stays small. Chapter ``ch-lm``."""
    ck = load_checkpoint(src, what="language-model checkpoint", hint="pass the last.pt of an lm-teacher run")
    keep = {k: ck[k] for k in ("lm", "tokenizer", "corpus", "config", "epoch", "model_state") if k in ck}
    if "lm" not in keep:
        raise CheckpointError(f"{src} is not a language-model checkpoint; pass the last.pt of an lm-teacher run")
    save_checkpoint(keep, Path(dst))
    return Path(dst)


class LMTask(Task):
    """Next-token training of a :class:`~klviz.lm.model.TinyLM` on corpus windows: cross-entropy
    for a teacher, a token-level distillation loss for a student (off- or on-policy)."""

    monitor = "val_acc"

    def setup(self, rt: Runtime) -> None:
        super().setup(rt)
        cfg, dev = self.cfg, rt.device
        self.student = cfg.kind == "student"
        self.teacher = None
        corpus = load_corpus(cfg.max_chars)
        if self.student and cfg.loss != "ce":
            self.teacher, self.tok, ck = load_lm(cfg.teacher, dev)
            if self.teacher.context < cfg.context:
                raise ConfigError(f"the teacher sees {self.teacher.context} tokens, fewer than --context "
                                  f"{cfg.context}; use --context {self.teacher.context} or less")
        else:
            self.tok = CharTokenizer(corpus.text)
        self.corpus = corpus
        ids = self.tok.encode(corpus.text, drop_unknown=self.teacher is not None)
        self.dropped = len(corpus.text) - len(ids)  # characters the teacher never saw (another Python)
        train, val = split_tokens(ids, cfg.val_fraction)
        L = cfg.context + 1
        if len(train) < L or len(val) < L:
            raise ConfigError(f"the corpus ({len(corpus.text)} characters) leaves fewer than context + 1 = {L} "
                              "characters for training or validation; use a longer text or a shorter --context")
        self.train_rows = windows(train, L, cfg.stride)[: cfg.train_subset].to(dev)
        self.val_rows = windows(val, L)[: cfg.val_windows].to(dev)
        self.hypers = {k: getattr(cfg, k) for k in HYPERS if getattr(cfg, k, None) is not None}
        self.teacher_bpc = bits_per_token(self.teacher, self.val_rows) if self.teacher is not None else None

    def build_model(self) -> nn.Module:
        c = self.cfg
        return TinyLM(self.tok.vocab_size, d_model=c.d_model, layers=c.layers, heads=c.heads, context=c.context)

    def num_train(self) -> int:
        return len(self.train_rows)

    def _ramp(self, step: int, spe: int) -> float:
        w = getattr(self.cfg, "warmup_epochs", 0)
        return 1.0 if not w else min(1.0, step / (w * spe))

    def step(self, net: nn.Module, idx: torch.Tensor, step: int, steps_per_epoch: int) -> StepResult:
        cfg, rt = self.cfg, self.rt
        x = self.train_rows[idx.to(rt.device)]
        if not self.student or cfg.loss == "ce":
            with rt.autocast():
                z = net(x[:, :-1])
            ce = F.cross_entropy(z.float().reshape(-1, z.shape[-1]), x[:, 1:].reshape(-1))
            correct = (z.argmax(-1) == x[:, 1:]).sum()
            return StepResult(ce, {"ce": ce.detach()}, correct, x[:, 1:].numel())
        mask = None
        inp = x[:, :-1]
        if cfg.policy == "on" and (step - 1) // steps_per_epoch >= cfg.off_epochs:
            base = net.module if hasattr(net, "module") else net
            g = torch.Generator(device=rt.device).manual_seed(
                (cfg.seed * 1_000_003 + step) * 1009 + rt.dist.rank)
            gen = sample(base, x[:, :cfg.prompt_len], cfg.gen_len, temperature=cfg.sample_temperature,
                         top_k=cfg.top_k, generator=g)
            base.train()
            inp = gen[:, :-1]
            # only the positions that predict a sampled token carry a loss
            mask = torch.zeros(inp.shape, dtype=torch.bool, device=rt.device)
            mask[:, cfg.prompt_len - 1:] = True
        with rt.autocast():
            s = net(inp)
            with torch.no_grad():
                t = self.teacher(inp)
        d = token_distill_loss(s.float(), t.float(), cfg.loss, mask=mask, **self.hypers)
        ramp = self._ramp(step, steps_per_epoch)
        loss = ramp * cfg.distill_weight * d
        parts = {"distill": d.detach()}
        if cfg.ce_weight:
            with rt.autocast():
                zc = net(x[:, :-1]) if cfg.policy == "on" else s
            ce = F.cross_entropy(zc.float().reshape(-1, zc.shape[-1]), x[:, 1:].reshape(-1))
            loss = loss + cfg.ce_weight * ce
            parts["ce"] = ce.detach()
        return StepResult(loss, parts, None, len(x), {"ramp": ramp})

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation bits per character and next-character accuracy (students: also the
        mean KL(teacher || student) per character in bits)."""
        was = model.training
        model.eval()
        r = self.val_rows
        z = model(r[:, :-1]).float()
        out = {"val_bpc": bits_per_token(model, r),
               "val_acc": float((z.argmax(-1) == r[:, 1:]).float().mean())}
        if self.teacher is not None:
            kl = token_distill_loss(z, self.teacher(r[:, :-1]).float(), "kd")
            out["val_kl_bits"] = float(kl) / float(torch.log(torch.tensor(2.0)))
        model.train(was)
        return out

    def model_record(self, model: nn.Module) -> dict[str, Any]:
        c = self.cfg
        return {"lm": {"vocab_size": self.tok.vocab_size, "d_model": c.d_model, "layers": c.layers,
                       "heads": c.heads, "context": c.context},
                "tokenizer": self.tok.state_dict(),
                "corpus": {"sha256": self.corpus.sha256, "python": self.corpus.python,
                           "chars": len(self.corpus.text)},
                **super().model_record(model)}

    def info(self) -> dict[str, Any]:
        return {"corpus_sha256": self.corpus.sha256, "python": self.corpus.python,
                "corpus_chars": len(self.corpus.text), "vocab_size": self.tok.vocab_size,
                "train_windows": len(self.train_rows), "teacher_val_bpc": self.teacher_bpc,
                "dropped_chars": self.dropped}


def train_lm_teacher(config: LMTeacherConfig | None = None, **overrides: Any) -> RunResult:
    """Train the teacher language model (``LMTeacherConfig`` fields as keywords). Chapter ``ch-lm``."""
    cfg = dataclasses.replace(config or LMTeacherConfig(), **overrides)
    return fit(cfg, LMTask(cfg))


def train_lm_student(config: LMStudentConfig | None = None, **overrides: Any) -> RunResult:
    """Distil a teacher into a student (``LMStudentConfig`` fields as keywords). Chapter ``ch-lm``."""
    cfg = dataclasses.replace(config or LMStudentConfig(), **overrides)
    return fit(cfg, LMTask(cfg))


def _report(res: RunResult) -> None:
    if int(os.environ.get("RANK", "0")) == 0:
        h = res.history[-1]
        print(f"{res.run_dir}: validation {h['val_bpc']:.3f} bits per character, next-character accuracy "
              f"{h['val_acc']:.4f} ({len(res.history)} epochs, {res.wall_time_s:.1f} s)")


@command("lm-teacher", config=LMTeacherConfig, help="train a character-level language model (ch-lm)",
         description="Train a small causal transformer on the pydoc_data corpus; writes best.pt, last.pt, "
                     "metrics.json, metrics.csv.")
def _run_teacher(cfg: LMTeacherConfig) -> None:
    _report(train_lm_teacher(cfg))


@command("lm-student", config=LMStudentConfig, help="distil a language model token by token (ch-lm)",
         description="Distil an lm-teacher checkpoint into a smaller model with a token-level loss, on the corpus "
                     "(--policy off) or on the student's own samples (--policy on).")
def _run_student(cfg: LMStudentConfig) -> None:
    _report(train_lm_student(cfg))
