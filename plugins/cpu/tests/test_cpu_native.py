"""The native strided loops of the cpu backend's compiled graphs (ember_cpu.native): bit for bit
numpy's results on every layout a planned graph can hand them (permuted, negative and zero
strides, size-1 and merged dimensions, every element size), refusals where they must not run, and
the build's failure modes (no compiler, a failing build, the switch), which leave numpy's calls."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from ember_cpu import native

pytestmark = pytest.mark.skipif(
    native.library() is None, reason=f"the native loops are not available here: {native.status()}"
)

DTYPES = [np.bool_, np.int8, np.float16, np.int32, np.float32, np.int64, np.float64, np.complex128]


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Values of ``dtype`` with the bit patterns that a float conversion would change: NaN with a
    payload and a sign, -0.0, infinities."""
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    if np.dtype(dtype).kind == "f":
        flat = a.reshape(-1)
        specials = np.array([-0.0, np.inf, -np.inf, np.nan], dtype)
        flat[: min(4, flat.size)] = specials[: min(4, flat.size)]
        if flat.size > 4:  # a NaN with its sign bit set and a payload
            word, pattern = {
                np.float16: (np.uint16, 0xFE01),
                np.float32: (np.uint32, 0xFFC00123),
                np.float64: (np.uint64, 0xFFF8000000000123),
            }[dtype]
            flat[4:5].view(word)[...] = pattern
    return a


def _layouts(rng: np.random.Generator, dtype: type) -> list[np.ndarray]:
    """(2, 3, 4, 5) arrays: contiguous, permuted, reversed, sliced with steps, and from a larger
    buffer with a size-1 dimension inserted and removed."""
    base = _values(rng, (4, 6, 8, 10), dtype)
    return [
        _values(rng, (2, 3, 4, 5), dtype),
        _values(rng, (5, 4, 3, 2), dtype).transpose(3, 2, 1, 0),
        base[:2, :3, :4, :5][::-1, :, ::-1],
        base[::2, ::2, ::2, ::2],
        _values(rng, (2, 1, 3, 4, 5), dtype)[:, 0],
    ]


def _same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_copy_equals_numpy_on_every_layout(dtype: type) -> None:
    rng = np.random.default_rng(0)
    srcs = _layouts(rng, dtype)
    for dst in _layouts(rng, dtype):
        for src in [*srcs, srcs[0][:, :1], srcs[1][0, :, 0:1, :]]:  # and broadcast sources
            want = dst.copy()
            want[...] = src
            call = native.bind_copy(dst, src)
            assert call is not None
            call()
            _same_bits(dst, want)


ADD_DTYPES = [np.float32, np.float64, np.int32, np.int64]


@pytest.mark.parametrize("dtype", ADD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_add_equals_numpy_on_every_layout(dtype: type) -> None:
    """``dst += src`` as numpy computes it, overflow wrapping for integers as numpy's does."""
    rng = np.random.default_rng(1)
    srcs = _layouts(rng, dtype)
    for dst in _layouts(rng, dtype):
        for src in [*srcs, srcs[2][:1, :, :, :1]]:
            if dst.dtype.kind == "i":
                src = src.copy()
                src.reshape(-1)[0] = np.iinfo(dtype).max  # wraps
            want = dst.copy()
            with np.errstate(all="ignore"):
                want += src
            call = native.bind_add(dst, src)
            assert call is not None
            call()
            _same_bits(dst, want)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_where_equals_numpy_on_every_layout(dtype: type) -> None:
    rng = np.random.default_rng(2)
    conds = [c > 0 for c in _layouts(rng, np.float32)]
    for out, cond, a, b in zip(_layouts(rng, dtype), conds, _layouts(rng, dtype), _layouts(rng, dtype)[::-1]):
        for x, y in ((a, b), (a[:, :1], b), (a, b[0])):
            call = native.bind_where(out, cond, x, y)
            assert call is not None
            call()
            _same_bits(out, np.where(cond, x, y))
    out = np.empty((3, 4), np.float32)
    cond = rng.random((3, 4)) > 0.5
    b = rng.random((3, 4), dtype=np.float32)
    for scalar in (0.0, -0.0, 0.1, float("inf"), 2):  # weak scalars: taken in out's dtype
        native.bind_where(out, cond, scalar, b)()
        _same_bits(out, np.where(cond, np.float32(scalar), b))


def test_refusals() -> None:
    """Where the loops would give another result than numpy (or none), ``bind_*`` says None and
    the graph keeps numpy's call: overlapping operands, other dtypes, shapes that do not
    broadcast, read-only or empty destinations, unaligned data, ml_dtypes' bfloat16, an integer
    destination for a scalar it cannot hold."""
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert native.bind_copy(a[:, 1:], a[:, :3]) is None  # overlap
    assert native.bind_add(a, a) is None
    assert native.bind_copy(a, a.astype(np.float64)) is None
    assert native.bind_add(a.astype(np.float16), a.astype(np.float16)) is None  # no float16 adds
    assert native.bind_copy(a, np.ones((2, 4), np.float32)) is None
    ro = np.ones((3, 4), np.float32)
    ro.flags.writeable = False
    assert native.bind_copy(ro, a) is None
    assert native.bind_copy(np.ones((0, 4), np.float32), np.ones((0, 4), np.float32)) is None
    cond = np.ones((3, 4), bool)
    i = np.zeros((3, 4), np.int8)
    assert native.bind_where(i, cond, 1000, i.copy()) is None  # int8 cannot hold 1000
    assert native.bind_where(i, cond.astype(np.uint8), 1, i.copy()) is None  # not a bool condition
    assert native.bind_where(a, cond, a.astype(np.float64), 0.0) is None
    unaligned = np.ndarray((3, 4), np.float32, np.zeros(49, np.uint8), 1)  # C's typed loads: UB
    assert not unaligned.flags.aligned
    assert native.bind_copy(unaligned, a) is None
    assert native.bind_add(a.copy(), unaligned) is None
    assert native.bind_max(np.empty(4, np.float32), unaligned, [0], False) is None
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = np.ones((3, 4), ml_dtypes.bfloat16)
    assert native.bind_copy(bf, bf.copy()) is None


def _status_in_subprocess(env: dict[str, str]) -> str:
    code = "from ember_cpu import native; print(native.library() is None); print(native.status())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True
    ).stdout
    return out


def test_unwritable_cache_dir_builds_in_a_temporary_dir(tmp_path: pytest.TempPathFactory) -> None:
    """A cache directory that cannot be made (EMBER_CACHE_DIR under a file) still gives the loops:
    built in a temporary directory of the process, removed at its exit."""
    import os

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "EMBER_CPU_NATIVE")}
    env["EMBER_CACHE_DIR"] = str(blocker / "cache")
    out = _status_in_subprocess(env)
    assert out.startswith("False") and "ember-cpu-native-" in out, out
    built = out.split("(")[-1].rstrip(")\n")
    assert not os.path.exists(built)  # removed at exit


def test_no_compiler_failed_build_and_switch_leave_numpy(tmp_path: pytest.TempPathFactory) -> None:
    """Each way of having no native loops is reported with its reason (and the compiled graphs
    then keep numpy's calls: ``_native_loops`` returns the items unchanged)."""
    import os

    base = {k: v for k, v in os.environ.items() if k not in ("CC", "EMBER_CPU_NATIVE")}
    base["EMBER_CACHE_DIR"] = str(tmp_path)
    out = _status_in_subprocess({**base, "CC": str(tmp_path / "no-such-cc")})
    assert out.startswith("True") and "does not run" in out
    bad = tmp_path / "bad-cc"
    bad.write_text(
        textwrap.dedent("""\
        #!/bin/sh
        case "$1" in --version) echo bad-cc 1.0;; *) echo "bad-cc: error: cannot build" >&2; exit 1;; esac
        """)
    )
    bad.chmod(0o755)
    out = _status_in_subprocess({**base, "CC": str(bad)})
    assert out.startswith("True") and "failed to build strided.c: bad-cc: error: cannot build" in out
    out = _status_in_subprocess({**base, "EMBER_CPU_NATIVE": "0"})
    assert out.startswith("True") and "EMBER_CPU_NATIVE=0" in out
    out = _status_in_subprocess(base)  # a fresh cache: built here, then found
    assert out.startswith("False") and "built with" in out and str(tmp_path) in out
    assert len(list((tmp_path / "cpu-native").glob("strided-*.so"))) == 1


@pytest.mark.parametrize("dtype", ADD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_max_equals_numpy(dtype: type) -> None:
    """numpy's bits (NaN propagating with its payload, and of +0.0 and -0.0 the later one, as
    numpy keeps it) wherever the loop takes the reduction: integers over any dims, floats over
    one axis that numpy too reduces in order."""
    rng = np.random.default_rng(3)
    cases = (([0], False), ([2], True), ([3], False), ([1, 3], True), (None, False), ([-1, 0], False))
    bound = 0
    for x in _layouts(rng, dtype):
        for dims, keep in cases:
            want = np.max(x, axis=None if dims is None else tuple(dims), keepdims=keep)
            out = np.empty(np.shape(want), dtype)
            call = native.bind_max(out, x, dims, keep)
            if call is None:
                assert np.dtype(dtype).kind == "f"
                continue
            call()
            _same_bits(out, want)
            bound += 1
    assert bound >= (30 if np.dtype(dtype).kind == "i" else 8)
    if np.dtype(dtype).kind == "f":
        z = np.array([[-0.0, 0.0], [0.0, -0.0], [np.nan, 1.0], [1.0, np.nan]], dtype)
        out = np.empty(4, dtype)
        assert native.bind_max(out, z, [1], False) is None  # numpy's innermost reduction
        zt = np.ascontiguousarray(z.T)
        native.bind_max(out, zt, [0], False)()
        _same_bits(out, np.max(zt, axis=0))
    x = np.ones((3, 0, 2), dtype)
    assert native.bind_max(np.empty((3, 2), dtype), x, [1], False) is None  # numpy raises: no identity


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.complex128], ids=str)
def test_eager_kernels_equal_numpy_on_large_strided_operands(dtype: type) -> None:
    """The cpu backend's ``add_``, ``copy_`` and ``where`` on operands of at least
    EAGER_MIN_ELEMENTS elements in the layouts of the convolution's fold, im2col and relu's
    backward, and broadcast ones: numpy's bits."""
    import ember

    k = ember.device("cpu").kernels
    rng = np.random.default_rng(4)
    big = _values(rng, (64, 16, 10, 10), dtype)
    dst_views = [big.transpose(1, 0, 2, 3)[:, :, 1:9, 1:9], big[:, :, ::-1, 1:9][:, :, 1:9]]
    for dst in dst_views:
        for src in (_values(rng, (16, 64, 8, 8), dtype), _values(rng, (16, 64, 8, 1), dtype)):
            if dst.shape != (16, 64, 8, 8):
                src = src.transpose(1, 0, 2, 3)
            want = dst.copy()
            want[...] = src
            k["copy_"](dst, src)
            _same_bits(dst, want)
            if np.dtype(dtype) in native._ADD_DTYPES:
                want = dst.copy()
                with np.errstate(all="ignore"):
                    want += src
                k["add_"](dst, src)
                _same_bits(dst, want)
    cond = rng.random((64, 32, 8, 8)) > 0.5
    g = _values(rng, (64, 32, 8, 8), dtype)
    for c, a, b in ((cond, g, g[::-1]), (cond.transpose(0, 1, 3, 2), g, g[:, :1]), (cond, g.mT, g)):
        _same_bits(k["where"](c, a, b), np.where(c, a, b))
    if np.dtype(dtype).kind == "f":
        _same_bits(k["where"](cond, 0.0, g), np.where(cond, 0.0, g))
        _same_bits(k["where"](cond, g, -0.0), np.where(cond, g, -0.0))


def test_eager_kernels_through_every_op_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every op record's forward samples with the eager loops taken at any size equal the same
    ops with numpy's kernels, bit for bit (the records' hostile layouts: overlap, negative
    strides, broadcasting, 0-d, empty)."""
    import ember
    from ember.testing.op_table import OPS, cast_sample, to_ember

    dev = ember.device("cpu")

    def run_all(min_elements: int) -> list[bytes]:
        monkeypatch.setattr(native, "EAGER_MIN_ELEMENTS", min_elements)
        out: list[bytes] = []
        for spec in OPS:
            for dtype in [d for d in ("float32", "int64", "bool") if d in spec.dtypes][:1]:
                for raw in spec.samples(dtype, np.random.default_rng(0)):
                    sample = cast_sample(raw, dtype)
                    ember.manual_seed(0)
                    args, kwargs = to_ember(sample, dtype, dev)
                    try:
                        r = spec.fn(*args, **kwargs)
                    except Exception as e:  # noqa: BLE001 - the same error both ways
                        out.append(repr(type(e)).encode())
                        continue
                    for t in r if isinstance(r, (tuple, list)) else [r]:
                        if isinstance(t, ember.Tensor):
                            out.append(np.ascontiguousarray(t.numpy()).tobytes())
        return out

    with np.errstate(all="ignore"):
        assert run_all(1) == run_all(10**12)


def test_eager_read_only_destination_after_a_writeable_one_of_its_layout() -> None:
    """The eager loops are prepared per layout: a read-only destination with the layout of one
    seen before is refused as numpy refuses it (through Ember: the tensor's array unchanged)."""
    import ember

    src = ember.ones(128, 128)
    ember.zeros(128, 256)[:, ::2].add_(src)  # prepares the layout's loops
    ember.zeros(128, 256)[:, ::2].copy_(src)
    a = np.zeros((128, 256), np.float32)
    a.flags.writeable = False
    t = ember.from_numpy(a)
    for op in ("add_", "copy_"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(t[:, ::2], op)(src)
    assert not a.any()


def test_destination_whose_elements_share_memory_keeps_numpys_result() -> None:
    """A destination with elements sharing memory (a zero stride, overlapping windows) is left to
    numpy's call: numpy adds to a copy of it (each location takes one element's sum, the last
    written), the loops would accumulate into it."""
    import ember

    k = ember.device("cpu").kernels
    n = native.EAGER_MIN_ELEMENTS
    src = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    for shape, strides in (((n, 2), (4, 4)), ((n, 2), (4, 0))):
        got, want = np.zeros(n + 1, np.float32), np.zeros(n + 1, np.float32)
        view = np.lib.stride_tricks.as_strided(want, shape, strides, writeable=True)
        view += src
        dst = np.lib.stride_tricks.as_strided(got, shape, strides, writeable=True)
        assert native.bind_add(dst, src) is None
        k["add_"](dst, src)
        _same_bits(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_max_of_signed_zeros_where_numpys_order_differs(dtype: type) -> None:
    """numpy reduces an innermost axis with several accumulators (SIMD lanes; unrolled over a
    strided one), and several axes in an order of its own: the sign of a zero maximum then
    depends on that order, so the loop leaves those to numpy (eager max of a large operand, and
    bind_max); one axis outside a kept one it takes, with numpy's signs."""
    import ember

    k = ember.device("cpu").kernels
    rng = np.random.default_rng(7)
    x = rng.choice(np.array([0.0, -0.0, -1.0], dtype), size=(512, 33))
    _same_bits(k["max"](x, (1,), False), np.max(x, axis=1))
    _same_bits(k["max"](x, (-1,), True), np.max(x, axis=-1, keepdims=True))
    refused = [(x, (1,)), (x[:, ::2], (1,)), (x, None), (x.reshape(64, 8, 33), (0, 1))]
    for y, dims in refused:
        assert native.bind_max(np.empty(np.max(y, axis=dims).shape, dtype), y, dims, False) is None
    for y, dims in ((x.T, (1,)), (x, (0,)), (x.reshape(512, 3, 11), (1,))):
        want = np.max(y, axis=dims)
        out = np.empty(want.shape, dtype)
        native.bind_max(out, y, dims, False)()
        _same_bits(out, want)


def test_where_with_a_large_int_scalar_rounds_as_numpy() -> None:
    """numpy takes a Python int scalar of ``where`` into a float32 result from int64, rounding
    once; the loops' operand (through a double) would round twice: 2**60 + 2**36 + 1 rounds up
    in numpy and down through the double, so such scalars keep numpy's call."""
    import ember

    k = ember.device("cpu").kernels
    cond = np.random.default_rng(8).random((128, 128)) > 0.5
    v = 2**60 + 2**36 + 1
    for dtype in (np.float32, np.complex64):
        x = np.ones((128, 128), dtype)
        _same_bits(k["where"](cond, x, v), np.where(cond, x, v))
        _same_bits(k["where"](cond, v, x), np.where(cond, v, x))
        assert native.bind_where(np.empty((128, 128), dtype), cond, x, v) is None


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_while_another_thread_holds_the_build_lock() -> None:
    """A process forked while another thread builds the loops (holding the lock; a DataLoader's
    workers started meanwhile) gets the loops in the child instead of waiting forever."""
    import os
    import threading
    import time

    held, release = threading.Event(), threading.Event()

    def build() -> None:
        with native._lock:
            held.set()
            release.wait(30)

    t = threading.Thread(target=build)
    t.start()
    held.wait(30)
    try:
        pid = os.fork()
        if pid == 0:  # the child: the library within seconds, or exit 1
            done = threading.Event()
            threading.Thread(target=lambda: (native.library(), done.set()), daemon=True).start()
            os._exit(0 if done.wait(10) else 1)
        deadline = time.monotonic() + 20
        while (r := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if r[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert r[0] == pid and os.waitstatus_to_exitcode(r[1]) == 0
    finally:
        release.set()
        t.join()
