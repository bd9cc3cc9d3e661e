"""``DistributedDataParallel``: data-parallel training over the ranks of the default process group.

How it works (PyTorch's design, on ``ember.distributed``):

- Construction checks that every rank's module has the same parameters (count, shapes, dtypes;
  a mismatch names the parameter on both sides), then broadcasts parameters and buffers from
  rank 0, so every rank starts from the same model.
- The parameters that require grad are laid into buckets of about ``bucket_cap_mb`` MiB, in
  reverse order of ``module.parameters()`` (roughly the order backward produces their
  gradients), one device and dtype per bucket.
- Each parameter has a post-accumulate-grad hook (:meth:`ember.Tensor.register_post_accumulate_grad_hook`):
  when the last parameter of a bucket has its final gradient, the bucket's gradients are laid
  end to end into one tensor whose non-blocking ``all_reduce(AVG)`` starts at once, while
  backward goes on computing the gradients of earlier layers. Buckets start strictly in order,
  so every rank issues the same collectives in the same order whatever order its gradients
  became ready in. Each hook also polls the collectives in flight (MPI advances them only inside
  its calls).
- A callback at the end of backward (:func:`ember.autograd.queue_callback`) waits for every
  bucket and makes each parameter's ``.grad`` its averaged slice of its bucket's tensor.
- ``no_sync()``: forward and backward inside it accumulate gradients locally; the first backward
  after it averages the accumulated gradients.
- ``find_unused_parameters=True``: each forward walks the output's autograd graph; parameters it
  cannot reach count as ready with zero gradient at once, so their buckets are not held back.
  A small ``all_reduce(MAX)`` of which parameters were used then leaves the ``.grad`` of a
  parameter unused on every rank untouched. Without it, a parameter that gets no gradient is an
  error naming it.
- ``broadcast_buffers=True``: every forward first broadcasts the buffers (BatchNorm's running
  statistics) from rank 0, so every rank evaluates with rank 0's statistics.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ... import dtypes as _dt
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.graph import Node, queue_callback
from ...distributed import collectives as C
from ...distributed.contract import DistError, ReduceOp
from ...distributed.process_group import state
from ...tensor import Tensor
from ..module import Module

__all__ = ["DistributedDataParallel"]

_MIB = 1024 * 1024


class _Bucket:
    """Parameters whose gradients are all-reduced together, laid end to end in that order."""

    __slots__ = ("index", "params", "offsets", "numel", "pending", "flat", "work")

    def __init__(self, index: int) -> None:
        self.index = index
        self.params: list[Tensor] = []
        self.offsets: list[int] = []
        self.numel = 0
        self.pending = 0  # parameters whose gradient is not final yet in this iteration
        self.flat: Tensor | None = None
        self.work: C.Work | None = None


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training: each rank runs it on its own share of the data
    and, in ``backward()``, the gradients are averaged over the ranks, so every rank's optimizer
    takes the same step (``torch.nn.parallel.DistributedDataParallel``).

    module: the model, the same on every rank, its parameters on one device.
    broadcast_buffers: broadcast the buffers from rank 0 at every forward (default True).
    bucket_cap_mb: the size of a gradient bucket in MiB (default 25).
    find_unused_parameters: allow parameters that get no gradient in some iterations.
    init_sync: broadcast parameters and buffers from rank 0 when constructed (default True).
    device_ids, output_device, dim, process_group, gradient_as_bucket_view, static_graph: accepted
        for PyTorch compatibility; only the default group (``process_group=None``) is supported,
        and gradients are always views of their bucket.

    ``module`` is reachable as ``.module``; the state dict's keys start with ``module.``, as in
    PyTorch, so save ``ddp.module.state_dict()`` to load it into an unwrapped model.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = 25.0,
        find_unused_parameters: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        init_sync: bool = True,
    ) -> None:
        super().__init__()
        st = state("DistributedDataParallel")
        if process_group is not None:
            raise DistError(
                f"DistributedDataParallel: only the default process group is supported (process_group=None), "
                f"got {process_group!r}"
            )
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: expected an ember.nn.Module, got {type(module).__name__}"
            )
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_cap_mb = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        if not self.bucket_cap_mb > 0:
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb!r}"
            )
        #: False inside no_sync(): backward accumulates gradients locally
        self.require_backward_grad_sync = True
        self.world_size = st.pg.world_size
        seen: set[int] = set()
        named = []
        for name, p in module.named_parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                named.append((name, p))
        if not named:
            raise DistError("DistributedDataParallel: the module has no parameter that requires grad")
        devices = {str(p.device) for _, p in named}
        if len(devices) > 1:
            raise DistError(
                f"DistributedDataParallel: the module's parameters are on several devices "
                f"({', '.join(sorted(devices))}); put the whole module on one device (module.to(device)) "
                "before wrapping it"
            )
        self._names = {id(p): n for n, p in named}
        self._check_same_parameters(named)
        if init_sync:
            self._broadcast([p for _, p in named] + [b for _, b in module.named_buffers() if b is not None])
        self._buckets = self._make_buckets([p for _, p in named])
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for _, p in named]
        self._sync_this_backward = False
        self._unused: set[int] = set()  # parameters the last forward's graph does not reach
        self._next_bucket = 0
        self._in_backward = False
        self._ready: set[int] = set()

    # -- construction ----------------------------------------------------------------------------
    def _check_same_parameters(self, named: list[tuple[str, Tensor]]) -> None:
        """Every rank must have the same parameters: gather (count, shapes, dtypes) and compare."""
        from ...ops.creation import full, tensor

        if self.world_size == 1:
            return
        meta = [len(named)]
        for _, p in named:
            meta += [_dt.ALL_DTYPES.index(p.dtype), p.ndim, *p.shape]
        device = named[0][1].device
        length = tensor([len(meta)], dtype=_dt.int64, device=device)
        lengths = [full((1,), 0, dtype=_dt.int64, device=device) for _ in range(self.world_size)]
        C.all_gather(lengths, length)
        longest = max(int(t.item()) for t in lengths)
        mine = tensor(meta + [-1] * (longest - len(meta)), dtype=_dt.int64, device=device)
        everyone = [full((longest,), 0, dtype=_dt.int64, device=device) for _ in range(self.world_size)]
        C.all_gather(everyone, mine)
        rows = [_decode(t.tolist()) for t in everyone]
        for r, row in enumerate(rows[1:], start=1):
            if row == rows[0]:
                continue
            if len(row) != len(rows[0]):
                raise DistError(
                    f"DistributedDataParallel: rank {r}'s module has {len(row)} parameters that require "
                    f"grad, rank 0's has {len(rows[0])}; every rank must build the same model"
                )
            i = next(i for i, (a, b) in enumerate(zip(row, rows[0])) if a != b)
            raise DistError(
                f"DistributedDataParallel: parameter {i} ({named[i][0]!r} on this rank, {self._rank()}) has "
                f"shape {row[i][1]} and dtype {row[i][0]} on rank {r} but shape {rows[0][i][1]} and dtype "
                f"{rows[0][i][0]} on rank 0; every rank must build the same model"
            )

    def _rank(self) -> str:
        return f"rank {state('DistributedDataParallel').pg.rank}"

    def _broadcast(self, tensors: list[Tensor]) -> None:
        """Broadcast ``tensors`` from rank 0, laid end to end per device and dtype."""
        from ...ops.joining import cat

        if self.world_size == 1 or not tensors:
            return
        groups: dict[tuple[str, str], list[Tensor]] = {}
        for t in tensors:
            groups.setdefault((str(t.device), t.dtype.name), []).append(t)
        with no_grad():
            for ts in groups.values():
                flat = cat([t.detach().reshape(-1) for t in ts])
                C.broadcast(flat, src=0)
                offset = 0
                for t in ts:
                    n = t.numel()
                    t.detach().copy_(flat[offset : offset + n].reshape(t.shape))
                    offset += n

    def _make_buckets(self, params: list[Tensor]) -> list[_Bucket]:
        cap = self.bucket_cap_mb * _MIB
        buckets: list[_Bucket] = []
        key = None
        for p in reversed(params):
            size = p.numel() * p.dtype.itemsize
            this = (str(p.device), p.dtype.name)
            b = buckets[-1] if buckets else None
            if b is None or this != key or (b.params and (b.numel * p.dtype.itemsize + size) > cap):
                b = _Bucket(len(buckets))
                buckets.append(b)
                key = this
            b.params.append(p)
            b.offsets.append(b.numel)
            b.numel += p.numel()
        return buckets

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Broadcast the buffers from rank 0 (``broadcast_buffers``), run the module, and prepare
        the gradient buckets for the backward that follows."""
        if self._in_backward:
            raise DistError(
                "DistributedDataParallel: forward called while a backward's gradient averaging is "
                "unfinished; call forward and backward in turn"
            )
        if self.broadcast_buffers:
            self._broadcast([b for _, b in self.module.named_buffers() if b is not None])
        out = self.module(*args, **kwargs)
        self._sync_this_backward = self.require_backward_grad_sync and is_grad_enabled()
        self._ready = set()
        self._next_bucket = 0
        for b in self._buckets:
            b.pending, b.flat, b.work = len(b.params), None, None
        self._unused = set()
        if self._sync_this_backward and self.find_unused_parameters:
            reached = _leaves_reached(out)
            self._unused = {pid for pid in self._bucket_of if pid not in reached}
            for pid in self._unused:
                self._bucket_of[pid].pending -= 1
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside the ``with`` block, forward and backward accumulate gradients on each rank
        without averaging; the first backward after it averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- backward --------------------------------------------------------------------------------
    def _grad_ready(self, p: Tensor) -> None:
        """A parameter's gradient is final: start its bucket (and any ready ones after it)."""
        if not self._sync_this_backward:
            return
        pid = id(p)
        if pid in self._ready:
            raise DistError(
                f"DistributedDataParallel: parameter {self._names[pid]!r} got its gradient twice "
                "in one iteration; run forward before each backward (use no_sync() to accumulate)"
            )
        if not self._in_backward:
            self._in_backward = True
            queue_callback(self._finish_backward)
        self._ready.add(pid)
        if pid in self._unused:  # reached after all, through a path the graph walk missed
            self._unused.discard(pid)
        else:
            self._bucket_of[pid].pending -= 1
        self._launch_ready()
        for b in self._buckets[: self._next_bucket]:  # let MPI advance what is in flight
            if b.work is not None:
                b.work.is_completed()

    def _launch_ready(self) -> None:
        from ...ops.creation import zeros
        from ...ops.joining import cat

        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            b = self._buckets[self._next_bucket]
            with no_grad():
                # an unused parameter adds its gradient so far (accumulated under no_sync) or zeros
                parts = [
                    (
                        p.grad if p.grad is not None else zeros(p.shape, dtype=p.dtype, device=p.device)
                    ).reshape(-1)
                    for p in b.params
                ]
                b.flat = cat(parts) if len(parts) > 1 else parts[0].clone()
            b.work = C.all_reduce(b.flat, op=ReduceOp.AVG, async_op=True)
            self._next_bucket += 1

    def _finish_backward(self) -> None:
        """At the end of backward: wait for every bucket and give each parameter its averaged
        gradient (a view of its bucket)."""
        self._in_backward = False
        missing = [
            self._names[id(p)]
            for b in self._buckets
            for p in b.params
            if id(p) not in self._ready and id(p) not in self._unused
        ]
        if missing:
            for b in self._buckets[: self._next_bucket]:
                b.work.wait()  # type: ignore[union-attr]
            raise DistError(
                f"DistributedDataParallel: parameters {missing} got no gradient in this backward, so "
                "their buckets could not be averaged; pass find_unused_parameters=True if some "
                "parameters are not used in every iteration (or set requires_grad=False on them)"
            )
        unused_everywhere: set[int] = set()
        if self.find_unused_parameters:
            unused_everywhere = self._unused_on_every_rank()
        for b in self._buckets:
            b.work.wait()  # type: ignore[union-attr]
            flat = b.flat
            assert flat is not None
            for p, offset in zip(b.params, b.offsets):
                if id(p) in unused_everywhere:
                    continue
                p.grad = flat[offset : offset + p.numel()].reshape(p.shape)
            b.flat, b.work = None, None

    def _unused_on_every_rank(self) -> set[int]:
        """The parameters no rank used in this iteration (an ``all_reduce(MAX)`` of used flags)."""
        from ...ops.creation import tensor

        ids = [id(p) for b in self._buckets for p in b.params]
        device = self._buckets[0].params[0].device
        used = tensor([0 if pid in self._unused else 1 for pid in ids], dtype=_dt.uint8, device=device)
        C.all_reduce(used, op=ReduceOp.MAX)
        return {pid for pid, u in zip(ids, used.tolist()) if not u}

    def extra_repr(self) -> str:
        sizes = ", ".join(str(b.numel) for b in self._buckets)
        return f"world_size={self.world_size}, buckets of {sizes} elements"


def _decode(meta: list[int]) -> list[tuple[str, tuple[int, ...]]]:
    """(dtype name, shape) per parameter from the gathered metadata."""
    out = []
    i = 1
    for _ in range(meta[0]):
        dtype, ndim = meta[i], meta[i + 1]
        out.append((_dt.ALL_DTYPES[dtype].name, tuple(meta[i + 2 : i + 2 + ndim])))
        i += 2 + ndim
    return out


def _leaves_reached(out: Any) -> set[int]:
    """The ids of the leaf tensors the autograd graph of ``out`` (tensors in nested tuples, lists
    and dicts) reaches."""
    roots: list[Any] = []

    def collect(x: Any) -> None:
        if isinstance(x, Tensor):
            roots.append(x)
        elif isinstance(x, (list, tuple)):
            for v in x:
                collect(v)
        elif isinstance(x, dict):
            for v in x.values():
                collect(v)

    collect(out)
    reached: set[int] = set()
    seen: set[int] = set()
    stack: list[Any] = []
    for t in roots:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            reached.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for e in node.edges:
            if type(e) is Node:
                stack.append(e)
            elif e is not None:
                reached.add(id(e))
    return reached
