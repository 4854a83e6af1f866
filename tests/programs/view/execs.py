"""Every exec* / spawn* / posix_spawn* call of a table, good and bad: what the program sees.

Prints one line per call (the result or the exception's type and text, and
whether the caller's env and argv changed); run with and without covhook, the
output must be the same.  The child a few calls start is ``child.py`` (its
lines show it was measured).  argv[1]: the directory of this program.
"""

# Each lambda is called at once (B023); a call with no arguments is the point (PLW0108).
# ruff: noqa: B023, PLW0108

import collections.abc
import os
import sys
import types

HERE = sys.argv[1]
NOPE = os.path.join(HERE, "does-not-exist")
CHILD = [sys.executable, os.path.join(HERE, "child.py")]
BASE = {"PATH": os.environ["PATH"], "MARK": "1"}


class Env(collections.abc.Mapping):
    """A read-only mapping that is not a dict."""

    def __init__(self, items):
        self.items_ = dict(items)

    def __getitem__(self, key):
        return self.items_[key]

    def __iter__(self):
        return iter(self.items_)

    def __len__(self):
        return len(self.items_)


def env_kinds():
    return {
        "dict": dict(BASE),
        "proxy": types.MappingProxyType(dict(BASE)),
        "mapping": Env(BASE),
        "bytes": {os.fsencode(k): os.fsencode(v) for k, v in BASE.items()},
    }


def show(label, call, *watched):
    before = [repr(dict(w)) if hasattr(w, "keys") else repr(w) for w in watched]
    try:
        result = repr(call())
    except BaseException as exc:  # what the program sees, whatever it is
        result = f"{type(exc).__name__}: {exc}"
    after = [repr(dict(w)) if hasattr(w, "keys") else repr(w) for w in watched]
    print(label, "->", result, "| unchanged" if before == after else "| CHANGED", flush=True)


for kind, env in env_kinds().items():
    argv = ["x"]
    show(f"execve {kind}", lambda: os.execve(NOPE, argv, env), env, argv)
    show(f"execve keywords {kind}", lambda: os.execve(path=NOPE, argv=argv, env=env), env, argv)
    show(f"execve mixed {kind}", lambda: os.execve(NOPE, argv=argv, env=env), env)
    show(f"execle {kind}", lambda: os.execle(NOPE, "x", env), env)
    show(f"execlpe {kind}", lambda: os.execlpe("covhook-no-such-cmd", "x", env), env)
    show(f"execvpe {kind}", lambda: os.execvpe("covhook-no-such-cmd", argv, env), env)
    show(f"posix_spawn {kind}", lambda: os.posix_spawn(NOPE, argv, env), env, argv)
    show(f"posix_spawnp {kind}", lambda: os.posix_spawnp("covhook-no-such-cmd", argv, env), env)
    show(f"spawnve fails {kind}", lambda: os.spawnve(os.P_WAIT, NOPE, argv, env), env)
    code = f"import os, sys; sys.exit(7 if os.environ.get('MARK') == '1' else 3)  # {kind}"
    python = [sys.executable, "-c", code]
    show(f"spawnve python {kind}", lambda: os.spawnve(os.P_WAIT, sys.executable, python, env), env)

env = dict(BASE)
show("execve environ", lambda: os.execve(NOPE, ["x"], os.environ), os.environ)
show("execve no env", lambda: os.execve(NOPE, ["x"]), env)
show("execve too many", lambda: os.execve(NOPE, ["x"], env, 1), env)
show("execve twice", lambda: os.execve(NOPE, ["x"], env, path=NOPE), env)
show("execve unknown keyword", lambda: os.execve(NOPE, ["x"], environ=env), env)
show("execve env 5", lambda: os.execve(NOPE, ["x"], 5))
show("execve env list", lambda: os.execve(NOPE, ["x"], [("A", "1")]))
show("execve env None", lambda: os.execve(NOPE, ["x"], None))
show("execve env bad key", lambda: os.execve(NOPE, ["x"], {1: "x"}))
show("execve env key =", lambda: os.execve(NOPE, ["x"], {"A=B": "x"}))
show("execve env value None", lambda: os.execve(NOPE, ["x"], {"A": None}))
show("execve argv empty", lambda: os.execve(NOPE, [], env), env)
show("execve argv str", lambda: os.execve(NOPE, "x", env), env)
show("execve path None", lambda: os.execve(None, ["x"], env), env)
show("execv", lambda: os.execv(NOPE, ["x"]))
show("execv keywords", lambda: os.execv(path=NOPE, argv=["x"]))
show("execv missing", lambda: os.execv(NOPE))
show("execv argv empty", lambda: os.execv(NOPE, []))
show("execl", lambda: os.execl(NOPE, "x"))
show("execlp", lambda: os.execlp("covhook-no-such-cmd", "x"))
show("execvp", lambda: os.execvp("covhook-no-such-cmd", ["x"]))
show("spawnv fails", lambda: os.spawnv(os.P_WAIT, NOPE, ["x"]))
show("posix_spawn keywords", lambda: os.posix_spawn(path=NOPE, argv=["x"], env=env), env)
show("posix_spawn generator", lambda: os.posix_spawn(NOPE, (a for a in ["x"]), env), env)
show("posix_spawn env 5", lambda: os.posix_spawn(NOPE, ["x"], 5))
show("posix_spawn missing", lambda: os.posix_spawn(NOPE, ["x"]))
show("posix_spawn bad option", lambda: os.posix_spawn(NOPE, ["x"], env, setsid="x"), env)
show("_exit str", lambda: os._exit("x"))
show("_exit missing", lambda: os._exit())
show("_exit keyword str", lambda: os._exit(status="x"))
show("_exit unknown keyword", lambda: os._exit(code=3))

# A measured Python child, exec'd with keywords and a read-only environment.
pid = os.fork()
if pid == 0:
    os.execve(path=sys.executable, argv=CHILD, env=types.MappingProxyType(dict(BASE)))
_, status = os.waitpid(pid, 0)
print("exec'd child status", os.waitstatus_to_exitcode(status), flush=True)
status = os.spawnve(os.P_WAIT, sys.executable, CHILD, Env(BASE))
print("spawned child status", status, flush=True)  # after-children
