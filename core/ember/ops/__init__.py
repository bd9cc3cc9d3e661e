"""Every op Ember defines, as functions; this module also attaches them to :class:`ember.Tensor` as
methods and operators, so ``ember.exp(x)`` and ``x.exp()`` are one piece of code."""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dt
from ..tensor import Tensor
from . import conversion, creation, elementwise, indexing, inplace, linalg, reduction, shape
from .conversion import from_dlpack, to, type_as
from .creation import (
    Generator, arange, as_tensor, default_generator, empty, empty_like, eye, from_numpy, full, full_like,
    linspace, manual_seed, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor,
    zeros, zeros_like,
)
from .elementwise import (
    abs, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, clamp, clip, cos, div, elu, eq, erf,
    exp, expm1, floor, floor_divide, ge, gelu, gt, isfinite, isinf, isnan, le, leaky_relu, log, log1p, log2,
    log10, logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg, pow,
    reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, silu, sin, softplus, sqrt, square, sub, tanh,
    trunc, where,
)
from .indexing import gather, index_select, masked_fill, masked_select, nonzero, scatter_add, take
from .linalg import bmm, dot, linear, matmul, mm, outer
from .reduction import (
    all, amax, amin, any, argmax, argmin, cumsum, logsumexp, log_softmax, max, mean, min, norm, prod,
    softmax, std, sum, var,
)
from .shape import (
    broadcast_to, cat, chunk, clone, concat, contiguous, expand, flatten, flip, movedim, narrow, permute,
    repeat, reshape, select, split, squeeze, stack, t, transpose, tril, triu, unbind, unflatten, unsqueeze,
    view,
)

true_divide = div
multiply = mul
subtract = sub
negative = neg
greater = gt
less = lt

# -- methods ---------------------------------------------------------------------------------------
_METHODS = {
    # elementwise
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "abs": abs, "exp": exp,
    "expm1": expm1, "log": log, "log1p": log1p, "log2": log2, "log10": log10, "sqrt": sqrt, "rsqrt": rsqrt,
    "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "erf": erf, "floor": floor,
    "ceil": ceil, "round": round, "trunc": trunc, "sign": sign, "reciprocal": reciprocal, "square": square,
    "clamp": clamp, "clip": clip, "maximum": maximum, "minimum": minimum, "eq": eq, "ne": ne, "lt": lt,
    "le": le, "gt": gt, "ge": ge, "logical_not": logical_not, "logical_and": logical_and,
    "logical_or": logical_or, "logical_xor": logical_xor, "bitwise_not": bitwise_not,
    "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor, "isnan": isnan,
    "isinf": isinf, "isfinite": isfinite, "floor_divide": floor_divide, "remainder": remainder,
    "where": lambda self, cond, other: where(cond, self, other),
    # reductions
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "amax": amax, "amin": amin,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "logsumexp": logsumexp, "all": all,
    "any": any, "cumsum": cumsum, "norm": norm, "softmax": softmax, "log_softmax": log_softmax,
    # shape
    "reshape": reshape, "view": view, "flatten": flatten, "unflatten": unflatten, "permute": permute,
    "transpose": transpose, "t": t, "expand": expand, "expand_as": lambda self, o: expand(self, o.shape),
    "broadcast_to": broadcast_to, "squeeze": squeeze, "unsqueeze": unsqueeze, "contiguous": contiguous,
    "clone": clone, "narrow": narrow, "select": select, "split": split, "chunk": chunk, "unbind": unbind,
    "flip": flip, "repeat": repeat, "movedim": movedim, "tril": tril, "triu": triu,
    "view_as": lambda self, o: view(self, o.shape), "reshape_as": lambda self, o: reshape(self, o.shape),
    "stride": lambda self, dim=None: shape.strides_of(self) if dim is None else shape.strides_of(self)[dim],
    "is_contiguous": shape.is_contiguous_,
    # indexing
    "gather": gather, "scatter_add": scatter_add, "index_select": index_select, "masked_fill": masked_fill,
    "masked_select": masked_select, "nonzero": nonzero, "take": take,
    # linear algebra
    "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot, "outer": outer,
    # conversion
    "to": to, "type_as": type_as,
    "cpu": lambda self: to(self, "cpu"),
    "float": lambda self: to(self, _dt.float32), "double": lambda self: to(self, _dt.float64),
    "half": lambda self: to(self, _dt.float16), "long": lambda self: to(self, _dt.int64),
    "int": lambda self: to(self, _dt.int32), "bool": lambda self: to(self, _dt.bool_),
    "byte": lambda self: to(self, _dt.uint8),
    "__dlpack__": conversion.dlpack, "__dlpack_device__": conversion.dlpack_device,
    # in place
    "copy_": inplace.copy_, "fill_": inplace.fill_, "zero_": inplace.zero_,
    # operators
    "__add__": add, "__radd__": lambda self, o: add(o, self),
    "__sub__": sub, "__rsub__": lambda self, o: sub(o, self),
    "__mul__": mul, "__rmul__": lambda self, o: mul(o, self),
    "__truediv__": div, "__rtruediv__": lambda self, o: div(o, self),
    "__floordiv__": floor_divide, "__rfloordiv__": lambda self, o: floor_divide(o, self),
    "__mod__": remainder, "__rmod__": lambda self, o: remainder(o, self),
    "__pow__": pow, "__rpow__": lambda self, o: pow(o, self),
    "__matmul__": matmul, "__rmatmul__": lambda self, o: matmul(o, self),
    "__neg__": neg, "__pos__": lambda self: self, "__abs__": abs,
    "__invert__": bitwise_not,
    "__and__": bitwise_and, "__rand__": lambda self, o: bitwise_and(o, self),
    "__or__": bitwise_or, "__ror__": lambda self, o: bitwise_or(o, self),
    "__xor__": bitwise_xor, "__rxor__": lambda self, o: bitwise_xor(o, self),
    "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
}

_INPLACE = {
    "add_": add, "sub_": sub, "mul_": mul, "div_": div, "pow_": pow, "neg_": neg, "abs_": abs, "exp_": exp,
    "log_": log, "sqrt_": sqrt, "sigmoid_": sigmoid, "relu_": relu, "tanh_": tanh, "clamp_": clamp,
    "clip_": clamp, "floor_": floor, "ceil_": ceil, "round_": round, "trunc_": trunc,
    "masked_fill_": masked_fill, "maximum_": maximum, "minimum_": minimum, "reciprocal_": reciprocal,
    "square_": square, "sign_": sign, "lerp_": lambda self, end, w: self + (end - self) * w,
    "addcmul_": lambda self, a, b, value=1: self + a * b * value,
    "addcdiv_": lambda self, a, b, value=1: self + a / b * value,
    "__iadd__": add, "__isub__": sub, "__imul__": mul, "__itruediv__": div, "__ipow__": pow,
    "__iand__": bitwise_and, "__ior__": bitwise_or, "__ixor__": bitwise_xor,
}


def _install() -> None:
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    for name, fn in _INPLACE.items():
        setattr(Tensor, name, inplace.make_inplace(fn, name))
    Tensor.T = property(lambda self: permute(self, tuple(reversed(range(self.ndim)))),  # type: ignore
                        doc="All dims reversed (a view).")
    Tensor.mT = property(lambda self: transpose(self, -2, -1), doc="Last two dims swapped (a view).")  # type: ignore
    Tensor.__hash__ = lambda self: id(self)  # type: ignore[method-assign]


_install()

