"""What runs inside a DataLoader worker process, and how batches cross the process boundary.

Batches travel as bytes made by :func:`dumps`: a pickler that writes cpu tensors as (numpy array,
dtype, requires_grad) and refuses tensors on other devices. The main process rebuilds them with
``pickle.loads``. ``ember.Tensor`` itself stays unpicklable (``ember.save`` is the way to store
tensors); this path is private to ``ember.data``.
"""

from __future__ import annotations

import io
import itertools
import os
import pickle
import queue
import random
import sys
import traceback
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from .. import ops as E
from ..tensor import Tensor
from .collate import default_collate
from .dataset import TensorDataset

__all__ = ["WorkerInfo", "get_worker_info"]

#: How often (seconds) a waiting worker checks that its parent is alive, and a waiting main
#: process checks that its workers are.
POLL_INTERVAL = 0.1


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker: ``id`` (0 .. num_workers-1),
    ``num_workers``, ``seed`` (the seed this worker's Ember, numpy and ``random`` generators got)
    and ``dataset`` (this worker's copy of the dataset)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset: Any) -> None:
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self) -> str:
        return (
            f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
            f"dataset={type(self.dataset).__name__})"
        )


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, a :class:`WorkerInfo` (``id``, ``num_workers``, ``seed``,
    ``dataset``); ``None`` in the main process. An :class:`IterableDataset` uses it to shard its
    stream, a ``worker_init_fn`` to configure the worker's copy of the dataset."""
    return _worker_info


# -- pickling batches ----------------------------------------------------------------------------
def _rebuild_tensor(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = E.from_numpy(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(array: np.ndarray, requires_grad: bool) -> Tensor:
    from ..nn.parameter import Parameter

    return Parameter(E.from_numpy(array), requires_grad=requires_grad)


def _reduce_tensor(t: Tensor) -> tuple[Callable[..., Tensor], tuple[np.ndarray, bool]]:
    if t.device.type != "cpu":
        raise ValueError(
            f"DataLoader: a worker process produced a tensor on {t.device}; only cpu tensors can "
            f"be sent from worker processes. Build samples on the cpu and move each batch with "
            f"batch.to('{t.device}') in the main process, or use num_workers=0"
        )
    if t.requires_grad and t.grad_fn is not None:
        raise RuntimeError(
            "DataLoader: a worker process produced a non-leaf tensor that requires grad; autograd "
            "graphs cannot cross process boundaries: return tensor.detach() from the dataset"
        )
    array = np.array(t.device.kernels["to_numpy"](t._data), copy=True, order="C")
    from ..nn.parameter import Parameter

    rebuild = _rebuild_parameter if isinstance(t, Parameter) else _rebuild_tensor
    return rebuild, (array, bool(t.requires_grad))


class _Pickler(ForkingPickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            return _reduce_tensor(obj)
        return NotImplemented


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` for another process, cpu tensors included (``pickle.loads`` reads it)."""
    buf = io.BytesIO()
    _Pickler(buf, pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


class Pickled:
    """Bytes from :func:`dumps`, to be unpickled in the worker (used for non-fork start methods,
    where the dataset, collate_fn and worker_init_fn must be pickled and may hold tensors)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


# -- messages from workers -----------------------------------------------------------------------
class IterableExhausted:
    """A worker's answer once its copy of an IterableDataset has run out."""

    __slots__ = ("worker_id",)

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _KeyErrorMessage(str):
    """KeyError quotes its message; this keeps the traceback text readable."""

    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, worker_id: int, where: str = "") -> None:
        exc = sys.exc_info()[1]
        self.worker_id, self.pid, self.where = worker_id, os.getpid(), where
        self.type_name = type(exc).__name__
        self.traceback = traceback.format_exc()
        try:
            self.exc_type: bytes | None = pickle.dumps(type(exc))
        except Exception:
            self.exc_type = None

    def reraise(self) -> None:
        """Raise the worker's exception type (RuntimeError when it cannot be rebuilt) with a message
        naming the worker and holding the original traceback."""
        msg = (
            f"Caught {self.type_name} in DataLoader worker {self.worker_id} (pid {self.pid})"
            f"{self.where}.\nOriginal {self.traceback}"
        )
        exc_type: Any = None
        if self.exc_type is not None:
            try:
                exc_type = pickle.loads(self.exc_type)
            except Exception:
                exc_type = None
        if exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = exc_type(msg) if exc_type is not None else RuntimeError(msg)
        except Exception:
            exc = RuntimeError(msg)
        if not isinstance(exc, BaseException):
            exc = RuntimeError(msg)
        raise exc


# -- fetching ------------------------------------------------------------------------------------
def fetch_map(
    dataset: Any, indices: Any, batched: bool, collate_fn: Callable[[list[Any]], Any] | None
) -> Any:
    """The batch of a map-style dataset at ``indices`` (one index when not ``batched``), exactly as
    the single-process DataLoader builds it (TensorDataset gathers rows in one index_select)."""
    if not batched:
        sample = dataset[indices]
        return sample if collate_fn is None else collate_fn(sample)
    if collate_fn is None and isinstance(dataset, TensorDataset):
        sel = E.tensor(indices, dtype="int64", device=dataset.tensors[0].device)
        return tuple(
            E.index_select(t, 0, sel if t.device is sel.device else sel.to(t.device)) for t in dataset.tensors
        )
    return (collate_fn or default_collate)([dataset[i] for i in indices])


def fetch_iterable(
    it: Any, batch_size: int | None, drop_last: bool, collate_fn: Callable[[list[Any]], Any] | None
) -> Any:
    """The next batch (or sample when ``batch_size`` is None) from iterator ``it``; raises
    StopIteration when it has run out (or only a short batch is left and ``drop_last``)."""
    if batch_size is None:
        sample = next(it)
        return sample if collate_fn is None else collate_fn(sample)
    batch = list(itertools.islice(it, batch_size))
    if not batch or (drop_last and len(batch) < batch_size):
        raise StopIteration
    return (collate_fn or default_collate)(batch)


def seed_worker(seed: int) -> None:
    """Seed Ember's default generators, numpy's global generator and ``random``."""
    E.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


# -- the worker process --------------------------------------------------------------------------
def worker_loop(
    payload: Any,
    index_queue: Any,
    result_queue: Any,
    done_event: Any,
    epoch_value: Any,
    worker_id: int,
    num_workers: int,
    seed: int,
    batch_size: int | None,
    drop_last: bool,
    iterable: bool,
) -> None:
    """Serve tasks ``(epoch, idx, indices)`` from ``index_queue`` with ``(epoch, idx, answer)`` on
    ``result_queue`` until a ``None`` task (shutdown) or the parent process dies. ``answer`` is
    bytes from :func:`dumps`, an :class:`ExceptionWrapper` or an :class:`IterableExhausted`. Tasks
    of an epoch other than ``epoch_value`` (an abandoned iterator's) are skipped."""
    global _worker_info
    import multiprocessing

    try:
        init_error: ExceptionWrapper | None = None
        dataset: Any = None
        try:
            if isinstance(payload, Pickled):
                payload = pickle.loads(payload.data)
            dataset, collate_fn, worker_init_fn = payload
            _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
            seed_worker(seed)
        except Exception:
            init_error = ExceptionWrapper(worker_id, " while starting up")
        if init_error is None and worker_init_fn is not None:
            try:
                worker_init_fn(worker_id)
            except Exception:
                init_error = ExceptionWrapper(worker_id, " while running worker_init_fn")
        parent = multiprocessing.parent_process()
        epoch, it, exhausted = None, None, False
        while True:
            try:
                task = index_queue.get(timeout=POLL_INTERVAL)
            except queue.Empty:
                if parent is not None and not parent.is_alive():
                    break
                continue
            if task is None:
                break
            task_epoch, idx, indices = task
            if done_event.is_set() or task_epoch != epoch_value.value:
                continue
            if task_epoch != epoch:  # a new epoch: a persistent worker starts the stream again
                epoch, it, exhausted = task_epoch, None, False
            answer: Any
            if init_error is not None:
                answer = init_error
            elif iterable and exhausted:
                continue
            else:
                try:
                    if iterable:
                        if it is None:
                            it = iter(dataset)
                        data = fetch_iterable(it, batch_size, drop_last, collate_fn)
                    else:
                        data = fetch_map(dataset, indices, batch_size is not None, collate_fn)
                    answer = dumps(data)
                    del data
                except StopIteration:
                    exhausted, it = True, None
                    answer = IterableExhausted(worker_id)
                except Exception:
                    answer = ExceptionWrapper(worker_id)
            result_queue.put((task_epoch, idx, answer))
            del answer
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group; the main process handles it
    # Undelivered results are of no use once told to stop; don't wait on a full pipe at exit.
    result_queue.cancel_join_thread()
