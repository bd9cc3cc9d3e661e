"""``ember.array_api`` against ``array_api_strict``, the standard's reference namespace: the same
call on the same values gives the same values, dtype and shape, on every Ember device. Also the
standard's type promotion (0-d arrays and Python scalars), the dtype functions, the inspection
API, the array-object methods (``__array_namespace__``, ``to_device``, ``mT``, ``__complex__``)
and the errors. The external conformance suite (data-apis/array-api-tests) is not needed here;
its scores are in docs/array-api.md."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ember
import ember.array_api as xp
import numpy as np
import pytest

strict = pytest.importorskip(
    "array_api_strict", reason="array-api-strict is in the test extra: pip install -e '.[test]'"
)

# the in-tree devices (their DLPack behaviour is asserted below); the namespace's records run through
# the conformance kit on every other device, the example devices included
DEVICES = [d for d in ember.devices() if d.type in ("cpu", "opencl", "cuda")]
DEVICE_IDS = [str(d) for d in DEVICES]
NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64", "complex64", "complex128")
INTS = ("int8", "int16", "int32", "int64", "uint8")
FLOATS = ("float32", "float64")
COMPLEX = ("complex64", "complex128")


@pytest.fixture(params=DEVICES, ids=DEVICE_IDS)
def device(request: pytest.FixtureRequest) -> ember.Device:
    return request.param


def _values(dtype: str, shape: tuple[int, ...], seed: int = 0, low: int = -4, high: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == "uint8":
        return rng.integers(0, high + 3, shape).astype(np.uint8)
    if dtype in INTS:
        return rng.integers(low, high, shape).astype(dtype)
    if dtype in COMPLEX:
        return (rng.standard_normal(shape) * 2 + 2j * rng.standard_normal(shape)).astype(dtype)
    return (rng.standard_normal(shape) * 2).astype(dtype)


#: the standard's dtype where Ember has none -> the one ember.array_api gives instead (the sums
#: and products of unsigned integers accumulate in uint64 by the standard, in int64 here)
_EMBER_FOR = {"uint64": "int64"}


def _pair(a: np.ndarray, device: ember.Device) -> tuple[Any, Any]:
    """The same values as an Ember tensor on ``device`` and an array_api_strict array."""
    return xp.asarray(a, device=device), strict.asarray(a)


def _same(got: Any, want: Any, what: str, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Values, dtype and shape of an Ember result equal array_api_strict's (tuples item by item)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{what}: {type(got)} of {len(got)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{what}[{i}]", rtol, atol)
        return
    assert isinstance(got, ember.Tensor), f"{what}: returned {type(got).__name__}, not a Tensor"
    w = np.asarray(want)
    w_name = _EMBER_FOR.get(str(w.dtype), str(w.dtype))
    assert got.dtype.name == w_name, f"{what}: dtype {got.dtype.name}, array_api_strict {w.dtype}"
    assert got.shape == w.shape, f"{what}: shape {got.shape}, array_api_strict {w.shape}"
    g = got.numpy()
    if w.dtype.kind in "fc":
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def _call(name: str, args: tuple, kwargs: dict, device: ember.Device) -> None:
    """``name`` on the numpy ``args`` (arrays become arrays of each namespace, others pass) in
    ember.array_api and array_api_strict; the results must agree."""
    e_args = [xp.asarray(a, device=device) if isinstance(a, np.ndarray) else a for a in args]
    s_args = [strict.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    e_kw = {k: xp.asarray(v, device=device) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    s_kw = {k: strict.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    got = getattr(xp, name)(*e_args, **e_kw)
    want = getattr(strict, name)(*s_args, **s_kw)
    if hasattr(want, "_fields"):  # the unique_* named tuples
        want, got = tuple(want), tuple(got)
    _same(got, want, f"{name}{tuple(kwargs.items()) if kwargs else ''}")
    if isinstance(got, ember.Tensor):
        assert got.device is device, f"{name}: result on {got.device}, inputs on {device}"


# -- element-wise ---------------------------------------------------------------------------------
UNARY_FLOAT = (
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp", "expm1", "log",
    "log1p", "log2", "log10", "sin", "sinh", "sqrt", "tan", "tanh",
)  # fmt: skip
UNARY_NUMERIC = ("abs", "ceil", "floor", "negative", "positive", "round", "sign", "square", "trunc")


@pytest.mark.parametrize("name", UNARY_FLOAT)
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_float(name: str, dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (3, 4))
    a[0, :2] = [np.nan, np.inf]
    with np.errstate(all="ignore"):
        _call(name, (a,), {}, device)


@pytest.mark.parametrize("name", UNARY_NUMERIC)
@pytest.mark.parametrize("dtype", ("int8", "int32", "int64", "uint8", "float32", "float64"))
def test_unary_numeric(name: str, dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (2, 5))
    if name == "round" and dtype in FLOATS:
        a[0, :4] = [0.5, 1.5, -2.5, 2.5]  # halves to even
    if dtype in INTS and name == "abs" and dtype != "uint8":
        a[0, 0] = np.iinfo(dtype).min + 1
    _call(name, (a,), {}, device)


def test_sign_keeps_nan(device: ember.Device) -> None:
    _call("sign", (np.array([np.nan, -0.0, 3.0, -2.0]),), {}, device)


@pytest.mark.parametrize("name", ("isnan", "isinf", "isfinite", "signbit", "logical_not", "bitwise_invert"))
def test_unary_predicates(name: str, device: ember.Device) -> None:
    if name in ("logical_not",):
        a = _values("bool", (7,))
    elif name == "bitwise_invert":
        for dtype in ("bool", *INTS):
            _call(name, (_values(dtype, (6,)),), {}, device)
        return
    else:
        a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0])
    _call(name, (a,), {}, device)


BINARY_NUMERIC = (
    "add", "subtract", "multiply", "maximum", "minimum", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal",
)  # fmt: skip


@pytest.mark.parametrize("name", BINARY_NUMERIC)
@pytest.mark.parametrize(
    "dtypes",
    [
        ("int8", "int8"),
        ("int8", "int64"),
        ("uint8", "int8"),
        ("uint8", "int32"),
        ("int16", "int32"),
        ("float32", "float64"),
        ("float32", "float32"),
    ],
)
def test_binary_promotion(name: str, dtypes: tuple[str, str], device: ember.Device) -> None:
    """Same-kind pairs promote by the standard's table, broadcasting (4, 1) against (3,)."""
    _call(name, (_values(dtypes[0], (4, 1), 1), _values(dtypes[1], (3,), 2)), {}, device)


@pytest.mark.parametrize("name", ("add", "multiply", "subtract", "equal", "maximum"))
@pytest.mark.parametrize("dtypes", [("int8", "int64"), ("uint8", "int16"), ("float32", "float64")])
def test_zero_dim_arrays_promote_fully(name: str, dtypes: tuple[str, str], device: ember.Device) -> None:
    """A 0-d array takes full part in promotion (int8[3] + int64[()] is int64), unlike Ember's
    operators, which follow PyTorch's rule."""
    small, wide = _values(dtypes[0], (3,), 3), np.asarray(_values(dtypes[1], (), 4))
    _call(name, (small, wide), {}, device)
    _call(name, (wide, small), {}, device)


_SCALAR_CASES = [
    ("int8", 3),
    ("uint8", 7),
    ("int64", -5),
    ("float32", 2),
    ("float32", 1.5),
    ("float64", -0.25),
]
_SCALAR_PARAMS = [
    (n, d, s) for n in ("add", "multiply", "maximum", "equal", "less") for d, s in _SCALAR_CASES
]
# bool scalars: the standard combines them with bool arrays only, where equality is defined
_SCALAR_PARAMS += [("equal", "bool", True), ("not_equal", "bool", False), ("logical_and", "bool", True)]


@pytest.mark.parametrize("name, dtype, scalar", _SCALAR_PARAMS)
def test_python_scalars_are_weak(name: str, dtype: str, scalar: Any, device: ember.Device) -> None:
    """A Python scalar takes the array's dtype (the standard's rule), on either side."""
    a = _values(dtype, (5,))
    _call(name, (a, scalar), {}, device)
    _call(name, (scalar, a), {}, device)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "name",
    ("divide", "pow", "atan2", "hypot", "copysign", "logaddexp", "remainder", "floor_divide", "nextafter"),
)
def test_binary_float(name: str, dtype: str, device: ember.Device) -> None:
    a, b = _values(dtype, (3, 4), 5), _values(dtype, (4,), 6)
    if name == "pow":
        a = np.abs(a)
    with np.errstate(all="ignore"):
        _call(name, (a, b), {}, device)


def test_floor_divide_infinities(device: ember.Device) -> None:
    """The standard's special cases (numpy, and so array_api_strict, give NaN and -1 here)."""
    a = xp.asarray([np.inf, np.inf, -np.inf, 1.0, -1.0, 5.0, -7.0], dtype=xp.float64, device=device)
    b = xp.asarray([2.0, -2.0, 3.0, -np.inf, np.inf, 2.0, 2.0], dtype=xp.float64, device=device)
    got = xp.floor_divide(a, b).numpy()
    np.testing.assert_array_equal(got, [np.inf, -np.inf, -np.inf, -0.0, -0.0, 2.0, -4.0])
    assert np.signbit(got[3]) and np.signbit(got[4]), (
        "floor_divide: -0 expected for a finite over an infinity"
    )


@pytest.mark.parametrize("dtype", ("int8", "int32", "int64", "uint8"))
@pytest.mark.parametrize(
    "name",
    (
        "floor_divide",
        "remainder",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "bitwise_left_shift",
        "bitwise_right_shift",
    ),
)
def test_binary_integer(name: str, dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (6,), 7)
    b = (
        _values(dtype, (6,), 8, low=1, high=4)
        if "shift" in name or "divide" in name or name == "remainder"
        else _values(dtype, (6,), 8)
    )
    _call(name, (a, b), {}, device)


@pytest.mark.parametrize("name", ("logical_and", "logical_or", "logical_xor"))
def test_logical(name: str, device: ember.Device) -> None:
    _call(name, (_values("bool", (3, 4), 1), _values("bool", (4,), 2)), {}, device)


@pytest.mark.parametrize("dtype", ("int16", "float32", "float64"))
def test_clip(dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (3, 4))
    _call("clip", (a,), {"min": -1, "max": 2}, device)
    _call("clip", (a,), {"max": 0}, device)
    _call("clip", (a, _values(dtype, (4,), 3)), {}, device)
    _call("clip", (a,), {}, device)


_COMPLEX_UNARY = (
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "conj", "cos", "cosh", "exp", "expm1",
    "imag", "isfinite", "isinf", "isnan", "log", "log1p", "log2", "log10", "negative", "positive",
    "real", "round", "sign", "sin", "sinh", "sqrt", "square", "tan", "tanh",
)  # fmt: skip


@pytest.mark.parametrize("dtype", COMPLEX)
def test_complex_elementwise(dtype: str, device: ember.Device) -> None:
    """The standard's element-wise functions on complex arrays (values near 0 and far from it,
    a zero, the branch cuts' sides), binary ones with a real operand and a complex scalar."""
    a = np.concatenate([_values(dtype, (6,)), _values(dtype, (3,), 1) * 1e-4]).astype(dtype)
    a = np.concatenate([a, np.array([0, 2 + 0j, complex(2, -0.0), complex(-3, 0), 0.5j, -2j], dtype)])
    for name in _COMPLEX_UNARY:
        _call(name, (a,), {}, device)
    b = _values(dtype, (15,), 2)
    for name in ("add", "subtract", "multiply", "divide", "equal", "not_equal", "pow"):
        _call(name, (a[:-1], b[:-1]), {}, device)
    real = "float32" if dtype == "complex64" else "float64"
    _call("multiply", (a, _values(real, (15,), 3)), {}, device)  # real with complex: complex
    _call("add", (a, 1.5j), {}, device)
    _call("multiply", (_values(real, (4,)), 2j), {}, device)  # a complex scalar makes it complex


def test_complex_reductions_and_creation(device: ember.Device) -> None:
    a = _values("complex128", (3, 4))
    reductions = (("sum", {}), ("sum", {"axis": 0}), ("prod", {"axis": 1}), ("mean", {}),
                  ("mean", {"axis": (0, 1), "keepdims": True}), ("cumulative_sum", {"axis": 1}))  # fmt: skip
    for name, kw in reductions:
        _call(name, (a,), kw, device)
    _call("vecdot", (a, _values("complex128", (4,), 1)), {}, device)  # conj(x1) . x2
    _call("matmul", (a, _values("complex64", (4, 2), 2)), {}, device)
    # without dtype, complex values take the complex dtype of Ember's default float (float32)
    cd = getattr(strict, ember.get_default_dtype().to_complex().name)
    _same(xp.asarray([1, 2.5j], device=device), strict.asarray([1, 2.5j], dtype=cd), "asarray")
    _same(xp.asarray(1 - 1j, device=device), strict.asarray(1 - 1j, dtype=cd), "asarray scalar")
    _same(xp.zeros(3, dtype=xp.complex64, device=device), strict.zeros(3, dtype=strict.complex64), "zeros")
    _same(xp.full((2,), 1j, device=device), strict.full((2,), 1j, dtype=cd), "full")
    _same(xp.linspace(0, 2 + 4j, 5, device=device), strict.linspace(0, 2 + 4j, 5, dtype=cd), "linspace")
    _same(xp.astype(xp.asarray(a[0], device=device), xp.complex64),
          strict.astype(strict.asarray(a[0]), strict.complex64), "astype")  # fmt: skip
    with pytest.raises(TypeError, match="astype: casting a ember.complex128 array to ember.float64 would"):
        xp.astype(xp.asarray(a, device=device), xp.float64)
    m = _values("complex128", (3, 3), 4) + 4 * np.eye(3)
    em, sm = xp.asarray(m, device=device), strict.asarray(m)
    for name in ("inv", "svdvals", "matrix_rank", "pinv", "det", "slogdet"):
        got, want = getattr(xp.linalg, name)(em), getattr(strict.linalg, name)(sm)
        _same(tuple(got) if name == "slogdet" else got, tuple(want) if name == "slogdet" else want, name)
    _same(xp.linalg.solve(em, xp.asarray(a[:, :2], device=device)),
          strict.linalg.solve(sm, strict.asarray(a[:, :2])), "solve")  # fmt: skip
    # QR is unique only up to the phases of R's diagonal: check Q R = A, Q^H Q = I, R triangular
    tall = _values("complex64", (2, 4, 3), 5)
    for mode, qshape in (("reduced", (2, 4, 3)), ("complete", (2, 4, 4))):
        q, r = xp.linalg.qr(xp.asarray(tall, device=device), mode=mode)
        assert q.shape == qshape and q.dtype == xp.complex64, (mode, q.shape, q.dtype)
        qn, rn = q.numpy(), r.numpy()
        np.testing.assert_allclose(qn @ rn, tall, atol=1e-5, err_msg=mode)
        qhq = qn.conj().swapaxes(-1, -2) @ qn
        eye = np.broadcast_to(np.eye(qshape[-1]), qhq.shape)
        np.testing.assert_allclose(qhq, eye, atol=1e-5, err_msg=mode)
        assert (np.tril(rn, -1) == 0).all(), mode
    h = m + m.conj().T
    pd = m @ m.conj().T + np.eye(3)
    for upper in (False, True):
        _same(xp.linalg.cholesky(xp.asarray(pd, device=device), upper=upper),
              strict.linalg.cholesky(strict.asarray(pd), upper=upper), f"cholesky upper={upper}")  # fmt: skip
    _same(xp.linalg.eigvalsh(xp.asarray(h, device=device)), strict.linalg.eigvalsh(strict.asarray(h)), "eigh")
    for o in ("fro", "nuc", 2, 1):
        _same(xp.linalg.matrix_norm(em, ord=o), strict.linalg.matrix_norm(sm, ord=o), f"matrix_norm {o}")
    ea, sa = xp.asarray(a, device=device), strict.asarray(a)
    _same(xp.linalg.vector_norm(ea), strict.linalg.vector_norm(sa), "vector_norm")


def test_complex_parts_of_real_arrays(device: ember.Device) -> None:
    a = _values("float64", (2, 3))
    x = xp.asarray(a, device=device)
    np.testing.assert_array_equal(xp.conj(x).numpy(), a)
    np.testing.assert_array_equal(xp.real(x).numpy(), a)
    np.testing.assert_array_equal(xp.imag(x).numpy(), np.zeros_like(a))


# -- creation -------------------------------------------------------------------------------------
def test_creation(device: ember.Device) -> None:
    checks = [
        (xp.arange(5, device=device), strict.arange(5)),
        (xp.arange(1, 10, 3, device=device), strict.arange(1, 10, 3)),
        (xp.arange(0.0, 1.0, 0.25, device=device), strict.arange(0.0, 1.0, 0.25, dtype=strict.float32)),
        (xp.arange(5, 0, -2, dtype=xp.int8, device=device), strict.arange(5, 0, -2, dtype=strict.int8)),
        (xp.arange(3, 1, device=device), strict.arange(3, 1)),
        (xp.zeros((2, 3), dtype=xp.int32, device=device), strict.zeros((2, 3), dtype=strict.int32)),
        (xp.ones(4, dtype=xp.bool, device=device), strict.ones(4, dtype=strict.bool)),
        (xp.full((2,), 7, device=device), strict.full((2,), 7)),
        (xp.full((2,), True, device=device), strict.full((2,), True)),
        (xp.full((), -1.5, dtype=xp.float64, device=device), strict.full((), -1.5, dtype=strict.float64)),
        (xp.eye(3, 4, k=1, dtype=xp.int8, device=device), strict.eye(3, 4, k=1, dtype=strict.int8)),
        (xp.eye(4, k=-2, dtype=xp.float64, device=device), strict.eye(4, k=-2, dtype=strict.float64)),
        (xp.linspace(0, 1, 5, dtype=xp.float64, device=device),
         strict.linspace(0, 1, 5, dtype=strict.float64)),
        (xp.linspace(2, 3, 4, endpoint=False, dtype=xp.float64, device=device),
         strict.linspace(2, 3, 4, endpoint=False, dtype=strict.float64)),
        (xp.linspace(0, 1, 0, dtype=xp.float64, device=device),
         strict.linspace(0, 1, 0, dtype=strict.float64)),
        (xp.asarray([[1, 2], [3, 4]], device=device), strict.asarray([[1, 2], [3, 4]])),
        (xp.asarray([True, False], device=device), strict.asarray([True, False])),
        (xp.asarray(3, dtype=xp.uint8, device=device), strict.asarray(3, dtype=strict.uint8)),
    ]  # fmt: skip
    for i, (got, want) in enumerate(checks):
        _same(got, want, f"creation case {i}")
        assert got.device is device, f"creation case {i}: on {got.device}"
    a = _values("float64", (2, 3))
    x = xp.asarray(a, device=device)
    for name in ("zeros_like", "ones_like", "empty_like"):
        y = getattr(xp, name)(x, dtype=xp.int16)
        assert (y.shape, y.dtype, y.device) == ((2, 3), xp.int16, device), name
    _same(xp.full_like(x, 2.5), strict.full_like(strict.asarray(a), 2.5), "full_like")
    _same(xp.tril(x, k=-1), strict.tril(strict.asarray(a), k=-1), "tril")
    _same(xp.triu(x, k=1), strict.triu(strict.asarray(a), k=1), "triu")
    e1, e2 = xp.asarray([1, 2, 3], device=device), xp.asarray([4, 5], device=device)
    s1, s2 = strict.asarray([1, 2, 3]), strict.asarray([4, 5])
    for indexing in ("xy", "ij"):
        _same(xp.meshgrid(e1, e2, indexing=indexing), strict.meshgrid(s1, s2, indexing=indexing), "meshgrid")


def test_default_dtypes_follow_python_types() -> None:
    assert xp.asarray(1).dtype is xp.int64
    assert xp.asarray(True).dtype is xp.bool
    assert xp.asarray(1.5).dtype is ember.get_default_dtype()
    assert xp.asarray([1, 2.5]).dtype is ember.get_default_dtype()
    assert xp.full((1,), 2).dtype is xp.int64
    assert xp.arange(3.0).dtype is ember.get_default_dtype()


def test_asarray_copy_semantics(device: ember.Device) -> None:
    x = xp.asarray([1.0, 2.0], device=device)
    assert xp.asarray(x) is x
    assert xp.asarray(x, copy=False) is x
    y = xp.asarray(x, copy=True)
    y[0] = 9.0
    assert x[0].item() == 1.0, "asarray(copy=True) shares memory"
    with pytest.raises(ValueError, match="copy=False, but converting a ember.float32 array"):
        xp.asarray(x, dtype=xp.float64, copy=False)
    with pytest.raises(ValueError, match="copy=False, but a Python object always needs a copy"):
        xp.asarray([1, 2], copy=False)
    z = xp.asarray(x, dtype=xp.float64)
    assert z.dtype is xp.float64 and z.device is device
    a = np.arange(3.0)
    if device.type == "cpu":
        shared = xp.asarray(a, copy=False)
        a[0] = 5.0
        assert shared[0].item() == 5.0, "asarray(numpy array, copy=False) copied"
    else:
        with pytest.raises(ValueError, match="only through a copy"):
            xp.asarray(a, copy=False, device=device)
    with pytest.raises(OverflowError, match="out of the range of ember.int64"):
        xp.asarray(2**70)


def test_astype(device: ember.Device) -> None:
    a = _values("float64", (3,))
    x = xp.asarray(a, device=device)
    _same(xp.astype(x, xp.int32), strict.astype(strict.asarray(a), strict.int32), "astype")
    assert xp.astype(x, xp.float64, copy=False) is x
    y = xp.astype(x, xp.float64)
    assert y is not x, "astype(copy=True) returned its input"
    y[0] = 100.0
    assert x[0].item() != 100.0, "astype(copy=True) shares memory"
    assert xp.astype(x, xp.float32, device="cpu").device.type == "cpu"


# -- manipulation, indexing -----------------------------------------------------------------------
def test_manipulation(device: ember.Device) -> None:
    a, b = _values("int16", (2, 3), 1), _values("int32", (2, 3), 2)
    cases = [
        ("concat", ([a, b],), {"axis": 1}),
        ("concat", ([a, b],), {"axis": None}),
        ("stack", ([a, b],), {"axis": -1}),
        ("expand_dims", (a,), {"axis": -1}),
        ("expand_dims", (a,), {"axis": (0, 3)}),
        ("flip", (a,), {}),
        ("flip", (a,), {"axis": (0,)}),
        ("moveaxis", (_values("int8", (2, 3, 4)), 0, -1), {}),
        ("permute_dims", (_values("int8", (2, 3, 4)), (2, 0, 1)), {}),
        ("permute_dims", (_values("int8", (2, 3, 4)), (-1, 0, 1)), {}),
        ("repeat", (a, 2), {"axis": 1}),
        ("repeat", (a, 3), {}),
        ("reshape", (a, (3, -1)), {}),
        ("roll", (a, 2), {}),
        ("roll", (a, (1, -1)), {"axis": (0, 1)}),
        ("squeeze", (_values("float32", (1, 3, 1)),), {"axis": (0, 2)}),
        ("tile", (a, (2, 1)), {}),
        ("unstack", (a,), {"axis": 1}),
        ("broadcast_to", (_values("uint8", (3, 1)), (2, 3, 4)), {}),
        ("matrix_transpose", (_values("float32", (2, 3, 4)),), {}),
    ]
    for name, args, kwargs in cases:
        e_args = [
            [xp.asarray(v, device=device) for v in arg] if isinstance(arg, list) else arg for arg in args
        ]
        s_args = [[strict.asarray(v) for v in arg] if isinstance(arg, list) else arg for arg in args]
        e_args = [xp.asarray(v, device=device) if isinstance(v, np.ndarray) else v for v in e_args]
        s_args = [strict.asarray(v) if isinstance(v, np.ndarray) else v for v in s_args]
        _same(getattr(xp, name)(*e_args, **kwargs), getattr(strict, name)(*s_args, **kwargs), name)
    e = xp.broadcast_arrays(xp.asarray(a, device=device), xp.asarray([[1], [2]], device=device))
    s = strict.broadcast_arrays(strict.asarray(a), strict.asarray([[1], [2]]))
    _same(e, s, "broadcast_arrays")
    assert xp.broadcast_shapes((3, 1), (4,), (2, 1, 1)) == strict.broadcast_shapes((3, 1), (4,), (2, 1, 1))


def test_indexing_functions(device: ember.Device) -> None:
    a = _values("float32", (3, 4))
    idx = np.array([2, 0, -1, 1], dtype=np.int64)
    _call("take", (a, idx), {"axis": 1}, device)
    _call("take", (a[0], idx), {}, device)
    along = np.array([[0, 3], [1, 1], [-1, 2]], dtype=np.int64)
    _call("take_along_axis", (a, along), {"axis": 1}, device)
    _call("take_along_axis", (a, np.array([[2, 1, 0, 1]], dtype=np.int64)), {"axis": 0}, device)


# -- searching, sets, sorting ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ("int8", "uint8", "int64", "float32", "float64"))
def test_searching(dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (3, 5))
    for kwargs in ({}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"keepdims": True}):
        _call("argmax", (a,), kwargs, device)
        _call("argmin", (a,), kwargs, device)
    for kwargs in ({}, {"axis": 1}, {"axis": (0, 1), "keepdims": True}):
        _call("count_nonzero", (a,), kwargs, device)
    _call("nonzero", (a,), {}, device)
    sorted_ = np.sort(_values(dtype, (8,), 3))
    for side in ("left", "right"):
        _call("searchsorted", (sorted_, a), {"side": side}, device)
    perm = np.argsort(_values(dtype, (8,), 4), kind="stable").astype(np.int64)
    unsorted = np.empty_like(sorted_)
    unsorted[perm] = sorted_
    _call("searchsorted", (unsorted, a), {"sorter": perm}, device)
    cond = _values("bool", (3, 5), 5)
    _call("where", (cond, a, _values(dtype, (5,), 6)), {}, device)
    _call("where", (cond, a, 2), {}, device)


def test_where_promotes_like_the_standard(device: ember.Device) -> None:
    cond = np.array([True, False, True])
    _call("where", (cond, _values("int8", (3,)), np.asarray(_values("int64", ()))), {}, device)
    _call("where", (cond, _values("float32", (3,)), 1.5), {}, device)


@pytest.mark.parametrize("dtype", ("int8", "uint8", "int64", "float64"))
def test_unique(dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (4, 5), low=-2, high=3)
    for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all"):
        _call(name, (a,), {}, device)


def test_unique_nans_are_distinct(device: ember.Device) -> None:
    a = np.array([2.0, np.nan, 1.0, np.nan, 2.0])
    for name in ("unique_values", "unique_counts", "unique_inverse", "unique_all"):
        _call(name, (a,), {}, device)


@pytest.mark.parametrize("dtype", ("int8", "uint8", "int32", "float32", "float64"))
def test_sorting(dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (3, 6), low=-2, high=3)  # ties, so stability shows
    for kwargs in ({}, {"axis": 0}, {"descending": True}, {"axis": 0, "descending": True, "stable": True}):
        _call("sort", (a,), kwargs, device)
        _call("argsort", (a,), kwargs, device)


def test_isin(device: ember.Device) -> None:
    a, b = _values("int32", (3, 4)), np.array([0, 2, -3], dtype=np.int32)
    _call("isin", (a, b), {}, device)
    # array_api_strict 2.6's invert=True returns the uninverted result: numpy is the reference here
    got = xp.isin(xp.asarray(a, device=device), xp.asarray(b, device=device), invert=True)
    np.testing.assert_array_equal(got.numpy(), np.isin(a, b, invert=True))


# -- statistical, utility ---------------------------------------------------------------------------
REDUCE_AXES = (
    {},
    {"axis": 0},
    {"axis": (0, 2)},
    {"axis": -1, "keepdims": True},
    {"keepdims": True},
    {"axis": ()},
)


# the reference's std/var over no axis with correction 1 divide by zero (NaN, as the standard says)
@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("kwargs", REDUCE_AXES, ids=str)
@pytest.mark.parametrize("dtype", ("int8", "uint8", "int32", "float32", "float64"))
def test_reductions(dtype: str, kwargs: dict, device: ember.Device) -> None:
    a = _values(dtype, (2, 3, 4), low=-2, high=3)
    for name in ("sum", "prod", "max", "min"):
        _call(name, (a,), kwargs, device)
    if dtype in FLOATS:
        for name in ("mean", "std", "var"):
            _call(name, (a,), kwargs, device)
        _call("std", (a,), {**kwargs, "correction": 1}, device)
        _call("var", (a,), {**kwargs, "correction": 1.0}, device)
    for name in ("all", "any"):
        _call(name, (a,), kwargs, device)


@pytest.mark.parametrize("dtype", ("int8", "int64", "float32", "float64"))
def test_sum_dtype_argument(dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (3, 4))
    x = xp.asarray(a, device=device)
    got = xp.sum(x, axis=1, dtype=xp.float64)
    want = strict.sum(strict.asarray(a), axis=1, dtype=strict.float64)
    _same(got, want, "sum(dtype=float64)")


@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning")
def test_nan_propagates_in_reductions(device: ember.Device) -> None:
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    for name in ("sum", "prod", "max", "min", "mean", "std", "var"):
        _call(name, (a,), {"axis": 1}, device)
    _call("std", (np.asarray(np.nan),), {}, device)
    _call("var", (np.asarray(np.nan),), {"correction": 1}, device)


@pytest.mark.parametrize("dtype", ("int8", "uint8", "int32", "float64"))
def test_cumulative(dtype: str, device: ember.Device) -> None:
    a = _values(dtype, (3, 4), low=-2, high=3)
    for name in ("cumulative_sum", "cumulative_prod"):
        _call(name, (a,), {"axis": 1}, device)
        _call(name, (a,), {"axis": 0, "include_initial": True}, device)
        _call(name, (a[0],), {}, device)
        _call(name, (a[0],), {"include_initial": True}, device)


def test_diff(device: ember.Device) -> None:
    a = _values("int32", (3, 5))
    _call("diff", (a,), {}, device)
    _call("diff", (a,), {"axis": 0, "n": 2}, device)
    x = xp.asarray(a, device=device)
    got = xp.diff(x, prepend=xp.asarray(a[:, :1], device=device), append=xp.asarray(a[:, :2], device=device))
    want = strict.diff(strict.asarray(a), prepend=strict.asarray(a[:, :1]), append=strict.asarray(a[:, :2]))
    _same(got, want, "diff(prepend, append)")


# -- linear algebra in the main namespace -------------------------------------------------------------
@pytest.mark.parametrize(
    "dtypes", [("float32", "float32"), ("float32", "float64"), ("int8", "int16"), ("uint8", "uint8")]
)
def test_linear_algebra(dtypes: tuple[str, str], device: ember.Device) -> None:
    a, b = _values(dtypes[0], (2, 3, 4), 1), _values(dtypes[1], (4, 5), 2)
    _call("matmul", (a, b), {}, device)
    _call("matmul", (a[0, 0], b), {}, device)
    _call("tensordot", (a, b), {"axes": 1}, device)
    _call("tensordot", (a, _values(dtypes[1], (4, 3), 3)), {"axes": ((1, 2), (1, 0))}, device)
    _call("vecdot", (a, _values(dtypes[1], (3, 4), 4)), {}, device)
    _call("vecdot", (a, _values(dtypes[1], (3, 1), 5)), {"axis": -2}, device)


# -- the linalg extension -------------------------------------------------------------------------
def _spd(n: int, batch: tuple[int, ...] = ()) -> np.ndarray:
    a = _values("float64", (*batch, n, n), 9)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_linalg_extension(device: ember.Device) -> None:
    """Values of the linalg functions equal array_api_strict's (decompositions through what is
    unique: eigenvalues, singular values, the reconstructions)."""
    spd, general = _spd(3, (2,)), _values("float64", (2, 3, 3), 10) + 3 * np.eye(3)
    for name, args, kwargs in [
        ("cholesky", (spd,), {}),
        ("cholesky", (spd,), {"upper": True}),
        ("det", (general,), {}),
        ("inv", (general,), {}),
        ("eigvalsh", (spd,), {}),
        ("svdvals", (general,), {}),
        ("matrix_power", (general, 3), {}),
        ("matrix_power", (general, -1), {}),
        ("matrix_rank", (_values("float64", (4, 3), 11),), {}),
        ("pinv", (_values("float64", (4, 3), 12),), {}),
        ("solve", (general, _values("float64", (3,), 13)), {}),
        ("solve", (general, _values("float64", (3, 2), 14)), {}),
        ("trace", (general,), {"offset": 1}),
        ("trace", (_values("int8", (2, 3, 3)),), {}),
        ("diagonal", (general,), {"offset": -1}),
        ("outer", (_values("float32", (3,)), _values("float64", (4,), 15)), {}),
        ("cross", (_values("float64", (2, 3), 16), _values("float64", (3,), 17)), {}),
        ("vector_norm", (general,), {"axis": (0, 2), "ord": 1}),
        ("vector_norm", (general,), {"keepdims": True}),
        ("matrix_norm", (general,), {"ord": "fro"}),
        ("matrix_norm", (general,), {"ord": np.inf, "keepdims": True}),
        ("matrix_norm", (general,), {"ord": 2}),
        ("vecdot", (general, general), {"axis": -2}),
        ("tensordot", (general, general[0]), {"axes": 2}),
    ]:
        e_args = [xp.asarray(a, device=device) if isinstance(a, np.ndarray) else a for a in args]
        s_args = [strict.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        got = getattr(xp.linalg, name)(*e_args, **kwargs)
        want = getattr(strict.linalg, name)(*s_args, **kwargs)
        _same(got, want, f"linalg.{name}{tuple(kwargs.items())}", rtol=1e-6, atol=1e-8)
    x = xp.asarray(general, device=device)
    sign, logabs = xp.linalg.slogdet(x)
    want = strict.linalg.slogdet(strict.asarray(general))
    _same((sign, logabs), tuple(want), "linalg.slogdet")
    w, v = xp.linalg.eigh(xp.asarray(spd, device=device))
    np.testing.assert_allclose((v @ (w[..., None] * xp.matrix_transpose(v))).numpy(), spd, rtol=1e-8)
    u, sv, vh = xp.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose((u @ (sv[..., None] * vh)).numpy(), general, rtol=1e-8, atol=1e-10)
    q, r = xp.linalg.qr(x)
    np.testing.assert_allclose((q @ r).numpy(), general, rtol=1e-8, atol=1e-10)
    assert xp.linalg.qr(x, mode="complete").Q.shape == (2, 3, 3)
    with pytest.raises(ValueError, match="qr: mode must be 'reduced' or 'complete', got 'r'"):
        xp.linalg.qr(x, mode="r")
    with pytest.raises(ValueError, match=r"cross: axis -1 must have size 3"):
        xp.linalg.cross(xp.ones((2, 4), device=device), xp.ones((2, 4), device=device))


# -- dtype functions, inspection -------------------------------------------------------------------
def _strict_name(d: Any) -> str:
    return str(d).removeprefix("array_api_strict.")


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES)
def test_result_type_and_can_cast(a: str, b: str) -> None:
    da, db = getattr(xp, a), getattr(xp, b)
    sa, sb = getattr(strict, a), getattr(strict, b)
    assert xp.can_cast(da, db) == strict.can_cast(sa, sb), f"can_cast({a}, {b})"
    try:
        want = strict.result_type(sa, sb)
    except TypeError:
        # mixed kinds: outside the standard; Ember's own rule, which picks one of the kinds
        got = xp.result_type(da, db)
        assert got in (da, db) or got is xp.int16 or got.is_floating_point, f"result_type({a}, {b})"
        return
    assert xp.result_type(da, db).name == _strict_name(want), f"result_type({a}, {b})"


@pytest.mark.parametrize("dtype", NAMES)
@pytest.mark.parametrize("scalar", (True, 1, -1.5, 2j))
def test_result_type_with_scalars(dtype: str, scalar: Any) -> None:
    try:
        want = strict.result_type(getattr(strict, dtype), scalar)
    except TypeError:
        return  # a scalar the standard does not combine with this dtype
    assert xp.result_type(getattr(xp, dtype), scalar).name == _strict_name(want), (
        f"result_type({dtype}, {scalar!r})"
    )


def test_isdtype() -> None:
    kinds = ("bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating",
             "numeric", ("integral", "real floating"))  # fmt: skip
    for name in NAMES:
        for kind in kinds:
            assert xp.isdtype(getattr(xp, name), kind) == strict.isdtype(getattr(strict, name), kind), (
                name,
                kind,
            )
        assert xp.isdtype(getattr(xp, name), getattr(xp, name))
    with pytest.raises(ValueError, match="isdtype: unknown kind 'float'"):
        xp.isdtype(xp.float32, "float")
    with pytest.raises(TypeError, match="is not a dtype of ember.array_api"):
        xp.isdtype(ember.float16, "numeric")


def test_finfo_iinfo() -> None:
    for name in FLOATS + COMPLEX:
        got, want = xp.finfo(getattr(xp, name)), strict.finfo(getattr(strict, name))
        for field in ("bits", "eps", "max", "min", "smallest_normal"):
            assert getattr(got, field) == getattr(want, field), (name, field)
        # a complex dtype's limits are its parts': finfo(complex64).dtype is float32
        assert got.dtype.name == _strict_name(want.dtype), (name, got.dtype, want.dtype)
    for name in INTS:
        got, want = xp.iinfo(getattr(xp, name)), strict.iinfo(getattr(strict, name))
        assert (got.bits, got.min, got.max) == (want.bits, want.min, want.max), name
        assert got.dtype is getattr(xp, name)
    assert xp.finfo(xp.asarray([1.0], dtype=xp.float64)).bits == 64
    with pytest.raises(TypeError, match="finfo: ember.int32 is not a floating dtype; use iinfo"):
        xp.finfo(xp.int32)
    with pytest.raises(TypeError, match="iinfo: ember.float32 is not an integer dtype; use finfo"):
        xp.iinfo(xp.float32)


def test_inspection() -> None:
    info = xp.__array_namespace_info__()
    assert info.default_device() is ember.get_default_device()
    assert info.devices() == tuple(d for d in ember.devices() if d.type != "meta")
    caps = info.capabilities()
    assert caps["boolean indexing"] is True and caps["data-dependent shapes"] is True
    dt = info.default_dtypes()
    assert dt == {"real floating": ember.get_default_dtype(),
                  "complex floating": ember.get_default_dtype().to_complex(),
                  "integral": xp.int64, "indexing": xp.int64}  # fmt: skip
    assert list(info.dtypes()) == list(NAMES)
    assert info.dtypes(kind="complex floating") == {"complex64": xp.complex64, "complex128": xp.complex128}
    assert list(info.dtypes(kind="numeric"))[-2:] == ["complex64", "complex128"]
    assert list(info.dtypes(kind="integral")) == ["int8", "int16", "int32", "int64", "uint8"]
    assert list(info.dtypes(kind=("bool", "real floating"))) == ["bool", "float32", "float64"]
    for d in DEVICES:
        assert info.dtypes(device=d) == info.dtypes()
    assert xp.__array_api_version__ == "2025.12"
    for name in ("e", "pi", "inf", "nan"):
        assert getattr(xp, name) == getattr(strict, name) or math.isnan(getattr(xp, name))
    assert xp.newaxis is None


# -- the array object -------------------------------------------------------------------------------
def test_array_namespace(device: ember.Device) -> None:
    x = ember.ones(2, device=device)
    assert x.__array_namespace__() is xp
    assert x.__array_namespace__(api_version="2024.12") is xp
    with pytest.raises(
        ValueError, match=r"api_version '2019.01' is not supported; ember.array_api implements .*2025.12"
    ):
        x.__array_namespace__(api_version="2019.01")


def test_to_device_and_device_attribute(device: ember.Device) -> None:
    x = xp.asarray([1, 2, 3], device=device)
    assert x.device is device and x.to_device(device) is x
    for other in DEVICES:
        y = x.to_device(other)
        assert y.device is other and y.tolist() == [1, 2, 3]
        assert x.to_device(str(other)).device is other
    with pytest.raises(ValueError, match="to_device: stream=0 is not supported"):
        x.to_device(device, stream=0)


def test_scalar_conversions(device: ember.Device) -> None:
    assert complex(xp.asarray(2.5, device=device)) == 2.5 + 0j
    assert float(xp.asarray(3, device=device)) == 3.0
    assert int(xp.asarray(-2, dtype=xp.int8, device=device)) == -2
    assert [0, 1, 2][xp.asarray(1, device=device)] == 1
    assert bool(xp.asarray(True, device=device)) is True
    with pytest.raises(RuntimeError, match="truth value of a tensor with 2 elements is ambiguous"):
        bool(xp.asarray([1, 2], device=device))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [0, 1][xp.asarray(1.0, device=device)]


def test_mT_and_dlpack_device(device: ember.Device) -> None:
    a = _values("float32", (2, 3, 4))
    x = xp.asarray(a, device=device)
    np.testing.assert_array_equal(x.mT.numpy(), np.swapaxes(a, -1, -2))
    if device.type == "cpu":
        assert x.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
        np.testing.assert_array_equal(np.from_dlpack(x), a)
    else:
        assert x.__dlpack_device__() == (4, device.index)  # kDLOpenCL
        remedy = r"do not support DLPack; copy the tensor to the host first \(x\.to\('cpu'\)\)"
        with pytest.raises(BufferError, match=remedy):
            x.__dlpack__()
        with pytest.raises(BufferError, match="do not support DLPack"):
            ember.from_dlpack(x)
        with pytest.raises(BufferError, match="copy=False forbids it"):
            x.__dlpack__(dl_device=(1, 0), copy=False)
        np.testing.assert_array_equal(np.from_dlpack(x.to("cpu")), a)


def test_dlpack_keywords(device: ember.Device) -> None:
    """``__dlpack__(*, stream, max_version, dl_device, copy)`` as the standard (DLPack 1.0) defines
    them: a versioned capsule for max_version >= (1, 0), the legacy one otherwise; a host copy for
    dl_device=(1, 0) from any device; copy=True exports a copy, copy=False never copies."""
    import inspect

    params = inspect.signature(ember.Tensor.__dlpack__).parameters
    assert [n for n in params if n != "self" and params[n].kind is inspect.Parameter.KEYWORD_ONLY] == [
        "stream",
        "max_version",
        "dl_device",
        "copy",
    ]
    a = _values("float32", (2, 3))
    x = xp.asarray(a, device=device)
    host = x.__dlpack__(dl_device=(1, 0), max_version=(1, 0))
    assert "dltensor_versioned" in repr(host)
    np.testing.assert_array_equal(np.from_dlpack(x, device="cpu"), a)  # numpy asks for dl_device=(1, 0)
    with pytest.raises(BufferError, match=r"cannot export a tensor on .* to DLPack device \(2, 0\)"):
        x.__dlpack__(dl_device=(2, 0))
    with pytest.raises(ValueError, match="copy must be None, True or False, not 1"):
        x.__dlpack__(copy=1)
    if device.type == "cpu":
        assert "dltensor_versioned" in repr(x.__dlpack__(max_version=(1, 0)))
        assert "dltensor_versioned" not in repr(x.__dlpack__(max_version=(0, 8)))
        assert "dltensor_versioned" not in repr(x.__dlpack__())  # no max_version: the legacy capsule
        shared = np.from_dlpack(x, copy=False)
        copied = np.from_dlpack(x, copy=True)
        x.add_(1.0)
        np.testing.assert_array_equal(shared, a + 1)  # no copy: sees the update
        np.testing.assert_array_equal(copied, a)  # a copy: does not


def test_zero_remainder_takes_the_divisor_sign(device: ember.Device) -> None:
    """A zero result of ``%`` / ``%=`` / remainder on floats carries the divisor's sign (Python's
    and numpy's %, the standard's special cases) on every device."""
    a = np.array([0.0, -0.0, 2.0, -2.0, 4.0, -4.0, 0.0, -0.0], dtype=np.float32)
    b = np.array([-2.0, 2.0, -2.0, 2.0, 2.0, -2.0, 3.0, -3.0], dtype=np.float32)
    want = np.remainder(a, b)
    x, y = ember.tensor(a, device=device), ember.tensor(b, device=device)
    inplace = x.clone()
    inplace %= y
    results = (("%", x % y), ("remainder", ember.remainder(x, y)), ("%=", inplace), ("scalar", x % -2.0))
    for what, got in results:
        ref = want if what != "scalar" else np.remainder(a, np.float32(-2.0))
        np.testing.assert_array_equal(got.numpy(), ref, err_msg=what)
        signs_agree = np.array_equal(np.signbit(got.numpy()), np.signbit(ref))
        assert signs_agree, f"{what} on {device}: {got.numpy()} vs {ref}"


# -- errors -----------------------------------------------------------------------------------------
def test_errors(device: ember.Device) -> None:
    x = xp.asarray(_values("float32", (2, 3)), device=device)
    with pytest.raises(ValueError, match=r"squeeze: axis 1 has size 3, not 1 \(shape \(2, 3\)\)"):
        xp.squeeze(x, axis=1)
    with pytest.raises(IndexError, match=r"sum: axis 2 is out of range for 2 dimension\(s\)"):
        xp.sum(x, axis=2)
    with pytest.raises(ValueError, match="flip: repeated axis"):
        xp.flip(x, axis=(0, -2))
    with pytest.raises(ValueError, match="take: axis is required for a 2-D array"):
        xp.take(x, xp.asarray([0], device=device))
    with pytest.raises(ValueError, match=r"max: reduction over an empty axis of an array of shape \(0,\)"):
        xp.max(xp.zeros(0, device=device))
    with pytest.raises(ValueError, match="argmax: the array is empty"):
        xp.argmax(xp.zeros(0, device=device))
    with pytest.raises(TypeError, match="mean: expected a floating array, got ember.int64"):
        xp.mean(xp.asarray([1, 2], device=device))
    with pytest.raises(ValueError, match="nonzero: a 0-d array has no axes"):
        xp.nonzero(xp.asarray(1, device=device))
    with pytest.raises(ValueError, match="cumulative_sum: axis is required for a 2-D array"):
        xp.cumulative_sum(x)
    with pytest.raises(ValueError, match="matrix_transpose: expected at least 2 dimensions"):
        xp.matrix_transpose(xp.ones(3, device=device))
    with pytest.raises(TypeError, match="add: at least one argument must be an array"):
        xp.add(1, 2)
    with pytest.raises(TypeError, match="add: expected an array or a Python scalar, got list"):
        xp.add(x, [1, 2, 3])
    with pytest.raises(TypeError, match="where: condition must be a bool array"):
        xp.where(x, x, x)
    with pytest.raises(ValueError, match="searchsorted: side must be 'left' or 'right'"):
        xp.searchsorted(xp.asarray([1, 2], device=device), xp.asarray([1], device=device), side="middle")
    with pytest.raises(
        TypeError, match="zeros: float16 is not a dtype of ember.array_api|is not a dtype of ember"
    ):
        xp.zeros(2, dtype=ember.float16)
    with pytest.raises(ValueError, match="reshape: copy=False, but shape"):
        xp.reshape(x.mT, (6,), copy=False)
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'xy' or 'ij'"):
        xp.meshgrid(x, indexing="xx")


def test_namespace_names_match_the_standard() -> None:
    """Every name array_api_strict's main namespace has (the standard's), except the unsigned
    integers Ember lacks and the extensions, is in ember.array_api."""
    absent = {"uint16", "uint32", "uint64", "fft"}
    missing = sorted(
        n for n in dir(strict)
        if not n.startswith("_") and n not in absent and n not in ("Device", "ArrayAPIStrictFlags")
        and not n.endswith("_flags") and n not in ("set_array_api_strict_flags", "get_array_api_strict_flags",
                                                   "reset_array_api_strict_flags")
        and not isinstance(getattr(strict, n), (type, type(strict)))
    )  # fmt: skip
    missing = [n for n in missing if not hasattr(xp, n)]
    assert missing == [], f"ember.array_api lacks {missing}"
    # eig and eigvals (2025.12): Ember's linalg has no general (non-Hermitian) eigensolver
    standard_linalg = (
        "cholesky cross det diagonal eig eigh eigvals eigvalsh inv matmul matrix_norm matrix_power "
        "matrix_rank matrix_transpose outer pinv qr slogdet solve svd svdvals tensordot trace vecdot "
        "vector_norm"
    ).split()
    linalg_missing = [n for n in standard_linalg if not hasattr(xp.linalg, n)]
    assert linalg_missing == ["eig", "eigvals"], f"ember.array_api.linalg lacks {linalg_missing}"


# -- a library written against the standard ---------------------------------------------------------
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sklearn_on_ember.py"


def test_scikit_learn_runs_on_ember_tensors(device: ember.Device) -> None:
    """scikit-learn's array-API paths (PCA, LinearDiscriminantAnalysis, Ridge) take Ember tensors on
    the device and give numpy's results (up to PCA's and LDA's components' signs):
    examples/sklearn_on_ember.py, run as a user runs it. A subprocess, because SciPy reads
    SCIPY_ARRAY_API once, at its import."""
    import os
    import subprocess
    import sys

    pytest.importorskip("sklearn", reason="scikit-learn is in the test extra")
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), "--device", str(device)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == (
        f"ok: PCA, LinearDiscriminantAnalysis and Ridge on Ember tensors on {device}"
    ), run.stdout[-2000:]
