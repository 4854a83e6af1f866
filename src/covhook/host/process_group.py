"""Run one command the way a shell does, so that its data is complete before combining.

- The command runs in its own process group.  When it exits, covhook waits
  (bounded) until every process of that group has exited too: the
  multiprocessing resource tracker, pool workers, a child it did not wait
  for still save their coverage data after the command's main process is
  gone.  Processes that start their own session (daemons) are not waited for.
- The status is the command's, as a shell reports it: ``128 + N`` for a
  command killed by signal N (130 for SIGINT, 137 SIGKILL, 139 SIGSEGV, 143
  SIGTERM).
- covhook forwards every signal a process supervisor forwards (tini, dumb-init):
  all it can catch but SIGCHLD, the faults the kernel raises for covhook's own
  code and SIGPIPE (Python ignores it); SIGTTIN and SIGTTOU only when no
  terminal is involved (the kernel sends them for covhook's own terminal use).
  They go to the command's process only, as tini does (a prefork server or a
  task queue's master then stops its workers its own way); SIGINT goes to the
  command's whole group, as a terminal's Ctrl-C does; ``--signal-group`` sends
  every signal to the group.  covhook never dies of one of them, so it is
  there to wait for the group and combine.  A second SIGINT, SIGTERM or
  SIGQUIT kills the group (SIGKILL).  When covhook runs
  in the foreground of a terminal, the terminal is handed to the command's
  group (job control, as a shell does), so the command can read from it and
  gets Ctrl-C directly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType

from covhook.errors import CovhookError

# Never forwarded: the uncatchable, covhook's own children (SIGCHLD), faults raised for
# covhook's own code, and SIGPIPE (ignored by Python: covhook's own writes to a closed pipe).
NOT_FORWARDED = {
    signal.SIGKILL,
    signal.SIGSTOP,
    signal.SIGCHLD,
    signal.SIGSEGV,
    signal.SIGBUS,
    signal.SIGFPE,
    signal.SIGILL,
    signal.SIGTRAP,
    signal.SIGSYS,
    signal.SIGABRT,
    signal.SIGPIPE,
}
# The kernel sends these to covhook's own group when it uses a terminal in the background.
TERMINAL_ONLY = {signal.SIGTTIN, signal.SIGTTOU}
# A second one of these kills the command's group: the user insists.
STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGQUIT}


def forwarded(terminal: bool) -> list[int]:
    """The signals covhook forwards (real-time ones too); without ``terminal`` SIGTTIN and
    SIGTTOU as well (gunicorn's 'one worker more / less')."""
    skip = NOT_FORWARDED | (TERMINAL_ONLY if terminal else set())
    return sorted(int(s) for s in signal.valid_signals() if s not in skip)


def _any_terminal() -> bool:
    return any(os.isatty(fd) for fd in (0, 1, 2))


class NotStarted(CovhookError):
    """The command could not be started; ``status`` is what a shell exits with (127, 126)."""

    def __init__(self, status: int, problem: str, fix: str) -> None:
        super().__init__(problem, fix)
        self.status = status


def shell_status(returncode: int) -> int:
    """The status a shell reports: negative (killed by signal N) becomes 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def signal_name(status: int) -> str | None:
    """``SIGKILL`` for 137 and so on; None if ``status`` is not 128 + a signal."""
    if status <= 128:
        return None
    try:
        return signal.Signals(status - 128).name
    except ValueError:
        return None


class Command:
    """One command in its own process group, and what covhook forwards to it."""

    def __init__(
        self, cmd: Sequence[str], env: Mapping[str, str], signal_group: bool = False
    ) -> None:
        self.cmd = list(cmd)
        self.env = dict(env)
        self.signal_group = signal_group
        self.signals_received = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._tty = _foreground_tty()

    def run(self, wait_seconds: float) -> int:
        """Run to the end (and the group's end, up to ``wait_seconds``); the shell status."""
        with self._forwarding():
            self.proc = self._start()
            try:
                returncode = self._wait(self.proc)
            finally:
                self._take_terminal_back()
            self.wait_for_group(wait_seconds)
        return shell_status(returncode)

    def _wait(self, proc: subprocess.Popen[bytes]) -> int:
        """Wait for the command; on a terminal, stop and resume with it (Ctrl-Z, fg)."""
        if self._tty is None:
            return proc.wait()
        while True:
            _pid, status = os.waitpid(proc.pid, os.WUNTRACED)
            if not os.WIFSTOPPED(status):
                proc.returncode = os.waitstatus_to_exitcode(status)
                return proc.returncode
            # Ctrl-Z stopped the command: stop too, so the shell's 'fg' resumes us both.
            self._take_terminal_back()
            os.kill(os.getpid(), signal.SIGSTOP)
            self._give_terminal(proc.pid)
            _killpg(proc.pid, signal.SIGCONT)

    def _start(self) -> subprocess.Popen[bytes]:
        tty = self._tty

        def into_own_group() -> None:  # runs in the child, before exec
            os.setpgid(0, 0)
            if tty is not None:
                old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                os.tcsetpgrp(tty, os.getpgrp())
                signal.signal(signal.SIGTTOU, old)

        try:
            # covhook runs no other thread here, so preexec_fn is safe; the child must own
            # the terminal before it execs (a shell's setpgid + tcsetpgrp in the child).
            return subprocess.Popen(
                self.cmd,
                env=self.env,
                preexec_fn=into_own_group,  # noqa: PLW1509
            )
        except FileNotFoundError as exc:
            raise NotStarted(
                127, f"cannot run {self.cmd[0]!r}: not found", "check the command and your PATH"
            ) from exc
        except OSError as exc:
            raise NotStarted(
                126,
                f"cannot run {self.cmd[0]!r}: {exc.strerror or exc}",
                "check that it is an executable file you may run",
            ) from exc

    def _take_terminal_back(self) -> None:
        self._give_terminal(os.getpgrp())

    def _give_terminal(self, group: int) -> None:
        if self._tty is None:
            return
        old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(self._tty, group)
        finally:
            signal.signal(signal.SIGTTOU, old)

    def wait_for_group(self, seconds: float) -> None:
        """Wait until the command's process group is empty, at most ``seconds``."""
        assert self.proc is not None
        group = self.proc.pid
        deadline = time.monotonic() + seconds
        while _group_alive(group):
            _reap_orphans()
            if time.monotonic() >= deadline:
                print(
                    f"covhook: processes the command started (process group {group}) still "
                    f"run {seconds:g}s after it exited; combining the data saved so far. Fix: "
                    "stop them before the command ends, or wait longer with 'covhook run "
                    "--wait SECONDS'",
                    file=sys.stderr,
                )
                return
            time.sleep(0.02)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.proc is None:
            return
        stopping = signum in STOPPING
        self.signals_received += stopping
        if self.signals_received > 1 and stopping:
            _killpg(self.proc.pid, signal.SIGKILL)
            return
        if self.signal_group or signum == signal.SIGINT or self.proc.returncode is not None:
            # (once the command is gone, what is left of its group gets the signal)
            _killpg(self.proc.pid, signum)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.proc.pid, signum)  # (a zombie until covhook reaps it: no reuse)
        if stopping:
            print(
                f"covhook: {signal.Signals(signum).name} sent to the command; waiting for it to "
                "save its data (press Ctrl-C again to kill it)",
                file=sys.stderr,
            )

    @contextlib.contextmanager
    def _forwarding(self) -> Iterator[None]:
        previous = {}
        for signum in forwarded(terminal=_any_terminal()):
            with contextlib.suppress(OSError, ValueError):  # one the platform will not let go
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _foreground_tty() -> int | None:
    """stdin's fd if it is a terminal whose foreground group is ours (we may hand it on)."""
    try:
        if os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp():
            return 0
    except OSError:
        pass
    return None


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a member we may not signal (another user's) still runs
    return True


def _killpg(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def _reap_orphans() -> None:
    """Reap children reparented to covhook (a subreaper or PID 1), so none stays a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
