"""Every private name of coverage.py, CPython and pytest-cov that covhook touches.

Nothing else in covhook reaches into another project's internals: it calls
the functions here (tests/test_compat.py scans the source for private names
used elsewhere; the few left, each with its reason, are listed there).  Each
entry says which versions it was checked on and what breaks without it;
``tests/test_compat.py`` asserts every assumed name
still exists (run on each cell of the version matrix, scripts/matrix.sh), so
a coverage.py or Python release that drops one fails loudly there instead of
quietly measuring nothing in the field.

Checked on coverage.py 7.10.4, 7.13.5, 7.17.3, 7.17.5 and 7.18.0; CPython
3.11, 3.12, 3.13, 3.14 and 3.15 (coverage 7.18.0 on 3.14 and 3.15, both
cores); pytest-cov 7.1.0.

This module runs at start-up in every measured process: it imports nothing
beyond ``os`` and ``sys`` at module level (``contextlib`` only when a context
manager here is first used: it brings ``collections`` and ``functools``, 2 ms
of a process that does not need them, issue 21).
"""

from __future__ import annotations

import os
import sys

# Not typing.TYPE_CHECKING, and no ``re`` at module level: every measured
# process imports this module (issue 9: typing and re cost milliseconds).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager
    from types import FrameType, ModuleType
    from typing import Any, ParamSpec, TypeVar

    _P = ParamSpec("_P")
    _T = TypeVar("_T")

    from coverage import Coverage

COVERAGE_CHECKED = ("7.10.4", "7.13.5", "7.17.3", "7.17.5", "7.18.0")
PYTHON_CHECKED = ("3.11", "3.12", "3.13", "3.14", "3.15")
PYTEST_COV_CHECKED = ("7.1.0",)

# -- coverage.py: the Coverage object -------------------------------------------
# ``Coverage._warn_no_data``, ``_warn_unimported_source``,
# ``_warn_preimported_source`` (7.10.4-7.18.0): the switches
# ``coverage.control._start_process_coverage`` turns off.  Without them every
# child that imports none of ``[run] source`` prints "No data was collected"
# or "Module ... was never imported".
PROCESS_WARNINGS = ("_warn_no_data", "_warn_unimported_source", "_warn_preimported_source")


def _contextmanager(func: Callable[_P, Iterator[_T]]) -> Callable[_P, AbstractContextManager[_T]]:
    """``contextlib.contextmanager``, with ``contextlib`` imported at the first call."""

    def call(*args: _P.args, **kwargs: _P.kwargs) -> AbstractContextManager[_T]:
        import contextlib

        return contextlib.contextmanager(func)(*args, **kwargs)

    call.__doc__ = func.__doc__
    return call


def quiet_process_warnings(cov: Coverage) -> None:
    """The warnings ``coverage.process_startup()`` turns off in a started process."""
    for name in PROCESS_WARNINGS:
        setattr(cov, name, False)


@_contextmanager
def no_data_warning_off(cov: Coverage) -> Iterator[None]:
    """Around ``get_data()`` of a Coverage that may have measured nothing yet."""
    quiet = cov._warn_no_data
    cov._warn_no_data = False
    try:
        yield
    finally:
        cov._warn_no_data = quiet


# ``Coverage._make_pth_file`` (7.10.x-7.12.x only; gone in 7.13.5, 7.17.x):
# without it, ``patch = subprocess`` writes coverage's own .pth into
# site-packages beside ours on those versions.
def no_pth_file(cov: Coverage) -> None:
    """Tell coverage 7.10-7.12 not to write its own .pth (ours is installed)."""
    cov._make_pth_file = False  # type: ignore[attr-defined]


# ``Coverage._auto_save`` (7.10.4-7.18.0): whether the atexit handler saves.
# Without it a process whose start failed would try to save at exit, and one
# that started would not (process_startup sets it the same way).
def set_auto_save(cov: Coverage, on: bool) -> None:
    """Whether coverage.py saves ``cov`` at exit."""
    cov._auto_save = on


# ``Coverage._atexit`` (7.10.4-7.18.0): the bound method ``start()`` registers
# with ``atexit`` (its exit save).  covhook.startup.signals runs it with the
# program's signals held: a handler that raises (gunicorn's worker calls
# ``sys.exit`` on SIGINT/SIGQUIT) in the middle of it lost the save.  Without
# it coverage.py's own exit handler runs as it is (the race stays).
def wrap_atexit(cov: Coverage, wrapper: Callable[[Callable[[], None]], None]) -> bool:
    """Run ``wrapper(cov._atexit)`` at exit instead of ``cov._atexit``; False if not found."""
    import atexit

    original = getattr(cov, "_atexit", None)
    if not callable(original):
        return False
    atexit.unregister(original)
    atexit.register(wrapper, original)
    return True


# ``Coverage._started`` (7.10.4-7.18.0): whether this object is measuring
# now.  ``Coverage.current()`` is public but also returns a stopped object;
# without the flag the pytest plugin would activate for a combine-only object.
def is_started(cov: Coverage) -> bool:
    """``cov`` is measuring (started and not stopped)."""
    return bool(getattr(cov, "_started", False))


# ``Coverage._data`` (7.10.4-7.18.0): the CoverageData being written, created
# by ``start()``.  Without it atomic data files cannot find the working file.
def coverage_data(cov: Coverage | None) -> Any:
    """The CoverageData ``cov`` writes, or None before ``start()``."""
    return getattr(cov, "_data", None)


# ``Coverage._collector`` and its ``data_lock``, ``tracers``, ``lock_data`` /
# ``unlock_data`` (7.10.4-7.18.0): covhook.startup.datalock gives the tracers the
# lock's C methods, so no signal handler can run while the lock is held.
# Without them a save from a signal handler can deadlock (7.10-7.17.3; 7.17.5
# binds the C methods itself).
def collector_of(cov: Coverage) -> Any:
    """The Collector of a started Coverage, or None."""
    return getattr(cov, "_collector", None)


# ``Collector.switch_context`` and ``Collector.static_context`` (7.10.4-7.17.5):
# a fork child of pytest switches to ``<origin>|<test>|<phase>`` (issue 22).
# ``Coverage.switch_context`` is public but warns "Conflicting dynamic
# contexts" under ``dynamic_context = test_function``.  Without them a fork
# child of pytest keeps pytest's own context (the test still shows, the
# origin not).
def switch_collector_context(cov: Coverage, context: str) -> bool:
    """Make ``context`` the static context of what ``cov`` records from now on."""
    collector = collector_of(cov)
    switch = getattr(collector, "switch_context", None)
    if switch is None or not hasattr(collector, "static_context"):
        return False
    collector.static_context = context
    switch(None)
    return True


def data_lock(collector: Any) -> Any:
    """The collector's ``threading.Lock`` around its data, or None."""
    return getattr(collector, "data_lock", None)


def set_data_lock(collector: Any, lock: Any) -> None:
    """Replace the collector's data lock (a forked child's must be free)."""
    collector.data_lock = lock


def bind_data_lock(collector: Any, acquire: Any, release: Any) -> None:
    """What the collector (for tracers started later) and its tracers lock data with."""
    collector.lock_data = acquire
    collector.unlock_data = release
    for tracer in list(getattr(collector, "tracers", ())):
        try:
            tracer.lock_data = acquire
            tracer.unlock_data = release
        except (AttributeError, TypeError):
            pass


def wrap_clear_data(
    collector: Any, wrap: Callable[[Callable[[], None]], Callable[[], None]]
) -> bool:
    """Replace ``Collector._clear_data`` with ``wrap(original)``; False where there is none."""
    original = getattr(collector, "_clear_data", None)
    if original is None:
        return False
    collector._clear_data = wrap(original)
    return True


# ``Coverage._collector`` and ``Collector._clear_data`` (7.10.4-7.17.3): the
# periodic flush keeps the traced lines in memory after a save; without it a
# line traced while a background save runs is lost.  coverage 7.17.5 removed
# ``_clear_data``: its ``flush_data`` snapshots and removes only the saved
# lines, so the race is gone there and nothing needs replacing.
def collector_clears_all_after_flush() -> bool:
    """This coverage.py clears every traced line after a flush (``_clear_data``)."""
    from coverage.collector import Collector

    return hasattr(Collector, "_clear_data")


def keep_collected_data(cov: Coverage, keep: Callable[[], None]) -> bool:
    """Replace the collector's ``_clear_data`` with ``keep``; False if there is none."""
    collector: Any = getattr(cov, "_collector", None)
    if collector is None:
        return False
    collector._clear_data = keep
    return True


# ``coverage.process_startup.coverage`` (7.10.4-7.18.0): the "already
# started (or refused)" flag process_startup() sets on itself.  Setting it
# keeps coverage's own a1_coverage.pth (7.13+) from starting a second
# Coverage; reading it tells whether the start-up hook started ``cov``.
_NOT_SET = object()


def startup_coverage(coverage: ModuleType, default: Any = None) -> Any:
    """The Coverage process_startup() recorded, or ``default`` if it has run nowhere."""
    return getattr(coverage.process_startup, "coverage", default)


def startup_attempted(coverage: ModuleType) -> bool:
    """process_startup() (or covhook's start-up) already ran in this process."""
    return startup_coverage(coverage, _NOT_SET) is not _NOT_SET


def set_startup_coverage(coverage: ModuleType, cov: Coverage | None) -> None:
    """Record ``cov`` (None: refused) as this process's start-up Coverage."""
    coverage.process_startup.coverage = cov


# ``coverage.control.CONFIG_DATA_PREFIX`` (":data:", 7.10.4-7.18.0): how
# ``COVERAGE_PROCESS_CONFIG`` is passed as ``config_file``.  Without it a
# child of ``patch = subprocess`` cannot read its parent's configuration.
def config_data_prefix(coverage: ModuleType) -> str | None:
    """The ``config_file`` prefix that marks a serialized configuration, if any."""
    control = getattr(coverage, "control", None)
    return getattr(control, "CONFIG_DATA_PREFIX", None)


# ``CoverageConfig.serialize()`` (7.10.4-7.18.0; what ``patch = subprocess``
# puts in COVERAGE_PROCESS_CONFIG) and ``CoverageConfig.get_plugin_options()``
# (a plugin's section).  ``Coverage.config`` itself is not documented.
def serialized_config(cov: Coverage, data_file: str, drop_context: str | None) -> str:
    """``cov``'s configuration as COVERAGE_PROCESS_CONFIG text, with ``data_file``.

    A ``config_file`` of None (pytest-cov without a config file) becomes '':
    coverage's ``patch = subprocess`` asserts it is set in the child, and an
    empty name is never read.  The context is dropped when it is ``drop_context``.
    """
    import copy

    config = copy.copy(cov.config)
    if config.config_file is None:
        config.config_file = ""
    config.data_file = data_file
    if drop_context is not None and config.context == drop_context:
        config.context = None
    return str(config.serialize())


def plugin_options(cov: Coverage, plugin: str) -> dict[str, Any]:
    """The options of ``plugin``'s section in ``cov``'s configuration (empty if none)."""
    try:
        return dict(cov.config.get_plugin_options(plugin))
    except Exception:
        return {}


# ``coverage.collector.short_stack`` (7.10.4-7.18.0): ``Collector.__init__``
# records ``short_stack()`` (inspect.stack(), ~10 ms) as its origin, printed
# only when two collectors clash.  Without the swap every measured process
# starts ~10 ms slower; nothing else changes.
@_contextmanager
def swapped_short_stack(replacement: Callable[..., str]) -> Iterator[None]:
    """Around ``cov.start()``: ``replacement`` instead of coverage's short_stack."""
    module = sys.modules.get("coverage.collector")
    original = getattr(module, "short_stack", None)
    if module is None or original is None:
        yield
        return
    module.short_stack = replacement  # type: ignore[attr-defined]
    try:
        yield
    finally:
        module.short_stack = original  # type: ignore[attr-defined]


# -- coverage.py: CoverageData (coverage.sqldata) --------------------------------
# ``CoverageData._choose_filename`` and its ``_basename``, ``_filename``,
# ``_no_disk`` attributes (7.10.4-7.18.0): atomic data files choose the
# working file's name in ``.covhook-work/``.  Without them a process killed
# while coverage creates its file leaves a half-made file combine warns about.
@_contextmanager
def after_choose_filename(hook: Callable[[Any], None]) -> Iterator[None]:
    """Within: ``hook(data)`` runs right after coverage.py names an on-disk CoverageData's file."""
    try:
        from coverage.sqldata import CoverageData
    except ImportError:
        yield
        return
    original = CoverageData._choose_filename

    def choose(self: Any) -> None:
        original(self)
        if not getattr(self, "_no_disk", False):
            hook(self)

    CoverageData._choose_filename = choose  # type: ignore[method-assign]
    try:
        yield
    finally:
        CoverageData._choose_filename = original  # type: ignore[method-assign]


def data_basename(data: Any) -> str:
    """The name a CoverageData derives its files from (``_basename``; a fork's too)."""
    return str(getattr(data, "_basename", "") or "")


def data_filename(data: Any) -> str:
    """The file a CoverageData writes (``_filename``), or '' if it has none."""
    return str(getattr(data, "_filename", "") or "")


def move_data_file(data: Any, directory: str) -> None:
    """Make ``data`` write (and a forked child derive its file) in ``directory``."""
    data._basename = os.path.join(directory, os.path.basename(data._basename))
    data._filename = os.path.join(directory, os.path.basename(data._filename))


def reset_data(data: Any) -> None:
    """Close a CoverageData's connections (``_reset``) so its file can change."""
    data._reset()


@_contextmanager
def data_files_in(subdir: str) -> Iterator[None]:
    """Within: every on-disk CoverageData coverage.py creates lives in ``<its dir>/subdir``."""

    def move(data: Any) -> None:
        work = os.path.join(os.path.dirname(os.path.abspath(data_basename(data))), subdir)
        os.makedirs(work, exist_ok=True)
        move_data_file(data, work)

    with after_choose_filename(move):
        yield


# ``coverage.results.should_fail_under`` (7.10.4-7.18.0): coverage's own
# rounding for ``fail_under``.  Without it ``covhook split`` could pass a
# total that ``coverage report --fail-under`` fails (or the reverse).
def should_fail_under(total: float, fail_under: float, precision: int) -> bool:
    """coverage.py's verdict for ``fail_under``."""
    from coverage.results import should_fail_under as verdict

    return bool(verdict(total, fail_under, precision))


# ``coverage.sqldata.SCHEMA`` and ``SCHEMA_VERSION`` (7.10.4-7.18.0: schema 7):
# the data file's tables.  covhook's fast combine writes its result with them,
# so the file is coverage's own format; without them it could not write one.
def data_schema() -> tuple[str, int]:
    """coverage's data file schema (SQL) and its version number."""
    from coverage.sqldata import SCHEMA, SCHEMA_VERSION

    return str(SCHEMA), int(SCHEMA_VERSION)


# ``coverage.data.hash_for_data_file`` (7.13.1-7.18.0): what combine's dedupe
# (``DataFileClassifier``) keys a file by: the data hash in the file name, or
# the file's sha3-256.  7.10-7.13.0 have no such function: their combine skips
# a file whose bytes' sha3-256 it has seen.  Without it covhook's combine would
# count duplicate data twice (harmless to the union), delete differently from
# ``coverage combine``, and could not tell which inputs a combined file holds.
def data_hash(filename: str) -> str:
    """The key coverage's combine dedupes ``filename`` by; OSError if unreadable."""
    try:
        from coverage.data import hash_for_data_file
    except ImportError:
        import hashlib

        with open(filename, "rb") as fobj:
            return hashlib.new("sha3_256", fobj.read(), usedforsecurity=False).hexdigest()
    return str(hash_for_data_file(filename))


# ``CoverageData.update``'s ``map_with_fixed_slashes`` (7.17.x; not in
# 7.10.4-7.13.5): after ``[paths]`` mapping, every ``/`` or ``\`` of a path
# becomes ``os.sep``.  Read from the installed coverage's source, so covhook's
# combine writes the paths this coverage's combine would.
def combine_fixes_separators() -> bool:
    """Whether this coverage's combine makes every separator ``os.sep``."""
    import coverage.sqldata

    try:
        with open(coverage.sqldata.__file__, encoding="utf-8") as f:
            return "map_with_fixed_slashes" in f.read()
    except OSError:
        return True


# ``coverage.report_core.get_analysis_to_report`` (7.10.4-7.18.0): the files a
# report shows (``[report] include/omit`` applied) with their analysis.
# Without it the per-origin table could not count what ``coverage report`` counts.
def analysis_to_report(cov: Coverage) -> Iterator[tuple[Any, Any]]:
    """(file reporter, analysis) for each file ``coverage report`` would show."""
    from coverage.report_core import get_analysis_to_report

    yield from get_analysis_to_report(cov, None)


# ``coverage.results.format_fail_under_msg`` (7.13+; 7.10-7.12 build the text
# in cmdline with ``display_covered``): the "total of X is less than
# fail-under=Y" message ``coverage report`` prints.
def fail_under_message(total: float, fail_under: float, precision: int) -> str:
    """coverage's words for a total under ``fail_under``."""
    from coverage import results

    message = getattr(results, "format_fail_under_msg", None)
    if message is not None:
        return str(message(total, fail_under, precision))
    shown = results.display_covered(total, precision)
    return f"total of {shown} is less than fail-under={fail_under:.{precision}f}"


# The parallel data file suffix (``coverage.data.filename_suffix``,
# 7.10.4-7.18.0): ``.<host>.pid<N>.X<6 chars>x``, plus ``.H<10 chars>h`` (the
# data hash) since 7.13.1.  The host is ``socket.gethostname()``, dots and all
# (``build7.example.com``).  Without it covhook cannot read the origin tag and
# pid out of a data file name.
DATA_SUFFIX_PATTERN = r"\.(?P<host>.+)\.(?:pid)?(?P<pid>\d+)\.X\w{6}x(?:\.H\w{10}h)?$"


def parallel_suffix() -> str:
    """This process's parallel data file suffix, as coverage.py makes it (no leading dot).

    ``coverage.sqldata.filename_suffix(True)`` (7.10.4-7.17.5, see below):
    covhook.startup.rootcopy names its copy of a root's data with it, so that
    ``coverage combine`` picks it up like any parallel file.
    """
    from coverage.sqldata import filename_suffix

    return str(filename_suffix(True))


if TYPE_CHECKING:
    DATA_SUFFIX_RE: re.Pattern[str]
else:

    def __getattr__(name: str) -> re.Pattern[str]:
        """``DATA_SUFFIX_RE``, compiled on first use (no ``re`` at start-up)."""
        if name == "DATA_SUFFIX_RE":
            import re

            compiled = re.compile(DATA_SUFFIX_PATTERN)
            globals()[name] = compiled
            return compiled
        raise AttributeError(name)


# -- CPython ---------------------------------------------------------------------
# ``sys._getframe`` (CPython 3.11-3.13): walking the caller's frames without
# inspect (which reads source files).  Without it the start-up stack summary
# and the configurer's "is coverage starting?" check would cost milliseconds.
def caller_frame(depth: int = 1) -> FrameType:
    """The frame ``depth`` levels above the caller."""
    return sys._getframe(depth + 1)


# ``_imp.lock_held()`` (CPython 3.11-3.13): whether any thread holds the
# global import lock.  covhook.startup.signals' wakeup thread asks it before
# saving for a signal: a save that imports while the interrupted main thread
# holds that lock would wait for ever.  Without it a SIGTERM arriving during
# an import could hang the dying process.
def import_lock_held() -> bool:
    """Whether a thread holds the import lock (no import here: ``_imp`` is builtin)."""
    return bool(sys.modules["_imp"].lock_held())


# ``_imp.extension_suffixes()`` (CPython 3.11-3.15; what
# ``importlib.machinery.EXTENSION_SUFFIXES`` is made of): the recorder's file
# rules (covhook.startup.sources_match) name modules as ``inspect.getmodulename``
# does without importing importlib.machinery in every measured process.
# Without it, only ``.py``/``.pyc`` module names are known.
def extension_suffixes() -> list[str]:
    """The C extension suffixes this interpreter imports (``.cpython-311-x86_64-linux-gnu.so``)."""
    try:
        import _imp

        return list(_imp.extension_suffixes())
    except Exception:
        return []


# ``_json.make_scanner(context)`` (CPython 3.11-3.15; the C scanner behind
# ``json.loads``, reading ``strict``, ``array_hook`` (3.15), ``object_hook``, ``object_pairs_hook``,
# ``parse_float``, ``parse_int``, ``parse_constant`` and ``memo`` from the
# decoder it is given): covhook.startup.config decodes the parent's serialized
# config with it, because ``import json`` imports ``re`` (milliseconds in every
# measured process, issue 9).  Without it the config is read the slow way.
def json_scanner() -> Callable[[str, int], tuple[Any, int]]:
    """``json.loads``' C scanner, without importing ``json`` (raises if it is gone)."""
    import _json

    return _json.make_scanner(_JsonContext())  # type: ignore[arg-type]


class _JsonContext:
    """What ``_json.make_scanner`` reads from ``json.JSONDecoder`` (no ``re`` import)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    array_hook = None  # read by 3.15's scanner (issue 21: without it 3.15 never records)
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict[str, str] = {}  # noqa: RUF012


# ``_socket`` (CPython 3.11-3.13): the C module under ``socket``.
# covhook.startup.sigwake makes its signal wakeup socket pair with it: ``import
# socket`` costs milliseconds (enum, selectors) in every measured process.
# Without it, the wakeup thread falls back to ``socket`` (slower start-up).
def c_socket() -> ModuleType:
    """The ``_socket`` C module (``socket``'s, with the same constructors)."""
    import _socket

    return _socket


# ``_posixsubprocess.fork_exec`` (the 6th argument is the child's environment
# on 3.11-3.13) and ``subprocess._fork_exec`` (the name subprocess calls it
# by, bound at import): scrubbed-environment detection.  Without them a child
# started with ``env={...}`` runs unmeasured without a note.
FORK_EXEC_ENV_INDEX = 5


def fork_exec_module() -> Any:
    """The C module subprocess starts POSIX children with."""
    import _posixsubprocess

    return _posixsubprocess


def rebind_subprocess_fork_exec(current: Any, wrapped: Any) -> None:
    """Make an already imported subprocess call ``wrapped`` instead of ``current``."""
    sub = sys.modules.get("subprocess")
    if sub is not None and getattr(sub, "_fork_exec", None) is current:
        sub._fork_exec = wrapped  # type: ignore[attr-defined]


# coverage.py's ``[run] patch = execv, _exit`` wrappers of ``os.execv``,
# ``os.execve`` and ``os._exit`` are local functions of ``coverage/patch.py``
# named ``coverage_execv_patch`` and ``coverage_os_exit_patch`` (7.10 to
# 7.17.5); covhook's own copies (startup/recorder.py, startup/flush.py) are
# listed too.  covhook.startup.children recognises them by these names and
# calls them the way they expect (``env`` positional, a private copy of it).
# Without them, ``os.execve(path=..., argv=..., env=...)`` raises IndexError
# and a read-only env TypeError in every measured process (issue 23).
EXEC_PATCH_NAMES = (
    "coverage_execv_patch",
    "coverage_os_exit_patch",
    "covhook_execv_patch",
    "covhook_os_exit_patch",
    "covhook_os_exit",
)


# -- coverage.py: the modules a measuring process never uses ---------------------
# coverage.py's reporting modules and ``coverage.multiproc``, imported at module
# level by ``coverage/control.py``.  Checked against coverage 7.10.4 and
# 7.17.3: they are imported only by ``control.py``, ``python.py``,
# ``sysmon.py``, by each other and by ``cmdline.py``, and those only call the
# names they take from them (or use them in annotations); tests/test_lean.py
# checks that on the installed coverage.  covhook.startup.lean stands them in
# while ``import coverage`` runs.  Without that, ``import coverage`` in every
# measured process imports them all (a good part of its cost).
COVERAGE_REPORT_MODULES = (
    "coverage.annotate",
    "coverage.html",
    "coverage.jsonreport",
    "coverage.lcovreport",
    "coverage.multiproc",
    "coverage.parser",
    "coverage.phystokens",
    "coverage.regions",
    "coverage.report",
    "coverage.report_core",
    "coverage.results",
    "coverage.xmlreport",
)


# -- cloudpickle -----------------------------------------------------------------
# ``cloudpickle.cloudpickle.Pickler._dispatch_table`` (a dict keyed by type;
# its ``types.CodeType`` entry is ``_code_reduce``), checked on cloudpickle
# 3.1.2 and 3.1.3: covhook.startup.pickled_code wraps that reducer so code pickled by
# value keeps its file name.  Without it a Dask or Ray task defined in the
# driver script is never measured in the workers (cloudpickle 3.1.2+ renames
# its file to "<dynamic-code>").
CLOUDPICKLE_CHECKED = ("3.1.2", "3.1.3")


def cloudpickle_dispatch_table(module: ModuleType) -> dict[Any, Any] | None:
    """cloudpickle's reducer table by type, or None when its layout is not the known one."""
    table = getattr(getattr(module, "Pickler", None), "_dispatch_table", None)
    return table if isinstance(table, dict) else None


# -- pytest-cov ------------------------------------------------------------------
# pytest-cov registers its plugin as ``_cov`` and sets ``_disabled`` when
# ``--no-cov`` (or a failed start) turns it off (checked on 7.1.0).  Without
# them covhook could not tell whether pytest-cov will combine at the end.
PYTEST_COV_PLUGIN = "_cov"


def pytest_cov_active(pluginmanager: Any) -> bool:
    """pytest-cov is loaded and measuring in this pytest."""
    plugin = pluginmanager.get_plugin(PYTEST_COV_PLUGIN)
    return plugin is not None and not getattr(plugin, "_disabled", False)


# ``CovPlugin.cov_controller`` (what its ``cov`` fixture returns the ``cov`` of)
# and ``CovController.started`` (True from ``start()``/``resume()`` to
# ``pause()``/``finish()``), checked on pytest-cov 7.1.0.  Under xdist a worker
# first starts a Coverage in ``pytest_load_initial_conftests`` and then its
# ``DistWorker`` one at session start: only these names say which one measures
# now.  Without them a fork worker of the pytest process that ends in
# ``os._exit`` is not saved (its lines are lost, as without covhook).
def pytest_cov_measuring(pluginmanager: Any) -> Coverage | None:
    """The Coverage pytest-cov measures this process with now, or None."""
    plugin = pluginmanager.get_plugin(PYTEST_COV_PLUGIN)
    controller = getattr(plugin, "cov_controller", None)
    if controller is None or not getattr(controller, "started", False):
        return None
    return getattr(controller, "cov", None)


# ``--cov-append``'s option dest, ``cov_append`` (pytest-cov 7.1.0; its
# ``engine.CovController`` reads ``options.cov_append``).  Without it covhook
# could not tell whether pytest-cov erases the old data at start: it would
# keep stale child files that pytest-cov's combine then sweeps into the report
# (or remove the files a ``--cov-append`` run means to keep).
def pytest_cov_appends(option: Any) -> bool:
    """pytest-cov keeps the previous data (``--cov-append``) rather than erasing it."""
    return bool(getattr(option, "cov_append", False))


# -- coverage.py: what the lean recorder (covhook.startup.recorder) relies on ----
# Checked on coverage 7.10.4, 7.17.3, 7.17.5 and 7.18.0, CPython 3.11-3.15:
# - ``coverage/tracer.<EXT_SUFFIX>``, the C tracer extension, loads on its own
#   (it imports no Python module) and offers ``CTracer`` (attributes below,
#   ``start()``/``stop()``) and ``CFileDisposition``; ``coverage.collector``
#   drives it as the recorder does (``Collector._start_tracer``).
# - with ``trace_arcs`` the C tracer packs arcs in ints (``CTracer_record_pair``:
#   28 bits a line, bits 56 and 57 the signs), unpacked as ``Collector.flush_data``.
# - ``coverage.sqldata.SCHEMA`` / ``SCHEMA_VERSION`` (the data file format),
#   ``filename_suffix`` (``<host>.pid<N>.X<6 of ASCII>x``) and the meta rows
#   ``_init_db`` writes when coverage chooses the suffix.
# - ``coverage/version.py`` defines ``__version__`` without importing anything.
# Without these the recorder would write files coverage cannot read, so
# tests/test_compat.py compares each with the installed coverage.py.
CTRACER_ATTRIBUTES = (
    "data", "lock_data", "unlock_data", "trace_arcs", "should_trace", "should_trace_cache",
    "warn", "concur_id_func", "file_tracers", "check_include", "should_start_context",
    "switch_context", "disable_plugin", "start", "stop",
)  # fmt: skip
DATA_SCHEMA_VERSION = 7


def coverage_dir() -> str | None:
    """The installed ``coverage`` package's directory, found without importing it.

    With the ``PathFinder`` of ``sys.meta_path``: ``from importlib.machinery
    import PathFinder`` imports ``warnings`` on 3.14+ (the module's
    ``__getattr__`` answers the import system's ``__path__`` question).
    """
    finder: Any = next(
        (f for f in sys.meta_path if getattr(f, "__name__", "") == "PathFinder"), None
    )
    if finder is None:
        from importlib.machinery import PathFinder as finder
    spec = finder.find_spec("coverage")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return locations[0] if locations else None


class _TracerFirst:
    """A meta-path finder for the ``coverage`` package only: its ``tracer`` is set first."""

    def __init__(self, tracer: ModuleType) -> None:
        self.tracer = tracer

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "coverage":
            return None
        try:
            sys.meta_path.remove(self)  # once: the package is imported once
        except ValueError:
            pass
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec
        tracer = self.tracer

        def exec_with_tracer(module: ModuleType) -> None:
            module.tracer = tracer  # type: ignore[attr-defined]
            exec_module(module)

        loader.exec_module = exec_with_tracer
        return spec


# ``_frozen_importlib`` / ``_frozen_importlib_external`` (CPython 3.11-3.15: the
# import system's own modules, always in ``sys.modules``): ``importlib.util``'s
# names without importing ``importlib`` (on 3.11 that brings ``warnings`` and
# ``contextlib`` with ``collections`` and ``functools``: 2-3 ms of every process
# the C-tracer recorder measures).  Without them: the public modules, slower.
def _import_system() -> tuple[Any, Any, Any]:
    """``ExtensionFileLoader``, ``module_from_spec``, ``spec_from_file_location``."""
    bootstrap = sys.modules.get("_frozen_importlib")
    external = sys.modules.get("_frozen_importlib_external")
    try:
        return (
            external.ExtensionFileLoader,  # type: ignore[union-attr]
            bootstrap.module_from_spec,  # type: ignore[union-attr]
            external.spec_from_file_location,  # type: ignore[union-attr]
        )
    except AttributeError:
        from importlib.machinery import ExtensionFileLoader
        from importlib.util import module_from_spec, spec_from_file_location

        return ExtensionFileLoader, module_from_spec, spec_from_file_location


# ``_sqlite3`` (CPython 3.11-3.15): the C module ``sqlite3`` wraps; its
# ``connect`` is the one ``sqlite3.dbapi2`` re-exports.  dbapi2 only adds the
# date and time adapters covhook never uses, and imports ``datetime`` (and
# ``warnings`` on 3.14+): ~1 ms of every process the recorder saves.
# Without it: ``sqlite3``, slower.
def sqlite_connect(path: str) -> Any:
    """``sqlite3.connect(path, isolation_level=None)``: an autocommit connection."""
    try:
        import _sqlite3

        connect = _sqlite3.connect
    except (ImportError, AttributeError):
        import sqlite3

        connect = sqlite3.connect
    return connect(path, isolation_level=None)


# ``_tokenize.TokenizerIter(readline, extra_tokens=True)`` (CPython 3.12-3.15):
# the C tokenizer ``tokenize.generate_tokens`` wraps, tuples instead of its
# ``TokenInfo``, and a plain SyntaxError where it raises ``TokenError``.  The
# sys.monitoring recorder tokenizes each measured file for its multi-line
# statement map; ``tokenize`` itself imports ``re``, ``functools`` and
# ``collections`` (3 ms of a process that needs none of them).  Without it:
# ``tokenize.generate_tokens``, slower.
def source_tokens(text: str) -> Iterator[tuple[int, str, tuple[int, int], tuple[int, int], str]]:
    """``tokenize.generate_tokens`` over ``text``: (type, string, start, end, line) tuples."""
    import io

    readline = io.StringIO(text).readline
    try:
        import _tokenize  # type: ignore[import-not-found,unused-ignore]

        return iter(_tokenize.TokenizerIter(readline, extra_tokens=True))
    except (ImportError, AttributeError, TypeError):
        import tokenize

        return tokenize.generate_tokens(readline)


def source_encoding(source: bytes) -> str:
    """``tokenize.detect_encoding`` of ``source``'s first lines, without ``tokenize`` for the
    usual file: no BOM, no "coding" in its first two lines, those lines UTF-8."""
    first_two = b"".join(source.splitlines(True)[:2])
    if not source.startswith(b"\xef\xbb\xbf") and b"coding" not in first_two:
        try:
            first_two.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            pass
    import tokenize

    return tokenize.detect_encoding(iter(source.splitlines(True)).__next__)[0]


def load_ctracer(directory: str) -> tuple[ModuleType, str] | None:
    """coverage.py's C tracer module and coverage's version, loaded without ``import coverage``.

    A later ``import coverage`` in this process (the program's own, pytest-cov's,
    or the full start when the recorder steps aside) must use this module: a
    second load of the extension gives a module without ``CTracer`` (checked on
    CPython 3.11-3.13), and coverage cannot start.  So it goes into
    ``sys.modules`` as ``coverage.tracer``, and :class:`_TracerFirst` sets it as
    the ``coverage`` package's ``tracer`` attribute before the package's body
    runs (``coverage.core`` reads ``coverage.tracer.__file__``, 7.10.4-7.18.0).
    None when the extension is not there (pure-Python installs).
    """
    if "coverage.tracer" in sys.modules:
        return None  # coverage is (being) imported: it owns the tracer
    ExtensionFileLoader, module_from_spec, spec_from_file_location = _import_system()
    import _imp

    for suffix in _imp.extension_suffixes():
        path = os.path.join(directory, "tracer" + suffix)
        if os.path.exists(path):
            break
    else:
        return None
    loader = ExtensionFileLoader("coverage.tracer", path)
    spec = spec_from_file_location("coverage.tracer", path, loader=loader)
    if spec is None:
        return None
    module = module_from_spec(spec)
    loader.exec_module(module)
    sys.modules["coverage.tracer"] = module
    sys.meta_path.insert(0, _TracerFirst(module))
    if not all(hasattr(module.CTracer(), name) for name in CTRACER_ATTRIBUTES):
        return None
    with open(os.path.join(directory, "version.py"), encoding="utf-8") as f:
        namespace: dict[str, Any] = {"__name__": "coverage.version"}
        exec(compile(f.read(), f.name, "exec"), namespace)
    return module, str(namespace["__version__"])


def config_serialized(cov: Coverage) -> str:
    """``cov.config.serialize()``: what ``patch = subprocess`` hands children (7.10.4-7.18.0)."""
    return str(cov.config.serialize())


class DataFormat:
    """How the installed coverage.py packs arcs and names and fills its data files.

    Read from its source (``collector.py``, ``sqldata.py``), not guessed from
    the version.  Known: 7.10.4 (20-bit arcs, ``<host>.<pid>.X<letters>x``,
    meta ``version`` only), 7.13.5 (28-bit arcs, ``<host_>.pid<pid>.X<ASCII>x``,
    meta also ``sys_argv`` and ``when``, the ``.H<hash>h`` name and ``hash``
    meta row), 7.17.3 (as 7.13.5; arcs read from a copy of each set), 7.17.5
    (the hash made from the written file by ``HASH_QUERIES``; arcs read from
    each set as it is), 7.18.0 (as 7.17.5).
    """

    def __init__(  # noqa: PLR0917
        self,
        arc_bits: int,
        new_suffix: bool,
        argv_meta: bool,
        hashes: bool,
        schema: str = "",
        arcs_copied: bool = True,
        query_hash: bool = False,
    ) -> None:
        self.schema = schema
        self.query_hash = query_hash  # 7.17.5: hash what the written file holds
        self.arcs_copied = arcs_copied  # set.copy() (7.17) or list(set) (7.10, 7.13)
        self.arc_bits = arc_bits
        self.new_suffix = new_suffix
        self.argv_meta = argv_meta
        self.hashes = hashes


_ARC_BITS = {"(packed & (0xFFFFFFF << 28)) >> 28": 28, "(packed & (0xFFFFF << 20)) >> 20": 20}
_NEW_SUFFIX = (
    'host = socket.gethostname().replace(".", "_")\n'
    '        suffix = f"{host}.pid{os.getpid()}.X{rolls}x"'
)
_OLD_SUFFIX = (
    "letters = string.ascii_uppercase + string.ascii_lowercase\n"
    '        rolls = "".join(die.choice(letters) for _ in range(6))\n'
    '        suffix = f"{socket.gethostname()}.{os.getpid()}.X{rolls}x"'
)
_ARGV_META = 'if self._our_suffix or self._debug.should("process"):'
_NO_ARGV_META = 'if self._debug.should("process"):\n            meta_data.extend('
_HASHES = (
    'f".H{data_hash}h"',
    "self._hasher.update(context)",
    'base64.b64encode(self._hasher.digest(), altchars=b"01").decode()[:NHASH]',
    "NHASH = 10\n",
)
# coverage 7.17.5 (``CoverageData._hash_data``): the data hash is made from the
# written file, query by query, each query and then ``repr`` of its rows.
HASH_QUERIES = (
    "SELECT id, path FROM file ORDER BY id",
    "SELECT id, context FROM context ORDER BY id",
    "SELECT file_id, context_id, numbits FROM line_bits ORDER BY file_id, context_id",
    "SELECT file_id, context_id, fromno, tono FROM arc ORDER BY file_id, context_id, fromno, tono",
    "SELECT file_id, tracer FROM tracer ORDER BY file_id",
)
_QUERY_HASH = ("def _hash_data(self) -> Hasher:", "hasher.update(repr(rows))", 'f".H{data_hash}h"')
_ARCS_ITERATED = "for packed in packeds:\n"  # 7.17.5
_ARCS_COPIED = "for packed in packeds.copy():"
_ARCS_LISTED = "for packed in list(packeds):"


def data_format(directory: str) -> DataFormat | None:
    """The installed coverage.py's :class:`DataFormat`, or None when it is not a known one.

    What it guards: the lean recorder writes coverage's data files without
    importing coverage (that import is the start-up time it saves), so the
    format is read from coverage's source text here, not from its constants.
    Any fragment not found gives None, and coverage.py measures instead.
    tests/test_compat.py pins what this finds on each checked version
    (``DATA_FORMATS``) and fails loudly on a coverage.py nobody checked.
    """
    try:
        with open(os.path.join(directory, "collector.py"), encoding="utf-8") as f:
            collector = f.read()
        with open(os.path.join(directory, "sqldata.py"), encoding="utf-8") as f:
            sqldata = f.read()
    except OSError:
        return None
    bits = [b for text, b in _ARC_BITS.items() if text in collector]
    if len(bits) != 1:
        return None
    if _NEW_SUFFIX in sqldata:
        new_suffix = True
    elif _OLD_SUFFIX in sqldata:
        new_suffix = False
    else:
        return None
    if _ARGV_META in sqldata:
        argv_meta = True
    elif _NO_ARGV_META in sqldata:
        argv_meta = False
    else:
        return None
    hashes = all(text in sqldata for text in _HASHES)
    joined = sqldata.replace('"\n                + "', "")  # the arc query is written in two parts
    query_hash = all(text in sqldata for text in _QUERY_HASH) and all(
        f'"{query}"' in joined for query in HASH_QUERIES
    )
    hashes = hashes or query_hash
    if not hashes and ("_hasher" in sqldata or ".H{" in sqldata):
        return None  # a data hash we do not know how to make
    if _ARCS_COPIED in collector:
        arcs_copied = True
    elif _ARCS_LISTED in collector or _ARCS_ITERATED in collector:
        arcs_copied = False
    else:
        return None
    if hashes and not (new_suffix and argv_meta and bits[0] == 28):
        return None
    if f"SCHEMA_VERSION = {DATA_SCHEMA_VERSION}\n" not in sqldata:
        return None
    schema = _schema(sqldata)
    if schema is None:
        return None
    return DataFormat(bits[0], new_suffix, argv_meta, hashes, schema, arcs_copied, query_hash)


_SCHEMA_DEDENTED = 'SCHEMA = textwrap.dedent("""\\\n'  # 7.13+
_SCHEMA_PLAIN = 'SCHEMA = """\\\n'  # 7.10


def _schema(sqldata: str) -> str | None:
    """``coverage.sqldata.SCHEMA`` (the SQL as written into every data file), from its source."""
    marker = _SCHEMA_DEDENTED if _SCHEMA_DEDENTED in sqldata else _SCHEMA_PLAIN
    dedent = marker == _SCHEMA_DEDENTED
    start = sqldata.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = sqldata.find('"""', start)
    if end < 0:
        return None
    text = sqldata[start:end]
    if not dedent:
        return text
    lines = text.split("\n")
    indent = min(len(x) - len(x.lstrip(" ")) for x in lines if x.strip())
    return "\n".join(x[indent:] if x.strip() else "" for x in lines)


# -- coverage.py: what the sys.monitoring recorder (covhook.startup.sysmon_recorder) copies --
# coverage's sys.monitoring core, rule for rule: ``coverage/sysmon.py``
# (SysMonitor: which code objects, which events, which arcs),
# ``coverage/bytecode.py`` (``bytes_to_lines``, ``BranchArcResolver``),
# ``coverage/core.py`` (when sysmon is the core), and the pieces of
# ``parser.py`` / ``python.py`` / ``files.py`` / ``env.py`` that make the
# multi-line map and pick the core.  Checked on coverage 7.17.3, 7.17.5 and
# 7.18.0, CPython 3.12-3.13 (lines) and 3.14-3.15 (lines and arcs).  The
# recorder is used only when those sources are exactly one of the checked
# versions' (their SHA-256 below): any change may change the data, and then
# covhook steps aside (coverage.py measures, with the reason printed by
# ``covhook status``) instead of writing data coverage would not.
SYSMON_SOURCES = (
    ("sysmon.py", ""),
    ("bytecode.py", ""),
    ("core.py", ""),
    ("parser.py", "def multiline_map_from_tokens("),
    ("parser.py", "def multiline_map_from_text("),
    ("python.py", "def read_python_source("),
    ("python.py", "def get_python_source("),
    ("python.py", "def get_zip_bytes("),
    ("files.py", "def zip_location("),
    ("env.py", "SYSMON_DEFAULT = "),
    ("env.py", "    branch_right_left = "),
)
SYSMON_KNOWN = {
    "c1a9101d51ddbb9f82b99bf582e28b89ef1cdb0e74cab6a83f4e3ec1a6a49bf1": "7.17.3",
    # 7.17.5 and 7.18.0: the same sources (7.17.5's sysmon.py sets the local
    # events again when restarted, which the recorder never is).
    "7b6c9e10c3f691fdaced094280695080ec2cfcd3baf723965d6d2c5dfa78d09b": "7.17.5, 7.18.0",
}
# With branch data too: 7.17.3 feeds its data hash (in the file name) a set
# of arcs, 7.17.5+ hashes what the written file holds (``HASH_QUERIES``).
SYSMON_ARCS_KNOWN = frozenset(("7b6c9e10c3f691fdaced094280695080ec2cfcd3baf723965d6d2c5dfa78d09b",))


def _source_piece(text: str, start: str) -> str | None:
    """The whole of ``text`` (``start`` empty), or from ``start`` to the next top-level line."""
    if not start:
        return text
    at = text.find(start)
    if at < 0:
        return None
    if not start.startswith("def "):
        return text[at : text.find("\n", at)]
    end = len(text)
    for marker in ("\ndef ", "\nclass ", "\n@"):
        found = text.find(marker, at + 1)
        if 0 <= found < end:
            end = found
    return text[at:end]


def sysmon_core_digest(directory: str) -> str | None:
    """SHA-256 of the installed coverage's :data:`SYSMON_SOURCES`, or None if one is missing.

    With the C module itself where there is one: ``hashlib`` loads OpenSSL (~2 ms).
    """
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
    except ImportError:  # pragma: no cover
        from hashlib import sha256

    digest = sha256()
    texts: dict[str, str] = {}
    for name, start in SYSMON_SOURCES:
        if name not in texts:
            try:
                with open(os.path.join(directory, name), encoding="utf-8") as f:
                    texts[name] = f.read()
            except OSError:
                return None
        piece = _source_piece(texts[name], start)
        if piece is None:
            return None
        digest.update(f"{name}:{len(piece)}:".encode())
        digest.update(piece.encode("utf-8"))
    return str(digest.hexdigest())


def sysmon_core_problem(directory: str, arcs: bool) -> str | None:
    """None when the installed coverage's sys.monitoring core is a checked one; else why not."""
    found = sysmon_core_digest(directory)
    known = SYSMON_ARCS_KNOWN if arcs else SYSMON_KNOWN
    if found is not None and found in known:
        return None
    version = coverage_version(directory)
    checked = ", ".join(SYSMON_KNOWN[digest] for digest in SYSMON_KNOWN if digest in known)
    what = "branch data" if arcs else "line data"
    return (
        f"coverage {version}'s sys.monitoring core ({what}) is not one covhook checked "
        f"(checked: {checked})"
    )


def coverage_version(directory: str) -> str:
    """``coverage/version.py``'s ``__version__``, without importing coverage (7.10.4-7.18.0)."""
    try:
        with open(os.path.join(directory, "version.py"), encoding="utf-8") as f:
            namespace: dict[str, Any] = {"__name__": "coverage.version"}
            exec(compile(f.read(), f.name, "exec"), namespace)
        return str(namespace["__version__"])
    except Exception:
        return "(unknown version)"


# -- moved from covhook.startup.recorder and covhook.startup.lazy (issue 24) -----
# ``_sha3.sha3_256`` (CPython 3.11.7, 3.12.1, 3.13.0: hashlib's own C module,
# what ``hashlib.sha3_256`` is made from): the recorder's copy of coverage.py's
# data hash (coverage 7.13+ puts it in the data file's name and meta table)
# without ``import hashlib``, which loads OpenSSL's ``_hashlib`` (about 2 ms,
# against 0.3 ms, of each recording process's first save).  Without it the
# recorder uses hashlib's: the same digest, slower.
def sha3_256() -> Any:
    """A new SHA3-256 hash object: ``_sha3``'s, else ``hashlib``'s."""
    try:
        from _sha3 import sha3_256 as new  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover
        from hashlib import sha3_256 as new
    return new()


# covhook.startup.lazy's hooks: the places in-scope code can start running in
# a process still waiting to measure.  Checked on CPython 3.11.7, 3.12.1 and
# 3.13.0, cloudpickle 3.1.1 and 3.1.3.  lazy uses them by these names itself:
# a waiting process imports lazy but not this module (its contextlib and
# collections cost ~3 ms, tests/test_start_paths.py keeps them out), so
# tests/test_compat.py checks that lazy touches exactly the names listed here
# and that each one still exists.
# - ``_frozen_importlib._load_unlocked(spec)``: called (as a module global) by
#   ``_find_and_load_unlocked`` for every module the import system loads,
#   before ``spec.loader.exec_module`` runs its body.  Without it importing an
#   in-scope module does not start coverage: its lines are lost.
# - ``runpy._run_code(code, run_globals, ...)``: every code object runpy runs
#   (``python -m``, ``run_path``, multiprocessing re-running ``__main__``).
#   Without it in-scope code run that way is not measured.
# - ``_thread.start_new_thread`` (3.11, 3.12; bound as
#   ``threading._start_new_thread``) and ``_thread.start_joinable_thread``
#   (3.13; ``threading._start_joinable_thread``).  Without them a thread
#   started while waiting is never traced (the C tracer cannot attach later).
# - cloudpickle's ``cloudpickle.cloudpickle._make_function(code, globals, name,
#   argdefs, closure)``: what a pickle of a by-value function calls.  Without
#   it Dask and Ray tasks defined in the driver script are not measured.
# - ``compile()``'s keyword-only ``_feature_version`` (what ``ast.parse``
#   passes): lazy's compile wrapper binds it like the builtin.  Without it such
#   calls go to the builtin unchecked.
# - ``sys._getframe`` (as :func:`caller_frame`): the flags compile() inherits
#   from its caller, and whether coverage.py itself is compiling.
LAZY_PRIVATE_NAMES = (
    "_frozen_importlib",
    "_load_unlocked",
    "_run_code",
    "_thread",
    "_start_new_thread",
    "_start_joinable_thread",
    "_make_function",
    "_feature_version",
    "_getframe",
)
