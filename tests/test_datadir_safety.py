"""A shared data dir with a hostile user, umask 000, a full filesystem, a program that
drops privileges: nothing covhook writes follows a symlink, leaks a file, is
world-writable, or fails without one line saying so.

The hostile user is real: ``setpriv`` runs its steps as ``nobody`` (uid 65534)
in a 1777 directory, and the measured program runs as root (these tests need
root: CI runs as root; elsewhere they skip, or fail under COVHOOK_REQUIRE_ALL=1).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from covhook.commands import docker_args
from support import data, launchers, measured, processes, users
from support.users import NOBODY, OTHER, as_user, need_root_and_setpriv


def program_in(directory: Path, source: str) -> tuple[Path, Path]:
    """The program and a config putting data in ``directory``, both readable by everyone."""
    program = directory / "prog.py"
    program.write_text(textwrap.dedent(source))
    rc = directory / "covrc"
    rc.write_text(
        f"[run]\nparallel = True\nsource = {directory}\ndata_file = {directory}/.coverage\n"
    )
    for path in (program, rc):
        path.chmod(0o644)
    return program, rc


def run_measured(
    program: Path, rc: Path, *args: str, user: int | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    command = users.argv(user, launchers.PYTHON, program, *args)
    return processes.run(command, program.parent, measured.env(rc, **env))


def covhook_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("covhook:")]


def combined_lines(directory: Path, filename: str) -> set[int]:
    combined, warnings = launchers.combine(directory)
    assert warnings == ""
    return data.lines_of(combined, filename)


SIMPLE = """\
    def work():
        return 1  # work
    work()
"""


def test_umask_000_makes_nothing_world_writable(tmp_path: Path) -> None:
    program, rc = program_in(
        tmp_path,
        textwrap.dedent(SIMPLE)
        + "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'], env={})\n",
    )
    env = measured.env(rc, COVHOOK_FLUSH_SECONDS="0.05")
    processes.run([launchers.PYTHON, program], tmp_path, env, check=True, timeout=60, umask=0)
    made = [p for p in tmp_path.rglob("*") if p.name.startswith((".coverage", ".covhook"))]
    assert {p.name.split(".")[1] for p in made} >= {"coverage", "covhook-work"}
    assert any(p.name.startswith(".covhook-unmeasured.") for p in made)
    loose = {p.name: oct(stat.S_IMODE(p.lstat().st_mode)) for p in made}
    assert {n: m for n, m in loose.items() if int(m, 8) & 0o022} == {}
    assert {oct(stat.S_IMODE(p.lstat().st_mode)) for p in made if p.is_file()} == {"0o644"}
    assert oct(stat.S_IMODE((tmp_path / ".covhook-work").stat().st_mode)) == "0o755"


WAITS_FOR_SIGTERM = """\
    import os, sys, time
    def work():
        return 1  # work
    work()
    open(os.path.join(sys.argv[1], f"ready-{os.getpid()}"), "w").close()
    time.sleep(60)
"""


def test_work_dir_symlinked_elsewhere_is_refused(shared: Path, private: Path) -> None:
    """Attack (a): .covhook-work -> a root-only dir; a SIGTERMed root process wrote there."""
    as_user(NOBODY, "import os, sys; os.symlink(sys.argv[1], sys.argv[2])", str(private),
            str(shared / ".covhook-work"))  # fmt: skip
    program, rc = program_in(shared, WAITS_FOR_SIGTERM)
    ready = Path(tempfile.mkdtemp(dir=private))
    proc = subprocess.Popen(
        [str(launchers.PYTHON), str(program), str(ready)],
        cwd=shared,
        env=launchers.measured_env(rc),
        stderr=subprocess.PIPE,
        text=True,
    )
    launchers.wait_for(lambda: launchers.ready_pids(ready), 30, "the program")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert sorted(p.name for p in private.iterdir()) == [ready.name]  # nothing written there
    assert (shared / ".covhook-work").is_symlink()  # left alone, never followed
    lines = covhook_lines(err)
    assert len(lines) == 1, err
    assert "symlink" in lines[0]
    assert "Fix:" in lines[0]
    assert launchers.marked(program, "work") <= combined_lines(shared, "prog.py")


FLUSHES = """\
    import time
    def work():
        return 1  # work
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        work()
        time.sleep(0.01)
"""

SWAPPER = """\
    import os, sys, time
    shared, secret = sys.argv[1], sys.argv[2]
    dirs = [os.path.join(shared, ".covhook-work"), os.path.join(shared, ".covhook-work.0")]
    for d in dirs:
        os.mkdir(d)
        os.chmod(d, 0o777)
    open(os.path.join(shared, "attacker-ready"), "w").close()
    end = time.monotonic() + 4
    while time.monotonic() < end:
        for d in dirs:
            for name in os.listdir(d):
                path = os.path.join(d, name)
                if name.endswith((".gone", "-journal")) or os.path.islink(path):
                    continue
                try:
                    os.rename(path, path + ".gone")
                    os.symlink(secret, path)
                except OSError:
                    pass
        time.sleep(0.001)
"""


def test_swapped_working_file_never_publishes_a_secret(shared: Path, private: Path) -> None:
    """Attack (b): the working file becomes a symlink to a root 0600 file mid-run."""
    secret = private / "secret"
    marker = b"TOP-SECRET-" + os.urandom(8).hex().encode()
    secret.write_bytes(marker * 100)
    secret.chmod(0o600)
    attacker = as_user(NOBODY, SWAPPER, str(shared), str(secret), background=True)
    launchers.wait_for((shared / "attacker-ready").exists, 30, "the attacker")
    program, rc = program_in(shared, FLUSHES)
    proc = run_measured(program, rc, COVHOOK_FLUSH_SECONDS="0.05")
    attacker.communicate(timeout=60)
    assert proc.returncode == 0, proc.stderr
    leaked = [p.name for p in shared.rglob("*") if p.is_file() and marker in p.read_bytes()]
    assert leaked == []
    assert secret.read_bytes() == marker * 100
    published = data.data_files(shared)
    assert published
    assert all(p.stat().st_uid == 0 and not p.is_symlink() for p in published)
    assert launchers.marked(program, "work") <= combined_lines(shared, "prog.py")


NOTES_A_CHILD = """\
    import os, subprocess, sys, time
    ready, go = sys.argv[1], sys.argv[2]
    open(os.path.join(ready, f"ready-{os.getpid()}"), "w").close()
    while not os.path.exists(go):
        time.sleep(0.01)
    subprocess.run([sys.executable, "-c", "pass"], env={}, check=True)
"""


def test_unmeasured_note_never_follows_a_symlink(shared: Path, private: Path) -> None:
    """Attack (c): .covhook-unmeasured.<pid>.json pre-made as a symlink to a root file."""
    target = private / "root-file"
    target.write_text("root's own content\n")
    target.chmod(0o600)
    program, rc = program_in(shared, NOTES_A_CHILD)
    ready = Path(tempfile.mkdtemp(dir=private))
    go = private / "go"
    proc = subprocess.Popen(
        [str(launchers.PYTHON), str(program), str(ready), str(go)],
        cwd=shared,
        env=launchers.measured_env(rc),
        stderr=subprocess.PIPE,
        text=True,
    )
    launchers.wait_for(lambda: launchers.ready_pids(ready), 30, "the program")
    (pid,) = launchers.ready_pids(ready)
    note = shared / f".covhook-unmeasured.{pid}.json"
    as_user(NOBODY, "import os, sys; os.symlink(sys.argv[1], sys.argv[2])", str(target), str(note))
    go.touch()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert target.read_text() == "root's own content\n"
    assert note.is_symlink()


def test_skipped_note_never_follows_a_symlink(shared: Path, private: Path) -> None:
    """Attack (c) on the note of processes the scope skips (``.covhook-skipped``)."""
    target = private / "root-file"
    target.write_text("root's own content\n")
    target.chmod(0o600)
    helper = shared / "helper.py"  # outside the configured source: skipped by scope
    helper.write_text("print('helper')\n")
    helper.chmod(0o644)
    rc = shared / "covrc"
    rc.write_text(
        f"[run]\nparallel = True\nsource_pkgs = nothere\ndata_file = {shared}/.coverage\n"
    )
    rc.chmod(0o644)
    note = shared / ".covhook-skipped"
    as_user(NOBODY, "import os, sys; os.symlink(sys.argv[1], sys.argv[2])", str(target), str(note))
    done = run_measured(helper, rc)
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "root's own content\n"
    assert note.is_symlink()
    assert data.data_files(shared) == []

    note.unlink()  # the control: without the symlink, the same run is counted
    assert run_measured(helper, rc).returncode == 0
    assert note.read_text().count("\n") == 1
    assert stat.S_IMODE(note.stat().st_mode) == 0o644


def test_work_dir_of_another_user_does_not_lose_data(shared: Path) -> None:
    """A .covhook-work made by root (CI) and a program run as another user: data is saved."""
    (shared / ".covhook-work").mkdir(mode=0o755)
    program, rc = program_in(shared, SIMPLE)
    proc = run_measured(program, rc, user=NOBODY)
    assert proc.returncode == 0, proc.stderr
    assert covhook_lines(proc.stderr) == []
    assert [p.stat().st_uid for p in data.data_files(shared)] == [NOBODY]
    assert launchers.marked(program, "work") <= combined_lines(shared, "prog.py")


DROPS_PRIVILEGES = """\
    import os
    def work():
        return 1  # work
    work()
    os.setgid(65534)
    os.setuid(65534)  # like a daemon dropping root before it exits
"""


def test_save_that_fails_after_setuid_says_so_in_one_line(tmp_path: Path) -> None:
    need_root_and_setpriv()
    program, rc = program_in(tmp_path, DROPS_PRIVILEGES)
    proc = run_measured(program, rc)
    assert proc.returncode == 0, proc.stderr
    lines = covhook_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert "Fix:" in lines[0]
    assert ".coverage" in lines[0]
    assert "65534" in lines[0]
    assert proc.stderr.strip() == lines[0]


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mount = shutil.which("mount")
    launchers.need(
        os.geteuid() == 0 and mount is not None, "root and mount", "run the tests as root"
    )
    done = processes.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", where])
    launchers.need(done.returncode == 0, f"a tmpfs mount ({done.stderr.strip()})")
    try:
        yield where
    finally:
        for _ in range(50):
            if processes.run(["umount", where]).returncode == 0:
                break
            time.sleep(0.1)


def test_full_filesystem_says_so_and_combine_recovers(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "full", "64k") as full:
        program, rc = program_in(full, SIMPLE)
        proc = run_measured(program, rc)
        assert proc.returncode == 0, proc.stderr
        lines = covhook_lines(proc.stderr)
        assert len(lines) == 1, proc.stderr
        assert "Fix:" in lines[0]
        assert proc.stderr.strip() == lines[0]
        kept = list((full / ".covhook-work").iterdir())
        assert len(kept) == 1
        assert str(kept[0]) in lines[0]
        processes.run(["mount", "-o", "remount,size=1m", full], check=True)
        out = launchers.covhook(full, "combine", "--keep")
        assert out.returncode == 0, out.stdout + out.stderr
        assert "recovered 1 data file" in out.stdout
        assert list((full / ".covhook-work").iterdir()) == []
        assert launchers.marked(program, "work") <= data.lines_of(full / ".coverage", "prog.py")


def test_docker_args_after_chgrp_and_a_container_user(shared: Path) -> None:
    """Item 5: docker-args as root, then ``chgrp <gid> covdata`` (docs/containers.md), then
    docker-args again; a process as uid:gid 23456 (what ``docker run --user`` gives)."""
    covdata = shared / "covdata"
    docker_args.prepare(covdata)
    os.chown(covdata, 0, OTHER)
    docker_args.prepare(covdata)
    made = [p for p in covdata.rglob("*") if p.is_dir()]
    assert made
    assert {p.stat().st_gid for p in made} == {OTHER}
    program, rc = program_in(shared, SIMPLE)
    rc.write_text(rc.read_text().replace(f"{shared}/.coverage", f"{covdata}/.coverage"))
    proc = run_measured(program, rc, user=OTHER)
    assert proc.returncode == 0, proc.stderr
    assert covhook_lines(proc.stderr) == []
    (found,) = data.data_files(covdata)
    assert found.stat().st_uid == OTHER
    assert launchers.marked(program, "work") <= combined_lines(covdata, "prog.py")
