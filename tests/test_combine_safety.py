"""``covhook combine`` never destroys data: concurrency, interruption, undeletable inputs,
combining again, hostile names (issue 23 items 1-3 and 10, issue 20 item 5).

Real ``covhook combine`` processes on data files written with coverage's own
API.  Each input file holds a source file of its own ("marker"), so the
combined file is checked input by input: every input's data is in it.
The stress tests at the end start two combines at once, and interrupt
combines with SIGINT, SIGTERM or SIGKILL at random moments, then rerun them.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from coverage import CoverageData

from covhook.host import fastcombine, origins
from support import data, envs, launchers, processes, users
from support.users import NOBODY, OTHER

# OTHER combines; NOBODY owns some inputs
RC = "[run]\nparallel = True\n"


def write_inputs(directory: Path, count: int, tag: str = "p", start: int = 0) -> set[str]:
    """``count`` data files in ``directory``, each with its own marker file; the markers."""
    directory.mkdir(parents=True, exist_ok=True)
    markers = set()
    for n in range(start, start + count):
        marker = f"/project/only_{tag}_{n}.py"
        cov = CoverageData(str(directory / f".coverage.origin-{tag}"), suffix=True)
        cov.set_context(f"origin-{tag}")
        cov.add_lines({marker: [1, 2, 3 + n % 5], "/project/common.py": [1, 2 + n % 7]})
        cov.write()
        markers.add(marker)
    return markers


def per_origin(out: str) -> dict[str, int]:
    """Processes per origin, from the table ``covhook combine`` prints."""
    rows = [line.split() for line in out.splitlines() if line.startswith("origin-")]
    return {row[0]: int(row[1]) for row in rows}


def measured_files(data_file: Path) -> set[str]:
    cov = CoverageData(str(data_file))
    cov.read()
    return set(cov.measured_files())


def covhook(
    cwd: Path, *args: str, user: int | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``covhook combine ARGS`` as a real process in ``cwd`` (as ``user``, via setpriv)."""
    command = users.argv(user, launchers.PYTHON, "-m", "covhook", "combine", *args)
    return processes.run(command, cwd, envs.clean_env(**env))


def start(cwd: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(launchers.PYTHON), "-m", "covhook", "combine", *args],
        cwd=cwd,
        env=envs.clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hold_lock(data_dir: Path) -> subprocess.Popen[str]:
    """A process holding the data dir's combine lock as a combine does (flock, its pid in
    the file) until its stdin is closed; it prints "held" once it holds it."""
    code = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.ftruncate(fd, 0); os.pwrite(fd, f'{os.getpid()}\\n'.encode(), 0)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    return subprocess.Popen(
        [str(launchers.PYTHON), "-c", code, str(data_dir / ".covhook-combine.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".coveragerc").write_text(RC)
    return tmp_path


def test_a_rerun_after_an_interrupted_delete_keeps_what_was_combined(project: Path) -> None:
    """Item 2.  The state a combine killed while deleting its inputs leaves: the combined
    file in place with every input's data, some inputs deleted, the rest still there.
    (Made here with --keep and deleting some inputs, exactly; the stress test below
    kills real combines at random moments.)  The rerun adds nothing twice and loses
    nothing: before issue 23 it replaced the file with the leftovers' data only."""
    markers = write_inputs(project, 12)
    assert covhook(project, "--keep").returncode == 0
    inputs = data.data_files(project)
    for f in inputs[:7]:  # deleted before the kill
        f.unlink()
    rerun = covhook(project)
    assert rerun.returncode == 0, rerun.stderr
    assert measured_files(project / ".coverage") >= markers
    assert data.data_files(project) == []  # the leftovers were deleted this time
    assert "already holds the data of 5 of these data file(s)" in rerun.stdout
    assert "nothing new to combine" in rerun.stdout
    assert per_origin(rerun.stdout) == {"origin-p": 12}  # nothing counted twice


def test_leftovers_and_new_inputs_are_added_to_what_was_combined(project: Path) -> None:
    """Item 2: leftovers of an interrupted combine plus new data files: the new ones are
    added to the combined file (as --append would), the leftovers not read again."""
    markers = write_inputs(project, 6)
    assert covhook(project, "--keep").returncode == 0
    for f in data.data_files(project)[:3]:
        f.unlink()
    markers |= write_inputs(project, 4, tag="q")
    rerun = covhook(project)
    assert rerun.returncode == 0, rerun.stderr
    assert measured_files(project / ".coverage") >= markers
    assert "added the other 4 to it" in rerun.stdout
    assert per_origin(rerun.stdout) == {"origin-p": 0, "origin-q": 4}  # this combine's
    assert origins.load_processes(str(project / ".coverage")) == {"origin-p": 6, "origin-q": 4}


def test_a_new_measurement_replaces_the_old_combined_data(project: Path) -> None:
    """None of the inputs is in the combined file: a new measurement, which replaces it
    as ``coverage combine`` does (no stale lines of an earlier run); it still records
    its own inputs only."""
    old = write_inputs(project, 3, tag="old")
    assert covhook(project).returncode == 0
    new = write_inputs(project, 2, tag="new")
    again = covhook(project)
    assert again.returncode == 0, again.stderr
    found = measured_files(project / ".coverage")
    assert found >= new
    assert not found & old
    assert "already holds" not in again.stdout
    assert len(fastcombine.held_inputs(str(project / ".coverage"))) == 2


def test_combining_a_dir_and_an_archive_twice_loses_nothing(project: Path) -> None:
    """Issue 20 item 5: ``covhook combine DIR ARCHIVE`` twice.  The second run found the
    archive's files again (archives are never deleted) and replaced the combined file
    with them alone, exit 0.  Now: the emptied dir is one line, the archive's files are
    already held, the combined file is left as it was."""
    local = write_inputs(project / "dir", 5, tag="d")
    packed = project / "packed"
    remote = write_inputs(packed, 4, tag="a")
    archive = project / "artifact.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(packed, arcname="job")
    shutil.rmtree(packed)
    first = covhook(project, "dir", str(archive))
    assert first.returncode == 0, first.stderr
    assert measured_files(project / ".coverage") >= local | remote
    second = covhook(project, "dir", str(archive))
    assert second.returncode == 0, second.stderr
    assert measured_files(project / ".coverage") >= local | remote
    said = [line for line in second.stdout.splitlines() if line.startswith("covhook:")]
    assert any("'dir' holds no data files to combine" in line for line in said), said
    assert any("already holds the data of 4" in line for line in said), said
    # Asked for explicitly, the combined file is made from the archive alone.
    third = covhook(project, "--replace", "dir", str(archive))
    assert third.returncode == 0, third.stderr
    found = measured_files(project / ".coverage")
    assert found >= remote
    assert not found & local


def test_a_combine_waits_for_another_and_adds_to_its_result(project: Path) -> None:
    """Item 1: a second combine while one holds the data dir's lock: it says it waits, for
    which pid, then adds what it finds to the combined file the first one wrote.  Before
    issue 23 it read the same files and replaced the combined file with its own part."""
    first = write_inputs(project, 5)
    assert covhook(project).returncode == 0
    holder = hold_lock(project)  # as a running combine holds it
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        later = write_inputs(project, 3, tag="q")  # data that arrived meanwhile
        second = start(project)
        assert second.stderr is not None
        waiting = second.stderr.readline()
        assert f"another covhook combine (pid {holder.pid}) is combining in" in waiting
        assert "waiting for it to finish" in waiting
        assert second.poll() is None
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        _out, err = second.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 0, err
    assert measured_files(project / ".coverage") >= first | later
    assert data.data_files(project) == []


def test_a_combine_that_waited_and_finds_nothing_left_says_so(project: Path) -> None:
    """The other combine took every input while this one waited: exit 0, one line, the
    combined file as the other one wrote it."""
    markers = write_inputs(project, 4)
    assert covhook(project, "--keep").returncode == 0  # the other combine's result...
    holder = hold_lock(project)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        second = start(project)
        assert second.stderr is not None
        assert "waiting for it to finish" in second.stderr.readline()
        for f in data.data_files(project):  # ...and its deleting them, while this one waits
            f.unlink()
        assert holder.stdin is not None
        holder.stdin.close()
        out, err = second.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 0, err
    assert "covhook: nothing left to combine" in out
    assert measured_files(project / ".coverage") >= markers
    assert per_origin(out) == {"origin-p": 4}


def test_a_combine_that_waits_too_long_gives_up_and_changes_nothing(project: Path) -> None:
    write_inputs(project, 2)
    holder = hold_lock(project)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        done = covhook(project, COVHOOK_COMBINE_WAIT="0.5")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    assert "still holds" in done.stderr
    assert "nothing was combined" in done.stderr
    assert len(data.data_files(project)) == 2
    assert not (project / ".coverage").exists()


@pytest.mark.parametrize("planted", ["symlink", "fifo"])
def test_a_planted_lock_file_is_refused_not_followed(project: Path, planted: str) -> None:
    write_inputs(project, 2)
    target = project / "victim"
    target.write_text("keep me\n")
    lock = project / ".covhook-combine.lock"
    if planted == "symlink":
        lock.symlink_to(target)
    else:
        os.mkfifo(lock)
    done = covhook(project)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert "nothing was combined" in line
    assert "Fix:" in line
    assert target.read_text() == "keep me\n"
    assert len(data.data_files(project)) == 2


def test_inputs_another_user_owns_are_kept_named_and_not_lost(shared: Path) -> None:
    """Item 3, as an unprivileged user: in a sticky dir, another user's inputs cannot be
    deleted (EPERM).  Before issue 23 that stopped the combine midway (exit 1) after it
    had deleted other inputs; the rerun lost their data.  Now each is named in one line,
    the combine completes, and the rerun keeps everyone's data."""
    (shared / ".coveragerc").write_text(RC)
    (shared / ".coveragerc").chmod(0o644)
    markers = write_inputs(shared, 10)
    for n, f in enumerate(data.data_files(shared)):
        os.chown(f, NOBODY if n % 2 else OTHER, NOBODY if n % 2 else OTHER)
        f.chmod(0o644)
    first = covhook(shared, user=OTHER)
    assert first.returncode == 0, first.stderr
    said = [line for line in first.stdout.splitlines() if "could not delete" in line]
    assert len(said) == 1
    assert "could not delete 5 combined data file(s)" in said[0]
    assert "Operation not permitted" in said[0]
    assert measured_files(shared / ".coverage") >= markers
    assert {f.stat().st_uid for f in data.data_files(shared)} == {NOBODY}
    rerun = covhook(shared, user=OTHER)
    assert rerun.returncode == 0, rerun.stderr
    assert measured_files(shared / ".coverage") >= markers
    assert per_origin(rerun.stdout) == {"origin-p": 10}  # the kept files not counted again


def test_inputs_on_a_read_only_mount_are_kept_named_and_not_lost(project: Path) -> None:
    """Item 3, as root (who may delete anyone's file): inputs on a read-only bind mount
    (EROFS) are named in one line; the combine completes; a rerun keeps the data."""
    mount = shutil.which("mount")
    launchers.need(os.geteuid() == 0 and mount is not None, "root and mount", "run as root")
    source = project / "artifact"
    markers = write_inputs(source, 6)
    mounted = project / "ro"
    mounted.mkdir()
    done = processes.run(["mount", "--bind", "-o", "ro", source, mounted])
    launchers.need(done.returncode == 0, f"a read-only bind mount ({done.stderr.strip()})")
    try:
        first = covhook(project, "ro")
        assert first.returncode == 0, first.stderr
        (said,) = [line for line in first.stdout.splitlines() if "could not delete" in line]
        assert "could not delete 6 combined data file(s)" in said
        assert "Read-only file system" in said
        assert measured_files(project / ".coverage") >= markers
        rerun = covhook(project, "ro")
        assert rerun.returncode == 0, rerun.stderr
        assert "nothing new to combine" in rerun.stdout
        assert measured_files(project / ".coverage") >= markers
    finally:
        for _ in range(50):
            if processes.run(["umount", mounted]).returncode == 0:
                break
            time.sleep(0.1)


def test_names_are_quoted_so_a_newline_cannot_split_a_line(project: Path) -> None:
    """Item 10: a data file name with a newline (and an escape) in it: every line covhook
    says about it stays one line; the name is quoted as Python writes a string."""
    markers = write_inputs(project, 2)
    hostile = project / ".coverage.evil\ncovhook: all good. Fix: nothing\x1b[2J"
    hostile.write_bytes(b"not a database")
    done = covhook(project)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert not any(line.startswith("covhook: all good") for line in lines)
    (said,) = [line for line in lines if "unusable" in line]
    assert repr(str(hostile)) in said
    assert "\x1b" not in done.stdout
    assert measured_files(project / ".coverage") >= markers


def test_a_planted_note_cannot_add_a_line_of_its_own(project: Path) -> None:
    """Item 10: the notes of unmeasured children are files others can write in a shared
    data dir; their words are printed inside covhook's line, control characters escaped."""
    write_inputs(project, 1)
    note = {
        "why": "started with python -S\ncovhook: all good",
        "fix": "nothing\x1b[2J",
        "argv": ["python", "-S"],
    }
    (project / ".covhook-unmeasured.4242.json").write_text(json.dumps(note) + "\n")
    done = covhook(project)
    assert done.returncode == 0, done.stderr
    (said,) = [line for line in done.stdout.splitlines() if "ran without coverage" in line]
    assert "python -S\\ncovhook: all good" in said
    assert not any(line.startswith("covhook: all good") for line in done.stdout.splitlines())
    assert "\x1b" not in done.stdout


def test_an_unusable_input_kept_is_not_mistaken_for_a_held_one(project: Path) -> None:
    """The combined file names only the inputs whose data it holds."""
    write_inputs(project, 2)
    bad = project / ".coverage.broken.host.pid1.Xabcdefx"
    bad.write_bytes(b"not a database")
    assert covhook(project).returncode == 0
    assert bad.exists()
    key = fastcombine.input_key(str(bad), fastcombine.data_hash(str(bad)) or "")
    assert key not in fastcombine.held_inputs(str(project / ".coverage"))


def children_of(where: Path) -> list[int]:
    """Processes still running in ``where`` (a combine's forked worker outliving it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == where:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# --- stress: real combines at once, and interrupted at random moments --------------

ROUNDS = 5
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)


@pytest.mark.signals
def test_stress_two_combines_at_once_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(23)
    for round_ in range(ROUNDS):
        where = tmp_path / f"r{round_}"
        where.mkdir()
        (where / ".coveragerc").write_text(RC)
        markers = write_inputs(where, rng.randint(20, 60), tag=f"r{round_}")
        # One or two processes each (a forked worker reads half the files).
        procs = [start(where, COVHOOK_COMBINE_WORKERS=rng.choice("12")) for _ in range(2)]
        results = [p.communicate(timeout=60) for p in procs]
        for proc, (_out, err) in zip(procs, results, strict=True):
            assert proc.returncode in {0, 1}, err
            if proc.returncode == 1:  # came after the other had combined everything
                assert "already holds combined data" in err, err
        assert any(p.returncode == 0 for p in procs)
        assert measured_files(where / ".coverage") >= markers, f"round {round_}"
        assert data.data_files(where) == []


@pytest.mark.signals
def test_stress_interrupted_combines_then_reruns_lose_nothing(tmp_path: Path) -> None:
    """Combines interrupted once or twice at a random moment (start-up, reading, writing,
    deleting), then one left to finish: every input's data is in the combined file."""
    rng = random.Random(2023)
    summary = []
    calibrate = tmp_path / "calibrate"
    calibrate.mkdir()
    (calibrate / ".coveragerc").write_text(RC)
    write_inputs(calibrate, 120, tag="c")
    began = time.monotonic()
    assert covhook(calibrate).returncode == 0
    whole = time.monotonic() - began  # start-up to exit, on this machine now
    for round_ in range(ROUNDS + 3):
        where = tmp_path / f"r{round_}"
        where.mkdir()
        (where / ".coveragerc").write_text(RC)
        markers = write_inputs(where, rng.randint(60, 180), tag=f"r{round_}")
        for _ in range(rng.randint(1, 2)):
            proc = start(where, COVHOOK_COMBINE_WORKERS=rng.choice("12"))
            time.sleep(rng.uniform(0.3, 1.0) * whole)
            how = rng.choice(SIGNALS)
            proc.send_signal(how)
            proc.communicate(timeout=60)
            summary.append(f"{how.name}:{proc.returncode}:{len(data.data_files(where))} left")
        final = covhook(where)
        if final.returncode == 1:  # the interrupted one had finished: nothing left
            assert "already holds combined data" in final.stderr, final.stderr
        else:
            assert final.returncode == 0, final.stderr
        assert measured_files(where / ".coverage") >= markers, f"round {round_}: {summary}"
        assert data.data_files(where) == []
        assert list(where.glob(".covhook-combining.*")) == []  # a killed one's output: gone
        assert not children_of(where), "a killed combine's worker is still running"
    print("interrupts (signal:status:inputs left):", ", ".join(summary), file=sys.stderr)


READ_A_FIFO = """\
import sys
from covhook.host import fastcombine, origins
try:
    fastcombine.read_raw(sys.argv[1])
except fastcombine.Unusable as exc:
    print("read_raw:", exc)
try:
    origins.rows(sys.argv[1])
except Exception as exc:
    print("rows:", type(exc).__name__, exc)
"""


def test_a_data_file_swapped_for_a_fifo_is_unusable_not_waited_for(tmp_path: Path) -> None:
    """In a shared data dir another user may swap their data file for a FIFO after the
    combine listed it as a regular file: SQLite's own open waited for a writer for ever
    (this program hung until its timeout before).  covhook opens the file itself, without
    blocking, and hands SQLite that very file; a FIFO is one unusable input."""
    fifo = tmp_path / ".coverage.swapped"
    os.mkfifo(fifo)
    argv = [sys.executable, "-c", READ_A_FIFO, str(fifo)]
    done = processes.run(argv, tmp_path, envs.clean_env(), timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "read_raw: cannot open it: not a regular file",
        "rows: OperationalError not a regular file",
    ]
