"""coverage's reports and its ``fail_under`` status, then the per-origin table.

Shared by ``covhook report``, ``covhook run`` and ``covhook split``; exits like
``coverage report``: 2 when the total is under ``fail_under`` (from the option
or the config), with coverage's words ("Coverage failure: total of 77 is less
than fail-under=90").
"""

from __future__ import annotations

import io
from typing import Any, NamedTuple

from covhook import _compat
from covhook.errors import FAIL_UNDER
from covhook.host import origins


class ReportOptions(NamedTuple):
    """coverage report's options, as ``covhook report`` and ``covhook run`` parse them
    (:mod:`covhook.commands._report_options` adds them to both parsers)."""

    show_missing: bool
    skip_covered: bool | None
    skip_empty: bool
    fail_under: float | None
    precision: int | None
    format: str | None
    include: str | None
    omit: str | None
    contexts: str | None
    sort: str | None
    ignore_errors: bool


def report_and_status(cov: Any, args: ReportOptions, processes: Any = None) -> int:
    """coverage's report and fail_under check, then the origin table; the exit status."""
    if args.fail_under is not None:
        cov.set_option("report:fail_under", args.fail_under)
    if args.precision is not None:
        cov.set_option("report:precision", args.precision)
    total = cov.report(
        show_missing=args.show_missing or None,
        skip_covered=args.skip_covered,
        skip_empty=args.skip_empty or None,
        precision=args.precision,
        output_format=args.format,
        include=patterns(args.include),
        omit=patterns(args.omit),
        contexts=patterns(args.contexts),
        sort=args.sort,
        ignore_errors=args.ignore_errors or None,
    )
    if args.format != "total":
        table = origins.table(
            processes,
            cov.get_data(),
            origins.report_counting(cov),
            patterns(args.contexts),
        )
        print()
        if args.format == "markdown":
            print(origins.format_markdown(table))
        else:
            print(origins.format_table(table))
    return fail_under_status(cov, total)


def fail_under_status(cov: Any, total: float) -> int:
    """2 (and coverage's message) when ``total`` is under ``[report] fail_under``, else 0."""
    fail_under = float(cov.get_option("report:fail_under") or 0)
    precision = int(cov.get_option("report:precision") or 0)
    if _compat.should_fail_under(total, fail_under, precision):
        print("Coverage failure:", _compat.fail_under_message(total, fail_under, precision))
        return FAIL_UNDER
    return 0


def write_reports(cov: Any, kinds: list[str], show_missing: bool = False) -> float:
    """Write each report of ``kinds`` (``--report``); the total percentage."""
    total = None
    for kind in kinds:
        if kind in ("term", "term-missing"):
            missing = show_missing or kind == "term-missing"
            total = cov.report(show_missing=missing or None)
        elif kind == "html":
            total = cov.html_report()
        elif kind == "xml":
            total = cov.xml_report()
        elif kind == "json":
            total = cov.json_report()
        elif kind == "lcov":
            total = cov.lcov_report()
    if total is None:
        total = cov.report(file=io.StringIO())
    return float(total)


def patterns(text: str | None) -> list[str] | None:
    """A comma-separated option as coverage's list (None: not given)."""
    return [p for p in text.split(",") if p] if text else None
