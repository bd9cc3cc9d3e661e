"""ember.data.DataLoader with worker processes (num_workers > 0): real processes, small datasets."""

from __future__ import annotations

import gc
import os
import random
import time

import ember
import numpy as np
import pytest
from conftest import run_python
from ember.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info


class Squares(Dataset):
    """Samples mixing tensors, ints and floats; which worker loaded each one."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "x": ember.tensor([float(i), float(i * i)]),
            "y": i,
            "worker": -1 if info is None else info.id,
        }


_INIT: dict[str, int] = {}


def _init_fn(worker_id):
    _INIT["value"] = 100 + worker_id


class Probe(Dataset):
    """What a worker sees: its info, worker_init_fn's effect, its pid and its random streams."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {
            "i": i,
            "id": info.id,
            "num_workers": info.num_workers,
            "seed": info.seed,
            "own_dataset": info.dataset is self,
            "init": _INIT.get("value", -1),
            "pid": os.getpid(),
            "ember": ember.rand(1).item(),
            "numpy": float(np.random.rand()),
            "random": random.random(),
        }


class Stream(IterableDataset):
    """0 .. n-1, sharded across workers via get_worker_info() when ``shard``."""

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class Failing(Dataset):
    """Index ``bad`` raises, exits the process, sleeps, or returns a non-cpu tensor."""

    def __init__(self, mode, bad=5):
        self.mode, self.bad = mode, bad

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            if self.mode == "raise":
                raise ValueError(f"bad sample {i}")
            if self.mode == "exit":
                os._exit(3)
            if self.mode == "sleep":
                time.sleep(1.0)
            if self.mode == "meta":
                return ember.zeros(2, device="meta")
        return ember.tensor([float(i)])


def _flat(batches, key):
    return [b[key].tolist() for b in batches]


def test_same_batches_and_order_as_single_process():
    assert get_worker_info() is None
    for kw in ({"batch_size": 3}, {"batch_size": 4, "drop_last": True}):
        runs = [
            list(DataLoader(Squares(), shuffle=True, generator=ember.Generator(seed=3), num_workers=w, **kw))
            for w in (0, 2)
        ]
        assert _flat(runs[0], "y") == _flat(runs[1], "y") and _flat(runs[0], "y") != []
        assert all(np.array_equal(a["x"].numpy(), b["x"].numpy()) for a, b in zip(*runs))
        assert sorted(set(sum(_flat(runs[1], "worker"), []))) == [0, 1]
        assert set(sum(_flat(runs[0], "worker"), [])) == {-1}
    ds = TensorDataset(ember.arange(10).float().reshape(5, 2), ember.arange(5))
    one = list(DataLoader(ds, batch_size=2, num_workers=2))
    assert [b[1].tolist() for b in one] == [[0, 1], [2, 3], [4]]
    assert one[2][0].tolist() == [[8.0, 9.0]] and one[0][0].dtype is ember.float32
    single = list(DataLoader(ds, batch_size=None, sampler=[4, 0], num_workers=2))
    assert [t[1].item() for t in single] == [4, 0]
    custom = list(DataLoader(Squares(), batch_size=5, collate_fn=len, num_workers=2))
    assert custom == [5, 5, 1]


def test_worker_init_fn_and_get_worker_info_inside_workers():
    batches = list(DataLoader(Probe(), batch_size=2, num_workers=2, worker_init_fn=_init_fn))
    # batches go round-robin: batch k is loaded by worker k % 2
    assert [b["id"].tolist() for b in batches] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert [b["i"].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    for b in batches:
        wid = b["id"][0].item()
        assert b["num_workers"].tolist() == [2, 2]
        assert b["own_dataset"].tolist() == [True, True]
        assert b["init"].tolist() == [100 + wid] * 2
    assert "value" not in _INIT  # worker_init_fn ran in the workers only
    assert len({b["pid"][0].item() for b in batches} - {os.getpid()}) == 2


def test_worker_seeds_are_distinct_per_worker_and_reproducible():
    def run(**kw):
        out = {}
        for b in DataLoader(Probe(), batch_size=1, num_workers=2, **kw):
            out.setdefault(b["id"].item(), []).append(
                (b["seed"].item(), b["ember"].item(), b["numpy"].item(), b["random"].item())
            )
        return out

    a = run(generator=ember.Generator(seed=7))
    seeds = {wid: rows[0][0] for wid, rows in a.items()}
    assert seeds[1] == seeds[0] + 1  # base seed + worker id
    for key in (1, 2, 3):  # ember, numpy and random streams differ between workers
        assert [r[key] for r in a[0]] != [r[key] for r in a[1]]
    assert run(generator=ember.Generator(seed=7)) == a  # drawn from the loader's generator
    assert run(generator=ember.Generator(seed=8)) != a
    ember.manual_seed(11)
    b = run()
    ember.manual_seed(11)
    assert run() == b  # or from Ember's default generator


def test_iterable_dataset_with_and_without_workers():
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    got = [b.tolist() for b in DataLoader(Stream(10), batch_size=2, num_workers=2)]
    # each worker yields its shard; batches alternate between workers until each runs out
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    got = [b.tolist() for b in DataLoader(Stream(9), batch_size=2, num_workers=2, drop_last=True)]
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7]]
    unsharded = [
        v for b in DataLoader(Stream(4, shard=False), batch_size=3, num_workers=2) for v in b.tolist()
    ]
    assert sorted(unsharded) == [0, 0, 1, 1, 2, 2, 3, 3]  # every worker iterates its own copy
    assert [x for x in DataLoader(Stream(3), batch_size=None, num_workers=2)] == [0, 1, 2]
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle"):
        DataLoader(Stream(3), shuffle=True)


def test_worker_exception_is_reraised_with_its_traceback():
    with pytest.raises(ValueError, match=r"Caught ValueError in DataLoader worker 0 \(pid \d+\)") as info:
        list(DataLoader(Failing("raise"), batch_size=2, num_workers=2))
    text = str(info.value)
    assert "Original Traceback (most recent call last)" in text
    assert "in __getitem__" in text and "ValueError: bad sample 5" in text

    def bad_init(worker_id):
        raise KeyError(f"no config for worker {worker_id}")

    with pytest.raises(KeyError, match=r"(?s)worker_init_fn.*no config for worker") as info:
        list(DataLoader(Failing("none"), batch_size=2, num_workers=2, worker_init_fn=bad_init))
    assert "in bad_init" in str(info.value)


def test_worker_producing_a_device_tensor_is_refused():
    # any non-cpu device does; the data-less meta device of examples/ember-meta needs no runtime
    # in the worker (`make test` installs it only after this suite, so a first run skips)
    if not any(b["name"] == "meta" and b["status"] == "available" for b in ember.backends()):
        pytest.skip("the meta device (examples/ember-meta) is not installed")
    with pytest.raises(ValueError, match=r"produced a tensor on meta:0; only cpu tensors"):
        list(DataLoader(Failing("meta"), batch_size=None, num_workers=2))


def test_killed_worker_raises_instead_of_hanging():
    start = time.monotonic()
    with pytest.raises(
        RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) exited unexpectedly with exit code 3"
    ):
        list(DataLoader(Failing("exit"), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10


def test_timeout():
    loader = DataLoader(Failing("sleep", bad=2), batch_size=1, num_workers=2, timeout=0.3)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        list(loader)
    fast = DataLoader(Failing("none"), batch_size=4, num_workers=2, timeout=5)
    assert [b.shape for b in fast] == [(4, 1), (4, 1)]


def test_persistent_workers_are_reused_across_epochs():
    loader = DataLoader(Probe(), batch_size=2, num_workers=2, persistent_workers=True, shuffle=True)
    first = list(loader)
    pids = {b["pid"][0].item() for b in first}
    workers = list(loader._pool.workers)
    assert len(pids) == 2 and all(w.is_alive() for w in workers)
    second = list(loader)
    assert {b["pid"][0].item() for b in second} == pids
    assert sorted(sum((b["i"].tolist() for b in second), [])) == list(range(8))
    it = iter(loader)  # abandon an epoch half-way: the next one is still complete and in order
    next(it)
    third = list(loader)
    assert sorted(sum((b["i"].tolist() for b in third), [])) == list(range(8))
    with pytest.raises(RuntimeError, match="superseded by a newer iter"):
        next(it)
    stream = DataLoader(Stream(6), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in stream] == [b.tolist() for b in stream] == [[0, 2], [1, 3], [4], [5]]
    del loader, it, stream
    gc.collect()
    for w in workers:
        w.join(timeout=5)
        assert not w.is_alive()


def test_workers_shut_down_when_exhausted_or_collected():
    loader = DataLoader(Squares(), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    workers = list(it._pool.workers)
    assert all(w.is_alive() for w in workers)
    del it
    gc.collect()
    assert not any(w.is_alive() for w in workers)
    it = iter(loader)
    workers = list(it._pool.workers)
    assert len(list(it)) == 6 and not any(w.is_alive() for w in workers)


def test_workers_shut_down_at_interpreter_exit():
    proc = run_python(
        """
        import ember
        from ember.data import DataLoader, TensorDataset
        loader = DataLoader(TensorDataset(ember.arange(6)), batch_size=2, num_workers=2,
                            persistent_workers=True)
        it = iter(loader)
        next(it)
        print(" ".join(str(w.pid) for w in loader._pool.workers))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    for pid in map(int, proc.stdout.split()):
        assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2]


def test_spawn_context_pickles_the_dataset():
    ds = TensorDataset(ember.arange(12).float().reshape(6, 2), ember.arange(6))
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn")
    batches = list(loader)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5]]
    assert batches[1][0].tolist() == [[8.0, 9.0], [10.0, 11.0]]


def test_argument_errors():
    ds = Squares()
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="num_workers option should be a non-negative integer, got -1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(ds, num_workers=2, timeout=-1)
    with pytest.raises(ValueError, match="prefetch_factor option should be a positive integer, got 0"):
        DataLoader(ds, num_workers=2, prefetch_factor=0)
    with pytest.raises(ValueError, match="multiprocessing_context can only be used with multi-process"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="should specify a valid start method"):
        DataLoader(ds, num_workers=2, multiprocessing_context="threads")
    assert DataLoader(ds, num_workers=2).prefetch_factor == 2
    assert DataLoader(ds, num_workers=2, prefetch_factor=1, persistent_workers=True).prefetch_factor == 1


def test_dataset_on_another_device_is_refused():
    dev = "opencl" if any(d.type == "opencl" for d in ember.devices()) else "meta"
    ds = TensorDataset(ember.arange(4).to(dev))
    loader = DataLoader(ds, batch_size=2, num_workers=2)
    with pytest.raises(ValueError, match=rf"dataset.tensors\[0\] is on {dev}:0.*Use num_workers=0, or keep"):
        iter(loader)
    if dev == "opencl":
        assert [b[0].tolist() for b in DataLoader(ds, batch_size=2)] == [[0, 1], [2, 3]]


def test_pin_memory_is_accepted():
    ds = TensorDataset(ember.arange(4))
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=2, num_workers=workers, pin_memory=True)
        assert loader.pin_memory and [b[0].tolist() for b in loader] == [[0, 1], [2, 3]]


def test_later_epochs_shuffle_the_same_with_and_without_workers():
    ds = ember.data.TensorDataset(ember.arange(40))
    orders = {}
    for workers in (0, 2):
        loader = ember.data.DataLoader(
            ds, batch_size=8, shuffle=True, num_workers=workers, generator=ember.Generator("cpu", seed=3)
        )
        orders[workers] = [[b[0].tolist() for b in loader] for _ in range(3)]
    assert orders[0] == orders[2]
    assert orders[0][0] != orders[0][1]  # each epoch draws a new order
