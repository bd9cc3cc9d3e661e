"""(a) Ember finds the plugin through its entry point and lists the meta device as available."""

from __future__ import annotations

import importlib.metadata

import ember
from ember.backend import PRIMITIVES

from ember_meta.array import MetaArray


def test_entry_point_is_installed() -> None:
    eps = [ep for ep in importlib.metadata.entry_points(group="ember.backends") if ep.name == "meta"]
    assert len(eps) == 1
    assert eps[0].value == "ember_meta.plugin"
    assert eps[0].dist is not None and eps[0].dist.name == "ember-meta"


def test_backends_lists_meta_as_available() -> None:
    rec = next(r for r in ember.backends() if r["name"] == "meta")
    assert rec["status"] == "available", rec
    assert rec["plugin"] == "meta"
    assert rec["distribution"] == "ember-meta"
    assert rec["remedy"] == "pip install ember-meta"
    assert rec["devices"] == [{"index": 0, "name": "meta (shapes and dtypes only)"}]


def test_meta_device_and_its_kernels() -> None:
    dev = ember.device("meta")
    assert str(dev) == "meta:0" and dev.type == "meta" and dev is ember.device("meta:0")
    assert dev.memory_stats() == {"in_use": 0, "cached": 0, "peak": 0}
    assert dev.backend.native_type() is MetaArray
    missing = [op for op in PRIMITIVES if op not in dev.kernels]
    assert not missing, f"primitives without a meta kernel: {missing}"
    assert all(ember.dispatch.kernel_source(op, "meta") == ("meta", 0) for op in PRIMITIVES)
