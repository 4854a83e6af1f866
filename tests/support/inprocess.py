"""Which tests run in-process (the ``fast`` layer), and the guard that keeps them so.

The rule (conftest applies it at collection): a test is in-process unless
it carries a marker of a process layer (``PROCESS_MARKERS``), or the code it
runs refers to a name that starts processes (``PROCESS_NAMES``).  "The code
it runs" is the test function, the fixtures it asks for, and the functions of
the tests' own modules (test modules, conftest, ``support``) that any of those
name, followed transitively; covhook's own code is not followed.

The rule is read from the code, so it can miss a process started inside
covhook's code (``main(["run", ...])``): the guard makes that loud.  While a
``fast`` test runs, fork / posix_spawn / fork_exec / os.system are refused and
the test fails naming what it started.  Fix: mark such a test ``processes``.
"""

from __future__ import annotations

import _posixsubprocess
import inspect
import os
import subprocess
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

# Markers of the process layers: their tests are never fast.
PROCESS_MARKERS = frozenset(
    {
        "processes",
        "slow",
        "launchers",
        "torch",
        "mpi",
        "ray",
        "dask",
        "signals",
        "frameworks",
        "containers",
        "docker",
        "podman",
        "pytest_plugin",
        "splits",
    }
)
# Names (modules, functions, attributes, fixtures) whose use starts a process.
PROCESS_NAMES = frozenset(
    {
        "subprocess",
        "multiprocessing",
        "concurrent",
        "ProcessPoolExecutor",
        "Popen",
        "fork",
        "forkpty",
        "posix_spawn",
        "posix_spawnp",
        "spawnv",
        "system",
        "pytester",
        "testdir",
    }
)


def _ours(obj: object) -> bool:
    """A function or module of the test suite itself (followed), not a library's."""
    name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    parts = name.split(".") if isinstance(name, str) else [""]
    return parts[0] in ("support", "conftest") or parts[-1].startswith(("test_", "conftest"))


def _names(code: types.CodeType) -> Iterator[str]:
    """Global and attribute names a code object (and the code nested in it) uses."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def starts_processes(func: Callable[..., Any], seen: set[types.CodeType] | None = None) -> bool:
    """Whether ``func`` or the suite's functions it names refer to a process-starting name."""
    seen = set() if seen is None else seen
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None or code in seen:
        return False
    seen.add(code)
    names = set(_names(code))
    if names & PROCESS_NAMES:
        return True
    scope: dict[str, Any] = getattr(func, "__globals__", {})
    for name in names:
        found = scope.get(name)
        if isinstance(found, types.ModuleType) and _ours(found):
            used = (getattr(found, attr, None) for attr in names)
            if any(callable(f) and _ours(f) and starts_processes(f, seen) for f in used):
                return True
        elif callable(found) and _ours(found) and starts_processes(found, seen):
            return True
    return False


def in_process(item: pytest.Item) -> bool:
    """The rule above, for one collected test."""
    if not isinstance(item, pytest.Function):
        return False
    if any(mark.name in PROCESS_MARKERS for mark in item.iter_markers()):
        return False
    if PROCESS_NAMES & set(item.fixturenames):
        return False
    funcs: list[Callable[..., Any]] = [item.obj]
    for defs in item._fixtureinfo.name2fixturedefs.values():
        funcs.extend(d.func for d in defs if _ours(d.func))
    seen: set[types.CodeType] = set()
    return not any(starts_processes(f, seen) for f in funcs)


def mark_fast(items: Iterable[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("fast") is None and in_process(item):
            item.add_marker(pytest.mark.fast)


# The lowest-level ways a process is started here (POSIX): subprocess (3.11:
# _posixsubprocess.fork_exec; 3.12+: subprocess._fork_exec, or os.posix_spawn),
# multiprocessing (os.fork; spawn/forkserver through _posixsubprocess.fork_exec).
_STARTERS: list[tuple[Any, str]] = [
    (os, "fork"),
    (os, "forkpty"),
    (os, "posix_spawn"),
    (os, "posix_spawnp"),
    (os, "system"),
    (_posixsubprocess, "fork_exec"),
    (subprocess, "_fork_exec"),
]


@contextmanager
def no_processes(test: str) -> Iterator[list[str]]:
    """Refuse every process start; yields the list of refused starts (to fail on)."""
    refused: list[str] = []
    saved = [
        (owner, name, getattr(owner, name)) for owner, name in _STARTERS if hasattr(owner, name)
    ]

    def refuse(what: str) -> Callable[..., Any]:
        def refused_start(*args: object, **kwargs: object) -> Any:
            refused.append(what)
            raise RuntimeError(f"{test} is a fast (in-process) test but started a process ({what})")

        return refused_start

    for owner, name, _ in saved:
        setattr(owner, name, refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    try:
        yield refused
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
