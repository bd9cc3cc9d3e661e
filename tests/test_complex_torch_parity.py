"""Complex dtypes against PyTorch: promotion (tensors, 0-d tensors, Python scalars), values,
gradients (PyTorch's conjugate Wirtinger convention), casts, printing and the ops PyTorch refuses."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import ember
import numpy as np
import pytest
from torch_required import require_torch

torch = require_torch()

_NAMES = [d.name for d in ember.dtypes.ALL_DTYPES]


def _torch_dtype(name: str) -> Any:
    return getattr(torch, name)


def _ember_name(torch_dtype: Any) -> str:
    # PyTorch's complex32 (float16 parts) has no Ember counterpart: Ember widens it to complex64
    name = str(torch_dtype).removeprefix("torch.")
    return "complex64" if name == "complex32" else name


def _pair_ok(a: str, b: str) -> bool:
    return a != "bool" or b != "bool"


@pytest.mark.parametrize("shape_b", [(3,), ()], ids=["tensors", "0-d"])
def test_promotion_table_matches_torch(shape_b: tuple[int, ...]) -> None:
    """Every pair of dtypes, with at least one complex, promotes as in PyTorch (the second operand
    a tensor of the same shape, or 0-d)."""
    complexes = ("complex64", "complex128")
    pairs = [(a, b) for a in _NAMES for b in _NAMES if (a in complexes or b in complexes)]
    for a, b in pairs:
        ta = torch.ones(3, dtype=_torch_dtype(a))
        tb = torch.ones(shape_b, dtype=_torch_dtype(b))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's complex32 is experimental
            expected = _ember_name(torch.result_type(ta, tb))
        ea = ember.ones(3, dtype=a)
        eb = ember.ones(shape_b, dtype=b)
        assert (ea + eb).dtype.name == expected, f"{a} + {b}{shape_b}: torch gives {expected}"
        assert ember.promote_types(ember.dtypes.as_dtype(a), ember.dtypes.as_dtype(b)).name == (
            _ember_name(torch.promote_types(_torch_dtype(a), _torch_dtype(b)))
        )


@pytest.mark.parametrize("scalar", [1j, 2.5, 3, True], ids=["complex", "float", "int", "bool"])
def test_python_scalars_are_weak(scalar: Any) -> None:
    """A Python scalar only raises the category: float32 + 1j is complex64, float64 + 1j complex128,
    int32 + 1j the default complex type, and complex tensors keep their width."""
    for name in _NAMES:
        if name == "bool" and isinstance(scalar, bool):
            continue
        t = torch.ones(2, dtype=_torch_dtype(name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = _ember_name((t * scalar).dtype)
        got = (ember.ones(2, dtype=name) * scalar).dtype.name
        assert got == expected, f"{name} * {scalar!r}: torch gives {expected}, ember {got}"
    assert ember.result_type(1j, 2).name == "complex64"
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1j]).dtype is ember.complex128
        assert (ember.ones(2, dtype=ember.int32) + 1j).dtype is ember.complex128
    finally:
        ember.set_default_dtype(ember.float32)


def test_making_printing_and_converting() -> None:
    z = ember.tensor([1 + 2j, 3 - 1.5j])
    assert z.dtype is ember.complex64 and ember.is_complex(z) and z.is_complex()
    assert not z.is_floating_point() and ember.cfloat is ember.complex64 and ember.cdouble is ember.complex128
    assert ember.complex64.to_real() is ember.float32 and ember.float64.to_complex() is ember.complex128
    with pytest.raises(TypeError, match="to_complex: ember.int32 has no complex counterpart"):
        ember.int32.to_complex()
    assert ember.tensor(np.array([1j], np.complex128)).dtype is ember.complex128
    np.testing.assert_array_equal(z.numpy(), np.array([1 + 2j, 3 - 1.5j], np.complex64))
    assert z[1].item() == 3 - 1.5j and complex(z[0]) == 1 + 2j
    for vals, dtype in (
        ([1 + 2j, 3 - 1j], None),
        ([1.5 + 2j, -3 - 1j, 10 + 0j], None),
        ([1.5 + 2j, -3 - 1.25j], "complex128"),
        ([complex(math.nan, 1), complex(math.inf, -2)], None),
    ):
        e = ember.tensor(vals, dtype=dtype)
        t = torch.tensor(vals, dtype=_torch_dtype(dtype) if dtype else None)
        assert repr(e).replace("ember.", "torch.").replace(" ", "") == repr(t).replace(" ", "")
    # complex -> real keeps the real part and warns, as PyTorch does
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        r = z.to(ember.float64)
    np.testing.assert_array_equal(r.numpy(), [1.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # to bool reads both parts, silently
        b = ember.tensor([1j, 0, 2]).bool()
    np.testing.assert_array_equal(b.numpy(), torch.tensor([1j, 0, 2]).bool().numpy())
    np.testing.assert_array_equal(ember.tensor([1.0, 2.0]).to(ember.complex128).numpy(), [1, 2])
    # random complex numbers as PyTorch draws them: parts uniform in [0, 1), or normal with variance 1/2
    ember.manual_seed(0)
    n = ember.randn(4000, dtype=ember.complex64)
    assert n.dtype is ember.complex64 and abs(float((n.abs() ** 2).mean()) - 1) < 0.1
    assert abs(float(n.real.var()) - 0.5) < 0.05 and abs(float(n.imag.var()) - 0.5) < 0.05
    u = ember.rand(1000, dtype=ember.complex128)
    assert float(u.real.min()) >= 0 and float(u.imag.max()) < 1 and abs(float(u.imag.mean()) - 0.5) < 0.05


def _pair(rng: np.random.Generator, *shape: int) -> tuple[Any, Any]:
    a = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex128)
    return ember.tensor(a), torch.tensor(a)


_UNARY = {
    "neg": (ember.neg, torch.neg),
    "exp": (ember.exp, torch.exp),
    "log": (ember.log, torch.log),
    "sqrt": (ember.sqrt, torch.sqrt),
    "sin": (ember.sin, torch.sin),
    "cos": (ember.cos, torch.cos),
    "tanh": (ember.tanh, torch.tanh),
    "sigmoid": (ember.sigmoid, torch.sigmoid),
    "rsqrt": (ember.rsqrt, torch.rsqrt),
    "reciprocal": (ember.reciprocal, torch.reciprocal),
    "abs": (ember.abs, torch.abs),
    "angle": (ember.angle, torch.angle),
    "sgn": (ember.sgn, torch.sgn),
    "real": (ember.real, torch.real),
    "imag": (ember.imag, torch.imag),
    "conj": (ember.conj, lambda t: torch.conj(t).resolve_conj()),
    "view_as_real": (ember.view_as_real, torch.view_as_real),
    "sum": (lambda x: x.sum(0), lambda t: t.sum(0)),
    "mean": (lambda x: x.mean(), lambda t: t.mean()),
    "prod": (lambda x: x.prod(1), lambda t: t.prod(1)),
    "cumsum": (lambda x: x.cumsum(1), lambda t: t.cumsum(1)),
    "square": (lambda x: x**2, lambda t: t**2),
    "var": (lambda x: x.var(1), lambda t: t.var(1)),
    "std": (lambda x: x.std(), lambda t: t.std()),
    "norm": (lambda x: x.norm(), lambda t: t.norm()),
    "logsumexp": (lambda x: x.logsumexp(1), lambda t: t.logsumexp(1)),
    "cumprod": (lambda x: x.cumprod(1), lambda t: t.cumprod(1)),
    "pow_scalar": (lambda x: x ** (0.5 - 1j), lambda t: t ** (0.5 - 1j)),
}


@pytest.mark.parametrize("name", list(_UNARY))
def test_unary_values_and_gradients(name: str) -> None:
    """Values, and the gradient of a real loss (sum of |f(z)|^2 weighted, or of f(z) when real)."""
    ef, tf = _UNARY[name]
    rng = np.random.default_rng(0)
    ez, tz = _pair(rng, 2, 3)
    ez.requires_grad_(True)
    tz.requires_grad_(True)
    eo, to = ef(ez), tf(tz)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert eo.dtype.name == str(to.dtype).removeprefix("torch.")
    w = rng.standard_normal(to.shape)
    loss_e = (ember.abs(eo) ** 2 * ember.tensor(w)).sum() if eo.is_complex() else (eo * ember.tensor(w)).sum()
    loss_t = (torch.abs(to) ** 2 * torch.tensor(w)).sum() if to.is_complex() else (to * torch.tensor(w)).sum()
    loss_e.backward()
    loss_t.backward()
    np.testing.assert_allclose(ez.grad.numpy(), tz.grad.resolve_conj().numpy(), rtol=1e-9, atol=1e-12)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "matmul": lambda a, b: a @ b.mT,
    "where": lambda a, b: (a if isinstance(a, ember.Tensor) else a).where(
        (ember.tensor if isinstance(a, ember.Tensor) else torch.tensor)([[True, False, True]] * 2), b
    ),
}


# PyTorch refuses a complex and a real operand in matmul (and where's backward): complex pairs only
_BINARY_CASES = [(name, False) for name in _BINARY] + [
    (name, True) for name in ("add", "sub", "mul", "div", "pow")
]


@pytest.mark.parametrize(
    "name,real_b", _BINARY_CASES, ids=[f"{n}-{'real' if r else 'complex'}" for n, r in _BINARY_CASES]
)
def test_binary_values_and_gradients(name: str, real_b: bool) -> None:
    """Both operands' gradients (a real operand gets the real part of its complex gradient)."""
    f = _BINARY[name]
    rng = np.random.default_rng(1)
    ea, ta = _pair(rng, 2, 3)
    if real_b:
        b = rng.uniform(0.5, 2.0, (2, 3))
        eb, tb = ember.tensor(b, dtype=ember.float64), torch.tensor(b)
    else:
        eb, tb = _pair(rng, 2, 3)
    for t in (ea, ta, eb, tb):
        t.requires_grad_(True)
    eo, to = f(ea, eb), f(ta, tb)
    assert eo.dtype.name == str(to.dtype).removeprefix("torch.")
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(to.shape)
    (ember.abs(eo) * ember.tensor(w)).sum().backward()
    (torch.abs(to) * torch.tensor(w)).sum().backward()
    for e, t in ((ea, ta), (eb, tb)):
        assert e.grad.dtype.name == str(t.grad.dtype).removeprefix("torch.")
        np.testing.assert_allclose(e.grad.numpy(), t.grad.resolve_conj().numpy(), rtol=1e-9, atol=1e-12)


def test_parts_constructors_and_dot_products() -> None:
    rng = np.random.default_rng(2)
    # positive real parts: polar's abs (PyTorch's polar gradient assumes abs >= 0)
    re, im = rng.uniform(0.5, 2.0, (2, 3)), rng.standard_normal((2, 3))
    er, ei = ember.tensor(re, requires_grad=True), ember.tensor(im, requires_grad=True)
    tr, ti = torch.tensor(re, requires_grad=True), torch.tensor(im, requires_grad=True)
    for ef, tf in (
        (ember.complex, torch.complex),
        (ember.polar, torch.polar),
        (
            lambda a, b: ember.view_as_complex(ember.stack([a, b], -1)),
            lambda a, b: torch.view_as_complex(torch.stack([a, b], -1)),
        ),
    ):
        eo, to = ef(er, ei), tf(tr, ti)
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-12)
        (ember.abs(eo) ** 3).sum().backward()
        (torch.abs(to) ** 3).sum().backward()
        for e, t in ((er, tr), (ei, ti)):
            np.testing.assert_allclose(e.grad.numpy(), t.grad.resolve_conj().numpy(), rtol=1e-9, atol=1e-12)
            e.grad, t.grad = None, None
    # infinite parts stay infinite (inf * 1j would be NaN)
    z = ember.complex(ember.tensor([math.inf, 1.0]), ember.tensor([1.0, -math.inf]))
    tz = torch.complex(torch.tensor([math.inf, 1.0]), torch.tensor([1.0, -math.inf]))
    np.testing.assert_array_equal(z.numpy(), tz.numpy())
    ea, ta = _pair(rng, 4)
    eb, tb = _pair(rng, 4)
    np.testing.assert_allclose(ember.vdot(ea, eb).numpy(), torch.vdot(ta, tb).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ember.dot(ea, eb).numpy(), torch.dot(ta, tb).numpy(), rtol=1e-12)
    assert not ember.is_conj(ea) and ember.resolve_conj(ea) is ea
    assert ember.conj(ember.tensor([1.0])).dtype is ember.float32
    nanc = ember.tensor([complex(math.nan, 0), complex(0, math.inf), 1 + 1j])
    tnanc = torch.tensor([complex(math.nan, 0), complex(0, math.inf), 1 + 1j])
    for ef, tf in ((ember.isnan, torch.isnan), (ember.isinf, torch.isinf), (ember.isfinite, torch.isfinite)):
        np.testing.assert_array_equal(ef(nanc).numpy(), tf(tnanc).numpy())
    assert ember.allclose(ea, ea + 1e-9j) and not ember.allclose(ea, ea + 1e-3j)
    assert bool((ea == ea).all()) and not bool((ea != ea).any())


_REFUSED: dict[str, Callable[[Any], Any]] = {
    "lt": lambda z: z < z,
    "le": lambda z: z <= 1,
    "maximum": lambda z: z.maximum(z),
    "max": lambda z: z.max(),
    "argmax": lambda z: z.argmax(),
    "amax": lambda z: z.amax(),
    "sort": lambda z: z.sort(),
    "clamp": lambda z: z.clamp(0, 1),
    "floor": lambda z: z.floor(),
    "round": lambda z: z.round(),
    "relu": lambda z: z.relu(),
    "sign": lambda z: z.sign(),
    "remainder": lambda z: z % 2,
    "floor_divide": lambda z: z // 2,
    "erf": lambda z: z.erf(),
    "atan2": lambda z: z.atan2(z),
    "softmax": lambda z: z.softmax(0),
}


@pytest.mark.parametrize("name", list(_REFUSED))
def test_ops_torch_refuses_for_complex_raise_naming_the_op(name: str) -> None:
    f = _REFUSED[name]
    with pytest.raises((RuntimeError, TypeError, NotImplementedError)):
        f(torch.tensor([1 + 1j, 2 - 1j]))
    with pytest.raises(TypeError, match=rf"^{name}: not supported for complex inputs \(ember.complex64\)"):
        f(ember.tensor([1 + 1j, 2 - 1j]))


def test_assigning_real_and_imag_parts() -> None:
    """``x.real = v`` / ``x.imag = v`` write in place (new tensors are returned when reading them,
    but assignment works as in PyTorch), with gradients to both the value and the other part."""
    a = np.array([1 + 2j, 3 - 1j])
    results = []
    for lib in (ember, torch):
        z = lib.tensor(a, requires_grad=True)
        v = lib.tensor([5.0, 6.0], dtype=lib.float64, requires_grad=True)
        w = z * 2
        w.real = v
        w.imag = w.imag * 3
        (lib.abs(w) ** 2).sum().backward()
        results.append([np.asarray(t.detach().numpy()) for t in (w, z.grad, v.grad)])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-12)
    x = ember.ones(2)
    x.real = 3.0
    np.testing.assert_array_equal(x.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="imag: not implemented for tensors with non-complex dtypes"):
        x.imag = 1.0


def test_ops_torch_has_but_ember_lacks_say_so() -> None:
    z = torch.tensor([1 + 1j])
    assert torch.exp2(z).dtype is torch.complex64
    with pytest.raises(TypeError, match=r"^exp2: not implemented for complex inputs \(ember.complex64\) in"):
        ember.exp2(ember.tensor([1 + 1j]))


_COMPOSED = ("sinh", "cosh", "tan", "expm1", "log1p", "log2", "log10", "asin", "acos", "acosh", "asinh",
             "atanh", "atan")  # fmt: skip


def test_composed_complex_ops_match_torch() -> None:
    """The complex forms core composes (ember.ops.complex.COMPLEX_COMPOSITES): PyTorch's values
    (points near 0, far out and on both sides of the branch cuts) and, off the cuts (where the
    derivative has no one value), gradients."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal(8) * 2 + 2j * rng.standard_normal(8)
    a = np.concatenate([a, a[:3] * 1e-5, [40 + 30j]])
    cuts = np.array([2 + 0j, complex(2, -0.0), complex(-3, 0.0), complex(-0.0, 1.5), 1.5j, -3j])
    w = rng.standard_normal(a.shape) + 1j * rng.standard_normal(a.shape)
    for name in _COMPOSED:
        on_cut, want_cut = getattr(ember, name)(ember.tensor(cuts)), getattr(torch, name)(torch.tensor(cuts))
        np.testing.assert_allclose(on_cut.numpy(), want_cut.numpy(), rtol=1e-12, err_msg=name)
        x, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = getattr(ember, name)(x), getattr(torch, name)(xt)
        got, want = y.detach().numpy(), yt.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=name)
        ember.real(y * ember.tensor(w)).sum().backward()
        torch.real(yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_imag_and_view_as_real_of_real_tensors_raise() -> None:
    with pytest.raises(RuntimeError, match="imag: not implemented for tensors with non-complex dtypes"):
        _ = ember.ones(2).imag
    with pytest.raises(RuntimeError, match="view_as_real: only supported for complex tensors"):
        ember.view_as_real(ember.ones(2))
    with pytest.raises(RuntimeError, match="view_as_complex: the tensor must have a last dimension of size"):
        ember.view_as_complex(ember.ones(3))


def test_part_composites_without_the_kernels() -> None:
    """A device without the optional real / imag / complex / conj / complex_abs kernels (core
    copies the parts through the host, conj is complex(real, -imag), abs is hypot of the parts)
    gives the kernels' values and gradients."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    a[0, 0] = complex(math.inf, -0.0)

    def run() -> list[np.ndarray]:
        z = ember.tensor(a, requires_grad=True)
        outs = [ember.real(z), ember.imag(z), ember.conj(z), ember.angle(z), ember.view_as_real(z), z.abs()]
        w = ember.view_as_complex(ember.stack([ember.real(z), ember.imag(z) * 2], -1))
        outs.append(w)
        (ember.abs(w[1]) ** 2 + ember.abs(z[0]) * 0.5).sum().backward()
        return [o.detach().numpy() for o in outs] + [z.grad.numpy()]

    kernels = ember.device("cpu").kernels
    names = ("real", "imag", "complex", "conj", "complex_abs")
    assert all(k in kernels for k in names), "the cpu backend lacks the complex part kernels"
    expected = run()
    saved = {k: kernels.pop(k) for k in names}
    try:
        got = run()
    finally:
        kernels.update(saved)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-15, atol=0)
