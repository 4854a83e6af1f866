"""The lean import of coverage in measuring processes (issue 9, item 2).

Real processes under the installed hook: what a measuring process imports,
and that everything coverage.py does with the deferred modules still works
there (reports, ``concurrency = multiprocessing``).  Data equality with the
full import is proven by tests/test_differential.py (eager runs use
``COVHOOK_LEAN=0``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from support import data, envs, measured

PROBE = """\
import sys
import coverage
cov = coverage.process_startup.coverage
assert cov is not None, "not measuring"
loaded = sorted(m for m in ("coverage.html", "coverage.xmlreport", "coverage.multiproc",
                            "multiprocessing", "xml.dom.minidom") if m in sys.modules)
print("LOADED", loaded)
def f(x):
    return x + 1
f(1)
cov.stop()
cov.save()
print("TOTAL", round(cov.report(file=open("report.txt", "w"))))
cov.xml_report(outfile="cov.xml")
"""


def run_probe(env: envs.Env, cwd: Path, **extra: str) -> str:
    (cwd / "probe.py").write_text(PROBE)
    rc = cwd / ".coveragerc"
    rc.write_text("[run]\nparallel = True\n")
    out = measured.run(env.python, cwd, "probe.py", rc=rc, check=True, **extra)
    return out.stdout


def test_measuring_process_does_not_load_reporters(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    out = run_probe(env, tmp_path)
    assert "LOADED []" in out, out
    # The deferred names still work when a measured program does report.
    assert "TOTAL " in out, out
    assert "TOTAL 0" not in out, out
    assert "probe.py" in (tmp_path / "report.txt").read_text()
    assert "<coverage " in (tmp_path / "cov.xml").read_text()


def test_lean_off_loads_coverage_as_usual(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    out = run_probe(env, tmp_path, COVHOOK_LEAN="0")
    assert "coverage.html" in out, out
    assert "multiprocessing" in out, out


def test_concurrency_multiprocessing_still_patches(make_covhook_env, tmp_path: Path) -> None:
    """coverage calls patch_multiprocessing (a deferred name) at start: children measured."""
    env = make_covhook_env()
    (tmp_path / "mp_prog.py").write_text(
        "import multiprocessing\n"
        "def work(x):\n"
        "    return x * 2  # child line\n"
        "if __name__ == '__main__':\n"
        "    proc = multiprocessing.get_context('spawn').Process(target=work, args=(1,))\n"
        "    proc.start()\n"
        "    proc.join()\n"
    )
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nparallel = True\nconcurrency = multiprocessing\n")
    measured.run(env.python, tmp_path, "mp_prog.py", rc=rc, check=True)
    data.combine_with_plain_coverage(env.bin / "coverage", tmp_path)
    lines = data.lines_of(tmp_path / ".coverage", "mp_prog.py")
    assert data.lines_in(tmp_path / "mp_prog.py", "# child line") <= lines


def test_sysmon_core_resolves_deferred_parser(make_covhook_env, tmp_path: Path) -> None:
    """Python 3.12+'s sys.monitoring core uses coverage.parser while measuring branches."""
    env = make_covhook_env("3.12")
    (tmp_path / "prog.py").write_text(
        "def f(x):\n    if x:\n        return 1\n    return 2\nf(1)\nf(0)\n"
    )
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nparallel = True\nbranch = True\n")
    measured.run(env.python, tmp_path, "prog.py", rc=rc, check=True, COVERAGE_CORE="sysmon")
    data.combine_with_plain_coverage(env.bin / "coverage", tmp_path)
    assert data.lines_of(tmp_path / ".coverage", "prog.py") == {1, 2, 3, 4, 5, 6}


def test_deferred_modules_have_only_the_importers_lean_was_checked_against() -> None:
    """A coverage.py release that imports a deferred module elsewhere needs a new look.

    The stand-ins are safe because their importers only call the names they take
    (or use them in annotations).  Checked on the installed coverage: any new
    importer fails here instead of misbehaving in a measured process.
    """
    import ast

    import coverage

    from covhook.startup import lean

    allowed = {"coverage.control", "coverage.python", "coverage.sysmon", "coverage.cmdline"}
    allowed |= set(lean.DEFERRED)
    root = Path(coverage.__file__).parent
    unexpected = []
    for path in sorted(root.glob("*.py")):
        module = f"coverage.{path.stem}"
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            deferred = isinstance(node, ast.ImportFrom) and node.module in lean.DEFERRED
            if deferred and module not in allowed:
                unexpected.append(f"{module} imports {node.module}")
    assert not unexpected


def test_lazy_hooks_private_names_exist() -> None:
    """The CPython names covhook.startup.lazy wraps (see its marked block) exist on this Python."""
    import runpy

    from covhook.startup import lazy

    assert callable(getattr(sys.modules[lazy._IMPORTLIB], lazy._LOAD))
    assert callable(getattr(runpy, lazy._RUN_CODE))
    modules = [(sys.modules[m], a) for m, a in lazy._THREAD_STARTERS if m in sys.modules]
    starters = [getattr(module, a, None) for module, a in modules]
    assert any(callable(s) for s in starters)


def test_the_covhook_section_is_not_parsed_again(tmp_path: Path) -> None:
    """Start-up's scope reading already holds ``[covhook]``: coverage's config is not re-read.

    Before, a third parse of the file (configparser) ran in every measured
    process whose config does not list covhook in ``[run] plugins``.
    """
    probe = (
        "import sys, coverage\n"
        "cov = coverage.process_startup.coverage\n"
        "print('OPTIONS', dict(cov.config.get_plugin_options('covhook')))\n"
        "print('REREAD', 'covhook.startup.options' in sys.modules, 'configparser' in sys.modules)\n"
    )
    (tmp_path / "probe.py").write_text(probe)
    rc_text = "[run]\nparallel = true\n\n[covhook]\nsignals = false\nflush_seconds = 30\n"
    done = measured.run(sys.executable, tmp_path, "probe.py", rc_text=rc_text)
    assert done.returncode == 0, done.stderr
    assert "OPTIONS {'signals': 'false', 'flush_seconds': '30'}" in done.stdout, done.stdout
    assert "REREAD False" in done.stdout, done.stdout
