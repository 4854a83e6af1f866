"""Pools that replace a worker after each task: ProcessPoolExecutor(max_tasks_per_child=1)
and multiprocessing.Pool(maxtasksperchild=1).  Lines marked '# executor-worker' or
'# pool-worker' run only in workers."""

import concurrent.futures
import multiprocessing
import sys


def square(x):
    return x * x  # executor-worker


def cube(x):
    return x * x * x  # pool-worker


if __name__ == "__main__":
    if sys.argv[1] == "executor":
        with concurrent.futures.ProcessPoolExecutor(2, max_tasks_per_child=1) as pool:
            print(sum(pool.map(square, range(4))))
    else:
        with multiprocessing.Pool(2, maxtasksperchild=1) as pool:
            print(sum(pool.map(cube, range(4), chunksize=1)))
