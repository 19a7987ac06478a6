"""Command line: ``python -m klviz.distill {teacher,student,compare} ...`` (also ``klviz-distill``).

Examples::

    python -m klviz.distill teacher --run-dir runs/teacher
    python -m klviz.distill student --loss gkl --teacher runs/teacher/best.pt --run-dir runs/gkl
    python -m klviz.distill compare --losses ce,kd,dkd,gkl --seeds 5 --out runs/compare
    torchrun --nproc-per-node 4 -m klviz.distill student --dataset cifar100 ...

Bad input (unknown loss, data set or model, a teacher with the wrong number of classes, a
missing or corrupt checkpoint, a non-positive temperature, a run directory that already has
results) ends with one line on stderr that says what to do, and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from klviz.distill.checkpoint import CheckpointError
from klviz.distill.data import DATASETS, DataError
from klviz.distill.models import MODELS
from klviz.distill.train import ConfigError, StudentConfig, TrainConfig

PROG = "python -m klviz.distill"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _csv_ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _add_common(p: argparse.ArgumentParser, *, compare: bool = False) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default="mnist1d", metavar="NAME",
                   help=f"data set: {', '.join(DATASETS)} (default: mnist1d, generated locally)")
    g.add_argument("--data-dir", default=None, metavar="DIR",
                   help="where data sets are cached or found (default: $KLVIZ_DATA or ~/.cache/klviz)")
    g.add_argument("--download", action="store_true", help="download CIFAR if it is not in --data-dir (needs internet)")
    g.add_argument("--num-samples", type=int, default=5000, metavar="N",
                   help="MNIST-1D examples to generate, 80%% train / 20%% test (default: 5000, the paper's)")
    g.add_argument("--train-subset", type=int, default=None, metavar="N", help="use only the first N training examples")
    g.add_argument("--test-subset", type=int, default=None, metavar="N", help="use only the first N test examples")

    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, metavar="N", help="training epochs (default: 30)")
    g.add_argument("--batch-size", type=int, default=100, metavar="N",
                   help="global batch size, split evenly over torchrun processes (default: 100)")
    g.add_argument("--optimizer", default="adam", metavar="NAME", help="adam or sgd (default: adam)")
    g.add_argument("--lr", type=float, default=1e-2, help="learning rate (default: 0.01)")
    g.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default: 0.9)")
    g.add_argument("--weight-decay", type=float, default=0.0, metavar="WD", help="weight decay (default: 0)")
    g.add_argument("--schedule", default="cosine", metavar="NAME",
                   help="learning-rate schedule, stepped per epoch: cosine, step or constant (default: cosine)")
    g.add_argument("--milestones", type=_csv_ints, default=(), metavar="E1,E2,...",
                   help="epochs at which --schedule step multiplies the LR by --lr-decay (e.g. 150,180,210)")
    g.add_argument("--lr-decay", type=float, default=0.1, help="factor of --schedule step (default: 0.1)")
    g.add_argument("--seed", type=int, default=0, help="random seed of initialisation and data order (default: 0)")

    g = p.add_argument_group("hardware")
    g.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps (default: auto)")
    g.add_argument("--amp", default="auto", metavar="MODE",
                   help="mixed precision on CUDA only: auto (bf16 if supported, else fp16 with a grad scaler), "
                        "bf16, fp16 or off (default: auto)")
    g.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                   help="let cuDNN pick the fastest (non-deterministic) kernels")
    g.add_argument("--sync-bn", action="store_true", help="synchronise BatchNorm statistics across torchrun processes")

    g = p.add_argument_group("output")
    if not compare:
        g.add_argument("--run-dir", default=None, metavar="DIR",
                       help="where checkpoints (best.pt, last.pt) and metrics (metrics.json/.csv) go")
        g.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last.pt")
    g.add_argument("--force", action="store_true", help="overwrite results already in the output directory")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_loss_options(p: argparse.ArgumentParser, *, compare: bool = False) -> None:
    g = p.add_argument_group("distillation loss" + (" (each option applies to the losses that take it)" if compare else ""))
    if not compare:
        g.add_argument("--loss", default="kd", metavar="NAME",
                       help="ce (labels only, no teacher), kd, dkd, dkl, ikl, gkl or js (default: kd)")
        g.add_argument("--teacher", default=None, metavar="CKPT", help="teacher checkpoint, e.g. runs/teacher/best.pt")
    g.add_argument("--ce-weight", type=float, default=1.0, help="weight of the hard-label cross-entropy (default: 1)")
    g.add_argument("--distill-weight", type=float, default=1.0, help="weight of the distillation term (default: 1)")
    g.add_argument("--warmup-epochs", type=int, default=0, metavar="N",
                   help="ramp the distillation term linearly from 0 to full over N epochs (default: 0)")
    g.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="softmax temperature, > 0 (default: the loss's own, see klviz.losses)")
    g.add_argument("--alpha", type=float, default=None, help="alpha of dkd (TCKD weight), dkl/ikl/gkl (wMSE weight)")
    g.add_argument("--beta", type=float, default=None, help="beta of dkd (NCKD weight), dkl/ikl/gkl (soft CE weight), js (teacher weight)")
    g.add_argument("--gamma", type=float, default=None, help="gkl: exponent of the wMSE weights (1 = ikl)")
    g.add_argument("--weight-temperature", type=float, default=None, metavar="T",
                   help="ikl/gkl: temperature of the wMSE weights and class statistics (default: --temperature)")
    g.add_argument("--convention", default=None, metavar="NAME",
                   help="ikl/gkl: 'book' (the paper's formula) or 'official' (the published code's)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so the docs and tests can inspect it)."""
    p = _Parser(prog=PROG, description="Train a teacher, distil it into a student, or compare distillation losses.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{teacher,student,compare}", parser_class=_Parser)

    t = sub.add_parser("teacher", help="train a teacher on the labels (cross-entropy)",
                       description="Train a teacher with cross-entropy; writes best.pt, last.pt, metrics.json, metrics.csv.")
    t.add_argument("--model", default="cnn1d", metavar="NAME", help=f"architecture: {', '.join(MODELS)} (default: cnn1d)")
    t.add_argument("--hidden", type=int, default=None, metavar="H", help="hidden width of mlp (default: 100)")
    t.add_argument("--channels", type=int, default=None, metavar="C", help="channels of cnn1d/cnn2d")
    _add_common(t)

    s = sub.add_parser("student", help="distil a teacher into a student",
                       description="Train a student with ce_weight*CE + ramp*distill_weight*LOSS(student, teacher).")
    s.add_argument("--model", default="mlp", metavar="NAME", help=f"architecture: {', '.join(MODELS)} (default: mlp)")
    s.add_argument("--hidden", type=int, default=None, metavar="H", help="hidden width of mlp (default: 100)")
    s.add_argument("--channels", type=int, default=None, metavar="C", help="channels of cnn1d/cnn2d")
    _add_loss_options(s)
    _add_common(s)

    c = sub.add_parser("compare", help="one teacher, then a student per loss and seed; table and plot",
                       description="Train one teacher (or reuse --teacher), then a student for every loss and seed; "
                                   "print mean +- std test accuracy and write results.csv, summary.csv, curves.csv "
                                   "and learning_curves.png to --out.")
    c.add_argument("--losses", default="ce,kd,dkd,gkl", metavar="L1,L2,...", help="comma-separated losses (default: ce,kd,dkd,gkl)")
    c.add_argument("--seeds", type=int, default=3, metavar="N", help="number of student seeds per loss (default: 3)")
    c.add_argument("--first-seed", type=int, default=0, metavar="S", help="first student seed (default: 0)")
    c.add_argument("--out", default="runs/compare", metavar="DIR", help="output directory (default: runs/compare)")
    c.add_argument("--teacher", default=None, metavar="CKPT", help="reuse this teacher checkpoint instead of training one")
    c.add_argument("--teacher-model", default="cnn1d", metavar="NAME", help="teacher architecture (default: cnn1d)")
    c.add_argument("--student-model", default="mlp", metavar="NAME", help="student architecture (default: mlp)")
    c.add_argument("--teacher-epochs", type=int, default=None, metavar="N", help="teacher epochs (default: --epochs)")
    _add_loss_options(c, compare=True)
    _add_common(c, compare=True)
    return p


def _model_options(a: argparse.Namespace) -> dict[str, Any]:
    opts = {}
    if getattr(a, "hidden", None) is not None:
        opts["hidden"] = a.hidden
    if getattr(a, "channels", None) is not None:
        opts["channels"] = a.channels
    return opts


def _common(a: argparse.Namespace) -> dict[str, Any]:
    d = dict(
        dataset=a.dataset, data_dir=a.data_dir, download=a.download, num_samples=a.num_samples,
        train_subset=a.train_subset, test_subset=a.test_subset, batch_size=a.batch_size,
        optimizer=a.optimizer, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay,
        schedule=a.schedule, milestones=tuple(a.milestones), lr_decay=a.lr_decay, seed=a.seed,
        device=a.device, amp=a.amp, deterministic=a.deterministic, sync_bn=a.sync_bn,
        force=a.force, progress=not a.quiet,
    )
    if a.epochs is not None:
        d["epochs"] = a.epochs
    return d


def _loss_options(a: argparse.Namespace) -> dict[str, Any]:
    return dict(
        ce_weight=a.ce_weight, distill_weight=a.distill_weight, warmup_epochs=a.warmup_epochs,
        temperature=a.temperature, alpha=a.alpha, beta=a.beta, gamma=a.gamma,
        weight_temperature=a.weight_temperature, convention=a.convention,
    )


def _print_result(res) -> None:
    print(f"{res.run_dir}: best test accuracy {res.best_test_acc:.4f}, last {res.last_test_acc:.4f} "
          f"({len(res.history)} epochs, world size {res.world_size}, {res.wall_time_s:.1f} s)")


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run; raises the library's errors (``main`` turns them into one line)."""
    a = build_parser().parse_args(argv)
    import os

    rank = int(os.environ.get("RANK", "0"))
    if a.command == "teacher":
        from klviz.distill.train import train_teacher

        cfg = TrainConfig(run_dir=a.run_dir or "runs/teacher", model=a.model, model_options=_model_options(a),
                          resume=a.resume, **_common(a))
        res = train_teacher(cfg)
        if rank == 0:
            _print_result(res)
    elif a.command == "student":
        from klviz.distill.train import train_student

        cfg = StudentConfig(run_dir=a.run_dir or f"runs/student-{a.loss}", model=a.model, model_options=_model_options(a),
                            teacher=a.teacher, loss=a.loss, resume=a.resume, **_loss_options(a), **_common(a))
        res = train_student(cfg)
        if rank == 0:
            _print_result(res)
            if res.teacher_test_acc is not None:
                print(f"teacher test accuracy {res.teacher_test_acc:.4f}")
    else:
        from klviz.distill.compare import CompareConfig, paired_differences, run_comparison, summarise

        common = _common(a)
        tcommon = dict(common)
        if a.teacher_epochs is not None:
            tcommon["epochs"] = a.teacher_epochs
        losses = tuple(v.strip() for v in a.losses.split(",") if v.strip())
        cfg = CompareConfig(
            out_dir=a.out, losses=losses, seeds=a.seeds, first_seed=a.first_seed, teacher_checkpoint=a.teacher,
            teacher=TrainConfig(model=a.teacher_model, **tcommon),
            student=StudentConfig(model=a.student_model, **_loss_options(a), **common),
            progress=not a.quiet, force=a.force,
        )
        comp = run_comparison(cfg)
        res = comp.results()
        table = summarise(res)
        if comp.teacher is not None:
            print(f"teacher ({a.teacher_model}): best test accuracy {comp.teacher.best_test_acc:.4f}, "
                  f"last {comp.teacher.last_test_acc:.4f}")
        print(f"{'loss':<8}{'n':>3}  {'last test acc (mean +- std)':>28}  {'best test acc (mean +- std)':>28}")
        for loss, r in table.iterrows():
            print(f"{loss:<8}{int(r['n']):>3}  {100 * r['last_mean']:>19.2f} +- {100 * r['last_std']:5.2f}  "
                  f"{100 * r['best_mean']:>19.2f} +- {100 * r['best_std']:5.2f}")
        if "ce" in losses and len(losses) > 1 and a.seeds > 1:
            pd_ = paired_differences(res, "ce")
            print("paired difference to ce (last accuracy, percentage points): mean +- standard error, t")
            for loss, r in pd_.iterrows():
                print(f"  {loss:<8}{100 * r['mean_diff']:+7.2f} +- {100 * r['se']:.2f}   t = {r['t']:+.2f} (n = {int(r['n'])})")
        print(f"wrote {comp.out_dir}/results.csv, summary.csv, curves.csv, learning_curves.png")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one-line errors with exit status 2 for bad input, tracebacks only for bugs."""
    try:
        return run(argv)
    except (ConfigError, DataError, CheckpointError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a hyper-parameter rejected by klviz.losses
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
