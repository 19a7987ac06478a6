"""A small, careful teacher -> student distillation trainer and its command line.

- :mod:`klviz.distill.data` -- MNIST-1D (generated), digits (bundled), CIFAR-10/100 (pickle batches)
- :mod:`klviz.distill.models` -- MLP, 1-D/2-D CNNs, CIFAR ResNets (resnet8x4, resnet32x4, ...)
- :mod:`klviz.distill.train` -- :func:`train_teacher`, :func:`train_student` (DDP, AMP, resumable)
- :mod:`klviz.distill.compare` -- one teacher, a student per loss and seed, paired statistics
- :mod:`klviz.distill.cli` -- ``python -m klviz.distill {teacher,student,compare}``

Chapter ``ch-lab`` (the distillation lab) uses it on MNIST-1D; the CLI's GPU recipe on CIFAR-100.
"""

from klviz.distill.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from klviz.distill.data import DATASETS, DataError, Dataset, load_dataset, read_cifar
from klviz.distill.models import MODELS, build_model, num_parameters
from klviz.distill.train import (
    ConfigError,
    RunResult,
    StudentConfig,
    TrainConfig,
    load_teacher,
    loss_names,
    resolve_device,
    train_student,
    train_teacher,
)

_LAZY = {"CompareConfig", "Comparison", "paired_differences", "run_comparison", "summarise"}


def __getattr__(name: str):
    # the comparison needs pandas; import it only when asked, so the CLI starts faster
    if name in _LAZY:
        from klviz.distill import compare

        return getattr(compare, name)
    raise AttributeError(f"module 'klviz.distill' has no attribute {name!r}")


__all__ = [
    "DATASETS",
    "MODELS",
    "CheckpointError",
    "CompareConfig",
    "Comparison",
    "ConfigError",
    "DataError",
    "Dataset",
    "RunResult",
    "StudentConfig",
    "TrainConfig",
    "build_model",
    "load_checkpoint",
    "load_dataset",
    "load_teacher",
    "loss_names",
    "num_parameters",
    "paired_differences",
    "read_cifar",
    "resolve_device",
    "run_comparison",
    "save_checkpoint",
    "summarise",
    "train_student",
    "train_teacher",
]
