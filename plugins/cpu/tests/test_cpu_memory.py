"""The cpu backend keeps freed blocks for reuse (ember_cpu.memory): a step's large temporaries
land on warm pages instead of fresh ones, which the page-fault count shows."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

_SCRIPT = """
import resource
import ember, numpy as np
ember.device("cpu")  # the backend's start-up tunes glibc
from ember_cpu.memory import keep_freed_memory
print(keep_freed_memory())
def step():
    # temporaries of 2 to 6 MiB, freed in another order than allocated, as a training step's
    a = np.ones(1 << 19, np.float32); b = np.ones(3 << 19, np.float32); c = a.sum() + b.sum()
    del a
    d = np.ones(1 << 20, np.float32)
    return c + d.sum()
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(keep: str) -> tuple[str, int]:
    env = {**os.environ, "EMBER_CPU_KEEP_FREED": keep}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    how, faults = out.stdout.strip().splitlines()
    return how, int(faults)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning is glibc's mallopt")
def test_freed_blocks_are_reused() -> None:
    kept_how, kept = _faults("1")
    default_how, default = _faults("0")
    assert kept_how.startswith("freed blocks kept (glibc mmap threshold 32 MiB")
    assert default_how == "glibc defaults (EMBER_CPU_KEEP_FREED=0)"
    # 50 steps of 14 MiB of fresh pages: 75,000 faults here with glibc's defaults, 0 kept
    assert default > 20 * kept and kept < 2000, (kept, default)
