"""DistributedDataParallel on one GPU with the nccl backend (a world of one), against the same
model trained without DDP: with one rank the averaged gradients are the rank's own, so the two
must follow each other step for step. Several tiny buckets make DDP issue several async
all_reduce(AVG) calls per step, overlapping backward; buffers and parameters are broadcast.

    python ddp_one_gpu.py [STEPS]     # prints one line per check; needs CuPy, NCCL and a GPU
"""

from __future__ import annotations

import sys

import ember
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
from ember.nn.parallel import DistributedDataParallel as DDP

DEVICE = "cuda"


def model(seed: int) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(8, 32), nn.BatchNorm1d(32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4)
    ).to(DEVICE)


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    dist.init_process_group(backend="nccl", rank=0, world_size=1, timeout=120)
    assert dist.get_backend() == "nccl", dist.get_backend()
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((16, 8)).astype(np.float32), device=DEVICE)
    y = ember.tensor(rng.standard_normal((16, 4)).astype(np.float32), device=DEVICE)
    ref, ddp = model(0), DDP(model(0), bucket_cap_mb=1500 / 2**20)
    assert len(ddp._buckets) >= 3, f"expected several tiny buckets, got {len(ddp._buckets)}"
    opt = ember.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    ref_opt = ember.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(steps):
        for o in (opt, ref_opt):
            o.zero_grad()
        loss = F.mse_loss(ddp(x), y)
        loss.backward()
        opt.step()
        F.mse_loss(ref(x), y).backward()
        ref_opt.step()
        losses.append(loss.item())
    worst = max(
        float(np.max(np.abs(p.detach().numpy() - q.detach().numpy())))
        for p, q in zip(ddp.module.parameters(), ref.parameters())
    )
    assert worst < 1e-5, f"DDP on nccl drifted from plain training by {worst}"
    assert losses[-1] < losses[0], f"the loss did not go down: {losses}"
    bn_ddp, bn_ref = ddp.module[1], ref[1]
    assert np.allclose(bn_ddp.running_mean.numpy(), bn_ref.running_mean.numpy(), atol=1e-6)
    print(
        f"DDP on cuda with nccl: {steps} steps match plain training (max diff {worst:.1e}), "
        f"loss {losses[0]:.4f} -> {losses[-1]:.4f}, {len(ddp._buckets)} buckets",
        flush=True,
    )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
