"""What the dispatcher may look up per device: the required primitives and the optional kernels.

Optional kernels speed up ops that core otherwise computes as composites of primitives; the
signatures follow the op's own (buffers in, buffer out). Used by ``ember info`` and the
conformance kit's coverage report.
"""

from __future__ import annotations

from ..backend import PRIMITIVES

#: op name -> contract of the optional kernel (core has a composite for each)
OPTIONAL_KERNELS: dict[str, str] = {
    "reshape": "reshape(x, shape) -> a view with the new shape, or None when no view exists",
    "permute": "permute(x, dims) -> a view with dims reordered",
    "expand": "expand(x, shape) -> a broadcast view (stride 0 on expanded dims)",
    "getitem_basic": "getitem_basic(x, key) -> view; key is a tuple of ints, slices (step > 0) and None",
    "is_contiguous": "is_contiguous(x) -> bool",
    "clone": "clone(x) -> a C-contiguous copy",
    "cat": "cat(buffers, dim) -> concatenation of same-dtype buffers",
    "flip": "flip(x, dims) -> a copy reversed along dims",
    "index_select": "index_select(x, dim, index) -> the slices at int64 index along dim",
    "ne": "ne(a, b) -> bool buffer",
    "relu": "relu(x) -> max(x, 0)",
    "sigmoid": "sigmoid(x) -> 1 / (1 + exp(-x))",
    "softmax": "softmax(x, dim) -> softmax along dim (floating x)",
    "log_softmax": "log_softmax(x, dim) -> log-softmax along dim (floating x)",
    "exp2": "exp2(x) -> 2 ** x (floating x)",
    "expm1": "expm1(x)",
    "atan2": "atan2(y, x) -> the angle of the point (x, y) in [-pi, pi] (floating buffers of one dtype, "
    "broadcast); serves atan, asin and acos too",
    "log1p": "log1p(x)",
    "log2": "log2(x)",
    "log10": "log10(x)",
    "sign": "sign(x) -> -1, 0 or 1 in x's dtype (0 for NaN)",
    "signbit": "signbit(x) -> bool buffer: the sign bit of floating x (True for -0.0 and a NaN with its sign "
    "bit set)",
    "rsqrt": "rsqrt(x) -> 1 / sqrt(x)",
    "gelu": "gelu(x) -> x * Phi(x) (exact erf form)",
    "silu": "silu(x) -> x * sigmoid(x)",
    "any": "any(x, dims, keepdim) -> bool reduction of a bool buffer",
    "sort": "sort(x, dim) -> (values, int64 indices): a stable ascending sort along dim (equal elements keep "
    "their order; NaN after every number)",
    "add_": "add_(dst, src) -> None: dst += src in place (dst may be a strided view; src same dtype, "
    "broadcastable)",
    "from_device": "from_device(buffer, source_device, target_index) -> a copy on device target_index of "
    "this type, or None to go through the host",
    "from_dlpack": "from_dlpack(obj, dl_device_type, dl_device_id) -> (buffer, shape, numpy dtype) or None",
    # complex numbers (ember.ops.complex): a device without real / imag / complex copies through the
    # host for them (correct, but it synchronises); conj's composite is complex(real(x), -imag(x))
    "real": "real(x) -> the real parts of complex64 / complex128 x as a float32 / float64 buffer",
    "imag": "imag(x) -> the imaginary parts of complex64 / complex128 x as a float32 / float64 buffer",
    "complex": "complex(re, im) -> the complex64 / complex128 buffer re + i im of two float32 / float64 "
    "buffers of one dtype (broadcast); each part is written as it is (an infinite part stays infinite)",
    "conj": "conj(x) -> the complex conjugate of complex x (same shape and dtype)",
    "complex_abs": "complex_abs(x) -> |x| of complex64 / complex128 x as a float32 / float64 buffer (C's "
    "hypot rule: inf where either part is infinite, even against NaN)",
    # ember.linalg solvers (batched over leading dims, float32/float64, C-contiguous inputs)
    "linalg_cholesky": "linalg_cholesky(a) -> (L, info): lower Cholesky factor of (..., n, n) a (only "
    "its lower triangle read; L's upper triangle zero) and int32 info (...,): 0, or the order of the "
    "first leading minor that is not positive-definite",
    "linalg_lu_factor": "linalg_lu_factor(a) -> (LU, pivots, info): LU with partial pivoting of (..., "
    "m, n) a, L (unit diagonal) and U packed in LU; int64 pivots (..., min(m, n)), LAPACK's 1-based "
    "row interchanges; int32 info (...,): 0, or the 1-based index of the first zero pivot",
    "linalg_solve_triangular": "linalg_solve_triangular(a, b, upper, unitriangular) -> x with a @ x = "
    "b: a (..., n, n) triangular (only the upper or lower triangle read; ones on the diagonal when "
    "unitriangular), b (..., n, k) with the same batch dims; a zero on the diagonal gives inf/NaN, no "
    "error",
    # ember.linalg spectral decompositions (batched over leading dims, float32/float64, C-contiguous inputs)
    "linalg_eigh": "linalg_eigh(a, upper) -> (w, V): eigenvalues (..., n) ascending and orthonormal "
    "eigenvectors (the columns of V) of the symmetric (..., n, n) a, reading only its upper "
    "(upper=True) or lower triangle",
    "linalg_svd": "linalg_svd(a, full_matrices) -> (U, S, Vh) with a = U diag(S) Vh: S (..., k) "
    "descending, k = min(m, n); U (..., m, m) and Vh (..., n, n) when full_matrices, else (..., m, k) "
    "and (..., k, n)",
    "linalg_qr": "linalg_qr(a, complete) -> (Q, R): Householder QR of (..., m, n) a with LAPACK's "
    "signs; Q (..., m, m) and R (..., m, n) when complete, else (..., m, k) and (..., k, n), k = "
    "min(m, n)",
    # max pooling (ember.nn.functional.max_pool2d; core composes it from unfold2d and elementwise ops)
    "max_pool2d": "max_pool2d(x, kernel_size, stride, padding, dilation, out_hw) -> (values, indices): "
    "for each (oh, ow) window of floating (N, C, H, W) x (pairs; padding never wins), the maximum of "
    "its in-bounds elements and, int64, its position h * W + w in the plane: PyTorch's rule, elements "
    "in row-major window order replace the running maximum when greater or NaN (the last NaN wins; "
    "an all -inf window points at its first in-bounds element; a window of padding alone, which "
    "dilation allows, is -inf at index -1); both fresh (N, C, oh, ow)",
    "max_pool2d_backward": "max_pool2d_backward(grad, indices, input_hw) -> grad_input: a fresh zeroed "
    "(N, C, H, W) buffer of grad's dtype with each element of (N, C, oh, ow) grad added at its int64 "
    "index of the same shape (overlapping windows sum, in row-major output order; index -1 adds "
    "nowhere); the indices come from max_pool2d on an input of that size, and another index outside "
    "[0, H * W) must not write outside the buffer (a host backend raises IndexError, a device kernel "
    "may skip it: checking would read the indices back)",
    # the convolution's col2im (unfold2d's backward; core adds the windows back one kernel position at
    # a time otherwise)
    "fold2d": "fold2d(g, src_shape, out_hw, kernel_size, stride, dilation) -> out: a fresh (N, C, H, W) "
    "buffer (src_shape) with each element of the contiguous (N, C, kh, kw, oh, ow) window gradient g "
    "added at (oi * sh + i * dh, oj * sw + j * dw), kernel positions (i, j) in row-major order per "
    "element, from zero (the composite's order); every window lies inside the input; floating and "
    "integer dtypes (core folds bool and complex ones itself)",
    # ember.fft's one transform (complex values as (real, imag) pairs: view_as_real's layout)
    "fft_c2c": "fft_c2c(x, axis, inverse) -> y: the unnormalized DFT y[k] = sum_j x[j] exp(-2 pi i j k / "
    "n) along axis (+2 pi i when inverse), n = x.shape[axis] >= 1, of complex values stored as (real, "
    "imag) pairs: x a C-contiguous float32/float64 buffer (..., 2), 0 <= axis < x.ndim - 1; y fresh, "
    "same shape and dtype",
}


def coverage(kernels: dict[str, object], fallback: bool) -> dict[str, str]:
    """How each op runs on a device whose kernel table is ``kernels``: "native", "composite",
    "fallback" or "missing"."""
    out: dict[str, str] = {}
    for name in PRIMITIVES:
        out[name] = "native" if name in kernels else ("fallback" if fallback else "missing")
    for name in OPTIONAL_KERNELS:
        out[name] = "native" if name in kernels else "composite"
    for name in kernels:
        out.setdefault(name, "native")
    return out
