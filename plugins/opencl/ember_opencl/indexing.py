"""Indexing kernels: ``gather``, ``scatter_add`` and ``nonzero``; with the gather and
scatter_add code generators.

``scatter_add`` is deterministic and uses no atomics: one work-item per line of the index along
``dim`` walks its line serially, and two lines never touch the same output element. ``nonzero``
reads x back to the host (its output size depends on the values) and uploads the coordinates.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from ._array import CLArray
from ._codegen import CTYPE, compute_type, convert, decompose, header, load, position, store
from ._launch import bucket_rank, index_type, launch_1d, new_array, pad
from ._signature import KernelSignature, Param, Program
from .memory import contiguous, from_numpy, to_numpy

__all__ = ["gather", "nonzero", "scatter_add"]


def gather(x: CLArray, dim: int, index: CLArray) -> CLArray:
    """Kernel ``gather``: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (torch.gather), of
    index's shape."""
    dev = x.dev
    out = new_array(dev, index.shape, x.dtype)
    n = out.size
    if n == 0:
        return out
    ishape, istr = list(index.shape) or [1], list(index.strides) or [0]
    xstr = list(x.strides) or [0]
    xsdim = xstr[dim]
    xstr = [0 if j == dim else s for j, s in enumerate(xstr)]
    rank = bucket_rank(len(ishape))
    ishape, (istr, xstr) = pad(ishape, [istr, xstr], rank)
    idx = index_type(n, x, index, out)
    dt = x.dtype.name
    knl = dev.program(("gather", dt, rank, idx), gen_gather_program, dt, rank, idx)["gather"]
    args = gather_signature(dt, rank, idx).pack(
        out.alloc.buf, x.alloc.buf, x.offset, xstr, xsdim, index.alloc.buf, index.offset, istr, ishape, n
    )
    launch_1d(dev, knl, args, n)
    return out


def scatter_add(x: CLArray, dim: int, index: CLArray, src: CLArray) -> CLArray:
    """Kernel ``scatter_add``: a copy of x with src[i][j][k] added at [index[i][j][k]][j][k]
    for dim 0."""
    dev = x.dev
    out = contiguous(x)
    if index.size == 0:
        return out
    nd = max(index.ndim, 1)
    ishape = list(index.shape) or [1]
    length = ishape[dim]
    lines = [1 if j == dim else d for j, d in enumerate(ishape)]
    ostr = list(out.strides) or [0]
    istr = list(index.strides) or [0]
    sstr = list(src.strides) or [0]
    osd, isd, ssd = ostr[dim], istr[dim], sstr[dim]
    ostr, istr, sstr = ([0 if j == dim else s[j] for j in range(nd)] for s in (ostr, istr, sstr))
    rank = bucket_rank(nd)
    lines, (ostr, istr, sstr) = pad(lines, [ostr, istr, sstr], rank)
    n = math.prod(lines)
    idx = index_type(index.size, out, index, src)
    dt = x.dtype.name
    knl = dev.program(("scatter_add", dt, rank, idx), gen_scatter_add_program, dt, rank, idx)["scatter_add"]
    args = scatter_add_signature(dt, rank, idx).pack(
        out.alloc.buf,
        out.offset,
        ostr,
        osd,
        index.alloc.buf,
        index.offset,
        istr,
        isd,
        src.alloc.buf,
        src.offset,
        sstr,
        ssd,
        lines,
        length,
        n,
    )
    launch_1d(dev, knl, args, n, 64 if n >= 4096 else 1)
    return out


def nonzero(x: CLArray) -> CLArray:
    """Kernel ``nonzero``: the int64 (count, ndim) coordinates of x's nonzero elements in C
    order (synchronises)."""
    host = to_numpy(x)
    coords = np.ascontiguousarray(np.argwhere(host).astype(np.int64, copy=False))
    return from_numpy(x.dev, coords)


# ----------------------------------------------------------------------------------------------
# code generation


def gen_gather_program(dt: str, rank: int, idx: str) -> Program:
    """gather: out (contiguous, index's shape d0..) = x[coords with dim replaced by index]."""
    sig = gather_signature(dt, rank, idx)
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
    ]
    lines += ["    " + s for s in decompose(rank, idx)]
    lines.append(f"    {idx} k = ({idx})ix[{position('ix', rank)}];")
    lines.append("    " + store(dt, "out", "i", load(dt, "x", f"{position('x', rank)} + k * x_sdim")))
    lines.append("}")
    return header(dt) + "\n".join(lines) + "\n", [sig]


@cache
def gather_signature(dt: str, rank: int, idx: str) -> KernelSignature:
    """Parameters of ``gather``: the output; x with its offset, its strides ``x_s`` (0 along
    ``dim``) and its stride along ``dim``; the index with its offset and strides; index's dims
    ``d`` and the element count."""
    t = CTYPE[dt]
    params = (
        Param("out", f"__global {t}*"),
        Param("x", f"__global const {t}*"),
        Param("x_off", idx),
        Param("x_s", idx, rank),
        Param("x_sdim", idx),
        Param("ix", "__global const long*"),
        Param("ix_off", idx),
        Param("ix_s", idx, rank),
        Param("d", idx, rank),
        Param("n", idx),
    )
    return KernelSignature("gather", params)


def gen_scatter_add_program(dt: str, rank: int, idx: str) -> Program:
    """scatter_add into a contiguous ``out`` (already a copy of x).

    One work-item per line of index along ``dim`` (coordinates d0.. with the dim's extent 1);
    it walks the line serially. Two lines never touch the same output element (they differ in a
    non-dim coordinate), so no atomics are needed and the result is deterministic.
    """
    ct = compute_type(dt)
    sig = scatter_add_signature(dt, rank, idx)
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
    ]
    lines += ["    " + s for s in decompose(rank, idx)]
    lines.append(
        f"    {idx} po = {position('out', rank)}; {idx} pi = {position('ix', rank)}; {idx} ps = {position('s', rank)};"
    )
    lines.append(f"    for ({idx} t = 0; t < len; ++t) {{")
    lines.append(f"        {idx} q = po + ({idx})ix[pi + t * ix_sdim] * out_sdim;")
    val = f"{load(dt, 'out', 'q')} + {load(dt, 's', 'ps + t * s_sdim')}"
    lines.append("        " + store(dt, "out", "q", convert(val, ct, dt)))
    lines.append("    }")
    lines.append("}")
    return header(dt) + "\n".join(lines) + "\n", [sig]


@cache
def scatter_add_signature(dt: str, rank: int, idx: str) -> KernelSignature:
    """Parameters of ``scatter_add``: for each of out, the index and src, the buffer, offset,
    strides (0 along ``dim``) and stride along ``dim``; the index lines' dims ``d``, the line
    length along ``dim`` and the number of lines."""
    t = CTYPE[dt]
    params = [Param("out", f"__global {t}*")]
    for var, ptr in (("out", None), ("ix", "__global const long*"), ("s", f"__global const {t}*")):
        if ptr is not None:
            params.append(Param(var, ptr))
        params += [Param(f"{var}_off", idx), Param(f"{var}_s", idx, rank), Param(f"{var}_sdim", idx)]
    params += [Param("d", idx, rank), Param("len", idx), Param("n", idx)]
    return KernelSignature("scatter_add", tuple(params))
