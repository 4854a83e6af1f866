"""``covhook combine``: coverage combine, plus which origins contributed."""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

import coverage

from covhook import origins
from covhook.config import find_rcfile
from covhook.errors import CovhookError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("combine", help="combine data files and show processes per origin")
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    parser.add_argument("--keep", action="store_true", help="keep the parallel data files")
    parser.add_argument("paths", nargs="*", help="directories or files to combine")
    parser.set_defaults(func=run)


def load_coverage(rcfile: str | None) -> coverage.Coverage:
    found = find_rcfile(rcfile)
    return coverage.Coverage(config_file=str(found) if found else True)


def combine(cov: coverage.Coverage, paths: list[str], keep: bool) -> Counter[str]:
    """Combine like ``coverage combine``; one message per unreadable file, none lost."""
    data_file = str(cov.get_option("run:data_file"))
    files = origins.data_files(data_file, paths)
    if not files:
        raise CovhookError(
            f"no data files matching {data_file}.* to combine",
            "run your program with COVERAGE_PROCESS_START set (or 'covhook run') first",
        )
    processes = origins.processes_by_origin(files, data_file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov.combine(paths or None, keep=keep)
    for warning in caught:
        print(
            f"covhook: skipped an unreadable data file ({warning.message}). Fix: it was kept "
            "on disk; delete it once you no longer need it, the others were combined"
        )
    cov.save()
    return processes


def run(args: argparse.Namespace) -> int:
    cov = load_coverage(args.rcfile)
    processes = combine(cov, args.paths, args.keep)
    print(origins.format_table(origins.table(processes, cov.get_data())))
    return 0
