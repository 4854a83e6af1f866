"""The ``fast`` layer conftest applies: which tests it takes, and the guard that keeps it honest.

The guard is exercised for real: each way of starting a process is tried
under ``no_processes`` and must be refused (and recorded) before any child
exists; outside it the same call starts a real process.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import cli, data, inprocess, measured


def _pure() -> int:
    return len(data.lines_in(Path(__file__), "pure"))  # pure


def _starts_a_child() -> None:
    measured.run(sys.executable, Path.cwd(), "-c", "pass")


def _starts_through_a_helper() -> None:
    _starts_a_child()


def _forks() -> None:
    os.fork()


@pytest.mark.parametrize(
    ("func", "starts"),
    [
        (_pure, False),
        (_starts_a_child, True),
        (_starts_through_a_helper, True),
        (_forks, True),
        (cli.covhook, True),
        (data.lines_of, False),
    ],
)
def test_the_rule_follows_the_suites_own_helpers(func: object, starts: bool) -> None:
    assert inprocess.starts_processes(func) is starts  # type: ignore[arg-type]


def test_in_process_modules_are_fast(request: pytest.FixtureRequest) -> None:
    """arcbits, parse_ini and settings tests are selected by ``-m fast``; process tests not."""
    items = {item.nodeid: item for item in request.session.items}
    fast = {nodeid for nodeid, item in items.items() if item.get_closest_marker("fast")}
    for nodeid in (
        "tests/test_arcbits.py::test_a_damaged_far_blob_is_an_error_not_data",
        "tests/test_settings.py::test_reference_tables_are_the_table",
    ):
        if nodeid in items:  # (a run of part of the suite collects only part)
            assert nodeid in fast
    assert not any("test_run_exit.py" in nodeid for nodeid in fast)
    assert request.node.nodeid in fast  # it starts nothing
    guard = "tests/test_fast_layer.py::test_the_guard_refuses_every_way_to_start_a_process"
    assert not any(nodeid.startswith(guard) for nodeid in fast)  # its helper names subprocess


def _tries(start: str) -> None:
    if start == "subprocess":
        subprocess.run([sys.executable, "-c", "pass"], check=False)
    elif start == "fork":
        pid = os.fork()
        if pid == 0:
            os._exit(0)
    elif start == "spawn":
        child = multiprocessing.get_context("spawn").Process(target=os.getpid)
        child.start()
    elif start == "system":
        os.system("true")


@pytest.mark.parametrize("start", ["subprocess", "fork", "spawn", "system"])
def test_the_guard_refuses_every_way_to_start_a_process(start: str) -> None:
    with inprocess.no_processes("the test") as refused, pytest.raises(RuntimeError) as error:
        _tries(start)
    assert refused, start
    assert "is a fast (in-process) test but started a process" in str(error.value)
    _tries("subprocess")  # and the guard is gone afterwards: this one runs
