"""``ember.array_api``: Ember as a Python array API standard namespace (version 2025.12).

Libraries written against the standard (scikit-learn, SciPy) run on Ember tensors through it:
``xp = x.__array_namespace__()`` returns this module, whose functions take and return
:class:`ember.Tensor` (there is no wrapper class) with the standard's names, signatures and
semantics: ``axis``/``keepdims``, ``max``/``min`` returning values only, the standard's type
promotion (a 0-d array promotes like any other; Python scalars are weak), ``device=`` on every
creation function. The modules follow the standard's categories.

Dtypes: bool, int8, int16, int32, int64, uint8, float32, float64, complex64, complex128. Ember
has no uint16, uint32, uint64. Extensions:
``linalg`` (:mod:`ember.array_api.linalg`, on :mod:`ember.linalg`) and ``fft``
(:mod:`ember.array_api.fft`, on :mod:`ember.fft`).
"""

from __future__ import annotations

import math as _math

from . import _records as _records  # registers the op records of the array-object methods
from . import fft as fft  # the fft extension, on ember.fft
from . import linalg as linalg  # the linalg extension, on ember.linalg
from ._creation import (
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    full,
    full_like,
    linspace,
    meshgrid,
    ones,
    ones_like,
    tril,
    triu,
    zeros,
    zeros_like,
)
from ._dtypes import (
    astype,
    bool,
    can_cast,
    complex64,
    complex128,
    finfo,
    float32,
    float64,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    isdtype,
    result_type,
    uint8,
)
from ._elementwise import *  # noqa: F403
from ._elementwise import __all__ as _elementwise_names
from ._info import __array_namespace_info__
from ._linalg import matmul, matrix_transpose, tensordot, vecdot
from ._manipulation import (
    broadcast_arrays,
    broadcast_shapes,
    broadcast_to,
    concat,
    expand_dims,
    flip,
    moveaxis,
    permute_dims,
    repeat,
    reshape,
    roll,
    squeeze,
    stack,
    take,
    take_along_axis,
    tile,
    unstack,
)
from ._search import (
    argmax,
    argmin,
    argsort,
    count_nonzero,
    isin,
    nonzero,
    searchsorted,
    sort,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
    where,
)
from ._statistical import (
    all,
    any,
    cumulative_prod,
    cumulative_sum,
    diff,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)

#: the standard's version this namespace implements (the latest published one)
__array_api_version__ = "2025.12"
#: versions ``Tensor.__array_namespace__(api_version=...)`` accepts: each is a subset of the
#: latest as far as Ember implements it, so every one gets this namespace
SUPPORTED_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12", "2025.12")

e = _math.e
inf = _math.inf
nan = _math.nan
pi = _math.pi
newaxis = None

__all__ = [
    "__array_api_version__", "__array_namespace_info__", "fft", "linalg", "e", "inf", "nan", "pi", "newaxis",
    "bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64", "complex64", "complex128",
    "astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type",
    "arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full", "full_like",
    "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros", "zeros_like",
    *_elementwise_names,
    "matmul", "matrix_transpose", "tensordot", "vecdot",
    "broadcast_arrays", "broadcast_shapes", "broadcast_to", "concat", "expand_dims", "flip",
    "moveaxis", "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack", "take",
    "take_along_axis", "tile", "unstack",
    "argmax", "argmin", "argsort", "count_nonzero", "isin", "nonzero", "searchsorted", "sort",
    "unique_all", "unique_counts", "unique_inverse", "unique_values", "where",
    "all", "any", "cumulative_prod", "cumulative_sum", "diff", "max", "mean", "min", "prod",
    "std", "sum", "var",
]  # fmt: skip
