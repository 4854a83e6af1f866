"""Real servers, task queues and pools: every worker-only line in the combined data.

Each case (tests/support/frameworks.py) is real software pinned in
constraints.txt (scripts/setup/35-frameworks.sh): gunicorn's sync workers
stopped by SIGTERM, SIGINT and SIGQUIT, with and without --preload; uvicorn
--workers 2 stopped by SIGTERM and SIGINT; a celery prefork pool on kombu's
filesystem:// broker (no server) stopped by SIGTERM (warm shutdown);
ProcessPoolExecutor(max_tasks_per_child=1); Pool(maxtasksperchild=1);
pytest-xdist -n 2 whose tests start a subprocess.  Each runs in covhook's
three forms: COVERAGE_PROCESS_START, ``covhook run``, ``pytest --cov`` (an
inner pytest whose test starts the program).  Each asserts, from the combined
data, every line marked for the case (request handlers, gunicorn's
post_fork/worker_exit/child_exit hooks, celery's worker_process_init/shutdown
and task bodies, pool task bodies) and that the program's exit status is the
unmeasured run's.  Servers listen on 127.0.0.1, on a port the kernel just
handed out; each run sends a handful of requests and is bounded in time.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from covhook.startup import lazy
from support import data, frameworks, launchers

pytestmark = [pytest.mark.frameworks, pytest.mark.signals]


_BARE: dict[str, int] = {}


def bare_status(case: frameworks.Case, directory: Path) -> int:
    """The unmeasured run's status (once per case and test process)."""
    if case.id not in _BARE:
        _BARE[case.id] = frameworks.measure(case, "bare", directory).status
    return _BARE[case.id]


def params() -> list[object]:
    found = []
    for case_id in frameworks.CASES:
        for form in frameworks.COVHOOK_FORMS:
            found.append(pytest.param(case_id, form, id=f"{case_id}-{form}"))
    return found


@pytest.fixture(autouse=True)
def nothing_left(tmp_path: Path) -> Iterator[None]:
    """A failed run's processes do not outlive the test."""
    yield
    frameworks.kill_left(tmp_path)


@pytest.mark.parametrize(("case_id", "form"), params())
def test_every_worker_line(tmp_path: Path, case_id: str, form: str) -> None:
    for module in ("gunicorn", "uvicorn", "celery", "xdist"):
        launchers.need_module(module)  # fix: bash scripts/setup/35-frameworks.sh
    case = frameworks.CASES[case_id]
    bare_dir = tmp_path / "bare"
    bare_dir.mkdir()
    expected_status = bare_status(case, bare_dir)
    run_dir = tmp_path / form
    run_dir.mkdir()
    outcome = frameworks.measure(case, form, run_dir, expected_status)
    # The pytest form's inner test asserts the program's status itself.
    assert outcome.status == (0 if form == "pytest" else expected_status), outcome.output
    assert frameworks.left_running(run_dir) == []
    for name, lines in case.expected(run_dir).items():
        missing = lines - outcome.lines.get(name, set())
        assert not missing, f"{name}: lines {sorted(missing)} not measured\n{outcome.output}"


# gunicorn loads its config file (post_fork, worker_exit...) with
# spec_from_file_location + exec_module: no import of the file's name, so a process
# waiting for in-scope code (lazy start) sees it only through compile(), to which
# importlib passes module= from Python 3.15 on.  Before covhook accepted that keyword
# the master's and the workers' hook lines were lost on 3.15 (the matrix's 3.15 cells).
LOAD_LIKE_GUNICORN = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("__config__", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.hook()
"""
CONFIG = "workers = 2  # loaded\n\n\ndef hook():\n    return 1  # loaded\n"


@pytest.mark.fast
def test_compile_module_keyword_is_watched() -> None:
    # importlib's compile(..., module=fullname) on 3.15: bound, so lazy start sees it.
    bound = lazy._bind_compile((b"x = 1", "conf.py", "exec"), {"module": "__config__"})
    assert bound is not None
    assert bound[1] == {"module": "__config__"}


def test_file_loaded_by_exec_module_is_measured_from_its_first_line(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text(CONFIG)
    rc = launchers.write_rc(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_LIKE_GUNICORN, "conf.py"],  # -c: lazy start waits
        cwd=tmp_path,
        env=launchers.measured_env(rc),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    combined = launchers.covhook(tmp_path, "combine")
    assert combined.returncode == 0, combined.stdout + combined.stderr
    assert data.lines_by_file(tmp_path / ".coverage").get("conf.py") == {1, 4, 5}


@pytest.mark.fast
def test_every_python_of_the_matrix_runs_the_layer() -> None:
    # The main run has 3.11; scripts/matrix.sh runs this file in cells of every other Python.
    pythons = {cell.python for cell in frameworks.matrix_cells()} - {frameworks.MAIN_PYTHON}
    assert pythons >= {"3.12", "3.13", "3.14", "3.15"}
    assert {cell.python for cell in frameworks.matrix_frameworks_cells()} == pythons
