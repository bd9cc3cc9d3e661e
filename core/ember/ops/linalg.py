"""Matrix products: matmul (batched, broadcasting, 1-D rules of numpy/PyTorch), mm, bmm, dot,
outer, and linear."""

from __future__ import annotations

import math
from typing import Any

from ..layout import broadcast_shapes, contiguous_strides, view_strides
from ._core import STATE, Tensor, _make, attach, cast_data, kernel, same_device, sum_to
from .elementwise import _c, _promote
from .shape import strides_of


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with numpy's rules: 1-D operands are promoted and the added dim removed,
    batch dims broadcast."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two tensors, got {type(a).__name__} and {type(b).__name__}")
    dev = same_device("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
    dt = _promote(a, b)
    if dt.is_bool:
        raise TypeError("matmul: bool tensors are not supported; cast to an integer or float dtype")
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    n, k = a2.shape[-2], a2.shape[-1]
    k2, m = b2.shape[-2], b2.shape[-1]
    if k != k2:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({k} != {k2}: the "
            "last dim of the first must equal the second-to-last of the second)"
        )
    try:
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of {a.shape} and {b.shape} do not broadcast") from None
    shape = batch + (n, m)
    a_rows = _rows_view(a2) if b2.ndim == 2 else None
    if a_rows is not None:
        # a batch of rows times one matrix (a linear layer on (B, T, C) input): one product of
        # (B * T, C) rows, as PyTorch does, instead of one per batch element (OpenBLAS runs the
        # character Transformer's (2048, 128) @ (128, 512) in 0.73 of 32 (64, 128) @ (128, 512))
        flat = kernel(dev, "matmul")(cast_data(a_rows, dt), cast_data(b2, dt))
        data = kernel(dev, "as_strided")(flat, shape, contiguous_strides(shape), 0)
    else:
        data = kernel(dev, "matmul")(cast_data(a2, dt), cast_data(b2, dt))
    out = _make(data, shape, dt, dev)
    if a.ndim == 1 and b.ndim == 1:
        final: tuple[int, ...] = batch
    elif a.ndim == 1:
        final = batch + (m,)
    elif b.ndim == 1:
        final = batch + (n,)
    else:
        final = shape
    if STATE.enabled and (a.requires_grad or b.requires_grad):
        # as recorded: an in-place squeeze_/unsqueeze_ of an operand may change its shape later
        a_grad, b_grad = a.requires_grad, b.requires_grad
        a_shape, b_shape, a2_shape, b2_shape = a.shape, b.shape, a2.shape, b2.shape

        def grad(g: Tensor) -> tuple[Any, Any]:
            g2 = g.reshape(shape)
            ga = gb = None
            # complex operands: the conjugate transposes (PyTorch's convention)
            if a_grad and len(a2_shape) == 2 < len(shape):
                # a broadcast over b's batch (a convolution's weight): its gradient sums the
                # per-sample g[i] @ b[i]^T; computed transposed, b[i] @ g[i]^T summed and viewed
                # back, the same products with the row-major operand first (OpenBLAS runs a
                # digits CNN's 32 x 64 @ 64 x 144 per sample 1.4x faster so)
                ga = sum_to(matmul(_c(b2), g2.mT), a2_shape[::-1]).mT.reshape(a_shape)
            elif a_grad:
                ga = sum_to(matmul(g2, _c(b2.mT)), a2_shape).reshape(a_shape)
            if b_grad and a_rows is not None and len(b2_shape) == 2:
                # the matrix's gradient as one product over all the rows (a_rows^T @ g's rows)
                # instead of a product per batch element summed
                g_rows = g2.reshape(a_rows.shape[0], m)
                gb = matmul(_c(a_rows.mT), g_rows).reshape(b_shape)
            elif b_grad:
                gb = sum_to(matmul(_c(a2.mT), g2), b2_shape).reshape(b_shape)
            return ga, gb

        # each operand's gradient reads the other one only (as PyTorch saves them)
        saved = ((b2,) if a_grad else ()) + ((a2,) if b_grad else ())
        out = attach(out, "matmul", grad, (a, b), saved)
        if final != shape:
            # the graph node is on the full-shape product; expose the squeezed view
            out = out.reshape(final)
        return out
    return out.reshape(final) if final != shape else out


def _rows_view(a: Tensor) -> Tensor | None:
    """``a`` (batched, at least 3-D) as a (rows, k) view with its batch dims folded into the rows,
    where its strides allow one (no copy); else None."""
    if a.ndim < 3:
        return None
    rows = math.prod(a.shape[:-1])
    if rows == 0 or view_strides(a.shape, strides_of(a), (rows, a.shape[-1])) is None:
        return None
    return a.reshape(rows, a.shape[-1])


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two 2-D matrices."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected 2-D tensors, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched product of (B, n, k) and (B, k, m) tensors (no broadcasting)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"bmm: expected 3-D tensors with equal batch size, got shapes {a.shape} and {b.shape}"
        )
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length."""
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"dot: expected two 1-D tensors of the same size, got shapes {a.shape} and {b.shape}"
        )
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors."""
    return a.reshape(-1, 1) * b.reshape(1, -1)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` (PyTorch's layout: weight is (out_features, in_features))."""
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (shape {x.shape}) but weight expects "
            f"{weight.shape[-1]} (weight shape {weight.shape})"
        )
    out = matmul(x, weight.mT)
    return out + bias if bias is not None else out


def addmm(inp: Any, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * inp + alpha * (mat1 @ mat2)`` for 2-D mat1, mat2 (inp broadcasts); with beta 0,
    inp is ignored (its NaNs do not propagate), as in PyTorch."""
    if not isinstance(mat1, Tensor) or not isinstance(mat2, Tensor) or mat1.ndim != 2 or mat2.ndim != 2:
        raise ValueError(
            f"addmm: mat1 and mat2 must be 2-D tensors, got shapes {getattr(mat1, 'shape', mat1)} and "
            f"{getattr(mat2, 'shape', mat2)}"
        )
    return _add_scaled("addmm", inp, matmul(mat1, mat2), beta, alpha)


def addmv(inp: Any, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * inp + alpha * (mat @ vec)`` for a 2-D mat and a 1-D vec."""
    if not isinstance(mat, Tensor) or not isinstance(vec, Tensor) or mat.ndim != 2 or vec.ndim != 1:
        raise ValueError(
            f"addmv: expected a 2-D mat and a 1-D vec, got shapes {getattr(mat, 'shape', mat)} and "
            f"{getattr(vec, 'shape', vec)}"
        )
    return _add_scaled("addmv", inp, matmul(mat, vec), beta, alpha)


def baddbmm(inp: Any, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * inp + alpha * bmm(batch1, batch2)`` for 3-D batches."""
    if not isinstance(batch1, Tensor) or not isinstance(batch2, Tensor):
        raise TypeError("baddbmm: batch1 and batch2 must be tensors")
    return _add_scaled("baddbmm", inp, bmm(batch1, batch2), beta, alpha)


def _add_scaled(op: str, inp: Any, prod: Tensor, beta: Any, alpha: Any) -> Tensor:
    from ..layout import broadcast_shapes as _bs

    if isinstance(inp, Tensor):
        try:
            if _bs(inp.shape, prod.shape) != prod.shape:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{op}: input of shape {inp.shape} does not broadcast to the product's shape {prod.shape}"
            ) from None
    from .. import dtypes

    dt = dtypes.result_type(inp, prod) if isinstance(inp, Tensor) else prod.dtype
    if not dt.is_floating_point:  # PyTorch truncates beta and alpha to integers for integer results
        alpha, beta = int(alpha), int(beta)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # PyTorch ignores inp then: NaN and inf in it do not propagate
        if not isinstance(inp, Tensor):
            return prod
        from .creation import zeros
        from .elementwise import where

        # inp still gets its (zero) gradient, as in PyTorch, without its values taking part
        return prod + where(zeros(inp.shape, dtype=dtypes.bool_, device=inp.device), inp, 0)
    return (inp if beta == 1 else inp * beta) + prod


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum of products over dims of a and b: ``dims`` an int n (a's last n with b's first n) or a
    pair of sequences (a's dims, b's dims)."""
    if isinstance(dims, int):
        if dims < 0:
            raise ValueError(f"tensordot: dims must be non-negative, got {dims}")
        if dims > a.ndim or dims > b.ndim:
            raise ValueError(f"tensordot: dims {dims} is more than the dims of {a.shape} or {b.shape}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise ValueError(f"tensordot: dims {da} and {db} must have the same length")
    from ._core import wrap_dim

    da = [wrap_dim(d, a.ndim, "tensordot") for d in da]
    db = [wrap_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: contracted dimension {i} of a {a.shape} and {j} of b {b.shape} differ "
                f"({a.shape[i]} vs {b.shape[j]})"
            )
    ra = [i for i in range(a.ndim) if i not in da]
    rb = [i for i in range(b.ndim) if i not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    am = a.permute(ra + da).reshape(-1, k)
    bm = b.permute(db + rb).reshape(k, -1)
    return matmul(am, bm).reshape(tuple(a.shape[i] for i in ra) + tuple(b.shape[i] for i in rb))


def kron(a: Tensor, b: Tensor) -> Tensor:
    """Kronecker product: block (i, j) of the result is ``a[i, j] * b`` (in every dim)."""
    n = max(a.ndim, b.ndim)
    a2 = a.reshape((1,) * (n - a.ndim) + a.shape)
    b2 = b.reshape((1,) * (n - b.ndim) + b.shape)
    ia = [1] * (2 * n)
    ib = [1] * (2 * n)
    for i in range(n):
        ia[2 * i] = a2.shape[i]
        ib[2 * i + 1] = b2.shape[i]
    out = a2.reshape(tuple(ia)) * b2.reshape(tuple(ib))
    return out.reshape(tuple(a2.shape[i] * b2.shape[i] for i in range(n)))


def cross(a: Tensor, b: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (a and b broadcast); without ``dim``, the first dim
    of size 3 (``torch.cross``; ``linalg.cross`` uses -1)."""
    from ..layout import broadcast_shapes as _bs
    from ._core import wrap_dim
    from .joining import stack
    from .shape import select

    shape = _bs(a.shape, b.shape)
    if dim is None:
        sizes = [i for i, s in enumerate(shape) if s == 3]
        if not sizes:
            raise ValueError(f"cross: no dimension of size 3 in {shape}; give dim")
        d = sizes[0]
    else:
        d = wrap_dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise ValueError(f"cross: dimension {d} of {shape} must have size 3, got {shape[d]}")
    a, b = a.expand(shape), b.expand(shape)
    x = [select(a, d, i) for i in range(3)]
    y = [select(b, d, i) for i in range(3)]
    return stack([x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]], d)


# -- einsum ---------------------------------------------------------------------------------------
def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[list[str]], list[str]]:
    """Each operand's subscripts and the output's, as lists of labels; ``...`` becomes the labels
    '0', '1', ... (broadcast dims, right-aligned); an implicit output is the labels seen once, in
    alphabetical order, after the ellipsis dims."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        if "->" in rhs:
            raise ValueError(f"einsum: more than one '->' in {equation!r}")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: the equation {equation!r} names {len(terms)} operands but {len(shapes)} were given"
        )
    n_ell = 0
    parsed: list[list[str]] = []
    for t, shape in zip(terms, shapes):
        if (
            t.count("...") > 1
            or t.replace("...", "").count(".")
            or (not t.replace("...", "").isalpha() and t.replace("...", ""))
        ):
            raise ValueError(f"einsum: invalid subscripts {t!r} in {equation!r} (letters and one '...')")
        labels = list(t.replace("...", ""))
        if "..." in t:
            k = len(shape) - len(labels)
            if k < 0:
                raise ValueError(f"einsum: subscripts {t!r} name more dims than the operand's shape {shape}")
            n_ell = max(n_ell, k)
            pos = t.index("...")
            before = len(t[:pos])
            labels = labels[:before] + [str(n_ell - k + i) for i in range(k)] + labels[before:]
        elif len(labels) != len(shape):
            raise ValueError(
                f"einsum: subscripts {t!r} name {len(labels)} dims, but the operand has shape {shape}"
            )
        parsed.append(labels)
    ell = [str(i) for i in range(n_ell)]
    if rhs is None:
        counts: dict[str, int] = {}
        for labels in parsed:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1 and c.isalpha())
    else:
        if rhs.count("...") > 1 or (rhs.replace("...", "") and not rhs.replace("...", "").isalpha()):
            raise ValueError(f"einsum: invalid output subscripts {rhs!r} in {equation!r}")
        out = list(rhs.replace("...", ""))
        if "..." in rhs:
            p = rhs.index("...")
            out = out[:p] + ell + out[p:]
        seen_in = {c for labels in parsed for c in labels}
        for c in out:
            if c.isalpha() and c not in seen_in:
                raise ValueError(
                    f"einsum: output subscript {c!r} does not appear in the inputs of {equation!r}"
                )
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: output subscripts {rhs!r} repeat a label")
    return parsed, out


def einsum(equation: Any, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)``. Subscripts are
    letters; ``...`` stands for broadcast dims; a label repeated in one operand takes its diagonal;
    without ``->`` the output is the labels that appear once, in alphabetical order. The sublist
    form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` is accepted too.

    The operands are contracted two at a time, each contraction one ``matmul`` (after permute and
    reshape); the next pair is the one whose result is smallest (greedy), and labels no later
    operand or the output needs are summed as early as possible, so no intermediate is larger than
    it must be."""
    if isinstance(equation, Tensor):  # the sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])
        equation, operands = _sublists_to_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    for i, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum: operand {i} must be a tensor, got {type(o).__name__}")
    same_device("einsum", *operands)
    subs, out = _parse_einsum(equation, [o.shape for o in operands])
    sizes: dict[str, int] = {}
    ops: list[tuple[Tensor, list[str]]] = []
    for t, labels in zip(operands, subs):
        t, labels = _einsum_diagonals(t, labels)
        for c, n in zip(labels, t.shape):
            if c in sizes and sizes[c] != n and n != 1 and sizes[c] != 1:
                raise ValueError(
                    f"einsum: subscript {c!r} has size {n} in one operand and {sizes[c]} in another "
                    f"({equation!r})"
                )
            if sizes.get(c, 1) == 1:
                sizes[c] = n
        ops.append((t, labels))
    # sum each operand's labels that appear nowhere else (and not in the output)
    ops = [_einsum_sum_private(i, ops, out) for i in range(len(ops))]
    while len(ops) > 1:
        best = None
        for i in range(len(ops)):
            for j in range(i + 1, len(ops)):
                keep = _einsum_keep(ops, (i, j), out)
                size = 1
                for c in keep:
                    size *= sizes[c]
                if best is None or size < best[0]:
                    best = (size, i, j, keep)
        assert best is not None
        _, i, j, keep = best
        merged = _einsum_pair(ops[i], ops[j], keep, sizes)
        ops = [o for k, o in enumerate(ops) if k not in (i, j)] + [merged]
    t, labels = ops[0]
    extra = [c for c in labels if c not in out]
    if extra:
        t = t.sum(tuple(labels.index(c) for c in extra))
        labels = [c for c in labels if c in out]
    # labels in the output that the (broadcast) operand lacks become size-1 dims, then expanded
    for c in out:
        if c not in labels:
            t, labels = t.unsqueeze(-1), labels + [c]
    t = t.permute([labels.index(c) for c in out]) if labels != out else t
    shape = tuple(sizes[c] for c in out)
    if t.shape != shape:
        t = t.expand(shape)
    return t


def _sublists_to_equation(args: tuple) -> tuple[str, tuple]:
    """``(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", (a, b))``: each operand followed by its
    subscripts as ints in [0, 52) (or ``...``), then optionally the output's."""
    import string

    letters = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's order: 0 is "A", 26 is "a"

    def word(sub: Any) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, int) and 0 <= s < len(letters):
                out.append(letters[s])
            else:
                raise ValueError(f"einsum: a sublist subscript must be an int in [0, 52) or ..., got {s!r}")
        return "".join(out)

    ops, terms = [], []
    i = 0
    while i + 1 < len(args) and isinstance(args[i], Tensor):
        ops.append(args[i])
        terms.append(word(args[i + 1]))
        i += 2
    rest = args[i:]
    if len(rest) > 1 or (rest and isinstance(rest[0], Tensor)):
        raise ValueError("einsum: in the sublist form each operand must be followed by its subscripts")
    eq = ",".join(terms) + (f"->{word(rest[0])}" if rest else "")
    return eq, tuple(ops)


def _einsum_diagonals(t: Tensor, labels: list[str]) -> tuple[Tensor, list[str]]:
    """An operand whose subscripts repeat a label ('ii', 'iji'): its diagonal over those dims."""
    from .rearrange import diagonal

    while len(set(labels)) != len(labels):
        for a in range(len(labels)):
            b = next((k for k in range(a + 1, len(labels)) if labels[k] == labels[a]), None)
            if b is not None:
                if t.shape[a] != t.shape[b]:
                    raise ValueError(
                        f"einsum: subscript {labels[a]!r} is repeated for dims of sizes {t.shape[a]} and "
                        f"{t.shape[b]}"
                    )
                c = labels[a]
                t = diagonal(t, 0, a, b)
                labels = [x for k, x in enumerate(labels) if k not in (a, b)] + [c]
                break
    return t, labels


def _einsum_keep(ops: list, pair: tuple[int, ...], out: list[str]) -> list[str]:
    """The labels the contraction of ``pair`` must keep: those the output or another operand needs."""
    others = {c for k, (_, labels) in enumerate(ops) if k not in pair for c in labels} | set(out)
    seen: list[str] = []
    for k in pair:
        for c in ops[k][1]:
            if c in others and c not in seen:
                seen.append(c)
    return seen


def _einsum_sum_private(i: int, ops: list, out: list[str]) -> tuple[Tensor, list[str]]:
    t, labels = ops[i]
    others = {c for k, (_, lab) in enumerate(ops) if k != i for c in lab} | set(out)
    private = [k for k, c in enumerate(labels) if c not in others]
    if not private or len(ops) == 1:
        return t, labels
    return t.sum(tuple(private)), [c for k, c in enumerate(labels) if k not in private]


def _einsum_pair(
    x: tuple[Tensor, list[str]], y: tuple[Tensor, list[str]], keep: list[str], sizes: dict[str, int]
) -> tuple[Tensor, list[str]]:
    """Contract two operands into one with labels ``keep``: batch labels (in both, kept), the
    summed labels (in both, not kept), and each one's own labels; one batched matmul."""
    a, la = x
    b, lb = y
    # a label in only one operand and not kept was summed already (see _einsum_sum_private), but a
    # pair's own leftovers can remain after earlier contractions: sum them now
    a, la = _sum_unneeded(a, la, lb, keep)
    b, lb = _sum_unneeded(b, lb, la, keep)
    batch = [c for c in la if c in lb and c in keep]
    summed = [c for c in la if c in lb and c not in keep]
    for c in summed:  # a size-1 dim broadcasts: the other side's dim is summed first (as PyTorch)
        na, nb = a.shape[la.index(c)], b.shape[lb.index(c)]
        if na == 1 and nb != 1:
            b = b.sum(lb.index(c), keepdim=True)
        elif nb == 1 and na != 1:
            a = a.sum(la.index(c), keepdim=True)
    own_a = [c for c in la if c not in lb]
    own_b = [c for c in lb if c not in la]

    def prod(cs: list[str], t: Tensor, labels: list[str]) -> int:
        n = 1
        for c in cs:
            n *= t.shape[labels.index(c)]
        return n

    # broadcast size-1 batch dims of either side to the common size
    bshape = tuple(sizes[c] for c in batch)
    am = a.permute([la.index(c) for c in batch + own_a + summed])
    bm = b.permute([lb.index(c) for c in batch + summed + own_b])
    am = am.expand(bshape + am.shape[len(batch) :]) if am.shape[: len(batch)] != bshape else am
    bm = bm.expand(bshape + bm.shape[len(batch) :]) if bm.shape[: len(batch)] != bshape else bm
    for k, c in enumerate(summed):  # a contracted label must have one size on both sides
        na, nb = am.shape[len(batch) + len(own_a) + k], bm.shape[len(batch) + k]
        if na != nb:
            raise ValueError(f"einsum: contracted subscript {c!r} has sizes {na} and {nb}")
    m, n, k = prod(own_a, a, la), prod(own_b, b, lb), prod(summed, a, la)
    if summed:
        r = matmul(am.reshape(bshape + (m, k)), bm.reshape(bshape + (k, n)))
    else:  # nothing to sum: an elementwise (outer) product, cheaper than a matmul over k = 1
        r = am.reshape(bshape + (m, 1)) * bm.reshape(bshape + (1, n))
    shape = bshape + tuple(a.shape[la.index(c)] for c in own_a) + tuple(b.shape[lb.index(c)] for c in own_b)
    return r.reshape(shape), batch + own_a + own_b


def _sum_unneeded(
    t: Tensor, labels: list[str], other: list[str], keep: list[str]
) -> tuple[Tensor, list[str]]:
    drop = [k for k, c in enumerate(labels) if c not in other and c not in keep]
    if not drop:
        return t, labels
    return t.sum(tuple(drop)), [c for k, c in enumerate(labels) if k not in drop]


# ----------------------------------------------------------------------------------------------
# records (see ember.ops.records)
# ----------------------------------------------------------------------------------------------
def _records() -> None:
    import numpy as np

    from .records import OpRecord, reflected, register
    from .samples import ErrorSample, Sample, rand_array

    def matmul_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(3, 4), a(4, 5))),
            Sample((a(2, 3, 4), a(4, 2))),
            Sample((a(2, 1, 3, 4), a(3, 4, 2))),
            Sample((a(3, 4), a(2, 4, 5))),  # a 2-D operand broadcast over the batch (its own gradient)
            Sample((a(4), a(2, 2, 4, 3))),
            Sample((a(4), a(4, 3))),
            Sample((a(3, 4), a(4))),
            Sample((a(4), a(4))),
            Sample((a(0, 4), a(4, 3)), grad=False),
            Sample((a(3, 0), a(0, 2)), grad=False),
            Sample((a(5, 3), a(3, 5)), noncontig=True),
            Sample((a(4, 3), a(3, 4)), noncontig="flip", grad=False),
            Sample((a(17, 33), a(33, 65)), grad=False),
        ]

    def pairs(*shapes: tuple[tuple[int, ...], tuple[int, ...]]) -> Any:
        def make(dtype: str, rng: np.random.Generator) -> list[Sample]:
            out = [
                Sample(
                    (rand_array(rng, sa, dtype, -1, 1), rand_array(rng, sb, dtype, -1, 1)),
                    grad=0 not in sa + sb,
                )
                for sa, sb in shapes
            ]
            sa, sb = shapes[0]
            out.append(
                Sample((rand_array(rng, sa, dtype, -1, 1), rand_array(rng, sb, dtype, -1, 1)), noncontig=True)
            )
            return out

        return make

    def linear_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        def a(*s: int) -> np.ndarray:
            return rand_array(rng, s, dtype, -1, 1)

        return [
            Sample((a(5, 4), a(3, 4), a(3))),
            Sample((a(2, 5, 4), a(3, 4), None)),
            Sample(
                (
                    a(
                        4,
                    ),
                    a(3, 4),
                    a(3),
                )
            ),
        ]

    def linear_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        return x @ w.T + (0 if b is None else b)

    register(
        OpRecord(
            "mm",
            mm,
            pairs(((3, 4), (4, 5)), ((0, 4), (4, 2))),
            np.matmul,
            methods=("mm",),
            dtypes=("float32", "float64", "int64"),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones(3), np.ones(3)),
                    {},
                    ValueError,
                    "mm: expected 2-D tensors, got shapes \\(3,\\) and \\(3,\\)",
                ),
            ),
        ),
        OpRecord(
            "bmm",
            bmm,
            pairs(((2, 3, 4), (2, 4, 5)), ((1, 2, 3), (1, 3, 1))),
            np.matmul,
            methods=("bmm",),
            dtypes=("float32", "float64", "int64"),
            atol=1e-4,
        ),
        OpRecord(
            "dot",
            dot,
            pairs(((5,), (5,)), ((0,), (0,))),
            np.dot,
            methods=("dot",),
            dtypes=("float32", "float64", "int64", "complex64", "complex128"),
            atol=1e-4,
        ),
        OpRecord(
            "outer",
            outer,
            pairs(((3,), (4,)), ((0,), (2,))),
            np.outer,
            methods=("outer",),
            dtypes=("float32", "float64", "int64"),
        ),
        OpRecord("linear", linear, linear_samples, linear_ref, atol=1e-4, covers=("nn.functional.linear",)),
        OpRecord(
            "matmul",
            matmul,
            matmul_samples,
            np.matmul,
            kernel="matmul",
            methods={"matmul": matmul, "__matmul__": matmul, "__rmatmul__": reflected(matmul)},
            dtypes=("float32", "float64", "int64", "complex64", "complex128"),
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((3, 4)), np.ones((5, 2))),
                    {},
                    ValueError,
                    "matmul: shapes \\(3, 4\\) and \\(5, 2\\) cannot be multiplied",
                ),
            ),
        ),
    )

    _more_records()


def _more_records() -> None:
    """Records of einsum, tensordot, kron, cross and the add-a-product ops."""
    import numpy as np

    from .records import OpRecord, register
    from .samples import ErrorSample, Sample, rand_array

    num = ("float32", "float64", "int64")

    def arrays(dtype: str, rng: np.random.Generator, *shapes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        return tuple(rand_array(rng, s, dtype, -1, 1) for s in shapes)

    def einsum_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        cases = [
            ("ij,jk->ik", (3, 4), (4, 2)),
            ("bij,bjk", (2, 3, 4), (2, 4, 2)),  # implicit output: b, i, k
            ("ii->i", (3, 3)),  # diagonal
            ("ii", (3, 3)),  # trace
            ("i,i", (4,), (4,)),
            ("i,j->ij", (3,), (2,)),
            ("...ij,...jk->...ik", (2, 3, 4), (4, 2)),  # ellipsis, broadcast
            ("abc,cd,de->ae", (2, 3, 4), (4, 3), (3, 2)),  # three operands
            ("iij->ji", (3, 3, 2)),
            ("ij->", (2, 3)),
            ("bn,anm,bm->ba", (2, 3), (4, 3, 2), (2, 2)),
            ("ij,ij->ij", (0, 3), (0, 3)),
            ("bij,bjk->bik", (1, 2, 1), (3, 3, 2)),  # size-1 dims broadcast, contracted ones too
        ]
        out = [
            Sample((eq,) + arrays(dtype, rng, *shapes), grad=0 not in sum(shapes, ()))
            for eq, *shapes in cases
        ]
        out.append(Sample(("ij,jk", *arrays(dtype, rng, (4, 3), (3, 4))), noncontig=True))
        a, b = arrays(dtype, rng, (3, 4), (4, 2))
        out.append(Sample((a, [0, 1], b, [1, 2], [2, 0])))  # the sublist form
        return out

    def tensordot_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(arrays(dtype, rng, (2, 3, 4), (3, 4, 5))),
            Sample(arrays(dtype, rng, (2, 3), (3, 4)), {"dims": 1}),
            Sample(arrays(dtype, rng, (2, 3), (4,)), {"dims": 0}),
            Sample(arrays(dtype, rng, (2, 3, 4), (4, 2, 5)), {"dims": ([2, 0], [0, 1])}),
            Sample(arrays(dtype, rng, (4, 3), (4, 3)), {"dims": ([0, 1], [0, 1])}, noncontig=True),
        ]

    def tensordot_ref(a: np.ndarray, b: np.ndarray, dims: Any = 2) -> np.ndarray:
        return np.tensordot(a, b, axes=dims)

    def kron_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(arrays(dtype, rng, (2, 3), (2, 2))),
            Sample(arrays(dtype, rng, (3,), (2, 2))),
            Sample(arrays(dtype, rng, (2, 1, 2), (3,))),
            Sample(arrays(dtype, rng, (3, 2), (2, 2)), noncontig=True),
        ]

    def cross_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(arrays(dtype, rng, (4, 3), (4, 3)), {"dim": 1}),
            Sample(arrays(dtype, rng, (3, 2), (3, 1)), {"dim": 0}),
            Sample(arrays(dtype, rng, (2, 3), (3,))),  # no dim: the first of size 3
            Sample(arrays(dtype, rng, (3, 3), (3, 3)), {"dim": -1}, noncontig=True),
        ]

    def cross_ref(a: np.ndarray, b: np.ndarray, dim: int | None = None) -> np.ndarray:
        shape = np.broadcast_shapes(a.shape, b.shape)
        if dim is None:
            dim = shape.index(3)
        return np.cross(np.broadcast_to(a, shape), np.broadcast_to(b, shape), axis=dim)

    def addmm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(arrays(dtype, rng, (3, 2), (3, 4), (4, 2))),
            Sample(arrays(dtype, rng, (2,), (3, 4), (4, 2)), {"beta": 2, "alpha": 3}),
            Sample(arrays(dtype, rng, (3, 1), (3, 4), (4, 2)), {"beta": 0}),
            Sample(arrays(dtype, rng, (2, 2), (2, 3), (3, 2)), noncontig=True),
        ]

    def addmv_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(arrays(dtype, rng, (3,), (3, 4), (4,))),
            Sample(arrays(dtype, rng, (1,), (3, 4), (4,)), {"beta": 2, "alpha": -1}),
            Sample(arrays(dtype, rng, (3,), (3, 4), (4,)), {"beta": 0}),
        ]

    def baddbmm_samples(dtype: str, rng: np.random.Generator) -> list[Sample]:
        return [
            Sample(arrays(dtype, rng, (2, 3, 2), (2, 3, 4), (2, 4, 2))),
            Sample(arrays(dtype, rng, (3, 2), (2, 3, 4), (2, 4, 2)), {"beta": 2, "alpha": 3}),
            Sample(arrays(dtype, rng, (2, 3, 3), (2, 3, 2), (2, 2, 3)), noncontig=True),
        ]

    def add_product_ref(
        x: np.ndarray, a: np.ndarray, b: np.ndarray, beta: Any = 1, alpha: Any = 1
    ) -> np.ndarray:
        return (0 if beta == 0 else beta * x) + alpha * np.matmul(a, b)

    register(
        OpRecord(
            "einsum",
            einsum,
            einsum_samples,
            np.einsum,
            dtypes=num,
            atol=1e-4,
            errors=(
                ErrorSample(
                    ("ij,jk", np.ones((2, 3)), np.ones((4, 2))),
                    {},
                    ValueError,
                    "einsum: subscript 'j' has size 4 in one operand and 3 in another",
                ),
                ErrorSample(
                    ("ij", np.ones(3)), {}, ValueError, "einsum: subscripts 'ij' name 2 dims, but the operand"
                ),
                ErrorSample(
                    ("i,i", np.ones(3)), {}, ValueError, "einsum: the equation 'i,i' names 2 operands"
                ),
                ErrorSample(
                    ("i->j", np.ones(3)), {}, ValueError, "einsum: output subscript 'j' does not appear"
                ),
            ),
        ),
        OpRecord(
            "tensordot",
            tensordot,
            tensordot_samples,
            tensordot_ref,
            dtypes=num,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 3)), np.ones((4, 2))),
                    {"dims": ([1], [0])},
                    ValueError,
                    "tensordot: contracted dimension 1 of a \\(2, 3\\) and 0 of b \\(4, 2\\) differ",
                ),
            ),
        ),
        OpRecord("kron", kron, kron_samples, np.kron, methods=("kron",), dtypes=num),
        OpRecord(
            "cross",
            cross,
            cross_samples,
            cross_ref,
            methods=("cross",),
            dtypes=num,
            errors=(
                ErrorSample(
                    (np.ones((2, 2)), np.ones((2, 2))), {}, ValueError, "cross: no dimension of size 3"
                ),
            ),
        ),
        OpRecord(
            "addmm",
            addmm,
            addmm_samples,
            add_product_ref,
            methods=("addmm",),
            inplace=("addmm_",),
            dtypes=num,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones(2), np.ones(3), np.ones((3, 2))),
                    {},
                    ValueError,
                    "addmm: mat1 and mat2 must be 2-D",
                ),
            ),
        ),
        OpRecord(
            "addmv",
            addmv,
            addmv_samples,
            add_product_ref,
            methods=("addmv",),
            inplace=("addmv_",),
            dtypes=num,
            atol=1e-4,
        ),
        OpRecord(
            "baddbmm",
            baddbmm,
            baddbmm_samples,
            add_product_ref,
            methods=("baddbmm",),
            inplace=("baddbmm_",),
            dtypes=num,
            atol=1e-4,
            errors=(
                ErrorSample(
                    (np.ones((2, 2)), np.ones((2, 2, 3)), np.ones((3, 3, 2))),
                    {},
                    ValueError,
                    "bmm: expected 3-D tensors with equal batch size",
                ),
            ),
        ),
    )


_records()
