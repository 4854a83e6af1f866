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
from typing import TYPE_CHECKING, Any

import pytest

from covhook import _compat, settings

if TYPE_CHECKING:
    from collections.abc import Generator

    from coverage import Coverage

    from covhook.pytest_engine import Role

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


_KEY = pytest.StashKey["Role | None"]()


def _state(config: pytest.Config) -> Role | None:
    return config.stash.get(_KEY, None)


def _activate(config: pytest.Config) -> None:
    if _state(config) is not None or settings.disabled():
        return
    cov = measuring_coverage()
    if cov is None:
        return
    from covhook import pytest_engine

    state = pytest_engine.role_for(config, cov)  # chosen once, here
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
        state.add_worker_pid(int(output["covhook_pid"]))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    # trylast: the innermost wrapper, so this runs before pytest-cov combines.
    result = yield
    state = _state(session.config)
    if state is not None:
        state.tests_done()
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
    if state is None:
        return
    lines = state.terminal_lines(config.option.verbose > 0, quiet=bool(settings.value("quiet")))
    for line in lines:
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = _state(config)
    if state is None:
        return
    state.finish()
    from covhook import pytest_contexts

    pytest_contexts.unregister(config)
    config.stash[_KEY] = None
