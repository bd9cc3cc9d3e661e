"""ember.array_api.fft against array_api_strict.fft: the same names, the standard's signatures
(``n``/``axis``/``norm``, ``s``/``axes``, ``axes`` for the shifts, ``d``/``dtype``/``device``) and
the same values, for complex and real inputs."""

from __future__ import annotations

import array_api_strict as xs
import ember
import ember.array_api as xp
import numpy as np
import pytest

RNG = np.random.default_rng(7)


def test_names_are_the_standards() -> None:
    assert sorted(xp.fft.__all__) == sorted(xs.fft.__all__)
    assert "fft" in xp.__all__


def close(e: ember.Tensor, s: object) -> None:
    want = np.asarray(s)
    got = e.numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        ("fft", {"n": 5, "axis": 0, "norm": "ortho"}),
        ("ifft", {"n": 11}),
        ("hfft", {"n": 7, "norm": "forward"}),
        ("irfft", {"axis": 0}),
        ("fftn", {"s": (3, 10), "axes": (0, 1)}),
        ("ifftn", {"axes": (1,), "norm": "ortho"}),
        ("irfftn", {"s": (4, 6), "axes": (0, 1)}),
    ],
)
def test_complex_input_functions(name: str, kw: dict) -> None:
    z = RNG.standard_normal((4, 8)) + 1j * RNG.standard_normal((4, 8))
    close(getattr(xp.fft, name)(ember.tensor(z), **kw), getattr(xs.fft, name)(xs.asarray(z), **kw))


@pytest.mark.parametrize(
    ("name", "kw"),
    [("rfft", {"n": 9}), ("ihfft", {"axis": 0}), ("rfftn", {"axes": (1, 0), "s": (6, 3)})],
)
def test_real_input_functions(name: str, kw: dict) -> None:
    r = RNG.standard_normal((4, 8))
    close(getattr(xp.fft, name)(xp.asarray(r), **kw), getattr(xs.fft, name)(xs.asarray(r), **kw))


def test_frequencies_and_shifts() -> None:
    close(xp.fft.fftfreq(7, d=0.5, dtype=xp.float64), xs.fft.fftfreq(7, d=0.5, dtype=xs.float64))
    close(xp.fft.rfftfreq(8, dtype=xp.float64), xs.fft.rfftfreq(8, dtype=xs.float64))
    assert xp.fft.fftfreq(4, device="cpu").dtype == xp.float32  # the default real floating dtype
    r = RNG.standard_normal((3, 5))
    close(xp.fft.fftshift(xp.asarray(r), axes=1), xs.fft.fftshift(xs.asarray(r), axes=1))
    close(xp.fft.ifftshift(xp.asarray(r)), xs.fft.ifftshift(xs.asarray(r)))
