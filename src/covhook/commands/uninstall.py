"""``covhook uninstall``: remove a hook covhook installed (or all of them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from covhook import install as installer
from covhook import registry
from covhook.commands._target import add_target_options


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("uninstall", help="remove the start-up hook")
    add_target_options(parser)
    parser.add_argument("--all", action="store_true", help="every hook covhook recorded")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.all:
        paths = [Path(row.pth) for row in registry.load()]
    elif args.site_packages:
        paths = [Path(args.site_packages).resolve() / installer.PTH_NAME]
    else:
        facts = installer.probe_python(args.python) if args.python else None
        import site
        import sysconfig

        if facts is None:
            facts = {"purelib": sysconfig.get_path("purelib"), "usersite": site.USER_SITE}
        paths = [Path(str(facts["usersite" if args.user else "purelib"])) / installer.PTH_NAME]
    for pth in paths:
        removed = installer.uninstall_path(pth)
        print(f"covhook: {'removed' if removed else 'not present'}: {pth}")
    if args.all and not paths:
        print("covhook: no recorded hooks")
    return 0
