"""Tests of the argument and input checks of klviz.info (messages name the argument)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from klviz import info

class TestValidation:
    def test_negative(self):
        with pytest.raises(ValueError, match=r"^p has a negative entry"):
            info.entropy([1.2, -0.2])
        with pytest.raises(ValueError, match=r"^q has a negative entry q\[1\]"):
            info.kl_divergence([0.5, 0.5], [1.1, -0.1])

    def test_nan_and_inf(self):
        with pytest.raises(ValueError, match=r"^p contains NaN"):
            info.entropy([np.nan, 1.0])
        with pytest.raises(ValueError, match=r"^q contains NaN"):
            info.cross_entropy([0.5, 0.5], torch.tensor([np.nan, 1.0]))
        with pytest.raises(ValueError, match=r"^q contains an infinite"):
            info.js_divergence([0.5, 0.5], [np.inf, 0.0])
        with pytest.raises(ValueError, match=r"^p_logits contains NaN"):
            info.kl_divergence_from_logits([np.nan, 0.0], [0.0, 0.0])

    def test_not_normalised(self):
        with pytest.raises(ValueError, match=r"^p must sum to 1 .* row \(1,\) sums to 0\.4.*softmax"):
            info.entropy([[0.5, 0.5], [0.2, 0.2]])
        with pytest.raises(ValueError, match=r"^q must sum to 1 along axis 0"):
            info.kl_divergence(np.full((3, 2), 1 / 3), np.full((3, 2), 0.5), axis=0)
        # a looser atol lets it through
        assert np.isfinite(info.entropy([0.5, 0.49], atol=0.02))
        # validate=False skips the check
        assert np.isfinite(info.entropy([0.5, 0.4], validate=False))

    def test_shapes(self):
        with pytest.raises(ValueError, match=r"^p with shape \(2, 3\) and q with shape \(4,\)"):
            info.kl_divergence(np.full((2, 3), 1 / 3), np.full(4, 0.25))
        with pytest.raises(ValueError, match=r"p_logits with shape .* q_logits"):
            info.kl_divergence_from_logits(np.zeros((2, 3)), np.zeros(4))
        with pytest.raises(ValueError, match="do not broadcast"):
            info.gaussian_kl(np.zeros(3), np.ones(2))
        with pytest.raises(ValueError, match="mu with shape"):
            info.vae_kl(np.zeros(3), np.zeros(2))

    def test_axis(self):
        with pytest.raises(ValueError, match=r"axis=2 is out of range for p"):
            info.entropy([0.5, 0.5], axis=2)
        with pytest.raises(ValueError, match=r"axis=-3 is out of range for logits"):
            info.entropy_from_logits(np.zeros((2, 2)), axis=-3)
        with pytest.raises(ValueError, match=r"p is a scalar"):
            info.entropy(1.0)
        # a float axis is the wrong type (it was a ValueError before the one validation policy)
        with pytest.raises(TypeError, match="axis must be an int"):
            info.entropy([0.5, 0.5], axis=1.5)
        with pytest.raises(TypeError, match="axis must be an int"):
            info.gaussian_kl(np.zeros(2), np.ones(2), axis="0")
        # numpy ints are ints
        assert info.entropy([0.5, 0.5], axis=np.int64(0)) == pytest.approx(np.log(2))

    def test_base(self):
        for bad in (1, 0, -2, "two", float("nan"), float("inf"), np.float64(1.0)):
            with pytest.raises(ValueError, match="base must"):
                info.entropy([0.5, 0.5], base=bad)
        # a bool or a list is the wrong type (True was a ValueError before the policy)
        for bad in (True, [2], 2j):
            with pytest.raises(TypeError, match="base must be a real number"):
                info.entropy([0.5, 0.5], base=bad)
        assert info.entropy([0.5, 0.5], base=np.int64(2)) == pytest.approx(1.0)
        assert info.entropy([0.5, 0.5], base=torch.tensor(2.0)) == pytest.approx(1.0)

    def test_temperature(self):
        # messages: "must lie in (0, inf)" for 0 and -1, "must be a finite number" for inf
        # (all were "must be a finite number > 0" before the policy)
        for bad in (0.0, -1.0, float("inf")):
            with pytest.raises(ValueError, match="^temperature must"):
                info.softmax([1.0, 2.0], temperature=bad)
            with pytest.raises(ValueError, match="^temperature must"):
                info.kl_divergence_from_logits([1.0, 2.0], [0.0, 0.0], temperature=bad)
        # a string temperature is the wrong type: TypeError (a ValueError before the policy)
        for bad in ("2", None, True):
            with pytest.raises(TypeError, match="temperature must be a real number"):
                info.entropy_from_logits([1.0, 2.0], temperature=bad)

    def test_atol(self):
        with pytest.raises(ValueError, match=r"atol must lie in \[0, inf\)"):
            info.entropy([0.5, 0.5], atol=-1e-6)
        with pytest.raises(TypeError, match="atol must be a real number"):
            info.kl_divergence([0.5, 0.5], [0.5, 0.5], atol="1e-6")
        # atol is not looked at when validation is off
        assert info.entropy([0.5, 0.5], atol=None, validate=False) == pytest.approx(np.log(2))

    def test_sigma(self):
        with pytest.raises(ValueError, match=r"^sigma1 must be > 0"):
            info.gaussian_kl(0.0, -1.0)
        with pytest.raises(ValueError, match=r"^sigma2 must be > 0"):
            info.gaussian_kl(0.0, 1.0, 0.0, torch.tensor([1.0, 0.0]))

    def test_validation_under_autograd(self):
        p = torch.tensor([0.6, 0.6], requires_grad=True)
        with pytest.raises(ValueError, match=r"^p must sum to 1"):
            info.entropy(p)
        good = torch.tensor([0.4, 0.6], requires_grad=True)
        info.entropy(good).backward()
        assert good.grad is not None


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: info.entropy(["a", "b"]), "p"),
        (lambda: info.entropy([None, 1.0]), "p"),
        (lambda: info.kl_divergence(torch.tensor([0.5, 0.5]), ["a", "b"]), "q"),
        (lambda: info.softmax(torch.tensor([1j, 1.0])), "logits"),
        (lambda: info.kl_divergence_from_logits([1.0, 2.0], [1j, 0.0]), "q_logits"),
        (lambda: info.gaussian_kl(0.0, "x"), "sigma1"),
        (lambda: info.vae_kl([0.0], [{}]), "logvar"),
        (lambda: info.binary_entropy([0.5j]), "p"),
    ],
)
def test_non_numbers_are_type_errors_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=f"^{name} (must hold real numbers|holds complex numbers|is a complex tensor)"):
        call()
