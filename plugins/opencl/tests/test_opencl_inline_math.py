"""The inline math of :mod:`ember_opencl._codegen`. The macros (``ember_fabs_`` ...
``ember_sqrt_``) and the vector square roots: clang's builtins where the compiler has them, the
standard OpenCL builtins where it does not (the header's fallback, forced here by defining
``EMBER_STANDARD_MATH``); both give numpy's values bit for bit on special values (NaN,
infinities, signed zeros, halves, denormals, large values), as scalars and as vector lanes. The
float32 logarithm's polynomial (``vlog_``): within 1 ulp of float64's."""

from __future__ import annotations

import numpy as np
import pytest

try:
    import pyopencl as cl

    from ember_opencl import _codegen as cg

    CTX = cl.create_some_context(interactive=False)
    QUEUE = cl.CommandQueue(CTX)
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

UNARY = {
    "ember_fabs_": np.abs,
    "ember_floor_": np.floor,
    "ember_ceil_": np.ceil,
    "ember_trunc_": np.trunc,
    "ember_rint_": np.rint,
}


def _values(dt: str) -> np.ndarray:
    t = np.dtype(dt)
    tiny = np.finfo(t).tiny
    special = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 2.5, 3.49, -7.7]
    special += [tiny / 4, -tiny / 3, 1e30, -3e38 if dt == "float32" else -1e300, 2.0**23 + 0.5, 2.0**52]
    rng = np.random.default_rng(0)
    vals = np.concatenate([np.asarray(special, t), (rng.standard_normal(48) * 100).astype(t)])
    return vals[: len(vals) // 8 * 8]  # whole vectors


def _run(dt: str, fallback: bool) -> dict[str, np.ndarray]:
    t = cg.CTYPE[dt]
    w = 8 if dt == "float32" else 4
    sqrt, vsqrt = ("ember_sqrtf_", "vsqrt_") if dt == "float32" else ("ember_sqrt_", "vsqrtd_")
    names = [*UNARY, sqrt]
    body = "\n".join(f"    out[{k} * n + i] = {name}(x[i]);" for k, name in enumerate(names))
    vbody = "\n".join(
        f"    vstore{w}({name}(v), i, out + {k} * n);" for k, name in enumerate([*UNARY, vsqrt], len(names))
    )
    src = (
        ("#define EMBER_STANDARD_MATH\n" if fallback else "")
        + cg.header(dt)
        + f"""
__kernel void scalar(__global {t}* out, __global const {t}* x, int n) {{
    int i = get_global_id(0);
{body}
}}
__kernel void vector(__global {t}* out, __global const {t}* x, int n) {{
    int i = get_global_id(0);
    {t}{w} v = vload{w}(i, x);
{vbody}
}}
"""
    )
    prg = cl.Program(CTX, src).build()
    x = _values(dt)
    n = len(x)
    mf = cl.mem_flags
    xb = cl.Buffer(CTX, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=x)
    out = np.empty(2 * len(names) * n, x.dtype)
    ob = cl.Buffer(CTX, mf.WRITE_ONLY, out.nbytes)
    cl.Kernel(prg, "scalar")(QUEUE, (n,), None, ob, xb, np.int32(n))
    cl.Kernel(prg, "vector")(QUEUE, (n // w,), None, ob, xb, np.int32(n))
    cl.enqueue_copy(QUEUE, out, ob)
    got = out.reshape(2 * len(names), n)
    refs = [*UNARY.values(), np.sqrt]
    result = {}
    for k, ref in enumerate(refs):
        result[f"{names[k]} scalar"] = (got[k], ref, x)
        result[f"{names[k]} vector"] = (got[len(names) + k], ref, x)
    return result


@pytest.mark.parametrize("fallback", [False, True], ids=["builtins", "fallback"])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_inline_math_equals_numpy_bitwise(dt: str, fallback: bool) -> None:
    dev = CTX.devices[0]
    if dt == "float64" and "cl_khr_fp64" not in dev.extensions:
        pytest.skip("the device has no float64")
    for what, (got, ref, x) in _run(dt, fallback).items():
        with np.errstate(invalid="ignore"):
            want = ref(x)
        same = (got.view(f"u{x.itemsize}") == want.view(f"u{x.itemsize}")) | (np.isnan(got) & np.isnan(want))
        assert same.all(), f"{what} ({dt}): {x[~same]} -> {got[~same]}, numpy {want[~same]}"


def test_float32_log_within_one_ulp() -> None:
    """float32 ``log`` (``vlog_``: Cephes logf on 8 lanes; ``slog_`` its scalar form) as the eager
    kernel (vector body and scalar tail) and inside a fused chain: within 1 ulp of the float64
    logarithm from denormals to the largest float, exact at 1, and log(0) = -inf, log(-0) = -inf,
    log(inf) = inf, log(x < 0) = log(nan) = nan."""
    import ember

    import ember_opencl

    dev = ember.device("opencl")
    rng = np.random.default_rng(1)
    special = [0.0, -0.0, 1.0, 2.0, 0.5, np.inf, -np.inf, np.nan, -1.0, 1e-45, 1e-40, 1.1754944e-38]
    special += [3.4e38, 0.70710677, 0.70710683, 1.4142135, 1 - 2**-24, 1 + 2**-23]
    vals = np.concatenate(
        [
            np.asarray(special, np.float32),
            np.exp(rng.uniform(-103, 88, 40000)).astype(np.float32),
            rng.uniform(0.5, 2, 20000).astype(np.float32),
            (rng.uniform(0, 1, 5003) * 1e-38).astype(np.float32),  # denormals; a partial tail
        ]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log(vals.astype(np.float64))
    finite = np.isfinite(want)
    previous = ember_opencl.set_fusion("off")
    try:
        eager = ember.tensor(vals, device=dev).log().numpy()
        ember_opencl.set_fusion("always")
        fused = (ember.tensor(vals, device=dev).log() * 1.0 + 0.0).numpy()
    finally:
        ember_opencl.set_fusion(previous)
    for got in (eager, fused):
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert np.array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
        ulp = np.spacing(np.abs(want[finite]).astype(np.float32)).astype(np.float64)
        err = np.abs(got[finite] - want[finite]) / ulp
        assert err.max() <= 1.0, vals[finite][err.argmax()]
        assert got[vals == 1.0][0] == 0.0
