"""Which test ran this line, in every process: per-test contexts that follow children (issue 22).

Each case runs a real inner pytest over a project whose tests start children
(tests/support/context_project.py) and reads the combined data's contexts per
line (``CoverageData.contexts_by_lineno``): the line only a child ran must
carry ``<origin>|<test id>|<phase>``.

Parametrized economically: every form (pytest-cov's ``--cov-context=test``,
covhook's ``test_context`` option, ``dynamic_context = test_function`` under
``covhook run`` and under ``COVERAGE_PROCESS_START``) with every local launch
kind (subprocess, multiprocessing spawn/fork/forkserver, a fixture's setup and
teardown); xdist workers, ``covhook split`` and torchrun ranks in one form
each; containers in tests/test_test_contexts_docker.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import context_project, launchers
from support.launchers import BIN

pytestmark = pytest.mark.pytest_plugin


def contexts_of(work: Path, combined: Path, kind: str) -> set[str]:
    """The contexts of the line only ``kind``'s child ran."""
    (line,) = launchers.marked(work, f"by-{kind}")
    by_context = launchers.lines_by_context(combined, work.name)
    return {ctx for ctx, lines in by_context.items() if line in lines}


FORMS = ["pytest-cov", "covhook-option", "covhook-run", "process-start"]


@pytest.mark.parametrize("form", FORMS)
def test_each_child_carries_its_test(tmp_path: Path, form: str) -> None:
    work = context_project.write(tmp_path)
    combined = context_project.run_form(tmp_path, form)
    tag = launchers.place()
    for kind in context_project.KINDS:
        assert contexts_of(work, combined, kind) == {f"{tag}|{context_project.node_id(kind)}"}, kind


def test_off_children_carry_only_their_origin(tmp_path: Path) -> None:
    """Contexts not asked for: a child's context is its origin, and no test reaches its env."""
    work = context_project.write(tmp_path)
    (tmp_path / ".coveragerc").write_text(context_project.PYTEST_COV_RC)
    context_project.run(tmp_path, *context_project.PYTEST, "--cov=pkg")
    combined = tmp_path / ".coverage"
    assert contexts_of(work, combined, "subprocess") == {launchers.place()}


def test_xdist_workers_children(tmp_path: Path) -> None:
    work = context_project.write(tmp_path, context_project.XDIST_TEST, "test_x.py")
    combined = context_project.run_form(tmp_path, "pytest-cov", "-n", "2")
    (found,) = contexts_of(work, combined, "xdist")
    tag, test = found.split("|", 1)
    assert tag.startswith(f"{launchers.place()}_xdist-gw"), found
    assert test == "tests/test_x.py::test_xdist|run"


@pytest.mark.splits
def test_covhook_split(tmp_path: Path) -> None:
    work = context_project.write(tmp_path)
    (tmp_path / ".coveragerc").write_text("[run]\nsource = pkg\n[covhook]\ntest_context = true\n")
    context_project.run(tmp_path, str(BIN / "covhook"), "split", "-n", "2", "--", "pytest", "-q")
    combined = tmp_path / ".coverage"
    for kind in ("subprocess", "setup"):
        (found,) = contexts_of(work, combined, kind)
        tag, test = found.split("|", 1)
        assert tag.startswith(f"{launchers.place()}_split-"), found
        assert test == context_project.node_id(kind)


@pytest.mark.torch
@pytest.mark.launchers
def test_torchrun_ranks(tmp_path: Path) -> None:
    launchers.need(os.path.exists(BIN / "torchrun"), "torch (torchrun)")
    work = context_project.write(tmp_path, context_project.TORCH_TEST, "test_t.py")
    combined = context_project.run_form(tmp_path, "pytest-cov")
    found = contexts_of(work, combined, "torchrun")
    place = launchers.place()
    assert found == {
        f"{place}_torch-n0-r{r}of2-a0|tests/test_t.py::test_torchrun|run" for r in (0, 1)
    }, found


@pytest.mark.mpi
@pytest.mark.launchers
def test_mpirun_ranks(tmp_path: Path) -> None:
    launchers.need_exe("mpirun")
    work = context_project.write(tmp_path, context_project.MPI_TEST, "test_m.py")
    combined = context_project.run_form(tmp_path, "pytest-cov")
    found = contexts_of(work, combined, "mpirun")
    place = launchers.place()
    assert found == {f"{place}_mpi-r{r}of2|tests/test_m.py::test_mpirun|run" for r in (0, 1)}, found


def test_users_static_context_is_followed_by_the_test(tmp_path: Path) -> None:
    """``[run] context = nightly``: children keep it (no origin), the test follows, once."""
    work = context_project.write(tmp_path)
    (tmp_path / ".coveragerc").write_text(context_project.PYTEST_COV_RC + "context = nightly\n")
    context_project.run(tmp_path, *context_project.PYTEST, "--cov=pkg", "--cov-context=test")
    combined = tmp_path / ".coverage"
    for kind in ("subprocess", "spawn", "fork", "setup"):
        assert contexts_of(work, combined, kind) == {f"nightly|{context_project.node_id(kind)}"}


@pytest.mark.parametrize(
    ("form", "lazy"),
    [("pytest-cov", "1"), ("pytest-cov", "0"), ("covhook-run", "1"), ("covhook-run", "0")],
    ids=["pytest-cov-recorder", "pytest-cov-recorder-eager", "covhook-run", "covhook-run-eager"],
)
def test_forkserver_children_take_the_running_test(tmp_path: Path, form: str, lazy: str) -> None:
    """The forkserver outlives the test that started it; each child it forks reads the test.

    Lazy, a forkserver child starts measuring itself, after the fork; eager
    (``COVHOOK_LAZY=0``), the forkserver measures from its start and its
    children switch context right after the fork.
    """
    work = context_project.write(tmp_path, context_project.FORKSERVER_TESTS, "test_fs.py")
    combined = context_project.run_form(tmp_path, form, COVHOOK_LAZY=lazy)
    place = launchers.place()
    assert contexts_of(work, combined, "spawn") == {f"{place}|tests/test_fs.py::test_first|run"}
    assert contexts_of(work, combined, "forkserver") == {
        f"{place}|tests/test_fs.py::test_later|run"
    }
