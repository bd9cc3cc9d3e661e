"""Native strided loops for the cpu backend's compiled graphs: ``strided.c``, built with the
system's C compiler on first use, cached on disk, loaded with ctypes.

numpy runs a strided copy or ``dst += src`` one inner row at a time through its iterator, which
costs tens of nanoseconds a row: on rows of 8 floats (an 8 x 8 image's, as the convolution's
im2col copy and col2im adds have them) that overhead is most of the time. The loops of
``strided.c`` take a row in a few nanoseconds. A compiled graph's memory plan knows the buffers
of most of its copies, adds and selects at planning time, so the ``bind_*`` functions prepare a
call once (pointers, the dimensions merged and ordered, ctypes arguments built) and each replay
makes it with no argument conversion.

The loops move bits or add with one IEEE operation per element, built without floating-point
contraction, so results equal numpy's bit for bit. ``EMBER_CPU_NATIVE=0`` turns them off; without
a C compiler (``$CC``, else ``cc``, ``gcc`` or ``clang`` on the PATH) or when the build fails, the
compiled graphs keep numpy's calls and :func:`status` says why. The shared library is cached under
``$EMBER_CACHE_DIR`` (default ``~/.cache/ember``), keyed by the source, the compiler's version and
the flags; where that directory cannot be written, in a temporary directory of the process's own.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "library",
    "status",
    "describe",
    "build_library",
    "bind_copy",
    "bind_add",
    "bind_where",
    "bind_max",
    "SOURCE",
]

#: the C source of the loops
SOURCE = Path(__file__).with_name("strided.c")
#: no contraction into fused multiply-adds, no fast-math: IEEE results, numpy's bits; -fwrapv:
#: integer adds wrap as numpy's do; -fno-math-errno: sqrt is the instruction (the same result)
FLAGS = (
    "-O3",
    "-std=c99",
    "-fPIC",
    "-shared",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-fwrapv",
    "-fno-math-errno",
)
VERSION = 10
#: element sizes the copy and select loops move, dtypes the add loop adds
_SIZES = (1, 2, 4, 8, 16)
_ADD_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64))
_MAX_DTYPES = _ADD_DTYPES
#: dtypes of the max-pooling and fold loops (ember_cpu.pooling, ember_cpu.im2col)
POOL_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64))
_NATIVE_KINDS = frozenset("biufc")  # numpy's own dtypes (ml_dtypes' bfloat16 is kind 'V')

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _after_fork_in_child() -> None:
    # a fork while another thread builds (holding the lock) leaves the child's copy locked for
    # good: the child (a DataLoader worker) takes a fresh lock and builds or loads for itself
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _compiler() -> str | None:
    cc = os.environ.get("CC")
    if cc:
        return shutil.which(cc) or cc
    for name in ("cc", "gcc", "clang"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _cache_dir() -> Path:
    root = os.environ.get("EMBER_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "ember")
    return Path(root) / "cpu-native"


def build_library(source: str, stem: str) -> tuple[ctypes.CDLL | None, str]:
    """Compile C ``source`` into a shared library (or find it in the cache, keyed by the source,
    the compiler's version and the flags) and load it: (library, how) or (None, why not)."""
    if os.environ.get("EMBER_CPU_NATIVE", "1") == "0":
        return None, "off (EMBER_CPU_NATIVE=0)"
    cc = _compiler()
    if cc is None:
        return None, "no C compiler found (set CC, or install cc/gcc/clang)"
    version = _compiler_version(cc)
    if version.startswith("!"):
        return None, f"the C compiler {cc} does not run: {version[1:]}"
    key = hashlib.sha256(
        source.encode() + version.encode() + " ".join(FLAGS).encode() + sys.platform.encode()
    )
    name = f"{stem}-{key.hexdigest()[:16]}.so"
    target = _cache_dir() / name
    if not target.exists():
        try:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
            except OSError:
                # the cache directory cannot be written (a read-only home, a bad EMBER_CACHE_DIR):
                # this process builds into a directory of its own, kept until it exits
                fallback = _state.get("fallback_dir")
                if fallback is None:
                    fallback = _state["fallback_dir"] = tempfile.mkdtemp(prefix="ember-cpu-native-")
                    atexit.register(shutil.rmtree, fallback, True)
                target = Path(fallback) / name
                fd, tmp = tempfile.mkstemp(suffix=".so", dir=fallback)
            os.close(fd)
            src = Path(tmp).with_suffix(".c")
            src.write_text(source)
            proc = subprocess.run(
                [cc, *FLAGS, "-o", tmp, str(src)], capture_output=True, text=True, timeout=300
            )
            src.unlink()
            if proc.returncode != 0:
                os.unlink(tmp)
                err = (proc.stderr or proc.stdout).strip().splitlines()
                return None, f"{cc} failed to build {stem}.c: {err[0] if err else proc.returncode}"
            os.replace(tmp, target)  # atomic: a concurrent build writes the same bytes
        except (OSError, subprocess.SubprocessError) as e:
            return None, f"building {stem}.c with {cc} failed: {e}"
    try:
        return ctypes.CDLL(str(target)), f"built with {cc} ({target})"
    except OSError as e:
        return None, f"loading {target} failed: {e}"


def _compiler_version(cc: str) -> str:
    """``cc --version``'s output (once per process), or "!" and why it does not run."""
    cached = _state.get(("version", cc))
    if cached is None:
        try:
            cached = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as e:
            cached = f"!{e}"
        _state[("version", cc)] = cached
    return cached


def _build() -> tuple[ctypes.CDLL | None, str]:
    """Build (or find in the cache) and load ``strided.c``: (library, how) or (None, why not)."""
    lib, how = build_library(SOURCE.read_text(), "strided")
    if lib is None:
        return None, how
    try:
        if lib.ember_strided_version() != VERSION:
            return None, f"the library built from {SOURCE.name} is not version {VERSION} of the loops"
    except AttributeError as e:
        return None, f"the library built from {SOURCE.name} lacks its functions: {e}"
    for name in (
        [f"ember_copy_{s}" for s in _SIZES]
        + [f"ember_where_{s}" for s in _SIZES]
        + [f"ember_add_{d.name}" for d in _ADD_DTYPES]
    ):
        fn = getattr(lib, name)
        fn.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
        fn.restype = None
    for d in POOL_DTYPES:
        fn = getattr(lib, f"ember_fold_{d.name}")
        fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p, *(ctypes.c_int64,) * 4, ctypes.c_void_p)
        fn.restype = None
        fn = getattr(lib, f"ember_max_pool_{d.name}")
        fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p, *(ctypes.c_int64,) * 4, *(ctypes.c_void_p,) * 5)
        fn.restype = None
        fn = getattr(lib, f"ember_max_pool_backward_{d.name}")
        fn.argtypes = (*(ctypes.c_void_p,) * 5, *(ctypes.c_int64,) * 5)
        fn.restype = ctypes.c_int
    fn = lib.ember_philox_uniform_float32
    fn.argtypes = (ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p)
    fn.restype = None
    for d in _MAX_DTYPES:
        fn = getattr(lib, f"ember_max_{d.name}")
        fn.argtypes = (ctypes.c_int, *(ctypes.c_void_p,) * 3, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        fn.restype = None
    return lib, how


def check_out_buffer(op: str, out: np.ndarray | None, shape: tuple[int, ...], dtype: Any) -> None:
    """Refuse an ``out=`` buffer (a compiled plan's, for the window kernels of ember_cpu.pooling and
    ember_cpu.im2col) that is not a C-contiguous array of ``shape`` and ``dtype``."""
    if out is not None and (out.shape, out.dtype, out.flags.c_contiguous) != (tuple(shape), dtype, True):
        raise ValueError(
            f"{op}: out must be a C-contiguous {dtype} array of shape {tuple(shape)}, "
            f"got {out.dtype} {out.shape}"
        )


def library() -> ctypes.CDLL | None:
    """The loaded loops, or None (see :func:`status`); built once per process."""
    with _lock:
        if "lib" not in _state:
            _state["lib"], _state["status"] = _build()
        return _state["lib"]


def status() -> str:
    """How the native loops were obtained, or why they are not used (builds them if need be)."""
    library()
    return _state["status"]


def describe() -> str:
    """What compiled graphs will use, without building anything (for ``ember info``)."""
    if "status" in _state:
        return _state["status"]
    if os.environ.get("EMBER_CPU_NATIVE", "1") == "0":
        return "off (EMBER_CPU_NATIVE=0): compiled graphs use numpy's calls"
    cc = _compiler()
    if cc is None:
        return "no C compiler found (set CC, or install cc/gcc/clang): compiled graphs use numpy's calls"
    return f"C compiler {cc}, used by the first compiled graph (cached under {_cache_dir()})"


def _merged(shape: Sequence[int], strides: list[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """The iteration's dimensions with size-1 ones dropped, ordered by the destination's stride
    (largest first, so the innermost loop walks the destination's smallest stride) and merged
    where every operand steps evenly across two neighbours."""
    dims = [k for k in range(len(shape)) if shape[k] != 1]
    dims.sort(key=lambda k: -abs(strides[0][k]))
    out_shape: list[int] = []
    out_strides: list[list[int]] = [[] for _ in strides]
    for k in dims:
        if out_shape and all(s[-1] == st[k] * shape[k] for s, st in zip(out_strides, strides)):
            out_shape[-1] *= shape[k]
            for s, st in zip(out_strides, strides):
                s[-1] = st[k]
            continue
        out_shape.append(shape[k])
        for s, st in zip(out_strides, strides):
            s.append(st[k])
    if not out_shape:
        out_shape = [1]
        out_strides = [[0] for _ in strides]
    return out_shape, out_strides


class _Prepared:
    """A loop call for one layout (dimensions merged, ctypes arguments built): only the pointers
    change between calls."""

    __slots__ = ("fn", "nd", "shape", "strides", "nops", "keep")

    def __init__(self, fn: Any, dst: np.ndarray, srcs: Sequence[np.ndarray]) -> None:
        shape, strides = _merged(dst.shape, [dst.strides, *(s.strides for s in srcs)])
        self.fn = fn
        self.nops = 1 + len(srcs)
        c_shape = (ctypes.c_int64 * len(shape))(*shape)
        c_st = (ctypes.c_int64 * (len(shape) * self.nops))(
            *[strides[j][k] for k in range(len(shape)) for j in range(self.nops)]
        )
        self.nd = ctypes.c_int(len(shape))
        self.shape = ctypes.addressof(c_shape)
        self.strides = ctypes.addressof(c_st)
        self.keep = (c_shape, c_st)

    def __call__(self, *arrays: np.ndarray) -> None:
        ptrs = (ctypes.c_void_p * self.nops)(*[a.ctypes.data for a in arrays])
        self.fn(self.nd, self.shape, ctypes.addressof(ptrs), self.strides)


def _prepare(fn: Any, dst: np.ndarray, srcs: Sequence[np.ndarray]) -> Callable[[], None]:
    """A call of ``fn`` over ``dst``'s elements with ``srcs`` broadcast to its shape, the pointers
    fixed too (the arrays are kept alive by the returned closure; its ``loop`` attribute is the
    layout's :class:`_Prepared`, which the eager kernels call with other arrays)."""
    views = [np.broadcast_to(s, dst.shape) for s in srcs]
    loop = _Prepared(fn, dst, views)
    c_ptrs = (ctypes.c_void_p * loop.nops)(dst.ctypes.data, *(v.ctypes.data for v in views))
    keep = (dst, srcs, views, loop, c_ptrs)
    args = (loop.nd, loop.shape, ctypes.addressof(c_ptrs), loop.strides)

    def call(_fn: Any = fn, _args: tuple = args, _keep: tuple = keep) -> None:
        _fn(*_args)

    call.loop = loop
    return call


def _usable(dst: Any, *srcs: Any) -> bool:
    """Whether the loops can run over these arrays: numpy arrays of numpy's own dtypes, strides in
    whole elements, aligned data (the C loops dereference typed pointers), ``srcs`` broadcastable
    to ``dst`` and not overlapping it, a non-empty ``dst`` that is writeable."""
    arrays = (dst, *srcs)
    if not all(type(a) is np.ndarray and a.dtype.kind in _NATIVE_KINDS and a.flags.aligned for a in arrays):
        return False
    if dst.size == 0 or not dst.flags.writeable or dst.ndim > 30 or not _self_disjoint(dst):
        return False
    if any(st % a.itemsize for a in arrays for st in a.strides):
        return False
    try:
        if np.broadcast_shapes(dst.shape, *(s.shape for s in srcs)) != dst.shape:
            return False
    except ValueError:
        return False
    return not any(np.may_share_memory(dst, s) for s in srcs)


def _self_disjoint(a: np.ndarray) -> bool:
    """Whether no two elements of ``a`` share memory, by a sufficient test: along its dimensions
    ordered by stride, each stride steps past everything the smaller ones span (a zero stride, as
    an expanded view has, or overlapping windows fail it; numpy's call then gives its own result
    of the repeated writes, or adds to a copy, where the loops would accumulate)."""
    span = a.itemsize
    for st, n in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n > 1):
        if st < span:
            return False
        span = st * (n - 1) + span
    return True


def bind_copy(dst: Any, src: Any) -> Callable[[], None] | None:
    """``dst[...] = src`` (one dtype, ``src`` broadcast) as a prepared call, or None where the
    loops cannot take these arrays (or are unavailable)."""
    lib = library()
    if lib is None or not _usable(dst, src) or src.dtype != dst.dtype or dst.itemsize not in _SIZES:
        return None
    return _prepare(getattr(lib, f"ember_copy_{dst.itemsize}"), dst, [src])


def bind_add(dst: Any, src: Any) -> Callable[[], None] | None:
    """``dst += src`` (float32/float64/int32/int64, one dtype) as a prepared call, or None."""
    lib = library()
    if lib is None or not _usable(dst, src) or src.dtype != dst.dtype or dst.dtype not in _ADD_DTYPES:
        return None
    return _prepare(getattr(lib, f"ember_add_{dst.dtype.name}"), dst, [src])


def bind_where(out: Any, cond: Any, a: Any, b: Any) -> Callable[[], None] | None:
    """``out[...] = where(cond, a, b)`` as a prepared call, or None. ``a``/``b`` are arrays of
    ``out``'s dtype or Python scalars (taken in ``out``'s dtype, as numpy takes a weak scalar,
    rounded for a floating ``out``; an integer ``out`` takes only values it holds exactly)."""
    lib = library()
    if lib is None or type(cond) is not np.ndarray or cond.dtype != np.bool_:
        return None
    ops = []
    for v in (a, b):
        if type(v) is np.ndarray:
            if v.dtype != out.dtype:
                return None
            ops.append(v)
        elif type(v) in (bool, int, float, complex) and type(out) is np.ndarray:
            if type(v) is int and abs(v) > 2**53 and out.dtype.kind in "fc":
                return None  # numpy converts it once (from int64), np.array twice (through double)
            try:
                with np.errstate(all="raise"):
                    c = np.array(v, dtype=out.dtype)
            except (OverflowError, FloatingPointError, TypeError, ValueError):
                return None
            if out.dtype.kind not in "fc" and c.item() != v:
                return None
            ops.append(c)
        else:
            return None
    if not _usable(out, cond, *ops) or out.itemsize not in _SIZES:
        return None
    return _prepare(getattr(lib, f"ember_where_{out.itemsize}"), out, [cond, *ops])


def _numpy_reduces_in_order(x: np.ndarray, red: Sequence[int]) -> bool:
    """Whether numpy's max of float ``x`` over dims ``red`` is the maximum taken in order along
    them: one reduced dimension (of size > 1) with a kept one inside it in memory (a smaller
    nonzero stride), so that numpy's iterator makes the kept dimension its inner loop, an
    elementwise ``maximum(r, row)`` per step of the reduced one. Where the reduced dimension is
    the innermost, numpy reduces it with several accumulators (SIMD lanes, or unrolled over a
    strided row: a maximum of +0.0 and -0.0 may then carry the other sign, and a NaN be the
    default one), and over several dimensions it picks an order of its own."""
    reduced = [d for d in red if x.shape[d] != 1]
    if len(reduced) != 1:
        return False
    inner = [abs(st) for d, (n, st) in enumerate(zip(x.shape, x.strides)) if d not in red and n > 1 and st]
    return bool(inner) and min(inner) < abs(x.strides[reduced[0]])


def bind_max(out: Any, x: Any, dims: Sequence[int], keepdim: bool) -> Callable[[], None] | None:
    """``numpy.max(x, axis=dims, keepdims=keepdim, out=out)`` (float32/float64/int32/int64) as a
    prepared call, or None. Each output element takes its maximum over the reduced dimensions in
    their order, as numpy's ``maximum(r, v)`` (a NaN propagates, the first one met; of equal
    values the later is kept). That is numpy's result, zero signs and NaN payloads included,
    where numpy too reduces in order (see :func:`_numpy_reduces_in_order`); elsewhere a float
    ``x`` takes numpy's call (integers: any order gives the same bits)."""
    lib = library()
    if lib is None or type(x) is not np.ndarray or x.dtype not in _MAX_DTYPES or out.dtype != x.dtype:
        return None
    if x.ndim == 0 or not x.flags.aligned or any(st % x.itemsize for st in x.strides):
        return None
    red = sorted({d % x.ndim for d in dims}) if dims is not None else list(range(x.ndim))
    kept = [d for d in range(x.ndim) if d not in red]
    if keepdim:
        want = tuple(1 if d in red else x.shape[d] for d in range(x.ndim))
    else:
        want = tuple(x.shape[d] for d in kept)
    if not red or any(x.shape[d] == 0 for d in red) or out.shape != want:
        return None
    if not _usable(out) or np.may_share_memory(out, x):
        return None
    out_strides = [out.strides[d] for d in (kept if keepdim else range(len(kept)))]
    shape, (os_, xs) = _merged([x.shape[d] for d in kept], [out_strides, [x.strides[d] for d in kept]])
    rshape: list[int] = []
    rst: list[int] = []
    for d in red:
        n, st = x.shape[d], x.strides[d]
        if n == 1:
            continue
        if rshape and rst[-1] == st * n:  # adjacent reduced dims stepping evenly: one dim
            rshape[-1] *= n
            rst[-1] = st
        else:
            rshape.append(n)
            rst.append(st)
    if x.dtype.kind == "f" and not _numpy_reduces_in_order(x, red):
        return None  # numpy's order (or NaN) is not this loop's (see above)
    rshape, rst = rshape or [1], rst or [0]
    nd, rd = len(shape), len(rshape)
    c_shape = (ctypes.c_int64 * nd)(*shape)
    c_ptrs = (ctypes.c_void_p * 2)(out.ctypes.data, x.ctypes.data)
    c_st = (ctypes.c_int64 * (2 * nd))(*[v for k in range(nd) for v in (os_[k], xs[k])])
    c_rshape = (ctypes.c_int64 * rd)(*rshape)
    c_rst = (ctypes.c_int64 * rd)(*rst)
    keep = (out, x, c_shape, c_ptrs, c_st, c_rshape, c_rst)
    args = (
        ctypes.c_int(nd),
        ctypes.addressof(c_shape),
        ctypes.addressof(c_ptrs),
        ctypes.addressof(c_st),
        ctypes.c_int(rd),
        ctypes.addressof(c_rshape),
        ctypes.addressof(c_rst),
    )
    fn = getattr(lib, f"ember_max_{x.dtype.name}")

    def call(_fn: Any = fn, _args: tuple = args, _keep: tuple = keep) -> None:
        _fn(*_args)

    return call


# ----------------------------------------------------------------------------------------------
# eager kernels: the loops where numpy's iterator is slow, prepared per layout


#: the smallest output (elements) for which an eager kernel takes the loops: below it, preparing
#: the call (a few microseconds) costs more than numpy's per-row overhead saves
EAGER_MIN_ELEMENTS = 8192
_EAGER_CACHE_SIZE = 512


_prepared: dict[tuple, _Prepared | None] = {}


def _eager_call(key: tuple, make: Callable[[], _Prepared | None]) -> _Prepared | None:
    call = _prepared.get(key, False)
    if call is False:
        if len(_prepared) >= _EAGER_CACHE_SIZE:
            _prepared.clear()
        call = _prepared[key] = make()
    return call


def eager_kernels(base: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Kernels ``add_``, ``copy_`` and ``where`` that run the loops on large strided operands
    (at least :data:`EAGER_MIN_ELEMENTS` elements, not all C-contiguous, numpy's own dtypes), and
    ``max`` over one dimension of a large operand (pooling's window maximum), ``base``'s numpy
    kernels otherwise; bitwise the same results (the maximum only where numpy too reduces in
    order: see :func:`bind_max`). The library is built on the first call that takes it (or the
    kernels stay numpy's when it cannot be)."""
    np_add, np_copy, np_where, np_max = base["add_"], base["copy_"], base["where"], base["max"]
    ndarray = np.ndarray

    def in_place(
        kind: str, bind: Callable[..., Any], numpy_kernel: Callable[..., Any]
    ) -> Callable[..., None]:
        """``dst <- src`` (``kind``: "add" or "copy") through the loop prepared for the layout,
        or ``numpy_kernel``."""

        def kernel(dst: Any, src: Any) -> None:
            if (
                type(dst) is ndarray
                and type(src) is ndarray
                and dst.size >= EAGER_MIN_ELEMENTS
                and dst.dtype == src.dtype
                and not (dst.flags.c_contiguous and src.flags.c_contiguous)
            ):
                key = (kind, dst.dtype, dst.shape, dst.strides, src.shape, src.strides)
                call = _eager_call(key, lambda: _make_eager(bind, dst, src))
                if call is not None and _per_call_ok(dst, src):
                    call(dst, src)  # (a broadcast view's pointer is its base's)
                    return
            numpy_kernel(dst, src)

        kernel.__name__ = f"{kind}_"
        return kernel

    add_ = in_place("add", bind_add, np_add)
    copy_ = in_place("copy", bind_copy, np_copy)

    def where(cond: Any, a: Any, b: Any) -> Any:
        # (the size first: the cheapest test, and the one small ops fail)
        if type(cond) is ndarray and cond.size >= EAGER_MIN_ELEMENTS and cond.dtype == np.bool_:
            dtype = _where_dtype(a, b)
            if dtype is not None:
                shape = np.broadcast_shapes(cond.shape, np.shape(a), np.shape(b))
                out = np.empty(shape, dtype)
                ops = [v if type(v) is ndarray else np.array(v, dtype) for v in (a, b)]
                key = ("where", dtype, shape, cond.shape, cond.strides, *[(o.shape, o.strides) for o in ops])
                call = _eager_call(key, lambda: _make_eager(bind_where, out, cond, *ops))
                if call is not None and all(o.flags.aligned for o in ops):
                    call(out, cond, *ops)
                    return out
        return np_where(cond, a, b)

    def max_(x: Any, dims: Any, keep: bool) -> Any:
        # one reduced dimension (pooling's window), numpy's order over it: the same values and signs
        if (
            type(x) is ndarray
            and x.size >= EAGER_MIN_ELEMENTS
            and x.dtype in _MAX_DTYPES
            and dims is not None
            and len(dims) == 1
        ):
            d = dims[0] % x.ndim
            if x.shape[d] > 0:
                shape = (
                    tuple(1 if i == d else n for i, n in enumerate(x.shape))
                    if keep
                    else x.shape[:d] + x.shape[d + 1 :]
                )
                out = np.empty(shape, x.dtype)
                call = bind_max(out, x, (d,), keep)  # prepared per call: a reduction's setup is small
                if call is not None:
                    call()
                    return out
        return np_max(x, dims, keep)

    return {"add_": add_, "copy_": copy_, "where": where, "max": max_}


def _per_call_ok(dst: np.ndarray, src: np.ndarray) -> bool:
    """What a loop prepared for this layout must still check on each call: a writeable ``dst``
    (numpy's call refuses a read-only one), aligned data, no overlap."""
    return (
        dst.flags.writeable and dst.flags.aligned and src.flags.aligned and not np.may_share_memory(dst, src)
    )


def _where_dtype(a: Any, b: Any) -> np.dtype | None:
    """The result dtype of ``where(cond, a, b)`` when the loops can compute it: two arrays of one
    dtype, or an array of a floating dtype and a Python number (taken in the array's dtype, as
    numpy takes a weak scalar)."""
    arrays = [v for v in (a, b) if type(v) is np.ndarray]
    if not arrays or arrays[0].dtype.kind not in _NATIVE_KINDS or arrays[0].itemsize not in _SIZES:
        return None
    dtype = arrays[0].dtype
    if len(arrays) == 2:
        return dtype if arrays[1].dtype == dtype else None
    scalar = b if arrays[0] is a else a
    if type(scalar) is int and abs(scalar) > 2**53:
        return None  # (numpy rounds it to float32 once, from int64; a double would round twice)
    if type(scalar) in (int, float) and dtype.kind in "fc":
        return dtype
    return None


def _make_eager(bind: Callable[..., Any], dst: np.ndarray, *srcs: Any) -> _Prepared | None:
    """The prepared loop for these arrays' layout, or None where ``bind`` refuses them."""
    prepared = bind(dst, *srcs)
    return None if prepared is None else prepared.loop
