"""Lazy start loses nothing: each launch kind measures the same tree with or without it (issue 21).

A real program (out of scope) starts one child each way a process can start
another: ``subprocess``, ``os.system``, ``fork`` + ``exec``, a child that ends
with ``atexit._run_exitfuncs()`` then ``os._exit()`` (as multiprocessing's fork and
forkserver children do from Python 3.13), multiprocessing
``spawn``/``fork``/``forkserver`` (forkserver is the default on Linux from
Python 3.14), a ``multiprocessing.Pool`` and a ``ProcessPoolExecutor`` with the
default start method.  The children run in-scope code (``src/app``).  The
program runs twice, with covhook's lazy start (the default for a config that
names a scope) and with ``COVHOOK_LAZY=0``; the combined data must be the same,
and hold the lines only the children run.  Each matrix cell runs it on its own
Python, coverage and core.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import data, envs, measured

WORK = """\
import os


def parent_part():
    return "parent"


def child_part(kind):
    marker = f"child {kind}"  # child-only
    return marker  # child-only


def square(x):
    y = x * x  # pool-only
    return y  # pool-only
"""

MAIN = """\
import concurrent.futures
import multiprocessing
import os
import subprocess
import sys


def in_child(kind):
    import app.work

    app.work.child_part(kind)


def launch(kind, first):
    if first:
        import app.work

        app.work.parent_part()
    me = [sys.executable, os.path.abspath(__file__)]
    if kind == "subprocess":
        subprocess.run([*me, "child", kind], check=True)
    elif kind == "os_system":
        assert os.system(" ".join([*me, "child", kind])) == 0
    elif kind == "atexit_then_exit":
        subprocess.run([*me, "child-atexit", kind], check=True)
    elif kind == "exec":
        pid = os.fork()
        if pid == 0:
            os.execv(sys.executable, [*me, "child", kind])
        assert os.waitpid(pid, 0)[1] == 0
    elif kind in ("spawn", "fork", "forkserver"):
        proc = multiprocessing.get_context(kind).Process(target=in_child, args=(kind,))
        proc.start()
        proc.join()
        assert proc.exitcode == 0
    elif kind == "pool":
        import app.work

        with multiprocessing.Pool(2) as pool:
            assert pool.map(app.work.square, range(4)) == [0, 1, 4, 9]
    elif kind == "executor":
        import app.work

        with concurrent.futures.ProcessPoolExecutor(2) as ex:
            assert list(ex.map(app.work.square, range(4))) == [0, 1, 4, 9]
    else:
        raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    if sys.argv[1] == "child":
        in_child(sys.argv[2])
    elif sys.argv[1] == "child-atexit":
        # How multiprocessing's fork and forkserver children end (Python 3.13+).
        import atexit

        in_child(sys.argv[2])
        atexit._run_exitfuncs()
        os._exit(0)
    else:
        launch(sys.argv[1], sys.argv[2] == "parent-first")
"""

KINDS = [
    "subprocess",
    "os_system",
    "exec",
    "atexit_then_exit",
    "spawn",
    "fork",
    "forkserver",
    "pool",
    "executor",
]
# What only the children run, per kind: the tree must hold it.
CHILD_ONLY = dict.fromkeys(KINDS[:7], "# child-only") | dict.fromkeys(KINDS[7:], "# pool-only")


def project(root: Path) -> Path:
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "work.py").write_text(WORK)
    (root / "main.py").write_text(MAIN)
    rc = root / ".coveragerc"
    rc.write_text(f"[run]\nsource = src\nparallel = True\ndata_file = {root}/.coverage\n")
    return rc


def tree(env: envs.Env, root: Path, kind: str, order: str, **extra: str) -> dict[str, set[int]]:
    """The combined lines (file name -> lines) of one run of the program."""
    rc = project(root)
    measured.output(env, root, rc, "main.py", kind, order, **extra)
    data.combine_with_plain_coverage(env.bin / "coverage", root)
    return {Path(f).name: lines for f, lines in data.lines_by_file(root / ".coverage").items()}


# parent-first: the parent runs in-scope code before it starts the child (so it
# measures); children-only: it does not (still waiting when it forks).  A pool's
# target is app.work.square: its parent always imports app first.
CASES = [(kind, "parent-first") for kind in KINDS] + [
    (kind, "children-only") for kind in KINDS if kind not in ("pool", "executor")
]


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "order"), CASES)
def test_lazy_start_measures_the_same_tree_as_eager_start(
    make_covhook_env, tmp_path: Path, kind: str, order: str
) -> None:
    env = make_covhook_env()
    lazy = tree(env, tmp_path / "lazy", kind, order)
    eager = tree(env, tmp_path / "eager", kind, order, COVHOOK_LAZY="0")
    assert lazy == eager
    only = data.lines_in(tmp_path / "lazy" / "src" / "app" / "work.py", CHILD_ONLY[kind])
    assert len(only) == 2
    assert only <= lazy.get("work.py", set()), lazy
