"""``covhook report``: coverage's text report, then the per-origin table.

It takes the options ``coverage report`` users type (``--fail-under``,
``--skip-covered``, ``--data-file``, ``--precision``, ``--format``) and
exits like it: 2 when the total is under ``fail_under`` (from the option or
the config).  ``--contexts``, ``--sort``, ``-i`` and ``--no-skip-covered`` are
coverage's too.  ``--by origin`` shows, per source file, which origins ran which
share of it (:mod:`covhook.host.origin_report`), as text, Markdown or an HTML page
(``--html FILE`` alone means that page).
"""

from __future__ import annotations

import argparse
import os
from typing import NamedTuple

from covhook.commands import Typed
from covhook.commands._report_options import add_report_options
from covhook.errors import CovhookError
from covhook.host.combine import load_coverage
from covhook.host.report import ReportOptions, report_and_status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help="coverage report plus lines per origin")
    add_report_options(parser)
    parser.add_argument(
        "--by",
        choices=["origin"],
        help="per source file: the lines each origin ran (text, Markdown, or --html)",
    )
    parser.add_argument(
        "--html", metavar="FILE", help="write the per-origin HTML page (implies --by origin)"
    )
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook report``'s command line (coverage report's options, then ``--by``, ``--html``)."""

    rcfile: str | None
    data_file: str | None
    report_options: ReportOptions
    by: str | None
    html: str | None


def run(args: Args) -> int:
    cov = load_coverage(args.rcfile, args.data_file)
    data_file = str(cov.get_option("run:data_file"))
    if not os.path.exists(data_file):
        raise CovhookError(f"no combined data in {data_file}", "run 'covhook combine' first")
    cov.load()
    if args.by == "origin" or args.html:
        from covhook.host.origin_report import run as by_origin

        options = args.report_options
        return by_origin(cov, options.contexts, args.html, options.format)
    return report_and_status(cov, args.report_options)
