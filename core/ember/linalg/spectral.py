"""Spectral linear algebra: eigen, singular value and QR decompositions and what derives from them."""

from __future__ import annotations

__all__: list[str] = []


def _array_kernels(xp) -> dict:
    """Kernels for array-library backends (numpy, CuPy): name -> function on the backend's arrays."""
    return {}


def _records() -> None:
    """Register the op records of this module's public functions."""
