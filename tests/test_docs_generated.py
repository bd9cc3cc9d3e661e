"""The docs' generated blocks match the code, the generator behaves, and doc examples run."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import ember.array_backend
import pytest
from ember import docgen
from ember.backend import PRIMITIVES
from ember.ops.catalog import OPTIONAL_KERNELS

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", ["authoring-a-backend.md", "architecture.md"])
def test_generated_docs_are_up_to_date(name: str) -> None:
    """Fails (naming the regenerate command) when a kernel table or count drifts from the code."""
    path = DOCS_DIR / name
    assert path in docgen.DOCS
    assert docgen.update(path, check=True) is False


def test_authoring_guide_states_the_live_counts() -> None:
    """The generated block states the counts, and the guide's sample coverage summary (hand-written
    kit output for a scaffolded backend: every primitive native, every optional kernel composite)
    agrees with them."""
    text = (DOCS_DIR / "authoring-a-backend.md").read_text(encoding="utf-8")
    assert f"{len(PRIMITIVES)} required kernels" in text
    assert f"{len(OPTIONAL_KERNELS)} optional kernels" in text
    samples = re.findall(r"^mydev: kernels composite (\d+), native (\d+)$", text, re.MULTILINE)
    assert samples == [(str(len(OPTIONAL_KERNELS)), str(len(PRIMITIVES)))]


def test_every_kernel_has_a_row() -> None:
    table = docgen.render_kernels()
    for name, (family, _) in PRIMITIVES.items():
        assert f"| {family} | `{name}` |" in table
    for name in OPTIONAL_KERNELS:
        assert re.search(rf"^\| `{re.escape(name)}` \|.*\| core composite \|$", table, re.MULTILINE)
    assert table.count("\n| ") == len(PRIMITIVES) + len(OPTIONAL_KERNELS) + 2  # two header rows


def test_kernel_summary_lists_every_primitive_once() -> None:
    summary = docgen.render_kernel_summary()
    assert f"{len(PRIMITIVES)} kernels in {len({f for f, _ in PRIMITIVES.values()})} families" in summary
    for name in PRIMITIVES:
        assert summary.count(f"`{name}`") == 1


# -- the generator on a temporary file ---------------------------------------------------------


def _doc(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(
        "# Title\n\nintro\n\n<!-- BEGIN GENERATED: table -->\n"
        + body
        + "<!-- END GENERATED: table -->\n\noutro\n",
        encoding="utf-8",
    )
    return path


RENDERERS = {"table": lambda: "| a | b |\n|---|---|\n| 1 | 2 |"}


def test_update_replaces_only_the_text_between_the_markers(tmp_path: Path) -> None:
    path = _doc(tmp_path, "old\ntext\n")
    assert docgen.update(path, renderers=RENDERERS) is True
    assert path.read_text(encoding="utf-8") == (
        "# Title\n\nintro\n\n<!-- BEGIN GENERATED: table -->\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        "<!-- END GENERATED: table -->\n\noutro\n"
    )
    # a second run changes nothing, and check mode passes
    assert docgen.update(path, renderers=RENDERERS) is False
    assert docgen.update(path, check=True, renderers=RENDERERS) is False


def test_check_mode_on_a_stale_file_raises_with_the_regenerate_command(tmp_path: Path) -> None:
    path = _doc(tmp_path, "stale\n")
    before = path.read_text(encoding="utf-8")
    with pytest.raises(docgen.DocsStaleError, match="is stale") as info:
        docgen.update(path, check=True, renderers=RENDERERS)
    assert docgen.REGENERATE_COMMAND in str(info.value)
    assert "python -m ember.docgen" in str(info.value)
    assert "table" in str(info.value)
    assert path.read_text(encoding="utf-8") == before  # check mode never writes


def test_missing_markers_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_text("# No generated block here\n", encoding="utf-8")
    with pytest.raises(docgen.DocgenError, match="no generated block.*BEGIN GENERATED"):
        docgen.update(path, renderers=RENDERERS)


def test_unbalanced_and_unknown_markers_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "unbalanced.md"
    path.write_text("<!-- BEGIN GENERATED: table -->\nno end\n", encoding="utf-8")
    with pytest.raises(docgen.DocgenError, match="unbalanced"):
        docgen.update(path, renderers=RENDERERS)
    unknown = tmp_path / "unknown.md"
    unknown.write_text("<!-- BEGIN GENERATED: nope -->\n<!-- END GENERATED: nope -->\n", encoding="utf-8")
    with pytest.raises(docgen.DocgenError, match="no renderer.*'nope'"):
        docgen.update(unknown, renderers=RENDERERS)


def test_command_line_check_and_update(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "doc.md"
    path.write_text("<!-- BEGIN GENERATED: kernels -->\nstale\n<!-- END GENERATED: kernels -->\n")
    assert docgen.main(["--check", str(path)]) == 1
    assert "python -m ember.docgen" in capsys.readouterr().err
    assert docgen.main([str(path)]) == 0
    assert docgen.main(["--check", str(path)]) == 0
    assert "`from_numpy`" in path.read_text(encoding="utf-8")


# -- doc examples ------------------------------------------------------------------------------


def test_array_backend_docstring_example_runs() -> None:
    """The module docstring's ArrayBackend subclass is a doctest: it must construct and work."""
    result = doctest.testmod(ember.array_backend, optionflags=doctest.ELLIPSIS, report=True)
    assert result.attempted > 0
    assert result.failed == 0


def test_tensor_method_stub_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    """The checked-in stub of Tensor's record-made methods matches the op records."""
    from ember import stubgen

    assert stubgen.main(["--check"]) == 0, capsys.readouterr().err


def test_tensor_method_stub_lists_every_record_method() -> None:
    """Every method and in-place variant the records declare appears in the stub, with its
    signature (editors see ``x.exp()`` and ``x.add_(y, alpha=2)``)."""
    from ember import stubgen
    from ember.ops.records import method_table

    text = stubgen.render()
    methods, inplace = method_table()
    for name in [*methods, *inplace]:
        assert f"    def {name}(self" in text, name
    assert "    def add_(self, b: Any, alpha: Any = 1) -> Tensor: ..." in text
    assert (
        "    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor: ..." in text
    )
