"""Capture: run a function eagerly once while every kernel call is recorded into a :class:`Graph`.

Nothing here costs eager execution anything: while a capture runs, the entries of every loaded
kernel dict (the dict ``device.kernels`` is) are swapped in place for recording wrappers (as the
profiler does), ``Generator._reserve`` is wrapped to learn which generator each random kernel
draws from, and each optimizer found in the function's state gets its ``step`` wrapped (and its
``_host_scalars``, whose returned floats become :class:`HostArg` kernel arguments that a replay
recomputes); all of it is put back when the run ends. Only the capturing thread is recorded; one
capture runs at a time.

What makes a run uncapturable (the signature then runs eagerly, after one warning): a host read
(``to_numpy``: ``.item()``, ``bool(t)``, ``.tolist()``, printing) other than core's value checks,
an op whose output shape depends on values (``nonzero``), an optimizer step taking a closure, a
device type first loaded during the run, a returned tensor that still requires grad (no backward
ran inside the function).
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .graph import (
    Bind,
    Check,
    Eager,
    Effect,
    HostArg,
    HostCall,
    Node,
    RandomArg,
    Reserve,
    ResultTensor,
    Return,
    Slot,
    TensorRef,
)

__all__ = ["Capture", "Uncapturable", "CAPTURE_LOCK"]

#: one capture at a time (kernel dicts are process-wide)
CAPTURE_LOCK = threading.Lock()

#: kernels that return host metadata derived from the layout only: not recorded
_LAYOUT_QUERIES = frozenset({"strides", "is_contiguous"})

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TESTING_DIR = os.path.join(_EMBER_DIR, "testing")


class Uncapturable(Exception):
    """Why a run cannot be replayed: ``reason`` and ``where`` (the user's source line)."""

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(f"{reason} (at {where})")
        self.reason = reason
        self.where = where


def _value_checks() -> dict[Any, Any]:
    """Core's value checks (code object -> function): they read values only to raise an error on
    bad ones, so a replay runs them again instead of refusing the capture."""
    from ..nn.functional.losses import _check_targets
    from ..nn.functional.sparse import _check_embedding_indices
    from ..ops.gather_scatter import _check_in_bounds, _check_index
    from ..ops.random import _values_in

    checks = (_check_index, _check_in_bounds, _check_targets, _values_in, _check_embedding_indices)
    return {f.__code__: f for f in checks}


def _is_user_frame(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not path.startswith(_EMBER_DIR + os.sep) or path.startswith(_TESTING_DIR + os.sep)


def user_site(skip: int = 1) -> tuple[str, str]:
    """(op, "file:line: code") of the innermost user frame on the stack and the ember function it
    called (the op)."""
    import linecache

    f = sys._getframe(skip)
    op = "?"
    while f is not None:
        if _is_user_frame(f.f_code.co_filename):
            line = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
            return op, f"{f.f_code.co_filename}:{f.f_lineno}: {line}"
        if f.f_code.co_name != "<lambda>":
            op = f.f_code.co_name
        f = f.f_back
    return op, "?"


class _Snapshot:
    """Every location's tensor at one point: key -> (expr, tensor or None, its _data, version)."""

    def __init__(self, state: Any) -> None:
        self.entries: dict[tuple[Any, ...], tuple[str, Any, Any, int]] = {}
        for key, expr, t in state.locations():
            self.entries[key] = (expr, t, None if t is None else t._data, 0 if t is None else t._version[0])


class _StrongRef:
    """A reference with weakref's call interface that keeps its object alive."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __call__(self) -> Any:
        return self.obj


class Capture:
    """One recording run (see the module docstring). ``state`` is the function's
    :class:`~ember.compile.function.State` at the start of the call."""

    def __init__(self, name: str, state: Any) -> None:
        self.name = name
        self.state = state
        self.thread = threading.get_ident()
        self.depth = 0
        self.items: list[Any] = []
        # id(buffer) -> (a reference to the buffer, Slot): weak where the buffer type allows, so the
        # capture run holds no more memory than an eager run (a strong one held every intermediate
        # of a training step at once: 1.1 GB against 0.4 GB for the character Transformer's); a dead
        # buffer cannot be an argument again, and the identity test tells a new one at its id apart
        self.src: dict[int, tuple[Callable[[], Any], Any]] = {}
        self.keep: list[Any] = []  # what must stay alive until the capture ends (ids stay unique)
        self.slots = 0
        self.reserves: dict[int, Reserve] = {}  # id(generator) -> this segment's Reserve
        self.segment_start = 0
        self.pending_draws: list[tuple[Any, int, int]] = []  # (generator, seed, first counter)
        self.failure: Uncapturable | None = None
        self.in_step = False
        self.checks_open: set[int] = set()
        self._restore: list[Any] = []
        self._tables: set[int] = set()
        self._checks = _value_checks()
        self.reserve_count = 0
        self.step_reads = 0
        self.backward_ran = False
        self.local_generators: set[int] = set()  # generators made during the run
        self.poisoned: dict[int, Any] = {}  # buffers an eager optimizer step made (not replayed)
        self.host_calls = 0
        self.host_scalars: dict[int, tuple[float, HostArg]] = {}  # id(float) -> (it, its HostArg)

    # -- slots and buffers -------------------------------------------------------------------------
    def new_slot(self) -> Slot:
        self.slots += 1
        return Slot(self.slots)

    def register(self, buf: Any, slot: Slot) -> None:
        try:
            ref = weakref.ref(buf)
        except TypeError:  # a buffer type without weak references: kept alive instead
            self.keep.append(buf)
            ref = _StrongRef(buf)
        self.src[id(buf)] = (ref, slot)

    def lookup(self, buf: Any) -> Slot | None:
        hit = self.src.get(id(buf))
        if hit is not None and hit[0]() is buf:
            return hit[1]
        return None

    def arg(self, v: Any) -> Any:
        """``v`` with known buffers replaced by their slots (tuples, lists, dicts walked)."""
        t = type(v)
        if t is float and self.host_scalars:
            hit = self.host_scalars.get(id(v))
            return hit[1] if hit is not None and hit[0] is v else v
        if v is None or t is int or t is float or t is bool or t is str:
            return v
        if t is tuple or t is list:
            out = [self.arg(x) for x in v]
            return tuple(out) if t is tuple else out
        if t is dict:
            return {k: self.arg(x) for k, x in v.items()}
        s = self.lookup(v)
        if s is None and id(v) in self.poisoned and self.poisoned[id(v)] is v:
            self.fail("{op} reads a value the eager optimizer step made", 5)
        return v if s is None else s

    def outputs(self, out: Any) -> Any:
        t = type(out)
        if out is None or t in (int, float, bool, str):
            return None
        if t is tuple or t is list:
            return tuple(self.outputs(x) for x in out)
        s = self.new_slot()
        self.register(out, s)
        return s

    def bind_locations(self) -> None:
        """A slot for every location's current buffer (read at this point of the replay)."""
        for _key, expr, t in self.state.locations():
            if t is not None:
                s = self.new_slot()
                self.items.append(Bind(s, f"{expr}._data"))
                self.register(t._data, s)

    # -- recording ---------------------------------------------------------------------------------
    def fail(self, reason: str, skip: int = 2) -> None:
        if self.failure is None:
            op, where = user_site(skip)
            self.failure = Uncapturable(reason.format(op=op), where)

    def kernel_called(self, name: str, device_type: str, k: Any, args: tuple, kwargs: dict, out: Any) -> None:
        if name in _LAYOUT_QUERIES:
            return
        if name == "to_numpy":
            self._host_read()
            return
        if name == "nonzero":
            self.fail("{op} has an output shape that depends on the values (nonzero)", 4)
        rargs = self.arg(args)
        if name in ("uniform", "normal") and len(args) >= 5:
            rargs = self._random_args(name, args, rargs)
        node = Node(name, device_type, k, rargs, self.arg(kwargs), self.outputs(out))
        self.items.append(node)

    def _random_args(self, name: str, args: tuple, rargs: tuple) -> tuple:
        seed, off = args[3], args[4]
        for i, (gen, s, o) in enumerate(self.pending_draws):
            if s == seed and o == off:
                del self.pending_draws[i]
                r = self.reserves[id(gen)]
                return (*rargs[:3], RandomArg(r, None), RandomArg(r, off - r.base), *rargs[5:])
        return rargs  # a generator made inside the function: the same counters every call

    def reserved(self, gen: Any, n: int, seed: int, off: int, after: int) -> None:
        if id(gen) in self.local_generators:
            return  # made inside the function: its draws are the same on every call (constants)
        r = self.reserves.get(id(gen))
        if r is None:
            self.reserve_count += 1
            r = self.reserves[id(gen)] = Reserve(gen, 0, self.reserve_count, off)
            self.items.insert(self.segment_start, r)
        elif off != r.base + r.total:
            self.fail("{op}: the generator was drawn from outside the compiled function meanwhile", 4)
        r.total = after - r.base
        self.pending_draws.append((gen, seed, off))

    def _host_read(self) -> None:
        f = sys._getframe(3)
        check = None
        while f is not None:
            fn = self._checks.get(f.f_code)
            if fn is not None:
                check = (f, fn)
            if _is_user_frame(f.f_code.co_filename):
                break
            f = f.f_back
        if check is None:
            if self.in_step:
                self.step_reads += 1
                return
            self.fail(
                "{op} reads tensor values on the host (move .item(), printing and bool(tensor) out of "
                "the compiled function)",
                5,
            )
            return
        frame, fn = check
        if id(frame) in self.checks_open:
            return
        self.checks_open.add(id(frame))
        self.keep.append(frame)
        code = fn.__code__
        args = tuple(self.check_arg(frame.f_locals[n]) for n in code.co_varnames[: code.co_argcount])
        self.items.append(Check(fn, args, f"{fn.__module__}.{fn.__name__}"))

    def check_arg(self, v: Any) -> Any:
        """A value check's argument: a Tensor becomes a :class:`TensorRef` over its buffer's slot."""
        from ..tensor import Tensor

        if isinstance(v, Tensor):
            return TensorRef(self.slot_of(v._data), v.shape, v.dtype, v.device)
        return self.arg(v)

    # -- optimizer steps -----------------------------------------------------------------------------
    def optimizer_step(self, k: int, opt: Any, step: Any, args: tuple, kwargs: dict) -> Any:
        """Run ``opt.step()``: replayed with the rest when it leaves the optimizer's host state as it
        found it (SGD ...), else an :class:`Eager` item (Adam counts its steps on the host)."""
        if self.in_step:
            return step(*args, **kwargs)
        if args or kwargs:
            self.fail(
                "{op}: an optimizer step with a closure re-evaluates the loss (compute the loss in "
                "the function instead)",
                3,
            )
            return step(*args, **kwargs)
        before_hyper = hyper_parameters(opt)
        before_states = {id(p): (p, dict(st)) for p, st in opt.state.items()}
        before = _Snapshot(self.state)
        mark, src_copy = len(self.items), dict(self.src)
        totals = {id(r): r.total for r in self.reserves.values()}
        self.in_step, self.step_reads = True, 0
        try:
            result = step()
        finally:
            self.in_step = False
        # what _host_scalars advanced (the step count) is replayed; any other host change is not
        replayed = type(opt)._replayed_state if self.host_calls_in(mark) else ()
        after_states = {id(p): (p, st) for p, st in opt.state.items()}
        changed = hyper_parameters(opt) != before_hyper or _host_values(
            before_states, replayed
        ) != _host_values(after_states, replayed)
        if not changed and not self.step_reads:
            return result  # replayed with the rest
        # eager: forget what the step recorded, apply the effects so far, call it, rebind after it
        del self.items[mark:]
        for r in list(self.reserves.values()):
            if id(r) in totals:
                r.total = totals[id(r)]
            else:
                self.items.remove(r)
        self.pending_draws.clear()
        for key, (ref, _slot) in self.src.items():
            buf, old = ref(), src_copy.get(key)
            if buf is not None and (old is None or old[0]() is not buf):
                self.poisoned[key] = buf
        self.src = src_copy
        self.items.extend(self.effects(self._prev, before))
        why = "it changes the optimizer's host state (step counts ...)" if changed else "it reads values"
        self.items.append(Eager(k, why))
        self.reserves, self.segment_start = {}, len(self.items)
        self.bind_locations()
        self._prev = _Snapshot(self.state)
        return result

    def host_calls_in(self, mark: int) -> bool:
        return any(isinstance(i, HostCall) for i in self.items[mark:])

    def host_scalars_called(self, k: int, opt: Any, group: Any, state: Any, out: Any) -> None:
        """Record one ``_host_scalars`` call of optimizer ``k``'s step: its floats become HostArgs."""
        gi = next((i for i, g in enumerate(opt.param_groups) if g is group), None)
        p = next((p for p, st in opt.state.items() if st is state), None)
        j = next((j for j, q in enumerate(self.state.P) if q is p), None)
        if gi is None or j is None or type(out) is not tuple or any(type(x) is not float for x in out):
            self.fail(
                f"{type(opt).__name__}._host_scalars returns a {type(out).__name__}, not a tuple of "
                "Python floats for one of its parameters (a tensor step count?)",
                4,
            )
            return
        if any(x is v for x in out for v in group.values()):
            # kernel arguments are told apart by identity: a hyper-parameter's own float object
            # could stand for another hyper-parameter equal to it
            self.fail(
                f"{type(opt).__name__}._host_scalars returns a hyper-parameter's own float object "
                "(return a float of its own, such as lr * 1.0)",
                4,
            )
            return
        call = HostCall(self.host_calls, k, gi, j)
        self.host_calls += 1
        self.items.append(call)
        for i, x in enumerate(out):
            self.keep.append(x)
            self.host_scalars[id(x)] = (x, HostArg(call.index, i))

    # -- effects -------------------------------------------------------------------------------------
    def slot_of(self, buf: Any) -> Any:
        s = self.lookup(buf)
        return s if s is not None else buf

    def effects(self, a: _Snapshot, b: _Snapshot) -> list[Effect]:
        """The statements that take the Python-visible state from snapshot ``a`` to ``b``."""
        out: list[Effect] = []
        bumped: set[int] = set()
        for key, (expr, t1, d1, v1) in b.entries.items():
            old = a.entries.get(key)
            t0 = old[1] if old else None
            if t1 is None:
                if t0 is not None:
                    out.append(self._set(key, expr, None))
                continue
            if t1 is not t0:
                out.append(self._set(key, expr, t1))
                continue
            if d1 is not old[2]:
                s = self.slot_of(d1)
                if isinstance(s, Slot):
                    out.append(Effect(f"{expr}._data = {s!r}", (s,)))
                else:
                    out.append(Effect(f"{expr}._data = {{c}}", (), {"c": s}))
            if v1 != old[3] and id(t1._version) not in bumped:
                bumped.add(id(t1._version))
                out.append(Effect(f"{expr}._version[0] += {v1 - old[3]}"))
        for key, (expr, t0, _d, _v) in a.entries.items():
            if key not in b.entries and t0 is not None and key[0] == "S":
                out.append(Effect(f"del {expr}"))
        return out

    def _set(self, key: tuple[Any, ...], expr: str, t: Any) -> Effect:
        if key[0] == "S" and t is not None:
            # a new optimizer state entry: make sure its dict exists
            k, j = key[1], key[2]
            pre = f"O[{k}].state.setdefault(P[{j}], {{}}); "
        else:
            pre = ""
        if t is None:
            return Effect(f"{expr} = None")
        s = self.slot_of(t._data)
        consts = {"dt": t.dtype, "dev": t.device}
        if isinstance(s, Slot):
            mk = f"_mk({s!r}, {t.shape!r}, {{dt}}, {{dev}})"
            uses: tuple[Slot, ...] = (s,)
        else:
            consts["buf"] = s
            mk = f"_mk({{buf}}, {t.shape!r}, {{dt}}, {{dev}})"
            uses = ()
        if t.requires_grad:
            return Effect(f"{pre}{expr} = {mk}.requires_grad_()", uses, consts)
        return Effect(f"{pre}{expr} = {mk}", uses, consts)

    def result(self, value: Any, loose: dict[int, str], depth: int = 0) -> Any:
        from ..tensor import Tensor

        if isinstance(value, Tensor):
            if id(value) in loose:
                return ResultTensor(None, value.shape, value.dtype, value.device, loose[id(value)])
            if value.requires_grad and value.grad_fn is not None and not self.backward_ran:
                self.fail(
                    "the function returns a tensor that requires grad and runs no backward; "
                    "compile the whole training step (forward, backward and the optimizer's step) or "
                    "call it under ember.no_grad()",
                    3,
                )
            s = self.slot_of(value._data)
            if not isinstance(s, Slot):
                s2 = self.new_slot()
                self.items.append(Effect(f"{s2!r} = {{c}}", (), {"c": s}))
                s = s2
            return ResultTensor(s, value.shape, value.dtype, value.device)
        if type(value) in (tuple, list) and depth < 8:
            seq = [self.result(v, loose, depth + 1) for v in value]
            return tuple(seq) if type(value) is tuple else seq
        if type(value) is dict and depth < 8:
            return {k: self.result(v, loose, depth + 1) for k, v in value.items()}
        if value is None or type(value) in (int, float, bool, str):
            return value
        self.fail(f"the function returns a {type(value).__name__}, which a replay cannot rebuild", 3)
        return None

    # -- installing the recorders --------------------------------------------------------------------
    def run(self, fn: Any, args: tuple, kwargs: dict) -> Any:
        """Run ``fn`` eagerly while recording; returns its result (the eager result)."""
        from ..ops import random_creation
        from ..registry import get_registry

        registry = get_registry()
        for rec in list(registry.records.values()):
            if rec.backend is not None:
                self._wrap_table(rec.backend.kernel_table)
        tables_before = set(self._tables)
        original_reserve = random_creation.Generator._reserve
        cap = self

        def _reserve(gen: Any, n: int) -> tuple[int, int]:
            seed, off = original_reserve(gen, n)
            if threading.get_ident() == cap.thread:
                cap.reserved(gen, n, seed, off, gen.offset)
            return seed, off

        original_init = random_creation.Generator.__init__

        def _init(gen: Any, *args: Any, **kwargs: Any) -> None:
            original_init(gen, *args, **kwargs)
            if threading.get_ident() == cap.thread:
                cap.local_generators.add(id(gen))
                cap.keep.append(gen)

        random_creation.Generator._reserve = _reserve  # type: ignore[method-assign]
        random_creation.Generator.__init__ = _init  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(random_creation.Generator, "_reserve", original_reserve))
        self._restore.append(lambda: setattr(random_creation.Generator, "__init__", original_init))
        for k, opt in enumerate(self.state.O):
            self._wrap_step(k, opt)
        self.bind_locations()
        self._prev = self._start = _Snapshot(self.state)
        self._module_ids = _module_tensor_ids(self.state)
        try:
            result = fn(*args, **kwargs)
        finally:
            while self._restore:
                self._restore.pop()()
        loaded = {
            id(r.backend.kernel_table.kernels) for r in registry.records.values() if r.backend is not None
        }
        if not loaded <= tables_before:
            self.fail("a device type was first used inside the compiled function (use it once before)", 2)
        if _module_tensor_ids(self.state) != self._module_ids:
            self.fail(
                "the function replaces a module's parameter or buffer (write into it in place instead)", 2
            )
        end = _Snapshot(self.state)
        self.backward_ran = any(
            key[0] == "G" and e[2] is not self._start.entries.get(key, (None, None, None, 0))[2]
            for key, e in end.entries.items()
        )
        self.items.extend(self.effects(self._prev, end))
        loose = {id(t): f"P[{j}]" for j, t in enumerate(self.state.P)}
        loose.update({id(t): f"L[{i}]" for i, t in enumerate(self.state.L)})
        self.items.append(Return(self.result(result, loose)))
        return result

    def _wrap_table(self, table: Any) -> None:
        d = table.kernels
        if id(d) in self._tables:
            return
        self._tables.add(id(d))
        swapped: dict[str, tuple[Any, Any]] = {}
        for name, k in list(d.items()):
            w = _recorder(self, name, table.device_type, k)
            d[name] = w
            swapped[name] = (k, w)

        def restore() -> None:
            for name, (k, w) in swapped.items():
                if d.get(name) is w:
                    d[name] = k

        self._restore.append(restore)

    def _wrap_step(self, k: int, opt: Any) -> None:
        step = opt.step
        cap = self

        def recorded_step(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != cap.thread:
                return step(*args, **kwargs)
            return cap.optimizer_step(k, opt, step, args, kwargs)

        _set_attribute(self, opt, "step", recorded_step)
        if type(opt)._replayed_state:
            host = opt._host_scalars

            def recorded_host_scalars(group: Any, state: Any) -> Any:
                out = host(group, state)
                if threading.get_ident() == cap.thread and cap.in_step:
                    cap.host_scalars_called(k, opt, group, state, out)
                return out

            _set_attribute(self, opt, "_host_scalars", recorded_host_scalars)


def _set_attribute(cap: Capture, obj: Any, name: str, value: Any) -> None:
    """``obj.name = value`` until the capture ends (an instance attribute of its own is put back)."""
    had = name in obj.__dict__
    own = obj.__dict__.get(name)
    setattr(obj, name, value)

    def restore() -> None:
        if had:
            setattr(obj, name, own)
        else:
            obj.__dict__.pop(name, None)

    cap._restore.append(restore)


def _recorder(cap: Capture, name: str, device_type: str, k: Any) -> Any:
    def kernel(*args: Any, **kwargs: Any) -> Any:
        if cap.depth or threading.get_ident() != cap.thread:
            return k(*args, **kwargs)
        cap.depth += 1
        try:
            out = k(*args, **kwargs)
        finally:
            cap.depth -= 1
        cap.kernel_called(name, device_type, k, args, kwargs, out)
        return out

    kernel.__wrapped__ = k  # type: ignore[attr-defined]
    return kernel


def _module_tensor_ids(state: Any) -> list[int]:
    """The identity of every parameter and buffer the modules hold now."""
    return [id(t) for m in state.modules for st in (m._parameters, m._buffers) for t in st.values()]


def hyper_parameters(opt: Any) -> tuple[Any, ...]:
    """An optimizer's hyper-parameters, group by group (tensors by identity); a float or int one the
    step reads only through ``_host_scalars`` (Adam's lr) is left out: a replay recomputes it."""
    from ..tensor import Tensor

    replayed = _replayed_hyper(opt)
    return tuple(
        tuple(
            (k, ("tensor", id(v)) if isinstance(v, Tensor) else repr(v))
            for k, v in g.items()
            if k != "params" and not (k in replayed and type(v) in (float, int))
        )
        for g in opt.param_groups
    )


def _replayed_hyper(opt: Any) -> tuple[str, ...]:
    """The hyper-parameters the optimizer's ``step`` reads only through ``_host_scalars``: those
    declared by the class that defines the ``step`` in use (a subclass with a ``step`` of its own
    declares its own, else every hyper-parameter stays guarded)."""
    for c in type(opt).__mro__:
        if "step" in c.__dict__:
            return c.__dict__.get("_replayed_hyper", ())
    return ()


def _host_values(states: dict[int, tuple[Any, dict[str, Any]]], replayed: tuple[str, ...]) -> Any:
    """Every non-tensor state value and the keys, except the values of the ``replayed`` keys."""
    from ..tensor import Tensor

    return tuple(
        (pid, tuple((k, None if isinstance(v, Tensor) or k in replayed else repr(v)) for k, v in s.items()))
        for pid, (_p, s) in states.items()
    )


def host_state(opt: Any) -> Any:
    """An optimizer's host state: hyper-parameters and every non-tensor state value, and the keys."""
    return hyper_parameters(opt), _host_values({id(p): (p, s) for p, s in opt.state.items()}, ())
