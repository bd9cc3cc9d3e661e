"""ember.save / ember.load: safetensors layout, round trips of model and optimizer state, interop
with the ``safetensors`` package in both directions, corrupt files and atomic writes."""

from __future__ import annotations

import json
import os
import struct

import ember
import ember.nn as nn
import numpy as np
import pytest
from ember.errors import CheckpointError
from ember.serialization import load_state_dict_into


def small_model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))


def test_round_trip_model_optimizer_and_values(tmp_path):
    m = small_model()
    opt = ember.optim.AdamW(m.parameters(), lr=0.01)
    m(ember.randn(2, 1, 4, 4)).sum().backward()
    opt.step()
    obj = {
        "model": m.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 3,
        "name": "run-1",
        "history": [0.5, float("inf"), None, True],
        "pair": (1, 2.5),
        "dtype": ember.float16,
        "scalar": ember.tensor(2.5, dtype=ember.float64),
        "ints": ember.arange(4, dtype="int32"),
        "mask": ember.tensor([True, False]),
    }
    path = tmp_path / "ckpt.safetensors"
    ember.save(obj, path)
    back = ember.load(path)
    assert back["epoch"] == 3 and back["name"] == "run-1" and back["pair"] == (1, 2.5)
    assert back["history"] == [0.5, float("inf"), None, True] and back["dtype"] is ember.float16
    sc = back["scalar"]
    assert sc.shape == () and sc.dtype is ember.float64 and sc.item() == 2.5
    assert back["ints"].dtype is ember.int32 and back["mask"].dtype is ember.bool_
    for k, v in m.state_dict().items():
        assert back["model"][k].dtype is v.dtype
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3, 4, 5]  # int keys survive
    m2 = small_model()
    for p in m2.parameters():
        with ember.no_grad():
            p.zero_()
    m2.load_state_dict(back["model"])
    opt2 = ember.optim.AdamW(m2.parameters(), lr=0.01)
    opt2.load_state_dict(back["optimizer"])
    m.eval()
    m2.eval()
    x = ember.randn(2, 1, 4, 4)
    np.testing.assert_array_equal(m(x).detach().numpy(), m2(x).detach().numpy())


def test_file_layout_is_safetensors(tmp_path):
    path = tmp_path / "t.safetensors"
    ember.save({"a": ember.ones(2, 3), "b": ember.zeros(4, dtype="int64")}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    assert header["a"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["b"] == {"dtype": "I64", "shape": [4], "data_offsets": [24, 56]}
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    assert len(raw) == 8 + n + 56


def test_safetensors_reads_ember_files(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    m = small_model()
    path = tmp_path / "m.safetensors"
    ember.save(m.state_dict(), path)
    loaded = st.load_file(str(path))
    assert set(loaded) == set(m.state_dict())
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(loaded[k], v.numpy())
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        assert "ember" in f.metadata()


def test_ember_reads_safetensors_files(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {
        "w": np.arange(12, dtype=np.float32).reshape(3, 4),
        "i": np.array([1, 2], dtype=np.int64),
        "h": np.ones(3, dtype=np.float16),
        "u": np.array([255], dtype=np.uint8),
    }
    path = tmp_path / "ext.safetensors"
    st.save_file(arrays, str(path), metadata={"source": "numpy"})
    back = ember.load(path)
    assert set(back) == set(arrays)
    for k, a in arrays.items():
        np.testing.assert_array_equal(back[k].numpy(), a)
        assert back[k].dtype.name == str(a.dtype)
    lin = nn.Linear(4, 3)
    lin.load_state_dict({"weight": back["w"], "bias": ember.zeros(3)})
    np.testing.assert_array_equal(lin.weight.detach().numpy(), arrays["w"])


def test_map_location(tmp_path):
    path = tmp_path / "x.safetensors"
    ember.save({"x": ember.ones(2)}, path)
    assert ember.load(path, map_location="cpu")["x"].device == ember.device("cpu")


def _write_raw(path, header: dict, data: bytes, header_len: int | None = None) -> None:
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h) if header_len is None else header_len) + h + data)


def test_truncated_files_name_file_and_key(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    ember.save({"layer.weight": ember.ones(4, 4), "layer.bias": ember.ones(4)}, path)
    raw = path.read_bytes()
    bad = tmp_path / "trunc.safetensors"
    bad.write_bytes(raw[:-10])
    with pytest.raises(CheckpointError, match=r"trunc\.safetensors.*truncated.*'layer\.bias'"):
        ember.load(bad)
    bad.write_bytes(raw[:5])
    with pytest.raises(CheckpointError, match=r"trunc\.safetensors: not a safetensors checkpoint.*5 bytes"):
        ember.load(bad)
    bad.write_bytes(raw[:40])
    with pytest.raises(
        CheckpointError,
        match=r"trunc\.safetensors: corrupt or truncated checkpoint: the "
        r"header "
        r"claims",
    ):
        ember.load(bad)


def test_corrupt_headers_name_file_and_key(tmp_path):
    path = tmp_path / "bad.safetensors"
    _write_raw(path, {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(
        CheckpointError,
        match=r"bad\.safetensors.*tensor 'w' of dtype F32 and shape \(2, 2\) "
        r"needs 16 bytes but its data_offsets \[0, 8\] span 8",
    ):
        ember.load(path)
    _write_raw(path, {"w": {"dtype": "U16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(
        CheckpointError,
        match=r"bad\.safetensors: tensor 'w' has dtype 'U16', which "
        r"Ember does "
        r"not support",
    ):
        ember.load(path)
    _write_raw(path, {"w": {"dtype": "F32", "shape": "x", "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(CheckpointError, match=r"bad\.safetensors.*tensor 'w' has an invalid shape"):
        ember.load(path)
    path.write_bytes(struct.pack("<Q", 4) + b"{{{{")
    with pytest.raises(
        CheckpointError,
        match=r"bad\.safetensors: corrupt checkpoint: the header is not "
        r"valid JSON",
    ):
        ember.load(path)
    _write_raw(path, {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8)
    with pytest.raises(CheckpointError, match="4 trailing byte"):
        ember.load(path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        ember.load(tmp_path / "missing.safetensors")


def test_load_into_model_reports_shape_and_dtype_mismatch(tmp_path):
    path = tmp_path / "lin.safetensors"
    ember.save({"model": {"weight": ember.ones(3, 5), "bias": ember.ones(3)}}, path)
    with pytest.raises(
        CheckpointError,
        match=r"lin\.safetensors: key 'weight' has shape \(3, 5\) in the "
        r"checkpoint "
        r"but \(3, 4\) in the model",
    ):
        load_state_dict_into(nn.Linear(4, 3), path, key="model")
    ember.save({"weight": ember.ones(3, 4, dtype="int64"), "bias": ember.ones(3)}, path)
    with pytest.raises(
        CheckpointError,
        match=r"lin\.safetensors: key 'weight' has dtype int64 in the "
        r"checkpoint",
    ):
        load_state_dict_into(nn.Linear(4, 3), path)
    ember.save({"weight": ember.ones(3, 4)}, path)
    with pytest.raises(
        CheckpointError,
        match=r"(?s)lin\.safetensors: .*missing key\(s\) in state_dict: "
        r"'bias'",
    ):
        load_state_dict_into(nn.Linear(4, 3), path)
    ember.save({"weight": ember.full((3, 4), 2.0), "bias": ember.ones(3)}, path)
    lin = nn.Linear(4, 3)
    load_state_dict_into(lin, path)
    assert float(lin.weight.sum()) == 24.0


def test_atomic_write(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    ember.save({"x": ember.ones(3)}, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"x": ember.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]  # no temp file left behind


def test_unsupported_objects_raise(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save an object of type object at model\.x"):
        ember.save({"model": {"x": object()}}, tmp_path / "a.safetensors")
    with pytest.raises(
        TypeError,
        match=r"cannot save a Linear object itself at <root>; save its "
        r"state_dict\(\)",
    ):
        ember.save(nn.Linear(1, 1), tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="dict key"):
        ember.save({(1, 2): ember.ones(1)}, tmp_path / "a.safetensors")
    assert not (tmp_path / "a.safetensors").exists()


def test_no_pickle_in_loader():
    # the module's messages may name pickle (to refuse PyTorch files), but its code may never reach
    # a deserialiser that runs code, nor evaluate anything
    import ast
    import inspect

    import ember.serialization as s

    tree = ast.parse(inspect.getsource(s))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"pickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "torch"}
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert not {f.id for f in calls if isinstance(f, ast.Name)} & {"eval", "exec", "compile", "__import__"}
    attrs = {f.attr for f in calls if isinstance(f, ast.Attribute)}
    assert not attrs & {"import_module", "Unpickler", "__import__"}


def test_round_trip_of_reductions_with_an_explicit_dtype(tmp_path):
    # sum(dtype=int32) once held an int64 buffer under an int32 tensor: save wrote int64 bytes
    # with an I32 header, and load refused the file
    x = ember.tensor([[1, 2], [3, 4]])
    obj = {
        "sum": x.sum(dtype=ember.int32),
        "sum_dim": x.sum(0, dtype=ember.int32),
        "prod": x.prod(dtype=ember.int8),
        "where": ember.where(ember.tensor([True, False]), 1.0, 2.0),
    }
    path = tmp_path / "reduced.safetensors"
    ember.save(obj, path)
    header = json.loads(path.read_bytes()[8 : 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]])
    assert header["sum"]["dtype"] == "I32" and header["prod"]["dtype"] == "I8"
    back = ember.load(path)
    for key, t in obj.items():
        assert back[key].dtype is t.dtype and back[key].shape == t.shape, key
        np.testing.assert_array_equal(back[key].numpy(), t.numpy())
    assert back["sum"].item() == 10 and back["prod"].item() == 24
    assert back["sum_dim"].tolist() == [4, 6] and back["where"].tolist() == [1.0, 2.0]


def test_nesting_depth_is_bounded_the_same_on_save_and_load(tmp_path):
    # load refuses structures deeper than save writes (a hostile file cannot exhaust the stack), so
    # save refuses them first, by name, instead of writing a file that would not load
    path = tmp_path / "deep.safetensors"
    deep: object = {"w": ember.ones(1)}
    for i in range(99):
        deep = [deep] if i % 2 else {"k": deep}
    ember.save(deep, path)  # 100 levels: the most a checkpoint holds
    back = ember.load(path)
    for i in reversed(range(99)):
        back = back[0] if i % 2 else back["k"]
    assert back["w"].tolist() == [1.0]
    with pytest.raises(
        ValueError, match=r"ember\.save: the object is nested more than 100 dicts/lists deep at 0\.k\.0\.k"
    ):
        ember.save([deep], path)
    looped: dict = {"a": 1}
    looped["self"] = looped
    with pytest.raises(ValueError, match=r"nested more than 100 .* at self\.self\.self.*contain itself\?"):
        ember.save(looped, path)
    assert ember.load(path)  # the refused saves left the checkpoint as it was


def test_a_save_leaves_only_the_checkpoint(tmp_path):
    for i in range(3):
        ember.save({"w": ember.ones(i + 1)}, tmp_path / "ckpt.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]
    assert ember.load(tmp_path / "ckpt.safetensors")["w"].tolist() == [1.0, 1.0, 1.0]
