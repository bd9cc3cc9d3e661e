"""Tensors: creation, dtypes and promotion, views and in-place semantics, indexing, conversion, errors."""

from __future__ import annotations

import ember
import numpy as np
import pytest


# -- creation and dtypes --------------------------------------------------------------------------
def test_tensor_infers_pytorch_dtypes() -> None:
    assert ember.tensor([1.0, 2.0]).dtype is ember.float32
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.tensor([True, False]).dtype is ember.bool
    assert ember.tensor(np.zeros(2, np.float64)).dtype is ember.float64
    assert ember.tensor(3.5).shape == ()
    assert ember.tensor([[1, 2], [3, 4]], dtype=ember.float16).dtype is ember.float16


@pytest.mark.parametrize(
    "fn,args,expected",
    [
        (ember.zeros, (2, 3), np.zeros((2, 3), np.float32)),
        (ember.ones, ((2,),), np.ones(2, np.float32)),
        (lambda *a: ember.full(a, 7), (2, 2), np.full((2, 2), 7)),
        (lambda: ember.arange(5), (), np.arange(5)),
        (lambda: ember.arange(1, 2, 0.25), (), np.arange(1, 2, 0.25, dtype=np.float32)),
        (lambda: ember.linspace(0, 1, 5), (), np.linspace(0, 1, 5, dtype=np.float32)),
        (lambda: ember.eye(3, 2), (), np.eye(3, 2, dtype=np.float32)),
    ],
)
def test_creation_functions(fn, args, expected) -> None:
    out = fn(*args)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.numpy().dtype == expected.dtype


def test_like_functions_keep_shape_dtype_device() -> None:
    x = ember.ones(2, 3, dtype=ember.float64)
    for f in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like, ember.randn_like):
        y = f(x)
        assert (y.shape, y.dtype, y.device) == ((2, 3), ember.float64, x.device)
    assert ember.full_like(x, 3).sum().item() == 18


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ("int64", "float32", "float32"),
        ("int32", "int64", "int64"),
        ("uint8", "int8", "int16"),
        ("bool", "int32", "int32"),
        ("float16", "float64", "float64"),
        ("uint8", "int32", "int32"),
        ("bool", "bool", "bool"),
    ],
)
def test_tensor_tensor_promotion(a: str, b: str, expected: str) -> None:
    x = ember.ones(2, dtype=a)
    y = ember.ones(2, dtype=b)
    assert (x + y).dtype.name == expected


def test_python_scalars_are_weak() -> None:
    assert (ember.ones(2, dtype=ember.float16) * 2.5).dtype is ember.float16
    assert (ember.ones(2, dtype=ember.int32) + 1).dtype is ember.int32
    assert (ember.ones(2, dtype=ember.int32) + 1.5).dtype is ember.float32
    assert (ember.ones(2, dtype=ember.bool) + 1).dtype is ember.int64
    assert (ember.arange(3) / 2).dtype is ember.float32
    assert (ember.ones(2, dtype=ember.uint8) + 300).tolist() == [45, 45]  # wraps like C


def test_zero_dim_tensors_do_not_widen_dimensioned_ones() -> None:
    x = ember.ones(3, dtype=ember.float32)
    assert (x + ember.tensor(2.0, dtype=ember.float64)).dtype is ember.float32
    assert (ember.ones(3, dtype=ember.int32) + ember.tensor(2.0)).dtype is ember.float32


def test_default_dtype_switch() -> None:
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.0]).dtype is ember.float64
        assert ember.zeros(1).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype, got ember.int32"):
        ember.set_default_dtype(ember.int32)


def test_bad_dtype_and_data_errors() -> None:
    with pytest.raises(TypeError, match="unsupported dtype 'uint32'; Ember supports bool, uint8"):
        ember.zeros(2, dtype="uint32")
    with pytest.raises(TypeError, match="nested sequences must be rectangular"):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="numpy dtype uint16 has no Ember equivalent"):
        ember.tensor(np.zeros(2, np.uint16))


# -- views ----------------------------------------------------------------------------------------
def test_views_share_memory_and_writes_reach_the_base() -> None:
    base = ember.zeros(3, 4)
    base[1] = 5.0
    base.reshape(12)[0] = 1.0
    base.T[3, 2] = 7.0  # element [2, 3]
    base.unsqueeze(0).expand(2, 3, 4)  # expand is a view too
    col = base[:, 1]
    col += 2.0
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5
    expected[0, 0] = 1
    expected[2, 3] = 7
    expected[:, 1] += 2
    np.testing.assert_array_equal(base.numpy(), expected)


def test_view_requires_compatible_strides() -> None:
    x = ember.arange(6).reshape(2, 3).T
    assert not x.is_contiguous()
    with pytest.raises(
        RuntimeError,
        match=r"view: shape \(6,\) is not compatible with the input's size and "
        r"stride \(shape \(3, 2\), strides \(1, 3\)\); use \.reshape",
    ):
        x.view(6)
    assert x.reshape(6).tolist() == [0, 3, 1, 4, 2, 5]
    assert x.contiguous().is_contiguous() and x.stride() == (1, 3)


def test_shape_errors_name_the_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 2\) is invalid for input of size 6"):
        ember.zeros(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        ember.zeros(2, 3) + ember.zeros(4)
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4"
    ):
        ember.zeros(2, 3) @ ember.zeros(4, 5)
    with pytest.raises(ValueError, match=r"expand: shape \(2, 3\) cannot be expanded to \(4, 3\)"):
        ember.zeros(2, 3).expand(4, 3)
    with pytest.raises(IndexError, match=r"sum: dimension 2 out of range for a tensor with 2 dim\(s\)"):
        ember.zeros(2, 3).sum(2)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\), incompatible with \(2, 3\)"):
        ember.cat([ember.zeros(2, 3), ember.zeros(2, 4)])


def test_joining_and_splitting() -> None:
    x = ember.arange(10)
    assert [t.tolist() for t in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [t.numel() for t in x.chunk(3)] == [4, 4, 2]
    assert ember.stack([x, x], 1).shape == (10, 2)
    assert x.flip(0)[0].item() == 9
    assert ember.arange(3).repeat(2).tolist() == [0, 1, 2, 0, 1, 2]


# -- indexing -------------------------------------------------------------------------------------
def test_indexing_matches_numpy() -> None:
    a = np.arange(60).reshape(3, 4, 5)
    x = ember.tensor(a)
    for key in [
        (1,),
        (slice(None), 2),
        (Ellipsis, 1),
        (None, 1, slice(1, None, 2)),
        (-1, -2, -3),
        (slice(None), np.array([0, 3]), slice(1, 3)),
        (np.array([2, 0]), np.array([1, 1])),
        (a[:, :, 0] > 20,),
        (slice(None), np.array([[0], [2]]), np.array([1, 4])),
    ]:
        ekey = tuple(ember.tensor(k) if isinstance(k, np.ndarray) else k for k in key)
        np.testing.assert_array_equal(x[ekey].numpy(), a[key], err_msg=str(key))


def test_setitem_with_broadcasting_masks_and_indices() -> None:
    a = np.zeros((3, 4), np.float32)
    x = ember.zeros(3, 4)
    x[:, 1] = ember.tensor([1.0, 2.0, 3.0])
    a[:, 1] = [1, 2, 3]
    x[x > 1.5] = -1.0
    a[a > 1.5] = -1
    x[ember.tensor([0, 2]), ember.tensor([3, 0])] = 9.0
    a[[0, 2], [3, 0]] = 9
    x[1:, 2:] = ember.tensor([5.0, 6.0])
    a[1:, 2:] = [5, 6]
    np.testing.assert_array_equal(x.numpy(), a)


def test_index_errors() -> None:
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3]
    with pytest.raises(IndexError, match="index: index 7 is out of bounds for dimension 1 with size 4"):
        x[:, ember.tensor([0, 7])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int or bool tensors"):
        x[ember.tensor([0.5])]
    with pytest.raises(IndexError, match="gather: index 5 is out of bounds for dimension 1 with size 4"):
        ember.gather(x, 1, ember.tensor([[5]]).expand(3, 1))


# -- devices and conversion -------------------------------------------------------------------------
def test_host_round_trips() -> None:
    a = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    x = ember.tensor(a)
    assert x.tolist() == a.tolist()
    np.testing.assert_array_equal(np.asarray(x), a)
    assert ember.tensor(2.5).item() == 2.5
    with pytest.raises(ValueError, match=r"item\(\): only one-element tensors .* got shape \(3, 2\)"):
        x.item()


def test_from_numpy_and_dlpack_share_memory() -> None:
    a = np.zeros(4, np.float32)
    x = ember.from_numpy(a)
    a[0] = 3
    assert x[0].item() == 3
    y = ember.from_dlpack(a)
    a[1] = 4
    assert y[1].item() == 4
    b = np.from_dlpack(x)
    x[2] = 5
    assert b[2] == 5
    assert x.__dlpack_device__() == (1, 0)


def test_bool_arrays_with_bytes_other_than_0_and_1_become_canonical() -> None:
    raw = bytes([2, 1, 0, 255])
    a = np.frombuffer(raw, dtype=np.bool_).copy()
    x = ember.from_numpy(a)  # shares memory: the bytes of True become 1, the values stay
    assert a.view(np.uint8).tolist() == [1, 1, 0, 1] and a.tolist() == [True, True, False, True]
    a[2] = True
    assert x.tolist() == [True, True, True, True]
    frozen = np.frombuffer(raw, dtype=np.bool_)  # read-only: copied as 0 and 1
    y = ember.from_numpy(frozen)
    assert y.numpy().view(np.uint8).tolist() == [1, 1, 0, 1] and frozen.view(np.uint8).tolist() == [
        2,
        1,
        0,
        255,
    ]
    for t in (ember.tensor(frozen), ember.as_tensor(frozen), ember.as_tensor(frozen.copy())):
        assert t.numpy().view(np.uint8).tolist() == [1, 1, 0, 1]
    assert (x & ember.ones(4, dtype=ember.bool_)).tolist() == [True] * 4


def test_numpy_refuses_tensors_that_require_grad() -> None:
    with pytest.raises(RuntimeError, match=r"can't call numpy\(\) on a tensor that requires grad"):
        ember.ones(2, requires_grad=True).numpy()


def test_dtype_conversions() -> None:
    x = ember.tensor([1.7, -1.7, 0.0])
    assert x.long().tolist() == [1, -1, 0]
    assert x.bool().tolist() == [True, True, False]
    assert x.to(ember.float64).dtype is ember.float64
    assert x.to("cpu") is x
    assert x.double().type_as(ember.zeros(1, dtype=ember.float16)).dtype is ember.float16


def test_in_place_type_errors() -> None:
    x = ember.zeros(3, dtype=ember.int64)
    with pytest.raises(
        TypeError,
        match="add_: result type ember.float32 can't be cast to the desired output type ember.int64",
    ):
        x.add_(1.5)
    with pytest.raises(
        ValueError,
        match=r"mul_: the result of shape \(2, 3\) does not fit in place into a tensor "
        r"of shape \(3,\)",
    ):
        ember.zeros(3).mul_(ember.ones(2, 3))


def test_repr_is_pytorch_like() -> None:
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ember.tensor([1.5], dtype=ember.float64)) == "tensor([1.5000], dtype=ember.float64)"
    assert repr(ember.ones(1, requires_grad=True)) == "tensor([1.], requires_grad=True)"


def test_random_is_reproducible_per_seed() -> None:
    ember.manual_seed(123)
    a = ember.rand(5).tolist() + ember.randn(3).tolist()
    ember.manual_seed(123)
    b = ember.rand(5).tolist() + ember.randn(3).tolist()
    assert a == b
    assert a[:5] != ember.rand(5).tolist()
    g = ember.Generator(seed=7)
    r = ember.randint(0, 10, (1000,), generator=g)
    assert r.dtype is ember.int64 and 0 <= r.min().item() and r.max().item() <= 9
    u = ember.rand(100_000)
    assert abs(u.mean().item() - 0.5) < 0.01 and 0.0 <= u.min().item() and u.max().item() < 1.0
    n = ember.randn(100_000)
    assert abs(n.mean().item()) < 0.02 and abs(n.std().item() - 1) < 0.02
    assert sorted(ember.randperm(6).tolist()) == list(range(6))


def test_truthiness_and_len() -> None:
    assert bool(ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="the truth value of a tensor with 2 elements is ambiguous"):
        bool(ember.ones(2))
    assert len(ember.zeros(4, 2)) == 4


def test_deepcopy_of_leaves_tensors_and_state_dicts() -> None:
    import copy

    x = ember.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy({"x": x})["x"]
    assert y is not x and y.requires_grad and y.grad.tolist() == [2.0, 2.0, 2.0]
    y.detach()[0] = 5.0
    assert x[0].item() == 1.0  # its own memory
    with pytest.raises(RuntimeError, match="deepcopy: only leaf tensors"):
        copy.deepcopy(x * 2)
