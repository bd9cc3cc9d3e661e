"""Random tensor creation: the counter-based, thread-safe :class:`Generator` (one default generator
per device, all reseeded by :func:`manual_seed`) and the ops that draw from it, ``rand``, ``randn``,
``rand_like``, ``randn_like``, ``randint`` and ``randperm``. Each draw reserves a ``(seed,
offset)`` range of counters and runs the device's ``uniform`` or ``normal`` kernel, so a seed fixes
every later draw on every device; the distributions of :mod:`ember.ops.random` draw through the
same machinery. The deterministic constructors (from data, filled, ranges, identity) are in
:mod:`ember.ops.creation`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..device import device as _device
from ._core import Tensor, _make, kernel
from .creation import (
    _check_dtype_on,
    _creation_record,
    _finish,
    _like,
    _sample_kwargs,
    _shape,
    arange,
    tensor,
)

__all__ = [
    "rand",
    "randn",
    "randint",
    "rand_like",
    "randn_like",
    "randperm",
    "manual_seed",
    "Generator",
    "default_generator",
]


#: guards every generator's (seed, offset) and the default generators: draws from several threads
#: reserve disjoint counters, and a reseed never interleaves with a draw. One lock for all (held
#: for a few bytecodes), so a Generator stays copyable and picklable.
_rng_lock = threading.Lock()


class Generator:
    """A counter-based random stream for one device: (seed, offset). Each draw of n numbers uses the
    counters [offset, offset + n) and advances the offset, so a seed fixes every later draw.
    Thread-safe: threads drawing from one generator at once get different numbers."""

    def __init__(self, device: Any = "cpu", seed: int = 0) -> None:
        self.device = device
        self.seed = int(seed)
        self.offset = 0

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream at ``seed``."""
        with _rng_lock:
            self.seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
            self.offset = 0
        return self

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self.seed

    def get_state(self) -> tuple[int, int]:
        """(seed, offset): enough to resume the stream."""
        with _rng_lock:
            return (self.seed, self.offset)

    def set_state(self, state: tuple[int, int]) -> None:
        """Resume a stream from :meth:`get_state`."""
        seed, offset = int(state[0]), int(state[1])
        with _rng_lock:
            self.seed, self.offset = seed, offset

    def next_offset(self, n: int) -> int:
        """Reserve ``n`` counters; returns the first."""
        return self._reserve(n)[1]

    def _reserve(self, n: int) -> tuple[int, int]:
        """Reserve ``n`` counters: (the seed, the first counter), read and advanced together."""
        with _rng_lock:
            off = self.offset
            self.offset = off + (n + 3) // 4 * 4  # whole Philox blocks: backends may draw 4 at a time
            return self.seed, off


_generators: dict[Any, Generator] = {}
_global_seed = [0]


def default_generator(device: Any = None) -> Generator:
    """The default generator of ``device`` (created from the global seed on first use; one per
    device for the whole process, shared by all threads)."""
    dev = _device(device)
    g = _generators.get(dev)
    if g is None:
        with _rng_lock:
            g = _generators.get(dev)
            if g is None:
                g = _generators[dev] = Generator(dev, _global_seed[0])
    return g


def manual_seed(seed: int) -> Generator:
    """Seed the default generator of every device (for all threads); returns the calling
    thread's default device's."""
    seed = int(seed)
    with _rng_lock:
        _global_seed[0] = seed
        for g in _generators.values():
            g.seed, g.offset = seed & 0xFFFF_FFFF_FFFF_FFFF, 0
    return default_generator()


def _random(op: str, shape: tuple[int, ...], dtype: Any, device: Any, generator: Generator | None) -> Tensor:
    dt = _dt.as_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if dt.is_complex:
        # as PyTorch: both parts uniform in [0, 1) (rand), or normal with variance 1/2 each, so
        # E|z|^2 = 1 (randn)
        dev = _device(device) if generator is None or device is not None else _device(generator.device)
        _check_dtype_on(dev, dt, op)
        from .complex import view_as_complex

        parts = _random(op, (*shape, 2), dt.to_real(), dev, generator)
        return view_as_complex(parts * math.sqrt(0.5) if op == "randn" else parts)
    if not dt.is_floating_point:
        raise TypeError(f"{op}: expected a floating or complex dtype, got {dt}")
    dev = _device(device) if generator is None or device is not None else _device(generator.device)
    _check_dtype_on(dev, dt, op)
    gen = generator or default_generator(dev)
    n = math.prod(shape)
    kname = "uniform" if op == "rand" else "normal"
    seed, offset = gen._reserve(n)
    data = kernel(dev, kname)(shape, dt, dev.index, seed, offset)
    return _make(data, shape, dt, dev)


def rand(
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    return _finish(_random("rand", _shape("rand", size), dtype, device, generator), requires_grad)


def randn(
    *size: Any,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal random numbers."""
    return _finish(_random("randn", _shape("randn", size), dtype, device, generator), requires_grad)


def rand_like(
    x: Tensor,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform [0, 1) with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return rand(x.shape, dtype=dt, device=dev, generator=generator, requires_grad=requires_grad)


def randn_like(
    x: Tensor,
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal with x's shape, dtype and device."""
    dt, dev = _like(x, dtype, device)
    return randn(x.shape, dtype=dt, device=dev, generator=generator, requires_grad=requires_grad)


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    dtype: Any = None,
    device: Any = None,
    generator: Generator | None = None,
) -> Tensor:
    """Random integers in [low, high) (``randint(high, size)`` starts at 0)."""
    if isinstance(high, (tuple, list)):  # randint(high, size), PyTorch's overload
        if size != ():
            raise TypeError(f"randint: got a size {high!r} in place of high and also size={size!r}")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    u = _random(
        "rand",
        _shape("randint", (tuple(size),)),
        _dt.float64
        if _device(device).backend.supports_dtype(_dt.float64, _device(device).index)
        else _dt.float32,
        device,
        generator,
    )
    from .elementwise import floor

    vals = floor(u * (high - low)) + low
    return vals.to(_dt.as_dtype(dtype) if dtype is not None else _dt.int64)


def randperm(n: int, dtype: Any = None, device: Any = None, generator: Generator | None = None) -> Tensor:
    """A random permutation of 0..n-1."""
    u = _random("rand", (n,), None, device, generator)
    idx = np.argsort(u.numpy(), kind="stable")
    return tensor(idx, dtype=dtype or _dt.int64, device=u.device)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    """Records of the random creation ops. Their samples take no tensor (or a tensor only for its
    shape) and pass ``device=DEVICE`` and ``expect``, the dtype name the result must have. Random
    ops cannot be compared by value: their calls return a vector of checks computed with other ops
    (range, moments, a permutation's counts, same seed -> same values), all True in the reference."""
    from collections.abc import Callable, Iterator
    from contextlib import contextmanager

    from .records import register
    from .samples import DEVICE, FLOATS16, INTS, Sample, rand_array

    kw = _sample_kwargs

    # -- random -----------------------------------------------------------------------------------
    @contextmanager
    def seed_kept() -> Iterator[None]:
        """The random state of every device as it was: the records reseed without disturbing others."""
        seed, states = _global_seed[0], {d: g.get_state() for d, g in _generators.items()}
        try:
            yield
        finally:
            _global_seed[0] = seed
            for d in list(_generators):
                if d in states:
                    _generators[d].set_state(states[d])
                else:
                    del _generators[d]

    def checks(device: Any, *conds: Any) -> Tensor:
        """One bool per check (Python bools or one-element bool tensors), on ``device``."""
        from .joining import stack

        return stack(
            [c.reshape(()) if isinstance(c, Tensor) else tensor(bool(c), device=device) for c in conds]
        )

    def all_true(n: int) -> Callable[..., np.ndarray]:
        return lambda *args, **kwargs: np.ones(n, dtype=bool)

    def drawn(draw: Callable[[], Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Two draws after the same seed and the draw that follows them."""
        with seed_kept():
            manual_seed(1234)
            a = draw()
            manual_seed(1234)
            b = draw()
            c = draw()
        return a, b, c

    def rand_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        # 2**16 draws: enough to meet a draw that would round to 1.0 in float16
        return [Sample((2**16,), kw(dtype)), Sample((3, 5), kw(dtype)), Sample((0,), kw(dtype))]

    def like_random_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample((rand_array(rng, (64, 64), dtype),), {"expect": dtype}),
            Sample((rand_array(rng, (2, 3), dtype),), {"expect": dtype}),
        ]

    def uniform_checks(a: Tensor, b: Tensor, c: Tensor, shape: tuple, expect: str, device: Any) -> Tensor:
        # dtype, shape and device; every draw in [0, 1); the mean of many near 1/2; the same seed
        # gives the same values; the next draw differs
        n = a.numel()
        return checks(
            device,
            a.dtype.name == expect and a.shape == shape and a.device is device,
            ((a >= 0) & (a < 1)).all(),
            (a.float().mean() - 0.5).abs() < 0.02 if n >= 4096 else True,
            (a == b).all(),
            (a != c).any() if n > 1 else True,
        )

    def normal_checks(a: Tensor, b: Tensor, c: Tensor, shape: tuple, expect: str, device: Any) -> Tensor:
        # dtype, shape and device; every draw finite; for 4096 draws or more the mean within 0.1 of
        # 0 and the std within 0.1 of 1 (each over 6 standard errors); same seed, same values; the
        # next draw differs
        n = a.numel()
        f = a.float()
        return checks(
            device,
            a.dtype.name == expect and a.shape == shape and a.device is device,
            a.isfinite().all(),
            f.mean().abs() < 0.1 if n >= 4096 else True,
            (f.std() - 1).abs() < 0.1 if n >= 4096 else True,
            (a == b).all(),
            (a != c).any() if n > 1 else True,
        )

    def rand_call(*size: Any, expect: str, dtype: Any, device: Any) -> Tensor:
        a, b, c = drawn(lambda: rand(*size, dtype=dtype, device=device))
        return uniform_checks(a, b, c, _shape("rand", size), expect, device)

    def randn_call(*size: Any, expect: str, dtype: Any, device: Any) -> Tensor:
        a, b, c = drawn(lambda: randn(*size, dtype=dtype, device=device))
        return normal_checks(a, b, c, _shape("randn", size), expect, device)

    def rand_like_call(x: Tensor, expect: str) -> Tensor:
        a, b, c = drawn(lambda: rand_like(x))
        return uniform_checks(a, b, c, x.shape, expect, x.device)

    def randn_like_call(x: Tensor, expect: str) -> Tensor:
        a, b, c = drawn(lambda: randn_like(x))
        return normal_checks(a, b, c, x.shape, expect, x.device)

    def randint_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        low = 0 if dtype == "uint8" else -5
        out = [
            Sample((low, 5, (4096,)), kw(dtype)),
            Sample((10, (64, 2)), kw(dtype)),  # randint(high, size)
            Sample((3, 4, (10,)), kw(dtype)),
            Sample((0, 2, (0,)), kw(dtype)),
        ]
        if dtype == "int64":
            out.append(Sample((-2, 3, (100,)), {"device": DEVICE, "expect": dtype}))  # int64 by default
        return out

    def randint_call(*args: Any, expect: str, device: Any, **kwargs: Any) -> Tensor:
        # dtype, shape and device; every value a whole number in [low, high) and, for 100 draws or
        # more, every value of the range met; same seed, same values
        low, high, size = (0, *args) if len(args) == 2 else args
        a, b, _ = drawn(lambda: randint(*args, device=device, **kwargs))
        values = arange(low, high, device=device)
        return checks(
            device,
            a.dtype.name == expect and a.shape == tuple(size) and a.device is device,
            ((a >= low) & (a < high)).all(),
            (a.floor() == a).all() if a.dtype.is_floating_point else True,
            (a.reshape(-1, 1) == values).any(0).all() if a.numel() >= 100 else True,
            (a == b).all(),
        )

    def randperm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        out = [Sample((n,), kw(dtype)) for n in (0, 1, 10, 257)]
        if dtype == "int64":
            out.append(Sample((7,), {"device": DEVICE, "expect": dtype}))  # int64 by default
        return out

    def randperm_call(n: int, expect: str, device: Any, **kwargs: Any) -> Tensor:
        # dtype, shape and device; each of 0 .. n-1 exactly once (sorted, the result is arange(n));
        # not the identity for n >= 10; same seed, same values
        a, b, _ = drawn(lambda: randperm(n, device=device, **kwargs))
        ar = arange(n, device=device)
        return checks(
            device,
            a.dtype.name == expect and a.shape == (n,) and a.device is device,
            ((a.reshape(-1, 1) == ar).sum(0) == 1).all(),
            (a != ar).any() if n >= 10 else True,
            (a == b).all(),
        )

    rec = _creation_record
    register(
        rec("rand", rand, rand_samples, all_true(5), FLOATS16, call=rand_call, kernel="uniform"),
        rec("randn", randn, rand_samples, all_true(6), FLOATS16, call=randn_call, kernel="normal"),
        rec("rand_like", rand_like, like_random_samples, all_true(5), FLOATS16, call=rand_like_call),
        rec("randn_like", randn_like, like_random_samples, all_true(6), FLOATS16, call=randn_like_call),
        rec(
            "randint",
            randint,
            randint_samples,
            all_true(5),
            ("uint8", "int16", "int32", "int64", "float32"),
            call=randint_call,
        ),
        rec("randperm", randperm, randperm_samples, all_true(4), INTS, call=randperm_call, reads_values=True),
    )


_records()
