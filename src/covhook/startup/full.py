"""coverage.py's ``Coverage`` as covhook's ``Measurer``: the full start (issue 24).

:func:`covhook.startup.boot.start_now` comes here when the lean recorder
cannot measure the process: coverage.py is imported
(:mod:`covhook.startup.lean`), its ``Coverage`` is made from the process's
config, and :class:`CoverageMeasurer` gives :func:`covhook.startup.boot.arm`
the steps covhook adds around coverage.py's own start.  Only this path loads
this module: every other process the hook reaches skips its code.
"""

from __future__ import annotations

import os

from covhook.startup.boot import MissingConfig, arm, ensure_writable_dir, process_config

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing costs every measured process
if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager
    from types import ModuleType
    from typing import Any

    from coverage import Coverage

    from covhook.startup.config import Config


def config_source(coverage: ModuleType, found: Config) -> tuple[str, str | None]:
    """The ``config_file`` argument process_startup() would use, and the file's path.

    The path is None when the config comes serialized in COVERAGE_PROCESS_CONFIG
    (set by a measured parent's ``patch = subprocess``), which takes precedence.
    """
    from covhook._compat import config_data_prefix

    prefix = config_data_prefix(coverage)
    if found.serialized and prefix:
        return f"{prefix}{found.serialized}", None
    path = found.config_file or ""
    return path, path


def start(coverage: ModuleType) -> CoverageMeasurer:
    """Make coverage.py's ``Coverage`` from this process's config and arm it; raise on failure."""
    found = process_config()
    source, path = config_source(coverage, found)
    if path is not None and not os.path.isfile(path):
        raise MissingConfig(path)
    measurer = CoverageMeasurer(coverage, coverage.Coverage(config_file=source), path, found)
    arm(measurer)
    return measurer


class CoverageMeasurer:
    """coverage.py's ``Coverage`` as a ``boot.Measurer``: what covhook adds to its start."""

    def __init__(self, coverage: ModuleType, cov: Coverage, path: str | None, found: Config):
        self.module = coverage
        self.cov = cov
        self.path = path  # the config file read (None: serialized by a parent)
        self.found = found
        self.options: dict[str, Any] = {}
        self.root = False  # coverage.py's own data file: written in place, as it would
        self.atomic = False
        self.seconds: float | None = None

    @property
    def coverage(self) -> Coverage:
        return self.cov

    def data_dir(self) -> str:
        return os.path.dirname(os.path.abspath(str(self.cov.get_option("run:data_file"))))

    def configure(self) -> None:
        from covhook import _compat
        from covhook.startup import defaults, rootcopy

        cov, found = self.cov, self.found
        # The [covhook] section start-up already read (None: it could not, read it again).
        defaults.apply(cov, self.path, found.options if found.values is not None else None)
        ensure_writable_dir(str(cov.get_option("run:data_file")))
        _compat.set_startup_coverage(self.module, cov)
        # The same switches coverage.control._start_process_coverage sets.
        _compat.quiet_process_warnings(cov)
        # Our .pth is installed; coverage 7.10-7.12 would write another one.
        _compat.no_pth_file(cov)
        self.options = defaults.plugin_options(cov)
        self.root = rootcopy.is_root(cov)
        self.atomic = defaults.atomic_wanted(self.options) and not self.root
        if self.atomic or defaults.flush_requested(self.options):
            from covhook.startup import flush

            self.seconds = flush.interval(self.options)
            flush.prepare()

    def begin(self) -> None:
        from covhook import _compat

        cov = self.cov
        try:
            with cheap_short_stack():
                if self.atomic:
                    from covhook.startup import flush

                    with flush.staged():
                        cov.start()
                else:
                    cov.start()
        except BaseException:
            _compat.set_auto_save(cov, False)
            raise
        _compat.set_auto_save(cov, True)

    def route_saves(self, save: Callable[[], None]) -> Callable[[], None]:
        original = self.cov.save
        self.cov.save = save  # type: ignore[method-assign]  # coverage's atexit calls it
        return original

    def publish(self) -> None:
        if self.atomic:
            from covhook.startup import flush

            flush.publish_from(self.cov)
        if self.root:
            from covhook.startup import rootcopy

            rootcopy.attach(self.cov, self.options)
        if self.seconds is not None:
            from covhook.startup import flush

            flush.start(self.cov, self.seconds)

    def remember(self) -> None:
        if self.path:
            from covhook import _compat
            from covhook.startup import config

            config.remember(_compat.config_serialized(self.cov), self.path)


def cheap_short_stack() -> AbstractContextManager[None]:
    """Around ``cov.start()``: record the starting stack without reading source files.

    coverage.py's ``Collector`` keeps ``short_stack()`` (only printed when two
    collectors clash); that calls ``inspect.stack()``, which reads every
    frame's source and scans ``sys.modules``: about 10 ms of every process's
    start-up, the largest single cost after ``import coverage``.  The same
    summary from the frames alone costs microseconds.
    """
    from covhook._compat import swapped_short_stack

    return swapped_short_stack(_short_stack)


def _short_stack(*_args: Any, **_kwargs: Any) -> str:
    """``coverage.debug.short_stack``'s format (outermost first), from frames only."""
    lines = []
    from covhook._compat import caller_frame

    frame = caller_frame(1)
    while frame is not None:
        code = frame.f_code
        lines.append(f"{code.co_name:>30s} : {code.co_filename}:{frame.f_lineno}")
        frame = frame.f_back  # type: ignore[assignment]
    return "\n".join(reversed(lines))
