"""A child process: which way it was started is its first argument."""

import sys


def greet(how):
    return f"child via {how}"  # covered-by-child


print(greet(sys.argv[1]))  # covered-by-child
