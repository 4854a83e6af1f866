"""``covhook status``: every hook covhook installed, and whether it would work."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from covhook import install as installer
from covhook import registry
from covhook.errors import CovhookError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("status", help="list installed hooks and whether each works")
    parser.set_defaults(func=run)


def describe(pth: Path, python: str | None) -> str:
    if not pth.is_file():
        return "missing (removed by hand?)"
    current = pth.read_text("utf-8", errors="replace") == installer.hook_text()
    if python:
        try:
            facts = installer.probe_python(python)
        except CovhookError as exc:
            return f"broken: {exc.problem}"
        can_import = bool(facts.get("coverage") and facts.get("covhook"))
    else:
        present = installer.installed_distributions(pth.parent)
        can_import = {"coverage", "covhook"} <= present
    parts = ["importable" if can_import else "NOT importable (hook will only warn)"]
    parts.append("current" if current else "outdated (re-run covhook install)")
    active = bool(
        os.environ.get("COVERAGE_PROCESS_START") or os.environ.get("COVERAGE_PROCESS_CONFIG")
    )
    parts.append(
        "active now" if active and can_import else "inactive (COVERAGE_PROCESS_START unset)"
    )
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    rows = registry.load()
    if not rows:
        print("covhook: no hooks installed by 'covhook install'")
        return 0
    for row in rows:
        where = f" (python: {row.python})" if row.python else ""
        print(f"{row.pth}{where}: {describe(Path(row.pth), row.python)}")
    return 0
