"""The pytest side of ``covhook split``, loaded in every split with ``-p covhook.splits.plugin``.

covhook's own deterministic sharding when pytest-split is not used, and a
small JSON report per split (exit reason, failed test ids) for the runner
(:mod:`covhook.splits.runner`).
"""

from __future__ import annotations

import fnmatch
import functools
import json
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from covhook.splits.names import REPORT_OPTION, SPLIT_OPTION


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("covhook-split", "covhook split (set by 'covhook split')")
    group.addoption(SPLIT_OPTION, default=None, help="run only split I of N, as I/N")
    group.addoption(REPORT_OPTION, default=None, help="write this split's result here (JSON)")


def shard(nodeids: Sequence[str], index: int, count: int) -> list[int]:
    """Positions of the tests split ``index`` (1-based) of ``count`` runs.

    Contiguous chunks of the collection order, sizes differing by at most one:
    deterministic, every test in exactly one split, and a module's tests stay
    together (its module-scoped fixtures run once per split, not once per test).
    """
    total = len(nodeids)
    start = (index - 1) * total // count
    end = index * total // count
    return list(range(start, end))


def parse_split(value: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; raise ValueError when out of range."""
    index_text, _, count_text = value.partition("/")
    index, count = int(index_text), int(count_text)
    if not 1 <= index <= count:
        raise ValueError(f"split {value!r} is not I/N with 1 <= I <= N")
    return index, count


@functools.lru_cache(maxsize=256)
def test_files_in(directory: Path, patterns: tuple[str, ...]) -> list[str]:
    """Names of the files in ``directory`` that pytest would collect as test modules."""
    try:
        names = [e.name for e in os.scandir(directory) if e.is_file()]
    except OSError:
        return []
    return sorted(n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns))


def file_split(path: Path, patterns: Sequence[str], count: int) -> int | None:
    """The split (1-based) a test file belongs to, or None to shard its tests one by one.

    A directory with at least ``count`` test files is dealt out file by file
    (sorted names, starting at an offset from the directory's name), so each
    split collects only its own files: collecting a big suite under coverage
    costs as much as running a good part of it.  Files of smaller directories
    are collected by every split and their tests dealt out by :func:`shard`.
    The result depends only on the directory's listing: every split agrees.
    """
    if path.suffix != ".py" or not any(fnmatch.fnmatch(path.name, p) for p in patterns):
        return None
    files = test_files_in(path.parent, tuple(patterns))
    if len(files) < count or path.name not in files:
        return None
    offset = zlib.crc32(str(path.parent).encode()) % count
    return (files.index(path.name) + offset) % count + 1


def _file_patterns(config: pytest.Config) -> list[str] | None:
    patterns = [str(p) for p in config.getini("python_files")]
    return None if any("/" in p or os.sep in p for p in patterns) else patterns


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    value = config.getoption(SPLIT_OPTION)
    if not value:
        return None
    index, count = parse_split(value)
    patterns = _file_patterns(config)
    if patterns is None:
        return None
    owner = file_split(collection_path, patterns, count)
    return True if owner is not None and owner != index else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    value = config.getoption(SPLIT_OPTION)
    if not value:
        return
    index, count = parse_split(value)
    patterns = _file_patterns(config)
    # Tests of files dealt out whole go to their file's split (a file named
    # on the command line is collected everywhere); the rest are shared.
    owners = [
        None if patterns is None else file_split(Path(item.path), patterns, count) for item in items
    ]
    shared = [n for n, owner in enumerate(owners) if owner is None]
    keep = {shared[k] for k in shard([items[n].nodeid for n in shared], index, count)}
    keep |= {n for n, owner in enumerate(owners) if owner == index}
    selected = [item for n, item in enumerate(items) if n in keep]
    deselected = [item for n, item in enumerate(items) if n not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = selected


class _Outcomes:
    """Failed test ids and counts, from the reports the main process sees."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.ran = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.ran += 1
        if report.failed and report.nodeid not in self.failed:
            self.failed.append(
                f"{report.nodeid}" + ("" if report.when == "call" else f" ({report.when})")
            )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failed.append(f"{report.nodeid or '<collection>'} (collection error)")


_OUTCOMES = pytest.StashKey[_Outcomes]()


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(REPORT_OPTION) and not hasattr(config, "workerinput"):
        outcomes = _Outcomes()
        config.stash[_OUTCOMES] = outcomes
        config.pluginmanager.register(outcomes, "covhook-split-outcomes")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    path = config.getoption(REPORT_OPTION)
    outcomes = config.stash.get(_OUTCOMES, None)
    if not path or outcomes is None:
        return
    Path(path).write_text(
        json.dumps({"exitstatus": int(exitstatus), "failed": outcomes.failed, "ran": outcomes.ran}),
        "utf-8",
    )
