"""Atomic data files, and an opt-in periodic save so SIGKILL loses at most one interval.

Turn the periodic save on with ``COVHOOK_FLUSH_SECONDS=<seconds>`` or
``[covhook] flush_seconds`` in the coverage configuration (the environment
wins).  It matters where atexit never runs: SIGKILL, Ray task and actor
workers, launchers that SIGKILL stragglers (mpirun after 1 s, torchrun after
30 s).

Every write is atomic (unless ``COVHOOK_ATOMIC=0``).  coverage.py writes its
SQLite file in place and then renames it to add the data hash; a writer
killed while creating it leaves a file without schema that ``coverage
combine`` warns about (seen with mpirun's SIGTERM-then-SIGKILL).  So
coverage.py's working file lives in ``<data dir>/.covhook-work/``, from the
moment ``start()`` creates it (``combine`` never looks there), and after each
save it is copied to a temporary name ``combine`` does not glob and renamed
over the final ``<data_file>.<tag>.<host>.pid…`` name.  At a normal exit,
``os._exit`` or death by signal the working copy is removed once published;
after SIGKILL (or a failed publish: a full disk) it stays behind, and
``covhook combine`` recovers it (:mod:`covhook.host.leftovers`).  The data
directory may be shared with other users: see :mod:`covhook.datadir`.
A save that fails says so in one line; when the work dir itself cannot be
written, the data file is written in place instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from covhook import _compat, datadir, layout, settings
from covhook._warn import warn_once
from covhook.startup import signals, sigwake

if TYPE_CHECKING:
    from coverage import Coverage


def interval(options: Mapping[str, Any]) -> float | None:
    """Seconds between saves, or None when periodic flushing is off (or misconfigured).

    The settings table checks the value (0.01 to 86400 s) and warns once.
    """
    seconds = settings.for_process(options).flush_seconds
    return float(seconds) if seconds is not None else None


class Publisher:
    """Keep coverage.py's working file out of combine's sight; publish copies atomically."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.work_dir = os.path.dirname(os.path.abspath(_compat.data_filename(data)))
        self.real_dir = os.path.dirname(self.work_dir)
        self.last: tuple[int, str, int, int] | None = None  # pid, published name, mtime, size
        self.finished_in: int | None = None  # the pid whose final save is published

    def attach(self) -> None:
        """Publish after every write coverage.py makes (its saves all end in ``write``)."""
        original: Callable[[], None] = self.data.write

        def write() -> None:
            original()
            self.publish()

        self.data.write = write

    def publish(self) -> None:
        """Copy the working file to its final name: temp file, then an atomic rename."""
        src = _compat.data_filename(self.data)
        if os.path.dirname(os.path.abspath(src)) != self.work_dir:
            return  # written in place (see direct()): nothing to publish
        try:
            st = os.lstat(src)
        except OSError:
            return
        dst = os.path.join(self.real_dir, os.path.basename(src))
        pid = os.getpid()
        last = self.last if self.last and self.last[0] == pid else None
        if last and last[1:] == (dst, st.st_mtime_ns, st.st_size) and os.path.lexists(dst):
            return
        try:
            datadir.publish(src, dst)
        except OSError as exc:
            warn_once(
                "publish",
                f"could not publish this process's coverage data as {dst} "
                f"({exc.strerror or exc}); it is kept in {src}",
                "free space or fix permissions in that directory, then run 'covhook combine' "
                "(it recovers complete files from the work directory)",
            )
            return
        self.last = (pid, dst, st.st_mtime_ns, st.st_size)
        if last and last[1] != dst:
            # The older name holds a subset of what was just published.
            try:
                os.unlink(last[1])
            except OSError:
                pass

    def finish(self) -> None:
        """After the final save: drop the working copy, if what it holds is published."""
        src = _compat.data_filename(self.data)
        if self.last and self.last[0] == os.getpid() and os.path.dirname(src) == self.work_dir:
            try:
                st = os.lstat(src)
                if (st.st_mtime_ns, st.st_size) == self.last[2:]:
                    os.unlink(src)
                    self.finished_in = os.getpid()
            except OSError:
                pass

    def finished(self) -> bool:
        """This process's final save is published and its working copy gone.

        A later save would start coverage.py's data over in a new, empty
        working file and publish that in place of the complete one (issue 21:
        multiprocessing's fork and forkserver children run atexit handlers,
        coverage.py's save among them, and then call ``os._exit``, from Python
        3.13 on).
        """
        return self.finished_in == os.getpid()

    def direct(self) -> bool:
        """After a failed save into the work dir: write in the data dir itself from now on.

        The working file may have become unwritable (``os.setuid()``, an
        immutable or full work dir); writing the data file in place (not
        atomic) is better than losing it.  False if already writing in place.
        """
        data = self.data
        src = _compat.data_filename(data)
        if os.path.dirname(os.path.abspath(src)) != self.work_dir:
            return False
        try:
            _compat.reset_data(data)
        except Exception:
            pass
        # The base name too: a forked child chooses its own file from it.
        _compat.move_data_file(data, self.real_dir)
        return True


class Flusher:
    """A daemon thread that saves every ``seconds``; restarted in forked children.

    On Python 3.12+ a process that forks while it has more than one thread
    gets a DeprecationWarning ("This process ... is multi-threaded, use of
    fork() may lead to deadlocks in the child"): a single-threaded program
    must not get it because of this thread.  So before ``os.fork()`` the
    thread is stopped (and waited for until the OS no longer counts it) when
    it is the only thread besides the program's one (and sigwake's, stopped
    too); it starts again once ``os.fork()`` has returned, in the parent and
    in the child.  No save is lost: a fork stops it between two saves, and the
    next one writes everything (:func:`keep_collected`).  A program with
    threads of its own gets the warning anyway: then the thread keeps running.
    A timer without a thread (``signal.setitimer``) was not chosen: SIGALRM is
    the program's, and a timer signal interrupts its system calls.
    """

    def __init__(self, cov: Coverage, seconds: float) -> None:
        self.cov = cov
        self.seconds = seconds
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.stopped = False  # for good: at exit
        self.paused = False  # around a fork

    def start(self) -> None:
        if self.stopped:
            return
        self.paused = False
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="covhook-flush", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sys.settrace(None)  # our own loop is not the program's code
        stop_event = self.stop_event
        while not stop_event.wait(self.seconds):
            try:
                self.cov.save()
            except Exception:
                pass

    def stop(self) -> None:
        """Stop before coverage.py's own final save (atexit runs while daemons live)."""
        self.stopped = True
        self._end(timeout=5)

    def pause(self) -> None:
        """Before a fork: end the thread until :meth:`resume`."""
        self.paused = True
        thread = self._end(timeout=sigwake.GONE_WAIT * 5)
        if thread is not None:
            sigwake.wait_gone(thread.native_id)

    def resume(self) -> None:
        if self.paused:
            self.start()

    def _end(self, timeout: float) -> threading.Thread | None:
        self.stop_event.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)
            return thread
        return None


_publisher: Publisher | None = None
_flusher: Flusher | None = None


_real_exit: Callable[[int], NoReturn] | None = None


def prepare() -> None:
    """Before ``cov.start()``: register the clean-up that must run after coverage's save."""
    global _real_exit
    _real_exit = os._exit
    atexit.register(_finish)


@contextlib.contextmanager
def staged() -> Iterator[None]:
    """Around ``cov.start()``: coverage.py creates its data file in the work dir.

    coverage.py creates (and gives a schema to) its file inside ``start()``;
    choosing the name there means no half-made file ever has a name that
    ``combine`` reads, not even when the process is killed during start-up.
    """

    def choose(data: Any) -> None:
        real = os.path.dirname(os.path.abspath(_compat.data_basename(data)))
        try:
            work, suspicious = datadir.work_dir(real)
        except OSError as exc:
            warn_once(
                "workdir",
                f"refused the work directory for atomic saves ({exc}); "
                f"this process writes its data file in {real} directly",
                "remove what was refused, or use a data directory only you can write",
            )
            return
        if suspicious:
            warn_once(
                "workdir",
                f"refused {'; '.join(suspicious)} (never followed); using {work} instead",
                "remove it, and make the data directory writable only by trusted users",
            )
        # The base name too: a forked child chooses its own file from it.
        _compat.move_data_file(data, work)

    with _compat.after_choose_filename(choose):
        yield


def _finish() -> None:
    if _publisher is not None:
        _publisher.finish()


def publish_from(cov: Coverage) -> None:
    """After ``cov.start()`` under :func:`staged`: publish every write atomically."""
    global _publisher
    data = _compat.coverage_data(cov)
    filename = _compat.data_filename(data)
    if data is not None and layout.is_work_dir_name(os.path.basename(os.path.dirname(filename))):
        _publisher = Publisher(data)
        _publisher.attach()
        signals.after_save_failed(_publisher.direct)
        signals.before_death(_finish)
        if _real_exit is not None and os._exit is not _real_exit:
            # coverage.py's ``_exit`` patch is in place: do its save ourselves,
            # then drop the working copy (multiprocessing's fork children all
            # end this way), then really exit.
            os._exit = _exit_after_save(cov, _real_exit)  # type: ignore[assignment]


def _exit_after_save(
    cov: Coverage, real_exit: Callable[[int], NoReturn]
) -> Callable[[int], NoReturn]:
    def covhook_os_exit(status: int) -> NoReturn:
        try:
            if _publisher is not None and _publisher.finished():
                real_exit(status)  # atexit handlers already saved and published (see finished)
            cov.save()
            if _publisher is not None:
                _publisher.finish()
        except Exception:
            pass
        real_exit(status)

    return covhook_os_exit


def keep_collected(cov: Coverage) -> None:
    """Stop coverage.py from clearing its in-memory lines after each save.

    ``Collector.flush_data`` copies the traced lines, writes them (SQLite
    releases the GIL) and then clears the live sets: lines another thread
    runs in between are lost for good.  From a background thread that window
    is hit routinely (seen: a rank's first lines missing).  Keeping the sets
    makes every save write everything so far (idempotent, a little slower).
    Not with dynamic contexts, whose switches rely on the clearing.
    """
    if cov.get_option("run:dynamic_context") or not _compat.collector_clears_all_after_flush():
        return  # dynamic contexts need the clearing; coverage 7.17.5+ no longer loses lines
    _compat.keep_collected_data(cov, _keep)


def _keep() -> None:
    """A ``_clear_data`` that keeps the data."""


def start(cov: Coverage, seconds: float) -> None:
    """After ``cov.start()``: the flush thread."""
    global _flusher
    keep_collected(cov)
    _flusher = Flusher(cov, seconds)
    _flusher.start()
    atexit.register(_flusher.stop)  # runs before coverage.py's own atexit save
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def _before_fork() -> None:
    """On 3.12+, no "multi-threaded fork" warning because of this thread (see Flusher)."""
    flusher = _flusher
    if flusher is None or flusher.stopped or sys.version_info < (3, 12):
        return
    thread = flusher.thread
    if thread is None or not thread.is_alive():
        return
    if sigwake.os_threads() <= 2 + sigwake.running():  # main, this one, sigwake's
        flusher.pause()


def _after_fork_in_parent() -> None:
    if _flusher is not None and _flusher.paused:
        sigwake.resume_after_fork(_flusher.resume)


def _after_fork_in_child() -> None:
    """A forked child has no flush thread (only the forking thread survives): start one.

    The save lock it inherited is reset by :mod:`covhook.startup.signals` first
    (its fork hook is registered earlier, and child hooks run in order).
    """
    if _flusher is not None and not _flusher.stopped:
        _flusher.start()
