"""The records that prove Tensor's own methods: the protocol every device must support.

:class:`ember.Tensor` defines a few methods itself rather than through an op record (see
:mod:`ember.tensor`): host reads (``numpy``, ``item``, ``tolist``, ``__array__``, ``repr``), the
autograd entry points (``requires_grad_``, ``detach``, ``backward``, ``register_hook``,
``register_post_accumulate_grad_hook``, ``retain_grad``, ``data``), Python conversions (``bool``,
``int``, ``float``, ``operator.index``, ``len``, ``iter``) and copying
(``copy.deepcopy``; pickling refuses). They run on every device, so
the conformance kit proves them there like any op: each record's call uses the method and returns
a tensor on the device built from what it gave, compared with a numpy reference; properties that
are not values (memory shared or not, ``requires_grad`` flags, the errors raised) are checked in
the call, which raises an ``AssertionError`` saying which one failed. The records are not public
ops (``public=False``); ``covers`` names the Tensor attributes each proves.
"""

from __future__ import annotations

import copy
import operator
import pickle
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .creation import full_like, tensor, zeros, zeros_like
from .joining import stack
from .records import OpRecord, register
from .samples import ALL, ALL_INT, FLOATS16, Sample, rand_array, unary_samples

__all__: list[str] = []


# -- helpers ----------------------------------------------------------------------------------------
def _require(cond: Any, what: str) -> None:
    """Fail the record's call with ``what`` (a property of the method that is not a value)."""
    if not cond:
        raise AssertionError(what)


def _raises(exc: type[BaseException], fn: Callable[[], Any]) -> bool:
    """Whether ``fn()`` raises ``exc``."""
    try:
        fn()
    except exc:
        return True
    return False


def _on(x: Tensor, values: Any, dtype: Any = None) -> Tensor:
    """``values`` as a tensor on x's device."""
    return tensor(values, dtype=dtype, device=x.device)


def _leaf(x: Tensor) -> Tensor:
    """A fresh leaf copy of x that requires grad."""
    return x.detach().clone().requires_grad_()


def _elements(x: Tensor) -> list[Tensor]:
    """x's elements as one-element (0-d) tensors, in C order."""
    flat = x.reshape(-1)
    return [flat[i] for i in range(flat.shape[0])]


def _python_type(dtype: _dt.DType) -> type:
    return bool if dtype.is_bool else (float if dtype.is_floating_point else int)


def _with_dtype_name(dtype: str, rng: np.random.Generator) -> list[Sample]:
    """Tensors with the dtype's name as a keyword (the reference sees float16 as float32)."""
    return [
        Sample((rand_array(rng, (2, 3), dtype),), {"dtype_name": dtype}),
        Sample((rand_array(rng, (), dtype),), {"dtype_name": dtype}),
        Sample((rand_array(rng, (4, 3), dtype),), {"dtype_name": dtype}, noncontig=True),
    ]


# -- shape and dtype --------------------------------------------------------------------------------
def _size(x: Tensor) -> Tensor:
    nd = x.ndim
    _require(x.size() == x.shape and isinstance(x.shape, tuple), "size(): not the shape tuple")
    _require(_raises(IndexError, lambda: x.size(nd)), f"size({nd}) of a {nd}-d tensor: no IndexError")
    vals = [x.dim(), nd, x.numel(), *x.size()]
    vals += [x.size(d) for d in range(nd)] + [x.size(d - nd) for d in range(nd)]
    return _on(x, vals, _dt.int64)


def _size_ref(x: np.ndarray) -> np.ndarray:
    return np.array([x.ndim, x.ndim, x.size, *x.shape, *x.shape, *x.shape], dtype=np.int64)


def _element_size(x: Tensor, dtype_name: str) -> Tensor:
    _require(x.dtype is _dt.as_dtype(dtype_name), f"dtype is {x.dtype}, expected {dtype_name}")
    _require(x.device is x.detach().device, "device: not the same device object")
    return _on(x, [x.element_size(), x.is_floating_point()], _dt.int64)


def _element_size_ref(x: np.ndarray, dtype_name: str) -> np.ndarray:
    dt = np.dtype(dtype_name)
    return np.array([dt.itemsize, dt.kind == "f" or dtype_name == "bfloat16"], dtype=np.int64)


# -- autograd entry points --------------------------------------------------------------------------
def _requires_grad(x: Tensor) -> Tensor:
    # a leaf's flags; requires_grad_ sets them on floats (and returns the tensor) and refuses
    # integer and bool tensors; an op on a tensor that requires grad is a non-leaf with a grad_fn
    leaf = x.detach()
    c = [leaf.is_leaf, not leaf.requires_grad, leaf.grad_fn is None]
    if x.dtype.is_floating_point:
        c += [leaf.requires_grad_() is leaf and leaf.requires_grad and leaf.is_leaf]
        y = leaf * 2
        c += [not y.is_leaf and y.grad_fn is not None and y.requires_grad]
        c += [_raises(RuntimeError, lambda: y.requires_grad_(False))]
        with no_grad():
            c += [not (leaf * 2).requires_grad]
        c += [leaf.requires_grad_(False) is leaf and not leaf.requires_grad]
    else:
        c += [_raises(RuntimeError, lambda: leaf.requires_grad_())]
        c += [not leaf.requires_grad]
        c += [leaf.requires_grad_(False) is leaf and not leaf.requires_grad]
        y = leaf + leaf
        c += [y.is_leaf and y.grad_fn is None]
        c += [not y.requires_grad]
    return _on(x, c)


def _data(x: Tensor) -> Tensor:
    # .data shares memory and is outside the graph: zeroing it zeroes the tensor; assigning .data
    # replaces the values, and one of another shape is refused
    y = x.clone()
    d = y.data
    _require(not d.requires_grad and d.shape == y.shape and d.dtype is y.dtype, ".data: wrong flags")
    d.zero_()
    z = zeros_like(x)
    z.data = x.clone()
    _require(_raises(ValueError, lambda: setattr(z, "data", zeros((*x.shape, 1)))), ".data = other shape")
    if x.dtype.is_floating_point:
        w = _leaf(x)
        _require(not w.data.requires_grad, ".data of a tensor that requires grad requires grad")
    return stack([y, z])


def _detach(x: Tensor) -> Tensor:
    # detach shares memory both ways: a write through the detached tensor is read through the
    # original, and the other way round; the result is a leaf outside the graph
    y = x.clone()
    d = y.detach()
    d.zero_()
    first = y.clone()
    y.copy_(x)
    second = d.clone()
    if x.dtype.is_floating_point:
        v = (_leaf(x) * 2).detach()
        _require(not v.requires_grad and v.grad_fn is None and v.is_leaf, "detach(): still in the graph")
    return stack([first, second])


def _detach_(x: Tensor) -> Tensor:
    # detach_ takes the tensor out of the graph in place and returns it
    base = x.detach().clone()
    if x.dtype.is_floating_point:
        base.requires_grad_()
    z = base.clone()
    out = z.detach_()
    _require(out is z, "detach_() did not return the tensor")
    _require(z.grad_fn is None and not z.requires_grad and z.is_leaf, "detach_(): still in the graph")
    return z


def _backward(x: Tensor) -> Tensor:
    # grads: d(sum x*x) = 2x; then a gradient= of 2 for 3x accumulates 6; a retained graph
    # run twice accumulates 2 * 2x more. Non-scalar outputs need gradient=; inputs= limits the leaves
    w = _leaf(x)
    _require(w.grad is None, ".grad of a fresh leaf is not None")
    (w * w).sum().backward()
    g1 = w.grad.clone()
    y = w * 3
    y.backward(full_like(y, 2))
    g2 = w.grad.clone()
    s = (w * w).sum()
    s.backward(retain_graph=True)
    s.backward()
    if w.numel() != 1:
        _require(_raises(RuntimeError, lambda: (w * 2).backward()), "backward() of a non-scalar: no error")
    _require(_raises(RuntimeError, lambda: x.detach().sum().backward()), "backward() without grad: no error")
    v = _leaf(x)
    u = _leaf(x)
    (v * u).sum().backward(inputs=[v])
    _require(u.grad is None and v.grad is not None, "backward(inputs=[v]) reached another leaf")
    return stack([g1, g2, w.grad])


def _backward_ref(x: np.ndarray) -> np.ndarray:
    return np.stack([2 * x, 2 * x + 6, 6 * x + 6])


def _register_hook(x: Tensor) -> Tensor:
    # a hook's result replaces the gradient (on a leaf: 2 * 2x; on a non-leaf y = x: 3 * 2x); a
    # removed hook is not called; a hook returning None only observes
    a = _leaf(x)
    a.register_hook(lambda g: g * 2)
    (a * a).sum().backward()
    b = _leaf(x)
    y = b * 1
    y.register_hook(lambda g: g * 3)
    (y * y).sum().backward()
    c = _leaf(x)
    c.register_hook(lambda g: g * 2).remove()
    seen: list[Tensor] = []
    c.register_hook(seen.append)
    (c * c).sum().backward()
    _require(len(seen) == 1 and seen[0].shape == x.shape, "an observing hook was not called once")
    _require(_raises(RuntimeError, lambda: x.detach().register_hook(lambda g: g)), "hook without grad")
    return stack([a.grad, b.grad, c.grad])


def _post_accumulate_grad_hook(x: Tensor) -> Tensor:
    # the hook gets the leaf once, with .grad final: y = x*x + 3x reaches x twice, so the hook
    # sees 2x + 3 (both contributions); a removed hook is not called; a non-leaf and a tensor that
    # does not require grad refuse; autograd.grad accumulates nothing and calls no hook
    from ..autograd import grad as autograd_grad

    a = _leaf(x)
    seen: list[Tensor] = []
    a.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
    a.register_post_accumulate_grad_hook(lambda t: None).remove()
    ((a * a).sum() + (a * 3).sum()).backward()
    _require(len(seen) == 1, f"the hook ran {len(seen)} times in one backward")
    autograd_grad((a * a).sum(), [a])
    _require(len(seen) == 1, "autograd.grad called the post-accumulate-grad hook")
    y = a * 2
    _require(_raises(RuntimeError, lambda: y.register_post_accumulate_grad_hook(seen.append)), "non-leaf")
    plain = x.detach()
    _require(_raises(RuntimeError, lambda: plain.register_post_accumulate_grad_hook(seen.append)), "no grad")
    return stack([seen[0], a.grad])


def _retain_grad(x: Tensor) -> Tensor:
    # a non-leaf keeps .grad only when asked to: y = 2x, d(sum y*y)/dy = 2y = 4x
    w = _leaf(x)
    w.retain_grad()  # a leaf: nothing to do
    y = w * 2
    z = w * 1
    y.retain_grad()
    (y * y + z).sum().backward()
    _require(z.grad is None, ".grad kept for a non-leaf without retain_grad()")
    return y.grad


# -- host reads -------------------------------------------------------------------------------------
def _numpy(x: Tensor) -> Tensor:
    # numpy() gives the values with the tensor's dtype and shape (sharing memory on cpu); it
    # refuses a tensor that requires grad unless forced
    a = x.numpy()
    _require(isinstance(a, np.ndarray) and a.dtype == x.dtype.numpy and a.shape == x.shape, "numpy()")
    if x.dtype.is_floating_point:
        w = _leaf(x)
        _require(_raises(RuntimeError, w.numpy), "numpy() of a tensor that requires grad: no error")
        _require(np.array_equal(w.numpy(force=True), a), "numpy(force=True): other values")
    if x.device.type == "cpu" and x.numel():
        y = x.clone()
        y.numpy()[...] = 0
        _require(not y.any().item(), "numpy() of a cpu tensor does not share its memory")
    return _on(x, a.copy())


def _array(x: Tensor) -> Tensor:
    # numpy's array protocol: np.array copies, np.asarray reads, a dtype converts, and copy=False
    # with a dtype change refuses
    b = np.array(x)
    a = np.asarray(x)
    _require(b.dtype == x.dtype.numpy and a.shape == x.shape, "__array__: wrong dtype or shape")
    if b.size:
        b[...] = 0
        _require(np.array_equal(np.asarray(x), a), "np.array(t) shares the tensor's memory")
    other = np.float64 if x.dtype is not _dt.float64 else np.float32
    c = np.asarray(x, dtype=other)
    _require(c.dtype == other, "__array__(dtype): wrong dtype")
    _require(_raises(ValueError, lambda: x.__array__(other, copy=False)), "__array__ copy=False converts")
    return stack([_on(x, a.copy()), _on(x, c.astype(x.dtype.numpy))])


def _item(x: Tensor) -> Tensor:
    # item() of each element: a Python number of the dtype's kind; many elements are refused
    vals = [e.item() for e in _elements(x)]
    kind = _python_type(x.dtype)
    _require(all(type(v) is kind for v in vals), f"item(): not {kind.__name__}")
    if x.numel() != 1:
        _require(_raises(ValueError, x.item), f"item() of {x.numel()} elements: no error")
    return _on(x, vals, x.dtype).reshape(x.shape)


def _tolist(x: Tensor) -> Tensor:
    # nested lists of Python numbers of the dtype's kind (a number for a 0-d tensor)
    out = x.tolist()
    _require(isinstance(out, list) == (x.ndim > 0), "tolist(): a list for a 0-d tensor or not for others")
    kind = _python_type(x.dtype)
    _require(all(type(v) is kind for v in _leaves(out)), f"tolist(): not {kind.__name__}")
    return _on(x, out, x.dtype)


def _leaves(v: Any) -> list[Any]:
    """The numbers in nested lists."""
    return [w for u in v for w in _leaves(u)] if isinstance(v, list) else [v]


def _repr(x: Tensor) -> Tensor:
    # repr() (and str(), the same) shows the values to 4 decimals, the device unless cpu and the
    # dtype unless the default float, int64 or bool: the values are read back from the text
    s = repr(x)
    _require(str(x) == s, "str() differs from repr()")
    body = re.fullmatch(r"tensor\((.*?)((?:, (?:size|device|dtype|requires_grad|grad_fn)=.*)?)\)", s, re.S)
    if body is None:
        raise AssertionError(f"repr(): not tensor(...): {s!r}")
    extras = body.group(2)
    _require((f"device='{x.device}'" in extras) == (x.device.type != "cpu"), f"repr(): device in {s!r}")
    hidden = (_dt.get_default_dtype(), _dt.int64, _dt.bool_)
    _require((f"dtype={x.dtype}" in extras) == (x.dtype not in hidden), f"repr(): dtype in {s!r}")
    words = re.findall(r"True|False|[-+]?(?:inf|nan|\d+\.?\d*(?:e[-+]?\d+)?)", body.group(1))
    vals = [w == "True" if w in ("True", "False") else float(w) for w in words]
    _require(len(vals) == x.numel(), f"repr(): {len(vals)} numbers for {x.numel()} elements in {s!r}")
    return _on(x, np.asarray(vals, dtype=np.float64).astype(x.dtype.numpy)).reshape(x.shape)


# -- Python conversions -----------------------------------------------------------------------------
def _bool(x: Tensor) -> Tensor:
    # bool() of each element; more than one element is ambiguous
    if x.numel() > 1:
        _require(_raises(RuntimeError, lambda: bool(x)), "bool() of many elements: no error")
    vals = [bool(e) for e in _elements(x)]
    return _on(x, vals, _dt.bool_).reshape(x.shape)


def _int(x: Tensor) -> Tensor:
    # int() of each element (floats truncate toward zero)
    vals = [int(e) for e in _elements(x)]
    _require(all(type(v) is int for v in vals), "int(): not an int")
    return _on(x, vals, _dt.int64).reshape(x.shape)


def _float(x: Tensor) -> Tensor:
    # float() of each element (integers here are small: exact in float32)
    vals = [float(e) for e in _elements(x)]
    _require(all(type(v) is float for v in vals), "float(): not a float")
    return _on(x, vals, x.dtype if x.dtype.is_floating_point else _dt.float32).reshape(x.shape)


def _float_ref(x: np.ndarray) -> np.ndarray:
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _index(x: Tensor) -> Tensor:
    # operator.index() of each element of an integer or bool tensor; float tensors are refused
    vals = [operator.index(e) for e in _elements(x)]
    if x.numel():
        f = x.reshape(-1)[0].to(_dt.float32)
        _require(
            _raises(TypeError, lambda: operator.index(f)), "operator.index() of a float tensor: no error"
        )
    return _on(x, vals, _dt.int64).reshape(x.shape)


def _iter(x: Tensor) -> Tensor:
    # iteration gives the sub-tensors along dim 0 (len() of them); a 0-d tensor has neither
    if x.ndim == 0:
        _require(_raises(TypeError, lambda: len(x)), "len() of a 0-d tensor: no error")
        _require(_raises(TypeError, lambda: iter(x)), "iter() of a 0-d tensor: no error")
        return x.clone()
    rows = list(x)
    _require(len(rows) == len(x) == x.shape[0], f"len(): {len(x)} for shape {x.shape}")
    _require(all(r.shape == x.shape[1:] for r in rows), "iter(): rows of the wrong shape")
    return stack(rows) if rows else x.clone()


# -- copying --------------------------------------------------------------------------------------
def _reduce(x: Tensor) -> Tensor:
    # pickling refuses, pointing at ember.save
    try:
        pickle.dumps(x)
    except TypeError as exc:
        _require("ember.save" in str(exc), f"pickle: the error does not point at ember.save: {exc}")
    else:
        raise AssertionError("pickle.dumps(tensor) did not refuse")
    return x.clone()


def _copy(x: Tensor) -> Tensor:
    # copy.copy is shallow: a new leaf sharing x's memory (a write through it shows in x), with
    # x's requires_grad, as in PyTorch
    x, original = x.clone(), x
    y = copy.copy(x)
    _require(y is not x and y.shape == x.shape and y.dtype is x.dtype and y.device is x.device, "copy")
    y.zero_()
    _require(bool((x == 0).all()) if x.numel() else True, "copy: memory not shared")
    x = original
    if x.dtype.is_floating_point:
        w = _leaf(x)
        c = copy.copy(w)
        _require(c.requires_grad and c.is_leaf and c.grad_fn is None, "copy: flags")
    return x.clone()


def _deepcopy(x: Tensor) -> Tensor:
    # deepcopy has memory of its own (zeroing it leaves the original); a leaf's requires_grad and
    # grad are copied, a tensor met twice is copied once, and a non-leaf is refused
    y = copy.deepcopy(x)
    _require(y is not x and y.shape == x.shape and y.dtype is x.dtype and y.device is x.device, "deepcopy")
    values = y.clone()
    y.zero_()
    if x.dtype.is_floating_point:
        w = _leaf(x)
        (w * w).sum().backward()
        c, c2 = copy.deepcopy([w, w])
        _require(c is c2 and c.requires_grad and c.is_leaf, "deepcopy: flags or memo")
        _require(c.grad is not w.grad and bool((c.grad == w.grad).all()), "deepcopy: grad not copied")
        _require(_raises(RuntimeError, lambda: copy.deepcopy(w * 2)), "deepcopy of a non-leaf: no error")
    return stack([values, x])


# -- records --------------------------------------------------------------------------------------
def _record(
    name: str,
    call: Callable[..., Tensor],
    ref: Callable[..., Any],
    covers: tuple[str, ...],
    dtypes: tuple[str, ...] = ALL,
    samples: Any = None,
    **extra: Any,
) -> OpRecord:
    """A record of Tensor's own methods: ``name`` is the first attribute it covers."""
    return OpRecord(
        name,
        call,
        samples or unary_samples(),
        ref,
        call=call,
        covers=covers,
        dtypes=dtypes,
        grad=False,
        public=False,
        **extra,
    )


register(
    _record(
        "Tensor.size",
        _size,
        _size_ref,
        ("Tensor.size", "Tensor.dim", "Tensor.ndim", "Tensor.numel", "Tensor.shape"),
    ),
    _record(
        "Tensor.element_size",
        _element_size,
        _element_size_ref,
        ("Tensor.element_size", "Tensor.is_floating_point", "Tensor.dtype", "Tensor.device"),
        samples=_with_dtype_name,
    ),
    _record(
        "Tensor.requires_grad_",
        _requires_grad,
        lambda x: np.ones(8, dtype=bool),
        ("Tensor.requires_grad_", "Tensor.requires_grad", "Tensor.is_leaf", "Tensor.grad_fn"),
    ),
    _record("Tensor.data", _data, lambda x: np.stack([np.zeros_like(x), x]), ("Tensor.data",)),
    _record("Tensor.detach", _detach, lambda x: np.stack([np.zeros_like(x), x]), ("Tensor.detach",)),
    _record("Tensor.detach_", _detach_, lambda x: x, ("Tensor.detach_",)),
    _record("Tensor.backward", _backward, _backward_ref, ("Tensor.backward", "Tensor.grad"), FLOATS16),
    _record(
        "Tensor.register_hook",
        _register_hook,
        lambda x: np.stack([4 * x, 6 * x, 2 * x]),
        ("Tensor.register_hook",),
        FLOATS16,
    ),
    _record(
        "Tensor.register_post_accumulate_grad_hook",
        _post_accumulate_grad_hook,
        lambda x: np.stack([2 * x + 3, 2 * x + 3]),
        ("Tensor.register_post_accumulate_grad_hook",),
        FLOATS16,
    ),
    _record("Tensor.retain_grad", _retain_grad, lambda x: 4 * x, ("Tensor.retain_grad",), FLOATS16),
    _record("Tensor.numpy", _numpy, lambda x: x, ("Tensor.numpy",), kernel="to_numpy", reads_values=True),
    _record("Tensor.__array__", _array, lambda x: np.stack([x, x]), ("Tensor.__array__",), reads_values=True),
    _record("Tensor.item", _item, lambda x: x, ("Tensor.item",), reads_values=True),
    _record("Tensor.tolist", _tolist, lambda x: x, ("Tensor.tolist",), reads_values=True),
    # repr shows 4 decimals: the values read back are within 5e-5
    _record(
        "Tensor.__repr__",
        _repr,
        lambda x: x,
        ("Tensor.__repr__", "Tensor.__str__"),
        atol=1e-4,
        reads_values=True,
    ),
    _record("Tensor.__bool__", _bool, lambda x: x != 0, ("Tensor.__bool__",), reads_values=True),
    _record("Tensor.__int__", _int, lambda x: x.astype(np.int64), ("Tensor.__int__",), reads_values=True),
    _record("Tensor.__float__", _float, _float_ref, ("Tensor.__float__",), reads_values=True),
    _record(
        "Tensor.__index__",
        _index,
        lambda x: x.astype(np.int64),
        ("Tensor.__index__",),
        ALL_INT + ("bool",),
        reads_values=True,
    ),
    _record("Tensor.__iter__", _iter, lambda x: x, ("Tensor.__iter__", "Tensor.__len__")),
    _record("Tensor.__reduce__", _reduce, lambda x: x, ("Tensor.__reduce__",)),
    _record("Tensor.__copy__", _copy, lambda x: x, ("Tensor.__copy__",), reads_values=True),
    _record(
        "Tensor.__deepcopy__",
        _deepcopy,
        lambda x: np.stack([x, x]),
        ("Tensor.__deepcopy__",),
        reads_values=True,
    ),
)
