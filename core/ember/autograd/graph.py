"""The autograd graph and the engine that runs it backwards.

Each differentiable op that sees an input requiring grad builds one :class:`Node` right beside its
forward computation (see ``ember.ops``): the node holds a closure from the output's gradient to
the inputs' gradients, written with Ember ops, so every backend gets gradients for free and
``create_graph=True`` gives higher derivatives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..tensor import Tensor
from .grad_mode import STATE

__all__ = ["Node", "attach", "needs_input_grad", "queue_callback", "run_backward"]

# the callbacks queued by the backward passes running in this thread, innermost last (a hook may
# itself call backward); see queue_callback
_CALLBACKS = threading.local()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` once the backward pass that is running now has finished: after every
    node ran and every leaf's ``.grad`` (and its post-accumulate-grad hooks) is final, before
    ``backward()`` returns (PyTorch's ``Variable._execution_engine.queue_callback``). Callbacks
    run in the order queued; one may queue another. Call it from a hook during backward;
    outside a backward pass it raises RuntimeError."""
    stack = getattr(_CALLBACKS, "stack", None)
    if not stack:
        raise RuntimeError(
            "queue_callback: no backward pass is running in this thread; call it from a hook "
            "(register_hook, register_post_accumulate_grad_hook) while backward runs"
        )
    stack[-1].append(callback)


class Node:
    """One recorded op: ``backward_fn(grad_output) -> tuple of input grads`` and the edges to the
    inputs' own nodes (a Node, a leaf Tensor that accumulates, or None when the input did not
    require grad as the op ran)."""

    __slots__ = (
        "op",
        "backward_fn",
        "edges",
        "dtypes",
        "saved",
        "pre_hooks",
        "retained",
        "out_alias",
        "__weakref__",
    )

    def __init__(
        self,
        op: str,
        backward_fn: Callable[[Any], Sequence[Any]],
        edges: tuple,
        saved: tuple = (),
        dtypes: tuple | None = None,
        out_alias: Any = None,
    ) -> None:
        self.op = op  # the name of the op that made this node ("mul", "mylib.scaled_tanh")
        self.backward_fn: Callable[[Any], Sequence[Any]] | None = backward_fn
        # one per input, in attach's order: backward_fn asks needs_input_grad(i) about input i
        self.edges = edges
        # the dtype of each input: a gradient is cast to its input's dtype, as in PyTorch (an op that
        # promoted float32 with float64 must not hand a float64 gradient to the float32 input)
        self.dtypes: tuple = (None,) * len(edges) if dtypes is None else dtypes
        # ((tensor, version at save, shape at save, grad_fn at save), ...) checked before
        # backward: an in-place op that changed the values (the version) or the shape (squeeze_,
        # unsqueeze_) is reported, and with create_graph a detach_() that cut the tensor's history
        self.saved = saved
        self.pre_hooks: list[Callable[[Any], Any]] | None = None
        self.retained: Any = None  # weakref to a tensor that called retain_grad()
        # an alias of the output read by backward_fn; linked to this node only when a backward
        # runs with create_graph, so first-order training makes no reference cycle
        self.out_alias: Any = out_alias

    def name(self) -> str:
        """The node's name, as PyTorch's ``grad_fn.name()`` gives it (``"mulBackward"``)."""
        return f"{self.op}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def attach(
    out: Tensor,
    name: str,
    backward_fn: Callable[[Any], Sequence[Any]],
    inputs: Sequence[Any],
    saved: Sequence[Tensor] = (),
    out_alias: Tensor | None = None,
) -> Tensor:
    """Record ``out`` as produced by op ``name`` from ``inputs`` (Tensors or other values).

    ``saved`` are tensors the backward closure reads; modifying one in place before backward (its
    values, or its shape through ``squeeze_``/``unsqueeze_``) is detected and reported.
    ``out_alias`` is the alias of ``out`` (see ``saved_output``) the closure reads, if any.
    """
    edges = []
    dtypes = []
    for i in inputs:  # one pass (this runs for every recorded op)
        if type(i) is not Tensor and getattr(i, "_version", None) is None:
            # a number, a numpy scalar or another non-tensor argument
            dtypes.append(getattr(i, "dtype", None))
            edges.append(None)
            continue
        dtypes.append(i.dtype)
        if i._base is not None and i._view_version != i._version[0]:
            refresh_view(i)  # a view whose base changed in place since
        edges.append((i.grad_fn or i) if i.requires_grad else None)
    out.grad_fn = Node(
        name,
        backward_fn,
        tuple(edges),
        tuple([(t, t._version[0], t.shape, t.grad_fn) for t in saved]) if saved else (),
        tuple(dtypes),
        out_alias,
    )
    out.requires_grad = True
    return out


def needs_input_grad(index: int) -> bool:
    """Whether the backward formula running now must compute the gradient of its op's input
    number ``index`` (its place in the ``inputs`` given to :func:`attach`), as PyTorch's
    ``ctx.needs_input_grad[index]``: whether that input required grad when the op was recorded,
    the node's edge, whatever ``detach_()`` or ``requires_grad_()`` did to it since (a gradient
    dropped there would be lost to what the input was computed from). A backward formula asks
    this, never the input's ``requires_grad`` flag as it is when backward runs. Call it from a
    backward formula (elsewhere in a backward pass it answers for the node that ran last); outside
    a backward pass it is True (the engine drops a gradient that no edge takes)."""
    node = STATE.running[0]
    return node is None or node.edges[index] is not None


def refresh_view(view: Tensor) -> None:
    """Bring the history of a view up to date after its base (or another view of it) changed in
    place: as in PyTorch, the view's history becomes "this view of the base as it is now"
    (replayed by ``view._view_fn``). A view that had a history but records no way to replay
    it is refused, naming the remedy, rather than left with a stale history."""
    base = view._base
    if view._view_fn is not None and base.requires_grad and STATE.enabled:
        rebuilt = view._view_fn(base)
        view.grad_fn, view.requires_grad = rebuilt.grad_fn, True
    elif view.requires_grad and view.grad_fn is not None:
        raise RuntimeError(
            f"a view (shape {view.shape}) of a tensor that was modified in place after the view was "
            "made is used in autograd, and the op that made the view cannot replay it; make the "
            "view again after the in-place op"
        )
    view._view_version = base._version[0]


def _check_saved(node: Node, create_graph: bool) -> None:
    for t, version, shape, grad_fn in node.saved:
        if t._version[0] != version:
            raise RuntimeError(
                f"one of the tensors needed for the gradient of {node.op} (shape {t.shape}, "
                f"{t.dtype}) has been modified by an in-place operation: it is at version "
                f"{t._version[0]}, expected {version}. Use an out-of-place op, or .clone() the "
                "tensor before modifying it"
            )
        if t.shape != shape:
            raise RuntimeError(
                f"one of the tensors needed for the gradient of {node.op} ({t.dtype}) had shape "
                f"{shape} when it was saved and has shape {t.shape} now: an in-place op "
                "(squeeze_, unsqueeze_) changed it. Use the out-of-place op, or .clone() the "
                "tensor before changing its shape"
            )
        if create_graph and grad_fn is not None and t.grad_fn is None:
            # the formula reads the tensor itself: the graph it records would stop there and miss
            # the second-order terms through its history (a first-order gradient needs only its
            # values, which detach_() kept). PyTorch refuses a detach_()-ed saved input outright.
            raise RuntimeError(
                f"one of the tensors needed for the gradient of {node.op} (shape {t.shape}, "
                f"{t.dtype}) was detached in place (detach_()) after the op used it, so "
                "create_graph=True cannot differentiate the gradient through its history. Use "
                "the out-of-place .detach() (it leaves the recorded tensor in the graph), or "
                "backward without create_graph"
            )


def run_backward(
    roots: Sequence[Tensor],
    grad_roots: Sequence[Tensor],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
    allow_unused: bool = False,
) -> list[Any] | None:
    """Propagate ``grad_roots`` from ``roots`` back through the graph.

    Without ``inputs`` the gradients accumulate into the ``.grad`` of leaves (``backward()``);
    with ``inputs`` nothing accumulates and their gradients are returned (``autograd.grad``).
    """
    for t in (*roots, *(inputs or ())):
        if t._base is not None and t._view_version != t._version[0]:
            refresh_view(t)
    capture_nodes: dict[Node, int] = {}
    capture_leaves: dict[int, int] = {}
    results: list[Any] = []
    if inputs is not None:
        results = [None] * len(inputs)
        for i, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"autograd.grad: input {i} (shape {t.shape}) does not require grad")
            if t.grad_fn is not None:
                capture_nodes[t.grad_fn] = i
            else:
                capture_leaves[id(t)] = i

    # dependency counts over the reachable graph, leaves included: a leaf's gradient is final
    # (accumulated, its post-accumulate-grad hooks run) once all its contributions arrived
    deps: dict[Node, int] = {}
    leaf_deps: dict[int, int] = {}
    stack: list[Node] = []
    for r in roots:
        if r.grad_fn is not None and r.grad_fn not in deps:
            deps[r.grad_fn] = 0
            stack.append(r.grad_fn)
        elif r.grad_fn is None and r.requires_grad:
            leaf_deps[id(r)] = leaf_deps.get(id(r), 0) + 1
    while stack:
        node = stack.pop()
        if node.backward_fn is None:
            raise RuntimeError(
                f"trying to run backward through the graph of {node.op} a second time (its saved "
                "tensors were freed after the first backward); pass retain_graph=True to the first "
                "backward() if you need to backward twice"
            )
        for e in node.edges:
            if type(e) is Node:
                if e in deps:
                    deps[e] += 1
                else:
                    deps[e] = 1
                    stack.append(e)
            elif e is not None:
                key = id(e)
                leaf_deps[key] = leaf_deps.get(key, 0) + 1

    pending: dict[Node, Any] = {}
    leaf_pending: dict[int, tuple[Tensor, Any]] = {}

    def add_leaf(t: Tensor, g: Any) -> None:
        """One contribution to leaf ``t`` (None: the op gave it no gradient); the last one
        finalises the leaf at once."""
        key = id(t)
        left = leaf_deps[key] - 1
        leaf_deps[key] = left
        if key in leaf_pending:
            prev = leaf_pending.pop(key)[1]
            g = prev if g is None else (g if prev is None else prev + g)
        if left:
            leaf_pending[key] = (t, g)
        elif g is not None:
            finish_leaf(t, g)

    def finish_leaf(t: Tensor, g: Any) -> None:
        hooks = t._hooks
        if hooks:
            for hook in hooks:
                new = hook(g)
                if new is not None:
                    g = new
        idx = capture_leaves.get(id(t))
        if inputs is not None:
            if idx is not None:
                results[idx] = g
            return
        if not t.requires_grad:
            # requires_grad_(False) since the graph was recorded: the leaf takes no gradient, as
            # PyTorch's AccumulateGrad (its tensor hooks above still ran)
            return
        if g.shape != t.shape:
            raise RuntimeError(f"gradient of shape {g.shape} for a leaf of shape {t.shape}")
        if t.grad is None:
            t.grad = g if create_graph else g.detach().clone()
        else:
            t.grad = t.grad + g  # out of place: a grad buffer may be shared with another leaf
        post = t._post_accumulate_hooks
        if post:
            for hook in tuple(post):
                hook(t)

    prev_mode = STATE.enabled
    prev_running = STATE.running  # a hook or a closure may itself run a backward
    running = STATE.running = [None]
    STATE.enabled = create_graph
    callbacks: list[Callable[[], None]] = []
    stack_of_callbacks = getattr(_CALLBACKS, "stack", None)
    if stack_of_callbacks is None:
        stack_of_callbacks = _CALLBACKS.stack = []
    stack_of_callbacks.append(callbacks)
    try:
        ready: list[Node] = []
        for r, g in zip(roots, grad_roots):
            if r.grad_fn is None:
                if r.requires_grad:
                    add_leaf(r, g)
                continue
            node = r.grad_fn
            pending[node] = g if node not in pending else pending[node] + g
        ready = [n for n in pending if deps[n] == 0]
        while ready:
            node = ready.pop()
            g = pending.pop(node)
            if node.pre_hooks:
                for hook in node.pre_hooks:
                    new = hook(g)
                    if new is not None:
                        g = new
            if node.retained is not None:
                t = node.retained()
                if t is not None:
                    t.grad = g if create_graph else g.detach()
            if capture_nodes and node in capture_nodes:
                results[capture_nodes[node]] = g
            if node.saved:
                _check_saved(node, create_graph)
            fn = node.backward_fn
            if fn is None:
                raise RuntimeError(
                    f"trying to run backward through the graph of {node.op} a second "
                    "time; pass retain_graph=True to the first backward()"
                )
            alias = node.out_alias
            if alias is not None and create_graph:
                # the recorded backward reads the output: link the alias to this node for good
                # (a reference cycle, freed by the garbage collector, only in create_graph mode)
                alias.grad_fn, alias.requires_grad = node, True
            # the formula asks needs_input_grad which inputs want a gradient: the recorded edges
            running[0] = node
            grads = fn(g)
            if not retain_graph:
                node.backward_fn = None
                node.saved = ()
            for e, gi, dt in zip(node.edges, grads, node.dtypes):
                if e is None:
                    continue
                if dt is not None and gi is not None and getattr(gi, "dtype", dt) is not dt:
                    gi = _grad_as(gi, dt)
                if type(e) is Node:
                    if gi is not None:
                        prev = pending.get(e)
                        pending[e] = gi if prev is None else prev + gi
                    left = deps[e] - 1
                    deps[e] = left
                    if not left and e in pending:
                        ready.append(e)
                else:
                    add_leaf(e, gi)
        for t, g in list(leaf_pending.values()):  # none are left when every contribution arrived
            if g is not None:
                finish_leaf(t, g)
        while callbacks:
            callbacks.pop(0)()
    finally:
        STATE.enabled = prev_mode
        STATE.running = prev_running
        stack_of_callbacks.pop()
    if inputs is None:
        return None
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {i} (shape {inputs[i].shape}) was not used to "
                "compute the outputs; pass allow_unused=True to get None for it"
            )
        if r is not None and not create_graph and isinstance(r, Tensor):
            results[i] = r.detach()
    return results


def _grad_as(g: Tensor, dtype: Any) -> Tensor:
    """Gradient ``g`` in its input's ``dtype``. A real input of an op that computed in complex
    gets the real part of its complex gradient, as in PyTorch (the imaginary part is the
    derivative along a direction the input cannot move in)."""
    if g.dtype.is_complex and not dtype.is_complex:
        from ..ops.complex import real

        g = real(g)
        return g if g.dtype is dtype else g.to(dtype)
    return g.to(dtype)
