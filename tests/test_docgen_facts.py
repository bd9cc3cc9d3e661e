"""The authoring guide's generated kernel facts and the statements it makes about the scaffold,
the kit's dependencies and ember.layout, checked against the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import ember
import ember.layout
from ember import docgen
from ember.backend import PRIMITIVES
from ember.scaffold import _files

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "authoring-a-backend.md").read_text(encoding="utf-8")


def test_the_trace_sees_what_core_hands_the_kernels_and_restores_the_cpu_table() -> None:
    table = ember.device("cpu").kernels
    before = dict(table)
    uses = docgen.trace_kernels()
    assert table == before  # the spies and the removed optional kernels are all put back
    assert set(uses) <= set(PRIMITIVES)  # optional kernels were out of the table during the run
    inexact = {"float16", "bfloat16", "float32", "float64", "complex64", "complex128"}
    assert uses["sum"].dtypes <= {"int64"} | inexact  # core casts first
    assert uses["exp"].dtypes <= inexact
    assert uses["add"].scalars and not [v for u in uses.values() for v in u.scalars_out_of_range]
    assert uses["as_strided"].negative_strides and uses["add"].zero_strides


def test_the_facts_block_states_the_probes() -> None:
    text = docgen.render_kernel_facts()
    assert "`uint8 tensor + 300` calls `add(buffer, 44)`" in text
    assert "`cumsum`, `prod`, `sum` receive int64 buffers" in text
    assert "| `sum` | int64, floats |" in text
    assert re.search(r"negative strides \(flipped views\) reached the [a-z, ]*unary[a-z, ]* kernels", text)
    for name in PRIMITIVES:
        assert f"| `{name}` |" in text
    assert "<!-- BEGIN GENERATED: kernel-facts -->" in GUIDE


def test_the_guide_states_the_scaffold_and_kit_dependencies_as_the_code_has_them() -> None:
    scaffold = tomllib.loads(_files("mydev")["pyproject.toml"])
    assert scaffold["project"]["optional-dependencies"]["test"] == ["ember[kit]"]
    assert 'test = ["ember[kit]"]' in GUIDE
    kit = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["kit"]
    assert any(r.startswith("ember-cpu") for r in kit) and any(r.startswith("pytest") for r in kit)
    assert "`ember-cpu` and\npytest" in GUIDE or "`ember-cpu` and pytest" in GUIDE
    patterns = scaffold["tool"]["setuptools"]["package-data"]["*"]
    listed = re.search(r"ships (.*?) from all of them", GUIDE, re.DOTALL)
    assert listed, "the guide's Publish section lists the scaffold's package-data patterns"
    assert sorted(re.findall(r"`([^`]+)`", listed.group(1))) == sorted(patterns)


def test_the_layout_names_the_guide_uses_exist() -> None:
    names = set(re.findall(r"ember\.layout\.(\w+)", GUIDE))
    for block in re.findall(r"from ember\.layout import ([^\n]+)", GUIDE):
        names |= {n.strip() for n in block.split(",")}
    assert {"merge_dims", "split_reduction", "scalar_to_bytes", "StridedBuffer"} <= names
    missing = sorted(n for n in names if not hasattr(ember.layout, n))
    assert not missing, f"the guide names ember.layout.{missing}, which does not exist"
