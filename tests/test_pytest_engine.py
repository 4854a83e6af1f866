"""The pytest plugin's role is chosen once, from who measures pytest and where it sits in xdist.

In-process with a real pytest Config and a real (unstarted) Coverage.  Two
things cannot exist in one in-process test and are stood in for, said where:
pytest-cov measuring (its plugin would start a Coverage in this process) and
being an xdist worker (xdist gives the worker's Config ``workerinput``).
What each role then does is tested for real, through whole pytest runs, in
tests/test_pytest_plugin*.py, test_test_contexts.py and test_pytest_summary_count.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest

from covhook import _compat, pytest_engine

pytestmark = pytest.mark.fast

pytest_plugins = ("pytester",)


class StandInPytestCov:
    """Stands in for pytest-cov's plugin (registered as ``_cov``), measuring: see the docstring."""

    _disabled = False


@pytest.fixture
def cov(tmp_path: Path) -> coverage.Coverage:
    """A real Coverage writing into ``tmp_path``."""
    return coverage.Coverage(data_file=str(tmp_path / ".coverage"), config_file=False)


@pytest.fixture
def started_at_startup() -> Iterator[None]:
    """Whatever this process's start-up hook recorded (if it ran), put back after."""
    module = sys.modules["coverage"]
    attempted = _compat.startup_attempted(module)
    saved = _compat.startup_coverage(module)
    yield
    if attempted:
        _compat.set_startup_coverage(module, saved)
    else:  # the start-up hook never ran here: as it was (the mark set_startup_coverage sets)
        vars(module.process_startup).pop("coverage", None)


CASES = {
    # (started by the start-up hook, pytest-cov measuring, xdist worker, --dist): role
    "coverage run -m pytest": ((False, False, False, "no"), pytest_engine.CoverageRun),
    "covhook run -- pytest": ((True, False, False, "no"), pytest_engine.Hooked),
    "covhook run -- pytest -n 2, a worker": ((True, False, True, "no"), pytest_engine.HookedWorker),
    "pytest --cov": ((False, True, False, "no"), pytest_engine.Central),
    "pytest --cov -n 2": ((False, True, False, "load"), pytest_engine.DistController),
    "pytest --cov -n 2, a worker": ((False, True, True, "no"), pytest_engine.DistWorker),
    "covhook run -- pytest --cov": ((True, True, False, "no"), pytest_engine.Hooked),
    "a worker of a Coverage a conftest started": (
        (False, False, True, "no"),
        pytest_engine.RunWorker,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_role_of_each_kind_of_run(
    case: str, pytester: pytest.Pytester, cov: coverage.Coverage, started_at_startup: None
) -> None:
    (hooked, pytest_cov, worker, dist), role = CASES[case]
    config = pytester.parseconfig("-p", "no:cov", "-p", "no:xdist")
    config.option.dist = dist
    if pytest_cov:
        config.pluginmanager.register(StandInPytestCov(), _compat.PYTEST_COV_PLUGIN)
    if worker:
        config.workerinput = {"workerid": "gw0"}  # type: ignore[attr-defined]  # xdist's
        config.workeroutput = {}  # type: ignore[attr-defined]
    if hooked:
        _compat.set_startup_coverage(sys.modules["coverage"], cov)
    chosen = pytest_engine.role_for(config, cov)
    assert type(chosen) is role
    assert chosen.data_file == str(Path(cov.config.data_file).resolve())
