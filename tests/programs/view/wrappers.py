"""What the program sees of every function covhook may wrap: names, doc, pickle, errors.

Run with and without covhook, the output must be the same.  First while
covhook's lazy start waits (this file is outside ``[run] source``):
``compile`` and the thread starters are wrapped then.  Then it imports
``inscope`` (in ``[run] source``: coverage starts) and checks the functions
wrapped once coverage runs (``signal.*``, ``os.*``, ``fork_exec``).
argv[1]: the directory of ``inscope.py``.
"""

# Each lambda is called at once (B023); a call with no arguments is the point (PLW0108).
# ruff: noqa: B023, PLW0108

import _thread
import inspect
import os
import pickle
import signal
import sys


def show(label, call):
    try:
        result = repr(call())
    except BaseException as exc:  # what the program sees, whatever it is
        result = f"{type(exc).__name__}: {exc}"
    print(label, "->", result, flush=True)


def looks(label, function):
    """Everything about ``function`` a program can see without calling it."""
    for attribute in ("__name__", "__qualname__", "__module__", "__doc__"):
        show(f"{label}.{attribute}", lambda: getattr(function, attribute, "(none)"))
    show(f"{label} signature", lambda: str(inspect.signature(function)))
    show(f"{label} pickled back", lambda: pickle.loads(pickle.dumps(function)) is function)
    show(f"{label} callable", lambda: callable(function))


# -- while the lazy start waits ------------------------------------------------
looks("compile", compile)
looks("_thread.start_new_thread", _thread.start_new_thread)
if hasattr(_thread, "start_joinable_thread"):  # 3.13
    looks("_thread.start_joinable_thread", _thread.start_joinable_thread)
import importlib._bootstrap  # noqa: E402  # _frozen_importlib: every import goes through it
import runpy  # noqa: E402

looks("_load_unlocked", importlib._bootstrap._load_unlocked)
looks("runpy._run_code", runpy._run_code)
show("compile()", lambda: compile())
show("compile 1 arg", lambda: compile("1"))
show("compile flags str", lambda: compile("1", "f", "exec", flags="x"))
show("compile flags float", lambda: compile("1", "f", "exec", 1.0))
show("compile dont_inherit str", lambda: type(compile("1", "f", "exec", 0, "yes")).__name__)
show("compile dont_inherit None", lambda: type(compile("1", "f", "exec", 0, None)).__name__)
show("compile unknown keyword", lambda: compile("1", "f", "exec", bogus=1))
show("compile twice", lambda: compile("1", "f", "exec", source="1"))
show("compile too many", lambda: compile("1", "f", "exec", 0, False, -1, 1))
show("compile bad mode", lambda: compile("1", "f", "nope"))
show("compile bad source", lambda: compile(1, "f", "exec"))
show("compile bad filename", lambda: compile("1", 5, "exec"))
show("compile syntax", lambda: compile("1 +", "f", "exec"))
show("compile keywords", lambda: type(compile(source="1", filename="f", mode="eval")).__name__)
show("compile feature", lambda: type(compile("1", "f", "eval", _feature_version=8)).__name__)
source = "def f(x: int): pass\nresult = f.__annotations__"
space = {}
exec(compile(source, "f", "exec"), space)  # no __future__ flags of covhook's leak in
show("compiled annotations", lambda: space["result"])
show("start_new_thread()", lambda: _thread.start_new_thread())  # may start coverage

# -- once coverage runs --------------------------------------------------------
sys.path.insert(0, sys.argv[1])
import inscope  # noqa: E402  # in [run] source: starts coverage

inscope.touch()
for name in ("signal", "getsignal", "set_wakeup_fd"):
    looks(f"signal.{name}", getattr(signal, name))
import _posixsubprocess  # noqa: E402

looks("fork_exec", _posixsubprocess.fork_exec)
OS = ("execv", "execve", "_exit", "posix_spawn", "posix_spawnp", "close", "closerange", "dup2")
for name in OS:
    looks(f"os.{name}", getattr(os, name))
show("getsignal 15.0", lambda: signal.getsignal(15.0))
show("getsignal '15'", lambda: signal.getsignal("15"))
show("getsignal()", lambda: signal.getsignal())
show("getsignal 2 args", lambda: signal.getsignal(15, 1))
show("getsignal huge", lambda: signal.getsignal(2**70))
show("getsignal -1", lambda: signal.getsignal(-1))
show("getsignal 9999", lambda: signal.getsignal(9999))
show("getsignal SIGTERM", lambda: signal.getsignal(signal.SIGTERM))
show("getsignal True", lambda: signal.getsignal(True))
show("signal 15.0", lambda: signal.signal(15.0, signal.SIG_DFL))
show("signal '15'", lambda: signal.signal("15", signal.SIG_DFL))
show("signal bad handler", lambda: signal.signal(signal.SIGTERM, "x"))
show("signal 1 arg", lambda: signal.signal(signal.SIGTERM))
show("signal keywords", lambda: signal.signal(signalnum=15, handler=signal.SIG_DFL))
show("signal SIGKILL", lambda: signal.signal(signal.SIGKILL, signal.SIG_IGN))
show("signal SIGTERM", lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
show("set_wakeup_fd()", lambda: signal.set_wakeup_fd())
show("set_wakeup_fd -1.0", lambda: signal.set_wakeup_fd(-1.0))
show("set_wakeup_fd '3'", lambda: signal.set_wakeup_fd("3"))
show("set_wakeup_fd keyword", lambda: signal.set_wakeup_fd(fd=-1))
show("set_wakeup_fd bogus", lambda: signal.set_wakeup_fd(-1, bogus=1))
show("set_wakeup_fd -1", lambda: signal.set_wakeup_fd(-1))
show("set_wakeup_fd 1000000", lambda: signal.set_wakeup_fd(1000000))
show("close()", lambda: os.close())
show("close str", lambda: os.close("x"))
show("close keyword", lambda: os.close(fd=1000000))
show("close 2 args", lambda: os.close(1000000, 1))
show("closerange()", lambda: os.closerange())
show("closerange str", lambda: os.closerange("a", 5))
show("closerange keywords", lambda: os.closerange(fd_low=1000000, fd_high=1000001))
show("dup2()", lambda: os.dup2())
show("dup2 bad", lambda: os.dup2(1000000, 1000001))
show("dup2 str", lambda: os.dup2(1, "x"))
