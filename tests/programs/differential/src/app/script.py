"""An in-scope file run by path (python src/app/script.py, runpy.run_path, exec)."""

import sys


def main(kind):
    from app import work

    return work.run(kind)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "script")
