"""Python 3.15's start-up file processing (PEP 829), for interpreters that predate it.

No Python 3.15 is installed on the machines we test on (pyenv has 3.11-3.13),
so the tests run a real 3.11-3.13 interpreter with ``-S`` (no site.py) and
this script in its place.  It follows 3.15's ``site.StartupState`` for one
site-packages directory, in its order (cpython Lib/site.py, PEP 829):

1. read every ``*.pth`` (sorted): path lines, and ``import`` lines kept aside;
2. read every ``*.start`` (sorted): ``pkg.mod:callable`` entry points;
3. extend sys.path with the path lines;
4. exec the import lines of every .pth that has no matching .start;
5. resolve each entry point with ``pkgutil.resolve_name`` (only the strict
   ``pkg.mod:callable`` form) and call it with no arguments.

With ``PEP829_PYTHON=3.18`` it does what 3.18 and 3.19 will do: ignore the
import lines altogether.  Then it runs the program named after the site
directory, as ``python prog.py`` would.
Used as:  python -S pep829.py <site-packages> <program> [args...]
"""

from __future__ import annotations

import os
import pkgutil
import runpy
import sys


def process(sitedir: str) -> None:
    names = sorted(n for n in os.listdir(sitedir) if not n.startswith("."))
    imports: dict[str, list[str]] = {}
    paths: list[str] = []
    for name in (n for n in names if n.endswith(".pth")):
        with open(os.path.join(sitedir, name), encoding="utf-8") as f:
            for raw in f:
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith(("import ", "import\t")):
                    imports.setdefault(name[: -len(".pth")], []).append(line)
                else:
                    paths.append(os.path.normpath(os.path.join(sitedir, line)))
    entrypoints: dict[str, list[str]] = {}
    for name in (n for n in names if n.endswith(".start")):
        with open(os.path.join(sitedir, name), encoding="utf-8") as f:
            lines = [raw.strip() for raw in f]
        entrypoints[name[: -len(".start")]] = [x for x in lines if x and not x.startswith("#")]
    for path in [sitedir, *paths]:
        if path not in sys.path and os.path.exists(path):
            sys.path.append(path)
    ignore_imports = os.environ.get("PEP829_PYTHON") == "3.18"
    for stem, lines in imports.items():
        if ignore_imports or stem in entrypoints:
            continue  # a matching .start suppresses the .pth's import lines
        for line in lines:
            exec(line)
    for entries in entrypoints.values():
        for entry in entries:
            module, colon, attr = entry.partition(":")
            if not colon or not module or not attr:
                raise ValueError(f"invalid entry point {entry!r}: need pkg.mod:callable")
            pkgutil.resolve_name(entry)()


if __name__ == "__main__":
    process(sys.argv[1])
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
