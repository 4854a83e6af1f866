"""A long-running containerised service, stopped or killed from the host.

It does some work, says it is ready by creating the file named on its command
line, then idles until the engine stops it.
"""

import sys  # by-serve
import time  # by-serve
from pathlib import Path  # by-serve

from shapes import area  # by-serve


def handle(n):  # by-serve
    return area("square", n)  # by-serve


def main(ready):  # by-serve
    total = sum(handle(n) for n in range(3))  # by-serve
    Path(ready).write_text(str(total))  # by-serve
    while True:  # by-serve
        time.sleep(0.05)  # by-serve


if __name__ == "__main__":  # by-serve
    main(sys.argv[1])  # by-serve
