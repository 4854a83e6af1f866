"""The subcommands; each module has ``register(subparsers)`` and sets ``func``.

A command's ``run`` takes its typed arguments (an ``Args`` NamedTuple, as
pypa/build's ``_CliArgs``), made from argparse's Namespace once, at the top
(:class:`Typed`): a misspelt option is a mypy error, not an AttributeError.

Adding a command is adding a module here and one entry to ``COMMANDS``.
Modules are imported only when their command runs: ``combine``, ``report``,
``run`` and friends import coverage, while ``--version``, ``status`` and
``uninstall`` must work in an environment where coverage is not installed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Generic, TypeVar

A = TypeVar("A")

# name -> (module, one-line help shown by 'covhook --help')
COMMANDS: dict[str, tuple[str, str]] = {
    "install": ("install", "install the start-up hook into an environment"),
    "uninstall": ("uninstall", "remove the start-up hook"),
    "status": ("status", "list installed hooks and whether each works"),
    "run": ("run", "run a command with all its Python processes measured"),
    "combine": ("combine", "combine data files and show processes per origin"),
    "report": ("report", "coverage report plus lines per origin"),
    "split": (
        "splits",
        "run a pytest suite as N measured splits in parallel, then one combined report",
    ),
    "docker-args": ("docker_args", "print docker/podman run flags that measure the container"),
    "doctor": ("doctor", "say why processes of a run were not measured, and how to fix it"),
}


# Commands that never make a coverage report: they import coverage.py without its
# reporters (covhook.startup.lean; loaded if anything uses them), a fifth of its
# import time: 15-20 ms of every `covhook combine`.
NO_REPORTS = frozenset({"combine"})


def load(name: str) -> ModuleType:
    """Import the module of command ``name`` (ImportError if a dependency is missing)."""
    if name in NO_REPORTS:
        from covhook.startup import lean

        lean.import_coverage()
    return importlib.import_module(f"covhook.commands.{COMMANDS[name][0]}")


class Typed(Generic[A]):
    """``func`` for a parser: the parsed Namespace made into ``args`` (a NamedTuple), then ``run``.

    Only the NamedTuple's fields are taken from the Namespace, each by its
    name (argparse's ``dest``).
    """

    def __init__(self, args: type[A], run: Callable[[A], int]) -> None:
        self.args = args
        self.run = run

    def __call__(self, namespace: Any) -> int:
        fields: tuple[str, ...] = getattr(self.args, "_fields")  # noqa: B009
        return self.run(self.args(*(getattr(namespace, name) for name in fields)))
