"""Ember: tensors, autograd and neural networks on any device, with device backends as plugins.

>>> import ember
>>> x = ember.randn(3, 4, requires_grad=True)
>>> (x.relu() ** 2).sum().backward()
>>> x.grad.shape
(3, 4)
"""

from __future__ import annotations

import builtins

from . import dtypes
from .autograd import enable_grad, grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Backend, BackendUnavailable
from .compile import compile  # noqa: A001 - ember.compile, as torch.compile
from .device import Device, device, devices, get_default_device, set_default_device
from .dtypes import (
    DType,
    bfloat16,
    bool_,
    cdouble,
    cfloat,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    is_complex,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)
from .errors import BackendError, CheckpointError, DeviceMismatchError, EmberError, KernelNotFoundError
from .hookspecs import BACKEND_API_VERSION, BackendDeclaration, KernelOverride, hookimpl
from .ops import *  # noqa: F403
from .ops import __dict__ as _ops_namespace
from .registry import backends
from .registry import registry as _registry
from .tensor import Tensor

__version__ = "0.1.0"

import ember.fft as fft  # noqa: E402 - torch.fft's functions
import ember.linalg as linalg  # noqa: E402 - the package, in place of the star import's ops.linalg

bool = bool_  # noqa: A001 - ember.bool, as torch.bool
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

_registry.discover()


def is_tensor(obj: object) -> builtins.bool:
    """Whether ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def synchronize(target: object = None) -> None:
    """Wait for all queued work on a device (default: the default device)."""
    device(target).synchronize()  # type: ignore[arg-type]


def __getattr__(name: str) -> object:
    # lazily imported subpackages keep `import ember` fast
    import importlib

    lazy = ("nn", "optim", "data", "testing", "serialization", "library", "utils", "profiler", "distributed")
    if name in lazy:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    raise AttributeError(f"module 'ember' has no attribute {name!r}")


del _ops_namespace
