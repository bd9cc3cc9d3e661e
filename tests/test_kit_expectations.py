"""The conformance kit's ``ember_expected_failures`` / ``ember_skip``: which test ids a pattern
matches, strict expected failures, and patterns that match nothing.

Each test runs pytest in-process (``pytester``) on a tiny project with its own ``pyproject.toml``
and tests, collecting the kit on cpu and selecting one op of it or none (``-k``); outcomes that
must pass or fail come from the project's own tests, so no kernel's state matters here.
"""

from __future__ import annotations

import re

import ember
import numpy as np
import pytest
from ember.scaffold import _files
from ember.testing import invariants
from ember.testing.plugin import id_forms, pattern_matches

pytest_plugins = ["pytester"]

NEG32 = "test_forward_matches_numpy and cpu-neg-float32"
KIT = ["--pyargs", "ember.testing", "--ember-device=cpu", "-p", "no:cacheprovider", "-rsxX"]


def _project(pytester: pytest.Pytester, xfails: tuple[str, ...] = (), skips: tuple[str, ...] = ()) -> None:
    """A pyproject.toml with these ember_expected_failures and ember_skip patterns."""

    def toml_list(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(f"'{p}'" for p in items) + "]"

    pytester.makefile(
        ".toml",
        pyproject=f"""
            [tool.pytest.ini_options]
            ember_expected_failures = {toml_list(xfails)}
            ember_skip = {toml_list(skips)}
        """,
    )


def _local_tests(pytester: pytest.Pytester) -> None:
    """checks/test_local.py: one failing test and one passing test of the project's own."""
    pytester.mkpydir("checks")
    (pytester.path / "checks" / "test_local.py").write_text(
        "def test_broken():\n    assert 1 == 2\n\n\ndef test_fine():\n    pass\n"
    )


def test_id_forms_cover_full_id_file_id_and_test_name() -> None:
    forms = id_forms("../../core/ember/testing/test_ops.py::test_x[cpu-neg-float32]")
    assert forms[0] == "../../core/ember/testing/test_ops.py::test_x[cpu-neg-float32]"
    assert "ember/testing/test_ops.py::test_x[cpu-neg-float32]" in forms
    assert "test_ops.py::test_x[cpu-neg-float32]" in forms
    assert forms[-1] == "test_x[cpu-neg-float32]"
    nodeid = ".venv/lib/python3.11/site-packages/ember/testing/test_ops.py::test_x[cpu-cumsum-int8]"
    assert pattern_matches("test_ops.py::test_x[[]cpu-cumsum-*", nodeid)
    assert pattern_matches("test_x[[]cpu-*", nodeid)
    assert pattern_matches("*/ember/testing/test_ops.py::test_x[[]cpu-*", nodeid)
    assert pattern_matches("test_ops.py::test_x[cpu-cumsum-int8]", nodeid)  # copied verbatim
    assert not pattern_matches("test_semantics.py::test_x[[]cpu-*", nodeid)
    assert not pattern_matches("ops.py::test_x[[]cpu-*", nodeid)  # whole path components only


def test_patterns_with_file_names_and_directories_match(pytester: pytest.Pytester) -> None:
    _local_tests(pytester)
    _project(
        pytester,
        xfails=("checks/test_local.py::test_broken",),
        skips=(
            "test_ops.py::test_forward_matches_numpy[[]cpu-neg-float32]",
            "test_ops.py::test_forward_matches_numpy[cpu-neg-float64]",
        ),
    )
    res = pytester.runpytest(
        *KIT, "checks", "-k", "test_broken or test_fine or (test_forward_matches_numpy and cpu-neg-float)"
    )
    res.assert_outcomes(passed=1, skipped=2, xfailed=1)
    out = res.stdout.str()
    for pattern in (
        "test_ops.py::test_forward_matches_numpy[[]cpu-neg-float32]",
        "test_ops.py::test_forward_matches_numpy[cpu-neg-float64]",
    ):
        assert f"listed in ember_skip (pattern '{pattern}')" in out
    assert (
        "XFAIL checks/test_local.py::test_broken - listed in ember_expected_failures "
        "(pattern 'checks/test_local.py::test_broken')"
    ) in out
    assert "ember expectations" not in out


def test_pattern_matching_nothing_is_reported_by_name(pytester: pytest.Pytester) -> None:
    _local_tests(pytester)
    _project(pytester, xfails=("test_ops.py::test_forward_matches_numpy[cpu-neg-float32]x",))
    res = pytester.runpytest(*KIT, "checks", "-k", "test_fine")  # the kit is collected, then deselected
    res.assert_outcomes(passed=1)
    out = res.stdout.str()
    assert "ember expectations" in out
    assert (
        "WARNING ember_expected_failures: pattern "
        "'test_ops.py::test_forward_matches_numpy[cpu-neg-float32]x' matches none of the" in out
    )
    assert f"remove it from ember_expected_failures in {pytester.path / 'pyproject.toml'}" in out

    strict = pytester.runpytest(*KIT, "checks", "-k", "test_fine", "--ember-strict-patterns")
    assert strict.ret == pytest.ExitCode.USAGE_ERROR
    strict.stderr.fnmatch_lines(
        ["ERROR: ember_expected_failures: pattern *x' matches none of the * collected tests*"]
    )


def test_unmatched_patterns_are_not_checked_when_the_kit_is_not_collected(
    pytester: pytest.Pytester,
) -> None:
    _local_tests(pytester)
    _project(pytester, skips=("test_ops.py::test_forward_matches_numpy[[]cpu-*",))
    res = pytester.runpytest("-p", "no:cacheprovider", "--ember-strict-patterns", "checks")
    res.assert_outcomes(passed=1, failed=1)
    assert "ember expectations" not in res.stdout.str()


def test_expected_failure_that_passes_fails_the_run(pytester: pytest.Pytester) -> None:
    # the project's own passing test, so the outcome does not depend on any kernel of the kit
    _local_tests(pytester)
    pattern = "test_local.py::test_fine"
    _project(pytester, xfails=(pattern,))
    res = pytester.runpytest(*KIT, "checks", "-k", "test_fine")
    res.assert_outcomes(failed=1)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    out = res.stdout.str()
    assert (
        "[XPASS(strict)] checks/test_local.py::test_fine passes, but ember_expected_failures pattern "
        f"'{pattern}' lists it as an expected failure: remove the pattern from ember_expected_failures "
        f"in {pytester.path / 'pyproject.toml'}"
    ) in out
    summary = (
        "PASSED, expected to fail: checks/test_local.py::test_fine: "
        f"remove ember_expected_failures pattern '{pattern}'"
    )
    assert summary in out


def test_ember_skip_wins_over_expected_failure(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        xfails=("test_forward_matches_numpy[[]cpu-neg-*",),
        skips=("*test_ops.py::*cpu-neg-float32*",),
    )
    res = pytester.runpytest(*KIT, "-k", NEG32)
    res.assert_outcomes(skipped=1)
    assert "listed in ember_skip (pattern '*test_ops.py::*cpu-neg-float32*')" in res.stdout.str()
    assert "ember expectations" not in res.stdout.str()


def test_scaffold_example_pattern_matches_the_kit(pytester: pytest.Pytester) -> None:
    text = _files("cpu")["pyproject.toml"]
    found = re.search(r"^#\s+ember_expected_failures = \[\"(.+)\"\]$", text, re.M)
    assert found, text
    _project(pytester, xfails=(found.group(1),))
    res = pytester.runpytest(*KIT, "--collect-only", "-q", "--ember-strict-patterns")
    assert res.ret == pytest.ExitCode.OK, res.stdout.str()[-2000:] + res.stderr.str()[-2000:]
    assert "test_ops.py::test_forward_matches_numpy[cpu-cumsum-float32]" in res.stdout.str()


def test_check_result_refuses_a_bool_buffer_holding_bytes_other_than_0_and_1() -> None:
    cpu = ember.device("cpu")
    t = ember.tensor([True, True, False, True])
    invariants.check_result(t, "made", cpu)
    t.numpy().view(np.uint8)[[0, 3]] = (2, 255)  # written behind the tensor's back
    with pytest.raises(AssertionError, match=r"made: the bool buffer on cpu.* holds bytes \[2, 255\]"):
        invariants.check_result(t, "made", cpu)
