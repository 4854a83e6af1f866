"""Stress: a few hundred real processes, random signals, SIGKILLs and fork storms.

Each test prints one summary line (run with ``-s`` or ``-rP`` to see it):
processes, signals, hangs, broken files, lost data.  Bounded: about a minute
each on two busy cores (a hang costs its 8 s timeout, so a regression is
slower, not endless).
"""

from __future__ import annotations

import concurrent.futures
import random
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import coverage
import pytest

from support import data, launchers, measured, processes

pytestmark = [pytest.mark.signals, pytest.mark.slow]

HANG_SECONDS = 8.0  # alive this long after the signal = hung (a normal death takes < 1 s)
HUNG: list[str] = []  # the stacks of hung processes, for the assertion message
PARALLEL = 3

# Imports many stdlib modules measured (cover_pylib): each new file the C tracer
# meets takes coverage.py's data lock; signals land there (issue 8, item 1).
IMPORTER = """\
    import sys
    sys.stdout.write("r"); sys.stdout.flush()  # started
    import json, email.parser, http.client, argparse, decimal, statistics, difflib
    import asyncio, logging.handlers, xml.dom.minidom, unittest, tarfile, zipfile
    import csv, smtplib, imaplib, ftplib, wave, configparser, pprint, shelve, ast, dis
    import tokenize, pdb, sqlite3, calendar, mailbox, plistlib, gettext, optparse
    while True:  # until the signal
        pass
"""


def _signal_once(program: Path, env: dict[str, str], sig: int, rng: random.Random) -> str:
    """Start, wait for the first output, signal at a random moment: how it ended."""
    ending, proc, err = _signal_and_wait(program, env, sig, rng)
    ENDED[proc.pid] = (ending, f"{signal.Signals(sig).name}: {ending}; stderr:\n{err.decode()}")
    return ending


ENDED: dict[int, tuple[str, str]] = {}  # pid: how it ended, and that with its signal and stderr


def _signal_and_wait(
    program: Path, env: dict[str, str], sig: int, rng: random.Random
) -> tuple[str, subprocess.Popen[bytes], bytes]:
    proc = subprocess.Popen(
        [str(launchers.PYTHON), str(program)],
        env={**env, "PYTHONFAULTHANDLER": "1"},  # a hung one shows its stacks on SIGABRT
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    started = proc.stdout.read(1) == b"r"
    time.sleep(rng.uniform(0.0, 0.35))
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        # CPython itself can swallow a KeyboardInterrupt ("Exception ignored in"
        # an import lock's weakref callback), with or without coverage: the
        # program just runs on.  A hung process ignores a second signal too.
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate()
            HUNG.append(f"{signal.Signals(sig).name}:\n{err.decode(errors='replace')[-4000:]}")
            return "hang", proc, err
        swallowed = sig == signal.SIGINT and b"Exception ignored" in err
        return ("swallowed" if swallowed else "needed a second signal"), proc, err
    if not started:
        return "no-start", proc, err
    died = proc.returncode == -sig or (sig == signal.SIGINT and proc.returncode == 1)
    return ("ok" if died else f"exit {proc.returncode}"), proc, err


def test_random_signals_never_hang_nor_lose_data(tmp_path: Path) -> None:
    program = tmp_path / "importer.py"
    program.write_text(textwrap.dedent(IMPORTER))
    rc = launchers.write_rc(tmp_path, "cover_pylib = True\n")
    rc.write_text(rc.read_text().replace(f"source = {tmp_path}\n", ""))
    env = launchers.measured_env(rc)
    per_signal = 80
    sigs = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP] * per_signal
    rng = random.Random(8)
    rngs = [random.Random(rng.random()) for _ in sigs]
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        runs = zip(sigs, rngs, strict=True)
        endings = list(pool.map(lambda a: _signal_once(program, env, *a), runs))
    hangs = endings.count("hang")
    swallowed = endings.count("swallowed")
    odd = [e for e in endings if e not in ("ok", "hang", "swallowed")]
    files = data.data_files(tmp_path)
    broken = 0
    with_data: set[int] = set()
    started = set(launchers.marked(program, "started"))
    for path in files:
        try:
            covdata = coverage.CoverageData(str(path))
            covdata.read()
            lines = set(covdata.lines(str(program)) or ())
        except Exception:
            broken += 1
            continue
        pid = re.search(r"\.pid(\d+)\.", path.name)
        if pid and started <= lines:
            with_data.add(int(pid.group(1)))
    # (a hung process, killed by SIGABRT, may have none: it is counted as a hang)
    without = [what for pid, (how, what) in ENDED.items() if pid not in with_data and how != "hang"]
    lost = len(without)
    print(
        f"\nstress signals: {len(sigs)} processes, {len(sigs)} signals "
        f"(SIGTERM/SIGINT/SIGHUP x {per_signal}), hangs={hangs}, broken files={broken}, "
        f"processes without data={lost}, SIGINTs Python swallowed={swallowed}, "
        f"other endings={odd}"
    )
    assert hangs == 0, HUNG[0]
    assert odd == []
    assert broken == 0
    assert lost == 0, without[0][-3000:]


WORKER = """\
    import sys
    def work(n):
        return n * 2  # worked
    sys.stdout.write("r"); sys.stdout.flush()
    n = 0
    while True:
        n = work(n) % 1000003
"""


def _kill_once(program: Path, env: dict[str, str], rng: random.Random) -> bool:
    proc = subprocess.Popen(
        [str(launchers.PYTHON), str(program)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    proc.stdout.read(1)
    time.sleep(rng.uniform(0.0, 0.4))
    proc.kill()
    proc.wait()
    return proc.returncode == -signal.SIGKILL


def test_random_sigkill_leaves_no_broken_file_and_combine_recovers(tmp_path: Path) -> None:
    program = tmp_path / "worker.py"
    program.write_text(textwrap.dedent(WORKER))
    rc = launchers.write_rc(tmp_path)
    env = launchers.measured_env(rc, COVHOOK_FLUSH_SECONDS="0.05")
    count = 90
    rng = random.Random(9)
    rngs = [random.Random(rng.random()) for _ in range(count)]
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        killed = sum(pool.map(lambda r: _kill_once(program, env, r), rngs))
    work_dir = tmp_path / ".covhook-work"
    left_before = len(list(work_dir.iterdir()))
    out = launchers.covhook(tmp_path, "combine", "--keep", timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    broken = out.stdout.count("skipped an unreadable data file")
    left_after = sorted(p.name for p in work_dir.iterdir())
    combined = tmp_path / ".coverage"
    print(
        f"\nstress SIGKILL: {count} processes, {killed} SIGKILLs, broken files={broken}, "
        f"work-dir leftovers {left_before} before combine, {len(left_after)} after"
    )
    assert killed == count
    assert broken == 0
    # A SIGKILL in the middle of writing the working copy leaves it unusable (coverage
    # writes SQLite without a journal); the copy published by the flush before it is
    # intact.  Combine keeps such a leftover and names it; everything complete is gone.
    if left_after:
        assert f"could not use {len(left_after)} leftover file(s)" in out.stdout, out.stdout
    else:
        assert "could not use" not in out.stdout, out.stdout
    assert launchers.marked(program, "worked") <= data.lines_of(combined, "worker.py")


FORKER = """\
    import os, sys, time

    def child(i):
        return i + 1  # in-child

    n = int(sys.argv[1])
    stalled = 0
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            child(i)
            sys.exit(0)  # a normal exit: atexit saves
        deadline = time.monotonic() + 8
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:  # stalled, maybe for good: end it
                stalled += 1
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                break
            time.sleep(0.002)
    print(stalled)
"""


def test_fork_storm_under_fast_flush_neither_stalls_nor_loses(tmp_path: Path) -> None:
    program = tmp_path / "forker.py"
    program.write_text(textwrap.dedent(FORKER))
    rc = launchers.write_rc(tmp_path)
    forks = 100
    out = processes.run(
        [launchers.PYTHON, program, str(forks)],
        tmp_path,
        measured.env(rc, COVHOOK_FLUSH_SECONDS="0.01"),
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    stalled = int(out.stdout.split()[-1])
    files = launchers.lines_per_file(tmp_path, "forker.py")
    in_child = launchers.marked(program, "in-child")
    children_with_data = sum(in_child <= lines for lines in files.values())
    print(
        f"\nstress fork: {forks} forks under a 0.01 s flush, stalled children={stalled}, "
        f"data files={len(files)} (want {forks + 1}), children with their lines="
        f"{children_with_data}"
    )
    assert out.stderr == ""
    assert stalled == 0
    assert len(files) == forks + 1
    assert children_with_data == forks
