"""The cpu backend's uniform float32 draws (:mod:`ember_cpu.random`): a C loop of numpy's Philox,
bit for bit numpy's numbers for every seed, offset (the counter's carries included) and size,
through the backend's kernel too; other kinds and dtypes, and no native code, take numpy's."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.array_backend import numpy_random_bits
from ember_cpu import native
from ember_cpu.random import cpu_random_bits

SEEDS = [0, 1, 12345, 2**63 + 7, 2**64 - 1]
OFFSETS = [0, 4, 8, 1000, 2**40, 2**62, (2**64 - 1) * 4]  # the last: the counter's low word carries
SHAPES = [(1,), (7,), (8,), (9,), (3, 5), (64, 64), (2, 3, 5, 7), (0,)]


@pytest.mark.skipif(
    native.library() is None, reason=f"the native loops are not available here: {native.status()}"
)
@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_float32_is_numpys_philox_bit_for_bit(seed: int) -> None:
    for offset in OFFSETS:
        for shape in SHAPES:
            want = numpy_random_bits("uniform", shape, np.float32, 0, seed, offset)
            got = cpu_random_bits("uniform", shape, np.float32, 0, seed, offset)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert got.tobytes() == want.tobytes(), (seed, offset, shape)


def test_the_backend_draws_with_it() -> None:
    g = ember.Generator("cpu", seed=9)
    got = ember.rand(5, 6, generator=g).numpy()
    want = numpy_random_bits("uniform", (5, 6), np.float32, 0, 9, 0)
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize(
    "kind,dtype", [("uniform", np.float64), ("uniform", np.float16), ("normal", np.float32)]
)
def test_other_draws_are_numpys(kind: str, dtype: type) -> None:
    got = cpu_random_bits(kind, (4, 9), dtype, 0, 3, 8)
    assert got.tobytes() == numpy_random_bits(kind, (4, 9), dtype, 0, 3, 8).tobytes()


def test_without_native_code_numpy_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "library", lambda: None)
    got = cpu_random_bits("uniform", (33,), np.float32, 0, 4, 12)
    assert got.tobytes() == numpy_random_bits("uniform", (33,), np.float32, 0, 4, 12).tobytes()
