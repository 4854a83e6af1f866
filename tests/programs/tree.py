"""A parent that starts children every way covhook must see (run under the hook)."""

import multiprocessing
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "child.py")


def in_spawned_worker():
    return "spawn"  # covered-by-spawn


def in_forked_worker():
    return "fork"  # covered-by-fork


def main():
    subprocess.run([sys.executable, CHILD, "subprocess"], check=True)
    os.system(f"{sys.executable} {CHILD} os.system")
    for method, target in (("spawn", in_spawned_worker), ("fork", in_forked_worker)):
        proc = multiprocessing.get_context(method).Process(target=target)
        proc.start()
        proc.join()
        assert proc.exitcode == 0
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, CHILD, "execv"])  # covered-by-exec-parent
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
