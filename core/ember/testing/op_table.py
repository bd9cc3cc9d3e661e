"""The conformance kit's view of the op records: every record of :mod:`ember.ops.records` (declared
beside each op's code) with its samples and reference, and the helpers that turn samples into
tensors on the device under test.

Backend authors run the kit against their own device with
``pytest --pyargs ember.testing --ember-device=mydev``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import ember
from ember.ops.records import RECORDS, OpRecord, load_all
from ember.ops.samples import (  # noqa: F401 - the kit's public names for sample building
    ALL,
    ALL_INT,
    COMPLEX,
    DEVICE,
    FLOATS,
    FLOATS16,
    INTS,
    NUMERIC,
    SIGNED,
    ErrorSample,
    Sample,
    binary_samples,
    np_erf,
    reduction_samples,
    unary_samples,
)

#: the record type (the kit's historical name for it)
OpSpec = OpRecord

#: every op record, in registration order
OPS: list[OpRecord] = list(load_all().values())

OPS_BY_NAME: dict[str, OpRecord] = dict(RECORDS)


def to_ember(sample: Sample, dtype_name: str, device: Any, requires_grad: bool = False) -> tuple[list, dict]:
    """Tensors for a sample on ``device`` (non-contiguous views when the sample says so); the
    :data:`DEVICE` placeholder becomes ``device``."""
    args: list[Any] = []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            grad = requires_grad and a.dtype.kind in "fc"
            if sample.noncontig == "flip" and a.ndim >= 1:
                # negative strides on every dim: a flipped copy, flipped back as a view
                t = _flipped_view(ember.tensor(np.ascontiguousarray(np.flip(a)), device=device))
            elif sample.noncontig and a.ndim >= 2:
                t = ember.tensor(np.ascontiguousarray(a.T), device=device).T
            elif sample.noncontig and a.ndim == 1:
                t = ember.tensor(np.repeat(a, 2), device=device)[::2]
            else:
                t = ember.tensor(a, device=device)
            if grad:
                t = t.detach().requires_grad_(True)
            args.append(t)
        elif isinstance(a, list) and any(isinstance(v, np.ndarray) for v in a):
            # a sequence of tensors (cat, stack): each array becomes a tensor on the device
            args.append([ember.tensor(v, device=device) if isinstance(v, np.ndarray) else v for v in a])
        else:
            args.append(device if a is DEVICE else a)
    return args, {k: device if v is DEVICE else v for k, v in sample.kwargs.items()}


def _flipped_view(t: ember.Tensor) -> ember.Tensor:
    """A view of ``t`` with every dim reversed: negative strides, the values of ``flip(t)``."""
    from ember.ops.shape import _strided_view, strides_of
    from ember.tensor import _make

    st = strides_of(t)
    offset = sum((n - 1) * s for n, s in zip(t.shape, st) if n > 0)
    view = _make(_strided_view(t, t.shape, tuple(-s for s in st), offset), t.shape, t.dtype, t.device)
    view._base = t
    return view


def cast_sample(sample: Sample, dtype_name: str) -> Sample:
    """The sample with float args cast to ``dtype_name`` (index args stay int64); for a complex
    ``dtype_name``, complex args take it and float args its real counterpart (``ember.complex``'s
    parts), and for a floating one complex args take its complex counterpart."""
    dt = ember.dtypes.as_dtype(dtype_name)
    to = {"f": dt.to_real().name, "c": dt.to_complex().name if dt.is_differentiable else None}

    def cast(a: Any) -> Any:
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fc" or to[a.dtype.kind] is None:
            return a
        return a.astype(to[a.dtype.kind])

    args = tuple(cast(a) for a in sample.args)
    return Sample(args, dict(sample.kwargs), sample.noncontig, sample.grad)


def missing_result_dtype(spec: OpSpec, device: Any) -> str | None:
    """Why ``device`` cannot run a cast record (one named after its result dtype: ``half``,
    ``double``, ``bfloat16``) whatever its input dtype, or None: the device lacks that dtype."""
    target = ember.dtypes._BY_NAME.get(spec.name)
    if target is None or device.backend.supports_dtype(target, device.index):
        return None
    return f"{device} does not support {target.name}, the result dtype of {spec.name}"


def tolerance(dtype_name: str, spec: OpSpec) -> tuple[float, float]:
    """(atol, rtol) for comparing an op's result in ``dtype_name`` with the reference."""
    if dtype_name == "float16":
        return 2e-2, 2e-2
    if dtype_name == "bfloat16":  # 8 significant bits: one rounding is 2**-9 relative, ops round a few times
        return 3e-2, 3e-2
    if dtype_name in ("float32", "complex64"):
        return max(spec.atol, 1e-5), max(spec.rtol, 1e-4)
    return 1e-9 if spec.atol <= 1e-5 else spec.atol, 1e-7
