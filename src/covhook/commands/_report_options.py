"""The options of ``coverage report`` that ``covhook report``, ``run`` and ``split`` pass on.

Spelled as coverage.py spells them, so a coverage or pytest-cov user's
command line works unchanged; ``--report`` is pytest-cov's ``--cov-report``
list (``term-missing,html,xml,json,lcov``).
"""

from __future__ import annotations

import argparse

from covhook.errors import CovhookError

# The reports --report writes (pytest-cov's --cov-report names).
REPORTS = ("term", "term-missing", "html", "xml", "json", "lcov")
SORT_COLUMNS = ("name", "stmts", "miss", "branch", "brpart", "cover")


def add_report_options(
    parser: argparse.ArgumentParser, data_file: bool = True, short_m: bool = True
) -> None:
    """coverage report's options (``short_m``: ``-m`` is ``--show-missing``, as there)."""
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    missing = ["-m", "--show-missing"] if short_m else ["--show-missing"]
    parser.add_argument(*missing, action="store_true", help="list missing lines")
    parser.add_argument("--skip-covered", action="store_true", help="skip fully covered files")
    parser.add_argument(
        "--no-skip-covered",
        action="store_false",
        dest="skip_covered",
        help="list fully covered files (overrides [report] skip_covered)",
    )
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
    parser.add_argument(
        "--contexts", metavar="REGEX", help="only lines run in contexts matching these regexes"
    )
    parser.add_argument(
        "--sort", metavar="COLUMN", type=sort_column, help=f"sort by {', '.join(SORT_COLUMNS)}"
    )
    parser.add_argument(
        "-i", "--ignore-errors", action="store_true", help="ignore errors reading source files"
    )
    parser.set_defaults(skip_covered=None)


def sort_column(text: str) -> str:
    """coverage's ``--sort`` column (``-cover``: descending), checked before anything runs."""
    if text.lower().lstrip("-") not in SORT_COLUMNS:
        raise argparse.ArgumentTypeError(
            f"invalid column {text!r} (choose from {', '.join(SORT_COLUMNS)})"
        )
    return text


def add_reports_option(parser: argparse.ArgumentParser, default: str) -> None:
    """``--report term-missing,html,...``: pytest-cov's ``--cov-report`` list."""
    parser.add_argument(
        "--report",
        default=default,
        type=report_list,
        metavar="KINDS",
        help=f"comma-separated reports to write after combining: {', '.join(REPORTS)} "
        f"(default: {default})",
    )


def report_list(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in REPORTS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown report {unknown[0]!r} (choose from {', '.join(REPORTS)})"
        )
    return kinds


def check_no_module(module: list[str] | None) -> None:
    """``-m`` was given a module (not an option): coverage run's meaning."""
    if module is not None and (not module or module[0].startswith("-")):
        raise CovhookError(
            "-m needs a module name (as in 'coverage run -m'); -m no longer means --show-missing",
            "write 'covhook run -m pkg.mod ARGS', or --show-missing for the missing lines",
        )
