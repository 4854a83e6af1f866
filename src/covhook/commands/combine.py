"""``covhook combine``: coverage combine, plus which origins contributed.

Data measured in containers is mapped back to host paths with the aliases
covhook learned from the containers' recorded mounts (:mod:`covhook.pathmap`),
added after the user's own ``[paths]``; ``--print-paths`` prints them as a
``[paths]`` section so plain ``coverage combine`` gives the same result.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections import Counter

import coverage

from covhook import children, leftovers, origins, pathmap, scope
from covhook.config import find_rcfile
from covhook.errors import CovhookError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("combine", help="combine data files and show processes per origin")
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    parser.add_argument("--keep", action="store_true", help="keep the parallel data files")
    parser.add_argument(
        "--print-paths",
        action="store_true",
        help="print the [paths] covhook learned from containers, and combine nothing",
    )
    parser.add_argument(
        "--no-map", action="store_true", help="do not map container paths to host paths"
    )
    parser.add_argument("paths", nargs="*", help="directories or files to combine")
    parser.set_defaults(func=run)


def load_coverage(rcfile: str | None) -> coverage.Coverage:
    found = find_rcfile(rcfile)
    return coverage.Coverage(config_file=str(found) if found else True)


def find_files(cov: coverage.Coverage, paths: list[str]) -> list[str]:
    """The data files to combine, or a CovhookError saying how to get some."""
    data_file = str(cov.get_option("run:data_file"))
    files = origins.data_files(data_file, paths)
    if not files:
        raise CovhookError(
            f"no data files matching {data_file}.* to combine",
            "run your program with COVERAGE_PROCESS_START set (or 'covhook run') first",
        )
    return files


def combine(
    cov: coverage.Coverage, paths: list[str], keep: bool, learn_paths: bool = True
) -> Counter[str]:
    """Combine like ``coverage combine``; one message per unreadable file, none lost.

    With ``learn_paths``, files measured in containers are mapped to host
    paths with what the containers recorded (the user's ``[paths]`` first).
    """
    data_file = str(cov.get_option("run:data_file"))
    # Issue 8: data files killed processes left in .covhook-work (covhook.leftovers).
    for line in leftovers.messages(leftovers.recover(data_file)):
        print(line)
    files = find_files(cov, paths)
    processes = origins.processes_by_origin(files, data_file)
    plan = pathmap.plan(files, data_file) if learn_paths else pathmap.Plan()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not plan.aliases:
            cov.combine(paths or None, keep=keep)
        else:
            configured = cov.get_option("paths")
            own = dict(configured) if isinstance(configured, dict) else {}
            for group, aliases in plan.groups:
                cov.set_option("paths", {**own, **pathmap.as_paths_option(aliases)})
                cov.combine(group, keep=keep)
            cov.set_option("paths", own)
            if not keep:
                pathmap.forget(files, plan)
    for warning in caught:
        print(
            f"covhook: skipped an unreadable data file ({warning.message}). Fix: it was kept "
            "on disk; delete it once you no longer need it, the others were combined"
        )
    cov.save()
    report_unmeasured(os.path.dirname(os.path.abspath(data_file)), keep)
    scope.report_skipped(os.path.dirname(os.path.abspath(data_file)), keep)
    return processes


def report_unmeasured(data_dir: str, keep: bool) -> None:
    """Say which Python children ran without coverage, and why (notes left by the hook)."""
    notes = children.unmeasured(data_dir)
    if not notes:
        return
    example = " ".join(notes[0].get("argv", []))
    print(
        f"covhook: {len(notes)} Python child process(es) ran without coverage: "
        f"{notes[0].get('why')} (e.g. {example!r}). Fix: {notes[0].get('fix')}"
    )
    if not keep:
        children.forget(data_dir)


def run(args: argparse.Namespace) -> int:
    cov = load_coverage(args.rcfile)
    if args.print_paths:
        data_file = str(cov.get_option("run:data_file"))
        plan = pathmap.plan(find_files(cov, args.paths), data_file)
        for pattern, results in sorted(pathmap.conflicts(plan.aliases).items()):
            print(
                f"# covhook: {pattern} was {' and '.join(sorted(results))} in different "
                "containers: one [paths] cannot express that; 'covhook combine' can"
            )
        print(pathmap.paths_section(plan.aliases), end="")
        return 0
    processes = combine(cov, args.paths, args.keep, learn_paths=not args.no_map)
    print(origins.format_table(origins.table(processes, cov.get_data())))
    return 0
