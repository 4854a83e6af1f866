"""Die by a deadly signal at once, even while the main thread is inside a long C call.

Python runs signal handlers in the main thread, between bytecodes: a SIGTERM
that arrives while the main thread is in a C call that releases the GIL
(``hashlib.pbkdf2_hmac``, a compression, a collective waiting for other
ranks) is acted on when the call returns, maybe minutes later, where
without covhook the default action kills at once.  Python's C-level handler
also writes the signal's number to the wakeup fd
(:func:`signal.set_wakeup_fd`): a thread blocked on that fd wakes at once,
and :mod:`covhook.startup.signals` saves there and dies by the signal.

Doing no harm:

- the fd is a datagram socket pair with ``SO_PASSCRED``: each byte comes
  with the pid of its writer, and only this process's bytes count (a child
  forked a moment ago writes to its parent's socket until its fork hook
  gave it its own);
- the thread is born with every signal blocked, so the kernel never runs a handler there:
  a program that blocks a signal and ``sigwait``-s for it is unchanged;
- it is started with :mod:`_thread`, so ``threading.enumerate()`` and
  ``active_count()`` do not list it; on Python 3.12+ it stops before
  ``os.fork()`` and starts again after, so a program with one thread forks
  without the "multi-threaded ... fork()" DeprecationWarning (a program
  with threads of its own gets it anyway: then it keeps running);
- ``signal.set_wakeup_fd`` is wrapped: the program sees only its own fd
  (``-1`` at first).  While it has one (asyncio's ``add_signal_handler``,
  trio), covhook's steps aside and the main thread's handler acts as
  before; when the program drops it, covhook's is back;
- the fds sit high (from :data:`HIGH_FD`), out of the way of the low
  numbers a program that closes every fd opens again; covhook checks an
  fd is still its socket before it uses, closes or restores it, and steps
  aside for good before the program's ``os.close``, ``os.closerange`` or
  ``os.dup2`` touches one (Python's C handler would write into whatever the
  number has become: see :func:`_step_aside`);
- every wrapper looks and fails like the function it wraps
  (:mod:`covhook.startup`).

Linux only (``SO_PASSCRED``); elsewhere, or when anything fails, nothing
starts and the main thread handles signals as before.
"""

from __future__ import annotations

import _thread
import errno
import os
import signal
import sys
import time

from covhook import _compat, startup

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing costs every measured process (issue 9)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

HIGH_FD = 900  # below the usual 1024 soft limit; a lower fd is used when that fails
STOP = b"\0"  # no signal has number 0: this process asks its thread to end
GONE_WAIT = 0.2  # seconds to wait for the stopped thread to leave the process

_real_set_wakeup_fd = signal.set_wakeup_fd
_on_signal: Callable[[int], None] | None = None
_pair: _Pair | None = None
_program_fd = -1  # the wakeup fd the program set (as far as it knows)
_done: Any = None  # a _thread lock, released when the thread ends
_tid = 0  # the thread's native id


class _Pair:
    """Python's C handler writes into ``writer``; the thread reads ``reader``."""

    def __init__(self) -> None:
        from covhook._compat import c_socket

        _socket = c_socket()
        self.socket = _socket
        a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_DGRAM)
        self.writer, self.reader = _high(_socket, a), _high(_socket, b)
        self.reader.setsockopt(_socket.SOL_SOCKET, _socket.SO_PASSCRED, 1)
        self.writer.setblocking(False)  # set_wakeup_fd requires it
        self.ids = {self.writer.fileno(): _identity(self.writer.fileno())}
        self.ids[self.reader.fileno()] = _identity(self.reader.fileno())

    def intact(self) -> bool:
        """Both fds are still these sockets (the program did not close and reuse them)."""
        return all(_identity(fd) == ident for fd, ident in self.ids.items())

    def close(self) -> None:
        for sock in (self.writer, self.reader):
            if _identity(sock.fileno()) == self.ids.get(sock.fileno()):
                sock.close()
            else:  # a number the program reuses is the program's now: never close it
                sock.detach()
        self.ids = {}


def _high(_socket: Any, sock: Any) -> Any:
    try:
        import fcntl

        fd = fcntl.fcntl(sock.fileno(), fcntl.F_DUPFD_CLOEXEC, HIGH_FD)
    except OSError:
        return sock
    moved = _socket.socket(sock.family, sock.type, sock.proto, fd)
    sock.close()
    return moved


def _identity(fd: int) -> tuple[int, int] | None:
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def start(on_signal: Callable[[int], None]) -> bool:
    """From the main thread: wake ``on_signal(signum)`` from a thread on each signal."""
    global _on_signal, _pair, _program_fd
    if _on_signal is not None:
        return True
    if not hasattr(signal, "pthread_sigmask"):
        return False
    try:
        pair = _Pair()
    except Exception:
        return False
    try:
        previous = _real_set_wakeup_fd(pair.writer.fileno(), warn_on_full_buffer=False)
    except Exception:
        pair.close()
        return False
    if previous != -1:  # set before covhook started: the program's, keep it
        try:
            _real_set_wakeup_fd(previous)
        except Exception:
            pass  # no longer a usable fd: keep covhook's
        else:
            _program_fd = previous
    _pair, _on_signal = pair, on_signal
    startup.install(signal, "set_wakeup_fd", startup.dress(_set_wakeup_fd, _real_set_wakeup_fd))
    _watch_fds(True)
    _launch()
    os.register_at_fork(
        before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child
    )
    return True


def stop() -> None:
    """Give the program its wakeup fd back, end the thread (for tests and tools)."""
    global _on_signal, _pair
    if _on_signal is None:
        return
    startup.uninstall(signal, "set_wakeup_fd", _set_wakeup_fd)
    _watch_fds(False)
    _halt()
    pair, _pair, _on_signal = _pair, None, None
    try:
        _real_set_wakeup_fd(_program_fd)
    except Exception:
        pass
    if pair is not None:
        pair.close()


def _set_wakeup_fd(*args: Any, **kwargs: Any) -> int:
    """``signal.set_wakeup_fd(fd, /, *, warn_on_full_buffer=True)``: the program's fds only."""
    global _program_fd
    well_formed = len(args) == 1 and kwargs.keys() <= {"warn_on_full_buffer"}
    fd = startup.index(args[0]) if well_formed else None
    if fd is None:
        return int(_real_set_wakeup_fd(*args, **kwargs))  # refused: its own error
    if fd == -1 and _pair is not None and _pair.intact():
        _real_set_wakeup_fd(_pair.writer.fileno(), warn_on_full_buffer=False)
    else:
        _real_set_wakeup_fd(*args, **kwargs)
    previous, _program_fd = _program_fd, fd
    return previous


# --- The program closes or reuses covhook's fds ---------------------------------
# Python's C handler writes the signal's number into the wakeup fd, whatever
# that fd has become: after ``os.closerange(3, 4096)`` it printed "Exception
# ignored when trying to write to the signal wakeup fd" (EBADF), and once the
# program had a socket of its own at that number, the byte went into it.  So
# the Python ways of closing or replacing an fd are watched while covhook has
# fds: before one of them touches covhook's, covhook steps aside for good (the
# program's wakeup fd is back, the thread ends, covhook's fds are closed) and
# the call then does what it does without covhook.  Off the main thread the
# wakeup fd cannot be changed: covhook's fds are left out of ``close`` and
# ``closerange`` there (``os.close`` of one says EBADF, as for a closed fd);
# ``dup2`` onto one goes ahead.  A close from C code is not seen.
_real_close = os.close
_real_closerange = os.closerange
_real_dup2 = os.dup2


def _ours(fd: Any) -> bool:
    pair = _pair
    return pair is not None and (fd if type(fd) is int else startup.index(fd)) in pair.ids


def _step_aside() -> bool:
    """covhook's wakeup fd, thread and fds gone for good; False off the main thread."""
    global _pair, _done
    pair = _pair
    if pair is None:
        return True
    if _program_fd == -1:  # covhook's writer is the wakeup fd: take it away first
        try:
            _real_set_wakeup_fd(-1)
        except Exception:  # ValueError: "set_wakeup_fd only works in main thread"
            return False
    _pair, _done = None, None  # not waited for: it ends on its own
    try:
        if pair.intact():
            pair.writer.send(STOP)  # the thread ends (it reads the queue, not the fd number)
    except Exception:
        pass
    pair.close()
    return True


def _close(*args: Any, **kwargs: Any) -> Any:
    """``os.close(fd)``: one frame, no calls on the way (programs close fds often)."""
    pair = _pair
    if pair is not None and len(args) + len(kwargs) == 1:
        fd = args[0] if args else kwargs.get("fd")
        if type(fd) is not int:
            fd = startup.index(fd)
        if fd in pair.ids and not _step_aside():
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    return _real_close(*args, **kwargs)


def _closerange(*args: Any, **kwargs: Any) -> Any:
    """``os.closerange(fd_low, fd_high, /)``."""
    pair = _pair
    low, high = (startup.index(a) for a in args) if len(args) == 2 else (None, None)
    if pair is None or kwargs or low is None or high is None:
        return _real_closerange(*args, **kwargs)
    inside = sorted(fd for fd in pair.ids if low <= fd < high)
    if not inside or _step_aside():
        return _real_closerange(*args, **kwargs)
    for fd in inside:  # off the main thread: every fd but covhook's
        _real_closerange(low, fd)
        low = fd + 1
    return _real_closerange(low, high)


def _dup2(*args: Any, **kwargs: Any) -> Any:
    """``os.dup2(fd, fd2, inheritable=True)``."""
    target = args[1] if len(args) > 1 else kwargs.get("fd2")
    if _ours(target):
        _step_aside()
    return _real_dup2(*args, **kwargs)


_FD_WRAPPERS = (
    ("close", _real_close, _close),
    ("closerange", _real_closerange, _closerange),
    ("dup2", _real_dup2, _dup2),
)


def _watch_fds(on: bool) -> None:
    for name, real, wrapper in _FD_WRAPPERS:
        if on and getattr(os, name) is real:
            startup.install(os, name, startup.dress(wrapper, real))
        elif not on:
            startup.uninstall(os, name, wrapper)


def _launch() -> None:
    """Start the thread with every signal blocked from its first instant.

    A new thread inherits the mask of the thread that creates it.  Blocking
    from inside the thread leaves a window (the thread may wait for the GIL
    for milliseconds, longer on a busy machine) where the kernel can hand
    it a signal the program blocked in its own thread, to ``sigwait`` for
    it: Python's C handler runs there and the signal is gone from the
    program (issue 8: seen 4 times in 30 runs under load).  So the creating
    thread blocks everything around the creation, and puts its own mask back.
    """
    global _done
    if _pair is None or _on_signal is None or _done is not None:
        return  # stepped aside, or still running (never two threads)
    done = _thread.allocate_lock()
    done.acquire()
    try:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    except Exception:
        return
    try:
        _thread.start_new_thread(_run, (_pair, done, os.getpid(), _on_signal))
    except Exception:
        return
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    _done = done


def _run(pair: _Pair, done: Any, pid: int, on_signal: Callable[[int], None]) -> None:
    global _tid
    try:
        _tid = _thread.get_native_id()
        _socket = pair.socket
        space = _socket.CMSG_SPACE(12)  # struct ucred: pid, uid, gid
        while pair.intact():
            data, ancillary, _, _ = pair.reader.recvmsg(1, space)
            sender = _sender(_socket, ancillary)
            if sender != pid:
                _forward_to_child(sender, data, pid)  # a forked child's, not ours
                continue
            if data in (STOP, b""):
                return
            on_signal(data[0])
    except Exception:
        pass
    finally:
        done.release()


def _forward_to_child(sender: int, data: bytes, pid: int) -> None:
    """A signal our child got before its fork hooks gave it a socket of its own: send it again.

    Between ``fork()`` and ``PyOS_AfterFork_Child`` a child still writes to
    the inherited wake-up socket, and CPython then clears the signal flags it
    had set: the signal is gone (``Pool.terminate()`` SIGTERMs a worker just
    forked by its handler thread: the worker never died and the pool waited
    for ever).  Only a direct child of this process is signalled (its pid
    cannot be reused before this process reaps it); by then it has, or soon
    has, a socket of its own and handles the signal.
    """
    if sender <= 0 or len(data) != 1 or data == STOP:
        return
    try:
        with open(f"/proc/{sender}/stat", "rb") as f:
            stat = f.read()
        if int(stat[stat.rindex(b")") + 2 :].split()[1]) != pid:
            return  # not our child (a grandchild's, or gone)
        os.kill(sender, data[0])
    except (OSError, ValueError, IndexError):
        return


def _sender(_socket: Any, ancillary: list[tuple[int, int, bytes]]) -> int:
    for level, kind, blob in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_CREDENTIALS and len(blob) >= 4:
            return int.from_bytes(blob[:4], sys.byteorder, signed=True)
    return -1


def _halt() -> None:
    """End the thread and wait until the OS no longer counts it (before a fork)."""
    global _done
    done, _done = _done, None
    if done is None or _pair is None or not _pair.intact():
        return
    for _ in range(100):  # the queue may be full of signal numbers the thread is reading
        try:
            _pair.writer.send(STOP)
            break
        except BlockingIOError:
            time.sleep(0.001)
        except OSError:
            return
    if done.acquire(True, GONE_WAIT):
        wait_gone(_tid)


def wait_gone(native_id: int | None) -> None:
    """Until the OS no longer lists thread ``native_id`` (it may outlive its Python end)."""
    deadline = time.monotonic() + GONE_WAIT
    task = f"/proc/self/task/{native_id}"
    while native_id and os.path.exists(task) and time.monotonic() < deadline:
        time.sleep(0.0001)


def running() -> int:
    """1 while covhook's wake-up thread runs, else 0."""
    return 1 if _done is not None else 0


def _before_fork() -> None:
    """Python 3.12+ warns when a process with threads forks: not because of covhook's."""
    if sys.version_info >= (3, 12) and os_threads() <= 1 + running():
        _halt()


def os_threads() -> int:
    """This process's threads, as Python's fork warning counts them (0: unknown)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[17])  # field 20
    except (OSError, ValueError, IndexError):
        return 0


def _after_fork_parent() -> None:
    """Start the thread again (if it was stopped) once ``os.fork()`` has returned."""
    resume_after_fork(_launch)


_resume: list[Callable[[], None]] = []


def resume_after_fork(launch: Callable[[], None]) -> None:
    """From an ``after_in_parent`` fork hook: ``launch()`` once ``os.fork()`` has returned.

    Python 3.13 counts the threads for its warning after the fork hooks ran:
    a thread started here (or in a hook that runs after this one) would be
    counted.  A profile function of the forking thread starts it at that
    thread's first event after ``os.fork()`` returned (the calling frame has
    moved on, or returns); right away if the program has a profiler of its own.
    Every hook's ``launch`` shares that one profile function
    (:mod:`covhook.startup.flush` restarts its thread this way too).
    """
    _resume.append(launch)
    if len(_resume) > 1:
        return  # armed by an earlier hook of this fork
    if sys.getprofile() is not None:
        _resume_now()
        return
    try:
        caller = _compat.caller_frame(2)  # this, the fork hook, then the caller of os.fork()
    except ValueError:  # forked from C code
        _resume_now()
        return
    at_fork = caller.f_lasti

    def launch_once(frame: Any, event: str, arg: Any) -> None:
        if frame is caller or caller.f_lasti != at_fork:
            sys.setprofile(None)
            _resume_now()

    sys.setprofile(launch_once)


def _resume_now() -> None:
    while _resume:
        try:
            _resume.pop(0)()
        except Exception:
            pass


def _after_fork_child() -> None:
    """A socket pair of the child's own (the inherited one is the parent's), and a thread."""
    global _pair, _done
    # Only the forking thread lives on in a child: the parent's wake-up thread
    # is not here, whatever ``_done`` inherited says (with it left set, the
    # child started none, and a SIGTERM to a multiprocessing worker forked by
    # Pool's handler thread was never acted on: the pool hung in terminate()).
    _done = None
    old = _pair
    if old is None:
        return
    try:
        _pair = _Pair()
    except Exception:
        _pair = None
        return
    if _program_fd == -1:
        try:
            _real_set_wakeup_fd(_pair.writer.fileno(), warn_on_full_buffer=False)
        except Exception:
            _pair.close()
            _pair = None
            return  # the parent's fd stays: the parent ignores this process's bytes
    old.close()
    _launch()


_set_handler: Any = None  # libc's signal(), once resolved
_sig_err: Any = None  # what it returns on failure


def can_restore_default() -> bool:
    """Resolve what :func:`default_action` needs (an import: do it before holding anything)."""
    global _set_handler, _sig_err
    if _set_handler is None:
        try:
            import ctypes

            function = ctypes.CDLL(None, use_errno=True).signal
            function.argtypes = (ctypes.c_int, ctypes.c_void_p)
            function.restype = ctypes.c_void_p
            _sig_err = ctypes.c_void_p(-1).value
        except Exception:
            return False
        _set_handler = function
    return True


def default_action(signum: int) -> None:
    """``SIG_DFL`` for ``signum`` from any thread (``signal.signal`` works in the main one only)."""
    if not can_restore_default():
        raise OSError("libc's signal() is not available")
    if _set_handler(signum, None) == _sig_err:
        raise OSError("signal() failed")
