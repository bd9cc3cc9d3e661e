"""Kernel-level tests of the OpenCL backend against numpy (no ember.Tensor involved).

The backend is instantiated directly; tests skip when no OpenCL device is available.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

try:  # run from a source checkout without installing the packages
    import ember.backend  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "core"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ember import dtypes
from ember.backend import PRIMITIVES, BackendUnavailable

ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]
FLOATS = ["float16", "float32", "float64"]


@pytest.fixture(scope="module")
def be():
    try:
        from ember_opencl.backend import OpenCLBackend

        backend = OpenCLBackend()
    except BackendUnavailable as exc:
        pytest.skip(f"OpenCL unavailable: {exc}")
    return backend


@pytest.fixture(scope="module")
def K(be):
    return be.kernels


def rand(shape, dt, seed=0, low=-5, high=5):
    rng = np.random.default_rng(seed)
    if dt == "bool":
        return rng.random(shape) < 0.5
    if dt in INTS:
        lo = 0 if dt == "uint8" else low
        return rng.integers(lo, high, size=shape).astype(dt)
    return (rng.random(shape) * (high - low) + low).astype(dt)


def dev(K, a):
    return K["from_numpy"](np.asarray(a), 0)


def host(K, x):
    return K["to_numpy"](x)


def strided(K, a):
    """A non-contiguous device view equal to ``a``: every other element of the last dim,
    with dim 0 reversed (negative stride) when ndim >= 2."""
    a = np.asarray(a)
    if a.ndim == 0:
        return dev(K, a)
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1] + 1,), dtype=a.dtype)
    big[..., 1::2][..., : a.shape[-1]] = a
    if a.ndim >= 2:
        big = np.ascontiguousarray(big[::-1])
    B = dev(K, big)
    st = list(K["strides"](B))
    st[-1] *= 2
    off = 1
    if a.ndim >= 2:
        off += (a.shape[0] - 1) * st[0]
        st[0] = -st[0]
    return K["as_strided"](B, a.shape, tuple(st), off)


def check(got, want, dt=None, rtol=None, atol=None):
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if got.dtype.kind == "f":
        tol = {2: 2e-3, 4: 2e-5, 8: 1e-12}[got.dtype.itemsize]
        np.testing.assert_allclose(got, want, rtol=rtol or tol, atol=atol or tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------------------------
# backend object


def test_kernel_table_and_queries(be):
    from ember.ops.catalog import OPTIONAL_KERNELS

    assert set(PRIMITIVES) <= set(be.kernels)
    assert set(be.kernels) - set(PRIMITIVES) <= set(OPTIONAL_KERNELS)
    assert be.device_type == "opencl"
    assert be.device_count() >= 1
    props = be.device_properties(0)
    for key in ("name", "platform", "global_memory", "fp64", "fp16"):
        assert key in props
    assert be.supports_dtype(dtypes.float32, 0)
    assert be.supports_dtype(dtypes.float64, 0) == props["fp64"]
    be.synchronize(0)
    from ember_opencl._array import CLArray

    assert be.native_type() is CLArray


def test_memory_stats(be, K):
    s0 = be.memory_stats(0)
    x = K["empty"]((1000,), dtypes.float32, 0)
    s1 = be.memory_stats(0)
    assert s1["in_use"] >= s0["in_use"] + 4000
    assert s1["peak"] >= s1["in_use"]
    del x
    s2 = be.memory_stats(0)
    assert s2["in_use"] == s0["in_use"] and s2["cached"] >= 4000
    be.empty_cache(0)
    assert be.memory_stats(0)["cached"] == 0


def test_allocation_failure_message(be, K):
    with pytest.raises(MemoryError, match="requested .* bytes"):
        K["empty"]((1 << 40,), dtypes.float32, 0)


def test_env_device_selection(monkeypatch):
    from ember_opencl.backend import OpenCLBackend

    monkeypatch.setenv("EMBER_OPENCL_DEVICE", "no-such-device-xyz")
    with pytest.raises(BackendUnavailable, match="matches no OpenCL device"):
        OpenCLBackend()


def test_plugin_declaration():
    from ember_opencl import plugin

    (decl,) = plugin.ember_backends()
    assert decl.device_type == "opencl"
    assert decl.implementation == "ember_opencl.backend:OpenCLBackend"


# --------------------------------------------------------------------------------------------
# memory and layout


@pytest.mark.parametrize("dt", ALL)
def test_roundtrip_full_empty(K, dt):
    for shape in [(), (0,), (3, 0, 2), (7,), (2, 3, 4)]:
        a = rand(shape, dt)
        check(host(K, dev(K, a)), a)
    x = K["full"]((3, 5), 1 if dt != "bool" else True, dtypes.as_dtype(dt), 0)
    check(host(K, x), np.ones((3, 5), dt))
    e = K["empty"]((4, 2), dtypes.as_dtype(dt), 0)
    assert host(K, e).shape == (4, 2) and K["strides"](e) == (2, 1)


def test_from_numpy_noncontiguous_and_strided_view(K):
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    check(host(K, dev(K, a.T)), a.T)
    X = dev(K, a)
    v = K["as_strided"](X, (2, 3), (6, 2), 1)
    check(host(K, v), a[:2, 1::2])
    check(host(K, strided(K, a)), a)
    b = K["as_strided"](X, (3, 4), (0, 1), 2)  # broadcast view
    check(host(K, b), np.broadcast_to(a.reshape(-1)[2:6], (3, 4)))


def test_copy_into_views(K):
    a = np.zeros((4, 6), np.float32)
    X = dev(K, a)
    v = K["as_strided"](X, (2, 3), (6, 2), 7)
    K["copy_"](v, dev(K, np.float32([1, 2, 3])))  # broadcast source
    want = a.copy()
    want[1:3, 1::2] = [1, 2, 3]
    check(host(K, X), want)
    # overlapping source and destination in the same buffer
    Y = dev(K, np.arange(10, dtype=np.int32))
    K["copy_"](K["as_strided"](Y, (9,), (1,), 1), K["as_strided"](Y, (9,), (1,), 0))
    check(host(K, Y), np.int32([0, 0, 1, 2, 3, 4, 5, 6, 7, 8]))
    # strided source into a strided destination
    s = rand((3, 4), "float64")
    Z = dev(K, np.zeros((4, 3)))
    K["copy_"](K["as_strided"](Z, (3, 4), (1, 3), 0), strided(K, s))
    check(host(K, Z), s.T)


@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "float16", "bool", "int64"])
def test_add_inplace_views(K, dt):
    views = [
        ((5, 7, 9), lambda a: a[:, ::2, 1:]),
        ((4, 3, 10, 10), lambda a: a[:, :, 1:9, 0:8]),  # a conv fold target
        ((33,), lambda a: a[::3]),
        ((6, 4), lambda a: a.T),
        ((1000,), lambda a: a[3:]),  # contiguous view
        ((3, 4, 5, 2, 3, 2, 2), lambda a: a.transpose(6, 1, 0, 3, 2, 5, 4)),
        ((70, 90), lambda a: a[::-1, 3:]),
    ]
    for k, (shape, view) in enumerate(views):
        base = rand(shape, dt, seed=k)
        X = dev(K, base)
        v = view(base)
        off = (v.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
        V = K["as_strided"](X, v.shape, tuple(st // base.itemsize for st in v.strides), off)
        src = rand(v.shape, dt, seed=k + 10)
        assert K["add_"](V, dev(K, src)) is None
        want = base.copy()
        wv = view(want)
        wv[...] = (wv.astype(np.float64) + src).astype(dt) if dt != "bool" else wv | src
        check(host(K, X), want)
    # broadcast source, and a source overlapping the destination
    base = rand((4, 6), dt)
    X = dev(K, base)
    K["add_"](X, dev(K, base[0]))
    check(host(K, X), (base.astype(np.float64) + base[0]).astype(dt) if dt != "bool" else base | base[0])
    Y = dev(K, np.arange(10).astype(dt))
    K["add_"](K["as_strided"](Y, (9,), (1,), 1), K["as_strided"](Y, (9,), (1,), 0))
    want = np.arange(10).astype(dt)
    want[1:] = (want[1:].astype(np.float64) + want[:-1]).astype(dt) if dt != "bool" else want[1:] | want[:-1]
    check(host(K, Y), want)


@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "float16", "uint8"])
def test_relu(K, dt):
    a = rand((37, 5), dt)
    want = np.where(a < 0, 0, a).astype(dt)
    check(host(K, K["relu"](dev(K, a))), want)
    check(host(K, K["relu"](strided(K, a))), want)
    if dt in ("float32", "float64"):
        got = host(K, K["relu"](dev(K, np.array([np.nan, -np.inf, np.inf, -0.5], dt))))
        check(got, np.array([np.nan, 0, np.inf, 0], dt))


@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
def test_softmax_log_softmax(K, dt):
    for k, (shape, d) in enumerate([((5, 7), 1), ((5, 7), 0), ((3, 4, 5), 1), ((10,), 0), ((2, 0, 3), 2)]):
        x = rand(shape, dt, seed=k, low=-20, high=20)
        x64 = x.astype(np.float64)
        m = x64.max(axis=d, keepdims=True) if x.size else 0
        e = np.exp(x64 - m)
        s = e.sum(axis=d, keepdims=True)
        tol = 2e-3 if dt == "float16" else 1e-5
        for X in (dev(K, x), strided(K, x)):
            check(host(K, K["softmax"](X, d)), (e / s).astype(dt), rtol=tol, atol=tol)
            check(host(K, K["log_softmax"](X, d)), (x64 - m - np.log(s)).astype(dt), rtol=tol, atol=tol)


def test_softmax_rows_float32(K):
    """float32 along contiguous rows (the vector row kernels): row lengths around the 8 lanes,
    rows split unevenly over the work-items, -inf entries, a NaN row and an all -inf row
    (NaN, as in PyTorch), against float64 numpy."""
    from ember_opencl import reductions

    rng = np.random.default_rng(7)
    for length in (1, 7, 8, 9, 64, 100):
        rows = reductions.SOFTMAX_ROW_ITEMS * 3 + 5
        x = (rng.standard_normal((rows, length)) * 8).astype(np.float32)
        x[::5, ::3] = -np.inf
        x[1, 0] = np.nan
        x[2] = -np.inf
        x64 = x.astype(np.float64)
        with np.errstate(invalid="ignore"):
            m = x64.max(axis=1, keepdims=True)
            m = np.where(np.isnan(x64).any(axis=1, keepdims=True), np.nan, m)
            e = np.exp(x64 - m)
            s = e.sum(axis=1, keepdims=True)
            want = (e / s, x64 - m - np.log(s))
        for name, w in zip(("softmax", "log_softmax"), want):
            got = host(K, K[name](dev(K, x), 1))
            np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-5, err_msg=f"{name}, rows of {length}")


def test_strided_copy_tiles(K):
    """The tiled strided kernels: im2col-like windows, wide transposes, broadcasts, odd sizes."""
    x = rand((3, 5, 10, 10), "float32")
    X = dev(K, x)
    win = np.lib.stride_tricks.as_strided(x, (5, 3, 3, 3, 8, 8), (400, 40, 4, 2000, 40, 4))
    W = K["as_strided"](X, win.shape, (100, 10, 1, 500, 10, 1), 0)
    out = K["empty"](win.shape, dtypes.float32, 0)
    K["copy_"](out, W)
    check(host(K, out), win)
    for shape in [(300, 170), (1, 1000), (1000, 3), (65, 2, 129)]:
        a = rand(shape, "float64", seed=len(shape))
        AT = dev(K, np.ascontiguousarray(a.T))
        T = K["as_strided"](AT, shape, tuple(reversed(K["strides"](AT))), 0)  # a, transposed layout
        want = a
        check(host(K, K["cast"](T, dtypes.float64)), want)
        check(host(K, K["mul"](T, 2.0)), want * 2)
    b = rand((7, 1, 9), "int32")
    c = rand((1, 5, 1), "int32", seed=3)
    check(host(K, K["add"](dev(K, b), dev(K, c))), b + c)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_transposed_operands(K, ta, tb):
    for n, k, m in [(5, 7, 33), (13, 144, 17), (64, 9, 100), (3, 300, 40)]:
        for batch in [(), (3,), (2, 3)]:
            a = rand((*batch, n, k), "float32", seed=n)
            b = rand((*batch, k, m), "float32", seed=m)

            def view(x, t):
                if not t:
                    return dev(K, x)
                xt = np.ascontiguousarray(np.swapaxes(x, -1, -2))
                st = list(K["strides"](dev(K, xt)))
                st[-1], st[-2] = st[-2], st[-1]
                return K["as_strided"](dev(K, xt), x.shape, tuple(st), 0)

            for _ in range(2):  # the second call takes the cached launch plan
                got = host(K, K["matmul"](view(a, ta), view(b, tb)))
                check(got, a @ b, rtol=1e-4, atol=1e-3)
    # a batch of B whose dims do not merge into one stride (a permuted batch)
    b = rand((3, 2, 7, 4), "float32")
    B = K["as_strided"](dev(K, b), (2, 3, 7, 4), (28, 56, 4, 1), 0)
    a = rand((2, 3, 5, 7), "float32")
    check(host(K, K["matmul"](dev(K, a), B)), a @ b.transpose(1, 0, 2, 3), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("src", ALL)
def test_cast(K, src):
    a = rand((3, 5), src)
    if src in FLOATS:
        a = (a * 10).astype(src)
    for dst in ALL:
        with np.errstate(invalid="ignore", over="ignore"):
            want = a.astype(dst)
        if dst in INTS and src in FLOATS:  # C rules: out-of-range is undefined; compare in range only
            a_in = np.clip(a, 0 if dst == "uint8" else -100, 100).astype(src)
            want = a_in.astype(dst)
            got = host(K, K["cast"](strided(K, a_in), dtypes.as_dtype(dst)))
        else:
            got = host(K, K["cast"](strided(K, a), dtypes.as_dtype(dst)))
        check(got, want)


def test_cast_rules(K):
    x = dev(K, np.float32([-2.7, -0.5, 0.0, 0.3, 2.9]))
    check(host(K, K["cast"](x, dtypes.int32)), np.int32([-2, 0, 0, 0, 2]))
    check(host(K, K["cast"](x, dtypes.bool_)), np.array([True, True, False, True, True]))


# --------------------------------------------------------------------------------------------
# elementwise

UNARY = {
    "neg": np.negative,
    "abs": np.abs,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "trunc": np.trunc,
}


def _erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a).astype(a.dtype)


@pytest.mark.parametrize("dt", FLOATS)
def test_unary_float(K, dt):
    a = rand((3, 7), dt)
    pos = np.abs(a) + np.asarray(0.5, dt)
    for name, f in UNARY.items():
        src = pos if name in ("log", "sqrt") else a
        check(host(K, K[name](strided(K, src))), f(src))
        check(host(K, K[name](dev(K, src[0, 0]))), f(src[0, 0]))  # 0-d
    check(host(K, K["erf"](dev(K, a))), _erf(a))
    half = np.asarray([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], dt)
    check(host(K, K["round"](dev(K, half))), np.asarray([-2, -2, -0, 0, 2, 2], dt))
    check(host(K, K["exp"](dev(K, np.zeros((0, 3), dt)))), np.zeros((0, 3), dt))


@pytest.mark.parametrize("dt", INTS)
def test_unary_int(K, dt):
    a = rand((4, 5), dt)
    for name in ("neg", "abs", "floor", "ceil", "round", "trunc"):
        want = UNARY[name](a).astype(dt)
        check(host(K, K[name](strided(K, a))), want)


BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "eq": np.equal,
    "lt": np.less,
    "le": np.less_equal,
}


@pytest.mark.parametrize("dt", [d for d in ALL if d != "bool"])
def test_binary(K, dt):
    a = rand((3, 1, 4), dt, seed=1)
    b = rand((5, 4), dt, seed=2)
    b[0] = a[0, 0]  # some equal elements
    s = 3 if dt in INTS else 1.5
    for name, f in BINARY.items():
        with np.errstate(over="ignore"):
            check(host(K, K[name](strided(K, a), dev(K, b))), f(a, b))
            check(host(K, K[name](dev(K, a), s)), f(a, np.asarray(s, dt)))
            check(host(K, K[name](s, strided(K, b))), f(np.asarray(s, dt), b))
    if dt in FLOATS:
        bp = (np.abs(b) + 0.5).astype(dt)
        check(host(K, K["div"](strided(K, a), dev(K, bp))), a / bp)
        check(host(K, K["div"](2.0, dev(K, bp))), np.asarray(2.0, dt) / bp)
        ap = np.abs(a) + np.asarray(0.1, dt)
        check(
            host(K, K["pow"](dev(K, ap), dev(K, b))), np.power(ap, b), rtol=1e-4 if dt == "float32" else None
        )
        check(host(K, K["pow"](dev(K, a), 2.0)), a * a)
        nan = np.asarray([np.nan, 1, 2], dt)
        one = np.asarray([0, np.nan, 3], dt)
        check(host(K, K["maximum"](dev(K, nan), dev(K, one))), np.maximum(nan, one))
        check(host(K, K["minimum"](dev(K, nan), dev(K, one))), np.minimum(nan, one))
    else:
        e = rand((5, 4), dt, seed=3, low=0, high=4)
        with np.errstate(over="ignore"):
            check(host(K, K["pow"](dev(K, a), dev(K, e))), np.power(a, e))
        for name, f in (
            ("bitwise_and", np.bitwise_and),
            ("bitwise_or", np.bitwise_or),
            ("bitwise_xor", np.bitwise_xor),
        ):
            check(host(K, K[name](strided(K, a), dev(K, b))), f(a, b))
            check(host(K, K[name](dev(K, a), 6)), f(a, np.asarray(6, dt)))


def test_binary_bool_and_scalars_0d(K):
    a = rand((6,), "bool", seed=1)
    b = rand((6,), "bool", seed=2)
    for name, f in (
        ("bitwise_and", np.logical_and),
        ("bitwise_or", np.logical_or),
        ("bitwise_xor", np.logical_xor),
        ("eq", np.equal),
        ("maximum", np.maximum),
    ):
        check(host(K, K[name](dev(K, a), dev(K, b))), f(a, b))
    check(host(K, K["bitwise_and"](dev(K, a), True)), a)
    x = dev(K, np.float32(2.0))
    check(host(K, K["add"](x, dev(K, np.float32([1, 2])))), np.float32([3, 4]))
    check(host(K, K["mul"](x, 3.0)), np.float32(6.0))
    check(
        host(K, K["add"](dev(K, np.zeros((0, 4), np.int64)), dev(K, np.ones(4, np.int64)))),
        np.zeros((0, 4), np.int64),
    )


@pytest.mark.parametrize("dt", ["float32", "int64", "bool", "float16"])
def test_where(K, dt):
    c = rand((3, 1, 4), "bool")
    a = rand((5, 4), dt, seed=1)
    b = rand((4,), dt, seed=2)
    s = True if dt == "bool" else 7
    check(host(K, K["where"](strided(K, c), strided(K, a), dev(K, b))), np.where(c, a, b))
    check(host(K, K["where"](dev(K, c), s, dev(K, b))), np.where(c, np.asarray(s, dt), b))
    check(host(K, K["where"](dev(K, c), dev(K, a), s)), np.where(c, a, np.asarray(s, dt)))


# --------------------------------------------------------------------------------------------
# reductions

RED = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min}


@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "int64", "uint8", "float16"])
def test_reductions(K, dt):
    a = rand((3, 4, 5), dt, low=-2, high=3)
    cases = [(0,), (1,), (2,), (0, 2), (1, 2), (0, 1, 2)]
    for name, f in RED.items():
        for dims in cases:
            for keep in (False, True):
                with np.errstate(over="ignore"):
                    want = f(a, axis=dims, keepdims=keep).astype(dt)
                got = host(K, K[name](strided(K, a), dims, keep))
                check(got, want, rtol=1e-2 if dt == "float16" else None)


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_reductions_outer_and_inner_dims(K, dt):
    """Contiguous input reduced over its leading and trailing dims, a middle one kept (a
    convolution's bias gradient, dims (0, 2, 3)): the rows kernel, then the cols kernel."""
    cases = [
        ((64, 32, 8, 8), (0, 2, 3)),
        ((3, 5, 7), (0, 2)),
        ((2, 1, 4, 3, 5), (0, 3, 4)),  # a size-1 dim among the reduced ones
        ((700, 3, 2), (0, 2)),  # more than 512 rows for the cols pass: chunked
        ((2, 3, 40000), (0, 2)),  # long rows: chunked rows pass
    ]
    for shape, dims in cases:
        a = rand(shape, dt, low=-2, high=2)
        for name, f in RED.items():
            for keep in (False, True):
                with np.errstate(over="ignore", under="ignore"):
                    want = f(a.astype(np.float64), axis=dims, keepdims=keep)
                got = host(K, K[name](dev(K, a), dims, keep))
                assert got.shape == want.shape, (shape, dims, name)
                if name == "prod":  # products of thousands of factors: compare where finite
                    want = np.where(np.abs(want) < 1e30, want, got)
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3, err_msg=f"{name}{dims} of {shape}")
    n = np.ones((2, 3, 4), dt)
    n[1, 2, 3] = np.nan
    got = host(K, K["max"](dev(K, n), (0, 2), False))
    assert np.isnan(got[2]) and (got[:2] == 1).all()


def test_reduction_edge_cases(K):
    z = dev(K, np.zeros((3, 0, 2), np.float32))
    check(host(K, K["sum"](z, (1,), False)), np.zeros((3, 2), np.float32))
    check(host(K, K["prod"](z, (1,), True)), np.ones((3, 1, 2), np.float32))
    check(host(K, K["sum"](z, (0,), False)), np.zeros((0, 2), np.float32))
    x = dev(K, np.float32(4.0))
    check(host(K, x), np.float32(4.0))
    n = np.float32([1, np.nan, 3])
    assert np.isnan(host(K, K["max"](dev(K, n), (0,), False)))
    assert np.isnan(host(K, K["min"](dev(K, n), (0,), False)))
    b = np.array([[True, False], [False, False]])
    check(host(K, K["max"](dev(K, b), (1,), False)), np.array([True, False]))


@pytest.mark.parametrize("dt", ["float32", "int64", "float64"])
def test_large_reduction_two_stage(K, dt):
    a = rand((3, 50001), dt, low=0, high=3)
    check(host(K, K["sum"](dev(K, a), (0, 1), False)), a.sum().astype(dt), rtol=1e-5)
    check(host(K, K["sum"](dev(K, a), (1,), True)), a.sum(1, keepdims=True).astype(dt), rtol=1e-5)
    check(host(K, K["max"](strided(K, a), (1,), False)), a.max(1))
    check(host(K, K["min"](dev(K, a.T.copy()), (0,), False)), a.min(1))


@pytest.mark.parametrize("dt", ["float32", "int32", "bool", "float64"])
def test_argmax_argmin(K, dt):
    a = rand((4, 6, 5), dt, low=-3, high=3)  # many ties: first index wins
    for d in range(3):
        for keep in (False, True):
            check(host(K, K["argmax"](strided(K, a), d, keep)), np.argmax(a, axis=d, keepdims=keep))
            check(host(K, K["argmin"](strided(K, a), d, keep)), np.argmin(a, axis=d, keepdims=keep))
    if dt.startswith("float"):
        n = np.asarray([1, np.nan, 5, np.nan], dt)
        assert host(K, K["argmax"](dev(K, n), 0, False)) == 1
        assert host(K, K["argmin"](dev(K, n), 0, False)) == 1


@pytest.mark.parametrize("dt", ["float32", "int64", "float64"])
def test_cumsum(K, dt):
    a = rand((3, 4, 5), dt)
    for d in range(3):
        check(host(K, K["cumsum"](strided(K, a), d)), np.cumsum(a, axis=d).astype(dt))
    check(host(K, K["cumsum"](dev(K, np.zeros((0, 3), dt)), 1)), np.zeros((0, 3), dt))


# --------------------------------------------------------------------------------------------
# linear algebra, indexing, random


@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "float16", "int8"])
def test_matmul(K, dt):
    cases = [
        ((5, 7), (7, 3)),
        ((1, 1), (1, 1)),
        ((33, 65), (65, 17)),
        ((2, 1, 5, 7), (3, 7, 4)),
        ((4, 3, 2), (2, 6)),
    ]
    for sa, sb in cases:
        a = rand(sa, dt, seed=1, low=-3, high=3)
        b = rand(sb, dt, seed=2, low=-3, high=3)
        want = np.matmul(a.astype(np.float64), b.astype(np.float64))
        if dt in INTS:
            want = want.astype(np.int64).astype(dt)
        else:
            want = want.astype(dt)
        tol = {"float16": 5e-2, "float32": 1e-4}.get(dt)
        check(host(K, K["matmul"](dev(K, a), dev(K, b))), want, rtol=tol, atol=tol)
        check(host(K, K["matmul"](strided(K, a), strided(K, b))), want, rtol=tol, atol=tol)
    a = rand((6, 4), dt)
    bt = rand((5, 4), dt)
    B = K["as_strided"](dev(K, bt), (4, 5), (1, 4), 0)  # transposed view
    want = a.astype(np.float64) @ bt.T.astype(np.float64)
    want = want.astype(np.int64).astype(dt) if dt in INTS else want.astype(dt)
    check(
        host(K, K["matmul"](dev(K, a), B)),
        want,
        rtol=5e-2 if dt == "float16" else None,
        atol=5e-2 if dt == "float16" else None,
    )
    z = K["matmul"](dev(K, np.zeros((3, 0), dt)), dev(K, np.zeros((0, 4), dt)))
    check(host(K, z), np.zeros((3, 4), dt))


def test_matmul_large_float32(K):
    a = rand((130, 257), "float32", seed=3)
    b = rand((257, 200), "float32", seed=4)
    check(host(K, K["matmul"](dev(K, a), dev(K, b))), a @ b, rtol=1e-4, atol=1e-3)


def _np_gather(x, dim, index):
    return np.take_along_axis(x, index, axis=dim)


@pytest.mark.parametrize("dt", ["float32", "int64", "float16", "bool"])
def test_gather(K, dt):
    x = rand((4, 5, 3), dt)
    rng = np.random.default_rng(5)
    for dim in range(3):
        shape = [2, 3, 2]
        index = rng.integers(0, x.shape[dim], size=shape).astype(np.int64)
        # torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] (dim 0), index may be smaller
        want = np.empty(shape, dtype=x.dtype)
        for pos in np.ndindex(*shape):
            src = list(pos)
            src[dim] = index[pos]
            want[pos] = x[tuple(src)]
        check(host(K, K["gather"](strided(K, x), dim, strided(K, index))), want)
    idx = np.array([2, 0, 2], np.int64)
    check(host(K, K["gather"](dev(K, x[:, 0, 0]), 0, dev(K, idx))), x[:, 0, 0][idx])


@pytest.mark.parametrize("dt", ["float32", "int64", "int32", "float64", "uint8"])
def test_scatter_add(K, dt):
    x = rand((4, 5, 3), dt, low=0)
    rng = np.random.default_rng(7)
    for dim in range(3):
        shape = [3, 4, 2]
        index = rng.integers(0, x.shape[dim], size=shape).astype(np.int64)  # with duplicates
        src = rand(shape, dt, seed=dim, low=0)
        want = x.copy()
        for pos in np.ndindex(*shape):
            dst = list(pos)
            dst[dim] = index[pos]
            want[tuple(dst)] += src[pos]
        got = host(K, K["scatter_add"](strided(K, x), dim, strided(K, index), strided(K, src)))
        check(got, want)
    x1 = np.zeros(4, dt)
    idx = np.array([1, 1, 3, 1], np.int64)
    want = x1.copy()
    np.add.at(want, idx, np.ones(4, dt))
    check(host(K, K["scatter_add"](dev(K, x1), 0, dev(K, idx), dev(K, np.ones(4, dt)))), want)


def test_nonzero(K):
    a = rand((3, 4, 2), "int32", low=-1, high=2)
    check(host(K, K["nonzero"](strided(K, a))), np.argwhere(a).astype(np.int64))
    check(host(K, K["nonzero"](dev(K, np.zeros((2, 3), np.float32)))), np.zeros((0, 2), np.int64))
    check(host(K, K["nonzero"](dev(K, np.float32(3.0)))), np.zeros((1, 0), np.int64))
    check(host(K, K["nonzero"](dev(K, np.array([True, False, True])))), np.int64([[0], [2]]))


@pytest.mark.parametrize("dt", FLOATS)
def test_random(K, dt):
    d = dtypes.as_dtype(dt)
    u1 = host(K, K["uniform"]((1001,), d, 0, 42, 0))
    u2 = host(K, K["uniform"]((1001,), d, 0, 42, 0))
    u3 = host(K, K["uniform"]((1001,), d, 0, 42, 1001))
    u4 = host(K, K["uniform"]((1001,), d, 0, 43, 0))
    assert u1.dtype == np.dtype(dt)
    np.testing.assert_array_equal(u1, u2)
    assert not np.array_equal(u1, u3) and not np.array_equal(u1, u4)
    assert u1.min() >= 0 and u1.max() < 1
    assert abs(u1.astype(np.float64).mean() - 0.5) < 0.05
    n1 = host(K, K["normal"]((20000,), d, 0, 7, 3)).astype(np.float64)
    np.testing.assert_array_equal(n1, host(K, K["normal"]((20000,), d, 0, 7, 3)).astype(np.float64))
    assert np.isfinite(n1).all()
    assert abs(n1.mean()) < 0.05 and abs(n1.std() - 1) < 0.05
    assert host(K, K["normal"]((0, 3), d, 0, 7, 3)).shape == (0, 3)


def test_host_backed_readback_matches_transfer(be, K):
    """On a CPU device the pool's buffers live in host memory the device computes in; a readback
    with an idle queue copies from it, with work in flight it goes through a transfer."""
    import time

    d = be._devices[0].open()
    if not d.is_cpu:
        pytest.skip("host-backed buffers are only used on CPU OpenCL devices")
    assert d.pool.host_backed  # PoCL computes in the host memory it is given
    a = rand((300, 200), "float32", seed=21)
    b = rand((200, 300), "float32", seed=22)
    x, y = dev(K, a), dev(K, b)
    ref = a @ b
    np.testing.assert_allclose(host(K, K["matmul"](x, y)), ref, rtol=1e-5)  # in flight: transfer
    out = K["matmul"](x, y)
    be.synchronize(0)
    time.sleep(0.01)
    np.testing.assert_allclose(host(K, out), ref, rtol=1e-5)  # idle: host copy
    # views with offsets and strides, every dtype
    for dt in ALL:
        v = rand((6, 7), dt, seed=23)
        z = dev(K, v)
        be.synchronize(0)
        view = K["as_strided"](z, (3, 4), (14, 2), 3)
        np.testing.assert_array_equal(
            host(K, view),
            np.lib.stride_tricks.as_strided(v.ravel()[3:], (3, 4), (14 * v.itemsize, 2 * v.itemsize)),
        )


def test_every_command_is_recorded_for_host_readbacks():
    """A readback from host-backed memory trusts ``_Device.last``: every enqueue in the backend
    must go through ``_Device.launch``/``fill``/``upload``/``read``."""
    import ast

    import ember_opencl

    allowed = {"launch", "fill", "upload", "read", "host_memory_is_device_memory"}
    # ember.compile's launch lists enqueue back to back under the device lock and record their
    # last event in _Device.last themselves (checked below)
    records_last = {("compiled.py", "__call__")}
    pkg = Path(ember_opencl.__file__).parent
    offenders = []
    for path in sorted(pkg.glob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.Lambda)):
                continue
            enqueues = any(
                isinstance(n, ast.Call) and "enqueue" in getattr(n.func, "attr", getattr(n.func, "id", ""))
                for n in ast.walk(fn)
            )
            if (path.name, getattr(fn, "name", "")) in records_last and enqueues:
                assert any(
                    isinstance(t, ast.Attribute) and t.attr == "last"
                    for node in ast.walk(fn)
                    if isinstance(node, ast.Assign)
                    for t in node.targets
                ), f"{path.name}: {fn.name} enqueues without setting _Device.last"
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call):
                    f = node.func
                    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                    # (the backend's own _enqueue helper goes through launch)
                    if (
                        "enqueue" in name
                        and name != "_enqueue"
                        and getattr(fn, "name", "<lambda>") not in allowed
                    ):
                        offenders.append(
                            f"{path.name}:{node.lineno} {name} in {getattr(fn, 'name', 'lambda')}"
                        )
    assert not offenders, offenders


@pytest.mark.parametrize("n_extra", [0, 3])  # vector body only, and scalar tails
def test_float32_tanh_is_within_two_ulp(K, n_extra):
    x = np.concatenate(
        [
            np.linspace(-12, 12, 4096 + n_extra),
            [0.0, -0.0, 1e-30, -1e-8, 0.6249, 0.625, 0.6251, 9.0, 50.0, -50.0, np.inf, -np.inf, np.nan],
        ]
    ).astype(np.float32)
    got = host(K, K["tanh"](dev(K, x)))
    ref = np.tanh(x.astype(np.float64))
    fin = np.isfinite(ref)
    ulp = np.abs(got[fin] - ref[fin]) / np.spacing(np.abs(ref[fin]).astype(np.float32))
    assert ulp.max() <= 2.0
    assert np.isnan(got[-1]) and list(got[-3:-1]) == [1.0, -1.0]
    assert np.signbit(got[np.where(np.signbit(x) & (x == 0))[0][0]])  # tanh(-0.0) is -0.0
