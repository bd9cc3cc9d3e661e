"""``CompiledFunction``: the signature of a call, the cache of graphs, capture, replay, fallback."""

from __future__ import annotations

import functools
import os
import sys
import threading
import types
import warnings
from collections.abc import Callable
from typing import Any

from .capture import CAPTURE_LOCK, Capture
from .graph import Graph

__all__ = ["CompiledFunction", "CompileWarning", "State"]

_local = threading.local()  # .capturing: a capture is running in this thread


class CompileWarning(UserWarning):
    """``ember.compile`` runs a function (or one signature of it) eagerly, and says why."""


def _strides(t: Any) -> tuple[int, ...]:
    return tuple(t.device.kernels["strides"](t._data))


def _meta(t: Any) -> tuple[Any, ...]:
    return (t.shape, t.dtype, t.device, t.requires_grad, _strides(t))


class State:
    """What one call of a compiled function reads and writes, found from its arguments, closure,
    globals and ``self``: loose tensors ``L`` (arguments first), the parameters and buffers of the
    modules found and the optimizers' parameters ``P``, the optimizers ``O`` and the modules; and
    the call's signature (the cache key, see :meth:`CompiledFunction.__call__`)."""

    def __init__(self) -> None:
        self.L: list[Any] = []
        self.P: list[Any] = []
        self.O: list[Any] = []
        self.modules: list[Any] = []
        self.sig: tuple[Any, ...] = ()
        self.names: list[str] = []  # what each component of sig is (for guard messages)

    def locations(self) -> list[tuple[tuple[Any, ...], str, Any]]:
        """(key, expression over L/P/O, tensor or None) of every tensor the call may read or write."""
        from ..tensor import Tensor

        out: list[tuple[tuple[Any, ...], str, Any]] = []
        for i, t in enumerate(self.L):
            out.append((("L", i), f"L[{i}]", t))
            if t.requires_grad:
                out.append((("G", "L", i), f"L[{i}].grad", t.grad))
        index = {}
        for j, p in enumerate(self.P):
            index[id(p)] = j
            out.append((("P", j), f"P[{j}]", p))
            out.append((("G", j), f"P[{j}].grad", p.grad))
        for k, opt in enumerate(self.O):
            for p, st in opt.state.items():
                j = index.get(id(p))
                if j is None:
                    continue
                for key, v in st.items():
                    if isinstance(v, Tensor):
                        out.append((("S", k, j, key), f"O[{k}].state[P[{j}]][{key!r}]", v))
        return out


_TYPES: tuple[Any, ...] = ()


def _core_types() -> tuple[Any, ...]:
    """(grad mode state, Module, Optimizer, Tensor, hyper_parameters), imported once (not at import
    time: ember.compile loads before nn and optim)."""
    global _TYPES
    if not _TYPES:
        from ..autograd.grad_mode import STATE
        from ..nn.module import Module
        from ..optim.optimizer import Optimizer
        from ..tensor import Tensor
        from .capture import hyper_parameters

        _TYPES = (STATE, Module, Optimizer, Tensor, hyper_parameters)
    return _TYPES


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
    return names


class CompiledFunction:
    """A function compiled by :func:`ember.compile` (see its docstring). Call it as the function.

    ``explain()`` describes what each signature became; ``stats`` counts captures, replays and
    eager runs."""

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8) -> None:
        from ..nn.module import Module

        self.fn = fn
        self.cache_size = cache_size
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._warned: set[str] = set()
        self.stats = {"captures": 0, "replays": 0, "eager": 0, "recompiles": 0}
        self.log: list[str] = []
        target = fn.forward if isinstance(fn, Module) else fn
        target = getattr(target, "__func__", target)
        code = getattr(target, "__code__", None)
        self._globals = getattr(target, "__globals__", {})
        self._global_names = sorted(_code_names(code)) if code is not None else []
        self._closure = getattr(target, "__closure__", None) or ()
        self._self = fn if isinstance(fn, Module) else getattr(fn, "__self__", None)
        functools.update_wrapper(self, target, updated=())
        self.debug = os.environ.get("EMBER_COMPILE_DEBUG", "") not in ("", "0")

    # -- the call's state and signature --------------------------------------------------------------
    def _collect(self, args: tuple, kwargs: dict) -> State:
        GRAD, Module, Optimizer, Tensor, hyper_parameters = _core_types()
        st = State()
        seen: set[int] = set()
        roots: list[Any] = []

        def describe(v: Any, depth: int = 0) -> Any:
            if isinstance(v, Tensor):
                st.L.append(v)
                return ("T", *_meta(v), None if v.grad is None else _meta(v.grad))
            t = type(v)
            if v is None or t in (int, float, bool, str, complex):
                return (t, v)
            if t in (tuple, list) and depth < 4:
                return (t, tuple(describe(x, depth + 1) for x in v))
            if t is dict and depth < 4:
                return (t, tuple((k, describe(x, depth + 1)) for k, x in v.items()))
            # a bound method's module or optimizer counts, and a compiled function's (it runs
            # eagerly inside this one's capture, so its kernels are this graph's)
            owner = getattr(v, "__self__", None)
            inner = (v.fn, v._self) if isinstance(v, CompiledFunction) else ()
            for r in (v, owner, *inner):
                if isinstance(r, (Module, Optimizer)) and id(r) not in seen:
                    seen.add(id(r))
                    roots.append(r)
            return ("id", id(v))

        parts: list[Any] = [("grad mode", GRAD.enabled)]
        parts.append(("arguments", describe(args)))
        parts.append(("keyword arguments", describe(kwargs)))
        cells = []
        for c in self._closure:
            try:
                v = c.cell_contents
            except ValueError:
                v = None
            if isinstance(v, (types.FunctionType, type, types.ModuleType)):
                continue
            cells.append(describe(v))
        parts.append(("closure", tuple(cells)))
        glob = []
        for name in self._global_names:
            v = self._globals.get(name)
            if isinstance(v, (Tensor, Module, Optimizer, int, float, bool)) and v is not None:
                glob.append((name, describe(v)))
        parts.append(("globals", tuple(glob)))
        if self._self is not None:
            describe(self._self)
            d = getattr(self._self, "__dict__", {})
            if not isinstance(self._self, Module):
                parts.append(("self", tuple((k, describe(v)) for k, v in d.items() if not callable(v))))
        mods: set[int] = set()
        pid: dict[int, int] = {}
        for r in roots:
            if isinstance(r, Optimizer):
                st.O.append(r)
                continue
            stack = [r]  # the module tree, parents first (as Module.modules(), without generators)
            while stack:
                m = stack.pop()
                if id(m) in mods:
                    continue
                mods.add(id(m))
                st.modules.append(m)
                for store in (m._parameters, m._buffers):
                    for p in store.values():
                        if p is not None and id(p) not in pid:
                            pid[id(p)] = len(st.P)
                            st.P.append(p)
                stack.extend(c for c in reversed(m._modules.values()) if c is not None)
        for opt in st.O:
            for g in opt.param_groups:
                for p in g["params"]:
                    if id(p) not in pid:
                        pid[id(p)] = len(st.P)
                        st.P.append(p)
        parts.append(("module training modes", tuple(m.training for m in st.modules)))
        parts.append(
            (
                "parameters",
                tuple((id(p), *_meta(p), None if p.grad is None else _meta(p.grad)) for p in st.P),
            )
        )
        for k, opt in enumerate(st.O):
            groups = hyper_parameters(opt)
            keys = tuple(
                (
                    pid.get(id(p)),
                    tuple((key, _meta(v) if isinstance(v, Tensor) else None) for key, v in s.items()),
                )
                for p, s in opt.state.items()
            )
            parts.append((f"optimizer {k} hyper-parameters", groups))
            parts.append((f"optimizer {k} state", keys))
        st.names = [n for n, _ in parts]
        st.sig = tuple(v for _, v in parts)
        return st

    # -- calls ---------------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Replay the graph of this call's signature, capture one for a new signature, or run
        eagerly (a signature that cannot be captured, a full cache, a call inside a capture)."""
        if getattr(_local, "capturing", False):
            return self.fn(*args, **kwargs)  # inside another capture: its recorder sees the kernels
        st = self._collect(args, kwargs)
        entry = self._cache.get(st.sig)
        if entry is not None:
            if callable(entry):
                self.stats["replays"] += 1
                return entry(st.L, st.P, st.O)
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        if len(self._cache) >= self.cache_size:
            self._warn(
                "cache",
                f"ember.compile: {self.name} met {len(self._cache) + 1} input signatures, more than "
                f"cache_size={self.cache_size}; new signatures run eagerly (last change: "
                f"{self._changed(st)}). Raise cache_size= or keep shapes, dtypes and modes steady.",
            )
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        if self._cache:
            self.stats["recompiles"] += 1
            self.log.append(f"recompiling for a new signature: {self._changed(st)}")
        return self._capture(st, args, kwargs)

    def _changed(self, st: State) -> str:
        """What differs between ``st``'s signature and the nearest cached one."""
        best_diff = None
        for sig in self._cache:
            diff = [i for i, (a, b) in enumerate(zip(sig, st.sig)) if a != b]
            if best_diff is None or len(diff) < len(best_diff):
                best_diff = diff
        if not best_diff:
            return "nothing"
        return ", ".join(st.names[i] for i in best_diff)

    def _capture(self, st: State, args: tuple, kwargs: dict) -> Any:
        if not CAPTURE_LOCK.acquire(blocking=False):
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)  # another thread is capturing
        cap = Capture(self.name, st)
        _local.capturing = True
        try:
            result = cap.run(self.fn, args, kwargs)
        finally:
            _local.capturing = False
            CAPTURE_LOCK.release()
        self.stats["captures"] += 1
        if cap.failure is not None:
            self._cache[st.sig] = cap.failure
            self.log.append(f"eager: {cap.failure}")
            self._warn(
                str(cap.failure),
                f"ember.compile: {self.name} cannot be captured for this input signature: "
                f"{cap.failure.reason} (at {cap.failure.where}); it runs eagerly for this signature",
                4,
            )
            return result
        guards = [f"{n}: {_short(v)}" for n, v in zip(st.names, st.sig)]
        graph = Graph(self.name, cap.items, guards).eliminate_dead_code()
        replay = self._lower(graph)
        self._cache[st.sig] = replay
        self._graphs = getattr(self, "_graphs", [])
        self._graphs.append(graph)
        if self.debug:
            print(graph.explain(), file=sys.stderr)
        return result

    def _lower(self, graph: Graph) -> Callable[..., Any]:
        """The backend's ``compile_graph`` when every kernel of the graph is one device type's and
        its backend has the hook (``EMBER_COMPILE_BACKEND=0`` turns the hooks off, to compare);
        else the plain replay."""
        from ..device import device

        types_ = {n.device_type for n in graph.nodes}
        if len(types_) == 1 and os.environ.get("EMBER_COMPILE_BACKEND", "1") != "0":
            (dt,) = types_
            hook = getattr(device(dt).backend, "compile_graph", None)
            if hook is not None:
                out = hook(graph)  # a Graph, a callable, or None for the plain replay
                if isinstance(out, Graph):
                    graph = out
                elif callable(out):
                    graph.build()  # for explain()
                    return out
        return graph.build()

    def _warn(self, key: str, message: str, stacklevel: int = 3) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        warnings.warn(message, CompileWarning, stacklevel=stacklevel)  # at the compiled call

    def explain(self) -> str:
        """What each captured signature became (kernel calls, value checks, eager steps, guards, the
        generated replay) and the signatures that run eagerly, with the reason."""
        lines = [
            f"ember.compile({self.name}): {self.stats['captures']} captures, {self.stats['replays']} "
            f"replays, {self.stats['eager']} eager calls, {self.stats['recompiles']} recompiles"
        ]
        for g in getattr(self, "_graphs", []):
            lines.append(g.explain())
        lines += [f"  {entry}" for entry in self.log]
        return "\n".join(lines)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # a compiled method: compile the bound method once per instance
        if obj is None:
            return self
        bound = obj.__dict__.get(f"_ember_compiled_{id(self)}")
        if bound is None:
            bound = CompiledFunction(self.fn.__get__(obj, objtype), self.cache_size)
            obj.__dict__[f"_ember_compiled_{id(self)}"] = bound
        return bound


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 160 else s[:157] + "..."
