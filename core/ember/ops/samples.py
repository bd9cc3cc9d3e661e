"""Sample inputs for op records: the dtype groups, :class:`Sample`, :class:`ErrorSample` and the
builders shared by families of ops (unary, binary, reductions).

Samples are numpy arrays (tensors are made from them on the device under test) and plain Python
values; they include the cases backends get wrong: 0-d and empty tensors, broadcasting, Python
scalars on either side, transposed views and views with negative strides.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ALL",
    "ALL_INT",
    "COMPLEX",
    "DEVICE",
    "FLOATS",
    "FLOATS16",
    "INTS",
    "NUMERIC",
    "SIGNED",
    "ErrorSample",
    "Sample",
    "SampleFn",
    "binary_samples",
    "block_samples",
    "complex_specials",
    "np_erf",
    "np_kw",
    "rand_array",
    "reduction_samples",
    "unary_samples",
]

FLOATS = ("float32", "float64", "bfloat16")
FLOATS16 = ("float16",) + FLOATS
INTS = ("int32", "int64")
SIGNED = ("int8", "int16", "int32", "int64")
ALL_INT = ("uint8", "int8", "int16", "int32", "int64")
NUMERIC = ("float32", "float64", "int32", "int64", "bfloat16")
ALL = ("bool",) + ALL_INT + FLOATS16
COMPLEX = ("complex64", "complex128")


@dataclass
class Sample:
    """One call: positional args (numpy arrays become tensors, anything else passes through) and
    keyword args.

    noncontig: tensor args become non-contiguous views with the same values: ``True`` (or
    ``"transpose"``) a transposed (2-D+) or strided (1-D) view, ``"flip"`` a view with negative
    strides. grad: use this sample in gradchecks.
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    noncontig: bool | str = False
    grad: bool = True

    def describe(self) -> str:
        """A short id for messages."""
        parts = [
            ("x".join(map(str, a.shape)) or "0d") if isinstance(a, np.ndarray) else repr(a) for a in self.args
        ]
        kw = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        tail = {False: "", True: "-nc", "transpose": "-nc", "flip": "-flip"}[self.noncontig]
        return "-".join(parts) + (f"-{kw}" if kw else "") + tail


@dataclass
class ErrorSample:
    """A bad call and what it must raise: ``error`` (an exception type) whose message matches the
    regular expression ``match`` (which should name the op and the offending value)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    error: type[BaseException] = ValueError
    match: str = ""


SampleFn = Callable[[str, np.random.Generator], list[Sample]]


class _DeviceUnderTest:
    """Stands for the device under test in a sample's args or kwargs (``device=DEVICE``), for ops
    that take no tensor input (creation ops); the kit puts the device in its place."""

    def __repr__(self) -> str:
        return "DEVICE"


#: the device under test, in a sample (see :class:`_DeviceUnderTest`)
DEVICE = _DeviceUnderTest()


def rand_array(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: str, low: float = -2.0, high: float = 2.0
) -> np.ndarray:
    """Random values of ``dtype`` in [low, high) (integers: a small range around it; bool: coin flips)."""
    if dtype == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if dtype.startswith("float") or dtype == "bfloat16":
        return np.asarray(rng.uniform(low, high, size=shape), dtype=dtype)
    if dtype.startswith("complex"):  # both parts in [low, high)
        parts = rng.uniform(low, high, size=(2, *shape))
        out = np.empty(shape, dtype)
        out.real, out.imag = parts[0], parts[1]
        return out
    lo = 0 if dtype == "uint8" else max(int(low * 4), -8)
    hi = max(int(high * 4), 1)
    return np.asarray(rng.integers(lo, hi, size=shape), dtype=dtype)


def block_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
    """One array for layout ops (views, joins, rearrangements): 3-D, a transposed 2-D view, a
    flipped 2-D view (no gradient)."""
    return [
        Sample((rand_array(rng, (2, 3, 4), dtype),)),
        Sample((rand_array(rng, (4, 6), dtype),), noncontig=True),
        Sample((rand_array(rng, (4, 6), dtype),), noncontig="flip", grad=False),
    ]


def unary_samples(low: float = -2.0, high: float = 2.0, **kwargs: Any) -> SampleFn:
    """Samples for unary ops: 0-d, empty, 1-D, 2-D, 3-D, a transposed view and a flipped view
    (``kwargs`` are passed to every call)."""

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(shape: tuple[int, ...]) -> np.ndarray:
            return rand_array(rng, shape, dtype, low, high)

        return [
            Sample((a(()),), dict(kwargs)),
            Sample((a((0,)),), dict(kwargs), grad=False),
            Sample((a((5,)),), dict(kwargs)),
            Sample((a((3, 4)),), dict(kwargs)),
            Sample((a((2, 3, 2)),), dict(kwargs), grad=False),
            Sample((a((4, 3)),), dict(kwargs), noncontig=True),
            Sample((a((3, 5)),), dict(kwargs), noncontig="flip", grad=False),
        ]

    return make


def binary_samples(
    low: float = -2.0,
    high: float = 2.0,
    rhs_low: float | None = None,
    rhs_high: float | None = None,
    scalar: Any = 1.5,
) -> SampleFn:
    """Samples for binary ops: equal shapes, broadcasting both ways, 0-d, empty, a Python scalar on
    either side, transposed and flipped views."""
    rl = low if rhs_low is None else rhs_low
    rh = high if rhs_high is None else rhs_high

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(shape: tuple[int, ...]) -> np.ndarray:
            return rand_array(rng, shape, dtype, low, high)

        def b(shape: tuple[int, ...]) -> np.ndarray:
            return rand_array(rng, shape, dtype, rl, rh)

        s = scalar if dtype.startswith("float") or dtype == "bfloat16" else (2 if dtype != "bool" else True)
        if dtype.startswith("complex"):
            s = _complex(scalar, 0.5) if isinstance(scalar, float) else scalar
        return [
            Sample((a((3, 4)), b((3, 4)))),
            Sample((a((3, 4)), b((4,)))),
            Sample((a((2, 1, 4)), b((3, 1)))),
            Sample((a(()), b((3,)))),
            Sample((a((0, 3)), b((3,))), grad=False),
            Sample((a((3, 2)), s)),
            Sample((s, b((3, 2)))),
            Sample((a((4, 3)), b((4, 3))), noncontig=True),
            Sample((a((3, 4)), b((3, 4))), noncontig="flip", grad=False),
        ]

    return make


def reduction_samples(
    dim_kw: str = "dim",
    keepdim: bool = True,
    multi: bool = True,
    low: float = -2.0,
    high: float = 2.0,
    allow_empty: bool = True,
) -> SampleFn:
    """Samples for reductions: all dims, one dim (positive and negative), several dims, keepdim,
    0-d, an empty reduced-away dim, and non-contiguous inputs."""

    def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(shape: tuple[int, ...]) -> np.ndarray:
            return rand_array(rng, shape, dtype, low, high)

        out = [
            Sample((a((3, 4)),)),
            Sample((a((3, 4)),), {dim_kw: 0}),
            Sample((a((2, 3, 4)),), {dim_kw: -1}),
            Sample((a(()),), grad=False),
            Sample((a((4, 3)),), {dim_kw: 1}, noncontig=True),
            Sample((a((3, 5)),), {dim_kw: 0}, noncontig="flip", grad=False),
        ]
        if keepdim:
            out.append(Sample((a((2, 3, 4)),), {dim_kw: 1, "keepdim": True}))
        if multi:
            out.append(Sample((a((2, 3, 4)),), {dim_kw: (0, 2)}))
        if allow_empty:
            out.append(Sample((a((0, 3)),), {dim_kw: 1}, grad=False))
        return out

    return make


_complex = complex


def complex_specials(dtype: str) -> np.ndarray:
    """Complex values with infinite, NaN and signed-zero parts (a (2, 4) array of ``dtype``): the
    cases a complex kernel gets wrong when it treats the parts together (``inf * 1j`` is NaN)."""
    inf, nan = math.inf, math.nan
    vals = [
        [_complex(inf, 1.0), _complex(1.0, -inf), _complex(nan, 0.0), _complex(0.0, nan)],
        [_complex(-inf, -inf), _complex(-0.0, 0.0), _complex(0.0, -0.0), _complex(2.5, -1.5)],
    ]
    out = np.empty((2, 4), dtype)
    out.real = [[v.real for v in row] for row in vals]
    out.imag = [[v.imag for v in row] for row in vals]
    return out


def np_kw(kwargs: dict, mapping: dict[str, str] | None = None) -> dict:
    """Ember keyword names as numpy's (``dim`` -> ``axis``, ``keepdim`` -> ``keepdims``)."""
    mapping = mapping or {"dim": "axis", "keepdim": "keepdims"}
    return {mapping.get(k, k): v for k, v in kwargs.items()}


_erf = np.frompyfunc(math.erf, 1, 1)


def np_erf(x: np.ndarray) -> np.ndarray:
    """Reference error function (exact, elementwise)."""
    return (
        np.asarray(_erf(x), dtype=np.float64).astype(x.dtype)
        if np.ndim(x)
        else np.asarray(math.erf(float(x)), dtype=x.dtype)
    )
