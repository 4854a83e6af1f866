"""What covhook changes in the user's coverage settings when it starts coverage.

Only what whole-process-tree measurement needs, and only where the user left
the setting at coverage.py's default:

- ``[run] plugins`` gains ``covhook`` (the origin tagger); the user's plugins stay.
- ``[run] parallel`` is forced on: every process must write its own file, or
  the processes overwrite each other's data.
- ``[run] patch``, when empty, becomes ``_exit, execv, subprocess``: save
  before ``os._exit`` (multiprocessing fork children end that way) and before
  ``exec``, and pass the resolved configuration (absolute data file) to child
  processes.

Not ``fork``: measured on coverage 7.17, ``patch = fork`` restarts coverage in
the child, which loses the lines run after ``fork()`` in the forking frame and
leaves a second file per child (the parent's ``_exit`` patch still saves the
parent's object there).  Without it the child keeps tracing, coverage.py
starts a new data file for the new pid, and each child writes one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coverage import Coverage

PLUGIN = "covhook"
DEFAULT_PATCHES = ("_exit", "execv", "subprocess")


def apply(cov: Coverage, config_file: str | None) -> None:
    """Adjust ``cov``'s configuration before it starts.

    ``config_file`` is the file it was read from (None for a serialized
    config, which already carries covhook's options).
    """
    plugins = list(cov.get_option("run:plugins") or [])  # type: ignore[arg-type]
    if PLUGIN not in plugins:
        cov.set_option("run:plugins", [*plugins, PLUGIN])
        if config_file:
            from covhook.options import read_section

            for key, value in read_section(config_file).items():
                cov.set_option(f"{PLUGIN}:{key}", value)
    cov.set_option("run:parallel", True)
    if not cov.get_option("run:patch"):
        cov.set_option("run:patch", list(DEFAULT_PATCHES))
