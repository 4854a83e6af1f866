"""``covhook run -- CMD``: run a command with every Python process measured, then combine.

Sets ``COVERAGE_PROCESS_START`` for the command so the installed hook starts
coverage in it and in every process below it, then combines and reports with
the per-origin table.  The exit status is the command's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from covhook import leftovers, origins
from covhook.commands.combine import combine
from covhook.commands.report import add_report_options, report_and_status
from covhook.config import rcfile_for_run
from covhook.errors import CovhookError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("run", help="run a command with all its Python processes measured")
    add_report_options(parser, data_file=False)
    parser.add_argument("--append", action="store_true", help="keep data from earlier runs")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        raise CovhookError("no command to run", "put it after --, e.g. covhook run -- pytest")
    with tempfile.TemporaryDirectory(prefix="covhook-run-") as tmp:
        rcfile = rcfile_for_run(args.rcfile, Path(tmp))
        import coverage

        cov = coverage.Coverage(config_file=str(rcfile))
        data_file = os.path.abspath(str(cov.get_option("run:data_file")))
        if not args.append:
            for stale in [data_file, *origins.data_files(data_file)]:
                Path(stale).unlink(missing_ok=True)
            leftovers.discard(data_file)  # issue 8: earlier runs' copies in .covhook-work
        env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
        env["COVERAGE_PROCESS_START"] = str(rcfile)
        try:
            status = subprocess.call(cmd, env=env)
        except FileNotFoundError as exc:
            raise CovhookError(f"cannot run {cmd[0]!r}: not found", "check the command") from exc
        processes = combine(cov, [], keep=False)
        under = report_and_status(cov, args, processes)
    return status or under
