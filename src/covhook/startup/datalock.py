"""Keep coverage.py's data lock out of reach of signal handlers (no deadlock on SIGTERM).

coverage.py's C tracer calls ``Collector.lock_data()`` / ``unlock_data()``
(Python methods around a plain ``threading.Lock``) when it meets a new file.
Python runs signal handlers between bytecodes, so a handler can run inside
``lock_data`` right after the lock was taken; a handler that saves then
reaches ``Collector._clear_data``, which takes the same lock: the process
hangs for good (seen on about 2 % of processes SIGTERMed while importing).

Two layers:

- the tracers get the lock's own C methods (``Lock.acquire`` /
  ``Lock.release``) instead of the Python ones: no bytecode runs between
  taking and releasing the lock, so no signal handler can run there;
- ``_clear_data`` waits for the lock with a time limit and keeps the data
  (the next save writes it again, idempotently) when it cannot get it, and
  the tracers' own acquire has a time limit too: for tracers written in
  Python (coverage's PyTracer, sys.monitoring) where the first layer cannot
  close the window.

After ``fork()`` the child gets a fresh lock: a thread that held the old one
does not exist there.
"""

from __future__ import annotations

import threading

from covhook import _compat

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (issue 9: start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from coverage import Coverage

WAIT = 1.0  # seconds; only ever waited for when the lock is held by a stuck thread


def _collector(cov: Coverage) -> Any:
    return _compat.collector_of(cov)


def _bind(collector: Any, lock: Any) -> None:
    """Give the collector (for tracers started later) and its tracers the C lock methods.

    ``acquire`` with a time limit, through ``functools.partial`` (C code, no
    frame): tracers written in Python (sys.monitoring, PyTracer) run
    bytecode between their ``lock_data()`` and ``try:``, where a handler that
    raises (KeyboardInterrupt) leaves the lock held for good; the next
    ``lock_data`` then gives up after :data:`WAIT` and its ``unlock_data``
    frees the lock again, instead of hanging the process.
    """
    import functools  # here: it imports collections (1 ms) where threading does not (3.14+)

    acquire = functools.partial(lock.acquire, True, WAIT)
    _compat.bind_data_lock(collector, acquire, lock.release)


def harden(cov: Coverage) -> None:
    """After ``cov.start()``: apply both layers to its collector; never raise."""
    try:
        collector = _collector(cov)
        lock = _compat.data_lock(collector)
        if collector is None or lock is None:
            return
        _bind(collector, lock)
        _compat.wrap_clear_data(collector, lambda original: _timed_clear(collector, original))
    except Exception:
        pass


def _timed_clear(collector: Any, original: Any) -> Any:
    def clear_data() -> None:
        lock = _compat.data_lock(collector)
        if lock is not None:
            if not lock.acquire(timeout=WAIT):
                return  # held by the very thread a signal interrupted: keep the data
            lock.release()
        original()

    return clear_data


def reset_after_fork(cov: Coverage) -> None:
    """In a forked child: a new, free data lock (the old one may be held by a dead thread)."""
    try:
        collector = _collector(cov)
        if collector is None or _compat.data_lock(collector) is None:
            return
        _compat.set_data_lock(collector, threading.Lock())
        _bind(collector, _compat.data_lock(collector))
    except Exception:
        pass
