"""Data sets for the distillation trainer, held in memory as numpy arrays.

Nothing here downloads unless asked to:

- ``mnist1d``: MNIST-1D {cite}`greydanus2024scaling`, generated procedurally with the
  ``mnist1d`` package (``make_dataset``; its own ``get_dataset`` would download a pickle),
  then cached as an ``.npz`` so the second run loads in milliseconds.
- ``digits``: scikit-learn's bundled 8x8 handwritten digits (1797 images, no download), the split
  of :func:`digits_split` (which also offers the raw pixels in [0, 1]).
- ``cifar10`` / ``cifar100``: the standard "python version" pickle batches
  {cite}`krizhevsky2009learning`, read with :mod:`pickle` and numpy (no torchvision). Readers who
  are online can pass ``download=True`` (CLI ``--download``) to fetch the archive with urllib.

Chapter ``ch-lab`` (the distillation lab) uses ``mnist1d``; the GPU recipe uses ``cifar100``.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from klviz.distill.files import atomic_write

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "DigitsSplit",
    "clear_cache",
    "default_data_dir",
    "digits_split",
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
        # two processes (e.g. two DDP ranks) may generate the cache at once: atomic_write gives
        # each its own temporary file, so a reader never sees half a file
        with atomic_write(cache, "wb") as fh:
            np.savez(fh, **arrays)
    return Dataset(
        "mnist1d",
        arrays["x"][:, None, :],  # (N, 1, 40): one channel for the 1-D CNN
        arrays["y"],
        arrays["x_test"][:, None, :],
        arrays["y_test"],
        10,
        info={"cache": str(cache), "num_samples": num_samples, "seed": seed},
    )


@dataclass(frozen=True)
class DigitsSplit:
    """scikit-learn's 8x8 digits, split once, as raw pixels and as standardised inputs.

    ``raw_*`` are the pixels scaled to [0, 1] (``value / 16``), shape ``(N, 64)``, for methods that
    act in pixel space (adversarial perturbations, a VAE's Bernoulli likelihood);
    ``x_*`` are the same images standardised per pixel with training-set statistics. All float32.
    """

    raw_train: np.ndarray
    raw_test: np.ndarray
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    #: per-pixel mean and scale of the training set, on the [0, 1] scale of ``raw_*``
    mean: np.ndarray
    std: np.ndarray


_DIGITS: dict[tuple[float, int], DigitsSplit] = {}


def digits_split(*, test_size: float = 0.25, seed: int = 0) -> DigitsSplit:
    """The one split of scikit-learn's bundled digits (1797 images, 10 classes, no download).

    A stratified split (``test_size`` of each class held out; ``seed`` fixes which), then
    standardisation per pixel with the training set's mean and standard deviation. Border
    pixels that are constant in the training set keep scale 1, so the rare test image where
    they are not zero stays finite. Chapter ``ch-gkl`` trains on it (via
    :func:`klviz.distill.convergence.make_digits_task`), as does the trainer's ``digits`` data set.
    """
    key = (float(test_size), int(seed))
    if key not in _DIGITS:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        x, y = load_digits(return_X_y=True)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
        mean, std = x_tr.mean(0), x_tr.std(0)
        std = np.where(std < 1e-3, 1.0, std)
        f32 = np.float32
        _DIGITS[key] = DigitsSplit(
            (x_tr / 16.0).astype(f32), (x_te / 16.0).astype(f32),
            ((x_tr - mean) / std).astype(f32), ((x_te - mean) / std).astype(f32),
            y_tr.astype(np.int64), y_te.astype(np.int64), (mean / 16.0).astype(f32), (std / 16.0).astype(f32),
        )
    return _DIGITS[key]


def _digits(data_dir: Path, **_: object) -> Dataset:
    d = digits_split()
    return Dataset("digits", d.x_train.reshape(-1, 1, 8, 8), d.y_train, d.x_test.reshape(-1, 1, 8, 8), d.y_test, 10)


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
    if name not in _CIFAR:
        raise DataError(f"unknown CIFAR data set {name!r}; choose one of: {', '.join(_CIFAR)}")
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
        with urllib.request.urlopen(spec["url"]) as src, atomic_write(archive, "wb") as fh:  # noqa: S310 - fixed https URL
            shutil.copyfileobj(src, fh)
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


def clear_cache() -> None:
    """Forget the data sets loaded in this process (the files on disk stay)."""
    _MEMO.clear()
    _DIGITS.clear()


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
