"""concurrent.futures.ProcessPoolExecutor with the start method given as argv[1]."""

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor


def work(x):
    return x * 2  # pool-task


def main(method):
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        assert list(pool.map(work, range(8))) == [x * 2 for x in range(8)]


if __name__ == "__main__":
    main(sys.argv[1])
