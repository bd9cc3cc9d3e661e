"""Op records of the array-object methods the standard asks of :class:`ember.Tensor`
(``__array_namespace__`` and ``to_device``), so the conformance kit proves them on every device
like Tensor's other own methods (:mod:`ember.ops.tensor_protocol`). They register when
``ember.array_api`` is imported."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.creation import tensor
from ..ops.records import OpRecord, register
from ..ops.samples import ALL, unary_samples
from ..tensor import Tensor


def _require(cond: Any, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def _array_namespace(x: Tensor) -> Tensor:
    # the namespace is ember.array_api for no version and for each supported one; an unknown
    # version is refused with the supported list; its functions take this tensor as it is
    from . import SUPPORTED_VERSIONS
    from . import __name__ as ns_name

    xp = x.__array_namespace__()
    _require(xp.__name__ == ns_name, f"__array_namespace__: returned {xp.__name__}, not {ns_name}")
    for v in SUPPORTED_VERSIONS:
        _require(x.__array_namespace__(api_version=v) is xp, f"__array_namespace__({v!r}): another module")
    try:
        x.__array_namespace__(api_version="2020.01")
    except ValueError as exc:
        _require(
            SUPPORTED_VERSIONS[-1] in str(exc), f"__array_namespace__: the error lists no versions: {exc}"
        )
    else:
        raise AssertionError("__array_namespace__(api_version='2020.01'): no error")
    out = xp.asarray(x, copy=True)
    _require(out is not x and out.device is x.device and out.dtype is x.dtype, "asarray(copy=True)")
    return out


def _to_device(x: Tensor) -> Tensor:
    # to_device to the tensor's own device is the tensor itself; through the cpu and back the
    # values survive; a stream is refused
    _require(x.to_device(x.device) is x, "to_device(own device): not the tensor itself")
    on_cpu = x.to_device("cpu")
    _require(on_cpu.device.type == "cpu", f"to_device('cpu'): on {on_cpu.device}")
    try:
        x.to_device(x.device, stream=1)
    except ValueError:
        pass
    else:
        raise AssertionError("to_device(stream=1): no error")
    return on_cpu.to_device(x.device)


def _complex(x: Tensor) -> Tensor:
    # complex() of each one-element piece: its value with imaginary part 0; more elements refuse
    vals = [complex(e) for e in x.reshape(-1)]
    _require(all(v.imag == 0 for v in vals), "__complex__: a non-zero imaginary part")
    if x.numel() > 1:
        try:
            complex(x)
        except ValueError:
            pass
        else:
            raise AssertionError("complex() of a tensor with several elements: no error")
    return tensor([v.real for v in vals], dtype=x.dtype, device=x.device).reshape(x.shape)


def _records() -> list[OpRecord]:
    def rec(name: str, call: Any, reads_values: bool = False) -> OpRecord:
        return OpRecord(
            name,
            call,
            unary_samples(),
            lambda x: np.array(x),
            call=call,
            covers=(name,),
            dtypes=ALL,
            grad=False,
            public=False,
            reads_values=reads_values,
        )

    return [
        rec("Tensor.__array_namespace__", _array_namespace),
        # (its round trip through the cpu copies the values)
        rec("Tensor.to_device", _to_device, reads_values=True),
        OpRecord(
            "Tensor.__complex__",
            _complex,
            unary_samples(),
            lambda x: np.array(x),
            call=_complex,
            covers=("Tensor.__complex__",),
            dtypes=ALL,
            grad=False,
            public=False,
            reads_values=True,
        ),
    ]


register(*_records())
