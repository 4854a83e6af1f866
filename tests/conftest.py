"""Shared fixtures: an isolated temp dir and environment for every test, and real venvs.

The ``fast`` layer is applied here, not by hand: every test that starts no
process gets the ``fast`` marker.  A test starts processes when it carries a
process layer's marker (slow, signals, launchers, pytest_plugin, ...,
``processes``) or when its code -- the test, its fixtures and the suite's own
helpers they name, followed transitively -- names subprocess, multiprocessing,
fork, posix_spawn, os.system, pytester, ... (``support.inprocess``).  While a
``fast`` test runs, starting a process fails it loudly; a test that starts one
inside covhook's code (where the rule does not look) is marked ``processes``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import envs, inprocess

# Fixtures every test may ask for: other users and their directories.
pytest_plugins = ["support.users"]


def pytest_configure(config: pytest.Config) -> None:
    """Give the processes the tests start the default signal dispositions and mask.

    SIG_IGN and the blocked mask are inherited across exec: run under ``nohup``
    or as a ``cmd &`` job of a shell without job control, every child ignores
    SIGHUP or SIGINT, so the signal tests' programs (measured *and* bare) would
    survive the signals the tests send them, and time out.
    """
    del config
    for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        if signal.getsignal(signum) == signal.SIG_IGN:
            handler = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            signal.signal(signum, handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``fast`` on every in-process test, before ``-m`` selects (hence tryfirst)."""
    inprocess.mark_fast(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A ``fast`` test that starts a process fails, naming what it started."""
    if item.get_closest_marker("fast") is None:
        return (yield)
    with inprocess.no_processes(item.nodeid) as refused:
        try:
            return (yield)
        finally:
            if refused:
                pytest.fail(
                    f"{item.nodeid} is marked fast (in-process) but started a process "
                    f"({refused[0]}). Fix: mark it 'processes' (see tests/support/inprocess.py)",
                    pytrace=False,
                )


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run each test in its own temp dir, with os.environ restored afterwards.

    Under ``pytest -n N`` the outer run's ``PYTEST_XDIST_*`` variables would reach
    every process a test starts (an inner pytester run believes it is a worker;
    covhook tags the processes ``xdist-gwN``): they go too.
    """
    saved = dict(os.environ)
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("COVERAGE_", "COVHOOK_", "PYTEST_XDIST_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("COVHOOK_STATE_DIR", str(tmp_path / "_covhook_state"))
    monkeypatch.setenv("COVHOOK_CACHE_DIR", str(tmp_path / "_covhook_cache"))
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """covhook's wheel, built once from this checkout."""
    return envs.build_wheel(tmp_path_factory.mktemp("wheel"))


_ENVS: dict[tuple[str, str], envs.Env] = {}
EnvFactory = Callable[..., envs.Env]


@pytest.fixture(scope="session")
def make_covhook_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> EnvFactory:
    """Factory: a venv with covhook (from the wheel) and a given coverage, cached per session."""

    def make(python: str = envs.THIS_PYTHON, coverage: str = envs.THIS_COVERAGE) -> envs.Env:
        """By default the runner's Python and coverage: each matrix cell tests its own pair."""
        key = (python, coverage)
        if key not in _ENVS:
            interpreter = envs.PYTHONS[python]
            if not interpreter.exists():
                pytest.skip(f"Python {python} is not installed at {interpreter}")
            root = tmp_path_factory.mktemp(f"venv-{python}-{coverage.replace('=', '')}")
            _ENVS[key] = envs.make_env(root, interpreter, coverage, str(wheel))
        return _ENVS[key]

    return make
