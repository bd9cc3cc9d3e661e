"""DataLoader: batches of a dataset, loaded in the main process or in worker processes."""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.context
import pickle
import queue
import signal
import time
import types
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from .. import ops as E
from ..ops.random_creation import Generator
from ..tensor import Tensor
from . import _worker
from .collate import default_collate
from .dataset import Dataset, IterableDataset, TensorDataset, _perm

__all__ = ["DataLoader"]

T = TypeVar("T")

#: Seconds a shutdown waits for workers to finish their current batch before terminating them.
_SHUTDOWN_TIMEOUT = 5.0
#: How many items of a list/dict, and how deep, the non-cpu-tensor check of a dataset looks.
_SCAN_ITEMS, _SCAN_DEPTH = 64, 4


class DataLoader(Generic[T]):
    """Iterate over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    ``shuffle=True`` draws a new order each epoch from ``generator`` (an :class:`ember.Generator`) or
    the default generator, so ``ember.manual_seed`` makes the order reproducible. ``drop_last`` drops
    a final short batch; ``collate_fn`` combines samples (default: :func:`default_collate`). A
    :class:`TensorDataset` with the default collate is batched by indexing its tensors directly.
    An :class:`IterableDataset` is iterated rather than indexed (no ``shuffle`` or ``sampler``).

    Worker processes (keyword-only arguments, PyTorch's semantics):

    - ``num_workers``: how many processes load batches (0, the default: the main process does).
      The order of the batches is the same as with ``num_workers=0``: the main process draws the
      shuffle order, hands out batches of indices round-robin and yields the results in order.
      Each worker holds its own copy of the dataset; an :class:`IterableDataset` is iterated in
      full by every worker unless it shards itself with :func:`get_worker_info`, and the batches
      come out one per worker in turn.
    - ``prefetch_factor``: batches in flight per worker (default 2; only with ``num_workers > 0``).
    - ``persistent_workers``: keep the workers between epochs instead of starting new ones.
    - ``worker_init_fn(worker_id)``: called in each worker after seeding, before loading.
    - ``timeout``: with workers, seconds to wait for a batch before raising RuntimeError (0: wait
      as long as it takes).
    - ``multiprocessing_context``: a start method name (``"fork"``, ``"spawn"``, ``"forkserver"``)
      or a ``multiprocessing`` context; default: multiprocessing's default. With other methods than
      fork the dataset, ``collate_fn`` and ``worker_init_fn`` are pickled (cpu tensors included),
      so they must be importable (no lambdas or locally defined classes).
    - ``pin_memory``: accepted for PyTorch compatibility and a no-op: Ember never pins host memory,
      and batches are loaded as they are; move them with ``batch.to(device)``.

    Each new set of workers gets a base seed drawn from ``generator`` (or Ember's default cpu
    generator) after the epoch's shuffle order: worker ``i`` seeds Ember's default generators,
    numpy's global generator and ``random`` with ``base_seed + i``, then runs ``worker_init_fn``.
    So the first epoch's batches equal those of ``num_workers=0`` for the same generator state,
    and later draws from that generator are shifted by the one seed draw. An error in a worker is
    raised again in the main process with the worker's traceback; a worker that dies raises a
    RuntimeError naming it and its exit code. Workers see only cpu data: a dataset holding tensors
    on another device raises ValueError (use ``num_workers=0``, or keep the data on the cpu and move
    each batch); with the fork start method, don't use other devices inside the dataset either.
    Batches are pickled from the workers to the main process, which costs a copy.
    """

    def __init__(
        self,
        dataset: Dataset[T],
        batch_size: int | None = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: Generator | None = None,
        sampler: Sequence[int] | None = None,
        *,
        num_workers: int = 0,
        pin_memory: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}"
            )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if isinstance(dataset, IterableDataset):
            if shuffle:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                    "shuffle=True (an IterableDataset decides its own order)"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but got "
                    f"sampler={sampler!r}"
                )
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                f"DataLoader: num_workers option should be a non-negative integer, got "
                f"{num_workers!r}; use num_workers=0 to disable multiprocessing"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0:
            if prefetch_factor is not None:
                raise ValueError(
                    "DataLoader: prefetch_factor option could only be specified in multiprocessing: "
                    "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                    "to None"
                )
            if persistent_workers:
                raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
            if multiprocessing_context is not None:
                raise ValueError(
                    "DataLoader: multiprocessing_context can only be used with multi-process "
                    "loading (num_workers > 0), but got num_workers=0"
                )
        elif prefetch_factor is None:
            prefetch_factor = 2
        elif isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int) or prefetch_factor < 1:
            raise ValueError(
                f"DataLoader: prefetch_factor option should be a positive integer, got {prefetch_factor!r}"
            )
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.collate_fn = collate_fn
        self.generator, self.sampler = generator, sampler
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor
        self.persistent_workers, self.timeout = bool(persistent_workers), timeout
        self.worker_init_fn, self.pin_memory = worker_init_fn, bool(pin_memory)
        self.multiprocessing_context = multiprocessing_context
        self._mp_context: Any = _resolve_context(multiprocessing_context)
        self._pool: _WorkerPool | None = None  # the persistent workers, once started

    def _indices(self) -> list[int]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if self.sampler is not None:
            return [int(i) for i in self.sampler]
        return _perm(n, self.generator) if self.shuffle else list(range(n))

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers > 0:
            return _MultiProcessingIter(self)
        return self._single_process_iter()

    def _single_process_iter(self) -> Iterator[Any]:
        # each epoch draws the seed a set of workers would get (after the shuffle, as the worker
        # path does), so the generator's stream and later epochs' shuffles do not depend on
        # num_workers, as in PyTorch
        if isinstance(self.dataset, IterableDataset):
            self._base_seed()
            it = iter(self.dataset)
            while True:
                try:
                    batch = _worker.fetch_iterable(it, self.batch_size, self.drop_last, self.collate_fn)
                except StopIteration:
                    return
                yield batch
        idx = self._indices()
        self._base_seed()
        if self.batch_size is None:
            for i in idx:
                yield self.dataset[i] if self.collate_fn is None else self.collate_fn(self.dataset[i])
            return
        bs = self.batch_size
        fast = self.collate_fn is None and isinstance(self.dataset, TensorDataset)
        for start in range(0, len(idx), bs):
            chunk = idx[start : start + bs]
            if len(chunk) < bs and self.drop_last:
                return
            if fast:
                tensors = self.dataset.tensors  # type: ignore[attr-defined]
                sel = E.tensor(chunk, dtype="int64", device=tensors[0].device)
                yield tuple(
                    E.index_select(t, 0, sel if t.device is sel.device else sel.to(t.device)) for t in tensors
                )
            else:
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[i] for i in chunk])

    def _base_seed(self) -> int:
        """A 62-bit seed for a new set of workers, drawn from the loader's generator or Ember's
        default cpu generator."""
        dev = self.generator.device if self.generator is not None else "cpu"
        hi, lo = E.randint(0, 2**31, (2,), device=dev, generator=self.generator).tolist()
        return (int(hi) << 31) | int(lo)


def _resolve_context(ctx: Any) -> Any:
    if ctx is None:
        return multiprocessing  # the default context, without fixing its start method yet
    if isinstance(ctx, str):
        methods = multiprocessing.get_all_start_methods()
        if ctx not in methods:
            raise ValueError(
                f"DataLoader: multiprocessing_context option should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={ctx!r}"
            )
        return multiprocessing.get_context(ctx)
    if isinstance(ctx, multiprocessing.context.BaseContext):
        return ctx
    raise TypeError(
        "DataLoader: multiprocessing_context option should be a valid context object or a string "
        f"specifying the start method, but got multiprocessing_context={ctx!r}"
    )


def _start_method(ctx: Any) -> str:
    return ctx.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]


def _find_non_cpu_tensor(obj: Any, path: str, depth: int, seen: set[int]) -> tuple[str, Any] | None:
    """(where, device) of a tensor not on the cpu inside ``obj`` (attributes, lists, tuples and
    dicts, a few levels deep and a few items wide), or None."""
    if isinstance(obj, Tensor):
        return (path, obj.device) if obj.device.type != "cpu" else None
    if depth >= _SCAN_DEPTH or id(obj) in seen:
        return None
    seen.add(id(obj))
    items: Any
    if isinstance(obj, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(itertools.islice(obj, _SCAN_ITEMS)))
    elif isinstance(obj, dict):
        items = ((f"{path}[{k!r}]", v) for k, v in itertools.islice(obj.items(), _SCAN_ITEMS))
    elif hasattr(obj, "__dict__") and not isinstance(
        obj, (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType)
    ):
        items = ((f"{path}.{k}", v) for k, v in itertools.islice(vars(obj).items(), _SCAN_ITEMS))
    else:
        return None
    for where, value in items:
        found = _find_non_cpu_tensor(value, where, depth + 1, seen)
        if found is not None:
            return found
    return None


def _shutdown_workers(
    workers: list[Any], index_queues: list[Any], result_queue: Any, done_event: Any
) -> None:
    """Stop worker processes: tell them (done_event, then a None task), wait up to
    ``_SHUTDOWN_TIMEOUT`` for them to finish their current batch, terminate the rest."""
    try:
        done_event.set()
    except Exception:
        pass
    for q in index_queues:
        try:
            q.put(None)
        except Exception:
            pass
    deadline = time.monotonic() + _SHUTDOWN_TIMEOUT
    for w in workers:
        try:
            w.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        except Exception:
            pass
    for q in [*index_queues, result_queue]:
        try:
            q.cancel_join_thread()
            q.close()
        except Exception:
            pass


class _WorkerPool:
    """The worker processes of one DataLoader, their per-worker task queues and the shared
    result queue. Shut down by :meth:`shutdown`, when garbage-collected, or at interpreter exit."""

    def __init__(self, loader: DataLoader[Any], base_seed: int) -> None:
        ctx = loader._mp_context
        n = loader.num_workers
        payload: Any = (loader.dataset, loader.collate_fn, loader.worker_init_fn)
        method = _start_method(ctx)
        if method != "fork":
            try:
                payload = _worker.Pickled(_worker.dumps(payload))
            except Exception as e:
                e.add_note(
                    f"DataLoader: with the {method!r} start method the dataset, collate_fn and "
                    "worker_init_fn are pickled to start the workers, so they must be importable "
                    "(no lambdas or local classes); or use multiprocessing_context='fork' where "
                    "available"
                )
                raise
        self.num_workers, self.epoch = n, 0
        self.result_queue = ctx.Queue()
        self.done_event = ctx.Event()
        self.epoch_value = ctx.Value("q", 0, lock=False)
        self.index_queues: list[Any] = []
        self.workers: list[Any] = []
        self._finalizer = weakref.finalize(
            self, _shutdown_workers, self.workers, self.index_queues, self.result_queue, self.done_event
        )
        iterable = isinstance(loader.dataset, IterableDataset)
        for wid in range(n):
            iq = ctx.Queue()
            w = ctx.Process(
                target=_worker.worker_loop,
                args=(
                    payload,
                    iq,
                    self.result_queue,
                    self.done_event,
                    self.epoch_value,
                    wid,
                    n,
                    base_seed + wid,
                    loader.batch_size,
                    loader.drop_last,
                    iterable,
                ),
                name=f"ember-data-worker-{wid}",
                daemon=True,
            )
            w.start()
            self.index_queues.append(iq)
            self.workers.append(w)

    @property
    def alive(self) -> bool:
        return self._finalizer.alive

    def shutdown(self) -> None:
        self._finalizer()

    def check_workers(self) -> None:
        """Raise RuntimeError (and shut down) if a worker process has died."""
        for wid, w in enumerate(self.workers):
            if w.is_alive():
                continue
            code = w.exitcode
            how = f"exit code {code}"
            if code is not None and code < 0:
                try:
                    how += f" (killed by signal {signal.Signals(-code).name})"
                except ValueError:
                    pass
            self.shutdown()
            raise RuntimeError(
                f"DataLoader worker {wid} (pid {w.pid}) exited unexpectedly with {how}. It may have "
                "run out of memory or crashed in native code; num_workers=0 runs the dataset in the "
                "main process, where the failure is easier to see"
            )


class _MultiProcessingIter:
    """One epoch over a DataLoader's worker processes: hands out tasks round-robin, keeps at most
    ``prefetch_factor * num_workers`` in flight, and yields the batches in task order."""

    def __init__(self, loader: DataLoader[Any]) -> None:
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._iterable = isinstance(loader.dataset, IterableDataset)
        tasks: Iterator[Any]
        if self._iterable:
            tasks = itertools.repeat(None)
        else:
            idx = loader._indices()  # drawn before the base seed: same order as num_workers=0
            bs = loader.batch_size
            if bs is None:
                tasks = iter(idx)
            else:
                chunks = [idx[s : s + bs] for s in range(0, len(idx), bs)]
                if chunks and loader.drop_last and len(chunks[-1]) < bs:
                    chunks.pop()
                tasks = iter(chunks)
        self._tasks = tasks
        pool = loader._pool
        if pool is None or not pool.alive:
            found = _find_non_cpu_tensor(loader.dataset, "dataset", 0, set())
            if found is not None:
                where, dev = found
                raise ValueError(
                    f"DataLoader: num_workers={loader.num_workers} cannot load from a dataset holding "
                    f"tensors on {dev} ({where} is on {dev}); worker processes only handle cpu data. "
                    f"Use num_workers=0, or keep the dataset on the cpu and move each batch to the "
                    f"device in the loop (batch.to('{dev}'))"
                )
            pool = _WorkerPool(loader, loader._base_seed())
            loader._pool = pool if self._persistent else None
        self._pool = pool
        pool.epoch += 1
        pool.epoch_value.value = self._epoch = pool.epoch
        n = pool.num_workers
        self._max_in_flight = loader.prefetch_factor * n  # type: ignore[operator]
        self._in_flight = self._send_idx = self._rcvd_idx = 0
        self._task_info: dict[int, tuple[Any, ...]] = {}  # idx -> (worker,) or (worker, answer)
        self._active = [True] * n  # False once a worker's IterableDataset copy has run out
        self._next_worker = itertools.cycle(range(n))
        self._done = False
        for _ in range(self._max_in_flight):
            self._try_put_task()

    def __iter__(self) -> _MultiProcessingIter:
        return self

    def _try_put_task(self) -> None:
        if self._in_flight >= self._max_in_flight or not any(self._active):
            return
        try:
            task = next(self._tasks)
        except StopIteration:
            return
        while True:
            wid = next(self._next_worker)
            if self._active[wid]:
                break
        self._pool.index_queues[wid].put((self._epoch, self._send_idx, task))
        self._task_info[self._send_idx] = (wid,)
        self._in_flight += 1
        self._send_idx += 1

    def _get(self) -> tuple[int, int, Any]:
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _worker.POLL_INTERVAL
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout} seconds waiting for a batch from "
                        f"its worker processes (timeout={self._timeout})"
                    )
                wait = min(wait, left)
            try:
                return self._pool.result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            self._pool.check_workers()

    def _take(self, idx: int) -> None:
        del self._task_info[idx]
        self._rcvd_idx += 1
        self._in_flight -= 1

    def _finish(self) -> None:
        self._done = True
        if not self._persistent:
            self._pool.shutdown()

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        if self._pool.epoch != self._epoch:
            raise RuntimeError(
                "DataLoader: this iterator was superseded by a newer iter(loader) on the same "
                "persistent workers; iterate the newest one"
            )
        if not self._pool.alive:
            raise RuntimeError(
                "DataLoader: the worker processes of this iterator have shut down after an error; "
                "start a new epoch with iter(loader)"
            )
        while True:
            # Skip tasks sent to workers whose IterableDataset copy ran out before reaching them.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info[self._rcvd_idx]
                if len(info) == 2 or self._active[info[0]]:
                    break
                self._take(self._rcvd_idx)
                self._try_put_task()
            else:
                self._finish()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                self._take(self._rcvd_idx)
                return self._process(info[1])
            epoch, idx, answer = self._get()
            if epoch != self._epoch:
                continue  # left over from an abandoned epoch of persistent workers
            if isinstance(answer, _worker.IterableExhausted):
                self._active[answer.worker_id] = False
                continue
            if idx != self._rcvd_idx:
                self._task_info[idx] += (answer,)
                continue
            self._take(idx)
            return self._process(answer)

    def _process(self, answer: Any) -> Any:
        self._try_put_task()
        if isinstance(answer, _worker.ExceptionWrapper):
            answer.reraise()
        return pickle.loads(answer)
