"""Conformance, compiled mode: every op record's forward samples run through ``ember.compile`` give
exactly what eager execution gives on the device under test.

Each sample runs on fresh tensors eagerly, then through a compiled function: the first call
captures, the next replays the recorded kernel calls, and on a backend with ``compile_graph`` one
more call replays (such a backend may run the plain replay first and its own plan from the next
call on); every replay must equal the eager result bit for bit (the replay calls the same kernels in the same
order on the same data; random ops are seeded alike). A sample the compiler cannot capture (an op
that reads values on the host, a value-dependent shape) runs eagerly after a ``CompileWarning``;
its results must still be equal.
One dtype per op (float32 when the record has it) keeps the run short.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ember
from ember.compile import CompileWarning
from ember.testing.op_table import OPS, OpSpec, cast_sample, missing_result_dtype, to_ember

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _dtype(spec: OpSpec) -> str:
    return "float32" if "float32" in spec.dtypes else spec.dtypes[0]


_CASES = [spec for spec in OPS if spec.dtypes]


def _tensors(out: Any) -> list[Any]:
    if isinstance(out, ember.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    return []


@pytest.mark.parametrize("spec", _CASES, ids=[s.name for s in _CASES])
def test_forward_compiled_equals_eager(spec: OpSpec, ember_device: Any) -> None:
    """The replay of a compiled call equals the eager call (values, shapes, dtypes), for every
    forward sample of the record."""
    dtype = _dtype(spec)
    if not ember_device.backend.supports_dtype(ember.dtypes.as_dtype(dtype), ember_device.index):
        pytest.skip(f"{ember_device} does not support {dtype}")
    if (missing := missing_result_dtype(spec, ember_device)) is not None:
        pytest.skip(missing)
    fn = spec.caller()
    rng = np.random.default_rng(0)
    for raw in spec.samples(dtype, rng):
        sample = cast_sample(raw, dtype)
        compiled = ember.compile(lambda *a, **k: fn(*a, **k))
        ember.manual_seed(0)
        args, kwargs = to_ember(sample, dtype, ember_device)
        expected = fn(*args, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CompileWarning)
            compiled(*to_ember(sample, dtype, ember_device)[0], **kwargs)  # captures
            # a backend's compile_graph may plan on its first replay: one more replay checks the plan
            replays = (1, 2) if getattr(ember_device.backend, "compile_graph", None) else (1,)
            for replay in replays:
                ember.manual_seed(0)
                args2, kwargs2 = to_ember(sample, dtype, ember_device)
                got = compiled(*args2, **kwargs2)  # replays (or runs eagerly, warned)
                where = f"{spec.name}[{sample.describe()}] {dtype} on {ember_device}, replay {replay}"
                _assert_same(got, expected, where)


def _assert_same(got: Any, expected: Any, where: str) -> None:
    exp_t, got_t = _tensors(expected), _tensors(got)
    assert len(exp_t) == len(got_t), f"{where}: {len(got_t)} tensors returned, eager {len(exp_t)}"
    for e, g in zip(exp_t, got_t):
        assert (g.shape, g.dtype, g.device) == (e.shape, e.dtype, e.device), (
            f"{where}: compiled gives {g.shape} {g.dtype} on {g.device}, eager {e.shape} {e.dtype} "
            f"on {e.device}"
        )
        np.testing.assert_array_equal(g.detach().numpy(), e.detach().numpy(), err_msg=where)
