"""Signals done right, on real processes: the program's own handlers still run and see
themselves installed, ignored signals stay ignored, threads' lines are saved, and a
signal that lands in the middle of a save neither hangs nor corrupts the data.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import coverage
import pytest

from support import data, envs, launchers, measured, processes

pytestmark = pytest.mark.signals


def write(tmp: Path, name: str, source: str) -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(source))
    return path


def start(tmp: Path, program: Path, rc: Path | None, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(launchers.PYTHON), str(program), str(tmp)],
        cwd=tmp,
        env=launchers.measured_env(rc, **extra),
        stderr=subprocess.PIPE,
    )


def signalled(tmp: Path, program: Path, rc: Path | None, sig: int) -> tuple[int, bytes, str]:
    """Start ``program``, send ``sig`` once it is ready: (exit status, stderr, its ready note)."""
    for old in tmp.glob("ready-*"):
        old.unlink()
    proc = start(tmp, program, rc)
    try:
        launchers.wait_for(lambda: launchers.ready_pids(tmp), 30, "the program")
        time.sleep(0.3)  # into its long wait: the same line in every traceback
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    (ready,) = tmp.glob("ready-*")
    return proc.returncode, err, ready.read_text()


HANDLERS = """\
    import os, signal, sys, threading

    def handler(signum, frame):
        handled.append(signum)  # in-handler

    handled = []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.signal(signal.SIGTERM, handler) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGTERM) is handler
    assert signal.signal(signal.SIGTERM, signal.SIG_DFL) is handler
    assert signal.signal(signal.SIGTERM, handler) == signal.SIG_DFL
    os.kill(os.getpid(), signal.SIGTERM)
    assert handled == [signal.SIGTERM]

    errors = []
    def off_main():
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        except ValueError as exc:
            errors.append(exc)
    t = threading.Thread(target=off_main)
    t.start(); t.join()
    assert len(errors) == 1  # only the main thread may set handlers, as without covhook
    try:
        signal.signal(signal.SIGTERM, "nonsense")
    except TypeError:
        pass
    else:
        raise AssertionError("TypeError expected")
    assert signal.getsignal(signal.SIGTERM) is handler
    print("survived")  # after-handled
"""


def test_program_handlers_run_and_see_themselves(tmp_path: Path) -> None:
    program = write(tmp_path, "handlers.py", HANDLERS)
    rc = launchers.write_rc(tmp_path)
    for config in (None, rc):  # the same program, bare and measured
        proc = start(tmp_path, program, config)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    ran = data.lines_of(combined, "handlers.py")
    assert (
        launchers.marked(program, "in-handler") | launchers.marked(program, "after-handled") <= ran
    )


IGNORED = """\
    import os, signal, subprocess, sys
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN  # nohup-style
    os.kill(os.getpid(), signal.SIGHUP)  # still ignored: we live on
    # ... and exec'd children inherit the ignored signal, as without covhook.
    code = "import signal; assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN"
    subprocess.run([sys.executable, "-c", code], check=True)
    print("alive")  # after-sighup
"""


def test_ignored_signal_stays_ignored(tmp_path: Path) -> None:
    program = write(tmp_path, "ignored.py", IGNORED)
    rc = launchers.write_rc(tmp_path)
    proc = subprocess.run(
        [str(launchers.PYTHON), str(program)],
        cwd=tmp_path,
        env=launchers.measured_env(rc),
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "after-sighup") <= data.lines_of(combined, "ignored.py")


THREADS = """\
    import os, sys, threading

    def work(ready):
        total = sum(range(100))  # in-thread
        open(os.path.join(ready, f"ready-{os.getpid()}"), "w").close()  # in-thread
        threading.Event().wait()

    t = threading.Thread(target=work, args=(sys.argv[1],), daemon=True)
    t.start()
    t.join()  # the main thread waits here when SIGTERM arrives
"""


def test_sigterm_saves_other_threads_lines(tmp_path: Path) -> None:
    program = write(tmp_path, "threads.py", THREADS)
    rc = launchers.write_rc(tmp_path)
    proc = start(tmp_path, program, rc)
    launchers.wait_for(lambda: launchers.ready_pids(tmp_path), 30, "the thread")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    assert launchers.marked(program, "in-thread") <= data.lines_of(combined, "threads.py")


SAVING = """\
    import os, sys, coverage

    def busy(n):
        return n + 1  # saved

    cov = coverage.process_startup.coverage
    busy(0)
    open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
    while True:
        cov.save()  # signals land in the middle of saves, in this thread and the flusher's
"""


def test_signal_during_save_neither_hangs_nor_corrupts(tmp_path: Path) -> None:
    program = write(tmp_path, "saving.py", SAVING)
    rc = launchers.write_rc(tmp_path)
    rng = random.Random(1310)
    for round_ in range(4):
        for old in tmp_path.glob("ready-*"):
            old.unlink()
        proc = start(tmp_path, program, rc, COVHOOK_FLUSH_SECONDS="0.01")
        launchers.wait_for(lambda: launchers.ready_pids(tmp_path), 30, "the saver")
        time.sleep(rng.uniform(0.05, 0.3))
        sig = (signal.SIGTERM, signal.SIGHUP, signal.SIGTERM, signal.SIGINT)[round_]
        for _ in range(3):  # repeated signals while it is already saving
            proc.send_signal(sig)
            time.sleep(0.005)
        try:
            proc.communicate(timeout=20)  # no deadlock
        finally:
            proc.kill()
        if sig == signal.SIGINT:
            assert proc.returncode in (-signal.SIGINT, 1)  # KeyboardInterrupt
        else:
            assert proc.returncode == -sig
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    assert launchers.marked(program, "saved") <= data.lines_of(combined, "saving.py")


MID_WRITE = """\
    import os, signal, sqlite3, sys, coverage

    def work():
        return 1  # before-kill

    def more():
        return 2  # after-first-save

    work()
    cov = coverage.process_startup.coverage
    which, steps = sys.argv[2], int(sys.argv[3])
    if which == "later":
        cov.save()  # a complete save (what a periodic flush does), then more lines
        more()
    # SIGKILL from inside SQLite, after `steps` VM steps of the next save's writes:
    # a writer killed in the middle of creating or filling its data file.
    real_connect = sqlite3.connect
    def connect(*args, **kwargs):
        con = real_connect(*args, **kwargs)
        con.set_progress_handler(lambda: os.kill(os.getpid(), signal.SIGKILL), steps)
        return con
    sqlite3.connect = connect
    cov.save()
    raise SystemExit("not killed")
"""


@pytest.mark.parametrize("which", ["first", "later"])
def test_writer_killed_mid_write_leaves_nothing_combine_warns_about(
    tmp_path: Path, which: str
) -> None:
    """Without covhook's work dir, the 'first' case leaves schema-less files combine warns on."""
    program = write(tmp_path, "midwrite.py", MID_WRITE)
    rc = launchers.write_rc(tmp_path)
    for steps in (1, 3, 10, 30, 80):
        proc = processes.run(
            [launchers.PYTHON, program, tmp_path, which, str(steps)],
            tmp_path,
            measured.env(rc, COVHOOK_FLUSH_SECONDS="60"),
            timeout=60,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    files = data.data_files(tmp_path)
    if which == "first":
        assert files == []  # killed before anything was published: nothing, not a broken file
        return
    assert len(files) == 5
    for path in files:  # each holds the last complete save
        covdata = coverage.CoverageData(str(path))
        covdata.read()
        assert launchers.marked(program, "before-kill") <= set(covdata.lines(str(program)) or ())
    _, warnings = launchers.combine(tmp_path)
    assert warnings == ""


SLEEPS = """\
    import os, sys, time

    def wait():
        open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
        time.sleep(60)  # interrupted

    wait()
"""


def test_keyboard_interrupt_traceback_is_the_programs_own(tmp_path: Path) -> None:
    """stderr byte-identical with and without covhook: no covhook frames in the traceback."""
    program = write(tmp_path, "sleeps.py", SLEEPS)
    rc = launchers.write_rc(tmp_path)
    (bare_status, bare_err, _), (status, err, _) = (
        signalled(tmp_path, program, config, signal.SIGINT) for config in (None, rc)
    )
    assert b"KeyboardInterrupt" in bare_err
    assert err == bare_err
    assert status == bare_status == -signal.SIGINT
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "interrupted") <= data.lines_of(combined, "sleeps.py")


FLUSH_ONCE = """\
    def work():
        return 1  # ran
    work()
"""


@pytest.mark.parametrize("value", ["nan", "1e-9", "inf", "-1", "soon"])
def test_bad_flush_value_one_line_and_still_measured(tmp_path: Path, value: str) -> None:
    program = write(tmp_path, "flushed.py", FLUSH_ONCE)
    rc = launchers.write_rc(tmp_path)
    proc = processes.run(
        [launchers.PYTHON, program],
        tmp_path,
        measured.env(rc, COVHOOK_FLUSH_SECONDS=value),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("covhook: periodic flush is off: COVHOOK_FLUSH_SECONDS")
    assert repr(value) in line
    assert "Fix: " in line
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "ran") <= data.lines_of(combined, "flushed.py")


RAISES = """\
    import os, signal, sys, time

    def handler(signum, frame):
        raise RuntimeError(f"stopped by signal {signum}")  # in-handler

    signal.signal(signal.SIGTERM, handler)
    open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
    time.sleep(60)
"""


def test_programs_raising_handler_traceback_is_the_programs_own(tmp_path: Path) -> None:
    """A handler that raises: stderr byte-identical to the unmeasured run, lines saved at exit."""
    program = write(tmp_path, "raises.py", RAISES)
    rc = launchers.write_rc(tmp_path)
    (bare_status, bare_err, _), (status, err, _) = (
        signalled(tmp_path, program, config, signal.SIGTERM) for config in (None, rc)
    )
    assert b"RuntimeError: stopped by signal 15" in bare_err
    assert err == bare_err
    assert status == bare_status == 1
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    assert launchers.marked(program, "in-handler") <= data.lines_of(combined, "raises.py")


STUCK_IN_C = """\
    import hashlib, os, sys

    def work():
        return 1  # before-c-call

    work()
    with open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w") as ready:
        ready.write("coverage" if "coverage" in sys.modules else "recorder")
    # One C call that releases the GIL and runs for about half an hour.
    hashlib.pbkdf2_hmac("sha256", b"x", b"y", 2**31 - 1)
"""


def test_sigterm_during_a_long_c_call_kills_at_once(tmp_path: Path) -> None:
    """Python handlers wait for the C call to return; the default action does not.

    Measured twice: the first run starts coverage.py, the second covhook's
    recorder (from the config cache the first one left).
    """
    program = write(tmp_path, "stuck.py", STUCK_IN_C)
    rc = launchers.write_rc(tmp_path)
    # Each run must end within signalled()'s 30 s: the C call alone takes half an hour.
    results = [signalled(tmp_path, program, config, signal.SIGTERM) for config in (None, rc, rc)]
    assert [(status, err) for status, err, _ in results] == [(-signal.SIGTERM, b"")] * 3
    second = "recorder" if envs.RECORDER_WRITES_HERE else "coverage"
    assert [how for _, _, how in results[1:]] == ["coverage", second]
    files = launchers.lines_per_file(tmp_path, "stuck.py")
    assert len(files) == 2
    for lines in files.values():
        assert launchers.marked(program, "before-c-call") <= lines


BLOCKED_IN_MAIN = """\
    import os, signal, sys, threading, time

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # the main thread's own mask

    def worker():
        time.sleep(0.2)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # it inherited the block
        os.kill(os.getpid(), signal.SIGTERM)  # taken here: the only thread without it blocked

    thread = threading.Thread(target=worker)
    thread.start()
    WAIT
    time.sleep(0.5)
    print("survived", flush=True)
"""


@pytest.mark.parametrize(
    "wait",
    [
        "thread.join()",  # in Python code again at once: the main thread's handler acts
        "time.sleep(3)",  # in a C call: covhook's wakeup thread acts first
    ],
)
def test_signal_taken_by_a_thread_that_ends_still_kills(tmp_path: Path, wait: str) -> None:
    """The main thread blocks SIGTERM; a thread of the program takes it and ends.

    Without coverage the process dies by it at once.  covhook's handler
    re-sent it to the process, where every living thread blocked it: it
    stayed pending and the program ran on as if never signalled (with its
    data file emptied by a later save, when covhook's wakeup thread had
    acted first).
    """
    program = write(tmp_path, "blocked.py", BLOCKED_IN_MAIN.replace("WAIT", wait))

    def run(rc: Path | None) -> tuple[int, str, str]:
        out = processes.run([launchers.PYTHON, program], tmp_path, measured.env(rc), timeout=60)
        return out.returncode, out.stdout, out.stderr

    bare = run(None)
    assert bare == (-signal.SIGTERM, "", "")
    assert run(launchers.write_rc(tmp_path)) == bare
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "taken here") <= data.lines_of(combined, "blocked.py")


POOL_LOOP = """\
import multiprocessing
import sys

def square(n):
    return n * n  # pool worker

if __name__ == "__main__":
    for _ in range(40):
        with multiprocessing.get_context(sys.argv[1]).Pool(2, maxtasksperchild=1) as pool:
            assert pool.map(square, [1, 2]) == [1, 4]
"""


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_pool_terminate_right_after_a_fork_never_hangs(tmp_path: Path, method: str) -> None:
    """``with Pool(maxtasksperchild=1)``: terminate() SIGTERMs a worker its handler thread
    (fork) or the fork server (the default from 3.14) just forked.  A SIGTERM that lands
    before the child's fork hooks ran was written to the parent's wake-up fd and its
    flag cleared by CPython: the worker never died and the pool waited for ever (fork:
    3 of 4 runs of this loop hung before the fix of session 8; forkserver: 3 of 4 runs
    on a loaded machine before covhook held its signals across forks, see
    test_child_signalled_as_it_is_forked_dies_by_it; CI's 3.15 cell found it)."""
    prog = tmp_path / "pool_loop.py"
    prog.write_text(POOL_LOOP)
    done = measured.run(sys.executable, tmp_path, prog.name, method, timeout=60, COVHOOK_LAZY="0")
    assert done.returncode == 0, done.stderr
    data.combine_with_plain_coverage(Path(sys.executable).parent / "coverage", tmp_path)
    assert data.lines_in(prog, "# pool worker") <= data.lines_of(tmp_path / ".coverage", prog.name)


KILLED_AS_FORKED = """\
import os, signal, sys, time

# Parent and children on one CPU: the parent runs on after fork() returns and
# signals the child before the child has run a single instruction of its own.
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
r, w = os.pipe()
os.set_blocking(w, False)
if sys.argv[1] == "own":
    signal.set_wakeup_fd(w)  # as multiprocessing's fork server does
statuses = []
for _ in range(10):
    pid = os.fork()
    if pid == 0:
        time.sleep(3)  # only a child whose SIGTERM was lost gets here
        os._exit(0)
    os.kill(pid, signal.SIGTERM)
    statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(statuses)  # parent-done
"""


@pytest.mark.parametrize("wakeup_fd", ["own", "covhook's"])
def test_child_signalled_as_it_is_forked_dies_by_it(tmp_path: Path, wakeup_fd: str) -> None:
    """A SIGTERM that reaches a child before ``PyOS_AfterFork_Child`` ran: without
    covhook the default action kills it; with covhook's Python handler standing in,
    CPython wrote it to the inherited wake-up fd and then cleared it.  When that fd
    was the program's own (the fork server of Python 3.14+'s default start method)
    the signal was lost: 10 of 10 children lived on before the fix (and a
    ``Pool(maxtasksperchild=1)`` on a fork server hung in ``terminate()``).  Through
    covhook's socket the parent sent it back, into a handler that recursed until
    ``RecursionError`` (12 of 12 runs).  covhook now holds its signals in the
    forking thread until the fork is over (its own fork hooks in the child included)."""
    program = write(tmp_path, "forks.py", KILLED_AS_FORKED)

    def run(rc: Path | None) -> tuple[int, str, str]:
        out = processes.run(
            [launchers.PYTHON, program, wakeup_fd], tmp_path, measured.env(rc), timeout=60
        )
        return out.returncode, out.stdout, out.stderr

    bare = run(None)
    assert bare == (0, f"{[-signal.SIGTERM] * 10}\n", "")
    assert run(launchers.write_rc(tmp_path)) == bare
    combined, _ = launchers.combine(tmp_path)
    assert launchers.marked(program, "parent-done") <= data.lines_of(combined, "forks.py")
