"""``covhook install``: put the start-up hook into another environment.

An interpreter that cannot import covhook gets covhook itself, with pip, from a
wheel of the running covhook (:func:`covhook.host.install.provide_covhook`).
"""

from __future__ import annotations

import argparse

from covhook.commands import Typed
from covhook.commands._target import TargetArgs, add_target_options
from covhook.host import install as installer


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("install", help="install the start-up hook into an environment")
    add_target_options(parser)
    parser.set_defaults(func=Typed(TargetArgs, run))


def run(args: TargetArgs) -> int:
    target = installer.resolve(args.python, args.site_packages, args.user)
    state = installer.install(target)
    if target.provided:
        state = "installed covhook and its hook with pip ('pip uninstall covhook' removes both)"
    print(f"covhook: {state}: {target.pth}")
    return 0
