"""Save coverage data when SIGTERM, SIGINT or SIGHUP arrives, then act as the program would.

coverage.py's ``[run] sigterm`` is opt-in, covers SIGTERM only, and is lost as
soon as the program installs its own handler.  covhook instead keeps track of
the program's handlers: ``signal.signal`` and ``signal.getsignal`` are
wrapped so the program still sets and reads its own handlers.  Where the
program has no handler (``SIG_DFL``) covhook's handler saves the data, then
restores the default action and re-sends the signal, so the process dies by
the same signal, with the same exit status, as without covhook
(:mod:`covhook.startup.sigwake` does that at once when the main thread is stuck in a
long C call).  The program's own Python handlers (SIGINT's ``default_int_handler``
included) are installed as they are: they run with no covhook frame around
them, so what they print is the program's own, and the data is saved when
they end the program (see :func:`_real`).  An
ignored signal (``SIG_IGN``, e.g. SIGHUP under ``nohup``) stays ignored for
real, so exec'd children inherit it.

No deadlock (coverage.py #1310, #1101): a save runs under one lock.  A
signal that interrupts a save in the same thread does not save again inside
it: it is remembered and acted on when that save finishes.  A save running
in another thread (the periodic flush) is waited for, with a time limit.
coverage.py's own data lock cannot be held by a thread a handler interrupts
(:mod:`covhook.startup.datalock`).  Python runs signal handlers in the main
thread only, and only the main thread may install them: when coverage starts
elsewhere this does nothing.
"""

from __future__ import annotations

import errno
import os
import signal
import threading

from covhook import _compat, _warn, startup
from covhook._warn import warn_once
from covhook.startup import datalock, sigwake

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing costs every measured process (issue 9)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

    from coverage import Coverage

    from covhook.startup.boot import Measurer

    Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

WATCHED = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
WAIT_FOR_OTHER_SAVE = 10.0  # seconds; never hang a dying process longer
WAIT_FOR_OTHER_DEATH = WAIT_FOR_OTHER_SAVE + 5.0  # its save, then its kill

_orig_signal = signal.signal
_orig_getsignal = signal.getsignal
_user: dict[int, Handler] = {}  # the handler the program believes is installed
_cov: Measurer | None = None  # the measurement whose handlers are installed
_saved_cov: Coverage | None = None  # coverage.py's object, when it is coverage.py's
_orig_save: Callable[[], None] | None = None
_lock = threading.Lock()
_in_save: set[int] = set()  # threads inside save()
_pending: list[int] = []
_start_euid = -1
_fallback: Callable[[], bool] | None = None
_death_hooks: list[Callable[[], None]] = []
_death = threading.Lock()  # one owner of a death by signal: the main thread or sigwake's
_death_owner = 0


def save() -> None:
    """Save the data of the Coverage covhook started, one save at a time; never raise.

    Installed as that Coverage's ``save`` method, so coverage.py's own saves
    (atexit, the ``_exit`` and ``execv`` patches) take the same lock.  A save
    that fails says so, once per process, instead of being silent.

    A signal handler can run between any two bytecodes.  The thread is marked
    as saving before anything is held, and unmarked only after everything is
    released, so a signal landing anywhere in between is remembered
    (``_pending``) and acted on after the save, never handled inside it; and
    the program's own handlers (which may raise) are deferred the same way
    meanwhile.
    """
    if _orig_save is None:
        return
    me = threading.get_ident()
    if me in _in_save:
        return  # re-entered from a signal handler in the middle of our own save
    try:
        _in_save.add(me)
        deferred = _defer_handlers()
        try:
            _locked_save()
        finally:
            _restore_handlers(deferred)
    finally:
        _in_save.discard(me)
    while _pending and me == threading.main_thread().ident:
        _act(_pending.pop(0), None)


def _locked_save() -> None:
    if not _lock.acquire(timeout=WAIT_FOR_OTHER_SAVE):
        _said_failed(TimeoutError(f"another save did not finish in {WAIT_FOR_OTHER_SAVE:g} s"))
        return
    try:
        _save_or_fall_back()
    finally:
        _lock.release()


def _defer_handlers() -> list[tuple[int, Any]]:
    """During a save in the main thread, the program's own handlers wait for the save's end.

    The program's Python handlers are installed for real (see :func:`_real`);
    one that raises (KeyboardInterrupt, SystemExit) inside the save would
    lose it, or leave the save lock held.  Returns what to put back.
    """
    if threading.get_ident() != threading.main_thread().ident:
        return []
    swapped = []
    for num in WATCHED:
        try:
            current = _orig_getsignal(num)
            if callable(current) and current is not _on_signal:
                _orig_signal(num, _on_signal)
                swapped.append((num, current))
        except Exception:
            pass
    return swapped


def _restore_handlers(swapped: list[tuple[int, Any]]) -> None:
    for num, handler in swapped:
        try:
            _orig_signal(num, handler)
        except Exception:
            pass


def _save_or_fall_back() -> None:
    assert _orig_save is not None
    try:
        _orig_save()
        return
    except Exception as exc:
        first = exc
    moved = False
    if _fallback is not None:
        try:
            moved = _fallback()
        except Exception:
            moved = False
    if moved:
        try:
            _orig_save()
        except Exception as exc:
            _said_failed(exc)
            return
        warn_once(
            "save",
            f"could not save coverage data in the work directory ({_describe(first)}); "
            f"wrote {_data_filename()} in place instead",
            "make the work directory writable for this process, or delete it "
            "(after 'covhook combine') so it is made again",
        )
        return
    _said_failed(first)


def _data_filename() -> str:
    from covhook._compat import coverage_data, data_filename

    return data_filename(coverage_data(_saved_cov)) or "the data file"


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}".replace("\n", " ")


def _said_failed(exc: BaseException) -> None:
    """One line: which file could not be saved, why, and what to do."""
    filename = _data_filename()
    directory = os.path.dirname(filename) or "."
    euid = os.geteuid()
    if _start_euid not in (-1, euid):
        fix = (
            f"the program switched from uid {_start_euid} to uid {euid}: make {directory} "
            f"writable for uid {euid}, or point [run] data_file at a directory it can write"
        )
    elif (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "full" in str(exc):
        fix = f"free space on the filesystem of {directory}, then run again"
    else:
        fix = (
            f"make {directory} writable for uid {euid}, or point [run] data_file "
            "(COVERAGE_FILE) at a directory it can write"
        )
    warn_once(
        "save", f"could not save this process's coverage data to {filename} ({_describe(exc)})", fix
    )


def after_save_failed(fallback: Callable[[], bool]) -> None:
    """Register what to try when a save fails: True if it changed where data is written."""
    global _fallback
    _fallback = fallback


def before_death(hook: Callable[[], None]) -> None:
    """Register a clean-up to run after the save, before dying by a signal (atexit will not)."""
    _death_hooks.append(hook)


def _on_signal(signum: int, frame: FrameType | None) -> Any:
    if threading.get_ident() in _in_save:
        # We interrupted our own save: let it finish, then act (see save()).
        _pending.append(signum)
        return None
    if _dies_by(signum):
        # sigwake's thread may be saving already: then it kills this process.
        _claim_death(wait=True)
    save()
    return _act(signum, frame)


def _from_wakeup(signum: int) -> None:
    """In :mod:`covhook.startup.sigwake`'s thread, at once: save and die, if that comes next.

    Only where the program has no handler: its own handler runs in the main
    thread, when that thread can run it, exactly as without covhook.
    """
    if _cov is None or not _dies_by(signum) or _orig_getsignal(signum) is not _on_signal:
        return
    # Nothing this thread needs may be held by a main thread that waits for it:
    # no import from here on (the main thread's handler may run inside one).
    held = _compat.import_lock_held
    if held() or not sigwake.can_restore_default() or held():
        return  # the main thread's handler acts, as soon as it can
    if not _claim_death(wait=False):
        return  # the main thread is on it
    save()
    _die(signum)


def _dies_by(signum: int) -> bool:
    handler = _user.get(signum)
    return handler is None or handler == signal.SIG_DFL


def _claim_death(wait: bool) -> bool:
    """Become the one thread that saves and dies; False if another one is (or was) faster."""
    global _death_owner
    me = threading.get_ident()
    if _death_owner == me:
        return True
    if not _death.acquire(wait, WAIT_FOR_OTHER_DEATH if wait else -1):
        return False  # still alive after that long: the caller dies by itself
    _death_owner = me
    return True


def _act(signum: int, frame: FrameType | None) -> Any:
    """Do what the program's own handler for ``signum`` would have done."""
    default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
    handler = _user.get(signum, default)  # SIGINT deferred during a save: Python's own
    if callable(handler):
        return handler(signum, frame)
    if handler == signal.SIG_IGN:
        return None
    # SIG_DFL (or None: a handler not installed from Python): die by the signal.
    _claim_death(wait=True)
    _die(signum)
    return None


def _die(signum: int) -> None:
    """Run the clean-ups atexit will not run, restore the default action, re-send the signal.

    Re-sent to this very thread, with the signal unblocked here: Python's C
    handler ran in a thread that did not block it (that is how the signal
    got here), and without coverage that thread died by it.  Sent to the
    process instead, it stays pending when every living thread blocks it
    (the main thread may, to ``sigwait``; sigwake's thread does; the thread
    that took it may have ended), and the program would run on after its
    death's clean-ups, its data file emptied by the next save.
    """
    global _death_owner
    for hook in _death_hooks:
        try:
            hook()
        except Exception:
            pass
    if threading.get_ident() == threading.main_thread().ident:
        _orig_signal(signum, signal.SIG_DFL)
    else:
        try:
            sigwake.default_action(signum)
        except Exception:
            _death_owner = 0  # the main thread's handler dies when it can
            _death.release()
            return
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
    except Exception:
        pass
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(threading.get_ident(), signum)
    os.kill(os.getpid(), signum)


def _real(signum: int, handler: Any) -> Any:
    """What to install for real when the program asks for ``handler``.

    ``SIG_IGN`` stays ignored for real (exec'd children inherit it).  The
    program's own Python handler (Python's ``default_int_handler`` for SIGINT
    included) is installed as it is: no covhook frame runs around it, so a
    traceback it raises is exactly the program's own.  The data is then saved
    the way the handler ends the program: ``sys.exit`` or an exception
    (coverage.py's atexit save), ``os._exit`` (coverage.py's ``_exit``
    patch), or setting ``SIG_DFL`` and re-sending the signal (covhook's
    handler below).  Only ``SIG_DFL`` gets covhook's handler, which saves and
    dies by the signal.
    """
    if handler == signal.SIG_IGN:
        return signal.SIG_IGN
    if callable(handler):
        return handler
    return _on_signal


def _as_int(value: Any) -> Any:
    """``signal._enum_to_int``: what ``signal.signal`` makes of its arguments."""
    try:
        return int(value)
    except (ValueError, TypeError):
        return value


def _signal(signalnum: Any, handler: Any) -> Any:
    """``signal.signal``, keeping covhook's handler in front of the program's.

    Its arguments are read as the real one reads them (``int()`` where that
    works: ``15.0`` and ``"15"`` are SIGTERM, ``0`` is ``SIG_DFL``); anything
    else goes to the real one, for its own error.
    """
    num, value = _as_int(signalnum), handler if callable(handler) else _as_int(handler)
    if _cov is None or type(num) is not int or num not in _user:
        return _orig_signal(signalnum, handler)
    if not (callable(value) or value in (signal.SIG_DFL, signal.SIG_IGN)):
        # Let the real function raise its own TypeError.
        return _orig_signal(signalnum, handler)
    if not callable(value):
        value = signal.Handlers(value)
    # Raises ValueError off the main thread, as it would without covhook.
    _orig_signal(num, _real(num, value))
    previous = _user[num]
    _user[num] = value
    return previous


def _getsignal(signalnum: Any) -> Any:
    """``signal.getsignal``: the program's handler, not covhook's.

    Only an integer (``__index__``) is a signal number here, as for the real one.
    """
    num = startup.index(signalnum)
    if _cov is not None and num in _user:
        return _user[num]
    return _orig_getsignal(signalnum)


def guard_saves(measurer: Measurer) -> None:
    """Route every save of ``measurer`` through :func:`save` (one at a time, signal-safe)."""
    global _orig_save, _saved_cov, _start_euid
    if _orig_save is None:
        _orig_save = measurer.route_saves(save)
        cov = _saved_cov = measurer.coverage
        _start_euid = os.geteuid()
        if cov is not None:  # the recorder has no collector lock and no atexit of coverage's
            datalock.harden(cov)
            _compat.wrap_atexit(cov, _exit_save_signals_held)
        os.register_at_fork(
            before=_before_fork,
            after_in_parent=_after_fork_parent,
            after_in_child=_after_fork_child,
        )


def _exit_save_signals_held(original: Callable[[], None]) -> None:
    """coverage.py's exit handler with the signals that run Python code held (main thread).

    Its save is covhook's (:func:`save`, handlers deferred), but what it does
    before saving is not: a signal landing there ran the program's handler,
    which may raise (gunicorn's worker: ``sys.exit`` on SIGINT or SIGQUIT) and
    end the handler before any save.  Held, the signal is handled right after
    the save, as if it had come a moment later.
    """
    if threading.get_ident() != threading.main_thread().ident:
        original()
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    try:
        held |= {s for s in signal.valid_signals() if callable(signal.getsignal(s))}
    except Exception:
        pass
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        original()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_held_for_fork = False
_marked_for_fork = False
_pending_at_fork = 0  # len(_pending) when the fork began: the rest arrived in the child


def _before_fork() -> None:
    """No save may be in progress while the process forks (its SQLite state would be copied).

    The thread counts as saving meanwhile: a signal arriving while it holds
    the save lock is remembered and re-raised after the fork, not handled
    with the lock held.
    """
    global _held_for_fork, _marked_for_fork, _pending_at_fork
    me = threading.get_ident()
    _pending_at_fork = len(_pending)
    if me in _in_save:
        return  # forking from inside our own save (a signal handler): nothing to wait for
    _in_save.add(me)
    _marked_for_fork = True
    _held_for_fork = _lock.acquire(timeout=WAIT_FOR_OTHER_SAVE)


def _after_fork_parent() -> None:
    global _held_for_fork, _marked_for_fork
    if _held_for_fork:
        _held_for_fork = False
        _lock.release()
    if not _marked_for_fork:
        return
    _marked_for_fork = False
    _in_save.discard(threading.get_ident())
    while _pending and threading.current_thread() is threading.main_thread():
        signal.raise_signal(_pending.pop(0))  # handled as soon as the fork call returns


def _after_fork_child() -> None:
    """Only the forking thread lives on: no save is running here, whatever was copied.

    A signal this child got while its fork hooks ran found the forking thread
    marked as saving and was remembered (``_pending``): it is sent again once
    the mark is gone, so the handler acts on it as soon as the thread runs
    Python code.  Dropped, a SIGTERM that ``Pool.terminate()`` sent to a worker
    just forked was never acted on, and the pool waited for ever.  What was
    pending in the parent before the fork is the parent's.
    """
    global _lock, _held_for_fork, _marked_for_fork, _death, _death_owner
    _lock = threading.Lock()
    _death, _death_owner = threading.Lock(), 0
    _in_save.clear()
    _held_for_fork = _marked_for_fork = False
    arrived = _pending[_pending_at_fork:]
    _pending.clear()
    _warn.forget()
    if _saved_cov is not None:
        datalock.reset_after_fork(_saved_cov)
    for signum in arrived:
        try:
            os.kill(os.getpid(), signum)
        except OSError:
            pass


def install(measurer: Measurer) -> bool:
    """Save ``measurer``'s data on SIGTERM/SIGINT/SIGHUP; False when this thread cannot."""
    global _cov
    guard_saves(measurer)
    if threading.current_thread() is not threading.main_thread():
        return False
    for num in WATCHED:
        current = _orig_getsignal(num)
        _user[num] = current
        real = _real(num, current)
        if real is not current:
            _orig_signal(num, real)
    _cov = measurer
    startup.install(signal, "signal", startup.dress(_signal, _orig_signal))
    startup.install(signal, "getsignal", startup.dress(_getsignal, _orig_getsignal))
    sigwake.start(_from_wakeup)
    _hold_signals_across_forks()
    return True


_fork_hold_registered = False
# Each forking thread's own mask while covhook holds its signals (two threads may be
# between their fork hooks at once: Python takes its fork locks after the ``before`` hooks).
_mask_before_fork: dict[int, Any] = {}


def _hold_signals_across_forks() -> None:
    """Register :func:`_hold_for_fork` after the save and wake-up hooks: its ``before`` runs
    before theirs, its ``after`` after theirs (Python runs ``before`` hooks in reverse)."""
    global _fork_hold_registered
    if not _fork_hold_registered:
        _fork_hold_registered = True
        os.register_at_fork(
            before=_hold_for_fork,
            after_in_parent=_release_after_fork,
            after_in_child=_release_after_fork,
        )


def _hold_for_fork() -> None:
    """Block the signals covhook's handler takes, in the forking thread, until the fork is over.

    Where the program leaves a signal at ``SIG_DFL``, covhook's Python handler
    stands in, and a Python handler can be lost in a child: a signal that lands
    between ``fork()`` and ``PyOS_AfterFork_Child`` runs Python's C handler,
    which writes to the wake-up fd the child inherited, and CPython then clears
    the flag it set.  When that fd is the program's own (multiprocessing's fork
    server, the default start method from Python 3.14), nothing sends it again:
    ``Pool.terminate()`` SIGTERMed a worker the server had just forked, the
    worker never died, and the pool waited for ever.  Without covhook the
    default action killed it.  Held, the signal stays pending in the child
    until Python's fork set-up and covhook's signal hooks ran (the child's own
    wake-up socket included), then covhook's handler saves and dies by it; the
    parent's arrives a moment later.
    """
    held = {num for num in WATCHED if _cov is not None and _orig_getsignal(num) is _on_signal}
    if not held:
        return
    try:
        _mask_before_fork[threading.get_ident()] = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except Exception:
        pass


def _release_after_fork() -> None:
    """Give the forking thread its own mask back (parent and child alike)."""
    mask = _mask_before_fork.pop(threading.get_ident(), None)
    if mask is not None:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        except Exception:
            pass


def uninstall() -> None:
    """Give the program's handlers back and unwrap ``signal`` (for tests and tools)."""
    global _cov
    if _cov is None:
        return
    _cov = None
    sigwake.stop()
    signal.signal = _orig_signal
    signal.getsignal = _orig_getsignal
    for num, handler in list(_user.items()):
        try:
            _orig_signal(num, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, TypeError, OSError):
            pass
    _user.clear()
