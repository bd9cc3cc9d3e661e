"""Complex numbers: the parts of a complex tensor and the ops only complex tensors have.

``real``, ``imag``, ``conj``, ``angle``, ``polar``, ``complex``, ``view_as_real``,
``view_as_complex`` and ``vdot`` (and ``abs`` and ``sgn`` of complex tensors), with PyTorch's
names and gradients. Arithmetic, ``exp``, ``sum``, ``matmul`` ... on complex tensors are the
ordinary ops (their kernels take complex buffers on devices that support complex dtypes; their
backwards conjugate the derivative).

Gradients follow PyTorch's convention: for a real loss L of a complex z = x + iy, ``z.grad`` is
``dL/dx + i dL/dy`` (twice the derivative with respect to conj(z)), so gradient descent on z is
gradient descent on its two real parts. A holomorphic op f sends ``g`` back as ``g * conj(f'(z))``.

Ember holds no lazy conjugate bit: ``conj`` makes a new tensor, ``is_conj`` is always False and
``resolve_conj`` returns its input. ``real``, ``imag`` and ``view_as_real`` / ``view_as_complex``
return new tensors, not views (a device buffer of floats cannot alias one of complex values on
every backend): an in-place op on ``x.real`` does not change ``x``; assign the parts instead
(``x.real = v``, ``x.imag = v`` write them in place, as in PyTorch).

Kernels: ``real``, ``imag``, ``complex`` and ``conj`` are optional kernels
(:data:`ember.ops.catalog.OPTIONAL_KERNELS`); without them the first three copy through the host
(correct on every device that holds complex buffers, but synchronising) and ``conj`` is
``complex(real(x), -imag(x))``. :func:`complex_array_kernels` gives numpy and CuPy theirs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ._core import STATE, Tensor, _make, attach, kernel, same_device

__all__ = [
    "angle",
    "complex",
    "complex_array_kernels",
    "conj",
    "conj_physical",
    "is_complex",
    "is_conj",
    "polar",
    "real",
    "imag",
    "resolve_conj",
    "resolve_neg",
    "is_neg",
    "view_as_complex",
    "view_as_real",
    "vdot",
]

_complex = complex  # the Python type (the module's own ``complex`` is the op)


def is_complex(input: Tensor) -> bool:
    """Whether ``input`` has a complex dtype (complex64 or complex128)."""
    return _dt.is_complex(input)


def _host_kernel(x: Tensor, fn: Any, shape: tuple[int, ...], dtype: Any, *bufs: Any) -> Any:
    """``fn`` of the buffers on the host, as a buffer on ``x``'s device: the composite of the
    part kernels for a device without them (it synchronises). A device that holds no values
    (``Backend.has_data = False``, such as ``meta``) gets an ``empty`` buffer of the result's
    ``shape`` and ``dtype``: there are no values to compute."""
    dev = x.device
    if not getattr(dev.backend, "has_data", True):
        return kernel(dev, "empty")(shape, dtype, dev.index)
    to_host = kernel(dev, "to_numpy")
    arr = np.asarray(fn(*(np.asarray(to_host(b)) for b in bufs)), order="C")  # (0-d stays 0-d)
    return kernel(dev, "from_numpy")(arr, dev.index)


def _need_tensor(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected an ember.Tensor, got {type(x).__name__}")


def _part(op: str, x: Tensor, host_fn: Any) -> Tensor:
    """The real or imaginary part of complex ``x`` (kernel ``op``), as a new real tensor."""
    rdt = x.dtype.to_real()
    k = x.device.kernels.get(op)
    data = k(x._data) if k is not None else _host_kernel(x, host_fn, x.shape, rdt, x._data)
    return _make(data, x.shape, rdt, x.device)


def real(x: Tensor) -> Tensor:
    """The real parts of a complex tensor, as a real tensor (a new tensor, not a view as in
    PyTorch); a real tensor is returned as it is."""
    _need_tensor("real", x)
    if not x.dtype.is_complex:
        return x
    out = _part("real", x, np.real)
    if x.requires_grad and STATE.enabled:
        cdt = x.dtype
        # dL/dx is g, dL/dy is 0: the gradient g + 0i
        attach(out, "real", lambda g: (g.to(cdt),), (x,))
    return out


def imag(x: Tensor) -> Tensor:
    """The imaginary parts of a complex tensor, as a real tensor (a new tensor, not a view as in
    PyTorch). Real tensors have none: RuntimeError, as in PyTorch."""
    _need_tensor("imag", x)
    if not x.dtype.is_complex:
        raise RuntimeError(
            f"imag: not implemented for tensors with non-complex dtypes ({x.dtype}), as in PyTorch; "
            "a real tensor's imaginary part is zero (ember.zeros_like(x)), or convert with "
            "x.to(ember.complex64)"
        )
    out = _part("imag", x, np.imag)
    if x.requires_grad and STATE.enabled:
        # dL/dx is 0, dL/dy is g: the gradient 0 + ig
        from .elementwise import zeros_like_

        attach(out, "imag", lambda g: (complex(zeros_like_(g), g),), (x,))
    return out


def complex(real: Tensor, imag: Tensor) -> Tensor:
    """The complex tensor ``real + i * imag`` (both float32 or both float64, broadcast), as
    ``torch.complex``; infinite parts stay as they are (``inf * 1j`` would make a NaN)."""
    for name, v in (("real", real), ("imag", imag)):
        if not isinstance(v, Tensor):
            raise TypeError(f"complex: {name} must be a tensor, got {type(v).__name__}")
    if real.dtype is not imag.dtype or real.dtype not in (_dt.float32, _dt.float64):
        raise TypeError(
            f"complex: expected real and imag of one dtype, float32 or float64, got {real.dtype} and "
            f"{imag.dtype}; convert them with .float() or .double()"
        )
    dev = same_device("complex", real, imag)
    from .elementwise import _broadcast

    shape = real.shape if real.shape == imag.shape else _broadcast("complex", real.shape, imag.shape)
    cdt = real.dtype.to_complex()
    k = dev.kernels.get("complex")
    if k is not None:
        data = k(real._data, imag._data)
    else:

        def host(re: np.ndarray, im: np.ndarray) -> np.ndarray:
            out = np.empty(np.broadcast_shapes(re.shape, im.shape), cdt.numpy)
            out.real, out.imag = re, im
            return out

        data = _host_kernel(real, host, shape, cdt, real._data, imag._data)
    out = _make(data, shape, cdt, dev)
    if STATE.enabled and (real.requires_grad or imag.requires_grad):
        from ._core import sum_to

        # as recorded (an in-place squeeze_/unsqueeze_ may change the parts' shapes later)
        re_shape, im_shape = real.shape, imag.shape
        re_grad, im_grad = real.requires_grad, imag.requires_grad

        def grad(g: Tensor) -> tuple[Any, Any]:
            gr = sum_to(_real_of(g), re_shape) if re_grad else None
            gi = sum_to(_imag_of(g), im_shape) if im_grad else None
            return gr, gi

        attach(out, "complex", grad, (real, imag))
    return out


def _real_of(g: Tensor) -> Tensor:
    return real(g) if g.dtype.is_complex else g


def _imag_of(g: Tensor) -> Tensor:
    if g.dtype.is_complex:
        return imag(g)
    from .elementwise import zeros_like_

    return zeros_like_(g)


def conj(x: Tensor) -> Tensor:
    """The complex conjugate (a new tensor: Ember keeps no lazy conjugate bit); a real tensor is
    returned as it is, as in PyTorch."""
    _need_tensor("conj", x)
    if not x.dtype.is_complex:
        return x
    k = x.device.kernels.get("conj")
    if k is not None:
        out = _make(k(x._data), x.shape, x.dtype, x.device)
    else:
        from ..autograd.grad_mode import no_grad
        from .elementwise import neg

        with no_grad():
            out = complex(real(x), neg(imag(x)))
    if x.requires_grad and STATE.enabled:
        attach(out, "conj", lambda g: (conj(g),), (x,))
    return out


def conj_physical(x: Tensor) -> Tensor:
    """The complex conjugate, computed now (as :func:`conj`: Ember has no lazy conjugate); a copy
    for a real tensor, as in PyTorch."""
    _need_tensor("conj_physical", x)
    return conj(x) if x.dtype.is_complex else x.clone()


def resolve_conj(x: Tensor) -> Tensor:
    """``x`` itself: Ember never holds a lazy conjugate bit to resolve (PyTorch returns a
    materialised conjugate only for a tensor whose bit is set)."""
    _need_tensor("resolve_conj", x)
    return x


def resolve_neg(x: Tensor) -> Tensor:
    """``x`` itself: Ember never holds a lazy negative bit to resolve."""
    _need_tensor("resolve_neg", x)
    return x


def is_conj(x: Tensor) -> bool:
    """False: Ember's :func:`conj` computes the conjugate at once, so no tensor carries PyTorch's
    lazy conjugate bit."""
    _need_tensor("is_conj", x)
    return False


def is_neg(x: Tensor) -> bool:
    """False: no Ember tensor carries PyTorch's lazy negative bit."""
    _need_tensor("is_neg", x)
    return False


def complex_abs(x: Tensor) -> Tensor:
    """``|x|`` of a complex tensor as a real tensor: the optional ``complex_abs`` kernel, else
    ``hypot(real(x), imag(x))`` (overflow-safe; inf if either part is inf). The unary primitives
    keep their input's dtype, so ``abs`` never sees a complex buffer. Gradient ``g * sgn(x)``, 0
    at 0, as in PyTorch."""
    rdt = x.dtype.to_real()
    k = x.device.kernels.get("complex_abs")
    if k is not None:
        out = _make(k(x._data), x.shape, rdt, x.device)
    else:
        from ..autograd.grad_mode import no_grad
        from .math_functions import hypot

        with no_grad():
            out = hypot(real(x), imag(x))
    if x.requires_grad and STATE.enabled:
        attach(out, "abs", lambda g: (g * complex_sgn(x),), (x,), (x,))
    return out


def complex_sgn(x: Tensor) -> Tensor:
    """``x / |x|`` (0 where x is 0) of a complex tensor: ``torch.sgn`` (:func:`ember.sgn`)."""
    from .elementwise import div, eq, where

    a = complex_abs(x)
    zero = eq(a, 0)
    # the zero test on the magnitude: 0 / 0 would be NaN
    return where(zero, 0, div(x, where(zero, 1.0, a)))


def angle(x: Tensor) -> Tensor:
    """The argument of each element in radians, in [-pi, pi]: ``atan2(imag, real)`` for complex
    tensors (a real tensor); for real tensors 0 where x >= 0, pi where x < 0, NaN at NaN, as
    ``torch.angle`` (integers give the default float dtype). Gradient as PyTorch's: 0 at 0."""
    _need_tensor("angle", x)
    from ..autograd.grad_mode import no_grad
    from .elementwise import eq, isnan, lt, where, zeros_like_
    from .trigonometric import atan2

    if not x.dtype.is_complex:
        xf = x if x.dtype.is_floating_point else x.to(_dt.get_default_dtype())
        with no_grad():
            out = where(lt(xf, 0), math.pi, where(isnan(xf), math.nan, 0.0)).to(xf.dtype)
        if xf.requires_grad and STATE.enabled:
            attach(out, "angle", lambda g: (zeros_like_(g),), (xf,))
        return out
    with no_grad():
        out = atan2(imag(x), real(x))
    if x.requires_grad and STATE.enabled:

        def grad(g: Tensor) -> tuple[Tensor]:
            # d angle / dx = -y / r^2, d angle / dy = x / r^2: the gradient g * (-y + ix) / r^2
            # = g * i * x / |x|^2 (0 at 0, where the angle is flat by convention)
            r2 = real(x) * real(x) + imag(x) * imag(x)
            safe = where(eq(r2, 0), 1.0, r2)
            return (where(eq(r2, 0), 0, g * x * 1j / safe),)

        attach(out, "angle", grad, (x,), (x,))
    return out


def polar(abs: Tensor, angle: Tensor) -> Tensor:
    """The complex tensor ``abs * (cos(angle) + i sin(angle))`` (both float32 or both float64,
    broadcast), as ``torch.polar``."""
    from .elementwise import cos, mul, sin

    for name, v in (("abs", abs), ("angle", angle)):
        if not isinstance(v, Tensor):
            raise TypeError(f"polar: {name} must be a tensor, got {type(v).__name__}")
    if abs.dtype is not angle.dtype or abs.dtype not in (_dt.float32, _dt.float64):
        raise TypeError(
            f"polar: expected abs and angle of one dtype, float32 or float64, got {abs.dtype} and "
            f"{angle.dtype}; convert them with .float() or .double()"
        )
    return complex(mul(abs, cos(angle)), mul(abs, sin(angle)))


def view_as_real(x: Tensor) -> Tensor:
    """A complex tensor as a real one with a last dim of 2 (real, imaginary); a new tensor here,
    a view in PyTorch (see the module's docstring)."""
    _need_tensor("view_as_real", x)
    if not x.dtype.is_complex:
        raise RuntimeError(
            f"view_as_real: only supported for complex tensors, got {x.dtype}; a real tensor x "
            "becomes one with ember.stack([x, ember.zeros_like(x)], -1)"
        )
    from .joining import stack

    return stack([real(x), imag(x)], -1)


def view_as_complex(x: Tensor) -> Tensor:
    """A float32 / float64 tensor whose last dim is 2 (real, imaginary) as a complex tensor with
    that dim removed; a new tensor here, a view in PyTorch (see the module's docstring)."""
    _need_tensor("view_as_complex", x)
    if x.dtype not in (_dt.float32, _dt.float64):
        raise RuntimeError(
            f"view_as_complex: only supported for float32 and float64 tensors, got {x.dtype}; "
            "convert with .float() first"
        )
    if not x.shape or x.shape[-1] != 2:
        raise RuntimeError(
            f"view_as_complex: the tensor must have a last dimension of size 2 (real, imaginary), "
            f"got shape {x.shape}"
        )
    return complex(x[..., 0], x[..., 1])


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``sum(conj(input) * other)`` of two 1-D tensors of one size and dtype (the dot product
    that conjugates its first argument, as ``torch.vdot``; equal to ``dot`` for real tensors)."""
    from .linalg import dot

    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"vdot: {name} must be a tensor, got {type(v).__name__}")
    if input.dtype is not other.dtype:
        raise TypeError(
            f"vdot: expected both vectors to have one dtype, got {input.dtype} and {other.dtype}; "
            f"convert one with .to({input.dtype})"
        )
    if input.ndim != 1 or other.ndim != 1 or input.shape != other.shape:
        raise ValueError(
            f"vdot: expected two 1-D tensors of the same size, got shapes {input.shape} and {other.shape}"
        )
    return dot(conj(input), other)


def _real_property(self: Tensor) -> Tensor:
    """The real parts (``x.real``): for a real tensor the tensor itself (see :func:`real`)."""
    return real(self)


def _imag_property(self: Tensor) -> Tensor:
    """The imaginary parts (``x.imag``); RuntimeError for a real tensor (see :func:`imag`)."""
    return imag(self)


def _part_value(x: Tensor, value: Any, op: str) -> Tensor:
    """``value`` (a tensor or a number) as real parts for ``x``: x's real dtype, on x's device."""
    from .creation import full

    rdt = x.dtype.to_real()
    if isinstance(value, Tensor):
        if value.dtype.is_complex:
            raise TypeError(f"{op}: expected real values, got a {value.dtype} tensor; pass value.real")
        return value if value.dtype is rdt else value.to(rdt)
    if isinstance(value, _complex):
        raise TypeError(f"{op}: expected a real number, got {value!r}")
    return full(x.shape, value, dtype=rdt, device=x.device)


def _set_real(self: Tensor, value: Any) -> None:
    """``x.real = value``: the real parts written in place (broadcast), as in PyTorch; for a real
    tensor, ``x`` itself is written (``x.real`` is ``x``). Recorded by autograd as a ``copy_``."""
    if not self.dtype.is_complex:
        self.copy_(value if isinstance(value, Tensor) else _part_value(self, value, "real"))
        return
    self.copy_(complex(_part_value(self, value, "real"), imag(self)))


def _set_imag(self: Tensor, value: Any) -> None:
    """``x.imag = value``: the imaginary parts written in place (broadcast), as in PyTorch;
    RuntimeError for a real tensor."""
    if not self.dtype.is_complex:
        imag(self)  # raises, naming the dtype
    self.copy_(complex(real(self), _part_value(self, value, "imag")))


# ----------------------------------------------------------------------------------------------
# kernels on a numpy-like namespace (numpy, CuPy), merged into ArrayBackend's table
# ----------------------------------------------------------------------------------------------
def complex_array_kernels(xp: Any) -> dict[str, Any]:
    """The optional complex kernels on the numpy-like namespace ``xp`` (numpy, CuPy): ``real``,
    ``imag`` (fresh real buffers), ``complex`` (parts written separately, so an infinite part
    stays infinite) and ``conj``. Other namespaces (array_api_strict, PyTorch through
    array_api_compat: no writable part views, and ``real`` may return a view) get only
    ``complex_abs`` (the standard's ``abs`` of a complex array is real), and core's composites
    run for the parts."""
    k: dict[str, Any] = {"complex_abs": lambda x: xp.abs(x)}
    if not hasattr(xp, "ascontiguousarray"):
        return k

    def make_complex(re: Any, im: Any) -> Any:
        # shapes are host tuples: numpy's broadcast rule serves every namespace
        shape = re.shape if re.shape == im.shape else np.broadcast_shapes(re.shape, im.shape)
        cdt = xp.complex64 if re.dtype == xp.float32 else xp.complex128
        out = xp.empty(shape, cdt)
        out.real[...] = re
        out.imag[...] = im
        return out

    return k | {
        "real": lambda x: xp.real(x).copy(),
        "imag": lambda x: xp.imag(x).copy(),
        "complex": make_complex,
        "conj": lambda x: xp.conj(x),
    }


# ----------------------------------------------------------------------------------------------
# op records
# ----------------------------------------------------------------------------------------------
def _i_times(z: Tensor) -> Tensor:
    """``i * z`` from the parts (``complex(-imag, real)``): exact, no infinity times zero."""
    from .elementwise import neg

    return complex(neg(imag(z)), real(z))


def _minus_i_times(z: Tensor) -> Tensor:
    """``-i * z`` from the parts (``complex(imag, -real)``)."""
    from .elementwise import neg

    return complex(imag(z), neg(real(z)))


def _scale_parts(z: Tensor, k: float) -> Tensor:
    """``z * k`` for a real ``k``, part by part (a complex product would make ``inf * 0`` a NaN
    in the other part)."""
    return complex(real(z) * k, imag(z) * k)


def _sinh(z: Tensor) -> Tensor:
    # sinh(z) = -i sin(iz)
    from .elementwise import sin

    return _minus_i_times(sin(_i_times(z)))


def _cosh(z: Tensor) -> Tensor:
    # cosh(z) = cos(iz)
    from .elementwise import cos

    return cos(_i_times(z))


def _tan(z: Tensor) -> Tensor:
    # tan(z) = -i tanh(iz)
    from .elementwise import tanh

    return _minus_i_times(tanh(_i_times(z)))


def _expm1(z: Tensor) -> Tensor:
    # expm1(x + iy) = (expm1(x) cos y - 2 sin^2(y / 2)) + i e^x sin y: no cancellation near 0;
    # a zero y with a non-finite x is the imaginary part (e^inf * 0 would be NaN; a
    # finite x gives the zero's sign itself, and its gradient through e^x cos y)
    from .elementwise import cos, eq, exp, expm1, isfinite, logical_and, logical_not, sin, where

    x, y = real(z), imag(z)
    h = sin(y * 0.5)
    re = expm1(x) * cos(y) - 2 * h * h + 0.0  # + 0.0: expm1(-0 + 0j) is +0, as exp(z) - 1 gives
    im = where(logical_and(eq(y, 0), logical_not(isfinite(x))), y, exp(x) * sin(y))
    # the standard's special cases (C99's cexp less one) where the formula meets inf * 0 or inf - inf
    y_bad = logical_not(isfinite(y))
    to_m1 = logical_and(eq(x, -math.inf), y_bad)  # -1 + 0j
    to_inf = logical_and(eq(x, math.inf), y_bad)  # inf + NaN j
    re = where(to_m1, -1.0, where(to_inf, math.inf, re))
    im = where(to_m1, 0.0, where(to_inf, math.nan, im))
    return complex(re, im)


def _log1p(z: Tensor) -> Tensor:
    # log1p(x + iy) = log|1 + z| + i atan2(y, 1 + x); near 0 the magnitude's logarithm is
    # 0.5 log1p(x (x + 2) + y^2), which keeps the small terms log|1 + z| would round away
    from .elementwise import abs as abs_
    from .elementwise import log, log1p, lt, where
    from .math_functions import hypot
    from .trigonometric import atan2

    x, y = real(z), imag(z)
    xp1 = x + 1
    small = lt(abs_(x) + abs_(y), 0.5)
    near = log1p(where(small, x * (x + 2) + y * y, 0.0)) * 0.5
    far = log(hypot(xp1, y))
    return complex(where(small, near, far), atan2(y, xp1))


def _log2(z: Tensor) -> Tensor:
    from .elementwise import log

    return _scale_parts(log(z), 1 / math.log(2))


def _log10(z: Tensor) -> Tensor:
    from .elementwise import log

    return _scale_parts(log(z), 1 / math.log(10))


def _re_prod(a: Tensor, b: Tensor) -> Tensor:
    """``real(a * b)`` from the parts."""
    return real(a) * real(b) - imag(a) * imag(b)


def _im_conj_prod(a: Tensor, b: Tensor) -> Tensor:
    """``imag(conj(a) * b)`` from the parts."""
    return real(a) * imag(b) - imag(a) * real(b)


def _shifted(z: Tensor, a: float, sign: float) -> Tensor:
    """``a + sign * z`` from the parts, so that ``1 - z`` has the imaginary part ``-imag(z)``
    exactly (a complex difference would give ``0 - 0 = +0`` for ``imag(z) = +0``, which puts
    the branch cuts' values on the wrong side)."""
    from .elementwise import neg

    x, y = real(z), imag(z)
    return complex(a + x, y) if sign > 0 else complex(a - x, neg(y))


def _asin_kahan(z: Tensor) -> Tensor:
    # Kahan's formulas ("Branch cuts for complex elementary functions", 1987): products of
    # square roots, so no square of z can overflow
    from .elementwise import sqrt
    from .trigonometric import asinh, atan2

    s1m, s1p = sqrt(_shifted(z, 1.0, -1)), sqrt(_shifted(z, 1.0, 1))
    return complex(atan2(real(z), _re_prod(s1m, s1p)), asinh(_im_conj_prod(s1m, s1p)))


def _nonfinite(z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``x``, ``y``, where ``z`` is infinite (either part infinite) and where ``x`` is a zero and
    ``y`` NaN: the inputs whose values the inverse functions' special cases set (the formulas
    meet inf - inf or inf / inf there)."""
    from .elementwise import eq, isinf, isnan, logical_and, logical_or

    x, y = real(z), imag(z)
    return x, y, logical_or(isinf(x), isinf(y)), logical_and(eq(x, 0), isnan(y))


def _acos(z: Tensor) -> Tensor:
    from .elementwise import abs as abs_
    from .elementwise import neg, sqrt, where
    from .math_functions import copysign
    from .trigonometric import asinh, atan2

    s1m, s1p = sqrt(_shifted(z, 1.0, -1)), sqrt(_shifted(z, 1.0, 1))
    re, im = atan2(real(s1m), real(s1p)) * 2, asinh(_im_conj_prod(s1p, s1m))
    x, y, inf, zero_nan = _nonfinite(z)
    # infinite z: the angle of (x, |y|) and -inf signed as y (C99's cacos)
    re = where(inf, atan2(abs_(y), x), where(zero_nan, math.pi / 2, re))
    im = where(inf, neg(copysign(where(inf, math.inf, 0.0), y)), where(zero_nan, math.nan, im))
    return complex(re, im)


def _acosh(z: Tensor) -> Tensor:
    from .elementwise import abs as abs_
    from .elementwise import sqrt, where
    from .math_functions import copysign
    from .trigonometric import asinh, atan2

    sm1, sp1 = sqrt(_shifted(z, -1.0, 1)), sqrt(_shifted(z, 1.0, 1))
    re, im = asinh(_re_prod(_conj_parts(sm1), sp1)), atan2(imag(sm1), real(sp1)) * 2
    x, y, inf, zero_nan = _nonfinite(z)
    # infinite z: +inf and the angle of (x, |y|) signed as y (C99's cacosh)
    re = where(inf, math.inf, where(zero_nan, math.nan, re))
    im = where(inf, copysign(atan2(abs_(y), x), y), where(zero_nan, math.pi / 2, im))
    return complex(re, im)


def _conj_parts(z: Tensor) -> Tensor:
    from .elementwise import neg

    return complex(real(z), neg(imag(z)))


def _asinh(z: Tensor) -> Tensor:
    # asinh(z) = -i asin(iz), and C99's casinh where z is infinite or x is NaN and y a zero
    from .elementwise import abs as abs_
    from .elementwise import eq, isnan, logical_and, where
    from .math_functions import copysign
    from .trigonometric import atan2

    out = _minus_i_times(_asin_kahan(_i_times(z)))
    re, im = real(out), imag(out)
    x, y, inf, _ = _nonfinite(z)
    nan_zero = logical_and(isnan(x), eq(y, 0))
    re = where(inf, copysign(where(inf, math.inf, 0.0), x), where(nan_zero, math.nan, re))
    im = where(inf, copysign(atan2(abs_(y), abs_(x)), y), where(nan_zero, y, im))
    return complex(re, im)


def _asin(z: Tensor) -> Tensor:
    # asin(z) = -i asinh(iz): the special cases come with asinh's
    return _minus_i_times(_asinh(_i_times(z)))


def _atanh(z: Tensor) -> Tensor:
    # atanh(z) = (log1p(z) - log1p(-z)) / 2; -z from the parts, so that -(2 + 0j) is -2 - 0j on
    # every device (its log1p's imaginary part, -pi, sets the side of the branch cut)
    from .creation import full_like
    from .elementwise import isnan, neg, where
    from .math_functions import copysign

    out = _scale_parts(_log1p(z) - _log1p(complex(neg(real(z)), neg(imag(z)))), 0.5)
    re, im = real(out), imag(out)
    x, y, inf, zero_nan = _nonfinite(z)
    # infinite z: a zero signed as x and pi/2 signed as y (NaN where y is NaN), as C99's catanh
    re = where(inf, copysign(where(inf, 0.0, 1.0), x), where(zero_nan, x, re))
    half_pi = full_like(y, math.pi / 2)  # in y's dtype (a Python float alone would be float32)
    im = where(inf, where(isnan(y), math.nan, copysign(half_pi, y)), im)
    return complex(re, im)


def _atan(z: Tensor) -> Tensor:
    # atan(z) = -i atanh(iz)
    return _minus_i_times(_atanh(_i_times(z)))


#: the complex forms of unary ops whose kernels take real tensors only: each is composed of ops
#: that take complex tensors or of real ops on the parts, on every device, and differentiates
#: through them (``ember.ops.elementwise`` and ``ember.ops.trigonometric`` send complex inputs
#: of these ops here)
COMPLEX_COMPOSITES: dict[str, Any] = {
    "sinh": _sinh,
    "cosh": _cosh,
    "tan": _tan,
    "expm1": _expm1,
    "log1p": _log1p,
    "log2": _log2,
    "log10": _log10,
    "asin": _asin,
    "acos": _acos,
    "acosh": _acosh,
    "asinh": _asinh,
    "atanh": _atanh,
    "atan": _atan,
}


def _records() -> None:
    from .records import OpRecord, register
    from .samples import COMPLEX, FLOATS, ErrorSample, Sample, complex_specials, rand_array, unary_samples

    def with_specials(dtype: str, rng: np.random.Generator) -> list[Sample]:
        # the parts of infinities, NaNs and signed zeros must come through each kernel untouched
        out = unary_samples()(dtype, rng)
        if dtype.startswith("complex"):
            out.append(Sample((complex_specials(dtype),), grad=False))
        return out

    def parts_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*shape: int) -> np.ndarray:
            return rand_array(rng, shape, dtype)

        out = [
            Sample((a(3, 4), a(3, 4))),
            Sample((a(3, 4), a(4))),
            Sample((a(), a(2))),
            Sample((a(0, 2), a(2)), grad=False),
            Sample((a(4, 3), a(4, 3)), noncontig=True),
            Sample((a(2, 3), a(2, 3)), noncontig="flip", grad=False),
        ]
        if dtype.startswith("float"):
            sp = complex_specials("complex128")
            out.append(Sample((sp.real.astype(dtype), sp.imag.astype(dtype)), grad=False))
        return out

    def pairs_last_dim(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*shape: int) -> np.ndarray:
            return rand_array(rng, shape, dtype)

        return [
            Sample((a(3, 2),)),
            Sample((a(2),)),
            Sample((a(2, 3, 2),), grad=False),
            Sample((a(0, 2),), grad=False),
            Sample((a(4, 2),), noncontig="flip", grad=False),
        ]

    def vectors(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (5,), dtype), rand_array(rng, (5,), dtype))),
            Sample((rand_array(rng, (0,), dtype), rand_array(rng, (0,), dtype)), grad=False),
            Sample((rand_array(rng, (4,), dtype), rand_array(rng, (4,), dtype)), noncontig="flip"),
        ]

    def np_complex(re: np.ndarray, im: np.ndarray) -> np.ndarray:
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), np.result_type(re.dtype, np.complex64))
        out.real, out.imag = re, im
        return out

    def np_view_as_complex(x: np.ndarray) -> np.ndarray:
        return np_complex(x[..., 0], x[..., 1])

    def np_view_as_real(x: np.ndarray) -> np.ndarray:
        return np.stack([x.real, x.imag], -1)

    def np_polar(r: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np_complex(r * np.cos(t), r * np.sin(t))

    def np_angle(x: np.ndarray) -> np.ndarray:
        if x.dtype.kind == "c":
            return np.angle(x)
        return np.where(x < 0, np.pi, np.where(np.isnan(x), np.nan, 0.0)).astype(x.dtype)

    real_error = ErrorSample(
        (np.ones(3),),
        {},
        RuntimeError,
        "imag: not implemented for tensors with non-complex dtypes \\(ember.float64\\)",
    )
    register(
        OpRecord(
            "real",
            real,
            with_specials,
            np.real,
            kernel="real",
            covers=("Tensor.real",),
            dtypes=COMPLEX + FLOATS,
        ),
        OpRecord(
            "imag",
            imag,
            with_specials,
            np.imag,
            kernel="imag",
            covers=("Tensor.imag",),
            dtypes=COMPLEX,
            errors=(real_error,),
        ),
        OpRecord(
            "complex",
            complex,
            parts_samples,
            np_complex,
            kernel="complex",
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32)),
                    {},
                    TypeError,
                    "complex: expected real and imag of one dtype, float32 or float64, got ember.float64 and "
                    "ember.float32",
                ),
            ),
        ),
        OpRecord(
            "conj",
            conj,
            with_specials,
            np.conj,
            kernel="conj",
            methods=("conj",),
            dtypes=COMPLEX + FLOATS,
        ),
        # abs of complex tensors: the complex_abs kernel (the abs record proves the op's other dtypes)
        OpRecord(
            "abs_complex",
            _abs,
            with_specials,
            np.abs,
            kernel="complex_abs",
            covers=("abs",),
            dtypes=COMPLEX,
            public=False,
        ),
        OpRecord(
            "conj_physical",
            conj_physical,
            unary_samples(),
            np.conj,
            methods=("conj_physical",),
            inplace=("conj_physical_",),
            dtypes=COMPLEX + FLOATS,
        ),
        OpRecord(
            "resolve_conj",
            resolve_conj,
            unary_samples(),
            lambda x: x,
            methods=("resolve_conj",),
            dtypes=COMPLEX + FLOATS,
        ),
        OpRecord(
            "resolve_neg",
            resolve_neg,
            unary_samples(),
            lambda x: x,
            methods=("resolve_neg",),
            dtypes=COMPLEX + FLOATS,
        ),
        OpRecord(
            "is_conj",
            is_conj,
            unary_samples(),
            lambda x: np.asarray(False),
            call=lambda x: _flag_tensor(x, is_conj(x)),
            methods=("is_conj",),
            dtypes=COMPLEX,
            grad=False,
        ),
        OpRecord(
            "is_neg",
            is_neg,
            unary_samples(),
            lambda x: np.asarray(False),
            call=lambda x: _flag_tensor(x, is_neg(x)),
            methods=("is_neg",),
            dtypes=COMPLEX,
            grad=False,
        ),
        OpRecord(
            "is_complex",
            is_complex,
            unary_samples(),
            lambda x: np.asarray(np.iscomplexobj(x)),
            call=lambda x: _flag_tensor(x, is_complex(x)),
            covers=("Tensor.is_complex",),
            dtypes=COMPLEX + FLOATS + ("int64",),
            grad=False,
        ),
        OpRecord(
            "angle",
            angle,
            with_specials,
            np_angle,
            methods=("angle",),
            dtypes=COMPLEX + FLOATS,
        ),
        OpRecord(
            "polar",
            polar,
            parts_samples,
            np_polar,
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3, dtype=np.float32)),
                    {},
                    TypeError,
                    "polar: expected abs and angle of one dtype",
                ),
            ),
        ),
        OpRecord(
            "view_as_real",
            view_as_real,
            with_specials,
            np_view_as_real,
            dtypes=COMPLEX,
            errors=(
                ErrorSample(
                    (np.ones(3),),
                    {},
                    RuntimeError,
                    "view_as_real: only supported for complex tensors, got ember.float64",
                ),
            ),
        ),
        OpRecord(
            "view_as_complex",
            view_as_complex,
            pairs_last_dim,
            np_view_as_complex,
            dtypes=FLOATS,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)),),
                    {},
                    RuntimeError,
                    "view_as_complex: the tensor must have a last dimension of size 2 \\(real, "
                    "imaginary\\), got shape \\(2, 3\\)",
                ),
            ),
        ),
        *_composite_records(OpRecord, unary_samples, COMPLEX),
        OpRecord(
            "vdot",
            vdot,
            vectors,
            np.vdot,
            methods=("vdot",),
            dtypes=COMPLEX + FLOATS,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(4)),
                    {},
                    ValueError,
                    "vdot: expected two 1-D tensors of the same size",
                ),
            ),
        ),
    )


def _composite_records(record: Any, unary_samples: Any, dtypes: tuple[str, ...]) -> list[Any]:
    """One record per op of :data:`COMPLEX_COMPOSITES` on complex tensors (``sinh_complex`` ...),
    against numpy's complex functions, with gradients (the op records prove the real dtypes)."""
    from . import elementwise, trigonometric

    refs = {
        "sinh": np.sinh, "cosh": np.cosh, "tan": np.tan, "expm1": np.expm1, "log1p": np.log1p,
        "log2": np.log2, "log10": np.log10, "asin": np.arcsin, "acos": np.arccos,
        "acosh": np.arccosh, "asinh": np.arcsinh, "atanh": np.arctanh, "atan": np.arctan,
    }  # fmt: skip
    return [
        record(
            f"{name}_complex",
            getattr(trigonometric, name, None) or getattr(elementwise, name),
            unary_samples(),
            ref,
            covers=(name,),
            dtypes=dtypes,
            public=False,
        )
        for name, ref in refs.items()
    ]


def _abs(x: Tensor) -> Tensor:
    from .elementwise import abs as abs_

    return abs_(x)


def _flag_tensor(x: Tensor, flag: bool) -> Tensor:
    """A predicate's answer as a 0-d bool tensor on ``x``'s device (a record's call returns a tensor)."""
    from .creation import tensor

    return tensor(flag, device=x.device)


_records()
