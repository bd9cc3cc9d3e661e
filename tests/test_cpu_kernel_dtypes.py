"""The cpu backend, the reference authors compare their kernels against, keeps its own kernel
contract at kernel level: called directly (no core in between), ``sum``, ``prod`` and ``cumsum``
return a buffer of their input's dtype for every integer and bool dtype, as the contract in
ember.backend says (core casts integer inputs to int64 first when a user sums them)."""

from __future__ import annotations

import ember
import numpy as np
import pytest

INTEGER_AND_BOOL = ["bool", "uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", INTEGER_AND_BOOL)
@pytest.mark.parametrize("op", ["sum", "prod"])
@pytest.mark.parametrize(("dims", "keepdim"), [((0,), False), ((1,), True), ((0, 1), False)])
def test_cpu_reductions_keep_the_input_dtype(
    op: str, name: str, dims: tuple[int, ...], keepdim: bool
) -> None:
    kernels = ember.device("cpu").kernels
    x = (np.arange(12).reshape(3, 4) % 3).astype(name)
    out = kernels[op](x, dims, keepdim)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.dtype(name), f"K[{op!r}] on {name} returned {out.dtype}"
    expected = getattr(np, op)(x, axis=dims, keepdims=keepdim, dtype=np.int64).astype(name)
    assert out.shape == expected.shape and (out == expected).all()


@pytest.mark.parametrize("name", INTEGER_AND_BOOL)
def test_cpu_cumsum_keeps_the_input_dtype(name: str) -> None:
    out = ember.device("cpu").kernels["cumsum"]((np.arange(6) % 2).astype(name), 0)
    assert out.dtype == np.dtype(name), f"K['cumsum'] on {name} returned {out.dtype}"


def test_cpu_integer_sum_wraps_in_the_input_dtype() -> None:
    """At kernel level a uint8 sum wraps as uint8 arithmetic does (core never asks for it: it sums
    integers in int64)."""
    out = ember.device("cpu").kernels["sum"](np.full(3, 200, np.uint8), (0,), False)
    assert out.dtype == np.uint8 and int(out) == 600 % 256
