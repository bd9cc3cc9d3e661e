"""Every op Ember defines, as functions; this module also attaches them to :class:`ember.Tensor` as
methods and operators, so ``ember.exp(x)`` and ``x.exp()`` are one piece of code. Which methods
exist is read from the op records (:mod:`ember.ops.records`) that each op module declares."""

from __future__ import annotations

from typing import Any

from .. import dtypes as _dt
from ..tensor import Tensor
from . import complex as _complex_ops  # noqa: F401 - registers the complex ops' records
from . import (
    conversion,
    creation,
    elementwise,
    indexing,
    inplace,
    joining,
    linalg,
    math_functions,
    rearrange,
    records,
    reduction,
    shape,
)
from . import tensor_protocol as tensor_protocol  # registers the records of Tensor's own methods
from .complex import (
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_conj,
    is_neg,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    vdot,
    view_as_complex,
    view_as_real,
)
from .conversion import from_dlpack, to, type_as
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .elementwise import (
    abs,
    add,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    clamp,
    clip,
    cos,
    div,
    elu,
    eq,
    erf,
    exp,
    exp2,
    expm1,
    floor,
    floor_divide,
    ge,
    gelu,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    leaky_relu,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    trunc,
    where,
)
from .gather_scatter import (
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    scatter,
    scatter_add,
    scatter_reduce,
    take_along_dim,
)
from .indexing import index_put, masked_scatter, masked_select, nonzero, put, take
from .joining import (
    cat,
    chunk,
    column_stack,
    concat,
    dstack,
    hstack,
    row_stack,
    split,
    stack,
    unbind,
    vstack,
)
from .linalg import addmm, addmv, baddbmm, bmm, cross, dot, einsum, kron, linear, matmul, mm, outer, tensordot
from .log_sum_exp import log_softmax, logsumexp, softmax
from .math_functions import (
    addcdiv,
    addcmul,
    allclose,
    clamp_max,
    clamp_min,
    copysign,
    equal,
    fmod,
    frac,
    heaviside,
    hypot,
    isclose,
    isneginf,
    isposinf,
    lerp,
    logaddexp,
    logit,
    nan_to_num,
    sgn,
    signbit,
    xlogy,
)
from .order_statistics import kthvalue, median, mode, nanmedian, nanquantile, quantile, topk
from .random import bernoulli, multinomial, normal, poisson
from .random_creation import (
    Generator,
    default_generator,
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
)
from .rearrange import (
    diag,
    diag_embed,
    diagonal,
    flip,
    meshgrid,
    moveaxis,
    movedim,
    repeat,
    repeat_interleave,
    roll,
    rot90,
    swapaxes,
    swapdims,
    tile,
    tril,
    tril_indices,
    triu,
    triu_indices,
)
from .reduction import (
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumsum,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    sum,
    trace,
)
from .scans import cummax, cummin, cumprod, diff, logcumsumexp
from .searching import bucketize, searchsorted
from .shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    clone,
    contiguous,
    expand,
    flatten,
    narrow,
    permute,
    reshape,
    select,
    squeeze,
    t,
    transpose,
    unflatten,
    unsqueeze,
    view,
)
from .sorting import argsort, msort, sort
from .special_functions import digamma, erfc, erfinv, lgamma
from .statistics import bincount, corrcoef, cov, histc, std, std_mean, var, var_mean
from .trigonometric import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cosh,
    sinh,
    tan,
)
from .unique import unique, unique_consecutive

true_divide = div
multiply = mul
subtract = sub
negative = neg
greater = gt
less = lt


# -- Tensor's methods and operators: read from the op records ---------------------------------------
def _install_methods() -> None:
    """Attach every method and in-place variant the op records declare to :class:`ember.Tensor`."""
    methods, inplace_methods = records.method_table()
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    for name, fn in inplace_methods.items():
        setattr(Tensor, name, inplace.make_inplace(fn, name))
    Tensor.T = property(
        lambda self: permute(self, tuple(reversed(range(self.ndim)))),  # type: ignore
        doc="All dims reversed (a view).",
    )
    Tensor.mT = property(lambda self: transpose(self, -2, -1), doc="Last two dims swapped (a view).")  # type: ignore
    Tensor.real = property(  # type: ignore
        _complex_ops._real_property, _complex_ops._set_real, doc=_complex_ops._real_property.__doc__
    )
    Tensor.imag = property(  # type: ignore
        _complex_ops._imag_property, _complex_ops._set_imag, doc=_complex_ops._imag_property.__doc__
    )
    Tensor.__hash__ = lambda self: id(self)  # type: ignore[method-assign]


_install_methods()
