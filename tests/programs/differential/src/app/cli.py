"""``python -m app.cli KIND``."""

import sys

from app import work


def main(argv):
    return work.run(argv[0] if argv else "m")


if __name__ == "__main__":
    main(sys.argv[1:])
