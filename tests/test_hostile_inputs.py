"""Hostile inputs in a shared data dir and in archives (issue 23, items 4-8 and 14).

Real archives unpacked by real interpreters (Debian's /usr/bin/python3 3.11.2, which has
no ``tarfile.data_filter``, and the venv's), real FIFOs, a real other user (``setpriv``
as ``nobody``) planting links, real ``covhook combine`` processes, a real umask 000.
The tests that need another user need root (CI runs as root; elsewhere they skip, or
fail under COVHOOK_REQUIRE_ALL=1).
"""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import coverage
import pytest
from test_datadir_safety import SIMPLE, covhook_lines, program_in, tiny_tmpfs

from covhook import containers as _public_containers  # noqa: F401  (the plugin's public name)
from covhook import layout, roots
from covhook.startup import containers
from support import cli, data, datagen, envs, launchers, measured, processes, users
from support.users import NOBODY, OTHER, as_user

SRC = Path(__file__).resolve().parents[1] / "src"
SYSTEM_PYTHON = Path("/usr/bin/python3")
RC = "[run]\nparallel = True\n"


def combine(directory: Path, *args: str, timeout: float = 60, **env: str) -> tuple[int, str]:
    """``covhook combine`` in ``directory`` as a process: exit status, stdout + stderr."""
    done = cli.covhook(["combine", *args], directory, env, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def covhook_output(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("covhook:")]


# --- item 4: tar members' modes, owners, links and devices -------------------------------


def hostile_tar(path: Path, outside: Path) -> None:
    """Every kind of member the data filter refuses or cleans, beside clean ones."""

    def add(name: str, kind: bytes = tarfile.REGTYPE, *, mode: int = 0o644, uid: int = 0,
            body: bytes = b"", link: str = "") -> None:  # fmt: skip
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid, info.linkname = kind, mode, uid, uid, link
        if kind == tarfile.CHRTYPE:
            info.devmajor, info.devminor = 1, 3  # /dev/null's numbers
        info.size = len(body) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(body) if kind == tarfile.REGTYPE else None)

    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        add("d", tarfile.DIRTYPE, mode=0o777, uid=NOBODY)  # another user's world-writable dir
        add("d/setuid", mode=0o4755, uid=0, body=b"#!/bin/sh\nid\n")
        add("d/setgid-sticky", mode=0o3777, uid=OTHER, body=b"x")
        add("d/world-writable", mode=0o666, uid=OTHER, body=b"x")
        add("d/private", mode=0o600, body=b"x")
        add("d/owner-exec", mode=0o700, body=b"x")
        add("d/sub", tarfile.DIRTYPE, mode=0o2777, uid=OTHER)
        add("link", tarfile.SYMTYPE, link=str(outside))
        add("link/through-the-link", body=b"x")  # written outside if "link" were a symlink
        add("inner-link", tarfile.SYMTYPE, link="d/private")
        add("hard", tarfile.LNKTYPE, link="d/private")
        add("hard-outside", tarfile.LNKTYPE, link=str(outside / "target"))
        add("dev", tarfile.CHRTYPE, mode=0o666)
        add("fifo", tarfile.FIFOTYPE, mode=0o666)
        add("../escaped", body=b"x")
        add("d/../../escaped-too", body=b"x")
        add(str(outside / "absolute"), body=b"x")


# What the data filter's rules leave: regular files and directories, 0644/0755, ours.
CLEAN = {
    "d": ("dir", 0o755),
    "d/setuid": ("file", 0o755),
    "d/setgid-sticky": ("file", 0o755),
    "d/world-writable": ("file", 0o644),
    "d/private": ("file", 0o644),
    "d/owner-exec": ("file", 0o755),
    "d/sub": ("dir", 0o755),
    "link": ("dir", 0o755),
    "link/through-the-link": ("file", 0o644),
}

UNPACK = """\
import sys
sys.path.insert(0, sys.argv[1])
from covhook.host import sources
sources.unpack(sys.argv[2], sys.argv[3])
"""


def unpack_with(python: Path, archive: Path, into: Path, user: int | None) -> None:
    command = [str(python), "-c", UNPACK, str(SRC), str(archive), str(into)]
    env = envs.clean_env()
    processes.run(users.argv(user, *command), env=env, check=True, timeout=60, umask=0)


def pythons() -> list[pytest.param]:  # type: ignore[valid-type]
    system = pytest.param(
        SYSTEM_PYTHON,
        id="system-python",
        marks=pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no /usr/bin/python3"),
    )
    return [system, pytest.param(launchers.PYTHON, id="venv-python")]


@pytest.mark.parametrize("python", pythons())
@pytest.mark.parametrize("user", [None, NOBODY], ids=["root", "nobody"])
def test_tar_members_get_the_data_filter_rules_on_every_python(
    shared: Path, python: Path, user: int | None
) -> None:
    outside = shared / "outside"
    outside.mkdir()
    (outside / "target").write_text("kept\n")
    archive = shared / "hostile.tar"
    hostile_tar(archive, outside)
    archive.chmod(0o644)
    into = shared / "into" / "unpacked"
    into.parent.mkdir()
    into.mkdir()
    if user is not None:
        os.chown(into, user, user)
    unpack_with(python, archive, into, user)

    found = {}
    for path in sorted(into.rglob("*")):
        st = path.lstat()
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "odd"
        found[str(path.relative_to(into))] = (kind, stat.S_IMODE(st.st_mode))
        assert st.st_uid == (user if user is not None else 0), path
        assert st.st_gid == (user if user is not None else 0), path
    assert found == CLEAN
    assert sorted(p.name for p in outside.iterdir()) == ["target"]
    assert (outside / "target").read_text() == "kept\n"
    assert sorted(p.name for p in into.parent.iterdir()) == ["unpacked"]
    assert not (shared / "escaped-too").exists()


def test_hostile_tar_still_combines_its_data(tmp_path: Path) -> None:
    good = datagen.write_process(tmp_path / "made", 1, root="/r", sources=3)
    with tarfile.open(tmp_path / "job.tar", "w") as tar:
        info = tar.gettarinfo(str(good), arcname=f"job/{good.name}")
        info.mode, info.uid = 0o4777, NOBODY
        with good.open("rb") as f:
            tar.addfile(info, f)
        link = tarfile.TarInfo(f"job/{good.name}-link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path, "job.tar")
    assert status == 0, out
    expected = datagen.describe(good)
    assert datagen.describe(tmp_path / ".coverage")["files"] == expected["files"]


def test_zip_links_and_escapes_are_skipped(tmp_path: Path) -> None:
    good = datagen.write_process(tmp_path / "made", 1, root="/r", sources=3)
    with zipfile.ZipFile(tmp_path / "job.zip", "w") as zf:
        zf.write(good, f"job/{good.name}")
        link = zipfile.ZipInfo(f"job/{good.name}.link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("../../escaped", b"x")
        zf.writestr("/tmp/absolute-from-zip", b"x")
    into = tmp_path / "into"
    into.mkdir()
    from covhook.host import sources

    sources.unpack(str(tmp_path / "job.zip"), str(into))
    assert sorted(str(p.relative_to(into)) for p in into.rglob("*")) == ["job", f"job/{good.name}"]
    assert stat.S_IMODE((into / "job" / good.name).stat().st_mode) == 0o644
    assert not (tmp_path.parent / "escaped").exists()


# --- item 5: records never follow a planted link -------------------------------------------


def plant_links(attacker_dir: Path, names: list[str], target: Path) -> None:
    """As ``nobody``: make ``attacker_dir`` (0777, theirs) holding symlinks to ``target``."""
    as_user(
        NOBODY,
        "import os, sys\n"
        "os.makedirs(sys.argv[1], exist_ok=True)\n"
        "os.chmod(sys.argv[1], 0o777)\n"
        "for name in sys.argv[3:]:\n"
        "    os.symlink(sys.argv[2], os.path.join(sys.argv[1], name))\n",
        str(attacker_dir),
        str(target),
        *names,
    )


def root_file(private: Path) -> Path:
    target = private / "root-file"
    target.write_text("root's own content\n")
    target.chmod(0o600)
    return target


def a_config(directory: Path) -> object:
    rc = directory / "covrc"
    rc.write_text(f"[run]\nparallel = True\nsource = {directory}\n")
    return coverage.Coverage(config_file=str(rc)).config


def test_roots_record_never_follows_a_planted_symlink(
    shared: Path, private: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another user pre-creates ``.covhook/`` with links at the names root will write."""
    target = root_file(private)
    project = Path(tempfile.mkdtemp(dir=private))
    config = a_config(project)
    os.chdir(project)
    learned = roots.record(str(project), config)  # the names this process would use
    assert learned is not None
    name = os.path.basename(learned)
    plant_links(shared / ".covhook", [f"{name}.{os.getpid()}.tmp"], target)

    made = roots.record(str(shared), config)
    assert target.read_text() == "root's own content\n"
    assert made is None
    assert (shared / ".covhook" / f"{name}.{os.getpid()}.tmp").is_symlink()
    assert not (shared / ".covhook" / name).exists()
    lines = covhook_lines(capsys.readouterr().err)
    assert len(lines) == 1, lines
    assert "Fix:" in lines[0]
    assert repr(str(shared / ".covhook")) in lines[0]


def test_records_dir_that_is_a_symlink_is_never_written_through(
    shared: Path, private: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_user(NOBODY, "import os, sys; os.symlink(sys.argv[1], sys.argv[2])", str(private),
            str(shared / ".covhook"))  # fmt: skip
    project = Path(tempfile.mkdtemp(dir=shared))
    os.chdir(project)
    made = [roots.record(str(shared), a_config(project)), containers.record(str(shared))]
    assert sorted(p.name for p in private.iterdir()) == []
    assert made == [None, None]
    lines = covhook_lines(capsys.readouterr().err)
    assert len(lines) == 1, lines  # once per process, not once per record
    assert "symlink" in lines[0]


def test_mounts_record_never_follows_a_planted_symlink(shared: Path, private: Path) -> None:
    target = root_file(private)
    learned = containers.record(str(private / "learn"))
    assert learned is not None
    name = os.path.basename(learned)
    plant_links(shared / ".covhook", [], target)
    plant_links(shared / ".covhook" / "mounts", [f"{name}.{os.getpid()}.tmp"], target)
    made = containers.record(str(shared))
    assert target.read_text() == "root's own content\n"
    assert made is None
    assert (shared / ".covhook" / "mounts" / f"{name}.{os.getpid()}.tmp").is_symlink()


def test_records_made_by_this_user_are_still_written(tmp_path: Path) -> None:
    """The control: a data dir of our own gets both records, 0644 in 0755 dirs."""
    config = a_config(tmp_path)
    made = [roots.record(str(tmp_path / "data"), config), containers.record(str(tmp_path / "data"))]
    assert all(made)
    for path in map(Path, made):  # type: ignore[arg-type]
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    assert roots.read([str(tmp_path / "data")])[0]["cwd"] == os.getcwd()


def test_combine_temp_names_cannot_be_predicted() -> None:
    """SQLite creates them through whatever is at the name: pid alone is guessable."""
    for make, prefix in ((layout.combining_path, layout.COMBINING_PREFIX),
                         (layout.fold_path, layout.FOLD_PREFIX)):  # fmt: skip
        names = {make("/d") for _ in range(3)}
        assert len(names) == 3
        assert f"/d/{prefix}{os.getpid()}.tmp" not in names


def test_note_with_a_second_name_is_never_appended_to(tmp_path: Path) -> None:
    """A hard link to another file of ours at a note's name (fs.protected_hardlinks=0 lets
    another user make one to root's files) is refused; a fresh note is created 0644."""
    from covhook import datadir

    other = tmp_path / "other-file"
    other.write_text("kept\n")
    os.link(other, tmp_path / ".covhook-skipped")
    assert datadir.append_line(str(tmp_path / ".covhook-skipped"), "1\tskip\tx") is False
    assert other.read_text() == "kept\n"
    fresh = tmp_path / ".covhook-unmeasured.1.json"
    assert datadir.append_line(str(fresh), "{}") is True
    assert datadir.append_line(str(fresh), "{}") is True
    assert fresh.read_text() == "{}\n{}\n"
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644


def test_docker_args_never_writes_through_a_container_users_link(
    shared: Path, private: Path
) -> None:
    """``.covhook/`` is group-writable for the container's user (docs/containers.md):
    a link that user plants at the name docker-args writes is replaced, never followed."""
    from covhook.commands import docker_args

    target = root_file(private)
    covdata = shared / "covdata"
    docker_args.prepare(covdata)
    os.chown(covdata, 0, OTHER)
    docker_args.prepare(covdata)
    meta = covdata / layout.META_DIR
    names = [f".{n}.{os.getpid()}.tmp" for n in (docker_args.RC_NAME, "docker-args.json")]
    as_user(OTHER, "import os, sys\nfor n in sys.argv[3:]: os.symlink(sys.argv[1], "
            "os.path.join(sys.argv[2], n))", str(target), str(meta), *names)  # fmt: skip
    docker_args.prepare(covdata)
    assert target.read_text() == "root's own content\n"
    assert (target.stat().st_uid, target.stat().st_gid) == (0, 0)
    assert "[run]" in (meta / docker_args.RC_NAME).read_text()
    assert stat.S_IMODE((meta / docker_args.RC_NAME).stat().st_mode) == 0o644


# --- item 6: FIFOs never hang anything ---------------------------------------------------


def skipped_by_scope(shared: Path) -> tuple[Path, Path]:
    helper = shared / "helper.py"  # outside the configured source: skipped by scope
    helper.write_text("print('helper')\n")
    rc = shared / "covrc"
    rc.write_text(
        f"[run]\nparallel = True\nsource_pkgs = nothere\ndata_file = {shared}/.coverage\n"
    )
    return helper, rc


@pytest.mark.parametrize("how", ["lazy-exit", "covhook-skip"])
def test_fifo_skipped_note_does_not_hang_a_measured_process(tmp_path: Path, how: str) -> None:
    helper, rc = skipped_by_scope(tmp_path)
    os.mkfifo(tmp_path / ".covhook-skipped")
    env = {"COVHOOK_SKIP": "*helper*"} if how == "covhook-skip" else {}
    done = run_measured_with_timeout(helper, rc, 30, **env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "helper\n"
    assert stat.S_ISFIFO((tmp_path / ".covhook-skipped").lstat().st_mode)


def run_measured_with_timeout(
    program: Path, rc: Path, timeout: float, **env: str
) -> subprocess.CompletedProcess[str]:
    return processes.run([launchers.PYTHON, program], program.parent, measured.env(rc, **env),
                         timeout=timeout)  # fmt: skip


def test_fifos_in_the_data_dir_do_not_hang_combine(tmp_path: Path) -> None:
    files = datagen.write_many(tmp_path, 3, root="/r", sources=3)
    expected = datagen.combined_by_coverage(files, tmp_path / "expected")
    meta = tmp_path / ".covhook"
    (meta / "mounts").mkdir(parents=True)
    (tmp_path / ".covhook-work").mkdir()
    fifos = [
        meta / "roots-0000abcd.json",
        meta / "mounts" / "docker-0123456789ab.json",
        meta / "docker-args.json",
        tmp_path / ".covhook-unmeasured.4242.json",
        tmp_path / ".covhook-skipped",
        tmp_path / ".covhook-work" / ".coverage.elsewhere.pid4242.Xabcdefx",
        tmp_path / ".coverage.origin-fifo.x.pid4243.Xabcdefx",
    ]
    for fifo in fifos:
        os.mkfifo(fifo)
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path, timeout=30)
    assert status == 0, out
    assert datagen.describe(tmp_path / ".coverage")["files"] == expected["files"]
    assert all(stat.S_ISFIFO(f.lstat().st_mode) for f in fifos if f.name != "docker-args.json")


def test_fifo_skipped_note_does_not_hang_the_skipped_count(tmp_path: Path) -> None:
    """What the pytest plugin and combine count (in a process of its own: it could hang)."""
    os.mkfifo(tmp_path / ".covhook-skipped")
    done = processes.run(
        [launchers.PYTHON, "-c",
         "import sys; from covhook.startup import scope; print(scope.skipped_count(sys.argv[1]))",
         tmp_path],
        env=envs.clean_env(), timeout=30,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "0\n"), done.stderr


# --- item 7: malformed records are skipped, the rest combined ------------------------------


MALFORMED = {
    ".covhook/mounts/list.json": "[]",
    ".covhook/mounts/string.json": '"a string"',
    ".covhook/mounts/bad-mounts.json": '{"place": "docker-1", "mounts": [5]}',
    ".covhook/roots-00000001.json": '{"version": 1, "cwd": "/ci/p", "sources": 5}',
    ".covhook/roots-00000002.json": "[1, 2]",
    ".covhook/docker-args.json": '["not", "a", "dict"]',
    ".covhook-unmeasured.4242.json": '5\n{"argv": 3, "why": [], "fix": {}}\n',
}


def test_malformed_records_are_named_and_skipped(tmp_path: Path) -> None:
    files = datagen.write_many(tmp_path, 3, root="/r", sources=3)
    expected = datagen.combined_by_coverage(files, tmp_path / "expected")
    for name, text in MALFORMED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path)
    assert status == 0, out
    assert "internal error" not in out
    assert datagen.describe(tmp_path / ".coverage")["files"] == expected["files"]
    lines = covhook_output(out)
    for name in MALFORMED:
        if name.endswith("docker-args.json"):
            continue  # read only with a valid mounts record: below
        quoted = repr(str(tmp_path / name))
        assert len([line for line in lines if quoted in line]) == 1, (name, out)
    assert all("Fix:" in line for line in lines), out

    # With a valid mounts record, docker-args.json is read too: named, skipped.
    datagen.write_many(tmp_path, 2, root="/r", sources=3)
    (tmp_path / ".covhook" / "mounts" / "docker-0123456789ab.json").write_text(
        '{"place": "docker-0123456789ab", "mounts": []}'
    )
    status, out = combine(tmp_path, "--append")
    assert status == 0, out
    quoted = repr(str(tmp_path / ".covhook" / "docker-args.json"))
    assert len([line for line in covhook_output(out) if quoted in line]) == 1, out


# --- item 8: archives are bounded and their temp dirs always removed -----------------------


def test_broken_archive_leaves_no_temp_dir(tmp_path: Path) -> None:
    datagen.write_many(tmp_path / "made", 3, root="/r", sources=3)
    with tarfile.open(tmp_path / "whole.tar", "w") as tar:
        tar.add(tmp_path / "made", arcname="job")
    blob = (tmp_path / "whole.tar").read_bytes()
    (tmp_path / "cut.tar").write_bytes(blob[: len(blob) * 2 // 3])
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path, "cut.tar", TMPDIR=str(tmp))
    assert status == 1
    assert len(covhook_output(out)) == 1, out
    assert "cut.tar" in out
    assert list(tmp.iterdir()) == []


def bomb(path: Path, mib: int) -> None:
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open(".coverage.origin-bomb.x.pid1.Xaaaaaax", "w", force_zip64=True) as f,
    ):
        for _ in range(mib):
            f.write(bytes(1 << 20))


def test_archive_bomb_is_stopped_and_cleaned_up(tmp_path: Path) -> None:
    bomb(tmp_path / "bomb.zip", 64)
    assert (tmp_path / "bomb.zip").stat().st_size < 200_000
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path, "bomb.zip", TMPDIR=str(tmp))
    assert status == 1
    (line,) = covhook_output(out)
    assert "'bomb.zip'" in line
    assert "COVHOOK_ARCHIVE_MAX_RATIO" in line
    assert list(tmp.iterdir()) == []

    # Raised, the same archive unpacks (its member is no data file: named, kept, cleaned).
    status, out = combine(tmp_path, "bomb.zip", TMPDIR=str(tmp), COVHOOK_ARCHIVE_MAX_RATIO="2000")
    assert "COVHOOK_ARCHIVE_MAX_RATIO" not in out
    assert "bomb.zip:.coverage.origin-bomb" in out
    assert list(tmp.iterdir()) == []


def test_archive_size_cap_names_its_variable(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "big.tar", "w") as tar:
        info = tarfile.TarInfo(".coverage.origin-big.x.pid1.Xaaaaaax")
        info.size = 3 << 20
        tar.addfile(info, io.BytesIO(os.urandom(info.size)))
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path, "big.tar", TMPDIR=str(tmp), COVHOOK_ARCHIVE_MAX_MB="2")
    assert status == 1
    (line,) = covhook_output(out)
    assert "'big.tar'" in line
    assert "COVHOOK_ARCHIVE_MAX_MB" in line
    assert list(tmp.iterdir()) == []


def test_full_tmpdir_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    bomb(tmp_path / "bomb.zip", 32)
    (tmp_path / ".coveragerc").write_text(RC)
    with tiny_tmpfs(tmp_path / "tmpdir", "16m") as tmp:
        status, out = combine(tmp_path, "bomb.zip", TMPDIR=str(tmp),
                              COVHOOK_ARCHIVE_MAX_RATIO="100000")  # fmt: skip
        left = list(tmp.iterdir())
    assert status == 1
    (line,) = covhook_output(out)
    assert "'bomb.zip'" in line
    assert "Fix:" in line
    assert left == []


def test_interrupted_unpack_leaves_no_temp_dir(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "slow.tar.gz", "w:gz", compresslevel=1) as tar:
        for i in range(60):
            info = tarfile.TarInfo(f"job/.coverage.origin-s.x.pid{i}.Xaaaaaax")
            info.size = 1 << 20
            tar.addfile(info, io.BytesIO(os.urandom(info.size)))
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    (tmp_path / ".coveragerc").write_text(RC)
    proc = subprocess.Popen(
        [str(launchers.BIN / "covhook"), "combine", "slow.tar.gz"],
        cwd=tmp_path,
        env=launchers.measured_env(None, TMPDIR=str(tmp)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    launchers.wait_for(lambda: any(tmp.rglob(".coverage.*")), 30, "the unpack to start")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert list(tmp.iterdir()) == []


# --- item 14: umask 000 makes no directory others can write --------------------------------


def test_umask_000_data_dir_parents_are_not_world_writable(tmp_path: Path) -> None:
    program, rc = program_in(tmp_path, SIMPLE)
    data_dir = tmp_path / "a" / "b" / "data"
    rc.write_text(rc.read_text().replace(f"{tmp_path}/.coverage", f"{data_dir}/.coverage"))
    processes.run([launchers.PYTHON, program], tmp_path, measured.env(rc), check=True,
                  timeout=60, umask=0)  # fmt: skip
    made = [tmp_path / "a", tmp_path / "a" / "b", data_dir, data_dir / layout.META_DIR]
    assert {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {
        str(p.relative_to(tmp_path)): "0o755" for p in made
    }
    assert launchers.marked(program, "work") <= data.lines_of(
        launchers.combine(data_dir)[0], "prog.py"
    )


def test_umask_000_docker_args_parents_are_not_world_writable(tmp_path: Path) -> None:
    from covhook.commands import docker_args

    old = os.umask(0)
    try:
        docker_args.prepare(tmp_path / "a" / "b" / "covdata")
    finally:
        os.umask(old)
    made = [tmp_path / "a", tmp_path / "a" / "b", *(tmp_path / "a" / "b").rglob("*")]
    loose = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in made}
    assert {p: m for p, m in loose.items() if int(m, 8) & 0o002} == {}
    assert loose["a"] == loose["a/b"] == "0o755"


# --- held: disk full in combine, truncated inputs ------------------------------------------


def test_disk_full_in_combine_keeps_inputs_and_says_so(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "full", "2m") as full:
        files = datagen.write_many(full, 4, root="/r", sources=20)
        before = {f: f.read_bytes() for f in files}
        filler = full / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while os.write(fd, bytes(4096)):
                pass
        except OSError:  # ENOSPC: full
            pass
        finally:
            os.close(fd)
        rc_dir = tmp_path / "rc"
        rc_dir.mkdir()
        (rc_dir / ".coveragerc").write_text(
            f"[run]\nparallel = True\ndata_file = {full}/.coverage\n"
        )
        status, out = combine(rc_dir)
        assert status == 1, out
        (line,) = covhook_output(out)
        assert "Fix:" in line
        assert {f: f.read_bytes() for f in files} == before
        assert not (full / ".coverage").exists()
        filler.unlink()
        expected = datagen.combined_by_coverage(files, tmp_path / "expected")
        status, out = combine(rc_dir)
        assert status == 0, out
        assert datagen.describe(full / ".coverage")["files"] == expected["files"]


def test_truncated_input_is_named_kept_and_the_rest_combined(tmp_path: Path) -> None:
    files = datagen.write_many(tmp_path, 4, root="/r", sources=3)
    expected = datagen.combined_by_coverage(files[1:], tmp_path / "expected")
    cut = files[0]
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    (tmp_path / ".coveragerc").write_text(RC)
    status, out = combine(tmp_path)
    assert status == 0, out
    lines = [line for line in covhook_output(out) if cut.name in line]
    assert len(lines) == 1, out
    assert cut.exists()
    assert datagen.describe(tmp_path / ".coverage")["files"] == expected["files"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, *sys.argv[1:]]))
