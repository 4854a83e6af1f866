"""A top-level in-scope module run with ``python -m apptop`` (source = src only)."""

import sys

if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "top"
    if kind == "top":  # noqa: SIM108  # branch data wants a real if
        value = 1
    else:
        value = 2
    print(value) if value > 5 else None
