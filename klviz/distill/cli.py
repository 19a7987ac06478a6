"""Command line: ``python -m klviz.distill {teacher,student,compare} ...`` (also ``klviz-distill``).

Examples::

    python -m klviz.distill teacher --run-dir runs/teacher
    python -m klviz.distill student --loss gkl --teacher runs/teacher/last.pt --run-dir runs/gkl
    python -m klviz.distill compare --losses ce,kd,dkd,gkl --seeds 5 --out runs/compare
    torchrun --nproc-per-node 4 -m klviz.distill student --dataset cifar100 ...

Every option is generated from a field of the configs in :mod:`klviz.distill.config` (its
default, help text and choices are written there once); the loss hyper-parameters
(``--temperature``, ``--beta``, ...) come from the loss registry of :mod:`klviz.losses`. An option
left out keeps the config's default. Bad input (unknown loss, data set or model, a teacher with
the wrong number of classes, a missing or corrupt checkpoint, a non-positive temperature, a run
directory that already has results) ends with one line on stderr that says what to do, and exit
status 2.

Distil from the teacher's ``last.pt``: its ``best.pt`` is the epoch of highest *test* accuracy,
a choice made by looking at the test set (chapter ``ch-lab``).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

from klviz.distill.commands import load_plugins
from klviz.distill.config import CompareConfig, StudentConfig, TrainConfig, choices_of, default_of
from klviz.distill.files import atomic_write
from klviz.distill.models import MODELS

PROG = "python -m klviz.distill"
#: model constructor options with a flag of their own: name -> (model whose default is shown, metavar, what)
MODEL_OPTIONS = {"hidden": ("mlp", "H", "hidden width of mlp"), "channels": ("cnn1d", "C", "channels of cnn1d/cnn2d")}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _csv(kind: Callable[[str], Any]) -> Callable[[str], tuple]:
    def parse(text: str) -> tuple:
        try:
            return tuple(kind(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__} values, got {text!r}") from None

    return parse


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return "none" if value is None else str(value)


def _add_field(groups: dict[str, Any], parser: argparse.ArgumentParser, f: dataclasses.Field, *,
               group: str | None = None, flag: str | None = None, dest: str | None = None,
               help_default: str | None = None) -> None:
    """One option for config field ``f`` (default ``SUPPRESS``: a missing option keeps the config's default)."""
    m, default = f.metadata, default_of(f)
    title = group or m["group"]
    if title not in groups:
        groups[title] = parser.add_argument_group(title)
    g = groups[title]
    flag = flag or m["flag"] or "--" + f.name.replace("_", "-")
    text = m["help"].replace("%", "%%")
    kw: dict[str, Any] = {"dest": dest or f.name, "default": argparse.SUPPRESS}
    if isinstance(default, bool):
        g.add_argument(flag, action="store_false" if default else "store_true", help=text, **kw)
        return
    choices = choices_of(f)
    if choices is not None:
        text += f": {', '.join(map(str, choices))}"
    text += f" (default: {help_default or m['default_text'] or _show(default)})"
    kind = m["type"] or type(default)
    g.add_argument(flag, type=_csv(kind) if isinstance(default, tuple) else kind, metavar=m["metavar"], help=text, **kw)


def _add_fields(groups: dict[str, Any], parser: argparse.ArgumentParser, fields: Iterable[dataclasses.Field],
                skip: Iterable[str] = (), **overrides: dict[str, Any]) -> None:
    for f in fields:
        if f.metadata.get("cli", False) and f.name not in skip:
            _add_field(groups, parser, f, **overrides.get(f.name, {}))


def _fields(cls: type, of: type | None = None) -> list[dataclasses.Field]:
    """The fields of ``cls`` (only those it adds to ``of`` when given)."""
    inherited = {f.name for f in dataclasses.fields(of)} if of else set()
    return [f for f in dataclasses.fields(cls) if f.name not in inherited]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_model_options(groups: dict[str, Any], parser: argparse.ArgumentParser) -> None:
    g = groups.setdefault("model", parser.add_argument_group("model"))
    for name, (model, metavar, what) in MODEL_OPTIONS.items():
        default = inspect.signature(MODELS[model]).parameters[name].default
        g.add_argument("--" + name, type=_positive_int, default=argparse.SUPPRESS, metavar=metavar,
                       help=f"{what} (default: {default} for {model})")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so the docs and tests can inspect it)."""
    p = _Parser(prog=PROG, description="Train a teacher, distil it into a student, or compare distillation losses.")
    plugins = load_plugins()
    names = ",".join(["teacher", "student", "compare", *plugins])
    sub = p.add_subparsers(dest="command", required=True, metavar="{" + names + "}", parser_class=_Parser)

    t = sub.add_parser("teacher", help="train a teacher on the labels (cross-entropy)",
                       description="Train a teacher with cross-entropy; writes best.pt, last.pt, metrics.json, metrics.csv.")
    groups: dict[str, Any] = {}
    _add_model_options(groups, t)
    _add_fields(groups, t, dataclasses.fields(TrainConfig))

    s = sub.add_parser("student", help="distil a teacher into a student",
                       description="Train a student with ce_weight*CE + ramp*distill_weight*LOSS(student, teacher).")
    groups = {}
    _add_model_options(groups, s)
    _add_fields(groups, s, dataclasses.fields(StudentConfig), run_dir={"help_default": "runs/student-LOSS"})

    c = sub.add_parser("compare", help="one teacher, then a student per loss and seed; table and plot",
                       description="Train one teacher (or reuse --teacher), then a student for every loss and seed; "
                                   "print mean +- std test accuracy and write results.csv, summary.csv, curves.csv "
                                   "and learning_curves.png to --out.")
    groups = {}
    _add_fields(groups, c, dataclasses.fields(CompareConfig))
    model = {f.name: f for f in dataclasses.fields(TrainConfig)}["model"]
    smodel = {f.name: f for f in dataclasses.fields(StudentConfig)}["model"]
    epochs = {f.name: f for f in dataclasses.fields(TrainConfig)}["epochs"]
    _add_field(groups, c, model, flag="--teacher-model", dest="teacher_model", group="comparison")
    _add_field(groups, c, smodel, flag="--student-model", dest="student_model", group="comparison")
    _add_field(groups, c, epochs, flag="--teacher-epochs", dest="teacher_epochs", group="comparison",
               help_default="--epochs")
    loss_group = "distillation loss (each option applies to the losses that take it)"
    _add_fields(groups, c, _fields(StudentConfig, TrainConfig), skip=("loss", "teacher", "run_dir", "model"),
                **{f.name: {"group": loss_group} for f in _fields(StudentConfig, TrainConfig)})
    _add_fields(groups, c, dataclasses.fields(TrainConfig), skip=("run_dir", "resume", "model", "progress", "force"))
    for cmd in plugins.values():  # commands registered by the chapters' trainers (klviz.distill.commands)
        x = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description)
        groups = {}
        if cmd.model_options:
            _add_model_options(groups, x)
        _add_fields(groups, x, dataclasses.fields(cmd.config))
    return p


def _given(a: dict[str, Any], cls: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in a.items() if k in names}


def _model_options(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in MODEL_OPTIONS if k in a}


def _print_result(res) -> None:
    print(f"{res.run_dir}: best test accuracy {res.best_test_acc:.4f}, last {res.last_test_acc:.4f} "
          f"({len(res.history)} epochs, world size {res.world_size}, {res.wall_time_s:.1f} s)")


def _draw_learning_curves(comp, path) -> None:
    # the figure lives with the lab's figures; imported here so training needs no matplotlib
    import matplotlib.pyplot as plt

    from klviz.figures.lab import learning_curves

    teacher_acc = comp.teacher.last_test_acc if comp.teacher else None
    fig = learning_curves(histories=comp.histories("test_acc"), teacher_acc=teacher_acc)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", bbox_inches="tight")
    plt.close(fig)


def _compare(a: dict[str, Any]) -> None:
    from klviz.distill.compare import paired_differences, run_comparison, summarize

    common = _given(a, TrainConfig)
    teacher = TrainConfig(**{**common, **_renamed(a, model="teacher_model", epochs="teacher_epochs")})
    student = StudentConfig(**{**_given(a, StudentConfig), **_renamed(a, model="student_model")})
    cfg = CompareConfig(teacher=teacher, student=student, **_given(a, CompareConfig))
    comp = run_comparison(cfg)
    _draw_learning_curves(comp, comp.out_dir / "learning_curves.png")
    res = comp.results()
    table = summarize(res)
    if comp.teacher is not None:
        print(f"teacher ({teacher.model}): best test accuracy {comp.teacher.best_test_acc:.4f}, "
              f"last {comp.teacher.last_test_acc:.4f}")
    print(f"{'loss':<8}{'n':>3}  {'last test acc (mean +- std)':>28}  {'best test acc (mean +- std)':>28}")
    for loss, r in table.iterrows():
        print(f"{loss:<8}{int(r['n']):>3}  {100 * r['last_mean']:>19.2f} +- {100 * r['last_std']:5.2f}  "
              f"{100 * r['best_mean']:>19.2f} +- {100 * r['best_std']:5.2f}")
    if "ce" in cfg.losses and len(cfg.losses) > 1 and cfg.seeds > 1:
        print("paired difference to ce (last accuracy, percentage points): mean +- standard error, t")
        for loss, r in paired_differences(res, "ce").iterrows():
            print(f"  {loss:<8}{100 * r['mean_diff']:+7.2f} +- {100 * r['se']:.2f}   t = {r['t']:+.2f} (n = {int(r['n'])})")
    print(f"wrote {comp.out_dir}/results.csv, summary.csv, curves.csv, learning_curves.png")


def _renamed(a: dict[str, Any], **names: str) -> dict[str, Any]:
    """Config fields given under another option name (``model="teacher_model"``)."""
    return {field: a[opt] for field, opt in names.items() if opt in a}


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run; raises the library's errors (``main`` turns them into one line)."""
    a = vars(build_parser().parse_args(argv))
    rank = int(os.environ.get("RANK", "0"))
    if a["command"] == "teacher":
        from klviz.distill.train import train_teacher

        res = train_teacher(TrainConfig(**_given(a, TrainConfig), model_options=_model_options(a)))
        if rank == 0:
            _print_result(res)
    elif a["command"] == "student":
        from klviz.distill.train import train_student

        cfg = StudentConfig(**_given(a, StudentConfig), model_options=_model_options(a))
        if "run_dir" not in a:
            cfg = dataclasses.replace(cfg, run_dir=f"runs/student-{cfg.loss}")
        res = train_student(cfg)
        if rank == 0:
            _print_result(res)
            if res.teacher_test_acc is not None:
                print(f"teacher test accuracy {res.teacher_test_acc:.4f}")
    elif a["command"] == "compare":
        _compare(a)
    else:
        cmd = load_plugins()[a["command"]]
        extra = {"model_options": _model_options(a)} if cmd.model_options else {}
        cmd.run(cmd.config(**_given(a, cmd.config), **extra))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one-line errors with exit status 2 for bad input, tracebacks only for bugs."""
    try:
        return run(argv)
    except ValueError as exc:  # ConfigError, DataError, CheckpointError, a value rejected by klviz.losses
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except FloatingPointError as exc:  # training diverged: the last checkpoint is kept
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
