"""``covhook report``: coverage's text report, then the per-origin table."""

from __future__ import annotations

import argparse
import os

from covhook import origins
from covhook.commands.combine import load_coverage
from covhook.errors import CovhookError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("report", help="coverage report plus lines per origin")
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    parser.add_argument("-m", "--show-missing", action="store_true", help="list missing lines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cov = load_coverage(args.rcfile)
    data_file = str(cov.get_option("run:data_file"))
    if not os.path.exists(data_file):
        raise CovhookError(f"no combined data in {data_file}", "run 'covhook combine' first")
    cov.load()
    cov.report(show_missing=args.show_missing)
    print()
    print(origins.format_table(origins.table(None, cov.get_data())))
    return 0
