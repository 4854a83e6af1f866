"""Local launchers for real: Dask LocalCluster, ProcessPoolExecutor, a scrubbed environment.

(A shell script that starts Python is a row of the matrix in test_endings.py.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from covhook.startup import children
from support import data, envs, launchers, measured, processes

pytestmark = [pytest.mark.launchers]


def run(tmp: Path, rc: Path, *args: str, **extra: str) -> None:
    out = processes.run([launchers.PYTHON, *args], tmp, measured.env(rc, **extra), timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]


def worker_files(tmp: Path, program: str, marker: str) -> list[str]:
    """Data files (one per process) that hold every ``marker`` line of ``program``."""
    wanted = launchers.marked(tmp / program, marker)
    per_file = launchers.lines_per_file(tmp, program)
    return sorted(name for name, lines in per_file.items() if wanted <= lines)


@pytest.mark.dask
@pytest.mark.slow
def test_dask_local_cluster_workers(tmp_path: Path) -> None:
    launchers.need_module("distributed")
    launchers.copy_programs(tmp_path, "dask_driver.py")
    rc = launchers.write_rc(tmp_path)
    run(tmp_path, rc, "dask_driver.py")
    assert worker_files(tmp_path, "dask_driver.py", "dask-task")
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    assert launchers.marked(tmp_path / "dask_driver.py", "dask-task") <= data.lines_of(
        combined, "dask_driver.py"
    )


@pytest.mark.dask
def test_function_cloudpickled_by_value_is_measured_in_the_child(tmp_path: Path) -> None:
    """cloudpickle >= 3.1.2 names such code "<dynamic-code>": covhook keeps the file name."""
    launchers.need_module("cloudpickle")
    launchers.copy_programs(tmp_path, "cloudpickled.py")
    rc = launchers.write_rc(tmp_path)
    run(tmp_path, rc, "cloudpickled.py")
    assert worker_files(tmp_path, "cloudpickled.py", "cloudpickled-task")
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    program = tmp_path / "cloudpickled.py"
    assert launchers.marked(program, "cloudpickled-task") <= data.lines_of(combined, program.name)


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_process_pool_executor_workers(tmp_path: Path, method: str) -> None:
    launchers.copy_programs(tmp_path, "pool.py")
    rc = launchers.write_rc(tmp_path)
    run(tmp_path, rc, "pool.py", method)
    # The pool's workers ran the task; the parent never did.
    assert worker_files(tmp_path, "pool.py", "pool-task")
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    assert launchers.marked(tmp_path / "pool.py", "pool-task") <= data.lines_of(combined, "pool.py")


ROUTES = ["fork_exec", "posix_spawn"]


@pytest.mark.parametrize("route", ROUTES)
def test_scrubbed_env_child_is_noted_not_measured(tmp_path: Path, route: str) -> None:
    launchers.copy_programs(tmp_path, "scrubbed.py", "scrubbed_child.py")
    rc = launchers.write_rc(tmp_path)
    run(tmp_path, rc, "scrubbed.py", route)
    combined, _ = launchers.combine(tmp_path)
    assert data.lines_of(combined, "scrubbed.py")  # the parent is measured
    assert not data.lines_of(combined, "scrubbed_child.py")
    (note,) = children.unmeasured(str(tmp_path))
    assert note["argv"][-1].endswith("scrubbed_child.py")
    assert "COVERAGE_PROCESS_CONFIG" in note["why"]
    assert children.ENV in note["fix"]
    assert json.dumps(note)


@pytest.mark.parametrize("route", ROUTES)
def test_scrubbed_env_child_measured_on_request(tmp_path: Path, route: str) -> None:
    launchers.copy_programs(tmp_path, "scrubbed.py", "scrubbed_child.py")
    rc = launchers.write_rc(tmp_path)
    run(tmp_path, rc, "scrubbed.py", route, COVHOOK_SCRUBBED_ENV="measure")
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    child = tmp_path / "scrubbed_child.py"
    assert launchers.marked(child, "scrubbed-child") <= data.lines_of(combined, child.name)
    assert children.unmeasured(str(tmp_path)) == []


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.12", "3.13"])
@pytest.mark.parametrize("scrubbed_env", ["report", "measure"])
def test_scrubbed_env_on_other_pythons(
    make_covhook_env: Callable[..., envs.Env], tmp_path: Path, python: str, scrubbed_env: str
) -> None:
    """Each Python's default route (3.13: posix_spawn) is seen, in a venv with the wheel."""
    env = make_covhook_env(python=python)
    launchers.copy_programs(tmp_path, "scrubbed.py", "scrubbed_child.py")
    rc = launchers.write_rc(tmp_path)
    out = processes.run(
        [env.python, "scrubbed.py"],
        tmp_path,
        envs.clean_env(COVERAGE_PROCESS_START=str(rc), COVHOOK_SCRUBBED_ENV=scrubbed_env),
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    combined, _ = launchers.combine(tmp_path)
    child = tmp_path / "scrubbed_child.py"
    measured = data.lines_of(combined, child.name)
    notes = children.unmeasured(str(tmp_path))
    if scrubbed_env == "measure":
        assert launchers.marked(child, "scrubbed-child") <= measured
        assert notes == []
    else:
        assert not measured
        assert [n["argv"][-1] for n in notes] == [str(child)]
