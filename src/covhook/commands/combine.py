"""``covhook combine``: coverage combine, plus which origins contributed.

Data measured in containers is mapped back to host paths with the aliases
covhook learned from the containers' recorded mounts (:mod:`covhook.host.pathmap`),
added after the user's own ``[paths]``; ``--print-paths`` prints them as a
``[paths]`` section so plain ``coverage combine`` gives the same result.
The work is :mod:`covhook.host.combine`'s.  ``--data-file`` and ``-q`` are
``coverage combine``'s: the data file's base name, and no messages but problems.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from typing import NamedTuple

from covhook.commands import Typed
from covhook.errors import CovhookError
from covhook.host import origins
from covhook.host.combine import combine, load_coverage, print_paths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("combine", help="combine data files and show processes per origin")
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    parser.add_argument(
        "--data-file", metavar="FILE", help="base name of the data files (coverage's option)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only problems (no per-origin table)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the parallel data files")
    parser.add_argument(
        "-a", "--append", action="store_true", help="add to the existing combined data"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="make the combined file from these inputs alone, even when it already holds "
        "some of them (by default those are skipped and the others added to it)",
    )
    parser.add_argument(
        "--print-paths",
        action="store_true",
        help="print the [paths] covhook learned (containers, other checkouts); combine nothing",
    )
    parser.add_argument(
        "--no-map", action="store_true", help="do not map container paths to host paths"
    )
    parser.add_argument(
        "paths", nargs="*", help="directories, data files or .tar/.tar.gz/.zip archives"
    )
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook combine``'s command line."""

    rcfile: str | None
    data_file: str | None
    quiet: bool
    keep: bool
    append: bool
    replace: bool
    print_paths: bool
    no_map: bool
    paths: list[str]


def run(args: Args) -> int:
    cov = load_coverage(args.rcfile, args.data_file)
    if args.print_paths:
        print_paths(cov, args.paths)
        return 0
    if args.replace and args.append:
        raise CovhookError(
            "--replace and --append ask for opposite things",
            "use --append to add to the combined file, --replace to make it anew",
        )
    said = io.StringIO()
    with contextlib.redirect_stdout(said) if args.quiet else contextlib.nullcontext():
        processes = combine(
            cov,
            args.paths,
            args.keep,
            learn_paths=not args.no_map,
            append=args.append,
            replace=args.replace,
        )
        print(origins.format_table(origins.table(processes, cov.get_data())))
    # -q: what combine said that asks for action ("... Fix: ...") still shows.
    for line in said.getvalue().splitlines():
        if "Fix: " in line:
            print(line)
    return 0
