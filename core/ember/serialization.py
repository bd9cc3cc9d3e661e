"""``ember.save`` / ``ember.load``: checkpoints in the safetensors format, written without pickle.

A file is an 8-byte little-endian header length, a JSON header mapping each tensor name to its
``dtype``, ``shape`` and ``data_offsets`` (plus ``"__metadata__"``, a str -> str map), then the raw
little-endian tensor bytes. The non-tensor structure of the saved object (nested dicts, lists,
numbers, strings: a model's and an optimizer's state dicts, an epoch counter ...) is stored as JSON in
the metadata entry ``"ember"``, with each tensor replaced by a reference to its name.

So the ``safetensors`` library reads Ember's files (and sees the state dict's own key names), and
Ember reads files written by ``safetensors.numpy.save_file`` (as a flat ``{name: tensor}`` dict).
Loading never executes code. Writes are atomic: a temporary file in the same directory, flushed,
fsynced and renamed over the target.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import dtypes as _dt
from .errors import CheckpointError
from .tensor import Tensor

__all__ = ["save", "load", "load_state_dict_into", "FORMAT_VERSION"]

FORMAT_VERSION = "1"
_META_KEY = "ember"

_TO_ST = {
    _dt.bool_: "BOOL",
    _dt.uint8: "U8",
    _dt.int8: "I8",
    _dt.int16: "I16",
    _dt.int32: "I32",
    _dt.int64: "I64",
    _dt.float16: "F16",
    _dt.float32: "F32",
    _dt.float64: "F64",
}
_FROM_ST = {v: k for k, v in _TO_ST.items()}
_MAX_HEADER = 100 * 1024 * 1024


# -- saving ------------------------------------------------------------------------------------------
def _encode(obj: Any, path: str, tensors: dict[str, Tensor]) -> Any:
    """The JSON-able structure of ``obj``; tensors go to ``tensors`` under a name derived from
    ``path`` (their dotted location)."""
    if isinstance(obj, Tensor):
        name = path or "tensor"
        base, i = name, 1
        while name in tensors or name == "__metadata__":
            name = f"{base}#{i}"
            i += 1
        tensors[name] = obj
        return {"t": name}
    if obj is None or isinstance(obj, (bool, str)):
        return {"v": obj}
    if isinstance(obj, int):
        return {"v": int(obj)}
    if isinstance(obj, float):
        if math.isfinite(obj):
            return {"v": obj}
        return {"f": repr(obj)}
    if isinstance(obj, _dt.DType):
        return {"dtype": obj.name}
    if isinstance(obj, Mapping):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, bool)) and k is not None:
                raise TypeError(
                    f"ember.save: dict key {k!r} at {path or '<root>'} is a {type(k).__name__}; "
                    "only str, int and bool keys can be saved"
                )
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), tensors)])
        return {"d": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return {"l" if isinstance(obj, list) else "u": enc}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return _encode(obj.item(), path, tensors)
    if hasattr(obj, "state_dict"):
        raise TypeError(
            f"ember.save: cannot save a {type(obj).__name__} object itself at "
            f"{path or '<root>'}; save its state_dict() (checkpoints hold no pickled objects)"
        )
    raise TypeError(
        f"ember.save: cannot save an object of type {type(obj).__name__} at "
        f"{path or '<root>'}; checkpoints hold tensors, dicts, lists, tuples, numbers, strings "
        "and None (no pickled objects)"
    )


def save(obj: Any, f: str | os.PathLike[str], metadata: Mapping[str, str] | None = None) -> None:
    """Save ``obj`` (a tensor, or nested dicts/lists/tuples of tensors, numbers and strings, e.g.
    ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``) to path ``f`` in
    the safetensors format, atomically. ``metadata`` adds str -> str entries to the header."""
    path = os.fspath(f)
    tensors: dict[str, Tensor] = {}
    structure = _encode(obj, "", tensors)
    header: dict[str, Any] = {}
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta.update(
        {
            _META_KEY: json.dumps(structure, separators=(",", ":")),
            "format": "pt",
            "ember_format_version": FORMAT_VERSION,
        }
    )
    header["__metadata__"] = meta
    blobs = []
    offset = 0
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t.detach().cpu().numpy())
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        raw = arr.tobytes()
        header[name] = {
            "dtype": _TO_ST[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * (-len(hbytes) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(struct.pack("<Q", len(hbytes)))
            fh.write(hbytes)
            for raw in blobs:
                fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename durable too
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - some filesystems refuse directory fsync
        pass


# -- loading -----------------------------------------------------------------------------------------
def _read_header(path: str, buf: bytes) -> tuple[dict[str, Any], int]:
    if len(buf) < 8:
        raise CheckpointError(
            f"{path}: not a safetensors checkpoint: the file has {len(buf)} bytes, "
            f"fewer than "
            "the 8-byte header length (truncated or empty file)"
        )
    (n,) = struct.unpack("<Q", buf[:8])
    if n > _MAX_HEADER or 8 + n > len(buf):
        raise CheckpointError(
            f"{path}: corrupt or truncated checkpoint: the header claims {n} bytes but the "
            f"file has {len(buf) - 8} after the length field"
        )
    try:
        header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint: the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: the header is a {type(header).__name__}, not a JSON object"
        )
    return header, 8 + n


def _read_tensor(path: str, name: str, info: Any, data: memoryview, device: Any) -> Tensor:
    from .ops.creation import tensor

    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: entry for tensor {name!r} lacks dtype, shape or data_offsets"
        )
    st = info["dtype"]
    dt = _FROM_ST.get(st)
    if dt is None:
        raise CheckpointError(
            f"{path}: tensor {name!r} has dtype {st!r}, which Ember does not support "
            f"(supported: {', '.join(sorted(_FROM_ST))})"
        )
    shape, offs = info["shape"], info["data_offsets"]
    if (
        not isinstance(shape, list)
        or not all(isinstance(s, int) and s >= 0 for s in shape)
        or not isinstance(offs, list)
        or len(offs) != 2
        or not all(isinstance(o, int) for o in offs)
    ):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {name!r} has an invalid shape "
            f"{shape!r} or "
            f"data_offsets {offs!r}"
        )
    begin, end = offs
    nbytes = math.prod(shape) * dt.itemsize
    if not 0 <= begin <= end or end - begin != nbytes:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {name!r} of dtype {st} and shape "
            f"{tuple(shape)} needs {nbytes} bytes but its data_offsets {offs} span "
            f"{end - begin} (wrong dtype or shape?)"
        )
    if end > len(data):
        raise CheckpointError(
            f"{path}: truncated checkpoint: tensor {name!r} ends at byte {end} of the data "
            f"section but the file holds only {len(data)} bytes of data"
        )
    arr = np.frombuffer(data[begin:end], dtype=np.dtype(dt.numpy).newbyteorder("<")).reshape(shape)
    arr = arr.astype(dt.numpy)  # a native-order copy, detached from the file buffer
    return tensor(arr, dtype=dt, device=device)


def _decode(node: Any, path: str, tensors: dict[str, Tensor], where: str) -> Any:
    if not isinstance(node, dict) or len(node) != 1:
        raise CheckpointError(f"{path}: corrupt checkpoint: bad structure entry at {where or '<root>'}")
    ((kind, val),) = node.items()
    if kind == "t":
        if val not in tensors:
            raise CheckpointError(
                f"{path}: corrupt checkpoint: key {where or val!r} refers to tensor "
                f"{val!r}, "
                "which is not in the file"
            )
        return tensors[val]
    if kind == "v":
        return val
    if kind == "f":
        return float(val)
    if kind == "dtype":
        return _dt.as_dtype(val)
    if kind == "d":
        return {k: _decode(v, path, tensors, f"{where}.{k}" if where else str(k)) for k, v in val}
    if kind in ("l", "u"):
        items = [_decode(v, path, tensors, f"{where}.{i}" if where else str(i)) for i, v in enumerate(val)]
        return items if kind == "l" else tuple(items)
    raise CheckpointError(
        f"{path}: corrupt checkpoint: unknown structure tag {kind!r} at {where or '<root>'}"
    )


def load(f: str | os.PathLike[str], map_location: Any = None) -> Any:
    """Load what :func:`save` wrote (or any safetensors file, as a ``{name: tensor}`` dict).

    Tensors are placed on ``map_location`` (a device or name; default: the default device).
    A truncated or corrupt file, or a tensor whose bytes don't match its dtype and shape, raises
    :class:`ember.errors.CheckpointError` naming the file and the key.
    """
    path = os.fspath(f)
    try:
        with open(path, "rb") as fh:
            buf = fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"ember.load: no such checkpoint file: {path!r}") from None
    header, start = _read_header(path, buf)
    data = memoryview(buf)[start:]
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: corrupt checkpoint: __metadata__ is not a JSON object")
    tensors = {name: _read_tensor(path, name, info, data, map_location) for name, info in header.items()}
    spans = sorted(tuple(info["data_offsets"]) for info in header.values())
    pos = 0
    for b, e in spans:
        if b != pos:
            raise CheckpointError(
                f"{path}: corrupt checkpoint: tensor data regions overlap or leave a gap at byte {pos}"
            )
        pos = e
    if pos != len(data):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: {len(data) - pos} trailing byte(s) after the last tensor"
        )
    structure = meta.get(_META_KEY)
    if structure is None:
        return tensors
    try:
        tree = json.loads(structure)
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: the 'ember' metadata is not valid JSON ({exc})"
        ) from None
    return _decode(tree, path, tensors, "")


def load_state_dict_into(
    module: Any, f: str | os.PathLike[str], strict: bool = True, key: str | None = None
) -> Any:
    """Load the checkpoint at ``f`` (or its entry ``key``, e.g. ``"model"``) into ``module``; any
    mismatch (missing/unexpected key, wrong shape or dtype) raises :class:`CheckpointError` naming the
    file and the key."""
    path = os.fspath(f)
    sd = load(
        path,
        map_location=next(iter(module.parameters()), None).device
        if next(iter(module.parameters()), None) is not None
        else None,
    )
    if key is not None:
        if not isinstance(sd, dict) or key not in sd:
            raise CheckpointError(f"{path}: the checkpoint has no entry {key!r}")
        sd = sd[key]
    own = module.state_dict()
    for k, t in own.items():
        if k in sd and isinstance(sd[k], Tensor):
            src = sd[k]
            if src.shape != t.shape:
                raise CheckpointError(
                    f"{path}: key {k!r} has shape {tuple(src.shape)} in the checkpoint but "
                    f"{tuple(t.shape)} in the model"
                )
            if src.dtype.is_floating_point != t.dtype.is_floating_point:
                raise CheckpointError(
                    f"{path}: key {k!r} has dtype {src.dtype.name} in the checkpoint "
                    f"but {t.dtype.name} "
                    "in the model"
                )
    try:
        return module.load_state_dict(sd, strict=strict)
    except (RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
