"""Pools that replace a worker after each task: ProcessPoolExecutor(max_tasks_per_child=1)
and multiprocessing.Pool(maxtasksperchild=1).  Lines marked '# executor-worker' or
'# pool-worker' run only in workers.

The Pool runs twice: with the default start method (fork up to 3.13, forkserver
from 3.14) and with the other of the two, so every Python runs both."""

import concurrent.futures
import multiprocessing
import sys


def square(x):
    return x * x  # executor-worker


def cube(x):
    return x * x * x  # pool-worker


def cube_other(x):
    return x * x * x  # pool-worker


if __name__ == "__main__":
    if sys.argv[1] == "executor":
        with concurrent.futures.ProcessPoolExecutor(2, max_tasks_per_child=1) as pool:
            print(sum(pool.map(square, range(4))))
    else:
        other = "forkserver" if multiprocessing.get_start_method() == "fork" else "fork"
        with multiprocessing.Pool(2, maxtasksperchild=1) as pool:
            total = sum(pool.map(cube, range(4), chunksize=1))
        with multiprocessing.get_context(other).Pool(2, maxtasksperchild=1) as pool:
            total += sum(pool.map(cube_other, range(4), chunksize=1))
        print(total)
