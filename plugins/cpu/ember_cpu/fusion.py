"""Elementwise fusion for the cpu backend's compiled graphs: runs of planned elementwise calls
become one generated C loop each, built with the system's C compiler (:mod:`ember_cpu.native`).

After the memory plan (:mod:`ember_cpu.compiled`), a training step still makes many small numpy
calls: Adam's update is thirteen ufunc calls per parameter, relu's backward a comparison and a
select. Each call costs a few microseconds of Python and a pass over memory. Here consecutive
planned elementwise calls over C-contiguous operands with the same number of elements (a *group*)
become one C function: one loop over the elements, each operand loaded once, each result kept in
a register and stored once. A contiguous operand broadcast as a bias is (a (1, C, 1, 1) channel
bias, an (F,) feature bias, an (N, 1) scale) makes the loop two-level: rows of the destination's
trailing elements, the operand read once a row or along the row (no index arithmetic per
element: the inner loop vectorises), so a convolution's bias add joins its relu. The group's
Python call checks the operands that change per replay
(gradients, parameters, optimizer state: layout, dtype, no overlap) and falls back to the numpy
calls it replaced when one does not match.

What is fused computes exactly what numpy computes: the operations are IEEE's correctly rounded
ones (``+ - * /``, ``sqrt``, negation, absolute value, comparisons, selects, numpy's ``maximum``
/ ``minimum`` rule, logical operations on bools) in the operands' own dtype (float32 or float64;
a Python scalar taken in that dtype, as numpy takes a weak scalar), each rounded as numpy rounds
it, built without contraction into fused multiply-adds: results are bitwise numpy's. A value is
stored when a later item may read its buffer (through any view: the plan's lifetimes) and kept in
a register otherwise; operands sharing memory (a view taken at planning and its buffer, a result
written over an input that died) hold one value per element, so a read after an in-place update
sees the update.

A graph is fused only when it has at least :data:`MIN_CALLS` calls in groups of two or more (a
training step; not a single op's graph), so the compiler runs once per step graph, and the shared
library is cached on disk (``ember_cpu.native``).
"""

from __future__ import annotations

import ctypes
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
from ember.compile.graph import HostArg, Node, Slot

from . import native

__all__ = ["fuse", "fixed_array", "MIN_CALLS", "Member"]

#: a graph is fused when its groups hold at least this many calls together
MIN_CALLS = 16

_CTYPE = {
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
    np.dtype(np.bool_): "unsigned char",
}
_FLOATS = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
_BOOL = np.dtype(np.bool_)
#: arithmetic on floats (result in the operands' dtype)
_ARITH = {"add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})"}
#: numpy's maximum / minimum: the first operand where it wins or is NaN, else the second
_EXTREMA = {
    "maximum": "(({0} > {1} || {0} != {0}) ? {0} : {1})",
    "minimum": "(({0} < {1} || {0} != {0}) ? {0} : {1})",
}
_UNARY = {"neg": "(-{0})", "abs": "{f}({0})", "sqrt": "{s}({0})"}
_COMPARE = {"eq": "==", "ne": "!=", "lt": "<", "le": "<="}
_LOGICAL = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}
FUSABLE = frozenset(_ARITH) | frozenset(_EXTREMA) | frozenset(_UNARY) | frozenset(_COMPARE)
FUSABLE |= frozenset(_LOGICAL) | {"relu", "where"}


@dataclasses.dataclass
class Member:
    """One planned elementwise call: its item (the kernel's ``out=`` form, destination last),
    its destination (a planned buffer, or a slot updated in place), result dtype, and the layouts
    of its inputs and destination recorded at the first replay ((shape, strides, dtype) or None)."""

    item: Node
    dest: Any
    dtype: np.dtype
    layouts: list[Any]
    dest_layout: Any
    index: int  # the call's position in the captured graph (for lifetimes)

    @property
    def inputs(self) -> tuple[Any, ...]:
        return self.item.args[:-1]


@dataclasses.dataclass
class _Operand:
    """A distinct array a group reads or writes: fixed at planning (``array``) or a slot whose
    buffer is checked on every replay (``slot``, with the layout recorded)."""

    array: np.ndarray | None
    slot: Slot | None
    dtype: np.dtype
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    #: a broadcast operand (a bias), as :func:`_broadcast` gives it: ("row", m, inner), one value
    #: per row of ``inner`` elements of the group's loop, the row r's at r % m; ("column", m, m),
    #: the inner loop's j-th value at j
    broadcast: tuple[str, int, int] | None = None


def _broadcast(shape: tuple[int, ...], dest: tuple[int, ...]) -> tuple[str, int, int] | None:
    """How a contiguous operand of ``shape`` broadcasts against ``dest`` when its non-1 dims are
    one block of dest's trailing-aligned dims with 1s around it: ("row", m, inner) where dims of
    size 1 follow the block (its value changes every ``inner`` elements of dest, cycling through
    m), ("column", m, m) where the block ends dest (the inner ``m`` elements cycle); else None."""
    if len(shape) > len(dest):
        return None
    full = (1,) * (len(dest) - len(shape)) + tuple(shape)
    dims = [k for k, n in enumerate(full) if n != 1]
    if not dims or dims != list(range(dims[0], dims[-1] + 1)):
        return None
    if any(full[k] != dest[k] for k in dims):
        return None
    m = int(np.prod([full[k] for k in dims]))
    inner = int(np.prod(dest[dims[-1] + 1 :]))
    if int(np.prod(dest[: dims[0]])) == 1 and inner == 1:
        return None  # the whole destination: not a broadcast
    if int(np.prod(dest)) == 0:
        return None  # nothing to loop over (and no row length to divide by)
    return ("column", m, m) if inner == 1 else ("row", m, inner)


def _contiguous(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> bool:
    step = itemsize
    for n, st in zip(reversed(shape), reversed(strides)):
        if n != 1 and st != step:
            return False
        step *= n
    return True


def fixed_array(v: Any, fixed: dict[Slot, Any]) -> np.ndarray | None:
    """The buffer a planned graph's argument ``v`` is fixed to: a slot's planned buffer (or a view
    of one, taken at planning: ``fixed``) or an array constant; None for a slot bound per replay
    and for anything that is no array."""
    if isinstance(v, Slot):
        return fixed.get(v)
    return v if type(v) is np.ndarray else None


def _is_scalar(v: Any) -> bool:
    """A scalar argument: an optimizer's host value, or a Python number a double holds exactly."""
    if isinstance(v, HostArg) or type(v) is float:
        return True
    return type(v) in (bool, int) and abs(v) <= 2**53


class _Group:
    """Consecutive members over ``n`` elements, their operands and scalars."""

    def __init__(self, n: int, fixed: dict[Slot, Any]) -> None:
        self.n = n
        self.fixed = fixed
        self.members: list[Member] = []
        self.operands: dict[Any, _Operand] = {}
        self.stored: list[Slot] = []  # the planned results the generated code stores

    @property
    def inner(self) -> int | None:
        """The inner loop's length where broadcast operands make the loop two-level, else None."""
        return self._inner({})

    def _inner(self, new: dict[Any, _Operand]) -> int | None:
        """The row length the group's broadcast operands (and those of ``new``) share, or None."""
        for op in [*self.operands.values(), *new.values()]:
            if op.broadcast is not None:
                return op.broadcast[2]
        return None

    def key(self, v: Any) -> Any:
        """An operand's identity: its fixed buffer's, else its slot."""
        arr = fixed_array(v, self.fixed)
        return ("array", id(arr)) if arr is not None else v

    def _add(
        self, v: Any, layout: Any, new: dict[Any, _Operand], dest_shape: tuple[int, ...] | None = None
    ) -> _Operand | None:
        """The operand for ``v`` (an input of a member whose destination has ``dest_shape``; None
        for a destination), added to ``new`` if the group lacks it; None where it cannot join."""
        key = self.key(v)
        op = self.operands.get(key) or new.get(key)
        if op is not None:
            if op.broadcast is not None and (
                dest_shape is None or _broadcast(op.shape, dest_shape) != op.broadcast
            ):
                return None  # read with another pattern by this member
            return op
        arr = fixed_array(v, self.fixed)
        if arr is not None:
            shape, strides, dtype = arr.shape, arr.strides, arr.dtype
        elif isinstance(v, Slot) and layout is not None:
            shape, strides, dtype = layout
        else:
            return None
        if dtype not in _CTYPE or not _contiguous(shape, strides, dtype.itemsize):
            return None
        broadcast = None
        if int(np.prod(shape)) != self.n:
            # a bias-like operand: read once per row (or per column) of a two-level loop
            broadcast = _broadcast(tuple(shape), dest_shape) if dest_shape is not None else None
            inner = self._inner(new)
            if broadcast is None or (inner is not None and broadcast[2] != inner):
                return None
        if arr is not None and not self._fits(arr, new, broadcast is not None):
            return None
        new[key] = op = _Operand(
            arr, None if arr is not None else v, dtype, tuple(shape), tuple(strides), broadcast
        )
        return op

    def _fits(self, arr: np.ndarray, new: dict[Any, _Operand], broadcast: bool = False) -> bool:
        """A fixed buffer either is another fixed operand's memory element for element (the same
        start and dtype: a result written over an input that died, or a view of a buffer taken at
        planning; the generated code holds one value per element for both) or is apart from it.
        A broadcast operand (read at other indices) is apart from every other one."""
        start = arr.ctypes.data
        for op in [*self.operands.values(), *new.values()]:
            if op.array is None or not np.may_share_memory(op.array, arr):
                continue
            if broadcast or op.broadcast or op.array.ctypes.data != start or op.array.dtype != arr.dtype:
                return False
        return True

    def join(self, m: Member) -> bool:
        """Add ``m`` when the fused code computes it as numpy does (dtypes, contiguous operands
        of the group's size); else leave the group as it was."""
        name = m.item.name
        arrays = [(v, lay) for v, lay in zip(m.inputs, m.layouts) if not _is_scalar(v)]
        if any(not isinstance(v, Slot) and type(v) is not np.ndarray for v, _ in arrays):
            return False
        new: dict[Any, _Operand] = {}
        dest = self._add(m.dest, m.dest_layout, new)
        dest_shape = dest.shape if dest is not None else None
        ops = [self._add(v, lay, new, dest_shape) for v, lay in arrays]
        if any(o is None for o in ops) or dest is None or dest.dtype != m.dtype or dest.broadcast:
            return False
        kinds = {o.dtype for o in ops}
        n_in = len(m.inputs)
        if name in _COMPARE:
            ok = n_in == 2 and m.dtype == _BOOL and len(kinds) == 1 and kinds <= _FLOATS
        elif name in _LOGICAL:
            ok = n_in == 2 and m.dtype == _BOOL and kinds <= {_BOOL}
        elif name == "where":
            ok = n_in == 3 and isinstance(m.inputs[0], Slot) and ops[0].dtype == _BOOL
            ok = ok and m.dtype in _FLOATS and all(o.dtype == m.dtype for o in ops[1:])
        elif name in _UNARY or name == "relu":
            ok = n_in == 1 and m.dtype in _FLOATS and kinds == {m.dtype}
        else:
            ok = n_in == 2 and m.dtype in _FLOATS and kinds <= {m.dtype} and bool(ops)
        if ok:
            self.operands.update(new)
            self.members.append(m)
        return ok

    def source(self, fname: str, live: Callable[[Any], bool]) -> tuple[str, list[Any]]:
        """The C function ``void fname(char *const *P, const double *S)`` computing the group
        (``P``: one pointer per operand, in :attr:`operands`' order; ``S``: the scalars), and
        the scalars in the order ``S`` holds them. A member's result is stored when ``live``
        says a later item may read it (an in-place update always is)."""
        index = {key: k for k, key in enumerate(self.operands)}
        # one restrict pointer per distinct memory: fixed operands sharing their first element
        # (a result written over an input that died) share it; the rest never overlap a written
        # operand (checked at planning and, for per-replay operands, at every call)
        memory: dict[Any, int] = {}
        lines = [f"void {fname}(char *const *restrict P, const double *restrict S) {{"]
        ptr: dict[Any, str] = {}
        # operands sharing memory (same start, element size and count: the same dtype) hold one
        # value per element: a write through one (an in-place update of a buffer) is what a later
        # read through the other (a view of it taken at planning) sees
        same: dict[Any, Any] = {}
        for key, k in index.items():
            op = self.operands[key]
            where = ("at", op.array.ctypes.data) if op.array is not None else key
            same[key] = where
            if where not in memory:
                memory[where] = k
                ct = _CTYPE[op.dtype]
                lines.append(f"    {ct} *restrict p{k} = ({ct} *)P[{k}];")
            ptr[key] = f"p{memory[where]}"
        scalars: list[Any] = []
        body: list[str] = []
        env: dict[Any, str] = {}  # operand -> the C variable holding its value in this iteration
        written: dict[Any, int] = {}  # destination -> the member writing it last

        row: list[str] = []  # the broadcast operands' values of a row (a two-level loop)

        def value(v: Any, ct: str) -> str:
            if _is_scalar(v):
                scalars.append(v)
                lines.append(f"    const {ct} s{len(scalars) - 1} = ({ct})S[{len(scalars) - 1}];")
                return f"s{len(scalars) - 1}"
            key = self.key(v)
            mem = same[key]
            if mem not in env:
                env[mem] = f"x{len(env)}"
                op = self.operands[key]
                at = "i"
                if op.broadcast is not None:
                    kind, m, _ = op.broadcast
                    if kind == "row":
                        row.append(f"        const {_CTYPE[op.dtype]} {env[mem]} = {ptr[key]}[r % {m}LL];")
                        return env[mem]
                    at = "j"
                body.append(f"        const {_CTYPE[op.dtype]} {env[mem]} = {ptr[key]}[{at}];")
            return env[mem]

        for j, m in enumerate(self.members):
            name, ct = m.item.name, _CTYPE[m.dtype]
            if name in _COMPARE:
                src = next(self.operands[self.key(v)].dtype for v in m.inputs if not _is_scalar(v))
                a, b = (value(v, _CTYPE[src]) for v in m.inputs)
                expr = f"(unsigned char)({a} {_COMPARE[name]} {b})"
            elif name in _LOGICAL:
                a, b = (value(v, "unsigned char") for v in m.inputs)
                expr = f"(unsigned char)({a} {_LOGICAL[name]} {b})"
            elif name == "where":
                c = value(m.inputs[0], "unsigned char")
                a, b = (value(v, ct) for v in m.inputs[1:])
                expr = f"({c} ? {a} : {b})"
            elif name == "relu":
                expr = _EXTREMA["maximum"].format(value(m.inputs[0], ct), f"(({ct})0)")
            elif name in _UNARY:
                f, sq = ("fabsf", "sqrtf") if ct == "float" else ("fabs", "sqrt")
                expr = _UNARY[name].format(value(m.inputs[0], ct), f=f, s=sq)
            else:
                a, b = (value(v, ct) for v in m.inputs)
                expr = (_ARITH.get(name) or _EXTREMA[name]).format(a, b)
            body.append(f"        const {ct} y{j} = {expr};")
            dest = self.key(m.dest)
            env[same[dest]] = f"y{j}"
            if isinstance(m.item.outs, Slot) and not live(m.item.outs):
                written.pop(dest, None)  # read by no later item: kept in a register only
            else:
                written[dest] = j
        self.stored = [
            m.item.outs
            for j, m in enumerate(self.members)
            if isinstance(m.item.outs, Slot) and written.get(self.key(m.dest)) == j
        ]
        # each destination stored once, in the order of its last write: of two destinations
        # sharing memory, the later one lands last
        for dest, j in sorted(written.items(), key=lambda kv: kv[1]):
            body.append(f"        {ptr[dest]}[i] = y{j};")
        inner = self.inner
        if inner is None:
            lines.append(f"    for (long long i = 0; i < {self.n}LL; i++) {{")
            lines += body
            lines += ["    }", "}"]
        else:
            # rows of `inner` elements: a row-broadcast value loaded once a row, a column-broadcast
            # operand read along the row (no division per element; the inner loop vectorises)
            lines.append(f"    for (long long r = 0; r < {self.n // inner}LL; r++) {{")
            lines += row
            lines.append(f"        for (long long j = 0; j < {inner}LL; j++) {{")
            lines.append(f"            const long long i = r * {inner}LL + j;")
            lines += ["    " + ln for ln in body]
            lines += ["        }", "    }", "}"]
        return "\n".join(lines) + "\n", scalars


def _groups(
    items: list[Any], members: dict[int, Member], fixed: dict[Slot, Any]
) -> list[tuple[int, int, _Group]]:
    """Runs of consecutive members that join one group: (first item index, end, group), two
    members or more each."""
    found: list[tuple[int, int, _Group]] = []
    group: _Group | None = None
    start = 0

    def close(end: int) -> None:
        if group is not None and len(group.members) >= 2:
            found.append((start, end, group))

    for i, item in enumerate(items):
        m = members.get(id(item))
        if m is not None and group is not None and group.join(m):
            continue
        close(i)
        group = None
        if m is not None:
            n = int(np.prod(m.dest.shape)) if type(m.dest) is np.ndarray else int(np.prod(m.dest_layout[0]))
            group = _Group(n, fixed)
            start = i
            if not group.join(m):
                group = None
    close(len(items))
    return found


def fuse(
    items: list[Any],
    members: dict[int, Member],
    fixed: dict[Slot, Any],
    last_use: dict[Slot, int],
    stats: dict[str, int],
) -> list[Any]:
    """``items`` with each group of planned elementwise calls made one call of generated C (see the
    module docstring); unchanged when the graph has fewer than :data:`MIN_CALLS` calls in groups
    or the C compiler is unavailable or fails (``stats["fused"]``: the calls fused). ``last_use``:
    the last item of the captured graph reading each planned buffer, through any view."""
    groups = _groups(items, members, fixed)
    if sum(len(g.members) for _, _, g in groups) < MIN_CALLS or native.library() is None:
        return items
    sources, scalars = [], []
    for k, (_, _, g) in enumerate(groups):
        end = max(m.index for m in g.members)
        src, sc = g.source(f"ember_fused_{k}", lambda s, end=end: last_use.get(s, end + 1) > end)
        sources.append(src)
        scalars.append(sc)
    lib, _why = native.build_library("\n".join([_PRELUDE, *sources]), "fused")
    if lib is None:
        return items
    out: list[Any] = []
    pos = 0
    for k, (start, end, g) in enumerate(groups):
        out += items[pos:start]
        fn = getattr(lib, f"ember_fused_{k}")
        fn.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        fn.restype = None
        fn._library = lib  # the library stays loaded while a call can be made
        out.append(_fused_node(g, fn, scalars[k], sources[k]))
        stats["fused"] += len(g.members)
        pos = end
    out += items[pos:]
    return out


_PRELUDE = "#include <math.h>\n"


def _fused_node(g: _Group, cfn: Any, scalars: list[Any], source: str) -> Node:
    """The graph item calling ``cfn`` for group ``g``: its arguments are the group's per-replay
    slots and host scalars, its outputs the planned results (whose buffers it returns)."""
    ops = list(g.operands.values())
    c_ptrs = (ctypes.c_void_p * len(ops))(
        *[op.array.ctypes.data if op.array is not None else 0 for op in ops]
    )
    c_scal = (ctypes.c_double * max(1, len(scalars)))(
        *[0.0 if isinstance(s, HostArg) else float(s) for s in scalars]
    )
    runtime = [(k, op) for k, op in enumerate(ops) if op.slot is not None]
    host = [(k, s) for k, s in enumerate(scalars) if isinstance(s, HostArg)]
    written = {id(g.operands[g.key(m.dest)]) for m in g.members}
    # the memory of the fixed operands, and whether the group writes it
    spans = [
        (op.array.ctypes.data, op.array.ctypes.data + op.array.nbytes, id(op) in written)
        for op in ops
        if op.array is not None
    ]
    runtime_w = [id(op) in written for _, op in runtime]
    outs = tuple(g.stored)
    results = tuple(g.fixed[s] for s in outs)
    args = tuple(op.slot for _, op in runtime) + tuple(s for _, s in host)
    n_rt = len(runtime)
    p_addr, s_addr = ctypes.addressof(c_ptrs), ctypes.addressof(c_scal)
    keep = (c_ptrs, c_scal, ops, cfn)

    def fallback(vals: tuple[Any, ...]) -> tuple[Any, ...]:
        """The numpy calls the group replaced, on this replay's values."""
        env: dict[Any, Any] = {op.slot: v for (_, op), v in zip(runtime, vals)}
        env.update({s: v for (_, s), v in zip(host, vals[n_rt:])})

        def resolve(v: Any) -> Any:
            if isinstance(v, (Slot, HostArg)) and v in env:
                return env[v]
            return g.fixed[v] if isinstance(v, Slot) else v

        for m in g.members:
            r = m.item.fn(*[resolve(v) for v in m.item.args])
            if isinstance(m.item.outs, Slot):
                env[m.item.outs] = r
        return results

    def run(*vals: Any, _keep: tuple = keep) -> tuple[Any, ...]:
        taken = list(spans)
        for (k, op), a, w in zip(runtime, vals, runtime_w):
            if (
                type(a) is not np.ndarray
                or a.shape != op.shape
                or a.strides != op.strides
                or a.dtype != op.dtype
                or not a.flags.aligned
                or (w and not a.flags.writeable)
            ):
                return fallback(vals)  # (numpy's calls refuse a read-only destination)
            start = a.ctypes.data
            stop = start + a.nbytes
            for lo, hi, w2 in taken:
                if start < hi and lo < stop and (w or w2):
                    return fallback(vals)  # another operand's memory, and one of them is written
            taken.append((start, stop, w))
            c_ptrs[k] = start
        for (k, _), v in zip(host, vals[n_rt:]):
            if type(v) is not float and (type(v) is not int or abs(v) > 2**53):
                # a numpy scalar would promote differently; an int a double does not hold exactly
                # would be rounded twice (to double, then to float32)
                return fallback(vals)
            c_scal[k] = v
        cfn(p_addr, s_addr)
        return results

    run.__name__ = f"fused_{len(g.members)}"
    run.c_source = source  # shown by explain()
    return Node("fused", "cpu", run, args, {}, outs or None)
