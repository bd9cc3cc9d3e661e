"""Linear algebra solvers: factorizations (Cholesky, LU), solves, inverses, determinants, norms."""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _array_kernels(xp: Any) -> dict[str, Any]:
    """Kernels for array-library backends (numpy, CuPy): name -> function on the backend's arrays."""
    return {}
