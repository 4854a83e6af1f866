"""The lean recorder (covhook.startup.recorder): coverage's C tracer, no ``import coverage``.

Real processes in real venvs under the installed hook.  The same program runs
with the recorder off (coverage.py starts as before) and on; the data files
must be the same, table by table (schema, meta rows but the time, files,
contexts, numbits, arcs, and on coverage 7.17 the data hash in the name), on
the floor coverage version and the current one.  The recorder must really have
been used (the child says coverage was never imported), and must step aside
for configs it does not handle.  Signals and ``os._exit`` still save.
tests/test_differential.py compares whole process trees.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from covhook import arcbits
from covhook.host import fastcombine
from support import data, envs, measured

# A coverage whose data format the recorder writes (the pinned one), for the tests
# of its behaviour; each known format is compared with coverage's own below.
RECORDED = "coverage==7.17.3"

CLI = """\
import sys


def main(argv):
    total = 0
    for arg in argv:
        if arg.isdigit():
            total += int(arg)
        else:
            total -= 1
    return total


if __name__ == "__main__":
    main(sys.argv[1:])
    print("IMPORTED", "coverage" in sys.modules, type(sys.gettrace()).__name__)
"""
PARENT = """\
import subprocess, sys
subprocess.run([sys.executable, "-m", "app.cli", "3", "x"], check=True)
"""
SLEEPER = """\
import sys, time
from app import cli
cli.main(["1", "y"])
print("READY", "coverage" in sys.modules, flush=True)
if sys.argv[1] == "exit":
    import os
    os._exit(0)
time.sleep(60)
"""


HELPER = """\
import sys
print("IMPORTED", "coverage" in sys.modules, type(sys.gettrace()).__name__)
"""


def project(root: Path, rc_extra: str = "", branch: bool = False) -> Path:
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "cli.py").write_text(CLI)
    (root / "src" / "app" / "unused.py").write_text("X = 1\n")
    (root / "parent.py").write_text(PARENT)
    (root / "sleeper.py").write_text(SLEEPER)
    (root / "helper.py").write_text(HELPER)
    rc = root / ".coveragerc"
    rc.write_text(
        f"[run]\nsource = src\nbranch = {branch}\nparallel = True\n"
        f"data_file = {root}/data/.coverage\n{rc_extra}"
    )
    return rc


run = measured.output


def tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything in a data file but the time it was written."""
    con = sqlite3.connect(path)
    try:
        found = {
            name: sorted(con.execute(f"select * from {name}").fetchall())
            for name in ("meta", "file", "context", "line_bits", "arc", "tracer", "coverage_schema")
        }
        # covhook's own table (its bitmaps of the arcs) aside: checked by bitmap_arcs.
        found["sqlite_master"] = [
            row for row in con.execute("select * from sqlite_master") if row[1] != arcbits.TABLE
        ]
    finally:
        con.close()
    # ...and its seal of them (a meta row): checked by the combine reading the bitmaps.
    found["meta"] = [row for row in found["meta"] if row[0] not in {"when", arcbits.SEAL}]
    return found


def bitmap_arcs(path: Path) -> tuple[dict[object, list[int]], dict[object, list[int]]] | None:
    """(arcs per (file id, context id) in covhook's bitmaps, the same from the rows); None
    when the file has no bitmaps."""
    con = sqlite3.connect(path)
    try:
        tables = {name for (name,) in con.execute("select name from sqlite_master")}
        if arcbits.TABLE not in tables:
            return None
        from_bits = {
            (fid, cid): sorted(
                arcbits.near_codes(int.from_bytes(near, "little")) + list(arcbits.decode_far(far))
            )
            for fid, cid, near, far in con.execute(arcbits.SELECT)
        }
        from_rows: dict[object, list[int]] = {}
        for fid, cid, a, b in con.execute("select file_id, context_id, fromno, tono from arc"):
            from_rows.setdefault((fid, cid), []).append(a * arcbits.MUL + b)
    finally:
        con.close()
    return from_bits, {key: sorted(codes) for key, codes in from_rows.items()}


def name_tail(path: Path) -> str:
    """The data hash part of a name (coverage 7.17: ``.H<hash>h``), or ''."""
    last = path.name.rsplit(".", 1)[-1]
    return last if last.startswith("H") and last.endswith("h") else ""


@pytest.mark.parametrize(
    "coverage_req",
    ["coverage==7.17.5", "coverage==7.17.3", "coverage==7.13.5", "coverage==7.10.4"],
)
@pytest.mark.parametrize("branch", [False, True], ids=["line", "branch"])
def test_recorder_writes_the_file_coverage_writes(
    make_covhook_env, tmp_path: Path, coverage_req: str, branch: bool
) -> None:
    env = make_covhook_env("3.11", coverage_req)
    rc = project(tmp_path, branch=branch)
    data_dir = tmp_path / "data"
    cli = ("-m", "app.cli", "3", "x")

    # Recorder off: coverage.py itself (this run also fills the config cache).
    assert "IMPORTED True" in run(env, tmp_path, rc, *cli, COVHOOK_RECORDER="0")
    assert "IMPORTED True" in run(env, tmp_path, rc, *cli)  # first start: cache filled
    full = data.data_files(data_dir)[0]
    expected = tables(full)
    for path in data.data_files(data_dir):
        path.unlink()

    # Recorder on, config from the cache: coverage.py never imported.
    assert "IMPORTED False CTracer" in run(env, tmp_path, rc, *cli)
    (recorded,) = data.data_files(data_dir)
    assert tables(recorded) == expected
    assert name_tail(recorded) == name_tail(full)
    # Beside coverage.py's rows, branch data has covhook's bitmaps of exactly those arcs.
    bits = bitmap_arcs(recorded)
    if branch:
        assert bits is not None
        from_bits, from_rows = bits
        assert from_bits == from_rows
        assert from_rows
        # ...sealed, so covhook's combine reads them instead of the rows (issue 23).
        read = fastcombine.read_raw(str(recorded)).arcs
        assert read
        assert all(isinstance(arcs, tuple) for _fid, _cid, arcs in read)
    else:
        assert bits is None
    assert (name_tail(full) != "") == (coverage_req != "coverage==7.10.4")
    # The not-executed file of the source dir is in the data, as coverage puts it.
    assert any(row[1].endswith("unused.py") for row in expected["file"])

    # A measured parent's child gets the config from COVERAGE_PROCESS_CONFIG.
    recorded.unlink()
    run(env, tmp_path, rc, "parent.py")
    files = data.data_files(data_dir)
    assert len(files) == 1, files  # parent.py is out of scope: lazy, no file
    assert tables(files[0]) == expected


def test_recorder_steps_aside_for_what_it_does_not_do(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env(coverage=RECORDED)
    rc = project(tmp_path, rc_extra="dynamic_context = test_function\n")
    for _ in range(2):
        assert "IMPORTED True" in run(env, tmp_path, rc, "-m", "app.cli", "1")
    rc.write_text(rc.read_text().replace("dynamic_context = test_function\n", ""))
    run(env, tmp_path, rc, "-m", "app.cli", "1")  # the edited file: a full start again
    assert "IMPORTED False" in run(env, tmp_path, rc, "-m", "app.cli", "1")
    # Variables the recorder does not handle make it step aside too.
    assert "IMPORTED True" in run(env, tmp_path, rc, "-m", "app.cli", "1", COVERAGE_DEBUG="sys")


# The C tracer (the runner's Python), and coverage's sys.monitoring core (issue 21).
CORES = [
    pytest.param(envs.THIS_PYTHON, RECORDED, {}, id="ctrace"),
    pytest.param("3.12", "coverage==7.17.5", {"COVERAGE_CORE": "sysmon"}, id="sysmon"),
]


@pytest.mark.parametrize(("python", "coverage_req", "core"), CORES)
@pytest.mark.parametrize("how", ["sigterm", "exit"])
def test_recorder_saves_on_sigterm_and_os_exit(  # noqa: PLR0917
    make_covhook_env, tmp_path: Path, how: str, python: str, coverage_req: str, core: dict
) -> None:
    env = make_covhook_env(python, coverage_req)
    rc = project(tmp_path)
    run(env, tmp_path, rc, "-m", "app.cli", "1", **core)  # fills the config cache
    for path in data.data_files(tmp_path / "data"):
        path.unlink()
    proc = subprocess.Popen(
        [str(env.python), "sleeper.py", how],
        cwd=tmp_path,
        env=envs.clean_env(
            COVERAGE_PROCESS_START=str(rc), PYTHONPATH=str(tmp_path / "src"), **core
        ),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY False"
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)
    status = proc.wait(timeout=60)
    assert status == (-signal.SIGTERM if how == "sigterm" else 0)
    time.sleep(0.1)
    data.combine_with_plain_coverage(env.bin / "coverage", tmp_path / "data")
    lines = data.lines_by_file(tmp_path / "data" / ".coverage")
    cli = next(v for k, v in lines.items() if k.endswith("cli.py"))
    assert data.lines_in(tmp_path / "src" / "app" / "cli.py", "total -= 1") <= cli


@pytest.mark.parametrize("branch", [False, True], ids=["line", "branch"])
def test_recorder_eager_process_that_runs_nothing_in_scope(
    make_covhook_env, tmp_path: Path, branch: bool
) -> None:
    """Eager start, no in-scope line run: coverage.py still writes the source files, unexecuted."""
    env = make_covhook_env(coverage=RECORDED)
    rc = project(tmp_path, branch=branch)
    data_dir = tmp_path / "data"
    # The C tracer's recorder (3.14+ default to sys.monitoring: test_sysmon_recorder.py).
    ctrace = {"COVHOOK_LAZY": "0", "COVERAGE_CORE": "ctrace"}
    assert "IMPORTED True" in run(env, tmp_path, rc, "helper.py", **ctrace)
    (full,) = data.data_files(data_dir)
    expected = tables(full)
    assert expected["file"], "coverage.py touched the source files"
    full.unlink()
    assert "IMPORTED False CTracer" in run(env, tmp_path, rc, "helper.py", **ctrace)
    (recorded,) = data.data_files(data_dir)
    assert tables(recorded) == expected
    assert name_tail(recorded) == name_tail(full)
    bits = bitmap_arcs(recorded)  # no arcs: no bitmaps (or an empty table, as here)
    assert bits is None or bits == ({}, {})


def test_recorder_saves_without_fsync(make_covhook_env, tmp_path: Path) -> None:
    """Like coverage.py (journal off, synchronous off): a save costs no disk flush.

    coverage 7.17.5's data hash is written into the file after its data; with
    SQLite's defaults that one row cost a journal and 3-4 fdatasync calls,
    tens of milliseconds of wall time per process on a disk (issue 21).
    """
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    env = make_covhook_env(coverage="coverage==7.17.5")
    rc = project(tmp_path)
    flushes = []
    for _ in range(2):  # a full start (coverage.py), then the recorder
        done = subprocess.run(
            [strace, "-f", "-e", "trace=fsync,fdatasync", str(env.python), "-m", "app.cli", "1"],
            cwd=tmp_path, capture_output=True, text=True, check=True,
            env=envs.clean_env(COVERAGE_PROCESS_START=str(rc), PYTHONPATH=str(tmp_path / "src")),
        )  # fmt: skip
        flushes.append([line for line in done.stderr.splitlines() if "sync(" in line])
    assert "IMPORTED False CTracer" in done.stdout
    assert len(data.data_files(tmp_path / "data")) == 2
    assert flushes == [[], []]
