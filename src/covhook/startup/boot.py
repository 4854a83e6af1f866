"""Start coverage at interpreter start-up, with covhook's plugin and defaults.

Called by ``a0_covhook.pth`` only when ``COVERAGE_PROCESS_START`` or
``COVERAGE_PROCESS_CONFIG`` is set.  It mirrors ``coverage.process_startup()``
(same variables, same "already started" flag, so coverage's own
``a1_coverage.pth`` stays quiet) and adds: the covhook plugin even when the
user's config does not list it, process-friendly defaults, and one clear line
instead of a traceback when something is wrong.  It never raises.
"""

from __future__ import annotations

import os
import sys

from covhook._warn import warn

# Not typing.TYPE_CHECKING: importing typing (and contextlib) here would cost
# every process the hook reaches, measured or not, milliseconds (issue 9).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Protocol

    from coverage import Coverage

    from covhook.startup.config import Config

    class Measurer(Protocol):
        """What :func:`arm` needs of one process's measurement (issue 24).

        Implemented by :class:`CoverageMeasurer` (coverage.py's ``Coverage``)
        and by ``covhook.startup.recorder.Recorder`` (coverage.py's tracer
        without coverage.py).  Only for the type checker: importing ``typing``
        would cost every measured process.
        """

        @property
        def options(self) -> Mapping[str, Any]:
            """The ``[covhook]`` options this process runs with (set by :meth:`configure`)."""

        @property
        def coverage(self) -> Coverage | None:
            """coverage.py's object, for the steps that reach into it; None for the recorder."""

        def data_dir(self) -> str:
            """The directory this process's data file is written in."""

        def configure(self) -> None:
            """Settle what to measure and where: covhook's defaults, the origin tag."""

        def begin(self) -> None:
            """Start measuring (and saving at exit)."""

        def route_saves(self, save: Callable[[], None]) -> Callable[[], None]:
            """Make every save of this measurement call ``save``; return the original save."""

        def publish(self) -> None:
            """After the signal handlers: atomic publishing, the root copy, the periodic flush."""

        def remember(self) -> None:
            """Last: keep what the recorder's next start can reuse (the config cache)."""


_attempted = False
_deferred = False  # issue 9: skipped, or waiting for in-scope code (covhook.startup.lazy)
# This process's configuration (covhook.startup.config), read once by start().
_config: Config | None = None


def disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """The table's ``disable`` flag (``COVHOOK_DISABLE``), read without loading the table.

    Every process the hook reaches asks this first; one that then waits or is
    out of scope never imports :mod:`covhook.settings`.  tests/test_settings.py
    checks that both answer alike.
    """
    return environ.get("COVHOOK_DISABLE", "") not in ("", "0")


def _in_subinterpreter() -> bool:
    """A subinterpreter (``concurrent.interpreters``, 3.14+): covhook steps aside there.

    It cannot load coverage's C tracer nor set signal handlers, and with
    ``COVERAGE_CORE=ctrace`` ``import coverage`` exits; coverage.py's own hook
    does there what it does without covhook.  ``_thread._is_main_interpreter``
    (CPython 3.12-3.15; 3.11 has none and is taken as a main interpreter) is
    asked here, not through ``_compat``: every process the hook reaches asks.
    """
    import _thread

    check = getattr(_thread, "_is_main_interpreter", None)
    try:
        return check is not None and not check()
    except Exception:
        return False


def start() -> Measurer | None:
    """Start coverage once for this process; return it, or None if not started."""
    global _deferred
    if _attempted or _deferred or disabled() or _in_subinterpreter():
        return None
    # --- issue 9: scoped lazy start (covhook.startup.scope decides, covhook.startup.lazy waits) ---
    from covhook.startup import scope

    plan, found, why = scope.decide(config=process_config())
    if found is not None and plan != scope.EAGER:
        from covhook.startup import lazy

        _deferred = True
        lazy.quiet_coverage_hook()  # coverage's own .pth must not start it either
        if plan == scope.SKIP:
            scope.note_skipped(found, why)
        else:
            lazy.install(found, start_now)
        return None
    # --- end issue 9 ---
    return start_now(in_site=True)


def start_now(in_site: bool = False) -> Measurer | None:
    """Start coverage in this process now (once); see :func:`start`.

    ``in_site``: called while ``site`` runs ``.pth`` files (coverage's own
    ``a1_coverage.pth`` still to come), not later by :mod:`covhook.lazy`.
    """
    global _attempted
    if _attempted or disabled():
        return None
    _attempted = True
    from covhook.startup import recorder  # issue 9: coverage's C tracer without coverage.py

    rec = recorder.prepare(process_config())
    if _debug():
        from covhook.startup import which  # issue 21: say which path measures, and why

        which.debug_line(which.RECORDER if rec is not None else _full_path())
    if rec is not None:
        if in_site:
            from covhook.startup import lazy

            lazy.quiet_coverage_hook()  # coverage's own .pth must not start a second one
        try:
            ensure_writable_dir(rec.data_file)
            arm(rec)
            return rec
        except Exception as exc:
            rec.stop()
            warn(f"coverage is off in this process: {describe(exc)}", fix_for(exc))
            return None
    try:
        from covhook.startup.lean import import_coverage  # issue 9: without the reporters

        coverage = import_coverage()
    except SystemExit as exc:  # coverage.core's for a core it cannot load: not the program's end
        warn(
            f"coverage is off in this process: importing coverage exited ({exc.code!r})",
            "check COVERAGE_CORE and the coverage installation with 'covhook doctor'",
        )
        return None
    except ImportError as exc:
        warn(
            f"coverage is off in this process: cannot import coverage ({exc})",
            f"pip install coverage into {sys.prefix}, or unset COVERAGE_PROCESS_START",
        )
        return None
    from covhook import _compat

    if _compat.startup_attempted(coverage):
        return None  # something already started (or refused) coverage here
    try:
        from covhook.startup import full  # coverage.py's Coverage as a Measurer

        measurer = full.start(coverage)
    except Exception as exc:
        _compat.set_startup_coverage(coverage, None)  # keep a1_coverage.pth quiet
        warn(f"coverage is off in this process: {describe(exc)}", fix_for(exc))
        return None
    return measurer


def process_config() -> Config:
    """This process's configuration, read once (:mod:`covhook.startup.config`)."""
    global _config
    if _config is None:
        from covhook.startup import config

        _config = config.read()
    return _config


def _debug() -> bool:
    """``COVHOOK_DEBUG`` (the settings table's ``debug`` flag), read without loading the table."""
    return os.environ.get("COVHOOK_DEBUG", "") not in ("", "0")


def _full_path() -> str:
    from covhook.startup import lean, which

    return which.LEAN if lean.wanted() else which.COVERAGE


# The measurement this process armed (one per process): tests/test_start_paths.py
# checks every start path gets here.
armed: Measurer | None = None


def arm(measurer: Measurer) -> None:
    """The one start sequence, the same for coverage.py and covhook's recorder (issue 24).

    The order matters: the origin tag before the start (it names the data
    file); saves guarded before any handler can save; the signal handlers
    before anything that may fork or start children; the config remembered
    only once everything worked.  A step that raises stops the sequence: the
    caller turns it into one line and the process runs unmeasured.
    """
    global armed
    from covhook.startup import children, defaults, pickled_code, signals

    measurer.configure()
    measurer.begin()
    signals.guard_saves(measurer)
    if defaults.signals_wanted(measurer.options):
        signals.install(measurer)
    measurer.publish()
    children.install(measurer.data_dir(), measurer.options)
    pickled_code.install()
    measurer.remember()
    armed = measurer


class MissingConfig(Exception):
    """COVERAGE_PROCESS_START names a file that is not there."""


class UnwritableDataDir(Exception):
    """The data file's directory cannot be created or written."""


def ensure_writable_dir(data_file: str) -> None:
    """Raise UnwritableDataDir unless the data file's directory is (or can be made) writable."""
    directory = os.path.dirname(os.path.abspath(data_file))
    probe = directory
    while not os.path.isdir(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UnwritableDataDir(directory)


def describe(exc: BaseException) -> str:
    """What went wrong, in words."""
    if isinstance(exc, MissingConfig):
        return f"COVERAGE_PROCESS_START={exc.args[0]!r} is not a file"
    if isinstance(exc, UnwritableDataDir):
        return f"cannot write coverage data in {exc.args[0]} (permission denied)"
    return f"coverage failed to start: {type(exc).__name__}: {exc}"


def fix_for(exc: BaseException) -> str:
    """How to make the problem go away."""
    if isinstance(exc, MissingConfig):
        return "point COVERAGE_PROCESS_START at your .coveragerc or pyproject.toml, or unset it"
    if isinstance(exc, UnwritableDataDir):
        return "make that directory writable, or set [run] data_file / COVERAGE_FILE elsewhere"
    name = type(exc).__name__
    path = os.environ.get("COVERAGE_PROCESS_START")
    debug = f"coverage debug config --rcfile={path}" if path else "coverage debug config"
    if name == "ConfigError":
        where = path or "your coverage config"
        return f"correct {where} (try '{debug}'), or unset COVERAGE_PROCESS_START"
    if name == "PluginError" or "plugin" in str(exc).lower():
        return "fix or remove the failing plugin in [run] plugins"
    return f"check the coverage configuration with '{debug}', or set COVHOOK_DISABLE=1"
