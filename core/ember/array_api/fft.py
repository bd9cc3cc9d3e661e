"""``ember.array_api.fft``: the standard's fft extension on :mod:`ember.fft`.

Each function is Ember's (PyTorch's ``torch.fft``) with the standard's signature: the array
positional-only, ``n``/``axis``/``norm`` keyword-only for the 1-D transforms, ``s``/``axes`` for
the n-D ones, ``axes`` for the shifts, ``d``/``dtype``/``device`` keyword-only for the sample
frequencies. Where the standard leaves a case to the implementation, Ember does what PyTorch does:
real inputs of ``fft``/``ifft``/``fftn``/``ifftn``/``irfft``/``irfftn``/``hfft`` are promoted to
complex, ``s`` without ``axes`` transforms the last ``len(s)`` axes, and repeated axes are an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import fft as _fft
from ..tensor import Tensor
from ._creation import resolve_device

__all__ = [
    "fft", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifftn", "ifftshift", "ihfft", "irfft",
    "irfftn", "rfft", "rfftfreq", "rfftn",
]  # fmt: skip

_Axes = Sequence[int] | None
_Sizes = Sequence[int] | None


def fft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The 1-D discrete Fourier transform along ``axis`` (``n`` points: trimmed or zero-padded)."""
    return _fft.fft(x, n, axis, norm)


def ifft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The 1-D inverse discrete Fourier transform along ``axis``."""
    return _fft.ifft(x, n, axis, norm)


def fftn(x: Tensor, /, *, s: _Sizes = None, axes: _Axes = None, norm: str = "backward") -> Tensor:
    """The n-D discrete Fourier transform over ``axes`` (all by default), each of ``s`` points."""
    return _fft.fftn(x, s, axes, norm)


def ifftn(x: Tensor, /, *, s: _Sizes = None, axes: _Axes = None, norm: str = "backward") -> Tensor:
    """The n-D inverse discrete Fourier transform over ``axes``."""
    return _fft.ifftn(x, s, axes, norm)


def rfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The 1-D transform of a real array: the ``n // 2 + 1`` non-negative frequencies."""
    return _fft.rfft(x, n, axis, norm)


def irfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of :func:`rfft`: a real array of ``n`` points (default ``2 * (m - 1)``)."""
    return _fft.irfft(x, n, axis, norm)


def rfftn(x: Tensor, /, *, s: _Sizes = None, axes: _Axes = None, norm: str = "backward") -> Tensor:
    """The n-D transform of a real array; the last of ``axes`` keeps ``s[-1] // 2 + 1`` entries."""
    return _fft.rfftn(x, s, axes, norm)


def irfftn(x: Tensor, /, *, s: _Sizes = None, axes: _Axes = None, norm: str = "backward") -> Tensor:
    """The inverse of :func:`rfftn`: real, the last of ``axes`` of ``s[-1]`` points."""
    return _fft.irfftn(x, s, axes, norm)


def hfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: real, ``n`` points."""
    return _fft.hfft(x, n, axis, norm)


def ihfft(x: Tensor, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of :func:`hfft` for a real array."""
    return _fft.ihfft(x, n, axis, norm)


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """The sample frequencies of an ``n``-point transform with sample spacing ``d`` (the default
    real floating dtype unless ``dtype``), on ``device``."""
    return _fft.fftfreq(n, d, dtype=dtype, device=resolve_device(device))


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """The sample frequencies of an ``n``-point :func:`rfft`."""
    return _fft.rfftfreq(n, d, dtype=dtype, device=resolve_device(device))


def fftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """``x`` rolled so the zero frequency is in the middle along ``axes`` (all by default)."""
    return _fft.fftshift(x, axes)


def ifftshift(x: Tensor, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of :func:`fftshift`."""
    return _fft.ifftshift(x, axes)
