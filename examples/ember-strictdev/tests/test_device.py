"""The strict device through its entry point: discovered, its buffers array_api_strict arrays, a
small model's step equal to the cpu device's."""

from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.array_backend import StridedArray


def test_strict_is_discovered_through_its_entry_point() -> None:
    rec = {r["name"]: r for r in ember.backends()}["strict"]
    assert rec["status"] == "available" and rec["distribution"] == "ember-strictdev", rec
    x = ember.arange(6.0, device="strict").reshape(2, 3).T  # a view: a layout over the same array
    assert type(x._data) is StridedArray
    assert type(x._data.storage.array).__module__.startswith("array_api_strict")
    with pytest.raises(TypeError, match="does not support ember.float16"):
        x.half()  # the standard has no float16


def test_a_training_step_on_strict_equals_cpu() -> None:
    rng = np.random.default_rng(0)
    data, target = rng.standard_normal((8, 5)).astype("float32"), rng.integers(0, 3, 8)
    grads = []
    for device in ("cpu", "strict"):
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Linear(5, 4), ember.nn.GELU(), ember.nn.Linear(4, 3)).to(device)
        loss = ember.nn.functional.cross_entropy(
            model(ember.tensor(data, device=device)), ember.tensor(target, device=device)
        )
        loss.backward()
        grads.append([p.grad.numpy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
