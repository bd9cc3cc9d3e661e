"""The OpenCL backend side by side with numpy, in one run on this machine.

Run: python benchmarks/bench_opencl.py [--quick]

Rows: matmul 256/1024/2048 float32 (GFLOP/s, B packing included), 16M-element ``(a*b+c).sum()``
(with the backend's elementwise fusion, and again with it off) and ``exp(a).sum()`` (effective
GB/s: input bytes read / time), a column reduction, sqrt/abs/maximum/floor/log as single kernels, a chain of
1000 dependent tiny ops (µs per op, one readback at the end), one tiny op with its result read
back (µs), sort (rows of 64, 1k and 100k float32 elements) and atan2 (4M float32) with the native
kernels and with core's composites on the same device, and (when ``examples/train_digits.py`` and
scikit-learn are there) one digits training epoch on opencl vs cpu. Times are medians of several
runs (``common.per_call``); the sort and atan2 rows time ember's native kernel, core's composite
and numpy in turn over several rounds and give the median ratio with its range over the rounds.
Every ember timing includes a readback of a scalar (or the result) so queued work is counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import ember  # noqa: E402
import ember_opencl  # noqa: E402
from common import fmt_time, per_call, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _row(name: str, em: float, ref: float, unit: str, higher_better: bool, target: str) -> list[str]:
    ratio = em / ref if higher_better else ref / em
    return [name, f"{em:.1f} {unit}", f"{ref:.1f} {unit}", f"{ratio:.2f}x", target]


def per_call_unfused(fn: Callable[[], object], min_time: float) -> float:
    """``per_call(fn)`` with the backend's elementwise fusion off (every op its own kernel)."""
    previous = ember_opencl.set_fusion("off")
    try:
        return per_call(fn, min_time=min_time)
    finally:
        ember_opencl.set_fusion(previous)


def matmul_rows(dev: ember.device, sizes: tuple[int, ...], min_time: float) -> list[list[str]]:
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        a_np = rng.random((n, n), dtype=np.float32)
        b_np = rng.random((n, n), dtype=np.float32)
        a, b = ember.tensor(a_np, device=dev), ember.tensor(b_np, device=dev)
        ref = a_np @ b_np
        got = (a @ b).numpy()
        err = float(np.abs(got - ref).max() / np.abs(ref).max())
        assert err < 1e-4, f"matmul {n}: relative error {err}"
        flops = 2.0 * n**3
        t_em = per_call(lambda a=a, b=b: (a @ b)[0, 0].item(), min_time=min_time)
        t_np = per_call(lambda a=a_np, b=b_np: a @ b, min_time=min_time)
        target = ">= 0.9x" if n >= 1024 else ""
        rows.append(
            _row(
                f"matmul {n}x{n} f32 (GFLOP/s)",
                flops / t_em / 1e9,
                flops / t_np / 1e9,
                "GFLOP/s",
                True,
                target,
            )
        )
    return rows


def reduction_rows(dev: ember.device, min_time: float) -> list[list[str]]:
    n = 16 * 1024 * 1024
    rng = np.random.default_rng(1)
    a_np, b_np, c_np = (rng.random(n, dtype=np.float32) for _ in range(3))
    a, b, c = (ember.tensor(x, device=dev) for x in (a_np, b_np, c_np))
    got = (a * b + c).sum().item()
    ref = float((a_np.astype(np.float64) * b_np + c_np).sum())
    assert abs(got - ref) / ref < 1e-4, (got, ref)
    rows = []
    t_em = per_call(lambda: (a * b + c).sum().item(), min_time=min_time)
    t_np = per_call(lambda: (a_np * b_np + c_np).sum(), min_time=min_time)
    gb = 3 * n * 4 / 1e9
    rows.append(_row("(a*b+c).sum() 16M f32 (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ">= 2x"))
    # the same with three kernels and two temporaries
    t_off = per_call_unfused(lambda: (a * b + c).sum().item(), min_time)
    rows.append(_row("  same, fusion off (GB/s)", gb / t_off, gb / t_np, "GB/s", True, ""))
    t_em = per_call(lambda: a.exp().sum().item(), min_time=min_time)
    t_np = per_call(lambda: np.exp(a_np).sum(), min_time=min_time)
    gb = n * 4 / 1e9
    rows.append(_row("exp(a).sum() 16M f32 (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ">= 2x"))
    t_em = per_call(lambda: a.sum().item(), min_time=min_time)
    t_np = per_call(lambda: a_np.sum(), min_time=min_time)
    rows.append(_row("a.sum() 16M f32 (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ""))

    # a longer chain: GELU's tanh form, 9 elementwise ops (one kernel when fused)
    def gelu(x, tanh, c=0.7978845608, k=0.044715):
        return 0.5 * x * (1.0 + tanh(c * (x + k * (x * x * x))))

    want = gelu(a_np.astype(np.float64), np.tanh)
    got = gelu(a, ember.tanh).numpy()
    assert np.allclose(got, want, rtol=1e-4, atol=1e-6)
    t_em = per_call(lambda: gelu(a, ember.tanh)[0].item(), min_time=min_time)
    t_np = per_call(lambda: gelu(a_np, np.tanh), min_time=min_time)
    rows.append(_row("gelu (tanh form) 16M f32 (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ""))
    t_off = per_call_unfused(lambda: gelu(a, ember.tanh)[0].item(), min_time)
    rows.append(_row("  same, fusion off (GB/s)", gb / t_off, gb / t_np, "GB/s", True, ""))
    m_np = a_np.reshape(4096, 4096)
    m = a.reshape(4096, 4096)
    assert np.allclose(m.sum(0).numpy(), m_np.sum(0), rtol=1e-4)
    t_em = per_call(lambda: m.sum(0)[0].item(), min_time=min_time)
    t_np = per_call(lambda: m_np.sum(0), min_time=min_time)
    rows.append(_row("m.sum(0) 4096x4096 f32 (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ""))
    t_em = per_call(lambda: m.sum(1)[0].item(), min_time=min_time)
    t_np = per_call(lambda: m_np.sum(1), min_time=min_time)
    rows.append(_row("m.sum(1) 4096x4096 f32 (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ""))
    return rows


def math_rows(dev: ember.device, min_time: float) -> list[list[str]]:
    """sqrt, abs, maximum, floor and log of 16M float32 with fusion off (one eager kernel each:
    PoCL called its builtins out of line until the kernels used clang's own, and for log a
    polynomial; GB/s read)."""
    n = 16 * 1024 * 1024
    rng = np.random.default_rng(3)
    a_np, b_np = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    c_np = np.abs(a_np)
    a, b, c = (ember.tensor(x, device=dev) for x in (a_np, b_np, c_np))
    cases = [
        ("sqrt(c), c >= 0", lambda: c.sqrt(), lambda: np.sqrt(c_np), 1),
        ("abs(a)", lambda: a.abs(), lambda: np.abs(a_np), 1),
        ("maximum(a, b)", lambda: ember.maximum(a, b), lambda: np.maximum(a_np, b_np), 2),
        ("floor(a)", lambda: a.floor(), lambda: np.floor(a_np), 1),
        ("log(c), c >= 0", lambda: c.log(), lambda: np.log(c_np), 1),
    ]
    rows = []
    previous = ember_opencl.set_fusion("off")
    try:
        for name, em, ref, _reads in cases:
            got, want = em().numpy(), ref()
            if name.startswith("log"):  # a polynomial and numpy each a few ulp off: not bitwise
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, err_msg=name)
            else:
                assert np.array_equal(got, want), name
    finally:
        ember_opencl.set_fusion(previous)
    for name, em, ref, reads in cases:
        gb = reads * n * 4 / 1e9
        t_em = per_call_unfused(lambda em=em: em()[0].item(), min_time)
        t_np = per_call(ref, min_time=min_time)
        rows.append(_row(f"{name} 16M f32, fusion off (GB/s)", gb / t_em, gb / t_np, "GB/s", True, ""))
    return rows


def tiny_rows(dev: ember.device) -> list[list[str]]:
    x_np = np.random.default_rng(2).random(64, dtype=np.float32)
    x0 = ember.tensor(x_np, device=dev)

    def chain() -> None:
        x = x0
        for _ in range(1000):
            x = x * 1.0001 + 0.5
        x.numpy()

    def chain_np() -> None:
        x = x_np
        for _ in range(1000):
            x = x * np.float32(1.0001) + np.float32(0.5)

    t_em = per_call(chain, min_time=1.0) / 2000  # two ops per step
    t_np = per_call(chain_np, min_time=1.0) / 2000
    rows = [
        [
            "tiny-op chain (64,) f32, per op",
            fmt_time(t_em),
            fmt_time(t_np),
            f"{t_em / t_np:.1f}x slower",
            "<= 8 µs",
        ]
    ]
    t_off = per_call_unfused(chain, 1.0) / 2000  # every op its own launch
    rows.append(["  same, fusion off", fmt_time(t_off), fmt_time(t_np), f"{t_off / t_np:.1f}x slower", ""])
    t_em = per_call(lambda: (x0 * 2.0).numpy())
    t_np = per_call(lambda: x_np * np.float32(2.0))
    rows.append(
        ["one tiny op + readback", fmt_time(t_em), fmt_time(t_np), f"{t_em / t_np:.1f}x slower", "<= 25 µs"]
    )
    return rows


def _rounds(fns: dict[str, Callable[[], object]], rounds: int, min_time: float) -> dict[str, list[float]]:
    """Seconds per call of each of ``fns``, measured side by side: ``rounds`` rounds, each timing
    every function once in turn (``per_call`` medians), so a change in the machine's load falls
    on all of them alike."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            out[name].append(per_call(fn, min_time=min_time, repeats=3))
    return out


def _vs(name: str, em: list[float], ref: list[float], note: str = "") -> list[str]:
    """A row of per-call times: ember's median, numpy's median, and the ratio numpy / ember
    (> 1: ember faster) as the median over the rounds with its range."""
    ratios = sorted(r / e for e, r in zip(em, ref))
    med = statistics.median(ratios)
    spread = f"{med:.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"
    return [name, fmt_time(statistics.median(em)), fmt_time(statistics.median(ref)), spread, note]


def sort_rows(dev: ember.device, min_time: float, rounds: int) -> list[list[str]]:
    """sort along the last dim, float32, values and int64 indices, rows of 64, 1k and 100k
    elements: the native kernel, core's composite on the same device (what runs without the
    kernel: pairwise ranks for small inputs, the bitonic network of elementwise ops for large
    ones) and numpy's stable argsort with the gather of the values."""
    from ember.ops import sorting as core_sorting

    def composite(x: ember.Tensor) -> tuple[ember.Tensor, ember.Tensor]:
        d = x.ndim - 1
        if x.numel() * x.shape[d] <= core_sorting.COMPARE_BUDGET:
            return core_sorting._sort_composite(x, d)
        return core_sorting._sort_bitonic(x, d)

    def np_sort(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.argsort(a, axis=-1, kind="stable")
        return np.take_along_axis(a, i, -1), i

    rows = []
    rng = np.random.default_rng(3)
    for shape in ((4096, 64), (256, 1024), (1, 100_000)):
        a = rng.integers(-1000, 1000, size=shape).astype(np.float32) / 8  # with ties
        x = ember.tensor(a, device=dev)
        want = np.argsort(a, axis=-1, kind="stable")
        assert np.array_equal(ember.sort(x).indices.numpy(), want), f"sort {shape}: native"
        assert np.array_equal(composite(x)[1].numpy(), want), f"sort {shape}: composite"
        t = _rounds(
            {
                "native": lambda x=x: ember.sort(x).indices.reshape(-1)[0].item(),
                "composite": lambda x=x: composite(x)[1].reshape(-1)[0].item(),
                "numpy": lambda a=a: np_sort(a),
            },
            rounds,
            min_time,
        )
        speedup = sorted(c / n for c, n in zip(t["composite"], t["native"]))
        label = f"sort {shape[0]}x{shape[1]} f32, values+indices"
        rows.append(_vs(label, t["native"], t["numpy"]))
        note = f"native {statistics.median(speedup):.1f}x faster ({speedup[0]:.1f}-{speedup[-1]:.1f})"
        rows.append(_vs("  same, core composite on opencl", t["composite"], t["numpy"], note))
    return rows


def atan2_rows(dev: ember.device, min_time: float, rounds: int) -> list[list[str]]:
    """atan2 of two 4M-element float32 tensors: the native kernel (a single op: fusion leaves
    it to the eager kernel's launch), core's composite on the same device (Cephes' arctan from
    about 30 elementwise ops) and numpy."""
    from ember.ops import trigonometric

    rng = np.random.default_rng(4)
    n = 4 * 1024 * 1024
    y_np, x_np = rng.normal(size=n).astype(np.float32), rng.normal(size=n).astype(np.float32)
    y, x = ember.tensor(y_np, device=dev), ember.tensor(x_np, device=dev)
    want = np.arctan2(y_np, x_np)
    assert np.allclose(ember.atan2(y, x).numpy(), want, rtol=1e-5, atol=1e-6)
    assert np.allclose(trigonometric._atan2_composite(y, x).numpy(), want, rtol=1e-5, atol=1e-6)
    t = _rounds(
        {
            "native": lambda: ember.atan2(y, x)[0].item(),
            "composite": lambda: trigonometric._atan2_composite(y, x)[0].item(),
            "numpy": lambda: np.arctan2(y_np, x_np),
        },
        rounds,
        min_time,
    )
    speedup = sorted(c / e for c, e in zip(t["composite"], t["native"]))
    note = f"native {statistics.median(speedup):.1f}x faster ({speedup[0]:.1f}-{speedup[-1]:.1f})"
    return [
        _vs("atan2 4M f32", t["native"], t["numpy"]),
        _vs("  same, core composite on opencl", t["composite"], t["numpy"], note),
    ]


def training_rows() -> list[list[str]]:
    """One digits epoch on opencl and cpu via benchmarks/bench_training.py's worker (subprocesses)."""
    script = ROOT / "benchmarks" / "bench_training.py"
    if not (ROOT / "examples" / "train_digits.py").exists() or not script.exists():
        return []
    import json

    path = os.pathsep.join([str(ROOT / "examples"), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    res = {}
    for device in ("opencl", "cpu"):
        cmd = [sys.executable, str(script), "--worker", "ember", "--epochs", "2", "--device", device]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode:
            why = proc.stderr.strip().splitlines()[-1][:60] if proc.stderr.strip() else "?"
            return [["digits epoch (skipped)", why, "", "", ""]]
        res[device] = json.loads(proc.stdout.strip().splitlines()[-1])["epoch_s"]
    ratio = f"{res['cpu'] / res['opencl']:.2f}x"
    cpu = fmt_time(res["cpu"]) + " (ember cpu)"
    return [["digits CNN epoch, opencl vs ember cpu", fmt_time(res["opencl"]), cpu, ratio, ""]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="shorter timings, no 2048 matmul, no training")
    p.add_argument("--no-training", action="store_true", help="skip the digits training row")
    args = p.parse_args()
    dev = ember.device("opencl")
    mt = 0.3 if args.quick else 1.0
    rows = matmul_rows(dev, (256, 1024) if args.quick else (256, 1024, 2048), mt)
    rows += reduction_rows(dev, mt)
    rows += math_rows(dev, mt)
    rows += tiny_rows(dev)
    rounds = 3 if args.quick else 5
    rows += sort_rows(dev, mt / 2, rounds)
    rows += atan2_rows(dev, mt / 2, rounds)
    if not (args.quick or args.no_training):
        rows += training_rows()
    print(
        f"OpenCL device: {dev.properties().get('name', '?')}; numpy {np.__version__}; "
        f"fusion {os.environ.get('EMBER_OPENCL_FUSION', 'auto')}; {ember_opencl.fusion_stats()}"
    )
    print(table(rows, ["benchmark", "ember opencl", "numpy", "ratio (>1: ember better)", "target"]))


if __name__ == "__main__":
    main()
