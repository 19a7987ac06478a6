"""Data sets for the distillation trainer, held in memory as numpy arrays.

Nothing here downloads unless asked to:

- ``mnist1d``: MNIST-1D {cite}`greydanus2024scaling`, generated procedurally with the
  ``mnist1d`` package (``make_dataset``; its own ``get_dataset`` would download a pickle),
  then cached as an ``.npz`` so the second run loads in milliseconds.
- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download).
- ``cifar10`` / ``cifar100``: the standard "python version" pickle batches
  {cite}`krizhevsky2009learning`, read with :mod:`pickle` and numpy (no torchvision). Readers who
  are online can pass ``download=True`` (CLI ``--download``) to fetch the archive with urllib.

Chapter ``ch-lab`` (the distillation lab) uses ``mnist1d``; the GPU recipe uses ``cifar100``.
"""

from __future__ import annotations

import os
import pickle
import random
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "default_data_dir",
    "load_dataset",
    "read_cifar",
]


class DataError(ValueError):
    """A data set cannot be found or read; the message says what to do."""


@dataclass
class Dataset:
    """Train and test arrays of one data set.

    ``x_*`` are float32 (already standardised) or uint8 images that :attr:`mean`/:attr:`std`
    standardise on the device after augmentation; ``y_*`` are int64 class indices.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    #: per-channel statistics applied after ``x / 255`` for uint8 images; ``None`` for float data
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    #: random crop (padding 4) + horizontal flip during training, as in CRD/mdistiller
    augment: bool = False
    info: dict = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(1, 40)`` for MNIST-1D or ``(3, 32, 32)`` for CIFAR."""
        return tuple(self.x_train.shape[1:])

    def subset(self, train: int | None = None, test: int | None = None) -> Dataset:
        """The first ``train`` training and ``test`` test examples (for quick runs and tests)."""
        return Dataset(
            self.name,
            self.x_train[:train],
            self.y_train[:train],
            self.x_test[:test],
            self.y_test[:test],
            self.num_classes,
            self.mean,
            self.std,
            self.augment,
            dict(self.info),
        )


def default_data_dir() -> Path:
    """``$KLVIZ_DATA`` if set, else ``~/.cache/klviz``."""
    env = os.environ.get("KLVIZ_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "klviz"


def _atomic_savez(path: Path, **arrays: np.ndarray) -> None:
    # two processes (e.g. two DDP ranks) may generate the cache at once: each writes its own
    # temporary file and the rename is atomic, so a reader never sees half a file
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mnist1d(data_dir: Path, num_samples: int = 5000, seed: int = 42, **_: object) -> Dataset:
    if num_samples < 10:
        raise DataError(f"num_samples={num_samples} is too small for mnist1d; use at least 10 (default 5000)")
    cache = data_dir / f"mnist1d_n{num_samples}_seed{seed}.npz"
    if cache.exists():
        try:
            with np.load(cache) as z:
                arrays = {k: z[k] for k in ("x", "y", "x_test", "y_test")}
        except Exception:  # a broken cache is regenerated, not fatal
            arrays = None
    else:
        arrays = None
    if arrays is None:
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples, args.seed = num_samples, seed
        # make_dataset reseeds numpy's and Python's global generators; put them back so that
        # loading data never changes the caller's random stream
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            d = make_dataset(args)
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        arrays = {
            "x": d["x"].astype(np.float32),
            "y": d["y"].astype(np.int64),
            "x_test": d["x_test"].astype(np.float32),
            "y_test": d["y_test"].astype(np.int64),
        }
        _atomic_savez(cache, **arrays)
    return Dataset(
        "mnist1d",
        arrays["x"][:, None, :],  # (N, 1, 40): one channel for the 1-D CNN
        arrays["y"],
        arrays["x_test"][:, None, :],
        arrays["y_test"],
        10,
        info={"cache": str(cache), "num_samples": num_samples, "seed": seed},
    )


def _digits(data_dir: Path, **_: object) -> Dataset:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    # a fixed permutation (independent of the training seed) so every run sees the same split
    perm = np.random.default_rng(0).permutation(len(y))
    x = (x[perm] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    x = (x - x.mean()) / x.std()
    y = y[perm].astype(np.int64)
    n_train = 1437  # 80 % of 1797
    return Dataset("digits", x[:n_train], y[:n_train], x[n_train:], y[n_train:], 10)


_CIFAR = {
    "cifar10": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "label_key": "labels",
        "classes": 10,
        "mean": (0.4914, 0.4822, 0.4465),
        "std": (0.2470, 0.2435, 0.2616),
    },
    "cifar100": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "folder": "cifar-100-python",
        "train": ["train"],
        "test": ["test"],
        "label_key": "fine_labels",
        "classes": 100,
        "mean": (0.5071, 0.4865, 0.4409),
        "std": (0.2673, 0.2564, 0.2762),
    },
}


def _read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
        data = np.asarray(d[b"data"], dtype=np.uint8)
        labels = np.asarray(d[label_key.encode()], dtype=np.int64)
    except Exception as exc:
        raise DataError(
            f"cannot read CIFAR batch {path} ({type(exc).__name__}); delete the folder and "
            "download it again (--download) or unpack the official python-version archive there"
        ) from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"CIFAR batch {path} has data of shape {data.shape}; expected (N, 3072)")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar(name: str, root: str | os.PathLike) -> Dataset:
    """Read CIFAR-10 or CIFAR-100 from the official python-pickle batches under ``root``.

    ``root`` may be the unpacked folder itself (``cifar-10-batches-py``) or its parent. Images
    stay uint8 ``(N, 3, 32, 32)``; the trainer scales, augments and standardises them on the device.
    """
    spec = _CIFAR[name]
    root = Path(root)
    folder = root / spec["folder"] if (root / spec["folder"]).is_dir() else root
    missing = [f for f in spec["train"] + spec["test"] if not (folder / f).is_file()]
    if missing:
        raise DataError(
            f"{name} not found in {folder} (missing {', '.join(missing)}); pass --download to fetch "
            f"it, or --data-dir pointing at the unpacked '{spec['folder']}' folder"
        )
    parts = [_read_batch(folder / f, spec["label_key"]) for f in spec["train"]]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = _read_batch(folder / spec["test"][0], spec["label_key"])
    return Dataset(
        name, x_train, y_train, x_test, y_test, spec["classes"], spec["mean"], spec["std"], augment=True,
        info={"folder": str(folder)},
    )


def _download_cifar(name: str, data_dir: Path) -> None:
    spec = _CIFAR[name]
    data_dir.mkdir(parents=True, exist_ok=True)
    archive = data_dir / Path(spec["url"]).name
    if not archive.exists():
        print(f"downloading {spec['url']} -> {archive}")
        tmp = archive.with_suffix(".part")
        urllib.request.urlretrieve(spec["url"], tmp)  # noqa: S310 - a fixed https URL
        os.replace(tmp, archive)
    with tarfile.open(archive) as tar:
        try:
            tar.extractall(data_dir, filter="data")  # refuses absolute paths and links out
        except TypeError:  # Python < 3.10.12 has no filter argument
            tar.extractall(data_dir)  # noqa: S202 - the official archive


def _cifar(name: str):
    def load(data_dir: Path, download: bool = False, **_: object) -> Dataset:
        spec = _CIFAR[name]
        if download and not (data_dir / spec["folder"]).is_dir():
            _download_cifar(name, data_dir)
        return read_cifar(name, data_dir)

    return load


#: name -> loader(data_dir, **options)
DATASETS = {"mnist1d": _mnist1d, "digits": _digits, "cifar10": _cifar("cifar10"), "cifar100": _cifar("cifar100")}

_MEMO: dict[tuple, Dataset] = {}


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    num_samples: int = 5000,
) -> Dataset:
    """Load a data set by name (see :data:`DATASETS`); results are memoised per process.

    ``num_samples`` applies to ``mnist1d`` only (80 % train, 20 % test, as its authors split it).
    """
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    key = (name, str(root), num_samples)
    if key not in _MEMO:
        _MEMO[key] = DATASETS[name](root, download=download, num_samples=num_samples)
    return _MEMO[key]
