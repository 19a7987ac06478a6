"""Tests of klviz._checks, the one validation policy: TypeError for a wrong type, ValueError
naming the argument (and the fix) for a bad value, the cleaned value returned otherwise."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from klviz import _checks as checks

FAST = settings(max_examples=100, deadline=None)

# not numbers, whatever their value: each is a TypeError for every numeric check
WRONG_TYPES = [
    "1.0",
    None,
    True,
    False,
    np.True_,
    torch.tensor(True),
    1 + 2j,
    np.complex128(1.0),
    np.array(1 + 0j),
    [1.0],
    (1.0,),
    np.array([1.0]),
    torch.tensor([1.0]),
    np.array("2.0"),
    np.array(1.0, dtype=object),
    object(),
]
WRONG_IDS = [f"{type(v).__name__}-{i}" for i, v in enumerate(WRONG_TYPES)]
# real numbers of every accepted kind, all equal to 2
TWOS = [2, 2.0, Fraction(2), np.float32(2), np.float64(2), np.int64(2), np.uint8(2), np.array(2.0),
        np.array(2), torch.tensor(2.0), torch.tensor(2.0, dtype=torch.bfloat16), torch.tensor(2),
        torch.tensor(2.0, requires_grad=True)]
TWO_IDS = [f"{type(v).__name__}-{i}" for i, v in enumerate(TWOS)]

SCALAR_CHECKS = {
    "number": lambda v: checks.number(v, "x"),
    "finite": lambda v: checks.finite(v, "x"),
    "positive": lambda v: checks.positive(v, "x"),
    "nonnegative": lambda v: checks.nonnegative(v, "x"),
    "temperature": lambda v: checks.temperature(v, "x"),
    "fraction": lambda v: checks.fraction(v, "x"),
}


# ----------------------------------------------------------------------------- real numbers
@pytest.mark.parametrize("check", SCALAR_CHECKS.values(), ids=SCALAR_CHECKS.keys())
@pytest.mark.parametrize("value", WRONG_TYPES, ids=WRONG_IDS)
def test_wrong_types_are_type_errors(check, value):
    with pytest.raises(TypeError, match=r"^x must be a real number, got .*\("):
        check(value)


@pytest.mark.parametrize("value", TWOS, ids=TWO_IDS)
def test_numbers_of_every_kind_are_accepted(value):
    for name, check in SCALAR_CHECKS.items():
        if name == "fraction":
            continue
        out = check(value)
        assert type(out) is float and out == 2.0


@pytest.mark.parametrize("check", SCALAR_CHECKS.values(), ids=SCALAR_CHECKS.keys())
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan"), torch.tensor(math.inf),
                                   10**400, -(10**400)])
def test_nan_and_inf_are_value_errors(check, value):
    with pytest.raises(ValueError, match="^x must be a finite number"):
        check(value)


def test_allow_inf():
    assert checks.number(math.inf, "x", allow_inf=True) == math.inf
    assert checks.number(-math.inf, "x", allow_inf=True) == -math.inf
    with pytest.raises(ValueError, match="finite"):
        checks.number(math.nan, "x", allow_inf=True)
    # bounds still apply to infinities
    with pytest.raises(ValueError, match=r"must lie in \[0, inf\)"):
        checks.number(-math.inf, "x", low=0, allow_inf=True)


def test_bounds_open_and_closed():
    assert checks.number(0, "x", low=0) == 0.0
    assert checks.number(1, "x", high=1) == 1.0
    with pytest.raises(ValueError, match=r"^x must lie in \(0, inf\), got 0"):
        checks.number(0, "x", low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^x must lie in \(-inf, 1\), got 1"):
        checks.number(1, "x", high=1, high_open=True)
    with pytest.raises(ValueError, match=r"^x must lie in \[0, 1\], got 1.5"):
        checks.number(1.5, "x", low=0, high=1)
    with pytest.raises(ValueError, match=r"^x must lie in \[0, 1\], got -0.5"):
        checks.number(-0.5, "x", low=0, high=1)
    # the helpers' ends
    assert checks.nonnegative(0.0, "x") == 0.0
    with pytest.raises(ValueError, match=r"\(0, inf\)"):
        checks.positive(0.0, "x")
    with pytest.raises(ValueError, match=r"\(0, inf\)"):
        checks.temperature(-1.0)
    assert checks.fraction(0, "x") == 0.0 and checks.fraction(1, "x") == 1.0
    with pytest.raises(ValueError, match=r"^x must lie in \(0, 1\]"):
        checks.fraction(0, "x", open_low=True)
    with pytest.raises(ValueError, match=r"^x must lie in \[0, 1\)"):
        checks.fraction(1, "x", open_high=True)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        checks.fraction(1.01, "x")


def test_messages_name_the_argument_and_the_hint():
    with pytest.raises(ValueError, match=r"^alpha must lie in .*; the weight of the KD term"):
        checks.number(2.0, "alpha", high=1, hint="the weight of the KD term")
    with pytest.raises(TypeError, match=r"^alpha must be a real number, got '2' \(str\); the weight"):
        checks.number("2", "alpha", hint="the weight")
    with pytest.raises(ValueError, match=r"^alpha must be a finite number, got nan; the weight"):
        checks.number(math.nan, "alpha", hint="the weight")
    with pytest.raises(ValueError, match=r"^temperature must lie in \(0, inf\), got 0; a softmax temperature"):
        checks.temperature(0)
    with pytest.raises(ValueError, match=r"^T must"):
        checks.temperature(0, "T")


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(-1e6, 1e6), st.floats(0, 1e6))
def test_number_returns_the_value_or_says_why_not(x, low, width):
    high = low + width
    if low <= x <= high:
        assert checks.number(x, "x", low=low, high=high) == x
        assert checks.number(np.float64(x), "x", low=low, high=high) == x
    else:
        with pytest.raises(ValueError, match="^x must lie in"):
            checks.number(x, "x", low=low, high=high)


# ----------------------------------------------------------------------------- integers
@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), np.array(3), torch.tensor(3)])
def test_integer_accepts_ints_of_every_kind(value):
    out = checks.integer(value, "n", low=0, high=5)
    assert type(out) is int and out == 3
    assert checks.positive_int(value, "n") == 3


@pytest.mark.parametrize("value", [3.0, np.float64(3.0), np.array(3.0), torch.tensor(3.0)] + WRONG_TYPES,
                         ids=["float", "np.float64", "0-d float array", "0-d float tensor"] + WRONG_IDS)
def test_integer_rejects_non_ints(value):
    with pytest.raises(TypeError, match=r"^n must be an int, got"):
        checks.integer(value, "n")
    with pytest.raises(TypeError, match=r"^n must be an int"):
        checks.positive_int(value, "n")


def test_integer_bounds():
    assert checks.integer(-(10**30), "n") == -(10**30)  # no float conversion on the way
    with pytest.raises(ValueError, match=r"^n must be an int in \[1, inf\], got 0; hint"):
        checks.integer(0, "n", low=1, hint="hint")
    with pytest.raises(ValueError, match=r"^n must be an int in \[-inf, 4\], got 5"):
        checks.integer(5, "n", high=4)
    with pytest.raises(ValueError, match=r"^batch must be an int in \[1, inf\]"):
        checks.positive_int(0, "batch")
    assert checks.integer(4, "n", low=4, high=4) == 4


# ----------------------------------------------------------------------------- choices, tensors
def test_choice():
    assert checks.choice("sum", "reduction", ("mean", "sum")) == "sum"
    assert checks.choice(None, "x", [None, "a"]) is None
    with pytest.raises(ValueError, match=r"^reduction must be one of 'mean', 'sum'; got 'avg'"):
        checks.choice("avg", "reduction", ("mean", "sum"))
    # options may be any iterable, consumed once
    assert checks.choice(2, "k", iter([1, 2])) == 2


def test_tensor():
    t = torch.zeros(2, 3)
    assert checks.tensor(t, "logits", floating=True, dims=(2, 3)) is t
    for bad in (np.zeros((2, 3)), [[0.0]], None, 1.0):
        with pytest.raises(TypeError, match=r"^logits must be a torch.Tensor of logits, got .*torch.as_tensor"):
            checks.tensor(bad, "logits", what="logits")
    with pytest.raises(ValueError, match=r"^logits must be a floating-point tensor, got dtype torch.int64; .*\.float\(\)"):
        checks.tensor(torch.zeros(2, 3, dtype=torch.long), "logits", floating=True)
    with pytest.raises(ValueError, match=r"^logits must have 2 or 3 dimensions, got shape \(4,\)"):
        checks.tensor(torch.zeros(4), "logits", dims=(2, 3))


# ----------------------------------------------------------------------------- vectors
def test_vector():
    v = checks.vector([1, 2.5, 4], "grid", increasing=True, positive=True)
    assert v.dtype == np.float64 and v.tolist() == [1.0, 2.5, 4.0]
    np.testing.assert_array_equal(checks.vector(torch.tensor([0.5, 0.25]), "t"), [0.5, 0.25])
    np.testing.assert_array_equal(checks.vector(np.arange(3), "t"), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(checks.vector([Fraction(1, 2), 1], "t"), [0.5, 1.0])  # object array
    for bad in ("abc", ["a", "b"], [True, False], [1j, 2j], None, [[1.0], [2.0, 3.0]]):
        with pytest.raises(TypeError, match="^grid must be a 1-D sequence of numbers"):
            checks.vector(bad, "grid")
    with pytest.raises(ValueError, match=r"^grid must be a 1-D sequence of at least 1 numbers, got shape \(2, 2\)"):
        checks.vector(np.zeros((2, 2)), "grid")
    with pytest.raises(ValueError, match=r"at least 2 numbers, got shape \(1,\)"):
        checks.vector([1.0], "grid", min_size=2)
    with pytest.raises(ValueError, match=r"at least 1 numbers, got shape \(\)"):
        checks.vector(1.0, "grid")
    for bad in ([1.0, math.nan], [math.inf]):
        with pytest.raises(ValueError, match=r"^grid must hold finite numbers"):
            checks.vector(bad, "grid")
    with pytest.raises(ValueError, match=r"^temperatures must hold numbers > 0.*; e.g. 1, 2, 4"):
        checks.vector([1.0, -2.0], "temperatures", positive=True, hint="e.g. 1, 2, 4")
    with pytest.raises(ValueError, match=r"^grid must be strictly increasing"):
        checks.vector([1.0, 1.0, 2.0], "grid", increasing=True)


# ----------------------------------------------------------------------------- axes, bases
def test_axis():
    assert checks.axis(-1, 3, of="p") == 2
    assert checks.axis(np.int64(1), 3, of="p") == 1
    assert checks.axis(torch.tensor(0), 1, of="p") == 0
    assert type(checks.axis(np.int64(-2), 2, of="p")) is int
    with pytest.raises(ValueError, match=r"^axis=3 is out of range for p with 3 dimension\(s\); use axis in \[-3, 2\]"):
        checks.axis(3, 3, of="p")
    with pytest.raises(ValueError, match=r"^axis=-4 is out of range"):
        checks.axis(-4, 3, of="p")
    with pytest.raises(ValueError, match=r"^logits is a scalar \(0 dimensions\)"):
        checks.axis(0, 0, of="logits")
    for bad in (1.0, None, True, "0", [0], np.array([0])):
        with pytest.raises(TypeError, match=r"^dim must be an int"):
            checks.axis(bad, 2, of="x", name="dim")


@pytest.mark.parametrize("base,expected", [(None, 1.0), ("e", 1.0), (2, math.log(2)), (10, math.log(10)),
                                           (0.5, math.log(0.5)), (np.float32(2), math.log(2)),
                                           (torch.tensor(2.0), math.log(2)), (math.e, 1.0)])
def test_log_base(base, expected):
    assert checks.log_base(base) == pytest.approx(expected, rel=1e-7)


def test_log_base_rejects():
    for bad in ("2", "bits", "E"):
        with pytest.raises(ValueError, match=r'^base must be None, "e" or a number, got .*; use None or "e" \(nats\)'):
            checks.log_base(bad)
    for bad in (1, 1.0):
        with pytest.raises(ValueError, match=r"^base must not be 1"):
            checks.log_base(bad)
    for bad in (0, -2, math.nan, math.inf):
        with pytest.raises(ValueError, match="^base must"):
            checks.log_base(bad)
    for bad in (True, [2], 2j, np.array([2.0])):
        with pytest.raises(TypeError, match="^unit must be a real number"):
            checks.log_base(bad, "unit")


def test_probability_vector():
    np.testing.assert_array_equal(checks.probability_vector([0.25, 0.75], "p"), [0.25, 0.75])
    np.testing.assert_array_equal(checks.probability_vector([1 / 3] * 3, "p"), [1 / 3] * 3)
    with pytest.raises(ValueError, match=r"^p must hold probabilities >= 0, got -0\.5"):
        checks.probability_vector([1.5, -0.5], "p")
    with pytest.raises(ValueError, match=r"^p must sum to 1 \(within 1e-06\), got 1\.1; normalise"):
        checks.probability_vector([0.5, 0.6], "p")
    with pytest.raises(ValueError, match=r"^p must hold finite numbers"):
        checks.probability_vector([math.nan, 1.0], "p")
    with pytest.raises(TypeError, match="^p must be a 1-D sequence of numbers"):
        checks.probability_vector("ab", "p")


def test_config_error_is_a_value_error():
    assert issubclass(checks.ConfigError, ValueError)
    with pytest.raises(ValueError):
        raise checks.ConfigError("epochs must be >= 1")


def test_every_public_check_is_tested():
    # a new check added to _checks must get a test here
    tested = {"ConfigError", "number", "finite", "positive", "nonnegative", "temperature", "fraction",
              "integer", "positive_int", "choice", "tensor", "vector", "probability_vector", "axis",
              "log_base"}
    assert set(checks.__all__) <= tested, sorted(set(checks.__all__) - tested)
