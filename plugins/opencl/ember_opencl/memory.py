"""Memory and layout kernels: host transfers, creation, fills, copies and casts, views, and the
in-place add; plus the copy and in-place-add program generators.

Kernels of the backend's table defined here: :func:`from_numpy`, :func:`to_numpy`,
:func:`empty`, :func:`full`, :func:`copy_`, :func:`cast`, :func:`strides`, :func:`as_strided` and
the optional :func:`add_`, :func:`real` and :func:`imag` (copies of :func:`complex_parts`, the
views of a complex array's parts) (the creation kernels take the device itself; the backend maps its
``device_index`` argument to it). :func:`contiguous`, :func:`copy_into` and :func:`fill` serve the
other families.

Copies are elementwise maps (:func:`ember_opencl.elementwise.run_map`): one program per source
dtype holds a ``copy_<dst>`` kernel for every destination dtype the device has. In-place writes
(``copy_``, ``add_``) first materialise the device's pending (fused, not yet computed) arrays,
which may read the memory about to be written.

``to_numpy`` is the one place that waits for the device. On a CPU device whose pool hands out
host-backed buffers, an idle queue (``_Device.last`` done: :meth:`ember_opencl._device._Device.idle`)
lets it copy straight from the buffer's host memory, about 4 µs instead of a 20-30 µs transfer
round trip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ember import dtypes
from ember.layout import StridedLayout

from ._array import CLArray
from ._codegen import compute_type, header
from ._complex import COMPLEX, REAL_OF
from ._device import wait
from ._launch import INT_LIMIT, new_array
from ._signature import Program
from .elementwise import Scalar, gen_map_kernel, plan_key, run_map, vec_ok

__all__ = [
    "add_",
    "as_strided",
    "cast",
    "complex_parts",
    "contiguous",
    "copy_",
    "copy_into",
    "empty",
    "fill",
    "from_numpy",
    "full",
    "imag",
    "real",
    "strides",
    "to_numpy",
]

_PATTERNS: dict[tuple, Any] = {}  # (dtype, type, value) -> fill pattern (host arrays, never written)


# ----------------------------------------------------------------------------------------------
# host transfers and creation


def from_numpy(dev: Any, array: np.ndarray) -> CLArray:
    """Kernel ``from_numpy`` on device ``dev``: a copy of ``array`` (any layout), uploaded
    without waiting."""
    host = np.asarray(array, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
    out = new_array(dev, host.shape, dtypes.from_numpy_dtype(host.dtype))
    if host.nbytes:
        evt = dev.upload(out.alloc.buf, host)
        out.alloc.keep = (host, evt)  # the host memory must outlive the asynchronous upload
    return out


def to_numpy(x: CLArray) -> np.ndarray:
    """Kernel ``to_numpy``: x's values as a new C-contiguous numpy array (waits for x)."""
    lay = x.layout
    dev = x.dev
    alloc = x.alloc  # (computes a pending x first)
    if lay.numel and alloc.host is not None and min(lay.strides, default=0) >= 0 and dev.idle():
        # host-backed memory (a CPU device) and an idle queue: copy on the host, with no
        # command round trip through the device's worker threads (about 20 µs on PoCL).
        # With work in flight the transfer below is quicker than waiting on a kernel's event.
        item = x.dtype.itemsize
        flat = alloc.host.view(x.dtype.numpy)[lay.offset :]
        view = np.lib.stride_tricks.as_strided(flat, lay.shape, [s * item for s in lay.strides])
        return np.array(view, copy=True, order="C")
    host = np.empty(x.layout.shape, dtype=x.dtype.numpy)
    if host.size == 0:
        return host
    if not x.layout.is_contiguous:
        x = contiguous(x)
    evt = dev.read(x.alloc.buf, host, x.layout.offset * x.dtype.itemsize)
    wait(evt)
    dev.forget(evt)  # the newest command done: the queue is idle (unless another thread enqueued)
    return host


def empty(dev: Any, shape: tuple[int, ...], dtype: Any) -> CLArray:
    """Kernel ``empty`` on device ``dev``: an uninitialised contiguous array."""
    return new_array(dev, shape, dtype)


def full(dev: Any, shape: tuple[int, ...], value: Any, dtype: Any) -> CLArray:
    """Kernel ``full`` on device ``dev``: a contiguous array filled with ``value``."""
    return fill(new_array(dev, shape, dtype), value)


def fill(out: CLArray, value: Any) -> CLArray:
    """Fill contiguous ``out`` with ``value``; returns ``out``."""
    nbytes = out.size * out.dtype.itemsize
    if nbytes:
        key = (out.dtype, type(value), value)
        pattern = _PATTERNS.get(key)
        if pattern is None:
            pattern = np.array([value]).astype(out.dtype.numpy)
            if len(_PATTERNS) > 1024:
                _PATTERNS.clear()
            _PATTERNS[key] = pattern
        out.dev.fill(out.alloc.buf, pattern, out.offset * out.dtype.itemsize, nbytes)
    return out


# ----------------------------------------------------------------------------------------------
# copies and casts


def copy_dsts(dev: Any, src: str, dst: str) -> str:
    """The destination dtypes of the copy program that copies ``src`` to ``dst`` on ``dev``
    (its ``modes``): a complex source's program has every dtype, a real one's the real dtypes,
    or the complex ones for a real-to-complex copy."""
    if src in COMPLEX:
        return dev.all_copy_dsts
    return dev.complex_copy_dsts if dst in COMPLEX else dev.copy_dsts


def copy_into(dst: CLArray, src: CLArray) -> CLArray:
    """dst[...] = src (broadcast, dtype conversion), dst may be any view; returns ``dst``."""
    dev = dst.dev
    kname = "copy_" + dst.dtype.name
    ops = [(src, src.dtype)]
    modes = copy_dsts(dev, src.dtype.name, dst.dtype.name)
    return run_map(
        dev, "copy", gen_copy_program, (src.dtype.name,), kname, dst.dtype, ops, modes=modes, out=dst
    )


def contiguous(x: CLArray, dtype: Any = None) -> CLArray:
    """A new contiguous copy of ``x`` (converted to ``dtype`` when given)."""
    dtype = dtype or x.dtype
    out = new_array(x.dev, x.shape, dtype)
    return copy_into(out, x)


def copy_(dst: CLArray, src: CLArray) -> None:
    """Kernel ``copy_``: writes src (broadcast to dst's shape) into dst, any view."""
    if dst.dev.pending:  # pending arrays may read the memory about to be written
        dst.dev.fusion.flush(dst.dev)
    if src.alloc is dst.alloc:
        lo1, hi1 = src.layout.span()
        lo2, hi2 = dst.layout.span()
        if lo1 < hi2 and lo2 < hi1:  # overlapping memory: go through a temporary
            src = contiguous(src)
    # fast path: the cached launch plan of this (dtypes, layouts) pair, looked up directly
    ld, ls = dst.layout, src.layout
    dev = dst.dev
    key = (dst.dtype, src.dtype, ld.shape, ld.strides, ls.shape, ls.strides)
    plan = dev.copy_plans.get(key)
    if plan is None or dst.alloc.size >= INT_LIMIT or src.alloc.size >= INT_LIMIT:
        copy_into(dst, src)
        if dst.alloc.size < INT_LIMIT and src.alloc.size < INT_LIMIT:
            kname = "copy_" + dst.dtype.name
            modes = copy_dsts(dev, src.dtype.name, dst.dtype.name)
            mkey = plan_key("copy", (src.dtype.name,), kname, modes, False, dst, [src])
            plan = dev.plans.get(mkey)
            if plan is not None and plan[0] is not None:
                if len(dev.copy_plans) > 4096:
                    dev.copy_plans.clear()
                dev.copy_plans[key] = plan
        return
    knl, _, ostr, astrs, tail, gsize, lsize = plan
    dev.launch(
        knl, (dst.alloc.buf, ld.offset, *ostr, src.alloc.buf, ls.offset, *astrs[0], *tail), gsize, lsize
    )


def cast(x: CLArray, dtype: Any) -> CLArray:
    """Kernel ``cast``: a new contiguous array of ``dtype`` (C conversion rules)."""
    return contiguous(x, dtype)


def add_(dst: CLArray, src: Any) -> None:
    """Optional kernel ``add_``: dst += src in place (dst any view; src a buffer of dst's dtype,
    or a scalar)."""
    dt = dst.dtype
    if dst.dev.pending:  # pending arrays may read the memory about to be written
        dst.dev.fusion.flush(dst.dev)
    if type(src) is CLArray:
        if src.alloc is dst.alloc and (src.layout.offset, src.layout.strides) != (
            dst.layout.offset,
            dst.layout.strides,
        ):
            lo1, hi1 = src.layout.span()
            lo2, hi2 = dst.layout.span()
            if lo1 < hi2 and lo2 < hi1:  # overlapping memory: go through a temporary
                src = contiguous(src)
        ops, modes = ((dst, dt), (src, dt)), "AA"
    else:
        ops, modes = ((dst, dt), (Scalar(src), dt)), "AS"
    run_map(dst.dev, "iadd", gen_iadd_program, (dt.name,), "add_", dt, ops, modes, out=dst)


# ----------------------------------------------------------------------------------------------
# views


def complex_parts(x: CLArray) -> tuple[CLArray, CLArray]:
    """The real and imaginary parts of complex ``x`` as views of its memory in the real dtype of
    its parts (a float2/double2 element is two floats/doubles: strides and offset double)."""
    alloc = x.alloc  # (computes a pending x first, which settles its layout)
    lay = x.layout
    real = dtypes.as_dtype(REAL_OF[x.dtype.name])
    st = tuple(2 * s for s in lay.strides)
    re = CLArray(alloc, StridedLayout(lay.shape, st, 2 * lay.offset), real, x.dev)
    im = CLArray(alloc, StridedLayout(lay.shape, st, 2 * lay.offset + 1), real, x.dev)
    return re, im


def real(x: CLArray) -> CLArray:
    """Optional kernel ``real``: the real parts of complex ``x``, a new contiguous real array."""
    return contiguous(complex_parts(x)[0])


def imag(x: CLArray) -> CLArray:
    """Optional kernel ``imag``: the imaginary parts of complex ``x``, a new contiguous real array."""
    return contiguous(complex_parts(x)[1])


def strides(x: CLArray) -> tuple[int, ...]:
    """Kernel ``strides``: x's strides in elements."""
    return x.layout.strides


def as_strided(x: CLArray, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> CLArray:
    """Kernel ``as_strided``: a view of x's memory (offset relative to x's own)."""
    shape = shape if type(shape) is tuple else tuple(shape)
    strides = strides if type(strides) is tuple else tuple(strides)
    layout = StridedLayout(shape, strides, x.layout.offset + int(offset))
    return CLArray(x.alloc, layout, x.dtype, x.dev)


# ----------------------------------------------------------------------------------------------
# code generation


def gen_copy_program(src_dt: str, rank: int, idx: str, dsts: str) -> Program:
    """copy (strided src -> strided dst, with dtype conversion) to every dtype in ``dsts``
    (comma separated); kernel names ``copy_<dst>``. Rank 0: both contiguous. One program per
    source dtype keeps the number of builds small."""
    src = [header(src_dt, *dsts.split(","))]
    sigs = []
    for dst in dsts.split(","):
        vec = "x" if rank < 0 and vec_ok("copy", src_dt, dst) else None
        x = [("x", src_dt, False)]
        kernel, sig = gen_map_kernel(
            f"copy_{dst}", dst, True, x, "x", compute_type(src_dt), rank, idx, vec, True
        )
        src.append(kernel)
        sigs.append(sig)
    return "".join(src), sigs


def gen_iadd_program(dt: str, rank: int, idx: str, modes: str) -> Program:
    """add_: out (any view) += b; operand ``a`` is out itself (same positions), ``modes`` 'AA' or
    'AS' (b a scalar argument)."""
    ct = compute_type(dt)
    ops = [("a", dt, False), ("b", dt, modes[1] == "S")]
    vec = "a + b" if rank < 0 and modes == "AA" and vec_ok("add", dt, dt) else None
    kernel, sig = gen_map_kernel("add_", dt, True, ops, "a + b", ct, rank, idx, vec, True)
    return header(dt) + kernel, [sig]
