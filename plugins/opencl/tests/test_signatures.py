"""Kernel signatures and the explicit kernel table of the OpenCL backend.

The generator tests need no device (only the generated source); the kernel table test builds the
backend and skips without an OpenCL device.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

try:  # run from a source checkout without installing the packages
    import ember.backend  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "core"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ember.backend import PRIMITIVES, BackendUnavailable

from ember_opencl._signature import KernelSignature, Param

pytest.importorskip("pyopencl")


def test_param_rendering_and_types():
    sig = KernelSignature(
        "k",
        (
            Param("out", "__global float*"),
            Param("x", "__global const half*"),
            Param("x_off", "int"),
            Param("x_s", "int", 3),
            Param("d", "long", 0),
            Param("seed", "ulong"),
        ),
    )
    assert sig.c_name == "k_k" and str(sig) == "k"
    assert sig.declaration() == (
        "__kernel void k_k(__global float* out, __global const half* x, int x_off, "
        "int x_s0, int x_s1, int x_s2, ulong seed)"
    )
    assert sig.arg_dtypes == (None, None, np.int32, np.int32, np.int32, np.int32, np.uint64)
    assert sig.pack("o", "x", 5, [1, 2, 3], (), 7) == ["o", "x", 5, 1, 2, 3, 7]


def test_pack_checks_counts():
    sig = KernelSignature("k", (Param("x", "__global float*"), Param("s", "int", 2), Param("n", "int")))
    with pytest.raises(TypeError, match=r"kernel k: 2 values for 3 parameters \(x, s, n\)"):
        sig.pack("x", [1, 2])
    with pytest.raises(TypeError, match="parameter run 's' takes 2 values"):
        sig.pack("x", [1], 3)
    with pytest.raises(TypeError, match="parameter run 's' takes 2 values"):
        sig.pack("x", 1, 3)


def test_bad_params_are_refused():
    with pytest.raises(ValueError, match="unknown scalar type 'size_t'"):
        Param("n", "size_t")
    with pytest.raises(ValueError, match="run is a non-negative count of scalars"):
        Param("p", "__global float*", 2)
    with pytest.raises(ValueError, match="repeated parameter names"):
        KernelSignature("k", (Param("x_s", "int", 2), Param("x_s1", "int")))


def _programs():
    from ember_opencl import _fusion, elementwise, indexing, linalg, memory, random, reductions

    yield elementwise.gen_unary_program("float16", 3, "int")
    yield elementwise.gen_binary_program("int8", -1, "long", "SA")
    yield elementwise.gen_where_program("float32", 2, "int", "AS")
    yield memory.gen_copy_program("bool", 4, "int", "float32,int64")
    yield memory.gen_iadd_program("float64", -1, "int", "AA")
    yield reductions.gen_reduce_program("int32", "int64", 2, 1, "int")
    yield reductions.gen_reduce_fast_program("float32", "long")
    yield reductions.gen_cumsum_program("float64", "int")
    yield reductions.gen_softmax_program("float16", "int")
    yield linalg.gen_matmul_program("int16", 2, "int")
    yield elementwise.gen_unary_program("complex64", 2, "int")
    yield elementwise.gen_binary_program("complex128", -1, "int", "AS")
    yield elementwise.gen_complex_program("float32", 1, "int", "AA")
    yield reductions.gen_reduce_program("complex64", "complex64", 1, 1, "int")
    yield linalg.gen_matmul_program("complex128", 0, "int")
    yield linalg.gen_matmul_fast_program("float32", 1, "int")
    yield indexing.gen_gather_program("uint8", 3, "int")
    yield indexing.gen_scatter_add_program("float32", 2, "long")
    yield random.gen_random_program("float64")
    structure = (2, 1, (("mul", ("x0", "x1")), ("add", ("t0", "s0"))))
    yield _fusion.gen_fused_program("float32", "int", "map", structure)
    yield _fusion.gen_fused_program("float64", "int", "sum", structure)
    yield _fusion.gen_fused_program("complex64", "int", "map", structure)


def test_every_generated_kernel_is_declared_by_its_signature():
    for src, sigs in _programs():
        heads = [line for line in src.splitlines() if line.startswith("__kernel")]
        assert len(heads) == len(sigs)
        for head, sig in zip(heads, sigs):
            assert head == sig.declaration() + " {"


@pytest.fixture(scope="module")
def be():
    try:
        from ember_opencl.backend import OpenCLBackend

        return OpenCLBackend()
    except BackendUnavailable as exc:
        pytest.skip(f"OpenCL unavailable: {exc}")


def test_kernel_table_is_explicit(be):
    from ember_opencl.backend import OpenCLBackend

    assert "__getattr__" not in vars(OpenCLBackend)  # no kernel appears by attribute magic
    assert set(PRIMITIVES) <= set(be.kernels)
    for name, fn in be.kernels.items():  # each kernel is a function named after its op
        assert fn.__name__.lstrip("_") == name, (name, fn)
