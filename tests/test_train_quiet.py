"""``examples/train_digits.py --quiet`` runs without tqdm (the progress bar is all tqdm is for)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"

# tqdm made unimportable (None in sys.modules makes `import tqdm` raise ImportError), then the
# example's own command line
RUN = f"""
import runpy, sys
sys.modules["tqdm"] = None
sys.argv = ["train_digits.py", *sys.argv[1:]]
runpy.run_path({str(EXAMPLE)!r}, run_name="__main__")
"""


def test_quiet_run_needs_no_tqdm(tmp_path: Path) -> None:
    ckpt = tmp_path / "digits.safetensors"
    args = ["--epochs", "1", "--seed", "0", "--quiet", "--checkpoint", str(ckpt)]
    res = subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert "tqdm" not in res.stderr
    assert "test accuracy:" in res.stdout and ckpt.is_file()
    # and without --quiet the bar is what needs tqdm: the error names it
    loud = subprocess.run(
        [sys.executable, "-c", RUN, *[a for a in args if a != "--quiet"]],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert loud.returncode != 0 and "tqdm" in loud.stderr
