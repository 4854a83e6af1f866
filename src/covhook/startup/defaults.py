"""What covhook changes in the user's coverage settings when it starts coverage.

Only what whole-process-tree measurement needs, and only where the user left
the setting at coverage.py's default:

- ``[run] plugins`` gains ``covhook`` (the origin tagger); the user's plugins stay.
- ``[run] data_file`` and ``[run] context`` get the process's origin tag
  (``covhook.startup.plugin.tag_at_startup``), before ``start()``.
- ``[run] parallel`` is forced on: every process must write its own file, or
  the processes overwrite each other's data.  Except in the root of a tree
  whose config file leaves it off (the process that read
  ``COVERAGE_PROCESS_START``, no measured parent): it writes coverage.py's own
  ``data_file``, as coverage.py would, and a parallel copy
  (:mod:`covhook.startup.rootcopy`); the processes below it are parallel.
- ``[run] omit`` gains covhook's own package: its handlers and saves run while
  coverage measures, and they are not the user's code.
- ``[run] patch``, when empty, becomes ``_exit, execv, subprocess``
  (:func:`covhook.startup.config.effective_patch`, the rule of every start path): save
  before ``os._exit`` (multiprocessing fork children end that way) and before
  ``exec``, and pass the resolved configuration (absolute data file) to child
  processes.  Only patches the installed coverage.py knows (7.10+) are used.
- Signals: covhook saves on SIGTERM, SIGINT and SIGHUP and then does what the
  program would have done (``covhook.startup.signals``); coverage.py's own
  ``[run] sigterm`` is turned off so the two do not both save.  Turn covhook's
  off with ``[covhook] signals = false`` or ``COVHOOK_SIGNALS=0``.
- Atomic data files (``covhook.startup.flush``): coverage.py's working file lives in
  ``<data dir>/.covhook-work/`` and every save is published by copy + rename,
  so a process killed while saving (mpirun SIGKILLs one second after
  SIGTERM) never leaves a file ``combine`` warns about.  Off with
  ``COVHOOK_ATOMIC=0`` or ``[covhook] atomic = false``.
- Periodic flush is opt-in: ``COVHOOK_FLUSH_SECONDS`` or ``[covhook] flush_seconds``.

Not ``fork``: measured on coverage 7.17, ``patch = fork`` restarts coverage in
the child, which loses the lines run after ``fork()`` in the forking frame and
leaves a second file per child (the parent's ``_exit`` patch still saves the
parent's object there).  Without it the child keeps tracing, coverage.py
starts a new data file for the new pid, and each child writes one file.
"""

from __future__ import annotations

import os

from covhook import settings
from covhook.startup.config import effective_patch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from coverage import Coverage

PLUGIN = "covhook"
# The whole covhook package (a trailing "/*" in coverage's globs matches subdirectories too).
OWN_FILES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "*")
SIGNALS_ENV = "COVHOOK_SIGNALS"
ATOMIC_ENV = "COVHOOK_ATOMIC"


def signals_wanted(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> bool:
    """covhook's signal saving is on unless the environment or ``[covhook] signals`` says no."""
    return bool(settings.value("signals", options, environ, problems=[]))


def atomic_wanted(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> bool:
    """Atomic data files (:mod:`.flush`) unless ``COVHOOK_ATOMIC=0`` / ``[covhook] atomic``."""
    return bool(settings.value("atomic", options, environ, problems=[]))


def flush_requested(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> bool:
    """Cheap test (no import of covhook.startup.flush) for COVHOOK_FLUSH_SECONDS / flush_seconds."""
    return bool(settings.raw("flush_seconds", options, environ))


def plugin_options(cov: Coverage) -> dict[str, Any]:
    """The ``[covhook]`` section of the user's configuration (empty if none)."""
    from covhook._compat import plugin_options as options

    return options(cov, PLUGIN)


def apply(cov: Coverage, config_file: str | None, section: Mapping[str, Any] | None = None) -> None:
    """Adjust ``cov``'s configuration before it starts.

    ``config_file`` is the file it was read from (None for a serialized
    config, which already carries covhook's options).  ``section`` is its
    ``[covhook]`` section when start-up already read it (:mod:`.scope`), so
    the file is not parsed a third time.
    """
    import coverage

    plugins = list(cov.get_option("run:plugins") or [])  # type: ignore[arg-type]
    if PLUGIN not in plugins:
        cov.set_option("run:plugins", [*plugins, PLUGIN])
        if config_file:
            if section is None:
                from covhook.startup.config import read_section

                section = read_section(config_file)
            for key, value in section.items():
                cov.set_option(f"{PLUGIN}:{key}", value)
    if not config_file or cov.get_option("run:parallel") or settings.value("parallel"):
        cov.set_option("run:parallel", True)
    # else: the root of the tree keeps coverage.py's own data file (.rootcopy);
    # its patch = subprocess hands its children a config they make parallel.
    # covhook's own code runs after start (signal handlers, saves, flushes):
    # it is not the user's code, so it never appears in their data.
    omit = list(cov.get_option("run:omit") or [])  # type: ignore[arg-type]
    if OWN_FILES not in omit:
        cov.set_option("run:omit", [*omit, OWN_FILES])
    given = list(cov.get_option("run:patch") or [])  # type: ignore[arg-type]
    patches = effective_patch(given, coverage.version_info)
    if patches != given:
        cov.set_option("run:patch", patches)
    options = plugin_options(cov)
    # Once per process: unknown options and bad values are warned here.
    settings.for_process(options)
    if signals_wanted(options):
        cov.set_option("run:sigterm", False)
    # covhook made this Coverage: tag it now instead of in the configurer.
    from covhook.startup.plugin import tag_at_startup

    tag_at_startup(cov, options)


def save_before_exit(save: Callable[[], None]) -> Callable[[], None]:
    """coverage.py's ``patch = _exit`` for a measurement covhook applies it to itself.

    For the recorder, and for a Coverage started before covhook could set its
    ``[run] patch`` (pytest-cov's).  Returns the undo.
    """
    old_exit = os._exit

    def covhook_os_exit_patch(status: int) -> Any:
        try:  # never keep a process from exiting
            _hold_sigterm()
            save()
        except Exception:
            pass
        old_exit(status)

    os._exit = covhook_os_exit_patch
    return _undo("_exit", covhook_os_exit_patch, old_exit)


def _hold_sigterm() -> None:
    """Keep SIGTERM pending while a process that is exiting saves.

    ``multiprocessing.Pool``'s ``terminate()`` (every ``with Pool(...)``)
    sends SIGTERM to workers that are still there, and with
    ``maxtasksperchild`` a worker that finished its task is still there while
    it saves on its way out: killed mid-save, its lines were lost and a
    half-written data file left behind.  The process exits right after the
    save, with the status it chose, so a held SIGTERM changes nothing else.
    Only this thread's mask (the one calling ``os._exit``); SIGINT and
    SIGKILL still end a save that never finishes.
    """
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def save_before_exec(save: Callable[[], None], serialized: str | None) -> Callable[[], None]:
    """coverage.py's ``patch = execv``: save before ``execv``/``execve``; pass the config on.

    Returns the undo.
    """

    def make(name: str, old: Any) -> Any:
        def covhook_execv_patch(*args: Any, **kwargs: Any) -> Any:
            try:
                save()
            except Exception:
                pass
            if name.endswith("e") and serialized:
                args[-1]["COVERAGE_PROCESS_CONFIG"] = serialized
            old(*args, **kwargs)

        return covhook_execv_patch

    old_execv, old_execve = os.execv, os.execve
    os.execv = new_execv = make("execv", old_execv)
    os.execve = new_execve = make("execve", old_execve)
    undo_v = _undo("execv", new_execv, old_execv)
    undo_ve = _undo("execve", new_execve, old_execve)

    def undo() -> None:
        undo_v()
        undo_ve()

    return undo


def _undo(name: str, ours: Any, old: Any) -> Callable[[], None]:
    """Put ``os.<name>`` back, unless someone wrapped it after us (then leave theirs)."""

    def undo() -> None:
        if getattr(os, name) is ours:
            setattr(os, name, old)

    return undo
