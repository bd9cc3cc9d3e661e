"""``ember.fft``: PyTorch's ``torch.fft`` on every device.

Every transform reduces to one unnormalized complex DFT along one axis (:func:`ember.fft._dft.c2c`),
on complex values held as ``(real, imag)`` pairs in a trailing dim of 2. A device with the optional
kernel ``fft_c2c`` runs it (numpy and CuPy through their ``fft`` modules, the OpenCL plugin's
Stockham kernel); every other device runs core's composite (Cooley-Tukey steps of matmuls, dense
DFT matmuls, Bluestein for large prime factors), on the device. Around it, in core and with
existing ops: promotion (integers to the default float dtype, real inputs to complex), padding or
trimming to ``n``, the Hermitian extension of ``irfft``/``hfft``, and the scaling of ``norm``:

* ``"backward"`` (the default): the forward transform unscaled, the inverse scaled by ``1/n``;
* ``"ortho"``: both scaled by ``1/sqrt(n)``;
* ``"forward"``: the forward scaled by ``1/n``, the inverse unscaled.

Gradients are those of PyTorch (for complex tensors, the conjugate Wirtinger convention): each
function is a real-linear map of the pairs, differentiated through the transform's own backward
(the transform in the other direction) and the ops around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import dtypes as _dt
from ..ops._core import Tensor
from ._dft import array_kernels, c2c

__all__ = [
    "array_kernels",
    "fft",
    "fft2",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "hfft2",
    "hfftn",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "ihfft",
    "ihfft2",
    "ihfftn",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftfreq",
    "rfftn",
]

_NORMS = ("backward", "ortho", "forward")
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


# -- argument checks -------------------------------------------------------------------------------
def _norm(op: str, norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f"{op}: norm must be 'backward', 'ortho', 'forward' or None, got {norm!r}")
    return norm


def _scale(norm: str, n: int, inverse: bool) -> float:
    """The factor ``norm`` puts on a transform of ``n`` points."""
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    return 1.0 / n if (norm == "forward") != inverse else 1.0


def _check_n(op: str, n: int, what: str = "n") -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(
            f"{op}: {what} must be an int >= 1 (the number of points of the transform), got {n!r}"
        )
    return n


def _dim(op: str, dim: int, ndim: int) -> int:
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if ndim == 0 or not -ndim <= dim < ndim:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a {ndim}-d input (expected {-ndim} .. {ndim - 1}); "
            "pass a dim in that range"
            if ndim
            else f"{op}: a 0-d input has no dim {dim} to transform; give the input at least one dim"
        )
    return dim % ndim


def _dims(op: str, x: Tensor, s: Sequence[int] | None, dim: Any) -> tuple[list[int], list[int | None]]:
    """PyTorch's rules for ``s`` and ``dim`` of the n-d transforms: the dims (non-negative, unique)
    and the sizes (None: the input's)."""
    ndim = x.ndim
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None:
        s = tuple(s)
        if dim is None:
            if len(s) > ndim:
                raise ValueError(f"{op}: s {s} has more entries than the input's {ndim} dims")
            dim = tuple(range(ndim - len(s), ndim))
        elif len(s) != len(tuple(dim)):
            raise ValueError(
                f"{op}: s {s} and dim {tuple(dim)} must have the same length (one size per transformed dim)"
            )
    dims = [_dim(op, d, ndim) for d in (range(ndim) if dim is None else dim)]
    if len(set(dims)) != len(dims):
        raise ValueError(f"{op}: dim {tuple(dim)} repeats a dim; each dim can be transformed once")
    if ndim == 0 and dim is None:
        raise IndexError(f"{op}: a 0-d input has no dim to transform; give the input at least one dim")
    sizes: list[int | None] = [None] * len(dims)
    if s is not None:
        for i, v in enumerate(s):
            if v != -1:
                sizes[i] = _check_n(op, v, f"s[{i}]")
    return dims, sizes


def _float_input(op: str, x: Any) -> Tensor:
    """``x`` with integers and bool promoted to the default float dtype (as PyTorch does); float16
    and bfloat16 refused."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be an ember.Tensor, got {type(x).__name__}")
    dt = x.dtype
    if dt.is_complex:
        return x
    if not dt.is_floating_point:
        return x.to(_dt.get_default_dtype())
    if dt.name not in ("float32", "float64"):
        raise TypeError(f"{op}: {dt.name} input is not supported; cast it to float32 or float64")
    return x


def _real_input(op: str, x: Any) -> Tensor:
    x = _float_input(op, x)
    if x.dtype.is_complex:
        raise TypeError(f"{op}: input must be real, got {x.dtype.name}; use fft.fft for complex input")
    return x


# -- the complex <-> pairs boundary ----------------------------------------------------------------
def _as_pairs(x: Tensor) -> Tensor:
    """A complex (or real) tensor as ``(real, imag)`` pairs ``(..., 2)``, differentiably."""
    from ..ops import joining

    if x.dtype.is_complex:
        from .. import ops

        return ops.view_as_real(x.contiguous())
    from ..ops.creation import zeros_like

    return joining.stack([x, zeros_like(x)], -1)


def _as_complex(p: Tensor) -> Tensor:
    """Pairs ``(..., 2)`` as a complex tensor, differentiably."""
    from .. import ops

    return ops.view_as_complex(p.contiguous())


# -- transforms on pairs (what the public functions and the op records call) -----------------------
def _resize(p: Tensor, dim: int, n: int) -> Tensor:
    """``p`` trimmed or zero-padded to ``n`` along ``dim``."""
    from ..ops.creation import zeros
    from ..ops.joining import cat

    size = p.shape[dim]
    if n == size:
        return p
    if n < size:
        return p.narrow(dim, 0, n)
    pad = list(p.shape)
    pad[dim] = n - size
    return cat([p, zeros(tuple(pad), dtype=p.dtype, device=p.device)], dim)


def _conj(p: Tensor) -> Tensor:
    from ..ops.joining import stack

    return stack([p[..., 0], -p[..., 1]], -1)


def _c2c_scaled(p: Tensor, dim: int, n: int, norm: str, inverse: bool) -> Tensor:
    y = c2c(_resize(p, dim, n), dim, inverse)
    f = _scale(norm, n, inverse)
    return y if f == 1.0 else y * f


def _fft_p(op: str, p: Tensor, n: int | None, dim: int, norm: str | None, inverse: bool) -> Tensor:
    norm = _norm(op, norm)
    d = _dim(op, dim, p.ndim - 1)
    n = p.shape[d] if n is None else _check_n(op, n)
    return _c2c_scaled(p, d, n, norm, inverse)


def _rfft_p(op: str, x: Tensor, n: int | None, dim: int, norm: str | None) -> Tensor:
    """rfft of real ``x``: pairs with ``n // 2 + 1`` entries along ``dim``."""
    norm = _norm(op, norm)
    d = _dim(op, dim, x.ndim)
    n = x.shape[d] if n is None else _check_n(op, n)
    y = _c2c_scaled(_as_pairs(_resize(x, d, n)), d, n, norm, False)
    return y.narrow(d, 0, n // 2 + 1)


def _irfft_p(op: str, p: Tensor, n: int | None, dim: int, norm: str | None) -> Tensor:
    """irfft of pairs ``p`` (a half spectrum along ``dim``): real, ``n`` entries along ``dim``."""
    from ..ops.joining import cat

    norm = _norm(op, norm)
    d = _dim(op, dim, p.ndim - 1)
    if n is None:
        n = 2 * (p.shape[d] - 1)
        if n < 1:
            raise ValueError(
                f"{op}: an input of length {p.shape[d]} along dim {dim} gives n = {n} output points; "
                "pass n >= 1"
            )
    else:
        n = _check_n(op, n)
    half = _resize(p, d, n // 2 + 1)
    # the Hermitian extension: X[k] = conj(X[n - k]) for k > n // 2
    tail = half.narrow(d, 1, n - n // 2 - 1)
    full = cat([half, _conj(tail.flip(d))], d) if tail.shape[d] else half
    y = c2c(full, d, True)[..., 0]
    f = _scale(norm, n, True)
    return y if f == 1.0 else y * f


def _fftn_p(op: str, p: Tensor, s: Any, dim: Any, norm: str | None, inverse: bool) -> Tensor:
    norm = _norm(op, norm)
    dims, sizes = _dims(op, p[..., 0], s, dim)
    for d, n in zip(dims, sizes):
        p = _c2c_scaled(p, d, p.shape[d] if n is None else n, norm, inverse)
    return p


def _rfftn_p(op: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    norm = _norm(op, norm)
    dims, sizes = _dims(op, x, s, dim)
    if not dims:
        raise ValueError(f"{op}: dim is empty; give at least one dim to transform")
    p = _rfft_p(op, x, sizes[-1], dims[-1], norm)
    for d, n in zip(dims[:-1], sizes[:-1]):
        p = _c2c_scaled(p, d, p.shape[d] if n is None else n, norm, False)
    return p


def _irfftn_p(op: str, p: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    norm = _norm(op, norm)
    dims, sizes = _dims(op, p[..., 0], s, dim)
    if not dims:
        raise ValueError(f"{op}: dim is empty; give at least one dim to transform")
    for d, n in zip(dims[:-1], sizes[:-1]):
        p = _c2c_scaled(p, d, p.shape[d] if n is None else n, norm, True)
    return _irfft_p(op, p, sizes[-1], dims[-1], norm)


# -- the public functions --------------------------------------------------------------------------
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-D discrete Fourier transform of ``input`` along ``dim``, trimmed or zero-padded to
    ``n`` points first; complex result (real inputs are promoted, integers to the default float
    dtype first). ``norm``: ``"backward"`` (default, unscaled), ``"ortho"`` or ``"forward"``."""
    x = _float_input("fft.fft", input)
    return _as_complex(_fft_p("fft.fft", _as_pairs(x), n, dim, norm, False))


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`fft` (scaled by ``1/n`` with the default ``norm="backward"``)."""
    x = _float_input("fft.ifft", input)
    return _as_complex(_fft_p("fft.ifft", _as_pairs(x), n, dim, norm, True))


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The DFT of real ``input`` along ``dim``: the ``n // 2 + 1`` non-negative frequencies (the
    others are their conjugates). Complex input is refused, as in PyTorch."""
    x = _real_input("fft.rfft", input)
    return _as_complex(_rfft_p("fft.rfft", x, n, dim, norm))


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`rfft`: a real result of ``n`` points (default ``2 * (m - 1)`` for an
    input of ``m`` along ``dim``) from the half spectrum; the imaginary parts of the zero (and, for
    even ``n``, the Nyquist) frequency are ignored, as in PyTorch."""
    x = _float_input("fft.irfft", input)
    return _irfft_p("fft.irfft", _as_pairs(x), n, dim, norm)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The DFT of a Hermitian-symmetric signal given by its first half ``input``: a real result of
    ``n`` points (default ``2 * (m - 1)``). ``hfft(x, n) == irfft(x.conj(), n)`` with the dual norm."""
    op = "fft.hfft"
    x = _float_input(op, input)
    return _irfft_p(op, _conj(_as_pairs(x)), n, dim, _DUAL[_norm(op, norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of :func:`hfft`: the ``n // 2 + 1`` first entries of the inverse DFT of real
    ``input`` (``rfft(x).conj()`` with the dual norm)."""
    op = "fft.ihfft"
    x = _real_input(op, input)
    return _as_complex(_conj(_rfft_p(op, x, n, dim, _DUAL[_norm(op, norm)])))


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-D DFT over ``dim`` (all dims by default; the last ``len(s)`` when only ``s`` is given),
    each dim trimmed or zero-padded to its size in ``s`` (-1 keeps the input's size)."""
    x = _float_input("fft.fftn", input)
    return _as_complex(_fftn_p("fft.fftn", _as_pairs(x), s, dim, norm, False))


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The inverse of :func:`fftn`."""
    x = _float_input("fft.ifftn", input)
    return _as_complex(_fftn_p("fft.ifftn", _as_pairs(x), s, dim, norm, True))


def fft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None
) -> Tensor:
    """The 2-D DFT: :func:`fftn` over the last two dims by default."""
    x = _float_input("fft.fft2", input)
    return _as_complex(_fftn_p("fft.fft2", _as_pairs(x), s, dim, norm, False))


def ifft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None
) -> Tensor:
    """The inverse of :func:`fft2`."""
    x = _float_input("fft.ifft2", input)
    return _as_complex(_fftn_p("fft.ifft2", _as_pairs(x), s, dim, norm, True))


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-D DFT of real ``input``: the last transformed dim keeps ``s[-1] // 2 + 1`` entries."""
    x = _real_input("fft.rfftn", input)
    return _as_complex(_rfftn_p("fft.rfftn", x, s, dim, norm))


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The inverse of :func:`rfftn`: real, the last transformed dim of ``s[-1]`` points (default
    ``2 * (m - 1)``)."""
    x = _float_input("fft.irfftn", input)
    return _irfftn_p("fft.irfftn", _as_pairs(x), s, dim, norm)


def rfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None
) -> Tensor:
    """:func:`rfftn` over the last two dims by default."""
    x = _real_input("fft.rfft2", input)
    return _as_complex(_rfftn_p("fft.rfft2", x, s, dim, norm))


def irfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None
) -> Tensor:
    """:func:`irfftn` over the last two dims by default."""
    x = _float_input("fft.irfft2", input)
    return _irfftn_p("fft.irfft2", _as_pairs(x), s, dim, norm)


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The n-D transform of a Hermitian-symmetric signal given by its half ``input`` (the last of
    ``dim`` halved): real, the last of ``dim`` of ``s[-1]`` points (default ``2 * (m - 1)``).
    ``hfftn(x) == irfftn(x.conj())`` with the dual norm."""
    op = "fft.hfftn"
    x = _float_input(op, input)
    return _irfftn_p(op, _conj(_as_pairs(x)), s, dim, _DUAL[_norm(op, norm)])


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """The inverse of :func:`hfftn` for real ``input``: ``rfftn(x).conj()`` with the dual norm."""
    op = "fft.ihfftn"
    x = _real_input(op, input)
    return _as_complex(_conj(_rfftn_p(op, x, s, dim, _DUAL[_norm(op, norm)])))


def hfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None
) -> Tensor:
    """:func:`hfftn` over the last two dims by default."""
    op = "fft.hfft2"
    x = _float_input(op, input)
    return _irfftn_p(op, _conj(_as_pairs(x)), s, dim, _DUAL[_norm(op, norm)])


def ihfft2(
    input: Tensor, s: Sequence[int] | None = None, dim: Any = (-2, -1), norm: str | None = None
) -> Tensor:
    """:func:`ihfftn` over the last two dims by default."""
    op = "fft.ihfft2"
    x = _real_input(op, input)
    return _as_complex(_conj(_rfftn_p(op, x, s, dim, _DUAL[_norm(op, norm)])))


def fftfreq(
    n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """The sample frequencies of an ``n``-point :func:`fft` with sample spacing ``d``:
    ``[0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d * n)`` (default float dtype)."""
    from ..ops.creation import arange
    from ..ops.joining import cat

    _check_n("fft.fftfreq", n)
    dtype = _freq_dtype("fft.fftfreq", dtype)
    pos = arange(0, (n - 1) // 2 + 1, dtype=dtype, device=device)
    neg = arange(-(n // 2), 0, dtype=dtype, device=device)
    out = cat([pos, neg], 0) * (1.0 / (d * n))
    return out.requires_grad_(requires_grad) if requires_grad else out


def rfftfreq(
    n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """The sample frequencies of an ``n``-point :func:`rfft`: ``[0, 1, ..., n // 2] / (d * n)``."""
    from ..ops.creation import arange

    _check_n("fft.rfftfreq", n)
    dtype = _freq_dtype("fft.rfftfreq", dtype)
    out = arange(0, n // 2 + 1, dtype=dtype, device=device) * (1.0 / (d * n))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _freq_dtype(op: str, dtype: Any) -> Any:
    dt = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not (dt.is_floating_point or dt.is_complex):
        raise TypeError(f"{op}: dtype must be a floating or complex dtype, got {dt.name}")
    return dt


def _shift(op: str, x: Tensor, dim: Any, inverse: bool) -> Tensor:
    from ..ops.rearrange import roll

    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be an ember.Tensor, got {type(x).__name__}")
    if dim is None:
        dims = list(range(x.ndim))
    else:
        dims = [_dim(op, d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)]
    if not dims:
        return x.clone()
    shifts = [-(x.shape[d] // 2) if inverse else x.shape[d] // 2 for d in dims]
    return roll(x, shifts, dims)


def fftshift(input: Tensor, dim: Any = None) -> Tensor:
    """``input`` rolled so the zero frequency is in the middle: by ``n // 2`` along each of ``dim``
    (all dims by default)."""
    return _shift("fft.fftshift", input, dim, False)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The inverse of :func:`fftshift`: rolled by ``-(n // 2)`` along each of ``dim``."""
    return _shift("fft.ifftshift", input, dim, True)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    """Records of the transforms. Their samples and results are complex values as ``(real, imag)``
    pairs (a trailing dim of 2, ``view_as_real``'s layout), so every device that holds float32 /
    float64 proves the transforms, kernel or composite; the thin complex boundary of the public
    functions (``view_as_real`` / ``view_as_complex``) is checked against PyTorch by
    ``tests/test_fft_torch_parity.py``. The error samples call the public functions (real inputs,
    which they promote)."""
    import numpy as np

    from ..ops.records import OpRecord, register
    from ..ops.samples import DEVICE, ErrorSample, Sample, rand_array

    def cplx(p: np.ndarray) -> np.ndarray:
        return p[..., 0] + 1j * p[..., 1]

    def pairs(z: np.ndarray, dtype: Any) -> np.ndarray:
        return np.stack([z.real, z.imag], -1).astype(dtype)

    def np_1d(fn: Any, complex_in: bool, complex_out: bool) -> Any:
        def ref(x: np.ndarray, n: Any = None, dim: int = -1, norm: Any = None) -> np.ndarray:
            z = fn(cplx(x) if complex_in else x, n, dim, norm)
            return pairs(z, x.dtype) if complex_out else z.astype(x.dtype)

        return ref

    def np_nd(fn: Any, complex_in: bool, complex_out: bool) -> Any:
        def ref(x: np.ndarray, s: Any = None, dim: Any = None, norm: Any = None) -> np.ndarray:
            nd = x.ndim - complex_in
            if s is not None and dim is None:
                dim = tuple(range(nd - len(s), nd))
            z = fn(cplx(x) if complex_in else x, s, dim, norm)
            return pairs(z, x.dtype) if complex_out else z.astype(x.dtype)

        return ref

    def samples_1d(complex_in: bool, half: bool = False) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*shape: int) -> np.ndarray:
                return rand_array(rng, shape + ((2,) if complex_in else ()), dtype, -1, 1)

            # (gradchecks on the two smallest: each costs one evaluation per input element)
            return [
                Sample((a(8),)),
                Sample((a(3, 5),), {"n": 4 if not half else 6, "dim": 0}),  # pads (half) or trims
                Sample((a(2, 6),), {"n": 9, "norm": "ortho"}, grad=False),
                Sample((a(4, 7),), {"norm": "forward"}, noncontig=True, grad=False),
                Sample((a(2, 3, 5),), {"dim": 1, "n": 2}, grad=False),
                Sample((a(0, 4),), grad=False),
            ]

        return make

    def samples_nd(complex_in: bool) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            def a(*shape: int) -> np.ndarray:
                return rand_array(rng, shape + ((2,) if complex_in else ()), dtype, -1, 1)

            return [
                Sample((a(3, 4, 5),), grad=False),
                Sample((a(2, 2, 3),), {"s": (1, 5)}),  # the last len(s) dims, trimmed and padded
                Sample((a(3, 2, 4),), {"dim": (0, 2), "norm": "ortho"}, grad=False),
                Sample((a(3, 4),), {"dim": (-2, -1), "norm": "forward"}, noncontig=True),
                Sample((a(0, 3, 4),), {"dim": (1, 2)}, grad=False),
            ]

        return make

    def errors_1d(op: str) -> tuple[ErrorSample, ...]:
        x = np.zeros((3, 4), dtype=np.float32)  # the public function's input (real: promoted)
        return (
            ErrorSample((x,), {"n": 0}, ValueError, rf"{op}: n must be an int >= 1 .* got 0"),
            ErrorSample((x,), {"dim": 2}, IndexError, rf"{op}: dim 2 is out of range for a 2-d input"),
            ErrorSample((x,), {"norm": "half"}, ValueError, rf"{op}: norm must be .* got 'half'"),
        )

    def errors_nd(op: str) -> tuple[ErrorSample, ...]:
        x = np.zeros((3, 4), dtype=np.float32)  # the public function's input (real: promoted)
        return (
            ErrorSample(
                (x,), {"s": (2, 2), "dim": (0,)}, ValueError, rf"{op}: s \(2, 2\) and dim \(0,\) must"
            ),
            ErrorSample((x,), {"dim": (0, -2)}, ValueError, rf"{op}: dim \(0, -2\) repeats a dim"),
            ErrorSample((x,), {"s": (0, 3)}, ValueError, rf"{op}: s\[0\] must be an int >= 1 .* got 0"),
        )

    def c2c_call(op: str, inverse: bool) -> Any:
        def call(p: Tensor, n: Any = None, dim: int = -1, norm: Any = None) -> Tensor:
            return _fft_p(op, p, n, dim, norm, inverse)

        return call

    def rfft_call(p: Tensor, n: Any = None, dim: int = -1, norm: Any = None) -> Tensor:
        return _rfft_p("fft.rfft", p, n, dim, norm)

    def irfft_call(p: Tensor, n: Any = None, dim: int = -1, norm: Any = None) -> Tensor:
        return _irfft_p("fft.irfft", p, n, dim, norm)

    def hfft_call(p: Tensor, n: Any = None, dim: int = -1, norm: Any = None) -> Tensor:
        return _irfft_p("fft.hfft", _conj(p), n, dim, _DUAL[_norm("fft.hfft", norm)])

    def ihfft_call(p: Tensor, n: Any = None, dim: int = -1, norm: Any = None) -> Tensor:
        return _conj(_rfft_p("fft.ihfft", p, n, dim, _DUAL[_norm("fft.ihfft", norm)]))

    def hfftn_call(p: Tensor, s: Any = None, dim: Any = None, norm: Any = None) -> Tensor:
        return _irfftn_p("fft.hfftn", _conj(p), s, dim, _DUAL[_norm("fft.hfftn", norm)])

    def ihfftn_call(p: Tensor, s: Any = None, dim: Any = None, norm: Any = None) -> Tensor:
        return _conj(_rfftn_p("fft.ihfftn", p, s, dim, _DUAL[_norm("fft.ihfftn", norm)]))

    dual = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}

    def np_hfftn(z: np.ndarray, s: Any, axes: Any, norm: Any) -> np.ndarray:
        return np.fft.irfftn(np.conj(z), s, axes, dual[norm])

    def np_ihfftn(x: np.ndarray, s: Any, axes: Any, norm: Any) -> np.ndarray:
        return np.conj(np.fft.rfftn(x, s, axes, dual[norm]))

    def nd_call(op: str, fn: Any, *extra: Any) -> Any:
        def call(p: Tensor, s: Any = None, dim: Any = None, norm: Any = None) -> Tensor:
            return fn(op, p, s, dim, norm, *extra)

        return call

    irfft_errors = (
        ErrorSample(
            (np.zeros((3, 1), dtype=np.float32),),
            {},
            ValueError,
            r"fft.irfft: an input of length 1 along dim -1 gives n = 0 output points; pass n >= 1",
        ),
    )

    def freq_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        dt = _dt.as_dtype(dtype)
        return [
            Sample((n,), {"d": d, "dtype": dt, "device": DEVICE}, grad=False)
            for n, d in ((1, 1.0), (6, 0.5), (7, 2.0))
        ]

    def np_freq(fn: Any) -> Any:
        def ref(n: int, d: float, dtype: Any, device: Any) -> np.ndarray:
            return fn(n, d).astype(dtype.numpy)

        return ref

    def np_shift(fn: Any) -> Any:
        def ref(x: np.ndarray, dim: Any = None) -> np.ndarray:
            return fn(x, axes=dim)

        return ref

    def shift_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (5,), dtype),)),
            Sample((rand_array(rng, (4, 5), dtype),), {"dim": 1}),
            Sample((rand_array(rng, (3, 4, 5), dtype),), {"dim": (0, 2)}, noncontig=True),
        ]

    register(
        OpRecord(
            "fft.fft",
            fft,
            samples_1d(True),
            np_1d(np.fft.fft, True, True),
            call=c2c_call("fft.fft", False),
            kernel="fft_c2c",
            errors=errors_1d("fft.fft"),
        ),
        OpRecord(
            "fft.ifft",
            ifft,
            samples_1d(True),
            np_1d(np.fft.ifft, True, True),
            call=c2c_call("fft.ifft", True),
            kernel="fft_c2c",
            errors=errors_1d("fft.ifft"),
        ),
        OpRecord(
            "fft.rfft",
            rfft,
            samples_1d(False),
            np_1d(np.fft.rfft, False, True),
            call=rfft_call,
            kernel="fft_c2c",
            errors=errors_1d("fft.rfft"),
        ),
        OpRecord(
            "fft.irfft",
            irfft,
            samples_1d(True, half=True),
            np_1d(np.fft.irfft, True, False),
            call=irfft_call,
            kernel="fft_c2c",
            errors=errors_1d("fft.irfft") + irfft_errors,
        ),
        OpRecord(
            "fft.hfft",
            hfft,
            samples_1d(True, half=True),
            np_1d(np.fft.hfft, True, False),
            call=hfft_call,
            kernel="fft_c2c",
            errors=errors_1d("fft.hfft"),
        ),
        OpRecord(
            "fft.ihfft",
            ihfft,
            samples_1d(False),
            np_1d(np.fft.ihfft, False, True),
            call=ihfft_call,
            kernel="fft_c2c",
            errors=errors_1d("fft.ihfft"),
        ),
        OpRecord(
            "fft.fftn",
            fftn,
            samples_nd(True),
            np_nd(np.fft.fftn, True, True),
            call=nd_call("fft.fftn", _fftn_p, False),
            kernel="fft_c2c",
            covers=("fft.fft2",),
            errors=errors_nd("fft.fftn"),
        ),
        OpRecord(
            "fft.ifftn",
            ifftn,
            samples_nd(True),
            np_nd(np.fft.ifftn, True, True),
            call=nd_call("fft.ifftn", _fftn_p, True),
            kernel="fft_c2c",
            covers=("fft.ifft2",),
            errors=errors_nd("fft.ifftn"),
        ),
        OpRecord(
            "fft.rfftn",
            rfftn,
            samples_nd(False),
            np_nd(np.fft.rfftn, False, True),
            call=nd_call("fft.rfftn", _rfftn_p),
            kernel="fft_c2c",
            covers=("fft.rfft2",),
            errors=errors_nd("fft.rfftn"),
        ),
        OpRecord(
            "fft.irfftn",
            irfftn,
            samples_nd(True),
            np_nd(np.fft.irfftn, True, False),
            call=nd_call("fft.irfftn", _irfftn_p),
            kernel="fft_c2c",
            covers=("fft.irfft2",),
            errors=errors_nd("fft.irfftn"),
        ),
        OpRecord(
            "fft.hfftn",
            hfftn,
            samples_nd(True),
            np_nd(np_hfftn, True, False),
            call=hfftn_call,
            kernel="fft_c2c",
            covers=("fft.hfft2",),
            errors=errors_nd("fft.hfftn"),
        ),
        OpRecord(
            "fft.ihfftn",
            ihfftn,
            samples_nd(False),
            np_nd(np_ihfftn, False, True),
            call=ihfftn_call,
            kernel="fft_c2c",
            covers=("fft.ihfft2",),
            errors=errors_nd("fft.ihfftn"),
        ),
        OpRecord("fft.fftfreq", fftfreq, freq_samples, np_freq(np.fft.fftfreq), grad=False),
        OpRecord("fft.rfftfreq", rfftfreq, freq_samples, np_freq(np.fft.rfftfreq), grad=False),
        OpRecord("fft.fftshift", fftshift, shift_samples, np_shift(np.fft.fftshift)),
        OpRecord("fft.ifftshift", ifftshift, shift_samples, np_shift(np.fft.ifftshift)),
    )


_records()
