"""Random sampling: normal (all of PyTorch's overloads), bernoulli, multinomial, poisson, and the
in-place fills ``uniform_``, ``normal_``, ``bernoulli_``, ``exponential_``, ``random_``.

Every op draws from the device's ``uniform`` / ``normal`` kernels through the generator machinery
of :mod:`ember.ops.random_creation` (one ``(seed, offset)`` reservation per draw, thread-safe), so the
same seed gives the same numbers and no new kernel is needed: each distribution is a transform
of uniform or normal draws, composed from ordinary ops.

- ``bernoulli``: ``u < p``.
- ``multinomial`` with replacement: the inverse of the normalised cumulative weights
  (:func:`ember.searchsorted`); without: the ``num_samples`` largest keys ``log(u) / w``
  (Efraimidis and Spirakis' weighted sampling, one draw per category).
- ``poisson``: the inverse CDF, its terms built in log space (no underflow at large rates), as
  many rounds as the largest rate needs (about ``rate + 10 sqrt(rate)``).
- ``exponential_``: ``-log(1 - u) / lambd``; ``random_``: ``floor(u * (to - from)) + from``.

Sampling is not differentiable: as in PyTorch, a sample drawn from parameters that require grad
requires grad itself, with a gradient of zero to them.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ._core import STATE, Tensor, attach, has_data, same_device
from .random_creation import Generator, _random

__all__ = ["normal", "bernoulli", "multinomial", "poisson"]


def _wide_float(device: Any) -> _dt.DType:
    """float64 where the device has it (finer uniform draws), else float32."""
    return _dt.float64 if device.backend.supports_dtype(_dt.float64, device.index) else _dt.float32


def _uniform(shape: tuple[int, ...], dtype: Any, device: Any, generator: Generator | None) -> Tensor:
    return _random("rand", tuple(shape), dtype, device, generator)


def _standard_normal(shape: tuple[int, ...], dtype: Any, device: Any, generator: Generator | None) -> Tensor:
    return _random("randn", tuple(shape), dtype, device, generator)


def _sampled(out: Tensor, op: str, inputs: tuple[Any, ...]) -> Tensor:
    """PyTorch's rule for samples: drawn from tensors that require grad, the result requires grad
    too, and its gradient to each of them is zero (a draw does not move with its parameters)."""
    if not STATE.enabled or not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        return out
    from .creation import zeros

    specs = [(t.shape, t.dtype, t.device) if isinstance(t, Tensor) else None for t in inputs]
    attach(
        out,
        op,
        lambda g: tuple(zeros(sp[0], dtype=sp[1], device=sp[2]) if sp else None for sp in specs),
        inputs,
    )
    return out


def _check_floating(op: str, x: Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating tensor, got {x.dtype}; use x.float()")


def _values_in(op: str, x: Tensor, low: float, high: float, what: str) -> None:
    """Refuse values of x outside [low, high] (or NaN), naming the first such value (reads the
    values on the host, as PyTorch's checks do; skipped on devices without values)."""
    if not x.numel() or not has_data(x):
        return
    from .elementwise import isnan, logical_or

    with no_grad():
        bad = (
            logical_or(logical_or(x < low, x > high), isnan(x))
            if x.dtype.is_floating_point
            else (x < low) | (x > high)
        )
        if bool(bad.any().item()):
            value = x[bad].reshape(-1)[0].item()
            raise ValueError(f"{op}: {what}, got {value}")


# -- normal ------------------------------------------------------------------------------------------
def normal(
    mean: Any,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal random numbers with the given means and standard deviations: PyTorch's overloads
    ``normal(mean: Tensor, std: Tensor)`` (shapes broadcast), ``normal(mean: Tensor, std=1.0)``,
    ``normal(mean: float, std: Tensor)`` and ``normal(mean: float, std: float, size)``. Every
    std must be >= 0."""
    from ..layout import broadcast_shapes
    from .creation import _finish, _shape

    with no_grad():
        if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
            if size is None:
                raise TypeError(
                    "normal: with a float mean and a float std, pass the size too: normal(mean, std, "
                    "size), or give mean or std as a tensor"
                )
            if std < 0:
                raise ValueError(f"normal: std must be >= 0, got {std}")
            shape = _shape("normal", (size,))
            z = _standard_normal(shape, dtype, device, generator)
            return _finish(z * std + mean, requires_grad)
        if size is not None:
            raise TypeError(
                "normal: size is only taken with a float mean and a float std; it is the tensors' shape"
            )
        tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
        dev = same_device("normal", *tensors) if len(tensors) == 2 else tensors[0].device
        for t, what in ((mean, "mean"), (std, "std")):
            if isinstance(t, Tensor) and not t.dtype.is_floating_point:
                raise TypeError(
                    f"normal: {what} must be a floating tensor, got {t.dtype}; use {what}.float()"
                )
        if isinstance(std, Tensor):
            _values_in("normal", std.detach(), 0.0, math.inf, "every std must be >= 0")
        elif std < 0:
            raise ValueError(f"normal: std must be >= 0, got {std}")
        shape = broadcast_shapes(*(t.shape for t in tensors))
        dt = _dt.promote_types(*(t.dtype for t in tensors)) if len(tensors) == 2 else tensors[0].dtype
        z = _standard_normal(shape, dt, dev, generator)
        m = mean.detach() if isinstance(mean, Tensor) else mean
        s = std.detach() if isinstance(std, Tensor) else std
        out = z * s + m
    return _finish(_sampled(out, "normal", (mean, std)), requires_grad)


# -- bernoulli -----------------------------------------------------------------------------------------
def bernoulli(x: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """Draws of 1 with probability ``x`` (each element in [0, 1]) and 0 otherwise, in x's dtype;
    with ``p``, every element with probability ``p`` (x gives shape, dtype and device)."""
    _check_floating("bernoulli", x)
    with no_grad():
        if p is not None:
            if not 0 <= p <= 1:
                raise ValueError(f"bernoulli: p must be in [0, 1], got {p}")
            probs: Any = p
        else:
            probs = x.detach()
            _values_in("bernoulli", probs, 0.0, 1.0, "every probability must be in [0, 1]")
        u = _uniform(x.shape, _wide_float(x.device), x.device, generator)
        out = (u < probs).to(x.dtype)
    return out if p is not None else _sampled(out, "bernoulli", (x,))


def _bernoulli_fill(x: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    """``x.bernoulli_(p)``'s values: 1 with probability ``p`` (a float, or a tensor broadcast to x's
    shape), in x's dtype (any dtype)."""
    with no_grad():
        if isinstance(p, Tensor):
            same_device("bernoulli_", x, p)
            _values_in("bernoulli_", p.detach(), 0.0, 1.0, "every probability must be in [0, 1]")
            p = p.detach()
        elif not 0 <= p <= 1:
            raise ValueError(f"bernoulli_: p must be in [0, 1], got {p}")
        u = _uniform(x.shape, _wide_float(x.device), x.device, generator)
        return (u < p).to(x.dtype)


# -- multinomial ---------------------------------------------------------------------------------------
def multinomial(
    x: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None
) -> Tensor:
    """Category indices drawn with probabilities proportional to the weights ``x`` (1-D: one
    distribution; 2-D: one per row): int64, shape ``(num_samples,)`` or ``(rows, num_samples)``.
    Without ``replacement`` each category is drawn at most once, so ``num_samples`` may not
    exceed the number of categories with nonzero weight. Weights must be finite and >= 0 with a
    positive sum."""
    from .elementwise import isfinite, log, where
    from .order_statistics import topk
    from .reduction import cumsum, sum
    from .searching import searchsorted

    _check_floating("multinomial", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {x.shape}")
    n = x.shape[-1]
    if not isinstance(num_samples, int) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    if not replacement and num_samples > n:
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples from {n} categories without replacement; "
            "pass replacement=True or fewer samples"
        )
    with no_grad():
        w = x.detach().reshape(-1, n).to(_wide_float(x.device))
        rows = w.shape[0]
        if has_data(w) and w.numel():
            if not bool((isfinite(w) & (w >= 0)).all().item()):
                raise ValueError(
                    "multinomial: the weights must be finite and >= 0 (got inf, NaN or a negative weight)"
                )
            if not bool((sum(w, -1) > 0).all().item()):
                raise ValueError(
                    "multinomial: every distribution needs a positive sum of weights (got a row of zeros)"
                )
            if not replacement and not bool(((w > 0).sum(-1) >= num_samples).all().item()):
                raise ValueError(
                    f"multinomial: a row has fewer than {num_samples} categories with nonzero weight, "
                    "too few to draw without replacement; pass replacement=True"
                )
        if replacement:
            cdf = cumsum(w, -1)
            cdf = cdf / cdf[:, n - 1 :]  # the last is exactly 1: every u < 1 lands in a category
            u = _uniform((rows, num_samples), w.dtype, x.device, generator)
            out = searchsorted(cdf, u, right=True)
        else:
            u = _uniform((rows, n), w.dtype, x.device, generator)
            keys = where(w > 0, log(1 - u) / where(w > 0, w, 1.0), -math.inf)
            out = topk(keys, num_samples, -1).indices
        return out.reshape(num_samples) if x.ndim == 1 else out


# -- poisson --------------------------------------------------------------------------------------------
def poisson(x: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson draws with rates ``x`` (each >= 0), in x's dtype."""
    return _sampled(_poisson(x, generator), "poisson", (x,))


def _poisson(x: Tensor, generator: Generator | None) -> Tensor:
    from .creation import zeros
    from .elementwise import exp, log

    _check_floating("poisson", x)
    with no_grad():
        rates = x.detach()
        _values_in("poisson", rates, 0.0, math.inf, "every rate must be >= 0 and not NaN")
        dt = _wide_float(x.device)
        lam = rates.to(dt)
        u = _uniform(x.shape, dt, x.device, generator)
        count = zeros(x.shape, dtype=dt, device=x.device)
        if not x.numel():
            return count.to(x.dtype)
        top = float(lam.max().item()) if has_data(lam) else 0.0
        rounds = int(top + 10 * math.sqrt(top) + 30)
        log_lam = log(lam)
        log_p = -lam  # log P(k) for k = 0, 1, ...
        cdf = exp(log_p)
        for k in range(rounds):
            below = cdf <= u  # the draw is past k
            count = count + below.to(dt)
            if k % 16 == 15 and has_data(u) and not bool(below.any().item()):
                break
            log_p = log_p + log_lam - math.log(k + 1)
            cdf = cdf + exp(log_p)
        return count.to(x.dtype)


# -- in-place fills (Tensor methods) -------------------------------------------------------------
def _uniform_fill(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """``x.uniform_(from, to)``'s values: uniform in [from, to) with x's shape and dtype."""
    _check_floating("uniform_", x)
    if a > b:
        raise ValueError(f"uniform_: expected from <= to, got from={a} > to={b}")
    with no_grad():
        return _uniform(x.shape, x.dtype, x.device, generator) * (b - a) + a


def _normal_fill(
    x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """``x.normal_(mean, std)``'s values."""
    _check_floating("normal_", x)
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    with no_grad():
        return _standard_normal(x.shape, x.dtype, x.device, generator) * std + mean


def _exponential_fill(x: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """``x.exponential_(lambd)``'s values: exponential with rate ``lambd`` (> 0)."""
    from .elementwise import log

    _check_floating("exponential_", x)
    if not lambd > 0:
        raise ValueError(f"exponential_: lambd must be > 0, got {lambd}")
    with no_grad():
        u = _uniform(x.shape, _wide_float(x.device), x.device, generator)
        return (-log(1 - u) / lambd).to(x.dtype)


def _default_top(dt: _dt.DType) -> int:
    """random_()'s exclusive upper bound: every integer the dtype holds exactly from 0 (PyTorch)."""
    if dt.is_bool:
        return 2
    if dt.is_floating_point:
        import numpy as np

        return 2 ** (np.finfo(dt.numpy).nmant + 1) + 1
    import numpy as np

    return int(np.iinfo(dt.numpy).max) + 1


def _dt_min(dt: _dt.DType) -> int:
    import numpy as np

    return int(np.iinfo(dt.numpy).min) if not dt.is_floating_point and not dt.is_bool else 0


def _random_fill(
    x: Tensor, a: int | None = None, b: int | None = None, *, generator: Generator | None = None
) -> Tensor:
    """``x.random_()``, ``x.random_(to)``, ``x.random_(from, to)``'s values: integers uniform in
    [from, to) (default [0, the largest integer x's dtype holds exactly]), in x's dtype."""
    from .elementwise import floor

    if a is None:
        low, high = 0, _default_top(x.dtype)
    elif b is None:
        low, high = 0, a
    else:
        low, high = a, b
    if high <= low:
        raise ValueError(f"random_: expected from < to, got from={low} >= to={high}")
    if (
        not x.dtype.is_floating_point
        and (low < 0 if x.dtype.is_bool else low < _dt_min(x.dtype))
        or high > _default_top(x.dtype)
    ):
        raise ValueError(
            f"random_: the range [{low}, {high}) does not fit {x.dtype} (values from "
            f"{0 if x.dtype.is_bool else _dt_min(x.dtype)} to {_default_top(x.dtype) - 1})"
        )
    with no_grad():
        u = _uniform(x.shape, _wide_float(x.device), x.device, generator)
        return (floor(u * (high - low)) + low).to(x.dtype)


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    """Random ops cannot be compared by value: each call returns a vector of checks computed with
    other ops (range, moments against bounds over 6 standard errors, the same generator seed
    giving the same values), all True in the reference. Each uses its own Generator, so the
    records never disturb the default generators. The errors that depend on values (a negative
    std, rate or weight) are asserted by tests/test_random_ops.py: a device without values
    (meta) cannot raise them."""
    import numpy as np

    from .records import OpRecord, register
    from .samples import FLOATS, ErrorSample, Sample, rand_array

    def checks(device: Any, *conds: Any) -> Tensor:
        from .creation import tensor
        from .joining import stack

        return stack(
            [c.reshape(()) if isinstance(c, Tensor) else tensor(bool(c), device=device) for c in conds]
        )

    def all_true(n: int) -> Any:
        return lambda *args, **kwargs: np.ones(n, dtype=bool)

    def twice(draw: Any, device: Any) -> tuple[Tensor, Tensor]:
        a = draw(Generator(device, 7))
        b = draw(Generator(device, 7))
        return a, b

    def wide(v: Tensor) -> Tensor:
        return v.to(_wide_float(v.device))

    def moments_ok(v: Tensor, mean: float, var: float) -> Tensor:
        """mean and variance of n draws within 6 standard errors (the variance's uses the 4th
        moment bound 3 var^2 of these distributions)."""
        n = v.numel()
        f = wide(v)
        se_mean = math.sqrt(var / n)
        se_var = math.sqrt(3 * var * var / n) + 1e-12
        return ((f.mean() - mean).abs() < 6 * se_mean + 1e-9) & ((f.var() - var).abs() < 6 * se_var + 1e-9)

    def float_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [Sample((rand_array(rng, (64, 64), dtype),)), Sample((rand_array(rng, (0, 3), dtype),))]

    # normal
    def normal_call(x: Tensor) -> Tensor:
        dev = x.device
        mean = x.detach()
        std = (x.detach().abs() + 0.5)[:1]  # broadcasts over the rows
        a, b = twice(lambda g: normal(mean, std, generator=g), dev)
        z = (a - mean) / std
        c, _ = twice(lambda g: normal(2.0, 3.0, (4096,), generator=g, device=dev, dtype=x.dtype), dev)
        d, _ = twice(lambda g: normal(mean, generator=g), dev)
        e, _ = twice(lambda g: normal(1.0, std, generator=g), dev)
        big = x.numel() >= 4096
        return checks(
            dev,
            a.shape == x.shape and a.dtype is x.dtype and c.shape == (4096,) and c.dtype is x.dtype,
            d.shape == x.shape and e.shape == std.shape,
            (a == b).all(),
            moments_ok(z, 0.0, 1.0) if big else True,
            moments_ok(c, 2.0, 9.0),
            moments_ok(d - mean, 0.0, 1.0) if big else True,
        )

    # bernoulli
    def bernoulli_call(x: Tensor) -> Tensor:
        dev = x.device
        p = (x.detach().abs() / 2).clamp(0, 1)
        a, b = twice(lambda g: bernoulli(p, generator=g), dev)
        c, _ = twice(lambda g: bernoulli(x, 0.3, generator=g), dev)
        n = x.numel()
        ones = (a == 1) | (a == 0)
        mean_ok = ((wide(a).sum() - wide(p).sum()).abs() < 6 * math.sqrt(n / 4) + 1e-9) if n else True
        return checks(
            dev,
            a.dtype is x.dtype and a.shape == x.shape,
            ones.all(),
            (a == b).all(),
            mean_ok,
            moments_ok(c, 0.3, 0.21) if n >= 4096 else True,
        )

    # multinomial: a chi-square test of the counts
    def chi_square_ok(counts: np.ndarray, probs: np.ndarray) -> bool:
        n = counts.sum()
        expected = probs * n
        keep = expected > 0
        stat = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
        dof = int(keep.sum()) - 1
        # a bound at about 6 standard deviations of the chi-square distribution
        return stat < dof + 6 * math.sqrt(2 * dof) + 10 and not counts[~keep].any()

    def multinomial_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        w = np.array([0.0, 1.0, 2.0, 3.0, 0.5, 0.0, 4.0], dtype=dtype)
        return [Sample((w,), {"replacement": True}), Sample((w,), {"replacement": False})]

    def multinomial_call(w: Tensor, replacement: bool) -> Tensor:
        dev = w.device
        probs = w.numpy().astype(np.float64)
        probs = probs / probs.sum()
        if replacement:
            a, b = twice(lambda g: multinomial(w, 6000, True, generator=g), dev)
            counts = np.bincount(a.numpy(), minlength=len(probs))
            rows, _ = twice(lambda g: multinomial(w.expand(3, w.shape[0]), 5, True, generator=g), dev)
            return checks(
                dev,
                a.dtype is _dt.int64 and a.shape == (6000,),
                (a == b).all(),
                chi_square_ok(counts, probs),
                rows.shape == (3, 5),
            )
        # without replacement: 5 distinct nonzero categories each time; the first draw follows the
        # weights (chi-square over 2000 repetitions in one batch)
        a, b = twice(lambda g: multinomial(w.expand(2000, w.shape[0]), 5, False, generator=g), dev)
        arr = a.numpy()
        distinct = all(len(set(r)) == 5 for r in arr.tolist())
        nonzero = bool((probs[arr] > 0).all())
        counts = np.bincount(arr[:, 0], minlength=len(probs))
        return checks(
            dev, a.shape == (2000, 5), (a == b).all(), distinct, nonzero, chi_square_ok(counts, probs)
        )

    # poisson
    def poisson_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [Sample((np.array(r, dtype=dtype),)) for r in (0.0, 0.7, 4.0, 60.0)] + [
            Sample((np.zeros((0, 2), dtype=dtype),))
        ]

    def poisson_call(rate: Tensor) -> Tensor:
        dev = rate.device
        lam = float(rate.item()) if rate.numel() == 1 else 0.0
        r = rate.expand(4096) if rate.numel() == 1 else rate
        a, b = twice(lambda g: poisson(r, g), dev)
        whole = (a.floor() == a).all() & (a >= 0).all() if a.numel() else True
        return checks(
            dev,
            a.dtype is rate.dtype and a.shape == r.shape,
            whole,
            (a == b).all(),
            moments_ok(a, lam, lam)
            if rate.numel() == 1 and lam > 0
            else (a == 0).all()
            if a.numel()
            else True,
        )

    # in-place fills
    def fill_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [Sample((np.zeros((64, 64), dtype=dtype),)), Sample((np.zeros((3, 0), dtype=dtype),))]

    def filled(x: Tensor, method: str, *args: Any) -> tuple[Tensor, Tensor]:
        """x filled in place twice from the same seed (x itself is returned the first time)."""
        a = x.clone()
        out = getattr(a, method)(*args, generator=Generator(x.device, 3))
        b = getattr(x.clone(), method)(*args, generator=Generator(x.device, 3))
        assert out is a
        return a, b

    def uniform_call(x: Tensor) -> Tensor:
        a, b = filled(x, "uniform_", -2.0, 3.0)
        big = x.numel() >= 4096
        return checks(
            x.device,
            a.dtype is x.dtype,
            ((a >= -2) & (a < 3)).all(),
            (a == b).all(),
            moments_ok(a, 0.5, 25 / 12) if big else True,
        )

    def normal_fill_call(x: Tensor) -> Tensor:
        a, b = filled(x, "normal_", 1.0, 2.0)
        big = x.numel() >= 4096
        return checks(x.device, a.dtype is x.dtype, (a == b).all(), moments_ok(a, 1.0, 4.0) if big else True)

    def exponential_call(x: Tensor) -> Tensor:
        a, b = filled(x, "exponential_", 2.0)
        big = x.numel() >= 4096
        return checks(x.device, (a >= 0).all(), (a == b).all(), moments_ok(a, 0.5, 0.25) if big else True)

    def bernoulli_fill_call(x: Tensor) -> Tensor:
        a, b = filled(x, "bernoulli_", 0.25)
        big = x.numel() >= 4096
        return checks(
            x.device,
            ((a == 0) | (a == 1)).all(),
            (a == b).all(),
            moments_ok(a, 0.25, 0.1875) if big else True,
        )

    def random_call(x: Tensor) -> Tensor:
        lo = 1 if x.dtype is _dt.uint8 else -3
        a, b = filled(x, "random_", lo, 5)
        c, _ = filled(x, "random_", 4)
        d, _ = filled(x, "random_")
        big = x.numel() >= 4096
        values_met = (a.reshape(-1, 1) == arange_on(lo, 5, x)).any(0).all() if big else True
        return checks(
            x.device,
            ((a >= lo) & (a < 5)).all(),
            (a.floor() == a).all() if a.dtype.is_floating_point else True,
            ((c >= 0) & (c < 4)).all(),
            (d >= 0).all(),
            (a == b).all(),
            values_met,
        )

    def arange_on(lo: int, hi: int, x: Tensor) -> Tensor:
        from .creation import arange

        return arange(lo, hi, device=x.device).to(x.dtype)

    def random_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return fill_samples(dtype, rng)

    register(
        OpRecord(
            "normal",
            normal,
            float_samples,
            all_true(6),
            call=normal_call,
            dtypes=FLOATS,
            grad=False,
            kernel="normal",
            errors=(
                ErrorSample((0.0, -1.0, (3,)), {}, ValueError, "normal: std must be >= 0, got -1.0"),
                ErrorSample(
                    (0.0, 1.0), {}, TypeError, "normal: with a float mean and a float std, pass the size"
                ),
            ),
            reads_values=True,
        ),
        OpRecord(
            "bernoulli",
            bernoulli,
            float_samples,
            all_true(5),
            call=bernoulli_call,
            methods=("bernoulli",),
            dtypes=FLOATS,
            grad=False,
            kernel="uniform",
            errors=(
                ErrorSample(
                    (np.zeros(2), 2.0), {}, ValueError, "bernoulli: p must be in \\[0, 1\\], got 2.0"
                ),
            ),
            reads_values=True,
        ),
        OpRecord(
            "multinomial",
            multinomial,
            multinomial_samples,
            lambda w, replacement: np.ones(4 if replacement else 5, dtype=bool),
            call=multinomial_call,
            methods=("multinomial",),
            dtypes=FLOATS,
            grad=False,
            errors=(
                ErrorSample(
                    (np.ones(3), 4),
                    {},
                    ValueError,
                    "multinomial: cannot draw 4 samples from 3 categories without replacement",
                ),
                ErrorSample(
                    (np.ones((2, 2, 2)), 1), {}, ValueError, "multinomial: expected a 1-D or 2-D tensor"
                ),
            ),
            reads_values=True,
        ),
        OpRecord(
            "poisson",
            poisson,
            poisson_samples,
            all_true(4),
            call=poisson_call,
            dtypes=FLOATS,
            grad=False,
            reads_values=True,
        ),
        OpRecord(
            "uniform_",
            _uniform_fill,
            fill_samples,
            all_true(4),
            call=uniform_call,
            inplace=("uniform_",),
            dtypes=("float16", "float32", "float64"),
            grad=False,
            public=False,
            errors=(
                ErrorSample(
                    (np.zeros(2), 2.0, 1.0),
                    {},
                    ValueError,
                    "uniform_: expected from <= to, got from=2.0 > to=1.0",
                ),
            ),
        ),
        OpRecord(
            "normal_",
            _normal_fill,
            fill_samples,
            all_true(3),
            call=normal_fill_call,
            inplace=("normal_",),
            dtypes=FLOATS,
            grad=False,
            public=False,
            errors=(
                ErrorSample((np.zeros(2), 0.0, -1.0), {}, ValueError, "normal_: std must be >= 0, got -1.0"),
            ),
        ),
        OpRecord(
            "exponential_",
            _exponential_fill,
            fill_samples,
            all_true(3),
            call=exponential_call,
            inplace=("exponential_",),
            dtypes=FLOATS,
            grad=False,
            public=False,
            errors=(
                ErrorSample((np.zeros(2), 0.0), {}, ValueError, "exponential_: lambd must be > 0, got 0.0"),
            ),
        ),
        OpRecord(
            "bernoulli_",
            _bernoulli_fill,
            fill_samples,
            all_true(3),
            call=bernoulli_fill_call,
            inplace=("bernoulli_",),
            dtypes=("bool", "int64", "float32", "float64"),
            grad=False,
            public=False,
            errors=(
                ErrorSample(
                    (np.zeros(2), 1.5), {}, ValueError, "bernoulli_: p must be in \\[0, 1\\], got 1.5"
                ),
            ),
        ),
        OpRecord(
            "random_",
            _random_fill,
            random_samples,
            all_true(6),
            call=random_call,
            inplace=("random_",),
            dtypes=("uint8", "int32", "int64", "float32", "float64"),
            grad=False,
            public=False,
            errors=(
                ErrorSample(
                    (np.zeros(2), 3, 3), {}, ValueError, "random_: expected from < to, got from=3 >= to=3"
                ),
            ),
        ),
    )


_records()
