"""Subinterpreters (``concurrent.interpreters``, Python 3.14+): the program is never harmed.

covhook steps aside in a subinterpreter (coverage's C tracer cannot load
there, signal handlers cannot be set, and with ``COVERAGE_CORE=ctrace``
``import coverage`` exits); the main interpreter is measured as always.
Before, a subinterpreter importing in-scope code ended with SystemExit under
the ctrace core (the program failed) and printed a covhook line under sysmon.
The matrix's 3.14 and 3.15 cells run this with both cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support import data, envs, processes

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 14), reason="concurrent.interpreters is 3.14+ (the matrix's cells)"
)

PROGRAM = """\
import sys
from concurrent import interpreters

if sys.argv[1] == "main-first":
    import pkg.mod
interp = interpreters.create()
interp.exec("import pkg.mod; pkg.mod.in_sub(); print('sub ran', flush=True)")
interp.close()
import pkg.mod
pkg.mod.in_main()
print("main ran")
"""


@pytest.mark.parametrize("order", ["sub-first", "main-first"])
@pytest.mark.parametrize("lazy", ["1", "0"], ids=["lazy", "eager"])
def test_a_subinterpreter_runs_and_the_main_one_is_measured(
    tmp_path: Path, lazy: str, order: str
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    mod = tmp_path / "pkg" / "mod.py"
    mod.write_text(
        "def in_main():\n    return 'main'  # ran-in-main\n\ndef in_sub():\n    return 'sub'\n"
    )
    (tmp_path / "prog.py").write_text(PROGRAM)
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nparallel = true\nsource = pkg\n")
    done = processes.run(
        [sys.executable, "prog.py", order],
        tmp_path,
        envs.clean_env(COVERAGE_PROCESS_START=str(rc), COVHOOK_LAZY=lazy),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["sub ran", "main ran"]
    assert "covhook" not in done.stderr, done.stderr
    ran: set[int] = set()
    for written in data.data_files(tmp_path):
        ran |= data.lines_of(written, "mod.py")
    assert data.lines_in(mod, "ran-in-main") <= ran
