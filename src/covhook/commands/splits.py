"""``covhook split -n N -j J -w W -- pytest ARGS``: one suite, N measured splits, one report.

Replaces the hand-written script that ran pytest-split groups in the
background with ``COVERAGE_FILE=.coverage.$i``: the split count is given once,
a failing test in any split fails the run (and is named), Ctrl-C stops every
split, and ``fail_under`` comes from the user's coverage config.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from covhook import layout
from covhook.commands import Typed
from covhook.commands._report_options import add_reports_option
from covhook.errors import CovhookError
from covhook.host import origins
from covhook.host.combine import combine
from covhook.host.rcfile import rcfile_for_run
from covhook.host.report import write_reports

if TYPE_CHECKING:
    import coverage

    from covhook.splits.runner import Runner


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "split",
        help="run a pytest suite as N measured splits in parallel, then one combined report",
    )
    parser.add_argument("-n", "--splits", type=int, required=True, help="number of splits")
    parser.add_argument(
        "-j", "--jobs", type=int, default=None, help="splits at a time (default: CPU cores)"
    )
    parser.add_argument(
        "-w", "--workers", type=int, default=0, help="pytest-xdist workers per split (default 0)"
    )
    parser.add_argument(
        "--selector",
        choices=("auto", "pytest-split", "covhook"),
        default="auto",
        help="who picks each split's tests (auto: pytest-split when installed)",
    )
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    add_reports_option(parser, default="term")
    parser.add_argument("-m", "--show-missing", action="store_true", help="list missing lines")
    parser.add_argument(
        "--result-json", help="also write the outcome (splits, failures, total) to this file"
    )
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="pytest and its arguments, after --")
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook split``'s command line."""

    splits: int
    jobs: int | None
    workers: int
    selector: str
    rcfile: str | None
    report: list[str]
    show_missing: bool
    result_json: str | None
    cmd: list[str]


def pytest_args(cmd: list[str]) -> list[str]:
    """The arguments for pytest: ``-- pytest ARGS``, ``-- python -m pytest ARGS`` or ``-- ARGS``."""
    args = cmd[1:] if cmd[:1] == ["--"] else list(cmd)
    if args[:1] and os.path.basename(args[0]) in ("pytest", "py.test"):
        return args[1:]
    if (
        len(args) >= 3
        and os.path.basename(args[0]).startswith("python")
        and args[1:3]
        == [
            "-m",
            "pytest",
        ]
    ):
        return args[3:]
    return args


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def choose_selector(wanted: str) -> str:
    if wanted == "covhook":
        return "covhook"
    from covhook.splits.runner import has_module

    installed = has_module(sys.executable, "pytest_split")
    if wanted == "pytest-split" and not installed:
        raise CovhookError(
            "--selector pytest-split, but pytest-split is not installed",
            "pip install pytest-split, or use --selector covhook",
        )
    return "pytest-split" if installed else "covhook"


def check_counts(args: Args) -> tuple[int, int, int, bool]:
    n, w = args.splits, args.workers
    j = args.jobs if args.jobs is not None else max(1, min(n, cpu_count()))
    for flag, value, least in (("-n", n, 1), ("-j", j, 1), ("-w", w, 0)):
        if value < least:
            raise CovhookError(f"bad count: {flag} {value}", f"use {flag} {least} or more")
    from covhook.splits.runner import has_module

    if w > 0 and not has_module(sys.executable, "xdist"):
        raise CovhookError(
            f"-w {w} needs pytest-xdist, which is not installed", "pip install pytest-xdist"
        )
    cores = cpu_count()
    oversubscribed = min(j, n) * max(w, 1) > 2 * cores
    if oversubscribed:
        print(
            f"covhook: warning: {min(j, n)} splits x {max(w, 1)} worker(s) = "
            f"{min(j, n) * max(w, 1)} processes for {cores} CPU cores (more than 2 per core); "
            "the run will be slower, not faster. Fix: lower -j or -w",
            file=sys.stderr,
        )
    return n, j, w, oversubscribed


def remove_stale(data_file: str) -> int:
    """Delete the previous run's data (the combined file and parallel files): fresh numbers."""
    removed = 0
    for stale in [data_file, *layout.parallel_files(data_file)]:
        try:
            os.remove(stale)
        except FileNotFoundError:
            continue
        removed += 1
    return removed


def need_pytest() -> None:
    """pytest is an extra (covhook[pytest]): say so before anything else."""
    import importlib.util

    if importlib.util.find_spec("pytest") is None:
        raise CovhookError(
            f"covhook split runs pytest, which is not installed in {sys.prefix}",
            "pip install 'covhook[pytest]'",
        )


def run(args: Args) -> int:
    need_pytest()
    user_args = pytest_args(args.cmd)
    n, j, w, oversubscribed = check_counts(args)
    selector = choose_selector(args.selector)
    reports: list[str] = args.report

    import coverage

    from covhook.splits import runner as splits

    with tempfile.TemporaryDirectory(prefix="covhook-split-") as tmp:
        rcfile = rcfile_for_run(args.rcfile, Path(tmp))
        cov = coverage.Coverage(config_file=str(rcfile))
        data_file = os.path.abspath(str(cov.get_option("run:data_file")))
        removed = remove_stale(data_file)
        if removed:
            print(f"covhook: removed {removed} data file(s) from an earlier run")

        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("COVERAGE_PROCESS_CONFIG", "COVHOOK_SPLIT", "COVHOOK_SPLITS")
        }
        env["COVERAGE_PROCESS_START"] = str(rcfile)
        env["COVHOOK_PARALLEL"] = "1"  # each split's pytest is tagged too (defaults.apply)
        plan = splits.Plan(user_args, n, j, w, selector, env)
        runner = splits.Runner(plan, Path(tmp))
        print(
            f"covhook: {n} split(s), {min(j, n)} at a time, {w or 'no'} xdist worker(s) each; "
            f"tests picked by {selector}"
        )
        restore = splits.install_signal_handlers(runner.request_stop)
        try:
            runner.run()
        finally:
            restore()
        result: dict[str, Any] = {"oversubscribed": oversubscribed, "selector": selector}
        status = finish(runner, cov, args, reports, result)
        if args.result_json:
            result["status"] = status
            result["splits"] = [
                {
                    "index": s.index,
                    "returncode": s.returncode,
                    "ok": s.ok,
                    "why": None if s.ok else s.why(),
                    "failed": s.result.get("failed", []),
                    "ran": s.result.get("ran"),
                    "pid": s.proc.pid if s.proc is not None else None,
                }
                for s in runner.splits
            ]
            Path(args.result_json).write_text(json.dumps(result, indent=2), "utf-8")
        return status


def finish(
    runner: Runner,
    cov: coverage.Coverage,
    args: Args,
    reports: list[str],
    result: dict[str, Any],
) -> int:
    """Combine, report, and choose the exit status."""
    from coverage.exceptions import NoDataError

    from covhook._compat import fail_under_message, should_fail_under

    elapsed = time.monotonic() - runner.t0
    failed = [s for s in runner.splits if s.returncode is not None and not s.ok]
    try:
        processes = combine(cov, [], keep=False)
    except CovhookError as exc:
        print(f"covhook: no coverage data: {exc}", file=sys.stderr)
        processes = None
    if runner.stopping is not None:
        print(
            f"covhook: stopped by signal {runner.stopping} after {elapsed:.1f}s; the data "
            f"collected so far is combined in {cov.get_option('run:data_file')}"
        )
        result["stopped_by"] = runner.stopping
        return 128 + runner.stopping

    status = 0
    if processes is not None:
        try:
            total = report(cov, args, reports)
        except NoDataError as exc:
            print(f"covhook: no coverage data: {exc}", file=sys.stderr)
            total = None
        print()
        print(origins.format_table(origins.table(processes, cov.get_data())))
        fail_under = float(str(cov.get_option("report:fail_under") or 0))
        precision = int(str(cov.get_option("report:precision") or 0))
        result.update(total=total, fail_under=fail_under)
        if total is not None and fail_under and should_fail_under(total, fail_under, precision):
            print("Coverage failure:", fail_under_message(total, fail_under, precision))
            status = 2
    print(f"covhook: {len(runner.splits)} split(s) in {elapsed:.1f}s")
    if failed:
        for split in failed:
            print(f"covhook: {split.name} failed: {split.why()}")
        print(f"covhook: FAILED splits: {', '.join(str(s.index) for s in failed)}")
        status = 1
    return status


def report(cov: coverage.Coverage, args: Args, reports: list[str]) -> float:
    """Write the requested reports; return the total percentage."""
    return write_reports(cov, reports, show_missing=args.show_missing)
