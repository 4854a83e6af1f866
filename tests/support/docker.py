"""Real container engines for the container tests: a private dockerd, and Podman.

dockerd runs on its own socket, data root and exec root under a temp dir
(never /var/run/docker.sock, so it cannot collide with any other engine on the
machine), without bridge or iptables (containers run with ``--network none``),
and is stopped by its PID when the session ends.  Podman gets its own storage
root the same way.  Images are built from a local Debian root filesystem that
scripts/setup/40-containers.sh made (no registry is reachable here).

Where an engine cannot start, the tests skip with the reason, except under
COVHOOK_REQUIRE_ALL=1 (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import coverage
import pytest

from support import data, envs, launchers, processes

CACHE = Path(os.environ.get("COVHOOK_TEST_CACHE", "/var/cache/covhook-tests"))
ROOTFS = CACHE / "bookworm-python3.tar"
WHEELS = CACHE / "wheels-py311"
BASE = "covhook-test/base:bookworm"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "containers.md"
PROJECT = Path(__file__).resolve().parents[1] / "programs" / "containers" / "project"
OWNER = (12345, 12345)  # the host user who owns the data dir (not root)


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI (COVHOOK_REQUIRE_ALL=1), where every engine must run."""
    if launchers.require_all():
        pytest.fail(f"{reason} (COVHOOK_REQUIRE_ALL=1: container tests must run)")
    pytest.skip(reason)


@dataclass
class Engine:
    """A container engine's client: ``docker`` on our socket, or ``podman`` on our storage."""

    name: str  # "docker" or "podman"
    exe: str
    global_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    run_args: list[str] = field(default_factory=list)  # flags every `run` needs here

    def cmd(self, *args: str) -> list[str]:
        return [self.exe, *self.global_args, *args]

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the client; raise with its output if it fails and ``check``."""
        proc = processes.run(self.cmd(*args), cwd, self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(self.cmd(*args))} exited {proc.returncode}:\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def shell_env(self) -> dict[str, str]:
        """Environment for shell commands (the docs' blocks) that call ``docker``/``podman``."""
        return dict(self.env)


def client_env(**extra: str) -> dict[str, str]:
    """os.environ minus anything that would start coverage in the clients, plus ``extra``."""
    drop = ("COVERAGE_", "COVHOOK_", "PYTEST_XDIST", "DOCKER_", "CONTAINER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


class Dockerd:
    """One dockerd of our own, started and stopped by PID."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="covhook-dockerd-"))
        self.sock = self.root / "docker.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.root / "dockerd.log"

    def start(self) -> Engine:
        dockerd, client = shutil.which("dockerd"), shutil.which("docker")
        if not dockerd or not client:
            unavailable("dockerd or docker not installed (run scripts/setup/40-containers.sh)")
        if os.geteuid() != 0:
            unavailable("dockerd needs root here")
        ns = f"covhook-{os.getpid()}"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    dockerd,
                    "--bridge=none",
                    "--iptables=false",
                    "--ip-masq=false",
                    f"--data-root={self.root / 'data'}",
                    f"--exec-root={self.root / 'exec'}",
                    f"--pidfile={self.root / 'docker.pid'}",
                    f"--host=unix://{self.sock}",
                    f"--containerd-namespace={ns}",
                    f"--containerd-plugins-namespace={ns}-plugins",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=client_env(),
                start_new_session=True,
            )
        engine = Engine(
            "docker",
            client,
            env=client_env(DOCKER_HOST=f"unix://{self.sock}", DOCKER_BUILDKIT="0"),
            run_args=["--network", "none"],
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.sock.exists() and engine("info", check=False, timeout=10).returncode == 0:
                return engine
            time.sleep(0.2)
        tail = self.log.read_text("utf-8", "replace")[-1500:]
        self.stop()
        unavailable(f"dockerd did not start: {tail}")

    def stop(self) -> None:
        """SIGTERM our dockerd (it stops its containers and containerd), then clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        remove_tree(self.root)


def unmount_under(root: Path) -> None:
    """Lazily unmount anything an engine left mounted below ``root``."""
    with contextlib.suppress(OSError):
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        targets = [line.split()[1] for line in mounts if len(line.split()) > 1]
        for target in sorted((t for t in targets if t.startswith(f"{root}/")), reverse=True):
            processes.run(["umount", "-l", target])


def remove_tree(root: Path) -> None:
    """Unmount what an engine left below ``root``, then delete it (rm is 5x faster than rmtree)."""
    unmount_under(root)
    processes.run(["rm", "-rf", "--one-file-system", root])


@contextlib.contextmanager
def dockerd_engine() -> Iterator[Engine]:
    daemon = Dockerd()
    try:
        yield daemon.start()
    finally:
        daemon.stop()


@contextlib.contextmanager
def podman_engine() -> Iterator[Engine]:
    """Podman with its own storage (root, runroot) under a temp dir, removed at the end."""
    exe = shutil.which("podman")
    if not exe:
        unavailable("podman not installed (run scripts/setup/40-containers.sh)")
    root = Path(tempfile.mkdtemp(prefix="covhook-podman-"))
    engine = Engine(
        "podman",
        exe,
        global_args=[
            f"--root={root / 'storage'}",
            f"--runroot={root / 'run'}",
            "--cgroup-manager=cgroupfs",
            "--events-backend=file",
        ],
        env=client_env(),
        # Podman 4.3 here fails to start a container with the default limits.
        run_args=[
            "--network",
            "none",
            "--ulimit",
            "nofile=4096:4096",
            "--ulimit",
            "nproc=4096:4096",
        ],
    )
    try:
        probe = engine("info", check=False, timeout=60)
        if probe.returncode != 0:
            unavailable(f"podman does not work here: {probe.stderr[-1000:]}")
        yield engine
    finally:
        with contextlib.suppress(Exception):
            engine("rm", "-af", "-t", "0", check=False, timeout=60)
        remove_tree(root)


def import_base(engine: Engine) -> str:
    """``<engine> import`` the cached Debian root filesystem as the local base image."""
    if not ROOTFS.is_file() or not (WHEELS / ".done").is_file():
        unavailable(f"{ROOTFS} or {WHEELS} missing (run scripts/setup/40-containers.sh)")
    engine("import", "--change", 'CMD ["python3"]', str(ROOTFS), BASE, timeout=300)
    return BASE


def doc_block(name: str, docs: Path = DOCS) -> str:
    """The fenced block after ``<!-- test: name -->`` in the docs: the commands tests run."""
    text = docs.read_text("utf-8")
    match = re.search(
        rf"<!-- test: {re.escape(name)} -->\s*\n```[\w-]*\n(?P<body>.*?)\n```", text, re.S
    )
    if not match:
        raise AssertionError(f"no block '<!-- test: {name} -->' in {docs}")
    return match["body"] + "\n"


def run_block(
    name: str, cwd: Path, env: dict[str, str], timeout: float = 180, docs: Path = DOCS
) -> subprocess.CompletedProcess[str]:
    """Run a docs shell block with bash -eu in ``cwd``; fail with its output if it fails."""
    script = doc_block(name, docs)
    proc = processes.run(["bash", "-euo", "pipefail", "-c", script], cwd, env, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(
            f"docs block {name!r} exited {proc.returncode}:\n{script}\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )
    return proc


def world_writable(root: Path) -> list[Path]:
    """Every file or directory under ``root`` (itself included) that others may write."""
    found = [p for p in [root, *root.rglob("*")] if not p.is_symlink() and p.stat().st_mode & 0o002]
    return sorted(found)


def owners(paths: Sequence[Path]) -> set[tuple[int, int]]:
    return {(p.stat().st_uid, p.stat().st_gid) for p in paths}


def shell_env(engine: Engine, extra_path: str = "") -> dict[str, str]:
    """The environment the docs' blocks run in: covhook/coverage on PATH, our engine."""
    env = envs.clean_env(**engine.env)
    env.pop("DOCKER_CERT_PATH", None)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = ":".join(p for p in (extra_path, bin_dir, env.get("PATH", "")) if p)
    env["BASE"] = BASE
    return env


def build_context(dest: Path, wheel: Path) -> Path:
    """The project's checkout plus wheels/ (covhook's and its dependencies'), and the Dockerfile."""
    shutil.copytree(PROJECT, dest, dirs_exist_ok=True)
    wheels = dest / "wheels"
    wheels.mkdir()
    for whl in [wheel, *WHEELS.glob("*.whl")]:
        shutil.copy(whl, wheels)
    (dest / "Dockerfile").write_text(doc_block("dockerfile"), "utf-8")
    return dest


@contextlib.contextmanager
def new_checkout() -> Iterator[Path]:
    """A copy of the sample project, in a directory every uid may traverse (not write).

    pytest's own tmp dirs are private to root, which would stop OWNER from
    even reaching the data dir; this one is 0755 and removed afterwards.
    """
    base = Path(tempfile.mkdtemp(prefix="covhook-ct-", dir="/tmp"))
    base.chmod(0o755)
    project = base / "proj"
    shutil.copytree(PROJECT, project)
    covdata = project / "covdata"
    covdata.mkdir()
    os.chown(covdata, *OWNER)
    try:
        yield project
    finally:
        shutil.rmtree(base, ignore_errors=True)


def lines_by_path(data_file: Path) -> dict[str, set[int]]:
    """{full path: executed lines} of every file with lines, from a combined data file."""
    cov_data = coverage.CoverageData(str(data_file))
    cov_data.read()
    lines = {f: set(cov_data.lines(f) or ()) for f in cov_data.measured_files()}
    return {f: s for f, s in lines.items() if s}


def marked(path: Path, *markers: str) -> set[int]:
    """Lines carrying any of the markers, plus the module docstring (run at import)."""
    docstring = {1} if path.read_text("utf-8").startswith('"""') else set()
    return docstring.union(*(data.lines_in(path, m) for m in markers))


def tags(directory: Path) -> list[str]:
    names = [data.parse_name(f.name) for f in data.data_files(directory)]
    assert all(names), [f.name for f in data.data_files(directory)]
    return [m["tag"] for m in names if m]
