"""What covhook's pytest plugin does in each role a measured pytest process can have.

As pytest-cov's ``engine.py`` (``Central`` / ``DistMaster`` / ``DistWorker``):
the hooks stay in :mod:`covhook.pytest_plugin`, the work of each role is one
small class here, over the shared :class:`Role`.  :func:`role_for` picks the
role once, when the plugin activates, from who started the Coverage that
measures pytest and where this process sits in an xdist run:

- :class:`Hooked`: started at interpreter start-up (``covhook run`` /
  ``covhook split``, a parent's configuration): its children must get their
  own tag; covhook run / split note and report unmeasured children.
- :class:`Central`: plain pytest under pytest-cov, which combines and reports
  at the end; :class:`DistController` and :class:`DistWorker` are its xdist
  controller (runs no tests) and workers.
- :class:`CoverageRun`: anything else, ``coverage run -m pytest`` mostly: the
  children's files are merged into the data it saves at the end.
- :class:`HookedWorker` / :class:`RunWorker`: an xdist worker of the first or
  the last; its controller counts and reports.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import TYPE_CHECKING

from covhook import _compat, layout

if TYPE_CHECKING:
    from collections.abc import Callable

    import pytest
    from coverage import Coverage


def base_data_file(cov: Coverage) -> str:
    """The absolute data file name children append ``.<tag>.<suffix>`` to."""
    return layout.split_tagged_path(os.path.abspath(str(cov.get_option("run:data_file"))))[0]


def child_config(cov: Coverage) -> str:
    """The running configuration, serialized for ``COVERAGE_PROCESS_CONFIG``.

    pytest-cov without a config file leaves ``config_file`` None, and
    coverage.py's ``patch = subprocess`` (covhook's default) asserts it is set
    in the child; an empty name satisfies it and is never read.  A tag this
    process got from covhook (data file suffix, context) is removed so that
    each child gets its own.
    """
    base, tag = layout.split_tagged_path(os.path.abspath(str(cov.get_option("run:data_file"))))
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


class Role:
    """Per-session state: what we set, which files were there before, what we saw.

    The default behaviour is a process that measures and reports on its own
    and whose children get this process's configuration when nobody passed
    one on; each role overrides the steps that differ.
    """

    # pytest-cov's own data files (its xdist workers') carry no covhook tag.
    untagged_is_pytest = False

    def __init__(self, config: pytest.Config, cov: Coverage) -> None:
        self.config = config
        self.cov = cov
        self.data_file = base_data_file(cov)
        self.pytest_pids = {os.getpid()}
        self.we_set_env = False
        self.saved_env: str | None = None
        self.counted: Counter[str] | None = None
        self.origins: set[str] = set()
        self.merged = False
        self.undo: list[Callable[[], None]] = []
        self.before = set(self._files())
        self.skipped_before = self._skipped()

    # -- start ----------------------------------------------------------------

    def start(self) -> None:
        """Pass the running configuration to every child process."""
        self.hand_config_on()
        self.watch_scrubbed_children()
        self.patch_process_tree()
        self.prepare_data_dir()

    def hand_config_on(self) -> None:
        """Children get this configuration unless the user passed one on."""
        if not os.environ.get("COVERAGE_PROCESS_CONFIG") and not os.environ.get(
            "COVERAGE_PROCESS_START"
        ):
            self._set_env(child_config(self.cov))

    def watch_scrubbed_children(self) -> None:
        """Note (or measure) children the tests start with a scrubbed environment.

        A process the start-up hook started does this already; pytest-cov and
        ``coverage run`` do not, so without this such children ran unmeasured
        without a word.
        """
        from covhook.startup import children
        from covhook.startup.config import read_section

        config_file = str(self.cov.config.config_file or "")
        options = read_section(config_file) if os.path.isfile(config_file) else {}
        children.install(os.path.dirname(self.data_file), options)

    def patch_process_tree(self) -> None:
        """Only pytest-cov's Coverage misses covhook's ``[run] patch`` defaults."""

    def prepare_data_dir(self) -> None:
        """Only pytest-cov erases the previous data at start."""

    # -- end of the session -----------------------------------------------------

    def tests_done(self) -> None:
        """After the test loop, before pytest-cov combines: only its roles count here."""

    def add_worker_pid(self, pid: int) -> None:
        self.pytest_pids.add(pid)

    def session_end(self) -> None:
        """Count the children and fold them where this role's report reads them."""
        self.count()
        self.merge_into_running()

    def terminal_lines(self, verbose: bool, quiet: bool) -> list[str]:
        """The terminal summary lines (the notes they report are then removed)."""
        self.session_end()
        unmeasured = self.unmeasured_line()
        skipped = self.skipped_line()
        if quiet:
            return []
        lines = []
        # Only what adds something to pytest's (and pytest-cov's) own output:
        # children measured, or some not (issue 26); -v always.
        if self.children() or unmeasured or skipped or verbose:
            lines.append(self.summary_line())
        lines += [line for line in (unmeasured, skipped) if line]
        if verbose:
            lines += [f"covhook:   {tag}" for tag in sorted(self.origins)]
        return lines

    def finish(self) -> None:
        self.session_end()
        self.stop()

    def stop(self) -> None:
        while self.undo:
            self.undo.pop()()
        if self.we_set_env:
            if self.saved_env is None:
                os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
            else:
                os.environ["COVERAGE_PROCESS_CONFIG"] = self.saved_env
            self.we_set_env = False

    # -- shared work ------------------------------------------------------------

    def _skipped(self) -> int:
        """Processes the scope skipped so far (lazy start, issue 9)."""
        from covhook import notes

        return notes.skipped_count(os.path.dirname(self.data_file))

    def skipped_line(self) -> str | None:
        from covhook import notes

        return notes.skipped_line(self._skipped() - self.skipped_before)

    def _files(self) -> list[str]:
        return layout.parallel_files(self.data_file)

    def unmeasured_line(self) -> str | None:
        """The line about children that ran without coverage (their notes are then removed)."""
        from covhook import notes

        directory = os.path.dirname(self.data_file)
        found = notes.unmeasured(directory)
        if not found:
            return None
        notes.forget(directory)
        return notes.unmeasured_line(len(found), found[0])

    def _set_env(self, value: str) -> None:
        self.saved_env = os.environ.get("COVERAGE_PROCESS_CONFIG")
        os.environ["COVERAGE_PROCESS_CONFIG"] = value
        self.we_set_env = True

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
            if pid in self.pytest_pids or (tag is None and self.untagged_is_pytest):
                kind = "pytest"
            else:
                kind = kind_of(tag)
                if tag:
                    self.origins.add(tag)
            # Children: one per data file, as combine's per-origin table counts them
            # (a process that exec'd wrote one file before and one after, same pid).
            pids.setdefault(kind, set()).add(pid if kind == "pytest" else os.path.basename(path))
        self.counted = Counter({kind: len(found) for kind, found in pids.items()})

    def merge_into_running(self) -> None:
        """Only ``coverage run`` (and covhook's start) report from the data pytest saves."""

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


class CoverageRun(Role):
    """``coverage run -m pytest`` (or a Coverage a conftest started): no pytest-cov, no hook."""

    def merge_into_running(self) -> None:
        """``coverage run`` (not parallel): fold the children into the data it will save."""
        if self.merged:
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


class Hooked(CoverageRun):
    """Coverage started at interpreter start-up: covhook run / split, a parent's config."""

    def hand_config_on(self) -> None:
        if os.environ.get("COVERAGE_PROCESS_CONFIG"):
            # The start-up hook's ``patch = subprocess`` passed on this
            # process's tagged config: children would inherit our tag.
            self._set_env(child_config(self.cov))
        else:
            super().hand_config_on()

    def watch_scrubbed_children(self) -> None:
        """The start-up hook watched them already."""

    def unmeasured_line(self) -> str | None:
        return None  # covhook run / split report them after combining


class Central(Role):
    """pytest-cov measures this pytest and will combine and report at the end."""

    untagged_is_pytest = True

    def patch_process_tree(self) -> None:
        """Give pytest-cov's Coverage the ``[run] patch`` defaults every covhook start has.

        Without ``_exit``, fork workers of this process (multiprocessing pools,
        prefork servers started by a test) end in ``os._exit`` unsaved and
        their lines are lost (issue 20).  pytest-cov 7.1 creates and starts its
        Coverage in one call in ``pytest_load_initial_conftests``, before any
        hook of this plugin runs, and coverage.py applies ``[run] patch`` in
        ``start()``; so the patches its config leaves out are added here,
        after the fact, as covhook's recorder adds them
        (:func:`covhook.startup.config.effective_patch` decides which).
        ``subprocess`` is :meth:`hand_config_on`.  A save happens only while
        pytest-cov measures: once it has finished (its xdist workers exit
        after that) nothing is written twice.
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

    def prepare_data_dir(self) -> None:
        """pytest-cov erases old data unless ``--cov-append``; our stale child files go too.

        Its combine would still sweep them up.
        """
        if _compat.pytest_cov_appends(self.config.option):
            return
        for path in list(self.before):
            if layout.tag_of(path, self.data_file) is not None:
                try:
                    os.remove(path)
                except OSError:
                    continue
                self.before.discard(path)
        from covhook import notes

        notes.forget_skipped(os.path.dirname(self.data_file))
        self.skipped_before = 0

    def tests_done(self) -> None:
        self.count()


class DistController(Central):
    """pytest-cov's xdist controller: it runs no tests; its workers start their own coverage."""

    def hand_config_on(self) -> None:
        """The workers hand their configuration on."""

    def patch_process_tree(self) -> None:
        """It starts no test processes but its workers, which patch their own."""


class _Worker(Role):
    """An xdist worker: it tells its controller its pid; the controller counts and reports."""

    def prepare_data_dir(self) -> None:
        self.config.workeroutput["covhook_pid"] = os.getpid()  # type: ignore[attr-defined]

    def tests_done(self) -> None:
        """The controller counts."""

    def terminal_lines(self, verbose: bool, quiet: bool) -> list[str]:
        return []

    def finish(self) -> None:
        self.stop()


class DistWorker(_Worker, Central):
    """A pytest-cov xdist worker."""


class HookedWorker(_Worker, Hooked):
    """An xdist worker the start-up hook measures (``covhook run pytest -n 2``...)."""


class RunWorker(_Worker, CoverageRun):
    """An xdist worker measured by neither pytest-cov nor the start-up hook."""


def role_for(config: pytest.Config, cov: Coverage) -> Role:
    """The role of this pytest process, decided once when the plugin activates."""
    worker = hasattr(config, "workerinput")
    if cov is _compat.startup_coverage(sys.modules["coverage"]):
        return (HookedWorker if worker else Hooked)(config, cov)
    if not _compat.pytest_cov_active(config.pluginmanager):
        return (RunWorker if worker else CoverageRun)(config, cov)
    if worker:
        return DistWorker(config, cov)
    if getattr(config.option, "dist", "no") not in ("no", None):
        return DistController(config, cov)
    return Central(config, cov)
