"""(b) Shape propagation on meta: models and every op of Ember's op table, with no data."""

from __future__ import annotations

import time
from typing import Any

import ember
import numpy as np
import pytest
from ember.testing.op_table import OPS, cast_sample, to_ember

from ember_meta.array import MetaArray

nn = pytest.importorskip("ember.nn")


def _is_meta(t: Any) -> bool:
    return t.device.type == "meta" and isinstance(t._data, MetaArray)


def test_model_written_with_ops() -> None:
    x = ember.randn(4, 8, device="meta")
    w = ember.randn(8, 16, device="meta", requires_grad=True)
    b = ember.zeros(16, device="meta", requires_grad=True)
    h = (x @ w + b).relu()  # Linear + bias + relu
    assert h.shape == (4, 16) and _is_meta(h)
    s = h.reshape(4, 4, 4).sum(-1)
    assert s.shape == (4, 4)
    p = ember.softmax(s, dim=1)
    assert p.shape == (4, 4) and p.dtype is ember.float32 and _is_meta(p)
    assert p._data.shape == (4, 4) and p._data.dtype == np.float32
    p.sum().backward()  # backward runs too: the gradients have the parameters' shapes
    assert w.grad.shape == (8, 16) and b.grad.shape == (16,) and _is_meta(w.grad)


def test_views_keep_real_strides() -> None:
    x = ember.empty(2, 3, 4, device="meta")
    v = x.permute(2, 0, 1)[1:, :, ::2]
    assert v.shape == (3, 2, 2) and v.stride() == (1, 12, 8) and not v.is_contiguous()
    assert v._data.offset == 1
    assert v.contiguous().stride() == (4, 2, 1)


def test_nn_model_moved_to_meta() -> None:
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    model.to("meta")
    assert all(_is_meta(p) for p in model.parameters())
    out = model(ember.randn(32, 784, device="meta"))
    assert out.shape == (32, 10) and _is_meta(out)
    assert sum(p.numel() for p in model.parameters()) == 784 * 256 + 256 + 256 * 10 + 10


def test_cnn_on_meta() -> None:
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 14 * 14, 10),
        nn.LogSoftmax(1),
    ).to("meta")
    assert cnn(ember.randn(16, 1, 28, 28, device="meta")).shape == (16, 10)
    attn = nn.MultiheadAttention(32, 4, batch_first=True, device="meta")
    q = ember.randn(2, 5, 32, device="meta")
    assert attn(q, q, q)[0].shape == (2, 5, 32)


def test_model_too_big_to_allocate() -> None:
    t0 = time.perf_counter()
    big = nn.Sequential(
        nn.Linear(100_000, 100_000, device="meta"), nn.GELU(), nn.Linear(100_000, 10, device="meta")
    )
    n = sum(p.numel() for p in big.parameters())
    assert n == 100_000 * 100_000 + 100_000 + 100_000 * 10 + 10  # 40 GB of float32, never allocated
    assert big(ember.randn(8, 100_000, device="meta")).shape == (8, 10)
    assert sum(p._data.nbytes for p in big.parameters()) == 4 * n
    assert ember.device("meta").memory_stats()["peak"] == 0
    assert time.perf_counter() - t0 < 5


# records marked reads_values (item, tolist, nonzero ...) need values and are not compared here;
# index bounds checks are skipped by the core on devices with Backend.has_data = False
_CASES = [(spec, dt) for spec in OPS for dt in spec.dtypes]


@pytest.mark.parametrize("spec,dtype", _CASES, ids=[f"{s.name}-{d}" for s, d in _CASES])
def test_op_table_shapes_match_cpu(spec: Any, dtype: str) -> None:
    """Every sample of the conformance kit's op table: same shape, dtype (and view strides) as cpu."""
    rng = np.random.default_rng(0)
    for raw in spec.samples(dtype, rng):
        sample = cast_sample(raw, dtype)
        args, kwargs = to_ember(sample, dtype, "cpu")
        ref = spec.caller()(*args, **kwargs)
        args, kwargs = to_ember(sample, dtype, "meta")
        if spec.reads_values:  # its call needs values (the kit's own run on meta covers it)
            continue
        out = spec.caller()(*args, **kwargs)
        what = f"{spec.name}[{sample.describe()}] {dtype}"
        assert _is_meta(out), what
        assert (out.shape, out.dtype) == (ref.shape, ref.dtype), what
        assert (out._data.shape, out._data.dtype) == (out.shape, np.dtype(out.dtype.numpy)), what
        if ref._base is not None:  # a view on cpu: a view on meta too
            assert out._base is not None, what
            # with the same strides, where the cpu base is C-contiguous (an elementwise result on
            # cpu may keep a permuted input's layout; meta's are always C-contiguous)
            if ref._base.is_contiguous() and ref.numel():  # an empty view's strides are never used
                assert out.stride() == ref.stride(), what


def test_index_kernels_directly() -> None:
    """gather/scatter_add/nonzero-free kernels, below the core's value-dependent bounds checks."""
    k = ember.device("meta").kernels
    x, idx = MetaArray((4, 5), np.float32), MetaArray((3, 5), np.int64)
    assert k["gather"](x, 0, idx).shape == (3, 5)
    out = k["scatter_add"](x, 0, idx, MetaArray((3, 5), np.float32))
    assert (out.shape, out.dtype) == ((4, 5), np.float32)
    a, b = MetaArray((2, 1, 3, 4), np.float32), MetaArray((3, 4, 2), np.float32)
    assert k["matmul"](a, b).shape == (2, 3, 3, 2)
    assert k["argmax"](MetaArray((2, 3), np.float32), 1, True).shape == (2, 1)
    assert k["where"](MetaArray((3, 1), np.bool_), 1.0, 0.0).dtype == np.float32
    with pytest.raises(ValueError, match="cannot broadcast"):
        k["copy_"](MetaArray((2, 3), np.float32), MetaArray((4,), np.float32))
