"""Regressions for core semantics found by differential testing against PyTorch (expected values are
numpy references or computed by hand; PyTorch itself is not needed)."""

from __future__ import annotations

import ember
import numpy as np
import pytest


# -- true division with a Python scalar out of an integer tensor's range ---------------------------
def test_int_tensor_divided_by_out_of_range_scalar_uses_the_scalar_value() -> None:
    x = ember.tensor([30, 60, 255], dtype=ember.uint8)
    np.testing.assert_allclose((x / 300).numpy(), np.array([30, 60, 255]) / 300, rtol=1e-6)
    np.testing.assert_allclose((x / -3).numpy(), np.array([30, 60, 255]) / -3, rtol=1e-6)
    np.testing.assert_allclose((-3 / x).numpy(), -3 / np.array([30, 60, 255]), rtol=1e-6)
    assert (x / 300).dtype is ember.float32
    y = ember.tensor([100, -100], dtype=ember.int8)
    np.testing.assert_allclose((y / 1000).numpy(), [0.1, -0.1], rtol=1e-6)


# -- div(rounding_mode="trunc") -----------------------------------------------------------------------
def test_trunc_division_of_integers_is_exact_and_keeps_the_dtype() -> None:
    a = ember.tensor([16777217, -16777219, 7, -7, 7, -7, 0])
    b = ember.tensor([1, 1, 2, 2, -2, -2, 3])
    out = ember.div(a, b, rounding_mode="trunc")
    assert out.dtype is ember.int64
    assert out.tolist() == [16777217, -16777219, 3, -3, -3, 3, 0]
    assert ember.div(ember.tensor([-7, 7]), 2, rounding_mode="trunc").tolist() == [-3, 3]
    assert ember.div(-7, ember.tensor([2, -2]), rounding_mode="trunc").tolist() == [-3, 3]
    # a negative scalar wraps into an unsigned dtype (as in floor division), so no sign fix-up applies
    u8 = ember.tensor([2, 100, 255], dtype=ember.uint8)
    assert ember.div(-3, u8, rounding_mode="trunc").tolist() == [126, 2, 0]
    assert ember.div(u8, -3, rounding_mode="trunc").tolist() == [0, 0, 1]
    # a 0-d tensor does not widen a dimensioned one of the same category
    i32 = ember.div(ember.tensor([7, -9], dtype=ember.int32), ember.tensor(2), rounding_mode="trunc")
    assert i32.dtype is ember.int32 and i32.tolist() == [3, -4]


def test_trunc_division_of_floats() -> None:
    out = ember.div(ember.tensor([7.5, -7.5, 1.0]), ember.tensor([2.0, 2.0, -3.0]), rounding_mode="trunc")
    assert out.dtype is ember.float32
    np.testing.assert_array_equal(out.numpy(), np.trunc(np.array([7.5, -7.5, 1.0]) / [2.0, 2.0, -3.0]))


# -- integer division by zero -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda: ember.tensor([7, 9]) // ember.tensor([2, 0]),
        lambda: ember.tensor([7, 9]) % 0,
        lambda: ember.remainder(ember.tensor([7, 9], dtype=ember.uint8), ember.tensor(0, dtype=ember.uint8)),
        lambda: ember.div(ember.tensor([7]), 0, rounding_mode="trunc"),
        lambda: 5 // ember.tensor([1, 0]),
    ],
)
def test_integer_division_by_zero_raises(fn) -> None:
    with pytest.raises(ZeroDivisionError, match=r"integer division by zero.*float"):
        fn()


def test_float_division_by_zero_still_gives_ieee_values() -> None:
    out = ember.tensor([1.0, -1.0]) // ember.tensor([0.0, 0.0])
    assert np.isinf(out.numpy()).all()
    assert (ember.tensor([7]) / 0).tolist() == [float("inf")]
    assert (ember.tensor([7, 9]) // ember.tensor([2, 3])).tolist() == [3, 3]


# -- amin on integer and bool tensors -----------------------------------------------------------------
@pytest.mark.parametrize(
    "values,dtype",
    [([3, 0, 200], ember.uint8), ([3, -128, 5], ember.int8), ([True, False], ember.bool)],
)
def test_amin_of_unsigned_most_negative_and_bool(values, dtype) -> None:
    x = ember.tensor(values, dtype=dtype)
    ref = np.array(values, dtype=dtype.numpy)
    assert ember.amin(x).item() == ref.min()
    assert ember.amin(x).dtype is dtype
    x2 = ember.tensor([values, values[::-1]], dtype=dtype)
    np.testing.assert_array_equal(ember.amin(x2, 1).numpy(), np.array([values, values[::-1]]).min(1))


def test_amin_gradient_splits_ties() -> None:
    x = ember.tensor([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amin(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    assert x.grad_fn is None and x.amin(1).grad_fn.name() == "aminBackward"


# -- advanced-index assignment ----------------------------------------------------------------------------
def test_setitem_with_repeated_indices_keeps_the_last_value() -> None:
    x = ember.zeros(3)
    x[ember.tensor([0, 0])] = ember.tensor([1.0, 2.0])
    assert x.tolist() == [2.0, 0.0, 0.0]
    a = np.arange(20, dtype=np.float32).reshape(4, 5)
    t = ember.tensor(a)
    t[ember.tensor([1, 0, 1])] = ember.tensor([10.0, 20.0, 30.0, 40.0, 50.0])
    a[[1, 0, 1]] = np.array([10.0, 20.0, 30.0, 40.0, 50.0], dtype=np.float32)
    np.testing.assert_array_equal(t.numpy(), a)


def test_setitem_writes_values_exactly() -> None:
    x = ember.tensor([1e8, 5.0, float("inf"), float("nan"), 1.0])
    x[ember.tensor([0, 2, 3])] = ember.tensor([0.1, 1.0, 2.0])
    x[[4]] = -0.0
    out = x.numpy()
    assert out[0] == np.float32(0.1) and out[2] == 1.0 and out[3] == 2.0 and out[1] == 5.0
    assert out[4] == 0 and np.signbit(out[4])


def test_setitem_advanced_bool_and_int_dtypes() -> None:
    b = ember.tensor([True, False, True])
    b[ember.tensor([0, 1])] = ember.tensor([False, True])
    assert b.tolist() == [False, True, True] and b.dtype is ember.bool
    big = ember.tensor([2**62 + 1, 3])
    big[[1]] = 2**62 + 7
    assert big.tolist() == [2**62 + 1, 2**62 + 7]


def test_setitem_advanced_gradient_with_repeats() -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ember.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1
    y[ember.tensor([1, 1])] = v
    assert y.tolist() == [1.0, 20.0, 3.0]
    (y * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 3.0]
    assert v.grad.tolist() == [0.0, 2.0]  # only the write that landed gets gradient


# -- gradient dtypes ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a + b,
        lambda a, b: ember.maximum(a, b),
        lambda a, b: ember.where(a > 0, a, b),
        lambda a, b: ember.cat([a, b]),
        lambda a, b: a**b,
    ],
)
def test_gradient_has_the_dtype_of_its_input(op) -> None:
    a = ember.tensor([0.5, 1.5, 2.0], requires_grad=True)
    b = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64, requires_grad=True)
    op(a, b).sum().backward()
    assert a.grad.dtype is ember.float32
    assert b.grad.dtype is ember.float64
    h = ember.tensor([1.0, 2.0], dtype=ember.float16, requires_grad=True)
    (h * ember.tensor([3.0, 4.0])).sum().backward()
    assert h.grad.dtype is ember.float16 and h.grad.tolist() == [3.0, 4.0]
    (g,) = ember.autograd.grad((a * b).sum(), [a])
    assert g.dtype is ember.float32


# -- in-place overwrites of tensors in the graph ------------------------------------------------------------
def test_copy_of_constant_values_cuts_the_gradient() -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.copy_(ember.zeros(3))
    assert not y.requires_grad and y.grad_fn is None
    (y * x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]  # not [2, 4, 6] through the overwritten product


@pytest.mark.parametrize(
    "overwrite,value",
    [
        (lambda v: v.zero_(), 0.0),
        (lambda v: v.fill_(5.0), 5.0),
        (lambda v: v.copy_(ember.zeros(v.shape)), 0.0),
    ],
)
def test_overwriting_a_view_of_a_graph_tensor_cuts_the_gradient_there(overwrite, value) -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    overwrite(y[1:])  # as in PyTorch: y's history learns that y[1:] no longer depends on x
    (y * x).sum().backward()
    assert x.grad.tolist() == [4.0, value, value]  # not [4, 4, 6] through the overwritten product
    with ember.no_grad():
        overwrite(y[1:])  # outside autograd it is an ordinary write
    assert y[0].item() == 2.0


# -- dtype-preserving and error behaviour ------------------------------------------------------------------
def test_tril_triu_keep_bool_and_reject_1d() -> None:
    m = ember.ones(3, 3, dtype=ember.bool)
    assert m.tril().dtype is ember.bool and m.triu(1).dtype is ember.bool
    np.testing.assert_array_equal(m.tril().numpy(), np.tril(np.ones((3, 3), bool)))
    np.testing.assert_array_equal(m.triu(1).numpy(), np.triu(np.ones((3, 3), bool), 1))
    assert ember.ones(2, 2, dtype=ember.uint8).tril().dtype is ember.uint8
    with pytest.raises(ValueError, match=r"tril: expected a tensor with at least 2 dims, got \(3,\)"):
        ember.ones(3).tril()


def test_sign_of_bool_tensor() -> None:
    out = ember.sign(ember.tensor([True, False]))
    assert out.dtype is ember.bool and out.tolist() == [True, False]


@pytest.mark.parametrize(
    "fn",
    [
        lambda: ember.tensor([True]) - ember.tensor([True]),
        lambda: ember.tensor([True, False]) - 1,
        lambda: 1.5 - ember.tensor([True]),
        lambda: ember.tensor([1, 2]) - ember.tensor([True, False]),
        lambda: ember.tensor([1, 2]) - True,
    ],
)
def test_subtraction_with_bool_tensor_raises(fn) -> None:
    with pytest.raises(
        TypeError, match=r"sub: subtraction with a bool tensor is not supported; use logical_xor"
    ):
        fn()


def test_take_accepts_negative_indices() -> None:
    x = ember.arange(6).reshape(2, 3)
    assert ember.take(x, ember.tensor([-1, 0, -6])).tolist() == [5, 0, 0]
    assert x.take(ember.tensor([[-2], [1]])).tolist() == [[4], [1]]
    with pytest.raises(
        IndexError, match=r"take: index 6 is out of range for a tensor of 6 elements \(valid: -6 \.\. 5\)"
    ):
        ember.take(x, ember.tensor([6]))
    with pytest.raises(IndexError, match=r"take: index -7 is out of range"):
        ember.take(x, ember.tensor([-7]))
    with pytest.raises(TypeError, match="take: index must be an integer tensor, got ember.float32"):
        ember.take(x, ember.tensor([1.0]))


def test_out_of_range_fill_values_are_refused_and_view_dtype_is_not_a_silent_cast() -> None:
    x = ember.zeros(2, dtype=ember.uint8)
    with pytest.raises(
        ValueError, match="full: value 300 cannot be converted to ember.uint8 without overflow"
    ):
        ember.full((2,), 300, dtype=ember.uint8)
    with pytest.raises(ValueError, match="masked_fill: value -1 cannot be converted to ember.uint8"):
        x.masked_fill(ember.tensor([True, False]), -1)
    with pytest.raises(ValueError, match="setitem: value 256 cannot be converted to ember.uint8"):
        x[0] = 256
    with pytest.raises(TypeError, match="view: reinterpreting the bits of a ember.float32 tensor"):
        ember.ones(2).view(ember.int32)
    with pytest.raises(ValueError, match="pow: integers to negative integer powers are not supported"):
        2 ** ember.tensor([-1, 2])
    with pytest.raises(ValueError, match=r"expand: -1 is not allowed for the new leading dims"):
        ember.ones(3).expand(-1, 3)
    assert ember.tensor([float("nan"), -2.0, 0.0, 3.0]).sign().tolist()[1:] == [-1.0, 0.0, 1.0]
    assert ember.tensor([float("nan")]).sign().item() == 0.0  # as PyTorch, on every backend


def test_python_floats_with_an_explicit_float64_dtype_stay_exact() -> None:
    # the default dtype (float32) must not be applied on the way to an explicit dtype
    assert ember.tensor(0.9, dtype=ember.float64).item() == 0.9
    assert ember.tensor([0.1, 1e-300], dtype="float64").tolist() == [0.1, 1e-300]
    assert ember.tensor(0.9).dtype == ember.float32
    assert ember.tensor([1, 2], dtype=ember.int16).tolist() == [1, 2]
