"""The cuda backend's ``compile_graph``: a captured graph's runs of kernel calls replayed as CUDA
graphs.

:func:`compile_graph` returns a :class:`GraphReplay`: the graph rewritten so that every run of
at least :data:`MIN_NODES` consecutive kernel calls that take the same arguments on every replay
(no optimizer host scalar, no random seed or counter, no host transfer) is one :class:`Segment`,
a single ``v10, v11 = seg0(v3, v4)`` call of the generated replay. A segment captures its kernel
calls once into a CUDA graph (CuPy's stream capture, on a stream of its own) and from then on
launches that graph on the current stream, one launch instead of a Python call per kernel. The
rest of the program (bindings, value checks, optimizer host scalars, random kernels, effects,
the return) runs as in the plain replay, in order, between the launches.

A CUDA graph reads and writes the addresses it was captured with, so each segment keeps its
buffers:

* **Inputs.** The first call of a segment runs its kernels one by one (which also compiles the
  CuPy kernels and sets up cuBLAS, work that must not happen inside a stream capture) and keeps
  its inputs; the second captures and launches. An input that is the same buffer at both calls
  (a parameter's, an optimizer state tensor's: the optimizer updates them in place; an output of
  an earlier segment) is read where it is. Any other (the batch, a random mask, a gradient handed
  out) is copied at each call into a buffer of the same layout that the graph reads, and copied
  back after the launch when the graph writes into it. When a buffer read in place is not the
  one passed at a later call (``load_state_dict`` into rebound parameters ...), that call runs
  the kernels one by one and the next captures again, at most :data:`MAX_CAPTURES` times.
* **Outputs.** What the graph computes lives in memory of the segment's own CuPy memory pool,
  written again by every launch; what the rest of the replay reads of it is handed out as it is.
  What leaves the replay (a gradient set on ``.grad``, an optimizer state set, the returned value:
  anything an effect or the return reads, directly or through kernels run outside segments) is
  copied into a fresh buffer at each call, so a tensor the caller keeps is never overwritten by a
  later call.
* **Memory.** Each capture allocates from a memory pool of its own (CuPy's default pool may
  release cached blocks when it runs out; a graph's blocks must not be released or handed to
  anything else). Its intermediates are freed back to that pool during the capture and reused by
  later kernels of the same capture, as eager execution reuses memory; a segment's memory stays
  reserved while the compiled function lives.

A capture that fails (a kernel that waits for the device or reads device values on the host,
which stream capture forbids) leaves that segment running its kernels one by one, with the reason
in ``explain()``. Results are the plain replay's: the same kernels with the same arguments on
buffers of the same layouts. A returned tensor or a gradient does not share memory with an input
where eager execution would have returned a view of one (it is a copy). Two threads replaying one
graph at once would share its buffers: the second runs the plain replay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ember.compile.graph import (
    Effect,
    Graph,
    Node,
    Return,
    Slot,
    defines,
    in_place,
    is_dynamic,
    last_use,
    reads,
)

__all__ = [
    "HOST_KERNELS",
    "MAX_CAPTURES",
    "MIN_NODES",
    "GraphReplay",
    "Segment",
    "SegmentPlan",
    "capturable",
    "compile_graph",
    "plan_segments",
    "run_nodes",
]

#: the fewest consecutive kernel calls worth a CUDA graph (a launch costs about as much host time
#: as a few CuPy kernel calls, and each input is copied at every call)
MIN_NODES = 4
#: how often a segment captures again after a parameter's buffer moved before running eagerly
MAX_CAPTURES = 4
#: kernels that move data between host and device or read device values on the host (stream
#: capture forbids synchronous transfers): never inside a segment
HOST_KERNELS = frozenset({"from_numpy", "to_numpy", "nonzero"})


@dataclass(frozen=True)
class SegmentPlan:
    """One run of kernel calls, ``graph.items[start:stop]``, and the slots it exchanges with the
    rest of the replay: ``inputs`` (read, defined before it), ``outputs`` (defined in it, read
    after it) and ``escaping`` (outputs that leave the replay: copied at each call)."""

    start: int
    stop: int
    nodes: tuple[Node, ...]
    inputs: tuple[Slot, ...]
    outputs: tuple[Slot, ...]
    escaping: frozenset[Slot]


def capturable(item: Any) -> bool:
    """Whether ``item`` may be part of a segment: a kernel call whose arguments are the same on
    every replay and that neither transfers data to or from the host nor reads device values."""
    return isinstance(item, Node) and not is_dynamic(item) and item.name not in HOST_KERNELS


def plan_segments(graph: Graph, min_nodes: int = MIN_NODES) -> list[SegmentPlan]:
    """The segments of ``graph`` (see the module docstring): pure analysis, no device work."""
    items = graph.items
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(items):
        if not capturable(items[i]):
            i += 1
            continue
        j = i
        while j < len(items) and capturable(items[j]):
            j += 1
        if j - i >= min_nodes:
            runs.append((i, j))
        i = j
    if not runs:
        return []
    last = last_use(items)
    in_run = [False] * len(items)
    for a, b in runs:
        in_run[a:b] = [True] * (b - a)
    escaping = _escaping(items, in_run)
    plans = []
    for a, b in runs:
        defined: set[Slot] = set()
        read: set[Slot] = set()
        for item in items[a:b]:
            read |= reads(item) - defined
            defined |= defines(item)
        inputs = tuple(sorted(read, key=lambda s: s.n))
        outputs = tuple(sorted((s for s in defined if last[s] >= b), key=lambda s: s.n))
        plans.append(
            SegmentPlan(
                a,
                b,
                tuple(items[a:b]),
                inputs,
                outputs,
                frozenset(s for s in outputs if s in escaping),
            )
        )
    return plans


def _escaping(items: list[Any], in_run: list[bool]) -> set[Slot]:
    """The slots whose buffers leave the replay: read by an effect or the return, or read by a
    kernel call outside the segments whose output leaves (such a call may return a view of its
    input, so its inputs are taken to leave with it)."""
    out: set[Slot] = set()
    for k in range(len(items) - 1, -1, -1):
        item = items[k]
        outside = isinstance(item, Node) and not in_run[k] and not in_place(item)
        if isinstance(item, (Effect, Return)) or (outside and not out.isdisjoint(defines(item))):
            out |= reads(item)
    return out


def _resolve(v: Any, env: dict[Slot, Any]) -> Any:
    """A kernel argument with its slots replaced by buffers."""
    t = type(v)
    if t is Slot:
        return env[v]
    if t is tuple:
        return tuple(_resolve(x, env) for x in v)
    if t is list:
        return [_resolve(x, env) for x in v]
    if t is dict:
        return {k: _resolve(x, env) for k, x in v.items()}
    return v


def _assign(outs: Any, value: Any, env: dict[Slot, Any]) -> None:
    if type(outs) is Slot:
        env[outs] = value
    elif outs is not None:
        for o, x in zip(outs, value, strict=True):
            _assign(o, x, env)


def run_nodes(nodes: tuple[Node, ...], env: dict[Slot, Any]) -> None:
    """Call ``nodes`` in order on the buffers of ``env`` (slot -> buffer), adding their outputs:
    what the plain replay does for them."""
    for node in nodes:
        args = _resolve(node.args, env)
        kwargs = _resolve(node.kwargs, env) if node.kwargs else {}
        _assign(node.outs, node.fn(*args, **kwargs), env)


class Segment:
    """One run of kernel calls as a CUDA graph (see the module docstring): called with its input
    buffers, returns its output buffers (a tuple, in ``plan.outputs`` order). ``cp`` is the CuPy
    module (None: the kernels run one by one); ``devices`` the number of GPUs; ``static`` maps
    ``id`` to the output buffers of the replay's captured segments (kept by those segments: an
    input among them is read where it is); ``changed`` is called when the segment starts running
    its kernels one by one."""

    def __init__(
        self,
        plan: SegmentPlan,
        cp: Any,
        devices: int,
        stats: dict[str, int],
        static: dict[int, Any],
        changed: Callable[[], None],
    ) -> None:
        self.plan = plan
        self.cp = cp
        self.devices = devices
        self.stats = stats
        self.static = static
        self.changed = changed
        self.graph: Any = None
        #: why the segment runs its kernels one by one (None while it may use a graph)
        self.eager_reason: str | None = None if cp is not None else "CuPy is not loaded"
        self.captures = 0
        self._escaping: list[bool] = []  # per output: copied into a fresh buffer at each call
        self._seen: tuple[Any, ...] | None = None  # the previous call's inputs, before a capture
        self._steady: list[bool] = []  # per input: the graph reads it where it is
        self._bound: list[Any] = []  # per input: the buffer the graph reads
        self._back: list[int] = []  # copied inputs the graph writes into: copied back after a launch
        self._outs: tuple[Any, ...] = ()
        self._device: Any = None  # the GPU of the capture (with several GPUs)
        self._keep: list[Any] = []  # the capture's memory pool and stream

    def eager(self, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
        """The segment's kernels called one by one (the plain replay's work)."""
        env = dict(zip(self.plan.inputs, inputs, strict=True))
        run_nodes(self.plan.nodes, env)
        return tuple(env[s] for s in self.plan.outputs)

    def _give_up(self, reason: str, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
        self.eager_reason = reason
        self.stats["eager_segments"] += 1
        self._release()
        self._seen = None
        self.changed()
        return self.eager(inputs)

    def __call__(self, *inputs: Any) -> tuple[Any, ...]:
        if self.eager_reason is not None:
            return self.eager(inputs)
        if self.graph is None or any(
            steady and x is not b for steady, x, b in zip(self._steady, inputs, self._bound, strict=True)
        ):
            if self._seen is None:
                # the first call, or a buffer the graph read in place moved: run eagerly and see
                # which inputs the next call passes again (those the graph will read in place)
                self._release()
                self._seen = inputs
                return self.eager(inputs)
            if self.captures >= MAX_CAPTURES:
                return self._give_up(f"inputs kept moving ({self.captures} captures)", inputs)
            try:
                self._capture(inputs)
            except Exception as exc:  # noqa: BLE001 - a kernel stream capture forbids: run eagerly
                return self._give_up(f"the capture failed: {type(exc).__name__}: {exc}", inputs)
        if self._device is None:
            return self._launch(inputs)
        with self._device:
            return self._launch(inputs)

    def _launch(self, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
        copyto, stats = self.cp.copyto, self.stats
        for steady, x, b in zip(self._steady, inputs, self._bound, strict=True):
            if not steady:
                copyto(b, x)
                stats["input_copies"] += 1
        self.graph.launch()
        stats["launches"] += 1
        for i in self._back:
            copyto(inputs[i], self._bound[i])
        outs = self._outs
        if not self.plan.escaping:
            return outs
        stats["output_copies"] += len(self.plan.escaping)
        return tuple(o.copy(order="K") if esc else o for o, esc in zip(outs, self._escaping, strict=True))

    def _capture(self, inputs: tuple[Any, ...]) -> None:
        """Capture the kernels into a CUDA graph that reads the inputs the previous call passed
        too where they are, and copies of the others (buffers of the same layouts, from the
        capture's own memory pool)."""
        cp = self.cp
        seen = self._seen or ()
        self._release()
        self._seen = None
        ndarray = cp.ndarray
        steady = [
            x is y or id(x) in self.static or type(x) is not ndarray
            for x, y in zip(inputs, seen, strict=True)
        ]
        device = None
        if self.devices > 1:
            ids = {x.device.id for x in inputs if type(x) is ndarray}
            if len(ids) > 1:
                raise ValueError(f"inputs on several GPUs {sorted(ids)}")
            device = cp.cuda.Device(ids.pop() if ids else cp.cuda.runtime.getDevice())
            device.__enter__()
        try:
            pool = cp.cuda.MemoryPool()
            stream = cp.cuda.Stream(non_blocking=True)
            with cp.cuda.using_allocator(pool.malloc):
                bound = [x if s else _same_layout(cp, x) for s, x in zip(steady, inputs, strict=True)]
                env = dict(zip(self.plan.inputs, bound, strict=True))
                with stream:
                    stream.begin_capture()
                    try:
                        run_nodes(self.plan.nodes, env)
                    finally:
                        graph = stream.end_capture()  # raises when the capture was invalidated
        finally:
            if device is not None:
                device.__exit__(None, None, None)
        copied = [(i, _span(b)) for i, b in enumerate(bound) if not steady[i]]
        written = [
            _span(env[n.args[0]]) for n in self.plan.nodes if in_place(n) and isinstance(n.args[0], Slot)
        ]
        self._back = [i for i, span in copied if any(_overlap(span, w) for w in written)]
        self.captures += 1
        self.stats["captures"] += 1
        self.graph, self._steady, self._bound, self._device = graph, steady, bound, device
        self._outs = tuple(env[s] for s in self.plan.outputs)
        self._escaping = [
            s in self.plan.escaping and type(o) is ndarray for s, o in zip(self.plan.outputs, self._outs)
        ]
        self.static.update((id(o), o) for o in self._outs)
        self._keep = [pool, stream]

    def _release(self) -> None:
        if self.graph is not None:
            # a launch may still be running on the memory about to go back to the device
            if self._device is None:
                self.cp.cuda.get_current_stream().synchronize()
            else:
                with self._device:
                    self.cp.cuda.get_current_stream().synchronize()
        for o in self._outs:
            self.static.pop(id(o), None)
        self.graph, self._steady, self._bound, self._back, self._outs, self._keep = None, [], [], [], (), []
        self._device = None


def _byte_extent(x: Any) -> tuple[int, int]:
    """The byte offsets, from ``x``'s data pointer, of its lowest and highest elements' starts."""
    lo = sum(s * (n - 1) for s, n in zip(x.strides, x.shape, strict=True) if s < 0 and n > 0)
    hi = sum(s * (n - 1) for s, n in zip(x.strides, x.shape, strict=True) if s > 0 and n > 0)
    return lo, hi


def _span(x: Any) -> tuple[int, int]:
    """The device address range ``x``'s elements occupy: [first byte, last byte + 1)."""
    ptr = x.data.ptr
    if not x.size:
        return ptr, ptr
    lo, hi = _byte_extent(x)
    return ptr + lo, ptr + hi + x.itemsize


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _same_layout(cp: Any, x: Any) -> Any:
    """An uninitialised array with ``x``'s shape, dtype and strides (its own memory)."""
    if x.flags.c_contiguous:
        return cp.empty(x.shape, dtype=x.dtype)
    lo, hi = _byte_extent(x)
    base = cp.empty((hi - lo) // x.itemsize + 1, dtype=x.dtype)
    return cp.ndarray(x.shape, dtype=x.dtype, memptr=base.data + (-lo), strides=x.strides)


class GraphReplay:
    """The replay :func:`compile_graph` returns (see the module docstring)."""

    def __init__(self, graph: Graph, cp: Any, devices: int = 1) -> None:
        self.graph = graph
        self.cp = cp
        self.devices = devices
        self.plain = graph.build()
        self.plans = plan_segments(graph)
        #: segments, CUDA graph captures and launches, per-call copies of inputs and of outputs
        #: that leave the replay, segments running their kernels one by one
        self.stats = dict.fromkeys(("segments", "captures", "launches", "input_copies", "output_copies"), 0)
        self.stats["eager_segments"] = 0
        self.segments: list[Segment] = []
        self.fast: Callable[..., Any] | None = None
        self._lock = threading.Lock()
        self._static: dict[int, Any] = {}  # id -> output buffer of a captured segment

    def __call__(self, L: list[Any], P: list[Any], O: list[Any]) -> Any:
        if not self._lock.acquire(blocking=False):
            return self.plain(L, P, O)  # another thread is replaying with the graphs' buffers
        try:
            if self.fast is None:
                # built at the first call (explain() then shows the rewritten replay)
                self.fast = self._rewrite() if self.plans else self.plain
            return self.fast(L, P, O)
        finally:
            self._lock.release()

    def _rewrite(self) -> Callable[..., Any]:
        items: list[Any] = []
        k = 0
        for plan in self.plans:
            items += self.graph.items[k : plan.start]
            seg = Segment(plan, self.cp, self.devices, self.stats, self._static, self._explain)
            self.stats["eager_segments"] += seg.eager_reason is not None
            self.segments.append(seg)
            outs = plan.outputs or None
            items.append(Node(f"cuda_graph{len(self.segments) - 1}", "cuda", seg, plan.inputs, {}, outs))
            k = plan.stop
        items += self.graph.items[k:]
        self.stats["segments"] = len(self.segments)
        self._rewritten = Graph(self.graph.name, items, self.graph.guards)
        fast = self._rewritten.build()
        self._explain()
        return fast

    def _explain(self) -> None:
        # explain() shows the segments and the replay that runs them
        self.graph.source = f"{self.describe()}\n{self._rewritten.source}"

    def describe(self) -> str:
        """What the replay became: its segments (kernel calls, inputs, outputs) and the reasons of
        those that run their kernels one by one."""
        calls = sum(len(p.nodes) for p in self.plans)
        lines = [
            f"# cuda graphs: {len(self.segments)} segments of {calls} kernel calls (of {len(self.graph.nodes)})"
        ]
        for i, seg in enumerate(self.segments):
            p = seg.plan
            what = f"eager ({seg.eager_reason})" if seg.eager_reason else "a CUDA graph"
            lines.append(
                f"#   cuda_graph{i}: {len(p.nodes)} kernel calls; inputs: {len(p.inputs)}, outputs: "
                f"{len(p.outputs)} (copied out: {len(p.escaping)}): {what}"
            )
        return "\n".join(lines)


def compile_graph(graph: Graph, cp: Any, devices: int = 1) -> GraphReplay:
    """The cuda backend's ``Backend.compile_graph`` hook: the graph with its runs of kernel calls
    as CUDA graphs (``cp``: the CuPy module; ``devices``: how many GPUs there are)."""
    return GraphReplay(graph, cp, devices)
