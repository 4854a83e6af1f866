"""The demo's process tree: one parent, children started every common way.

Run it under covhook (``covhook run -- python demo/tree.py``); each process
writes its own tagged data file, and covhook combines them into one report.
"""

import multiprocessing
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from app import work  # noqa: E402


def child(kind: str) -> None:
    getattr(work, kind)()


def main() -> None:
    work.report("parent")
    me = [sys.executable, os.path.abspath(__file__)]
    subprocess.run([*me, "in_subprocess"], check=True)
    os.system(" ".join([*me, "in_os_system"]))
    for method, kind in (("spawn", "in_spawn_worker"), ("fork", "in_fork_worker")):
        proc = multiprocessing.get_context(method).Process(target=child, args=(kind,))
        proc.start()
        proc.join()
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [*me, "after_exec"])
    os.waitpid(pid, 0)
    ranks = [
        subprocess.Popen([*me, "rank"], env={**os.environ, "RANK": str(r), "WORLD_SIZE": "2"})
        for r in range(2)
    ]
    for rank in ranks:
        rank.wait()


if __name__ == "__main__":
    if len(sys.argv) == 1:
        main()
    elif sys.argv[1] == "rank":
        work.in_rank(int(os.environ["RANK"]))
    else:
        child(sys.argv[1])
