"""OpenCL C source generators for the Ember OpenCL backend.

Every generator returns the source of one *program* holding one or more kernels. Programs are
specialised per (kernel family, dtype(s), rank bucket, index type, operand modes) and never per
shape: shapes, strides and offsets are kernel arguments. The backend caches built programs.

Conventions of the generated code:

* ``IDX`` is ``int`` or ``long``: the type of element indices, chosen by the backend from the
  sizes involved (32-bit index arithmetic is much faster on CPU devices).
* Values are loaded into the dtype's *compute type* (``float`` for ``half``, which is a storage
  only type here: loads and stores use ``vload_half``/``vstore_half_rte``, so float16 works on
  devices without ``cl_khr_fp16``).
* ``bool`` is stored as ``uchar`` 0/1 (numpy compatible); converting to bool is ``x != 0``.
* Rank-``r`` index math: a linear index ``i`` over a shape ``d0..d{r-1}`` is split into
  coordinates ``c0..c{r-1}`` (C order), each operand's element is at
  ``off + sum(c_j * s_j)``. Rank 0 means "every operand is contiguous": element ``off + i``.
"""

from __future__ import annotations

from functools import cache

from ._signature import KernelSignature, Param

CTYPE = {
    "bool": "uchar",
    "uint8": "uchar",
    "int8": "char",
    "int16": "short",
    "int32": "int",
    "int64": "long",
    "float16": "half",
    "float32": "float",
    "float64": "double",
}
FLOATS = ("float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
UNSIGNED = ("bool", "uint8")


def compute_type(dt: str) -> str:
    """The OpenCL type values of dtype ``dt`` are computed in."""
    return "float" if dt == "float16" else CTYPE[dt]


def acc_type(dt: str) -> str:
    """Accumulator type of reductions over dtype ``dt``."""
    if dt in ("float16", "float32"):
        return "float"
    if dt == "float64":
        return "double"
    return "long"


ACC_DTYPE = {"float": "float32", "double": "float64", "long": "int64"}


def load(dt: str, ptr: str, idx: str) -> str:
    """Expression loading element ``idx`` of ``ptr`` as the compute type."""
    if dt == "float16":
        return f"vload_half(0, {ptr} + ({idx}))"
    return f"{ptr}[{idx}]"


def store(dt: str, ptr: str, idx: str, val: str) -> str:
    """Statement storing compute-type ``val`` into element ``idx`` of ``ptr``."""
    if dt == "float16":
        return f"vstore_half_rte({val}, 0, {ptr} + ({idx}));"
    return f"{ptr}[{idx}] = {val};"


def convert(expr: str, src_ct: str, dst: str) -> str:
    """Convert an expression of OpenCL type ``src_ct`` to the compute type of dtype ``dst``."""
    if dst == "bool":
        return f"(uchar)(({expr}) != 0)"
    ct = compute_type(dst)
    if ct == src_ct:
        return f"({expr})"
    return f"({ct})({expr})"


def header(*dtypes: str) -> str:
    """Program preamble (fp64 pragma when needed, unaligned vector types, helpers)."""
    lines = []
    if "float64" in dtypes or "double" in dtypes:
        lines.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
    if "int64" in dtypes or "long" in dtypes:
        lines.append("#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable")
    for dt, w in VEC_WIDTH.items():
        ct = CTYPE[dt]
        if dt in dtypes and (dt != "float64" or "float64" in dtypes):
            lines.append(f"typedef {ct}{w} {ct}{w}u __attribute__((aligned({_ITEMSIZE[dt]})));")
    if "float32" in dtypes or "float16" in dtypes:
        lines.append(_VEXP)
    return "\n".join(lines) + "\n"


#: vector width (elements) of the contiguous fast paths: 256-bit vectors (AVX2)
VEC_WIDTH = {"float32": 8, "float64": 4, "int32": 8, "int64": 4}
_ITEMSIZE = {"float32": 4, "float64": 8, "int32": 4, "int64": 8}
#: elements per work-item of contiguous ("rank -1") elementwise kernels
CHUNK = 64

# float32 exp with plain operators only (PoCL calls builtins such as exp out of line, which is
# ~7x slower): Cephes expf range reduction + degree-6 polynomial, 2^n applied in two factors so
# results down to the denormals are right; about 2 ulp. inf -> inf, -inf -> 0, nan -> nan.
_VEXP = """
inline float8 vexp_(float8 x) {
    x = x < -104.0f ? (float8)(-104.0f) : x;
    x = x > 89.0f ? (float8)(89.0f) : x;
    float8 t = x * 1.44269504088896341f + 12582912.0f;
    float8 nf = t - 12582912.0f;
    float8 r = x - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float8 p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    p = p * (r * r) + r + 1.0f;
    int8 ni = as_int8(t) - 0x4B400000;
    int8 n1 = ni >> 1;
    int8 n2 = ni - n1;
    return p * as_float8((n1 + 127) << 23) * as_float8((n2 + 127) << 23);
}
inline float sexp_(float x) { return vexp_((float8)(x)).s0; }
/* tanh the same way (Cephes tanhf): an odd polynomial for |x| < 0.625, else 1 - 2 / (e^2|x| + 1)
   with the sign of x; about 2 ulp, +-1 for large |x|, nan -> nan. */
inline float8 vtanh_(float8 x) {
    float8 ax = as_float8(as_int8(x) & 0x7fffffff);
    float8 z = x * x;
    float8 p = -5.70498872745E-3f;
    p = p * z + 2.06390887954E-2f;
    p = p * z - 5.37397155531E-2f;
    p = p * z + 1.33314422036E-1f;
    p = p * z - 3.33332819422E-1f;
    float8 small = p * z * ax + ax;
    float8 big = 1.0f - 2.0f / (vexp_(ax + ax) + 1.0f);
    float8 r = ax < 0.625f ? small : big;  /* tanh(|x|) >= 0; odd: the sign of x (also -0) */
    return as_float8(as_int8(r) | (as_int8(x) & (int)0x80000000));
}
inline float stanh_(float x) { return vtanh_((float8)(x)).s0; }
"""
#: elementwise ops whose expression also works on vectors (same dtype in and out)
VEC_OPS = {"add", "sub", "mul", "div", "neg", "exp", "tanh", "copy"}


def _decompose(rank: int, idx: str, var: str = "i", dims: str = "d") -> list[str]:
    """Statements splitting linear ``var`` into coordinates c0..c{rank-1} over dims ``dims``j."""
    if rank == 0:
        return []
    lines = [f"{idx} t_ = {var};"]
    for j in range(rank - 1, 0, -1):
        lines.append(f"{idx} c{j} = t_ % {dims}{j}; t_ /= {dims}{j};")
    lines.append(f"{idx} c0 = t_;")
    return lines


def _pos(prefix: str, rank: int, coord: str = "c") -> str:
    terms = [f"{prefix}_off"] + [f"{coord}{j} * {prefix}_s{j}" for j in range(rank)]
    return " + ".join(terms)


# ----------------------------------------------------------------------------------------------
# elementwise maps


def _unary_exprs(dt: str) -> dict[str, str]:
    if dt in FLOATS:
        return {
            "neg": "-x",
            "abs": "fabs(x)",
            "exp": "exp(x)" if dt == "float64" else "sexp_(x)",
            "log": "log(x)",
            "sqrt": "sqrt(x)",
            "sin": "sin(x)",
            "cos": "cos(x)",
            "tanh": "tanh(x)" if dt == "float64" else "stanh_(x)",
            "erf": "erf(x)",
            "floor": "floor(x)",
            "ceil": "ceil(x)",
            "round": "rint(x)",
            "trunc": "trunc(x)",
            "relu": "(x < 0 ? 0 : x)",
        }
    ident = {"floor": "x", "ceil": "x", "round": "x", "trunc": "x"}
    if dt == "bool":
        return {"abs": "x", **ident, "relu": "x"}
    if dt == "uint8":
        return {"neg": "-x", "abs": "x", **ident, "relu": "x"}
    return {"neg": "-x", "abs": "(x < 0 ? -x : x)", **ident, "relu": "(x < 0 ? 0 : x)"}


def _binary_exprs(dt: str) -> dict[str, str]:
    ops = {"add": "a + b", "sub": "a - b", "mul": "a * b", "eq": "a == b", "lt": "a < b", "le": "a <= b"}
    if dt in FLOATS:
        ops.update(
            {
                "div": "a / b",
                "floor_divide": "floordiv_(a, b)",
                "remainder": "pymod_(a, b)",
                "pow": "pow(a, b)",
                "maximum": "((a > b || isnan(a)) ? a : b)",
                "minimum": "((a < b || isnan(a)) ? a : b)",
            }
        )
    else:
        ops.update(
            {
                "maximum": "(a > b ? a : b)",
                "minimum": "(a < b ? a : b)",
                "bitwise_and": "a & b",
                "bitwise_or": "a | b",
                "bitwise_xor": "a ^ b",
            }
        )
        if dt != "bool":
            ops["pow"] = "ipow_(a, b)"
            ops["floor_divide"] = "ifloordiv_(a, b)"
            ops["remainder"] = "imod_(a, b)"
    return ops


def _divmod_helpers(dt: str) -> str:
    """floordiv_/pymod_ (floats: numpy's and PyTorch's fmod-based algorithm, so 1.0 // 0.1 is 9
    as in Python, not floor(1.0 / 0.1) = 10) or ifloordiv_/imod_ (integers: C's truncating
    division corrected toward negative infinity; b == -1 apart, as MIN / -1 traps on x86).
    Integer division by zero never reaches a kernel: the core raises first."""
    ct = compute_type(dt)
    if dt in FLOATS:
        return f"""
inline {ct} floordiv_({ct} a, {ct} b) {{
    if (b == 0) return a / b;
    {ct} m = fmod(a, b);
    {ct} d = (a - m) / b;
    if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
    if (d == 0) return copysign(({ct})0, a / b);
    {ct} f = floor(d);
    return d - f > ({ct})0.5 ? f + 1 : f;
}}
inline {ct} pymod_({ct} a, {ct} b) {{
    {ct} m = fmod(a, b);
    return (m != 0 && ((b < 0) != (m < 0))) ? m + b : m;
}}
"""
    return f"""
inline {ct} ifloordiv_({ct} a, {ct} b) {{
    if (b == ({ct})-1) return ({ct})(0 - a);
    {ct} q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? ({ct})(q - 1) : q;
}}
inline {ct} imod_({ct} a, {ct} b) {{
    if (b == ({ct})-1) return 0;
    {ct} r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? ({ct})(r + b) : r;
}}
"""


COMPARE_OPS = ("eq", "lt", "le")


def _ipow(ct: str) -> str:
    return f"""
{ct} ipow_({ct} a, {ct} b) {{
    if (b < 0) return (a == 1) ? ({ct})1 : ((a == ({ct})-1) ? ((b & 1) ? ({ct})-1 : ({ct})1) : ({ct})0);
    {ct} r = 1;
    while (b) {{ if (b & 1) r *= a; b >>= 1; a *= a; }}
    return r;
}}
"""


def gen_map_kernel(
    name: str,
    out_dt: str,
    out_strided: bool,
    operands: list[tuple[str, str, bool]],
    body_expr: str,
    expr_ct: str,
    rank: int,
    idx: str,
    vec_expr: str | None = None,
    unit_variant: bool = False,
) -> tuple[str, KernelSignature]:
    """One elementwise kernel: (source, signature).

    operands: (var, dtype, is_scalar); each array operand ``var`` is loaded into ``var`` (compute
    type); a scalar operand is a kernel argument named ``var``. ``body_expr`` (of OpenCL type
    ``expr_ct``) is converted to ``out_dt`` and stored. ``out_strided``: the output has its own
    strides and offset (copy into a view); otherwise it is contiguous at ``out[i]``.
    """
    sig = map_signature(name, out_dt, out_strided, tuple(operands), rank, idx)
    if rank < 0:
        return _gen_map_contiguous(sig, out_dt, operands, body_expr, expr_ct, idx, vec_expr), sig
    if rank >= 2:
        src = _gen_map_tiled(sig, out_dt, out_strided, operands, body_expr, expr_ct, rank, idx, unit_variant)
        return src, sig
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
    ]
    lines += ["    " + s for s in _decompose(rank, idx)]
    for var, dt, scalar in operands:
        if not scalar:
            pos = _pos(var, rank) if rank else f"{var}_off + i"
            lines.append(f"    {compute_type(dt)} {var} = {load(dt, var + '_p', pos)};")
    opos = _pos("out", rank) if out_strided and rank else "out_off + i"
    lines.append("    " + store(out_dt, "out", opos, convert(body_expr, expr_ct, out_dt)))
    lines.append("}")
    return "\n".join(lines) + "\n", sig


@cache
def map_signature(
    name: str,
    out_dt: str,
    out_strided: bool,
    operands: tuple[tuple[str, str, bool], ...],
    rank: int,
    idx: str,
) -> KernelSignature:
    """Parameters of an elementwise kernel (see :func:`gen_map_kernel`): the output buffer and
    offset (and strides when ``out_strided``); per operand its buffer, offset and strides, or its
    value (scalar operands); the dims and the element count; the tiling of a rank >= 2 kernel."""
    r = max(rank, 0)
    params = [Param("out", f"__global {CTYPE[out_dt]}*"), Param("out_off", idx)]
    if out_strided:
        params.append(Param("out_s", idx, r))
    for var, dt, scalar in operands:
        if scalar:
            params.append(Param(var, compute_type(dt)))
        else:
            params += [Param(f"{var}_p", f"__global const {CTYPE[dt]}*"), Param(f"{var}_off", idx)]
            params.append(Param(f"{var}_s", idx, r))
    params += [Param("d", idx, r), Param("n", idx)]
    if rank >= 2:
        params += [Param(p, idx) for p in ("RB", "CB", "NRB", "NCB", "nwi")]
    return KernelSignature(name, tuple(params))


def _vec_ok(op: str, dt: str, out_dt: str) -> bool:
    return (
        op in VEC_OPS
        and dt == out_dt
        and dt in VEC_WIDTH
        and (op not in ("exp", "tanh") or dt == "float32")
        and (op != "div" or dt in FLOATS)
    )


def _vec_expr(op: str, expr: str) -> str:
    return {"exp": "vexp_(x)", "tanh": "vtanh_(x)"}.get(op, expr)


def _gen_map_contiguous(
    sig: KernelSignature,
    out_dt: str,
    operands: list[tuple[str, str, bool]],
    body_expr: str,
    expr_ct: str,
    idx: str,
    vec_expr: str | None,
) -> str:
    """Rank -1: every operand contiguous; work-item g does elements [g*CHUNK, (g+1)*CHUNK), with
    unaligned vector loads/stores when ``vec_expr`` is given (plain operators, no builtins)."""
    lines = [
        sig.declaration() + " {",
        f"    {idx} i0 = get_global_id(0) * {CHUNK};",
        "    if (i0 >= n) return;",
    ]
    if vec_expr is not None:
        w = VEC_WIDTH[out_dt]
        vt = f"{CTYPE[out_dt]}{w}"
        lines.append(f"    if (i0 + {CHUNK} <= n) {{")
        lines.append(f"        for (int j = 0; j < {CHUNK}; j += {w}) {{")
        for var, dt, scalar in operands:
            if not scalar:
                lines.append(
                    f"            {vt} {var} = *(const __global {vt}u*)({var}_p + {var}_off + i0 + j);"
                )
        lines.append(f"            *(__global {vt}u*)(out + out_off + i0 + j) = {vec_expr};")
        lines.append("        }")
        lines.append("        return;")
        lines.append("    }")
    lines.append(f"    {idx} hi = i0 + {CHUNK} < n ? i0 + {CHUNK} : n;")
    lines.append(f"    for ({idx} i = i0; i < hi; ++i) {{")
    for var, dt, scalar in operands:
        if not scalar:
            lines.append(f"        {compute_type(dt)} {var} = {load(dt, var + '_p', f'{var}_off + i')};")
    lines.append("        " + store(out_dt, "out", "out_off + i", convert(body_expr, expr_ct, out_dt)))
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _gen_map_tiled(
    sig: KernelSignature,
    out_dt: str,
    out_strided: bool,
    operands: list[tuple[str, str, bool]],
    body_expr: str,
    expr_ct: str,
    rank: int,
    idx: str,
    unit_variant: bool,
) -> str:
    """Rank >= 2, strided: work-item g owns a tile of the last two dims (rows [rb*RB, +RB) of
    d{r-2} x columns [cb*CB, +CB) of d{r-1}) at one coordinate of the outer dims, so the index
    arithmetic (divisions) is paid once per tile, not per element. With ``unit_variant`` (copies,
    add_: the convolution's im2col and fold) the innermost loop also has a unit-stride version
    (every operand's last stride 1) the compiler can vectorise; the big unary/binary programs
    leave it out to keep their build time down."""
    r2, r1 = rank - 2, rank - 1
    arrays = [var for var, _, scalar in operands if not scalar]
    lines = [
        sig.declaration() + " {",
        f"    {idx} g = get_global_id(0);",
        "    if (g >= nwi) return;",
        f"    {idx} tc_ = g % NCB; {idx} t_ = g / NCB; {idx} tr_ = t_ % NRB; t_ /= NRB;",
    ]
    if not out_strided:
        lines.append(
            f"    {idx} out_s{r2} = d{r1}; {idx} out_s{r1} = 1; {idx} outb = out_off + t_ * d{r2} * d{r1};"
        )
    for j in range(r2 - 1, 0, -1):
        lines.append(f"    {idx} c{j} = t_ % d{j}; t_ /= d{j};")
    if r2 > 0:
        lines.append(f"    {idx} c0 = t_;")
    names = arrays + (["out"] if out_strided else [])
    for var in names:
        terms = [f"{var}_off"] + [f"c{j} * {var}_s{j}" for j in range(r2)]
        lines.append(f"    {idx} {var}b = {' + '.join(terms)};")
    if not out_strided:
        names = names + ["out"]
    lines.append(f"    {idx} i0 = tr_ * RB; {idx} i1 = min(i0 + RB, d{r2});")
    lines.append(f"    {idx} j0 = tc_ * CB; {idx} j1 = min(j0 + CB, d{r1});")
    unit = " && ".join(f"{var}_s{r1} == 1" for var in names)
    for variant in ("unit", "any") if unit_variant else ("any",):
        if variant == "unit":
            lines.append(f"    if ({unit}) {{")
        elif unit_variant:
            lines.append("    } else {")
        else:
            lines.append("    {")
        lines.append(f"        for ({idx} i = i0; i < i1; ++i) {{")
        for var in names:
            lines.append(f"            {idx} {var}r = {var}b + i * {var}_s{r2};")
        lines.append(f"            for ({idx} j = j0; j < j1; ++j) {{")
        for var, dt, scalar in operands:
            if not scalar:
                pos = f"{var}r + j" if variant == "unit" else f"{var}r + j * {var}_s{r1}"
                lines.append(f"                {compute_type(dt)} {var} = {load(dt, var + '_p', pos)};")
        opos = "outr + j" if variant == "unit" else f"outr + j * out_s{r1}"
        lines.append("                " + store(out_dt, "out", opos, convert(body_expr, expr_ct, out_dt)))
        lines.append("            }")
        lines.append("        }")
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def gen_unary_program(dt: str, rank: int, idx: str) -> tuple[str, list[KernelSignature]]:
    """All unary kernels of ``dt``; kernel names are the op names."""
    ct = compute_type(dt)
    src = [header(dt)]
    sigs = []
    for op, expr in _unary_exprs(dt).items():
        vec = _vec_expr(op, expr) if rank < 0 and _vec_ok(op, dt, dt) else None
        if op == "relu" and rank < 0 and dt in VEC_WIDTH:
            vec = f"(x < 0 ? ({CTYPE[dt]}{VEC_WIDTH[dt]})(0) : x)"
        kernel, sig = gen_map_kernel(op, dt, False, [("x", dt, False)], expr, ct, rank, idx, vec)
        src.append(kernel)
        sigs.append(sig)
    return "".join(src), sigs


def gen_binary_program(dt: str, rank: int, idx: str, modes: str) -> tuple[str, list[KernelSignature]]:
    """All binary and compare kernels of ``dt``; ``modes`` is 'AA', 'AS' or 'SA' (S: scalar arg)."""
    ct = compute_type(dt)
    src = [header(dt)]
    if dt in INTS:
        src.append(_ipow(ct))
    if dt != "bool":
        src.append(_divmod_helpers(dt))
    sigs = []
    ops = [("a", dt, modes[0] == "S"), ("b", dt, modes[1] == "S")]
    for op, expr in _binary_exprs(dt).items():
        out = "bool" if op in COMPARE_OPS else dt
        ect = "int" if op in COMPARE_OPS else ct
        vec = expr if rank < 0 and _vec_ok(op, dt, out) else None
        kernel, sig = gen_map_kernel(op, out, False, ops, expr, ect, rank, idx, vec)
        src.append(kernel)
        sigs.append(sig)
    return "".join(src), sigs


def gen_iadd_program(dt: str, rank: int, idx: str, modes: str) -> tuple[str, list[KernelSignature]]:
    """add_: out (any view) += b; operand ``a`` is out itself (same positions), ``modes`` 'AA' or
    'AS' (b a scalar argument)."""
    ct = compute_type(dt)
    ops = [("a", dt, False), ("b", dt, modes[1] == "S")]
    vec = "a + b" if rank < 0 and modes == "AA" and _vec_ok("add", dt, dt) else None
    kernel, sig = gen_map_kernel("add_", dt, True, ops, "a + b", ct, rank, idx, vec, True)
    return header(dt) + kernel, [sig]


def gen_where_program(dt: str, rank: int, idx: str, modes: str) -> tuple[str, list[KernelSignature]]:
    """where(cond, a, b); ``modes`` for a and b: 'AA', 'AS', 'SA', 'SS'."""
    ct = compute_type(dt)
    ops = [("c", "bool", False), ("a", dt, modes[0] == "S"), ("b", dt, modes[1] == "S")]
    kernel, sig = gen_map_kernel("where", dt, False, ops, "c ? a : b", ct, rank, idx)
    return header(dt) + kernel, [sig]


def gen_copy_program(src_dt: str, rank: int, idx: str, dsts: str) -> tuple[str, list[KernelSignature]]:
    """copy (strided src -> strided dst, with dtype conversion) to every dtype in ``dsts``
    (comma separated); kernel names ``copy_<dst>``. Rank 0: both contiguous. One program per
    source dtype keeps the number of builds small."""
    src = [header(src_dt, *dsts.split(","))]
    sigs = []
    for dst in dsts.split(","):
        vec = "x" if rank < 0 and _vec_ok("copy", src_dt, dst) else None
        x = [("x", src_dt, False)]
        kernel, sig = gen_map_kernel(
            f"copy_{dst}", dst, True, x, "x", compute_type(src_dt), rank, idx, vec, True
        )
        src.append(kernel)
        sigs.append(sig)
    return "".join(src), sigs


# ----------------------------------------------------------------------------------------------
# reductions


def _combine(op: str, ct: str, floating: bool) -> tuple[str, str]:
    """(init, statement) combining v into acc."""
    if op == "sum":
        return "0", "acc = acc + v;"
    if op == "prod":
        return "1", "acc = acc * v;"
    if op == "max":
        if floating:
            return "-INFINITY", "acc = (v > acc || isnan(v)) ? v : acc;"
        return {"long": "LONG_MIN"}.get(ct, "0"), "acc = v > acc ? v : acc;"
    if op == "min":
        if floating:
            return "INFINITY", "acc = (v < acc || isnan(v)) ? v : acc;"
        return {"long": "LONG_MAX"}.get(ct, "0"), "acc = v < acc ? v : acc;"
    raise ValueError(op)


def gen_reduce_program(
    in_dt: str, out_dt: str, out_rank: int, red_rank: int, idx: str
) -> tuple[str, list[KernelSignature]]:
    """sum/prod/max/min (and argmax/argmin when red_rank == 1, out_dt int64 then).

    Work-item ``i`` = ``o * G + g``: output ``o`` (coordinates over do0.. with input strides
    xs0..), chunk ``g`` of the outermost reduced dim (``chunk`` elements each). Reduced dims
    dr0.. with input strides xr0... With G == 1 this is a plain one-work-item-per-output reduction;
    with G > 1 it is the first stage of a two-stage reduction (out_dt is then the accumulator's).
    """
    act = acc_type(in_dt)
    floating = in_dt in FLOATS
    pre = [
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
        f"    {idx} o = i / G; {idx} g = i - o * G;",
    ]
    pre += ["    " + s for s in _decompose(out_rank, idx, "o", "do")]
    pre.append(f"    {idx} base = {_pos('x', out_rank)};")
    src = [header(in_dt, out_dt, act)]
    sigs = []
    for op in ("sum", "prod", "max", "min"):
        init, comb = _combine(op, act, floating)
        sig = reduce_signature(op, in_dt, CTYPE[out_dt], out_rank, red_rank, idx)
        lines = [sig.declaration() + " {"] + pre
        lines.append(f"    {act} acc = {init};")
        lines.append(
            f"    {idx} lo = g * chunk; {idx} hi = min(lo + chunk, {'dr0' if red_rank else '(' + idx + ')1'});"
        )
        ind = "    "
        lines.append(f"    for ({idx} r0 = lo; r0 < hi; ++r0) {{")
        if red_rank == 0:
            terms = "0"
        else:
            for j in range(1, red_rank):
                ind += "    "
                lines.append(f"{ind}for ({idx} r{j} = 0; r{j} < dr{j}; ++r{j}) {{")
            terms = " + ".join(f"r{j} * xr_s{j}" for j in range(red_rank))
        lines.append(f"{ind}    {act} v = ({act}){load(in_dt, 'x', 'base + ' + terms)};")
        lines.append(f"{ind}    {comb}")
        for _ in range(max(red_rank, 1)):
            lines.append(f"{ind}}}")
            ind = ind[:-4]
        lines.append("    " + store(out_dt, "out", "i", convert("acc", act, out_dt)))
        lines.append("}")
        src.append("\n".join(lines) + "\n")
        sigs.append(sig)
    if red_rank == 1:
        ct = compute_type(in_dt)
        for op, cmp in (("argmax", ">"), ("argmin", "<")):
            if floating:
                better = f"(!isnan(best) && (v {cmp} best || isnan(v)))"
            else:
                better = f"(v {cmp} best)"
            sig = reduce_signature(op, in_dt, "long", out_rank, 1, idx)
            src.append(f"""{sig.declaration()} {{
{chr(10).join(pre)}
    {ct} best = {load(in_dt, "x", "base")};
    long bi = 0;
    for ({idx} r = 1; r < dr0; ++r) {{
        {ct} v = {load(in_dt, "x", "base + r * xr_s0")};
        if {better} {{ best = v; bi = r; }}
    }}
    out[i] = bi;
}}
""")
            sigs.append(sig)
    return "".join(src), sigs


@cache
def reduce_signature(
    name: str, in_dt: str, out_ct: str, out_rank: int, red_rank: int, idx: str
) -> KernelSignature:
    """Parameters of a generic reduction kernel (see :func:`gen_reduce_program`): the output
    (C type ``out_ct``), the input with its offset, the kept dims ``do`` and their input strides
    ``x_s``, the reduced dims ``dr`` and their strides ``xr_s``, the chunking and the work-items."""
    params = (
        Param("out", f"__global {out_ct}*"),
        Param("x", f"__global const {CTYPE[in_dt]}*"),
        Param("x_off", idx),
        Param("do", idx, out_rank),
        Param("x_s", idx, out_rank),
        Param("dr", idx, red_rank),
        Param("xr_s", idx, red_rank),
        Param("G", idx),
        Param("chunk", idx),
        Param("n", idx),
    )
    return KernelSignature(name, params)


def gen_cumsum_program(dt: str, idx: str) -> tuple[str, list[KernelSignature]]:
    """cumsum of a contiguous (outer, n, inner) array; one work-item per (outer, inner) line."""
    act = acc_type(dt)
    sig = lines_signature("cumsum", dt, idx, "len")
    return (
        header(dt, act)
        + f"""
{sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} o = i / inner; {idx} j = i - o * inner;
    {idx} base = o * len * inner + j;
    {act} acc = 0;
    for ({idx} k = 0; k < len; ++k) {{
        acc += ({act}){load(dt, "x", "x_off + base + k * inner")};
        {store(dt, "out", "base + k * inner", convert("acc", act, dt))}
    }}
}}
""",
        [sig],
    )


@cache
def lines_signature(name: str, dt: str, idx: str, length: str = "L") -> KernelSignature:
    """Parameters of a kernel over the lines of a contiguous (outer, L, inner) array (cumsum,
    softmax, log_softmax): output, input and its offset, the line length (named ``length``), the
    stride between line elements and the number of lines."""
    t = CTYPE[dt]
    params = (
        Param("out", f"__global {t}*"),
        Param("x", f"__global const {t}*"),
        Param("x_off", idx),
        Param(length, idx),
        Param("inner", idx),
        Param("n", idx),
    )
    return KernelSignature(name, params)


# ----------------------------------------------------------------------------------------------
# matmul


def gen_matmul_program(dt: str, brank: int, idx: str) -> tuple[str, list[KernelSignature]]:
    """Register-blocked matmul, any strides: each work-item computes a 4x4 block of C.

    Grid: (ceil(m/4), ceil(n/4), batch). Batch dims bd0.. with strides ab_s.. (a), bb_s.. (b);
    C is contiguous (batch, n, m). Edge blocks clamp their loads and mask their stores, so the
    inner loop has no branches.
    """
    ct = compute_type(dt)
    act = "float" if dt == "float16" else ("long" if dt in INTS else ct)
    sig = matmul_signature(dt, brank, idx)
    lines = [
        sig.declaration() + " {",
        f"    {idx} j0 = get_global_id(0) * 4; {idx} i0 = get_global_id(1) * 4; {idx} z = get_global_id(2);",
        "    if (j0 >= M || i0 >= N) return;",
    ]
    lines += ["    " + s for s in _decompose(brank, idx, "z", "bd")]
    lines.append(f"    {idx} ab_off = a_off; {idx} bb_off = b_off;")
    lines.append(f"    {idx} pa = {_pos('ab', brank)};")
    lines.append(f"    {idx} pb = {_pos('bb', brank)};")
    for r in range(4):
        lines.append(f"    {idx} ar{r} = pa + min(i0 + {r}, N - 1) * a_sr;")
        lines.append(f"    {idx} bc{r} = pb + min(j0 + {r}, M - 1) * b_sc;")
    for r in range(4):
        lines.append("    " + " ".join(f"{act} acc{r}{q} = 0;" for q in range(4)))
    lines.append(f"    for ({idx} k = 0; k < K; ++k) {{")
    for r in range(4):
        lines.append(f"        {act} av{r} = ({act}){load(dt, 'a', f'ar{r} + k * a_sk')};")
        lines.append(f"        {act} bv{r} = ({act}){load(dt, 'b', f'bc{r} + k * b_sk')};")
    for r in range(4):
        lines.append("        " + " ".join(f"acc{r}{q} += av{r} * bv{q};" for q in range(4)))
    lines.append("    }")
    lines.append(f"    {idx} pc = z * N * M;")
    for r in range(4):
        for q in range(4):
            lines.append(
                f"    if (i0 + {r} < N && j0 + {q} < M) "
                + store(dt, "c", f"pc + (i0 + {r}) * M + j0 + {q}", convert(f"acc{r}{q}", act, dt))
            )
    lines.append("}")
    return header(dt, act) + "\n".join(lines) + "\n", [sig]


@cache
def matmul_signature(dt: str, brank: int, idx: str) -> KernelSignature:
    """Parameters of ``matmul`` (see :func:`gen_matmul_program`): C; A with its offset, row and
    k strides; B with its offset, k and column strides; N, K, M; the batch dims ``bd`` and the
    batch strides of A (``ab_s``) and B (``bb_s``)."""
    t = CTYPE[dt]
    params = (
        Param("c", f"__global {t}*"),
        Param("a", f"__global const {t}*"),
        Param("a_off", idx),
        Param("a_sr", idx),
        Param("a_sk", idx),
        Param("b", f"__global const {t}*"),
        Param("b_off", idx),
        Param("b_sk", idx),
        Param("b_sc", idx),
        Param("N", idx),
        Param("K", idx),
        Param("M", idx),
        Param("bd", idx, brank),
        Param("ab_s", idx, brank),
        Param("bb_s", idx, brank),
    )
    return KernelSignature("matmul", params)


# ----------------------------------------------------------------------------------------------
# indexing


def gen_gather_program(dt: str, rank: int, idx: str) -> tuple[str, list[KernelSignature]]:
    """gather: out (contiguous, index's shape d0..) = x[coords with dim replaced by index]."""
    sig = gather_signature(dt, rank, idx)
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
    ]
    lines += ["    " + s for s in _decompose(rank, idx)]
    lines.append(f"    {idx} k = ({idx})ix[{_pos('ix', rank)}];")
    lines.append("    " + store(dt, "out", "i", load(dt, "x", f"{_pos('x', rank)} + k * x_sdim")))
    lines.append("}")
    return header(dt) + "\n".join(lines) + "\n", [sig]


@cache
def gather_signature(dt: str, rank: int, idx: str) -> KernelSignature:
    """Parameters of ``gather``: the output; x with its offset, its strides ``x_s`` (0 along
    ``dim``) and its stride along ``dim``; the index with its offset and strides; index's dims
    ``d`` and the element count."""
    t = CTYPE[dt]
    params = (
        Param("out", f"__global {t}*"),
        Param("x", f"__global const {t}*"),
        Param("x_off", idx),
        Param("x_s", idx, rank),
        Param("x_sdim", idx),
        Param("ix", "__global const long*"),
        Param("ix_off", idx),
        Param("ix_s", idx, rank),
        Param("d", idx, rank),
        Param("n", idx),
    )
    return KernelSignature("gather", params)


def gen_scatter_add_program(dt: str, rank: int, idx: str) -> tuple[str, list[KernelSignature]]:
    """scatter_add into a contiguous ``out`` (already a copy of x).

    One work-item per line of index along ``dim`` (coordinates d0.. with the dim's extent 1);
    it walks the line serially. Two lines never touch the same output element (they differ in a
    non-dim coordinate), so no atomics are needed and the result is deterministic.
    """
    ct = compute_type(dt)
    sig = scatter_add_signature(dt, rank, idx)
    lines = [
        sig.declaration() + " {",
        f"    {idx} i = get_global_id(0);",
        "    if (i >= n) return;",
    ]
    lines += ["    " + s for s in _decompose(rank, idx)]
    lines.append(
        f"    {idx} po = {_pos('out', rank)}; {idx} pi = {_pos('ix', rank)}; {idx} ps = {_pos('s', rank)};"
    )
    lines.append(f"    for ({idx} t = 0; t < len; ++t) {{")
    lines.append(f"        {idx} q = po + ({idx})ix[pi + t * ix_sdim] * out_sdim;")
    val = f"{load(dt, 'out', 'q')} + {load(dt, 's', 'ps + t * s_sdim')}"
    lines.append("        " + store(dt, "out", "q", convert(val, ct, dt)))
    lines.append("    }")
    lines.append("}")
    return header(dt) + "\n".join(lines) + "\n", [sig]


@cache
def scatter_add_signature(dt: str, rank: int, idx: str) -> KernelSignature:
    """Parameters of ``scatter_add``: for each of out, the index and src, the buffer, offset,
    strides (0 along ``dim``) and stride along ``dim``; the index lines' dims ``d``, the line
    length along ``dim`` and the number of lines."""
    t = CTYPE[dt]
    params = [Param("out", f"__global {t}*")]
    for var, ptr in (("out", None), ("ix", "__global const long*"), ("s", f"__global const {t}*")):
        if ptr is not None:
            params.append(Param(var, ptr))
        params += [Param(f"{var}_off", idx), Param(f"{var}_s", idx, rank), Param(f"{var}_sdim", idx)]
    params += [Param("d", idx, rank), Param("len", idx), Param("n", idx)]
    return KernelSignature("scatter_add", tuple(params))


# ----------------------------------------------------------------------------------------------
# random

_PHILOX = """
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int r = 0; r < 10; ++r) {
        ulong p0 = (ulong)PHILOX_M0 * c.x;
        ulong p1 = (ulong)PHILOX_M1 * c.z;
        c = (uint4)((uint)(p1 >> 32) ^ c.y ^ k.x, (uint)p1, (uint)(p0 >> 32) ^ c.w ^ k.y, (uint)p0);
        k.x += PHILOX_W0; k.y += PHILOX_W1;
    }
    return c;
}
"""


def gen_random_program(dt: str) -> tuple[str, list[KernelSignature]]:
    """uniform/normal: Philox4x32-10 with counter (group lo, group hi, offset lo, offset hi), key seed.

    Work-item g produces elements 4g..4g+3 (float16/32) or 2g..2g+1 (float64). Normal: Box-Muller.
    """
    if dt == "float64":
        per = 2
        uni = [
            "(double)((((ulong)r.x << 32) | r.y) >> 11) * 0x1.0p-53",
            "(double)((((ulong)r.z << 32) | r.w) >> 11) * 0x1.0p-53",
        ]
        nuni = uni
        ct = "double"
    else:
        per = 4
        nuni = [f"(float)(r.{c} >> 8) * 0x1.0p-24f" for c in "xyzw"]
        # float16: 11 random bits, exactly representable, so rounding can never give 1.0
        uni = [f"(float)(r.{c} >> 21) * 0x1.0p-11f" for c in "xyzw"] if dt == "float16" else nuni
        ct = "float"
    head = f""" {{
    ulong g = get_global_id(0);
    if (g * {per} >= n) return;
    uint4 r = philox4x32_10((uint4)((uint)g, (uint)(g >> 32), (uint)offset, (uint)(offset >> 32)),
                            (uint2)((uint)seed, (uint)(seed >> 32)));
    {ct} u[{per}];
"""
    tail = (
        f"    for (int q = 0; q < {per}; ++q) if (g * {per} + q < n) "
        f"{{ {store(dt, 'out', f'g * {per} + q', 'u[q]')} }}\n}}\n"
    )
    sigs = [random_signature(name, dt) for name in ("uniform", "normal")]
    uni_src = sigs[0].declaration() + head
    for q in range(per):
        uni_src += f"    u[{q}] = {uni[q]};\n"
    uni_src += tail
    two_pi = "6.283185307179586" + ("" if ct == "double" else "f")
    norm_src = sigs[1].declaration() + head
    for q in range(per):
        norm_src += f"    u[{q}] = {nuni[q]};\n"
    for q in range(0, per, 2):
        norm_src += (
            f"    {{ {ct} rad = sqrt(-2 * log(1 - u[{q}])); {ct} th = {two_pi} * u[{q + 1}];\n"
            f"      u[{q}] = rad * cos(th); u[{q + 1}] = rad * sin(th); }}\n"
        )
    norm_src += tail
    return header(dt) + _PHILOX + uni_src + norm_src, sigs


@cache
def random_signature(name: str, dt: str) -> KernelSignature:
    """Parameters of ``uniform``/``normal``: the output, its element count, the seed and the
    counter offset (64-bit each)."""
    params = (
        Param("out", f"__global {CTYPE[dt]}*"),
        Param("n", "ulong"),
        Param("seed", "ulong"),
        Param("offset", "ulong"),
    )
    return KernelSignature(name, params)


#: (rows per work-item, vector width) of the packed matmul; C block is ROWS x VEC per work-item.
FAST_MM = {"float32": (6, 16), "float64": (6, 8)}


def gen_matmul_fast_program(dt: str, brank: int, idx: str) -> tuple[str, list[KernelSignature]]:
    """Packed register-blocked matmul for float32/float64 (kernels ``pack`` and ``mmf``).

    ``pack`` copies a contiguous B (nb, K, M) into panels Bp (nb, P, K, W), W = vector width,
    zero-padding the last panel. In ``mmf`` each work-item (row group, panel group, batch z)
    computes RB row blocks x NP panels of C, over K in chunks of KC (runtime arguments): per
    chunk, per panel, per row block it keeps a ROWS x W block of C in ROWS vector registers
    (partial sums of earlier chunks are read back from C); per k it loads one aligned vector of
    the panel and ROWS scalars of A, and does ROWS vector multiply-adds (plain operators: PoCL
    calls fma/mad out of line). The A chunk (RB * ROWS x KC) stays in L2 across the panels, the
    panel's KC x W slice in L1 across the row blocks. The inner loops address A through
    pointers (contiguous rows share one induction variable): per-load 32-bit index arithmetic
    made the loop issue-bound. Measured on a 2-core Zen 3 with PoCL 3.0: 6 x 16 floats is the
    best of the register shapes tried (4x64 spills registers on AVX2).
    """
    rows, vec = FAST_MM[dt]
    t = CTYPE[dt]
    vt = f"{t}{vec}"
    sigs = mm_fast_signatures(dt, brank, idx)
    pack = f"""
typedef {vt} {vt}p __attribute__((aligned({_ITEMSIZE[dt]})));
{sigs[0].declaration()} {{
    {idx} g = get_global_id(0);
    if (g >= nwi) return;
    {idx} kb = g % NKB; {idx} r = g / NKB;
    {idx} p = r % P; {idx} z = r / P;
    {idx} k0 = kb * KB; {idx} k1 = min(k0 + KB, K);
    {idx} col0 = p * {vec};
    __global {t}* dst = bp + ((z * P + p) * K) * {vec};
    const __global {t}* src = b + b_off + z * b_sz + col0 * b_sc;
    if (b_sc == 1 && col0 + {vec} <= M) {{
        for ({idx} k = k0; k < k1; ++k)
            *(__global {vt}*)(dst + k * {vec}) = *(const __global {vt}p*)(src + k * b_sk);
        return;
    }}
    {idx} cols = min(({idx}){vec}, M - col0);
    if (b_sk == 1) {{  // B a transposed view: each column is contiguous along k
        for ({idx} c = 0; c < cols; ++c) {{
            const __global {t}* sc = src + c * b_sc;
            for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = sc[k];
        }}
        for ({idx} c = cols; c < {vec}; ++c)
            for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = ({t})0;
        return;
    }}
    // column by column: reads run along k
    for ({idx} c = 0; c < cols; ++c)
        for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = src[k * b_sk + c * b_sc];
    for ({idx} c = cols; c < {vec}; ++c)
        for ({idx} k = k0; k < k1; ++k) dst[k * {vec} + c] = ({t})0;
}}
"""
    lines = [
        sigs[1].declaration() + " {",
        f"    {idx} i_lo = get_global_id(0) * RB * {rows}; {idx} pg = get_global_id(1); {idx} z = get_global_id(2);",
        "    if (i_lo >= N) return;  // padding of the row-group dimension up to the work-group size",
        f"    {idx} i_hi = min(i_lo + RB * {rows}, N);",
        f"    {idx} P = (M + {vec - 1}) / {vec}; {idx} p_lo = pg * NP; {idx} p_hi = min(p_lo + NP, P);",
    ]
    lines += ["    " + s for s in _decompose(brank, idx, "z", "bd")]
    lines.append(f"    {idx} ab_off = a_off; {idx} bb_off = 0;")
    lines.append(f"    {idx} pa = {_pos('ab', brank)};")
    lines.append(f"    {idx} pb = {_pos('bb', brank)};")
    lines.append(f"    for ({idx} k0 = 0; k0 < K; k0 += KC) {{")
    lines.append(f"    {idx} kn = min(KC, K - k0);")
    lines.append(f"    for ({idx} p = p_lo; p < p_hi; ++p) {{")
    lines.append(f"    const __global {vt}* bq = (const __global {vt}*)(bp + pb + p * K * {vec}) + k0;")
    lines.append(f"    {idx} cols = min(({idx}){vec}, M - p * {vec});")
    lines.append(f"    __global {t}* pc = c + z * N * M + p * {vec};")
    lines.append(f"    for ({idx} i0 = i_lo; i0 < i_hi; i0 += {rows}) {{")
    for r in range(rows):
        lines.append(f"    {idx} ar{r} = pa + min(i0 + {r}, N - 1) * a_sr + k0 * a_sk; {vt} acc{r} = 0;")
    lines.append("    if (k0 > 0) {  // partial sums of the earlier K chunks")
    lines.append(f"        if (cols == {vec}) {{")
    for r in range(rows):
        lines.append(f"            if (i0 + {r} < N) acc{r} = *(__global {vt}p*)(pc + (i0 + {r}) * M);")
    lines.append("        } else {")
    for r in range(rows):
        lines.append(
            f"            if (i0 + {r} < N) {{ {t}* e = ({t}*)&acc{r}; __global {t}* o = pc + (i0 + {r}) * M;"
            f" for ({idx} q = 0; q < cols; ++q) e[q] = o[q]; }}"
        )
    lines.append("        }")
    lines.append("    }")
    # inner loops on pointers: 32-bit index arithmetic per load costs more than the multiply-adds
    for r in range(rows):
        lines.append(f"    const __global {t}* ap{r} = a + ar{r};")
    lines.append("    if (a_sk == 1) {  // rows contiguous along k: one shared induction variable")
    lines.append("    #pragma unroll 4")
    lines.append(f"    for ({idx} k = 0; k < kn; ++k) {{")
    lines.append(f"        {vt} bv = bq[k];")
    for r in range(rows):
        lines.append(f"        acc{r} += ({vt})(ap{r}[k]) * bv;")
    lines.append("    }")
    lines.append(f"    }} else if (a_sr == 1 && i0 + {rows} <= N) {{  // A a transposed view: rows adjacent")
    lines.append("    #pragma unroll 4")
    lines.append(f"    for ({idx} k = 0; k < kn; ++k, ap0 += a_sk) {{")
    lines.append(f"        {vt} bv = bq[k];")
    for r in range(rows):
        lines.append(f"        acc{r} += ({vt})(ap0[{r}]) * bv;")
    lines.append("    }")
    lines.append("    } else {")
    lines.append(f"    for ({idx} k = 0; k < kn; ++k) {{")
    lines.append(f"        {vt} bv = bq[k];")
    for r in range(rows):
        lines.append(f"        acc{r} += ({vt})(*ap{r}) * bv; ap{r} += a_sk;")
    lines.append("    }")
    lines.append("    }")
    lines.append(f"    if (cols == {vec}) {{  // full panel: unaligned vector stores")
    for r in range(rows):
        lines.append(f"        if (i0 + {r} < N) *(__global {vt}p*)(pc + (i0 + {r}) * M) = acc{r};")
    lines.append("    } else {")
    for r in range(rows):
        lines.append(
            f"        if (i0 + {r} < N) {{ {t}* e = ({t}*)&acc{r}; __global {t}* o = pc + (i0 + {r}) * M;"
            f" for ({idx} q = 0; q < cols; ++q) o[q] = e[q]; }}"
        )
    lines.append("    }")
    lines.append("    }}}")
    lines.append("}")
    return header(dt) + pack + "\n".join(lines) + "\n", list(sigs)


@cache
def mm_fast_signatures(dt: str, brank: int, idx: str) -> tuple[KernelSignature, KernelSignature]:
    """Parameters of ``pack`` (the panels Bp; B with its offset, batch, k and column strides; K,
    M, the panel count P, the k chunk KB, chunks per panel NKB, work-items) and of ``mmf`` (C; A
    with its offset, row and k strides; Bp; N, K, M; the blocking RB, NP, KC; the batch dims
    ``bd`` and the batch strides of A (``ab_s``) and of Bp (``bb_s``))."""
    t = CTYPE[dt]
    scalars = ("b_off", "b_sz", "b_sk", "b_sc", "K", "M", "P", "KB", "NKB", "nwi")
    pack = (
        Param("bp", f"__global {t}*"),
        Param("b", f"__global const {t}*"),
        *(Param(p, idx) for p in scalars),
    )
    mmf = (
        Param("c", f"__global {t}*"),
        Param("a", f"__global const {t}*"),
        *(Param(p, idx) for p in ("a_off", "a_sr", "a_sk")),
        Param("bp", f"__global const {t}*"),
        *(Param(p, idx) for p in ("N", "K", "M", "RB", "NP", "KC")),
        Param("bd", idx, brank),
        Param("ab_s", idx, brank),
        Param("bb_s", idx, brank),
    )
    return KernelSignature("pack", pack), KernelSignature("mmf", mmf)


# ----------------------------------------------------------------------------------------------
# contiguous reductions (float32/float64): vector accumulators, plain operators


def _vcomb(op: str, a: str, v: str) -> str:
    """Expression combining ``v`` into ``a`` (scalars or vectors alike; NaN propagates for max/min)."""
    if op == "sum":
        return f"{a} + {v}"
    if op == "prod":
        return f"{a} * {v}"
    cmp = ">" if op == "max" else "<"
    return f"(({v} {cmp} {a}) || ({v} != {v})) ? {v} : {a}"


_VINIT = {"sum": "0", "prod": "1", "max": "-INFINITY", "min": "INFINITY"}


def gen_reduce_fast_program(dt: str, idx: str) -> tuple[str, list[KernelSignature]]:
    """Kernels ``<op>_rows`` and ``<op>_cols`` for op in sum/prod/max/min over contiguous data.

    rows: x is (rows, L) at x_off; work-item i = o * G + g reduces chunk g (``chunk`` elements)
    of row o into out[i], with 4 vector accumulators. G > 1 is the first of two passes.
    cols: x is (outer, R, I) at x_off; work-item i = (o * G + g) * NJ + jb reduces rows
    [g*chunk, (g+1)*chunk) of columns [32*jb, 32*jb+32) into out[(o * G + g) * I + j] (vector
    loads across columns; the last partial column block goes element by element).
    """
    t = CTYPE[dt]
    w = VEC_WIDTH[dt]
    vt = f"{t}{w}"
    u = 4  # accumulators
    span = w * u
    src = [header(dt)]
    sigs = []
    for op in ("sum", "prod", "max", "min"):
        init = _VINIT[op]
        c = lambda a, v, op=op: _vcomb(op, a, v)
        accs = ", ".join(f"a{q} = ({vt})({init})" for q in range(u))
        rows_sig, cols_sig = reduce_fast_signatures(op, dt, idx)
        rows = f"""
{rows_sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} o = i / G; {idx} g = i - o * G;
    {idx} lo = g * chunk; {idx} hi = lo + chunk < L ? lo + chunk : L;
    const __global {t}* p = x + x_off + o * L;
    {vt} {accs};
    {idx} k = lo;
    for (; k + {span} <= hi; k += {span}) {{
{chr(10).join(f"        {{ {vt} v = *(const __global {vt}u*)(p + k + {q * w}); a{q} = {c(f'a{q}', 'v')}; }}" for q in range(u))}
    }}
    a0 = {c("a0", "a1")}; a2 = {c("a2", "a3")}; a0 = {c("a0", "a2")};
    {t} acc = ({t})({init});
    {t}* e = ({t}*)&a0;
    for (int q = 0; q < {w}; ++q) {{ {t} v = e[q]; acc = {c("acc", "v")}; }}
    for (; k < hi; ++k) {{ {t} v = p[k]; acc = {c("acc", "v")}; }}
    out[i] = acc;
}}
"""
        cols = f"""
{cols_sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} jb = i % NJ; {idx} tt = i / NJ; {idx} g = tt % G; {idx} o = tt / G;
    {idx} j0 = jb * {span};
    {idx} lo = g * chunk; {idx} hi = lo + chunk < R ? lo + chunk : R;
    const __global {t}* p = x + x_off + o * R * I;
    __global {t}* q = out + (o * G + g) * I;
    if (j0 + {span} <= I) {{
        {vt} {accs};
        for ({idx} r = lo; r < hi; ++r) {{
            const __global {t}* row = p + r * I + j0;
{chr(10).join(f"            {{ {vt} v = *(const __global {vt}u*)(row + {q * w}); a{q} = {c(f'a{q}', 'v')}; }}" for q in range(u))}
        }}
{chr(10).join(f"        *(__global {vt}u*)(q + j0 + {q * w}) = a{q};" for q in range(u))}
        return;
    }}
    for ({idx} j = j0; j < I; ++j) {{
        {t} acc = ({t})({init});
        for ({idx} r = lo; r < hi; ++r) {{ {t} v = p[r * I + j]; acc = {c("acc", "v")}; }}
        q[j] = acc;
    }}
}}
"""
        src += [rows, cols]
        sigs += [rows_sig, cols_sig]
    return "".join(src), sigs


@cache
def reduce_fast_signatures(op: str, dt: str, idx: str) -> tuple[KernelSignature, KernelSignature]:
    """Parameters of ``<op>_rows`` (output, x and its offset, row length L, chunks per row G,
    chunk length, work-items) and ``<op>_cols`` (output, x and its offset, reduced rows R, columns
    I, column blocks NJ, row chunks G, chunk length, work-items)."""
    t = CTYPE[dt]
    head = (Param("out", f"__global {t}*"), Param("x", f"__global const {t}*"), Param("x_off", idx))
    rows = (*head, *(Param(p, idx) for p in ("L", "G", "chunk", "n")))
    cols = (*head, *(Param(p, idx) for p in ("R", "I", "NJ", "G", "chunk", "n")))
    return KernelSignature(f"{op}_rows", rows), KernelSignature(f"{op}_cols", cols)


# ----------------------------------------------------------------------------------------------
# softmax


def gen_softmax_program(dt: str, idx: str) -> tuple[str, list[KernelSignature]]:
    """softmax / log_softmax of a contiguous x (outer, L, inner) along L: one work-item per
    (outer, inner) line, three sweeps (max, sum of exp, write)."""
    ct = compute_type(dt)
    ex = "exp" if dt == "float64" else "sexp_"
    src = [header(dt)]
    loop = f"for ({idx} k = 0; k < L; ++k) {{ {ct} v = {load(dt, 'p', 'k * inner')};"
    tails = {
        "softmax": f"{ct} inv = 1 / s; {loop} {store(dt, 'q', 'k * inner', f'{ex}(v - m) * inv')} }}",
        "log_softmax": f"{ct} ls = m + log(s); {loop} {store(dt, 'q', 'k * inner', 'v - ls')} }}",
    }
    sigs = []
    for name, tail in tails.items():
        sig = lines_signature(name, dt, idx)
        sigs.append(sig)
        src.append(f"""
{sig.declaration()} {{
    {idx} i = get_global_id(0);
    if (i >= n) return;
    {idx} o = i / inner; {idx} j = i - o * inner;
    const __global {CTYPE[dt]}* p = x + x_off + o * L * inner + j;
    __global {CTYPE[dt]}* q = out + o * L * inner + j;
    {ct} m = -INFINITY;
    for ({idx} k = 0; k < L; ++k) {{ {ct} v = {load(dt, "p", "k * inner")}; m = (v > m || isnan(v)) ? v : m; }}
    {ct} s = 0;
    for ({idx} k = 0; k < L; ++k) {{ {ct} v = {load(dt, "p", "k * inner")}; s += {ex}(v - m); }}
    {tail}
}}
""")
    return "".join(src), sigs
