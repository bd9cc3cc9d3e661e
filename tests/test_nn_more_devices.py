"""The layers added for the commonly used surface (issue 13) on every in-tree data device: each
module runs on the device with the parameters of a cpu copy, and its outputs and the gradients of
its input and parameters equal cpu's (float64). The functional ops under them are proved on every
device by their op records (the conformance kit); this checks the layers that compose them
(recurrences, attention stacks, containers) and the optimizers' in-place updates."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember import optim

DEVICES = ["opencl"]  # compared with cpu


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> ember.Device:
    """Each in-tree data device besides cpu, skipped with the backend's reason when unusable here."""
    try:
        dev = ember.device(request.param)
    except ember.BackendError as exc:
        pytest.skip(f"device {request.param!r} unusable: {exc}")
    if not dev.backend.supports_dtype(ember.float64, dev.index):
        pytest.skip(f"device {request.param!r} has no float64")
    return dev


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _outputs(out: Any) -> list[ember.Tensor]:
    if isinstance(out, tuple | list):
        return [t for o in out for t in _outputs(o)]
    return [out]


def _run(
    module: nn.Module, inputs: list[Any], device: Any, call: Callable | None = None
) -> tuple[list, list, list]:
    """Outputs, input gradients and parameter gradients of ``module`` on ``device``."""
    m = copy.deepcopy(module).to(device)
    xs = [
        ember.tensor(a, device=device).requires_grad_(a.dtype == np.float64)
        if isinstance(a, np.ndarray)
        else a
        for a in inputs
    ]
    outs = _outputs((call or (lambda mod, *a: mod(*a)))(m, *xs))
    total = None
    for k, o in enumerate(outs):
        if o.dtype.is_floating_point:
            term = (o * ember.tensor(_r(*o.shape, seed=10 + k), device=device)).sum()
            total = term if total is None else total + term
    total.backward()
    grads_in = [x.grad.numpy() for x in xs if isinstance(x, ember.Tensor) and x.grad is not None]
    grads_p = [p.grad.numpy() if p.grad is not None else None for p in m.parameters()]
    return [o.detach().numpy() for o in outs], grads_in, grads_p


CASES: list[tuple[str, Callable[[], nn.Module], Callable[[], list[Any]], Any]] = [
    ("LSTM", lambda: nn.LSTM(3, 4, 2, bidirectional=True), lambda: [_r(5, 2, 3)], None),
    ("GRU", lambda: nn.GRU(3, 4, 2, batch_first=True), lambda: [_r(2, 5, 3)], None),
    ("RNN", lambda: nn.RNN(3, 4, nonlinearity="relu"), lambda: [_r(5, 3)], None),
    ("LSTMCell", lambda: nn.LSTMCell(3, 4), lambda: [_r(2, 3)], None),
    ("GRUCell", lambda: nn.GRUCell(3, 4), lambda: [_r(2, 3), _r(2, 4, seed=1)], None),
    (
        "TransformerEncoderLayer",
        lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, norm_first=True, activation="gelu"),
        lambda: [_r(5, 2, 8)],
        None,
    ),
    (
        "Transformer",
        lambda: nn.Transformer(8, 2, 1, 1, 16, 0.0, batch_first=True),
        lambda: [_r(2, 5, 8), _r(2, 4, 8, seed=1)],
        None,
    ),
    (
        "ConvTranspose2d",
        lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        lambda: [_r(2, 4, 3, 3)],
        None,
    ),
    ("ConvTranspose1d", lambda: nn.ConvTranspose1d(3, 2, 3, stride=2), lambda: [_r(2, 3, 5)], None),
    ("InstanceNorm2d", lambda: nn.InstanceNorm2d(3, affine=True), lambda: [_r(2, 3, 4, 4)], None),
    ("RMSNorm", lambda: nn.RMSNorm(4), lambda: [_r(3, 4)], None),
    ("LocalResponseNorm", lambda: nn.LocalResponseNorm(3), lambda: [_r(2, 5, 3)], None),
    ("PReLU", lambda: nn.PReLU(3), lambda: [_r(2, 3, 4)], None),
    ("Bilinear", lambda: nn.Bilinear(3, 4, 2), lambda: [_r(5, 3), _r(5, 4, seed=1)], None),
    ("Upsample", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), lambda: [_r(1, 2, 3, 3)], None),
    ("AdaptiveMaxPool2d", lambda: nn.AdaptiveMaxPool2d((3, 2), True), lambda: [_r(1, 2, 5, 5)], None),
    (
        "EmbeddingBag",
        lambda: nn.EmbeddingBag(7, 3, mode="max"),
        lambda: [np.array([[1, 2, 3], [4, 4, 6]])],
        None,
    ),
    (
        "CTCLoss",
        lambda: nn.CTCLoss(),
        lambda: [_r(6, 2, 4), np.array([[1, 2], [3, 3]]), np.array([6, 5]), np.array([2, 2])],
        lambda m, lp, tg, il, tl: m(lp.log_softmax(-1), tg, il, tl),
    ),
    (
        "TripletMarginLoss",
        lambda: nn.TripletMarginLoss(),
        lambda: [_r(4, 3), _r(4, 3, seed=1), _r(4, 3, seed=2)],
        None,
    ),
]


@pytest.mark.parametrize(("name", "make", "inputs", "call"), CASES, ids=[c[0] for c in CASES])
def test_layer_on_device_equals_cpu(
    device: Any, name: str, make: Callable, inputs: Callable, call: Any
) -> None:
    ember.manual_seed(0)
    module = make().to(ember.float64)
    arrays = inputs()
    ref = _run(module, arrays, "cpu", call)
    got = _run(module, arrays, device, call)
    for what, a, b in zip(("outputs", "input grads", "parameter grads"), got, ref, strict=True):
        assert len(a) == len(b), (name, what)
        for x, y in zip(a, b, strict=True):
            if y is None:
                assert x is None, (name, what)
                continue
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12, err_msg=f"{name} {what} on {device}")


@pytest.mark.parametrize("name", ["Adagrad", "Adamax", "NAdam", "RAdam", "LBFGS"])
def test_optimizer_on_device_equals_cpu(device: Any, name: str) -> None:
    def run(dev: Any) -> np.ndarray:
        p = nn.Parameter(ember.tensor(_r(6), device=dev))
        extra = {"max_iter": 3, "line_search_fn": "strong_wolfe"} if name == "LBFGS" else {}
        opt = getattr(optim, name)([p], lr=0.05, **extra)
        for step in range(4):

            def closure(step: int = step) -> Any:
                opt.zero_grad()
                loss = ((p - ember.tensor(_r(6, seed=step + 1), device=dev)) ** 2).sum()
                loss.backward()
                return loss

            opt.step(closure)
        return p.detach().numpy()

    np.testing.assert_allclose(run(device), run("cpu"), rtol=1e-9, atol=1e-12)
