"""``covhook`` command line: one ``main(argv)``; every error becomes one line here only.

Like coverage.py's ``cmdline.main``: covhook's own errors, coverage.py's
exceptions (``CoverageException``) and OS errors are printed as one line,
``covhook: error: <what>. Fix: <how>``, on stderr, and the exit statuses are
coverage's (0 ok, 1 error, 2 under ``fail_under``).  Usage errors (an unknown
option, a bad value) take the same path: one line with the fix, status 1.  Anything else is a bug in
covhook: one line says so and where to report it (the traceback follows only
with ``COVHOOK_DEBUG=1``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from covhook import __version__, settings
from covhook.commands import COMMANDS, load
from covhook.errors import ERR, CovhookError, as_covhook_error

BUG_REPORT = "covhook's issue tracker"


class UsageError(CovhookError):
    """A command line argparse refused: one line like every other error, status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors reach ``main``'s one ``_error`` (status 1, not 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(
            f"{self.prog}: {message}", f"see '{self.prog} --help' for the options it takes"
        )


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``chosen``'s module is imported (its options are needed).

    With a command chosen, the others are left out (the choices stay right, and
    each would cost a parser: half a millisecond at every start).
    """
    parser = _Parser(
        prog="covhook",
        description="Measure every Python process with coverage.py, tagged with where it ran.",
    )
    parser.add_argument("--version", action="version", version=f"covhook {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for name, (_module, help_text) in COMMANDS.items():
        if name == chosen:
            load(name).register(sub)
        elif chosen is None:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command named on the command line, if any (the first non-option word)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one covhook command; return its exit status (coverage's: 0, 1, or 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = chosen_command(argv)
    try:
        args = parse(argv, chosen)
        status: int = args.func(args)
    except ImportError as exc:
        return _error(_missing_module(exc))
    except KeyboardInterrupt:
        print("covhook: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        known = as_covhook_error(exc)
        return _bug(exc) if known is None else _error(known)
    return status


def parse(argv: list[str], chosen: str | None) -> argparse.Namespace:
    """The parsed command line; a usage error is a ``UsageError`` naming the command's help."""
    if chosen is None:
        unknown = [a for a in argv if a.startswith("-") and a not in ("-h", "--help", "--version")]
        if unknown:
            raise UsageError(
                f"unknown option {unknown[0]} before a command",
                f"put a command first ({', '.join(COMMANDS)}); 'covhook COMMAND --help' "
                "lists its options",
            )
    parser = build_parser(chosen)
    args, extra = parser.parse_known_args(argv)
    if extra:
        raise UsageError(
            f"covhook {chosen}: unrecognized arguments: {' '.join(extra)}",
            f"see 'covhook {chosen} --help' for the options it takes",
        )
    return args


def _error(exc: CovhookError) -> int:
    line = f"covhook: error: {exc}".replace("\n", " ")
    print(line, file=sys.stderr)
    return ERR


def _missing_module(exc: ImportError) -> CovhookError:
    name = exc.name or str(exc)
    if name.split(".")[0] == "coverage":
        return CovhookError(
            f"this command needs coverage.py, which {sys.executable} cannot import",
            f"{sys.executable} -m pip install coverage",
        )
    return CovhookError(
        f"cannot import {name} ({exc})",
        f"reinstall covhook and its dependencies into {sys.prefix}",
    )


def _bug(exc: Exception) -> int:
    print(
        f"covhook: error: internal error {exc.__class__.__name__}: {exc}. This is a bug in "
        f"covhook {__version__}. Fix: please report it to {BUG_REPORT} with the traceback "
        "that COVHOOK_DEBUG=1 prints".replace("\n", " "),
        file=sys.stderr,
    )
    if settings.value("debug"):  # COVHOOK_DEBUG
        import traceback  # only for a bug: 3 ms at every start otherwise

        traceback.print_exception(exc, file=sys.stderr)
    return ERR
