"""Every start path applies the same process-tree defaults (issue 20 items 1-2, issue 24).

One small project, started the ways a user starts a measured run: under
``COVERAGE_PROCESS_START`` (covhook's recorder on, and ``COVHOOK_RECORDER=0``),
``covhook run``, ``pytest --cov`` (a real inner pytest with pytest-cov) and
lazy start.  Each run has children whose processes end in ``os._exit``: a
subprocess, and ``multiprocessing.Pool(maxtasksperchild=1)`` fork workers.
Their lines are only in the data when the process that runs them saves before
``os._exit`` (covhook's default ``patch = _exit``), whatever path started it.
Assertions read the combined data file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import data, envs, launchers, measured

BIN = Path(sys.executable).parent

WORK = """\
def in_driver():
    return 1  # ran-by-driver


def in_exit_child():
    return 2  # ran-by-exit-child


def in_pool_worker(x):
    return x + 1  # ran-by-pool-worker


def in_pytest_pool_worker(x):
    return x + 2  # ran-by-pytest-pool-worker
"""

# Outside the source dir: under a named scope each process starts lazily.
DRIVER = """\
import multiprocessing
import subprocess
import sys

from pkg import work

if __name__ == "__main__":
    work.in_driver()
    subprocess.run([sys.executable, "exit_child.py"], check=True)
    with multiprocessing.get_context("fork").Pool(2, maxtasksperchild=1) as pool:
        assert pool.map(work.in_pool_worker, [1, 2]) == [2, 3]
"""

EXIT_CHILD = """\
import os
import sys

from pkg import work

work.in_exit_child()
sys.stdout.flush()
os._exit(0)
"""

TESTS = """\
import multiprocessing
import subprocess
import sys

from pkg import work


def test_driver():
    subprocess.run([sys.executable, "driver.py"], check=True)


def test_pool_in_the_pytest_process():
    with multiprocessing.get_context("fork").Pool(2, maxtasksperchild=1) as pool:
        assert pool.map(work.in_pytest_pool_worker, [1, 2]) == [3, 4]
"""

CHILD_MARKERS = ("ran-by-driver", "ran-by-exit-child", "ran-by-pool-worker")


def write_project(root: Path) -> Path:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    work = root / "pkg" / "work.py"
    work.write_text(WORK)
    (root / "driver.py").write_text(DRIVER)
    (root / "exit_child.py").write_text(EXIT_CHILD)
    (root / "tests").mkdir()
    (root / "tests" / "test_paths.py").write_text(TESTS)
    return work


def run_path(path: str, root: Path) -> subprocess.CompletedProcess[str]:
    """Run the driver (or the inner test suite) the way ``path`` starts measurement."""
    rc_text = "[run]\nparallel = true\nsource = pkg\n"
    eager = {"COVHOOK_LAZY": "0"}  # every path but "lazy" starts at start-up
    if path == "process-start":
        # Once to leave the resolved config in covhook's cache: then the
        # driver itself records with the recorder, as a run's later processes do.
        measured.run(sys.executable, root, "driver.py", rc_text=rc_text, **eager)
        for stale in data.data_files(root):
            stale.unlink()
        # rc_text=None: the same file (the cache is keyed on its mtime).
        return measured.run(sys.executable, root, "driver.py", rc_text=None, **eager)
    if path == "process-start-no-recorder":
        return measured.run(
            sys.executable, root, "driver.py", rc_text=rc_text, COVHOOK_RECORDER="0", **eager
        )
    if path == "lazy":
        return measured.run(sys.executable, root, "driver.py", rc_text=rc_text)
    if path == "covhook-run":
        (root / ".coveragerc").write_text(rc_text)
        return subprocess.run(
            [str(BIN / "covhook"), "run", "--", sys.executable, "driver.py"],
            cwd=root,
            env=launchers.measured_env(None, **eager),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert path == "pytest-cov"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--cov=pkg", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=root,
        env=envs.clean_env(**eager),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def combined(path: str, root: Path) -> Path:
    """The combined data file: pytest-cov and covhook run combine; the others by hand."""
    if path not in ("pytest-cov", "covhook-run"):
        launchers.combine(root)
    return root / ".coverage"


PATHS = ["process-start", "process-start-no-recorder", "lazy", "covhook-run", "pytest-cov"]


@pytest.mark.parametrize("path", PATHS)
def test_children_ending_in_os_exit_keep_their_lines(path: str, tmp_path: Path) -> None:
    work = write_project(tmp_path)
    done = run_path(path, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = data.lines_of(combined(path, tmp_path), "work.py")
    for marker in CHILD_MARKERS:
        assert data.lines_in(work, marker) <= ran, (marker, done.stdout, done.stderr)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist2"])
def test_pool_in_the_pytest_process_keeps_its_workers_lines(
    tmp_path: Path, xdist: list[str]
) -> None:
    """Issue 20 item 2: fork workers of the process pytest-cov itself measures."""
    work = write_project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--cov=pkg", "-p", "no:cacheprovider", "-q", *xdist,
         "-k", "pool_in_the_pytest_process", "tests"],
        cwd=tmp_path,
        env=envs.clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ran = data.lines_of(tmp_path / ".coverage", "work.py")
    assert data.lines_in(work, "ran-by-pytest-pool-worker") <= ran, done.stdout
    # pytest-cov combined every file; none written after it stopped measuring.
    assert data.data_files(tmp_path) == []


PROBE = "import sys; print(' '.join(sorted(sys.modules)))"


def test_a_waiting_process_reads_its_config_with_nothing_heavy(tmp_path: Path) -> None:
    """Every process the hook reaches reads the config (startup/config.py) before lazy start
    waits: only covhook's start-up modules and atexit are new, never coverage, re,
    configparser, collections or typing."""
    (tmp_path / "pkg").mkdir()
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nparallel = true\nsource = pkg\n[covhook]\nsignals = true\n")

    def modules(**extra: str) -> set[str]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=tmp_path,
            env=envs.clean_env(**extra),
            capture_output=True,
            text=True,
            check=True,
        )
        return set(done.stdout.split())

    bare = modules()
    waiting = modules(COVERAGE_PROCESS_START=str(rc))
    assert "covhook.startup.config" in waiting
    assert {m for m in waiting - bare if not m.startswith("covhook")} <= {"__future__", "atexit"}


# -- issue 24: one start sequence (covhook.startup.boot.arm) on every path --------

ARMED = """\
from covhook.startup import boot


def check():
    kind = type(boot.armed).__name__  # NoneType: this process's start skipped arm()
    if kind == "CoverageMeasurer":
        return "coverage.py"  # armed-coverage
    if kind in ("Recorder", "SysmonRecorder"):
        return "recorder"  # armed-recorder
    return kind  # not-armed
"""

ARM_MAIN = "from pkg import armed\n\nprint(armed.check())\n"

# (path, COVHOOK_* variables, the marker of the Measurer that must have been armed)
ARM_PATHS = {
    "coverage.py": ({"COVHOOK_RECORDER": "0", "COVHOOK_LAZY": "0"}, "armed-coverage"),
    "recorder": ({"COVHOOK_LAZY": "0"}, "armed-recorder"),
    "lazy-recorder": ({}, "armed-recorder"),
}
ARM_MARKERS = ("armed-coverage", "armed-recorder", "not-armed")


@pytest.mark.parametrize("path", list(ARM_PATHS))
def test_every_start_path_runs_the_one_start_sequence(path: str, tmp_path: Path) -> None:
    """A real measured process on each path: its own data shows it was armed, and by what.

    The program asks covhook which measurement ``boot.arm`` armed in this very
    process and runs a marked line for the answer.  A start path that starts
    measuring without the sequence leaves ``boot.armed`` None: the
    ``not-armed`` line runs instead (and its guard/signals/children steps
    would be missing).
    """
    env, expected = ARM_PATHS[path]
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    armed = tmp_path / "pkg" / "armed.py"
    armed.write_text(ARMED)
    (tmp_path / "main.py").write_text(ARM_MAIN)
    rc_text = "[run]\nparallel = true\nsource = pkg\n"
    if "recorder" in path:
        # Once to leave the resolved config in covhook's cache: the recorder's input.
        measured.run(sys.executable, tmp_path, "main.py", rc_text=rc_text, **env)
        for stale in data.data_files(tmp_path):
            stale.unlink()
        rc_text = None  # the same file: the cache is keyed on its mtime
    done = measured.run(sys.executable, tmp_path, "main.py", rc_text=rc_text, **env)
    assert done.returncode == 0, done.stderr
    assert "covhook:" not in done.stderr, done.stderr
    ran = data.lines_of(launchers.combine(tmp_path)[0], "armed.py")
    for marker in ARM_MARKERS:
        if marker == expected:
            assert data.lines_in(armed, marker) <= ran, (marker, done.stdout)
        else:
            assert not data.lines_in(armed, marker) & ran, (marker, done.stdout)
