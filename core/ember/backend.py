"""What a backend implementation is: the :class:`Backend` base class and the kernel contract.

A backend is a table of kernels plus a few device queries. Kernels work on the backend's
*native buffers* (``numpy.ndarray`` for cpu, ``cupy.ndarray`` for cuda, the OpenCL plugin's own
strided array) and never see an :class:`ember.Tensor`. The core has already validated every
argument, computed the output shape and dtype, promoted the inputs to the compute dtype and
checked devices before a kernel runs, so kernels hold no argument checking of their own.

Conventions for every kernel below:

* ``x``, ``a``, ``b``: native buffers. Binary kernels may also receive a Python scalar
  (``int``/``float``/``bool``) for one of ``a``/``b``; it is already of the compute dtype's kind.
* Buffers given to one elementwise kernel have the same dtype and broadcast against each other
  under numpy's rules; the result has the broadcast shape. Inputs may be non-contiguous
  (any strides, including 0 and negative ones); the result must be a fresh buffer (never an
  alias of an input), C-contiguous or, for elementwise kernels and ``cast``, laid out like a
  same-shape input (numpy's, CuPy's and PyTorch's rule for permuted inputs). Core reads a
  buffer's layout through ``strides`` and assumes none.
* ``dtype``: an :class:`ember.dtypes.DType`; ``shape``: a tuple of ints; ``device_index``: int.
* Complex dtypes: a device whose :meth:`Backend.supports_dtype` accepts complex64 / complex128 gets
  complex buffers (and complex Python scalars) in the memory, layout, arithmetic (``add`` ...
  ``pow``), unary (``neg``, ``exp``, ``log``, ``sqrt``, ``sin``, ``cos``, ``tanh``), ``eq``,
  ``where``, ``sum``/``prod``/``cumsum``, ``matmul`` and indexing kernels, each keeping its
  input's dtype as for real buffers. Core never asks for the kernels PyTorch does not define on
  complex numbers (``lt``, ``max``, ``floor`` ...), nor for ``abs`` of a complex buffer or a
  complex-to-real ``cast``: the magnitudes and the parts come from the optional ``complex_abs``,
  ``real``, ``imag``, ``complex`` and ``conj`` kernels (:data:`ember.ops.catalog.OPTIONAL_KERNELS`).
* ``dims``: a tuple of distinct, non-negative axes, already normalised.
* Kernels must not synchronise with the host unless they return host data (``to_numpy``,
  ``nonzero``), so a backend can queue work asynchronously.

:data:`PRIMITIVES` lists the kernels a backend must provide for the whole library, nn and
training included, to run on its device. Every other op is a composite of these in core; a
backend may still provide any kernel of :data:`ember.ops.catalog.OPTIONAL_KERNELS` to speed an op up
(for example ``softmax`` or ``conv2d``), and the dispatcher then uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Backend", "BackendUnavailable", "PRIMITIVES", "primitive_names"]


class BackendUnavailable(RuntimeError):
    """Raised by a backend's constructor when it cannot run here (no library, driver or device).

    ``reason`` says what is missing; ``remedy`` what the user can do about it.
    """

    def __init__(self, reason: str, remedy: str = "") -> None:
        super().__init__(reason + (f"; {remedy}" if remedy else ""))
        self.reason = reason
        self.remedy = remedy


class Backend:
    """Base class of backend implementations (named by a ``BackendDeclaration``).

    A subclass sets :attr:`device_type`, builds :attr:`kernels` (a ``dict`` from op name to
    callable, see :data:`PRIMITIVES`) and overrides the device queries that apply. Its constructor
    may raise :class:`BackendUnavailable`; any other exception is recorded as a failure.

    Optional, for a backend that times its own work (``ember.profiler`` calls them under a profile
    with ``ProfilerActivity.DEVICE``): ``profiler_device_trace(enabled: bool) -> None`` starts
    (and, at the end of the profile, stops) keeping a record of every command its devices run;
    ``profiler_device_events(index) -> list`` waits for device ``index`` and returns the commands
    kept since the last call, each ``(name, start_ns, end_ns)`` or ``(name, start_ns, end_ns,
    thread, enqueued_ns)``: device start and end on the host's ``time.perf_counter_ns`` clock, and
    the native id of the enqueuing thread and the host time of the enqueue (the profiler puts the
    event under the host event that was open then).

    Optional, for a backend that rewrites or schedules captured graphs (``ember.compile`` calls it
    once per captured signature whose kernel calls all ran on this device type, never per call):
    ``compile_graph(graph: ember.compile.Graph) -> Graph | Callable | None``. ``graph.items`` is
    the recorded program (kernel calls as ``Node(name, device_type, fn, args, kwargs, outs)`` with
    buffers as ``Slot``s and an optimizer's step-dependent floats as ``HostArg``s, which a rewrite
    must pass through as they are (the replay recomputes them each call through a ``HostCall``),
    bindings, value checks, effects, see :mod:`ember.compile.graph`; its ``reads(item)``,
    ``defines(item)``, ``in_place(item)`` and ``is_dynamic(item)`` say what an item does with
    slots, for lifetime and memory analyses). Return
    a rewritten ``Graph`` (it is then generated and replayed), a callable taking the replay's
    arguments ``(L, P, O)`` and doing everything the plain replay does (``graph.build()`` gives
    the plain one), or None for the plain replay. Without the attribute the plain replay runs.
    Results must equal the plain replay's (bitwise, unless the rewrite reorders floating-point
    operations, which its documentation must say and ``compile_graph_reorders = True`` declares:
    the kit then compares compiled training steps within tolerance).
    """

    #: The device type this implementation serves (must match its declaration).
    device_type: str = ""
    #: True when ``compile_graph``'s rewrites reorder floating-point operations (results then
    #: differ from eager execution by rounding); the kit compares within tolerance instead of bitwise.
    compile_graph_reorders: bool = False
    #: Op name -> kernel. Read once when the device type is first used.
    kernels: dict[str, Callable[..., Any]]
    #: False for devices whose tensors carry shapes and dtypes only (a ``meta`` device): ``repr``
    #: then shows the size instead of reading values.
    has_data: bool = True

    def __init__(self) -> None:
        self.kernels = {}

    def device_count(self) -> int:
        """How many devices of this type exist (``mydev:0`` ... ``mydev:N-1``)."""
        return 1

    def device_properties(self, index: int) -> dict[str, Any]:
        """A JSON-friendly description of device ``index`` (name, memory, dtype support ...)."""
        return {}

    def supports_dtype(self, dtype: Any, index: int) -> bool:
        """Whether device ``index`` can hold tensors of ``dtype`` (float64 on some GPUs: no). A
        backend that cannot compute with complex numbers answers False for complex64 / complex128
        (``dtype.is_complex``); the conformance kit then skips their samples, naming the dtype.
        The default is every dtype but bfloat16, which no array library holds natively: a backend
        that stores it (cpu through ml_dtypes, opencl as 16-bit words) says so."""
        return dtype.name != "bfloat16"

    def synchronize(self, index: int) -> None:
        """Wait until all queued work on device ``index`` has finished."""

    def memory_stats(self, index: int) -> dict[str, int]:
        """Memory use of device ``index``: at least ``in_use``, ``cached`` and ``peak`` (bytes)."""
        return {}

    def empty_cache(self, index: int) -> None:
        """Return cached, unused memory of device ``index`` to the system."""

    def native_type(self) -> type | None:
        """The Python type of this backend's buffers, if there is one (for error messages)."""
        return None


# name -> (family, contract). The order is the documentation order.
PRIMITIVES: dict[str, tuple[str, str]] = {
    # -- host transfer and memory ------------------------------------------------------------
    "from_numpy": (
        "memory",
        "from_numpy(array: np.ndarray, device_index) -> buffer. A copy of "
        "`array` (any layout) on the device, same shape and dtype. The cpu backend may share memory. "
        "A bool array arrives holding bytes 0 and 1 only (core makes it so), and every bool buffer a "
        "kernel writes must hold 0 and 1 too.",
    ),
    "to_numpy": ("memory", "to_numpy(x) -> np.ndarray with x's shape and dtype; waits for x."),
    "empty": ("memory", "empty(shape, dtype, device_index) -> uninitialised C-contiguous buffer."),
    "full": ("memory", "full(shape, value, dtype, device_index) -> C-contiguous buffer filled with value."),
    "copy_": (
        "memory",
        "copy_(dst, src) -> None. Writes src (same dtype, broadcastable to dst's "
        "shape) into dst, which may be a strided view; the write is seen through every view. "
        "src never overlaps dst (the core copies a source that shares dst's memory first, and "
        "refuses a dst whose elements share memory), so a kernel needs no overlap handling.",
    ),
    "cast": (
        "memory",
        "cast(x, dtype) -> new C-contiguous buffer of dtype (C casting rules: "
        "float->int truncates toward zero, nonzero->True).",
    ),
    "strides": ("layout", "strides(x) -> tuple of strides in elements (may be 0 or negative)."),
    "as_strided": (
        "layout",
        "as_strided(x, shape, strides, offset) -> a view sharing x's memory whose "
        "element idx is at x's element [0,...,0] + offset + sum(idx*strides), all in elements.",
    ),
    # -- elementwise ------------------------------------------------------------------------
    **{
        name: ("unary", f"{name}(x) -> buffer, same shape and dtype as x.")
        for name in (
            "neg",
            "abs",
            "exp",
            "log",
            "sqrt",
            "sin",
            "cos",
            "tanh",
            "erf",
            "floor",
            "ceil",
            "round",
            "trunc",
        )
    },
    **{
        name: ("binary", f"{name}(a, b) -> buffer of the broadcast shape and the inputs' dtype.")
        for name in (
            "add",
            "sub",
            "mul",
            "div",
            "pow",
            "maximum",
            "minimum",
            "bitwise_and",
            "bitwise_or",
            "bitwise_xor",
        )
    },
    # exact floor division cannot be composed from the other primitives (floor(a / b) gives
    # 1.0 // 0.1 == 10.0 and loses int64 precision beyond 2**53), so it is a primitive
    "floor_divide": (
        "binary",
        "floor_divide(a, b) -> a // b rounded toward -inf, broadcast shape, the inputs' dtype: integers "
        "exactly (the core refuses integer division by zero first; MIN // -1 wraps), floats as "
        "Python's // (fmod-based: 1.0 // 0.1 == 9.0; b == 0 gives a / b).",
    ),
    "remainder": (
        "binary",
        "remainder(a, b) -> a - floor_divide(a, b) * b with the sign of b, computed exactly "
        "(floats: fmod(a, b), plus b when the signs differ), broadcast shape, the inputs' dtype.",
    ),
    **{
        name: ("compare", f"{name}(a, b) -> bool buffer of the broadcast shape.")
        for name in ("eq", "lt", "le")
    },
    "where": (
        "ternary",
        "where(cond, a, b) -> buffer of a's and b's dtype; cond is bool, a and b one dtype (one "
        "of them may be a Python scalar of that dtype's kind, never both); all three broadcast.",
    ),
    # -- reductions ---------------------------------------------------------------------------
    **{
        name: (
            "reduction",
            f"{name}(x, dims, keepdim) -> buffer of x's dtype reduced over dims "
            "(dims non-empty). Empty input: sum 0, prod 1; max/min never see an empty reduction.",
        )
        for name in ("sum", "prod", "max", "min")
    },
    **{
        name: (
            "reduction",
            f"{name}(x, dim, keepdim) -> int64 buffer; index of the first extreme "
            "value along the single axis dim.",
        )
        for name in ("argmax", "argmin")
    },
    "cumsum": ("reduction", "cumsum(x, dim) -> buffer of x's shape and dtype."),
    # -- linear algebra, indexing, random ---------------------------------------------------
    "matmul": (
        "linalg",
        "matmul(a, b) -> buffer. a: (..., n, k), b: (..., k, m), same floating or "
        "integer dtype, batch dims broadcast; result (..., n, m).",
    ),
    "gather": (
        "indexing",
        "gather(x, dim, index) -> buffer of index's shape: "
        "out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (torch.gather); index int64, in range.",
    ),
    "scatter_add": (
        "indexing",
        "scatter_add(x, dim, index, src) -> new buffer: a copy of x with "
        "src[i][j][k] added at [index[i][j][k]][j][k] for dim 0; index/src same shape.",
    ),
    "nonzero": (
        "indexing",
        "nonzero(x) -> int64 buffer (n, x.ndim) of the coordinates of nonzero "
        "elements in C order. Synchronises.",
    ),
    "uniform": (
        "random",
        "uniform(shape, dtype, device_index, seed, offset) -> floats in [0, 1). A pure "
        "function of (seed, offset): same arguments, same numbers.",
    ),
    "normal": (
        "random",
        "normal(shape, dtype, device_index, seed, offset) -> standard normal floats, "
        "a pure function of (seed, offset).",
    ),
}


def primitive_names() -> list[str]:
    """The names of the kernels a backend must provide, in documentation order."""
    return list(PRIMITIVES)
