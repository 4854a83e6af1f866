"""pytest plugin: when coverage measures pytest, measure the tests' child processes too.

Loaded in every pytest run (entry point ``pytest11``), it stays inert unless
coverage is *measuring* the pytest process: pytest-cov's ``--cov`` or
``coverage run -m pytest``.  Then it hands the running configuration to child
processes through ``COVERAGE_PROCESS_CONFIG`` (what ``[run] patch =
subprocess`` does, which pytest-cov 7 asks users to set by hand), so covhook's
start-up hook measures every Python process the tests start and tags its data
file ``<data_file>.<tag>.<suffix>``.  Those files sit next to the data file:

- under pytest-cov, its own end-of-session combine picks them up, so they are
  in the report it prints and in ``--cov-fail-under``;
- under ``coverage run`` (not parallel), they are merged into the running
  measurement at the end of the session, so ``coverage report`` shows them.

A one-line terminal summary says how many processes of which kind contributed.
The inactive path costs one ``sys.modules`` lookup per hook.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from covhook import _compat, layout, settings

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from coverage import Coverage

_ENV_VARS = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")
PLUGIN_NAME = "covhook-children"


def measuring_coverage() -> Coverage | None:
    """The Coverage object measuring this process, or None (never imports coverage)."""
    if "coverage" not in sys.modules:
        return None
    import coverage

    cov = coverage.Coverage.current()
    if cov is None or not _compat.is_started(cov):
        return None
    return cov


def base_data_file(cov: Coverage) -> str:
    """The absolute data file name children append ``.<tag>.<suffix>`` to."""
    from covhook.layout import split_tagged_path

    return split_tagged_path(os.path.abspath(str(cov.get_option("run:data_file"))))[0]


def child_config(cov: Coverage) -> str:
    """The running configuration, serialized for ``COVERAGE_PROCESS_CONFIG``.

    pytest-cov without a config file leaves ``config_file`` None, and
    coverage.py's ``patch = subprocess`` (covhook's default) asserts it is set
    in the child; an empty name satisfies it and is never read.  A tag this
    process got from covhook (data file suffix, context) is removed so that
    each child gets its own.
    """
    from covhook.layout import split_tagged_path

    # A process covhook started carries its own tag as data file suffix and
    # context; each child must get its own.
    base, tag = split_tagged_path(os.path.abspath(str(cov.get_option("run:data_file"))))
    return _compat.serialized_config(cov, base, drop_context=tag)


def kind_of(tag: str | None) -> str:
    """What started a process, from its tag: ``torch``, ``mpi``, ``docker``... or ``subprocess``."""
    from covhook.origin import parse_tag

    found = parse_tag(tag) if tag else None
    if found is None:
        return "untagged"
    for role in found.roles:
        kind = role.split("-", 1)[0]
        if kind not in ("xdist", "split"):
            return kind
    return "subprocess" if found.kind in ("host", "origin") else found.kind


def own_split_role() -> str | None:
    """``split-2of4`` when this pytest is one split of ``covhook split``."""
    from covhook.origin import detect_roles

    return next((r for r in detect_roles(os.environ) if r.startswith("split-")), None)


class ChildCoverage:
    """Per-session state: what we set, which files were there before, what we saw."""

    def __init__(self, config: pytest.Config, cov: Coverage) -> None:
        self.config = config
        self.cov = cov
        self.data_file = base_data_file(cov)
        self.is_worker = hasattr(config, "workerinput")
        self.pytest_pids = {os.getpid()}
        self.we_set_env = False
        self.saved_env: str | None = None
        self.counted: Counter[str] | None = None
        self.origins: set[str] = set()
        self.merged = False
        self.undo: list[Callable[[], None]] = []
        self.before = set(self._files())
        self.skipped_before = self._skipped()

    @property
    def started_by_hook(self) -> bool:
        """Coverage was started at interpreter start-up (covhook run/split, a parent's config)."""
        return self.cov is _compat.startup_coverage(sys.modules["coverage"])

    @property
    def under_pytest_cov(self) -> bool:
        """pytest-cov measures this process and will combine and report at the end."""
        return _compat.pytest_cov_active(self.config.pluginmanager) and not self.started_by_hook

    @property
    def is_xdist_controller(self) -> bool:
        """pytest-cov's xdist controller runs no tests; its workers start their own coverage."""
        dist = getattr(self.config.option, "dist", "no")
        return self.under_pytest_cov and not self.is_worker and dist not in ("no", None)

    def _skipped(self) -> int:
        """Processes the scope skipped so far (lazy start, issue 9)."""
        from covhook import notes

        return notes.skipped_count(os.path.dirname(self.data_file))

    def skipped_line(self) -> str | None:
        from covhook import notes

        return notes.skipped_line(self._skipped() - self.skipped_before)

    def _files(self) -> list[str]:

        return layout.parallel_files(self.data_file)

    def start(self) -> None:
        """Pass the running configuration to every child process."""
        current = os.environ.get("COVERAGE_PROCESS_CONFIG")
        if not current and not os.environ.get("COVERAGE_PROCESS_START"):
            if not self.is_xdist_controller:
                self._set_env(child_config(self.cov))
        elif current and self.started_by_hook:
            # Started by the start-up hook, whose ``patch = subprocess`` passed
            # on this process's tagged config: children would inherit our tag.
            self._set_env(child_config(self.cov))
        self._note_scrubbed_children()
        if self.under_pytest_cov and not self.is_xdist_controller:
            self._add_process_tree_patches()
        if self.is_worker:
            self.config.workeroutput["covhook_pid"] = os.getpid()  # type: ignore[attr-defined]
        elif self.under_pytest_cov and not _compat.pytest_cov_appends(self.config.option):
            # pytest-cov erases old data unless --cov-append; its combine would
            # still sweep up our stale child files, so they go too.
            self._remove_stale_children()
            from covhook import notes

            notes.forget_skipped(os.path.dirname(self.data_file))
            self.skipped_before = 0

    def _add_process_tree_patches(self) -> None:
        """Give pytest-cov's Coverage the ``[run] patch`` defaults every covhook start has.

        Without ``_exit``, fork workers of this process (multiprocessing pools,
        prefork servers started by a test) end in ``os._exit`` unsaved and
        their lines are lost (issue 20).  pytest-cov 7.1 creates and starts its
        Coverage in one call in ``pytest_load_initial_conftests``, before any
        hook of this plugin runs, and coverage.py applies ``[run] patch`` in
        ``start()``; so the patches its config leaves out are added here,
        after the fact, as covhook's recorder adds them
        (:func:`covhook.startup.config.effective_patch` decides which).
        ``subprocess`` is :meth:`start` passing the configuration on.  A save
        happens only while pytest-cov measures: once it has finished (its
        xdist workers exit after that) nothing is written twice.
        """
        import coverage

        from covhook.startup import config, defaults

        given = [str(p) for p in self.cov.get_option("run:patch") or []]  # type: ignore[union-attr]
        missing = set(config.effective_patch(given, coverage.version_info)) - set(given)
        plugins = self.config.pluginmanager

        def save() -> None:
            # pytest-cov's Coverage of the moment: an xdist worker replaces the
            # one this plugin saw at configure time with its DistWorker's.
            cov = _compat.pytest_cov_measuring(plugins)
            if cov is not None and _compat.is_started(cov):
                cov.save()

        if "_exit" in missing:
            self.undo.append(defaults.save_before_exit(save))
        if "execv" in missing:
            passed = os.environ.get("COVERAGE_PROCESS_CONFIG")
            self.undo.append(defaults.save_before_exec(save, passed))

    def _note_scrubbed_children(self) -> None:
        """Note (or measure) children the tests start with a scrubbed environment.

        A process the start-up hook started does this already; pytest-cov and
        ``coverage run`` do not, so without this such children ran unmeasured
        without a word.
        """
        if self.started_by_hook:
            return
        from covhook.startup import children
        from covhook.startup.config import read_section

        config_file = str(self.cov.config.config_file or "")
        options = read_section(config_file) if os.path.isfile(config_file) else {}
        children.install(os.path.dirname(self.data_file), options)

    def unmeasured_line(self) -> str | None:
        """The line about children that ran without coverage (their notes are then removed)."""
        if self.started_by_hook:
            return None  # covhook run / split report them after combining
        from covhook import notes

        directory = os.path.dirname(self.data_file)
        found = notes.unmeasured(directory)
        if not found:
            return None
        notes.forget(directory)
        return notes.unmeasured_line(len(found), found[0])

    def _remove_stale_children(self) -> None:

        for path in list(self.before):
            if layout.tag_of(path, self.data_file) is not None:
                try:
                    os.remove(path)
                except OSError:
                    continue
                self.before.discard(path)

    def _set_env(self, value: str) -> None:
        self.saved_env = os.environ.get("COVERAGE_PROCESS_CONFIG")
        os.environ["COVERAGE_PROCESS_CONFIG"] = value
        self.we_set_env = True

    def stop(self) -> None:
        while self.undo:
            self.undo.pop()()
        if self.we_set_env:
            if self.saved_env is None:
                os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
            else:
                os.environ["COVERAGE_PROCESS_CONFIG"] = self.saved_env
            self.we_set_env = False

    def count(self) -> None:
        """Count the new data files per kind, before anyone combines them away."""
        if self.counted is not None:
            return

        pids: dict[str, set[int | str]] = {"pytest": {os.getpid()}}
        mine = own_split_role()
        for path in self._files():
            if path in self.before:
                continue
            tag = layout.tag_of(path, self.data_file)
            if mine and (tag is None or mine not in tag.split("_")):
                continue  # another split's process, running beside us
            pid: int | str = layout.pid_of(path) or path
            if pid in self.pytest_pids or (tag is None and self.under_pytest_cov):
                kind = "pytest"
            else:
                kind = kind_of(tag)
                if tag:
                    self.origins.add(tag)
            # Children: one per data file, as combine's per-origin table counts them
            # (a process that exec'd wrote one file before and one after, same pid).
            pids.setdefault(kind, set()).add(pid if kind == "pytest" else os.path.basename(path))
        counted = Counter({kind: len(found) for kind, found in pids.items()})
        self.counted = counted

    def merge_into_running(self) -> None:
        """``coverage run`` (not parallel): fold the children into the data it will save."""
        if self.merged or self.under_pytest_cov or self.is_worker:
            return
        self.merged = True
        if self.cov.get_option("run:parallel"):
            return  # the user combines parallel runs; the children are there too
        new = [p for p in self._files() if p not in self.before]
        if not new:
            return
        with _compat.no_data_warning_off(self.cov):
            data = self.cov.get_data()
        # covhook's combine service (fast, one update; unusable files named and kept).
        from covhook.host import fold

        configured = self.cov.get_option("paths")  # coverage 7.10-7.17: a dict of lists
        paths = dict(configured) if isinstance(configured, dict) else {}
        fold.fold_into(data, new, paths, bool(self.cov.get_option("run:relative_files")))

    def children(self) -> int:
        """Measured processes other than pytest's own (its xdist workers included)."""
        counted = self.counted or Counter[str]()
        return sum(counted.values()) - counted.get("pytest", 0)

    def summary_line(self) -> str:
        counted = self.counted or Counter[str]()
        total = sum(counted.values())
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counted.items()))
        children = self.children()
        return (
            f"covhook: {total} measured process{'es' if total != 1 else ''} "
            f"({kinds or 'none'}); {children} child process{'es' if children != 1 else ''} "
            f"from {len(self.origins)} origin{'s' if len(self.origins) != 1 else ''}"
        )


_KEY = pytest.StashKey["ChildCoverage | None"]()


def _state(config: pytest.Config) -> ChildCoverage | None:
    return config.stash.get(_KEY, None)


def _activate(config: pytest.Config) -> None:
    if _state(config) is not None or settings.disabled():
        return
    cov = measuring_coverage()
    if cov is None:
        return
    state = ChildCoverage(config, cov)
    config.stash[_KEY] = state
    state.start()
    from covhook import pytest_contexts

    pytest_contexts.register(config, cov)  # only when per-test contexts are asked for


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    _activate(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # pytest-cov starts an xdist worker's coverage only here.
    _activate(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    state = _state(node.config)
    output = getattr(node, "workeroutput", {}) or {}
    if state is not None and "covhook_pid" in output:
        state.pytest_pids.add(int(output["covhook_pid"]))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    # trylast: the innermost wrapper, so this runs before pytest-cov combines.
    result = yield
    state = _state(session.config)
    if state is not None and state.under_pytest_cov and not state.is_worker:
        state.count()
    return result


def _no_cover(item: pytest.Item) -> bool:
    """pytest-cov's ``no_cover`` marker or fixture: the test runs unmeasured."""
    return item.get_closest_marker("no_cover") is not None or "no_cover" in getattr(
        item, "fixturenames", ()
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A ``no_cover`` test's children run unmeasured too, as pytest-cov pauses the test itself.

    pytest-cov pauses its Coverage only around the test call; the variables
    that hand the configuration to children are taken out for the same span
    (and put back after), so neither covhook's hook nor coverage's own starts
    in a child, and no "ran without coverage" note is written for it.
    """
    if _state(item.config) is None or not _no_cover(item):
        return (yield)
    saved = {name: os.environ.pop(name) for name in _ENV_VARS if name in os.environ}
    try:
        return (yield)
    finally:
        os.environ.update(saved)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = _state(config)
    if state is None or state.is_worker:
        return
    state.count()
    state.merge_into_running()
    unmeasured = state.unmeasured_line()
    skipped = state.skipped_line()
    if settings.value("quiet"):
        return
    # Only what adds something to pytest's (and pytest-cov's) own output:
    # children measured, or some not (issue 26); -v always.
    if state.children() or unmeasured or skipped or config.option.verbose > 0:
        terminalreporter.write_line(state.summary_line())
    if unmeasured:
        terminalreporter.write_line(unmeasured)
    if skipped:
        terminalreporter.write_line(skipped)
    if config.option.verbose > 0 and state.origins:
        for tag in sorted(state.origins):
            terminalreporter.write_line(f"covhook:   {tag}")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is None:
        return
    if not state.is_worker:
        state.count()
        state.merge_into_running()
    state.stop()
    from covhook import pytest_contexts

    pytest_contexts.unregister(config)
    config.stash[_KEY] = None
