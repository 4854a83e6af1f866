"""Docker for real: a private dockerd, an image built with covhook baked in, the docs' commands.

Every container test runs the commands of docs/containers.md (the blocks
marked ``<!-- test: NAME -->``) against a real engine, with the sample project
in tests/programs/containers/project mounted at /app, then asserts from the
combined CoverageData which lines of which *host* file ran, the origin tags in
the data file names, who owns the files, and that nothing is world-writable.

The data directory belongs to OWNER, a uid that is not the test's (root), so
"the host user can own and delete the files" is a real check: it is done by a
process running as that uid.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest

from support import data, processes
from support.docker import (
    OWNER,
    PROJECT,
    Engine,
    build_context,
    doc_block,
    dockerd_engine,
    import_base,
    lines_by_path,
    marked,
    new_checkout,
    owners,
    run_block,
    shell_env,
    tags,
    world_writable,
)

pytestmark = [pytest.mark.containers, pytest.mark.docker]


@pytest.fixture
def checkout() -> Iterator[Path]:
    """The sample project with a data dir owned by OWNER (see support.docker.new_checkout)."""
    with new_checkout() as project:
        yield project


SRC = Path(__file__).resolve().parents[1] / "src" / "covhook"
OTHER = (23456, 23456)  # a container --user that is neither root nor OWNER
IMAGE = "myapp-cov"
# Our own files name the variable; the periodic flush itself comes from issue 3's code.
OWN_FILES = {"docker_args.py", "containers.py", "pathmap.py"}
FLUSH_SUPPORTED = any(
    "COVHOOK_FLUSH_SECONDS" in p.read_text("utf-8")
    for p in SRC.rglob("*.py")
    if p.name not in OWN_FILES
)


@pytest.fixture(scope="session")
def docker() -> Iterator[Engine]:
    """Our own dockerd for the session, stopped by PID at the end."""
    with dockerd_engine() as engine:
        yield engine


@pytest.fixture(scope="session")
def image(docker: Engine, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The docs' Dockerfile built once per session on the local Debian base."""
    import_base(docker)
    ctx = build_context(tmp_path_factory.mktemp("docker-build"), wheel)
    run_block("build", ctx, shell_env(docker), timeout=600)
    return IMAGE


def run_as(user: tuple[int, int], *cmd: str) -> subprocess.CompletedProcess[str]:
    """Run a command as another uid/gid with no supplementary groups (a plain host user)."""
    return subprocess.run(
        list(cmd),
        user=user[0],
        group=user[1],
        extra_groups=[],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )


def assert_owner_can_delete(covdata: Path) -> None:
    """OWNER (not root) deletes everything in the data dir: nothing there is beyond their reach."""
    done = run_as(OWNER, "find", str(covdata), "-mindepth", "1", "-delete")
    assert done.returncode == 0, done.stderr
    assert list(covdata.iterdir()) == []


def snapshot(covdata: Path, dest: Path) -> Path:
    """A copy of the data dir (as root) to combine, so the original can be deleted by OWNER."""
    shutil.copytree(covdata, dest, symlinks=True)
    return dest


def restore(copy: Path, covdata: Path) -> None:
    shutil.rmtree(covdata, ignore_errors=True)
    shutil.copytree(copy, covdata, symlinks=True)


def test_this_vm_is_not_a_container() -> None:
    """The build VM has /.dockerenv but is no container: /.dockerenv alone is not Docker."""
    from covhook import origin

    found = origin.detect({})
    if Path("/.dockerenv").exists():
        assert found.kind == "host", found
    assert found.kind not in {"docker", "podman", "container"}, found


def test_image_has_the_hook_and_it_sleeps_until_asked(
    docker: Engine, image: str, checkout: Path
) -> None:
    """pip install covhook is the whole bake-in; without the flags nothing is measured."""
    probe = (
        "import os, site, sys; "
        "assert 'coverage' not in sys.modules and 'covhook' not in sys.modules; "
        "import covhook, coverage; "
        "assert any(os.path.isfile(os.path.join(d, 'a0_covhook.pth')) "
        "for d in site.getsitepackages())"
    )
    done = docker("run", "--rm", *docker.run_args, image, "python3", "-c", probe, check=False)
    assert done.returncode == 0, done.stderr
    covdata = checkout / "covdata"
    # Mounted, but COVERAGE_PROCESS_START not set: the hook stays inactive.
    docker(
        "run", "--rm", *docker.run_args, "-v", f"{covdata}:/covhook-data",
        "-v", f"{checkout}:/app", "-w", "/app", image, "python3", "scripts/report.py",
    )  # fmt: skip
    assert data.data_files(covdata) == []


@pytest.mark.slow
def test_script_in_container_combines_to_host_paths(
    docker: Engine, image: str, checkout: Path
) -> None:
    env = shell_env(docker)
    covdata = checkout / "covdata"
    run_block("run-script", checkout, env)

    (tag,) = tags(covdata)
    assert re.fullmatch(r"docker-[0-9a-f]{12}", tag), tag
    files = data.data_files(covdata)
    # The container ran as root; covhook gave its files to the data dir's owner.
    assert owners(files) == {OWNER}
    assert owners([p for p in covdata.rglob("*")]) == {OWNER}
    assert world_writable(covdata) == []
    copy = snapshot(covdata, checkout.parent / "copy")
    assert_owner_can_delete(covdata)

    restore(copy, covdata)
    run_block("combine", checkout, env)
    report, area, init = (
        checkout / "scripts/report.py",
        checkout / "src/shapes/area.py",
        checkout / "src/shapes/__init__.py",
    )
    got = lines_by_path(checkout / ".coverage")
    assert got == {
        str(report): marked(report, "by-script"),
        str(area): marked(area, "by-import", "by-script"),
        str(init): marked(init, "by-import"),
    }
    assert data.contexts(checkout / ".coverage") == {tag}
    assert data.data_files(covdata) == []  # combined, like coverage combine
    assert not list((covdata / ".covhook" / "mounts").iterdir())  # its record went too

    # Plain coverage.py, with the [paths] covhook prints, gives the same lines.
    (checkout / ".coverage").unlink()
    restore(copy, covdata)
    run_block("plain-combine", checkout, env)
    assert lines_by_path(checkout / ".coverage") == got


@pytest.mark.slow
def test_pytest_in_container_as_another_user(docker: Engine, image: str, checkout: Path) -> None:
    env = shell_env(docker)
    covdata = checkout / "covdata"
    run_block("run-pytest", checkout, env)

    (tag,) = tags(covdata)
    assert tag.startswith("docker-")
    files = data.data_files(covdata)
    # Written by uid OTHER thanks to --group-add; the setgid dir gives them OWNER's group.
    assert owners(files) == {(OTHER[0], OWNER[1])}
    assert all(f.stat().st_mode & 0o044 == 0o044 for f in files)  # group and others read
    assert world_writable(covdata) == []
    copy = snapshot(covdata, checkout.parent / "copy")
    assert_owner_can_delete(covdata)

    restore(copy, covdata)
    processes.run(["covhook", "combine", "covdata"], checkout, env, check=True)
    test_file, area, init = (
        checkout / "tests/test_shapes.py",
        checkout / "src/shapes/area.py",
        checkout / "src/shapes/__init__.py",
    )
    got = lines_by_path(checkout / ".coverage")
    all_test_lines = {n for n, line in enumerate(test_file.read_text().splitlines(), 1) if line}
    assert got[str(test_file)] == all_test_lines
    assert got[str(area)] == marked(area, "by-import", "by-test")
    assert got[str(init)] == marked(init, "by-import")
    assert all(path.startswith(f"{checkout}/") for path in got), sorted(got)


def stop_block(init: bool) -> str:
    block = doc_block("stop")
    return block.replace("docker run -d", "docker run -d --init") if init else block


@pytest.mark.slow
@pytest.mark.signals
@pytest.mark.parametrize("init", [False, True], ids=["pid1", "init"])
def test_docker_stop_keeps_the_data(docker: Engine, image: str, checkout: Path, init: bool) -> None:
    """`docker stop` of a Python that is PID 1 (or under --init), started with --rm."""
    env = shell_env(docker)
    processes.run(["bash", "-euo", "pipefail", "-c", stop_block(init)], checkout, env, check=True)
    covdata = checkout / "covdata"
    (tag,) = tags(covdata)
    assert tag.startswith("docker-")
    assert world_writable(covdata) == []
    processes.run(["covhook", "combine", "covdata"], checkout, env, check=True)
    serve, area = checkout / "scripts/serve.py", checkout / "src/shapes/area.py"
    got = lines_by_path(checkout / ".coverage")
    assert got[str(serve)] == marked(serve, "by-serve")
    square = data.lines_in(area, 'kind == "square"') | data.lines_in(area, "return size * size")
    assert square <= got[str(area)]  # area("square", n)


@pytest.mark.slow
@pytest.mark.signals
def test_killed_container_keeps_the_last_flush(docker: Engine, image: str, checkout: Path) -> None:
    """SIGKILL (docker kill, a timeout) runs no handler: the periodic flush bounds the loss."""
    env = shell_env(docker)
    run_block("kill", checkout, env)
    covdata = checkout / "covdata"
    if not data.data_files(covdata) and not FLUSH_SUPPORTED:
        pytest.xfail("needs the periodic flush (COVHOOK_FLUSH_SECONDS) from issue 3")
    (tag,) = tags(covdata)
    assert tag.startswith("docker-")
    assert world_writable(covdata) == []
    copy = snapshot(covdata, checkout.parent / "copy")
    # Killed as root before any exit handler: what it left is root's, still deletable.
    assert_owner_can_delete(covdata)
    restore(copy, covdata)
    processes.run(["covhook", "combine", "covdata"], checkout, env, check=True)
    serve = checkout / "scripts/serve.py"
    assert lines_by_path(checkout / ".coverage")[str(serve)] == marked(serve, "by-serve")


@pytest.mark.slow
def test_many_containers_are_distinct_origins(docker: Engine, image: str, checkout: Path) -> None:
    env = shell_env(docker)
    covdata = checkout / "covdata"
    run_block("many", checkout, env)
    ids = (checkout / "cids").read_text().split()
    assert len(ids) == 3
    expected_tags = {f"docker-{cid[:12]}" for cid in ids}
    combined = checkout / ".coverage"
    assert data.contexts(combined) == expected_tags
    assert data.data_files(covdata) == []
    report, area = checkout / "scripts/report.py", checkout / "src/shapes/area.py"
    cov_data = coverage.CoverageData(str(combined))
    cov_data.read()
    for tag in expected_tags:  # each container ran every line, at the host path
        cov_data.set_query_contexts([f"^{tag}$"])
        assert set(cov_data.lines(str(report)) or ()) == marked(report, "by-script")
        assert marked(area, "by-script", "by-test") - {11} <= set(cov_data.lines(str(area)) or ())


@pytest.mark.slow
def test_same_mount_point_different_checkouts(docker: Engine, image: str, checkout: Path) -> None:
    """/app is checkout A in one container and B in another: each file lands where it came from.

    One [paths] cannot say that; covhook combines each container with its own mounts.
    """
    env = shell_env(docker)
    other = checkout.parent / "other"
    shutil.copytree(PROJECT, other)
    covdata = checkout / "covdata"
    flags = processes.run(
        ["covhook", "docker-args", "--data-dir", covdata, "--format", "lines"],
        checkout,
        env,
        check=True,
    ).stdout.split("\n")
    for project, kind in ((checkout, "square"), (other, "circle")):
        docker(
            "run", "--rm", *docker.run_args, *filter(None, flags), "-v", f"{project}:/app",
            "-w", "/app", image, "python3", "scripts/report.py", kind,
        )  # fmt: skip
    assert len(set(tags(covdata))) == 2
    processes.run(["covhook", "combine", "covdata"], checkout, env, check=True)
    got = lines_by_path(checkout / ".coverage")
    # Each container's scripts, and its installed package, map to its own checkout.
    for project, kind in ((checkout, "square"), (other, "circle")):
        report, area = project / "scripts/report.py", project / "src/shapes/area.py"
        assert got[str(report)] == marked(report, "by-script")
        ran = {n for n, line in enumerate(area.read_text().splitlines(), 1) if kind in line}
        assert ran <= got[str(area)]
    assert all(path.startswith(str(checkout.parent)) for path in got), sorted(got)
