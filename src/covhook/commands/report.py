"""``covhook report``: coverage's text report, then the per-origin table.

It takes the options ``coverage report`` users type (``--fail-under``,
``--skip-covered``, ``--data-file``, ``--precision``, ``--format``) and
exits like it: 2 when the total is under ``fail_under`` (from the option or
the config).  ``--by origin`` shows, per source file, which origins ran which
share of it (:mod:`covhook.host.origin_report`), as text, Markdown or an HTML page.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from covhook import _compat
from covhook.commands.combine import load_coverage
from covhook.errors import CovhookError
from covhook.host import origins

FAIL_UNDER = 2  # coverage's exit status when the total is under fail_under


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help="coverage report plus lines per origin")
    add_report_options(parser)
    parser.add_argument(
        "--by",
        choices=["origin"],
        help="per source file: the lines each origin ran (text, Markdown, or --html)",
    )
    parser.add_argument("--html", metavar="FILE", help="with --by origin: write an HTML page")
    parser.set_defaults(func=run)


def add_report_options(parser: argparse.ArgumentParser, data_file: bool = True) -> None:
    """The options of ``coverage report`` that covhook passes on (also for ``covhook run``)."""
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    parser.add_argument("-m", "--show-missing", action="store_true", help="list missing lines")
    parser.add_argument("--skip-covered", action="store_true", help="skip fully covered files")
    parser.add_argument("--skip-empty", action="store_true", help="skip files with no code")
    parser.add_argument("--fail-under", type=float, metavar="MIN", help="exit 2 under MIN%%")
    parser.add_argument("--precision", type=int, metavar="N", help="digits after the point")
    if data_file:
        parser.add_argument("--data-file", metavar="FILE", help="the combined data file to read")
    parser.add_argument(
        "--format", choices=["text", "markdown", "total"], help="output format (coverage's)"
    )
    parser.add_argument("--include", metavar="PAT", help="only files matching these patterns")
    parser.add_argument("--omit", metavar="PAT", help="omit files matching these patterns")


def report_and_status(cov: Any, args: argparse.Namespace, processes: Any = None) -> int:
    """coverage's report and fail_under check, then the origin table; the exit status."""
    if args.fail_under is not None:
        cov.set_option("report:fail_under", args.fail_under)
    if args.precision is not None:
        cov.set_option("report:precision", args.precision)
    total = cov.report(
        show_missing=args.show_missing or None,
        skip_covered=args.skip_covered or None,
        skip_empty=args.skip_empty or None,
        precision=args.precision,
        output_format=args.format,
        include=_patterns(args.include),
        omit=_patterns(args.omit),
    )
    if args.format != "total":
        table = origins.table(processes, cov.get_data(), origins.report_counting(cov))
        print()
        if args.format == "markdown":
            print(origins.format_markdown(table))
        else:
            print(origins.format_table(table))
    fail_under = float(cov.get_option("report:fail_under"))
    precision = int(cov.get_option("report:precision"))
    if _compat.should_fail_under(total, fail_under, precision):
        print("Coverage failure:", _compat.fail_under_message(total, fail_under, precision))
        return FAIL_UNDER
    return 0


def _patterns(text: str | None) -> list[str] | None:
    return [p for p in text.split(",") if p] if text else None


def run(args: argparse.Namespace) -> int:
    cov = load_coverage(args.rcfile, args.data_file)
    data_file = str(cov.get_option("run:data_file"))
    if not os.path.exists(data_file):
        raise CovhookError(f"no combined data in {data_file}", "run 'covhook combine' first")
    cov.load()
    if args.by == "origin":
        from covhook.host.origin_report import run as by_origin

        return by_origin(cov, args)
    return report_and_status(cov, args)
