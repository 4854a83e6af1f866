"""Worker processes for the fast combine: both cores read and OR data files.

Reading a data file is SQLite work plus Python parsing (JSON lists of arcs,
integers of numbits) that holds the GIL, so threads do not overlap it;
forked processes do.  The parent forks a child for every share but its own
and reads meanwhile; each process takes the next file from a shared pipe of
indices (:class:`Claims`) when it is ready for one.  Then the parent takes
each child's union, pickled through a pipe (a union is far smaller than its
inputs).  :func:`streamed` runs a sequence of work in a child while the
parent consumes it (the combined file's arc texts).  Plain ``os.fork`` and
pipes, not a process pool: the pool's imports, its extra process and its
pickled share of the parent cost a third of the time two processes save
(bench/combine.md).  Memory stays bounded by a few unions, not by the inputs.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import BinaryIO, Generic, TypeVar

from covhook.errors import CovhookError

Progress = Callable[[int, int], None]
T = TypeVar("T")
Job = TypeVar("Job")  # what one unit of work reads (fastcombine: files and their aliases)
Share = TypeVar("Share")  # what it gives back, pickled from a child (fastcombine: a union)
# ``work(job, done)``: one job's share; ``done()`` after each file, for the progress.
Work = Callable[[Job, Callable[[], None]], Share]

# Below this many files a second process costs more (its start, the union sent
# back) than it saves; measured in bench/combine.md.
MIN_FILES = 60

RETRY = (
    "the data files were kept and nothing was written; run the combine again, "
    "with COVHOOK_COMBINE_WORKERS=1 to read them in one process"
)
_COUNT = struct.Struct("q")  # files one process has read, in a shared page


class WorkerFailed(CovhookError):
    """A worker process ended without sending its share back (nothing was written)."""

    def __init__(self, problem: str, fix: str = RETRY) -> None:
        super().__init__(problem, fix)


def usable_cores() -> int:
    """Cores this process may run on (its affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def running_elsewhere(cores: int) -> float:
    """Other processes wanting a core now: Linux's count of runnable tasks, less this one.

    The count of this instant (``/proc/loadavg``'s 4th field), not the 1-minute
    load average: right after a test run the average still says "busy" for a
    minute while both cores sit idle.  Elsewhere, the 1-minute load average.
    """
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return others_from_loadavg(f.read())
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except OSError:
        return float(cores)  # unknown: as if busy


def others_from_loadavg(text: str) -> int:
    """``0.72 0.88 0.89 3/78 31058`` -> 2: runnable tasks, this process not counted."""
    runnable = int(text.split()[3].split("/", maxsplit=1)[0])
    return max(0, runnable - 1)


def workers_for(files: int, cores: int, others: float, fork: bool) -> int:
    """Two when fork, enough files and a core nobody else wants are there; else one.

    On a busy machine a second process only competes with the first (measured
    in bench/combine.md under load: no gain), so it needs a core to itself.
    """
    if files < MIN_FILES or not fork or cores < 2:  # fork: possible and safe here
        return 1
    return 2 if cores - others >= 2 else 1


def can_fork() -> bool:
    return hasattr(os, "fork")


def threads_alive() -> int:
    """Threads of this process, counted by the OS (Linux), so threads started without the
    threading module (``_thread``, C extensions) count too; elsewhere threading's count."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def fork_is_safe() -> bool:
    """fork() only from a process with one thread: a child forked while another thread
    holds a lock (logging's, coverage's data lock, an allocator's) can wait on it for
    ever, and the combine with it (Python 3.12 warns about exactly that).  A combine
    run inside pytest or a measured process, where such threads live, reads alone."""
    return can_fork() and threads_alive() == 1


def auto_workers(files: int) -> int:
    """The workers :func:`workers_for` picks in this process, on this machine, now."""
    cores = usable_cores()
    return workers_for(files, cores, running_elsewhere(cores), fork_is_safe())


def run(
    shares: Sequence[Sequence[Job]],
    work: Work[Job, Share],
    total: int,
    progress: Progress | None,
) -> Generator[Share, None, None]:
    """Every job's share: ``shares[0]`` here, each other list in a forked child.

    The parent's shares are yielded as they are done (the caller merges and
    drops each), then each child's.  A child that fails or dies raises
    :class:`WorkerFailed` (or the child's own exception, such as coverage's
    DataError); every child is reaped, also when the caller stops early.
    """
    counts = mmap.mmap(-1, _COUNT.size * len(shares))  # shared with the children
    children: list[_Child[Share]] = []
    try:
        for index in range(1, len(shares)):
            children.append(_Child.fork(shares[index], work, counts, index))
        for child in children:  # threads only once every child is forked
            child.reader.start()

        def show() -> None:
            if progress is not None:
                progress(sum(n for (n,) in _COUNT.iter_unpack(counts)), total)

        def done() -> None:
            _COUNT.pack_into(counts, 0, _COUNT.unpack_from(counts, 0)[0] + 1)
            show()

        for job in shares[0]:
            yield work(job, done)
        for child in children:
            yield from child.result(show)
    finally:
        for child in children:
            child.stop()
        counts.close()


class Claims:
    """Files handed out one at a time to whichever process asks first.

    A pipe filled with the files' indices before the children are forked:
    each process reads the next index when it is ready for another file, so
    a process slowed down (by the other half's bigger files, by what forking
    costs a child) reads fewer, and both finish together.  Reads never block:
    every index is in the pipe, and its write end is closed.
    """

    _INDEX = struct.Struct("i")
    _MAX = 2048  # indices in the pipe (8 KB, below any pipe's buffer); more files: batches

    def __init__(self, files: Sequence[str]) -> None:
        self.files = files
        self.batch = max(1, -(-len(files) // self._MAX))
        self.fd, write_end = os.pipe()
        starts = range(0, len(files), self.batch)
        with os.fdopen(write_end, "wb") as out:
            out.write(b"".join(self._INDEX.pack(start) for start in starts))

    def __iter__(self) -> Iterator[str]:
        size = self._INDEX.size
        while record := os.read(self.fd, size):
            (start,) = self._INDEX.unpack(record)
            yield from self.files[start : start + self.batch]

    def close(self) -> None:
        os.close(self.fd)


def _fork_writing(send: Callable[[BinaryIO], None]) -> tuple[int, int]:
    """Fork a child that runs ``send`` on a pipe and exits: (its pid, the pipe's read end).

    The child never returns into the parent's code; its status is 0 only if
    ``send`` returned.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                send(out)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def streamed(make: Callable[[], Iterable[T]], batch: int = 64) -> Generator[T, None, None]:
    """The items of ``make()``, made in a forked child while this process uses them.

    For a sequence of work that only reads what this process holds (the child
    sees a copy) and that this process consumes in order, as the combined file's
    inserts consume the arcs' texts.  If the child fails or dies, the items it
    did not send are made here: the caller always gets every item, in order.
    Closing the generator early stops and reaps the child.
    """

    def send(out: BinaryIO) -> None:
        items = iter(make())
        while part := list(itertools.islice(items, batch)):
            pickle.dump(part, out, pickle.HIGHEST_PROTOCOL)

    pid, read_end = _fork_writing(send)
    sent = 0
    reaped = False
    try:
        with os.fdopen(read_end, "rb") as source:
            while True:
                try:
                    chunk: list[T] = pickle.load(source)
                except Exception:  # EOFError at the end; anything else: a broken child
                    break
                sent += len(chunk)
                yield from chunk
        _pid, status = os.waitpid(pid, 0)
        reaped = True
        if status != 0:
            yield from itertools.islice(make(), sent, None)
    finally:
        if not reaped:  # the caller stopped early
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


class _Child(Generic[Share]):
    """One forked worker: its pid and the pipe its pickled shares come back through."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe = pipe
        self.chunks: list[bytes] = []
        self.reaped = False
        # Drained by a thread, so the child never waits on a full pipe while the
        # parent reads its own share (os.read releases the GIL).
        self.reader = threading.Thread(target=self._drain, args=(pipe,), daemon=True)

    @classmethod
    def fork(
        cls, jobs: Sequence[Job], work: Work[Job, Share], counts: mmap.mmap, index: int
    ) -> _Child[Share]:
        offset = index * _COUNT.size

        def done() -> None:
            _COUNT.pack_into(counts, offset, _COUNT.unpack_from(counts, offset)[0] + 1)

        def send(out: BinaryIO) -> None:
            outcome: object
            try:
                outcome = ("ok", [work(job, done) for job in jobs])
            except Exception as exc:  # sent back, raised by the parent
                outcome = ("error", exc)
            try:
                data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an exception that does not pickle
                failed = WorkerFailed(f"a combine worker process failed: {exc!r}")
                data = pickle.dumps(("error", failed))
            out.write(data)

        return cls(*_fork_writing(send))

    def _drain(self, pipe: int) -> None:
        with os.fdopen(pipe, "rb") as source:
            while chunk := source.read(1 << 20):
                self.chunks.append(chunk)

    def result(self, waiting: Callable[[], None]) -> list[Share]:
        """The child's shares (``waiting`` is called every 0.1 s until they are here)."""
        while self.reader.is_alive():
            waiting()
            self.reader.join(0.1)
        waiting()
        _pid, status = os.waitpid(self.pid, 0)
        self.reaped = True
        data = b"".join(self.chunks)
        self.chunks = []
        if status != 0 or not data:
            raise WorkerFailed(
                f"a combine worker process (pid {self.pid}) ended with status "
                f"{os.waitstatus_to_exitcode(status)} before sending back what it read"
            )
        kind, payload = pickle.loads(data)
        if kind == "error":
            raise payload
        shares: list[Share] = payload
        return shares

    def stop(self) -> None:
        """Make sure the child is gone and reaped (the caller stopped, or it failed)."""
        if self.reaped:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.reaped = True
        if self.reader.ident is None:  # never started (a later fork failed): no one reads
            os.close(self.pipe)
