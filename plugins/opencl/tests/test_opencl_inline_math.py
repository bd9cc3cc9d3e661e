"""The inline math macros of :mod:`ember_opencl._codegen` (``ember_fabs_`` ... ``ember_sqrt_``
and the vector square roots): clang's builtins where the compiler has them, the standard OpenCL
builtins where it does not (the header's fallback, forced here by defining
``EMBER_STANDARD_MATH``). Both give numpy's values bit for bit on special values (NaN, infinities, signed zeros,
halves, denormals, large values), as scalars and as vector lanes."""

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
