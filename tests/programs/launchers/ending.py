"""A child that runs some lines, then ends one way: ``python ending.py <how> <outdir>``.

Markers: "all" lines run up to the ending's own "only-<how>" line, "waiting"
lines run while the child waits for the test's signal (after the last flush,
for sigkill-after-flush).
"""

import os
import signal
import sys
import time


def on_term(signum, frame):
    sys.exit(7)  # only-sigterm-handler


def run(how, outdir):
    if how == "sigterm-handler":  # all
        signal.signal(signal.SIGTERM, on_term)  # only-sigterm-handler
    total = sum(range(10))  # all
    if how == "normal":  # all
        return total  # only-normal
    if how == "exit3":  # all
        sys.exit(3)  # only-exit3
    if how == "exception":  # all
        raise RuntimeError("uncaught")  # only-exception
    if how == "os_exit":  # all
        os._exit(5)  # only-os_exit
    ready = os.path.join(outdir, f"ready-{os.getpid()}")  # all
    with open(ready + ".tmp", "w") as f:  # all
        f.write(how)  # all
    if how == "sigkill-after-flush":  # all
        time.sleep(1.0)  # only-sigkill-after-flush: three flush intervals
    os.rename(ready + ".tmp", ready)  # waiting
    time.sleep(60)  # waiting
    return "never"  # after-signal


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
