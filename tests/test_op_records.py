"""Every public name of Ember is proved by an op record, and the records machinery refuses what
would make the records ambiguous.

The public names are the module-level functions of ``ember``, ``ember.nn.functional.__all__`` and
every attribute of :class:`ember.Tensor` (methods, operators, properties and the public slots;
dunders included, private ``_x`` names not). Each must be covered by a record
(:func:`ember.ops.records.records_covering`) that has samples and a numpy reference, so the
conformance kit proves it on every device, or be listed in :data:`NOT_OPS` with the reason it is
not an op. An exemption that no longer names anything, or names something a record now covers,
fails too.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path
from typing import Any

import ember
import ember.nn.functional
import numpy as np
import pytest
from ember.ops.records import (
    RECORDS,
    OpRecord,
    load_all,
    method_table,
    no_samples,
    records_covering,
    register,
)

load_all()  # every record, as the kit and ember info see them

#: public callables and Tensor attributes that are not ops, with the reason
NOT_OPS: dict[str, str] = {
    "backends": "lists the installed backend plugins; no tensor",
    "compile": "compiles a function (capture and replay of its kernels); no op of its own: the kit's "
    "compiled mode (ember.testing.test_compiled) runs every record through it",
    "device": "resolves a device name or index to a Device object; no tensor",
    "devices": "lists the available devices; no tensor",
    "get_default_device": "reads a setting; no tensor",
    "set_default_device": "changes a setting; no tensor",
    "get_default_dtype": "reads a setting; no tensor",
    "set_default_dtype": "changes a setting; no tensor",
    "promote_types": "dtype arithmetic on DType objects; no tensor",
    "result_type": "dtype arithmetic on tensors' and Python values' dtypes; no tensor result",
    "is_tensor": "a type test of a Python object",
    "synchronize": "waits for a device's queued work; no values",
    "grad": "the autograd engine's functional entry point; every record's gradients are proved "
    "through it by the kit's gradcheck",
    "is_grad_enabled": "reads the grad mode; no tensor",
    "hookimpl": "the pluggy marker that backend plugins decorate their hooks with",
    "manual_seed": "seeds the random generators; the random creation records prove that the same "
    "seed gives the same values",
    "default_generator": "returns a device's Generator object, not a tensor",
    "Tensor.__new__": "a guard: Tensor(data) forwards to ember.tensor (proved by its record) and "
    "Tensor() refuses",
    "Tensor.__hash__": "tensors hash by identity (usable as dict keys); no value a device computes",
}

#: attributes Python itself puts in a class's namespace
_PYTHON_MADE = {
    "__module__",
    "__qualname__",
    "__doc__",
    "__annotations__",
    "__dict__",
    "__firstlineno__",
    "__static_attributes__",
}


def _is_public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _module_names() -> list[str]:
    """``ember``'s public module-level functions (classes and modules are not ops)."""
    out = []
    for name in dir(ember):
        obj = getattr(ember, name)
        if name.startswith("_") or isinstance(obj, (type, types.ModuleType)) or not callable(obj):
            continue
        out.append(name)
    return out


def _functional_names() -> list[str]:
    return [f"nn.functional.{name}" for name in ember.nn.functional.__all__]


def _linalg_names() -> list[str]:
    """``ember.linalg``'s public functions (its exception class and the backends' kernel helper
    are not ops)."""
    return [
        f"linalg.{name}"
        for name in ember.linalg.__all__
        if name != "array_kernels" and not isinstance(getattr(ember.linalg, name), type)
    ]


def _tensor_names() -> list[str]:
    """Tensor's methods, operators, properties and public slots (``Tensor.<name>``)."""
    kinds = (property, types.MemberDescriptorType)
    return [
        f"Tensor.{name}"
        for name, value in vars(ember.Tensor).items()
        if _is_public(name) and name not in _PYTHON_MADE and (callable(value) or isinstance(value, kinds))
    ]


def _first_dtype(rec: OpRecord) -> str:
    return "float32" if "float32" in rec.dtypes else rec.dtypes[0]


def _check_covered(name: str) -> None:
    assert name not in NOT_OPS, f"{name} is exempt (NOT_OPS) and is checked by test_not_ops_entry_is_current"
    recs = records_covering(name)
    assert recs, (
        f"{name} has no op record: declare one beside its code (ember.ops.records.OpRecord, with its "
        "name, a method name or covers=...) or, if it is not an op, add it to NOT_OPS with the reason"
    )
    problems = []
    for rec in recs:
        dtype = _first_dtype(rec)
        samples = rec.samples(dtype, np.random.default_rng(0))
        if not samples:
            problems.append(f"record {rec.name!r} has no samples for {dtype}")
        elif rec.ref is None:
            problems.append(f"record {rec.name!r} has no numpy reference (ref)")
        else:
            return
    raise AssertionError(f"{name}: no record that covers it can be proved by the kit: " + "; ".join(problems))


@pytest.mark.parametrize("name", [n for n in _module_names() if n not in NOT_OPS])
def test_module_function_has_a_record(name: str) -> None:
    """Every public function of ``ember`` is proved by a record with samples and a reference."""
    _check_covered(name)


@pytest.mark.parametrize("name", _functional_names())
def test_functional_has_a_record(name: str) -> None:
    """Every name of ``ember.nn.functional.__all__`` is proved by a record."""
    _check_covered(name)


@pytest.mark.parametrize("name", _linalg_names())
def test_linalg_function_has_a_record(name: str) -> None:
    """Every function of ``ember.linalg`` is proved by a record."""
    _check_covered(name)


@pytest.mark.parametrize("name", [n for n in _tensor_names() if n not in NOT_OPS])
def test_tensor_attribute_has_a_record(name: str) -> None:
    """Every public Tensor attribute (dunders included) is proved by a record."""
    _check_covered(name)


@pytest.mark.parametrize("name", sorted(NOT_OPS))
def test_not_ops_entry_is_current(name: str) -> None:
    """An exemption names something that exists and that no record covers."""
    public = set(_module_names()) | set(_functional_names()) | set(_tensor_names())
    assert name in public, f"NOT_OPS lists {name!r}, which is no longer a public name: remove it"
    covering = [r.name for r in records_covering(name)]
    assert not covering, f"NOT_OPS lists {name!r}, but records {covering} cover it: remove the exemption"


def test_every_public_name_of_a_record_exists() -> None:
    """A record's name (if public), methods and covers name things that exist."""

    def exists(name: str) -> bool:
        if name.startswith("Tensor."):
            return hasattr(ember.Tensor, name.removeprefix("Tensor."))
        if name.startswith("nn.functional."):
            return name.removeprefix("nn.functional.") in ember.nn.functional.__all__
        obj: Any = ember  # a dotted path from ember: linalg.solve, nn.utils.rnn.pack_sequence
        for part in name.split("."):
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True

    stale = [(r.name, n) for r in RECORDS.values() for n in r.public_names() if not exists(n)]
    assert not stale, f"records naming what does not exist (record, name): {stale}"


# -- the records machinery ----------------------------------------------------------------------
def _throwaway(name: str, **kwargs: Any) -> OpRecord:
    return OpRecord(name, lambda x: x, no_samples, public=False, **kwargs)


def test_duplicate_record_name_is_refused() -> None:
    original = RECORDS["exp"]
    try:
        with pytest.raises(ValueError, match=r"'exp' is registered twice"):
            register(_throwaway("exp"))
        assert RECORDS["exp"] is original
    finally:
        RECORDS["exp"] = original


def test_unknown_kernel_is_refused() -> None:
    try:
        with pytest.raises(ValueError, match=r"'_test_unknown_kernel' names kernel 'no_such_kernel'"):
            register(_throwaway("_test_unknown_kernel", kernel="no_such_kernel"))
        assert "_test_unknown_kernel" not in RECORDS
    finally:
        RECORDS.pop("_test_unknown_kernel", None)


def test_method_claimed_by_two_records_is_refused() -> None:
    try:
        register(_throwaway("_test_claim_a", methods=("_test_claimed",)))
        register(_throwaway("_test_claim_b", inplace=("_test_claimed",)))
        with pytest.raises(
            ValueError,
            match=r"Tensor\._test_claimed is claimed by op records '_test_claim_a' and '_test_claim_b'",
        ):
            method_table()
    finally:
        RECORDS.pop("_test_claim_a", None)
        RECORDS.pop("_test_claim_b", None)
    method_table()  # the real records claim each method once


def _defined_in_tensor_py() -> set[str]:
    """The names the Tensor class body in tensor.py defines (methods, properties, assignments, slots)."""
    # ember.tensor is the function; the module is reached through importlib
    module = importlib.import_module("ember.tensor")
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
                    if target.id == "__slots__":
                        names |= set(ast.literal_eval(node.value))
        elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_tensor_attributes_are_the_records_and_tensor_py() -> None:
    """Tensor's namespace is exactly what the records declare (methods, in-place variants and the
    ``Tensor.<name>`` they cover) plus what tensor.py's class body defines; no record replaces a
    method the class defines itself."""
    methods, inplace = method_table()
    declared = set(methods) | set(inplace)
    covered = {
        n.removeprefix("Tensor.") for r in RECORDS.values() for n in r.covers if n.startswith("Tensor.")
    }
    own = _defined_in_tensor_py()
    actual = set(vars(ember.Tensor)) - _PYTHON_MADE
    assert actual - (declared | covered | own) == set(), "Tensor attributes no record declares"
    assert (declared | covered | own) - actual == set(), "declared Tensor attributes that do not exist"
    assert declared & own == set(), "records replacing methods tensor.py defines"
    for name, fn in methods.items():
        assert vars(ember.Tensor)[name] is fn, f"Tensor.{name} is not the callable its record declares"
