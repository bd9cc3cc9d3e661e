"""A captured graph: the kernel calls of one run of a function, in order, with buffers replaced by
slots, and the Python-visible effects of the run. :meth:`Graph.build` turns it into one generated
Python function (locals for slots, no Tensor objects, no dispatch), which is what a replay runs.

The program is a list of items, each one statement (or a few) of the generated function:

* :class:`Bind`: a slot read from a location (``v3 = P[2]._data``: a parameter's buffer, an input's,
  a gradient's, an optimizer state tensor's), at the start or after an eager segment.
* :class:`Node`: one kernel call ``v7 = k7(v3, 0.5)``; its outputs are slots.
* :class:`Reserve`: a generator's counters for the random kernels of one segment, taken at once
  (``s0, o0 = g0._reserve(n)``); each random node then draws at ``o0 + its offset in the segment``,
  which is what eager execution would have drawn.
* :class:`Check`: a value check of core (index bounds ...), run again on the replay's buffers.
* :class:`Effect`: one Python-visible effect (``P[1].grad = _mk(v20, ...)``, a version bump, a
  rebinding of ``_data``).
* :class:`HostCall`: an optimizer's host-side part of one parameter's step
  (``h2 = O[0]._host_scalars(O[0].param_groups[0], O[0].state[P[3]])``): it advances the host state
  (Adam's step count) as eager does and returns the Python floats the step's kernels take (bias
  corrections, the lr a scheduler sets); those arguments read ``h2[i]`` (:class:`HostArg`).
* :class:`Eager`: an optimizer's ``step()`` that could not be replayed (it changes host state other
  than through ``_host_scalars``), called for real.
* :class:`Return`: the function's result rebuilt from slots.

What an item does with slots is answered in one place for every analysis over a graph (dead code,
the replay's ``del`` of dying buffers, a backend's memory plan or trace): :func:`reads` (the slots
it reads), :func:`defines` (the slots it assigns), :func:`in_place` (a kernel call writing into
its first argument) and :func:`is_dynamic` (a kernel call with arguments computed per replay);
:func:`last_use` gives each slot's last item.
"""

from __future__ import annotations

import builtins
import linecache
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Slot",
    "TensorRef",
    "Bind",
    "Node",
    "Reserve",
    "RandomArg",
    "Check",
    "Effect",
    "Eager",
    "HostCall",
    "HostArg",
    "Return",
    "ResultTensor",
    "Graph",
    "reads",
    "defines",
    "in_place",
    "is_dynamic",
    "last_use",
]

#: kernels that write into an argument (the contract's in-place kernels): never dead code
IN_PLACE_KERNELS = frozenset({"copy_", "add_", "scatter_add_"})


@dataclass(frozen=True)
class Slot:
    """A buffer variable of the generated function."""

    n: int

    def __repr__(self) -> str:
        return f"v{self.n}"


@dataclass(frozen=True)
class TensorRef:
    """A Tensor argument of a value check, rebuilt at replay around ``data`` (a slot or a constant
    buffer)."""

    data: Any
    shape: tuple[int, ...]
    dtype: Any
    device: Any


@dataclass
class Bind:
    """``slot = <expr>``: a location's buffer, read when the replay reaches this point."""

    slot: Slot
    expr: str


@dataclass
class RandomArg:
    """The seed (``offset is None``) or a counter (``reserve``'s first counter + ``offset``) of a
    random kernel, drawn from ``reserve`` at replay."""

    reserve: Reserve
    offset: int | None


@dataclass
class Node:
    """One kernel call. ``outs``: the output slot, a tuple of them (a kernel returning several
    buffers), or None (an in-place kernel)."""

    name: str
    device_type: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outs: Slot | tuple[Any, ...] | None


@dataclass
class Reserve:
    """All counters one segment draws from ``generator`` (``total``, whole Philox blocks)."""

    generator: Any
    total: int = 0
    index: int = 0
    base: int = 0  # the first counter the capture drew (offsets are relative to it)


@dataclass
class Check:
    """A value check of core (``fn(*args)`` raises on bad values), run again on the replay's data."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    where: str


@dataclass
class Effect:
    """One Python statement applying an effect of the run; ``uses`` are the slots it reads."""

    code: str
    uses: tuple[Slot, ...] = ()
    consts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Eager:
    """An optimizer's ``step()`` run for real (``why`` says why it was not replayed)."""

    optimizer: int
    why: str


@dataclass
class HostCall:
    """``h{index} = O[k]._host_scalars(O[k].param_groups[group], O[k].state[P[param]])`` (``k``:
    ``optimizer``): the host scalars of one parameter's optimizer step, recomputed (and the step
    counted) on every replay."""

    index: int
    optimizer: int
    group: int
    param: int


@dataclass(frozen=True)
class HostArg:
    """A kernel's scalar argument: the ``position``-th value :class:`HostCall` ``call`` returns."""

    call: int
    position: int


@dataclass
class Return:
    """The result, rebuilt: ``value`` is the returned structure with Tensors described by
    ``("tensor", slot, shape, dtype, device)`` or ``("location", expr)``."""

    value: Any


class _Emitter:
    """Turns values into Python expressions, keeping non-literal constants in a namespace."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}
        self._ids: dict[int, str] = {}

    def const(self, value: Any, stem: str = "c") -> str:
        key = id(value)
        name = self._ids.get(key)
        if name is None or self.namespace.get(name) is not value:
            name = f"{stem}{len(self.namespace)}"
            self.namespace[name] = value
            self._ids[key] = name
        return name

    def expr(self, v: Any) -> str:
        if isinstance(v, Slot):
            return repr(v)
        if isinstance(v, TensorRef):
            return f"_mk({self.expr(v.data)}, {v.shape!r}, {self.const(v.dtype)}, {self.const(v.device)})"
        if isinstance(v, HostArg):
            return f"h{v.call}[{v.position}]"
        if isinstance(v, RandomArg):
            r = v.reserve
            return f"s{r.index}" if v.offset is None else f"(o{r.index} + {v.offset})"
        t = type(v)
        if v is None or t is bool or t is int or t is str:
            return repr(v)
        if t is float and math.isfinite(v):
            return repr(v)
        if t is tuple:
            inner = ", ".join(self.expr(x) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if t is list and any(_has_slot(x) for x in v):
            return "[" + ", ".join(self.expr(x) for x in v) + "]"
        if t is dict and any(_has_slot(x) for x in v.values()):
            return "{" + ", ".join(f"{k!r}: {self.expr(x)}" for k, x in v.items()) + "}"
        return self.const(v)


def _holds(v: Any, kinds: tuple[type, ...]) -> bool:
    """Whether ``v`` or a value nested in it (tuples, lists, dict values) is one of ``kinds``."""
    if isinstance(v, kinds):
        return True
    if isinstance(v, (tuple, list)):
        return any(_holds(x, kinds) for x in v)
    if isinstance(v, dict):
        return any(_holds(x, kinds) for x in v.values())
    return False


def _has_slot(v: Any) -> bool:
    return _holds(v, (Slot, RandomArg, TensorRef, HostArg))


def _slots_in(v: Any, into: set[Slot]) -> None:
    if isinstance(v, Slot):
        into.add(v)
    elif isinstance(v, TensorRef):
        _slots_in(v.data, into)
    elif isinstance(v, ResultTensor):
        if v.slot is not None:
            into.add(v.slot)
    elif isinstance(v, (tuple, list)):
        for x in v:
            _slots_in(x, into)
    elif isinstance(v, dict):
        for x in v.values():
            _slots_in(x, into)


def reads(item: Any) -> set[Slot]:
    """The slots ``item`` reads: a kernel call's arguments (positional and keyword), a value
    check's arguments, an effect's ``uses``, the slots of a returned value. A binding, a
    reservation, a host call and an eager step read none (their expressions name locations and
    host state, not slots); an in-place kernel's destination is among its arguments."""
    found: set[Slot] = set()
    if isinstance(item, Node):
        _slots_in(item.args, found)
        _slots_in(item.kwargs, found)
    elif isinstance(item, Check):
        _slots_in(item.args, found)
    elif isinstance(item, Effect):
        found.update(item.uses)
    elif isinstance(item, Return):
        _slots_in(item.value, found)
    return found


def defines(item: Any) -> set[Slot]:
    """The slots ``item`` assigns: a kernel call's outputs (none for an in-place kernel), a
    binding's slot. A captured graph assigns each slot once, through these two items only (a
    backend's rewrite may also assign one in an effect's code, which this does not see)."""
    found: set[Slot] = set()
    if isinstance(item, Node):
        _slots_in(item.outs, found)
    elif isinstance(item, Bind):
        found.add(item.slot)
    return found


def is_dynamic(item: Any) -> bool:
    """Whether ``item`` is a kernel call taking a value computed anew on each replay (an
    optimizer's host scalar, :class:`HostArg`; a random kernel's seed or counter,
    :class:`RandomArg`): its arguments differ from one replay to the next."""
    return isinstance(item, Node) and _holds((item.args, item.kwargs), (HostArg, RandomArg))


def last_use(items: list[Any]) -> dict[Slot, int]:
    """The index of the last item of ``items`` that reads or assigns each slot (a slot is dead
    after it: a replay frees it there, a backend may reuse or consume its buffer)."""
    last: dict[Slot, int] = {}
    for i, item in enumerate(items):
        for x in reads(item) | defines(item):
            last[x] = i
    return last


def in_place(item: Any) -> bool:
    """Whether ``item`` is a kernel call that writes into an argument (its first): a contract's
    in-place kernel or any kernel whose name ends in ``_``. Such a call is never dead code, and
    the buffer it writes is not the same value before and after it."""
    return isinstance(item, Node) and (item.name in IN_PLACE_KERNELS or item.name.endswith("_"))


class Graph:
    """The captured program of one input signature (see the module docstring)."""

    def __init__(self, name: str, items: list[Any], guards: list[str]) -> None:
        self.name = name
        self.items = items
        self.guards = guards
        self.removed = 0  # kernel calls dropped as dead code
        self.source = ""

    @property
    def nodes(self) -> list[Node]:
        """The kernel calls, in order."""
        return [i for i in self.items if isinstance(i, Node)]

    def eliminate_dead_code(self) -> Graph:
        """Drop kernel calls whose outputs nothing reads (a value check's min and max, a layout
        query's copy ...) and bindings nothing reads; in-place kernels always stay."""
        live: set[Slot] = set()
        kept: list[Any] = []
        for item in reversed(self.items):
            # a kernel call or binding whose slots nothing after it reads
            if isinstance(item, (Node, Bind)) and not in_place(item) and live.isdisjoint(defines(item)):
                if isinstance(item, Node):
                    self.removed += 1
                continue
            live |= reads(item)
            kept.append(item)
        kept.reverse()
        self.items = kept
        return self

    def build(self) -> Callable[[list[Any], list[Any], list[Any]], Any]:
        """The replay: a generated function of (loose tensors L, parameters P, optimizers O)."""
        from ..tensor import _make

        em = _Emitter()
        em.namespace["_mk"] = _make
        dies = self._last_uses()
        lines = ["def replay(L, P, O):"]
        for i, item in enumerate(self.items):
            if i and dies[i - 1] and not isinstance(self.items[i - 1], Return):
                # free what nothing reads later, as eager frees a tensor nothing refers to (keeping
                # every buffer to the end of the replay costs fresh pages on every call)
                lines.append(f"    del {', '.join(repr(x) for x in sorted(dies[i - 1], key=lambda x: x.n))}")
            if isinstance(item, Bind):
                lines.append(f"    {item.slot!r} = {item.expr}")
            elif isinstance(item, Reserve):
                g = em.const(item.generator, "g")
                lines.append(f"    s{item.index}, o{item.index} = {g}._reserve({item.total})")
            elif isinstance(item, Node):
                k = em.const(item.fn, f"{item.name}_" if item.name.isidentifier() else "k")
                args = [em.expr(a) for a in item.args]
                args += [f"{key}={em.expr(v)}" for key, v in item.kwargs.items()]
                call = f"{k}({', '.join(args)})"
                if item.outs is None:
                    lines.append(f"    {call}")
                else:
                    lines.append(f"    {em.expr(item.outs)} = {call}")
            elif isinstance(item, Check):
                f = em.const(item.fn, "f")
                lines.append(f"    {f}({', '.join(em.expr(a) for a in item.args)})")
            elif isinstance(item, Effect):
                code = item.code
                for name, value in item.consts.items():
                    code = code.replace("{" + name + "}", em.const(value))
                lines.append(f"    {code}")
            elif isinstance(item, HostCall):
                o = f"O[{item.optimizer}]"
                group, state = f"{o}.param_groups[{item.group}]", f"{o}.state[P[{item.param}]]"
                lines.append(f"    h{item.index} = {o}._host_scalars({group}, {state})")
            elif isinstance(item, Eager):
                lines.append(f"    O[{item.optimizer}].step()")
            elif isinstance(item, Return):
                lines.append(f"    return {self._result(item.value, em)}")
        self.source = "\n".join(lines) + "\n"
        ns = dict(em.namespace)
        filename = f"<ember.compile {self.name} {id(self):x}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        exec(builtins.compile(self.source, filename, "exec"), ns)
        return ns["replay"]

    def _last_uses(self) -> list[set[Slot]]:
        """For each item, the slots it is the last to read or write."""
        dies: list[set[Slot]] = [set() for _ in self.items]
        for x, i in last_use(self.items).items():
            dies[i].add(x)
        return dies

    def _result(self, v: Any, em: _Emitter) -> str:
        if isinstance(v, ResultTensor):
            if v.location is not None:
                return v.location
            return f"_mk({v.slot!r}, {em.expr(v.shape)}, {em.const(v.dtype)}, {em.const(v.device)})"
        if type(v) is tuple:
            inner = ", ".join(self._result(x, em) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if type(v) is list:
            return "[" + ", ".join(self._result(x, em) for x in v) + "]"
        if type(v) is dict:
            return "{" + ", ".join(f"{em.const(k)}: {self._result(x, em)}" for k, x in v.items()) + "}"
        return em.expr(v)

    def explain(self) -> str:
        """What the function became: guards, counts, and the generated replay's source."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.name] = counts.get(n.name, 0) + 1
        eager = [i for i in self.items if isinstance(i, Eager)]
        checks = [i for i in self.items if isinstance(i, Check)]
        host = [i for i in self.items if isinstance(i, HostCall)]
        lines = [
            f"compiled {self.name}: {len(self.nodes)} kernel calls "
            f"({self.removed} dead ones removed), {len(checks)} value checks, "
            f"{len(eager)} eager optimizer steps, {len(host)} optimizer host-scalar calls",
            "  kernels: " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])),
        ]
        lines += [f"  eager: optimizer {e.optimizer}.step() ({e.why})" for e in eager]
        lines += [f"  check: {c.where}" for c in checks]
        lines += ["  guards:"] + [f"    {g}" for g in self.guards]
        if self.source:
            lines += ["  replay:"] + ["    " + s for s in self.source.splitlines()]
        return "\n".join(lines)


@dataclass
class ResultTensor:
    """A returned tensor: a location's tensor itself (``location``, e.g. ``"L[0]"``) or a new
    Tensor over ``slot``."""

    slot: Slot | None
    shape: tuple[int, ...]
    dtype: Any
    device: Any
    location: str | None = None
