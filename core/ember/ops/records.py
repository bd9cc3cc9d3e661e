"""Op records: every op declared once, as data, in the module that holds its forward and backward.

A record says what an op is (its public callable, the Tensor methods and in-place variants that
share its code, the kernel it dispatches to) and how to prove it on a device (dtypes, sample
inputs, a numpy reference, tolerances, differentiability, error inputs with their messages).
Everything else reads the records instead of keeping its own list:

* Tensor's methods and operators (``ember.ops._install_methods``);
* whether an op is a backend primitive, an optional kernel or a composite (:attr:`OpRecord.kind`,
  from the kernel contract in :mod:`ember.backend` and :mod:`ember.ops.catalog`);
* the conformance kit (:mod:`ember.testing.test_ops`: forward values against the reference,
  result invariants, gradcheck, error contracts on every device under test);
* the coverage test that every public op has a record (``tests/test_op_records.py``).

Adding an op is one record beside its code::

    register(OpRecord("exp", exp, kernel="exp", methods=("exp",), inplace=("exp_",),
                      dtypes=FLOATS16, samples=unary_samples(), ref=np.exp))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .samples import ALL, FLOATS, ErrorSample, Sample, SampleFn, block_samples

__all__ = [
    "OpRecord",
    "RECORDS",
    "register",
    "records_covering",
    "method_table",
    "no_samples",
    "reflected",
    "view_record",
]


@dataclass(frozen=True)
class OpRecord:
    """One op: what it is and how a device proves it.

    name: the record's id (the public name for public ops, e.g. ``"exp"`` or
        ``"nn.functional.relu"``; a suffix names a variant, e.g. ``"getitem_mask"``).
    fn: the op's public callable.
    call: how the kit calls it on tensors (default ``fn``); ``ref`` is the same on numpy arrays.
    samples: ``samples(dtype_name, rng) -> [Sample]``; ref: the numpy reference (None: the op's
        values are checked by its own tests, the kit checks the invariants only).
    kernel: the kernel the op dispatches to (a primitive of ``ember.backend.PRIMITIVES`` or an
        optional kernel of ``ember.ops.catalog.OPTIONAL_KERNELS``); None for a composite.
    methods: Tensor methods that are this op: a name binds ``fn`` itself (its first argument is
        ``self``); a ``name -> callable`` pair binds an adapter (``__radd__``, ``where``).
    inplace: in-place methods (``exp_``, ``__iadd__``) made from ``fn`` by
        :func:`ember.ops.inplace.make_inplace`, or ``name -> callable`` for an adapter.
    covers: further public names this record proves (``"clip"`` for clamp's record, ``"Tensor.T"``).
    dtypes: dtype names the op supports; grad: differentiable in its floating args.
    errors: bad inputs and the exception (type and message pattern) each must raise.
    public: False for a variant record (``getitem_mask``) whose name is not a public name; its
        ``covers`` says what it proves.
    reads_values: the call reads tensor values on the host (``item``, ``tolist``) or the result's
        shape depends on them (``nonzero``, ``masked_select``): a device that holds shapes only
        (``Backend.has_data = False``) cannot run it.
    """

    name: str
    fn: Callable[..., Any]
    samples: SampleFn
    ref: Callable[..., Any] | None = None
    call: Callable[..., Any] | None = None
    kernel: str | None = None
    methods: tuple[str, ...] | Mapping[str, Callable[..., Any]] = ()
    inplace: tuple[str, ...] | Mapping[str, Callable[..., Any]] = ()
    covers: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = FLOATS
    grad: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    errors: tuple[ErrorSample, ...] = ()
    public: bool = True
    reads_values: bool = False

    @property
    def kind(self) -> str:
        """``"primitive"``, ``"optional"`` (a kernel the device may provide; core composes the op
        otherwise) or ``"composite"``."""
        from ..backend import PRIMITIVES
        from .catalog import OPTIONAL_KERNELS

        if self.kernel in PRIMITIVES:
            return "primitive"
        if self.kernel in OPTIONAL_KERNELS:
            return "optional"
        return "composite"

    def caller(self) -> Callable[..., Any]:
        """The callable the kit runs on tensors."""
        return self.call or self.fn

    def method_names(self) -> list[str]:
        """Every Tensor attribute this record defines (methods and in-place variants)."""
        return list(self.methods) + list(self.inplace)

    def public_names(self) -> list[str]:
        """Every public name this record proves: its own, ``Tensor.<method>`` and ``covers``."""
        own = [self.name] if self.public else []
        return own + [f"Tensor.{m}" for m in self.method_names()] + list(self.covers)


#: record name -> record, in registration order (the order of the kit's tests).
RECORDS: dict[str, OpRecord] = {}

#: the modules whose records register when they are imported but that ``import ember`` does not
#: import (``ember.ops`` and ``ember.linalg`` are imported with ember itself)
RECORD_MODULES: tuple[str, ...] = (
    "ember.nn.functional",
    "ember.nn.utils.rnn",
    "ember.array_api",
    "ember.fft",
)


def load_all() -> dict[str, OpRecord]:
    """Import every module that declares op records and return :data:`RECORDS`: what the kit,
    ``ember info``, the stub generator and the profiler read, so none of them misses a record."""
    import importlib

    for name in RECORD_MODULES:
        importlib.import_module(name)
    return RECORDS


def register(*records: OpRecord) -> None:
    """Add records; a name registered twice is an error naming it."""
    for rec in records:
        old = RECORDS.get(rec.name)
        if old is not None and not _same_origin(old, rec):
            raise ValueError(f"op record {rec.name!r} is registered twice; op record names are unique")
        if rec.kernel is not None:
            _check_kernel_name(rec)
        if "bfloat16" in rec.dtypes and _refuses_bfloat16(rec.name):
            rec = replace(rec, dtypes=tuple(d for d in rec.dtypes if d != "bfloat16"))
        RECORDS[rec.name] = rec


#: ops PyTorch refuses in bfloat16 (``torch.linalg``'s and ``torch.fft``'s functions, complex
#: numbers from bfloat16 parts, quantile) and DLPack, which has no numpy bfloat16: their records name
#: ``FLOATS`` for float32 and float64 only
_NO_BFLOAT16_PREFIXES = ("linalg.", "fft.")
_NO_BFLOAT16 = frozenset(
    {"complex", "polar", "view_as_complex", "dlpack", "logdet", "quantile", "nanquantile"}
)


def _refuses_bfloat16(name: str) -> bool:
    return name.startswith(_NO_BFLOAT16_PREFIXES) or name in _NO_BFLOAT16


def _same_origin(a: OpRecord, b: OpRecord) -> bool:
    """Whether ``b`` is ``a`` declared again by the same line of code (its module imported a second
    time, as ``importlib.reload`` or pytest's in-process runs do): then it replaces ``a``."""

    def origin(rec: OpRecord) -> tuple:
        fn = rec.caller()
        code = getattr(fn, "__code__", None)
        return (
            getattr(fn, "__module__", None),
            getattr(fn, "__qualname__", None),
            getattr(code, "co_firstlineno", None),
        )

    return origin(a) == origin(b)


def _check_kernel_name(rec: OpRecord) -> None:
    from ..backend import PRIMITIVES
    from .catalog import OPTIONAL_KERNELS

    if rec.kernel not in PRIMITIVES and rec.kernel not in OPTIONAL_KERNELS:
        raise ValueError(
            f"op record {rec.name!r} names kernel {rec.kernel!r}, which is neither a primitive "
            "(ember.backend.PRIMITIVES) nor an optional kernel (ember.ops.catalog.OPTIONAL_KERNELS)"
        )


def records_covering(public_name: str) -> list[OpRecord]:
    """The records that prove ``public_name`` (``"exp"``, ``"Tensor.exp_"``, ``"nn.functional.relu"``)."""
    return [r for r in RECORDS.values() if public_name in r.public_names()]


def method_table() -> tuple[dict[str, Callable[..., Any]], dict[str, Callable[..., Any]]]:
    """``(methods, inplace)``: Tensor attribute name -> the callable or out-of-place op behind it,
    read from the records; a name claimed by two records is an error naming both."""
    methods: dict[str, Callable[..., Any]] = {}
    inplace: dict[str, Callable[..., Any]] = {}
    owner: dict[str, str] = {}
    for rec in RECORDS.values():
        for table, spec in ((methods, rec.methods), (inplace, rec.inplace)):
            items = spec.items() if isinstance(spec, Mapping) else ((m, rec.fn) for m in spec)
            for mname, fn in items:
                if mname in owner:
                    raise ValueError(
                        f"Tensor.{mname} is claimed by op records {owner[mname]!r} and {rec.name!r}; "
                        "one record owns each method"
                    )
                owner[mname] = rec.name
                table[mname] = fn
    return methods, inplace


def reflected(op: Callable[..., Any]) -> Callable[..., Any]:
    """The reflected operator method of a binary op (``__radd__`` from ``add``): ``op(other, self)``."""
    return lambda self, other: op(other, self)


def view_record(name: str, fn: Any, call: Any, ref: Any, dtypes: tuple = ALL, **kw: Any) -> OpRecord:
    """The record of a layout op checked on :func:`~ember.ops.samples.block_samples` (every dtype
    unless ``dtypes`` says otherwise; its method is ``name`` unless ``methods`` says otherwise)."""
    methods = kw.pop("methods", (name,))
    return OpRecord(name, fn, block_samples, ref, call=call, methods=methods, dtypes=dtypes, **kw)


def no_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    """For records whose op takes no tensor input (creation ops build their own)."""
    return []
