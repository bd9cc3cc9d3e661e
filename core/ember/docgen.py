"""Generated parts of Ember's docs: the kernel tables, rendered from the code.

The docs hold blocks delimited by marker comments::

    <!-- BEGIN GENERATED: kernels -->
    ...generated text, never edited by hand...
    <!-- END GENERATED: kernels -->

:func:`update` replaces each block's text by the output of its renderer (one per block name, see
:data:`RENDERERS`), or with ``check=True`` raises :class:`DocsStaleError` when a block differs from
what the code gives. The sources are :data:`ember.backend.PRIMITIVES` (name -> (family, contract))
and :data:`ember.ops.catalog.OPTIONAL_KERNELS` (name -> contract), imported when rendering, and
for the kernel facts (:func:`render_kernel_facts`) the op records themselves: every record's
samples run on the cpu backend with only the primitive kernels, while a spy notes what each kernel
receives (dtypes, Python scalars, negative and zero strides).

Command line (from the repository, or ``make docs``)::

    python -m ember.docgen            # rewrite the generated blocks of the docs
    python -m ember.docgen --check    # exit 1, naming the stale files, when a block is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DOCS",
    "DocgenError",
    "DocsStaleError",
    "KernelUse",
    "REGENERATE_COMMAND",
    "RENDERERS",
    "main",
    "render_kernel_facts",
    "render_kernel_summary",
    "render_kernels",
    "trace_kernels",
    "update",
]

#: The command that rewrites the generated blocks (named in every staleness error).
REGENERATE_COMMAND = "python -m ember.docgen"

_ROOT = Path(__file__).resolve().parents[2]
#: The docs with generated blocks, in a source checkout (core/ember/docgen.py -> the repository).
DOCS: tuple[Path, ...] = (_ROOT / "docs" / "authoring-a-backend.md", _ROOT / "docs" / "architecture.md")

_BLOCK_RE = re.compile(
    r"(?P<begin><!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
    r"(?P<end><!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)
_BEGIN_RE = re.compile(r"<!-- BEGIN GENERATED: ([\w-]+) -->")
_END_RE = re.compile(r"<!-- END GENERATED: ([\w-]+) -->")


class DocgenError(ValueError):
    """A doc's generated blocks cannot be processed (missing, unbalanced or unknown markers)."""


class DocsStaleError(DocgenError):
    """A generated block of a doc differs from what the code gives (raised by ``check=True``)."""


def _families() -> dict[str, list[tuple[str, str]]]:
    """Family -> [(primitive, contract)], families in order of first appearance."""
    from ember.backend import PRIMITIVES

    out: dict[str, list[tuple[str, str]]] = {}
    for name, (family, contract) in PRIMITIVES.items():
        out.setdefault(family, []).append((name, contract))
    return out


def _optional() -> dict[str, str]:
    """Optional kernel -> contract, in the catalog's order."""
    from ember.ops.catalog import OPTIONAL_KERNELS

    return dict(OPTIONAL_KERNELS)


def _cell(text: str) -> str:
    """Text safe for one markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def render_kernels() -> str:
    """The authoring guide's tables: every required primitive grouped by family (kernel,
    contract), then every optional kernel (kernel, contract, what runs without it)."""
    families = _families()
    optional = _optional()
    n_required = sum(len(rows) for rows in families.values())
    lines = [
        f"{n_required} required kernels in {len(families)} families, {len(optional)} optional kernels. "
        "Generated from `ember.backend.PRIMITIVES` and "
        f"`ember.ops.catalog.OPTIONAL_KERNELS` by `{REGENERATE_COMMAND}` (`make docs`); do not edit "
        "by hand.",
        "",
        "| family | kernel | contract |",
        "|---|---|---|",
    ]
    for family, rows in families.items():
        lines.extend(f"| {family} | `{name}` | {_cell(contract)} |" for name, contract in rows)
    lines += ["", "| optional kernel | contract | without it |", "|---|---|---|"]
    lines.extend(f"| `{name}` | {_cell(contract)} | core composite |" for name, contract in optional.items())
    return "\n".join(lines)


def render_kernel_summary() -> str:
    """The architecture page's summary: the counts and the primitives of each family."""
    families = _families()
    optional = _optional()
    n_required = sum(len(rows) for rows in families.values())
    lines = [
        f"`ember.backend.PRIMITIVES` is the list a backend must implement, {n_required} kernels in "
        f"{len(families)} families:",
        "",
    ]
    for family, rows in families.items():
        names = ", ".join(f"`{name}`" for name, _ in rows)
        lines.append(f"- {family} ({len(rows)}): {names}")
    lines += [
        "",
        f"`ember.ops.catalog.OPTIONAL_KERNELS` lists {len(optional)} optional kernels, each with a "
        f"composite in core. Generated by `{REGENERATE_COMMAND}` (`make docs`); do not edit by hand.",
    ]
    return "\n".join(lines)


# -- kernel facts: what core hands a kernel, observed on the op records' samples -------------------

#: Ember's dtypes in the order the docs list them.
_DTYPE_ORDER = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
#: families whose kernels may receive a Python scalar as an operand
_SCALAR_FAMILIES = ("unary", "binary", "compare", "ternary")


@dataclass
class KernelUse:
    """What one kernel received over a trace (see :func:`trace_kernels`).

    dtypes: the dtype of each call (its dtype argument, else its first buffer's; for ``where``
        the operands', not the condition's); scalars: the dtypes of calls that had a Python scalar
        operand; scalars_out_of_range: integer scalars outside their dtype's range, as
        (dtype, value); negative_strides / zero_strides: a buffer argument had a negative stride,
        or a stride of 0 on a dim longer than 1 (a broadcast).
    """

    calls: int = 0
    dtypes: set[str] = field(default_factory=set)
    scalars: set[str] = field(default_factory=set)
    scalars_out_of_range: list[tuple[str, int]] = field(default_factory=list)
    negative_strides: bool = False
    zero_strides: bool = False


def _note(use: KernelUse, name: str, family: str, args: tuple) -> None:
    import numpy as np

    from ember.dtypes import DType

    use.calls += 1
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    operands = arrays[1:] if name == "where" and len(arrays) > 1 else arrays
    dts = [a for a in args if isinstance(a, DType)]
    dtype = dts[0].name if dts else (str(operands[0].dtype) if operands else None)
    if dtype == "bool" and not dts and name == "where":
        dtype = None
    if dtype is not None:
        use.dtypes.add(dtype)
    for a in arrays:
        for n, st in zip(a.shape, a.strides):
            use.negative_strides |= st < 0 and n > 1
            use.zero_strides |= st == 0 and n > 1
    if family in _SCALAR_FAMILIES and dtype is not None:
        for a in args[1:] if name == "where" else args:
            if isinstance(a, (bool, int, float)) and not isinstance(a, np.ndarray):
                use.scalars.add(dtype)
                if isinstance(a, int) and not isinstance(a, bool) and np.dtype(dtype).kind in "iu":
                    info = np.iinfo(dtype)
                    if not info.min <= a <= info.max:
                        use.scalars_out_of_range.append((dtype, a))


def _spied(table: dict[str, Any], families: Mapping[str, str], uses: dict[str, KernelUse]) -> None:
    """Replace every kernel of ``table`` (in place) by a wrapper noting its calls in ``uses``."""

    def spy(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            _note(uses.setdefault(name, KernelUse()), name, families.get(name, ""), args)
            return fn(*args)

        return run

    for name, fn in list(table.items()):
        table[name] = spy(name, fn)


@cache
def trace_kernels(primitives_only: bool = True) -> dict[str, KernelUse]:
    """Kernel name -> what it received while every op record's samples ran, in every dtype the
    record supports, on the cpu backend (the kit's forward test, without the comparisons).

    With ``primitives_only`` the cpu backend's optional kernels are taken out for the run, so the
    primitives see what they see on a device that has nothing else (a scaffolded backend): core's
    composites call them instead. The cpu kernel table is restored afterwards. A sample that
    raises is skipped; the trace is computed once per process.
    """
    import numpy as np

    import ember
    from ember.backend import PRIMITIVES
    from ember.testing.op_table import OPS, cast_sample, to_ember

    dev = ember.device("cpu")
    table = dev.kernels
    saved = dict(table)
    families = {name: fam for name, (fam, _) in PRIMITIVES.items()}
    uses: dict[str, KernelUse] = {}
    try:
        if primitives_only:
            for name in list(table):
                if name not in PRIMITIVES:
                    del table[name]
        _spied(table, families, uses)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for rec in OPS:
                for dtype in rec.dtypes:
                    try:
                        samples = rec.samples(dtype, np.random.default_rng(0))
                    except Exception:
                        continue
                    for raw in samples:
                        try:
                            args, kwargs = to_ember(cast_sample(raw, dtype), dtype, dev)
                            rec.caller()(*args, **kwargs)
                        except Exception:
                            continue
    finally:
        table.clear()
        table.update(saved)
    return uses


def _probe(expr: Callable[[], Any], kernel: str) -> list[tuple]:
    """The argument tuples ``kernel`` received on cpu while ``expr()`` ran."""
    import ember

    table = ember.device("cpu").kernels
    original = table[kernel]
    seen: list[tuple] = []

    def spy(*args: Any) -> Any:
        seen.append(args)
        return original(*args)

    table[kernel] = spy
    try:
        expr()
    finally:
        table[kernel] = original
    return seen


def _dtype_kinds(names: Iterable[str]) -> str:
    """Dtypes as kinds, so the row changes only when a kind appears: ``bool``, ``int64`` (when it
    is the only integer dtype seen) or ``integers``, and ``floats``."""
    names = set(names)
    ints = names & {"uint8", "int8", "int16", "int32", "int64"}
    kinds = ["bool"] if "bool" in names else []
    if ints:
        kinds.append("int64" if ints == {"int64"} else "integers")
    if names & {"float16", "float32", "float64"}:
        kinds.append("floats")
    return ", ".join(kinds) if kinds else "(none)"


def _families_where(uses: Mapping[str, KernelUse], seen: Callable[[KernelUse], bool]) -> str:
    """The kernel families (in the contract's order) with a kernel for which ``seen`` holds.
    Families, not kernels: per kernel the answer flips with every new composite, per family it
    is the stable fact an author plans by."""
    from ember.backend import PRIMITIVES

    fams = list(
        dict.fromkeys(fam for name, (fam, _) in PRIMITIVES.items() if name in uses and seen(uses[name]))
    )
    return ", ".join(fams) if fams else "no"


def render_kernel_facts() -> str:
    """The authoring guide's facts: who wraps integer scalars, the casts before integer
    reductions (both probed on cpu), which kernel families negative and zero strides reach, and
    per primitive the dtype kinds and Python scalar operands that reach it (:func:`trace_kernels`)."""
    import ember
    from ember.backend import PRIMITIVES

    u8 = ember.tensor([1, 2], dtype=ember.uint8, device="cpu")
    added = _probe(lambda: u8 + 300, "add")
    scalar = added[-1][1] if added else None
    cast_to: dict[str, set[str]] = {}
    for dtype in (ember.int32, ember.bool):
        x = ember.tensor([1, 0], dtype=dtype, device="cpu")
        for op, call in (("sum", x.sum), ("prod", x.prod), ("cumsum", lambda x=x: x.cumsum(0))):
            seen = _probe(call, op)
            cast_to.setdefault(str(seen[-1][0].dtype) if seen else "nothing", set()).add(op)
    casts = "; ".join(
        f"{', '.join(f'`{op}`' for op in sorted(ops))} receive {dt} buffers"
        for dt, ops in sorted(cast_to.items())
    )
    uses = trace_kernels()
    wrapped = [v for u in uses.values() for v in u.scalars_out_of_range]
    lines = [
        f"Observed by running every op record's samples (every dtype each supports) on the cpu "
        f"backend with its {len(PRIMITIVES)} primitives alone, as on a freshly scaffolded backend, "
        f"while a spy noted each kernel's arguments. Generated by `{REGENERATE_COMMAND}` (`make docs`); "
        "do not edit by hand.",
        "",
        f"- Core wraps out-of-range integer scalars before a kernel sees them, as C does: "
        f"`uint8 tensor + 300` calls `add(buffer, {scalar!r})`. "
        + (
            "No kernel received an integer scalar outside its dtype's range."
            if not wrapped
            else f"Out-of-range integer scalars reached kernels: {wrapped[:5]}."
        ),
        "- Core casts integer and bool inputs of `sum`, `prod` and `cumsum` first (they accumulate in "
        f"int64): for int32 and bool tensors, {casts}. Called with a narrower dtype, a kernel "
        "keeps it (the cpu backend does).",
        "- A Python scalar operand has the dtype of the buffer beside it (pass it as a kernel "
        "argument, e.g. with `ember.layout.scalar_to_bytes`).",
        "- Strided views reach kernels of every kind, so accept any strides everywhere. In these "
        "samples, negative strides (flipped views) reached the "
        f"{_families_where(uses, lambda u: u.negative_strides)} kernels, and zero strides (broadcast "
        f"dims) the {_families_where(uses, lambda u: u.zero_strides)} kernels.",
        "",
        "The dtypes each primitive received, by kind (`int64` when it is the only integer dtype "
        "seen), and those of its Python scalar operands. A kind missing from a row was not reached "
        "by the samples, which is no promise that core never sends it.",
        "",
        "| kernel | dtypes | a Python scalar operand |",
        "|---|---|---|",
    ]
    for name in PRIMITIVES:
        use = uses.get(name)
        if use is None:
            lines.append(f"| `{name}` | not reached by the samples | |")
            continue
        scalars = _dtype_kinds(use.scalars) if use.scalars else "never"
        lines.append(f"| `{name}` | {_dtype_kinds(use.dtypes)} | {scalars} |")
    return "\n".join(lines)


#: block name -> renderer of its text (without the marker lines).
RENDERERS: dict[str, Callable[[], str]] = {
    "kernels": render_kernels,
    "kernel-summary": render_kernel_summary,
    "kernel-facts": render_kernel_facts,
}


def _check_markers(text: str, path: Path) -> None:
    begins = _BEGIN_RE.findall(text)
    ends = _END_RE.findall(text)
    matched = [m.group("name") for m in _BLOCK_RE.finditer(text)]
    if not begins and not ends:
        raise DocgenError(
            f"{path}: no generated block; put the generated text between "
            "'<!-- BEGIN GENERATED: NAME -->' and '<!-- END GENERATED: NAME -->' lines "
            f"(NAME one of: {', '.join(RENDERERS)})"
        )
    if sorted(begins) != sorted(matched) or sorted(ends) != sorted(matched):
        raise DocgenError(
            f"{path}: unbalanced generated-block markers (BEGIN: {begins}, END: {ends}); each "
            "'<!-- BEGIN GENERATED: NAME -->' line needs a matching '<!-- END GENERATED: NAME -->'"
        )


def update(
    path: str | Path,
    check: bool = False,
    renderers: Mapping[str, Callable[[], str]] | None = None,
) -> bool:
    """Regenerate the generated blocks of the markdown file ``path``.

    Each block between ``<!-- BEGIN GENERATED: NAME -->`` and ``<!-- END GENERATED: NAME -->``
    gets the text of ``renderers[NAME]()`` (default :data:`RENDERERS`). Returns whether the file
    changed (with ``check=True``: whether it would change, which never happens since a stale file
    raises). The file is written only when its text changes.

    Raises :class:`DocgenError` when the file has no block, a marker lacks its pair or a block's
    name has no renderer, and, with ``check=True``, :class:`DocsStaleError` naming the stale
    blocks and the command that regenerates them; the file is then left untouched.
    """
    path = Path(path)
    table = RENDERERS if renderers is None else renderers
    text = path.read_text(encoding="utf-8")
    _check_markers(text, path)
    stale: list[str] = []

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in table:
            raise DocgenError(
                f"{path}: no renderer for the generated block {name!r} (known: {', '.join(table)})"
            )
        body = table[name]().rstrip("\n") + "\n"
        if body != m.group("body"):
            stale.append(name)
        return m.group("begin") + body + m.group("end")

    new = _BLOCK_RE.sub(replace, text)
    if not stale:
        return False
    if check:
        command = REGENERATE_COMMAND if path.resolve() in DOCS else f"{REGENERATE_COMMAND} {path}"
        raise DocsStaleError(
            f"{path} is stale: its generated block(s) {', '.join(stale)} differ from the code; "
            f"regenerate with `{command}`{' (or `make docs`)' if command == REGENERATE_COMMAND else ''} "
            "and commit the result"
        )
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ember.docgen [--check] [PATH ...]``: update (or check) the docs' generated
    blocks; returns the exit status (1 when ``--check`` finds a stale file)."""
    parser = argparse.ArgumentParser(prog="python -m ember.docgen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail, changing nothing, when a doc is stale")
    parser.add_argument("paths", nargs="*", type=Path, help="markdown files (default: the repository's docs)")
    args = parser.parse_args(argv)
    paths: Iterable[Path] = args.paths or DOCS
    status = 0
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such file (run from a source checkout or pass the paths)", file=sys.stderr)
            return 2
        try:
            changed = update(path, check=args.check)
        except DocsStaleError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        except DocgenError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{path}: {'updated' if changed else 'up to date'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
