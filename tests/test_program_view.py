"""A measured program sees what it sees without covhook (issue 23, items 11, 13, 15).

Real processes, each program run without covhook and with it (twice: the
first run starts coverage.py, the second covhook's lean recorder), and the
outputs compared line by line: every exec* / spawn* / posix_spawn* call of a
table (good and bad arguments, keywords, kinds of mapping, a path that does
not exist) fails or succeeds the same way and leaves the caller's objects
alone; every function covhook wraps has the original's name, doc, signature,
pickling and argument errors; a fork on Python 3.12+ with the flush thread on
gets no "multi-threaded" warning, and the flush goes on after it.  That the
processes were measured is read from the combined data.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support import data, envs, launchers, measured, processes

PROGRAMS = Path(__file__).resolve().parent / "programs" / "view"


def copy(tmp: Path) -> None:
    shutil.copytree(PROGRAMS, tmp, dirs_exist_ok=True)


def rc_for(tmp: Path, source: Path) -> Path:
    rc = tmp / ".coveragerc"
    rc.write_text(f"[run]\nparallel = True\nsource = {source}\ndata_file = {tmp / '.coverage'}\n")
    return rc


def run(
    tmp: Path, rc: Path | None, *args: str, python: Path = launchers.PYTHON, **extra: str
) -> subprocess.CompletedProcess[str]:
    return processes.run([python, *args], tmp, measured.env(rc, **extra))


def same_with_and_without(tmp: Path, rc: Path, *args: str) -> str:
    """The output without covhook; covhook's first and second (lean) runs must match it."""
    bare = run(tmp, None, *args)
    assert bare.returncode == 0, bare.stderr
    assert bare.stderr == ""
    for _ in range(2):
        measured = run(tmp, rc, *args)
        assert (measured.returncode, measured.stderr) == (0, "")
        assert measured.stdout.splitlines() == bare.stdout.splitlines()
    return bare.stdout


def test_exec_and_spawn_calls_fail_and_succeed_as_without_covhook(tmp_path: Path) -> None:
    """coverage.py's execv patch raised IndexError for keywords, TypeError for a
    read-only mapping, and left COVERAGE_PROCESS_CONFIG in the caller's dict."""
    copy(tmp_path)
    rc = rc_for(tmp_path, tmp_path)
    out = same_with_and_without(tmp_path, rc, "execs.py", str(tmp_path))
    assert "CHANGED" not in out  # no call changed the caller's env or argv
    lines = dict(line.split(" -> ", 1) for line in out.splitlines() if " -> " in line)
    missing = f"FileNotFoundError: [Errno 2] No such file or directory: '{tmp_path}/does-not-exist'"
    for kind in ("dict", "proxy", "mapping"):
        assert lines[f"execve keywords {kind}"] == f"{missing} | unchanged"
        assert lines[f"spawnve python {kind}"] == "7 | unchanged"
    assert lines["execve env 5"].startswith("TypeError: execve: environment must be a mapping")
    assert lines["posix_spawn keywords"].startswith("TypeError: posix_spawn() takes exactly 3")
    assert "exec'd child status 5\nspawned child status 5\n" in out
    combined, _ = launchers.combine(tmp_path)
    # The children got covhook's config in their (copied) environments: measured.
    assert launchers.marked(tmp_path / "child.py", "child-ran") <= data.lines_of(
        combined, "child.py"
    )
    assert launchers.marked(tmp_path / "execs.py", "after-children") <= data.lines_of(
        combined, "execs.py"
    )


def test_wrapped_functions_look_and_fail_like_the_originals(tmp_path: Path) -> None:
    """Names, doc, signature, pickle and argument errors of every wrapper, lazy ones too.

    ``signal.getsignal(15.0)`` raised no TypeError, and while the lazy start
    waited ``pickle.dumps(compile)`` failed and ``compile.__doc__`` was None.
    """
    copy(tmp_path)
    rc = rc_for(tmp_path, tmp_path / "src")  # wrappers.py is out of scope: lazy start
    out = same_with_and_without(tmp_path, rc, "wrappers.py", str(tmp_path / "src"))
    lines = dict(line.split(" -> ", 1) for line in out.splitlines())
    assert lines["compile pickled back"] == "True"
    assert lines["compiled annotations"] == "{'x': <class 'int'>}"
    not_int = "TypeError: 'float' object cannot be interpreted as an integer"
    assert lines["getsignal 15.0"] == not_int
    assert lines["signal.signal pickled back"] == "True"
    assert lines["os.execve pickled back"] == "True"
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(tmp_path / "src" / "inscope.py", "in-scope") <= data.lines_of(
        combined, "inscope.py"
    )


FLUSH_AND_FORK = """\
import os, sys, time

pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("forked", flush=True)  # after-fork
time.sleep(1.5)  # the flush saves this process's lines a few times meanwhile
open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
time.sleep(600)
"""


@pytest.mark.signals
@pytest.mark.parametrize("python", ["3.12", "3.13"])
@pytest.mark.parametrize("warnings", ["default", "error"])
def test_flush_thread_no_fork_warning_and_flush_goes_on(
    tmp_path: Path, make_covhook_env: Callable[..., envs.Env], python: str, warnings: str
) -> None:
    """3.12+ warns at a fork with threads: not because of covhook's flush thread.

    SIGKILL at the end: only the periodic flush can have saved the lines
    after the fork.  With ``-W error`` CPython drops the warning (it does not
    raise from ``os.fork()``): that case is the issue's "held" list, kept.
    """
    env = make_covhook_env(python)
    program = tmp_path / "forks.py"
    program.write_text(FLUSH_AND_FORK)
    rc = launchers.write_rc(tmp_path)
    results = []
    for run_rc in (None, rc):
        for old in tmp_path.glob("ready-*"):
            old.unlink()
        proc = subprocess.Popen(
            [str(env.python), "-W", warnings, str(program), str(tmp_path)],
            cwd=tmp_path,
            env=launchers.measured_env(run_rc, COVHOOK_FLUSH_SECONDS="0.2"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            launchers.wait_for(
                lambda proc=proc: launchers.ready_pids(tmp_path) or proc.poll() is not None,
                60,
                "the program",
            )
            time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)
            out, err = proc.communicate(timeout=30)
        finally:
            proc.kill()
        results.append((proc.returncode, out, err))
    bare, measured = results
    assert bare == (-signal.SIGKILL, b"forked\n", b"")
    assert measured == bare
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "after-fork") <= data.lines_of(combined, "forks.py")


EXITS_FROM_A_THREAD = """\
import os, threading

def leave():
    print("leaving", flush=True)  # in-thread
    os._exit(3)

threading.Thread(target=leave).start()
threading.Event().wait(60)
"""


@pytest.mark.parametrize("flags", [[], ["-W", "error"], ["-X", "dev"], ["-I"]], ids=str)
def test_exit_status_from_a_thread_and_interpreter_flags_held(
    tmp_path: Path, flags: list[str]
) -> None:
    """Held in issue 23: ``os._exit`` from a thread keeps its status (covhook's _exit
    wrapper saves first), with ``-W error``, ``-X dev``, ``-I``."""
    program = tmp_path / "exits.py"
    program.write_text(EXITS_FROM_A_THREAD)
    rc = rc_for(tmp_path, tmp_path)
    bare = run(tmp_path, None, *flags, str(program))
    measured = run(tmp_path, rc, *flags, str(program))
    assert (bare.returncode, bare.stdout, bare.stderr) == (3, "leaving\n", "")
    assert (measured.returncode, measured.stdout, measured.stderr) == (
        bare.returncode,
        bare.stdout,
        bare.stderr,
    )
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "in-thread") <= data.lines_of(combined, "exits.py")
