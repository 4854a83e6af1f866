"""covhook.startup.sysmon_recorder: coverage's sys.monitoring data, without coverage.py.

Real processes in real venvs under the installed hook, as tests/test_recorder.py
does for the C tracer: the same programs run with the recorder off
(coverage.py's own sys.monitoring core measures) and on; the data files must
be the same table by table (schema, meta rows but the time, files, contexts,
numbits, arcs) and carry the same data hash in their names.  The recorder
must really have measured (coverage never imported, no trace function, the
sys.monitoring tool registered as coverage's).  The program exercises what
makes sys.monitoring's arcs differ from the C tracer's: multi-line
statements, loops, generators, comprehensions, exceptions, ``with``,
``match``, early returns, recursion, lambdas, class bodies and a thread.

3.12 and 3.13 measure lines only with sysmon (``COVERAGE_CORE=sysmon``;
coverage.py falls back to its C tracer for branches there); 3.14 and 3.15 run
here when the test runner is one of them (``scripts/matrix.sh``'s 3.14/3.15
cells, in the forky root), with sysmon as coverage's default core.

In-process checks: the copied bytecode rules give coverage's own answers for
every branch of the standard library's code, and the recorder steps aside
with a printable reason for what it does not reproduce.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_recorder import bitmap_arcs, name_tail, project, tables

from covhook import _compat
from covhook.startup import recorder, sysmon_recorder
from support import data, envs, measured

RICH = """\
import sys
import threading


def classify(n):
    if (n > 10 and
            n % 2 == 0):
        return "big even"
    elif n > 10:
        return "big odd"
    return "small"


def gen(limit):
    i = 0
    while i < limit:
        yield i
        i += 1
    else:
        pass


def risky(x):
    try:
        if x == 3:
            raise ValueError(x)
        value = 10 // x
    except ZeroDivisionError:
        value = -1
    except ValueError:
        return None
    else:
        value += 1
    finally:
        x = 0
    return value


class Box:
    size = 3
    def area(self): return self.size ** 2


def shape(thing):
    match thing:
        case {"kind": "box", "size": int(size)}:
            return size
        case [first, *rest] if rest:
            return first
        case _:
            return None


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def work(out):
    total = sum(
        v
        for v in gen(5)
        if v % 2
    )
    out.append(total)


def main():
    out = []
    for n in (4, 11, 12):
        out.append(classify(n))
    out.extend(risky(x) for x in (0, 3, 5))
    squares = [k * k for k in range(4) if k]
    pick = lambda seq: seq[0] if seq else None  # noqa: E731
    out.append(pick(squares))
    out.append(Box().area())
    out.append(shape({"kind": "box", "size": 2}))
    out.append(shape([1, 2]))
    out.append(fact(5))
    with open(__file__) as f:
        out.append(len(f.readline()))
    t = threading.Thread(target=work, args=(out,))
    t.start()
    t.join()
    for i in range(3):
        if i == 1:
            continue
        if i == 2:
            break
    return out


if __name__ == "__main__":
    main()
    mon = getattr(sys, "monitoring", None)
    print(
        "IMPORTED", "coverage" in sys.modules, type(sys.gettrace()).__name__,
        mon and mon.get_tool(mon.COVERAGE_ID),
    )
"""

SYSMON = {"COVERAGE_CORE": "sysmon"}
MONITORING = sys.version_info >= (3, 14)  # the runner can measure sysmon arcs itself
CASES = [
    pytest.param("3.12", "coverage==7.17.5", False, SYSMON, id="py3.12-line"),
    pytest.param("3.13", "coverage==7.17.5", False, SYSMON, id="py3.13-line"),
    pytest.param("3.12", "coverage==7.17.3", False, SYSMON, id="py3.12-cov7.17.3-line"),
    pytest.param(
        envs.THIS_PYTHON, envs.THIS_COVERAGE, False, {}, id="runner-default-line",
        marks=pytest.mark.skipif(not MONITORING, reason="sysmon is the default core from 3.14"),
    ),
    pytest.param(
        envs.THIS_PYTHON, envs.THIS_COVERAGE, True, {}, id="runner-default-branch",
        marks=pytest.mark.skipif(not MONITORING, reason="sysmon measures branches from 3.14"),
    ),
]  # fmt: skip


def rich_project(root: Path, branch: bool) -> Path:
    rc = project(root, branch=branch)
    (root / "src" / "app" / "rich.py").write_text(RICH)
    return rc


@pytest.mark.parametrize(("python", "coverage_req", "branch", "extra"), CASES)
def test_sysmon_recorder_writes_the_file_coverage_writes(  # noqa: PLR0917
    make_covhook_env, tmp_path: Path, python: str, coverage_req: str, branch: bool, extra: dict
) -> None:
    env = make_covhook_env(python, coverage_req)
    rc = rich_project(tmp_path, branch)
    data_dir = tmp_path / "data"
    argv = ("-m", "app.rich")

    # coverage.py's own sys.monitoring core (this run also fills the config cache).
    first = measured.output(env, tmp_path, rc, *argv, COVHOOK_RECORDER="0", **extra)
    assert "IMPORTED True NoneType coverage.py" in first
    measured.output(env, tmp_path, rc, *argv, **extra)  # the first full start caches the config
    full = data.data_files(data_dir)[0]
    expected = tables(full)
    for path in data.data_files(data_dir):
        path.unlink()
    assert expected["arc" if branch else "line_bits"], "coverage measured something"

    # The recorder: coverage.py never imported, sys.monitoring (no trace function).
    done = measured.output(env, tmp_path, rc, *argv, **extra)
    assert "IMPORTED False NoneType coverage.py" in done
    (recorded,) = data.data_files(data_dir)
    assert tables(recorded) == expected
    assert name_tail(recorded) == name_tail(full) != ""
    bits = bitmap_arcs(recorded)
    if branch:
        assert bits is not None
        assert bits[0] == bits[1]
    else:
        assert bits is None

    # A measured parent's child gets the config in COVERAGE_PROCESS_CONFIG.
    recorded.unlink()
    (tmp_path / "parent.py").write_text(
        "import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'app.rich'], check=True)\n"
    )
    measured.output(env, tmp_path, rc, "parent.py", **extra)
    (child,) = data.data_files(data_dir)
    assert tables(child) == expected


def test_sysmon_recorder_steps_aside_for_branches_before_314(
    make_covhook_env, tmp_path: Path
) -> None:
    """3.12: coverage.py warns and measures branches with its C tracer; so does covhook."""
    env = make_covhook_env("3.12", "coverage==7.17.5")
    rc = rich_project(tmp_path, branch=True)
    for _ in range(2):
        done = subprocess.run(
            [str(env.python), "-m", "app.rich"], cwd=tmp_path, capture_output=True, text=True,
            env=envs.clean_env(COVERAGE_PROCESS_START=str(rc), PYTHONPATH=str(tmp_path / "src"),
                               COVERAGE_CORE="sysmon"),
            check=True,
        )  # fmt: skip
        assert "IMPORTED True CTracer None" in done.stdout
        assert "Can't use core=sysmon" in done.stderr


# --- in-process: the copied rules against coverage's own ------------------------


def _stdlib_code() -> list:
    """Code objects of a few hundred standard library modules (all nested ones)."""
    codes = []
    top = Path(os.__file__).parent
    for path in sorted(top.glob("*.py"))[:40]:
        try:
            code = compile(path.read_text("utf-8"), str(path), "exec")
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        stack = [code]
        while stack:
            c = stack.pop()
            codes.append(c)
            stack.extend(k for k in c.co_consts if hasattr(k, "co_code"))
    return codes


def test_branch_resolver_is_coverages() -> None:
    bytecode = pytest.importorskip("coverage.bytecode")
    if not hasattr(bytecode, "BranchArcResolver"):
        pytest.skip("this coverage has no BranchArcResolver")
    import dis

    jumps = set(dis.hasjrel) | set(dis.hasjabs)
    compared = 0
    for code in _stdlib_code():
        b2l = sysmon_recorder.bytes_to_lines(code)
        assert b2l == bytecode.bytes_to_lines(code)
        multiline = {line: line - 1 for line in list(b2l.values())[::7]}  # some joined lines
        ours = sysmon_recorder.BranchArcResolver(code, b2l, multiline)
        theirs = bytecode.BranchArcResolver(code, b2l, multiline)
        for ins in dis.get_instructions(code):
            if ins.opcode not in jumps or not isinstance(ins.argval, int):
                continue
            for dest in (ins.argval, ins.offset + 2, ins.offset + 4):
                assert ours.resolve(ins.offset, dest) == theirs.resolve(ins.offset, dest)
                compared += 1
    assert compared > 2000


def test_multiline_map_is_coverages() -> None:
    parser = pytest.importorskip("coverage.parser")
    python = pytest.importorskip("coverage.python")
    if not hasattr(parser, "multiline_map_from_text"):
        pytest.skip("this coverage has no multiline_map_from_text (the recorder's sysmon core "
                    "runs only on the checked 7.17.3+)")  # fmt: skip
    top = Path(os.__file__).parent
    for path in sorted(top.glob("*.py"))[:40]:
        text = python.get_python_source(str(path))
        assert sysmon_recorder.get_python_source(str(path)) == text
        assert sysmon_recorder.multiline_map_from_text(text) == parser.multiline_map_from_text(text)
    assert sysmon_recorder.compute_multiline_map("/no/such/file.py") == {}


@pytest.mark.fast
def test_reasons_for_stepping_aside_are_sentences(tmp_path: Path) -> None:
    core_for = sysmon_recorder.core_for
    with pytest.raises(recorder.Ineligible, match="core = pytrace: only ctrace and sysmon"):
        core_for({"core": "pytrace"}, {})
    with pytest.raises(recorder.Ineligible, match="timid = True"):
        core_for({"timid": True}, {})
    assert core_for({"core": "ctrace"}, {"COVERAGE_CORE": "ctrace"}) == "ctrace"
    if sys.version_info < (3, 12):
        with pytest.raises(recorder.Ineligible, match="falls back to its C tracer"):
            core_for({}, {"COVERAGE_CORE": "sysmon"})
    elif sys.version_info < (3, 14):
        with pytest.raises(recorder.Ineligible, match=r"with branch = True on Python 3\.1"):
            core_for({"branch": True}, {"COVERAGE_CORE": "sysmon"})
    # The default core: ctrace before 3.14, sysmon from 3.14 (when this coverage is checked).
    if sys.version_info < (3, 14):
        assert core_for({}, {}) == "ctrace"

    # A coverage whose sysmon core is not a checked one: a sentence naming its version.
    directory = _compat.coverage_dir()
    assert directory is not None
    copy = tmp_path / "coverage"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    assert _compat.sysmon_core_problem(str(copy), arcs=False) is None or (
        _compat.coverage_version(directory) not in ",".join(_compat.SYSMON_KNOWN.values())
    )
    sysmon = copy / "sysmon.py"
    sysmon.write_text(sysmon.read_text() + "\n# changed\n")
    problem = _compat.sysmon_core_problem(str(copy), arcs=True)
    assert problem is not None
    assert f"coverage {_compat.coverage_version(directory)}'s sys.monitoring core" in problem
    assert "checked: 7.17.5, 7.18.0" in problem


@pytest.mark.fast
def test_known_digests_are_the_checked_versions() -> None:
    """The installed coverage, if it is a checked one, is recognised for what it records."""
    directory = _compat.coverage_dir()
    assert directory is not None
    version = _compat.coverage_version(directory)
    digest = _compat.sysmon_core_digest(directory)
    if version in ("7.17.3", "7.17.5", "7.18.0"):
        assert _compat.SYSMON_KNOWN.get(digest or "", "").count(version) == 1
        arcs_ok = _compat.sysmon_core_problem(directory, arcs=True) is None
        assert arcs_ok == (version != "7.17.3")
