"""Save coverage data when SIGTERM, SIGINT or SIGHUP arrives, then act as the program would.

coverage.py's ``[run] sigterm`` is opt-in, covers SIGTERM only, and is lost as
soon as the program installs its own handler.  covhook instead keeps one
handler of its own installed for the three signals and remembers the
program's handler: ``signal.signal`` and ``signal.getsignal`` are wrapped so
the program still sets and reads its own handlers.  On a signal the data is
saved, then the program's handler runs; if the program had none (``SIG_DFL``)
the default action is restored and the signal re-sent, so the process dies
by the same signal, with the same exit status, as without covhook.  An
ignored signal (``SIG_IGN``, e.g. SIGHUP under ``nohup``) stays ignored for
real, so exec'd children inherit it.

No deadlock (coverage.py #1310, #1101): a save runs under one lock.  A
signal that interrupts a save in the same thread does not save again inside
it: it is remembered and acted on when that save finishes.  A save running
in another thread (the periodic flush) is waited for, with a time limit.
Python runs signal handlers in the main thread only, and only the main
thread may install them: when coverage starts elsewhere this does nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coverage import Coverage

Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

WATCHED = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
WAIT_FOR_OTHER_SAVE = 10.0  # seconds; never hang a dying process longer

_orig_signal = signal.signal
_orig_getsignal = signal.getsignal
_user: dict[int, Handler] = {}  # the handler the program believes is installed
_cov: Coverage | None = None
_orig_save: Callable[[], None] | None = None
_lock = threading.Lock()
_saving_thread: int | None = None
_pending: list[int] = []


def save() -> None:
    """Save the data of the Coverage covhook started, one save at a time; never raise.

    Installed as that Coverage's ``save`` method, so coverage.py's own saves
    (atexit, the ``_exit`` and ``execv`` patches) take the same lock.
    """
    global _saving_thread
    if _orig_save is None:
        return
    me = threading.get_ident()
    if _saving_thread == me:
        return  # re-entered from a signal handler in the middle of our own save
    if not _lock.acquire(timeout=WAIT_FOR_OTHER_SAVE):
        return
    _saving_thread = me
    try:
        _orig_save()
    except Exception:
        pass
    finally:
        _saving_thread = None
        _lock.release()
    while _pending and threading.current_thread() is threading.main_thread():
        _dispatch(_pending.pop(0), None)


def _on_signal(signum: int, frame: FrameType | None) -> Any:
    if _saving_thread == threading.get_ident():
        # We interrupted our own save: let it finish, then act (see save()).
        _pending.append(signum)
        return None
    save()
    return _dispatch(signum, frame)


def _dispatch(signum: int, frame: FrameType | None) -> Any:
    """Do what the program's own handler for ``signum`` would have done."""
    handler = _user.get(signum, signal.SIG_DFL)
    if callable(handler):
        return handler(signum, frame)
    if handler == signal.SIG_IGN:
        return None
    # SIG_DFL (or None: a handler not installed from Python): die by the signal.
    _orig_signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    return None


def _signal(signalnum: Any, handler: Any) -> Any:
    """``signal.signal``, keeping covhook's handler in front of the program's."""
    num = int(signalnum)
    if _cov is None or num not in _user:
        return _orig_signal(signalnum, handler)
    if not (callable(handler) or handler in (signal.SIG_DFL, signal.SIG_IGN)):
        # Let the real function raise its own TypeError.
        return _orig_signal(signalnum, handler)
    real = signal.SIG_IGN if handler == signal.SIG_IGN else _on_signal
    _orig_signal(signalnum, real)  # raises ValueError off the main thread, as it would
    previous = _user[num]
    _user[num] = handler
    return previous


def _getsignal(signalnum: Any) -> Any:
    """``signal.getsignal``: the program's handler, not covhook's."""
    num = int(signalnum)
    if _cov is not None and num in _user:
        return _user[num]
    return _orig_getsignal(signalnum)


def guard_saves(cov: Coverage) -> None:
    """Route every save of ``cov`` through :func:`save` (one at a time, signal-safe)."""
    global _orig_save
    if _orig_save is None:
        _orig_save = cov.save
        cov.save = save  # type: ignore[method-assign]


def install(cov: Coverage) -> bool:
    """Save ``cov`` on SIGTERM/SIGINT/SIGHUP; False when this thread cannot install handlers."""
    global _cov
    guard_saves(cov)
    if threading.current_thread() is not threading.main_thread():
        return False
    for num in WATCHED:
        current = _orig_getsignal(num)
        _user[num] = current
        if current != signal.SIG_IGN:
            _orig_signal(num, _on_signal)
    _cov = cov
    signal.signal = _signal
    signal.getsignal = _getsignal
    return True


def uninstall() -> None:
    """Give the program's handlers back and unwrap ``signal`` (for tests and tools)."""
    global _cov
    if _cov is None:
        return
    _cov = None
    signal.signal = _orig_signal
    signal.getsignal = _orig_getsignal
    for num, handler in list(_user.items()):
        with contextlib.suppress(ValueError, TypeError, OSError):
            _orig_signal(num, handler if handler is not None else signal.SIG_DFL)
    _user.clear()
