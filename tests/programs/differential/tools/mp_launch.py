"""Out of scope: multiprocessing and process pools with in-scope targets."""

import multiprocessing
import sys


def late(kind):
    """An out-of-scope target that imports in-scope code in the child."""
    from app import work

    work.run(kind)


def main(method):
    ctx = multiprocessing.get_context(None if method == "pool" else method)
    if method != "pool":
        proc = ctx.Process(target=late, args=(f"mp-{method}-late",))
        proc.start()
        proc.join()
        assert proc.exitcode == 0, proc.exitcode
        from app import mp  # the launcher starts measuring here

        proc = ctx.Process(target=mp.task, args=(f"mp-{method}-target",))
        proc.start()
        proc.join()
        assert proc.exitcode == 0, proc.exitcode
        return
    from concurrent.futures import ProcessPoolExecutor

    from app import mp

    for context in (None, multiprocessing.get_context("spawn")):
        # One worker: both tasks run in it, in order.  With two, which worker
        # runs which task varies, and so do coverage's sys.monitoring arcs
        # (an event fires once per process: the second task of a worker
        # records no arc into the return line the first one already ran).
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            name = "pool" if context is None else "pool-spawnctx"
            assert list(pool.map(mp.task, [name, name + "-mp"]))


if __name__ == "__main__":
    main(sys.argv[1])
