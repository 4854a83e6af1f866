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
from typing import Any, Generic, TypeVar, get_type_hints

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
    name (argparse's ``dest``).  A field that is a NamedTuple itself (the
    report options ``covhook report`` and ``covhook run`` share) is made the
    same way from the same Namespace: options added by one function are
    declared once.
    """

    def __init__(self, args: type[A], run: Callable[[A], int]) -> None:
        self.args = args
        self.run = run

    def __call__(self, namespace: Any) -> int:
        return self.run(self.make(namespace))

    def make(self, namespace: Any) -> A:
        """The typed arguments from argparse's Namespace."""
        return _from_namespace(self.args, namespace)

    def option_names(self) -> set[str]:
        """Every Namespace name the arguments take (those of nested NamedTuples included)."""
        return _option_names(self.args)


def _parts(cls: type) -> list[tuple[str, type | None]]:
    """``cls``'s fields, each with the NamedTuple it is made of (None: a plain option)."""
    hints = get_type_hints(cls)
    fields: tuple[str, ...] = getattr(cls, "_fields")  # noqa: B009
    parts: list[tuple[str, type | None]] = []
    for name in fields:
        hint = hints.get(name)
        nested = isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")
        parts.append((name, hint if nested else None))
    return parts


def _from_namespace(cls: type[A], namespace: Any) -> A:
    return cls(
        *(
            getattr(namespace, name) if nested is None else _from_namespace(nested, namespace)
            for name, nested in _parts(cls)
        )
    )


def _option_names(cls: type) -> set[str]:
    names: set[str] = set()
    for name, nested in _parts(cls):
        names |= {name} if nested is None else _option_names(nested)
    return names
