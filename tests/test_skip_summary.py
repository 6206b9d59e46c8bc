"""The end of every test run says what it did not test, and why.

Each test runs a small inner pytest session (``pytester``) with this suite's own
``tests/conftest.py`` and marker list, in a temporary checkout with no ``../shared`` beside it:
the situation of a fresh clone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INNER_TESTS = '''
import pytest

def test_runs_anywhere():
    pass

def test_reads_the_real_photos(groceries4):
    pass

def test_uses_the_trained_model(trained_model_dir):
    pass

@pytest.mark.parametrize("page", ["home", "training"])
def test_in_the_browser(page):
    pytest.skip("Chromium not found: apt-get install -y chromium")
'''


@pytest.fixture
def fresh_clone(pytester: pytest.Pytester, repo_root: Path) -> pytest.Pytester:
    """A checkout laid out like this one: its markers, ``tests/conftest.py`` and ``INNER_TESTS``."""
    ini = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    pytester.makeini("[pytest]\nmarkers =\n" + "".join(f"    {m}\n" for m in ini["markers"]))
    tests = pytester.mkdir("tests")
    (tests / "conftest.py").write_text((repo_root / "tests" / "conftest.py").read_text())
    (tests / "test_inner.py").write_text(INNER_TESTS)
    return pytester


def not_tested_block(result: pytest.RunResult) -> list[str]:
    """The lines between the closing block's header and the final counts (the last line)."""
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "not tested in this run" in line)
    return lines[start + 1:-1]


def test_the_summary_counts_skipped_tests_by_reason(fresh_clone: pytest.Pytester) -> None:
    result = fresh_clone.runpytest("--strict-markers", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, skipped=4)
    missing = fresh_clone.path.parent / "shared" / "data"
    assert not_tested_block(result) == [
        "4 skipped, by reason:",
        "     2  Chromium not found: apt-get install -y chromium",
        f"     2  needs the real photos of ../shared/data (not found at {missing})"]


def test_tests_of_the_real_photos_are_marked_and_can_be_left_out(
        fresh_clone: pytest.Pytester) -> None:
    result = fresh_clone.runpytest("--strict-markers", "-p", "no:cacheprovider",
                                   "-m", "not real_photos")

    result.assert_outcomes(passed=1, skipped=2, deselected=2)
    block = not_tested_block(result)
    assert block == ["2 skipped, by reason:",
                     "     2  Chromium not found: apt-get install -y chromium",
                     "2 deselected (-m / -k / --deselect)"]


def test_a_run_that_tests_everything_it_collected_prints_no_block(
        fresh_clone: pytest.Pytester) -> None:
    result = fresh_clone.runpytest("-p", "no:cacheprovider",
                                   "tests/test_inner.py::test_runs_anywhere")

    result.assert_outcomes(passed=1)
    assert "not tested in this run" not in result.stdout.str()
