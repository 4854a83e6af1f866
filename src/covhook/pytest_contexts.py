"""Per-test contexts that follow children: which test ran this line, in every process (issue 22).

When per-test contexts are asked for (pytest-cov's ``--cov-context=test``,
``[run] dynamic_context = test_function``, or covhook's ``test_context``
setting) and covhook's pytest plugin is active, this plugin puts the running
test in ``COVHOOK_TEST`` (``<node id>|<phase>``, phases named as pytest-cov
names them: setup, run, teardown) for the span of each phase.  Processes
started then inherit it and record under ``<origin>|<node id>|<phase>``
(:mod:`covhook.startup.testcontext`); a fork child of pytest itself keeps
pytest's Coverage, so it switches to that context right after the fork.

Registered only when contexts are on: off, pytest runs none of its hooks.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

import pytest

from covhook import _compat, settings
from covhook.startup.testcontext import ENV, FILE_ENV

if TYPE_CHECKING:
    from collections.abc import Generator

    from coverage import Coverage

PLUGIN_NAME = "covhook-test-contexts"
PHASES = ("setup", "run", "teardown")

# The Coverage a fork child of this pytest process switches (None: off).
_forking_cov: Coverage | None = None
_fork_hook_registered = False


def wanted(config: pytest.Config, cov: Coverage, options: dict[str, Any]) -> bool:
    """Whether per-test contexts are asked for, in any of the three ways."""
    if getattr(config.option, "cov_context", None) == "test":
        return True
    if cov.get_option("run:dynamic_context") == "test_function":
        return True
    return bool(settings.value("test_context", options))


def covhook_options(cov: Coverage) -> dict[str, Any]:
    """The ``[covhook]`` section of the config file ``cov`` read, or {}."""
    from covhook.startup.options import read_section

    config_file = str(getattr(cov.config, "config_file", None) or "")
    try:
        return read_section(config_file) if os.path.isfile(config_file) else {}
    except Exception:  # a broken file was reported when coverage read it
        return {}


class TestContexts:
    """``COVHOOK_TEST`` set around each phase of each test, restored after.

    The running test is also kept in a file (``COVHOOK_TEST_FILE``): a process
    that outlives its test reads it when it forks, so its fork children
    (a forkserver's, a server's forking per request) take the test running
    then (:func:`covhook.startup.testcontext.follow_forks`).
    """

    def __init__(self) -> None:
        import tempfile

        fd, self.path = tempfile.mkstemp(prefix="covhook-test-", suffix=".txt")
        os.close(fd)
        self.saved_file_env = os.environ.get(FILE_ENV)
        os.environ[FILE_ENV] = self.path

    def close(self) -> None:
        if self.saved_file_env is None:
            os.environ.pop(FILE_ENV, None)
        else:
            os.environ[FILE_ENV] = self.saved_file_env
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _write(self, test: str) -> None:
        """Replace the file's content at once: a forking process never reads half of it."""
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(test)
            os.replace(tmp, self.path)
        except OSError:
            return  # fork children keep the test of their parent

    def _phase(self, item: pytest.Item, when: str) -> Generator[None, object, object]:
        saved = os.environ.get(ENV)
        os.environ[ENV] = f"{item.nodeid}|{when}"
        self._write(os.environ[ENV])
        try:
            return (yield)
        finally:
            if saved is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = saved
            self._write(saved or "")

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        return (yield from self._phase(item, "setup"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        return (yield from self._phase(item, "run"))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, object, object]:
        return (yield from self._phase(item, "teardown"))


def _after_fork_in_child() -> None:
    """A fork child of pytest: its lines go under ``<origin>|<test>|<phase>`` too."""
    cov = _forking_cov
    test = os.environ.get(ENV)
    if cov is None or not test:
        return
    try:
        from covhook.origin import detect
        from covhook.startup.testcontext import static_context

        if _compat.is_started(cov):
            configured = cov.get_option("run:context")
            context = static_context(detect().tag, str(configured or ""))
            _compat.switch_collector_context(cov, context)
    except Exception:
        return  # the child keeps pytest's context: never break the child


def register(config: pytest.Config, cov: Coverage) -> bool:
    """Turn per-test contexts on for this session if asked for; whether they are."""
    if not wanted(config, cov, covhook_options(cov)):
        return False
    global _forking_cov, _fork_hook_registered
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(TestContexts(), PLUGIN_NAME)
    _forking_cov = cov
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _fork_hook_registered = True
    return True


def unregister(config: pytest.Config) -> None:
    global _forking_cov
    _forking_cov = None
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if plugin is not None:
        config.pluginmanager.unregister(plugin)
        if isinstance(plugin, TestContexts):
            plugin.close()
