"""``ember.linalg``: PyTorch's ``torch.linalg`` on every device.

The functions live in two family modules: :mod:`ember.linalg.solvers` (factorizations, solves,
inverses, determinants and norms) and :mod:`ember.linalg.spectral` (eigen, singular value and QR
decompositions and what derives from them). The decompositions are optional kernels
(``linalg_*`` in :data:`ember.ops.catalog.OPTIONAL_KERNELS`): a device that has them runs them,
every other device runs core's composite built from existing ops, on the device.
"""

from __future__ import annotations

from typing import Any

from . import solvers, spectral
from .solvers import *  # noqa: F403
from .spectral import *  # noqa: F403

__all__ = ["array_kernels", *solvers.__all__, *spectral.__all__]


def array_kernels(xp: Any) -> dict[str, Any]:
    """The linalg kernels for an array-library backend on namespace ``xp`` (numpy, CuPy): kernel
    name -> function on the backend's arrays, batched over leading dims (merged into
    :func:`ember.array_backend.array_kernels`)."""
    return {**solvers._array_kernels(xp), **spectral._array_kernels(xp)}
