"""Lazy elementwise fusion: chains of elementwise ops (and the reduction that consumes them) run
as one generated kernel.

An elementwise op on float32/float64/complex64/complex128 operands that are contiguous and of
one shape (or Python scalars) does not launch a kernel (a complex operand's real-valued ``abs``
does: its result leaves the chain's dtype): it returns a *pending* :class:`~ember_opencl._array.CLArray`
whose ``expr`` is ``(op, operands, size)``. Pending arrays compose into a DAG. Reading the
array's ``alloc`` (which every non-fusable kernel does) materialises it:

- the DAG is flattened into a *structure* (ops, operand wiring, number of leaves and scalars;
  scalar values are kernel arguments, so ``x * 1.5`` and ``x * 2.0`` share one program);
- a structure that is hot (seen :data:`HOT` times, or already built) runs as one fused kernel
  that reads each leaf buffer once and writes only the result; a one-off structure is evaluated
  op by op with the prebuilt kernels, so ad-hoc expressions never pay a program build;
- a sum/prod/max/min over the rows of a pending array fuses the expression into the reduction
  (``(a * b + c).sum()`` reads a, b and c once and writes no temporary).

A pending node holds references to its inputs, so their memory stays valid; before any kernel
writes into existing memory (``copy_``, ``add_``) the backend calls :meth:`Fusion.flush`, which
materialises every live pending array of that device, so laziness is never observable in
values. At most :data:`CAP` ops go into one kernel (a longer chain is cut). The mode comes from
``EMBER_OPENCL_FUSION`` (``auto``, the default; ``always``: fuse every structure at once;
``off``: eager kernels only) or :func:`ember_opencl.set_fusion`.

Threads: a pending array may be computed by any thread (its own, or another's flush), so
computing one, taking entries out of the device's list of pending arrays and its counters all go
under the device's lock, and a pending array already computed when the lock is taken is left as
it is. Adding a new pending array to the list takes no lock (``list.append`` is atomic and the
list object is never replaced), which keeps the per-op cost of a lazy op where it was.

While an :mod:`ember.profiler` profile records, each launch of this layer is a labelled range,
``opencl.fused.map`` (a fused elementwise kernel), ``opencl.fused.<sum|prod|max|min>`` (a fused
row reduction) or ``opencl.fused.eager`` (a cold structure, op by op), whose ``ops`` argument
lists the ops it computes in evaluation order; the device events of its kernels nest under it.
"""

from __future__ import annotations

import re
import warnings
import weakref
from collections.abc import Callable
from functools import cache
from typing import Any

from ember.backend import PRIMITIVES
from ember.profiler import is_profiling, record_function

from . import _codegen as cg
from ._array import CLArray
from ._complex import COMPLEX, complex_math
from ._launch import contiguous_layout, index_type, launch_1d, launch_n, new_array
from ._signature import KernelSignature, Param, Program
from .elementwise import COMPLEX_TO_REAL, VECTOR_POLYNOMIALS, binary_exprs, divmod_helpers, unary_exprs
from .reductions import VINIT, row_split, rows_pass, vcomb

__all__ = ["CAP", "HOT", "MODES", "Fusion", "gen_fused_program"]

#: most ops in one fused kernel; a longer chain is materialised and continues from the result
CAP = 32
#: a structure is compiled into a fused kernel the HOT-th time it is materialised (mode auto)
HOT = 3
MODES = ("auto", "always", "off")
FUSE_DTYPES = ("float32", "float64", "complex64", "complex128")
#: the core's unary primitives (all defined on floats), the optional relu and conj (complex)
UNARY_OPS = frozenset(n for n, (family, _) in PRIMITIVES.items() if family == "unary") | {"relu", "conj"}
#: the core's binary primitives except the bitwise ones (integers only), and the optional atan2
BINARY_OPS = (
    frozenset(n for n, (family, _) in PRIMITIVES.items() if family == "binary")
    - {"bitwise_and", "bitwise_or", "bitwise_xor"}
) | {"atan2"}
REDUCE_OPS = frozenset(["sum", "prod", "max", "min"])
# ops whose OpenCL expression is also valid (and cheap) on vector types
_VEC_OK = frozenset(
    ["neg", "abs", "exp", "log", "tanh", "sqrt", "relu", "add", "sub", "mul", "div", "maximum", "minimum", "atan2"]
)
_WORD = {name: re.compile(rf"\b{name}\b") for name in ("x", "a", "b")}


def _structure(root: Any) -> tuple[tuple, list, list]:
    """Flatten the pending DAG under ``root``: (structure, leaves, scalars).

    structure = (n_leaves, n_scalars, ((op, arg names), ...)) in evaluation order; leaves are
    materialised CLArrays (``x0``, ``x1``, ...; one per distinct object), scalars the Python
    values (``s0``, ...); each op's result is ``t<k>``, the last one is the root's value.
    """
    leaves: list = []
    scalars: list = []
    stmts: list = []
    memo: dict[int, str] = {}
    array_type = type(root)

    def visit(node: Any) -> str:
        if type(node) is not array_type:
            scalars.append(node)
            return f"s{len(scalars) - 1}"
        key = id(node)
        name = memo.get(key)
        if name is not None:
            return name
        if node._alloc is not None:
            name = f"x{len(leaves)}"
            leaves.append(node)
        else:
            op, operands, _ = node.expr
            args = tuple([visit(o) for o in operands])
            name = f"t{len(stmts)}"
            stmts.append((op, args))
        memo[key] = name
        return name

    visit(root)
    return (len(leaves), len(scalars), tuple(stmts)), leaves, scalars


def _op_expr(dt: str, op: str, args: tuple[str, ...], vec: bool) -> str:
    """The OpenCL expression of ``op`` over the named values (scalar or vector form)."""
    if vec and op in VECTOR_POLYNOMIALS and dt == "float32":
        return f"v{op}_({', '.join(args)})"
    if vec and op == "sqrt" and dt in ("float32", "float64"):
        return f"{'vsqrt_' if dt == 'float32' else 'vsqrtd_'}({args[0]})"
    if len(args) == 1:
        return _WORD["x"].sub(args[0], unary_exprs(dt)[op])
    expr = binary_exprs(dt)[op]
    return _WORD["b"].sub(args[1], _WORD["a"].sub(args[0], expr))


def _body(dt: str, structure: tuple, vec: bool, load: Callable[[str], str], ind: str) -> list[str]:
    """Statements loading the leaves (``load(var)`` gives the expression) and computing t0..tK."""
    n_leaves, _, stmts = structure
    t = f"{cg.CTYPE[dt]}{cg.VEC_WIDTH[dt]}" if vec else cg.CTYPE[dt]
    lines = [f"{ind}{t} x{j} = {load(f'x{j}')};" for j in range(n_leaves)]
    for k, (op, args) in enumerate(stmts):
        lines.append(f"{ind}{t} t{k} = {_op_expr(dt, op, args, vec)};")
    return lines


def gen_fused_program(dt: str, idx: str, kind: str, structure: tuple) -> Program:
    """Kernel ``fused`` computing ``structure`` over contiguous leaves.

    kind ``map``: out[i] = expr(i) for i < n, CHUNK elements per work-item (vector loads where
    every op has a vector form). kind sum/prod/max/min: like ``<op>_rows`` of
    :func:`ember_opencl.reductions.gen_reduce_fast_program`, over expr instead of a buffer: work-item
    i = o * G + g reduces elements [g*chunk, ...) of row o (rows of length L) into out[i].
    """
    n_leaves, n_scalars, stmts = structure
    t = cg.CTYPE[dt]
    w = cg.VEC_WIDTH.get(dt, 1)
    vt = f"{t}{w}"
    vec = dt in cg.VEC_WIDTH and all(op in _VEC_OK for op, _ in stmts)
    res = f"t{len(stmts) - 1}"
    sig = fused_signature(dt, idx, kind, n_leaves, n_scalars)
    src = [cg.header(dt)]
    if dt in COMPLEX:
        src.append(complex_math(dt))
    if any(op in ("floor_divide", "remainder") for op, _ in stmts):
        src.append(divmod_helpers(dt))

    def vload(pos: str) -> Callable[[str], str]:
        return lambda v: f"*(const __global {vt}u*)({v}_p + {v}_off + {pos})"

    def sload(pos: str) -> Callable[[str], str]:
        return lambda v: f"{v}_p[{v}_off + {pos}]"

    if kind == "map":
        lines = [
            sig.declaration() + " {",
            f"    {idx} i0 = get_global_id(0) * {cg.CHUNK};",
            "    if (i0 >= n) return;",
        ]
        if vec:
            lines += [
                f"    if (i0 + {cg.CHUNK} <= n) {{",
                f"        for (int j = 0; j < {cg.CHUNK}; j += {w}) {{",
            ]
            lines += _body(dt, structure, True, vload("i0 + j"), "            ")
            lines += [
                f"            *(__global {vt}u*)(out + i0 + j) = {res};",
                "        }",
                "        return;",
                "    }",
            ]
        lines += [
            f"    {idx} hi = i0 + {cg.CHUNK} < n ? i0 + {cg.CHUNK} : n;",
            f"    for ({idx} i = i0; i < hi; ++i) {{",
        ]
        lines += _body(dt, structure, False, sload("i"), "        ")
        lines += [f"        out[i] = {res};", "    }", "}"]
        return "".join(src) + "\n".join(lines) + "\n", [sig]

    op = kind
    init = VINIT[op]
    u = 4  # vector accumulators, as in the unfused rows kernel
    span = w * u
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
        f"    {idx} o = i / G; {idx} g = i - o * G;",
        f"    {idx} lo = o * L + g * chunk; {idx} end = o * L + L;",
        f"    {idx} hi = lo + chunk < end ? lo + chunk : end;",
        f"    {t} acc = ({t})({init});",
        f"    {idx} k = lo;",
    ]
    if vec:
        lines.append(f"    {vt} " + ", ".join(f"a{q} = ({vt})({init})" for q in range(u)) + ";")
        lines.append(f"    for (; k + {span} <= hi; k += {span}) {{")
        for q in range(u):
            lines.append("        {")
            lines += _body(dt, structure, True, vload(f"k + {q * w}"), "            ")
            lines.append(f"            a{q} = {vcomb(op, f'a{q}', res)};")
            lines.append("        }")
        lines.append("    }")
        lines.append(f"    a0 = {vcomb(op, 'a0', 'a1')}; a2 = {vcomb(op, 'a2', 'a3')};")
        lines.append(f"    a0 = {vcomb(op, 'a0', 'a2')};")
        lines.append(f"    {t}* e = ({t}*)&a0;")
        lines.append(f"    for (int q = 0; q < {w}; ++q) {{ {t} v = e[q]; acc = {vcomb(op, 'acc', 'v')}; }}")
    lines.append("    for (; k < hi; ++k) {")
    lines += _body(dt, structure, False, sload("k"), "        ")
    lines += [f"        acc = {vcomb(op, 'acc', res)};", "    }", "    out[i] = acc;", "}"]
    return "".join(src) + "\n".join(lines) + "\n", [sig]


@cache
def fused_signature(dt: str, idx: str, kind: str, n_leaves: int, n_scalars: int) -> KernelSignature:
    """Parameters of kernel ``fused``: the output; per leaf ``x<j>`` its buffer ``x<j>_p`` and
    offset; the scalars ``s<j>``; then the element count (kind ``map``) or the row length L,
    chunks per row G, chunk length and work-items (a reduction)."""
    t = cg.CTYPE[dt]
    params = [Param("out", f"__global {t}*")]
    for j in range(n_leaves):
        params += [Param(f"x{j}_p", f"__global const {t}*"), Param(f"x{j}_off", idx)]
    params += [Param(f"s{j}", t) for j in range(n_scalars)]
    tail = ("n",) if kind == "map" else ("L", "G", "chunk", "n")
    params += [Param(p, idx) for p in tail]
    return KernelSignature("fused", tuple(params))


class Fusion:
    """The fusion layer of one backend: the mode and the lazy wrappers around its eager
    elementwise kernels. The state it works on is per device (``_Device.pending``, ``seen``,
    ``unbuildable``, ``fusion_counts``) and changes under that device's lock (but for the
    lock-free append of a new pending array). See the module docstring."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.eager: dict[str, Callable[..., Any]] = {}

    # building pending arrays -------------------------------------------------------------------

    def _pending(self, op: str, operands: tuple, like: Any) -> Any:
        """A pending array ``op(*operands)`` with ``like``'s shape (contiguous) and dtype."""
        array_type = type(like)
        size = 1
        for o in operands:
            if type(o) is array_type:
                e = o.expr  # read once: another thread's flush may compute o meanwhile
                if e is not None:
                    size += e[2]
        if size > CAP:  # cut the chain: compute the inputs now, start a new kernel from them
            for o in operands:
                if type(o) is array_type and o._alloc is None:
                    self.materialize(o)
            size = 1
        dev = like.dev
        out = CLArray(None, contiguous_layout(like.layout.shape), like.dtype, dev)
        out.expr = (op, operands, size)
        pending = dev.pending
        if len(pending) >= 4096:
            _compact(dev)
        # no lock: list.append is atomic, the list is never replaced, and only flush and
        # _compact (under the lock) take entries out, counting them as they go
        pending.append(weakref.ref(out))
        return out

    def wrap_unary(self, name: str, eager: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """The kernel for unary ``name`` (one of :data:`UNARY_OPS`): pending for fusable
        operands, else ``eager``."""
        if name not in UNARY_OPS:
            raise ValueError(f"opencl fusion: no fused form of unary op {name!r}")
        self.eager[name] = eager
        fusable = self._fusable
        if name in COMPLEX_TO_REAL:  # a real result from a complex x: not a link of x's chain

            def kernel(x: Any) -> Any:
                if fusable(x) and x.dtype.name not in COMPLEX:
                    return self._pending(name, (x,), x)
                return eager(x)

        else:

            def kernel(x: Any) -> Any:
                if fusable(x):
                    return self._pending(name, (x,), x)
                return eager(x)

        kernel.__name__ = kernel.__qualname__ = name
        return kernel

    def wrap_binary(self, name: str, eager: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """The kernel for binary ``name``: pending when both operands are fusable arrays of one
        shape and dtype, or one is and the other a Python scalar; else ``eager``. ``name`` is one
        of :data:`BINARY_OPS`."""
        if name not in BINARY_OPS:
            raise ValueError(f"opencl fusion: no fused form of binary op {name!r}")
        self.eager[name] = eager
        fusable = self._fusable
        array_type = CLArray
        scalar_types = (int, float, bool, complex)

        def kernel(a: Any, b: Any) -> Any:
            if type(a) is array_type:
                if type(b) is array_type:
                    if a.dtype is b.dtype and a.layout.shape == b.layout.shape and fusable(a) and fusable(b):
                        return self._pending(name, (a, b), a)
                elif type(b) in scalar_types and fusable(a):
                    return self._pending(name, (a, b), a)
            elif type(b) is array_type and type(a) in scalar_types and fusable(b):
                return self._pending(name, (a, b), b)
            return eager(a, b)

        kernel.__name__ = kernel.__qualname__ = name
        return kernel

    def _fusable(self, x: Any) -> bool:
        if x.dtype.name not in FUSE_DTYPES or self.mode == "off":
            return False
        if x._alloc is None:
            return True
        lay = x.layout
        return lay.numel > 0 and lay.is_contiguous

    # materialising ----------------------------------------------------------------------------
    # (every method below runs under the array's device lock: a pending array is computed, and
    # the device's counters change, by one thread at a time)

    def _hot(self, key: tuple, dev: Any) -> bool:
        """Whether structure ``key`` should run fused now on ``dev`` (counting this use)."""
        if key in dev.unbuildable:
            return False
        if self.mode == "always" or key in dev.programs:
            return True
        seen = dev.seen
        n = seen.get(key, 0) + 1
        if len(seen) > 16384:
            seen.clear()
        seen[key] = n
        return n >= HOT

    def _kernel(self, key: tuple, dev: Any, dt: str, idx: str, kind: str, structure: tuple) -> Any:
        """The fused kernel of ``structure`` when it is hot and builds, else None (op by op).

        A build failure is a bug in the generated code, not in the user's program: it is
        reported once per device as a warning with the build log, and the structure runs
        unfused."""
        if not self._hot(key, dev):
            return None
        try:
            return dev.program(key, gen_fused_program, dt, idx, kind, structure)["fused"]
        except RuntimeError as exc:
            dev.unbuildable.add(key)
            warnings.warn(
                f"opencl fusion: the fused kernel for {kind} of {structure} does not build, so it "
                f"runs op by op (please report this): {exc}",
                RuntimeWarning,
                stacklevel=4,
            )
            return None

    def _fused_args(
        self, kind: str, idx: str, out: Any, leaves: list, scalars: list, structure: tuple, *tail: int
    ) -> list:
        """The arguments of a fused kernel (:func:`fused_signature`: the output, each leaf's
        buffer and offset, the scalars, then ``tail``), counting the launch in the statistics."""
        sig = fused_signature(out.dtype.name, idx, kind, len(leaves), len(scalars))
        leaf_args = [a for leaf in leaves for a in (leaf._alloc.buf, leaf.layout.offset)]
        number = complex if out.dtype.name in COMPLEX else float
        args = sig.pack(out.alloc.buf, *leaf_args, *[number(s) for s in scalars], *tail)
        counts = out.dev.fusion_counts
        counts["fused_launches"] += 1
        counts["fused_ops"] += len(structure[2])
        return args

    def materialize(self, x: Any) -> Any:
        """Compute pending ``x`` into a fresh allocation (fused when hot); returns the allocation.

        Under x's device lock; an ``x`` another thread computed meanwhile is returned as it is.
        While a profile records, each launch is a labelled range ``opencl.fused.<kind>`` (kind
        ``map``, or ``eager`` for op by op) whose ``ops`` argument lists the ops it computes."""
        lock = x.dev.lock
        lock.acquire()  # (cheaper than `with` on the hot path)
        try:
            a = x._alloc
            if a is not None:
                return a
            return self._materialize(x, is_profiling())
        finally:
            lock.release()

    def _materialize(self, x: Any, profiling: bool) -> Any:
        if x.expr[2] > 1:
            out = self._fused_map(x, _structure(x), None, profiling)
            if out is not None:
                return self._settle(x, out)
        if profiling:
            with record_function("opencl.fused.eager", args={"ops": _op_names(_structure(x)[0])}):
                return self._eager(x)
        return self._eager(x)

    def materialize_into(self, x: Any, dst: Any) -> bool:
        """Compute pending ``x`` straight into ``dst`` (``copy_(dst, x)`` without the temporary and
        the copy) when that gives the same: ``dst`` contiguous from its allocation's start with
        x's shape and dtype, no pending array but x and the nodes of x's expression alive (another
        may read dst's old values: the caller computes those first), and x's leaves reading
        dst's memory, if any, at the same elements (the fused kernel reads an element's operands
        before it writes the element). ``x`` then aliases ``dst``: only for an ``x`` nothing
        reads afterwards (the compiled replay's tracer knows), whose expression's nodes nothing
        else holds. False, with nothing changed, when it does not apply."""
        lay = dst.layout
        if (
            self.mode == "off"
            or x._alloc is not None
            or x.dtype != dst.dtype
            or x.layout.shape != lay.shape
            or lay.offset != 0
            or not lay.is_contiguous
            or lay.numel == 0
        ):
            return False
        dev = x.dev
        with dev.lock:
            if x._alloc is not None:
                return False
            nodes = _pending_nodes(x)
            for r in dev.pending:
                a = r()
                if a is not None and a._alloc is None and id(a) not in nodes:
                    return False
            flat = _structure(x)
            if any(leaf.alloc is dst.alloc and leaf.layout != lay for leaf in flat[1]):
                return False
            if self._fused_map(x, flat, dst, is_profiling()) is None:
                return False
            self._settle(x, dst)
        return True

    def _fused_map(self, x: Any, flat: tuple[tuple, list, list], out: Any, profiling: bool) -> Any:
        """Launch the fused kernel of pending ``x`` (``flat``: its :func:`_structure`) writing
        ``out``, a fresh array when None; returns the array written, or None (nothing launched)
        when the structure does not run fused (not hot yet, or not buildable)."""
        structure, leaves, scalars = flat
        dev = x.dev
        n = x.layout.numel
        idx = index_type(n, *leaves) if out is None else index_type(n, *leaves, out)
        key = ("fused", x.dtype.name, idx, "map", structure)
        knl = self._kernel(key, dev, x.dtype.name, idx, "map", structure)
        if knl is None:
            return None
        if out is None:
            out = new_array(dev, x.layout.shape, x.dtype)
        args = self._fused_args("map", idx, out, leaves, scalars, structure, n)
        if profiling:
            with record_function("opencl.fused.map", args={"ops": _op_names(structure)}):
                launch_1d(dev, knl, args, -(-n // cg.CHUNK), 64)
        else:
            launch_1d(dev, knl, args, -(-n // cg.CHUNK), 64)
        return out

    def _eager(self, x: Any) -> Any:
        """One op, or a cold structure: the prebuilt kernels, op by op (inputs first)."""
        op, operands, _ = x.expr
        for o in operands:
            if type(o) is type(x) and o._alloc is None:
                self._eager(o)
        x.dev.fusion_counts["eager_ops"] += 1
        return self._settle(x, self.eager[op](*operands))

    @staticmethod
    def _settle(x: Any, result: Any) -> Any:
        """Make pending ``x`` the materialised ``result`` (same shape and dtype, contiguous)."""
        x._alloc = result.alloc
        x.layout = result.layout
        x.expr = None  # drop the inputs
        return x._alloc

    def reduce_rows(self, op: str, x: Any, out: Any, rows: int, length: int) -> bool:
        """``out[o] = op over row o`` of pending ``x`` seen as (rows, length), fused with x's
        expression when the structure is hot; False (nothing done) otherwise, or when another
        thread computed ``x`` meanwhile (the caller then reduces its buffer)."""
        if self.mode == "off" or op not in REDUCE_OPS:
            return False
        dev = x.dev
        with dev.lock:
            if x._alloc is not None:
                return False
            structure, leaves, scalars = _structure(x)
            idx = index_type(x.layout.numel, *leaves, out)
            key = ("fused", x.dtype.name, idx, op, structure)
            knl = self._kernel(key, dev, x.dtype.name, idx, op, structure)
            if knl is None:
                return False
            G, chunk = row_split(rows, length, x.dtype.name)
            target = out if G == 1 else new_array(dev, (rows * G,), x.dtype)
            args = self._fused_args(op, idx, target, leaves, scalars, structure, length, G, chunk, rows * G)
            if is_profiling():
                with record_function(f"opencl.fused.{op}", args={"ops": _op_names(structure)}):
                    launch_n(dev, knl, args, rows * G)
            else:
                launch_n(dev, knl, args, rows * G)
        if G > 1:
            rows_pass(op, target, out, rows, G)
        return True

    def flush(self, dev: Any) -> None:
        """Materialise every live pending array of ``dev`` (newest first, so a chain is computed
        once at its end and its intermediates are dropped), before memory is written in place."""
        with dev.lock:
            pending = dev.pending
            counts = dev.fusion_counts
            counts["flushes"] += 1
            while pending:  # (arrays other threads add meanwhile are computed too)
                a = pending.pop()()
                counts["pending"] += 1
                if a is not None and a._alloc is None:
                    self.materialize(a)


def _compact(dev: Any) -> None:
    """Drop the entries of arrays that died or were computed from ``dev.pending`` (when it grew
    long), counting them. Only the entries present when it starts are replaced: another thread's
    ``append`` meanwhile (which takes no lock) is kept."""
    with dev.lock:
        pending = dev.pending
        n = len(pending)
        if n < 4096:
            return
        live = [r for r in pending[:n] if (a := r()) is not None and a._alloc is None]
        pending[:n] = live
        dev.fusion_counts["pending"] += n - len(live)


def _pending_nodes(root: Any) -> set[int]:
    """The ids of the pending arrays of ``root``'s expression, ``root`` included."""
    found: set[int] = set()
    stack = [root]
    array_type = type(root)
    while stack:
        node = stack.pop()
        if type(node) is not array_type or node._alloc is not None or id(node) in found:
            continue
        found.add(id(node))
        stack.extend(node.expr[1])
    return found


def _op_names(structure: tuple) -> list[str]:
    """The ops of a structure in evaluation order (the ``ops`` of a profile's fused range)."""
    return [op for op, _ in structure[2]]
