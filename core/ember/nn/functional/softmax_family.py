"""The softmax family: softmax, log_softmax and softmin along a dim.

Thin wrappers over the core ops ``softmax`` and ``log_softmax`` (their kernels and backwards live
in :mod:`ember.ops`; softmin is softmax of the negated input), adding PyTorch's deprecated implicit
``dim`` (chosen from the input's rank, with PyTorch's warning), the check of the positional
``_stacklevel`` argument, and the computation in a given ``dtype``. The module ends with their op
records, whose kit call also checks the implicit-dim warning.
"""

from __future__ import annotations

import warnings
from typing import Any

from ... import ops as E
from ...tensor import Tensor

__all__ = [
    "softmax",
    "log_softmax",
    "softmin",
]


def _softmax_dim(op: str, input: Tensor, dim: int | None, stacklevel: Any) -> int:
    """``dim``, or when it is None PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-D
    inputs, else 1) with PyTorch's warning."""
    if isinstance(stacklevel, bool) or not isinstance(stacklevel, int):
        raise TypeError(
            f"{op}: the third positional argument is _stacklevel (an int, as in PyTorch), got "
            f"{stacklevel!r}; pass the dtype by keyword: {op}(x, dim, dtype=...)"
        )
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Softmax along ``dim`` (stable: the max is subtracted first), computed in ``dtype`` if given.
    Without ``dim``, PyTorch's deprecated implicit choice (dim 0 for 0-, 1- and 3-D inputs, else 1)
    with a warning."""
    return E.softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x) (in ``dtype`` if given).
    Without ``dim``, PyTorch's deprecated implicit choice, as :func:`softmax`."""
    return E.log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel), dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim`` (None: PyTorch's deprecated implicit choice, as :func:`softmax`)."""
    return E.softmax(-input, _softmax_dim("softmin", input, dim, _stacklevel), dtype)


# -- op records ---------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from ...ops.records import OpRecord, register
    from ...ops.samples import Sample, rand_array

    def implicit_dim(x: np.ndarray, dim: int | None) -> int:
        return dim if dim is not None else (0 if x.ndim in (0, 1, 3) else 1)

    def softmax_ref(x: np.ndarray, dim: int | None = None, dtype: Any = None) -> np.ndarray:
        x = x if dtype is None else x.astype(dtype.numpy)
        if x.ndim == 0:
            return np.ones_like(x)
        d = implicit_dim(x, dim)
        e = np.exp(x - x.max(axis=d, keepdims=True)) if x.size else x
        return e / e.sum(axis=d, keepdims=True) if x.size else x

    def log_softmax_ref(x: np.ndarray, dim: int | None = None, dtype: Any = None) -> np.ndarray:
        x = x if dtype is None else x.astype(dtype.numpy)
        if x.ndim == 0:
            return np.zeros_like(x)
        if not x.size:
            return x
        d = implicit_dim(x, dim)
        m = x.max(axis=d, keepdims=True)
        return x - m - np.log(np.exp(x - m).sum(axis=d, keepdims=True))

    def softmin_ref(x: np.ndarray, dim: int | None = None, dtype: Any = None) -> np.ndarray:
        return softmax_ref(-x, dim, dtype)

    def softmax_call(fn: Any, name: str) -> Any:
        """``fn(input, dim, dtype=dtype)``; with ``dim=None`` (PyTorch's deprecated implicit dim)
        it also checks that the deprecation warning is given."""

        def call(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
            if dim is not None:
                return fn(input, dim, dtype=dtype)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = fn(input, dtype=dtype)
            if not any("Implicit dimension choice" in str(w.message) for w in caught):
                raise AssertionError(f"{name} without dim did not warn about the implicit dim choice")
            return out

        return call

    def softmax_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        from ... import dtypes as _dt

        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -3, 3)

        return [
            Sample((a(3, 5),), {"dim": 1}),
            Sample((a(3, 5),), {"dim": 0}),
            Sample((a(2, 3, 4),), {"dim": -1}),
            Sample((a(2, 3, 4),), {"dim": 1}),
            Sample((a(),), {"dim": 0}),
            Sample((a(0, 3),), {"dim": 1}, grad=False),
            Sample((a(4, 3),), {"dim": 1}, noncontig=True),
            Sample((a(3, 4),), {"dim": 0}, noncontig="flip", grad=False),
            Sample((a(2, 3),), {"dim": 1, "dtype": _dt.float64}),
            # PyTorch's deprecated implicit dim: 1 for 2-D, 0 for 3-D (with a warning)
            Sample((a(2, 3),), {"dim": None}),
            Sample((a(2, 3, 2),), {"dim": None}, grad=False),
        ]

    register(
        OpRecord(
            "nn.functional.softmax",
            softmax,
            softmax_samples,
            softmax_ref,
            call=softmax_call(softmax, "softmax"),
        ),
        OpRecord(
            "nn.functional.log_softmax",
            log_softmax,
            softmax_samples,
            log_softmax_ref,
            call=softmax_call(log_softmax, "log_softmax"),
        ),
        OpRecord(
            "nn.functional.softmin",
            softmin,
            softmax_samples,
            softmin_ref,
            call=softmax_call(softmin, "softmin"),
        ),
    )


_records()
