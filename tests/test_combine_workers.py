"""How many processes ``covhook combine`` reads with, when COVHOOK_COMBINE_WORKERS is unset.

The rule is a table (files, cores, other runnable processes, fork); the
machine's state is read from ``/proc/loadavg``'s count of runnable tasks at
this instant, which real busy processes below change.
"""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from covhook.host import combine_workers


@pytest.mark.parametrize(
    ("files", "cores", "others", "fork", "expected"),
    [
        (100, 2, 0, True, 2),  # an idle second core: use it
        (100, 2, 1, True, 1),  # someone else runs on it: one process
        (100, 2, 0.4, True, 1),  # (a load average elsewhere: a fraction)
        (100, 4, 2, True, 2),
        (100, 4, 3, True, 1),
        (59, 2, 0, True, 1),  # too few files to pay for the fork
        (100, 1, 0, True, 1),
        (100, 2, 0, False, 1),  # no fork (Windows)
    ],
)
def test_workers_for(files: int, cores: int, others: float, fork: bool, expected: int) -> None:
    assert combine_workers.workers_for(files, cores, others, fork) == expected


@pytest.mark.parametrize(
    ("text", "others"),
    [("0.72 0.88 0.89 1/78 31058\n", 0), ("3.10 2.00 1.00 4/201 99\n", 3), ("0 0 0 0/1 1", 0)],
)
def test_others_from_loadavg(text: str, others: int) -> None:
    assert combine_workers.others_from_loadavg(text) == others


@pytest.fixture
def busy() -> Iterator[list[subprocess.Popen[bytes]]]:
    spinners: list[subprocess.Popen[bytes]] = []
    yield spinners
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/loadavg")
def test_busy_processes_are_seen_at_once(busy: list[subprocess.Popen[bytes]]) -> None:
    """As many spinning processes as cores: one process, without waiting a minute for
    the load average to notice (and whatever the load average said before)."""
    cores = combine_workers.usable_cores()
    if cores < 2:
        pytest.skip("one core: always one process")
    for _ in range(cores):
        busy.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
    time.sleep(0.5)  # started and spinning
    assert combine_workers.running_elsewhere(cores) >= cores
    assert combine_workers.auto_workers(1000) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_no_fork_while_another_thread_lives() -> None:
    """A thread started the low-level way (as covhook's signal thread is, unseen by
    threading.active_count) makes the combine read alone: forking now could leave the
    child waiting for ever on a lock that thread held."""
    before = combine_workers.threads_alive()
    started, release = _thread.allocate_lock(), _thread.allocate_lock()
    started.acquire()
    release.acquire()

    def wait() -> None:
        started.release()
        release.acquire()

    _thread.start_new_thread(wait, ())
    started.acquire()
    try:
        assert combine_workers.threads_alive() == before + 1
        assert not combine_workers.fork_is_safe()
        assert combine_workers.auto_workers(1000) == 1
    finally:
        release.release()


@pytest.mark.parametrize("count", [0, 1, 300, 5000], ids=["none", "one", "some", "batches"])
def test_claims_hand_each_file_to_exactly_one_process(count: int) -> None:
    """Two real processes claim files from one Claims: between them, every file once."""
    files = [f"f{n}" for n in range(count)]
    claims = combine_workers.Claims(files)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child claims as fast as it can and reports what it got
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "w") as out:
                out.write("\n".join(claims))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    mine = list(claims)
    with os.fdopen(read_end) as source:
        theirs = [line for line in source.read().split("\n") if line]
    assert os.waitpid(pid, 0)[1] == 0
    claims.close()
    assert sorted(mine + theirs) == sorted(files)
    assert not set(mine) & set(theirs)
