"""``covhook uninstall``: remove a hook covhook installed (or all of them).

Works without coverage installed.  ``--all`` leaves hooks pip installed (and
says so): those belong to ``pip uninstall covhook``; with ``--python`` or
``--site-packages`` it takes only that environment's hooks.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from covhook.commands import Typed
from covhook.commands._target import add_target_options
from covhook.errors import CovhookError
from covhook.host import install as installer
from covhook.host import registry


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("uninstall", help="remove the start-up hook")
    add_target_options(parser)
    parser.add_argument("--all", action="store_true", help="every hook covhook recorded")
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook uninstall``'s command line."""

    python: str | None
    site_packages: str | None
    user: bool
    all: bool


def explicit_target(args: Args) -> Path:
    if args.site_packages:
        return Path(args.site_packages).resolve() / installer.PTH_NAME
    if args.python:
        facts = installer.probe_python(args.python)
    else:
        import site
        import sysconfig

        facts = {"purelib": sysconfig.get_path("purelib"), "usersite": site.USER_SITE}
    return Path(str(facts["usersite" if args.user else "purelib"])) / installer.PTH_NAME


def scoped(args: Args) -> bool:
    """``--all`` with ``--python`` or ``--site-packages``: every hook of that environment."""
    return bool(args.python or args.site_packages)


def chooser(args: Args) -> Callable[[registry.Install], bool]:
    """Which hooks ``--all`` takes: every one, or those of ``--python`` / ``--site-packages``."""
    if args.site_packages:
        directory = Path(args.site_packages).resolve()
        return lambda row: Path(row.pth).parent == directory
    if not args.python:
        return lambda row: True
    try:
        facts = installer.probe_python(args.python)
    except CovhookError:  # the interpreter is gone: match the path it was recorded with
        gone = os.path.abspath(args.python)
        return lambda row: row.python is not None and os.path.abspath(row.python) == gone
    dirs = {Path(str(facts["purelib"])), Path(str(facts["usersite"]))}
    return lambda row: row.python == facts["executable"] or Path(row.pth).parent in dirs


def run(args: Args) -> int:
    wanted = chooser(args) if args.all else None  # asks the interpreter: outside the lock
    with registry.transaction() as record:
        if not args.all:
            pth = explicit_target(args)
            print(f"covhook: {installer.uninstall_path(pth, record)}: {pth}")
            return 0
        paths = [Path(row.pth) for row in record.rows if wanted is None or wanted(row)]
        if not paths:
            print("covhook: no recorded hooks" + (" there" if scoped(args) else ""))
        for pth in paths:
            try:
                state = installer.uninstall_path(pth, record)
            except CovhookError as exc:
                # Not ours (pip's, or a foreign file): forget it, keep it, say so.
                record.drop(pth)
                record.save()
                state = f"kept ({exc})"
            print(f"covhook: {state}: {pth}")
    return 0
