"""What the two ``ember.linalg`` parity modules share: each test runs with cpu's LAPACK kernels and
again with them removed (so core's composites, what every device without the kernels runs, are
compared with torch too), tensors for both sides made from one array, and a counted comparison."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import ember
import numpy as np
from torch_required import require_torch

torch = require_torch()


def kernel_or_composite(mode: str, kernel_names: tuple[str, ...], family: str) -> Iterator[str]:
    """The body of a ``path`` fixture: yields ``mode`` with cpu's kernels ``kernel_names`` in place
    ("kernel") or removed for the test ("composite")."""
    kernels = ember.device("cpu").kernels
    assert all(k in kernels for k in kernel_names), f"the cpu backend lacks the linalg {family} kernels"
    if mode == "kernel":
        yield mode
        return
    saved = {k: kernels.pop(k) for k in kernel_names}
    try:
        yield mode
    finally:
        kernels.update(saved)


def E(a: Any, grad: bool = False) -> ember.Tensor:
    """An Ember cpu tensor holding a copy of ``a``."""
    t = ember.tensor(np.array(a, copy=True))
    return t.requires_grad_(True) if grad else t


def T(a: Any, grad: bool = False) -> Any:
    """A torch tensor holding a copy of ``a``."""
    t = torch.from_numpy(np.array(a, copy=True))
    return t.requires_grad_(True) if grad else t


def comparer(counter: Counter[str], check_dtype: bool) -> Callable[..., None]:
    """``same(e, t, tol=1e-9, what="")``: Ember's value equals torch's within ``tol`` (shapes equal,
    dtypes too when ``check_dtype``), counted in ``counter["values"]``."""

    def same(e: Any, t: Any, tol: float = 1e-9, what: str = "") -> None:
        got = e.numpy() if isinstance(e, ember.Tensor) else np.asarray(e)
        want = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
        assert got.shape == want.shape, (what, got.shape, want.shape)
        if check_dtype:
            assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
        counter["values"] += 1

    return same
