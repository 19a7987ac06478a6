"""A small, careful teacher -> student distillation trainer and its command line.

The path of a run: CLI (:mod:`~klviz.distill.cli`) -> config (:mod:`~klviz.distill.config`, one
:func:`validate`) -> task (:mod:`~klviz.distill.task`: data, model, objective) -> loop
(:mod:`~klviz.distill.train`) -> checkpoint (:mod:`~klviz.distill.checkpoint`).

- :mod:`klviz.distill.config` -- :class:`TrainConfig`, :class:`StudentConfig`, :class:`CompareConfig`, :func:`validate`
- :mod:`klviz.distill.runtime` -- device (cuda > mps > cpu), seeding, mixed precision, ``torchrun``
- :mod:`klviz.distill.data` -- MNIST-1D (generated), digits (bundled; raw and standardised), CIFAR-10/100
- :mod:`klviz.distill.batches` -- index batches on the device, CIFAR augmentation
- :mod:`klviz.distill.models` -- MLP, 1-D/2-D CNNs, CIFAR ResNets (resnet8x4, resnet32x4, ...)
- :mod:`klviz.distill.objective` -- ``ce`` (labels only) and ``distill`` (labels + a registered loss)
- :mod:`klviz.distill.task` -- the :class:`~klviz.distill.task.Task` protocol and the classifier task
- :mod:`klviz.distill.train` -- the loop, :func:`train_teacher`, :func:`train_student` (DDP, AMP, resumable)
- :mod:`klviz.distill.checkpoint`, :mod:`klviz.distill.files` -- atomic checkpoints and files, RNG state
- :mod:`klviz.distill.compare`, :mod:`klviz.distill.stats` -- a student per loss and seed, paired statistics
- :mod:`klviz.distill.convergence` -- the seconds-long linear-student experiment of chapter ``ch-gkl``
- :mod:`klviz.distill.cli` -- ``python -m klviz.distill {teacher,student,compare}``

**Adding a trainer** (adversarial training, a language-model distiller, a VAE): subclass
:class:`TrainConfig` with :func:`~klviz.distill.config.option` fields (the CLI options follow
from them), subclass :class:`~klviz.distill.task.Task` (data, model, the loss of a batch,
evaluation) and run ``fit(config, MyTask(config))``: device, seeding, DDP, AMP, checkpoints,
``--resume`` and metrics files come from the loop. A new training objective for classifiers goes
into :data:`klviz.distill.objective.OBJECTIVES`; a new distillation loss is registered in
:mod:`klviz.losses` and becomes a ``--loss`` choice with its hyper-parameter flags.

Chapter ``ch-lab`` (the distillation lab) uses it on MNIST-1D; the CLI's GPU recipe on CIFAR-100.
"""

from klviz.distill.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from klviz.distill.config import CompareConfig, ConfigError, StudentConfig, TrainConfig, loss_names, validate
from klviz.distill.data import DATASETS, DataError, Dataset, DigitsSplit, digits_split, load_dataset, read_cifar
from klviz.distill.models import MODELS, build_model, num_parameters
from klviz.distill.runtime import resolve_device
from klviz.distill.task import ClassifierTask, Task, load_teacher
from klviz.distill.train import RunResult, fit, train_student, train_teacher

_LAZY = {
    "Comparison": "compare",
    "run_comparison": "compare",
    "paired_differences": "stats",
    "summarize": "stats",
    "DigitsTask": "convergence",
    "make_digits_task": "convergence",
    "train_linear_student": "convergence",
    "convergence_experiment": "convergence",
    "final_table": "convergence",
}


def __getattr__(name: str):
    # pandas (comparison, statistics) is imported only when asked, so the CLI starts faster
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"klviz.distill.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'klviz.distill' has no attribute {name!r}")


__all__ = [
    "DATASETS",
    "MODELS",
    "CheckpointError",
    "ClassifierTask",
    "CompareConfig",
    "Comparison",
    "ConfigError",
    "DataError",
    "Dataset",
    "DigitsSplit",
    "DigitsTask",
    "RunResult",
    "StudentConfig",
    "Task",
    "TrainConfig",
    "build_model",
    "convergence_experiment",
    "digits_split",
    "final_table",
    "fit",
    "load_checkpoint",
    "load_dataset",
    "load_teacher",
    "loss_names",
    "make_digits_task",
    "num_parameters",
    "paired_differences",
    "read_cifar",
    "resolve_device",
    "run_comparison",
    "save_checkpoint",
    "summarize",
    "train_linear_student",
    "train_student",
    "train_teacher",
    "validate",
]
