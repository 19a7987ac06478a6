"""klviz.distill.data: MNIST-1D generation and cache, the digits split, the CIFAR pickle reader."""

from __future__ import annotations

import random

import numpy as np
import pytest

from klviz.distill import data as D


pytestmark = pytest.mark.usefixtures("fresh_data_memo")


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
    D.clear_cache()
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
    assert ds.x_train.shape == (1347, 1, 8, 8) and ds.x_test.shape == (450, 1, 8, 8)
    y = load_digits().target
    assert np.array_equal(np.bincount(np.concatenate([ds.y_train, ds.y_test])), np.bincount(y))
    # stratified: every class holds out a quarter of its images, to within one
    assert np.abs(np.bincount(ds.y_test) - np.bincount(y) / 4).max() <= 1
    # standardised per pixel with training statistics: mean 0 and, where the pixel varies, sd 1
    flat = ds.x_train.reshape(len(ds.x_train), -1).astype(np.float64)
    assert np.abs(flat.mean(0)).max() < 1e-5
    sd = flat.std(0)
    assert np.all((np.abs(sd - 1) < 1e-5) | (sd < 1e-6))


def test_digits_split_offers_raw_pixels_that_standardise_to_the_inputs():
    from sklearn.datasets import load_digits

    d = D.digits_split()
    assert d.raw_train.shape == (1347, 64) and d.raw_train.dtype == np.float32
    assert d.raw_train.min() == 0.0 and d.raw_train.max() == 1.0
    # independent computation: the raw digits images (0..16) are a permutation of load_digits'
    x = load_digits().data / 16.0
    assert sorted(map(bytes, np.vstack([d.raw_train, d.raw_test]).astype(np.float64))) == sorted(map(bytes, x))
    np.testing.assert_allclose((d.raw_test - d.mean) / d.std, d.x_test, atol=1e-5)
    assert D.digits_split() is d  # memoised
    other = D.digits_split(seed=1)
    assert not np.array_equal(other.y_test, d.y_test)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_reader_on_files_in_the_official_format(tmp_path, name, fake_cifar):
    folder, written = fake_cifar(tmp_path, name)
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


def test_cifar_missing_and_corrupt(tmp_path, fake_cifar):
    with pytest.raises(D.DataError, match="--download"):
        D.load_dataset("cifar10", data_dir=tmp_path)
    folder, _ = fake_cifar(tmp_path, "cifar10")
    (folder / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(D.DataError, match="cannot read CIFAR batch"):
        D.read_cifar("cifar10", tmp_path)


def test_read_cifar_names_the_known_sets(tmp_path):
    with pytest.raises(D.DataError, match="unknown CIFAR data set 'cifar5'; choose one of: cifar10, cifar100"):
        D.read_cifar("cifar5", tmp_path)


def test_unknown_dataset_lists_the_names():
    with pytest.raises(D.DataError, match="mnist1d, digits, cifar10, cifar100"):
        D.load_dataset("imagenet")
