"""Random kernels ``uniform`` and ``normal``: Philox4x32-10 keyed by the seed, the counter made
of (element group, offset), so the numbers are a pure function of (seed, offset); normal values
by Box-Muller. With their code generator.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ._array import CLArray
from ._codegen import CTYPE, header, store
from ._launch import launch_1d, new_array
from ._signature import KernelSignature, Param, Program

__all__ = ["normal", "uniform"]

_MASK64 = (1 << 64) - 1


def _random(kind: str, dev: Any, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> CLArray:
    out = new_array(dev, shape, dtype)
    n = out.size
    if n == 0:
        return out
    per = 2 if dtype.name == "float64" else 4  # elements per work-item
    knl = dev.program(("random", dtype.name), gen_random_program, dtype.name)[kind]
    args = random_signature(kind, dtype.name).pack(
        out.alloc.buf, n, int(seed) & _MASK64, int(offset) & _MASK64
    )
    launch_1d(dev, knl, args, -(-n // per), 64)
    return out


def uniform(dev: Any, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> CLArray:
    """Kernel ``uniform`` on device ``dev``: floats in [0, 1), a pure function of (seed, offset)."""
    return _random("uniform", dev, shape, dtype, seed, offset)


def normal(dev: Any, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> CLArray:
    """Kernel ``normal`` on device ``dev``: standard normal floats, a pure function of (seed, offset)."""
    return _random("normal", dev, shape, dtype, seed, offset)


# ----------------------------------------------------------------------------------------------
# code generation

_PHILOX = """
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int r = 0; r < 10; ++r) {
        ulong p0 = (ulong)PHILOX_M0 * c.x;
        ulong p1 = (ulong)PHILOX_M1 * c.z;
        c = (uint4)((uint)(p1 >> 32) ^ c.y ^ k.x, (uint)p1, (uint)(p0 >> 32) ^ c.w ^ k.y, (uint)p0);
        k.x += PHILOX_W0; k.y += PHILOX_W1;
    }
    return c;
}
"""


def gen_random_program(dt: str) -> Program:
    """uniform/normal: Philox4x32-10 with counter (group lo, group hi, offset lo, offset hi), key seed.

    Work-item g produces elements 4g..4g+3 (float16/32) or 2g..2g+1 (float64). Normal: Box-Muller.
    """
    if dt == "float64":
        per = 2
        uni = [
            "(double)((((ulong)r.x << 32) | r.y) >> 11) * 0x1.0p-53",
            "(double)((((ulong)r.z << 32) | r.w) >> 11) * 0x1.0p-53",
        ]
        nuni = uni
        ct = "double"
    else:
        per = 4
        nuni = [f"(float)(r.{c} >> 8) * 0x1.0p-24f" for c in "xyzw"]
        # float16: 11 random bits, exactly representable, so rounding can never give 1.0
        uni = [f"(float)(r.{c} >> 21) * 0x1.0p-11f" for c in "xyzw"] if dt == "float16" else nuni
        if dt == "bfloat16":  # 8 bits, for the same reason
            uni = [f"(float)(r.{c} >> 24) * 0x1.0p-8f" for c in "xyzw"]
        ct = "float"
    head = f""" {{
    ulong g = get_global_id(0);
    if (g * {per} >= n) return;
    uint4 r = philox4x32_10((uint4)((uint)g, (uint)(g >> 32), (uint)offset, (uint)(offset >> 32)),
                            (uint2)((uint)seed, (uint)(seed >> 32)));
    {ct} u[{per}];
"""
    tail = (
        f"    for (int q = 0; q < {per}; ++q) if (g * {per} + q < n) "
        f"{{ {store(dt, 'out', f'g * {per} + q', 'u[q]')} }}\n}}\n"
    )
    sigs = [random_signature(name, dt) for name in ("uniform", "normal")]
    uni_src = sigs[0].declaration() + head
    for q in range(per):
        uni_src += f"    u[{q}] = {uni[q]};\n"
    uni_src += tail
    two_pi = "6.283185307179586" + ("" if ct == "double" else "f")
    norm_src = sigs[1].declaration() + head
    for q in range(per):
        norm_src += f"    u[{q}] = {nuni[q]};\n"
    for q in range(0, per, 2):
        norm_src += (
            f"    {{ {ct} rad = sqrt(-2 * log(1 - u[{q}])); {ct} th = {two_pi} * u[{q + 1}];\n"
            f"      u[{q}] = rad * cos(th); u[{q + 1}] = rad * sin(th); }}\n"
        )
    norm_src += tail
    return header(dt) + _PHILOX + uni_src + norm_src, sigs


@cache
def random_signature(name: str, dt: str) -> KernelSignature:
    """Parameters of ``uniform``/``normal``: the output, its element count, the seed and the
    counter offset (64-bit each)."""
    params = (
        Param("out", f"__global {CTYPE[dt]}*"),
        Param("n", "ulong"),
        Param("seed", "ulong"),
        Param("offset", "ulong"),
    )
    return KernelSignature(name, params)
