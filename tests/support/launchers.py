"""Helpers for tests that run real launchers (torchrun, mpirun, Ray, Dask) and real signals.

Processes run from the project's own ``.venv`` (covhook is installed there
editable, with its ``a0_covhook.pth``, and ``scripts/setup/30-launchers.sh``
puts torch, Open MPI, Ray and Dask there), each test in its own temp dir.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import coverage
import pytest

from covhook import origin
from support import cli
from support.measured import env as _measured_env

PYTHON = Path(sys.executable)
BIN = PYTHON.parent
PROGRAMS = Path(__file__).resolve().parents[1] / "programs" / "launchers"


# Read at import (collection time): the autouse ``isolated`` fixture removes
# every COVHOOK_* variable before a test body runs.
_REQUIRE_ALL = os.environ.get("COVHOOK_REQUIRE_ALL", "") not in ("", "0")


def require_all() -> bool:
    """COVHOOK_REQUIRE_ALL=1 (CI): a missing tool fails the test instead of skipping it."""
    return _REQUIRE_ALL or os.environ.get("COVHOOK_REQUIRE_ALL", "") not in ("", "0")


def need(ok: bool, what: str, fix: str = "bash scripts/setup/30-launchers.sh") -> None:
    """Skip (locally) or fail (with COVHOOK_REQUIRE_ALL=1) when a tool is missing."""
    if ok:
        return
    message = f"{what} is not available (install it: {fix})"
    if require_all():
        pytest.fail(f"COVHOOK_REQUIRE_ALL=1 and {message}")
    pytest.skip(message)


def need_module(name: str) -> None:
    need(importlib.util.find_spec(name) is not None, f"Python module {name!r}")


def need_exe(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    need(found is not None, f"executable {name!r}")
    assert found is not None
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (never a fixed one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def place() -> str:
    """The place part of tags for processes run here (``host-<name>``)."""
    return origin.detect_place({})


def copy_programs(dest: Path, *names: str) -> None:
    for name in names:
        shutil.copy(PROGRAMS / name, dest / name)


def write_rc(directory: Path, extra: str = "") -> Path:
    """A coverage config measuring only the test's own programs (not torch, ray...)."""
    rc = directory / ".coveragerc"
    # An absolute data file: some launchers (Ray) start workers in their own cwd.
    rc.write_text(
        f"[run]\nparallel = True\nsource = {directory}\n"
        f"data_file = {directory / '.coverage'}\n{extra}"
    )
    return rc


# A clean environment that starts covhook (or nothing, with ``rc=None``): see support.measured.
measured_env = _measured_env


def combine(directory: Path) -> tuple[Path, str]:
    """``coverage combine --keep`` in ``directory``: the combined file and combine's stderr."""
    out = cli.coverage(["combine", "--keep", "-q"], directory, bin_dir=BIN, check=True)
    return directory / ".coverage", out.stderr


def two_node_torchrun_args(port: int, *program: str) -> list[str]:
    """torchrun's arguments for one of two "nodes" on this machine (c10d, 2 ranks each).

    ``--local_addr``: without it, unresolvable host names stall rendezvous.
    """
    return [
        "--nnodes=2",
        "--nproc_per_node=2",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint=127.0.0.1:{port}",
        f"--rdzv_id=covhook-{port}",
        "--local_addr=127.0.0.1",
        "--monitor-interval=0.2",
        *program,
    ]


def covhook(directory: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The ``covhook`` console script in ``directory``, unmeasured; its output (no check)."""
    return cli.covhook(args, directory, bin_dir=BIN, timeout=timeout)


def lines_by_context(data_file: Path, filename: str) -> dict[str, set[int]]:
    """{context (= origin tag): lines of ``filename`` run there} from a combined file."""
    data = coverage.CoverageData(str(data_file))
    data.read()
    found: dict[str, set[int]] = {}
    for measured in data.measured_files():
        if Path(measured).name != filename:
            continue
        for lineno, contexts in data.contexts_by_lineno(measured).items():
            for ctx in contexts:
                found.setdefault(ctx, set()).add(lineno)
    return found


def marked(path: Path, marker: str) -> set[int]:
    """Lines of ``path`` carrying the comment ``# <marker>`` exactly (not a longer marker)."""
    pattern = re.compile(rf"#\s*{re.escape(marker)}(?![\w-])")
    text = path.read_text("utf-8").splitlines()
    return {n for n, line in enumerate(text, 1) if pattern.search(line)}


RANK_MARKERS = ("every-rank", "failing-rank", "sigtermed-rank", "finishing-rank")


def rank_lines(directory: Path, worker: str) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """Combine without warnings; ({tag: lines of ``worker``}, {rank marker: its lines})."""
    combined, warnings = combine(directory)
    assert warnings == ""
    program = directory / worker
    return lines_by_context(combined, worker), {m: marked(program, m) for m in RANK_MARKERS}


def lines_per_file(directory: Path, filename: str) -> dict[str, set[int]]:
    """{data file name: lines of ``filename`` in it}, one entry per process, before combining."""
    found: dict[str, set[int]] = {}
    for path in directory.glob(".coverage.*"):
        covdata = coverage.CoverageData(str(path))
        covdata.read()
        found[path.name] = set()
        for measured in covdata.measured_files():
            if Path(measured).name == filename:
                found[path.name] |= set(covdata.lines(measured) or ())
    return found


def tags_in_names(directory: Path) -> set[str]:
    """Origin tags found in the data file names of ``directory``."""
    tags = set()
    for path in directory.glob(".coverage.*"):
        parts = path.name.split(".")
        if len(parts) > 2 and origin.is_tag(parts[2]):
            tags.add(parts[2])
    return tags


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def ready_pids(directory: Path) -> list[int]:
    """Pids of children that wrote ``ready-<pid>`` (they are waiting for a signal)."""
    names = (p.name.split("-", 1)[1] for p in directory.glob("ready-*"))
    return sorted(int(name) for name in names if name.isdigit())


def kill_all(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
