"""What killed processes leave in ``.covhook-work/``: ``covhook combine`` recovers the
complete files, removes them and the never-written ones, names what it cannot use;
``covhook run`` (without ``--append``) does not mix in an earlier run's leftovers.
"""

from __future__ import annotations

import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from support import data, launchers, measured, processes

pytestmark = pytest.mark.signals

KILLED = """\
    import os, sys, time
    def work():
        return 1  # before-kill
    work()
    open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
    time.sleep(60)
"""


def killed_after_a_flush(tmp_path: Path, name: str) -> Path:
    """Run a program with a periodic flush, SIGKILL it after its first flush: a leftover."""
    program = tmp_path / name
    program.write_text(textwrap.dedent(KILLED))
    rc = launchers.write_rc(tmp_path)
    proc = subprocess.Popen(
        [str(launchers.PYTHON), str(program), str(tmp_path)],
        cwd=tmp_path,
        env=launchers.measured_env(rc, COVHOOK_FLUSH_SECONDS="0.05"),
    )
    launchers.wait_for(lambda: launchers.ready_pids(tmp_path), 30, "the program")
    work = tmp_path / ".covhook-work"
    launchers.wait_for(lambda: data.data_files(tmp_path), 30, "the first flush")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    for ready in tmp_path.glob("ready-*"):
        ready.unlink()
    for published in data.data_files(tmp_path):
        published.unlink()  # as if its publish had failed: the only copy is the work dir's
    assert len(list(work.iterdir())) == 1
    return program


def covhook(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    out = launchers.covhook(tmp_path, *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def test_combine_recovers_complete_leftovers_and_names_the_rest(tmp_path: Path) -> None:
    program = killed_after_a_flush(tmp_path, "killed.py")
    work = tmp_path / ".covhook-work"
    (work / ".coverage.host-x.pid999999999.XgarbagXx").write_bytes(b"not sqlite" * 100)
    (work / ".coverage.host-x.pid999999998.XemptyyXx").write_bytes(b"")
    out = covhook(tmp_path, "combine", "--keep")
    assert "recovered 1 data file(s)" in out.stdout
    assert "could not use 1 leftover file(s)" in out.stdout
    assert "XgarbagXx" in out.stdout
    assert sorted(p.name for p in work.iterdir()) == [".coverage.host-x.pid999999999.XgarbagXx"]
    combined = tmp_path / ".coverage"
    assert launchers.marked(program, "before-kill") <= data.lines_of(combined, "killed.py")


def test_run_does_not_mix_in_an_earlier_runs_leftovers(tmp_path: Path) -> None:
    killed_after_a_flush(tmp_path, "old.py")
    new = tmp_path / "new.py"
    new.write_text("print('new')\n")
    covhook(tmp_path, "run", "--", str(launchers.PYTHON), str(new))
    assert list((tmp_path / ".covhook-work").iterdir()) == []
    found = data.lines_by_file(tmp_path / ".coverage")
    assert "new.py" in found
    assert found.get("old.py", set()) == set()  # listed as unrun (source = .), no lines


EXECS = """\
    import os, sys
    if sys.argv[1:] != ["again"]:
        x = 1  # before-exec
        os.execv(sys.executable, [sys.executable, __file__, "again"])
    y = 2  # after-exec
"""


def test_an_exec_leaves_nothing_to_recover(tmp_path: Path) -> None:
    """os.execv publishes the data first; its working copy is not a killed process's."""
    program = tmp_path / "execs.py"
    program.write_text(textwrap.dedent(EXECS))
    rc = launchers.write_rc(tmp_path)
    processes.run([launchers.PYTHON, program], tmp_path, measured.env(rc), check=True, timeout=60)
    out = covhook(tmp_path, "combine")
    assert "recovered" not in out.stdout + out.stderr
    assert list((tmp_path / ".covhook-work").iterdir()) == []
    combined = tmp_path / ".coverage"
    wanted = launchers.marked(program, "before-exec") | launchers.marked(program, "after-exec")
    assert wanted <= data.lines_of(combined, "execs.py")
