"""``covhook`` command line: one ``main(argv)``; errors become one message here only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from covhook import __version__
from covhook.commands import COMMANDS
from covhook.errors import CovhookError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covhook",
        description="Measure every Python process with coverage.py, tagged with where it ran.",
    )
    parser.add_argument("--version", action="version", version=f"covhook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one covhook command; return its exit status (2 for a usage or setup error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except CovhookError as exc:
        print(f"covhook: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("covhook: interrupted", file=sys.stderr)
        return 130
    return status
