"""An in-scope main script that starts spawn children (they re-run it as __mp_main__)."""

import multiprocessing
import sys


def child(kind):
    from app import work

    work.run(kind)


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1])
    proc = ctx.Process(target=child, args=(f"mp-main-{sys.argv[1]}",))
    proc.start()
    proc.join()
    sys.exit(proc.exitcode)
