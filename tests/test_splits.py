"""``covhook split``: N measured splits of one suite give one report, failures and all.

Real runs of the command on a small generated suite (tests/support/split_suite.py);
assertions read the combined coverage data, the data file names' tags, the
``--result-json`` outcome, and /proc for leftover processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covhook.splits import plugin as split_plugin
from covhook.splits import runner as split_runner
from support import data, processes, split_suite

pytestmark = pytest.mark.splits

BIN = Path(sys.executable).parent


def covhook_split(root: Path, *args: str, pytest_args: tuple[str, ...] = ()) -> tuple[int, dict]:
    """Run ``covhook split ARGS -- pytest -q ...`` in ``root``; return status and outcome."""
    result = root / "result.json"
    cmd = [str(BIN / "covhook"), "split", *args, f"--result-json={result}", "--"]
    cmd += ["pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    proc = processes.run(cmd, root, timeout=240)
    return proc.returncode, json.loads(result.read_text()) if result.exists() else {}


def sequential_lines(root: Path) -> dict[str, set[int]]:
    """Covered lines of one plain sequential ``pytest --cov`` run of the same suite."""
    processes.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov"],
        root,
        check=True,
        timeout=240,
    )
    lines = data.lines_by_file(root / ".coverage")
    (root / ".coverage").unlink()
    return lines


@pytest.mark.parametrize(
    ("selector", "counts"),
    [
        pytest.param("covhook", ("-n", "3", "-j", "2"), id="covhook-3splits"),
        pytest.param("pytest-split", ("-n", "2", "-j", "2", "-w", "2"), id="pytest-split-xdist2"),
    ],
)
def test_same_lines_as_one_sequential_run(
    tmp_path: Path, selector: str, counts: tuple[str, ...]
) -> None:
    if selector == "pytest-split" and not split_runner.has_module(sys.executable, "pytest_split"):
        pytest.skip("pytest-split is not installed (scripts/setup/10-venv.sh)")
    split_suite.write(tmp_path)
    expected = sequential_lines(tmp_path)
    assert expected["m0.py"], expected
    # Data left by an earlier run must not leak in: it claims a never-run line.
    import coverage

    stale = coverage.CoverageData(str(tmp_path / ".coverage.host-old.vm.pid1.X000000x"))
    stale.add_lines({str(tmp_path / "calc" / "m0.py"): {3: None}})
    stale.write()

    # A --cov in the user's arguments (or addopts) must not make pytest-cov
    # combine other splits' files: covhook turns it off in the splits.
    status, outcome = covhook_split(
        tmp_path, *counts, f"--selector={selector}", pytest_args=("--cov",)
    )

    assert status == 0, outcome
    assert outcome["selector"] == selector
    assert data.lines_by_file(tmp_path / ".coverage") == expected
    n = int(counts[1])
    tags = data.contexts(tmp_path / ".coverage")
    assert {t.rpartition("_")[2] for t in tags} == {f"split-{i}of{n}" for i in range(1, n + 1)}
    # Every test ran exactly once across the splits.
    assert sum(s["ran"] for s in outcome["splits"]) == 12


def test_failing_split_fails_the_run_and_is_named(tmp_path: Path) -> None:
    split_suite.write(tmp_path)
    split_suite.add_failing(tmp_path)

    status, outcome = covhook_split(tmp_path, "-n", "2", "--selector=covhook")

    assert status == 1
    failed = [s for s in outcome["splits"] if not s["ok"]]
    assert len(failed) == 1
    assert failed[0]["failed"] == ["tests/test_zz_fails.py::test_that_fails"]
    assert "tests failed" in failed[0]["why"]
    # The passing split's data is still combined and reported.
    tags = {c.rpartition("_")[2] for c in data.contexts(tmp_path / ".coverage")}
    assert tags == {"split-1of2", "split-2of2"}


def test_fail_under_comes_from_the_coverage_config(tmp_path: Path) -> None:
    split_suite.write(tmp_path, modules=1, fail_under=99)
    status, outcome = covhook_split(tmp_path, "-n", "2", "--selector=covhook")
    assert all(s["ok"] for s in outcome["splits"])
    assert outcome["fail_under"] == 99
    assert outcome["total"] < 99
    assert status == 2


def test_oversubscription_warns_but_runs(tmp_path: Path) -> None:
    split_suite.write(tmp_path, modules=1)
    many = str(2 * _cores() + 1)  # x 1 worker each: more than 2 processes per core
    status, outcome = covhook_split(tmp_path, "-n", many, "-j", many, "--selector=covhook")
    assert status == 0
    assert outcome["oversubscribed"] is True


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.signals
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_stops_every_split_and_keeps_data(tmp_path: Path, sig: signal.Signals) -> None:
    split_suite.write(tmp_path, modules=1)
    split_suite.add_slow(tmp_path)
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    result = tmp_path / "result.json"
    cmd = [str(BIN / "covhook"), "split", "-n", "2", "-j", "2", "--selector=covhook"]
    cmd += [f"--result-json={result}", "--", "pytest", "-q", "-p", "no:cacheprovider"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env={**os.environ, "PID_DIR": str(pid_dir)})
    try:
        deadline = time.monotonic() + 60
        while len(list(pid_dir.iterdir())) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        pids = [int(p.name) for p in pid_dir.iterdir()]
        assert len(pids) == 3, "the slow test did not start"
        proc.send_signal(sig)
        status = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert status == 128 + sig
    time.sleep(0.2)
    assert [p for p in pids if alive(p)] == [], "processes left behind"
    outcome = json.loads(result.read_text())
    assert outcome["stopped_by"] == sig
    for split in outcome["splits"]:
        assert not alive(split["pid"])
    # The data collected so far is kept and combined: the other split's lines
    # and the interrupted test's own line before it slept.
    # test_sleeps ran m0.mul_0 before it slept.
    ran = data.lines_of(tmp_path / ".coverage", "m0.py")
    assert data.lines_in(tmp_path / "calc" / "m0.py", "return a * b") <= ran
    # The interrupted split's data is kept: its pytest saved on SIGINT.  (The
    # other split may have been stopped before it measured anything.)
    (slow,) = [s for s in outcome["splits"] if s["pid"] in pids]
    tags = {t.rpartition("_")[2] for t in data.contexts(tmp_path / ".coverage")}
    assert f"split-{slow['index']}of2" in tags


def test_test_files_are_dealt_out_whole_and_evenly(tmp_path: Path) -> None:
    for n in range(7):
        (tmp_path / f"test_{n}.py").write_text("")
    (tmp_path / "helper.py").write_text("")
    patterns = ["test_*.py"]
    for count in (2, 3):
        owners = [
            split_plugin.file_split(tmp_path / f"test_{n}.py", patterns, count) for n in range(7)
        ]
        sizes = [owners.count(i) for i in range(1, count + 1)]
        assert max(sizes) - min(sizes) <= 1, owners
    assert split_plugin.file_split(tmp_path / "helper.py", patterns, 2) is None
    # Fewer files than splits: their tests are dealt out one by one instead.
    assert split_plugin.file_split(tmp_path / "test_0.py", patterns, 8) is None


def test_shard_is_a_deterministic_partition() -> None:
    ids = [f"t{i}" for i in range(11)]
    parts = [split_plugin.shard(ids, i, 4) for i in range(1, 5)]
    assert sorted(n for part in parts for n in part) == list(range(11))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert parts == [split_plugin.shard(ids, i, 4) for i in range(1, 5)]
    assert split_plugin.shard(ids[:2], 3, 4) == []
