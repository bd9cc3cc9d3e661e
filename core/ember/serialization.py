"""``ember.save`` / ``ember.load``: checkpoints in the safetensors format, written without pickle.

A file is an 8-byte little-endian header length, a JSON header mapping each tensor name to its
``dtype``, ``shape`` and ``data_offsets`` (plus ``"__metadata__"``, a str -> str map), then the raw
little-endian tensor bytes. The non-tensor structure of the saved object (nested dicts, lists,
numbers, strings: a model's and an optimizer's state dicts, an epoch counter ...) is stored as JSON in
the metadata entry ``"ember"``, with each tensor replaced by a reference to its name.

So the ``safetensors`` library reads Ember's files (and sees the state dict's own key names), and
Ember reads files written by ``safetensors.numpy.save_file`` (as a flat ``{name: tensor}`` dict).

Loading never executes code and trusts nothing in the file. It reads only regular files (a FIFO,
a device such as ``/dev/zero`` or a directory is refused before it is read, without blocking), reads
no more than the file's size, and checks the whole header (every entry's dtype, shape and offsets,
and that the data regions tile the data section exactly, without overlap or gap) before it reads any
tensor data, so the memory a load uses is bounded by the file's size. Every defect is a
:class:`~ember.errors.CheckpointError` naming the file, the entry and what is wrong.

Writes are atomic: a temporary file in the same directory, flushed, fsynced and renamed over the
target. A writer killed mid-save leaves its temporary behind; the next save into that directory
removes such leftovers, but only Ember's own (see :func:`_temporary_name`) whose writer is provably
gone.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import reprlib
import secrets
import socket
import stat
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

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
    _dt.complex64: "C64",
    _dt.bfloat16: "BF16",
}
_FROM_ST = {v: k for k, v in _TO_ST.items()}
# dtypes of the safetensors format that Ember has no tensor type for (a different message: the file
# is fine, the reader lacks the type)
_ST_ONLY = {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"}
_MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit
_MAX_NDIM = 64  # numpy's
_MAX_BYTES = 2**63 - 1  # numpy's limit on an array's size in bytes (non-zero dimensions only)
# containers (dicts, lists, tuples) nested in a saved object: save refuses deeper objects (a
# reference cycle, usually), so load can refuse deeper files without losing anything saved
_MAX_DEPTH = 100
_TEMP_SUFFIX = ".ember-tmp"


# -- saving ------------------------------------------------------------------------------------------
def _encode(obj: Any, path: str, tensors: dict[str, Tensor], depth: int = 0) -> Any:
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
    if isinstance(obj, (Mapping, list, tuple)) and depth >= _MAX_DEPTH:
        raise ValueError(
            f"ember.save: the object is nested more than {_MAX_DEPTH} dicts/lists deep at "
            f"{_cut(path)}; a checkpoint holds at most {_MAX_DEPTH} levels (does the object "
            "contain itself?)"
        )
    if isinstance(obj, Mapping):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, bool)) and k is not None:
                raise TypeError(
                    f"ember.save: dict key {k!r} at {path or '<root>'} is a {type(k).__name__}; "
                    "only str, int and bool keys can be saved"
                )
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), tensors, depth + 1)])
        return {"d": items}
    if isinstance(obj, (list, tuple)):
        enc = [_encode(v, f"{path}.{i}" if path else str(i), tensors, depth + 1) for i, v in enumerate(obj)]
        return {"l" if isinstance(obj, list) else "u": enc}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return _encode(obj.item(), path, tensors, depth)
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


def _host_tag() -> str:
    """Eight hex digits standing for this machine's hostname (a fixed width, no odd characters)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _temporary_name(target: str, pid: int | None = None, host: str | None = None) -> str:
    """The file name of a temporary written by process ``pid`` (default: this one) on ``host``
    (default: this machine's tag) while it saves ``target`` (a file name, no directory):
    ``<target>.<host>-<pid>-<random>.ember-tmp``. The suffix marks the file as Ember's, the host
    and pid say which writer owns it; only names of this exact form are ever cleaned up."""
    pid = os.getpid() if pid is None else pid
    host = _host_tag() if host is None else host
    return f"{target[:120]}.{host}-{pid}-{secrets.token_hex(4)}{_TEMP_SUFFIX}"


_TEMP_NAME = re.compile(r"\.(?P<host>[0-9a-f]{8})-(?P<pid>[1-9][0-9]{0,9})-[0-9a-f]{8}\.ember-tmp\Z")


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (True when in doubt)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process (EPERM), or a pid out of range
        return True
    return True


def _remove_if_unlocked(path: str) -> None:
    """Delete ``path`` if it is still one of our regular files and no process holds its lock (a live
    writer keeps an exclusive ``flock`` on its temporary: this guards writers whose pid cannot be
    checked from here, e.g. in another pid namespace on a shared filesystem)."""
    import fcntl

    try:
        before = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISREG(before.st_mode) or before.st_uid != os.getuid():
        return  # a symlink, FIFO, device or another user's file: not ours to touch
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(st.st_mode):
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # its writer is alive
        except OSError:
            pass  # the filesystem has no locks: the pid check alone decided
        try:
            now = os.lstat(path)
        except OSError:
            return
        if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(directory: str) -> None:
    """Remove the temporaries that killed Ember writers left in ``directory``: names of
    :func:`_temporary_name`'s form, written on this machine by a process that no longer exists and
    not locked by anyone. Anything else (other hosts' temporaries, live writers', files Ember did
    not make) is left alone, and no failure here stops a save."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return
    host = _host_tag()
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not entry.name.endswith(_TEMP_SUFFIX):
                    continue
                m = _TEMP_NAME.search(entry.name)
                if m is not None and m["host"] == host and not _pid_alive(int(m["pid"])):
                    _remove_if_unlocked(entry.path)
    except OSError:
        return


def _create_temporary(directory: str, target: str) -> tuple[int, str]:
    """Create (exclusively, mode 0600) and lock a new temporary for saving ``target``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, _temporary_name(target))
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileExistsError:
            continue
        if os.name == "posix":
            import fcntl

            try:  # held until the file is renamed: tells cleaners this writer is alive
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                pass
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "ember.save: no free temporary file name", directory)


def save(obj: Any, f: str | os.PathLike[str], metadata: Mapping[str, str] | None = None) -> None:
    """Save ``obj`` (a tensor, or nested dicts/lists/tuples of tensors, numbers and strings, e.g.
    ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``) to path ``f`` in
    the safetensors format, atomically. ``metadata`` adds str -> str entries to the header.

    Temporaries left in the target's directory by killed Ember writers on this machine are removed
    first."""
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
        if t.dtype not in _TO_ST:
            raise TypeError(
                f"save: tensor {name!r} is {t.dtype}, which the safetensors format has no dtype for; "
                "save ember.view_as_real(x) (float64, a last dim of 2) and rebuild it after loading "
                "with ember.view_as_complex, or convert it with x.to(ember.complex64)"
            )
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
    _remove_stale_temporaries(directory)
    fd, tmp = _create_temporary(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(struct.pack("<Q", len(hbytes)))
            fh.write(hbytes)
            for raw in blobs:
                fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, path)  # still open, so still locked, until it has its final name
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
def _cut(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters (a hostile file's keys and values can be huge)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxlong = 3, 8, 4, 60, 40


def _brief(value: Any, limit: int = 80) -> str:
    """``repr(value)``, bounded in cost and cut to ``limit`` characters."""
    return _cut(_REPR.repr(value), limit)


def _json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words, with its article ("an integer")."""
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    kinds = {dict: "a JSON object", list: "a list", int: "an integer", float: "a number", str: "a string"}
    return kinds.get(type(value), type(value).__name__)


_CORRUPT = "the file is damaged or was not written by a safetensors writer; restore it from a good copy"


def _kind_of(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _refuse_irregular(path: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    via = ""
    if os.path.islink(path):
        via = f" (a symlink to {os.path.realpath(path)!r})"
    raise CheckpointError(
        f"{path}: not a checkpoint file: it is {_kind_of(mode)}{via}; ember.load reads regular "
        "files only: pass the path of a saved checkpoint"
    )


def _open_regular(path: str) -> tuple[BinaryIO, int]:
    """``path`` opened for reading, and its size; anything but a regular file is refused without
    being read, and a FIFO without blocking."""
    try:
        st = os.stat(path)  # follows symlinks: a link to /dev/zero is a character device
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(
                f"ember.load: {path!r} is a symlink to {os.readlink(path)!r}, which does not exist"
            ) from None
        raise FileNotFoundError(f"ember.load: no such checkpoint file: {path!r}") from None
    _refuse_irregular(path, st.st_mode)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    fd = os.open(path, flags)  # O_NONBLOCK: were it swapped for a FIFO meanwhile, open won't hang
    try:
        st = os.fstat(fd)
        _refuse_irregular(path, st.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=0), st.st_size


def _read_into(path: str, fh: BinaryIO, buf: Any) -> None:
    """Fill ``buf`` (a writable bytes-like object) from ``fh``; a short file is a CheckpointError."""
    view = memoryview(buf).cast("B")
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            raise CheckpointError(
                f"{path}: the file shrank while it was being read (another process is writing "
                "it?); load it again once that writer is done"
            )
        got += n


def _refuse_foreign(path: str, head: bytes) -> None:
    """A clear error for the formats people pass by mistake: PyTorch's zip and pickle files."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        what = "a zip archive, as torch.save writes"
    elif len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        what = f"a pickle, protocol {head[1]}"
    else:
        return
    raise CheckpointError(
        f"{path}: this is a PyTorch/pickle checkpoint ({what}), not a safetensors file. Ember never "
        "unpickles files (unpickling can run any code); if you trust the file, convert it once "
        "with PyTorch (torch.load, then safetensors.torch.save_file of the state dict) and load "
        "the result"
    )


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def _parse_json(path: str, text: str, what: str) -> Any:
    """``text`` parsed as JSON; every way it can fail is a CheckpointError about ``what``."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: {what} is nested too deeply to parse; {_CORRUPT}"
        ) from None
    except _DuplicateKey as exc:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: {what} has the key {_brief(exc.args[0])} twice; "
            f"each key may appear once; {_CORRUPT}"
        ) from None
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: {what} is not valid JSON ({exc}); {_CORRUPT}"
        ) from None
    except ValueError as exc:  # Python's limit on digits in an int-string conversion
        raise CheckpointError(
            f"{path}: corrupt checkpoint: {what} holds an integer with more than "
            f"{sys.get_int_max_str_digits()} digits ({exc}); if you trust the file, raise the limit "
            "with sys.set_int_max_str_digits() and load it again"
        ) from None


def _read_header(path: str, fh: BinaryIO, size: int) -> Any:
    """The parsed JSON header (after the 8-byte length), read without reading past the file's
    size; a file that is not safetensors at all is recognised here."""
    head = bytearray(min(size, 8))
    _read_into(path, fh, head)
    if size < 8:
        _refuse_foreign(path, bytes(head))
        raise CheckpointError(
            f"{path}: not a safetensors checkpoint: the file has {size} bytes, fewer than "
            "the 8-byte header length (truncated or empty file)"
        )
    (n,) = struct.unpack("<Q", head)
    if n > _MAX_HEADER or n > size - 8:
        _refuse_foreign(path, bytes(head))
        has = f"the file has {size - 8} after the length field"
        if n > _MAX_HEADER:
            has = f"a safetensors header has at most {_MAX_HEADER} bytes (and {has})"
        raise CheckpointError(
            f"{path}: corrupt or truncated checkpoint: the header claims {n} bytes but {has}; "
            "restore the file from a good copy"
        )
    raw = bytearray(n)
    _read_into(path, fh, raw)
    if not raw.startswith(b"{"):
        _refuse_foreign(path, bytes(head))
        raise CheckpointError(
            f"{path}: not a safetensors checkpoint: the {n}-byte header does not start with '{{' "
            f"(it starts {bytes(raw[:8])!r}); {_CORRUPT}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: the header is not UTF-8 text (byte {exc.start} of the "
            f"header is {bytes(raw[exc.start : exc.start + 1])!r}); {_CORRUPT}"
        ) from None
    del raw
    return _parse_json(path, text, "the header")


@dataclass(frozen=True)
class _Entry:
    """One tensor's checked header entry."""

    name: str
    dtype: _dt.DType
    shape: tuple[int, ...]
    begin: int
    end: int


def _check_dtype(path: str, name: str, st: Any) -> _dt.DType:
    if not isinstance(st, str):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {_brief(name)} has dtype {_brief(st)} "
            f"({_json_kind(st)}); a dtype is a name such as 'F32'; {_CORRUPT}"
        )
    dt = _FROM_ST.get(st)
    if dt is None:
        supported = ", ".join(sorted(_FROM_ST))
        if st in _ST_ONLY:
            raise CheckpointError(
                f"{path}: tensor {_brief(name)} has dtype {st!r}, which Ember does not support "
                f"(supported: {supported}); convert the tensor to one of these where it was saved"
            )
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {_brief(name)} has dtype {_brief(st)}, which is not "
            f"a safetensors dtype (Ember reads {supported}); {_CORRUPT}"
        )
    return dt


def _check_shape(path: str, name: str, shape: Any, dt: _dt.DType) -> tuple[int, ...]:
    def bad(what: str) -> CheckpointError:
        return CheckpointError(
            f"{path}: corrupt checkpoint: tensor {_brief(name)} has an invalid shape{what}; {_CORRUPT}"
        )

    if not isinstance(shape, list):
        raise bad(f" {_brief(shape)} ({_json_kind(shape)}); a shape is a list of non-negative integers")
    if len(shape) > _MAX_NDIM:
        raise bad(f": {len(shape)} dimensions, more than the {_MAX_NDIM} a tensor can have")
    for i, d in enumerate(shape):
        if type(d) is not int or d < 0:
            raise bad(f" {_brief(shape)}: dimension {i} is {_brief(d, 40)}, not a non-negative integer")
    nonzero = dt.itemsize
    for d in shape:
        nonzero *= d or 1
        if nonzero > _MAX_BYTES:
            raise bad(
                f" {_brief(shape)}: its non-zero dimensions of {dt.itemsize}-byte elements exceed "
                f"{_MAX_BYTES} bytes, more than any array can hold"
            )
    return tuple(shape)


def _check_entry(path: str, name: str, info: Any, data_len: int) -> _Entry:
    """One header entry, checked against everything except the other entries."""
    if not isinstance(info, dict):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: the entry for tensor {_brief(name)} is {_json_kind(info)}, "
            f"not an object with dtype, shape and data_offsets; {_CORRUPT}"
        )
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in info]
    if missing:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: the entry for tensor {_brief(name)} lacks "
            f"{' and '.join(missing)}; {_CORRUPT}"
        )
    dt = _check_dtype(path, name, info["dtype"])
    shape = _check_shape(path, name, info["shape"], dt)
    offs = info["data_offsets"]
    if not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int for o in offs):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {_brief(name)} has invalid data_offsets "
            f"{_brief(offs)}; they are [begin, end], two integers; {_CORRUPT}"
        )
    begin, end = offs
    if not 0 <= begin <= end:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {_brief(name)} has data_offsets {_brief(offs)}; "
            f"they need 0 <= begin <= end; {_CORRUPT}"
        )
    nbytes = math.prod(shape) * dt.itemsize
    if end - begin != nbytes:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: tensor {_brief(name)} of dtype {_TO_ST[dt]} and shape "
            f"{shape} needs {nbytes} bytes but its data_offsets {_brief(offs)} span "
            f"{end - begin} (wrong dtype or shape?)"
        )
    if end > data_len:
        raise CheckpointError(
            f"{path}: truncated or corrupt checkpoint: tensor {_brief(name)} ends at byte {end} of "
            f"the data section but the file holds only {data_len} bytes of data (cut short by an "
            "interrupted copy?); copy it again or restore it from a good copy"
        )
    return _Entry(name, dt, shape, begin, end)


def _check_layout(path: str, entries: list[_Entry], data_len: int) -> list[_Entry]:
    """The entries in file order, after checking that their regions tile the data section exactly."""
    ordered = sorted(entries, key=lambda e: (e.begin, e.end))
    pos, prev = 0, None
    for e in ordered:
        if e.begin < pos and prev is not None:
            raise CheckpointError(
                f"{path}: corrupt checkpoint: the data of tensors {_brief(prev.name)} (bytes "
                f"{prev.begin}..{prev.end}) and {_brief(e.name)} (bytes {e.begin}..{e.end}) overlap; "
                f"each tensor needs its own bytes; {_CORRUPT}"
            )
        if e.begin > pos:
            raise CheckpointError(
                f"{path}: corrupt checkpoint: bytes {pos}..{e.begin} of the data section belong to "
                f"no tensor (a gap before {_brief(e.name)}); {_CORRUPT}"
            )
        pos, prev = e.end, e
    if pos != data_len:
        raise CheckpointError(
            f"{path}: corrupt checkpoint: {data_len - pos} trailing byte(s) after the last tensor; {_CORRUPT}"
        )
    return ordered


def _check_metadata(path: str, meta: Any) -> dict[str, str]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"{path}: corrupt checkpoint: __metadata__ is {_json_kind(meta)}, not a JSON object of "
            f"strings; {_CORRUPT}"
        )
    for k, v in meta.items():
        if not isinstance(v, str):
            raise CheckpointError(
                f"{path}: corrupt checkpoint: __metadata__ entry {_brief(k)} is {_json_kind(v)}, "
                f"not a string (safetensors metadata maps strings to strings); {_CORRUPT}"
            )
    return meta


_DTYPE_NAMES = {d.name for d in _dt.ALL_DTYPES}


def _decode(node: Any, path: str, tensors: Mapping[str, Any], where: str, depth: int = 0) -> Any:
    """The saved object described by the structure ``node``; ``tensors`` maps names to tensors.
    Every malformed node is a CheckpointError naming its dotted location."""
    at = _cut(where or "<root>")

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: corrupt checkpoint: the saved structure at {at} {what}; {_CORRUPT}")

    if not isinstance(node, dict) or len(node) != 1:
        what = f"an object with {len(node)} keys" if isinstance(node, dict) else _json_kind(node)
        raise bad(f"is {what}, not an object with one tag")
    ((kind, val),) = node.items()
    if kind == "t":
        if not isinstance(val, str):
            raise bad(f"names tensor {_brief(val)} ({_json_kind(val)}), not a tensor name")
        if val not in tensors:
            raise CheckpointError(
                f"{path}: corrupt checkpoint: key {at} refers to tensor {_brief(val)}, which is not "
                f"in the file; {_CORRUPT}"
            )
        return tensors[val]
    if kind == "v":
        if val is not None and not isinstance(val, (bool, int, float, str)):
            raise bad(f"holds {_json_kind(val)} as a plain value")
        return val
    if kind == "f":
        if val not in ("inf", "-inf", "nan"):
            raise bad(f"holds {_brief(val)} as a non-finite float (expected 'inf', '-inf' or 'nan')")
        return float(val)
    if kind == "dtype":
        if not isinstance(val, str) or val not in _DTYPE_NAMES:
            raise bad(f"holds dtype {_brief(val)}, which is not one of {', '.join(sorted(_DTYPE_NAMES))}")
        return _dt.as_dtype(val)
    if kind in ("d", "l", "u"):
        if not isinstance(val, list):
            raise bad(f"holds {_json_kind(val)} where a list belongs")
        if depth >= _MAX_DEPTH:
            raise bad(f"is nested more than {_MAX_DEPTH} levels deep, deeper than ember.save writes")
    if kind == "d":
        out = {}
        for pair in val:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise bad(f"holds the dict item {_brief(pair)}, not a [key, value] pair")
            k, v = pair
            if k is not None and not isinstance(k, (str, int, bool)):
                raise bad(f"holds a dict key {_brief(k)} ({_json_kind(k)}), not a str, int or bool")
            out[k] = _decode(v, path, tensors, f"{where}.{k}" if where else str(k), depth + 1)
        return out
    if kind in ("l", "u"):
        items = [
            _decode(v, path, tensors, f"{where}.{i}" if where else str(i), depth + 1)
            for i, v in enumerate(val)
        ]
        return items if kind == "l" else tuple(items)
    raise bad(f"has the unknown tag {_brief(kind)}")


def _read_tensors(path: str, fh: BinaryIO, entries: list[_Entry], device: Any) -> dict[str, Tensor]:
    """Read the (checked, file-ordered, contiguous) entries' data straight into their arrays."""
    from .ops.creation import tensor

    out = {}
    for e in entries:
        arr = np.empty(e.shape, dtype=np.dtype(e.dtype.numpy).newbyteorder("<"))
        if arr.size:
            _read_into(path, fh, arr.reshape(-1).view(np.uint8))
        if not arr.dtype.isnative:
            arr = arr.astype(e.dtype.numpy)
        out[e.name] = tensor(arr, dtype=e.dtype, device=device)
    return out


def load(f: str | os.PathLike[str], map_location: Any = None) -> Any:
    """Load what :func:`save` wrote (or any safetensors file, as a ``{name: tensor}`` dict).

    Tensors are placed on ``map_location`` (a device or name; default: the default device).
    The whole header is checked before any tensor data is read, and no more than the file's size
    is read. Anything that is not a well-formed safetensors file (a truncated or corrupt file, a
    tensor whose bytes don't match its dtype and shape, overlapping data, a PyTorch or pickle
    file, a FIFO or device) raises :class:`ember.errors.CheckpointError` naming the file, the key
    and what is wrong; a missing file raises ``FileNotFoundError``.
    """
    path = os.fspath(f)
    fh, size = _open_regular(path)
    with fh:
        header = _read_header(path, fh, size)
        if not isinstance(header, dict):
            raise CheckpointError(
                f"{path}: corrupt checkpoint: the header is {_json_kind(header)}, not a JSON object"
            )
        data_len = size - fh.tell()
        meta = _check_metadata(path, header.pop("__metadata__", None))
        entries = [_check_entry(path, name, info, data_len) for name, info in header.items()]
        ordered = _check_layout(path, entries, data_len)
        structure = meta.get(_META_KEY)
        tree = None
        if structure is not None:
            tree = _parse_json(path, structure, "the 'ember' metadata")
            _decode(tree, path, dict.fromkeys(header), "")  # check it before reading any data
        del header
        tensors = _read_tensors(path, fh, ordered, map_location)
    if tree is None:
        return {e.name: tensors[e.name] for e in entries}  # in header order
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
