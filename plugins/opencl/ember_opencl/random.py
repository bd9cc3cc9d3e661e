"""Random kernels ``uniform`` and ``normal``: Philox4x32-10 keyed by the seed, the counter made
of (element group, offset), so the numbers are a pure function of (seed, offset); normal values
by Box-Muller. With their code generator.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ._array import CLArray
from ._codegen import CTYPE, header, store
from ._launch import launch_nd, new_array
from ._signature import KernelSignature, Param, Program

__all__ = ["BLOCKS_PER_ITEM", "normal", "uniform"]

_MASK64 = (1 << 64) - 1


#: Philox blocks per work-item (a multiple of 8: the vector generator makes 8 at a time)
BLOCKS_PER_ITEM = 64


def _random(kind: str, dev: Any, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> CLArray:
    out = new_array(dev, shape, dtype)
    n = out.size
    if n == 0:
        return out
    per = 2 if dtype.name == "float64" else 4  # elements per Philox block
    knl = dev.program(("random", dtype.name), gen_random_program, dtype.name)[kind]
    args = random_signature(kind, dtype.name).pack(
        out.alloc.buf, n, int(seed) & _MASK64, int(offset) & _MASK64, BLOCKS_PER_ITEM
    )
    blocks = -(-n // per)
    launch_nd(dev, knl, args, (-(-blocks // BLOCKS_PER_ITEM),), (1,))
    return out


def uniform(dev: Any, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> CLArray:
    """Kernel ``uniform`` on device ``dev``: floats in [0, 1), a pure function of (seed, offset)."""
    return _random("uniform", dev, shape, dtype, seed, offset)


def normal(dev: Any, shape: tuple[int, ...], dtype: Any, seed: int, offset: int) -> CLArray:
    """Kernel ``normal`` on device ``dev``: standard normal floats, a pure function of (seed, offset)."""
    return _random("normal", dev, shape, dtype, seed, offset)


# ----------------------------------------------------------------------------------------------
# code generation

# the eight blocks' words out of the lanes, in block order
_WORDS = "\n".join(f"    rr[{4 * j + m}] = c{m}.s{j};" for j in range(8) for m in range(4))
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
/* Eight blocks at once, block g0 + j in lane j (the words of block g0 + j go to rr[4j .. 4j + 3]):
   the same rounds on 8-lane vectors, the 32 x 32 -> 64-bit products as vector multiplies. Written
   with clang's __builtin_convertvector (PoCL's convert_ builtins are calls); a compiler without
   it makes the blocks one at a time (EMBER_PHILOX8 0). */
#if !defined(EMBER_STANDARD_MATH) && __has_builtin(__builtin_convertvector)
#define EMBER_PHILOX8 1
void philox8_(ulong g0, uint olo, uint ohi, uint2 k, uint *rr) {
    ulong8 g = (ulong8)(g0) + (ulong8)(0, 1, 2, 3, 4, 5, 6, 7);
    uint8 c0 = __builtin_convertvector(g, uint8), c1 = __builtin_convertvector(g >> 32, uint8);
    uint8 c2 = (uint8)(olo), c3 = (uint8)(ohi);
    uint k0 = k.x, k1 = k.y;
    for (int r = 0; r < 10; ++r) {
        ulong8 p0 = __builtin_convertvector(c0, ulong8) * (ulong8)PHILOX_M0;
        ulong8 p1 = __builtin_convertvector(c2, ulong8) * (ulong8)PHILOX_M1;
        uint8 n0 = __builtin_convertvector(p1 >> 32, uint8) ^ c1 ^ (uint8)(k0);
        uint8 n2 = __builtin_convertvector(p0 >> 32, uint8) ^ c3 ^ (uint8)(k1);
        c1 = __builtin_convertvector(p1, uint8);
        c3 = __builtin_convertvector(p0, uint8);
        c0 = n0; c2 = n2;
        k0 += PHILOX_W0; k1 += PHILOX_W1;
    }
@WORDS@
}
#else
#define EMBER_PHILOX8 0
#endif
""".replace("@WORDS@", _WORDS)


def gen_random_program(dt: str) -> Program:
    """uniform/normal: Philox4x32-10 with counter (block lo, block hi, offset lo, offset hi), key
    seed.

    Block g gives elements 4g..4g+3 (float16/32) or 2g..2g+1 (float64); a work-item makes
    ``per_item`` consecutive blocks, eight at a time where the compiler has clang's vector
    conversions (``philox8_``: on PoCL 5x faster than a block per work-item, 0.5 against 2.7 ms
    for 524K float32), else one at a time; the numbers are the same either way. Normal:
    Box-Muller.
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
    ulong blocks = (n + {per - 1}) / {per};
    ulong b0 = get_global_id(0) * per_item;
    ulong b1 = min(b0 + per_item, blocks);
    uint2 k = (uint2)((uint)seed, (uint)(seed >> 32));
    uint olo = (uint)offset, ohi = (uint)(offset >> 32);
#if EMBER_PHILOX8
    uint rr[32];
    for (ulong g0 = b0; g0 < b1; g0 += 8) {{
        philox8_(g0, olo, ohi, k, rr);
        for (int j = 0; j < 8 && g0 + j < b1; ++j) {{
            ulong g = g0 + j;
            uint4 r = (uint4)(rr[4 * j], rr[4 * j + 1], rr[4 * j + 2], rr[4 * j + 3]);
            BLOCK
        }}
    }}
#else
    for (ulong g = b0; g < b1; ++g) {{
        uint4 r = philox4x32_10((uint4)((uint)g, (uint)(g >> 32), olo, ohi), k);
        BLOCK
    }}
#endif
}}
"""

    def block(values: list[str], post: str = "") -> str:
        body = f"{ct} u[{per}]; " + " ".join(f"u[{q}] = {v};" for q, v in enumerate(values)) + post
        stores = f"for (int q = 0; q < {per}; ++q) if (g * {per} + q < n) {{ {store(dt, 'out', f'g * {per} + q', 'u[q]')} }}"
        return "{ " + body + " " + stores + " }"

    sigs = [random_signature(name, dt) for name in ("uniform", "normal")]
    two_pi = "6.283185307179586" + ("" if ct == "double" else "f")
    box_muller = "".join(
        f" {{ {ct} rad = sqrt(-2 * log(1 - u[{q}])); {ct} th = {two_pi} * u[{q + 1}];"
        f" u[{q}] = rad * cos(th); u[{q + 1}] = rad * sin(th); }}"
        for q in range(0, per, 2)
    )
    uni_src = sigs[0].declaration() + head.replace("BLOCK", block(uni))
    norm_src = sigs[1].declaration() + head.replace("BLOCK", block(nuni, box_muller))
    return header(dt) + _PHILOX + uni_src + norm_src, sigs


@cache
def random_signature(name: str, dt: str) -> KernelSignature:
    """Parameters of ``uniform``/``normal``: the output, its element count, the seed, the
    counter offset and the Philox blocks per work-item (64-bit each)."""
    params = (
        Param("out", f"__global {CTYPE[dt]}*"),
        Param("n", "ulong"),
        Param("seed", "ulong"),
        Param("offset", "ulong"),
        Param("per_item", "ulong"),
    )
    return KernelSignature(name, params)
