"""The cpu backend's ``compile_graph``: a captured graph replayed with a memory plan.

:func:`compile_graph` returns a :class:`PlannedReplay`. Its first call runs the plain replay once
with every kernel's output recorded (shape, dtype, strides: the graph itself carries no metadata);
from then on it runs the graph rewritten as follows (built once, through ``Graph.build``):

* **Preallocated outputs.** A kernel with a numpy ``out=`` form (the elementwise ufuncs, matmul,
  sum/max, clone, cat, full/empty) writes into a buffer allocated once, with the strides its
  output had at capture (numpy gives an elementwise result the layout of its inputs, and what
  follows in the graph, a view or a copy, was recorded for that layout). Buffers are shared
  between slots whose lifetimes do not overlap (a slot lives until the last read of any view of
  it); an elementwise kernel may write over an input that dies at that call (numpy ufuncs are
  exact under such overlap). Buffers that leave the replay (a gradient, a returned tensor, an
  optimizer state set, anything an effect reads) are never planned: each replay allocates them,
  as eager does, so a tensor the caller keeps is never overwritten by a later replay.
* **In-place updates.** ``r = ufunc(...)`` followed by ``copy_(x, r)`` (how an optimizer's
  update of a parameter or of its state is recorded), with ``r`` read by nothing else, the same
  shape and dtype as ``x``, ``x`` existing already and not touched in between, becomes
  ``ufunc(..., out=x)``.
* **Constants and views.** ``full`` whose result no kernel writes is filled once, at planning; a
  view (reshape, permute, as_strided, basic indexing, expand) of planned buffers is taken once.
* **Flipped and packed matmuls.** ``a @ b`` with a short first dimension runs as
  ``(b.T @ a.T).T`` (copied back into the recorded layout), and a product with a strided operand
  (a transposed view) copies it into a dense buffer first, when, on the first replay's own
  operands, that is bitwise equal and at least 15% faster (a (32 x 4096) @ (4096 x 144) weight
  gradient takes about two thirds of the time flipped with OpenBLAS; the digits CNN's batched
  one, with its right operand transposed, about three quarters packed).
* **Fused elementwise runs** (:mod:`ember_cpu.fusion`): consecutive planned elementwise calls
  over contiguous operands become one generated C loop (a graph with at least
  ``fusion.MIN_CALLS`` such calls: a training step).
* **Native loops** (:mod:`ember_cpu.native`): the copies, adds, selects, clones,
  concatenations and window maxima whose buffers are known at planning run as prepared calls of
  C strided loops (numpy's iterator pays per inner row; the convolution's rows are short).

The last two need a C compiler (``EMBER_CPU_NATIVE=0`` turns them off); without one the plan
keeps numpy's calls. Every rewrite computes the same floating-point operations in the same order as the plain
replay, so results are bitwise equal to it (and to eager execution). Only kernels whose arrays
all have numpy's own dtypes are planned (bfloat16 has kernels of its own). A graph with nodes the
plan does not know replays them as they were recorded (their outputs allocate, and are assumed
to alias their inputs); a plan that fails leaves the plain replay. Two threads replaying one
graph at once would share its buffers: the second one runs the plain replay. Measured on the
digits step, the buffer plan alone saved a few percent of an epoch (numpy's allocator hands
back warm memory); with the native loops and fusion the planned epoch takes 0.7-0.85 of the plain
replay's (``docs/benchmarks.md``).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from ember.compile.graph import (
    Effect,
    Graph,
    Node,
    Return,
    Slot,
    _has_slot,
    defines,
    in_place,
    reads,
)

from . import fusion, im2col, native, pooling
from .backend import sum_leading_first

__all__ = ["compile_graph", "PlannedReplay"]


def _out_form(uf: Any, quiet: bool) -> Callable[..., Any]:
    """``uf(*inputs, out=last argument)``, for a ufunc or a kernel taking ``out=``; ``quiet``: IEEE
    results without warnings, as the plain kernels give them."""
    if quiet:

        def run(*a: Any) -> Any:
            with np.errstate(all="ignore"):
                return uf(*a[:-1], out=a[-1])

    else:

        def run(*a: Any) -> Any:
            return uf(*a[:-1], out=a[-1])

    run.__name__ = f"{uf.__name__}_out"
    return run


#: elementwise kernels -> (ufunc, quiet); relu is maximum(x, 0) in the plain kernel
_UFUNCS: dict[str, tuple[Any, bool]] = {
    "add": (np.add, False),
    "sub": (np.subtract, False),
    "mul": (np.multiply, False),
    "div": (np.true_divide, True),
    "pow": (np.power, True),
    "maximum": (np.maximum, False),
    "minimum": (np.minimum, False),
    "eq": (np.equal, False),
    "ne": (np.not_equal, False),
    "lt": (np.less, False),
    "le": (np.less_equal, False),
    "neg": (np.negative, False),
    "abs": (np.abs, False),
    "exp": (np.exp, True),
    "log": (np.log, True),
    "sqrt": (np.sqrt, True),
    "tanh": (np.tanh, False),
    "sin": (np.sin, False),
    "cos": (np.cos, False),
}
#: bitwise kernels: logical ufuncs on bool, bitwise ones on integers (as the plain kernels)
_BITWISE: dict[str, tuple[Any, Any]] = {
    "bitwise_and": (np.logical_and, np.bitwise_and),
    "bitwise_or": (np.logical_or, np.bitwise_or),
    "bitwise_xor": (np.logical_xor, np.bitwise_xor),
}


def _relu_out(x: Any, out: Any) -> Any:
    return np.maximum(x, 0, out=out)


def _matmul_out(a: Any, b: Any, out: Any) -> Any:
    return np.matmul(a, b, out=out)


def _matmul_flipped_out(tmp: Any, a: Any, b: Any, out: Any) -> Any:
    # the same products summed in the same order (checked on the operands at planning), with the
    # long dimension as BLAS's rows: OpenBLAS runs (32 x 4096) @ (4096 x 144) at half the speed
    # of (144 x 4096) @ (4096 x 32)
    np.matmul(b.T, a.T, out=tmp)
    np.copyto(out, tmp.T)
    return out


def _form_pays(form: Callable[[Any], Any], a: Any, b: Any, r: Any) -> bool:
    """Whether ``form(out)``, another way to write ``a @ b`` into ``out``, gives ``r`` bitwise on
    these operands and is at least 15% faster than numpy's product (best of 3, alternating)."""
    out = np.empty_like(r)
    form(out)
    if not np.array_equal(out, r):
        return False
    plain, other = [], []
    for _ in range(3):
        t = time.perf_counter()
        np.matmul(a, b, out=out)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        form(out)
        other.append(time.perf_counter() - t)
    return min(other) < 0.85 * min(plain)


def _flip_pays(a: Any, b: Any, r: Any) -> bool:
    """Whether ``(b.T @ a.T).T`` equals ``a @ b`` bitwise on these operands (2-D, float) and is
    at least 15% faster, copy back included (:func:`_form_pays`)."""
    if not (a.ndim == b.ndim == 2 and r.flags.c_contiguous and r.dtype.kind == "f" and r.size >= 4096):
        return False
    if a.shape[0] * a.shape[1] * b.shape[1] > 1 << 27:
        return False  # the trial would cost more than a first replay should (tens of ms)
    tmp = np.empty((r.shape[1], r.shape[0]), r.dtype)
    return _form_pays(functools.partial(_matmul_flipped_out, tmp, a, b), a, b, r)


def _matmul_packed_out(ta: Any, tb: Any, a: Any, b: Any, out: Any) -> Any:
    # an operand that is a strided view (a transposed gradient) copied into a dense buffer first:
    # OpenBLAS runs the digits CNN's weight gradient, 64 x (144 x 64) @ (64 x 32) with the
    # right operand transposed, in about 0.75 of the time from dense operands, copy included
    if ta is not None:
        np.copyto(ta, a)
        a = ta
    if tb is not None:
        np.copyto(tb, b)
        b = tb
    return np.matmul(a, b, out=out)


def _pack_pays(a: Any, b: Any, r: Any) -> tuple[bool, bool] | None:
    """Which operands of ``a @ b`` (float, at least 2-D) to copy into dense buffers before the
    product: those not C-contiguous (and not broadcast: no zero strides), where that is bitwise
    equal to ``r`` on these operands and at least 15% faster, copies included
    (:func:`_form_pays`); None where it is not."""
    if not (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.ndim >= 2
        and b.ndim >= 2
        and r.dtype.kind == "f"
        and r.size >= 4096
    ):
        return None
    which = tuple(not x.flags.c_contiguous and 0 not in x.strides for x in (a, b))
    if not any(which) or a.size * b.shape[-1] > 1 << 27:
        return None  # nothing to pack, or a trial costing more than a first replay should
    ta, tb = (np.empty(x.shape, x.dtype) if w else None for x, w in zip((a, b), which))
    return which if _form_pays(functools.partial(_matmul_packed_out, ta, tb, a, b), a, b, r) else None


def _sum_out(x: Any, dims: Any, keep: bool, out: Any) -> Any:
    return sum_leading_first(x, dims, keep, out)  # the eager kernel's order: the same bits


def _max_out(x: Any, dims: Any, keep: bool, out: Any) -> Any:
    return np.max(x, axis=dims, keepdims=keep, out=out)


def _clone_out(x: Any, out: Any) -> Any:
    np.copyto(out, x)
    return out


def _cat_out(xs: Any, dim: int, out: Any) -> Any:
    return np.concatenate(xs, axis=dim, out=out)


def _fill_out(shape: Any, value: Any, dtype: Any, index: int, out: Any) -> Any:
    out.fill(value)
    return out


def _empty_out(shape: Any, dtype: Any, index: int, out: Any) -> Any:
    return out


#: kernels of this backend that take an ``out=`` buffer themselves: the plan calls them with it
#: (through :func:`_out_form`) only where the node runs this very function
_TAKES_OUT = frozenset({im2col.fold2d, pooling.max_pool2d_backward})


def _where_out(cond: Any, a: Any, b: Any, out: Any) -> Any:
    # planned only with the native loops, which replace this call where they take its operands
    np.copyto(out, np.where(cond, a, b))
    return out


#: kernels whose outputs are fresh arrays (never views of an input); every other kernel's output
#: is taken to alias all of its array inputs
_FRESH = (
    frozenset(_UFUNCS)
    | frozenset(_BITWISE)
    | {
        "relu",
        "matmul",
        "sum",
        "max",
        "clone",
        "cat",
        "full",
        "empty",
        "cast",
        "where",
        "uniform",
        "normal",
        "gather",
        "scatter_add",
        "log_softmax",
        "softmax",
        "sigmoid",
        "fold2d",
        "max_pool2d_backward",
    }
)
#: planned kernels with elementwise semantics: their output may take a dying input's buffer
_ELEMENTWISE = frozenset(_UFUNCS) | frozenset(_BITWISE) | {"relu"}
#: kernels returning a view of their first argument (or None, reshape, where no view exists)
_VIEWS = frozenset({"as_strided", "reshape", "permute", "getitem_basic", "expand"})


def _out_kernel(node: Node, dtype: Any) -> Callable[..., Any] | None:
    """The ``out=`` form of ``node``'s kernel (last argument: the output buffer), or None."""
    name = node.name
    if node.kwargs:
        return None
    if name == "where":
        return _where_out if native.library() is not None else None
    if name in _UFUNCS:
        return _out_form(*_UFUNCS[name])
    if node.fn in _TAKES_OUT:
        return _out_form(node.fn, False)
    if name in _BITWISE:
        logical, bitwise = _BITWISE[name]
        return _out_form(logical if dtype == np.bool_ else bitwise, False)
    return {
        "relu": _relu_out,
        "matmul": _matmul_out,
        "sum": _sum_out,
        "max": _max_out,
        "clone": _clone_out,
        "cat": _cat_out,
        "full": _fill_out,
        "empty": _empty_out,
    }.get(name)


def _layout(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    """The strides (bytes) of a dense array of ``shape`` laid out in the order of ``strides``
    (a permutation of a dense layout, as numpy gives its results), or None when ``strides`` is
    not one (dimensions of size 1 may have any stride)."""
    order = sorted(range(len(shape)), key=lambda d: -strides[d])
    dense = [0] * len(shape)
    step = itemsize
    for d in reversed(order):
        dense[d] = step
        step *= shape[d]
    if any(a != b for a, b, m in zip(dense, strides, shape) if m > 1):
        return None
    return tuple(dense)


class PlannedReplay:
    """The replay :func:`compile_graph` returns (see the module docstring): ``plan`` is the
    rewritten graph once the first call has recorded the outputs' layouts."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.plain = graph.build()
        self.fast: Callable[..., Any] | None = None
        self.planned: Graph | None = None
        #: what the plan did: outputs preallocated, updates made in place, constants filled once,
        #: views taken once, matmuls flipped or with operands packed, elementwise calls fused,
        #: native loops, distinct buffers and their bytes
        keys = ("planned", "in_place", "constants", "views", "flipped", "packed", "fused", "native")
        keys += ("buffers", "bytes")
        self.stats = dict.fromkeys(keys, 0)
        self._lock = threading.Lock()
        self._meta: dict[int, tuple[tuple[int, ...], tuple[int, ...], Any]] = {}
        self._flipped: set[int] = set()  # matmuls computed as (b.T @ a.T).T
        self._packed: dict[int, tuple[bool, bool]] = {}  # matmuls with operands copied dense first
        self._aliased: set[int] = set()  # kernels whose output shared memory with an input
        self._argmeta: dict[int, list[Any]] = {}  # per item: its arguments' layouts

    def __call__(self, L: list[Any], P: list[Any], O: list[Any]) -> Any:  # noqa: E741, N803
        fast = self.fast
        if fast is None:
            return self._first(L, P, O)
        if not self._lock.acquire(blocking=False):
            return self.plain(L, P, O)  # another thread is replaying with the buffers
        try:
            return fast(L, P, O)
        finally:
            self._lock.release()

    def _first(self, L: list[Any], P: list[Any], O: list[Any]) -> Any:  # noqa: E741, N803
        """Run the plain replay with the outputs' layouts recorded, then plan."""
        meta = self._meta
        items = []
        for i, item in enumerate(self.graph.items):
            if isinstance(item, Node) and (isinstance(item.outs, Slot) or item.name == "copy_"):
                seen = (meta, self._flipped, self._packed, self._aliased, self._argmeta)
                rec = _recording(item.fn, i, item.outs is None, item.name, *seen)
                item = dataclasses.replace(item, fn=rec)
            items.append(item)
        result = Graph(self.graph.name, items, self.graph.guards).build()(L, P, O)
        try:
            self.planned = plan(
                self.graph, meta, self.stats, self._flipped, self._aliased, self._argmeta, self._packed
            )
            self.fast = self.planned.build()
            # explain() shows what runs from now on
            summary = ", ".join(f"{k} {v}" for k, v in self.stats.items())
            fused = [
                item.fn.c_source
                for item in self.planned.items
                if isinstance(item, Node) and hasattr(item.fn, "c_source")
            ]
            c_code = "".join(f"# {line}\n" for src in fused for line in src.splitlines())
            self.graph.source = f"# planned by the cpu backend: {summary}\n{self.planned.source}{c_code}"
        except Exception:  # noqa: BLE001 - a graph the plan cannot handle replays as recorded
            self.fast = self.plain
        return result


def _recording(
    fn: Callable[..., Any],
    i: int,
    dst: bool,
    name: str,
    meta: dict[int, Any],
    flipped: set[int],
    packed: dict[int, tuple[bool, bool]],
    aliased: set[int],
    argmeta: dict[int, list[Any]],
) -> Callable[..., Any]:
    """``fn`` recording its output's (shape, strides, dtype), or its first argument's (``dst``:
    an in-place kernel's destination), its arguments' layouts, and whether the output shares
    memory with an input (the plan then takes it for a view whatever the kernel's name); a matmul
    also tries its flipped and packed forms on its operands."""

    def run(*a: Any, **k: Any) -> Any:
        argmeta[i] = [(v.shape, v.strides, v.dtype) if type(v) is np.ndarray else None for v in a]
        r = fn(*a, **k)
        if not dst and type(r) is np.ndarray:
            if any(type(v) is np.ndarray and np.may_share_memory(r, v) for v in a):
                aliased.add(i)
        x = a[0] if dst else r
        if type(x) is np.ndarray and _numpy_dtypes(x, *a):
            meta[i] = (x.shape, x.strides, x.dtype)
            if name == "matmul" and _flip_pays(a[0], a[1], r):
                flipped.add(i)
            elif name == "matmul" and (which := _pack_pays(a[0], a[1], r)) is not None:
                packed[i] = which
        return r

    return run


#: numpy's own dtypes: other dtypes (ml_dtypes' bfloat16) have kernels of their own, not planned
_NUMPY_DTYPES = frozenset(
    np.dtype(t)
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
    + (np.float16, np.float32, np.float64, np.complex64, np.complex128)
)


def _numpy_dtypes(*values: Any) -> bool:
    """Whether every array among ``values`` (and in lists among them) has one of numpy's dtypes."""
    for v in values:
        if type(v) is np.ndarray:
            if v.dtype not in _NUMPY_DTYPES:
                return False
        elif type(v) in (list, tuple) and not _numpy_dtypes(*v):
            return False
    return True


def plan(
    graph: Graph,
    meta: dict[int, Any],
    stats: dict[str, int],
    flipped: set[int] = frozenset(),
    aliased: set[int] = frozenset(),
    argmeta: dict[int, list[Any]] | None = None,
    packed: dict[int, tuple[bool, bool]] | None = None,
) -> Graph:
    """``graph`` rewritten with preallocated outputs, in-place updates and constants, given the
    outputs' (shape, strides, dtype) recorded by a plain replay (``meta``, by item index), the
    matmuls to run flipped, the kernels seen returning memory of an input (``aliased``), the
    arguments' layouts (``argmeta``: elementwise calls whose layouts are known may be fused) and
    the matmuls to run with operands packed (``packed``: which operands)."""
    argmeta = argmeta or {}
    packed = packed or {}
    members: dict[int, fusion.Member] = {}  # planned elementwise calls, by id of their item
    items = list(graph.items)
    # which buffers (roots: slots a fresh kernel produced) each slot may be a view of
    roots: dict[Slot, frozenset[Slot]] = {}
    uses: list[set[Slot]] = []  # per item, the slots it reads or assigns
    for i, item in enumerate(items):
        found = reads(item)
        if isinstance(item, Node):
            if isinstance(item.outs, Slot) and item.name in _FRESH and i not in aliased:
                roots[item.outs] = frozenset({item.outs})
            else:
                inputs = frozenset().union(*(roots.get(s, {s}) for s in found))
                for o in defines(item):
                    roots[o] = inputs | {o}
        uses.append(found | defines(item))

    def roots_of(s: Slot) -> frozenset[Slot]:
        return roots.get(s, frozenset({s}))

    last: dict[Slot, int] = {}  # a buffer's last use through any of its views
    escapes: set[Slot] = set()
    written: set[Slot] = set()  # buffers an in-place kernel writes
    for i, item in enumerate(items):
        for s in uses[i]:
            for r in roots_of(s):
                last[r] = i
        if isinstance(item, (Effect, Return)):
            for s in uses[i]:
                escapes |= roots_of(s)
        if in_place(item):
            if item.args and isinstance(item.args[0], Slot):
                written |= roots_of(item.args[0])

    defined: dict[Slot, int] = {}
    for i, item in enumerate(items):
        for o in defines(item):
            defined.setdefault(o, i)

    # in-place updates: r = ufunc(...); ...; copy_(x, r) -> ufunc(..., out=x)
    drop: set[int] = set()
    into: dict[int, Slot] = {}
    into_layout: dict[int, Any] = {}  # the destination's layout, recorded at its copy
    producer = {o: i for o, i in defined.items() if isinstance(items[i], Node) and items[i].outs is o}
    for j, item in enumerate(items):
        if not (isinstance(item, Node) and item.name == "copy_" and len(item.args) == 2 and not item.kwargs):
            continue
        x, r = item.args
        if not (isinstance(x, Slot) and isinstance(r, Slot)) or r not in producer or r in escapes:
            continue
        i = producer[r]
        node = items[i]
        m = meta.get(i)
        if i in into or node.name not in _ELEMENTWISE or m is None or roots_of(r) != {r} or last[r] != j:
            continue
        xm = meta.get(j)  # the destination's layout, recorded at the copy
        if xm is None or xm[0] != m[0] or xm[2] != m[2]:
            continue
        if defined.get(x, -1) >= i:
            continue  # x does not exist yet where r is computed
        xr = roots_of(x)
        if any(k != i and uses[k] and any(roots_of(s) & xr for s in uses[k]) for k in range(i + 1, j)):
            continue  # x read or written between the update's computation and its copy
        into[i] = x
        into_layout[i] = xm
        drop.add(j)

    # buffers: a greedy allocation over lifetimes, keyed by layout
    free: dict[int, list[Any]] = {}  # byte blocks by size
    releases: dict[int, list[Any]] = {}  # item index -> blocks its end frees
    buffer_of: dict[Slot, Any] = {}
    block_of: dict[Slot, Any] = {}
    new_items: list[Any] = []
    for i, item in enumerate(items):
        for b in releases.pop(i - 1, ()):  # blocks whose last use was the previous item
            free.setdefault(b.nbytes, []).append(b)
        if i in drop:
            continue
        if not isinstance(item, Node):
            new_items.append(item)
            continue
        if i in into:
            fn = _out_kernel(item, meta[i][2])
            if fn is not None:
                new = dataclasses.replace(item, fn=fn, args=(*item.args, into[i]), outs=None)
                new_items.append(new)
                if item.name in fusion.FUSABLE and i in argmeta:
                    members[id(new)] = fusion.Member(new, into[i], meta[i][2], argmeta[i], into_layout[i], i)
                stats["in_place"] += 1
                continue
            drop.discard(i)  # cannot happen for the elementwise kernels; kept for safety
        s = item.outs
        if item.name in _VIEWS and isinstance(s, Slot) and not item.kwargs:
            # a view of a planned buffer is the same view on every replay: take it once, here
            view = _fixed_view(item, buffer_of)
            if view is not None:
                buffer_of[s] = view
                new_items.append(Effect(f"{s!r} = {{view}}", (), {"view": view}))
                stats["views"] += 1
                continue
        m = meta.get(i)
        fn = _out_kernel(item, m[2]) if m is not None else None
        if fn is None or not isinstance(s, Slot) or s in escapes or roots_of(s) != {s}:
            new_items.append(item)
            continue
        shape, strides, dtype = m
        layout = _layout(shape, strides, dtype.itemsize)
        if layout is None:
            new_items.append(item)
            continue
        nbytes = max(1, int(np.prod(shape)) * dtype.itemsize)
        if item.name == "full" and s not in written:
            # read only: filled once, here
            buf = np.ndarray(shape, dtype, np.empty(nbytes, np.uint8), 0, layout)
            buf.fill(item.args[1])
            buffer_of[s] = buf
            new_items.append(Effect(f"{s!r} = {{const}}", (), {"const": buf}))
            stats["constants"] += 1
            continue
        if i in flipped and fn is _matmul_out:
            fn = functools.partial(_matmul_flipped_out, np.empty((shape[1], shape[0]), dtype))
            stats["flipped"] += 1
        elif i in packed and fn is _matmul_out and i in argmeta:
            scratch = [np.empty(m[0], m[2]) if w else None for m, w in zip(argmeta[i], packed[i])]
            fn = functools.partial(_matmul_packed_out, *scratch)
            stats["packed"] += 1
        block = None
        if item.name in _ELEMENTWISE:
            # an input that dies here, with this very layout: write over it
            for a in item.args:
                if isinstance(a, Slot) and a in block_of and last.get(a) == i:
                    prev = buffer_of[a]
                    if prev.shape == shape and prev.strides == layout and prev.dtype == dtype:
                        block = block_of[a]
                        releases[i] = [b for b in releases.get(i, []) if b is not block]
                        break
        if block is None:
            pool = free.get(nbytes)
            block = pool.pop() if pool else np.empty(nbytes, np.uint8)
        buf = np.ndarray(shape, dtype, block, 0, layout)
        buffer_of[s] = buf
        block_of[s] = block
        releases.setdefault(last[s], []).append(block)
        new = dataclasses.replace(item, fn=fn, args=(*item.args, buf))
        new_items.append(new)
        if item.name in fusion.FUSABLE and i in argmeta and fn is not _matmul_out:
            members[id(new)] = fusion.Member(new, buf, dtype, argmeta[i], None, i)
        stats["planned"] += 1
    new_items = fusion.fuse(new_items, members, buffer_of, last, stats)
    new_items = _native_loops(new_items, buffer_of, stats)
    distinct = {id(b): b for b in block_of.values()}
    stats["buffers"] = len(distinct)
    stats["bytes"] = sum(b.nbytes for b in distinct.values())
    out = Graph(graph.name, new_items, graph.guards)
    out.removed = graph.removed
    return out


def _native_loops(items: list[Any], fixed: dict[Slot, Any], stats: dict[str, int]) -> list[Any]:
    """``items`` with the copies, adds and selects whose arrays are all known at planning
    (``fixed``: planned buffers and views of them, or constants) made prepared calls of the
    native strided loops (:mod:`ember_cpu.native`): the in-place ``copy_`` and ``add_``, and the
    planned ``clone``, ``cat`` and ``where``. What the loops cannot take keeps its numpy call."""
    if native.library() is None:
        return items

    def arr(a: Any) -> Any:
        return fusion.fixed_array(a, fixed)

    out: list[Any] = []
    for item in items:
        call = None
        if isinstance(item, Node) and not item.kwargs:
            fn, a = item.fn, item.args
            if item.name in ("copy_", "add_") and item.outs is None and len(a) == 2:
                dst, src = arr(a[0]), arr(a[1])
                if dst is not None and src is not None:
                    bind = native.bind_copy if item.name == "copy_" else native.bind_add
                    call = bind(dst, src)
            elif fn is _clone_out:
                src = arr(a[0])
                call = native.bind_copy(a[1], src) if src is not None else None
            elif fn is _where_out:
                cond = arr(a[0])
                ops = [v if not isinstance(v, Slot) else arr(v) for v in a[1:3]]
                if cond is not None and all(v is not None for v in ops):
                    call = native.bind_where(a[3], cond, *ops)
            elif fn is _max_out:
                src = arr(a[0])
                call = native.bind_max(a[3], src, a[1], a[2]) if src is not None else None
            elif fn is _cat_out and isinstance(a[0], (list, tuple)):
                call = _native_cat([arr(x) for x in a[0]], a[1], a[2])
        if call is None:
            out.append(item)
            continue
        stats["native"] += 1
        if item.outs is None:
            out.append(dataclasses.replace(item, fn=call, args=()))
        else:
            out.append(dataclasses.replace(item, fn=_returning(call, item.args[-1]), args=()))
    return out


def _returning(call: Callable[[], None], result: Any) -> Callable[[], Any]:
    """``call()``, then ``result`` (a planned kernel's output buffer)."""

    def run() -> Any:
        call()
        return result

    return run


def _native_cat(xs: list[Any], dim: int, out: Any) -> Callable[[], None] | None:
    """``concatenate(xs, axis=dim, out=out)`` as one native copy per part, or None."""
    if any(x is None for x in xs) or not -out.ndim <= dim < out.ndim:
        return None
    dim %= out.ndim
    calls = []
    start = 0
    for x in xs:
        if x.ndim != out.ndim:
            return None
        stop = start + x.shape[dim]
        part = out[(slice(None),) * dim + (slice(start, stop),)]
        start = stop
        if part.size == 0:
            continue
        c = native.bind_copy(part, x)
        if c is None:
            return None
        calls.append(c)
    if start != out.shape[dim]:
        return None

    def run(_calls: tuple = tuple(calls)) -> None:
        for c in _calls:
            c()

    return run


def _fixed_view(node: Node, fixed: dict[Slot, Any]) -> Any:
    """``node``'s output, a view of planned buffers, when all its buffer arguments are planned
    buffers (``fixed``) and the rest constants; else None."""
    args = []
    for a in node.args:
        if isinstance(a, Slot):
            if a not in fixed:
                return None
            args.append(fixed[a])
        elif _has_slot(a):
            return None
        else:
            args.append(a)
    r = node.fn(*args)
    base = next(x for x in args if isinstance(x, np.ndarray))
    if type(r) is not np.ndarray or not np.may_share_memory(r, base):
        return None
    return r


def compile_graph(graph: Graph) -> PlannedReplay:
    """The cpu backend's ``Backend.compile_graph`` hook: the graph's replay with a memory plan."""
    return PlannedReplay(graph)
