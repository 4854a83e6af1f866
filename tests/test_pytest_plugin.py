"""covhook's pytest plugin: a test suite's child processes land in pytest's coverage.

Every case runs a real inner pytest (pytester, in a subprocess so coverage
starts fresh) over a project whose tests start a Python subprocess, a shell
script that starts Python, and torchrun ranks; nothing in the project knows
about coverage.  Assertions read the combined data file: which lines of
``pkg/work.py`` ran, and which origin tags (contexts) contributed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from support import data, launchers, sample_project

pytestmark = pytest.mark.pytest_plugin
pytest_plugins = ("pytester",)

BIN = Path(sys.executable).parent
MARKERS = ("covered-by-test", "covered-by-child", "covered-by-shell")


def require_torch() -> None:
    if shutil.which("torchrun", path=str(BIN)) is None:
        launchers.need(False, "torch (torchrun)")


def run_inner(
    pytester: pytest.Pytester, runner: str, xdist: bool, *extra: str, fail_under: int = 91
) -> pytest.RunResult:
    """Run the inner suite the way a user would; return the run (``.ret``: exit status).

    ``fail_under``: without the children's lines pkg/work.py is 66% covered;
    with subprocess and shell children 91.7%, with torchrun ranks too 100%.
    """
    args = ["-p", "no:cacheprovider", "-q", *(["-n", "2"] if xdist else []), *extra]
    if runner == "pytest-cov":
        cmd = [sys.executable, "-m", "pytest", "--cov=pkg", f"--cov-fail-under={fail_under}", *args]
    else:
        cmd = [str(BIN / "coverage"), "run", "--source=pkg", "-m", "pytest", *args]
    return pytester.run(*cmd, timeout=240)


RUNNERS = ["pytest-cov", "coverage-run"]


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist2"])
@pytest.mark.parametrize("runner", RUNNERS)
def test_children_are_in_pytests_report(
    pytester: pytest.Pytester, runner: str, xdist: bool
) -> None:
    work = sample_project.write(pytester.path)

    # pytest-cov runs with --cov-fail-under=91: it passes only if the
    # children's lines are in the total it computed.
    result = run_inner(pytester, runner, xdist)
    assert result.ret == 0
    # The plugin's one summary line: pytest itself, and its children by kind.
    result.stdout.fnmatch_lines(
        ["covhook: * measured processes (*pytest*subprocess*); * child processes from * origin*"]
    )

    combined = pytester.path / ".coverage"
    assert [p.name for p in data.data_files(pytester.path)] == []  # all combined, none left
    ran = data.lines_of(combined, "work.py")
    for marker in MARKERS:
        assert data.lines_in(work, marker) <= ran, marker
    tags = {c for c in data.contexts(combined) if c.startswith("host-")}
    # Children are tagged with where they ran; under xdist, with their worker too.
    assert tags, data.contexts(combined)
    if xdist:
        assert any("_xdist-gw" in t for t in tags), tags


@pytest.mark.torch
@pytest.mark.launchers
@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist2"])
@pytest.mark.parametrize("runner", RUNNERS)
def test_torchrun_ranks_are_in_pytests_report(
    pytester: pytest.Pytester, runner: str, xdist: bool
) -> None:
    require_torch()
    work = sample_project.write(pytester.path, torch=True)

    assert run_inner(pytester, runner, xdist, fail_under=100).ret == 0

    combined = pytester.path / ".coverage"
    assert data.lines_in(work, "covered-by-rank") <= data.lines_of(combined, "work.py")
    assert data.lines_in(work, "covered-by-child") <= data.lines_of(combined, "work.py")


GRANDCHILD_TEST = """\
import os, subprocess, sys

def test_grandchild():
    code = (
        "import os, subprocess, sys; "
        "env = dict(os.environ, RANK='1', WORLD_SIZE='2'); "
        "subprocess.run([sys.executable, '-m', 'pkg.work', 'rank'], env=env, check=True)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
"""


def test_grandchild_gets_its_own_origin(pytester: pytest.Pytester) -> None:
    """A launcher's children (torchrun ranks, here a RANK env) carry their own tag."""
    sample_project.write(pytester.path)
    (pytester.path / "tests" / "test_children.py").write_text(GRANDCHILD_TEST)
    assert run_inner(pytester, "pytest-cov", False, fail_under=0).ret == 0
    contexts = data.contexts(pytester.path / ".coverage")
    assert any(c.endswith("_dist-r1of2") for c in contexts), contexts


def test_inactive_without_coverage(pytester: pytest.Pytester) -> None:
    """Plain pytest: the plugin passes nothing to children and writes nothing."""
    sample_project.write(pytester.path)
    assert pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider").ret == 0
    assert not list(pytester.path.glob(".coverage*"))


def test_stale_child_data_is_not_reported(pytester: pytest.Pytester) -> None:
    """A child file left by an earlier run is not swept into a fresh pytest-cov report."""
    work = sample_project.write(pytester.path)
    (pytester.path / "tests" / "test_children.py").write_text(
        "from pkg import work\n\ndef test_direct():\n    assert work.in_test() == 1\n"
    )
    # An earlier, interrupted run's child: it ran in_child.
    assert run_inner(pytester, "pytest-cov", False, fail_under=0).ret == 0
    stale = data.data_files(pytester.path)
    assert stale == []
    import coverage

    old = coverage.CoverageData(str(pytester.path / ".coverage.host-old.vm.pid1.X000000x"))
    old.add_lines({str(work): dict.fromkeys(data.lines_in(work, "covered-by-child"))})
    old.write()

    assert run_inner(pytester, "pytest-cov", False, fail_under=0).ret == 0
    ran = data.lines_of(pytester.path / ".coverage", "work.py")
    assert not data.lines_in(work, "covered-by-child") & ran
