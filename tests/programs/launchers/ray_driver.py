"""A Ray driver: tasks and an actor on an existing cluster (``python ray_driver.py ADDRESS``).

Ray's workers never run atexit, so their data comes from covhook's periodic
flush (COVHOOK_FLUSH_SECONDS, passed to the workers with runtime_env).  The
actor is killed with ``ray.kill`` (SIGKILL) after its data was flushed.
"""

import os
import sys
import time

import ray


@ray.remote
def square(x):
    return x * x  # ray-task


@ray.remote
class Counter:
    def __init__(self):
        self.n = 0  # ray-actor

    def add(self, k):
        self.n += k  # ray-actor
        return self.n  # ray-actor


def main(address):
    names = ("COVERAGE_PROCESS_START", "COVHOOK_FLUSH_SECONDS")
    env_vars = {name: os.environ[name] for name in names}
    ray.init(address=address, runtime_env={"env_vars": env_vars}, log_to_driver=False)
    assert ray.get([square.remote(i) for i in range(4)]) == [0, 1, 4, 9]
    counter = Counter.remote()
    assert ray.get([counter.add.remote(k) for k in (1, 2)]) == [1, 3]
    time.sleep(4 * float(env_vars["COVHOOK_FLUSH_SECONDS"]))  # let the workers flush
    ray.kill(counter)
    ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
