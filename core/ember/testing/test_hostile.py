"""Conformance: hostile inputs that once left a tensor whose buffer disagreed with its dtype, or
wrong values, on some backend.

Overlapping copies, ``where`` of two Python scalars, bool and small-integer inputs, bool arrays
whose True bytes are not 1, reductions with
an explicit dtype, random draws at the edge of [0, 1), and empty and 0-d reductions. Every result
goes through :func:`ember.testing.invariants.check_result` (its buffer really has the dtype and
shape it records); values are compared with numpy where the device holds any.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import ember
from ember.testing import invariants

# the numpy references warn on empty means and integer overflow; the comparison is what counts
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _supports(device: Any, dt: Any) -> bool:
    return device.backend.supports_dtype(dt, device.index)


def _check(out: Any, op: str, device: Any, expected: Any = None, dtype: Any = None) -> None:
    """Invariants of ``out``; its dtype when given; its values (exactly, NaN equal to NaN) on a
    device with data when ``expected`` is given."""
    invariants.check_result(out, op, device)
    if dtype is not None:
        assert out.dtype is dtype, f"{op}: dtype {out.dtype}, expected {dtype}"
    if expected is not None:
        exp = np.asarray(expected)
        assert out.shape == exp.shape, f"{op}: shape {out.shape}, expected {exp.shape}"
        if invariants.device_has_data(device):
            got = out.numpy()
            np.testing.assert_array_equal(got, exp.astype(got.dtype), err_msg=f"{op} on {device}")


@contextmanager
def _default_dtype(dt: Any) -> Iterator[None]:
    old = ember.get_default_dtype()
    ember.set_default_dtype(dt)
    try:
        yield
    finally:
        ember.set_default_dtype(old)


# -- overlapping copies --------------------------------------------------------------------------
def _overlap_cases() -> list[tuple[str, Callable[[Any], None], Callable[[np.ndarray], None]]]:
    """(name, write on an ember tensor, the same write on a numpy array with the source copied first)."""

    def np_set(a: np.ndarray, dst: Any, src: Any) -> None:
        a[dst] = a[src].copy()

    return [
        (
            "x[1:] = x[:-1]",
            lambda x: x.__setitem__(slice(1, None), x[:-1]),
            lambda a: np_set(a, np.s_[1:], np.s_[:-1]),
        ),
        (
            "x[:-1] = x[1:]",
            lambda x: x.__setitem__(slice(None, -1), x[1:]),
            lambda a: np_set(a, np.s_[:-1], np.s_[1:]),
        ),
        ("x[1:].copy_(x[:-1])", lambda x: x[1:].copy_(x[:-1]), lambda a: np_set(a, np.s_[1:], np.s_[:-1])),
        ("x[:-1].copy_(x[1:])", lambda x: x[:-1].copy_(x[1:]), lambda a: np_set(a, np.s_[:-1], np.s_[1:])),
        (
            "x[2:] = x[:-2].flip(0)",
            lambda x: x.__setitem__(slice(2, None), x[:-2].flip(0)),
            lambda a: np_set(a, np.s_[2:], np.s_[-3::-1]),
        ),
        (
            "x.copy_(x[:1].expand)",
            lambda x: x.copy_(x[:1].expand(x.shape)),
            lambda a: np_set(a, np.s_[:], np.s_[:1]),
        ),
        ("x[1:].copy_(x[0])", lambda x: x[1:].copy_(x[0]), lambda a: np_set(a, np.s_[1:], np.s_[0])),
    ]


@pytest.mark.parametrize("dtype_name", ["float32", "int64"])
def test_overlapping_copy_reads_the_source_first(ember_device: Any, dtype_name: str) -> None:
    """A source that overlaps its destination gives the result of copying the source first."""
    dt = ember.dtypes.as_dtype(dtype_name)
    for shape in ((1000,), (40, 7)):
        base = np.arange(math.prod(shape)).reshape(shape).astype(dt.numpy)
        for name, write, np_write in _overlap_cases():
            x = ember.tensor(base, device=ember_device)
            write(x)
            expected = base.copy()
            np_write(expected)
            _check(x, f"{name} on shape {shape}", ember_device, expected, dt)


def test_copy_of_a_transpose_onto_itself(ember_device: Any) -> None:
    """``x.t().copy_(x)`` and ``x.copy_(x.t())`` transpose x, as if x were copied first."""
    a = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    x = ember.tensor(a, device=ember_device)
    x.t().copy_(x)
    _check(x, "x.t().copy_(x)", ember_device, a.T)
    y = ember.tensor(a, device=ember_device)
    y.copy_(y.t())
    _check(y, "x.copy_(x.t())", ember_device, a.T)
    z = ember.tensor(a, device=ember_device)
    z[:, :32] = z.t()[:, 16:48]
    expected = a.copy()
    expected[:, :32] = a.T[:, 16:48]
    _check(z, "x[:, :32] = x.t()[:, 16:48]", ember_device, expected)


def test_overlapping_in_place_arithmetic(ember_device: Any) -> None:
    """``x[1:] += x[:-1]`` adds the old values (the op computes out of place, then writes)."""
    a = np.arange(10, dtype=np.float32)
    x = ember.tensor(a, device=ember_device)
    x[1:] += x[:-1]
    expected = a.copy()
    expected[1:] = a[1:] + a[:-1]
    _check(x, "x[1:] += x[:-1]", ember_device, expected)


def test_writing_into_an_expanded_view_is_refused(ember_device: Any) -> None:
    """Elements of an expanded view share memory: a write into it has no single result (PyTorch
    refuses it too)."""
    x = ember.arange(4.0, device=ember_device)
    with pytest.raises(
        RuntimeError, match=r"copy_: more than one element of the written-to tensor \(shape \(2, 4\)"
    ):
        x.expand(2, 4).copy_(ember.zeros(2, 4, device=ember_device))
    with pytest.raises(RuntimeError, match="add_: more than one element of the written-to tensor"):
        x.expand(3, 4).add_(1)


# -- where with Python scalars -------------------------------------------------------------------
def test_where_of_two_python_scalars_takes_pytorchs_dtype(ember_device: Any) -> None:
    """Two floats give the default float dtype, ints int64, bools bool (a float and an int: the
    default float dtype), under float32 and float64 defaults alike."""
    mask = np.array([True, False, True])
    m = ember.tensor(mask, device=ember_device)
    for default in (ember.float32, ember.float64):
        if not _supports(ember_device, default):
            continue
        with _default_dtype(default):
            _check(
                ember.where(m, 1.0, 2.0),
                f"where(m, 1.0, 2.0) [default {default}]",
                ember_device,
                np.where(mask, 1.0, 2.0),
                default,
            )
            _check(
                ember.where(m, 1, 2.5),
                f"where(m, 1, 2.5) [default {default}]",
                ember_device,
                np.where(mask, 1.0, 2.5),
                default,
            )
            _check(ember.where(m, 1, 2), "where(m, 1, 2)", ember_device, np.where(mask, 1, 2), ember.int64)
            _check(
                ember.where(m, -(2**40), 7),
                "where(m, -2**40, 7)",
                ember_device,
                np.where(mask, -(2**40), 7),
                ember.int64,
            )
            _check(ember.where(m, True, False), "where(m, True, False)", ember_device, mask, ember.bool_)
            _check(
                ember.where(m, 1.5, ember.zeros(3, dtype=ember.int32, device=ember_device)),
                "where(m, 1.5, int32 tensor)",
                ember_device,
                np.where(mask, 1.5, 0.0),
                default,
            )


def test_where_with_a_python_int_out_of_int64_range_is_refused(ember_device: Any) -> None:
    m = ember.tensor([True, False], device=ember_device)
    with pytest.raises(
        ValueError, match="where: value 36893488147419103232 cannot be converted to ember.int64"
    ):
        ember.where(m, 2**65, 0)


# -- bool and integer inputs ---------------------------------------------------------------------
def test_bool_inputs_follow_pytorch(ember_device: Any) -> None:
    """What PyTorch defines on bool tensors, with its result dtypes; what it refuses, refused."""
    b = np.array([True, False, True, True])
    m = ember.tensor(b, device=ember_device)
    _check(m**True, "bool ** True", ember_device, b, ember.bool_)
    _check(m**False, "bool ** False", ember_device, np.ones(4, bool), ember.bool_)
    _check(m**2, "bool ** 2", ember_device, b.astype(np.int64), ember.int64)
    _check(2**m, "2 ** bool", ember_device, 2 ** b.astype(np.int64), ember.int64)
    _check(m**2.0, "bool ** 2.0", ember_device, b.astype(np.float32), ember.get_default_dtype())
    _check(ember.cumsum(m, 0), "cumsum(bool)", ember_device, np.cumsum(b, dtype=np.int64), ember.int64)
    _check(m.sum(), "sum(bool)", ember_device, np.int64(3), ember.int64)
    _check(m.prod(), "prod(bool)", ember_device, np.int64(0), ember.int64)
    _check(m.sum(dtype=ember.bool_), "sum(bool, dtype=bool)", ember_device, np.True_, ember.bool_)
    _check(m.sum(dtype=ember.int32), "sum(bool, dtype=int32)", ember_device, np.int32(3), ember.int32)
    _check(m.float().sum(dtype=ember.bool_), "sum(float, dtype=bool)", ember_device, np.True_, ember.bool_)
    _check(m + m, "bool + bool", ember_device, b | b, ember.bool_)
    _check(m * m, "bool * bool", ember_device, b & b, ember.bool_)
    _check(ember.maximum(m, ~m), "maximum(bool, bool)", ember_device, np.ones(4, bool), ember.bool_)
    _check(ember.sign(m), "sign(bool)", ember_device, b, ember.bool_)
    _check(ember.sigmoid(m), "sigmoid(bool)", ember_device, None, ember.get_default_dtype())
    _check(m / m, "bool / bool", ember_device, None, ember.get_default_dtype())
    refused = [
        (ember.abs, "abs: absolute value of a bool tensor is not supported"),
        (ember.neg, "neg: negation of a bool tensor is not supported"),
        (ember.relu, "relu: bool inputs are not supported"),
        (lambda t: t**t, "pow: a bool exponent tensor with a bool base is not supported"),
        (lambda t: True**t, "pow: a bool exponent tensor with a bool base is not supported"),
        (lambda t: ember.cumsum(t, 0, dtype=ember.bool_), r"cumsum: a bool result \(dtype=ember.bool\)"),
        (lambda t: t // t, "floor_divide: not supported for bool operands"),
        (lambda t: t % True, "remainder: not supported for bool operands"),
    ]
    for fn, message in refused:
        with pytest.raises(TypeError, match=message):
            fn(m)


def _bools_with_any_bytes() -> np.ndarray:
    """A numpy bool array whose True elements are stored as bytes 2, 1, 255 and 64 (numpy reads any
    nonzero byte as True; ``np.frombuffer`` or a ``view`` of bytes gives such arrays)."""
    return np.frombuffer(bytes([2, 1, 0, 255, 64, 0]), dtype=np.bool_).reshape(2, 3)


_BOOL_ENTRANCES: dict[str, Callable[[np.ndarray, Any], Any]] = {
    "ember.tensor": lambda a, dev: ember.tensor(a, device=dev),
    "ember.as_tensor": lambda a, dev: ember.as_tensor(a, device=dev),
    "ember.from_numpy(...).to": lambda a, dev: ember.from_numpy(a.copy()).to(dev),
}


@pytest.mark.parametrize("entrance", list(_BOOL_ENTRANCES))
def test_bool_arrays_with_bytes_other_than_0_and_1(ember_device: Any, entrance: str) -> None:
    """A bool array from the host whose True bytes are not 1 computes as the values it holds:
    logical and bitwise ops, comparisons, casts, sums, selects (kernels that compute on bytes
    would see 2 & 1 == 0, or cast True to 255)."""
    raw = _bools_with_any_bytes()
    b = raw.view(np.uint8) != 0  # the values
    t = _BOOL_ENTRANCES[entrance](raw, ember_device)
    ones = ember.ones(2, 3, dtype=ember.bool_, device=ember_device)
    where = f"a bool tensor made by {entrance} from bytes {raw.view(np.uint8).ravel().tolist()}"
    _check(t, where, ember_device, b, ember.bool_)
    _check(ember.logical_and(t, ones), f"logical_and of {where}", ember_device, b, ember.bool_)
    _check(ember.logical_xor(t, ones), f"logical_xor of {where}", ember_device, ~b, ember.bool_)
    _check(ember.logical_not(t), f"logical_not of {where}", ember_device, ~b, ember.bool_)
    _check(t & ones, f"& of {where}", ember_device, b, ember.bool_)
    _check(t ^ ones, f"^ of {where}", ember_device, ~b, ember.bool_)
    _check(t == ones, f"== of {where}", ember_device, b, ember.bool_)
    _check(t.to(ember.int32), f"int32 cast of {where}", ember_device, b.astype(np.int32), ember.int32)
    _check(t.to(ember.float32), f"float32 cast of {where}", ember_device, b.astype(np.float32), ember.float32)
    _check(t.sum(), f"sum of {where}", ember_device, np.int64(b.sum()), ember.int64)
    _check(t.sum(dim=1), f"sum(dim=1) of {where}", ember_device, b.sum(axis=1), ember.int64)
    x = ember.arange(6, dtype=ember.float32, device=ember_device).reshape(2, 3)
    _check(
        ember.where(t, x, -x),
        f"where of {where}",
        ember_device,
        np.where(b, np.arange(6.0).reshape(2, 3), -np.arange(6.0).reshape(2, 3)),
        ember.float32,
    )


_INT_VALUES = np.array([[3, -2, 0], [1, -1, 2]])


@pytest.mark.parametrize("dtype_name", ["uint8", "int8", "int16", "int32", "int64"])
def test_integer_inputs_keep_their_dtype(ember_device: Any, dtype_name: str) -> None:
    """abs, neg and pow keep an integer dtype (wrapping like C); sum, prod and cumsum widen to int64."""
    dt = ember.dtypes.as_dtype(dtype_name)
    if not _supports(ember_device, dt):
        pytest.skip(f"{ember_device} does not support {dt}")
    a = _INT_VALUES.astype(dt.numpy)  # uint8 wraps -2 to 254, as a cast in PyTorch does
    x = ember.tensor(a, device=ember_device)
    with np.errstate(over="ignore"):
        _check(ember.abs(x), f"abs({dt})", ember_device, np.abs(a), dt)
        _check(ember.neg(x), f"neg({dt})", ember_device, np.negative(a), dt)
        _check(x**2, f"{dt} ** 2", ember_device, a**2, dt)
        p = ember.abs(x) % 3  # small non-negative exponents
        pa = np.abs(a) % 3
        _check(x**p, f"{dt} ** {dt}", ember_device, a**pa, dt)
        _check(2**p, f"2 ** {dt}", ember_device, (2**pa).astype(dt.numpy), dt)
    _check(x.sum(), f"sum({dt})", ember_device, a.sum(dtype=np.int64), ember.int64)
    _check(x.sum(1), f"sum({dt}, 1)", ember_device, a.sum(1, dtype=np.int64), ember.int64)
    _check(x.prod(), f"prod({dt})", ember_device, a.prod(dtype=np.int64), ember.int64)
    _check(x.prod(0), f"prod({dt}, 0)", ember_device, a.prod(0, dtype=np.int64), ember.int64)
    _check(x.cumsum(1), f"cumsum({dt}, 1)", ember_device, a.cumsum(1, dtype=np.int64), ember.int64)
    if dt.is_signed:
        low = np.array([np.iinfo(dt.numpy).min, -1], dt.numpy)  # abs wraps at the minimum, as in C
        _check(
            ember.abs(ember.tensor(low, device=ember_device)),
            f"abs({dt} minimum)",
            ember_device,
            np.abs(low),
            dt,
        )


# -- reductions with an explicit dtype -----------------------------------------------------------
def test_reductions_with_an_explicit_dtype(ember_device: Any) -> None:
    """The result holds the asked dtype, with the values of computing in it (integers wrap)."""
    a = np.array([[1, 2], [3, 4]])
    x = ember.tensor(a, device=ember_device)
    _check(x.sum(dtype=ember.int32), "sum(dtype=int32)", ember_device, np.int32(10), ember.int32)
    _check(x.sum(0, dtype=ember.int32), "sum(0, dtype=int32)", ember_device, a.sum(0).astype(np.int32))
    _check(
        x.sum((0, 1), keepdim=True, dtype=ember.int16),
        "sum(keepdim, dtype=int16)",
        ember_device,
        np.array([[10]], np.int16),
        ember.int16,
    )
    _check(x.prod(dtype=ember.int8), "prod(dtype=int8)", ember_device, np.int8(24), ember.int8)
    _check(x.prod(1, dtype=ember.int8), "prod(1, dtype=int8)", ember_device, np.array([2, 12], np.int8))
    _check(x.cumsum(0, dtype=ember.int16), "cumsum(dtype=int16)", ember_device, a.cumsum(0).astype(np.int16))
    big = np.array([100, 100, 100])
    y = ember.tensor(big, device=ember_device)
    _check(y.sum(dtype=ember.int8), "sum(dtype=int8) wrapping", ember_device, np.int8(44), ember.int8)
    _check(y.prod(dtype=ember.int8), "prod(dtype=int8) wrapping", ember_device, np.int8(64), ember.int8)
    _check(
        y.cumsum(0, dtype=ember.int8),
        "cumsum(dtype=int8) wrapping",
        ember_device,
        np.array([100, -56, 44], np.int8),
        ember.int8,
    )
    _check(y.sum(dtype=ember.uint8), "sum(dtype=uint8) wrapping", ember_device, np.uint8(44), ember.uint8)
    _check(
        x.sum(dtype=ember.float32), "sum(int64, dtype=float32)", ember_device, np.float32(10), ember.float32
    )
    f = np.array([0.5, 1.25, 2.0], np.float32)
    t = ember.tensor(f, device=ember_device)
    for dt in ember.dtypes.FLOAT_DTYPES:
        if not _supports(ember_device, dt):
            continue
        _check(t.sum(dtype=dt), f"sum(float32, dtype={dt})", ember_device, np.asarray(3.75, dt.numpy), dt)
        _check(t.prod(dtype=dt), f"prod(float32, dtype={dt})", ember_device, np.asarray(1.25, dt.numpy), dt)
        _check(
            t.cumsum(0, dtype=dt),
            f"cumsum(float32, dtype={dt})",
            ember_device,
            np.cumsum(f).astype(dt.numpy),
            dt,
        )
        _check(t.mean(dtype=dt), f"mean(float32, dtype={dt})", ember_device, np.asarray(1.25, dt.numpy), dt)
    _check(t.sum(dtype=ember.int64), "sum(float32, dtype=int64)", ember_device, np.int64(3), ember.int64)


# -- random draws --------------------------------------------------------------------------------
def test_random_draws_stay_in_range_for_every_floating_dtype(ember_device: Any) -> None:
    """Uniform draws lie in [0, 1) (never 1.0: a float32 draw rounded to float16 would reach it once
    in 4096), normal draws are finite, for every floating dtype the device holds."""
    n = 2**16
    gen = ember.Generator(ember_device, seed=1234)
    for dt in ember.dtypes.FLOAT_DTYPES:
        if not _supports(ember_device, dt):
            continue
        for _draw in range(2):  # two draws: the second starts at a later offset
            u = ember.rand(n, dtype=dt, device=ember_device, generator=gen)
            _check(u, f"rand(dtype={dt})", ember_device, None, dt)
            v = ember.rand_like(u, generator=gen)
            _check(v, f"rand_like({dt})", ember_device, None, dt)
            z = ember.randn(n // 4, 4, dtype=dt, device=ember_device, generator=gen)
            _check(z, f"randn(dtype={dt})", ember_device, None, dt)
            if not invariants.device_has_data(ember_device):
                continue
            for name, r in ((f"rand(dtype={dt})", u), (f"rand_like({dt})", v)):
                vals = r.numpy()
                assert vals.min() >= 0 and vals.max() < 1, (
                    f"{name} on {ember_device}: draws outside [0, 1): min {vals.min()}, max {vals.max()}, "
                    f"{int((vals >= 1).sum())} of {n} at 1.0 or above"
                )
                assert abs(float(vals.astype(np.float64).mean()) - 0.5) < 0.01, f"{name}: mean {vals.mean()}"
            zs = z.numpy()
            assert np.isfinite(zs).all(), (
                f"randn(dtype={dt}) on {ember_device}: {int((~np.isfinite(zs)).sum())} non-finite"
            )
            assert abs(float(zs.astype(np.float64).std()) - 1) < 0.05, f"randn(dtype={dt}): std {zs.std()}"


def test_randint_stays_below_high(ember_device: Any) -> None:
    r = ember.randint(0, 3, (2**14,), device=ember_device)
    _check(r, "randint", ember_device, None, ember.int64)
    if invariants.device_has_data(ember_device):
        vals = r.numpy()
        assert vals.min() >= 0 and vals.max() <= 2, f"randint(0, 3): values {np.unique(vals)}"


# -- empty and 0-d reductions --------------------------------------------------------------------
def test_reductions_over_empty_inputs(ember_device: Any) -> None:
    """Sums are 0 and products 1 over nothing (in their promoted dtype); mean is NaN; reductions
    without an identity refuse and say why."""
    e = ember.zeros(0, device=ember_device)
    _check(e.sum(), "sum(empty)", ember_device, np.float32(0), ember.float32)
    _check(e.prod(), "prod(empty)", ember_device, np.float32(1), ember.float32)
    _check(e.mean(), "mean(empty)", ember_device, np.float32(np.nan), ember.float32)
    _check(e.cumsum(0), "cumsum(empty)", ember_device, np.zeros(0, np.float32), ember.float32)
    m2 = ember.zeros(2, 0, device=ember_device)
    _check(m2.sum(1), "sum((2, 0), 1)", ember_device, np.zeros(2, np.float32))
    _check(m2.sum(0), "sum((2, 0), 0)", ember_device, np.zeros(0, np.float32))
    _check(m2.prod(1), "prod((2, 0), 1)", ember_device, np.ones(2, np.float32))
    _check(m2.sum(1, keepdim=True), "sum((2, 0), 1, keepdim)", ember_device, np.zeros((2, 1), np.float32))
    for dt in (ember.bool_, ember.uint8, ember.int8, ember.int32, ember.int64):
        z = ember.zeros(0, 3, dtype=dt, device=ember_device)
        _check(z.sum(), f"sum(empty {dt})", ember_device, np.int64(0), ember.int64)
        _check(z.prod(0), f"prod(empty {dt}, 0)", ember_device, np.ones(3, np.int64), ember.int64)
        _check(
            z.sum(0, dtype=ember.int16),
            f"sum(empty {dt}, dtype=int16)",
            ember_device,
            np.zeros(3, np.int16),
            ember.int16,
        )
        _check(z.cumsum(0), f"cumsum(empty {dt})", ember_device, np.zeros((0, 3), np.int64), ember.int64)
    with pytest.raises(ValueError, match=r"amax: cannot reduce over dimension 0 of size 0 \(shape \(0,\)\)"):
        ember.amax(e)
    with pytest.raises(ValueError, match=r"max: cannot reduce over dimension 0 of size 0 \(shape \(0,\)\)"):
        ember.max(e)
    with pytest.raises(ValueError, match=r"argmax: the input is empty \(shape \(0,\)\)"):
        ember.argmax(e)


def test_reductions_over_0d_inputs(ember_device: Any) -> None:
    """A 0-d input reduces to itself (dim 0 or -1 names it), in the promoted dtype."""
    f = ember.tensor(2.5, device=ember_device)
    i8 = ember.tensor(-3, dtype=ember.int8, device=ember_device)
    b = ember.tensor(True, device=ember_device)
    v = np.float32(2.5)
    _check(f.sum(), "sum(0-d)", ember_device, v, ember.float32)
    _check(f.sum(0), "sum(0-d, 0)", ember_device, v, ember.float32)
    _check(f.sum(-1, keepdim=True), "sum(0-d, -1, keepdim)", ember_device, v, ember.float32)
    _check(f.prod(0), "prod(0-d, 0)", ember_device, v, ember.float32)
    _check(f.mean(), "mean(0-d)", ember_device, v, ember.float32)
    _check(f.amax(), "amax(0-d)", ember_device, v, ember.float32)
    _check(ember.max(f), "max(0-d)", ember_device, v, ember.float32)
    _check(ember.max(f, 0), "max(0-d, 0)", ember_device)
    _check(f.argmax(), "argmax(0-d)", ember_device, np.int64(0), ember.int64)
    _check(f.argmax(0), "argmax(0-d, 0)", ember_device, np.int64(0), ember.int64)
    _check(f.cumsum(0), "cumsum(0-d)", ember_device, v, ember.float32)
    _check(ember.logsumexp(f, 0), "logsumexp(0-d, 0)", ember_device, v, ember.float32)
    _check(
        f.sum(dtype=ember.float64) if _supports(ember_device, ember.float64) else f.sum(),
        "sum(0-d, dtype=float64)",
        ember_device,
        v,
    )
    _check(i8.sum(), "sum(0-d int8)", ember_device, np.int64(-3), ember.int64)
    _check(i8.prod(0), "prod(0-d int8, 0)", ember_device, np.int64(-3), ember.int64)
    _check(i8.cumsum(0), "cumsum(0-d int8)", ember_device, np.int64(-3), ember.int64)
    _check(i8.sum(dtype=ember.int32), "sum(0-d int8, dtype=int32)", ember_device, np.int32(-3), ember.int32)
    _check(b.prod(), "prod(0-d bool)", ember_device, np.int64(1), ember.int64)
    _check(b.cumsum(0), "cumsum(0-d bool)", ember_device, np.int64(1), ember.int64)
    _check(b.any(), "any(0-d bool)", ember_device, np.True_, ember.bool_)


# -- the kit's own checks ------------------------------------------------------------------------
def test_check_result_names_the_op_and_both_dtypes(ember_device: Any) -> None:
    """A tensor recording another dtype or shape than its buffer's is caught, with a message that
    names the op, the recorded and the actual dtype/shape."""
    from ember.tensor import _make

    x = ember.ones(2, 3, dtype=ember.int64, device=ember_device)
    invariants.check_result(x, "ones", ember_device)
    lying_dtype = _make(x._data, x.shape, ember.int32, ember_device)
    with pytest.raises(
        AssertionError, match=r"liar: the tensor records dtype ember.int32 but its buffer .* holds int64"
    ):
        invariants.check_result(lying_dtype, "liar", ember_device)
    lying_shape = _make(x._data, (3, 2), ember.int64, ember_device)
    with pytest.raises(
        AssertionError,
        match=r"liar\[1\]: the tensor records shape \(3, 2\) but its buffer .* has shape \(2, 3\)",
    ):
        invariants.check_result((x, lying_shape), "liar", ember_device)
    with pytest.raises(AssertionError, match="nothing: returned int, expected an ember.Tensor"):
        invariants.check_result(3, "nothing", ember_device)


def test_check_inputs_unchanged_catches_a_write(ember_device: Any) -> None:
    """Out-of-place ops leave their inputs alone; an op that writes into one is named."""
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = ember.tensor(a, device=ember_device)
    view = x.t()[1:]
    ops: list[tuple[str, Callable[..., Any], tuple]] = [
        ("add", ember.add, (view, 1.0)),
        ("cumsum", ember.cumsum, (view, 1)),
        ("where", ember.where, (view > 2, view, 0.0)),
        ("sum", ember.sum, (x,)),
        ("clone", ember.Tensor.clone, (view,)),
        ("contiguous", ember.Tensor.contiguous, (view,)),
        ("abs", ember.abs, (x - 5,)),
    ]
    for name, fn, args in ops:
        invariants.call_checked(name, fn, args, device=ember_device)

    def sneaky(t: Any) -> Any:
        t.add_(1)
        return t * 2

    snap = invariants.snapshot_inputs((x,))
    sneaky(x)
    message = (
        r"sneaky: modified its input argument\[0\] \(ember.float32, shape \(3, 4\)\): 12 of 12 elements "
        r"changed, first at index \(0, 0\)"
        if invariants.device_has_data(ember_device)
        else r"sneaky: modified its input argument\[0\]: its version counter went from \d+ to \d+"
    )
    with pytest.raises(AssertionError, match=message):
        invariants.check_inputs_unchanged(snap, "sneaky")
