"""The timing wrappers a profile installs, and removes when it ends.

Nothing here runs while no profile is active: instead of a check on every op, an active profile
puts wrappers where the calls already go and takes them away afterwards, so an op's path with no
profile is exactly the path without this module.

* Kernels: every entry of every loaded device type's kernel dict (the dict ``device.kernels`` is,
  shared by the device type's devices and its :class:`ember.dispatch.KernelTable`) is replaced,
  in place, by a timing wrapper; a device type first loaded while the profile runs is wrapped as
  it loads (the registry's ``load`` is wrapped for the duration). Kernels that run through the
  cpu fallback are wrapped where core asks for them (``resolve_missing``).
* Ops: the public callables of the op records (and the public functions their ``covers`` name),
  where users and ``nn`` reach them (the ``ember``, ``ember.ops`` and ``ember.nn.functional``
  namespaces), and Tensor's methods the records declare (methods, in-place variants, and of
  Tensor's own methods ``backward`` and those that read values on the host, such as ``item``).
  Calls between op functions inside one ops module are direct and stay unwrapped: their kernels
  count toward the public op that was called, as a composite's kernels should. So does a
  function captured before the profile started (``nn.ReLU`` keeps the ``relu`` it was built with).

* Device time (a profile with ``ProfilerActivity.DEVICE``): every loaded backend that has the
  optional methods ``profiler_device_trace(enabled)`` and ``profiler_device_events(index)`` (see
  :class:`ember.backend.Backend`) is asked to keep its devices' timestamps while the profile runs,
  and hands them over when a cycle's results are taken. Each becomes a ``device`` event on its
  device's own track, whose parent is the innermost host event of the enqueuing thread that was
  open when the command was enqueued (the kernel, or the labelled range, that launched it).

Each thread keeps its own stack of open calls (ops, kernels, :class:`record_function` ranges), so
events nest per thread and threads do not see each other's ops. On exit every wrapper is replaced
by what it wrapped, unless something else has replaced it meanwhile (a kernel override registered
during the profile keeps its place).
"""

from __future__ import annotations

import bisect
import functools
import inspect
import os
import sys
import threading
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

from ..tensor import Tensor
from .events import FunctionEvent

__all__ = ["Recorder", "activate", "deactivate", "active"]

_ACTIVE: Recorder | None = None
_LOCK = threading.Lock()
#: the track (Chrome trace ``tid``) of a device's events: this plus the device's order of appearance
DEVICE_TRACK = 1 << 30
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def active() -> Recorder | None:
    """The recorder of the active profile, or None."""
    return _ACTIVE


class _Frame:
    """One open (then finished) call on a thread's stack."""

    __slots__ = (
        "name",
        "kind",
        "kernel",
        "tid",
        "parent",
        "t0",
        "t1",
        "child_ns",
        "ran",
        "own",
        "device",
        "source",
        "plugin",
        "shapes",
        "dtypes",
        "mem",
        "stack",
        "args",
    )

    def __init__(self, name: str, kind: str, kernel: str | None, tid: int, parent: _Frame | None) -> None:
        self.name = name
        self.kind = kind
        self.kernel = kernel  # for an op: the kernel its record names (the op is native when it ran)
        self.tid = tid
        self.parent = parent
        self.t0 = self.t1 = 0
        self.child_ns = 0
        self.ran = False  # a kernel or op ran inside it
        self.own: tuple[str, str] | None = None  # (source, plugin) of its own kernel, once it ran
        self.device = ""
        self.source = ""
        self.plugin = ""
        self.shapes: list[Any] | None = None
        self.dtypes: list[str] | None = None
        self.mem: int | None = None
        self.stack: tuple[str, ...] = ()
        self.args: dict[str, Any] | None = None


class Recorder:
    """The state of one active profile: options, finished frames, per-thread stacks, and what to
    restore when it ends."""

    def __init__(
        self, record_shapes: bool, profile_memory: bool, with_stack: bool, device: bool = False
    ) -> None:
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.device = device  # ask backends for device time (ProfilerActivity.DEVICE)
        self.device_reported = False  # some backend reported device time
        self._device_backends: list[Any] = []
        self._device_rows: list[tuple[str, tuple]] = []  # (device, row) not yet taken
        self._device_tracks: dict[str, int] = {}
        self.recording = False
        self.frames: list[_Frame] = []
        self.start_ns = perf_counter_ns()
        self.thread = threading.get_ident()
        self._local = threading.local()
        self._restore: list[Callable[[], None]] = []
        self._wrapped_tables: set[int] = set()
        self._op_wrappers: dict[Any, Callable[..., Any]] = {}

    # -- per-thread stacks -------------------------------------------------------------------------
    def _thread_stack(self) -> tuple[list[_Frame], int]:
        loc = self._local
        try:
            return loc.stack, loc.tid
        except AttributeError:
            loc.stack, loc.tid = [], threading.get_native_id()
            return loc.stack, loc.tid

    def push(self, name: str, kind: str, kernel: str | None = None) -> _Frame:
        """Open a call on this thread's stack (its start time is set by the caller, last)."""
        stack, tid = self._thread_stack()
        f = _Frame(name, kind, kernel, tid, stack[-1] if stack else None)
        stack.append(f)
        return f

    def pop(self, f: _Frame) -> None:
        """Close ``f``: its end time, its share of its parent's time, and keep it."""
        f.t1 = perf_counter_ns()
        stack, _ = self._thread_stack()
        if stack and stack[-1] is f:
            stack.pop()
        elif f in stack:  # pragma: no cover - only if a wrapped call escaped its own finally
            stack.remove(f)
        p = f.parent
        if p is not None:
            p.child_ns += f.t1 - f.t0
            p.ran = True
        self.frames.append(f)

    def take(self) -> list[_Frame]:
        """The finished frames so far, with the device events the backends reported meanwhile;
        the recorder starts a new list."""
        self.collect_device()
        frames, self.frames = self.frames, []
        rows, self._device_rows = self._device_rows, []
        if rows:
            frames += self._device_frames(frames, rows)
        return frames

    # -- device time --------------------------------------------------------------------------------
    def trace_device(self, backend: Any) -> None:
        """Ask ``backend`` to keep device timestamps until the profile ends (if it can)."""
        start = getattr(backend, "profiler_device_trace", None)
        if start is None or getattr(backend, "profiler_device_events", None) is None:
            return
        if any(b is backend for b in self._device_backends):
            return
        start(True)
        self._device_backends.append(backend)
        self._restore.append(lambda: start(False))

    def collect_device(self) -> None:
        """Take the device events every traced backend kept so far (they wait for their devices)."""
        for backend in self._device_backends:
            for index in range(backend.device_count()):
                device = f"{backend.device_type}:{index}"
                rows = backend.profiler_device_events(index)
                if rows:
                    self.device_reported = True
                    self._device_rows.extend((device, tuple(row)) for row in rows)

    def _device_frames(self, frames: list[_Frame], rows: list[tuple[str, tuple]]) -> list[_Frame]:
        """Device events as frames on their device's track, each under the innermost host frame
        of its thread open when it was enqueued (rows without a thread and time have none)."""
        by_thread: dict[int, list[_Frame]] = {}
        for f in frames:
            by_thread.setdefault(f.tid, []).append(f)
        starts: dict[int, list[int]] = {}
        for tid, fs in by_thread.items():
            fs.sort(key=lambda f: f.t0)
            starts[tid] = [f.t0 for f in fs]
        out = []
        for device, row in rows:
            name, t0, t1 = row[0], int(row[1]), int(row[2])
            parent = None
            if len(row) >= 5 and row[3] in by_thread:
                fs, enq = by_thread[row[3]], row[4]
                i = bisect.bisect_right(starts[row[3]], enq) - 1
                parent = fs[i] if i >= 0 else None
                while parent is not None and not parent.t0 <= enq <= parent.t1:
                    parent = parent.parent  # (frames nest: an open ancestor contains the enqueue)
            track = self._device_tracks.setdefault(device, DEVICE_TRACK + len(self._device_tracks))
            f = _Frame(str(name), "device", None, track, parent)
            f.t0, f.t1 = t0, t1
            f.device = device
            out.append(f)
        return out

    # -- installing and removing wrappers ------------------------------------------------------------
    def install(self) -> None:
        """Put the timing wrappers in place (see the module docstring)."""
        from .. import dispatch as _dispatch
        from ..device import _cache as devices
        from ..registry import get_registry

        registry = get_registry()
        for backend in [rec.backend for rec in registry.records.values() if rec.backend is not None]:
            self.wrap_table(backend.kernel_table)
        for dev in list(devices.values()):
            self.wrap_table(dev.backend.kernel_table)
        if self.device:
            for backend in [rec.backend for rec in registry.records.values() if rec.backend is not None]:
                self.trace_device(backend)
        self._wrap_registry_load(registry)
        self._wrap_fallback(_dispatch)
        self._wrap_ops()

    def uninstall(self) -> None:
        """Put back everything :meth:`install` replaced (newest first)."""
        while self._restore:
            self._restore.pop()()

    def wrap_table(self, table: Any) -> None:
        """Replace every kernel of ``table`` (a :class:`ember.dispatch.KernelTable`) in place by a
        timing wrapper, once."""
        d = table.kernels
        if id(d) in self._wrapped_tables:
            return
        self._wrapped_tables.add(id(d))
        swapped: dict[str, tuple[Any, Any]] = {}
        for name, k in list(d.items()):
            plugin = table.sources.get(name, ("", 0))[0]
            w = _kernel_wrapper(self, k, name, table.device_type, "native", plugin)
            d[name] = w
            swapped[name] = (k, w)

        def restore() -> None:
            for name, (k, w) in swapped.items():
                if d.get(name) is w:
                    d[name] = k
            self._wrapped_tables.discard(id(d))

        self._restore.append(restore)

    def _wrap_registry_load(self, reg: Any) -> None:
        original = reg.load

        def load(device_type: str) -> Any:
            backend = original(device_type)
            self.wrap_table(backend.kernel_table)
            if self.device:
                self.trace_device(backend)
            return backend

        reg.load = load
        self._restore.append(lambda: reg.__dict__.pop("load") if reg.__dict__.get("load") is load else None)

    def _wrap_fallback(self, dispatch: Any) -> None:
        original = dispatch.resolve_missing

        def resolve_missing(op: str, device: Any) -> Any:
            k = original(op, device)  # raises KernelNotFoundError when there is no fallback
            source = dispatch.kernel_source(op, "cpu")
            return _kernel_wrapper(self, k, op, device.type, "fallback", source[0] if source else "cpu")

        for name, mod in list(sys.modules.items()):
            if (name == "ember" or name.startswith("ember.")) and mod is not None:
                if getattr(mod, "resolve_missing", None) is original:
                    self._set_attr(mod, "resolve_missing", resolve_missing)

    def _wrap_ops(self) -> None:
        import ember
        import ember.nn.functional
        import ember.ops

        from ..ops.records import RECORDS

        namespaces = {"": (ember, ember.ops), "nn.functional": (ember.nn.functional,)}
        # callable -> (event name, kernel): each public record's function, then the public functions
        # its ``covers`` names (nn.functional.linear is a thin function over linear's record)
        public: dict[Any, tuple[str, str | None]] = {}
        for rec in RECORDS.values():
            if rec.public and _hashable(rec.fn):
                public.setdefault(rec.fn, (rec.name, rec.kernel))
        for rec in RECORDS.values():
            for cover in rec.covers:
                prefix, _, attr = cover.rpartition(".")
                for mod in namespaces.get(prefix, ()):
                    fn = vars(mod).get(attr)
                    if inspect.isfunction(fn):
                        public.setdefault(fn, (cover, rec.kernel))
        for mods in namespaces.values():
            for mod in mods:
                for attr, val in list(vars(mod).items()):
                    named = public.get(val) if _hashable(val) else None
                    if named is not None:
                        self._set_attr(mod, attr, self._op_wrapper(val, *named))
        seen: set[str] = set()
        for rec in RECORDS.values():
            named = [(m, _method_event_name(rec, m, False)) for m in rec.methods]
            named += [(m, _method_event_name(rec, m, True)) for m in rec.inplace]
            if rec.name.startswith("Tensor.") and (rec.reads_values or rec.name == "Tensor.backward"):
                # Tensor's own methods: the host reads (where a queued backend's time shows) and
                # the backward pass; the metadata queries (size, numel, ...) are no work to time
                named += [(c[7:], c) for c in rec.covers if c.startswith("Tensor.")]
            for mname, event_name in named:
                original = Tensor.__dict__.get(mname)
                if mname in seen or not inspect.isfunction(original):
                    continue  # properties and slots (Tensor.T, Tensor.grad) are not calls to time
                seen.add(mname)
                self._set_attr(Tensor, mname, self._op_wrapper(original, event_name, rec.kernel))

    def _op_wrapper(self, fn: Callable[..., Any], name: str, kernel: str | None) -> Callable[..., Any]:
        key = (fn, name)
        w = self._op_wrappers.get(key)
        if w is None:
            w = self._op_wrappers[key] = _op_wrapper(self, fn, name, kernel)
        return w

    def _set_attr(self, obj: Any, attr: str, value: Any) -> None:
        original = obj.__dict__[attr]
        setattr(obj, attr, value)

        def restore() -> None:
            if obj.__dict__.get(attr) is value:
                setattr(obj, attr, original)

        self._restore.append(restore)

    # -- results -------------------------------------------------------------------------------------
    def events(self, frames: list[_Frame]) -> list[FunctionEvent]:
        """``frames`` as events, ordered by start time, with ids, parents, depths and sources."""
        depth: dict[int, int] = {}
        present = {id(f) for f in frames}

        def depth_of(f: _Frame) -> int:
            d = depth.get(id(f))
            if d is None:
                p = f.parent
                d = 0 if p is None or id(p) not in present else depth_of(p) + 1
                depth[id(f)] = d
            return d

        order = sorted(frames, key=lambda f: (f.t0, depth_of(f)))
        ids = {id(f): i for i, f in enumerate(order)}
        device_ns: dict[int, int] = {}  # frame -> device time of the device events under it
        for f in frames:
            if f.kind == "device":
                ns = f.t1 - f.t0
                a: _Frame | None = f
                while a is not None:
                    device_ns[id(a)] = device_ns.get(id(a), 0) + ns
                    a = a.parent
        out: list[FunctionEvent] = []
        for f in order:
            p = f.parent if f.parent is not None and id(f.parent) in ids else None
            device, source, plugin = f.device, f.source, f.plugin
            parent_device = out[ids[id(p)]].device if p is not None else ""
            if f.kind == "op":
                if f.own is not None:
                    source, plugin = f.own
                else:
                    source, plugin = ("composite" if f.ran else "none"), ""
            elif f.kind == "kernel" and parent_device.partition(":")[0] == device:
                device = parent_device  # the kernel's device type with the index of its caller's device
            out.append(
                FunctionEvent(
                    id=ids[id(f)],
                    name=f.name,
                    kind=f.kind,
                    start_ns=f.t0,
                    end_ns=f.t1,
                    thread=f.tid,
                    parent=ids[id(p)] if p is not None else None,
                    depth=depth_of(f),
                    device=device,
                    source=source,
                    plugin=plugin,
                    self_ns=0 if f.kind == "device" else f.t1 - f.t0 - f.child_ns,
                    device_ns=device_ns.get(id(f), 0),
                    input_shapes=f.shapes,
                    input_dtypes=f.dtypes,
                    memory_bytes=f.mem,
                    stack=f.stack,
                    args=dict(f.args or {}),
                )
            )
        return out


def activate(recorder: Recorder) -> None:
    """Make ``recorder`` the active profile and install its wrappers; one profile at a time."""
    global _ACTIVE
    with _LOCK:
        if _ACTIVE is not None:
            raise RuntimeError(
                "ember.profiler.profile: another profile is already active (profiles do not nest); "
                "record both parts in one profile, or label the inner part with "
                "ember.profiler.record_function(name)"
            )
        try:
            recorder.install()
        except BaseException:
            recorder.uninstall()
            raise
        recorder.start_ns = perf_counter_ns()  # the trace's time zero: after the wrappers are in place
        _ACTIVE = recorder


def deactivate(recorder: Recorder) -> None:
    """Remove ``recorder``'s wrappers; it is no longer the active profile."""
    global _ACTIVE
    with _LOCK:
        recorder.recording = False
        try:
            recorder.collect_device()  # before the backends stop keeping timestamps
        finally:
            recorder.uninstall()
            recorder._device_backends.clear()
        if _ACTIVE is recorder:
            _ACTIVE = None


# -- the wrappers -----------------------------------------------------------------------------------
def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _method_event_name(rec: Any, method: str, inplace: bool) -> str:
    """The event name of a Tensor method: the record's name (``x + y`` is ``add``, ``x += y`` is
    ``add_``, as PyTorch's ``aten::add_``), an in-place method's own name (``exp_``)."""
    if method.startswith("__"):
        base = rec.name if rec.public else method.strip("_")
        return base + "_" if inplace else base
    if inplace:
        return method
    return rec.name if rec.public else method


def _describe(values: Any) -> tuple[list[Any], list[str]]:
    """PyTorch's ``input_shapes`` and ``input_dtypes`` of a call's arguments."""
    shapes: list[Any] = []
    dtypes: list[str] = []
    for a in values:
        if isinstance(a, Tensor):
            shapes.append(list(a.shape))
            dtypes.append(a.dtype.name)
        elif isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
            shapes.append([list(x.shape) for x in a])
            dtypes.append("TensorList")
        elif isinstance(a, (bool, int, float, complex)):
            shapes.append([])
            dtypes.append("Scalar")
        else:
            shapes.append([])
            dtypes.append("")
    return shapes, dtypes


def _describe_buffers(args: tuple[Any, ...]) -> tuple[list[Any], list[str]]:
    """Shapes and dtypes of a kernel's arguments (backend-native buffers have ``shape``/``dtype``)."""
    shapes: list[Any] = []
    dtypes: list[str] = []
    for a in args:
        shape = getattr(a, "shape", None)
        if isinstance(shape, tuple):
            shapes.append(list(shape))
            dtypes.append(str(getattr(a, "dtype", "")))
        elif isinstance(a, (bool, int, float, complex)):
            shapes.append([])
            dtypes.append("Scalar")
        else:
            shapes.append([])
            dtypes.append("")
    return shapes, dtypes


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Tensor)]
    return []


def _device_of(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> str:
    for a in (*args, *kwargs.values()):
        ts = _tensors(a)
        if ts:
            return str(ts[0].device)
    ts = _tensors(out)
    return str(ts[0].device) if ts else ""


def _new_bytes(args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> int:
    """Bytes of the tensors ``out`` holds that are new memory: not views, not an input's buffer."""
    inputs = {id(t._data) for a in (*args, *kwargs.values()) for t in _tensors(a)}
    return sum(
        t.numel() * t.dtype.itemsize for t in _tensors(out) if t._base is None and id(t._data) not in inputs
    )


def _user_stack() -> tuple[str, ...]:
    """The caller's Python frames outside Ember, innermost first."""
    frames = []
    f = sys._getframe(2)
    while f is not None and len(frames) < 16:
        path = f.f_code.co_filename
        if not path.startswith(_EMBER_DIR):
            frames.append(f"{path}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return tuple(frames)


def _op_wrapper(r: Recorder, fn: Callable[..., Any], name: str, kernel: str | None) -> Callable[..., Any]:
    def op(*args: Any, **kwargs: Any) -> Any:
        if not r.recording:
            return fn(*args, **kwargs)
        f = r.push(name, "op", kernel)
        if r.record_shapes:
            f.shapes, f.dtypes = _describe((*args, *(v for v in kwargs.values() if isinstance(v, Tensor))))
        if r.with_stack:
            f.stack = _user_stack()
        out = None
        f.t0 = perf_counter_ns()
        try:
            out = fn(*args, **kwargs)
            return out
        finally:
            r.pop(f)
            f.device = _device_of(args, kwargs, out)
            if r.profile_memory:
                f.mem = _new_bytes(args, kwargs, out)

    functools.update_wrapper(op, fn)
    return op


def _kernel_wrapper(
    r: Recorder, k: Callable[..., Any], name: str, device_type: str, source: str, plugin: str
) -> Callable[..., Any]:
    def kernel(*args: Any, **kwargs: Any) -> Any:
        if not r.recording:
            return k(*args, **kwargs)
        f = r.push(name, "kernel")
        f.device, f.source, f.plugin = device_type, source, plugin
        if r.record_shapes:
            f.shapes, f.dtypes = _describe_buffers(args)
        f.t0 = perf_counter_ns()
        try:
            return k(*args, **kwargs)
        finally:
            r.pop(f)
            p = f.parent
            if p is not None and p.kind == "op" and p.kernel == name and p.own is None:
                p.own = (source, plugin)

    functools.update_wrapper(kernel, k)
    return kernel


def begin_range(r: Recorder, name: str, args: dict[str, Any] | None) -> _Frame:
    """Open a :class:`ember.profiler.record_function` range on this thread."""
    f = r.push(name, "user")
    f.args = args
    if r.with_stack:
        f.stack = _user_stack()
    f.t0 = perf_counter_ns()
    return f
