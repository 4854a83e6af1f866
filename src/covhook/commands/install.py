"""``covhook install``: put the start-up hook into another environment."""

from __future__ import annotations

import argparse

from covhook.commands._target import add_target_options
from covhook.host import install as installer


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("install", help="install the start-up hook into an environment")
    add_target_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = installer.resolve(args.python, args.site_packages, args.user)
    state = installer.install(target)
    print(f"covhook: {state}: {target.pth}")
    return 0
