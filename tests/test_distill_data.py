"""klviz.distill.data: MNIST-1D generation and cache, digits, the CIFAR pickle reader."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from klviz.distill import data as D


@pytest.fixture(autouse=True)
def _fresh_memo():
    D._MEMO.clear()
    yield
    D._MEMO.clear()


def test_mnist1d_generated_cached_and_equal_to_the_package(tmp_path):
    from mnist1d.data import get_dataset_args, make_dataset

    np.random.seed(123)
    random.seed(123)
    before_np, before_py = np.random.get_state()[1].copy(), random.getstate()
    ds = D.load_dataset("mnist1d", data_dir=tmp_path, num_samples=200)
    # loading must not reseed the caller's global generators (mnist1d's make_dataset does)
    assert np.array_equal(np.random.get_state()[1], before_np) and random.getstate() == before_py
    assert ds.x_train.shape == (160, 1, 40) and ds.x_test.shape == (40, 1, 40)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.num_classes == 10 and ds.input_shape == (1, 40)
    cache = tmp_path / "mnist1d_n200_seed42.npz"
    assert cache.is_file()

    args = get_dataset_args()
    args.num_samples = 200
    ref = make_dataset(args)
    np.testing.assert_array_equal(ds.x_train[:, 0], ref["x"].astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, ref["y_test"])

    # second load comes from the cache (generation would be monkeypatched away)
    D._MEMO.clear()
    import mnist1d.data

    orig = mnist1d.data.make_dataset
    mnist1d.data.make_dataset = None
    try:
        again = D.load_dataset("mnist1d", data_dir=tmp_path, num_samples=200)
    finally:
        mnist1d.data.make_dataset = orig
    np.testing.assert_array_equal(again.x_train, ds.x_train)


def test_mnist1d_broken_cache_is_regenerated(tmp_path):
    (tmp_path / "mnist1d_n100_seed42.npz").write_bytes(b"not an npz")
    ds = D.load_dataset("mnist1d", data_dir=tmp_path, num_samples=100)
    assert len(ds.y_train) == 80


def test_digits_split():
    from sklearn.datasets import load_digits

    ds = D.load_dataset("digits")
    assert ds.x_train.shape == (1437, 1, 8, 8) and ds.x_test.shape == (360, 1, 8, 8)
    y = load_digits().target
    assert np.array_equal(np.bincount(np.concatenate([ds.y_train, ds.y_test])), np.bincount(y))
    assert abs(float(np.concatenate([ds.x_train, ds.x_test]).mean())) < 1e-5


def write_fake_cifar(root, name: str, n_per_batch: int = 8, seed: int = 0):
    """Tiny files in the exact format of the official python-version archives."""
    rng = np.random.default_rng(seed)
    if name == "cifar10":
        folder = root / "cifar-10-batches-py"
        files, key, classes = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], b"labels", 10
    else:
        folder = root / "cifar-100-python"
        files, key, classes = ["train", "test"], b"fine_labels", 100
    folder.mkdir(parents=True)
    written = {}
    for f in files:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, classes, n_per_batch).tolist()
        d = {b"batch_label": f.encode(), b"data": data, key: labels, b"filenames": [b"x.png"] * n_per_batch}
        if name == "cifar100":
            d[b"coarse_labels"] = [v // 5 for v in labels]
        with open(folder / f, "wb") as fh:
            pickle.dump(d, fh, protocol=2)
        written[f] = (data, labels)
    return folder, written


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_reader_on_files_in_the_official_format(tmp_path, name):
    folder, written = write_fake_cifar(tmp_path, name)
    for root in (tmp_path, folder):  # the parent or the folder itself
        ds = D.read_cifar(name, root)
        train_files = [f for f in written if f not in ("test_batch", "test")]
        test_file = "test_batch" if name == "cifar10" else "test"
        assert ds.x_train.shape == (8 * len(train_files), 3, 32, 32) and ds.x_train.dtype == np.uint8
        # row layout: 1024 red, then 1024 green, then 1024 blue values, each row-major 32x32
        first = written[train_files[0]][0][1]
        np.testing.assert_array_equal(ds.x_train[1, 1, 2, 3], first[1024 + 2 * 32 + 3])
        np.testing.assert_array_equal(ds.y_train, np.concatenate([written[f][1] for f in train_files]))
        np.testing.assert_array_equal(ds.y_test, written[test_file][1])
        assert ds.num_classes == (10 if name == "cifar10" else 100) and ds.augment


def test_cifar_missing_and_corrupt(tmp_path):
    with pytest.raises(D.DataError, match="--download"):
        D.load_dataset("cifar10", data_dir=tmp_path)
    folder, _ = write_fake_cifar(tmp_path, "cifar10")
    (folder / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(D.DataError, match="cannot read CIFAR batch"):
        D.read_cifar("cifar10", tmp_path)


def test_unknown_dataset_lists_the_names():
    with pytest.raises(D.DataError, match="mnist1d, digits, cifar10, cifar100"):
        D.load_dataset("imagenet")
