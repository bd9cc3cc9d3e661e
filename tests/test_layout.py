"""ember.layout's kernel-launch helpers: merge_dims, split_reduction, wrap_integer, scalar_to_bytes.

Each is checked against what a kernel would compute with it: the element positions a merged loop
visits, a sum through the split of a reduction against numpy's, and the bytes of a scalar against
numpy's own cast of the wrapped value.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
from ember import dtypes
from ember.layout import (
    ReductionSplit,
    StridedLayout,
    merge_dims,
    scalar_to_bytes,
    split_reduction,
    wrap_integer,
)


def positions(shape: tuple[int, ...], strides: tuple[int, ...], offset: int = 0) -> list[int]:
    """The element positions a C-order loop over ``shape`` visits."""
    return [
        offset + sum(i * s for i, s in zip(idx, strides)) for idx in itertools.product(*map(range, shape))
    ]


LAYOUTS = [
    ((2, 3, 4), (12, 4, 1)),  # contiguous: one loop
    ((2, 3, 4), (-12, -4, -1)),  # flipped everywhere: one loop backwards
    ((2, 3, 4), (1, 2, 6)),  # transposed: nothing merges
    ((2, 1, 3), (3, 99, 1)),  # a size-1 dim between contiguous dims
    ((4, 5), (0, 1)),  # broadcast rows
    ((4, 5), (0, 0)),  # broadcast everything: one loop of stride 0
    ((3, 4), (8, 1)),  # rows with a gap
    ((1, 1), (5, 7)),  # every dim size 1
    ((), ()),  # 0-d
]


@pytest.mark.parametrize(("shape", "strides"), LAYOUTS)
def test_merge_dims_visits_the_same_positions_in_the_same_order(
    shape: tuple[int, ...], strides: tuple[int, ...]
) -> None:
    mshape, (mstrides,) = merge_dims(shape, strides)
    assert positions(mshape, mstrides) == positions(shape, strides)
    assert 1 not in mshape


def test_merge_dims_examples_and_operands_merge_only_together() -> None:
    assert merge_dims((2, 3, 4), (12, 4, 1), (0, 0, 1)) == ((6, 4), ((4, 1), (0, 1)))
    assert merge_dims((2, 3, 4), (12, 4, 1)) == ((24,), ((1,),))
    assert merge_dims((2, 3, 4), (-12, -4, -1)) == ((24,), ((-1,),))
    assert merge_dims((1, 1), (5, 7)) == ((), ((),))
    # a transposed second operand keeps the first one's dims apart too
    shape, (a, b) = merge_dims((3, 4), (4, 1), (1, 3))
    assert shape == (3, 4) and a == (4, 1) and b == (1, 3)


def test_merge_dims_names_an_operand_whose_strides_do_not_fit() -> None:
    with pytest.raises(ValueError, match=r"operand 1 has 1 strides \(1,\) for the 2 dims of shape \(3, 4\)"):
        merge_dims((3, 4), (4, 1), (1,))


def _strided(shape: tuple[int, ...], strides: tuple[int, ...], offset: int, base: np.ndarray) -> np.ndarray:
    isz = base.itemsize
    return np.lib.stride_tricks.as_strided(base[offset:], shape, tuple(s * isz for s in strides))


@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize(
    ("shape", "strides", "offset", "dims"),
    [
        ((2, 3, 4), (12, 4, 1), 0, (1,)),
        ((2, 3, 4), (12, 4, 1), 0, (0, 2)),
        ((2, 3, 4), (12, 4, 1), 0, (1, 2)),
        ((2, 3, 4), (12, 4, 1), 0, (0, 1, 2)),
        ((2, 3, 4), (-12, 4, -1), 23 - 3, (0, 2)),  # flipped dims: the first element is not the lowest
        ((3, 4), (0, 1), 0, (0,)),  # a broadcast dim reduced
        ((2, 3, 4), (1, 2, 6), 0, (-1,)),  # transposed, negative dim
        ((5,), (1,), 0, ()),  # nothing reduced
    ],
)
def test_split_reduction_sums_like_numpy(
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    offset: int,
    dims: tuple[int, ...],
    keepdim: bool,
    merge: bool,
) -> None:
    base = np.arange(64, dtype=np.int64) * 7 % 13
    x = _strided(shape, strides, offset, base)
    split = split_reduction(StridedLayout(shape, strides, offset), dims, keepdim, merge=merge)
    assert isinstance(split, ReductionSplit)
    # what a kernel does: for each output element, add up the reduced positions
    out = [
        sum(int(base[k + r]) for r in positions(split.reduced.shape, split.reduced.strides))
        for k in positions(split.kept.shape, split.kept.strides, split.kept.offset)
    ]
    expected = x.sum(axis=tuple(d % len(shape) for d in dims), keepdims=keepdim)
    assert split.out_shape == expected.shape
    assert split.n_out == expected.size and split.n_reduced * split.n_out == x.size
    assert out == expected.ravel().tolist()


def test_split_reduction_merges_each_group() -> None:
    split = split_reduction(StridedLayout.contiguous((2, 3, 4, 5)), (2, 3))
    assert split.kept == StridedLayout((6,), (20,), 0)
    assert split.reduced == StridedLayout((20,), (1,), 0)
    split = split_reduction(StridedLayout.contiguous((2, 3, 4)), 1)
    assert (split.kept.shape, split.kept.strides) == ((2, 4), (12, 1))
    assert (split.reduced.shape, split.reduced.strides) == ((3,), (4,))


def test_split_reduction_names_bad_dims() -> None:
    layout = StridedLayout.contiguous((2, 3))
    with pytest.raises(
        ValueError, match=r"dim 2 is out of range for a 2-d layout of shape \(2, 3\) \(valid: -2 .. 1\)"
    ):
        split_reduction(layout, 2)
    with pytest.raises(ValueError, match=r"dims \(1, -1\) name a dim twice"):
        split_reduction(layout, (1, -1))


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_integer_scalars_wrap_as_numpy_casts_them(name: str) -> None:
    dt = dtypes.as_dtype(name)
    info = np.iinfo(dt.numpy)
    for v in (
        0,
        1,
        -1,
        44,
        300,
        -300,
        info.max,
        info.min,
        info.max + 1,
        info.min - 1,
        2**70 + 5,
        -(2**70) - 5,
    ):
        wrapped = wrap_integer(v, dt)
        assert info.min <= wrapped <= info.max
        assert wrapped == np.array(v % 2**64, dtype=np.uint64).astype(dt.numpy).item(), v
        assert scalar_to_bytes(v, name) == np.array(wrapped, dtype=dt.numpy).tobytes()
    assert wrap_integer(300, "uint8") == 44 and wrap_integer(128, dtypes.int8) == -128
    assert scalar_to_bytes(300, "uint8") == bytes([44])
    assert scalar_to_bytes(-2.7, name) == scalar_to_bytes(-2, name)  # truncates toward zero, then wraps


def test_float_scalars_round_to_the_dtype_and_bool_is_one_byte() -> None:
    little = sys.byteorder == "little"
    assert scalar_to_bytes(1.0, "float16") == (b"\x00\x3c" if little else b"\x3c\x00")
    assert scalar_to_bytes(1e6, "float16") == np.array(np.inf, dtype=np.float16).tobytes()  # overflows to inf
    assert scalar_to_bytes(1 / 3, dtypes.float16) == np.array(1 / 3, dtype=np.float16).tobytes()
    assert scalar_to_bytes(0.1, "float32") == np.array(0.1, dtype=np.float32).tobytes()
    assert scalar_to_bytes(3, "float64") == np.array(3.0).tobytes()
    assert np.frombuffer(scalar_to_bytes(float("nan"), "float16"), np.float16)[0] != 0  # NaN stays NaN
    assert scalar_to_bytes(True, "bool") == b"\x01" and scalar_to_bytes(0, "bool") == b"\x00"
    assert scalar_to_bytes(2.5, dtypes.bool_) == b"\x01"


def test_scalar_helpers_name_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="wrap_integer: float32 is not an integer dtype; use scalar_to_bytes"):
        wrap_integer(3, "float32")
    with pytest.raises(ValueError, match=r"scalar_to_bytes: nan has no int32 value; pass a finite number"):
        scalar_to_bytes(float("nan"), "int32")
    with pytest.raises(TypeError, match="unsupported dtype 'uint16'"):
        scalar_to_bytes(1, "uint16")
