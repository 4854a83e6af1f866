"""The target options shared by install and uninstall."""

from __future__ import annotations

import argparse
from typing import NamedTuple


class TargetArgs(NamedTuple):
    """Which environment: ``covhook install``'s command line."""

    python: str | None
    site_packages: str | None
    user: bool


def add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--python", metavar="EXE", help="the environment of this interpreter")
    group.add_argument("--site-packages", metavar="DIR", help="this site-packages directory")
    parser.add_argument(
        "--user", action="store_true", help="the user site-packages (of --python, or this Python)"
    )
