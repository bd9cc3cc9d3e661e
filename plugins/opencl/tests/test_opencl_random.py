"""The OpenCL ``uniform`` kernel's numbers against a numpy Philox4x32-10 (counter: block index
low and high words, offset low and high words; key: the seed's words), bit for bit, for float32
and float64, across sizes that end inside a block and inside a work-item's run of blocks, and
seeds and offsets whose words carry; both generators give them: eight blocks at a time in vector
lanes (clang's vector conversions) and one block at a time (the fallback, forced here by
building with ``EMBER_STANDARD_MATH``)."""

from __future__ import annotations

import numpy as np
import pytest

try:
    import pyopencl as cl

    from ember_opencl import random

    CTX = cl.create_some_context(interactive=False)
    QUEUE = cl.CommandQueue(CTX)
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)

M32 = np.uint64(0xFFFFFFFF)


def _philox(blocks: int, seed: int, offset: int) -> np.ndarray:
    """(blocks, 4) uint32 words of Philox4x32-10, as the kernel counts and keys it."""
    g = np.arange(blocks, dtype=np.uint64)
    c = [g & M32, g >> np.uint64(32)]
    c += [np.full(blocks, offset & 0xFFFFFFFF, np.uint64), np.full(blocks, offset >> 32, np.uint64)]
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = c[0] * np.uint64(0xD2511F53)
        p1 = c[2] * np.uint64(0xCD9E8D57)
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & M32, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & M32]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & M32, (k1 + np.uint64(0xBB67AE85)) & M32
    return np.stack(c, axis=1).astype(np.uint32)


def _reference(dt: str, n: int, seed: int, offset: int) -> np.ndarray:
    per = 2 if dt == "float64" else 4
    r = _philox(-(-n // per), seed, offset).astype(np.uint64)
    if dt == "float64":
        hi = ((r[:, 0::2] << np.uint64(32)) | r[:, 1::2]) >> np.uint64(11)
        return (hi.astype(np.float64) * 2.0**-53).reshape(-1)[:n]
    return ((r >> np.uint64(8)).astype(np.float32) * np.float32(2.0**-24)).reshape(-1)[:n]


def _draw(dt: str, n: int, seed: int, offset: int, fallback: bool) -> np.ndarray:
    src, _sigs = random.gen_random_program(dt)
    prg = cl.Program(CTX, ("#define EMBER_STANDARD_MATH\n" if fallback else "") + src).build()
    out = np.empty(n, dt)
    buf = cl.Buffer(CTX, cl.mem_flags.WRITE_ONLY, out.nbytes)
    per = 2 if dt == "float64" else 4
    blocks = -(-n // per)
    items = -(-blocks // random.BLOCKS_PER_ITEM)
    args = [np.uint64(v) for v in (n, seed, offset, random.BLOCKS_PER_ITEM)]
    cl.Kernel(prg, "k_uniform")(QUEUE, (items,), (1,), buf, *args)
    cl.enqueue_copy(QUEUE, out, buf)
    return out


@pytest.mark.parametrize("fallback", [False, True], ids=["eight-lanes", "one-block"])
@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_uniform_equals_the_philox_reference_bitwise(dt: str, fallback: bool) -> None:
    if dt == "float64" and "cl_khr_fp64" not in CTX.devices[0].extensions:
        pytest.skip("the device has no float64")
    keys = [(0, 0), (42, 7), (2**64 - 1, 2**32 - 3), (0x123456789, 2**63 + 5)]
    per = 2 if dt == "float64" else 4
    sizes = [1, 5, 33, per * (8 * 3 + 5) + 1, per * random.BLOCKS_PER_ITEM * 2 + 7]
    for seed, offset in keys:
        for n in sizes:
            got = _draw(dt, n, seed, offset, fallback)
            want = _reference(dt, n, seed, offset)
            assert got.tobytes() == want.tobytes(), (dt, n, seed, offset)
