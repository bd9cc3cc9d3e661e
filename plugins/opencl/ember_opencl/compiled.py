"""``OpenCLBackend.compile_graph``: an ``ember.compile`` graph replayed as prebuilt launch lists.

The plain replay of a captured graph calls every kernel function again on each call: Python per
op (the kernel's plan lookup, argument packing, ``set_args``), a pool allocation per output, and
the lazy fusion layer's bookkeeping. Here the first call of the compiled function runs the graph
once while recording every command the device gets (a *trace*), and every later call enqueues
the recorded commands again:

* **Launch lists.** Each recorded kernel launch gets a kernel object of its own with its
  arguments set once; a replay is ``enqueue_nd_range_kernel`` back to back under one take of the
  device lock, with no wait (the host waits only where it reads: a value check, ``.item()``).
* **Fusion over the whole step.** The trace runs with the fusion layer in mode ``always``, so
  every elementwise chain the fusion layer can fuse (contiguous float32/float64 operands of one
  shape, and the row reduction consuming one) is one kernel from the first replay on, without
  waiting for the structure to become hot. The fused kernels compute the ops of the eager ones,
  in the same order per element: results equal the plain replay's bitwise.
* **Bias adds in the matmul's epilogue.** A float32/float64 matmul whose result only a bias add
  reads, the add launched right after the product (``x @ w.T + b``, a convolution's product
  plus its (1, C, 1, 1) bias), becomes one launch of the matmul kernel that adds the bias to
  each finished element, per row or per column, read at any stride (the element offsets are
  checked once, at tracing), and writes the add's result: one pass over the output less, and no
  buffer for the product. The epilogue's add is the add kernel's IEEE add, so results stay
  bitwise equal (:mod:`ember_opencl.epilogues`).
* **In-place updates computed where they land.** ``copy_(dst, src)`` whose ``src`` is a pending
  chain that nothing reads afterwards (an optimizer's update of a parameter or of its state:
  core computes an in-place op out of place, then copies it back) runs as the chain's fused
  kernel writing ``dst`` itself (:meth:`~ember_opencl._fusion.Fusion.materialize_into`): one
  launch and one pass over the memory less per update, when ``dst`` is a whole contiguous
  buffer and the chain reads ``dst``'s memory, if at all, at the elements it writes (pending
  values read later are computed first, as the copy would have). The same kernel, so the same
  bits.
* **A memory plan.** While tracing, the device's pool is replaced by a planning pool: the buffer
  of a value that died in the step is reused for a later value of the same size class, as the
  pool would, and every buffer the step used stays with the compiled function afterwards. A
  replay allocates nothing but the buffers that outlive the step (new gradients, the returned
  loss, buffers the user holds afterwards): those are fresh each call, so a tensor kept from an
  earlier step never changes.

What changes from call to call is patched into the prebuilt launches (``Kernel.set_arg`` of the
positions concerned only): the buffers of the function's inputs (a new batch, parameters
rebound by the step), the fresh buffers of values that outlive the step, and the outputs of
*dynamic* kernel calls. A call is dynamic when it takes a value computed on each replay (an
optimizer's host scalars, a random kernel's seed and counter): it runs through its kernel
function on every replay, between the launch lists. Value checks (index bounds ...), the
optimizer's ``_host_scalars``, effects and the result are the plain replay's Python, unchanged.

A call whose inputs are laid out differently from the traced call's (another offset into its
buffer, two inputs now sharing a buffer) runs the plain replay. A graph with an optimizer step
that runs eagerly, or whose trace met a command it cannot replay (a host read outside a value
check), keeps the plain replay.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from ember.compile.graph import (
    Bind,
    Check,
    Eager,
    Effect,
    Graph,
    Node,
    Reserve,
    Return,
    Slot,
    defines,
    is_dynamic,
    last_use,
    reads,
)

from ._array import Allocation, CLArray, _bucket
from ._device import _enqueue_copy, _enqueue_fill_buffer, _enqueue_nd
from .epilogues import BiasEpilogues

__all__ = ["CompiledReplay", "compile_graph"]


def compile_graph(backend: Any, graph: Graph) -> Callable[..., Any] | None:
    """The replay of ``graph`` through launch lists (see the module docstring), or None (the
    plain replay) for a graph holding an eager optimizer step."""
    if any(isinstance(i, Eager) for i in graph.items) or not graph.nodes:
        return None
    return CompiledReplay(backend, graph)


class _Unreplayable(Exception):
    """The trace met something a launch list cannot replay."""


class _Mismatch(Exception):
    """This call's inputs are laid out unlike the traced call's: run the plain replay."""


def _extend(into: list[Slot], slots: set[Slot]) -> None:
    """Append the slots not yet in ``into``, in slot order (the order the plan allocates in)."""
    into.extend(sorted(slots - set(into), key=lambda s: s.n))


def _arrays(v: Any) -> list[Any]:
    out: list[Any] = []
    if type(v) is CLArray:
        out.append(v)
    elif isinstance(v, (tuple, list)):
        for x in v:
            out += _arrays(x)
    return out


class _Returned(deque):
    """The planning pool's returned-buffer queue: once the plan is made, buffers that outlived
    the trace (held by the user) go back to the device's pool when they die."""

    forward: Any = None

    def append(self, item: Any) -> None:
        if self.forward is not None:
            self.forward.append(item)
        else:
            super().append(item)


class _PlanAllocation(Allocation):
    """An allocation of the planning pool: ``pid`` numbers the value it holds in the step."""

    __slots__ = ("pid",)


class _PlanPool:
    """The device's pool while a trace runs (the tracing thread only): buffers come from the real
    pool once and are reused by size class within the step; each allocation is a new ``pid``."""

    def __init__(self, real: Any, thread: int) -> None:
        self.real = real
        self.thread = thread
        self._returned = _Returned()
        self.free: dict[int, list[tuple[Any, Any]]] = {}
        self.pair_of: dict[int, tuple[tuple[Any, Any], int]] = {}  # id(buf) -> (pair, size)
        self.owner: dict[int, int] = {}  # id(buf) -> the pid now holding it
        self.pid_buf: dict[int, int] = {}  # pid -> id(buf)
        self.pids = 0
        self.given_back = False  # (see _give_back)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def allocate(self, nbytes: int) -> Allocation:
        """A buffer for a new value of the step (a freed one of its size class when there is one)."""
        if threading.get_ident() != self.thread:
            return self.real.allocate(nbytes)
        while self._returned:
            pair, size = self._returned.popleft()
            self.free.setdefault(size, []).append(pair)
        size = _bucket(nbytes)
        lst = self.free.get(size)
        if lst:
            pair = lst.pop()
        else:
            a = self.real.allocate(nbytes)
            a.pool = None  # the plan owns the buffer now
            pair, size = (a.buf, a.host), a.size
            self.pair_of[id(a.buf)] = (pair, size)
        self.pids += 1
        self.owner[id(pair[0])] = self.pids
        self.pid_buf[self.pids] = id(pair[0])
        out = _PlanAllocation(pair[0], pair[1], size, self)
        out.pid = self.pids
        return out


class _Segment:
    """The launch list between two Python-level items of the replay. Called with the arrays whose
    buffers change per call (``ins``: their keys), it patches those, enqueues its commands and
    returns arrays over the planned buffers for the values Python reads next (``outs``)."""

    def __init__(self, plan: CompiledReplay, ops: list, ins: list, outs: list, enter: bool) -> None:
        self.plan = plan
        self.ops = ops
        self.ins = ins  # (key, offset) per argument
        self.outs = outs  # (key, layout, dtype) per returned array
        self.enter = enter

    def __call__(self, *arrays: Any) -> Any:
        plan = self.plan
        cur = plan.cur
        if self.enter:
            plan.enter(self.ins, arrays)
        else:
            for (key, _off), a in zip(self.ins, arrays):
                al = a.alloc
                if cur.get(key) is not al:
                    plan.rename(key, al)
        dev = plan.dev
        if self.ops:
            lock = dev.lock
            lock.acquire()
            try:
                queue = dev.queue
                trace = dev.trace
                evt = None
                for kind, a, b, c, d in self.ops:
                    if kind == 0:
                        evt = _enqueue_nd(queue, a, b, c)
                        if trace is not None:
                            trace.append((a, evt, perf_counter_ns(), threading.get_native_id()))
                    elif kind == 1:
                        evt = _enqueue_fill_buffer(queue, cur[a].buf, b, c, d, None)
                    else:
                        evt = _enqueue_copy(queue, cur[a].buf, b, is_blocking=False)
                dev.last = evt
            finally:
                lock.release()
        if not self.outs:
            return None
        return tuple([CLArray(cur[key], layout, dtype, dev) for key, layout, dtype in self.outs])


class CompiledReplay:
    """The compiled replay of one graph on one OpenCL device (see the module docstring): the
    first call traces, later calls run the launch lists; ``fast`` is None until traced or when
    the graph keeps the plain replay (``why`` says why)."""

    def __init__(self, backend: Any, graph: Graph) -> None:
        self.backend = backend
        self.graph = graph
        self.plain = graph.build()
        self.plain_source = graph.source
        self.fast: Callable[..., Any] | None = None
        self.traced = False
        self.why = ""
        self.dev: Any = None
        self.cur: dict[Any, Any] = {}  # key -> the Allocation a key's launches use now
        self.positions: dict[Any, list[tuple[Any, int]]] = {}  # key -> (kernel, argument index)
        self.fresh: list[tuple[Any, int]] = []  # (key, bytes) of values outliving the step
        self.keep: list[Any] = []
        self.stats = {"fast": 0, "plain": 0, "launches": 0, "epilogues": 0, "consumed_copies": 0}
        self.busy = threading.Lock()

    def __call__(self, L: list[Any], P: list[Any], O: list[Any]) -> Any:
        fast = self.fast
        busy = self.busy
        # the launch lists' kernel objects are patched per call: one call at a time runs them (a
        # call from another thread meanwhile runs the plain replay)
        if fast is not None and busy.acquire(blocking=False):
            try:
                out = fast(L, P, O)
            except _Mismatch:
                self.stats["plain"] += 1
                return self.plain(L, P, O)
            finally:
                busy.release()
            self.stats["fast"] += 1
            return out
        if self.traced or not busy.acquire(blocking=False):
            self.stats["plain"] += 1
            return self.plain(L, P, O)
        try:
            self.traced = True
            try:
                return self._trace(L, P, O)
            finally:
                self._explain()
        finally:
            busy.release()

    def _explain(self) -> None:
        """Put what the trace became at the head of the graph's source (``fn.explain()``)."""
        if self.fast is None:
            head = f"# opencl: the plain replay ({self.why or 'the trace did not finish'})"
            self.graph.source = f"{head}\n{self.plain_source}"
            return
        st = self.stats
        head = (
            f"# opencl launch lists: {st['launches']} commands a replay, {st['epilogues']} bias adds in "
            f"matmul epilogues, {st['consumed_copies']} copies computed into their destination"
        )
        self.graph.source = f"{head}\n{self.rgraph.source}"

    # -- per call ------------------------------------------------------------------------------------
    def enter(self, ins: list, arrays: tuple) -> None:
        """Patch the inputs' buffers in and give the values that outlive the step fresh buffers;
        raise _Mismatch (nothing enqueued yet) when the inputs are laid out unlike the trace's."""
        seen: dict[Any, Any] = {}
        bufs: dict[int, Any] = {}
        for (key, off), a in zip(ins, arrays):
            al = a.alloc
            if a.layout.offset != off:
                raise _Mismatch
            prev = seen.get(key)
            if prev is None:
                other = bufs.get(id(al.buf))
                if other is not None and other != key:
                    raise _Mismatch  # two inputs share a buffer now, not when traced
                seen[key] = al
                bufs[id(al.buf)] = key
            elif prev.buf is not al.buf:
                raise _Mismatch  # inputs that shared a buffer when traced do not now
        cur = self.cur
        for key, al in seen.items():
            if cur.get(key) is not al:
                self.rename(key, al)
        allocate = self.dev.pool.allocate
        for key, nbytes in self.fresh:
            self.rename(key, allocate(nbytes))

    def rename(self, key: Any, al: Any) -> None:
        """Make every launch argument of ``key`` read ``al``'s buffer."""
        self.cur[key] = al
        buf = al.buf
        for knl, i in self.positions.get(key, ()):
            knl.set_arg(i, buf)

    # -- the trace -----------------------------------------------------------------------------------
    def _trace(self, L: list[Any], P: list[Any], O: list[Any]) -> Any:
        """Run the graph once, recording every command, and build the launch-list replay."""
        items = self.graph.items
        binds = [i.slot for i in items if isinstance(i, Bind)]
        first = next((k for k, i in enumerate(items) if not isinstance(i, (Bind, Reserve))), len(items))
        if any(isinstance(i, Bind) for i in items[first:]):
            self.why = "bindings after the start"
            return self.plain(L, P, O)
        # python-level items and what they read; dynamic nodes' outputs
        needed: list[Slot] = []
        escape: list[Slot] = []  # read by an effect or the result: outlives the step
        dyn_nodes: set[int] = set()
        for k, item in enumerate(items):
            if isinstance(item, Node):
                if not is_dynamic(item):
                    continue  # in a launch list
                dyn_nodes.add(k)
            _extend(needed, reads(item))
            if isinstance(item, (Effect, Return)):
                _extend(escape, reads(item))
        static_out: set[Slot] = set()
        for k, item in enumerate(items):
            if isinstance(item, Node) and k not in dyn_nodes:
                static_out |= defines(item)
        needed_static = [s for s in needed if s in static_out]
        rec = _Recorder(self, set(needed_static))
        rec.last_use = last_use(items)
        for t in (*L, *P):
            if type(t._data) is CLArray:
                rec.dev = t._data.dev
                break
        else:
            devices = self.backend._devices
            rec.dev = devices[0].open() if len(devices) == 1 else None
        dev = rec.dev
        if dev is None:
            self.why = "no OpenCL array among the inputs"
            return self.plain(L, P, O)
        # the tracing graph: each item as in the plain replay, wrapped to record
        titems: list[Any] = [i for i in items[:first] if isinstance(i, Bind)]
        titems.append(Node("trace.binds", "opencl", rec.note_binds, tuple(binds), {}, None))
        titems += [i for i in items[:first] if isinstance(i, Reserve)]
        for k, item in enumerate(items[first:], first):
            if isinstance(item, Node):
                wrap = rec.dynamic if k in dyn_nodes else rec.static
                titems.append(
                    Node(item.name, item.device_type, wrap(k, item), item.args, item.kwargs, item.outs)
                )
            elif isinstance(item, Check):
                titems.append(Check(rec.check(k, item.fn), item.args, item.where))
            elif isinstance(item, (Effect, Return)):
                titems.append(Node("trace.effect", "opencl", rec.python_item(k), (), {}, None))
                titems.append(item)
            else:
                titems.append(item)
        tgraph = Graph(self.graph.name, titems, [])
        replay = tgraph.build()
        fusion = self.backend._fusion
        mode = fusion.mode
        rec.install()
        try:
            if mode == "auto":
                fusion.mode = "always"  # fuse every chain from the first replay on
            result = replay(L, P, O)
        except BaseException:
            self.traced = False  # (a value check failed ...): the next call traces again
            _give_back(rec.pool)
            raise
        finally:
            fusion.mode = mode
            rec.uninstall()
        try:
            self._plan(rec, items, binds, first, dyn_nodes, [s for s in escape if s in static_out])
        except _Unreplayable as exc:
            self.why = str(exc)
            _give_back(rec.pool)
        return result

    def _plan(
        self, rec: _Recorder, items: list, binds: list, first: int, dyn_nodes: set, escape: list
    ) -> None:
        """Turn the recording into launch lists, a memory plan and the replay graph."""
        if rec.failure:
            raise _Unreplayable(rec.failure)
        pool = rec.pool
        real = pool.real
        self.dev = rec.dev
        while pool._returned:
            pair, size = pool._returned.popleft()
            pool.free.setdefault(size, []).append(pair)
        free_ids = {id(pair[0]) for lst in pool.free.values() for pair in lst}
        # from now on buffers of the trace that the user holds return to the device's pool
        pool._returned.forward = real._returned
        slot_info = rec.slot_info  # slot -> (key, layout, dtype)
        dyn_keys = rec.dyn_keys
        escaping: dict[Any, int] = {}
        for s in escape:
            key = slot_info[s][0]
            if key[0] == "pid" and key not in dyn_keys:
                escaping.setdefault(key, pool.pair_of[pool.pid_buf[key[1]]][1])
        # buffers for the planned values: each traced buffer, or a replacement for one the user
        # holds after the trace (a value that outlived the step sat in it)
        planned: dict[int, Allocation] = {}

        def planned_for(bid: int) -> Allocation:
            al = planned.get(bid)
            if al is None:
                pair, size = pool.pair_of[bid]
                if bid in free_ids:
                    al = Allocation(pair[0], pair[1], size, real)
                else:
                    al = real.allocate(size)
                planned[bid] = al
            return al

        cur = self.cur
        for key, al in rec.ext.items():
            cur[key] = al
        for pid in range(1, pool.pids + 1):
            key = ("pid", pid)
            if key not in escaping and key not in dyn_keys:
                cur[key] = planned_for(pool.pid_buf[pid])
        for key in list(escaping) + list(dyn_keys):
            # (patched before any launch reads it: at the start of a call, after the dynamic call)
            cur[key] = _Held(pool.pair_of[pool.pid_buf[key[1]]][0][0])
        self.fresh = list(escaping.items())
        self.stats["epilogues"] = rec.epilogues.fuse()
        self.stats["consumed_copies"] = rec.consumed
        # the launch lists: a kernel object per launch, its arguments set once
        segments: list[list] = []
        for seg in rec.segments:
            ops = []
            for op in seg:
                if op[0] == "launch":
                    _, k2, args, keys, gsize, lsize = op
                    for i, key in keys:
                        k2.set_arg(i, cur[key].buf)
                        self.positions.setdefault(key, []).append((k2, i))
                    self.keep.append(args)
                    ops.append((0, k2, gsize, lsize, None))
                elif op[0] == "fill":
                    _, key, pattern, offset, nbytes = op
                    ops.append((1, key, pattern, offset, nbytes))
                else:
                    _, key, host = op
                    ops.append((2, key, host, None, None))
                self.stats["launches"] += 1
            segments.append(ops)
        # the replay graph: the plain one with each run of static calls one segment call (the
        # first one, at the start, patches the inputs in); segment j + 1 follows the j-th item
        # where the trace split (a dynamic call, a value check, an effect, the result)
        out_items: list[Any] = [i for i in items[:first] if isinstance(i, Bind)]
        starts = sorted(rec.boundaries)
        if len(segments) != len(starts) + 1:
            raise _Unreplayable(f"{len(segments)} launch lists for {len(starts)} splits")

        def emit(j: int, ins: list[tuple[Slot, Any, int]], enter: bool = False) -> None:
            outs = sorted((s for s in rec.static_done[j] if s in slot_info), key=lambda s: s.n)
            if not (enter or segments[j] or ins or outs):
                return
            seg = _Segment(
                self, segments[j], [(key, off) for _s, key, off in ins], [slot_info[s] for s in outs], enter
            )
            name = f"opencl.launch_list{j}"
            out_items.append(
                Node(name, "opencl", seg, tuple(s for s, _k, _o in ins), {}, tuple(outs) or None)
            )

        host_checks = _host_checks_possible(self.dev)
        emit(0, [(s, *rec.bind_keys[s]) for s in binds], enter=True)
        out_items += [i for i in items[:first] if isinstance(i, Reserve)]
        j = 0
        for k, item in enumerate(items[first:], first):
            if isinstance(item, Node) and k not in dyn_nodes:
                continue  # in a launch list
            if isinstance(item, Check) and host_checks:
                item = Check(_HostCheck(item.fn, self.dev), item.args, item.where)
            out_items.append(item)
            if k in rec.boundaries:
                j += 1
                emit(j, rec.dyn_outs.get(k, []))
        self.rgraph = Graph(self.graph.name, out_items, self.graph.guards)
        self.fast = self.rgraph.build()


class _Recorder:
    """Records a trace: the commands of the static kernel calls in segments split at every
    Python-level item, the buffer (key) of each value Python reads, the inputs' buffers."""

    def __init__(self, plan: CompiledReplay, needed: set[Slot]) -> None:
        self.plan = plan
        self.needed = needed
        self.thread = threading.get_ident()
        self.dev: Any = None
        self.pool: Any = None
        self.recording = False
        self.failure = ""
        self.segments: list[list] = [[]]
        self.boundaries: set[int] = set()  # item indices that start a new segment
        self.static_done: dict[int, set[Slot]] = {0: set()}  # segment -> static slots defined in it
        self.slot_info: dict[Slot, tuple[Any, Any, Any]] = {}
        self.held: dict[Slot, Any] = {}  # needed static values, until they are materialised
        self.ext: dict[Any, Any] = {}  # ("ext", id(buf)) -> Allocation
        self.bind_keys: dict[Slot, tuple[Any, int]] = {}
        self.dyn_keys: set[Any] = set()
        self.dyn_outs: dict[int, list[tuple[Slot, Any, int]]] = {}
        self._saved: dict[str, Any] = {}
        self.epilogues = BiasEpilogues(self)  # bias adds that may run in a matmul's launch
        # copies consumed at the source (see static): the item index of each slot's last use, and
        # per traced array the slots it was stored under
        self.last_use: dict[Slot, int] = {}
        self.holders: dict[int, tuple[Any, list[Slot]]] = {}
        self.consumed = 0

    # -- installing ----------------------------------------------------------------------------------
    def install(self) -> None:
        dev = self.dev.open()
        self.pool = _PlanPool(dev.pool, self.thread)
        for name in ("launch", "fill", "upload", "read"):
            self._saved[name] = getattr(dev, name)
        dev.launch = self._launch
        dev.fill = self._fill
        dev.upload = self._upload
        dev.read = self._read

    def uninstall(self) -> None:
        dev = self.dev
        for name in self._saved:
            dev.__dict__.pop(name, None)
        if dev.pool is self.pool:
            dev.pool = self.pool.real

    # -- commands --------------------------------------------------------------------------------------
    def _key(self, buf: Any) -> Any:
        pid = self.pool.owner.get(id(buf))
        if pid is not None and id(buf) in self.pool.pair_of:
            return ("pid", pid)
        key = ("ext", id(buf))
        if key not in self.ext:
            self.ext[key] = _Held(buf)
        return key

    def _ours(self) -> bool:
        return self.recording and threading.get_ident() == self.thread

    def _launch(self, knl: Any, args: Any, gsize: Any, lsize: Any) -> None:
        if not self._ours():
            self._saved["launch"](knl, args, gsize, lsize)
            return
        import pyopencl as cl

        with self.dev.lock:
            self._saved["launch"](knl, args, gsize, lsize)
            clone = knl.clone()  # a kernel object of its own, with the arguments just set
        keys = [(i, self._key(a)) for i, a in enumerate(args) if isinstance(a, cl.Buffer)]
        if knl.function_name == "k_mmf":
            self.epilogues.mmf_kernels[id(clone)] = knl
        self.segments[-1].append(("launch", clone, list(args), keys, gsize, lsize))

    def _fill(self, buf: Any, pattern: Any, offset: int, nbytes: int) -> None:
        self._saved["fill"](buf, pattern, offset, nbytes)
        if self._ours():
            self.segments[-1].append(("fill", self._key(buf), pattern.copy(), offset, nbytes))

    def _upload(self, buf: Any, host: Any) -> Any:
        evt = self._saved["upload"](buf, host)
        if self._ours():
            self.segments[-1].append(("upload", self._key(buf), host.copy()))
        return evt

    def _read(self, *args: Any) -> Any:
        if self._ours():
            self.failure = "a host read outside a value check"
        return self._saved["read"](*args)

    # -- the tracing graph's wrappers ------------------------------------------------------------------
    def note_binds(self, *arrays: Any) -> None:
        """The inputs: computed now (outside the launch lists), their buffers are keys."""
        binds = [i.slot for i in self.plan.graph.items if isinstance(i, Bind)]
        for s, a in zip(binds, arrays):
            al = a.alloc
            key = ("ext", id(al.buf))
            self.ext.setdefault(key, al)
            self.bind_keys[s] = (key, a.layout.offset)
        # pending values from before the call are computed now, not into the launch lists
        self.dev.fusion.flush(self.dev)
        self.dev.pool = self.pool
        self.recording = True

    def _boundary(self, k: int) -> None:
        """Materialise every pending value (its launches belong to the segment ending here) and
        note the values Python reads; start a new segment at item ``k``."""
        dev = self.dev
        dev.fusion.flush(dev)
        for s, a in list(self.held.items()):
            al = a.alloc
            self.slot_info[s] = (self._key(al.buf), a.layout, a.dtype)
        self.held.clear()
        self.boundaries.add(k)
        self.segments.append([])
        self.static_done[len(self.segments) - 1] = set()

    def _store(self, outs: Any, result: Any, seg: int) -> None:
        if isinstance(outs, Slot):
            if type(result) is CLArray:
                held = self.holders.get(id(result))
                if held is None or held[0]() is not result:
                    self.holders[id(result)] = held = (weakref.ref(result), [])
                held[1].append(outs)
            self.static_done[seg].add(outs)
            if outs in self.needed and type(result) is CLArray:
                self.held[outs] = result
            elif outs in self.needed:
                self.failure = f"a needed value {outs!r} is a {type(result).__name__}"
        elif isinstance(outs, tuple) and isinstance(result, (tuple, list)):
            for o, r in zip(outs, result):
                self._store(o, r, seg)

    def static(self, k: int, node: Node) -> Callable[..., Any]:
        fn = node.fn
        name = node.name
        if name == "copy_" and len(node.args) == 2 and isinstance(node.args[1], Slot) and not node.kwargs:
            return self._consuming_copy(k, fn)

        def call(*args: Any, **kwargs: Any) -> Any:
            n0 = len(self.segments[-1])
            out = fn(*args, **kwargs)
            if name == "matmul":
                self.epilogues.note_matmul(out)
            elif name == "add" and self.epilogues.mm_out:
                self.epilogues.note_bias_add(n0, args, out)
            self._store(node.outs, out, len(self.segments) - 1)
            return out

        return call

    def _consuming_copy(self, k: int, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``copy_(dst, src)`` where ``src`` is a pending (not yet computed) chain that nothing
        reads after this item (an optimizer's in-place update, computed out of place then copied
        back): the chain's fused kernel writes ``dst`` itself (:meth:`Fusion.materialize_into`),
        one launch and one pass over the memory less; else the copy."""

        def call(dst: Any, src: Any) -> None:
            if type(src) is CLArray and type(dst) is CLArray and src._alloc is None:
                held = self.holders.get(id(src))
                slots = held[1] if held is not None and held[0]() is src else []
                if slots and all(self.last_use.get(s, k) <= k and s not in self.needed for s in slots):
                    # pending values read later are computed first (they may read dst's old
                    # values); what is left pending belongs to src's expression alone
                    fusion = self.dev.fusion
                    for ref, held_slots in list(self.holders.values()):
                        a = ref()
                        pending = a is not None and a is not src and a._alloc is None
                        if pending and any(self.last_use.get(s, -1) > k for s in held_slots):
                            fusion.materialize(a)
                    if fusion.materialize_into(src, dst):
                        self.consumed += 1
                        return None
            return fn(dst, src)

        return call

    def dynamic(self, k: int, node: Node) -> Callable[..., Any]:
        fn = node.fn

        def call(*args: Any, **kwargs: Any) -> Any:
            self._boundary(k)
            self.recording = False
            before = self.pool.pids
            try:
                out = fn(*args, **kwargs)
                found: list[tuple[Slot, Any, int]] = []
                outs = node.outs
                pairs = [(outs, out)] if isinstance(outs, Slot) else list(zip(outs or (), out or ()))
                for s, a in pairs:
                    if isinstance(s, Slot) and type(a) is CLArray:
                        al = a.alloc
                        key = self._key(al.buf)
                        if key[0] == "pid" and key[1] > before:
                            self.dyn_keys.add(key)
                            found.append((s, key, a.layout.offset))
                        self.slot_info[s] = (key, a.layout, a.dtype)
                if found:
                    self.dyn_outs[k] = found
            finally:
                self.recording = True
            return out

        return call

    def check(self, k: int, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            self._boundary(k)
            self.recording = False
            try:
                return fn(*args)
            finally:
                self.recording = True

        return call

    def python_item(self, k: int) -> Callable[[], None]:
        def call() -> None:
            self._boundary(k)

        return call


def _give_back(pool: _PlanPool) -> None:
    """Return a planning pool's buffers to the device's pool (a trace that made no plan): the free
    ones now, the ones still held when they die."""
    real = pool.real
    if pool.given_back:
        return
    pool.given_back = True
    while pool._returned:
        real._returned.append(pool._returned.popleft())
    for size, lst in pool.free.items():
        for pair in lst:
            real._returned.append((pair, size))
    pool.free.clear()
    pool._returned.forward = real._returned


def _host_checks_possible(dev: Any) -> bool:
    """Whether value checks can read ``dev``'s buffers in place on the host (a host-backed pool, see
    :class:`~ember_opencl._array.MemoryPool`) through cpu tensors."""
    if not dev.pool.host_backed:
        return False
    try:
        import ember

        ember.device("cpu")
    except Exception:  # noqa: BLE001 - no cpu backend: the checks run on the device
        return False
    return True


class _HostCheck:
    """A value check of core run on cpu tensors that view the device's host-backed memory, after
    one wait for the queue: the same values, read in place, instead of a reduction and a readback
    on the device for each value the check reads (each one draining the queue). When it raises,
    the check runs again on the device tensors, whose error (or none) is the one raised."""

    def __init__(self, fn: Callable[..., Any], dev: Any) -> None:
        self.fn = fn
        self.dev = dev

    def __call__(self, *args: Any) -> Any:
        import ember
        import numpy as np
        from ember.tensor import Tensor, _make

        from ._device import wait

        dev = self.dev
        evt = dev.last
        if evt is not None:
            wait(evt)
            dev.forget(evt)
        try:
            cpu = ember.device("cpu")
        except Exception:  # noqa: BLE001 - the cpu backend went away: check on the device
            return self.fn(*args)
        host_args = []
        for a in args:
            if isinstance(a, Tensor) and type(a._data) is CLArray and a._data.dev is dev:
                x = a._data
                lay = x.layout
                if min(lay.strides, default=0) < 0:
                    return self.fn(*args)  # (a flipped view: read on the device)
                item = x.dtype.itemsize
                flat = x.alloc.host.view(x.dtype.numpy)[lay.offset :]
                view = np.lib.stride_tricks.as_strided(
                    flat, lay.shape, [st * item for st in lay.strides], writeable=False
                )
                a = _make(view, a.shape, a.dtype, cpu)
            host_args.append(a)
        try:
            return self.fn(*host_args)
        except Exception:  # noqa: BLE001
            # the check itself decides: a failing value raises the same error on the device, a
            # failure of the host path alone (the cpu backend's) passes there
            return self.fn(*args)


class _Held:
    """An external buffer met in a launch that is not an input (a constant): kept alive."""

    __slots__ = ("buf",)

    def __init__(self, buf: Any) -> None:
        self.buf = buf
