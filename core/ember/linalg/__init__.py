"""``ember.linalg``: PyTorch's ``torch.linalg`` on every device.

The functions live in six family modules: :mod:`ember.linalg.factorizations` (Cholesky and LU
factorizations and triangular solves), :mod:`ember.linalg.solvers` (linear solves, inverses and
determinants on the LU factorization), :mod:`ember.linalg.products` (matrix powers, chained
products, vecdot, cross, matmul, diagonal), :mod:`ember.linalg.norms` (vector and matrix norms) and
:mod:`ember.linalg.spectral` (eigen, singular value and QR decompositions) and
:mod:`ember.linalg.pseudoinverse` (pinv, matrix_rank, lstsq and cond from the singular values).
The factorizations and decompositions are optional kernels
(``linalg_*`` in :data:`ember.ops.catalog.OPTIONAL_KERNELS`): a device that has them runs them,
every other device runs core's composite built from existing ops, on the device.
"""

from __future__ import annotations

from typing import Any

from . import factorizations, norms, products, pseudoinverse, solvers, spectral
from .factorizations import *  # noqa: F403
from .norms import *  # noqa: F403
from .products import *  # noqa: F403
from .pseudoinverse import *  # noqa: F403
from .solvers import *  # noqa: F403
from .spectral import *  # noqa: F403

__all__ = [
    "array_kernels",
    *factorizations.__all__,
    *solvers.__all__,
    *products.__all__,
    *norms.__all__,
    *spectral.__all__,
    *pseudoinverse.__all__,
]


def array_kernels(xp: Any) -> dict[str, Any]:
    """The linalg kernels for an array-library backend on namespace ``xp`` (numpy, CuPy): kernel
    name -> function on the backend's arrays, batched over leading dims (merged into
    :func:`ember.array_backend.array_kernels`)."""
    return {**factorizations._array_kernels(xp), **spectral._array_kernels(xp)}
