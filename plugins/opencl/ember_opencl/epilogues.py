"""Bias adds in a matmul's epilogue, for the launch-list replay (:mod:`ember_opencl.compiled`).

While a compiled function's step is traced, :class:`BiasEpilogues` notes each matmul whose last
launch is the packed kernel ``mmf`` writing a fresh contiguous result, and each add launched
right after it that adds a row or column bias to the whole of that result. Once the trace is
recorded, :meth:`BiasEpilogues.fuse` rewrites each such pair whose product nothing else reads
into one ``mmf`` launch that adds the bias to each finished element and writes the add's result
(:func:`ember_opencl.linalg.mmf_with_bias`): one pass over the output less, and no buffer for the
product. The epilogue's add is the add kernel's IEEE add, so results stay bitwise equal.
"""

from __future__ import annotations

import math
from typing import Any

from ._array import CLArray

__all__ = ["BiasEpilogues", "bias_pattern"]


class BiasEpilogues:
    """The candidates of one trace (``rec``: the compiled replay's recorder, whose launch lists,
    device and slot buffers they refer to)."""

    def __init__(self, rec: Any) -> None:
        self.rec = rec
        #: the program kernel each recorded ``mmf`` launch cloned (by the clone's id)
        self.mmf_kernels: dict[int, Any] = {}
        #: per traced matmul result's buffer: (segment, position) of its mmf launch, program key, shape
        self.mm_out: dict[int, tuple[int, int, tuple, tuple[int, ...]]] = {}
        #: candidates: (segment, mmf position, add position, key, kind, offset, stride, bias, out)
        self.adds: list[tuple] = []

    def note_matmul(self, out: Any) -> None:
        """A matmul whose last launch is the packed kernel ``mmf`` writing a fresh contiguous
        result: note where, for a bias add that may follow."""
        seg = self.rec.segments[-1]
        if type(out) is not CLArray or not seg or seg[-1][0] != "launch":
            return
        knl = self.mmf_kernels.get(id(seg[-1][1]))
        if knl is None or out.layout.offset != 0 or not out.layout.is_contiguous:
            return
        programs = list(self.rec.dev.programs.items())  # (one C-level copy: other threads may build)
        key = next(
            (k for k, kd in programs if len(k) == 4 and k[0] == "matmul_fast" and kd.get("mmf") is knl),
            None,
        )
        if key is not None:
            self.mm_out[id(out.alloc.buf)] = (len(self.rec.segments) - 1, len(seg) - 1, key, tuple(out.shape))

    def note_bias_add(self, n0: int, args: tuple, out: Any) -> None:
        """An add launched right after a noted matmul's ``mmf``, of all of that matmul's result
        and a bias along its rows or columns, into a fresh contiguous array: a candidate."""
        seg = self.rec.segments[-1]
        if len(seg) != n0 + 1 or seg[n0][0] != "launch" or len(args) != 2 or type(out) is not CLArray:
            return
        for x, bias in (args, args[::-1]):
            if type(x) is not CLArray or type(bias) is not CLArray or x._alloc is None or bias._alloc is None:
                continue
            mm = self.mm_out.get(id(x._alloc.buf))
            if mm is None or mm[0] != len(self.rec.segments) - 1 or mm[1] != n0 - 1:
                continue
            numel = math.prod(mm[3])
            lx, lo = x.layout, out.layout
            if not (
                lx.is_contiguous
                and lx.offset == 0
                and lx.numel == numel
                and lo.is_contiguous
                and lo.offset == 0
            ) or not (lo.numel == numel and out.dtype == x.dtype == bias.dtype):
                continue
            found = bias_pattern(bias, tuple(out.shape), mm[3])
            if found is not None:
                self.adds.append((mm[0], mm[1], n0, mm[2], *found, bias._alloc.buf, out._alloc.buf))
                return

    def fuse(self) -> int:
        """Rewrite the recorded launch lists: each candidate (a matmul's ``mmf`` launch followed by
        an add of its whole result and a row or column bias) whose matmul result nothing else reads
        (no other launch, no Python item) becomes one ``mmf`` launch with the bias epilogue
        (:func:`ember_opencl.linalg.mmf_with_bias`) writing the add's result; the add's launch goes.
        The epilogue adds the bias in the add kernel's arithmetic, so results stay bitwise equal.
        Returns the number of rewrites."""
        import pyopencl as cl

        from .linalg import mmf_with_bias

        rec = self.rec
        if not self.adds:
            return 0
        dev = rec.dev
        readers: dict[Any, int] = {}  # key -> launches (and fills, uploads, Python reads) using it
        for seg in rec.segments:
            for op in seg:
                for key in {k for _, k in op[3]} if op[0] == "launch" else {op[1]}:
                    readers[key] = readers.get(key, 0) + 1
        for key, _layout, _dtype in rec.slot_info.values():
            readers[key] = readers.get(key, 0) + 1
        done = 0
        for seg_no, pos, add_pos, key, kind, offset, stride, bias_buf, out_buf in self.adds:
            seg = rec.segments[seg_no]
            mm_op = seg[pos]
            c_key = dict(mm_op[3]).get(0)
            if c_key is None or c_key[0] != "pid" or readers.get(c_key, 0) != 2:  # the mmf and the add only
                continue
            ins = [a for a in mm_op[2][1:] if isinstance(a, cl.Buffer)] + [bias_buf]
            if any(a.int_ptr == out_buf.int_ptr for a in ins):
                continue  # the add's result took a buffer the product reads (freed after the matmul)
            args = [out_buf, *mm_op[2][1:], bias_buf, offset, stride]
            base = mmf_with_bias(dev, key, kind)
            with dev.lock:
                base.set_args(*args)
                clone = base.clone()
            # each buffer's key as the two launches had it (a buffer's owner changes as the pool reuses it)
            add_op = seg[add_pos]
            known = {op[2][i].int_ptr: k for op in (mm_op, add_op) for i, k in op[3]}
            keys = [(i, known[a.int_ptr]) for i, a in enumerate(args) if isinstance(a, cl.Buffer)]
            seg[pos] = ("launch", clone, args, keys, mm_op[4], mm_op[5])
            seg[add_pos] = None
            done += 1
        for j, seg in enumerate(rec.segments):
            rec.segments[j] = [op for op in seg if op is not None]
        return done


def bias_pattern(
    bias: CLArray, shape: tuple[int, ...], mm_shape: tuple[int, ...]
) -> tuple[str, int, int] | None:
    """(``"row"`` or ``"col"``, offset, stride) when ``bias`` broadcast to ``shape`` (an add's
    result, laid out as the matmul result of ``mm_shape`` = (..., N, M)) reads element
    ``offset + stride * i`` at every result row i, or ``offset + stride * j`` at every column j;
    else None. (Checked on the element offsets themselves, once, at tracing.)"""
    import numpy as np
    from ember.layout import broadcast_strides

    n, m = mm_shape[-2], mm_shape[-1]
    numel = math.prod(mm_shape)
    if numel == 0 or numel > 1 << 22:
        return None
    strides = broadcast_strides(tuple(bias.shape), tuple(bias.strides), shape)
    offsets = np.full(shape, bias.layout.offset, np.int64)
    for d, (size, st) in enumerate(zip(shape, strides)):
        if st:
            offsets += np.arange(size, dtype=np.int64).reshape((-1,) + (1,) * (len(shape) - d - 1)) * st
    o = offsets.reshape(-1, n, m)
    o0 = int(o[0, 0, 0])
    col = int(o[0, 0, 1]) - o0 if m > 1 else 0
    if (o == o0 + col * np.arange(m, dtype=np.int64)).all():
        return "col", o0, col
    row = int(o[0, 1, 0]) - o0 if n > 1 else 0
    if (o == (o0 + row * np.arange(n, dtype=np.int64))[:, None]).all():
        return "row", o0, row
    return None
