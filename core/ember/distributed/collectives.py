"""The collectives (``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``, ``barrier``)
and :class:`Work`, the handle ``async_op=True`` returns.

Each call checks its arguments (naming the op, the values and the remedy), hands the tensors to
the default group's backend (see :mod:`ember.distributed.contract` for what a backend gets) and
bumps the version counter of the tensors it writes. Collectives are not recorded by autograd,
as in ``torch.distributed``. With ``EMBER_DISTRIBUTED_DEBUG=DETAIL`` every call first gathers
each rank's op, shape and dtype and raises :class:`~ember.distributed.DistError` naming every
rank's call when they differ.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from .. import dtypes as _dt
from ..tensor import Tensor
from .contract import (
    BackendWork,
    DistBackendError,
    DistError,
    ReduceOp,
    describe_call,
    timeout_error,
)
from .process_group import GroupState, _no_subgroups, _timeout_seconds, state

__all__ = ["Work", "all_gather", "all_reduce", "barrier", "broadcast", "reduce_scatter"]


class Work:
    """A collective started with ``async_op=True`` (``torch.distributed.Work``).

    ``wait(timeout=None)`` blocks until it completes and returns True, or raises
    :class:`~ember.distributed.DistTimeoutError` naming the op, the shape and the ranks that did
    not arrive once ``timeout`` (seconds or a ``timedelta``; default the group's) has passed.
    ``is_completed()`` never blocks; ``result()`` is the list of tensors the collective wrote.
    """

    __slots__ = ("_work", "_st", "_op", "_tensor", "_detail", "_result", "_done")

    def __init__(
        self, work: BackendWork, st: GroupState, op: str, tensor: Tensor | None, detail: str, result: list
    ) -> None:
        self._work, self._st, self._op, self._tensor = work, st, op, tensor
        self._detail, self._result, self._done = detail, result, False

    def wait(self, timeout: float | datetime.timedelta | None = None) -> bool:
        """Block until the collective completes; True, or :class:`DistTimeoutError` after ``timeout``."""
        if self._done:
            return True
        seconds = self._st.timeout if timeout is None else _timeout_seconds(timeout)
        if not self._work.wait(seconds):
            pg = self._st.pg
            call = describe_call(self._op, self._tensor, self._detail)
            raise timeout_error(
                call, pg.rank, pg.world_size, seconds, self._work.absent_ranks(), self._st.backend
            )
        self._done = True
        return True

    def is_completed(self) -> bool:
        """Whether the collective has completed (never blocks)."""
        if not self._done:
            self._done = self._work.is_completed()
        return self._done

    def result(self) -> list[Tensor]:
        """The tensors the collective wrote (empty for a barrier)."""
        return list(self._result)

    def __repr__(self) -> str:
        state_ = "completed" if self._done else "pending"
        return f"<ember.distributed.Work {describe_call(self._op, self._tensor, self._detail)}, {state_}>"


# -- argument checks ----------------------------------------------------------------------------
def _check_tensor(op: str, what: str, t: object, st: GroupState, like: Tensor | None = None) -> Tensor:
    """``t`` as a Tensor a backend can take: contiguous, on a device type the backend moves and,
    with ``like``, on its device with its shape and dtype."""
    if not isinstance(t, Tensor):
        raise DistError(f"{op}: {what} must be an ember.Tensor, got {type(t).__name__}")
    if st.device_types is not None and t.device.type not in st.device_types:
        raise DistBackendError(
            f"{op}: backend {st.backend!r} does not support tensors on {t.device} (it moves tensors on "
            f"{', '.join(st.device_types)}); move the tensor (.to('{st.device_types[0]}')) or initialise a "
            f"backend that supports {t.device.type} (ember info lists the installed ones)"
        )
    if like is not None:
        if t.device is not like.device:
            raise DistError(
                f"{op}: {what} is on {t.device} but the input tensor is on {like.device}; every tensor "
                f"of one collective must be on one device (use .to('{like.device}'))"
            )
        if t.shape != like.shape or t.dtype is not like.dtype:
            raise DistError(
                f"{op}: {what} has shape {t.shape} and dtype {t.dtype.name}, but the input tensor has "
                f"shape {like.shape} and dtype {like.dtype.name}; every entry must match the input"
            )
    if not _is_contiguous(t):
        raise DistError(
            f"{op}: {what} (shape {t.shape}, strides {t.stride()}) is not contiguous; collectives "
            "work on contiguous tensors: pass t.contiguous() (and copy the result back into t), or "
            "make the tensor contiguous before"
        )
    return t


def _is_contiguous(t: Tensor) -> bool:
    """C-contiguity through the device's own kernel when it has one (a collective's fixed cost
    matters at small sizes: this is 0.2 µs on cpu where ``Tensor.is_contiguous`` takes 2 µs)."""
    k = t.device.kernels.get("is_contiguous")
    return k(t._data) if k is not None else t.is_contiguous()


def _check_list(op: str, what: str, ts: object, st: GroupState, like: Tensor) -> list[Tensor]:
    if not isinstance(ts, (list, tuple)):
        raise DistError(f"{op}: {what} must be a list of {st.pg.world_size} tensors, got {type(ts).__name__}")
    if len(ts) != st.pg.world_size:
        raise DistError(
            f"{op}: {what} has {len(ts)} tensors but the world has {st.pg.world_size} ranks; pass one "
            "tensor per rank"
        )
    return [_check_tensor(op, f"{what}[{i}]", t, st, like) for i, t in enumerate(ts)]


def _check_op(op_name: str, op: object, t: Tensor) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise DistError(
            f"{op_name}: op must be an ember.distributed.ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}"
        )
    if op is ReduceOp.AVG and not t.dtype.is_floating_point:
        raise DistError(
            f"{op_name}: ReduceOp.AVG needs a floating tensor, got {t.dtype.name}; use ReduceOp.SUM and "
            "divide by the world size"
        )
    return op


def _plain(t: Tensor) -> Tensor:
    """``t`` as the backend gets it: outside autograd (sharing memory and version counter)."""
    return t.detach() if t.requires_grad else t


# -- running a collective -----------------------------------------------------------------------
def _run(
    st: GroupState,
    op: str,
    tensor: Tensor | None,
    detail: str,
    code: int,
    start: Callable[[bool], BackendWork],
    written: Sequence[Tensor],
    async_op: bool,
) -> Work | None:
    st.seq += 1
    if st.debug == "DETAIL":
        _check_across_ranks(st, op, tensor, code, detail)
    work = start(not async_op)
    for t in written:
        t._version[0] += 1
    if async_op:
        return Work(work, st, op, tensor, detail, list(written))
    if not work.is_completed():  # a backend may leave even a blocking call to finish here
        Work(work, st, op, tensor, detail, list(written)).wait()
    return None


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: None = None, async_op: bool = False
) -> Work | None:
    """Combine ``tensor`` over all ranks with ``op``, in place on every rank.

    Returns None, or with ``async_op=True`` a :class:`Work` to ``wait()`` on (the tensor holds the
    result once it completes).
    """
    st = state("all_reduce")
    _no_subgroups("all_reduce", group)
    _check_tensor("all_reduce", "tensor", tensor, st)
    _check_op("all_reduce", op, tensor)
    x = _plain(tensor)
    return _run(
        st,
        "all_reduce",
        tensor,
        op.name,
        _OP_CODES[op],
        lambda b: st.pg.all_reduce(x, op, b),
        (tensor,),
        async_op,
    )


def broadcast(tensor: Tensor, src: int, group: None = None, async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank."""
    st = state("broadcast")
    _no_subgroups("broadcast", group)
    _check_tensor("broadcast", "tensor", tensor, st)
    world = st.pg.world_size
    if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < world:
        raise DistError(f"broadcast: src={src!r} is not a rank of a world of {world} (0 .. {world - 1})")
    x = _plain(tensor)
    return _run(
        st, "broadcast", tensor, f"src={src}", src, lambda b: st.pg.broadcast(x, src, b), (tensor,), async_op
    )


def all_gather(
    tensor_list: list[Tensor], tensor: Tensor, group: None = None, async_op: bool = False
) -> Work | None:
    """``tensor_list[r]`` gets rank r's ``tensor`` on every rank (one entry per rank, each of
    ``tensor``'s shape, dtype and device)."""
    st = state("all_gather")
    _no_subgroups("all_gather", group)
    _check_tensor("all_gather", "tensor", tensor, st)
    outs = _check_list("all_gather", "tensor_list", tensor_list, st, tensor)
    plain = [_plain(t) for t in outs]
    x = _plain(tensor)
    return _run(st, "all_gather", tensor, "", 0, lambda b: st.pg.all_gather(plain, x, b), outs, async_op)


def reduce_scatter(
    output: Tensor,
    input_list: list[Tensor],
    op: ReduceOp = ReduceOp.SUM,
    group: None = None,
    async_op: bool = False,
) -> Work | None:
    """``output`` on rank r gets ``input_list[r]`` combined over all ranks with ``op`` (one entry
    per rank, each of ``output``'s shape, dtype and device)."""
    st = state("reduce_scatter")
    _no_subgroups("reduce_scatter", group)
    _check_tensor("reduce_scatter", "output", output, st)
    ins = _check_list("reduce_scatter", "input_list", input_list, st, output)
    _check_op("reduce_scatter", op, output)
    plain = [_plain(t) for t in ins]
    y = _plain(output)
    return _run(
        st,
        "reduce_scatter",
        output,
        op.name,
        _OP_CODES[op],
        lambda b: st.pg.reduce_scatter(y, plain, op, b),
        (output,),
        async_op,
    )


def barrier(group: None = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Return once every rank has called ``barrier`` (``device_ids`` is accepted and ignored)."""
    st = state("barrier")
    _no_subgroups("barrier", group)
    return _run(st, "barrier", None, "", 0, lambda b: st.pg.barrier(b), (), async_op)


# -- EMBER_DISTRIBUTED_DEBUG=DETAIL: the same collective on every rank ---------------------------
_OPS = ("all_reduce", "broadcast", "all_gather", "reduce_scatter", "barrier")
_OP_CODES = {op: i for i, op in enumerate(ReduceOp)}
_MAX_DIMS = 8
#: op, its detail code, dtype, ndim, numel, seq, then the first _MAX_DIMS sizes
_FINGERPRINT_LEN = 6 + _MAX_DIMS


def _fingerprint(st: GroupState, op: str, tensor: Tensor | None, code: int) -> list[int]:
    shape = tuple(tensor.shape) if tensor is not None else ()
    dtype = _dt.ALL_DTYPES.index(tensor.dtype) if tensor is not None else -1
    numel = tensor.numel() if tensor is not None else 0
    dims = list(shape[:_MAX_DIMS]) + [-1] * (_MAX_DIMS - min(len(shape), _MAX_DIMS))
    return [_OPS.index(op), code, dtype, len(shape) if tensor is not None else -1, numel, st.seq, *dims]


def _describe_fingerprint(fp: Sequence[int]) -> str:
    op = _OPS[fp[0]] if 0 <= fp[0] < len(_OPS) else f"op #{fp[0]}"
    parts = []
    if fp[3] >= 0:
        ndim = fp[3]
        dims = tuple(fp[6 : 6 + min(ndim, _MAX_DIMS)])
        shape = str(dims) if ndim <= _MAX_DIMS else f"{dims[:-1]} ... ({ndim} dims, {fp[4]} elements)"
        parts += [f"shape {shape}" if ndim != 1 else f"shape ({dims[0]},)", _dt.ALL_DTYPES[fp[2]].name]
    if op in ("all_reduce", "reduce_scatter"):
        parts.append(list(ReduceOp)[fp[1]].name)
    elif op == "broadcast":
        parts.append(f"src={fp[1]}")
    return (f"{op} ({', '.join(parts)})" if parts else op) + f" as collective #{fp[5]}"


def _check_across_ranks(st: GroupState, op: str, tensor: Tensor | None, code: int, detail: str) -> None:
    """Gather every rank's fingerprint of this call; raise naming each rank's call if they differ."""
    from ..ops.creation import tensor as make_tensor
    from ..ops.creation import zeros

    if tensor is not None:
        device = tensor.device
    elif st.pg.device is not None:  # a backend bound to one device (NCCL: the rank's GPU)
        device = st.pg.device
    elif st.device_types is None or "cpu" in st.device_types:
        device = "cpu"
    else:
        device = st.device_types[0]
    mine = make_tensor(_fingerprint(st, op, tensor, code), dtype=_dt.int64, device=device)
    gathered = [zeros(_FINGERPRINT_LEN, dtype=_dt.int64, device=mine.device) for _ in range(st.pg.world_size)]
    st.pg.all_gather(gathered, mine, True).wait(st.timeout) or _fail_debug_exchange(st, op)
    rows = [g.tolist() for g in gathered]
    if all(r == rows[0] for r in rows):
        return
    calls = "; ".join(f"rank {r}: {_describe_fingerprint(fp)}" for r, fp in enumerate(rows))
    raise DistError(
        f"{op}: the ranks called different collectives (EMBER_DISTRIBUTED_DEBUG=DETAIL): {calls}. "
        "Every rank must call the same collectives, with tensors of the same shape and dtype, in the "
        "same order"
    )


def _fail_debug_exchange(st: GroupState, op: str) -> None:
    pg = st.pg
    call = f"{op}'s EMBER_DISTRIBUTED_DEBUG check (all_gather of the ranks' calls)"
    raise timeout_error(call, pg.rank, pg.world_size, st.timeout, None, st.backend)
