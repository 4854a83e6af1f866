"""pytest-cov's ``no_cover`` marker and fixture reach the test's children (issue 26).

pytest-cov pauses its measurement during such a test; the child a test starts
must then run unmeasured too, and say nothing.  A real inner ``pytest --cov``
(pytester, in a subprocess) runs a test whose child calls the one function of
``mod.py``; the combined data must not hold that function's body.
"""

from __future__ import annotations

import pytest

from support import data

pytestmark = pytest.mark.pytest_plugin
pytest_plugins = ("pytester",)

MODULE = """\
def func():
    return 1  # body
"""

TESTS = {
    "marker": """\
import subprocess, sys
import pytest
import mod

@pytest.mark.no_cover
def test_paused():
    subprocess.check_call([sys.executable, "-c", "import mod; mod.func()"])

def test_measured_after():
    subprocess.check_call([sys.executable, "-c", "import mod"])
""",
    "fixture": """\
import subprocess, sys
import mod

def test_paused(no_cover):
    subprocess.check_call([sys.executable, "-c", "import mod; mod.func()"])

def test_measured_after():
    subprocess.check_call([sys.executable, "-c", "import mod"])
""",
}


@pytest.mark.parametrize("how", sorted(TESTS))
def test_no_cover_child_is_not_measured(pytester: pytest.Pytester, how: str) -> None:
    mod = pytester.makepyfile(mod=MODULE)
    pytester.makepyfile(test_it=TESTS[how])
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--cov=.", "--cov-report=term-missing"
    )
    assert result.ret == 0, result.stdout.str()
    ran = data.lines_of(pytester.path / ".coverage", "mod.py")
    # The module line ran (the pytest process imported mod; so did the second
    # test's child); the body ran only in the no_cover test's child.
    assert 1 in ran
    assert not (data.lines_in(mod, "# body") & ran), sorted(ran)
    # The second test's child was measured: covhook still hands children the config.
    result.stdout.fnmatch_lines(["covhook: * measured processes (*subprocess*)*"])
    assert "without coverage" not in result.stdout.str()


QUIET_TESTS = """\
import subprocess, sys
import mod

def test_alone():
    mod.func()
"""


@pytest.mark.parametrize("env", [{}, {"COVHOOK_QUIET": "1"}], ids=["default", "quiet"])
def test_no_covhook_lines_when_no_child_ran(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """pytest-cov's output stays its own when covhook has nothing to add (issue 26)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(mod=MODULE, test_it=QUIET_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--cov=.", "--cov-fail-under=50"
    )
    assert result.ret == 0, result.stdout.str()
    assert not [line for line in result.stdout.lines if line.startswith("covhook:")]
    # The last line is pytest's, right after pytest-cov's fail-under line.
    result.stdout.fnmatch_lines(["Required test coverage of 50% reached*", "*1 passed*"])


def test_quiet_silences_the_child_summary(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVHOOK_QUIET", "1")
    pytester.makepyfile(mod=MODULE, test_it=TESTS["marker"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cov=.")
    assert result.ret == 0, result.stdout.str()
    assert not [line for line in result.stdout.lines if line.startswith("covhook:")]
    # Quiet is only about the lines: the second test's child is still measured.
    assert data.lines_of(pytester.path / ".coverage", "mod.py")
