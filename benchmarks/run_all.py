"""Run every benchmark in this folder, one after another, printing each one's table.

Usage: python benchmarks/run_all.py [name ...]   (names: core, training, opencl, cuda)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = {
    "core": "bench_core.py",
    "training": "bench_training.py",
    "opencl": "bench_opencl.py",
    "cuda": "bench_cuda.py",
}


def main(argv: list[str]) -> int:
    names = argv or list(SCRIPTS)
    failed = []
    for name in names:
        script = HERE / SCRIPTS[name]
        if not script.exists():
            print(f"## {name}: {script.name} not present, skipped")
            continue
        print(f"## {name} ({script.name})", flush=True)
        rc = subprocess.call([sys.executable, str(script)])
        if rc:
            failed.append(name)
        print()
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
