"""The subcommands; each module has ``register(subparsers)`` and sets ``func``.

Adding a command is adding a module here and one entry to ``COMMANDS``.
"""

from __future__ import annotations

from types import ModuleType

from covhook.commands import (
    combine,
    docker_args,
    doctor,
    install,
    report,
    run,
    splits,
    status,
    uninstall,
)

COMMANDS: tuple[ModuleType, ...] = (
    install,
    uninstall,
    status,
    run,
    combine,
    report,
    splits,
    docker_args,
    doctor,
)
