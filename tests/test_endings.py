"""Every way a process can end, for every way it can be started: the matrix in docs/processes.md.

Each cell is a real run: ``launch.py`` starts ``ending.py``'s child the row's
way, the child runs its marked lines and ends the column's way (the
test sends real signals to the real child pid).  The same cell runs once
without coverage, so the exit status under covhook is compared with the
program's own, not with a guess.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from support import data, launchers, matrix

CELLS = [
    pytest.param(kind, ending, id=f"{kind}-{ending}")
    for kind in matrix.KINDS
    for ending in matrix.ENDINGS
]


def run_cell(tmp: Path, kind: str, ending: str, rc: Path | None) -> int:
    """Run one cell in ``tmp``; the child's exit status as its launcher saw it."""
    out = tmp / ("measured" if rc else "bare")
    out.mkdir()
    extra = {"COVHOOK_FLUSH_SECONDS": "0.2"} if ending == "sigkill-after-flush" else {}
    proc = subprocess.Popen(
        [str(launchers.PYTHON), str(tmp / "launch.py"), kind, ending, str(out)],
        cwd=tmp,
        env=launchers.measured_env(rc, **extra),
        stderr=subprocess.DEVNULL,
    )
    try:
        sig_name = matrix.SIGNALLED.get(ending)
        if sig_name:
            launchers.wait_for(lambda: launchers.ready_pids(out), 30, f"{kind} child ready")
            launchers.kill_all(launchers.ready_pids(out), signal.Signals[sig_name])
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    return int((out / "status").read_text())


@pytest.mark.signals
@pytest.mark.parametrize(("kind", "ending"), CELLS)
def test_cell(tmp_path: Path, kind: str, ending: str) -> None:
    launchers.copy_programs(tmp_path, "ending.py", "launch.py", "start_python.sh")
    bare_status = run_cell(tmp_path, kind, ending, rc=None)
    assert not data.data_files(tmp_path)
    rc = launchers.write_rc(tmp_path)
    status = run_cell(tmp_path, kind, ending, rc)

    assert status == bare_status, "covhook changed how the child ended"
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    ran = data.lines_of(combined, "ending.py")
    program = tmp_path / "ending.py"
    outcome = matrix.expected(kind, ending)
    if outcome in (matrix.MEASURED, matrix.FLUSHED):
        own = launchers.marked(program, f"only-{ending}")
        wanted = launchers.marked(program, "all") | own
        if ending in matrix.SIGNALLED:
            if outcome == matrix.MEASURED:  # the flush happened before the waiting lines
                wanted |= launchers.marked(program, "waiting")
        else:
            wanted = {n for n in wanted if n <= max(own)}
        assert wanted <= ran, sorted(wanted - ran)
        assert not (launchers.marked(program, "after-signal") & ran)
    else:
        assert not (launchers.marked(program, "all") & ran), sorted(ran)


def test_docs_matrix_is_current() -> None:
    assert matrix.DOC.is_file()
    assert matrix.DOC.read_text("utf-8") == matrix.render(), (
        "docs/processes.md is out of date: run .venv/bin/python tests/support/matrix.py"
    )
