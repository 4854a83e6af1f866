"""Every private name covhook relies on (src/covhook/_compat.py) still exists and still works.

Run on every cell of the version matrix (scripts/matrix.sh): a coverage.py or
Python release that drops or changes one of them fails here, loudly, naming
the internal, instead of covhook silently measuring less in the field.
In-process and fast: no subprocess except where the internal is about one.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import socket
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import coverage
import pytest
from coverage.sqldata import CoverageData

from covhook import _compat
from support import envs

pytestmark = pytest.mark.compat


def bare() -> coverage.Coverage:
    return coverage.Coverage(config_file=False, data_file=None)


def test_the_checked_versions_are_written_down() -> None:
    assert coverage.__version__ in _compat.COVERAGE_CHECKED, (
        f"covhook's private-name assumptions were never checked on coverage "
        f"{coverage.__version__}: run tests/test_compat.py with it and add it to "
        "_compat.COVERAGE_CHECKED"
    )
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in _compat.PYTHON_CHECKED, (
        "covhook's private-name assumptions were never checked on this Python: run "
        "tests/test_compat.py here and add it to _compat.PYTHON_CHECKED"
    )


@pytest.mark.parametrize("name", [*_compat.PROCESS_WARNINGS, "_auto_save", "_started"])
def test_coverage_has_the_flags_process_startup_sets(name: str) -> None:
    cov = bare()
    assert isinstance(getattr(cov, name), bool), f"Coverage.{name} is gone or no longer a flag"


def test_quiet_process_warnings_turns_the_three_flags_off() -> None:
    cov = bare()
    _compat.quiet_process_warnings(cov)
    assert [getattr(cov, n) for n in _compat.PROCESS_WARNINGS] == [False, False, False]
    # process_startup() turns off the same set: if coverage adds one, we want to know.
    source = inspect.getsource(coverage.control)
    for name in _compat.PROCESS_WARNINGS:
        assert f"cov.{name} = False" in source, f"process_startup no longer sets {name}"


def test_no_data_warning_off_restores_the_flag() -> None:
    cov = bare()
    with _compat.no_data_warning_off(cov):
        assert cov._warn_no_data is False
    assert cov._warn_no_data is True


def test_make_pth_file_flag_exists_only_where_coverage_writes_a_pth() -> None:
    cov = bare()
    if coverage.version_info[:2] < (7, 13):
        assert isinstance(cov._make_pth_file, bool)  # type: ignore[attr-defined]
    _compat.no_pth_file(cov)  # harmless on every version


def test_started_flag_and_current_coverage() -> None:
    cov = bare()
    assert _compat.is_started(cov) is False


def test_process_startup_keeps_its_flag_on_itself() -> None:
    assert callable(coverage.process_startup)
    had = _compat.startup_coverage(coverage, _compat._NOT_SET)
    try:
        _compat.set_startup_coverage(coverage, None)
        assert _compat.startup_attempted(coverage)
        assert _compat.startup_coverage(coverage) is None
        # coverage's own process_startup() must still honour it (a1_coverage.pth stays quiet).
        assert coverage.process_startup() is None
    finally:
        if had is _compat._NOT_SET:
            del coverage.process_startup.coverage  # type: ignore[attr-defined]
        else:
            _compat.set_startup_coverage(coverage, had)


def test_serialized_config_round_trips_through_the_data_prefix(tmp_path: Path) -> None:
    prefix = _compat.config_data_prefix(coverage)
    assert prefix == ":data:", "coverage.control.CONFIG_DATA_PREFIX changed or is gone"
    cov = coverage.Coverage(config_file=False, context="host-x")
    text = _compat.serialized_config(cov, str(tmp_path / ".coverage"), drop_context="host-x")
    child = coverage.Coverage(config_file=prefix + text)
    assert child.get_option("run:data_file") == str(tmp_path / ".coverage")
    assert child.get_option("run:context") is None


def test_plugin_options_of_a_listed_plugin() -> None:
    cov = bare()
    cov.set_option("run:plugins", ["covhook"])
    cov.set_option("covhook:signals", "false")
    assert _compat.plugin_options(cov, "covhook") == {"signals": "false"}
    assert _compat.plugin_options(cov, "nothere") == {}


def test_collector_records_short_stack_where_we_swap_it() -> None:
    import coverage.collector

    assert callable(coverage.collector.short_stack)
    assert "short_stack()" in inspect.getsource(coverage.collector.Collector.__init__)

    def mine(*_a: Any, **_k: Any) -> str:
        return "mine"

    with _compat.swapped_short_stack(mine):
        assert coverage.collector.short_stack is mine
    assert coverage.collector.short_stack is not mine


def test_data_files_in_moves_the_working_file(tmp_path: Path) -> None:
    assert callable(CoverageData._choose_filename)
    with _compat.data_files_in(".work"):
        data = CoverageData(basename=str(tmp_path / ".coverage"), suffix=True)
    data.add_lines({str(tmp_path / "m.py"): [1, 2]})
    name = Path(_compat.data_filename(data))
    assert name.parent == tmp_path / ".work", f"working file at {name}"
    assert name.is_file()
    memory = CoverageData(no_disk=True)
    assert "memory" in _compat.data_filename(memory)


def test_saved_file_names_match_the_suffix_pattern(tmp_path: Path) -> None:
    data = CoverageData(basename=str(tmp_path / ".coverage.host-x"), suffix=True)
    data.add_lines({str(tmp_path / "m.py"): [1]})
    data.write()
    (written,) = [p.name for p in tmp_path.iterdir() if p.name.startswith(".coverage")]
    suffix = written.removeprefix(".coverage.host-x")
    match = _compat.DATA_SUFFIX_RE.fullmatch(suffix)
    assert match, f"{written}: coverage changed its suffix"
    assert match["host"] == socket.gethostname()
    assert int(match["pid"]) == os.getpid()


def test_coverage_saves_through_the_save_attribute() -> None:
    """signals.guard_saves replaces ``cov.save``: coverage's atexit and patches must call it."""
    import coverage.patch

    assert "self.save()" in inspect.getsource(coverage.Coverage._atexit)
    assert "cov.save()" in inspect.getsource(coverage.patch)


def test_collector_clear_data_and_data_attributes_after_start(tmp_path: Path) -> None:
    """``_data``, ``_collector`` and ``Collector._clear_data`` (flush.keep_collected)."""
    from coverage.collector import Collector

    source = inspect.getsource(Collector.flush_data)
    if _compat.collector_clears_all_after_flush():
        assert "self._clear_data()" in source, "flush_data no longer clears through _clear_data"
    else:
        # 7.17.5 removed _clear_data: flush_data removes only what it saved.
        assert "difference_update(snapshot)" in source, "flush_data changed: recheck the race"
    cov = bare()
    assert _compat.coverage_data(cov) is None
    assert "self._collector" in inspect.getsource(coverage.Coverage._init_for_start)
    assert "self._data" in inspect.getsource(coverage.Coverage._init_data)


def test_should_fail_under() -> None:
    assert _compat.should_fail_under(79.99, 80.0, 0) is False  # rounds to 80
    assert _compat.should_fail_under(79.4, 80.0, 0) is True


def test_caller_frame() -> None:
    def inner() -> str:
        return _compat.caller_frame(1).f_code.co_name

    assert inner() == "test_caller_frame"


def test_fork_exec_gets_the_environment_at_the_index_we_read(tmp_path: Path) -> None:
    module = _compat.fork_exec_module()
    original = module.fork_exec
    seen: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[_compat.FORK_EXEC_ENV_INDEX])
        return original(*args, **kwargs)

    module.fork_exec = spy
    _compat.rebind_subprocess_fork_exec(original, spy)
    try:
        # cwd= keeps 3.13 off its posix_spawn path, which skips fork_exec.
        subprocess.run(
            [sys.executable, "-c", "pass"], env={"COVHOOK_X": "1"}, cwd=tmp_path, check=True
        )
    finally:
        module.fork_exec = original
        _compat.rebind_subprocess_fork_exec(spy, original)
    assert seen, "subprocess no longer calls _posixsubprocess.fork_exec through _fork_exec"
    assert seen[0] == [b"COVHOOK_X=1"]


def test_coverage_exec_and_exit_patches_have_the_names_children_looks_for() -> None:
    from coverage import patch

    source = inspect.getsource(patch)
    for name in _compat.EXEC_PATCH_NAMES:
        if name.startswith("coverage_"):
            assert f"def {name}(*args" in source or f"def {name}(status" in source, name


def test_pytest_cov_registers_its_plugin_as_cov_with_a_disabled_flag() -> None:
    plugin = pytest.importorskip("pytest_cov.plugin")
    source = inspect.getsource(plugin)
    assert f"'{_compat.PYTEST_COV_PLUGIN}'" in source or f'"{_compat.PYTEST_COV_PLUGIN}"' in source
    assert "self._disabled = " in source


def test_pytest_cov_says_which_coverage_measures_now() -> None:
    """``_compat.pytest_cov_measuring``: ``cov_controller`` and its ``started`` flag."""
    plugin = pytest.importorskip("pytest_cov.plugin")
    engine = pytest.importorskip("pytest_cov.engine")
    assert "self.cov_controller = " in inspect.getsource(plugin.CovPlugin)
    controller = inspect.getsource(engine.CovController)
    for method in ("start", "finish", "pause", "resume"):
        assert f"def {method}(self" in controller
    assert controller.count("self.started = ") >= 4  # __init__, start/resume, finish/pause


def test_pytest_cov_keeps_cov_append_in_the_option_we_read(pytestconfig: pytest.Config) -> None:
    """``_compat.pytest_cov_appends`` reads the dest pytest maps ``--cov-append`` to."""
    pytest.importorskip("pytest_cov.plugin")
    option = argparse.Namespace(**vars(pytestconfig.option))
    for given in (False, True):
        option.cov_append = given
        pytestconfig.option, saved = option, pytestconfig.option
        try:
            assert pytestconfig.getoption("--cov-append") is given, "pytest-cov renamed its dest"
        finally:
            pytestconfig.option = saved
        assert _compat.pytest_cov_appends(option) is given


def test_the_installed_pytest_cov_is_a_checked_one() -> None:
    pytest_cov = pytest.importorskip("pytest_cov")
    assert pytest_cov.__version__ in _compat.PYTEST_COV_CHECKED, (
        f"pytest-cov {pytest_cov.__version__} was never checked: run tests/test_compat.py "
        "with it and add it to _compat.PYTEST_COV_CHECKED"
    )


def test_cloudpickle_reduces_code_through_its_dispatch_table() -> None:
    cloudpickle = pytest.importorskip("cloudpickle.cloudpickle")
    version = pytest.importorskip("cloudpickle").__version__
    assert version in _compat.CLOUDPICKLE_CHECKED, (
        f"cloudpickle {version} was never checked: add it to _compat.CLOUDPICKLE_CHECKED"
    )
    table = _compat.cloudpickle_dispatch_table(cloudpickle)
    assert table is not None, "cloudpickle.Pickler._dispatch_table is gone"
    assert callable(table[types.CodeType])


def test_collector_data_lock_and_tracer_binding() -> None:
    """datalock: ``data_lock``, ``tracers``, ``lock_data``/``unlock_data`` on a real Collector."""
    from coverage.collector import Collector

    init = inspect.getsource(Collector.__init__) + inspect.getsource(Collector)
    assert "self.data_lock" in init, "Collector.data_lock is gone"
    assert "self.tracers" in init, "Collector.tracers is gone"
    assert "lock_data" in init, "tracers no longer lock data through lock_data"

    cov = coverage.Coverage(config_file=False, data_file=None)
    cov.start()  # a real collector with real tracers
    try:
        collector = _compat.collector_of(cov)
        lock = _compat.data_lock(collector)
        assert lock is not None
        assert collector.tracers, "a started collector has no tracers"
        _compat.bind_data_lock(collector, lock.acquire, lock.release)
        assert all(t.lock_data == lock.acquire for t in collector.tracers)
        fresh = threading.Lock()
        _compat.set_data_lock(collector, fresh)
        assert _compat.data_lock(collector) is fresh
        wrapped = _compat.wrap_clear_data(collector, lambda original: original)
        assert wrapped is _compat.collector_clears_all_after_flush()
    finally:
        cov.stop()


def test_switch_collector_context_sets_the_static_context(tmp_path: Path) -> None:
    """pytest_contexts: ``Collector.static_context`` and ``switch_context`` (issue 22)."""
    cov = coverage.Coverage(config_file=False, data_file=str(tmp_path / ".coverage"))
    cov.start()
    try:
        assert _compat.switch_collector_context(cov, "host-a|tests/t.py::test_x|run")
        assert _compat.collector_of(cov).static_context == "host-a|tests/t.py::test_x|run"
    finally:
        cov.stop()
    assert cov.get_data().measured_contexts() == {"", "host-a|tests/t.py::test_x|run"}


def test_data_names_move_and_reset(tmp_path: Path) -> None:
    """flush.Publisher.direct: ``_basename``, ``_filename``, ``_reset``."""
    data = CoverageData(basename=str(tmp_path / ".coverage"), suffix=True)
    data.add_lines({str(tmp_path / "m.py"): [1]})
    assert _compat.data_basename(data) == str(tmp_path / ".coverage")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _compat.reset_data(data)
    _compat.move_data_file(data, str(elsewhere))
    data.add_lines({str(tmp_path / "m.py"): [2]})
    data.write()
    assert Path(_compat.data_filename(data)).parent == elsewhere
    assert Path(_compat.data_basename(data)).parent == elsewhere


# -- the lean recorder (covhook.startup.recorder) --------------------------------


def run_alone(code: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` in a bare environment (plus ``extra``), covhook's hook off."""
    env = {"PATH": "/usr/bin:/bin", "COVHOOK_DISABLE": "1", **extra}
    command = [sys.executable, "-c", code]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_coverage_imported_after_the_recorders_tracer_starts_with_it() -> None:
    """A process where the recorder loaded the C tracer can still import and start coverage.

    The program's own ``import coverage`` (pytest-cov in a child), or the full start
    when the recorder steps aside after loading: a second load of the extension
    has no ``CTracer`` (CPython 3.11-3.13), so coverage must get the first one.
    """
    probe = (
        "from covhook import _compat\n"
        "module, _version = _compat.load_ctracer(_compat.coverage_dir())\n"
        "import coverage, coverage.tracer\n"
        "assert coverage.tracer is module and coverage.tracer.CTracer\n"
        "cov = coverage.Coverage(data_file=None)\n"
        "cov.start()\n"
        "x = 1\n"
        "cov.stop()\n"
        "print(type(cov._collector.tracers[0]).__name__)\n"
    )
    out = run_alone(probe, COVERAGE_CORE="ctrace")  # the recorder's core (3.14+: not the default)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "CTracer", out.stdout


def test_c_tracer_loads_alone_with_the_attributes_the_recorder_sets() -> None:
    """``coverage/tracer*.so`` loads without ``coverage`` and is coverage's own CTracer."""
    from coverage.collector import Collector

    assert _compat.coverage_dir() == str(Path(coverage.__file__).parent)
    probe = (
        "import sys\n"
        "from covhook import _compat\n"
        "module, version = _compat.load_ctracer(_compat.coverage_dir())\n"
        "assert sys.modules.get('coverage') is None, 'coverage was imported'\n"
        "assert module.CTracer.__name__ == 'CTracer' and module.CFileDisposition\n"
        "print(version)\n"
    )
    out = run_alone(probe)
    assert out.returncode == 0, f"coverage's C tracer does not load alone: {out.stderr}"
    assert out.stdout.strip() == coverage.__version__
    # Collector._start_tracer sets (at least) what the recorder sets, the same way.
    source = inspect.getsource(Collector._start_tracer)
    for name in ("data", "lock_data", "unlock_data", "trace_arcs", "should_trace"):
        assert f"tracer.{name} = " in source, f"Collector no longer sets tracer.{name}"


RECORDER_KNOWS = envs.RECORDER_KNOWS


def need_known_data_format() -> None:
    if coverage.__version__ not in RECORDER_KNOWS:
        pytest.skip(
            f"coverage {coverage.__version__}: not a data format the recorder writes; "
            "it steps aside (test_coverage_imported_after_the_recorders_tracer_starts_with_it)"
        )


def test_data_format_is_read_from_the_installed_coverage(tmp_path: Path) -> None:
    """Arc packing, schema, name suffix, meta rows and hash of this coverage are known."""
    from coverage import sqldata

    fmt = _compat.data_format(str(Path(coverage.__file__).parent))
    if coverage.__version__ not in RECORDER_KNOWS:
        assert fmt is None, f"coverage {coverage.__version__}: add it to RECORDER_KNOWS"
        need_known_data_format()
    assert fmt is not None, "coverage changed its data format: check covhook.startup.recorder"
    assert fmt.schema == sqldata.SCHEMA
    assert sqldata.SCHEMA_VERSION == 7
    suffix = sqldata.filename_suffix(True)
    assert suffix is not None
    assert (".pid" in suffix) == fmt.new_suffix
    # Whether coverage puts a data hash in the name: from a file it writes.
    written = CoverageData(basename=str(tmp_path / ".coverage"), suffix=True)
    written.add_lines({str(tmp_path / "m.py"): [1]})
    written.write()
    hashed = Path(written.data_filename()).name.split(".")[-1]
    assert fmt.hashes == (hashed.startswith("H") and hashed.endswith("h") and len(hashed) == 12)


# What ``_compat.data_format`` must find in each checked coverage.py (read from
# each version's installed source; each matrix cell, scripts/matrix.sh, checks
# the one it has): arc bits, ``.pid`` name suffix, ``sys_argv`` meta rows, data
# hash in the name, arcs read from a copy of each set, hash from the written file.
DATA_FORMATS = {
    "7.10.4": (20, False, False, False, False, False),
    "7.13.5": (28, True, True, True, False, False),
    "7.17.3": (28, True, True, True, True, False),
    "7.17.5": (28, True, True, True, False, True),
    "7.18.0": (28, True, True, True, False, True),
}


def _fields(fmt: _compat.DataFormat) -> tuple[int, bool, bool, bool, bool, bool]:
    return (
        fmt.arc_bits, fmt.new_suffix, fmt.argv_meta, fmt.hashes, fmt.arcs_copied, fmt.query_hash
    )  # fmt: skip


@pytest.mark.parametrize("version", sorted(DATA_FORMATS))
def test_data_format_of_each_checked_coverage(version: str) -> None:
    """The source-text recognition gives exactly the checked format of that version."""
    from coverage import sqldata

    if coverage.__version__ != version:
        pytest.skip(f"checked in the matrix cell with coverage {version} (scripts/matrix.sh)")
    fmt = _compat.data_format(str(Path(coverage.__file__).parent))
    assert fmt is not None, f"coverage {version}: data_format no longer recognises it"
    assert _fields(fmt) == DATA_FORMATS[version]
    assert fmt.schema == sqldata.SCHEMA
    assert sqldata.SCHEMA_VERSION == _compat.DATA_SCHEMA_VERSION


def test_the_installed_coverage_has_a_checked_data_format() -> None:
    """Loud, not skipped: a coverage.py nobody checked the recorder's data format on."""
    assert set(DATA_FORMATS) == set(RECORDER_KNOWS)
    assert coverage.__version__ in DATA_FORMATS, (
        f"coverage {coverage.__version__}: the data format covhook's recorder writes was "
        "never checked on it (it steps aside if data_format finds no known format). Fix: run "
        "tests/test_compat.py with it, check the recorder's files, and add it to DATA_FORMATS "
        "here and to RECORDER_KNOWS (tests/support/envs.py)"
    )


@pytest.mark.parametrize("branch", [False, True], ids=["line", "branch"])
def test_recorder_unpacks_and_hashes_as_coverage_does(tmp_path: Path, branch: bool) -> None:
    """The C tracer's raw data through coverage's own Collector and through the recorder."""
    from covhook.startup import recorder, sources_match

    need_known_data_format()

    src = tmp_path / "mod.py"
    src.write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
    cov = coverage.Coverage(data_file=str(tmp_path / "d"), branch=branch, config_file=False)
    # The C tracer's packed data (3.14+ default to sys.monitoring, whose raw data
    # the sysmon recorder keeps itself: tests/test_sysmon_recorder.py).
    cov.set_option("run:core", "ctrace")
    cov.start()
    try:
        namespace: dict[str, Any] = {"__file__": str(src)}
        exec(compile(src.read_text(), str(src), "exec"), namespace)
        namespace["f"](0)
        namespace["f"](1)
        collector = _compat.collector_of(cov)
        raw = {k: set(v) for k, v in collector.data.copy().items() if k == str(src)}
    finally:
        cov.stop()
    cov.save()
    data = cov.get_data()
    fmt = _compat.data_format(str(Path(coverage.__file__).parent))
    assert fmt is not None
    rec = recorder.Recorder.__new__(recorder.Recorder)
    rec.data = raw
    rec.format = fmt
    rec.plan = recorder.Plan(
        sources=sources_match.Sources({"source": [str(tmp_path)]}, str(tmp_path)), relative=None,
        branch=branch,
        data_file="", context=None, patch=frozenset(), options={},
    )  # fmt: skip
    lines, arcs = rec.lines_and_arcs()
    if branch:
        assert set(arcs[str(src)]) == set(data.arcs(str(src)) or ())
    else:
        assert lines[str(src)] == set(data.lines(str(src)) or ())
    if fmt.hashes:
        from coverage.misc import Hasher

        hasher = Hasher()
        hasher.update(None)
        hasher.update(str(src))
        hasher.update(
            arcs[str(src)] if branch else coverage.numbits.nums_to_numbits(lines[str(src)])
        )
        assert recorder._data_hash(None, lines, arcs).hexdigest()[:32] == hasher.hexdigest()


# -- nothing outside _compat reaches into another project's internals --------------

SRC = Path(_compat.__file__).parent
# Private names used outside _compat.py on purpose, each with why
# ("<path under src/covhook>: <name>", fnmatch patterns).  Anything else the
# scan below finds fails: move it into _compat with its versions, or list it.
ALLOWED = {
    "commands/*.py: ._SubParsersAction": "argparse's, in annotations only: the type "
    "add_subparsers() returns, as typeshed names it",
    "*: ._fields": "NamedTuple's documented API",
    "*: '_fields'": "NamedTuple's documented API",
    "*: ._replace": "NamedTuple's documented API",
    "*: ._exit": "os._exit is documented API",
    "*: '_exit'": "os._exit by name: coverage.py's documented [run] patch = _exit",
    "startup/sigwake.py: _thread": "_thread is a documented module",
    "startup/boot.py: _thread": "_thread is a documented module",
    "startup/boot.py: '_is_main_interpreter'": "CPython 3.12-3.15's, asked in every process "
    "the hook reaches (which must not import _compat): boot._in_subinterpreter says why",
    "startup/lazy.py: ._covhook": "covhook's own mark on the functions it wraps",
    "startup/lazy.py: '_covhook'": "covhook's own mark on the functions it wraps",
}
# startup/lazy.py's hooks use their names themselves (a waiting process does not
# import _compat); _compat.LAZY_PRIVATE_NAMES lists them with versions and why.
LAZY_LISTED = {
    f"startup/lazy.py: {form}"
    for name in _compat.LAZY_PRIVATE_NAMES
    for form in (f"'{name}'", f".{name}")
}
# Names of other projects' internals that do not start with "_".
PRIVATE_WITHOUT_UNDERSCORE = ("cov_append",)


def _private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and bool(name.strip("_")) and not dunder


def _covhook_names(trees: dict[str, ast.Module]) -> set[str]:
    """Names covhook defines itself (outside _compat): at module or class level, or on self.

    A function nested in another (a wrapper named after what it wraps) does not count.
    """
    own: set[str] = set()

    def define(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                own.add(node.name)
            elif isinstance(node, ast.ClassDef):
                own.add(node.name)
                define(node.body)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                own.update(t.id for t in targets if isinstance(t, ast.Name))
            elif isinstance(node, (ast.If, ast.Try)):
                define(node.body)

    for tree in trees.values():
        define(tree.body)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                own.add(node.attr)
    return own


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        kinds = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def private_touches(src: Path) -> set[str]:
    """``<file>: <name>`` for every private name of another project used outside _compat.py.

    Imports of private modules (``_imp``) or names (``from x import _y``),
    attributes (``cov._data``) and names in strings (``getattr(m, "_y")``)
    that covhook does not define itself.
    """
    trees = {
        str(p.relative_to(src)): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(src.rglob("*.py"))
        if p.name != "_compat.py"
    }
    own = _covhook_names(trees)
    found: set[str] = set()
    for rel, tree in trees.items():
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] != "covhook" and any(_private(p) for p in parts):
                        found.add(f"{rel}: {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] == "covhook":
                    continue
                if any(_private(p) for p in node.module.split(".")):
                    found.add(f"{rel}: {node.module}")
                found |= {f"{rel}: {a.name}" for a in node.names if _private(a.name)}
            elif isinstance(node, ast.Attribute):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                if (_private(node.attr) and node.attr not in own) or (
                    node.attr in PRIVATE_WITHOUT_UNDERSCORE
                ):
                    found.add(
                        f"{rel}: {'' if node.attr in PRIVATE_WITHOUT_UNDERSCORE else '.'}"
                        f"{node.attr}"
                    )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if id(node) in docs or text in own:
                    continue
                parts = text.split(".")
                if _private(parts[0]) and all(p.isidentifier() for p in parts):
                    found.add(f"{rel}: {text!r}")
    return found


def test_no_private_name_of_another_project_is_used_outside_compat() -> None:
    from fnmatch import fnmatchcase

    found = private_touches(SRC)
    unlisted = sorted(
        f for f in found if f not in LAZY_LISTED and not any(fnmatchcase(f, a) for a in ALLOWED)
    )
    assert not unlisted, (
        "private names of coverage / CPython / pytest-cov / cloudpickle used outside "
        f"src/covhook/_compat.py: {unlisted}. Fix: move each into _compat (versions + what "
        "breaks without it), or list it in ALLOWED here with its reason"
    )
    stale = sorted(a for a in ALLOWED if not any(fnmatchcase(f, a) for f in found))
    assert not stale, f"ALLOWED lists what the source no longer uses: {stale}"


def test_the_scan_finds_each_kind_of_private_touch(tmp_path: Path) -> None:
    """The scan above can fail: each form of reaching into another project is seen."""
    (tmp_path / "sample.py").write_text(
        "import _imp\n"
        "from _json import make_scanner\n"
        "from coverage.control import _prevent_sub_process_measurement\n"
        "def f(cov, config):\n"
        "    cov._data = None\n"
        "    return getattr(cov, '_collector'), config.option.cov_append\n"
    )
    assert private_touches(tmp_path) == {
        "sample.py: _imp",
        "sample.py: _json",
        "sample.py: _prevent_sub_process_measurement",
        "sample.py: ._data",
        "sample.py: '_collector'",
        "sample.py: cov_append",
    }


# -- moved here from startup/ (issue 24) ------------------------------------------


def test_import_lock_held_says_whether_an_import_is_running() -> None:
    """signals' wakeup thread: ``_imp.lock_held()``."""
    assert _compat.import_lock_held() is False
    seen: list[bool] = []
    module = types.ModuleType("covhook_test_importing")
    sys.modules.pop(module.__name__, None)

    class Finder:
        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name == module.__name__:
                seen.append(_compat.import_lock_held())
            return None

    sys.meta_path.insert(0, Finder())  # type: ignore[arg-type]
    try:
        with pytest.raises(ImportError):
            __import__(module.__name__)
    finally:
        sys.meta_path.pop(0)
    assert seen == [True]


def test_json_scanner_reads_what_json_reads() -> None:
    """config.decode: ``_json.make_scanner`` with a context that is not a JSONDecoder."""
    import json

    text = '{"a": [1, 2.5, "x", null, true], "b": {"c": "\\u00e9"}}'
    assert _compat.json_scanner()(text, 0) == (json.loads(text), len(text))


def test_c_socket_makes_the_wakeup_pair() -> None:
    """sigwake: ``_socket.socketpair`` and its constants, without ``import socket``."""
    c = _compat.c_socket()
    a, b = c.socketpair(c.AF_UNIX, c.SOCK_DGRAM)
    try:
        a.send(b"x")
        assert b.recv(1) == b"x"
        assert isinstance(c.SOL_SOCKET, int)
        assert isinstance(c.SO_PASSCRED, int)
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("name", _compat.COVERAGE_REPORT_MODULES)
def test_the_modules_lean_defers_are_coverages(name: str) -> None:
    import importlib.util

    assert importlib.util.find_spec(name) is not None, f"coverage has no {name} any more"


def test_sha3_is_hashlibs() -> None:
    """The recorder's data hash: ``_sha3.sha3_256``, the digest hashlib's gives."""
    import _sha3  # type: ignore[import-not-found]
    import hashlib

    h = _compat.sha3_256()
    assert isinstance(h, _sha3.sha3_256)
    h.update(b"covhook")
    assert h.hexdigest() == hashlib.sha3_256(b"covhook").hexdigest()


def test_lazy_touches_exactly_the_names_compat_lists() -> None:
    """Each of _compat.LAZY_PRIVATE_NAMES is used by startup/lazy.py, and nothing else is."""
    names = {
        f.split(": ", 1)[1].strip("'.")
        for f in private_touches(SRC)
        if f.startswith("startup/lazy.py: ") and f in LAZY_LISTED
    }
    assert names == set(_compat.LAZY_PRIVATE_NAMES)


def test_the_names_lazy_hooks_still_exist() -> None:
    """CPython's side of _compat.LAZY_PRIVATE_NAMES (cloudpickle's: the test below)."""
    import _thread
    import runpy
    import threading

    assert callable(sys.modules["_frozen_importlib"]._load_unlocked)
    assert callable(runpy._run_code)
    starters = [("_thread", "start_new_thread"), ("threading", "_start_new_thread")]
    if sys.version_info >= (3, 13):
        starters = [("_thread", "start_joinable_thread"), ("threading", "_start_joinable_thread")]
    modules = {"_thread": _thread, "threading": threading}
    for module, name in starters:
        assert callable(getattr(modules[module], name)), (module, name)
    compile("1", "<covhook>", "eval", _feature_version=-1)  # type: ignore[call-overload]
    assert _compat.caller_frame(0).f_code.co_name == "test_the_names_lazy_hooks_still_exist"


def test_cloudpickle_makes_by_value_functions_with_make_function() -> None:
    cloudpickle = pytest.importorskip("cloudpickle.cloudpickle")
    assert callable(cloudpickle._make_function)
