"""The kernel contract and the op records agree: every kernel a backend may provide is reached by
an op record (so the conformance kit runs it), and every kernel a record names is in the contract."""

from __future__ import annotations

from ember.backend import PRIMITIVES
from ember.ops.catalog import OPTIONAL_KERNELS
from ember.ops.records import load_all

RECORDS = load_all()  # every record, as the kit sees them

# kernels no op dispatches to by name, each reached by the kit another way
REACHED_OTHERWISE = {
    "as_strided": "every view op's composite (slicing, narrow, flip, transpose ...) on a device "
    "without their optional kernels, and every negative-stride sample the kit builds",
    "add_": "gradient accumulation: any gradcheck whose input feeds two ops (x * x) accumulates "
    "its gradient with add_",
    "max_pool2d_backward": "the gradcheck of max_pool2d's record (its samples with grad) on a device "
    "with the max_pool2d kernel",
    "fold2d": "the gradcheck of unfold2d's, conv2d's and the pooling records (unfold2d's backward)",
}


def _named_kernels() -> set[str]:
    return {rec.kernel for rec in RECORDS.values() if rec.kernel is not None}


def test_every_kernel_of_the_contract_is_reached_by_a_record() -> None:
    named = _named_kernels()
    unreached = [k for k in [*PRIMITIVES, *OPTIONAL_KERNELS] if k not in named and k not in REACHED_OTHERWISE]
    assert not unreached, (
        f"kernels no op record names: {unreached}; give the op that dispatches to each a record "
        "with kernel=<name> (ember/ops/<module>.py, _records()), so the kit runs it on every device"
    )


def test_exemptions_are_current() -> None:
    named = _named_kernels()
    for kernel in REACHED_OTHERWISE:
        assert kernel in PRIMITIVES or kernel in OPTIONAL_KERNELS, f"{kernel} left the kernel contract"
        assert kernel not in named, f"{kernel} is now named by a record: remove it from REACHED_OTHERWISE"


def test_every_kernel_a_record_names_is_in_the_contract() -> None:
    for rec in RECORDS.values():
        if rec.kernel is not None:
            assert rec.kernel in PRIMITIVES or rec.kernel in OPTIONAL_KERNELS, (rec.name, rec.kernel)
            assert rec.kind in ("primitive", "optional"), rec.name


def test_kind_is_derived_from_the_contract() -> None:
    assert RECORDS["exp"].kind == "primitive"
    assert RECORDS["exp2"].kind == "optional"
    assert RECORDS["softplus"].kind == "composite"
