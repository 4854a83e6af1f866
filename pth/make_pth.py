"""Turn ``covhook_pth.py`` into the one-line ``a0_covhook.pth``.

The line keeps the source's guard inline so an interpreter that does not
measure coverage pays for one dict lookup, not for compiling the hook.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PTH_NAME = "a0_covhook.pth"
SOURCE = Path(__file__).with_name("covhook_pth.py")

# PEP 829 (Python 3.15+): an entry point site.py calls at start-up.  Its name
# deliberately does NOT match the .pth: a matching ``a0_covhook.start`` would
# suppress the .pth's import line, and 3.15's site.py runs every .pth import
# line (coverage's own ``a1_coverage.pth``, which then starts coverage without
# covhook) before any .start entry point.
START_NAME = "a0_covhook_entry.start"
ENTRY_POINT = "covhook:start_hook"
# Not shipped yet (issue 21).  On 3.15 any .start file in site-packages makes
# every Python process of the environment import pkgutil (and re, enum,
# functools ...) to resolve it: ~10 ms per process, coverage or not, where the
# .pth guard costs microseconds.  3.15-3.17 run .pth import lines without a
# warning (site.py warns from 3.20; 3.18 and 3.19 ignore them silently), so
# the .pth alone starts covhook through 3.17.  Ship the .start (set this True)
# before Python 3.18: from then on only entry points run.
SHIP_START = False


def start_text() -> str:
    """The .start file: one ``pkg.mod:callable`` line (comments are allowed)."""
    return (
        "# covhook's start-up hook for Python 3.15+ (PEP 829); a0_covhook.pth on older ones.\n"
        f"{ENTRY_POINT}\n"
    )


def make_pth_line(source: str) -> str:
    """Return the .pth line for a hook module made of imports and one guarded ``if``."""
    tree = ast.parse(source)
    guards = [node for node in tree.body if isinstance(node, ast.If)]
    if len(guards) != 1:
        raise ValueError("the hook source must have exactly one top-level 'if'")
    guard = guards[0]
    if guard.orelse:
        raise ValueError("the hook source's top-level 'if' must not have an 'else'")
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    body = "\n".join(ast.unparse(node) for node in guard.body)
    head = "; ".join(ast.unparse(node) for node in imports)
    # .pth lines run only if they start with "import".
    if not head.startswith("import "):
        raise ValueError("the hook source must start with an import")
    return f"{head}; exec({body!r}) if {ast.unparse(guard.test)} else None\n"


def main(argv: list[str]) -> int:
    """Write the .pth file into the directory given as the only argument."""
    (out_dir,) = argv
    Path(out_dir, PTH_NAME).write_text(make_pth_line(SOURCE.read_text("utf-8")), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
