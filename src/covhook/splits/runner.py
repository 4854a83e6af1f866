"""Run one pytest suite as N measured splits, at most J at a time, then one combine.

The runner starts each split in its own process group with
``COVERAGE_PROCESS_START`` and ``COVHOOK_SPLIT``/``COVHOOK_SPLITS`` set, so every
process of split 2 of 4 (pytest, its xdist workers, the tests' children) writes
``<data_file>.<origin>_split-2of4.<suffix>``; it prefixes each split's output,
reports progress, and on Ctrl-C / SIGTERM stops every process it started
(process groups, then a sweep for escaped descendants by a run id in their
environment) without deleting any data.  Each split loads the pytest side,
:mod:`covhook.splits.plugin`.

Lines measured this way are the ones one sequential ``pytest --cov`` run
measures: same tests, same config, one process per split instead of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from covhook.splits.names import PLUGIN, REPORT_OPTION, SPLIT_OPTION

RUN_ID_ENV = "COVHOOK_SPLIT_RUN"

EXIT_REASONS = {
    1: "tests failed",
    2: "interrupted",
    3: "pytest internal error",
    4: "pytest usage error",
    5: "no tests collected",
}


@dataclass
class Split:
    """One running or finished split."""

    index: int
    count: int
    cmd: list[str]
    report: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ended: float = 0.0
    returncode: int | None = None
    reader: threading.Thread | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"split {self.index}/{self.count}"

    @property
    def ok(self) -> bool:
        # 5: this split got no tests (more splits than tests); not a failure.
        return self.returncode in (0, 5)

    def why(self) -> str:
        """Why a split failed, in words, naming its failed tests."""
        rc = self.returncode
        if rc is None:
            return "stopped before it finished"
        reason = EXIT_REASONS.get(rc, f"exit status {rc}")
        if rc < 0:
            reason = f"killed by signal {-rc}"
        failed = self.result.get("failed") or []
        if failed:
            shown = ", ".join(failed[:5]) + (
                f", ... ({len(failed)} in all)" if len(failed) > 5 else ""
            )
            reason += f": {shown}"
        return reason


@dataclass
class Plan:
    """What to run: the pytest arguments and how to split them."""

    pytest_args: list[str]
    splits: int
    jobs: int
    workers: int
    selector: str  # "pytest-split" or "covhook"
    env: dict[str, str]
    python: str = sys.executable


def split_command(plan: Plan, index: int, report: Path) -> list[str]:
    """The pytest command line for split ``index``."""
    cmd = [plan.python, "-m", "pytest", *plan.pytest_args, "-p", PLUGIN]
    if plan.selector == "pytest-split":
        cmd += ["--splits", str(plan.splits), "--group", str(index)]
    else:
        cmd += [f"{SPLIT_OPTION}={index}/{plan.splits}"]
    if plan.workers > 0:
        cmd += ["-n", str(plan.workers)]
    cmd += [f"{REPORT_OPTION}={report}"]
    if has_module(plan.python, "pytest_cov"):
        # Every process is measured by covhook's hook; pytest-cov (e.g. --cov in
        # addopts) would combine other splits' files into its own report.
        cmd.append("--no-cov")
    return cmd


_MODULES: dict[tuple[str, str], bool] = {}


def has_module(python: str, module: str) -> bool:
    """Whether ``python`` can import ``module`` (asked once per run)."""
    key = (python, module)
    if key not in _MODULES:
        if python == sys.executable:
            import importlib.util

            _MODULES[key] = importlib.util.find_spec(module) is not None
        else:
            code = f"import importlib.util as u, sys; sys.exit(u.find_spec({module!r}) is None)"
            _MODULES[key] = subprocess.call([python, "-c", code]) == 0
    return _MODULES[key]


class Runner:
    """Start, watch and (when asked) stop the splits of one plan."""

    def __init__(self, plan: Plan, workdir: Path, out: IO[str] | None = None) -> None:
        self.plan = plan
        self.workdir = workdir
        self.out = out or sys.stdout
        self.lock = threading.Lock()
        self.run_id = uuid.uuid4().hex
        self.splits = [
            Split(i, plan.splits, [], workdir / f"split-{i}.json")
            for i in range(1, plan.splits + 1)
        ]
        for split in self.splits:
            split.cmd = split_command(plan, split.index, split.report)
        self.stopping: int | None = None  # the signal that asked us to stop
        self.t0 = time.monotonic()

    def say(self, line: str) -> None:
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.t0:.1f}s"

    def _start(self, split: Split) -> None:
        env = dict(self.plan.env)
        env.update(
            COVHOOK_SPLIT=str(split.index),
            COVHOOK_SPLITS=str(split.count),
            **{RUN_ID_ENV: self.run_id},
        )
        split.started = time.monotonic()
        split.proc = subprocess.Popen(
            split.cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: we stop it as a whole
        )
        split.reader = threading.Thread(target=self._relay, args=(split,), daemon=True)
        split.reader.start()
        self.say(f"covhook: {split.name} started (pid {split.proc.pid}) [{self.elapsed()}]")

    def _relay(self, split: Split) -> None:
        """Copy a split's output line by line, each prefixed with the split."""
        assert split.proc is not None
        assert split.proc.stdout is not None
        prefix = f"[{split.index}/{split.count}] "
        for raw in split.proc.stdout:
            self.say(prefix + raw.decode("utf-8", "replace").rstrip("\n"))

    def _finish(self, split: Split) -> None:
        assert split.proc is not None
        split.returncode = split.proc.returncode
        split.ended = time.monotonic()
        if split.reader is not None:
            split.reader.join(timeout=5)
        try:
            split.result = json.loads(split.report.read_text("utf-8"))
        except (OSError, ValueError):
            split.result = {}
        done = sum(1 for s in self.splits if s.returncode is not None)
        running = sum(1 for s in self.splits if s.proc is not None and s.returncode is None)
        state = "passed" if split.ok else f"FAILED ({split.why()})"
        self.say(
            f"covhook: {split.name} {state} in {split.ended - split.started:.1f}s; "
            f"{done}/{len(self.splits)} done, {running} running [{self.elapsed()}]"
        )

    def run(self) -> None:
        """Run every split, at most ``jobs`` at a time, until done or stopped."""
        pending = list(self.splits)
        running: list[Split] = []
        while (pending or running) and self.stopping is None:
            while pending and len(running) < self.plan.jobs and self.stopping is None:
                split = pending.pop(0)
                self._start(split)
                running.append(split)
            time.sleep(0.05)
            for split in list(running):
                assert split.proc is not None
                if split.proc.poll() is not None:
                    running.remove(split)
                    self._finish(split)
        if self.stopping is not None:
            self.stop(running)

    def request_stop(self, signum: int) -> None:
        """Signal handler: remember the signal; :meth:`run` stops the splits."""
        if self.stopping is None:
            self.stopping = signum

    def stop(self, running: list[Split], grace: float = 10.0) -> None:
        """Stop every running split: SIGINT (pytest saves data), SIGTERM, then SIGKILL."""
        self.say(f"covhook: stopping {len(running)} running split(s) [{self.elapsed()}]")
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            alive = [s for s in running if s.proc is not None and s.proc.poll() is None]
            if not alive:
                break
            for split in alive:
                assert split.proc is not None
                _killpg(split.proc.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and any(
                s.proc is not None and s.proc.poll() is None for s in alive
            ):
                time.sleep(0.05)
        for split in running:
            assert split.proc is not None
            if split.proc.poll() is None:
                split.proc.wait()
            self._finish(split)
        # The groups are gone; descendants that started their own session
        # (torchrun workers, daemons) carry our run id in their environment.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            found = processes_with_env(RUN_ID_ENV, self.run_id)
            if not found:
                break
            for pid in found:
                _kill(pid, sig)
            _wait_gone(found, 3.0)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _wait_gone(pids: Sequence[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
        time.sleep(0.05)


def processes_with_env(name: str, value: str) -> list[int]:
    """Pids (not ours) whose environment has ``name=value``; empty where /proc is absent."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            env = (entry / "environ").read_bytes()
            status = (entry / "stat").read_text()
        except OSError:
            continue
        zombie = status.rpartition(")")[2].split()[:1] == ["Z"]
        if needle in env.split(b"\0") and int(entry.name) != os.getpid() and not zombie:
            found.append(int(entry.name))
    return found


def install_signal_handlers(handler: Callable[[int], None]) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to ``handler``; return a function restoring the old ones."""
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, lambda signum, _frame: handler(signum))

    def restore() -> None:
        for sig, previous in old.items():
            signal.signal(sig, previous)

    return restore
