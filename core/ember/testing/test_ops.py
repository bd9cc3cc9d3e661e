"""Conformance: every op record against its numpy reference, and gradchecks, on the device under test."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ember
from ember.testing.invariants import call_checked, device_has_data
from ember.testing.op_table import (
    OPS,
    ErrorSample,
    OpSpec,
    Sample,
    cast_sample,
    missing_result_dtype,
    to_ember,
    tolerance,
)

# the numpy references warn on degenerate samples (variance of one element); the comparison is what counts
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# the 16-bit floats' references run in float32 (numpy would accumulate in 16 bits), as PyTorch computes them
_HALF_NUMPY = (np.dtype(np.float16), ember.bfloat16.numpy)

_CASES = [(spec, dt) for spec in OPS if spec.ref is not None for dt in spec.dtypes]


def _supports(device: Any, dtype_name: str) -> bool:
    return device.backend.supports_dtype(ember.dtypes.as_dtype(dtype_name), device.index)


@pytest.mark.parametrize("spec,dtype", _CASES, ids=[f"{s.name}-{d}" for s, d in _CASES])
def test_forward_matches_numpy(spec: OpSpec, dtype: str, ember_device: Any) -> None:
    """The op's values and shape equal the numpy reference for every sample; the result's buffers
    hold exactly the dtype and shape the tensor records, and the inputs are unchanged."""
    if not _supports(ember_device, dtype):
        pytest.skip(f"{ember_device} does not support {dtype}")
    if (missing := missing_result_dtype(spec, ember_device)) is not None:
        pytest.skip(missing)
    rng = np.random.default_rng(0)
    for raw in spec.samples(dtype, rng):
        sample = cast_sample(raw, dtype)
        args, kwargs = to_ember(sample, dtype, ember_device)
        # every result: buffer dtype and shape equal the tensor's, inputs untouched
        out = call_checked(spec.name, spec.caller(), args, kwargs, ember_device)
        ref_args = [
            a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype in _HALF_NUMPY else a
            for a in sample.args
        ]
        expected = np.asarray(spec.ref(*ref_args, **kwargs))
        if not isinstance(out, ember.Tensor) and isinstance(out, (tuple, list)):
            raise AssertionError(
                f"{spec.name}: returned a {type(out).__name__}; a record's call returns a tensor"
            )
        assert isinstance(out, ember.Tensor), f"{spec.name}: returned {type(out).__name__}"
        assert out.device is ember_device, f"{spec.name}: result on {out.device}, expected {ember_device}"
        got = out.numpy()
        assert got.shape == expected.shape, (
            f"{spec.name}[{sample.describe()}]: shape {got.shape}, expected {expected.shape}"
        )
        assert got.dtype == out.dtype.numpy, (
            f"{spec.name}: buffer dtype {got.dtype} but tensor says {out.dtype}"
        )
        atol, rtol = tolerance(dtype, spec)
        where = f"{spec.name}[{sample.describe()}] {dtype} on {ember_device}"
        kinds = {expected.dtype.kind, got.dtype.kind}
        if kinds & {"c", "f"}:  # compared in the widest type of their kind
            wide = np.complex128 if "c" in kinds else np.float64
            np.testing.assert_allclose(
                got.astype(wide), expected.astype(wide), atol=atol, rtol=rtol, err_msg=where
            )
        else:
            np.testing.assert_array_equal(got, expected.astype(got.dtype), err_msg=where)


_GRAD_CASES = [spec for spec in OPS if spec.grad and any(d.startswith("float") for d in spec.dtypes)]


def _fast_gradcheck(config: Any) -> bool:
    """Whether ``--ember-gradcheck`` asks for fast gradchecks (the default) rather than full Jacobians."""
    return config.getoption("--ember-gradcheck", default="fast") == "fast"


@pytest.mark.parametrize("spec", _GRAD_CASES, ids=[s.name for s in _GRAD_CASES])
def test_gradcheck(spec: OpSpec, ember_device: Any, pytestconfig: Any) -> None:
    """Autograd's gradients match central finite differences (float64 where the device has it):
    along random directions, or whole Jacobians under ``--ember-gradcheck=full``."""
    dtype = "float64" if _supports(ember_device, "float64") else "float32"
    atol, rtol = (1e-5, 1e-3) if dtype == "float64" else (2e-2, 5e-2)
    eps = 1e-6 if dtype == "float64" else 1e-2
    rng = np.random.default_rng(1)
    for raw in spec.samples(dtype, rng):
        if not raw.grad:
            continue
        sample = cast_sample(raw, dtype)
        args, kwargs = to_ember(sample, dtype, ember_device, requires_grad=True)
        if not any(isinstance(a, ember.Tensor) and a.requires_grad for a in args):
            continue
        ember.autograd.gradcheck(
            lambda *xs, kw=kwargs: spec.caller()(*xs, **kw),
            args,
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=_fast_gradcheck(pytestconfig),
        )


_COMPLEX_GRAD_CASES = [spec for spec in OPS if spec.grad and "complex128" in spec.dtypes]


@pytest.mark.parametrize("spec", _COMPLEX_GRAD_CASES, ids=[s.name for s in _COMPLEX_GRAD_CASES])
def test_gradcheck_complex(spec: OpSpec, ember_device: Any, pytestconfig: Any) -> None:
    """Autograd's gradients of complex inputs (PyTorch's convention) match central finite
    differences of the real and imaginary parts, in complex128 (along random directions, or whole
    Jacobians under ``--ember-gradcheck=full``)."""
    if not _supports(ember_device, "complex128"):
        pytest.skip(f"{ember_device} does not support complex128")
    if not device_has_data(ember_device):
        pytest.skip(f"{ember_device} holds no values: finite differences need them")
    rng = np.random.default_rng(1)
    for raw in spec.samples("complex128", rng):
        if not raw.grad:
            continue
        sample = cast_sample(raw, "complex128")
        args, kwargs = to_ember(sample, "complex128", ember_device, requires_grad=True)
        if not any(isinstance(a, ember.Tensor) and a.requires_grad for a in args):
            continue
        ember.autograd.gradcheck(
            lambda *xs, kw=kwargs: spec.caller()(*xs, **kw),
            args,
            eps=1e-6,
            atol=1e-5,
            rtol=1e-3,
            fast_mode=_fast_gradcheck(pytestconfig),
        )


_ERROR_CASES = [(spec, i, err) for spec in OPS for i, err in enumerate(spec.errors)]


@pytest.mark.parametrize("spec,_i,error", _ERROR_CASES, ids=[f"{s.name}-{i}" for s, i, _ in _ERROR_CASES])
def test_error_contract(spec: OpSpec, _i: int, error: ErrorSample, ember_device: Any) -> None:
    """Bad input raises the record's exception, with a message that names the op and the values."""
    if error.error in (IndexError, ZeroDivisionError) and not getattr(ember_device.backend, "has_data", True):
        pytest.skip(f"{ember_device} holds no values: value checks (bounds, zero divisors) cannot run")
    args, kwargs = to_ember(Sample(error.args, error.kwargs), "float64", ember_device)
    with pytest.raises(error.error, match=error.match):
        spec.fn(*args, **kwargs)
