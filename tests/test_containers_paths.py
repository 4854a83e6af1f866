"""docker-args and path mapping without an engine: the parts that need no container.

The engine tests (test_containers*.py) prove the whole thing for real; these
pin the rules down fast: flags, modes and ownership, the container config,
mountinfo parsing, device-based host resolution, package mapping, and that
``covhook combine`` is unchanged for data measured on the host.
"""

from __future__ import annotations

import configparser
import json
import os
import stat
import sys
from pathlib import Path

import coverage
import pytest

from covhook.cli import main
from covhook.host import pathmap
from covhook.startup import containers
from support import data, processes
from support.docker import PROJECT, doc_block

OWNER = (12345, 12345)
HOST_TABLE = """\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:50 / /tmp rw - tmpfs tmpfs rw
41 27 254:0 /srv/data /data rw - ext4 /dev/vda rw
"""
CONTAINER_TABLE = """\
72 48 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/x
73 72 0:42 / /proc rw,nosuid - proc proc rw
89 72 254:0 /var/lib/docker/containers/abc/hostname /etc/hostname rw - ext4 /dev/vda rw
90 72 254:0 /home/me/my\\040proj /app rw,relatime - ext4 /dev/vda rw
91 72 0:50 /build/out /out rw - tmpfs tmpfs rw
92 72 0:99 / /scratch rw - tmpfs tmpfs rw
"""


def test_mountinfo_parsing_unescapes_and_filters() -> None:
    mounts = pathmap.parse_mountinfo(CONTAINER_TABLE + "garbage line\n")
    assert len(mounts) == 6
    app = mounts[3]
    assert (app.target, app.root, app.device, app.fstype) == (
        "/app",
        "/home/me/my proj",
        "254:0",
        "ext4",
    )
    kept = [m.target for m in pathmap.source_mounts(mounts)]
    assert kept == ["/etc/hostname", "/app", "/out", "/scratch"]


def test_host_path_follows_the_device() -> None:
    host = pathmap.parse_mountinfo(HOST_TABLE)
    app, out, scratch = pathmap.source_mounts(pathmap.parse_mountinfo(CONTAINER_TABLE))[1:]
    assert pathmap.host_path(app, host) == "/home/me/my proj"
    # A directory of the host's /tmp tmpfs: its path there is /build/out.
    assert pathmap.host_path(out, host) == "/tmp/build/out"
    # A tmpfs of the container's own: nothing on the host.
    assert pathmap.host_path(scratch, host) is None
    # Same device mounted twice: the mount whose root holds it gives the shorter path.
    inside = pathmap.Mount("/d", "/srv/data/x", "254:0", "ext4")
    assert pathmap.host_path(inside, host) == "/data/x"


def test_package_aliases_find_the_source_tree(tmp_path: Path) -> None:
    (tmp_path / "src/pkg").mkdir(parents=True)
    (tmp_path / "src/pkg/mod.py").write_text("x = 1\n")
    (tmp_path / "single.py").write_text("y = 2\n")
    site = "/usr/local/lib/python3.11/site-packages"
    files = [
        f"{site}/pkg/mod.py",
        f"{site}/single.py",
        f"{site}/other/thing.py",  # not in the checkout: left alone
        "/app/x.py",
    ]
    aliases = pathmap.package_aliases(files, [str(tmp_path)])
    assert sorted(aliases) == sorted(
        [
            pathmap.Alias(f"{site}/pkg", str(tmp_path / "src/pkg")),
            pathmap.Alias(site, str(tmp_path)),
        ]
    )
    ordered = pathmap.ordered(aliases)
    assert ordered[0].pattern == f"{site}/pkg"  # the most specific first
    assert pathmap.map_with(ordered, f"{site}/pkg/mod.py") == str(tmp_path / "src/pkg/mod.py")


def test_paths_section_is_what_coverage_reads(tmp_path: Path) -> None:
    aliases = pathmap.ordered(
        [pathmap.Alias("/app", "/home/me/proj"), pathmap.Alias("/app/sub", "/elsewhere")]
    )
    rc = tmp_path / ".coveragerc"
    rc.write_text(pathmap.paths_section(aliases))
    cov = coverage.Coverage(config_file=str(rc))
    assert cov.get_option("paths") == pathmap.as_paths_option(aliases)
    assert list(cov.get_option("paths").values()) == [  # type: ignore[union-attr]
        ["/elsewhere", "/app/sub"],
        ["/home/me/proj", "/app"],
    ]
    assert pathmap.conflicts([*aliases, pathmap.Alias("/app", "/other")]) == {
        "/app": {"/home/me/proj", "/other"}
    }


def test_record_is_written_once_and_atomically(tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(CONTAINER_TABLE)
    first = containers.record(str(tmp_path), str(table))
    assert first is not None
    doc = json.loads(Path(first).read_text())
    assert doc["data_dir"] == str(tmp_path)
    # Only directories that exist here are kept (this host has none of /app, /out ...).
    assert all(os.path.isdir(m["target"]) for m in doc["mounts"])
    assert containers.record(str(tmp_path), str(table)) is None
    assert sorted(p.name for p in Path(first).parent.iterdir()) == [Path(first).name]
    assert not list(tmp_path.glob(".coverage*"))  # nothing coverage combine would glob


@pytest.fixture
def owned_dir(tmp_path: Path) -> Path:
    covdata = tmp_path / "covdata"
    covdata.mkdir()
    if os.geteuid() == 0:
        os.chown(covdata, *OWNER)
    return covdata


def docker_args(*args: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["docker-args", "--format", "json", *args]) == 0
    flags: list[str] = json.loads(capsys.readouterr().out)
    return flags


def test_docker_args_flags_modes_and_config(
    owned_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\nsource_pkgs = shapes\n")
    flags = docker_args("--data-dir", "covdata", "--as-owner", capsys=capsys)
    uid, gid = owned_dir.stat().st_uid, owned_dir.stat().st_gid
    assert flags[:4] == [
        "-v",
        f"{owned_dir}:/covhook-data",
        "-e",
        "COVERAGE_PROCESS_START=/covhook-data/.covhook/coveragerc",
    ]
    assert "COVHOOK_FLUSH_SECONDS=10" in flags
    assert flags[-2:] == ["--user", f"{uid}:{gid}"]
    assert ("--group-add" in flags) == (gid != 0)

    meta = owned_dir / ".covhook"
    for path in [owned_dir, *owned_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH, path
        assert (path.stat().st_uid, path.stat().st_gid) == (uid, gid), path
        if path.is_dir():
            assert mode == 0o2775, (path, oct(mode))
    rc = configparser.ConfigParser()
    rc.read(meta / "coveragerc")
    assert rc["run"]["data_file"] == "/covhook-data/.coverage"
    assert rc["run"]["branch"] == "True"
    assert rc["run"]["source_pkgs"].split() == ["shapes"]
    assert rc["run"]["plugins"].split() == ["covhook.containers"]
    assert rc["run"]["sigterm"] == "True"
    assert json.loads((meta / "docker-args.json").read_text())["cwd"] == str(tmp_path)


def test_docker_args_never_leaves_world_writable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)  # what the hand-written recipes did
    docker_args("--data-dir", "loose", "--flush", "0", capsys=capsys)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o2775


def test_docker_args_refuses_a_relative_mount_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docker-args", "--mount-point", "data"]) == 1
    assert "not an absolute container path" in capsys.readouterr().err


def test_combine_is_unchanged_for_host_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No container data, no records: covhook combine does what it always did."""
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    (tmp_path / "prog.py").write_text("def f():\n    return 1\n\nf()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}
    env["COVERAGE_PROCESS_START"] = str(tmp_path / ".coveragerc")
    processes.run([sys.executable, "prog.py"], tmp_path, env, check=True)
    assert main(["combine", "--print-paths"]) == 0
    assert capsys.readouterr().out.strip().endswith("[paths]")
    assert main(["combine"]) == 0
    assert data.lines_of(tmp_path / ".coverage", "prog.py") == {1, 2, 4}
    assert data.data_files(tmp_path) == []


def test_docs_show_the_sample_projects_config() -> None:
    """The .coveragerc the guide shows is the one its tests run with (comments aside)."""
    real = [
        line
        for line in (PROJECT / ".coveragerc").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert doc_block("coveragerc").splitlines() == real
