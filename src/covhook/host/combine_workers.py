"""Worker processes for the fast combine: both cores read and OR data files.

Reading a data file is SQLite work plus Python parsing (JSON lists of arcs,
integers of numbits) that holds the GIL, so threads do not overlap it;
forked processes do.  Each worker builds the union of its share of the files
and sends it back pickled (a union is far smaller than its inputs: 300 branch
data files of 0.2 MB make one of 5 MB); the parent ORs the shares and writes
the result.  Memory stays bounded by a few unions, not by the inputs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from covhook.host.fastcombine import Job, Share

Progress = Callable[[int, int], None]

# Below this many files a second process costs more (its start, the union sent
# back) than it saves; measured in bench/combine.md.
MIN_FILES = 60

_counter: Any = None  # a shared count of files read, for the progress bar


def usable_cores() -> int:
    """Cores this process may run on (its affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def idle_cores() -> float:
    """Cores not busy with other work, by the 1-minute load average."""
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 0.0
    return max(0.0, cores - load)


def auto_workers(files: int) -> int:
    """Two workers when fork, enough files and an idle second core are there; else one.

    On a busy machine a second process only competes with the first (measured
    in bench/combine.md under load: no gain), so it needs a core to itself.
    """
    if files < MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return 2 if usable_cores() >= 2 and idle_cores() >= 1.0 else 1


def _init(counter: Any) -> None:
    global _counter
    _counter = counter


def _one_done() -> None:
    with _counter.get_lock():
        _counter.value += 1


def _work(job: Job) -> Share:
    from covhook.host.fastcombine import share_of

    return share_of(job, _one_done)


def run(
    jobs: Sequence[Job], workers: int, total: int, progress: Progress | None
) -> Iterator[Share]:
    """Each job's share, computed in ``workers`` forked processes, yielded as it arrives
    (so the caller merges it and drops it: memory holds a few unions, not one per job)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    counter = context.Value("i", 0)
    with ProcessPoolExecutor(workers, context, initializer=_init, initargs=(counter,)) as pool:
        pending = {pool.submit(_work, job) for job in jobs}
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
            if progress is not None:
                progress(counter.value, total)
