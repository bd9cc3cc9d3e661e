"""Elementwise kernels: the unary, binary and compare maps and ``where``, their launch driver
(:func:`run_map`, shared with the copies of :mod:`ember_opencl.memory`) and their code generator.

Kernels of the backend's table built here: :func:`unary_kernel` (``neg`` ... ``trunc`` and the
optional ``relu`` and ``conj``), :func:`binary_kernel` (``add`` ... ``remainder``, the optional
``atan2`` (floats), and with ``compare=True`` ``eq``/``lt``/``le``), :func:`where` and the
optional ``complex`` (:func:`make_complex`). On complex64/complex128 the unary and binary
programs hold the ops numpy defines there (:func:`unary_exprs`, :func:`binary_exprs`, through
:mod:`ember_opencl._complex`'s library); ``abs`` of a complex array is real. The float32/float64 ones are wrapped by the fusion layer
(:mod:`ember_opencl._fusion`), which reuses this module's C expressions.

Launching: a program holds every op of one family for (dtype, rank bucket, index type, operand
modes); the launch plan (kernel, coalesced strides, sizes) is cached per device by the operands'
layouts, and the unary/binary kernels keep a flattened plan per (device, dtype, layouts), so a
repeated op costs a dict lookup, ``set_args`` and the enqueue. Operands that are contiguous over
the whole launch run the "rank -1" kernels (64 elements per work-item, 256-bit vector loads for
the ops in :data:`VEC_OPS`); strided ones (broadcasts, transposes, a convolution's im2col) run
tiled kernels: on a CPU device each work-item owns a tile of the last two coalesced dims, so the
index arithmetic is paid per tile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
from ember import dtypes
from ember.layout import broadcast_shapes, broadcast_strides, contiguous_strides

from ._array import CLArray
from ._codegen import (
    CHUNK,
    CTYPE,
    FLOATS,
    INTS,
    VEC_WIDTH,
    compute_type,
    convert,
    decompose,
    header,
    load,
    position,
    store,
)
from ._complex import COMPLEX, REAL_OF, complex_math, fn
from ._launch import (
    INT_LIMIT,
    LOCAL_TILED,
    LOCAL_VEC,
    bucket_rank,
    coalesce,
    contiguous_layout,
    new_array,
    pad,
    tile,
)
from ._signature import KernelSignature, Param, Program

__all__ = ["binary_kernel", "make_complex", "run_map", "unary_kernel", "where"]

#: the complex dtype with parts of each real dtype (of the ``complex`` kernel's operands)
COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}


class Scalar:
    """A Python scalar operand of an elementwise kernel (passed as a kernel argument)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, float, complex, np.generic))


def scalar_arg(value: Any, dtype: Any) -> Any:
    """A Python scalar as a typed kernel argument of ``dtype``'s compute type (C-style wrapping;
    a complex dtype takes a Python complex, packed as its float2/double2)."""
    if dtype.is_floating_point:
        return float(value)
    if dtype.name in COMPLEX:
        return complex(value)
    if dtype.name == "bool":
        return 1 if value else 0
    v = int(value)
    bits = dtype.itemsize * 8
    lo = -(1 << (bits - 1)) if dtype.is_signed else 0
    if lo <= v < lo + (1 << bits):
        return v
    v &= (1 << bits) - 1
    if dtype.is_signed and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def _scalar_converter(dtype: Any) -> Callable[[Any], Any]:
    """A fast ``scalar_arg`` for one dtype."""
    if dtype.is_floating_point:
        return float
    if dtype.name in COMPLEX:
        return complex
    return lambda v: scalar_arg(v, dtype)


# ----------------------------------------------------------------------------------------------
# launch driver


def plan_key(
    family: str, gen_dtypes: tuple, kname: str, modes: str | None, big: bool, out: Any, arrays: list
) -> tuple:
    """The key of :func:`run_map`'s launch plan in ``dev.plans``: the program and kernel, the
    index width, and the layouts of the output (when written in place) and the array operands."""
    lkey = tuple((a.layout.shape, a.layout.strides) for a in arrays)
    if out is not None:
        return (family, gen_dtypes, kname, modes, big, out.layout.shape, out.layout.strides, lkey)
    return (family, gen_dtypes, kname, modes, big, lkey)


def run_map(
    dev: Any,
    family: str,
    gen: Callable[..., Program],
    gen_dtypes: tuple,
    kname: str,
    out_dtype: Any,
    operands: list | tuple,
    modes: str | None = None,
    out: Any = None,
) -> Any:
    """Run elementwise kernel ``kname`` of program family ``family`` over ``operands``.

    operands: CLArrays or (for positions where ``modes`` has 'S') :class:`Scalar` values, paired
    with the dtype their scalar arguments take. Returns ``out`` (a new contiguous array unless
    given: then it is written through its strides).

    The launch plan (kernel, coalesced strides, sizes) is cached per device by the operands'
    shapes and strides, so a repeated op costs a dict lookup plus ``set_args`` and the enqueue.
    """
    arrays = [o for o, _ in operands if type(o) is not Scalar]
    big = any(a.alloc.size >= INT_LIMIT for a in arrays)
    if out is not None:
        big = big or out.alloc.size >= INT_LIMIT
    key = plan_key(family, gen_dtypes, kname, modes, big, out, arrays)
    plan = dev.plans.get(key)
    if plan is None:
        plan = map_plan(dev, family, gen, gen_dtypes, kname, modes, big, out, arrays)
        if len(dev.plans) > 8192:
            dev.plans.clear()
        dev.plans[key] = plan
    knl, shape, ostr, astrs, tail, gsize, lsize = plan
    if out is None:
        out = new_array(dev, shape, out_dtype)
    if knl is None:
        return out
    # the arguments in map_signature's order: output, operands, then the plan's tail
    args = [out.alloc.buf, out.layout.offset, *ostr]
    k = 0
    for o, dt in operands:
        if type(o) is Scalar:
            args.append(scalar_arg(o.value, dt))
        else:
            args.append(o.alloc.buf)
            args.append(o.layout.offset)
            args += astrs[k]
            k += 1
    args += tail
    dev.launch(knl, args, gsize, lsize)
    return out


def map_plan(
    dev: Any,
    family: str,
    gen: Callable[..., Program],
    gen_dtypes: tuple,
    kname: str,
    modes: str | None,
    big: bool,
    out: Any,
    arrays: list,
) -> tuple:
    """The launch plan of an elementwise kernel: (kernel, output shape, output strides, strides
    of each array operand, the arguments after the operands (dims, element count, tiling), global
    size, local size); the kernel is None when there are no elements."""
    shape = (
        out.layout.shape
        if out is not None
        else (broadcast_shapes(*(a.shape for a in arrays)) if arrays else ())
    )
    n = math.prod(shape)
    if n == 0:
        return (None, shape, (), [], (), None, None)
    ostrides = out.layout.strides if out is not None else contiguous_strides(shape)
    strides = [ostrides] + [broadcast_strides(a.shape, a.strides, shape) for a in arrays]
    cshape, cstrides = coalesce(shape, strides)
    if len(cshape) == 0 or (len(cshape) == 1 and all(s[0] == 1 for s in cstrides)):
        rank = -1
    else:
        rank = max(2, bucket_rank(len(cshape)))
        cshape, cstrides = pad(cshape, cstrides, rank)
    idx = "long" if big or n >= INT_LIMIT else "int"
    key = (family, *gen_dtypes, rank, idx, modes)
    knl = dev.program(key, gen, *gen_dtypes, rank, idx, *((modes,) if modes else ()))[kname]
    ostr = tuple(cstrides[0]) if out is not None and rank > 0 else ()
    astrs = [tuple(st) if rank > 0 else () for st in cstrides[1:]]
    if rank < 0:
        items = -(-n // CHUNK)
        return (knl, shape, ostr, astrs, (n,), (-(-items // LOCAL_VEC) * LOCAL_VEC,), (LOCAL_VEC,))
    tiling = tile(cshape, dev.is_cpu)
    nwi = tiling[-1]
    # one work-group size for every launch: PoCL builds a kernel once per local size
    local = LOCAL_TILED
    return (knl, shape, ostr, astrs, (*cshape, n, *tiling), (-(-nwi // local) * local,), (local,))


def _fast_plan(
    dev: Any,
    family: str,
    gen: Callable[..., Program],
    dt: Any,
    kname: str,
    out_dt: Any,
    arrays: list,
    modes: str | None,
) -> tuple | None:
    """The launch plan of a small-index elementwise kernel with a fresh output, flattened for
    the per-op fast paths: (kernel, out layout, out bytes, out dtype, operand strides, tail,
    global size, local size); None when there is nothing to launch."""
    knl, shape, _, astrs, tail, gsize, lsize = map_plan(
        dev, family, gen, (dt.name,), kname, modes, False, None, arrays
    )
    if knl is None:
        return None
    layout = contiguous_layout(shape)
    return (knl, layout, math.prod(shape) * out_dt.itemsize, out_dt, *astrs, tail, gsize, lsize)


# ----------------------------------------------------------------------------------------------
# kernels


def unary_kernel(name: str) -> Callable[[Any], Any]:
    """The kernel of unary op ``name`` (``neg`` ... ``trunc``, ``relu``): x -> op(x), a new
    contiguous array of x's shape and dtype."""
    gen = gen_unary_program
    fast: dict[tuple, tuple] = {}

    def kernel(x: Any) -> Any:
        # fast path: a plan per (device, dtype, layout) with the kernel arguments flattened
        lx = x.layout
        key = (x.dev, x.dtype, lx.shape, lx.strides)
        p = fast.get(key)
        if p is None:
            dt = x.dtype
            out_dt = dtypes.as_dtype(unary_out_dtype(name, dt.name))
            if (
                x.alloc.size >= INT_LIMIT
                or (p := _fast_plan(x.dev, "unary", gen, dt, name, out_dt, [x], None)) is None
            ):
                return run_map(x.dev, "unary", gen, (dt.name,), name, out_dt, ((x, dt),))
            if len(fast) > 4096:
                fast.clear()
            fast[key] = p
        elif x.alloc.size >= INT_LIMIT:
            out_dt = dtypes.as_dtype(unary_out_dtype(name, x.dtype.name))
            return run_map(x.dev, "unary", gen, (x.dtype.name,), name, out_dt, ((x, x.dtype),))
        knl, layout, nbytes, out_dt, sx, tail, gsize, lsize = p
        dev = x.dev
        out = CLArray(dev.pool.allocate(nbytes), layout, out_dt, dev)
        dev.launch(knl, (out.alloc.buf, 0, x.alloc.buf, lx.offset, *sx, *tail), gsize, lsize)
        return out

    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def binary_kernel(name: str, compare: bool = False) -> Callable[[Any, Any], Any]:
    """The kernel of binary op ``name`` (``add`` ... ``remainder``; with ``compare`` the bool
    valued ``eq``/``lt``/``le``): (a, b) -> op(a, b) over the broadcast shape, where one of a and
    b may be a Python scalar (a kernel argument)."""
    gen = gen_binary_program
    fast: dict[tuple, tuple] = {}

    def slow(a: Any, b: Any) -> Any:
        if type(a) is CLArray:
            dt = a.dtype
            if type(b) is CLArray:
                modes, ops = "AA", ((a, dt), (b, dt))
            else:
                modes, ops = "AS", ((a, dt), (Scalar(b), dt))
            dev = a.dev
        elif type(b) is CLArray:
            dt = b.dtype
            modes, ops, dev = "SA", ((Scalar(a), dt), (b, dt)), b.dev
        else:
            raise TypeError(f"opencl {name}: at least one operand must be a device buffer")
        return run_map(dev, "binary", gen, (dt.name,), name, dtypes.bool_ if compare else dt, ops, modes)

    def kernel(a: Any, b: Any) -> Any:
        # fast path: a plan per (device, dtype, modes, layouts) with the kernel arguments
        # flattened; the first call of a key and 64-bit-index cases go through run_map
        if type(a) is CLArray:
            arr = a
            la = a.layout
            if type(b) is CLArray:
                lb = b.layout
                key = (a.dev, a.dtype, la.shape, la.strides, lb.shape, lb.strides)
                if b.alloc.size >= INT_LIMIT:
                    return slow(a, b)
            else:
                lb = None
                key = (a.dev, a.dtype, la.shape, la.strides, type(b))
        elif type(b) is CLArray:
            arr = b
            la = None
            lb = b.layout
            key = (b.dev, b.dtype, type(a), lb.shape, lb.strides)
        else:
            return slow(a, b)
        if arr.alloc.size >= INT_LIMIT:
            return slow(a, b)
        p = fast.get(key)
        if p is None:
            dt = arr.dtype
            if la is None:
                modes, arrays = "SA", [b]
            elif lb is None:
                modes, arrays = "AS", [a]
            else:
                modes, arrays = "AA", [a, b]
            out_dt = dtypes.bool_ if compare else dt
            p = _fast_plan(arr.dev, "binary", gen, dt, name, out_dt, arrays, modes)
            if p is None:
                return slow(a, b)
            conv = _scalar_converter(dt)
            p = (*p, conv) if modes != "AA" else p
            if len(fast) > 4096:
                fast.clear()
            fast[key] = p
        dev = arr.dev
        if la is None:
            knl, layout, nbytes, out_dt, sb, tail, gsize, lsize, conv = p
            out = CLArray(dev.pool.allocate(nbytes), layout, out_dt, dev)
            args = (out.alloc.buf, 0, conv(a), b.alloc.buf, lb.offset, *sb, *tail)
        elif lb is None:
            knl, layout, nbytes, out_dt, sa, tail, gsize, lsize, conv = p
            out = CLArray(dev.pool.allocate(nbytes), layout, out_dt, dev)
            args = (out.alloc.buf, 0, a.alloc.buf, la.offset, *sa, conv(b), *tail)
        else:
            knl, layout, nbytes, out_dt, sa, sb, tail, gsize, lsize = p
            out = CLArray(dev.pool.allocate(nbytes), layout, out_dt, dev)
            args = (out.alloc.buf, 0, a.alloc.buf, la.offset, *sa, b.alloc.buf, lb.offset, *sb, *tail)
        dev.launch(knl, args, gsize, lsize)
        return out

    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def make_complex(re: Any, im: Any) -> Any:
    """Optional kernel ``complex``: re + i im of two float32 (float64) arrays of one dtype,
    broadcast, as a new complex64 (complex128) array; each part is stored as it is."""
    dt = re.dtype
    out_dt = dtypes.as_dtype(COMPLEX_OF[dt.name])
    ops = ((re, dt), (im, dt))
    return run_map(re.dev, "complex", gen_complex_program, (dt.name,), "complex", out_dt, ops, "AA")


make_complex.__name__ = make_complex.__qualname__ = "complex"  # named after its op, as every kernel


def where(cond: Any, a: Any, b: Any) -> Any:
    """Kernel ``where``: a where cond else b, over the broadcast shape (one of a and b may be a
    Python scalar; the core gives two scalars as a 0-d buffer)."""
    dt = b.dtype if _is_scalar(a) else a.dtype
    modes = ("S" if _is_scalar(a) else "A") + ("S" if _is_scalar(b) else "A")
    ops = [(cond, cond.dtype)] + [(Scalar(v) if _is_scalar(v) else v, dt) for v in (a, b)]
    return run_map(cond.dev, "where", gen_where_program, (dt.name,), "where", dt, ops, modes)


# ----------------------------------------------------------------------------------------------
# code generation


#: unary ops whose result on a complex dtype is real (the dtype of its parts)
COMPLEX_TO_REAL = frozenset(["abs"])


def unary_out_dtype(op: str, dt: str) -> str:
    """The dtype of unary ``op``'s result on dtype ``dt`` (``dt``, but for a complex ``dt``'s
    real-valued ops, :data:`COMPLEX_TO_REAL`)."""
    if op in COMPLEX_TO_REAL and dt in COMPLEX:
        return REAL_OF[dt]
    return dt


def unary_exprs(dt: str) -> dict[str, str]:
    """Op name -> OpenCL expression of ``x`` (the operand in the compute type) of every unary
    op defined on dtype ``dt`` (``relu`` included; on complex dtypes the ones numpy defines)."""
    if dt in COMPLEX:
        ops = {op: f"{fn('c' + op, dt)}(x)" for op in ("exp", "log", "sqrt", "sin", "cos", "tanh")}
        conj = f"({CTYPE[dt]})(x.s0, -x.s1)"  # (.s0/.s1: the fusion layer renames the word x)
        return {"neg": "-x", "abs": f"{fn('cabs', dt)}(x)", "conj": conj, **ops}
    if dt in FLOATS:
        return {
            "neg": "-x",
            "abs": "ember_fabs_(x)",
            "exp": "exp(x)" if dt == "float64" else "sexp_(x)",
            "log": "log(x)" if dt == "float64" else "slog_(x)",
            "sqrt": "ember_sqrt_(x)" if dt == "float64" else "ember_sqrtf_(x)",
            "sin": "sin(x)",
            "cos": "cos(x)",
            "tanh": "tanh(x)" if dt == "float64" else "stanh_(x)",
            "erf": "erf(x)",
            "floor": "ember_floor_(x)",
            "ceil": "ember_ceil_(x)",
            "round": "ember_rint_(x)",
            "trunc": "ember_trunc_(x)",
            "relu": "(x < 0 ? 0 : x)",
        }
    ident = {"floor": "x", "ceil": "x", "round": "x", "trunc": "x"}
    if dt == "bool":
        return {"abs": "x", **ident, "relu": "x"}
    if dt == "uint8":
        return {"neg": "-x", "abs": "x", **ident, "relu": "x"}
    return {"neg": "-x", "abs": "(x < 0 ? -x : x)", **ident, "relu": "(x < 0 ? 0 : x)"}


def binary_exprs(dt: str) -> dict[str, str]:
    """Op name -> OpenCL expression of ``a`` and ``b`` of every binary and compare op defined on
    dtype ``dt`` (helpers such as ``floordiv_`` come from :func:`divmod_helpers`)."""
    if dt in COMPLEX:
        f = {op: fn(op, dt) for op in ("cmul", "cdiv", "cpow", "ceq")}
        return {
            "add": "a + b",
            "sub": "a - b",
            "mul": f"{f['cmul']}(a, b)",
            "div": f"{f['cdiv']}(a, b)",
            "pow": f"{f['cpow']}(a, b)",
            "eq": f"{f['ceq']}(a, b)",
        }
    ops = {"add": "a + b", "sub": "a - b", "mul": "a * b", "eq": "a == b", "lt": "a < b", "le": "a <= b"}
    if dt in FLOATS:
        ops.update(
            {
                "div": "a / b",
                "floor_divide": "floordiv_(a, b)",
                "remainder": "pymod_(a, b)",
                "pow": "pow(a, b)",
                "atan2": "atan2(a, b)" if dt == "float64" else "satan2_(a, b)",
                "maximum": "((a > b || a != a) ? a : b)",
                "minimum": "((a < b || a != a) ? a : b)",
                "signbit": "signbit(a)",  # b unused: the optional signbit kernel passes 0
            }
        )
    else:
        ops.update(
            {
                "maximum": "(a > b ? a : b)",
                "minimum": "(a < b ? a : b)",
                "bitwise_and": "a & b",
                "bitwise_or": "a | b",
                "bitwise_xor": "a ^ b",
            }
        )
        if dt != "bool":
            ops["pow"] = "ipow_(a, b)"
            ops["floor_divide"] = "ifloordiv_(a, b)"
            ops["remainder"] = "imod_(a, b)"
    return ops


def divmod_helpers(dt: str) -> str:
    """floordiv_/pymod_ (floats: numpy's and PyTorch's fmod-based algorithm, so 1.0 // 0.1 is 9
    as in Python, not floor(1.0 / 0.1) = 10; a zero remainder has the divisor's sign, as in Python,
    numpy and the cpu backend) or ifloordiv_/imod_ (integers: C's truncating
    division corrected toward negative infinity; b == -1 apart, as MIN / -1 traps on x86).
    Integer division by zero never reaches a kernel: the core raises first."""
    ct = compute_type(dt)
    if dt in FLOATS:
        return f"""
inline {ct} floordiv_({ct} a, {ct} b) {{
    if (b == 0) return a / b;
    {ct} m = fmod(a, b);
    {ct} d = (a - m) / b;
    if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
    if (d == 0) return copysign(({ct})0, a / b);
    {ct} f = ember_floor_(d);
    return d - f > ({ct})0.5 ? f + 1 : f;
}}
inline {ct} pymod_({ct} a, {ct} b) {{
    {ct} m = fmod(a, b);
    if (m == 0) return copysign(({ct})0, b);  /* a zero takes the divisor's sign, as Python's % */
    return ((b < 0) != (m < 0)) ? m + b : m;
}}
"""
    return f"""
inline {ct} ifloordiv_({ct} a, {ct} b) {{
    if (b == ({ct})-1) return ({ct})(0 - a);
    {ct} q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? ({ct})(q - 1) : q;
}}
inline {ct} imod_({ct} a, {ct} b) {{
    if (b == ({ct})-1) return 0;
    {ct} r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? ({ct})(r + b) : r;
}}
"""


COMPARE_OPS = ("eq", "lt", "le", "signbit")


def _ipow(ct: str) -> str:
    return f"""
{ct} ipow_({ct} a, {ct} b) {{
    if (b < 0) return (a == 1) ? ({ct})1 : ((a == ({ct})-1) ? ((b & 1) ? ({ct})-1 : ({ct})1) : ({ct})0);
    {ct} r = 1;
    while (b) {{ if (b & 1) r *= a; b >>= 1; a *= a; }}
    return r;
}}
"""


#: float32 ops with an inline 8-lane polynomial ``v<op>_`` (and its scalar form ``s<op>_``) in
#: :mod:`ember_opencl._codegen`: PoCL calls the builtins out of line
VECTOR_POLYNOMIALS = frozenset({"exp", "log", "tanh", "atan2"})
#: elementwise ops whose expression also works on vectors (same dtype in and out)
VEC_OPS = {"add", "sub", "mul", "div", "neg", "copy"} | VECTOR_POLYNOMIALS


def gen_map_kernel(
    name: str,
    out_dt: str,
    out_strided: bool,
    operands: list[tuple[str, str, bool]],
    body_expr: str,
    expr_ct: str,
    rank: int,
    idx: str,
    vec_expr: str | None = None,
    unit_variant: bool = False,
) -> tuple[str, KernelSignature]:
    """One elementwise kernel: (source, signature).

    operands: (var, dtype, is_scalar); each array operand ``var`` is loaded into ``var`` (compute
    type); a scalar operand is a kernel argument named ``var``. ``body_expr`` (of OpenCL type
    ``expr_ct``) is converted to ``out_dt`` and stored. ``out_strided``: the output has its own
    strides and offset (copy into a view); otherwise it is contiguous at ``out[i]``.
    """
    sig = map_signature(name, out_dt, out_strided, tuple(operands), rank, idx)
    if rank < 0:
        return _gen_map_contiguous(sig, out_dt, operands, body_expr, expr_ct, idx, vec_expr), sig
    if rank >= 2:
        src = _gen_map_tiled(sig, out_dt, out_strided, operands, body_expr, expr_ct, rank, idx, unit_variant)
        return src, sig
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
    ]
    lines += ["    " + s for s in decompose(rank, idx)]
    for var, dt, scalar in operands:
        if not scalar:
            pos = position(var, rank) if rank else f"{var}_off + i"
            lines.append(f"    {compute_type(dt)} {var} = {load(dt, var + '_p', pos)};")
    opos = position("out", rank) if out_strided and rank else "out_off + i"
    lines.append("    " + store(out_dt, "out", opos, convert(body_expr, expr_ct, out_dt)))
    lines.append("}")
    return "\n".join(lines) + "\n", sig


@cache
def map_signature(
    name: str,
    out_dt: str,
    out_strided: bool,
    operands: tuple[tuple[str, str, bool], ...],
    rank: int,
    idx: str,
) -> KernelSignature:
    """Parameters of an elementwise kernel (see :func:`gen_map_kernel`): the output buffer and
    offset (and strides when ``out_strided``); per operand its buffer, offset and strides, or its
    value (scalar operands); the dims and the element count; the tiling of a rank >= 2 kernel."""
    r = max(rank, 0)
    params = [Param("out", f"__global {CTYPE[out_dt]}*"), Param("out_off", idx)]
    if out_strided:
        params.append(Param("out_s", idx, r))
    for var, dt, scalar in operands:
        if scalar:
            params.append(Param(var, compute_type(dt)))
        else:
            params += [Param(f"{var}_p", f"__global const {CTYPE[dt]}*"), Param(f"{var}_off", idx)]
            params.append(Param(f"{var}_s", idx, r))
    params += [Param("d", idx, r), Param("n", idx)]
    if rank >= 2:
        params += [Param(p, idx) for p in ("RB", "CB", "NRB", "NCB", "nwi")]
    return KernelSignature(name, tuple(params))


def vec_ok(op: str, dt: str, out_dt: str) -> bool:
    """Whether the contiguous kernel of ``op`` from ``dt`` to ``out_dt`` has a vector body."""
    return (
        op in VEC_OPS
        and dt == out_dt
        and dt in VEC_WIDTH
        and (op not in VECTOR_POLYNOMIALS or dt == "float32")
        and (op != "div" or dt in FLOATS)
    )


def _vec_expr(op: str, expr: str) -> str:
    if op in VECTOR_POLYNOMIALS:
        return f"v{op}_({'a, b' if op == 'atan2' else 'x'})"
    return expr


def _gen_map_contiguous(
    sig: KernelSignature,
    out_dt: str,
    operands: list[tuple[str, str, bool]],
    body_expr: str,
    expr_ct: str,
    idx: str,
    vec_expr: str | None,
) -> str:
    """Rank -1: every operand contiguous; work-item g does elements [g*CHUNK, (g+1)*CHUNK), with
    unaligned vector loads/stores when ``vec_expr`` is given (plain operators, no builtins)."""
    lines = [
        sig.declaration() + " {",
        f"    {idx} i0 = get_global_id(0) * {CHUNK};",
        "    if (i0 >= n) return;",
    ]
    if vec_expr is not None:
        w = VEC_WIDTH[out_dt]
        vt = f"{CTYPE[out_dt]}{w}"
        lines.append(f"    if (i0 + {CHUNK} <= n) {{")
        lines.append(f"        for (int j = 0; j < {CHUNK}; j += {w}) {{")
        for var, dt, scalar in operands:
            if not scalar:
                lines.append(
                    f"            {vt} {var} = *(const __global {vt}u*)({var}_p + {var}_off + i0 + j);"
                )
        lines.append(f"            *(__global {vt}u*)(out + out_off + i0 + j) = {vec_expr};")
        lines.append("        }")
        lines.append("        return;")
        lines.append("    }")
    lines.append(f"    {idx} hi = i0 + {CHUNK} < n ? i0 + {CHUNK} : n;")
    lines.append(f"    for ({idx} i = i0; i < hi; ++i) {{")
    for var, dt, scalar in operands:
        if not scalar:
            lines.append(f"        {compute_type(dt)} {var} = {load(dt, var + '_p', f'{var}_off + i')};")
    lines.append("        " + store(out_dt, "out", "out_off + i", convert(body_expr, expr_ct, out_dt)))
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _gen_map_tiled(
    sig: KernelSignature,
    out_dt: str,
    out_strided: bool,
    operands: list[tuple[str, str, bool]],
    body_expr: str,
    expr_ct: str,
    rank: int,
    idx: str,
    unit_variant: bool,
) -> str:
    """Rank >= 2, strided: work-item g owns a tile of the last two dims (rows [rb*RB, +RB) of
    d{r-2} x columns [cb*CB, +CB) of d{r-1}) at one coordinate of the outer dims, so the index
    arithmetic (divisions) is paid once per tile, not per element. With ``unit_variant`` (copies,
    add_: the convolution's im2col and fold) the innermost loop also has a unit-stride version
    (every operand's last stride 1) the compiler can vectorise; the big unary/binary programs
    leave it out to keep their build time down."""
    r2, r1 = rank - 2, rank - 1
    arrays = [var for var, _, scalar in operands if not scalar]
    lines = [
        sig.declaration() + " {",
        f"    {idx} g = get_global_id(0);",
        "    if (g >= nwi) return;",
        f"    {idx} tc_ = g % NCB; {idx} t_ = g / NCB; {idx} tr_ = t_ % NRB; t_ /= NRB;",
    ]
    if not out_strided:
        lines.append(
            f"    {idx} out_s{r2} = d{r1}; {idx} out_s{r1} = 1; {idx} outb = out_off + t_ * d{r2} * d{r1};"
        )
    for j in range(r2 - 1, 0, -1):
        lines.append(f"    {idx} c{j} = t_ % d{j}; t_ /= d{j};")
    if r2 > 0:
        lines.append(f"    {idx} c0 = t_;")
    names = arrays + (["out"] if out_strided else [])
    for var in names:
        terms = [f"{var}_off"] + [f"c{j} * {var}_s{j}" for j in range(r2)]
        lines.append(f"    {idx} {var}b = {' + '.join(terms)};")
    if not out_strided:
        names = names + ["out"]
    lines.append(f"    {idx} i0 = tr_ * RB; {idx} i1 = min(i0 + RB, d{r2});")
    lines.append(f"    {idx} j0 = tc_ * CB; {idx} j1 = min(j0 + CB, d{r1});")
    unit = " && ".join(f"{var}_s{r1} == 1" for var in names)
    for variant in ("unit", "any") if unit_variant else ("any",):
        if variant == "unit":
            lines.append(f"    if ({unit}) {{")
        elif unit_variant:
            lines.append("    } else {")
        else:
            lines.append("    {")
        lines.append(f"        for ({idx} i = i0; i < i1; ++i) {{")
        for var in names:
            lines.append(f"            {idx} {var}r = {var}b + i * {var}_s{r2};")
        lines.append(f"            for ({idx} j = j0; j < j1; ++j) {{")
        for var, dt, scalar in operands:
            if not scalar:
                pos = f"{var}r + j" if variant == "unit" else f"{var}r + j * {var}_s{r1}"
                lines.append(f"                {compute_type(dt)} {var} = {load(dt, var + '_p', pos)};")
        opos = "outr + j" if variant == "unit" else f"outr + j * out_s{r1}"
        lines.append("                " + store(out_dt, "out", opos, convert(body_expr, expr_ct, out_dt)))
        lines.append("            }")
        lines.append("        }")
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def gen_unary_program(dt: str, rank: int, idx: str) -> Program:
    """All unary kernels of ``dt``; kernel names are the op names."""
    src = [header(dt), complex_math(dt) if dt in COMPLEX else ""]
    sigs = []
    for op, expr in unary_exprs(dt).items():
        vec = _vec_expr(op, expr) if rank < 0 and vec_ok(op, dt, dt) else None
        if op == "relu" and rank < 0 and dt in VEC_WIDTH:
            vec = f"(x < 0 ? ({CTYPE[dt]}{VEC_WIDTH[dt]})(0) : x)"
        out = unary_out_dtype(op, dt)
        kernel, sig = gen_map_kernel(
            op, out, False, [("x", dt, False)], expr, compute_type(out), rank, idx, vec
        )
        src.append(kernel)
        sigs.append(sig)
    return "".join(src), sigs


def gen_binary_program(dt: str, rank: int, idx: str, modes: str) -> Program:
    """All binary and compare kernels of ``dt``; ``modes`` is 'AA', 'AS' or 'SA' (S: scalar arg)."""
    ct = compute_type(dt)
    src = [header(dt)]
    if dt in INTS:
        src.append(_ipow(ct))
    if dt in COMPLEX:
        src.append(complex_math(dt))
    elif dt != "bool":
        src.append(divmod_helpers(dt))
    sigs = []
    ops = [("a", dt, modes[0] == "S"), ("b", dt, modes[1] == "S")]
    for op, expr in binary_exprs(dt).items():
        out = "bool" if op in COMPARE_OPS else dt
        ect = "int" if op in COMPARE_OPS else ct
        vec = _vec_expr(op, expr) if rank < 0 and vec_ok(op, dt, out) else None
        kernel, sig = gen_map_kernel(op, out, False, ops, expr, ect, rank, idx, vec)
        src.append(kernel)
        sigs.append(sig)
    return "".join(src), sigs


def gen_complex_program(dt: str, rank: int, idx: str, modes: str) -> Program:
    """complex(a, b) = a + i b from two arrays of real dtype ``dt`` (``modes`` 'AA')."""
    cdt = COMPLEX_OF[dt]
    ct = CTYPE[cdt]
    ops = [("a", dt, modes[0] == "S"), ("b", dt, modes[1] == "S")]
    kernel, sig = gen_map_kernel("complex", cdt, False, ops, f"({ct})(a, b)", ct, rank, idx)
    return header(dt, cdt) + kernel, [sig]


def gen_where_program(dt: str, rank: int, idx: str, modes: str) -> Program:
    """where(cond, a, b); ``modes`` for a and b: 'AA', 'AS' or 'SA' (S: scalar argument)."""
    ct = compute_type(dt)
    ops = [("c", "bool", False), ("a", dt, modes[0] == "S"), ("b", dt, modes[1] == "S")]
    kernel, sig = gen_map_kernel("where", dt, False, ops, "c ? a : b", ct, rank, idx)
    return header(dt) + kernel, [sig]
