"""Activation checkpointing (``torch.utils.checkpoint``'s names): :func:`checkpoint` runs a piece
of the model without keeping its intermediate activations and recomputes them in backward;
:func:`checkpoint_sequential` does that for the segments of a sequence of modules.

How: the forward runs once with grad enabled on detached copies of the inputs, only to find the
leaf tensors (parameters, captured tensors) the piece differentiates into; that graph is dropped
at once. The outputs are recorded as one op whose inputs are the tensor arguments and those
leaves. Its backward restores the random state of the forward (so dropout draws the same mask),
recomputes the piece with grad enabled and returns the gradients of the inputs and leaves
through ``ember.autograd.grad``, so ``.backward()``, ``ember.autograd.grad``, tensor hooks and
DistributedDataParallel's gradient hooks all see ordinary gradients. Peak memory holds one
piece's activations at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..autograd.grad_mode import STATE, enable_grad
from ..autograd.graph import Node, attach, needs_input_grad
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _leaves(outputs: Sequence[Tensor], inputs: Sequence[Tensor]) -> list[Tensor]:
    """The leaf tensors requiring grad that ``outputs``' graph reaches, other than ``inputs``, in
    the order first met."""
    skip = {id(t) for t in inputs}
    seen_nodes: set[int] = set()
    found: dict[int, Tensor] = {}
    stack: list[Any] = [o.grad_fn if o.grad_fn is not None else o for o in outputs if o.requires_grad]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            if id(item) not in skip and item.requires_grad:
                found.setdefault(id(item), item)
            continue
        if not isinstance(item, Node) or id(item) in seen_nodes:
            continue
        seen_nodes.add(id(item))
        stack.extend(e for e in item.edges if e is not None)
    return list(found.values())


def _as_tuple(out: Any, where: str) -> tuple[tuple[Tensor, ...], bool]:
    if isinstance(out, Tensor):
        return (out,), True
    if isinstance(out, tuple | list) and out and all(isinstance(o, Tensor) for o in out):
        return tuple(out), False
    raise TypeError(
        f"{where}: the checkpointed function must return a Tensor or a tuple of Tensors, got {out!r}"
    )


def _rng_states(tensors: Iterable[Tensor]) -> dict[Any, tuple[int, int]]:
    from ..ops.random_creation import default_generator

    devices = {t.device for t in tensors} or {None}
    return {d: default_generator(d).get_state() for d in devices}


def _set_rng_states(states: dict[Any, tuple[int, int]]) -> None:
    from ..ops.random_creation import default_generator

    for d, s in states.items():
        default_generator(d).set_state(s)


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    determinism_check: str = "default",
    debug: bool = False,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)``, its intermediate activations recomputed in backward instead
    of kept. The result (a Tensor or a tuple of Tensors) and every gradient equal those of the
    plain call; with ``preserve_rng_state`` the recomputation draws the same random numbers
    (dropout masks) as the forward. ``use_reentrant`` is accepted for PyTorch compatibility: both
    settings recompute the same way, and both work with ``ember.autograd.grad``.

    A tuple result's outputs each recompute the piece when their gradient arrives."""
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"checkpoint: determinism_check must be 'default' or 'none', got {determinism_check!r}"
        )
    del use_reentrant, debug
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not STATE.enabled:
        return function(*args, **kwargs)
    rng = _rng_states(tensors) if preserve_rng_state else None

    def detached_args(needs: Sequence[bool] | None = None) -> tuple[list[Any], list[Tensor]]:
        # needs: for each tensor argument, whether it takes a gradient (in backward: as recorded,
        # not its flag now); None: the arguments' own flags
        new_args, inputs = [], []
        for a in args:
            if isinstance(a, Tensor):
                req = a.requires_grad if needs is None else needs[len(inputs)]
                d = a.detach().requires_grad_(req and a.dtype.is_floating_point)
                inputs.append(d)
                new_args.append(d)
            else:
                new_args.append(a)
        return new_args, inputs

    # the forward, recorded only to find the leaves the piece differentiates into
    call_args, inputs = detached_args()
    with enable_grad():
        outs, single = _as_tuple(function(*call_args, **kwargs), "checkpoint")
    leaves = _leaves(outs, inputs)
    results = tuple(o.detach() for o in outs)
    del outs, call_args, inputs  # drop the forward's graph: its activations are not kept
    wrt_sources = tensors + leaves
    if not any(t.requires_grad for t in wrt_sources):
        return results[0] if single else results

    def make_backward(k: int) -> Callable[[Any], tuple[Any, ...]]:
        def backward(g: Tensor) -> tuple[Any, ...]:
            from ..autograd import grad as autograd_grad
            from ..ops.random_creation import default_generator

            # which of the op's inputs (the tensor arguments, then the leaves) take a gradient:
            # as recorded, even if detach_() or requires_grad_() changed their flags since
            recorded = [needs_input_grad(i) for i in range(len(wrt_sources))]
            saved_rng = None
            if rng is not None:
                saved_rng = {d: default_generator(d).get_state() for d in rng}
                _set_rng_states(rng)
            try:
                again_args, again_inputs = detached_args(recorded[: len(tensors)])
                with enable_grad():
                    again, _ = _as_tuple(function(*again_args, **kwargs), "checkpoint")
            finally:
                if saved_rng is not None:
                    _set_rng_states(saved_rng)
            # the leaves frozen since (requires_grad_(False)) take no gradient and the
            # recomputation does not differentiate into them
            need = [t.requires_grad for t in again_inputs]
            need += [n and t.requires_grad for n, t in zip(recorded[len(tensors) :], leaves)]
            wrt = [t for t, n in zip(again_inputs + leaves, need) if n]
            if not again[k].requires_grad or not wrt:
                return tuple(None for _ in wrt_sources)
            grads = iter(autograd_grad([again[k]], wrt, [g], allow_unused=True))
            return tuple(next(grads) if n else None for n in need)

        return backward

    out = []
    for k, r in enumerate(results):
        if r.dtype.is_floating_point:
            # the tensor arguments are saved: the recomputation reads them, so changing one in
            # place (values or shape) before backward is reported, as PyTorch does, instead of
            # recomputing from the new values
            r = attach(r, "checkpoint", make_backward(k), wrt_sources, saved=tensors)
        out.append(r)
    return out[0] if single else tuple(out)


def checkpoint_sequential(
    functions: Sequence[Callable[[Any], Any]] | Any,
    segments: int,
    input: Tensor,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Run ``functions`` (a :class:`~ember.nn.Sequential` or a list of modules) in ``segments``
    chunks, checkpointing every chunk but the last, as PyTorch."""
    from ..nn.module import Sequential

    fns = list(functions) if isinstance(functions, Sequential) else list(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments}")

    def run(start: int, end: int) -> Callable[[Any], Any]:
        def forward(x: Any) -> Any:
            for f in fns[start : end + 1]:
                x = f(x)
            return x

        return forward

    size = max(len(fns) // segments, 1)
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(fns) - 1)(input)
