"""Tests of the cuda backend.

The first part runs everywhere (no GPU, no CuPy): plugin declaration and entry point, the exact
"unavailable" reasons, the Philox generator against its known-answer vectors (in Python and, with
a host C compiler, the CUDA source itself), and nvcc syntax checks when a CUDA toolkit is present.
The second part needs CuPy and a GPU and skips with the reason otherwise.
"""

from __future__ import annotations

import importlib.metadata
import math
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from ember.backend import PRIMITIVES, BackendUnavailable

from ember_cuda import _kernels
from ember_cuda.plugin import REMEDY

# Random123's known-answer vectors for Philox4x32-10: (counter, key) -> output
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


# -- without a GPU ---------------------------------------------------------------------------
def test_plugin_declares_cuda_without_importing_cupy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import ember_cuda.plugin as p
        decls = p.ember_backends()
        assert [d.device_type for d in decls] == ["cuda"], decls
        assert decls[0].implementation == "ember_cuda.backend:CudaBackend"
        assert "cupy" not in sys.modules, "the plugin module must not import CuPy"
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "ember-cuda[cuda12]" in REMEDY


def test_entry_point_is_registered() -> None:
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="ember.backends")}
    if "cuda" not in eps:
        pytest.skip("ember-cuda is not installed (pip install -e plugins/cuda)")
    assert eps["cuda"] == "ember_cuda.plugin"


def test_missing_cupy_reports_unavailable_with_remedy() -> None:
    """With CuPy hidden, the registry lists cuda as unavailable naming CuPy, and ember.device("cuda")
    raises BackendError with the remedy (runs the same on a GPU machine)."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["cupy"] = None  # import cupy -> ImportError
        import ember
        from ember.registry import registry
        if "cuda" not in registry.records:
            from ember_cuda import plugin
            ember.registry.register_plugin(plugin, "cuda", "ember-cuda")
        rec = {r["name"]: r for r in ember.backends()}["cuda"]
        assert rec["status"] == "unavailable", rec
        assert "CuPy" in rec["reason"], rec
        assert "ember-cuda[cuda12]" in rec["remedy"], rec
        try:
            ember.device("cuda")
        except ember.BackendError as exc:
            msg = str(exc)
            assert "CuPy is not installed" in msg and "ember-cuda[cuda12]" in msg, msg
        else:
            raise AssertionError("ember.device('cuda') should raise without CuPy")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def _fake_cupy(monkeypatch: pytest.MonkeyPatch, count: object) -> None:
    fake = types.ModuleType("cupy")
    fake.__version__ = "99.0-fake"

    def get_device_count() -> int:
        if isinstance(count, Exception):
            raise count
        return int(count)  # type: ignore[call-overload]

    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    monkeypatch.setitem(sys.modules, "cupy", fake)


def test_no_driver_reason_has_the_exception_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from ember_cuda.backend import load_cupy

    _fake_cupy(monkeypatch, RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient"))
    with pytest.raises(BackendUnavailable) as info:
        load_cupy()
    assert "cudaErrorInsufficientDriver" in info.value.reason
    assert "getDeviceCount" in info.value.reason and "CuPy 99.0-fake" in info.value.reason
    assert info.value.remedy == REMEDY


def test_no_gpu_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from ember_cuda.backend import load_cupy

    _fake_cupy(monkeypatch, 0)
    with pytest.raises(BackendUnavailable, match="found no CUDA GPU"):
        load_cupy()


def test_philox_reference_matches_known_answers() -> None:
    for counter, key, want in PHILOX_KAT:
        assert _kernels.philox_reference(counter, key) == want


def test_philox_cuda_source_matches_known_answers(tmp_path: Path) -> None:
    """Compile the kernel's own Philox source with the host C compiler (CUDA intrinsics stubbed)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no host C compiler")
    checks = "\n".join(
        f"{{ unsigned int c[4] = {{{', '.join(f'{v}u' for v in ctr)}}}; "
        f"ember_philox4x32_10(c, {key[0]}u, {key[1]}u); "
        f'printf("%u %u %u %u\\n", c[0], c[1], c[2], c[3]); }}'
        for ctr, key, _ in PHILOX_KAT
    )
    src = (
        "#include <stdio.h>\n#define __device__\n#define __forceinline__ static inline\n"
        "static unsigned int __umulhi(unsigned int a, unsigned int b) "
        "{ return (unsigned int)(((unsigned long long)a * b) >> 32); }\n"
        + _kernels.PHILOX_SOURCE
        + "int main(void) {\n"
        + checks
        + '\nprintf("%u\\n", ember_word(0x1234567890ull, 4099ull, 3u, 7u, 9u));\nreturn 0; }\n'
    )
    (tmp_path / "kat.c").write_text(src)
    subprocess.run([cc, "-O1", "-o", str(tmp_path / "kat"), str(tmp_path / "kat.c")], check=True)
    run = subprocess.run([str(tmp_path / "kat")], capture_output=True, text=True, check=True)
    lines = run.stdout.split("\n")
    for line, (_, _, want) in zip(lines, PHILOX_KAT):
        assert tuple(int(v) for v in line.split()) == want
    blk = 0x1234567890 + (4099 >> 2)
    assert int(lines[3]) == _kernels.philox_reference((blk & 0xFFFFFFFF, blk >> 32, 3, 0), (7, 9))[4099 & 3]


def test_random_reference_is_sane() -> None:
    u = _kernels.random_reference("uniform", 4000, "float32", 1, 0)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.03
    n = _kernels.random_reference("normal", 4000, "float64", 1, 0)
    assert abs(n.mean()) < 0.08 and abs(n.std() - 1) < 0.08
    assert np.array_equal(
        _kernels.random_reference("uniform", 8, "float32", 1, 4)[:4],
        _kernels.random_reference("uniform", 12, "float32", 1, 0)[4:8],
    )


def test_divmod_bodies_round_like_numpy(tmp_path: Path) -> None:
    """The floating floor_divide/remainder bodies, compiled as host C++ (T = double), against numpy."""
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None:
        pytest.skip("no host C++ compiler")
    a = [1.0, -1.0, 5.5, -5.5, 7.0, -7.0, 0.0, 3.0, 1.0, -0.0]
    b = [0.1, 0.1, 2.0, 2.0, -3.0, -3.0, 2.0, 0.0, float("inf"), 3.0]
    funcs = "".join(
        f"static double h_{name}(double a, double b) {{ typedef double T; T y; {body} return y; }}\n"
        for name, body in _kernels.DIVMOD_BODIES.items()
    )
    src = (
        "#include <cmath>\n#include <cstdio>\nusing std::fmod; using std::floor; using std::copysign;\n"
        + _kernels.ACC_PREAMBLE
        + funcs
        + "int main() {\n"
        + "".join(
            f'printf("%.17g %.17g\\n", h_floor_divide({x!r}, {y!r}), h_remainder({x!r}, {y!r}));\n'.replace(
                "inf", "INFINITY"
            )
            for x, y in zip(a, b)
        )
        + "return 0; }\n"
    )
    (tmp_path / "divmod.cpp").write_text(src)
    subprocess.run([cxx, "-O1", "-o", str(tmp_path / "divmod"), str(tmp_path / "divmod.cpp")], check=True)
    run = subprocess.run([str(tmp_path / "divmod")], capture_output=True, text=True, check=True)
    got = np.array([[float(v) for v in line.split()] for line in run.stdout.split("\n") if line])
    with np.errstate(all="ignore"):
        want = np.stack([np.floor_divide(a, b), np.remainder(a, b)], axis=1)
    np.testing.assert_array_equal(got, want)  # 1.0 // 0.1 == 9.0, inf and nan where numpy has them


def test_softmax_sources_compile_with_nvcc(tmp_path: Path) -> None:
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("no CUDA toolkit (nvcc) on this machine")
    for dt in ("float32", "float64"):
        for log in (False, True):
            src, name = _kernels.softmax_source(dt, log)
            f = tmp_path / f"{name}.cu"
            f.write_text(src)
            r = subprocess.run(
                [nvcc, "-c", str(f), "-o", str(tmp_path / f"{name}.o")],
                capture_output=True,
                text=True,
                check=False,
            )
            assert r.returncode == 0, r.stderr


# -- with a GPU ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy", reason="CuPy is not installed: GPU tests skipped")


@pytest.fixture(scope="module")
def be(cp):
    from ember_cuda.backend import CudaBackend

    try:
        return CudaBackend()
    except BackendUnavailable as exc:
        pytest.skip(f"no usable CUDA GPU: {exc}")


@pytest.fixture(scope="module")
def K(be):
    return be.kernels


def _dt(name: str):
    from ember import dtypes

    return dtypes.as_dtype(name)


def test_kernel_table_is_complete(be) -> None:
    missing = [name for name in PRIMITIVES if name not in be.kernels]
    assert not missing, f"cuda lacks primitives {missing}"
    for name in (
        "relu",
        "sigmoid",
        "gelu",
        "silu",
        "rsqrt",
        "softmax",
        "log_softmax",
        "from_dlpack",
        "from_device",
        "any",
        "is_contiguous",
    ):
        assert name in be.kernels, name
    assert be.native_type() is __import__("cupy").ndarray


@pytest.mark.parametrize(
    "dt", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
)
def test_round_trip(K, dt) -> None:
    a = (np.arange(24).reshape(2, 3, 4) % 5).astype(dt)
    for host in (a, a[:, ::-1, ::2], a.transpose(2, 0, 1)):
        x = K["from_numpy"](host, 0)
        back = K["to_numpy"](x)
        assert back.dtype == host.dtype and np.array_equal(back, host)
    e = K["full"]((3, 2), 1, _dt(dt), 0)
    assert K["to_numpy"](e).dtype == np.dtype(dt)


def test_device_properties_and_sync(be) -> None:
    p = be.device_properties(0)
    assert p["name"] and p["total_memory"] > 0 and "." in p["compute_capability"]
    assert p["float64"] is True and p["float16"] is True
    be.synchronize(0)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(x.astype(np.float64))


@pytest.mark.parametrize("dt,tol", [("float16", 2e-3), ("float32", 2e-6), ("float64", 1e-12)])
def test_fused_elementwise_matches_numpy(K, dt, tol) -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((37, 53)) * 6).astype(dt)
    x[0, :4] = [0, -0.0, 40, -40]
    xd = x.astype(np.float64)
    sig = 1 / (1 + np.exp(-xd))
    want = {
        "relu": np.maximum(xd, 0),
        "sigmoid": sig,
        "silu": xd * sig,
        "gelu": 0.5 * xd * (1 + _erf(xd / math.sqrt(2))),
    }
    dev = K["from_numpy"](x, 0)
    strided = K["from_numpy"](x.T.copy(), 0).T  # non-contiguous input
    for name, ref in want.items():
        for inp in (dev, strided):
            got = K["to_numpy"](K[name](inp))
            assert got.dtype == x.dtype and got.flags.c_contiguous
            np.testing.assert_allclose(
                got.astype(np.float64), ref, rtol=tol * 10, atol=tol * 10, err_msg=name
            )
    pos = np.abs(x) + np.asarray(0.5, dtype=dt)
    got = K["to_numpy"](K["rsqrt"](K["from_numpy"](pos, 0)))
    np.testing.assert_allclose(got.astype(np.float64), 1 / np.sqrt(pos.astype(np.float64)), rtol=tol * 10)


def test_relu_keeps_nan_and_integer_dtypes(K) -> None:
    x = np.array([np.nan, -1.0, 2.0], dtype=np.float32)
    got = K["to_numpy"](K["relu"](K["from_numpy"](x, 0)))
    assert np.isnan(got[0]) and got[1] == 0 and got[2] == 2
    for dt in ("int64", "int8", "uint8", "bool"):
        a = np.array([-3, 0, 5], dtype=np.int64).astype(dt)
        got = K["to_numpy"](K["relu"](K["from_numpy"](a, 0)))
        assert got.dtype == np.dtype(dt) and np.array_equal(got, np.maximum(a, np.zeros((), dt)))


def _softmax_ref(x: np.ndarray, dim: int, log: bool) -> np.ndarray:
    xd = x.astype(np.float64)
    s = xd - xd.max(axis=dim, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=dim, keepdims=True))
    return s - lse if log else np.exp(s - lse)


@pytest.mark.parametrize("dt,tol", [("float16", 3e-3), ("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize(
    "shape,dim",
    [((64, 10), 1), ((3, 5000), 1), ((1, 1), 1), ((4, 7, 33), 2), ((4, 7, 33), 1), ((6, 9, 1), 1), ((8,), 0)],
)
def test_softmax_matches_numpy(K, dt, tol, shape, dim) -> None:
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 8).astype(dt)
    if x.ndim == 2 and x.shape[1] > 2:
        x[0, 0] = 1000 if dt != "float16" else 60000  # large values stay finite (max subtracted)
    for log in (False, True):
        got = K["to_numpy"](K["log_softmax" if log else "softmax"](K["from_numpy"](x, 0), dim))
        assert got.dtype == x.dtype and got.shape == x.shape
        np.testing.assert_allclose(
            got.astype(np.float64), _softmax_ref(x, dim, log), rtol=tol * 10, atol=tol * 10
        )


def test_softmax_nan_row_propagates(K) -> None:
    x = np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    got = K["to_numpy"](K["softmax"](K["from_numpy"](x, 0), 1))
    assert np.isnan(got[0]).all() and np.isfinite(got[1]).all()


@pytest.mark.parametrize("dt", ["float16", "float32", "float64"])
def test_random_is_a_pure_function_of_seed_and_offset(K, dt) -> None:
    for kind in ("uniform", "normal"):
        a = K["to_numpy"](K[kind]((1000,), _dt(dt), 0, 42, 8))
        b = K["to_numpy"](K[kind]((1000,), _dt(dt), 0, 42, 8))
        c = K["to_numpy"](K[kind]((1000,), _dt(dt), 0, 43, 8))
        assert a.dtype == np.dtype(dt) and np.array_equal(a, b) and not np.array_equal(a, c)
        ref = _kernels.random_reference(kind, 64, dt, 42, 8)
        np.testing.assert_allclose(a[:64].astype(np.float64), ref.astype(np.float64), rtol=1e-5, atol=1e-5)
    u = K["to_numpy"](K["uniform"]((200_000,), _dt(dt), 0, 7, 0)).astype(np.float64)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    n = K["to_numpy"](K["normal"]((200_000,), _dt(dt), 0, 7, 0)).astype(np.float64)
    assert abs(n.mean()) < 0.02 and abs(n.std() - 1) < 0.02


@pytest.mark.parametrize(
    "dt", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
)
def test_scatter_add_every_dtype(K, dt) -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, (4, 5)).astype(dt)
    index = rng.integers(0, 4, (6, 5)).astype(np.int64)
    src = rng.integers(0, 3, (6, 5)).astype(dt)
    want = x.copy()
    if dt == "bool":
        w = want.astype(np.int32)
        np.add.at(w, (index, np.arange(5)[None, :]), src.astype(np.int32))
        want = w != 0
    else:
        np.add.at(want, (index, np.arange(5)[None, :]), src)
    got = K["to_numpy"](
        K["scatter_add"](K["from_numpy"](x, 0), 0, K["from_numpy"](index, 0), K["from_numpy"](src, 0))
    )
    assert got.dtype == x.dtype and np.array_equal(got, want)


def test_memory_stats_and_empty_cache(be, K) -> None:
    be.empty_cache(0)
    before = be.memory_stats(0)
    for key in ("in_use", "cached", "peak"):
        assert before[key] >= 0
    x = K["empty"]((16 * 1024 * 1024,), _dt("float32"), 0)  # 64 MiB
    during = be.memory_stats(0)
    assert during["in_use"] >= before["in_use"] + x.nbytes
    assert during["peak"] >= during["in_use"]
    del x
    after = be.memory_stats(0)
    assert after["cached"] >= 64 * 1024 * 1024 and after["peak"] >= during["in_use"]
    be.empty_cache(0)
    assert be.memory_stats(0)["cached"] < after["cached"]


def test_out_of_memory_is_a_clear_memory_error(K) -> None:
    with pytest.raises(MemoryError, match=r"cuda:0: out of GPU memory in empty.*1024\.0 GiB"):
        K["empty"]((1 << 38,), _dt("float32"), 0)  # 1 TiB


def test_ember_tensors_on_cuda(be) -> None:
    import ember

    dev = ember.device("cuda")
    a = ember.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), device=dev, requires_grad=True)
    y = (a.relu() @ ember.ones(3, 2, device=dev)).softmax(-1).sum()
    y.backward()
    assert a.grad.device == dev and a.grad.shape == (2, 3)
    ember.manual_seed(5)
    r1 = ember.rand(4, device=dev).numpy()
    ember.manual_seed(5)
    assert np.array_equal(r1, ember.rand(4, device=dev).numpy())


def test_dlpack_zero_copy_with_cupy(cp, be) -> None:
    import ember

    src = cp.arange(12, dtype=cp.float32).reshape(3, 4)
    t = ember.from_dlpack(src)
    assert t.device.type == "cuda" and t.shape == (3, 4)
    assert t._data.data.ptr == src.data.ptr  # zero copy in
    src[0, 0] = 42
    assert t.numpy()[0, 0] == 42
    back = cp.from_dlpack(t)
    assert back.data.ptr == src.data.ptr  # zero copy out


def test_dlpack_zero_copy_with_torch(be) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch has no CUDA here")
    import ember

    tt = torch.arange(10, dtype=torch.float32, device="cuda")
    t = ember.from_dlpack(tt)
    assert t.device.type == "cuda" and t._data.data.ptr == tt.data_ptr()
    tt += 1
    torch.cuda.synchronize()
    assert t.numpy()[0] == 1
    back = torch.from_dlpack(t)
    assert back.data_ptr() == tt.data_ptr()


def test_multi_gpu(be, cp) -> None:
    if be.device_count() < 2:
        pytest.skip(f"needs 2 GPUs, this machine has {be.device_count()}")
    import ember

    a = ember.tensor(np.arange(8, dtype=np.float32), device="cuda:1")
    assert a._data.device.id == 1
    b = (a * 2 + 1).exp().log()
    assert b._data.device.id == 1 and np.allclose(b.numpy(), np.arange(8) * 2 + 1, rtol=1e-5)
    r = ember.rand(5, device="cuda:1")
    assert r._data.device.id == 1
    c = b.to("cuda:0")
    assert c._data.device.id == 0 and np.allclose(c.numpy(), b.numpy())
    copied = be.kernels["from_device"](b._data, b.device, 0)
    assert copied.device.id == 0 and np.allclose(cp.asnumpy(copied), b.numpy())
