"""Kernel signatures: one :class:`KernelSignature` per generated kernel, the single description of
its parameters for both sides of a launch.

* The code generators render the kernel's C declaration from it
  (:meth:`KernelSignature.declaration`), so the parameter list is never written by hand.
* The launcher gives pyopencl the numpy scalar type of every scalar parameter
  (:attr:`KernelSignature.arg_dtypes`, through ``Kernel.set_scalar_arg_dtypes``), so ``set_args``
  packs plain Python ints and floats with ``struct`` (about 1 µs) instead of pyopencl's generic
  numpy-scalar path (about 10 µs per scalar argument).
* :meth:`KernelSignature.pack` turns the launch values, one per :class:`Param` (a list or tuple
  for a run of per-dimension parameters such as strides), into the positional argument list,
  checking the counts. Cached launch plans keep the packed tail of that list and reuse it.

Importing this module needs no OpenCL runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SCALAR_TYPES", "KernelSignature", "Param", "Program"]

#: numpy scalar type of each OpenCL C scalar type a kernel parameter may have
SCALAR_TYPES: dict[str, type[np.generic]] = {
    "char": np.int8,
    "uchar": np.uint8,
    "short": np.int16,
    "ushort": np.uint16,
    "int": np.int32,
    "uint": np.uint32,
    "long": np.int64,
    "ulong": np.uint64,
    "float": np.float32,
    "double": np.float64,
    # complex scalars (pyopencl packs a Python complex as two floats / doubles)
    "float2": np.complex64,
    "double2": np.complex128,
}


@dataclass(frozen=True)
class Param:
    """One kernel parameter, or a run of ``count`` parameters of one type.

    ``ctype`` is the OpenCL C type: a pointer such as ``"__global const float*"`` (a buffer
    argument) or a scalar type of :data:`SCALAR_TYPES`. A run (``count`` not None) stands for
    the parameters ``<name>0`` .. ``<name>{count-1}`` (the shape or strides of a rank-``count``
    operand; ``count`` may be 0) and takes a sequence of ``count`` values when packed.
    """

    name: str
    ctype: str
    count: int | None = None

    def __post_init__(self) -> None:
        if not self.is_buffer and self.ctype not in SCALAR_TYPES:
            raise ValueError(f"kernel parameter {self.name!r}: unknown scalar type {self.ctype!r}")
        if self.count is not None and (self.count < 0 or self.is_buffer):
            raise ValueError(f"kernel parameter {self.name!r}: a run is a non-negative count of scalars")

    @property
    def is_buffer(self) -> bool:
        """True for a pointer (``__global``) parameter, which takes a buffer."""
        return self.ctype.endswith("*")

    def names(self) -> list[str]:
        """The C names this parameter stands for (one, or ``count`` for a run)."""
        if self.count is None:
            return [self.name]
        return [f"{self.name}{j}" for j in range(self.count)]

    def declarations(self) -> list[str]:
        """The C declarations of :meth:`names` (``"int x_s0"``, ...)."""
        return [f"{self.ctype} {n}" for n in self.names()]

    def arg_dtypes(self) -> list[type[np.generic] | None]:
        """pyopencl's scalar argument types of :meth:`names` (None for a buffer)."""
        dtype = None if self.is_buffer else SCALAR_TYPES[self.ctype]
        return [dtype] * (1 if self.count is None else self.count)


@dataclass(frozen=True)
class KernelSignature:
    """The parameters of kernel ``name`` (its C function is ``k_<name>``), in declaration order."""

    name: str
    params: tuple[Param, ...]
    arg_dtypes: tuple[type[np.generic] | None, ...] = field(init=False, repr=False, compare=False)
    _counts: tuple[int | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [n for p in self.params for n in p.names()]
        if len(set(names)) != len(names):
            raise ValueError(f"kernel {self.name}: repeated parameter names in {names}")
        dtypes = tuple(t for p in self.params for t in p.arg_dtypes())
        object.__setattr__(self, "arg_dtypes", dtypes)
        # per parameter: None, or the length of a run (pack's plan; all None: values pass as is)
        counts = tuple(p.count for p in self.params)
        object.__setattr__(self, "_counts", counts if any(c is not None for c in counts) else ())

    def __str__(self) -> str:
        return self.name

    @property
    def c_name(self) -> str:
        """The kernel's function name in the program source."""
        return "k_" + self.name

    def c_params(self) -> str:
        """The C parameter list (without parentheses)."""
        return ", ".join(d for p in self.params for d in p.declarations())

    def declaration(self) -> str:
        """``__kernel void k_<name>(<parameters>)``: the head of the kernel's definition."""
        return f"__kernel void {self.c_name}({self.c_params()})"

    def pack(self, *values: Any) -> list[Any]:
        """The positional kernel arguments for one value per parameter (a list or tuple of
        ``count`` values for a run): buffers as given, scalars as plain Python numbers (pyopencl
        converts them to :attr:`arg_dtypes`). Raises TypeError when a count does not match."""
        if len(values) != len(self.params):
            expected = ", ".join(p.name for p in self.params)
            raise TypeError(
                f"kernel {self.name}: {len(values)} values for {len(self.params)} parameters ({expected})"
            )
        if not self._counts:
            return list(values)
        args: list[Any] = []
        for count, v in zip(self._counts, values):
            if count is None:
                args.append(v)
            elif type(v) in (list, tuple) and len(v) == count:
                args.extend(v)
            else:
                raise self._run_error(values)
        return args

    def _run_error(self, values: tuple) -> TypeError:
        """The error for the first run of ``values`` that is not a list or tuple of its count."""
        for p, v in zip(self.params, values):
            if p.count is not None and not (type(v) in (list, tuple) and len(v) == p.count):
                return TypeError(
                    f"kernel {self.name}: parameter run {p.name!r} takes {p.count} values, got {v!r}"
                )
        raise AssertionError("no bad run")


#: What a program generator returns: the program's OpenCL C source and the signatures of its
#: kernels (the builder, :meth:`ember_opencl._device._Device.program`, names kernels by them).
Program = tuple[str, list[KernelSignature]]
