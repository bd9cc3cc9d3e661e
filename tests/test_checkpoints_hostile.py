"""Hostile checkpoints: every malformed file the tests can think of gives a CheckpointError that names
the file and the problem (never a raw TypeError/ValueError/IndexError/RecursionError/MemoryError,
never a hang, never code run from the file); loads are bounded in memory by the file's size; writers
killed mid-save leave temporaries that the next save cleans up, without touching anything else."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import ember
import numpy as np
import pytest
from ember.errors import CheckpointError
from ember.serialization import _temporary_name

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices, SIGKILL and flock are POSIX")


# -- building files ----------------------------------------------------------------------------------
def st_bytes(header: dict | str | bytes, data: bytes = b"", header_len: int | None = None) -> bytes:
    """A safetensors-layout file: 8-byte length, header (a dict, JSON text or raw bytes), data."""
    if isinstance(header, dict):
        header = json.dumps(header)
    raw = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(raw) if header_len is None else header_len) + raw + data


def ent(dtype: object = "F32", shape: object = (1,), offs: object = (0, 4)) -> dict:
    """One header entry (lists where JSON has lists)."""
    return {
        "dtype": dtype,
        "shape": list(shape) if isinstance(shape, tuple) else shape,
        "data_offsets": list(offs) if isinstance(offs, tuple) else offs,
    }


def one(dtype: object = "F32", shape: object = (1,), offs: object = (0, 4), data: bytes = b"\0" * 4) -> bytes:
    """A file holding one tensor ``w``."""
    return st_bytes({"w": ent(dtype, shape, offs)}, data)


def with_structure(structure: str, tensors: dict | None = None, data: bytes = b"") -> bytes:
    """A file whose 'ember' metadata (the saved object's structure) is ``structure``."""
    return st_bytes({"__metadata__": {"ember": structure, "format": "pt"}, **(tensors or {})}, data)


def pickled(protocol: int) -> bytes:
    return pickle.dumps({"weight": [1.0, 2.0]}, protocol=protocol)


def torch_like_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickled(2))
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


VALID = st_bytes(
    {"__metadata__": {"format": "pt"}, "a": ent("F32", (2,), (0, 8)), "b": ent("I64", (1,), (8, 16))},
    b"\0" * 16,
)
DEEP = 100_000

# (id, file bytes, what the message says after "<path>: ")
CASES: list[tuple[str, Callable[[], bytes], str]] = [
    ("empty", lambda: b"", r"not a safetensors checkpoint: the file has 0 bytes"),
    ("five-bytes", lambda: b"\x01\x02\x03\x04\x05", r"the file has 5 bytes, fewer than the 8-byte header"),
    (
        "header-beyond-file",
        lambda: st_bytes("{}", header_len=1000),
        r"header claims 1000 bytes but the file has 2",
    ),
    (
        "header-over-limit",
        lambda: st_bytes("{}", header_len=2**40),
        r"claims 1099511627776 bytes but a safetensors header has at most 104857600 bytes",
    ),
    (
        "header-length-max",
        lambda: st_bytes("{}", header_len=2**64 - 1),
        r"header claims 18446744073709551615",
    ),
    ("header-empty", lambda: st_bytes(""), r"header does not start with '\{'"),
    ("header-a-list", lambda: st_bytes("[1, 2]  "), r"the 8-byte header does not start with '\{'"),
    ("header-not-json", lambda: st_bytes("{{{{"), r"the header is not valid JSON"),
    ("header-trailing-garbage", lambda: st_bytes('{"__metadata__": {}} x'), r"the header is not valid JSON"),
    ("header-not-utf8", lambda: st_bytes(b'{"\xff\xfe": 1}'), r"the header is not UTF-8 text \(byte 2"),
    (
        "header-nested-100000-deep",
        lambda: st_bytes('{"w": ' + "[" * DEEP + "]" * DEEP + "}"),
        r"the header is nested too deeply",
    ),
    (
        "header-5000-digit-integer",
        lambda: st_bytes('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, ' + "9" * 5000 + "]}}"),
        r"the header holds an integer with more than 4300 digits.*sys.set_int_max_str_digits",
    ),
    (
        "duplicate-key",
        lambda: st_bytes('{"w": ' + json.dumps(ent()) + ', "w": ' + json.dumps(ent()) + "}", b"\0" * 4),
        r"the header has the key 'w' twice",
    ),
    (
        "metadata-a-list",
        lambda: st_bytes({"__metadata__": ["a"]}),
        r"__metadata__ is a list, not a JSON object",
    ),
    (
        "metadata-value-int",
        lambda: st_bytes({"__metadata__": {"epoch": 3}}),
        r"__metadata__ entry 'epoch' is an integer, not a string",
    ),
    (
        "metadata-value-nested",
        lambda: st_bytes({"__metadata__": {"ember": {"d": []}}}),
        r"__metadata__ entry 'ember' is a JSON object, not a string",
    ),
    ("entry-a-list", lambda: st_bytes({"w": [0, 4]}), r"the entry for tensor 'w' is a list, not an object"),
    ("entry-a-string", lambda: st_bytes({"w": "F32"}), r"the entry for tensor 'w' is a string"),
    (
        "entry-lacks-offsets",
        lambda: st_bytes({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4),
        r"the entry for tensor 'w' lacks data_offsets",
    ),
    (
        "dtype-unknown",
        lambda: one(dtype="F33"),
        r"tensor 'w' has dtype 'F33', which is not a safetensors dtype",
    ),
    (
        "dtype-u16",
        lambda: one(dtype="U16", offs=(0, 2), data=b"\0\0"),
        r"'U16', which Ember does not support",
    ),
    (
        "dtype-a-list",
        lambda: one(dtype=["F32"]),
        r"tensor 'w' has dtype \['F32'\] \(a list\); a dtype is a name",
    ),
    ("dtype-null", lambda: one(dtype=None), r"tensor 'w' has dtype None \(null\)"),
    ("shape-a-string", lambda: one(shape="x"), r"tensor 'w' has an invalid shape 'x' \(a string\)"),
    ("shape-null", lambda: one(shape=None), r"tensor 'w' has an invalid shape None \(null\)"),
    (
        "shape-bool",
        lambda: one(shape=[True, 4]),
        r"invalid shape \[True, 4\]: dimension 0 is True, not a non-neg",
    ),
    ("shape-negative", lambda: one(shape=[-1]), r"invalid shape \[-1\]: dimension 0 is -1"),
    ("shape-float", lambda: one(shape=[1.0]), r"invalid shape \[1.0\]: dimension 0 is 1.0"),
    ("shape-nested", lambda: one(shape=[[1]]), r"invalid shape \[\[1\]\]: dimension 0 is \[1\]"),
    (
        "shape-2**62-by-0",
        lambda: one(shape=[2**62, 0], offs=(0, 0), data=b""),
        r"invalid shape \[4611686018427387904, 0\]: its non-zero dimensions of 4-byte elements exceed",
    ),
    ("shape-101-dims", lambda: one(shape=[1] * 101), r"invalid shape: 101 dimensions, more than the 64"),
    ("shape-2**40-squared", lambda: one(shape=[2**40, 2**40]), r"invalid shape \[1099511627776, 10995116277"),
    ("offsets-negative", lambda: one(offs=[-4, 0]), r"data_offsets \[-4, 0\]; they need 0 <= begin <= end"),
    ("offsets-reversed", lambda: one(offs=[4, 0]), r"data_offsets \[4, 0\]; they need 0 <= begin <= end"),
    (
        "offsets-three",
        lambda: one(offs=[0, 4, 8]),
        r"invalid data_offsets \[0, 4, 8\]; they are \[begin, end\]",
    ),
    ("offsets-strings", lambda: one(offs=["0", "4"]), r"invalid data_offsets \['0', '4'\]"),
    ("offsets-bools", lambda: one(offs=[False, True]), r"invalid data_offsets \[False, True\]"),
    ("offsets-floats", lambda: one(offs=[0.0, 4.0]), r"invalid data_offsets \[0.0, 4.0\]"),
    ("offsets-a-dict", lambda: one(offs={"begin": 0}), r"invalid data_offsets \{'begin': 0\}"),
    (
        "offsets-past-end",
        lambda: one(offs=[1000, 1004]),
        r"tensor 'w' ends at byte 1004 of the data section but",
    ),
    (
        "offsets-2**70",
        lambda: one(offs=[2**70, 2**70 + 4]),
        r"ends at byte 1180591620717411303428 of the data",
    ),
    (
        "size-mismatch",
        lambda: one(shape=[2, 2], offs=[0, 8], data=b"\0" * 8),
        r"tensor 'w' of dtype F32 and shape \(2, 2\) needs 16 bytes but its data_offsets \[0, 8\] span 8",
    ),
    (
        "overlap",
        lambda: st_bytes({"a": ent("F32", (2,), (0, 8)), "b": ent("F32", (2,), (4, 12))}, b"\0" * 12),
        r"the data of tensors 'a' \(bytes 0..8\) and 'b' \(bytes 4..12\) overlap",
    ),
    (
        "same-region-twice",
        lambda: st_bytes({"a": ent("F32", (2,), (0, 8)), "b": ent("I64", (1,), (0, 8))}, b"\0" * 8),
        r"the data of tensors '[ab]' \(bytes 0..8\) and '[ab]' \(bytes 0..8\) overlap",
    ),
    (
        "empty-tensor-inside-another",
        lambda: st_bytes({"a": ent("F32", (2,), (0, 8)), "z": ent("F32", (0,), (4, 4))}, b"\0" * 8),
        r"tensors 'a' \(bytes 0..8\) and 'z' \(bytes 4..4\) overlap",
    ),
    (
        "gap",
        lambda: st_bytes({"a": ent("F32", (1,), (0, 4)), "b": ent("F32", (1,), (8, 12))}, b"\0" * 12),
        r"bytes 4..8 of the data section belong to no tensor \(a gap before 'b'\)",
    ),
    ("trailing-bytes", lambda: one(data=b"\0" * 8), r"4 trailing byte\(s\) after the last tensor"),
    ("no-tensors-but-data", lambda: st_bytes({}, b"\0" * 3), r"3 trailing byte\(s\)"),
    ("truncated-data", lambda: VALID[:-3], r"truncated or corrupt checkpoint: tensor 'b' ends at byte 16"),
    ("truncated-header", lambda: VALID[:30], r"corrupt or truncated checkpoint: the header claims"),
    (
        "long-name",
        lambda: st_bytes({"n" * 100_000: ent("F99")}, b"\0" * 4),
        r"tensor 'n+\.\.\.n+' has dtype 'F99'",
    ),
    ("structure-not-json", lambda: with_structure("{oops"), r"the 'ember' metadata is not valid JSON"),
    (
        "structure-nested-100000-deep",
        lambda: with_structure("[" * DEEP + "]" * DEEP),
        r"the 'ember' metadata is nested too deeply",
    ),
    (
        "structure-nested-150-deep",
        lambda: with_structure('{"l": [' * 150 + '{"v": 1}' + "]}" * 150),
        r"the saved structure at 0\.0\.0.* is nested more than 100 levels deep",
    ),
    (
        "structure-5000-digit-integer",
        lambda: with_structure('{"v": ' + "7" * 5000 + "}"),
        r"the 'ember' metadata holds an integer with more than 4300 digits",
    ),
    (
        "structure-unknown-tag",
        lambda: with_structure('{"x": 1}'),
        r"structure at <root> has the unknown tag 'x'",
    ),
    (
        "structure-a-list",
        lambda: with_structure("[1]"),
        r"structure at <root> is a list, not an object with one tag",
    ),
    (
        "structure-two-tags",
        lambda: with_structure('{"v": 1, "l": []}'),
        r"is an object with 2 keys, not an object",
    ),
    (
        "structure-missing-tensor",
        lambda: with_structure('{"d": [["model", {"d": [["w", {"t": "nope"}]]}]]}'),
        r"key model\.w refers to tensor 'nope', which is not in the file",
    ),
    (
        "structure-tensor-name-a-list",
        lambda: with_structure('{"t": ["w"]}', {"w": ent()}, b"\0" * 4),
        r"structure at <root> names tensor \['w'\] \(a list\), not a tensor name",
    ),
    (
        "structure-dict-not-list",
        lambda: with_structure('{"d": {"a": 1}}'),
        r"holds a JSON object where a list",
    ),
    (
        "structure-dict-item-not-pair",
        lambda: with_structure('{"d": [["a"]]}'),
        r"holds the dict item \['a'\], not a \[key, value\] pair",
    ),
    (
        "structure-dict-key-a-list",
        lambda: with_structure('{"d": [[["k"], {"v": 1}]]}'),
        r"holds a dict key \['k'\] \(a list\), not a str, int or bool",
    ),
    ("structure-float-word", lambda: with_structure('{"f": "abc"}'), r"holds 'abc' as a non-finite float"),
    ("structure-float-list", lambda: with_structure('{"f": [1]}'), r"holds \[1\] as a non-finite float"),
    (
        "structure-dtype-name",
        lambda: with_structure('{"dtype": "float128"}'),
        r"holds dtype 'float128', which is",
    ),
    ("structure-dtype-list", lambda: with_structure('{"dtype": ["float32"]}'), r"holds dtype \['float32'\]"),
    (
        "structure-value-a-dict",
        lambda: with_structure('{"d": [["cfg", {"v": {"a": 1}}]]}'),
        r"structure at cfg holds a JSON object as a plain value",
    ),
    (
        "torch-zip",
        torch_like_zip,
        r"this is a PyTorch/pickle checkpoint \(a zip archive, as torch\.save writes\)",
    ),
    *[
        (
            f"pickle-protocol-{p}",
            (lambda p=p: pickled(p)),
            rf"this is a PyTorch/pickle checkpoint \(a pickle, protocol {p}\)",
        )
        for p in (2, 3, 4, 5)
    ],
    (
        "pickle-tiny",
        lambda: pickle.dumps(1, protocol=4),
        r"PyTorch/pickle checkpoint.*not a safetensors file",
    ),
]


@pytest.mark.parametrize("make, expected", [(m, e) for _, m, e in CASES], ids=[c[0] for c in CASES])
def test_hostile_file_gives_a_checkpoint_error_naming_file_and_problem(tmp_path, make, expected):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(make())
    with pytest.raises(CheckpointError) as info:
        ember.load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: "), msg
    assert len(msg) < 1000, msg  # a hostile key or value is cut, not echoed whole
    assert re.search(expected, msg), msg


def test_the_valid_neighbours_of_the_hostile_files_load(tmp_path):
    # the checks refuse what is wrong and nothing else
    path = tmp_path / "ok.safetensors"
    cases = {
        "two tensors": (VALID, ["a", "b"]),
        "empty tensors anywhere": (
            st_bytes(
                {
                    "z0": ent("F32", (0,), (0, 0)),
                    "a": ent("F32", (1,), (0, 4)),
                    "z1": ent("I8", (3, 0), (4, 4)),
                },
                b"\0" * 4,
            ),
            ["z0", "a", "z1"],
        ),
        "null metadata": (st_bytes({"__metadata__": None, "w": ent()}, b"\0" * 4), ["w"]),
        "huge but empty": (one(shape=[2**60, 0], offs=(0, 0), data=b""), ["w"]),
        "64 dims": (one(shape=[1] * 64), ["w"]),
        "no tensors": (st_bytes({}), []),
    }
    for what, (raw, names) in cases.items():
        path.write_bytes(raw)
        assert list(ember.load(path)) == names, what


@pytest.mark.parametrize("device", ["cpu", "opencl"])
def test_bool_bytes_other_than_0_and_1_load_as_the_values_they_hold(tmp_path, device):
    # safetensors stores a bool as one byte; a file may hold 2 or 255 for True, which numpy reads as
    # True but device kernels would compute on (2 & 1 == 0, a cast giving 255)
    try:
        dev = ember.device(device)
    except ember.BackendError as exc:
        pytest.skip(f"device {device!r} unusable: {exc}")
    path = tmp_path / "bools.safetensors"
    path.write_bytes(one("BOOL", (4,), (0, 4), bytes([2, 0, 255, 1])))
    w = ember.load(path, map_location=dev)["w"]
    assert w.dtype is ember.bool_ and w.device == dev
    assert w.tolist() == [True, False, True, True]
    assert w.sum().item() == 3 and w.to(ember.int32).tolist() == [1, 0, 1, 1]
    assert (w & ember.ones(4, dtype=ember.bool_, device=dev)).tolist() == [True, False, True, True]


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"state": Payload()}, protocol=2))
    with pytest.raises(CheckpointError, match=r"model\.pt: this is a PyTorch/pickle checkpoint"):
        ember.load(path)
    assert not marker.exists()


def test_real_torch_files_are_named_as_such(tmp_path):
    torch = pytest.importorskip("torch")
    state = {"weight": torch.ones(2, 2)}
    torch.save(state, tmp_path / "zip.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(
        CheckpointError, match=r"zip\.pt: this is a PyTorch/pickle checkpoint \(a zip archive"
    ):
        ember.load(tmp_path / "zip.pt")
    with pytest.raises(CheckpointError, match=r"legacy\.pt: this is a PyTorch/pickle checkpoint \(a pickle"):
        ember.load(tmp_path / "legacy.pt")


# -- memory ------------------------------------------------------------------------------------------
def _peak_bytes_of(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
    except CheckpointError:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_loading_is_bounded_by_the_file_size(tmp_path):
    mib8 = 8 * 1024 * 1024
    n = mib8 // 4
    # 200 entries all pointing at one 8 MiB region: once 1.6 GB of copies before the overlap check
    hostile = tmp_path / "overlap.safetensors"
    hostile.write_bytes(st_bytes({f"t{i}": ent("F32", (n,), (0, mib8)) for i in range(200)}, b"\0" * mib8))
    size = hostile.stat().st_size
    assert _peak_bytes_of(lambda: ember.load(hostile)) < size // 4  # only the header is read
    with pytest.raises(CheckpointError, match=r"overlap\.safetensors: .*tensors 't\d+' .* overlap"):
        ember.load(hostile)
    # a valid file of the same size: its tensors, plus at most one tensor's copy in flight
    valid = tmp_path / "valid.safetensors"
    ember.save({f"t{i}": ember.ones(n // 4) for i in range(4)}, valid)
    size = valid.stat().st_size
    assert _peak_bytes_of(lambda: ember.load(valid)) < 1.5 * size
    # a header-heavy file: ~30,000 entries of empty tensors in 2 MiB, the worst case for the
    # parsed header's size (Python objects per JSON entry)
    crowd = tmp_path / "crowd.safetensors"
    entry = json.dumps(ent("F32", (0,), (0, 0)))
    count = (mib8 // 4) // (len(entry) + 12)
    crowd.write_bytes(st_bytes("{" + ",".join(f'"t{i}": {entry}' for i in range(count)) + ', "x": 1}'))
    with pytest.raises(CheckpointError, match=r"the entry for tensor 'x' is an integer"):
        ember.load(crowd)
    assert _peak_bytes_of(lambda: ember.load(crowd)) < 16 * crowd.stat().st_size


# -- things that are not regular files ---------------------------------------------------------------
@posix_only
def test_fifos_devices_and_directories_are_refused_without_reading(tmp_path):
    # in a child with a memory limit and a timeout, so that a loader that reads /dev/zero or blocks on
    # a FIFO fails this test instead of taking the machine down or hanging the run
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero.safetensors").symlink_to("/dev/zero")
    (tmp_path / "pipe.safetensors").symlink_to(tmp_path / "pipe")
    (tmp_path / "dir.safetensors").mkdir()
    (tmp_path / "dangling.safetensors").symlink_to(tmp_path / "gone")
    code = f"""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        import ember
        for name in ["zero.safetensors", "pipe", "pipe.safetensors", "dir.safetensors",
                     "dangling.safetensors", "/dev/null"]:
            path = name if name.startswith("/") else {str(tmp_path)!r} + "/" + name
            try:
                ember.load(path)
                print(json.dumps([name, "loaded", ""]), flush=True)
            except BaseException as exc:
                print(json.dumps([name, type(exc).__name__, str(exc)]), flush=True)
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    got = {name: (kind, msg) for name, kind, msg in map(json.loads, proc.stdout.splitlines())}
    zero_msg = got["zero.safetensors"][1]
    assert got["zero.safetensors"][0] == "CheckpointError"
    assert (
        "zero.safetensors: not a checkpoint file: it is a character device (a symlink to '/dev/zero')"
        in zero_msg
    )
    assert "reads regular files only" in zero_msg
    for name in ("pipe", "pipe.safetensors"):
        assert got[name][0] == "CheckpointError" and "it is a FIFO (named pipe)" in got[name][1], got[name]
    assert got["dir.safetensors"][0] == "CheckpointError" and "it is a directory" in got["dir.safetensors"][1]
    assert got["/dev/null"] == (
        "CheckpointError",
        "/dev/null: not a checkpoint file: it is a character device; ember.load reads regular files only: "
        "pass the path of a saved checkpoint",
    )
    assert got["dangling.safetensors"][0] == "FileNotFoundError"
    assert (
        "is a symlink to" in got["dangling.safetensors"][1]
        and "which does not exist" in got["dangling.safetensors"][1]
    )


# -- temporaries of killed writers -------------------------------------------------------------------
WRITER = """
    import sys
    import ember
    big = {"w": ember.arange(%d, dtype=ember.float32), "step": 1}
    while True:
        ember.save(big, sys.argv[1])
        if len(sys.argv) > 2:
            break
"""
BIG = 6_000_000  # 24 MB a save


def _spawn_writer(target: Path, once: bool = False) -> subprocess.Popen:
    args = [sys.executable, "-c", textwrap.dedent(WRITER % BIG), str(target)] + (["once"] if once else [])
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _others(folder: Path, known: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in known)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed by its writer meanwhile
        return 0


@posix_only
def test_temporaries_of_killed_writers_are_cleaned_up_by_the_next_save(tmp_path):
    target = tmp_path / "ckpt.safetensors"
    ember.save({"w": ember.zeros(3), "step": 0}, target)  # what was saved before the kills
    known = {"ckpt.safetensors", "next.safetensors"}
    seen: set[str] = set()
    landed = 0  # kills that left a temporary behind
    for _ in range(12):  # a kill can land between two saves; go on until three land mid-write
        if landed >= 3:
            break
        writer = _spawn_writer(target)
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline and writer.poll() is None:
                temps = [n for n in _others(tmp_path, known) if n not in seen]
                if temps and _size(tmp_path / temps[0]) > 0:
                    break
                time.sleep(0.001)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
        left = set(_others(tmp_path, known))
        landed += bool(left - seen)
        seen |= left
        # each writer's first save removed what the writers killed before it had left
        assert len(left) <= 1, left
    assert landed >= 3, "no kill landed mid-save"
    # the checkpoint is whichever save completed last, whole
    back = ember.load(target)
    assert back["step"] in (0, 1)
    if back["step"] == 1:
        np.testing.assert_array_equal(back["w"].numpy(), np.arange(BIG, dtype=np.float32))
    else:
        assert back["w"].tolist() == [0.0, 0.0, 0.0]
    # the next save into that folder (of another file, too) removes what the dead writers left
    ember.save({"x": ember.ones(2)}, tmp_path / "next.safetensors")
    assert _others(tmp_path, known) == []
    assert ember.load(target)["step"] == back["step"]


@posix_only
def test_a_live_writers_temporary_is_never_removed(tmp_path):
    target = tmp_path / "live.safetensors"
    writer = _spawn_writer(target, once=True)
    saves = 0
    try:
        while writer.poll() is None:  # every save here runs the cleanup beside the live writer
            ember.save({"i": saves}, tmp_path / "small.safetensors")
            saves += 1
        _, err = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == 0, err.decode()
    assert saves > 0
    back = ember.load(target)
    np.testing.assert_array_equal(back["w"].numpy(), np.arange(BIG, dtype=np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.safetensors", "small.safetensors"]


@posix_only
def test_the_cleanup_removes_only_ember_temporaries_of_dead_writers_on_this_host(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(done.stdout)  # a pid that has just exited (and been reaped)
    name = "ckpt.safetensors"
    dead_tmp = tmp_path / _temporary_name(name, pid=dead)
    other_host = tmp_path / _temporary_name(name, pid=dead, host="0badc0de")
    mine = tmp_path / _temporary_name(name)  # this process: alive
    locked = tmp_path / _temporary_name(name, pid=dead)  # dead-looking pid, but a live process holds it
    link = tmp_path / _temporary_name(name, pid=dead)  # not a regular file: never followed nor removed
    precious = tmp_path / "precious.bin"
    look_alikes = ["ckpt.safetensors.tmp", "ckpt.safetensors.ab12cd34.tmp", f"notes-{dead}.ember-tmp"]
    for p in [dead_tmp, other_host, mine, locked, precious, *(tmp_path / n for n in look_alikes)]:
        p.write_bytes(b"x" * 16)
    link.symlink_to(precious)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'r+b'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(locked),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        ember.save({"x": ember.ones(1)}, tmp_path / name)
        left = {p.name for p in tmp_path.iterdir()}
    finally:
        holder.kill()
        holder.wait()
    assert dead_tmp.name not in left
    for kept in [other_host, mine, locked, link, precious, *(tmp_path / n for n in look_alikes)]:
        assert kept.name in left, kept.name
    assert precious.read_bytes() == b"x" * 16
    ember.save({"x": ember.ones(1)}, tmp_path / name)  # the holder is gone: now its file goes too
    assert locked.name not in {p.name for p in tmp_path.iterdir()}
