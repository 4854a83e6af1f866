"""The child side of per-test contexts (issue 22): the static context a measured process takes.

In-process checks of :func:`covhook.startup.testcontext.static_context`, then
real children started with ``COVHOOK_TEST`` (as covhook's pytest plugin sets
it): coverage.py itself and covhook's lean recorder must write the same
context.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage
import pytest

from covhook.startup.testcontext import ENV, FILE_ENV, running_test, static_context
from support import context_project, launchers, processes

TEST = "tests/test_kids.py::test_subprocess|run"


@pytest.mark.parametrize(
    ("current", "environ", "expected"),
    [
        (None, {}, "host-a"),
        ("", {ENV: TEST}, f"host-a|{TEST}"),
        # A parent's context, passed on in its serialized config: replaced.
        ("host-p", {ENV: TEST}, f"host-a|{TEST}"),
        ("host-p|tests/old.py::t|setup", {ENV: TEST}, f"host-a|{TEST}"),
        ("host-p|tests/old.py::t|setup", {}, "host-a"),
        # The user's own static context stays, followed by the test (once).
        ("nightly", {ENV: TEST}, f"nightly|{TEST}"),
        (f"nightly|{TEST}", {ENV: TEST}, f"nightly|{TEST}"),
        ("nightly|x", {}, "nightly|x"),
    ],
)
def test_static_context(current: str | None, environ: dict[str, str], expected: str) -> None:
    assert static_context("host-a", current, environ) == expected


def test_the_running_test_file_wins_over_the_inherited_test(tmp_path: Path) -> None:
    """A process started after its parent's test ended takes the test running now."""
    running = tmp_path / "running"
    environ = {ENV: TEST, FILE_ENV: str(running)}
    assert running_test(environ) is None  # no file (yet): the inherited test
    assert static_context("host-a", None, environ) == f"host-a|{TEST}"
    running.write_text("tests/t.py::test_later|run")
    assert static_context("host-a", None, environ) == "host-a|tests/t.py::test_later|run"
    running.write_text("")  # between tests
    assert static_context("host-a", None, environ) == f"host-a|{TEST}"
    # Off: the file is never looked at.
    running.write_text("tests/t.py::test_later|run")
    assert static_context("host-a", None, {FILE_ENV: str(running)}) == "host-a"


def child(root: Path, rc: Path, **extra: str) -> bool:
    """Run ``by_subprocess`` in a measured child; whether it imported coverage.py."""
    env = launchers.measured_env(rc, **extra)
    code = "import sys, pkg.work; pkg.work.by_subprocess(); print('coverage' in sys.modules)"
    out = processes.run([sys.executable, "-c", code], root, env, check=True)
    return out.stdout.strip() == "True"


def contexts(data_file: Path) -> set[str]:
    data = coverage.CoverageData(str(data_file))
    data.read()
    return set(data.measured_contexts())


def test_recorder_writes_the_context_coverage_writes(tmp_path: Path) -> None:
    context_project.write(tmp_path)
    rc = launchers.write_rc(tmp_path, "patch = _exit, subprocess\n")
    cache = str(tmp_path / "cache")
    expected = {f"{launchers.place()}|{TEST}"}

    # coverage.py itself (and the config cache filled for the recorder).
    assert child(tmp_path, rc, COVHOOK_CACHE_DIR=cache, COVHOOK_RECORDER="0", **{ENV: TEST})
    (full,) = tmp_path.glob(".coverage.*")
    assert contexts(full) == expected
    full.unlink()
    assert child(tmp_path, rc, COVHOOK_CACHE_DIR=cache, **{ENV: TEST})  # first start: cache
    next(tmp_path.glob(".coverage.*")).unlink()

    # The recorder (coverage.py never imported), another test: same cache, its own context.
    other = "tests/test_kids.py::test_setup|setup"
    assert not child(tmp_path, rc, COVHOOK_CACHE_DIR=cache, **{ENV: other})
    (recorded,) = tmp_path.glob(".coverage.*")
    assert contexts(recorded) == {f"{launchers.place()}|{other}"}
