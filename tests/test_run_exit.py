"""``covhook run``: the command's exit status always, and data complete before combining.

Real commands, real signals (sent by the command to itself, or by the test to
covhook as a terminal's Ctrl-C would be), real process groups; the data is
checked by reading the combined file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import cli, data, envs

VENV_BIN = Path(sys.executable).parent
PY = sys.executable


def start_covhook_run(cwd: Path, *cmd: str) -> subprocess.Popen[str]:
    """``covhook run -- CMD`` in the background, its stdout/stderr piped."""
    return subprocess.Popen(
        [str(VENV_BIN / "covhook"), "run", "--", *cmd],
        cwd=cwd,
        env=envs.clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    """No traceback from covhook (the command's own KeyboardInterrupt may print one)."""
    for stream in (done.stdout, done.stderr):
        assert "covhook/cli.py" not in stream, stream
        assert "covhook/commands/" not in stream, stream
        if "KeyboardInterrupt" not in stream:
            assert "Traceback" not in stream, stream


@pytest.mark.signals
@pytest.mark.parametrize(
    ("kill", "status"),
    [
        ("os.kill(os.getpid(), signal.SIGTERM)", 143),
        ("os.kill(os.getpid(), signal.SIGINT)", 130),
    ],
    ids=["SIGTERM", "SIGINT"],
)
def test_status_of_a_command_killed_by_a_signal_it_saves_on(
    tmp_path: Path, kill: str, status: int
) -> None:
    prog = tmp_path / "prog.py"
    prog.write_text(f"import os, signal, time\nran = 1  # ran\n{kill}\ntime.sleep(5)\n")
    done = cli.covhook(["run", "--", PY, "prog.py"], tmp_path)
    assert done.returncode == status, done.stderr
    no_traceback(done)
    assert data.lines_in(prog, "# ran") <= data.lines_of(tmp_path / ".coverage", "prog.py")


@pytest.mark.signals
@pytest.mark.parametrize(
    ("program", "status", "name"),
    [
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", 137, "SIGKILL"),
        ("import ctypes\nctypes.string_at(0)\n", 139, "SIGSEGV"),
    ],
    ids=["SIGKILL", "segfault"],
)
def test_status_of_a_command_killed_before_saving(
    tmp_path: Path, program: str, status: int, name: str
) -> None:
    (tmp_path / "prog.py").write_text(program)
    done = cli.covhook(["run", "--", PY, "prog.py"], tmp_path)
    assert done.returncode == status, done.stderr
    no_traceback(done)
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("covhook:")]
    assert f"killed by {name} (status {status})" in line
    assert "Fix: " in line


@pytest.mark.parametrize(
    "cmd", [(PY, "-c", "import sys; sys.exit(3)"), ("sh", "-c", "exit 3")], ids=["python-c", "sh"]
)
def test_status_of_a_command_without_data(tmp_path: Path, cmd: tuple[str, ...]) -> None:
    done = cli.covhook(["run", "--", *cmd], tmp_path)
    assert done.returncode == 3, done.stderr
    no_traceback(done)
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("covhook:")]
    assert "Fix: " in line


@pytest.mark.parametrize(("test_body", "status"), [("assert f() == 1", 0), ("assert 0", 1)])
def test_pytest_cov_combined_its_data(tmp_path: Path, test_body: str, status: int) -> None:
    """``covhook run -- python -m pytest --cov=pkg``: pytest-cov combined; pytest's status."""
    pytest.importorskip("pytest_cov")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("def f():\n    return 1\n")
    (tmp_path / "test_a.py").write_text(f"from pkg import f\n\ndef test_f():\n    {test_body}\n")
    done = cli.covhook(
        ["run", "--", PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov=pkg"], tmp_path
    )
    assert done.returncode == status, done.stdout + done.stderr
    no_traceback(done)
    assert "the command combined its data itself" in done.stdout
    assert data.lines_of(tmp_path / ".coverage", "__init__.py") == {1, 2} if status == 0 else {1}


def test_waits_for_a_child_the_command_did_not_wait_for(tmp_path: Path) -> None:
    """A child still running when the command exits saves its data before covhook combines."""
    late = tmp_path / "late.py"
    late.write_text("import time\ntime.sleep(1.5)\nlate = 1  # late\n")
    (tmp_path / "main.py").write_text(
        "import subprocess, sys\nsubprocess.Popen([sys.executable, 'late.py'])\n"
    )
    done = cli.covhook(["run", "--", PY, "main.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert data.lines_in(late, "# late") <= data.lines_of(tmp_path / ".coverage", "late.py")
    time.sleep(0.5)
    assert data.data_files(tmp_path) == []  # nothing written after combining


@pytest.mark.slow
def test_multiprocessing_data_is_complete_and_the_same_every_run(tmp_path: Path) -> None:
    """spawn workers and the resource tracker finish saving before covhook combines."""
    (tmp_path / "work.py").write_text(
        "import multiprocessing as mp\n\n"
        "def square(x):\n    return x * x\n\n"
        "if __name__ == '__main__':\n"
        "    ctx = mp.get_context('spawn')\n"
        "    lock = ctx.Lock()  # the resource tracker tracks its semaphore\n"
        "    with ctx.Pool(2) as pool:\n"
        "        print(sum(pool.map(square, range(10))))\n"
    )
    seen = []
    for _ in range(3):
        done = cli.covhook(["run", "--", PY, "work.py"], tmp_path)
        assert done.returncode == 0, done.stderr
        time.sleep(0.3)
        assert data.data_files(tmp_path) == []
        seen.append(data.lines_of(tmp_path / ".coverage", "work.py"))
        assert {4} <= seen[-1]  # square ran in a worker
    assert seen[0] == seen[1] == seen[2]


def test_wait_is_bounded(tmp_path: Path) -> None:
    """A process that outlives the command by far: covhook combines after --wait, says so."""
    (tmp_path / "main.py").write_text(
        "import subprocess\nsleeper = subprocess.Popen(['sleep', '60'], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "open('sleeper.pid', 'w').write(str(sleeper.pid))\n"
    )
    try:
        done = cli.covhook(["run", "--wait", "0.5", "--", PY, "main.py"], tmp_path)
        assert done.returncode == 0, done.stderr
        assert "still run 0.5s after it exited" in done.stderr
        assert data.lines_of(tmp_path / ".coverage", "main.py") == {1, 2, 3}
    finally:
        os.kill(int((tmp_path / "sleeper.pid").read_text()), signal.SIGKILL)


INTERRUPTIBLE = """\
import sys, time
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    saved = 1  # interrupted
    raise
"""


@pytest.mark.signals
def test_ctrl_c_is_forwarded_and_the_data_saved(tmp_path: Path) -> None:
    prog = tmp_path / "prog.py"
    prog.write_text(INTERRUPTIBLE)
    proc = start_covhook_run(tmp_path, PY, "prog.py")
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback (most recent call last)" in err  # the program's own KeyboardInterrupt
    assert "SIGINT sent to the command" in err
    assert data.lines_in(prog, "# interrupted") <= data.lines_of(tmp_path / ".coverage", "prog.py")


@pytest.mark.signals
def test_second_ctrl_c_kills(tmp_path: Path) -> None:
    (tmp_path / "stubborn.py").write_text(
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('ready', flush=True)\ntime.sleep(60)\n"
    )
    proc = start_covhook_run(tmp_path, PY, "stubborn.py")
    assert proc.stdout is not None
    assert proc.stderr is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    assert "SIGINT sent to the command" in proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 137, err
    assert "killed by SIGKILL" in err


def run_in_terminal(cwd: Path, script: str, typed: bytes) -> tuple[int, str]:
    """``covhook run -- python SCRIPT`` on a real pseudo-terminal; type ``typed`` once
    the script printed 'ready'. Returns (status, everything the terminal showed)."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once (nothing else is safe after fork)
        os.chdir(cwd)
        os.execve(
            str(VENV_BIN / "covhook"),
            [str(VENV_BIN / "covhook"), "run", "--", PY, script],
            envs.clean_env(),
        )
    shown = b""
    typed_yet = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the terminal closed: everyone is gone
                break
            if not chunk:
                break
            shown += chunk
        if not typed_yet and b"ready" in shown:
            os.write(fd, typed)
            typed_yet = True
    _pid, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


@pytest.mark.signals
def test_on_a_terminal_the_command_reads_input_and_gets_ctrl_c(tmp_path: Path) -> None:
    """Job control like a shell's: the command owns the terminal while it runs."""
    (tmp_path / "ask.py").write_text("print('ready', flush=True)\nname = input()\nprint(name)\n")
    status, shown = run_in_terminal(tmp_path, "ask.py", b"bob\n")
    assert status == 0, shown
    assert data.lines_of(tmp_path / ".coverage", "ask.py") == {1, 2, 3}

    prog = tmp_path / "prog.py"
    prog.write_text(INTERRUPTIBLE)
    status, shown = run_in_terminal(tmp_path, "prog.py", b"\x03")  # Ctrl-C typed
    assert status == 130, shown
    assert data.lines_in(prog, "# interrupted") <= data.lines_of(tmp_path / ".coverage", "prog.py")


@pytest.mark.parametrize(("cmd", "status"), [("no-such-command-x", 127), ("./data.txt", 126)])
def test_a_command_that_cannot_start_exits_like_a_shell(
    tmp_path: Path, cmd: str, status: int
) -> None:
    (tmp_path / "data.txt").write_text("not a program\n")
    done = cli.covhook(["run", "--", cmd], tmp_path)
    assert done.returncode == status
    no_traceback(done)
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"covhook: error: cannot run '{cmd}'")
    assert ". Fix: " in line


@pytest.fixture
def nothing_left(tmp_path: Path) -> Iterator[None]:
    """Processes a failed run left (re-parented when covhook died) do not outlive the test."""
    from support import frameworks

    yield
    frameworks.kill_left(tmp_path)


# Issue 20 item 3: covhook forwards what a supervisor forwards (tini, dumb-init), to the
# command only, and never dies of it while the command runs.
SIGNALLED = """\
import os, signal, sys, time

def on(signum, _frame):
    with open(f"got.{signal.Signals(signum).name}", "w"):
        pass  # handled
    if signum == signal.SIGQUIT:
        sys.exit(0)

for name in sys.argv[1:]:
    signal.signal(getattr(signal, name), on)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""
SENT = ("SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGALRM", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGQUIT")


@pytest.mark.signals
@pytest.mark.usefixtures("nothing_left")
def test_every_signal_a_supervisor_forwards_reaches_the_command(tmp_path: Path) -> None:
    """SIGQUIT, SIGUSR1/2, SIGWINCH... to covhook reach the command; covhook does not die
    of them (before: SIGQUIT or SIGUSR1 killed covhook, the command ran on unmeasured)."""
    prog = tmp_path / "prog.py"
    prog.write_text(SIGNALLED)
    proc = start_covhook_run(tmp_path, PY, "prog.py", *SENT)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    for name in SENT:
        proc.send_signal(getattr(signal, name))
        deadline = time.monotonic() + 20
        while not (tmp_path / f"got.{name}").exists():
            assert proc.poll() is None, f"covhook died of {name}: {proc.returncode}"
            assert time.monotonic() < deadline, f"{name} never reached the command"
            time.sleep(0.02)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "SIGQUIT sent to the command" in err
    assert data.lines_in(prog, "# handled") <= data.lines_of(tmp_path / ".coverage", "prog.py")


MASTER = """\
import signal, subprocess, sys, time

worker = subprocess.Popen([sys.executable, "worker.py"])  # same process group
def stop(_signum, _frame):
    time.sleep(0.5)  # a worker that got the signal too has handled it by now
    worker.send_signal(signal.SIGUSR1)  # the master stops its worker its own way
    worker.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""
WORKER = """\
import signal, sys, time

def asked(_signum, _frame):
    sys.exit(0)  # asked by its master
def terminated(_signum, _frame):
    sys.exit(0)  # signalled directly
signal.signal(signal.SIGUSR1, asked)
signal.signal(signal.SIGTERM, terminated)
while True:
    time.sleep(0.05)
"""


@pytest.mark.signals
@pytest.mark.parametrize("opts", [(), ("--signal-group",)], ids=["command", "group"])
@pytest.mark.usefixtures("nothing_left")
def test_signals_go_to_the_command_only_unless_asked(tmp_path: Path, opts: tuple[str, ...]) -> None:
    """As tini: SIGTERM reaches the master, which stops its workers; the workers get it
    only with --signal-group (before: always, which a prefork pool does not expect)."""
    (tmp_path / "master.py").write_text(MASTER)
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    proc = subprocess.Popen(
        [str(VENV_BIN / "covhook"), "run", *opts, "--", PY, "master.py"],
        cwd=tmp_path,
        env=envs.clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    time.sleep(1)  # the worker has set its handlers
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = data.lines_of(tmp_path / ".coverage", "worker.py")
    if opts:  # the whole group: the worker got SIGTERM itself
        assert data.lines_in(worker, "# signalled directly") <= lines, (lines, err)
    else:  # the master only, which asked its worker to stop
        assert data.lines_in(worker, "# asked by its master") <= lines, (lines, err)
        assert not data.lines_in(worker, "# signalled directly") & lines, (lines, err)


@pytest.mark.slow
@pytest.mark.signals
@pytest.mark.frameworks
@pytest.mark.parametrize("case_id", ["gunicorn-SIGQUIT-preload", "celery-prefork"])
@pytest.mark.usefixtures("nothing_left")
def test_real_prefork_masters_stop_under_covhook_run(tmp_path: Path, case_id: str) -> None:
    """Real gunicorn (SIGQUIT) and celery (SIGTERM, warm shutdown) under covhook run, a
    few times: each stops, leaves no process, keeps every worker line (before: SIGQUIT
    killed covhook, gunicorn ran on; celery hung 3 of 5 tries, its children signalled)."""
    from support import frameworks, launchers

    launchers.need_module(case_id.split("-", maxsplit=1)[0])
    case = frameworks.CASES[case_id]
    for attempt in range(3):
        run_dir = tmp_path / str(attempt)
        run_dir.mkdir()
        outcome = frameworks.measure(case, "run", run_dir)
        assert outcome.status == 0, outcome.output
        assert frameworks.left_running(run_dir) == []
        for name, lines in case.expected(run_dir).items():
            assert lines <= outcome.lines.get(name, set()), (attempt, name, outcome.output)


def test_append_keeps_the_earlier_runs_lines(tmp_path: Path) -> None:
    """Issue 20 item 4: the second run's --append adds to the first run's data."""
    prog = tmp_path / "prog.py"
    prog.write_text("import sys\nif sys.argv[1] == 'a':\n    a = 1  # a\nelse:\n    b = 1  # b\n")
    assert cli.covhook(["run", "--", PY, "prog.py", "a"], tmp_path).returncode == 0
    done = cli.covhook(["run", "--append", "--", PY, "prog.py", "b"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = data.lines_of(tmp_path / ".coverage", "prog.py")
    assert data.lines_in(prog, "# a") | data.lines_in(prog, "# b") <= lines, done.stdout
    # Without --append, a run starts over.
    assert cli.covhook(["run", "--", PY, "prog.py", "b"], tmp_path).returncode == 0
    assert not data.lines_in(prog, "# a") & data.lines_of(tmp_path / ".coverage", "prog.py")


def scoped_project(tmp_path: Path) -> None:
    """``[run] source = pkg``; out.py runs nothing of pkg (skipped by scope)."""
    (tmp_path / ".coveragerc").write_text("[run]\nsource = pkg\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "m.py").write_text("y = 2\n")
    (tmp_path / "out.py").write_text("x = 1\n")
    (tmp_path / "main.py").write_text(
        "import subprocess, sys\nimport pkg.m\nsubprocess.run([sys.executable, 'out.py'])\n"
    )


def covhook_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [x for x in (done.stdout + done.stderr).splitlines() if x.startswith("covhook:")]


def test_skipped_by_scope_counts_this_run_only(tmp_path: Path) -> None:
    """Issue 20 item 6: earlier runs' skipped processes are not counted again."""
    scoped_project(tmp_path)
    for _ in range(2):
        assert cli.covhook(["run", "--", PY, "out.py"], tmp_path).returncode == 0
    done = cli.covhook(["run", "--", PY, "main.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "covhook: 1 process skipped by scope (ran no measured code)" in covhook_lines(done)
    assert data.lines_of(tmp_path / ".coverage", "m.py") == {1}


def test_no_data_because_of_scope_names_the_scope(tmp_path: Path) -> None:
    """Issue 20 item 6: every process skipped: the line says scope, not 'is the hook there'."""
    scoped_project(tmp_path)
    done = cli.covhook(["run", "--", PY, "out.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = covhook_lines(done)
    assert "the scope skipped every Python process the command started" in line
    assert "[run] source = pkg" in line
    assert "hook is there" not in line


@pytest.mark.signals
def test_no_data_after_sigterm_gives_no_advice_to_use_sigterm(tmp_path: Path) -> None:
    """Issue 20 item 6: an out-of-scope command killed by SIGTERM is not told to stop
    with SIGTERM or Ctrl-C; the line names the scope."""
    scoped_project(tmp_path)
    (tmp_path / "term.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n")
    done = cli.covhook(["run", "--", PY, "term.py"], tmp_path)
    assert done.returncode == 143, done.stderr
    (line,) = covhook_lines(done)
    assert "killed by SIGTERM (status 143)" in line
    assert "stop it with SIGTERM or Ctrl-C" not in line
    assert "[run] source = pkg" in line
