"""ember.fft against torch.fft: values of every function (norms, n padding and trimming, dims, s),
result dtypes, gradients of complex and real inputs against torch's autograd, and the errors.
Each transform test runs on cpu with numpy's ``fft_c2c`` kernel and again with it removed (core's
composite, what every device without the kernel runs); the composite's own plans (dense, radix
steps, Bluestein) are compared with numpy over many lengths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ember
import numpy as np
import pytest
from torch_required import require_torch

torch = require_torch()
F = ember.fft
RNG = np.random.default_rng(14)


@pytest.fixture(params=["kernel", "composite"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test with cpu's ``fft_c2c`` kernel, and again with it removed (the composite runs)."""
    kernels = ember.device("cpu").kernels
    assert "fft_c2c" in kernels, "the cpu backend lacks the fft_c2c kernel"
    if request.param == "kernel":
        yield "kernel"
        return
    saved = kernels.pop("fft_c2c")
    try:
        yield "composite"
    finally:
        kernels["fft_c2c"] = saved


def cplx(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def same(e: Any, t: Any, tol: float = 1e-10) -> None:
    got = e.detach().numpy()
    want = t.detach().resolve_conj().numpy()
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


ONE_D = [  # (n, dim, norm)
    (None, -1, None),
    (5, -1, "ortho"),  # trims 8 -> 5
    (11, 0, "forward"),  # pads 6 -> 11
    (None, 1, "backward"),
    (1, -1, None),
]


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"])
def test_one_dim_transforms_match_torch(path: str, name: str) -> None:
    e_fn, t_fn = getattr(F, name), getattr(torch.fft, name)
    real_in = name in ("rfft", "ihfft")
    for n, dim, norm in ONE_D:
        a = RNG.standard_normal((6, 8)) if real_in else cplx(6, 8)
        if name in ("irfft", "hfft") and n == 1:
            n = 2  # 1 output point is valid, but say it with an even length too
        same(e_fn(ember.tensor(a), n, dim, norm), t_fn(torch.from_numpy(a), n, dim, norm))
    if not real_in:  # real inputs are promoted to complex
        a = RNG.standard_normal((3, 7))
        same(e_fn(ember.tensor(a), 9), t_fn(torch.from_numpy(a), 9))


@pytest.mark.parametrize(
    "name",
    [
        "fftn",
        "ifftn",
        "rfftn",
        "irfftn",
        "hfftn",
        "ihfftn",
        "fft2",
        "ifft2",
        "rfft2",
        "irfft2",
        "hfft2",
        "ihfft2",
    ],
)
def test_n_dim_transforms_match_torch(path: str, name: str) -> None:
    e_fn, t_fn = getattr(F, name), getattr(torch.fft, name)
    real_in = name.startswith(("rfft", "ihfft"))
    cases: list[dict[str, Any]] = [
        {},
        {"s": (3, 10)},
        {"dim": (0, 2), "norm": "ortho"},
        {"s": (4, -1), "dim": (2, 0)},
    ]
    for kw in cases:
        a = RNG.standard_normal((4, 3, 6)) if real_in else cplx(4, 3, 6)
        same(e_fn(ember.tensor(a), **kw), t_fn(torch.from_numpy(a), **kw))


def test_result_dtypes_follow_torch(path: str) -> None:
    i = np.arange(8, dtype=np.int64)
    same(F.fft(ember.tensor(i)), torch.fft.fft(torch.from_numpy(i)), 1e-5)  # int -> complex64
    same(F.rfft(ember.tensor(i)), torch.fft.rfft(torch.from_numpy(i)), 1e-5)
    f = RNG.standard_normal(10).astype(np.float32)
    same(F.ifft(ember.tensor(f), norm="ortho"), torch.fft.ifft(torch.from_numpy(f), norm="ortho"), 1e-5)
    z = cplx(5).astype(np.complex64)
    same(F.irfft(ember.tensor(z)), torch.fft.irfft(torch.from_numpy(z)), 1e-5)  # complex64 -> float32
    same(F.hfft(ember.tensor(z), 7), torch.fft.hfft(torch.from_numpy(z), 7), 1e-5)


def test_frequencies_and_shifts_match_torch() -> None:
    for n, d in ((1, 1.0), (6, 0.5), (7, 2.0)):
        same(F.fftfreq(n, d), torch.fft.fftfreq(n, d))
        same(F.rfftfreq(n, d, dtype=ember.float64), torch.fft.rfftfreq(n, d, dtype=torch.float64))
    a = RNG.standard_normal((4, 5, 3))
    for dim in (None, 1, (0, 2)):
        same(F.fftshift(ember.tensor(a), dim), torch.fft.fftshift(torch.from_numpy(a), dim))
        same(F.ifftshift(ember.tensor(a), dim), torch.fft.ifftshift(torch.from_numpy(a), dim))


GRAD_CASES = [  # (name, real input, kwargs)
    ("fft", False, {"n": 7}),
    ("ifft", False, {"norm": "ortho"}),
    ("rfft", True, {"n": 9}),
    ("irfft", False, {"n": 8}),  # the zero and Nyquist bins' imaginary parts get no gradient
    ("hfft", False, {"n": 7, "norm": "forward"}),
    ("ihfft", True, {}),
    ("fftn", False, {"s": (3, 4)}),
    ("rfftn", True, {"dim": (0, 1)}),
    ("irfftn", False, {"s": (4, 6)}),
    ("hfftn", False, {"s": (2, 7), "norm": "ortho"}),
    ("ihfft2", True, {}),
]


@pytest.mark.parametrize(("name", "real_in", "kw"), GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_torch(path: str, name: str, real_in: bool, kw: dict[str, Any]) -> None:
    a = RNG.standard_normal((3, 5)) if real_in else cplx(3, 5)
    x = ember.tensor(a, requires_grad=True)
    tx = torch.from_numpy(a).requires_grad_(True)
    y, ty = getattr(F, name)(x, **kw), getattr(torch.fft, name)(tx, **kw)
    w = cplx(*ty.shape) if ty.is_complex() else RNG.standard_normal(ty.shape)
    y.backward(ember.tensor(w))
    ty.backward(torch.from_numpy(w))
    same(x.grad, tx.grad)


def test_gradcheck_with_complex_input(path: str) -> None:
    x = ember.tensor(cplx(2, 6), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: F.fft(t, 5, norm="ortho"), (x,))
    r = ember.tensor(RNG.standard_normal((2, 6)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: F.ihfft(t, 7), (r,))


def test_errors_name_the_op_and_value() -> None:
    z, r = ember.tensor(cplx(3, 4)), ember.tensor(RNG.standard_normal((3, 4)))
    cases = [
        (lambda: F.fft(z, 0), ValueError, r"fft.fft: n must be an int >= 1 .* got 0"),
        (
            lambda: F.ifft(z, dim=2),
            IndexError,
            r"fft.ifft: dim 2 is out of range for a 2-d input \(expected -2 .. 1\)",
        ),
        (lambda: F.fft(ember.tensor(1.0)), IndexError, r"fft.fft: a 0-d input has no dim -1"),
        (lambda: F.rfft(z), TypeError, r"fft.rfft: input must be real, got complex128; use fft.fft"),
        (lambda: F.ihfft(z), TypeError, r"fft.ihfft: input must be real, got complex128"),
        (
            lambda: F.fft(z, norm="half"),
            ValueError,
            r"fft.fft: norm must be 'backward', 'ortho', 'forward' or None, got 'half'",
        ),
        (
            lambda: F.irfft(z[:, :1]),
            ValueError,
            r"fft.irfft: an input of length 1 along dim -1 gives n = 0 output points; pass n >= 1",
        ),
        (
            lambda: F.fftn(z, s=(2, 2), dim=(0,)),
            ValueError,
            r"fft.fftn: s \(2, 2\) and dim \(0,\) must have the same length",
        ),
        (lambda: F.fft2(z, dim=(0, -2)), ValueError, r"fft.fft2: dim \(0, -2\) repeats a dim"),
        (lambda: F.rfftn(r, s=(3, 0)), ValueError, r"fft.rfftn: s\[1\] must be an int >= 1 .* got 0"),
        (lambda: F.fft(r.half()), TypeError, r"fft.fft: float16 input is not supported; cast it to float32"),
        (lambda: F.fftfreq(0), ValueError, r"fft.fftfreq: n must be an int >= 1 .* got 0"),
        (lambda: F.fftshift(r, 3), IndexError, r"fft.fftshift: dim 3 is out of range for a 2-d input"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()


def test_composite_plans_match_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The composite over lengths that take each plan: dense (<= 16), radix steps of 2..16 (also
    nested), dense primes, and Bluestein (its threshold lowered so short primes take it)."""
    from ember.fft import _dft

    monkeypatch.setattr(_dft, "PRIME_DENSE_MAX", 20)
    plans = set()
    for n in (1, 2, 3, 7, 16, 17, 19, 32, 34, 45, 48, 96, 100, 23, 46, 29 * 3, 31 * 31, 1024):
        plans.add(str(_dft._plan(n)) if isinstance(_dft._plan(n), str) else "radix")
        z = cplx(2, n)
        x = ember.tensor(np.stack([z.real, z.imag], -1))
        for inverse in (False, True):
            got = _dft._c2c_composite(x, 1, inverse).numpy()
            want = np.fft.ifft(z, axis=1) * n if inverse else np.fft.fft(z, axis=1)
            np.testing.assert_allclose(got[..., 0] + 1j * got[..., 1], want, rtol=1e-9, atol=1e-9 * n)
    assert plans == {"dense", "radix", "bluestein"}


def test_every_function_has_a_record() -> None:
    """Every function of ember.fft is proved by an op record (so the kit runs it on every device)."""
    from ember.ops.records import load_all

    proved = {name for rec in load_all().values() for name in rec.public_names()}
    names = [n for n in F.__all__ if n != "array_kernels"]
    assert [n for n in names if f"fft.{n}" not in proved] == []


def test_opencl_public_functions_match_torch() -> None:
    """The public functions on opencl (the Stockham kernel and complex tensors there)."""
    try:
        ember.device("opencl")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no opencl device: {exc}")
    a = cplx(4, 12)
    x = ember.tensor(a, device="opencl", requires_grad=True)
    tx = torch.from_numpy(a).requires_grad_(True)
    same(F.fft(x, 10, norm="ortho").to("cpu"), torch.fft.fft(tx, 10, norm="ortho"))
    same(F.irfftn(x, s=(3, 9)).to("cpu"), torch.fft.irfftn(tx, s=(3, 9)))
    y, ty = F.rfft2(x.real), torch.fft.rfft2(tx.real)
    same(y.to("cpu"), ty)
    w = cplx(*ty.shape)
    y.backward(ember.tensor(w, device="opencl"))
    ty.backward(torch.from_numpy(w))
    same(x.grad.to("cpu"), tx.grad)
