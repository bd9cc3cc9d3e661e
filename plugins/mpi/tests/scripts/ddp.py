"""Run by the tests with 2 ranks: DistributedDataParallel against single-process training.

Every rank also trains a reference copy of the model on the full global batch; the data-parallel
model, fed its own half, must follow it step for step (SGD with momentum, then Adam), and the
ranks' parameters must be bitwise equal. Then no_sync accumulation, unused parameters and
BatchNorm buffers. Prints one line per check.
"""

from __future__ import annotations

import sys

import ember
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
from ember.nn.parallel import DistributedDataParallel as DDP

DEVICE = sys.argv[1] if len(sys.argv) > 1 else "cpu"


def mlp(seed: int) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)).to(
        DEVICE
    )


def data(world: int) -> tuple[ember.Tensor, ember.Tensor]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8 * world, 8)).astype(np.float32)
    y = rng.standard_normal((8 * world, 4)).astype(np.float32)
    return ember.tensor(x, device=DEVICE), ember.tensor(y, device=DEVICE)


def params_equal_across_ranks(model: nn.Module) -> bool:
    world = dist.get_world_size()
    for p in model.parameters():
        copies = [ember.zeros(p.shape, device=p.device) for _ in range(world)]
        dist.all_gather(copies, p.detach().contiguous())
        if not all(np.array_equal(c.numpy(), copies[0].numpy()) for c in copies):
            return False
    return True


def close(a: nn.Module, b: nn.Module, rtol: float = 1e-5) -> float:
    worst = 0.0
    for p, q in zip(a.parameters(), b.parameters()):
        pa, qa = p.detach().numpy(), q.detach().numpy()
        worst = max(worst, float(np.max(np.abs(pa - qa) / (np.abs(qa) + 1e-3))))
    return worst


def train_against_reference(make_opt, steps: int = 6) -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    mine = slice(8 * rank, 8 * (rank + 1))
    ref = mlp(0)
    ddp = DDP(mlp(100 + rank), bucket_cap_mb=2000 / 2**20)  # ranks start different: DDP broadcasts rank 0's
    assert len(ddp._buckets) >= 3, f"expected several tiny buckets, got {len(ddp._buckets)}"
    opt, ref_opt = make_opt(ddp.parameters()), make_opt(ref.parameters())
    with ember.no_grad():  # the reference starts where rank 0's model starts
        for p, q in zip(ref.parameters(), mlp(100).parameters()):
            p.copy_(q)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(ddp(x[mine]), y[mine]).backward()
        opt.step()
        ref_opt.zero_grad()
        F.mse_loss(ref(x), y).backward()
        ref_opt.step()
    err = close(ddp.module, ref)
    assert err < 1e-4, f"rank {rank}: data-parallel training drifted from the full-batch reference by {err}"
    assert params_equal_across_ranks(ddp), "ranks' parameters are not bitwise equal"
    print(
        f"rank {rank}: {type(opt).__name__} matches full-batch training (rel err {err:.1e}), "
        "ranks bitwise equal",
        flush=True,
    )


def no_sync_accumulates() -> None:
    rank, world = dist.get_rank(), dist.get_world_size()
    x, y = data(world)
    ref = mlp(3)
    ddp = DDP(mlp(3), bucket_cap_mb=2000 / 2**20)
    F.mse_loss(ref(x), y).backward()
    lo = 8 * rank
    with ddp.no_sync():  # first half of this rank's batch: local accumulation only
        F.mse_loss(ddp(x[lo : lo + 4]), y[lo : lo + 4]).div(2).backward()
    local = [p.grad.numpy().copy() for p in ddp.parameters()]
    F.mse_loss(ddp(x[lo + 4 : lo + 8]), y[lo + 4 : lo + 8]).div(2).backward()
    for p, q in zip(ddp.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert any(not np.allclose(a, p.grad.numpy()) for a, p in zip(local, ddp.parameters())), "no_sync synced"
    print(f"rank {rank}: no_sync accumulation equals one large batch", flush=True)


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.extra, self.never, self.fc2 = (
            nn.Linear(4, 4),
            nn.Linear(4, 4),
            nn.Linear(4, 4),
            nn.Linear(4, 2),
        )

    def forward(self, x: ember.Tensor, use_extra: bool) -> ember.Tensor:
        h = self.fc1(x).tanh()
        if use_extra:
            h = h + self.extra(h)
        return self.fc2(h)


def unused_parameters() -> None:
    rank = dist.get_rank()
    ember.manual_seed(5)
    model = Branchy().to(DEVICE)
    ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=100 / 2**20)
    x = ember.ones(3, 4, device=DEVICE) * (rank + 1)
    ddp(x, use_extra=rank == 0).sum().backward()  # extra: used on rank 0 only; never: nowhere
    assert model.never.weight.grad is None, "a parameter no rank used got a gradient"
    g = model.extra.weight.grad.numpy()
    gathered = [ember.zeros(g.shape, device=DEVICE) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, model.extra.weight.grad)
    assert np.array_equal(gathered[0].numpy(), gathered[1].numpy()) and np.abs(g).sum() > 0
    strict = DDP(Branchy().to(DEVICE), bucket_cap_mb=100 / 2**20)
    try:
        strict(x, use_extra=True).sum().backward()
    except dist.DistError as exc:
        assert "'never.weight'" in str(exc) and "find_unused_parameters=True" in str(exc), str(exc)
    else:
        raise AssertionError("a parameter without gradient did not raise without find_unused_parameters")
    print(
        f"rank {rank}: unused parameters averaged, never-used left alone, strict mode names them", flush=True
    )


def batchnorm_buffers() -> None:
    rank = dist.get_rank()
    ember.manual_seed(9)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 1)).to(DEVICE)
    ddp = DDP(model)
    x = ember.randn(8, 4, device=DEVICE) * (rank + 1)  # different statistics on each rank
    ddp(x).sum().backward()
    ddp.eval()
    with ember.no_grad():
        ddp(x)  # eval: buffers broadcast from rank 0 and not updated
    bn = model[1]
    for buf in (bn.running_mean, bn.running_var):
        copies = [ember.zeros(buf.shape, device=DEVICE) for _ in range(dist.get_world_size())]
        dist.all_gather(copies, buf)
        assert np.array_equal(copies[0].numpy(), copies[1].numpy()), "BatchNorm buffers differ across ranks"
    print(f"rank {rank}: BatchNorm buffers equal across ranks (broadcast from rank 0)", flush=True)


def main() -> None:
    dist.init_process_group(timeout=120)
    train_against_reference(lambda ps: ember.optim.SGD(ps, lr=0.05, momentum=0.9))
    train_against_reference(lambda ps: ember.optim.Adam(ps, lr=0.01))
    no_sync_accumulates()
    unused_parameters()
    batchnorm_buffers()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
