"""(c) Reading values of a meta tensor fails with a clear MetaDataError naming the operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest

from ember_meta.array import MetaDataError


@pytest.fixture
def x() -> Any:
    return ember.ones(2, 3, device="meta")


CASES: list[tuple[str, Callable[[Any], Any], str]] = [
    ("numpy", lambda t: t.numpy(), "Tensor.numpy()"),
    ("item", lambda t: t.sum().item(), "Tensor.item()"),
    ("tolist", lambda t: t.tolist(), "Tensor.tolist()"),
    ("bool", lambda t: bool(t.sum() > 0), "bool(tensor)"),
    ("float", lambda t: float(t.sum()), "float(tensor)"),
    ("asarray", np.asarray, "numpy.asarray(tensor)"),
    ("to_cpu", lambda t: t.to("cpu"), "Tensor.to(<another device>)"),
    ("nonzero", ember.nonzero, "nonzero()"),
    ("mask", lambda t: t[t > 0], "nonzero()"),
]


@pytest.mark.parametrize("fn,op", [(f, op) for _, f, op in CASES], ids=[c[0] for c in CASES])
def test_reading_values_is_a_clear_error(x: Any, fn: Callable[[Any], Any], op: str) -> None:
    with pytest.raises(MetaDataError) as info:
        fn(x)
    msg = str(info.value)
    assert msg.startswith(op), msg
    assert "meta tensors have no data" in msg
    assert ".to('cpu') is impossible" in msg and "real device" in msg
    assert isinstance(info.value, ember.EmberError) and isinstance(info.value, RuntimeError)


def test_error_names_the_internal_check_that_needed_values(x: Any) -> None:
    # index bounds checks are skipped on devices without data: integer indexing works on meta
    assert x[ember.tensor([0, 1], device="meta")].shape == (2, 3)
    # one_hot with num_classes=-1 needs the largest value to know its output shape
    with pytest.raises(MetaDataError, match=r"Tensor\.item\(\).*needed by ember\.nn\.functional\."):
        ember.nn.functional.one_hot(ember.tensor([0, 1], device="meta"))
    with pytest.raises(MetaDataError, match="shape \\(2, 3\\), float32"):
        x.numpy()


def test_moving_to_meta_keeps_only_shape_and_dtype() -> None:
    t = ember.tensor(np.arange(6, dtype=np.int16).reshape(2, 3)).to("meta")
    assert (t.shape, t.dtype, str(t.device)) == ((2, 3), ember.int16, "meta:0")
    assert ember.from_numpy(np.zeros((4, 5), np.float64)).to("meta").dtype is ember.float64


def test_repr_shows_size_instead_of_values(x: Any) -> None:
    """The core asks ``Backend.has_data`` and prints a data-less tensor without reading it."""
    assert repr(x) == "tensor(..., device='meta:0', size=(2, 3))"
    assert str(x * 2) == "tensor(..., device='meta:0', size=(2, 3))"
