"""The options of ``coverage report`` that ``covhook report`` and ``covhook run`` pass on."""

from __future__ import annotations

import argparse


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
