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

A whole training step (a small CNN: convolution, relu, max-pooling, linear layers, dropout,
cross-entropy, backward, an SGD-with-momentum or Adam update) compiled must also equal its eager
twin over several steps: losses, parameters, gradients and optimizer state. That graph is large
enough for a backend's ``compile_graph`` to do its whole-program work (buffer plans, fusion,
launch lists), which single ops never trigger. Bitwise, unless the backend declares
``compile_graph_reorders = True`` (its rewrite reorders floating-point operations, as its
documentation then says): within float32 tolerance.
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


def _digits_like_model() -> Any:
    nn = ember.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 16),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(16, 10),
    )


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_step_compiled_equals_eager(optimizer: str, ember_device: Any) -> None:
    """Five compiled training steps (the first captures, the next replay through the backend's
    ``compile_graph`` when it has one) equal five eager steps of a twin model: losses,
    parameters, gradients and optimizer state, bit for bit (or within tolerance where the backend
    declares ``compile_graph_reorders``)."""
    from ember.testing.invariants import device_has_data

    if not device_has_data(ember_device):
        pytest.skip(f"{ember_device} holds no values to compare")
    if not ember_device.backend.supports_dtype(ember.float32, ember_device.index):
        pytest.skip(f"{ember_device} does not support float32")
    F = ember.nn.functional

    def make() -> tuple[Any, Any]:
        ember.manual_seed(0)
        model = _digits_like_model().to(ember_device)
        params = model.parameters()
        if optimizer == "sgd":
            return model, ember.optim.SGD(params, lr=0.05, momentum=0.9)
        return model, ember.optim.Adam(params, lr=3e-3)

    def step(model: Any, opt: Any, x: Any, y: Any) -> Any:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((5, 32, 1, 8, 8)).astype(np.float32)
    ys = rng.integers(0, 10, (5, 32))
    batches = [
        (ember.tensor(xs[i], device=ember_device), ember.tensor(ys[i], device=ember_device)) for i in range(5)
    ]
    (m1, o1), (m2, o2) = make(), make()
    compiled = ember.compile(step)
    ember.manual_seed(1)
    eager = [step(m1, o1, x, y).item() for x, y in batches]
    ember.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        got = [compiled(m2, o2, x, y).item() for x, y in batches]
    reorders = getattr(ember_device.backend, "compile_graph_reorders", False)

    def same(a: Any, b: Any, what: str) -> None:
        where = f"{what} after 5 {optimizer} steps on {ember_device}"
        if reorders:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)

    same(np.array(got), np.array(eager), "compiled losses vs eager")
    for (name, p1), p2 in zip(m1.named_parameters(), m2.parameters()):
        same(p2.detach().numpy(), p1.detach().numpy(), f"parameter {name}")
        same(p2.grad.numpy(), p1.grad.numpy(), f"gradient of {name}")
        for key, v in o1.state[p1].items():
            if isinstance(v, ember.Tensor):
                same(o2.state[p2][key].numpy(), v.numpy(), f"optimizer state {key!r} of {name}")
    assert compiled.stats["replays"] >= 3, compiled.explain()
