"""coverage's report and its ``fail_under`` status, then the per-origin table.

Shared by ``covhook report`` and ``covhook run``; exits like ``coverage
report``: 2 when the total is under ``fail_under`` (from the option or the config).
"""

from __future__ import annotations

import argparse
from typing import Any

from covhook import _compat
from covhook.errors import FAIL_UNDER
from covhook.host import origins


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
