"""The fast path is never silently off (issue 21): which path measures, and why, is said.

``covhook.startup.which.explain`` runs the recorder's own checks on the real
installed coverage.py; ``covhook status`` prints its answer, and a measuring
process prints it as one line under ``COVHOOK_DEBUG=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from covhook.cli import main
from covhook.startup import which
from support import envs

ACTIVE = {"COVERAGE_PROCESS_START": "/nonexistent/.coveragerc"}


@pytest.mark.fast
def test_a_coverage_newer_than_every_checked_one_is_named() -> None:
    """The installed coverage (real) against a list of checked versions it is newer than."""
    version = which.coverage_version()
    assert version
    path, why = which.explain(ACTIVE, checked=("7.10.4",))
    if version == "7.10.4":
        pytest.skip("the installed coverage is the oldest checked one")
    assert path != which.RECORDER
    assert f"coverage {version} is newer than every version covhook was checked on" in why
    assert "Fix: " in why


@pytest.mark.fast
def test_the_installed_coverage_is_not_called_newer_than_the_checked_ones() -> None:
    _path, why = which.explain(ACTIVE)
    assert "newer than every version" not in why


@pytest.mark.fast
@pytest.mark.parametrize(
    ("extra", "path", "words"),
    [
        ({"COVHOOK_DISABLE": "1"}, which.NONE, "COVHOOK_DISABLE"),
        ({"COVHOOK_RECORDER": "0"}, which.LEAN, "COVHOOK_RECORDER=0"),
        ({"COVHOOK_RECORDER": "0", "COVHOOK_LEAN": "0"}, which.COVERAGE, "COVHOOK_LEAN=0"),
        ({"COVERAGE_DEBUG": "trace"}, which.LEAN, "COVERAGE_DEBUG is set"),
    ],
)
def test_each_reason_is_said(extra: dict[str, str], path: str, words: str) -> None:
    got_path, why = which.explain({**ACTIVE, **extra})
    assert got_path == path
    assert words in why


@pytest.mark.fast
@pytest.mark.parametrize(
    "extra",
    [{"COVHOOK_RECORDER": "0"}, {"COVERAGE_DEBUG": "trace"}, {"COVHOOK_FLUSH_SECONDS": "5"}],
    ids=["recorder-off", "debug", "flush"],
)
def test_status_and_doctor_phrase_a_reason_alike(extra: dict[str, str]) -> None:
    """One phrasing (issue 27): ``covhook status`` says the reason and fix as doctor does."""
    _path, status_why = which.explain({**ACTIVE, **extra})
    doctor_path, doctor_why = which.decide("", environ=extra)
    assert doctor_path == which.FULL
    assert status_why == doctor_why
    assert ". Fix: " in status_why


@pytest.mark.fast
def test_inactive_says_so() -> None:
    assert which.explain({}) == (
        which.NONE,
        "COVERAGE_PROCESS_START is unset: the hook measures nothing",
    )


@pytest.mark.fast
def test_status_prints_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COVHOOK_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COVERAGE_PROCESS_START", str(tmp_path / ".coveragerc"))
    monkeypatch.setenv("COVHOOK_RECORDER", "0")
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "covhook: here, a process is measured by lean: COVHOOK_RECORDER=0" in out


@pytest.mark.slow
def test_measuring_process_says_its_path_under_debug(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "prog.py").write_text("x = 1\n")
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nsource = src\nparallel = True\n")
    lines = []
    for _ in range(2):  # the second process may use the recorder (config cached by the first)
        done = subprocess.run(
            [str(env.python), "src/prog.py"],
            cwd=tmp_path,
            env=envs.clean_env(COVERAGE_PROCESS_START=str(rc), COVHOOK_DEBUG="1"),
            capture_output=True,
            text=True,
            check=True,
        )
        lines += done.stderr.splitlines()
    assert len(lines) == 2, lines
    for line in lines:
        assert line.startswith("covhook: debug: pid "), line
        assert " measured by " in line
    # Both say why: the first is never the recorder (nothing cached yet).
    assert "no resolved config cached yet" in lines[0]


def test_no_debug_line_without_debug(tmp_path: Path) -> None:
    """Without COVHOOK_DEBUG the start-up stays silent (the line costs only an env look-up)."""
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nparallel = True\n")
    done = subprocess.run(
        [sys.executable, "-c", "pass"],
        cwd=tmp_path,
        env={**envs.clean_env(COVERAGE_PROCESS_START=str(rc)), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "covhook: debug" not in done.stderr
