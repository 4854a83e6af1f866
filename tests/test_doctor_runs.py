"""``covhook doctor`` after real measured runs: what was not measured, and why.

Each run is real: a measured parent (covhook's hook, COVERAGE_PROCESS_START)
starts real Python children; the assertions read doctor's lines and the
combined data (which child's lines were measured).  Doctor is asked both
before ``covhook combine`` (the notes in the data dir) and after it (the
notes are gone; the combined file kept them).  The unwritable data dir is
checked as a real unprivileged user (``setpriv``, as test_datadir_safety.py).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import cli, data, envs, launchers, measured, processes, users
from support.users import NOBODY, need_root_and_setpriv

HEALTHY = Path(sys.executable)

CHILD = """\
import sys


def work():
    return 1  # child-ran


work()
"""

PARENT = """\
import subprocess, sys
subprocess.run([sys.executable, "-S", "child_s.py"], check=True)
# close_fds=False: subprocess starts it with os.posix_spawn (3.11+), not fork_exec.
subprocess.run([sys.executable, "-IS", "child_s.py"], check=True, close_fds=False)
subprocess.run([sys.executable, "-I", "child_i.py"], check=True)
"""


def doctor(where: Path, *args: str, user: int | None = None) -> tuple[int, list[str]]:
    if user is not None:
        args = ()  # as that user, doctor's own questions only
    cmd = users.argv(user, HEALTHY, "-m", "covhook", "doctor", "--no-path", "--python", HEALTHY,
                     *args)  # fmt: skip
    done = processes.run(cmd, where, envs.clean_env())
    return done.returncode, done.stdout.splitlines()


def measure(where: Path, program: str, **env: str) -> None:
    processes.run([HEALTHY, program], where, measured.env(where / ".coveragerc", **env), check=True)


def combine(where: Path) -> list[str]:
    out = launchers.covhook(where, "combine")
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_python_dash_s_child_is_named_with_its_fix_and_dash_i_is_measured(
    tmp_path: Path,
) -> None:
    (tmp_path / ".coveragerc").write_text(f"[run]\nparallel = True\nsource = {tmp_path}\n")
    for name in ("child_s.py", "child_i.py"):
        (tmp_path / name).write_text(CHILD)
    (tmp_path / "parent.py").write_text(PARENT)
    measure(tmp_path, "parent.py")

    status, lines = doctor(tmp_path)
    dash_s = [line for line in lines if "started with python -S" in line]
    assert len(dash_s) == 1, lines
    assert "2 Python child process(es) ran without coverage" in dash_s[0]
    assert "child_s.py" in dash_s[0]
    assert "Fix: drop -S" in dash_s[0]
    assert "-I keeps site-packages' .pth files running" in dash_s[0]
    assert not any("child_i.py" in line for line in lines)  # -I is measured: nothing to say
    assert status == 1

    said = combine(tmp_path)
    assert any("started with python -S" in line for line in said)
    assert not list(tmp_path.glob(".covhook-unmeasured.*"))  # the notes were reported
    combined = tmp_path / ".coverage"
    assert data.lines_in(tmp_path / "child_i.py", "child-ran") <= data.lines_of(
        combined, "child_i.py"
    )
    assert not data.lines_of(combined, "child_s.py")

    # After the fact: the combined file kept what combine reported.
    status, lines = doctor(tmp_path)
    assert status == 1
    assert sum("started with python -S" in line for line in lines) == 1, lines


def test_scope_rule_skips_are_named_with_the_rule(tmp_path: Path) -> None:
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n\n[covhook]\nskip = *helper*\n")
    (tmp_path / "helper.py").write_text(CHILD)
    (tmp_path / "main.py").write_text(
        "import subprocess, sys\nsubprocess.run([sys.executable, 'helper.py'], check=True)\n"
    )
    measure(tmp_path, "main.py")

    status, lines = doctor(tmp_path)
    assert status == 0, lines  # a rule is deliberate: a note, not a problem
    ruled = [line for line in lines if "skipped by a scope rule" in line]
    assert len(ruled) == 1, lines
    assert ruled[0].startswith("covhook doctor: note: 1 process(es)")
    assert "[covhook] skip pattern '*helper*'" in ruled[0]
    assert "helper.py" in ruled[0]
    assert "Fix: if they should be measured, remove the pattern" in ruled[0]

    combine(tmp_path)
    assert not data.lines_of(tmp_path / ".coverage", "helper.py")
    assert data.lines_of(tmp_path / ".coverage", "main.py")
    status, lines = doctor(tmp_path)
    assert sum("skipped by a scope rule" in line for line in lines) == 1, lines


@pytest.fixture
def root_owned() -> Iterator[Path]:
    """A directory only root may write (0755), where another user runs doctor."""
    need_root_and_setpriv()
    with users.temp_dir(0o755, "doctor") as path:
        yield path


def test_unwritable_data_dir_as_an_unprivileged_user(root_owned: Path) -> None:
    rc = root_owned / ".coveragerc"
    rc.write_text("[run]\nparallel = True\n")
    rc.chmod(0o644)
    assert os.stat(root_owned).st_uid == 0

    status, lines = doctor(root_owned, user=NOBODY)
    unwritable = [line for line in lines if "is not writable" in line]
    assert len(unwritable) == 1, lines
    assert unwritable[0] == (
        f"covhook doctor: problem: the data directory {root_owned} is not writable: "
        "processes cannot save data. Fix: make it writable, or set [run] data_file / "
        "COVERAGE_FILE elsewhere"
    )
    assert status == 1
    # The same directory, for its owner: no such finding (it is the user that matters).
    status, lines = doctor(root_owned)
    assert not any("is not writable" in line for line in lines), lines


def test_unwritable_finding_is_true_for_that_user(root_owned: Path) -> None:
    """What doctor says matches what happens: that user's measured process saves nothing."""
    (root_owned / ".coveragerc").write_text("[run]\nparallel = True\n")
    (root_owned / "prog.py").write_text(textwrap.dedent(CHILD))
    for name in (".coveragerc", "prog.py"):
        (root_owned / name).chmod(0o644)
    env = measured.env(root_owned / ".coveragerc")
    done = processes.run(users.argv(NOBODY, HEALTHY, "prog.py"), root_owned, env)
    assert done.returncode == 0, done.stderr  # Python still runs
    assert not list(root_owned.glob(".coverage.*")), done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("covhook:")]
    assert len(said) == 1, done.stderr
    assert "cannot write coverage data" in said[0]


def test_a_config_without_parallel_is_no_problem(tmp_path: Path) -> None:
    """covhook's hook turns parallel on: every process writes its own file; doctor agrees."""
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\n")
    (tmp_path / "child_i.py").write_text(CHILD)
    (tmp_path / "parent.py").write_text(
        "import subprocess, sys\n"
        "for _ in range(3):\n"
        "    subprocess.run([sys.executable, 'child_i.py'], check=True)\n"
    )
    measure(tmp_path, "parent.py")
    assert len(data.data_files(tmp_path)) == 4  # parent + 3 children, none overwritten
    status, lines = doctor(tmp_path)
    assert status == 0, lines
    assert not any("parallel is off" in line for line in lines), lines
    combine(tmp_path)
    assert data.lines_in(tmp_path / "child_i.py", "child-ran") <= data.lines_of(
        tmp_path / ".coverage", "child_i.py"
    )


def test_data_file_inside_a_file_is_named(tmp_path: Path) -> None:
    """A data_file whose directory is a file: the run saves nothing, and doctor says why."""
    (tmp_path / "results").write_text("a file, not a directory\n")
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\ndata_file = results/.cov\n")
    (tmp_path / "child_i.py").write_text(CHILD)
    measure(tmp_path, "child_i.py")  # Python still runs (check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".coveragerc", "child_i.py", "results"]
    status, lines = doctor(tmp_path)
    assert status == 1
    (line,) = [line for line in lines if "which is a file" in line]
    assert line.startswith(
        f"covhook doctor: problem: the data file {tmp_path}/results/.cov is inside "
        f"{tmp_path}/results, which is a file"
    )
    assert "Fix: set [run] data_file / COVERAGE_FILE to a path in a directory" in line


@pytest.mark.slow
def test_the_fix_for_a_venv_without_covhook_works(tmp_path: Path) -> None:
    """Doctor's fix, run as printed, makes that venv's processes measured; doctor then agrees."""
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    (tmp_path / "child_i.py").write_text(CHILD)
    bare = envs.make_env(tmp_path / "bare", envs.PYTHONS["3.11"])
    status, lines = doctor(tmp_path, "--python", str(bare.python))
    assert status == 1
    (line,) = [line for line in lines if "has no covhook hook" in line]
    fix = line.split(". Fix: ", 1)[1]
    assert fix == f"covhook install --python {bare.python}"
    cli.covhook(
        fix.split()[1:], tmp_path, {"COVHOOK_STATE_DIR": str(tmp_path / "state")}, check=True
    )
    measured.run(bare.python, tmp_path, "child_i.py", rc_text=None, check=True)
    (measured_file,) = data.data_files(tmp_path)
    assert measured_file.name.startswith(".coverage.host-")
    assert data.lines_in(tmp_path / "child_i.py", "child-ran") <= data.lines_of(
        measured_file, "child_i.py"
    )
    status, lines = doctor(tmp_path, "--python", str(bare.python))
    assert status == 0, lines


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        ("missing", "is not a file: no process is measured"),
        ("broken", "the coverage config cannot be read"),
    ],
)
def test_config_findings_are_true_for_a_real_run(tmp_path: Path, setup: str, said: str) -> None:
    """COVERAGE_PROCESS_START naming no file, a config coverage cannot read: the run
    measures nothing (Python still runs), and doctor names the cause."""
    rc = tmp_path / ".coveragerc"
    if setup == "broken":
        rc.write_text("[run]\nparallel = maybe\n[report\n")
    (tmp_path / "child_i.py").write_text(CHILD)
    env = launchers.measured_env(rc)
    done = processes.run([HEALTHY, "child_i.py"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert data.data_files(tmp_path) == []
    status, lines = subprocess_doctor(tmp_path, env)
    assert status == 1
    assert sum(said in line for line in lines) == 1, lines


def subprocess_doctor(where: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Doctor with the run's own environment (COVERAGE_PROCESS_START as the run had it)."""
    env = {k: v for k, v in env.items() if k != "COVERAGE_PROCESS_CONFIG"}
    done = processes.run(
        [HEALTHY, "-m", "covhook", "doctor", "--no-path", "--python", HEALTHY],
        where, {**env, "COVHOOK_DISABLE": "1"},
    )  # fmt: skip
    return done.returncode, done.stdout.splitlines()


@pytest.mark.signals
def test_leftover_finding_is_a_killed_process_and_its_fix_recovers_it(tmp_path: Path) -> None:
    from test_leftovers import killed_after_a_flush

    program = killed_after_a_flush(tmp_path, "killed.py")
    status, lines = doctor(tmp_path)
    assert status == 1
    (line,) = [line for line in lines if "file(s) left in" in line]
    assert line.startswith(f"covhook doctor: problem: 1 file(s) left in {tmp_path}/.covhook-work")
    assert "Fix: run 'covhook combine'" in line
    combine(tmp_path)
    assert launchers.marked(program, "before-kill") <= data.lines_of(
        tmp_path / ".coverage", "killed.py"
    )
    status, lines = doctor(tmp_path)
    assert not any("file(s) left in" in line for line in lines), lines


@pytest.mark.slow
def test_hook_without_covhook_is_true_and_its_fix_works(tmp_path: Path) -> None:
    """covhook's hook left in a venv that cannot import covhook: that venv's processes are
    not measured by covhook (no tagged file); doctor's fix makes them measured."""
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    (tmp_path / "child_i.py").write_text(CHILD)
    bare = envs.make_env(tmp_path / "bare", envs.PYTHONS["3.11"])
    shutil.copy(
        Path(envs.Env(HEALTHY.parent.parent).site_packages) / "a0_covhook.pth",
        bare.site_packages / "a0_covhook.pth",
    )
    env = launchers.measured_env(tmp_path / ".coveragerc")
    ran = processes.run([bare.python, "child_i.py"], tmp_path, env)
    assert ran.returncode == 0, ran.stderr
    assert data.data_files(tmp_path) == []
    status, lines = doctor(tmp_path, "--python", str(bare.python))
    assert status == 1
    (line,) = [line for line in lines if "cannot import covhook" in line]
    fix = line.split(". Fix: ", 1)[1].split(" (", 1)[0]
    assert fix == f"covhook install --python {bare.python}"
    cli.covhook(
        fix.split()[1:], tmp_path, {"COVHOOK_STATE_DIR": str(tmp_path / "state")}, check=True
    )
    processes.run([bare.python, "child_i.py"], tmp_path, env, check=True)
    (measured_file,) = data.data_files(tmp_path)
    assert data.lines_in(tmp_path / "child_i.py", "child-ran") <= data.lines_of(
        measured_file, "child_i.py"
    )
