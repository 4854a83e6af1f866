"""A containerised script: run in the container, measured, mapped back to the host."""

import sys  # by-script

from shapes import describe  # by-script


def main(argv):  # by-script
    kinds = argv or ["square"]  # by-script
    for kind in kinds:  # by-script
        print(describe(kind, 3))  # by-script
    return 0  # by-script


def unused():  # by-script
    return "never"


if __name__ == "__main__":  # by-script
    sys.exit(main(sys.argv[1:]))  # by-script
