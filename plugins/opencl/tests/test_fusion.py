"""Lazy elementwise fusion on the OpenCL backend: values against numpy, what runs fused, and that
laziness never shows (in-place writes, views, autograd, chains longer than one kernel)."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.backend import BackendUnavailable

try:
    import ember_opencl
    from ember_opencl import _fusion
    from ember_opencl.backend import OpenCLBackend

    ember.device("opencl").properties()
except Exception as exc:  # noqa: BLE001 - no pyopencl, no platform, no device
    pytest.skip(f"OpenCL unavailable: {exc}", allow_module_level=True)


@pytest.fixture
def mode():
    """Run the test under a fusion mode; the previous mode is restored afterwards."""
    previous = []

    def set_mode(m: str) -> None:
        previous.append(ember_opencl.set_fusion(m))

    yield set_mode
    if previous:
        ember_opencl.set_fusion(previous[0])


def rand(*shape, seed=0, dtype=np.float32):
    return (np.random.default_rng(seed).random(shape) * 4 - 2).astype(dtype)


def cl(a):
    return ember.tensor(a, device="opencl")


def delta(before):
    now = ember_opencl.fusion_stats()
    return {k: now[k] - before[k] for k in now}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_map_matches_numpy(mode, dtype):
    mode("always")
    a, b, c = (rand(1000, seed=s, dtype=dtype) for s in range(3))
    before = ember_opencl.fusion_stats()
    y = ((cl(a) * cl(b) + c.sum()) / (cl(c).abs() + 1.0)).exp() - 0.5
    d = delta(before)
    assert d["pending"] == 7 and d["fused_launches"] == 0  # nothing has run yet
    ref = np.exp((a * b + c.sum()) / (np.abs(c) + 1)) - 0.5
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5 if dtype == np.float32 else 1e-12)
    d = delta(before)
    assert d["fused_launches"] == 1 and d["fused_ops"] == 7 and d["eager_ops"] == 0


@pytest.mark.parametrize("n", [7, 64, 1000, 70001])  # tails shorter than a vector, work-item chunks
def test_fused_every_op_scalar_and_vector_paths(mode, n):
    mode("always")
    a, b = rand(n, seed=1), rand(n, seed=2)
    ea, eb = cl(a), cl(b)
    unary = {
        "neg": np.negative,
        "abs": np.abs,
        "exp": np.exp,
        "sqrt": lambda v: np.sqrt(np.abs(v)),
        "relu": lambda v: np.maximum(v, 0),
        "tanh": np.tanh,
        "sin": np.sin,
        "floor": np.floor,
    }
    for name, ref in unary.items():
        x = ea.abs() if name == "sqrt" else ea
        got = getattr(x * 1.5, name)() + eb
        np.testing.assert_allclose(
            got.numpy(), ref(a * np.float32(1.5)) + b, rtol=2e-6, atol=1e-6, err_msg=name
        )
    for name, ref in {"maximum": np.maximum, "minimum": np.minimum, "pow": np.power}.items():
        x = ea.abs() + 0.5 if name == "pow" else ea
        got = getattr(ember, name)(x * 2.0, eb) - 1.0
        np.testing.assert_allclose(got.numpy(), ref(x.numpy() * 2, b) - 1, rtol=2e-6, atol=1e-6, err_msg=name)
    np.testing.assert_allclose((2.0 - ea / 3.0).numpy(), 2 - a / np.float32(3), rtol=1e-6)
    np.testing.assert_allclose((1.0 / (ea.abs() + 1.0)).numpy(), 1 / (np.abs(a) + 1), rtol=1e-6)


def test_nan_and_inf_survive_fusion(mode):
    mode("always")
    a = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, 100.0, -200.0] * 9, dtype=np.float32)
    x = cl(a)
    got = ember.maximum(x * 1.0, x * 0.5).exp() + 0.0
    with np.errstate(all="ignore"):
        ref = np.exp(np.maximum(a, a * 0.5)) + 0
    np.testing.assert_allclose(got.numpy(), ref, rtol=2e-6)


@pytest.mark.parametrize("n", [1, 100, 1 << 17, (1 << 16) + 3])
@pytest.mark.parametrize("op", ["sum", "prod", "max", "min"])
def test_fused_reduction(mode, n, op):
    mode("always")
    a, b = rand(n, seed=3), rand(n, seed=4)
    ref_in = (a * b + 0.25).astype(np.float64)
    if op == "prod":
        a, b = np.float32(0.75) + a / np.float32(1e4), np.ones(n, np.float32)  # products stay finite
        ref_in = a.astype(np.float64) * b + 0.25
    before = ember_opencl.fusion_stats()
    got = getattr(cl(a) * cl(b) + 0.25, op)().item()
    ref = getattr(np, op)(ref_in)
    d = delta(before)
    assert d["fused_launches"] == 1 and d["eager_ops"] == 0
    # float32 accumulation: a long product drifts from the float64 reference by ~n * eps
    assert got == pytest.approx(float(ref), rel=2e-3 if op == "prod" else 1e-4)
    mode("off")  # the unfused kernels accumulate in the same order: same result
    assert got == pytest.approx(getattr(cl(a) * cl(b) + 0.25, op)().item(), rel=1e-6)


def test_fused_row_reduction_and_mean(mode):
    mode("always")
    a = rand(37, 300, seed=5)
    x = cl(a)
    np.testing.assert_allclose((x * x).sum(-1).numpy(), (a * a).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(
        (x - 1.0).exp().mean(1, keepdim=True).numpy(), np.exp(a - 1).mean(1, keepdims=True), rtol=1e-5
    )
    # a column reduction is not fused: the pending array is computed, then reduced
    np.testing.assert_allclose((x * x).sum(0).numpy(), (a * a).sum(0), rtol=1e-5)


def test_in_place_write_after_lazy_read(mode):
    mode("always")
    a = rand(500, seed=6)
    x = cl(a.copy())
    y = x * 2.0 + 1.0  # pending: reads x
    z = (x + 0.0).exp()
    x.add_(100.0)  # writing x computes y and z first
    x[:10] = 0.0
    np.testing.assert_allclose(y.numpy(), a * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(z.numpy(), np.exp(a), rtol=1e-6)
    w = x * 1.0
    x.copy_(cl(np.zeros(500, np.float32)))
    ref = a + 100
    ref[:10] = 0
    np.testing.assert_allclose(w.numpy(), ref, rtol=1e-6)


def test_write_into_pending_and_through_views(mode):
    mode("always")
    a = rand(4, 8, seed=7)
    y = cl(a) * 3.0
    y[1] = 0.0  # y itself is pending: computed, then written
    ref = a * 3
    ref[1] = 0
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6)
    base = cl(a.copy())
    r = base[2] + 1.0  # a contiguous view (offset 16) as a leaf
    v = base.t() * 1.0  # not contiguous: runs eagerly
    base.mul_(0.0)
    np.testing.assert_allclose(r.numpy(), a[2] + 1, rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), a.T, rtol=1e-6)


def test_shared_subexpressions_and_leaves(mode):
    mode("always")
    a = rand(300, seed=8)
    x = cl(a)
    y = x * x
    z = y * y + y - x
    before = ember_opencl.fusion_stats()
    np.testing.assert_allclose(z.numpy(), (a * a) ** 2 + a * a - a, rtol=1e-5)
    assert delta(before)["fused_ops"] == 4  # y is computed once inside the kernel
    np.testing.assert_allclose(y.numpy(), a * a, rtol=1e-6)  # y itself still pending: its own kernel


def test_long_chain_is_cut_into_kernels(mode):
    mode("always")
    a = rand(64, seed=9)
    x = cl(a)
    ref = a.copy()
    before = ember_opencl.fusion_stats()
    for _ in range(50):
        x = x * 1.001 + 0.01
        ref = ref * np.float32(1.001) + np.float32(0.01)
    np.testing.assert_allclose(x.numpy(), ref, rtol=1e-5)
    d = delta(before)
    assert d["fused_launches"] == -(-100 // _fusion.CAP) and d["eager_ops"] == 0


def test_auto_mode_fuses_only_repeated_structures(mode):
    mode("auto")
    a, b = rand(256, seed=10), rand(256, seed=11)
    x, y = cl(a), cl(b)
    results = []
    before = ember_opencl.fusion_stats()
    for k in range(_fusion.HOT + 1):  # a structure no other test builds: 5 ops
        results.append((((x - y) * 0.25 - x * y) * float(k + 1)).numpy())
    d = delta(before)
    # the first HOT - 1 evaluations run op by op, later ones as one kernel
    assert d["eager_ops"] == 5 * (_fusion.HOT - 1) and d["fused_launches"] == 2
    for k, r in enumerate(results):
        np.testing.assert_allclose(r, ((a - b) * 0.25 - a * b) * (k + 1), rtol=1e-5)


def test_off_mode_runs_eagerly(mode):
    mode("off")
    before = ember_opencl.fusion_stats()
    a = rand(100, seed=12)
    np.testing.assert_allclose((cl(a) * 2.0 + 1.0).numpy(), a * 2 + 1, rtol=1e-6)
    assert delta(before)["pending"] == 0


def test_autograd_through_fused_ops(mode):
    mode("always")
    a = rand(6, 5, seed=13, dtype=np.float64)
    b = rand(6, 5, seed=14, dtype=np.float64)

    def f(x, y):
        return ((x * y + 0.5).exp() - x / (y.abs() + 1.0)).sum(-1)

    x = cl(a).requires_grad_()
    y = cl(b).requires_grad_()
    assert ember.autograd.gradcheck(f, (x, y))
    out = f(x, y).sum()
    out.backward()
    ea = np.exp(a * b + 0.5)
    np.testing.assert_allclose(x.grad.numpy(), ea * b - 1 / (np.abs(b) + 1), rtol=1e-10)


def test_other_dtypes_and_broadcasts_are_not_pending(mode):
    mode("always")
    before = ember_opencl.fusion_stats()
    i = cl(np.arange(10, dtype=np.int32))
    np.testing.assert_array_equal((i * 3 + 1).numpy(), np.arange(10) * 3 + 1)
    h = cl(np.ones(10, np.float16))
    np.testing.assert_array_equal((h * 2.0).numpy(), np.full(10, 2, np.float16))
    m = cl(rand(3, 4))
    r = cl(rand(4, seed=1))
    np.testing.assert_allclose((m + r).numpy(), m.numpy() + r.numpy(), rtol=1e-6)
    assert delta(before)["pending"] == 0


def test_bad_fusion_mode_is_reported(monkeypatch):
    monkeypatch.setenv("EMBER_OPENCL_FUSION", "sometimes")
    with pytest.raises(
        BackendUnavailable, match=r"EMBER_OPENCL_FUSION='sometimes' is not a fusion mode.*auto, always, off"
    ):
        OpenCLBackend()
    with pytest.raises(ValueError, match="opencl set_fusion: unknown mode 'never'"):
        ember_opencl.set_fusion("never")


def test_fused_build_failure_falls_back_to_eager(mode, monkeypatch):
    mode("always")
    monkeypatch.setattr(_fusion, "gen_fused_program", lambda *a: ("__kernel void k_fused( {", ["fused"]))
    a = rand(50, seed=15)
    x = cl(a)

    def f():  # a structure no other test builds
        return ((x + 3.0) * (x - 4.0)).abs().neg() * 0.125

    with pytest.warns(RuntimeWarning, match=r"opencl fusion: the fused kernel for map of .* does not build"):
        got = f().numpy()
    np.testing.assert_allclose(got, -np.abs((a + 3) * (a - 4)) * 0.125, rtol=1e-6)
    before = ember_opencl.fusion_stats()
    np.testing.assert_allclose(f().numpy(), got)  # remembered: no second build, no warning
    assert delta(before)["fused_launches"] == 0
