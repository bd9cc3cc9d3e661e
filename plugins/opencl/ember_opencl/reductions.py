"""Reduction kernels: sum/prod/max/min over any dims, argmax/argmin, cumsum and the optional
softmax/log_softmax; with their code generators.

Kernels of the backend's table built here: :func:`reduction_kernel` (``sum``, ``prod``, ``max``,
``min``, ``argmax``, ``argmin``), :func:`cumsum`, :func:`softmax` and :func:`log_softmax`.
Complex arrays have ``sum``, ``prod`` (complex multiply) and ``cumsum`` (generic kernels,
accumulating in their own type).

Generic reductions (:func:`gen_reduce_program`) take any strides: one work-item per output,
or, when there are few outputs and much to reduce, two stages with the outermost reduced dim
split in chunks. Contiguous float32/float64 data whose dims group as [kept][reduced][kept] go to
vector accumulator kernels (:func:`gen_reduce_fast_program`: ``<op>_rows`` / ``<op>_cols``, two
passes when there are few outputs; [reduced][kept][reduced] is a rows pass, then a cols pass); a row reduction of a pending (fused) array hands the
expression to the fusion layer, which fuses it into the reduction. A single-launch generic
reduction keeps its launch plan per (op, dtype, layout, dims).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from ember import dtypes

from ._array import CLArray
from ._codegen import (
    ACC_DTYPE,
    CTYPE,
    FLOATS,
    VEC_WIDTH,
    acc_type,
    compute_type,
    convert,
    decompose,
    header,
    load,
    position,
    store,
)
from ._complex import COMPLEX, complex_math, fn
from ._launch import (
    INT_LIMIT,
    bucket_rank,
    coalesce,
    index_type,
    launch_1d,
    launch_n,
    launch_nd,
    new_array,
    pad,
)
from ._signature import KernelSignature, Param, Program
from .memory import as_strided, contiguous, fill

__all__ = ["cumsum", "log_softmax", "reduction_kernel", "row_split", "rows_pass", "softmax"]

_ARG_OPS = ("argmax", "argmin")


def reduction_kernel(name: str) -> Callable[..., Any]:
    """The kernel of reduction ``name``: (x, dims, keepdim=False) -> x reduced over ``dims`` (an
    int or a tuple; argmax/argmin take one dim and give int64 indices)."""

    def kernel(x: Any, dims: Any, keepdim: bool = False) -> Any:
        if isinstance(dims, int):
            dims = (dims,)
        return reduce(name, x, tuple(dims), keepdim)

    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def reduce(op: str, x: CLArray, dims: tuple[int, ...], keepdim: bool) -> CLArray:
    """``op`` (sum/prod/max/min/argmax/argmin) of ``x`` over ``dims``."""
    dev = x.dev
    # fast path: a single-launch generic reduction seen before (same dtype, layout, dims)
    p = dev.reduce_plans.get((op, x.dtype, x.layout.shape, x.layout.strides, dims, keepdim))
    if p is not None and x._alloc is not None and x._alloc.size < INT_LIMIT:
        knl, rest, gsize, lsize, out_shape, out_dt = p
        out = new_array(dev, out_shape, out_dt)
        dev.launch(knl, (out.alloc.buf, x.alloc.buf, x.layout.offset, *rest), gsize, lsize)
        return out
    dims_set = set(dims)
    shape = x.shape
    kept = [i for i in range(len(shape)) if i not in dims_set]
    out_shape = (
        tuple(1 if i in dims_set else n for i, n in enumerate(shape))
        if keepdim
        else tuple(shape[i] for i in kept)
    )
    is_arg = op in _ARG_OPS
    out_dt = dtypes.int64 if is_arg else x.dtype
    out = new_array(dev, out_shape, out_dt)
    n_out = out.size
    if n_out == 0:
        return out
    red = sorted(dims_set)
    n_red = math.prod(shape[d] for d in red)
    if n_red == 0:
        return fill(out, 1 if op == "prod" else 0)
    if (
        not is_arg
        and x.dtype.name in VEC_WIDTH
        and x.dtype.is_floating_point
        and x.layout.is_contiguous
        and _reduce_fast(op, x, out, dims_set)
    ):
        return out
    kshape, (kstr,) = coalesce([shape[i] for i in kept], [[x.strides[i] for i in kept]])
    if is_arg:
        rshape, rstr = [shape[red[0]]], [x.strides[red[0]]]
    else:
        rshape, (rstr,) = coalesce([shape[d] for d in red], [[x.strides[d] for d in red]])
    G = 1
    chunk = rshape[0] if rshape else 1
    if not is_arg and rshape and n_out < 256 and n_red >= 16384:
        target = max(2, 1024 // n_out)
        G = min(rshape[0], target)
        chunk = -(-rshape[0] // G)
        G = -(-rshape[0] // chunk)
    if G > 1:
        part_dt = dtypes.as_dtype(ACC_DTYPE[acc_type(x.dtype.name)])
        part = new_array(dev, (n_out * G,), part_dt)
        _reduce_launch(op, x, part, kshape, kstr, rshape, rstr, G, chunk)
        part2 = as_strided(part, (n_out, G), (G, 1), 0)
        stage2 = new_array(dev, (n_out,), out_dt)
        _reduce_launch(
            op, part2, stage2, [n_out] if n_out > 1 else [], [G] if n_out > 1 else [], [G], [1], 1, G
        )
        return as_strided(stage2, out_shape, out.strides, 0)
    plan = _reduce_launch(op, x, out, kshape, kstr, rshape, rstr, 1, chunk)
    if x.alloc.size < INT_LIMIT and out.alloc.size < INT_LIMIT:
        if len(dev.reduce_plans) > 4096:
            dev.reduce_plans.clear()
        key = (op, x.dtype, shape, x.layout.strides, dims, keepdim)
        dev.reduce_plans[key] = (*plan, out_shape, out_dt)
    return out


def _reduce_launch(
    op: str,
    x: CLArray,
    out: CLArray,
    kshape: list[int],
    kstr: list[int],
    rshape: list[int],
    rstr: list[int],
    G: int,
    chunk: int,
) -> tuple:
    """Launch the generic reduction kernel ``op``: kept dims ``kshape`` (input strides ``kstr``),
    reduced dims ``rshape`` (strides ``rstr``), the outermost reduced dim in G chunks of
    ``chunk``. Returns the launch plan: (kernel, arguments after x's offset, sizes)."""
    dev = x.dev
    orank = bucket_rank(len(kshape)) if kshape else 0
    rrank = 1 if op in _ARG_OPS else (bucket_rank(len(rshape)) if rshape else 0)
    if orank:
        kshape, (kstr,) = pad(list(kshape), [list(kstr)], orank)
    if rrank:  # pad reduced dims on the right: the chunked dim (dr0) stays the outermost real one
        k = rrank - len(rshape)
        rshape, rstr = list(rshape) + [1] * k, list(rstr) + [0] * k
    n = math.prod(kshape) * G if kshape else G
    idx = index_type(n, x, out)
    in_dt, out_dt = x.dtype.name, out.dtype.name
    key = ("reduce", in_dt, out_dt, orank, rrank, idx)
    knl = dev.program(key, gen_reduce_program, in_dt, out_dt, orank, rrank, idx)[op]
    sig = reduce_signature(op, in_dt, CTYPE[out_dt], orank, rrank, idx)
    args = sig.pack(out.alloc.buf, x.alloc.buf, x.offset, kshape, kstr, rshape, rstr, G, chunk, n)
    local = 64 if n >= 4096 else 1
    gsize, lsize = ((n + local - 1) // local * local,), (local,)
    launch_nd(dev, knl, args, gsize, lsize)
    return (knl, tuple(args[3:]), gsize, lsize)


def _reduce_fast(op: str, x: CLArray, out: CLArray, dims_set: set) -> bool:
    """Contiguous float32/float64 x whose dims are [kept][reduced][kept] once size-1 dims are
    dropped: the vectorised rows/cols kernels (two passes when there are few outputs). False
    (nothing done) for other dim groupings."""
    groups: list[list] = []  # [reduced?, size]
    for j, n in enumerate(x.shape):
        if n == 1:
            continue
        r = j in dims_set
        if groups and groups[-1][0] == r:
            groups[-1][1] *= n
        else:
            groups.append([r, n])
    flags = [g[0] for g in groups]
    sizes = [g[1] for g in groups]
    dev = x.dev
    if flags == [True, False, True]:
        # [reduced][kept][reduced] (a convolution's bias gradient, dims (0, 2, 3)): the rows
        # kernel over the inner reduced group, then the cols kernel over the outer one (one
        # work-item per output striding through the whole input was 4-5x slower on PoCL)
        a, k, b = sizes
        part = new_array(dev, (a, k), x.dtype)
        rows = as_strided(x, (a * k, b), (b, 1), 0)
        _reduce_fast(op, rows, as_strided(part, (a * k,), (1,), 0), {1})
        _reduce_fast(op, part, as_strided(out, (k,), (1,), 0), {0})
        return True
    if flags not in ([True], [False, True], [True, False], [False, True, False]):
        return False
    xsize = x.layout.numel if x._alloc is None else x._alloc.size
    big = xsize >= INT_LIMIT or out.alloc.size >= INT_LIMIT
    idx = "long" if big else "int"
    dt = x.dtype.name
    kn = dev.program(("reduce_fast", dt, idx), gen_reduce_fast_program, dt, idx)
    rows_sig, cols_sig = reduce_fast_signatures(op, dt, idx)
    span = VEC_WIDTH[dt] * 4
    if flags[-1]:  # rows
        rows = sizes[0] if len(sizes) == 2 else 1
        length = sizes[-1]
        if x._alloc is None and dev.fusion.reduce_rows(op, x, out, rows, length):
            return True
        G, chunk = row_split(rows, length, dt)
        knl = kn[rows_sig.name]
        if G == 1:
            launch_n(
                dev, knl, rows_sig.pack(out.alloc.buf, x.alloc.buf, x.offset, length, 1, chunk, rows), rows
            )
            return True
        part = new_array(dev, (rows * G,), x.dtype)
        args = rows_sig.pack(part.alloc.buf, x.alloc.buf, x.offset, length, G, chunk, rows * G)
        launch_n(dev, knl, args, rows * G)
        rows_pass(op, part, out, rows, G)
        return True
    outer = sizes[0] if len(sizes) == 3 else 1
    R, inner = sizes[-2], sizes[-1]
    nj = -(-inner // span)
    # row chunks of 256: the work-items of one work-group (neighbouring column blocks) then
    # sweep the same rows, so a sweep's pages stay in the TLB; a second pass adds the chunks
    chunk = 256 if R > 512 else R
    if outer * nj < 64 and R >= 256:
        chunk = min(chunk, max(64, -(-R // -(-64 // (outer * nj)))))
    G = -(-R // chunk)
    knl = kn[cols_sig.name]
    n_out = outer * nj
    if G == 1:
        launch_n(
            dev,
            knl,
            cols_sig.pack(out.alloc.buf, x.alloc.buf, x.offset, R, inner, nj, 1, chunk, n_out),
            n_out,
        )
        return True
    part = new_array(dev, (outer * G * inner,), x.dtype)
    n1 = outer * G * nj
    launch_n(dev, knl, cols_sig.pack(part.alloc.buf, x.alloc.buf, x.offset, R, inner, nj, G, chunk, n1), n1)
    launch_n(dev, knl, cols_sig.pack(out.alloc.buf, part.alloc.buf, 0, G, inner, nj, 1, G, n_out), n_out)
    return True


def row_split(rows: int, length: int, dt: str) -> tuple[int, int]:
    """(G, chunk): reduce each of ``rows`` rows of ``length`` in G chunks (G > 1 when few long
    rows would leave cores idle; a second pass then adds the chunks)."""
    span = VEC_WIDTH[dt] * 4
    G = 1
    if rows < 64 and length >= 1 << 15:
        G = min(-(-64 // rows), length // (1 << 14))
    per = -(-length // G)
    chunk = -(-per // span) * span
    return -(-length // chunk), chunk


def rows_pass(op: str, part: CLArray, out: CLArray, rows: int, G: int) -> None:
    """Second pass of a chunked row reduction: out[o] = op over part[o * G : (o + 1) * G]."""
    dev = out.dev
    dt = out.dtype.name
    idx = "long" if part.alloc.size >= INT_LIMIT else "int"
    rows_sig = reduce_fast_signatures(op, dt, idx)[0]
    knl = dev.program(("reduce_fast", dt, idx), gen_reduce_fast_program, dt, idx)[rows_sig.name]
    launch_n(dev, knl, rows_sig.pack(out.alloc.buf, part.alloc.buf, 0, G, 1, G, rows), rows)


# ----------------------------------------------------------------------------------------------
# kernels over whole lines: cumsum, softmax, log_softmax


def _lines_along(x: CLArray, dim: int) -> tuple[CLArray, CLArray, int, int]:
    """For kernels that walk whole lines along ``dim`` (softmax, cumsum): a fresh output of x's
    shape and dtype, x made contiguous, the line length and the stride between line elements."""
    out = new_array(x.dev, x.shape, x.dtype)
    if out.size and not x.layout.is_contiguous:
        x = contiguous(x)
    shape = x.shape
    return out, x, (shape[dim] if shape else 1), math.prod(shape[dim + 1 :])


def cumsum(x: CLArray, dim: int) -> CLArray:
    """Kernel ``cumsum``: running sums along ``dim`` (one work-item per line)."""
    dev = x.dev
    out, x, length, inner = _lines_along(x, dim)
    if out.size == 0:
        return out
    n = math.prod(x.shape[:dim]) * inner
    idx = index_type(out.size, x, out)
    dt = x.dtype.name
    sig = lines_signature("cumsum", dt, idx, "len")
    knl = dev.program(("cumsum", dt, idx), gen_cumsum_program, dt, idx)[sig.name]
    launch_1d(
        dev, knl, sig.pack(out.alloc.buf, x.alloc.buf, x.offset, length, inner, n), n, 64 if n >= 4096 else 1
    )
    return out


#: rows of a float32 softmax along contiguous rows per work-item: about this many work-items
SOFTMAX_ROW_ITEMS = 128


def _softmax_lines(op: str, x: CLArray, dim: int) -> CLArray:
    """softmax / log_softmax along ``dim`` of a floating x (one work-item per line; float32
    along contiguous rows: a run of rows per work-item, 8-wide vectors along each row)."""
    dev = x.dev
    out, x, length, inner = _lines_along(x, dim)
    if out.size == 0:
        return out
    n = out.size // length
    idx = "long" if x.alloc.size >= INT_LIMIT else "int"
    dt = x.dtype.name
    kn = dev.program(("softmax", dt, idx), gen_softmax_program, dt, idx)
    if inner == 1 and dt == "float32":
        per = -(-n // SOFTMAX_ROW_ITEMS)
        sig = lines_signature(op + "_rows", dt, idx)
        args = sig.pack(out.alloc.buf, x.alloc.buf, x.offset, length, per, n)
        launch_nd(dev, kn[sig.name], args, (-(-n // per),), (1,))
        return out
    sig = lines_signature(op, dt, idx)
    launch_n(dev, kn[sig.name], sig.pack(out.alloc.buf, x.alloc.buf, x.offset, length, inner, n), n)
    return out


def softmax(x: CLArray, dim: int) -> CLArray:
    """Optional kernel ``softmax`` along ``dim`` of a floating x."""
    return _softmax_lines("softmax", x, dim)


def log_softmax(x: CLArray, dim: int) -> CLArray:
    """Optional kernel ``log_softmax`` along ``dim`` of a floating x."""
    return _softmax_lines("log_softmax", x, dim)


# ----------------------------------------------------------------------------------------------
# code generation: generic reductions


def _combine(op: str, ct: str, floating: bool) -> tuple[str, str]:
    """(init, statement) combining v into acc (``ct`` float2/double2: complex, sum and prod)."""
    if op == "sum":
        return "0", "acc = acc + v;"
    if op == "prod":
        if ct in ("float2", "double2"):
            return f"({ct})(1, 0)", f"acc = {fn('cmul', ACC_DTYPE[ct])}(acc, v);"
        return "1", "acc = acc * v;"
    if op == "max":
        if floating:
            return "-INFINITY", f"acc = {vcomb('max', 'acc', 'v')};"
        return {"long": "LONG_MIN"}.get(ct, "0"), "acc = v > acc ? v : acc;"
    if op == "min":
        if floating:
            return "INFINITY", f"acc = {vcomb('min', 'acc', 'v')};"
        return {"long": "LONG_MAX"}.get(ct, "0"), "acc = v < acc ? v : acc;"
    raise ValueError(op)


def gen_reduce_program(in_dt: str, out_dt: str, out_rank: int, red_rank: int, idx: str) -> Program:
    """sum/prod/max/min (and argmax/argmin when red_rank == 1, out_dt int64 then); sum and prod
    only on complex dtypes (which have no order).

    Work-item ``i`` = ``o * G + g``: output ``o`` (coordinates over do0.. with input strides
    xs0..), chunk ``g`` of the outermost reduced dim (``chunk`` elements each). Reduced dims
    dr0.. with input strides xr0... With G == 1 this is a plain one-work-item-per-output reduction;
    with G > 1 it is the first stage of a two-stage reduction (out_dt is then the accumulator's).
    """
    act = acc_type(in_dt)
    floating = in_dt in FLOATS
    pre = [
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
        f"    {idx} o = i / G; {idx} g = i - o * G;",
    ]
    pre += ["    " + s for s in decompose(out_rank, idx, "o", "do")]
    pre.append(f"    {idx} base = {position('x', out_rank)};")
    src = [header(in_dt, out_dt, act)]
    cplx = in_dt in COMPLEX
    if cplx:
        src.append(complex_math(ACC_DTYPE[act]))
    sigs = []
    for op in ("sum", "prod") if cplx else ("sum", "prod", "max", "min"):
        init, comb = _combine(op, act, floating)
        sig = reduce_signature(op, in_dt, CTYPE[out_dt], out_rank, red_rank, idx)
        lines = [sig.declaration() + " {"] + pre
        lines.append(f"    {act} acc = {init};")
        lines.append(
            f"    {idx} lo = g * chunk; {idx} hi = min(lo + chunk, {'dr0' if red_rank else '(' + idx + ')1'});"
        )
        ind = "    "
        lines.append(f"    for ({idx} r0 = lo; r0 < hi; ++r0) {{")
        if red_rank == 0:
            terms = "0"
        else:
            for j in range(1, red_rank):
                ind += "    "
                lines.append(f"{ind}for ({idx} r{j} = 0; r{j} < dr{j}; ++r{j}) {{")
            terms = " + ".join(f"r{j} * xr_s{j}" for j in range(red_rank))
        lines.append(f"{ind}    {act} v = ({act}){load(in_dt, 'x', 'base + ' + terms)};")
        lines.append(f"{ind}    {comb}")
        for _ in range(max(red_rank, 1)):
            lines.append(f"{ind}}}")
            ind = ind[:-4]
        lines.append("    " + store(out_dt, "out", "i", convert("acc", act, out_dt)))
        lines.append("}")
        src.append("\n".join(lines) + "\n")
        sigs.append(sig)
    if red_rank == 1 and not cplx:
        ct = compute_type(in_dt)
        for op, cmp in (("argmax", ">"), ("argmin", "<")):
            if floating:
                better = f"(best == best && (v {cmp} best || v != v))"
            else:
                better = f"(v {cmp} best)"
            sig = reduce_signature(op, in_dt, "long", out_rank, 1, idx)
            src.append(f"""{sig.declaration()} {{
{chr(10).join(pre)}
    {ct} best = {load(in_dt, "x", "base")};
    long bi = 0;
    for ({idx} r = 1; r < dr0; ++r) {{
        {ct} v = {load(in_dt, "x", "base + r * xr_s0")};
        if {better} {{ best = v; bi = r; }}
    }}
    out[i] = bi;
}}
""")
            sigs.append(sig)
    return "".join(src), sigs


@cache
def reduce_signature(
    name: str, in_dt: str, out_ct: str, out_rank: int, red_rank: int, idx: str
) -> KernelSignature:
    """Parameters of a generic reduction kernel (see :func:`gen_reduce_program`): the output
    (C type ``out_ct``), the input with its offset, the kept dims ``do`` and their input strides
    ``x_s``, the reduced dims ``dr`` and their strides ``xr_s``, the chunking and the work-items."""
    params = (
        Param("out", f"__global {out_ct}*"),
        Param("x", f"__global const {CTYPE[in_dt]}*"),
        Param("x_off", idx),
        Param("do", idx, out_rank),
        Param("x_s", idx, out_rank),
        Param("dr", idx, red_rank),
        Param("xr_s", idx, red_rank),
        Param("G", idx),
        Param("chunk", idx),
        Param("n", idx),
    )
    return KernelSignature(name, params)


# ----------------------------------------------------------------------------------------------
# code generation: cumsum


def gen_cumsum_program(dt: str, idx: str) -> Program:
    """cumsum of a contiguous (outer, n, inner) array; one work-item per (outer, inner) line."""
    act = acc_type(dt)
    sig = lines_signature("cumsum", dt, idx, "len")
    return (
        header(dt, act)
        + f"""
{sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} o = i / inner; {idx} j = i - o * inner;
    {idx} base = o * len * inner + j;
    {act} acc = 0;
    for ({idx} k = 0; k < len; ++k) {{
        acc += ({act}){load(dt, "x", "x_off + base + k * inner")};
        {store(dt, "out", "base + k * inner", convert("acc", act, dt))}
    }}
}}
""",
        [sig],
    )


@cache
def lines_signature(name: str, dt: str, idx: str, length: str = "L") -> KernelSignature:
    """Parameters of a kernel over the lines of a contiguous (outer, L, inner) array (cumsum,
    softmax, log_softmax): output, input and its offset, the line length (named ``length``), the
    stride between line elements and the number of lines."""
    t = CTYPE[dt]
    params = (
        Param("out", f"__global {t}*"),
        Param("x", f"__global const {t}*"),
        Param("x_off", idx),
        Param(length, idx),
        Param("inner", idx),
        Param("n", idx),
    )
    return KernelSignature(name, params)


# ----------------------------------------------------------------------------------------------
# code generation: contiguous reductions (float32/float64), vector accumulators, plain operators


def vcomb(op: str, a: str, v: str) -> str:
    """Expression combining ``v`` into ``a`` (scalars or vectors alike; NaN propagates for max/min)."""
    if op == "sum":
        return f"{a} + {v}"
    if op == "prod":
        return f"{a} * {v}"
    cmp = ">" if op == "max" else "<"
    return f"(({v} {cmp} {a}) || ({v} != {v})) ? {v} : {a}"


#: initial accumulator value of each vectorised reduction
VINIT = {"sum": "0", "prod": "1", "max": "-INFINITY", "min": "INFINITY"}


def gen_reduce_fast_program(dt: str, idx: str) -> Program:
    """Kernels ``<op>_rows`` and ``<op>_cols`` for op in sum/prod/max/min over contiguous data.

    rows: x is (rows, L) at x_off; work-item i = o * G + g reduces chunk g (``chunk`` elements)
    of row o into out[i], with 4 vector accumulators. G > 1 is the first of two passes.
    cols: x is (outer, R, I) at x_off; work-item i = (o * G + g) * NJ + jb reduces rows
    [g*chunk, (g+1)*chunk) of columns [32*jb, 32*jb+32) into out[(o * G + g) * I + j] (vector
    loads across columns; the last partial column block goes element by element).
    """
    t = CTYPE[dt]
    w = VEC_WIDTH[dt]
    vt = f"{t}{w}"
    u = 4  # accumulators
    span = w * u
    src = [header(dt)]
    sigs = []
    for op in ("sum", "prod", "max", "min"):
        init = VINIT[op]
        c = lambda a, v, op=op: vcomb(op, a, v)
        accs = ", ".join(f"a{q} = ({vt})({init})" for q in range(u))
        rows_sig, cols_sig = reduce_fast_signatures(op, dt, idx)
        rows = f"""
{rows_sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} o = i / G; {idx} g = i - o * G;
    {idx} lo = g * chunk; {idx} hi = lo + chunk < L ? lo + chunk : L;
    const __global {t}* p = x + x_off + o * L;
    {vt} {accs};
    {idx} k = lo;
    for (; k + {span} <= hi; k += {span}) {{
{chr(10).join(f"        {{ {vt} v = *(const __global {vt}u*)(p + k + {q * w}); a{q} = {c(f'a{q}', 'v')}; }}" for q in range(u))}
    }}
    a0 = {c("a0", "a1")}; a2 = {c("a2", "a3")}; a0 = {c("a0", "a2")};
    {t} acc = ({t})({init});
    {t}* e = ({t}*)&a0;
    for (int q = 0; q < {w}; ++q) {{ {t} v = e[q]; acc = {c("acc", "v")}; }}
    for (; k < hi; ++k) {{ {t} v = p[k]; acc = {c("acc", "v")}; }}
    out[i] = acc;
}}
"""
        cols = f"""
{cols_sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} jb = i % NJ; {idx} tt = i / NJ; {idx} g = tt % G; {idx} o = tt / G;
    {idx} j0 = jb * {span};
    {idx} lo = g * chunk; {idx} hi = lo + chunk < R ? lo + chunk : R;
    const __global {t}* p = x + x_off + o * R * I;
    __global {t}* q = out + (o * G + g) * I;
    if (j0 + {span} <= I) {{
        {vt} {accs};
        for ({idx} r = lo; r < hi; ++r) {{
            const __global {t}* row = p + r * I + j0;
{chr(10).join(f"            {{ {vt} v = *(const __global {vt}u*)(row + {q * w}); a{q} = {c(f'a{q}', 'v')}; }}" for q in range(u))}
        }}
{chr(10).join(f"        *(__global {vt}u*)(q + j0 + {q * w}) = a{q};" for q in range(u))}
        return;
    }}
    for ({idx} j = j0; j < I; ++j) {{
        {t} acc = ({t})({init});
        for ({idx} r = lo; r < hi; ++r) {{ {t} v = p[r * I + j]; acc = {c("acc", "v")}; }}
        q[j] = acc;
    }}
}}
"""
        src += [rows, cols]
        sigs += [rows_sig, cols_sig]
    return "".join(src), sigs


@cache
def reduce_fast_signatures(op: str, dt: str, idx: str) -> tuple[KernelSignature, KernelSignature]:
    """Parameters of ``<op>_rows`` (output, x and its offset, row length L, chunks per row G,
    chunk length, work-items) and ``<op>_cols`` (output, x and its offset, reduced rows R, columns
    I, column blocks NJ, row chunks G, chunk length, work-items)."""
    t = CTYPE[dt]
    head = (Param("out", f"__global {t}*"), Param("x", f"__global const {t}*"), Param("x_off", idx))
    rows = (*head, *(Param(p, idx) for p in ("L", "G", "chunk", "n")))
    cols = (*head, *(Param(p, idx) for p in ("R", "I", "NJ", "G", "chunk", "n")))
    return KernelSignature(f"{op}_rows", rows), KernelSignature(f"{op}_cols", cols)


# ----------------------------------------------------------------------------------------------
# code generation: softmax


def gen_softmax_program(dt: str, idx: str) -> Program:
    """softmax / log_softmax of a contiguous x (outer, L, inner) along L: one work-item per
    (outer, inner) line, three sweeps (max, sum of exp, write)."""
    ct = compute_type(dt)
    ex = "exp" if dt == "float64" else "sexp_"
    src = [header(dt)]
    loop = f"for ({idx} k = 0; k < L; ++k) {{ {ct} v = {load(dt, 'p', 'k * inner')};"
    tails = {
        "softmax": f"{ct} inv = 1 / s; {loop} {store(dt, 'q', 'k * inner', f'{ex}(v - m) * inv')} }}",
        "log_softmax": f"{ct} ls = m + log(s); {loop} {store(dt, 'q', 'k * inner', 'v - ls')} }}",
    }
    sigs = []
    for name, tail in tails.items():
        sig = lines_signature(name, dt, idx)
        sigs.append(sig)
        src.append(f"""
{sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} o = i / inner; {idx} j = i - o * inner;
    const __global {CTYPE[dt]}* p = x + x_off + o * L * inner + j;
    __global {CTYPE[dt]}* q = out + o * L * inner + j;
    {ct} m = -INFINITY;
    for ({idx} k = 0; k < L; ++k) {{ {ct} v = {load(dt, "p", "k * inner")}; m = {vcomb("max", "m", "v")}; }}
    {ct} s = 0;
    for ({idx} k = 0; k < L; ++k) {{ {ct} v = {load(dt, "p", "k * inner")}; s += {ex}(v - m); }}
    {tail}
}}
""")
    if dt == "float32":
        src.append(_softmax_rows_source(idx))
        sigs += [lines_signature(f"{name}_rows", dt, idx) for name in tails]
    return "".join(src), sigs


def _softmax_rows_source(idx: str) -> str:
    """``softmax_rows`` / ``log_softmax_rows`` (float32, contiguous rows of length L): work-item
    g takes rows ``g * per`` .. ``g * per + per - 1`` (the ``inner`` argument carries ``per``);
    per row the line kernels' three sweeps, 8 lanes at a time (``vexp_``), the lanes' maxima
    and sums combined in a fixed order, the row's last L % 8 elements one by one. The maximum
    and each exponential are the line kernels'; the sum is added in another order."""
    out = []
    for name in ("softmax", "log_softmax"):
        sig = lines_signature(f"{name}_rows", "float32", idx)
        if name == "softmax":
            write = (
                "float inv = 1 / s; "
                "for (k = 0; k + 8 <= L; k += 8) "
                "*(__global float8u*)(q + k) = vexp_(*(const __global float8u*)(p + k) - m) * inv; "
                "for (; k < L; ++k) q[k] = sexp_(p[k] - m) * inv;"
            )
        else:
            write = (
                "float ls = m + log(s); "
                "for (k = 0; k + 8 <= L; k += 8) "
                "*(__global float8u*)(q + k) = *(const __global float8u*)(p + k) - ls; "
                "for (; k < L; ++k) q[k] = p[k] - ls;"
            )
        out.append(f"""
{sig.declaration()} {{
    {idx} r0 = get_global_id(0) * inner;
    {idx} r1 = r0 + inner < n ? r0 + inner : n;
    for ({idx} row = r0; row < r1; ++row) {{
        const __global float* p = x + x_off + row * L;
        __global float* q = out + row * L;
        {idx} k = 0;
        float8 mv = (float8)(-INFINITY);
        for (; k + 8 <= L; k += 8) {{
            float8 v = *(const __global float8u*)(p + k);
            mv = {vcomb("max", "mv", "v")};
        }}
        float m = -INFINITY;
        for (int j = 0; j < 8; ++j) {{ float v = ((float*)&mv)[j]; m = {vcomb("max", "m", "v")}; }}
        for (; k < L; ++k) {{ float v = p[k]; m = {vcomb("max", "m", "v")}; }}
        float8 sv = (float8)(0.0f);
        for (k = 0; k + 8 <= L; k += 8) sv += vexp_(*(const __global float8u*)(p + k) - m);
        float s = ((sv.s0 + sv.s1) + (sv.s2 + sv.s3)) + ((sv.s4 + sv.s5) + (sv.s6 + sv.s7));
        for (; k < L; ++k) s += sexp_(p[k] - m);
        {write}
    }}
}}
""")
    return "".join(out)
