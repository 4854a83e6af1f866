"""Out of scope: fork before coverage started (lazy), and after it started."""

import os
import sys


def fork_and_run(kind):
    pid = os.fork()
    if pid == 0:
        from app import work

        work.run(kind + "-child")
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        sys.exit(f"child failed: {status}")


if sys.argv[1] == "before":
    fork_and_run("fork-before")  # nothing in scope ran here yet
    from app import work

    work.run("fork-before-parent")
else:
    from app import work

    work.run("fork-after-parent")
    fork_and_run("fork-after")
