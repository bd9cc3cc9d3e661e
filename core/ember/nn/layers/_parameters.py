"""The private helpers that make and initialise the layers' parameters: :func:`_empty` (an uninitialised
:class:`~ember.nn.Parameter` of a shape, device and dtype) and :func:`_reset_fan_in` (PyTorch's default
initialisation of Linear and convolution weights and biases)."""

from __future__ import annotations

import math
from typing import Any

from ... import ops as E
from ...dtypes import as_dtype
from .. import init
from ..parameter import Parameter


def _empty(shape: tuple[int, ...], device: Any, dtype: Any) -> Parameter:
    return Parameter(E.empty(shape, dtype=as_dtype(dtype) if dtype is not None else None, device=device))


def _reset_fan_in(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
