"""Tests of klviz._backend: which library computes, in which dtype, and non-numbers refused."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from klviz._backend import as_float, common, is_tensor


def test_is_tensor():
    assert is_tensor(torch.zeros(1)) and not is_tensor(np.zeros(1)) and not is_tensor([0.0])


@pytest.mark.parametrize(
    "x,dtype",
    [([1, 2], np.float64), (np.arange(2), np.float64), (np.zeros(2, np.float32), np.float32),
     (np.zeros(2, np.float16), np.float32), ([True, False], np.float64), ([Fraction(1, 2), 1], np.float64),
     (3, np.float64)],
)
def test_as_float_numpy_dtypes(x, dtype):
    out = as_float(x)
    assert isinstance(out, np.ndarray) and out.dtype == dtype


@pytest.mark.parametrize(
    "x,dtype",
    [(torch.zeros(2), torch.float32), (torch.zeros(2, dtype=torch.float64), torch.float64),
     (torch.zeros(2, dtype=torch.float16), torch.float32), (torch.zeros(2, dtype=torch.bfloat16), torch.float32),
     (torch.arange(2), torch.get_default_dtype()), (torch.tensor([True]), torch.get_default_dtype())],
)
def test_as_float_torch_dtypes(x, dtype):
    assert as_float(x).dtype == dtype


def test_as_float_keeps_autograd_and_follows_like():
    x = torch.zeros(2, requires_grad=True)
    assert as_float(x) is x
    like = torch.zeros(1, dtype=torch.float64)
    out = as_float([1, 2], like=like)
    assert is_tensor(out) and out.dtype == torch.float64


@pytest.mark.parametrize("bad", [["a"], [1j], np.array([1 + 0j]), [None, 1.0], [{}], torch.tensor([1j])])
def test_as_float_refuses_non_numbers(bad):
    with pytest.raises(TypeError, match="^p (must hold real numbers|holds complex numbers|is a complex tensor)"):
        as_float(bad, name="p")
    with pytest.raises(TypeError, match="^p "):
        as_float(bad, like=torch.zeros(1), name="p")


def test_common():
    (a, b), torch_ = common([0.5, 0.5], np.zeros(2, np.float32))
    assert not torch_ and a.dtype == np.float64 and b.dtype == np.float32
    (a, b), torch_ = common(torch.zeros(2, dtype=torch.float16), [1.0, 2.0])
    assert torch_ and a.dtype == b.dtype == torch.float32
    (a, b), torch_ = common(torch.zeros(2), torch.zeros(2, dtype=torch.float64))
    assert a.dtype == b.dtype == torch.float64
    with pytest.raises(TypeError, match="^q must hold real numbers"):
        common(torch.zeros(2), ["x", "y"], names=("p", "q"))
    with pytest.raises(TypeError, match="^argument 2 must hold real numbers"):
        common([1.0], ["x"])


def test_torch_threads_sets_and_restores_even_on_error():
    import pytest
    import torch

    from klviz._backend import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError
    assert torch.get_num_threads() == before
