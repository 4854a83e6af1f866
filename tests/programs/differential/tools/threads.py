"""Out of scope: a thread is running before the first in-scope import, then runs in-scope code."""

import threading

ready = threading.Event()
done = []


def worker():
    ready.wait()
    from app import work

    done.append(work.run("threads-thread"))


thread = threading.Thread(target=worker)
thread.start()
from app import work  # noqa: E402  # after the thread started, on purpose

work.run("threads")
ready.set()
thread.join()
assert done
