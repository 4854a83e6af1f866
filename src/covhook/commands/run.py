"""``covhook run -- CMD``: run a command with every Python process measured, then combine.

Sets ``COVERAGE_PROCESS_START`` for the command so the installed hook starts
coverage in it and in every process below it, waits for the command and the
processes it started (:mod:`covhook.host.process_group`), then combines and reports with
the per-origin table.  The exit status is the command's when it failed (``128 + N``
when a signal killed it); when it passed, 2 if the total is under ``fail_under``
(coverage's status), else 0: anything else that goes wrong after the command ran
is one line on stderr, never a different status.  When the command combined its
data itself (pytest-cov does, at the end of the session), that data is
reported as it is.

``coverage run``'s options work as there: ``-m MODULE ARGS`` and ``FILE.py ARGS``
run with this Python; ``--source``, ``--branch``, ``--data-file`` and
``--context`` reach every process through a copy of the config
(:mod:`covhook.host.run_config`); ``--report term-missing,html,xml,json,lcov``
is pytest-cov's ``--cov-report`` list.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from covhook import layout, notes
from covhook.commands import Typed
from covhook.commands._report_options import (
    add_report_options,
    add_reports_option,
    check_no_module,
)
from covhook.errors import CovhookError, as_covhook_error
from covhook.host import leftovers, run_config
from covhook.host.combine import combine, report_skipped, report_unmeasured
from covhook.host.process_group import Command, NotStarted, signal_name
from covhook.host.rcfile import find_rcfile, rcfile_for_run
from covhook.host.report import ReportOptions, report_and_status, write_reports

if TYPE_CHECKING:
    from collections import Counter

    import coverage

DEFAULT_WAIT = 10.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("run", help="run a command with all its Python processes measured")
    add_report_options(parser, data_file=False, short_m=False)
    add_reports_option(parser, default="term")
    parser.add_argument("--source", metavar="SRC", help="code to measure (coverage run's)")
    parser.add_argument("--branch", action="store_true", help="measure branch coverage too")
    parser.add_argument("--data-file", metavar="FILE", help="the data file (coverage run's)")
    parser.add_argument("--context", metavar="LABEL", help="static context for every process")
    parser.add_argument(
        "-p", "--parallel-mode", action="store_true", help="accepted: covhook always is"
    )
    parser.add_argument(
        "-m",
        "--module",
        nargs=argparse.REMAINDER,
        metavar="MODULE",
        help="-m MODULE ARGS: run a module with this Python, as 'coverage run -m' does",
    )
    parser.add_argument("--append", action="store_true", help="keep data from earlier runs")
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help="after the command exits, wait up to SECONDS for the processes it started "
        f"(default {DEFAULT_WAIT:g})",
    )
    parser.add_argument(
        "--signal-group",
        action="store_true",
        help="forward every signal to the command's whole process group, not only to the "
        "command (SIGINT always goes to the group, as a terminal's Ctrl-C does)",
    )
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook run``'s command line: coverage report's options, then coverage run's."""

    rcfile: str | None
    report_options: ReportOptions
    report: list[str]
    source: str | None
    branch: bool
    data_file: str | None
    context: str | None
    parallel_mode: bool
    module: list[str] | None
    append: bool
    wait: float
    signal_group: bool
    cmd: list[str]


def command(args: Args) -> list[str]:
    """The command to run: ``-- CMD``, ``-m MODULE ARGS`` or ``FILE.py ARGS`` (coverage run's)."""
    if args.module is not None:
        check_no_module(args.module)
        return [sys.executable, "-m", *args.module]
    if args.cmd[:1] == ["--"]:
        return list(args.cmd[1:])
    cmd = list(args.cmd)
    if cmd and cmd[0].endswith(".py") and os.path.isfile(cmd[0]):
        return [sys.executable, *cmd]  # coverage run prog.py: this Python runs it
    return cmd


def config_for_run(args: Args, scratch: Path) -> Path:
    """The config the processes get: with the command line's [run] options, if any."""
    options = run_config.run_options(args.source, args.branch, args.data_file, args.context)
    if not options:
        return rcfile_for_run(args.rcfile, scratch)
    return run_config.with_run_options(find_rcfile(args.rcfile), options, scratch, parallel=True)


def run(args: Args) -> int:
    cmd = command(args)
    if not cmd:
        raise CovhookError("no command to run", "put it after --, e.g. covhook run -- pytest")
    if "term-missing" in args.report:
        args = args._replace(report_options=args.report_options._replace(show_missing=True))
    with tempfile.TemporaryDirectory(prefix="covhook-run-") as tmp:
        rcfile = config_for_run(args, Path(tmp))
        import coverage

        cov = coverage.Coverage(config_file=str(rcfile))
        data_file = os.path.abspath(str(cov.get_option("run:data_file")))
        if not args.append:
            for stale in [data_file, *layout.parallel_files(data_file)]:
                Path(stale).unlink(missing_ok=True)
            leftovers.discard(data_file)  # issue 8: earlier runs' copies in .covhook-work
            # Issue 20 item 6: earlier runs' notes are not this run's (skipped, unmeasured).
            notes.forget_skipped(os.path.dirname(data_file))
            notes.forget(os.path.dirname(data_file))
        env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
        env["COVERAGE_PROCESS_START"] = str(rcfile)
        env["COVHOOK_PARALLEL"] = "1"  # the command is tagged too (defaults.apply)
        started = time.time()
        try:
            status = Command(cmd, env, signal_group=args.signal_group).run(args.wait)
        except NotStarted as exc:
            print(f"covhook: error: {exc}", file=sys.stderr)
            return exc.status  # what a shell exits with: 127 not found, 126 not executable
        under = 0
        try:
            under = summarize(cov, args, data_file, started, status)
        except Exception as exc:
            problem = as_covhook_error(exc)
            if problem is None:
                raise
            print(f"covhook: error: {problem}".replace("\n", " "), file=sys.stderr)
    # The command's status always; fail_under's (2) only when the command passed.
    return status or under


def summarize(
    cov: coverage.Coverage, args: Args, data_file: str, started: float, status: int
) -> int:
    """Combine what the command's processes saved, and report it: 2 under fail_under."""
    if layout.parallel_files(data_file):
        processes = combine(cov, [], keep=False, append=args.append)  # issue 20 item 4
    elif _written_since(data_file, started):
        print(
            f"covhook: the command combined its data itself into {data_file} (pytest-cov "
            "does); reporting that"
        )
        report_unmeasured(os.path.dirname(data_file), keep=False)
        report_skipped(os.path.dirname(data_file))
        cov.load()
        processes = None
    else:
        data_dir = os.path.dirname(data_file)
        why = _why_no_data(status, notes.skipped_count(data_dir), _scope_of(cov))
        print(f"covhook: no coverage data: {why}", file=sys.stderr)
        report_unmeasured(data_dir, keep=False)
        notes.forget_skipped(data_dir)  # said above
        return 0
    return report(cov, args, processes)


def report(cov: coverage.Coverage, args: Args, processes: Counter[str] | None) -> int:
    from coverage.exceptions import NoDataError

    try:
        status = report_and_status(cov, args.report_options, processes)
        extra = [kind for kind in args.report if not kind.startswith("term")]
        if extra:
            write_reports(cov, extra)
        return status
    except NoDataError:
        count = sum(processes.values()) if processes else "the"
        print(
            f"covhook: nothing to report: {count} process(es) saved data but ran no file "
            "coverage reports (code run with -c or from stdin, or left out by your "
            "[run] source / include / omit). Fix: run files or modules, or check those settings",
            file=sys.stderr,
        )
        return 0


def _written_since(path: str, started: float) -> bool:
    try:
        return os.stat(path).st_mtime >= started - 1
    except OSError:
        return False


# The signals covhook's start-up saves on: a process measured dies of them with its data.
SAVED_ON = ("SIGTERM", "SIGINT", "SIGHUP")


def _scope_of(cov: coverage.Coverage) -> str | None:
    """``[run] source = pkg`` and the like, if the config names a scope (else None)."""
    named = []
    for option in ("source", "source_pkgs", "source_dirs", "include"):
        with contextlib.suppress(Exception):  # source_dirs: coverage 7.8+
            value = cov.get_option(f"run:{option}")
            if isinstance(value, list) and value:
                named.append(f"{option} = {', '.join(map(str, value))}")
    return f"[run] {'; '.join(named)}" if named else None


def _why_no_data(status: int, skipped: int = 0, scoped: str | None = None) -> str:
    name = signal_name(status)
    if skipped:
        ended = f"was killed by {name}" if name else "exited"
        return (
            f"the scope skipped every Python process the command started ({skipped} that "
            f"ended normally; the command {ended} with status {status}): none ran code in "
            f"{scoped or 'your [run] source / include'}. Fix: run code in that scope, or "
            "widen it (covhook measures only what it names)"
        )
    if name in SAVED_ON:
        # The advice 'stop it with SIGTERM or Ctrl-C' would be wrong: it was.
        where = (
            f"that the command runs code in {scoped} (a process that runs none is skipped "
            "by scope), and that covhook's hook is there ('covhook status')"
            if scoped
            else "that it runs Python, and that covhook's hook is there ('covhook status')"
        )
        return (
            f"the command was killed by {name} (status {status}) and no Python process saved "
            f"data, though covhook saves on {name}. Fix: check {where}"
        )
    if name == "SIGKILL":
        fix = (
            "stop it with SIGTERM or Ctrl-C instead: covhook saves on those, nothing can on SIGKILL"
        )
    elif name in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGFPE", "SIGILL"):
        fix = "a process that crashes cannot save its data: fix the crash"
    elif name is not None:
        fix = "let it end normally, or stop it with SIGTERM or Ctrl-C (covhook saves on those)"
    else:
        return (
            f"the command exited with status {status} and no Python process saved any. Fix: "
            "check that it runs Python, and that covhook's hook is there ('covhook status', or "
            "'pip install covhook' into the environment that runs it)"
        )
    return (
        f"the command was killed by {name} (status {status}) before any process saved. Fix: {fix}"
    )
