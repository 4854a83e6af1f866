"""``covhook status``: every hook covhook installed, and whether it would work.

Exits 1 (coverage's error status) when a recorded hook is missing, cannot run
(its interpreter is gone, or cannot import coverage and covhook), or sits in a
directory its interpreter never reads: a script can check ``covhook status``.
Works without coverage installed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NamedTuple

from covhook.commands import Typed
from covhook.errors import ERR, OK, CovhookError
from covhook.host import install as installer
from covhook.host import registry


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("status", help="list installed hooks and whether each works")
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook status``'s command line: no options."""


def describe(pth: Path, python: str | None) -> tuple[bool, str]:
    """(works, what to print) for one recorded hook."""
    if not pth.is_file():
        return False, "missing (removed by hand?): 'covhook install' again, or 'uninstall' it"
    current = pth.read_text("utf-8", errors="replace") == installer.hook_text()
    read = True
    if python:
        try:
            facts = installer.probe_python(python)
        except CovhookError as exc:
            return False, f"broken: {exc.problem}"
        can_import = bool(facts.get("coverage") and facts.get("covhook"))
        sys_path = facts.get("sys_path")
        read = not isinstance(sys_path, list) or str(pth.parent) in sys_path
    else:
        present = installer.installed_distributions(pth.parent)
        can_import = {"coverage", "covhook"} <= present
    parts = []
    if not read:
        parts.append(f"NOT read by {python} (not one of its site-packages directories)")
    parts.append("importable" if can_import else "NOT importable (hook will only warn)")
    parts.append("current" if current else "outdated (re-run covhook install)")
    active = bool(
        os.environ.get("COVERAGE_PROCESS_START") or os.environ.get("COVERAGE_PROCESS_CONFIG")
    )
    parts.append(
        "active now" if active and can_import else "inactive (COVERAGE_PROCESS_START unset)"
    )
    return read and can_import, ", ".join(parts)


def measuring_path() -> str:
    """Which path measures a process started here with this environment, and why (issue 21)."""
    from covhook.startup import which

    path, why = which.explain()
    return f"covhook: here, a process is measured by {path}: {why}"


def run(args: Args) -> int:
    rows = registry.load()
    if not rows:
        print("covhook: no hooks installed by 'covhook install'")
        print(measuring_path())
        return OK
    status = OK
    for row in rows:
        where = f" (python: {row.python})" if row.python else ""
        works, text = describe(Path(row.pth), row.python)
        print(f"{row.pth}{where}: {text}")
        if not works:
            status = ERR
    print(measuring_path())
    return status
