"""``covhook doctor``: why a run looks incomplete, and how to fix it.

It checks what it can see: every Python interpreter it can find (``--python``,
the interpreters on PATH, those covhook installed hooks for, those the
children's notes name) for covhook's hook and coverage; the coverage
configuration a run would use (``COVERAGE_PROCESS_START``); the data
directory (writable, a directory at all, stale ``.covhook-work/``); what the run did not
measure: children started with a scrubbed environment or ``python -S``,
processes a scope rule or lazy start skipped (the notes in the data directory,
and those the last ``covhook combine`` kept in the combined file).  One line
per finding with its fix; exit status 1 when something is wrong, 0 when only
notes (or nothing) remain.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from covhook.commands import Typed
from covhook.host.rcfile import find_rcfile

PROBE = """\
import json, os, site, sys, sysconfig
out = {"executable": sys.executable, "version": sys.version.split()[0], "prefix": sys.prefix}
try:
    import coverage
    out["coverage"] = coverage.__version__
except Exception as exc:
    out["coverage"] = None
    out["coverage_error"] = f"{type(exc).__name__}: {exc}"
try:
    import covhook
    out["covhook"] = getattr(covhook, "__version__", "?")
except Exception:
    out["covhook"] = None
dirs = []
try:
    dirs += site.getsitepackages()
except Exception:
    pass
user = ""
try:
    if site.ENABLE_USER_SITE:
        user = site.getusersitepackages()
        dirs.append(user)
except Exception:
    pass
dirs.append(sysconfig.get_paths()["purelib"])
hooks = set()
for d in dirs:
    for name in ("a0_covhook.pth", "a1_coverage.pth"):
        if os.path.isfile(os.path.join(d, name)):
            hooks.add(os.path.join(d, name))
out["hooks"] = sorted(hooks)
out["user_site"] = user
print("COVHOOK-PROBE " + json.dumps(out))
"""
_PYTHON_NAME = re.compile(r"^python3?(\.\d+)?$")
HOOK = "a0_covhook.pth"


@dataclass(frozen=True)
class Finding:
    """One thing doctor found: a problem (exit 1) or a note."""

    problem: str
    fix: str
    serious: bool = True

    def line(self) -> str:
        kind = "problem" if self.serious else "note"
        return f"covhook doctor: {kind}: {self.problem}. Fix: {self.fix}"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("doctor", help="say why processes were not measured, and the fix")
    parser.add_argument("--rcfile", help="coverage config file (default: coverage's search)")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PYTHON",
        help="an interpreter to check (repeatable); default: PATH, installed hooks, notes",
    )
    parser.add_argument(
        "--no-path", action="store_true", help="do not check the interpreters on PATH"
    )
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook doctor``'s command line."""

    rcfile: str | None
    python: list[str]
    no_path: bool


def path_pythons(path: str | None = None) -> list[str]:
    """``python``, ``python3``, ``python3.N`` on PATH, first of each name."""
    found: dict[str, str] = {}
    for directory in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in sorted(names):
            full = os.path.join(directory, name)
            if _PYTHON_NAME.match(name) and name not in found and os.access(full, os.X_OK):
                found[name] = full
    return list(found.values())


def registered_pythons() -> list[str]:
    """Interpreters covhook installed hooks for (the registry), if readable."""
    try:
        from covhook.host import registry

        rows = registry.load()
    except Exception:
        return []
    return [str(p) for p in (getattr(r, "python", None) for r in rows) if p]


def probe(python: str) -> dict[str, object] | None:
    """What ``python`` has: coverage, covhook, hook files (None if it cannot run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "PYTHON"))}
    env["COVHOOK_DISABLE"] = "1"
    try:
        done = subprocess.run(
            [python, "-c", PROBE], capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in done.stdout.splitlines():
        if line.startswith("COVHOOK-PROBE "):
            try:
                found = json.loads(line[len("COVHOOK-PROBE ") :])
            except ValueError:
                return None
            return found if isinstance(found, dict) else None
    return None


def check_python(
    python: str, info: dict[str, object] | None, serious: bool = True
) -> list[Finding]:
    """Findings about one interpreter (``serious``: one the run uses, not just on PATH)."""
    if info is None:
        return [
            Finding(
                f"cannot run {python} as Python (or it printed nothing usable)",
                "check that the path is a working Python interpreter",
                serious,
            )
        ]
    hooks = [str(h) for h in info.get("hooks", []) or []]  # type: ignore[attr-defined]
    ours = [h for h in hooks if os.path.basename(h) == HOOK]
    findings = []
    if info.get("coverage") is None:
        findings.append(
            Finding(
                f"{python} cannot import coverage ({info.get('coverage_error')}): "
                "processes it runs are not measured",
                f"covhook install --python {python} (installs coverage too when covhook is "
                f"missing there), or {sys.executable} -m pip --python {python} install coverage",
                serious,
            )
        )
    if not ours:
        findings.append(
            Finding(
                f"{python} has no covhook hook ({HOOK}): its processes start without "
                "coverage"
                + (
                    " (coverage's own a1_coverage.pth would measure them, untagged)"
                    if hooks
                    else ""
                ),
                f"covhook install --python {python}",
                serious,
            )
        )
    elif info.get("covhook") is None:
        findings.append(
            Finding(
                f"{python} has covhook's hook ({ours[0]}) but cannot import covhook",
                f"covhook install --python {python} (installs covhook there with pip), or "
                f"covhook uninstall --site-packages {os.path.dirname(ours[0])}",
                serious,
            )
        )
    user = str(info.get("user_site") or "")
    if ours and user and all(h.startswith(user) for h in ours):
        findings.append(
            Finding(
                f"{python}'s covhook hook is only in its user site-packages: processes "
                "started with -I, -s or PYTHONNOUSERSITE=1 skip it",
                f"covhook install --python {python} (into the environment, not --user)",
                serious=False,
            )
        )
    return findings


def check_config(rcfile: str | None) -> tuple[list[Finding], str, str]:
    """Findings about the coverage config a run would use; the data file; the fast-path line."""
    findings = []
    start = os.environ.get("COVERAGE_PROCESS_START")
    if start and not os.path.isfile(start):
        findings.append(
            Finding(
                f"COVERAGE_PROCESS_START={start!r} is not a file: no process is measured",
                "point it at your .coveragerc or pyproject.toml, or unset it",
            )
        )
    import coverage

    found = find_rcfile(rcfile or (start if start and os.path.isfile(start) else None))
    try:
        cov = coverage.Coverage(config_file=str(found) if found else True)
        data_file = os.path.abspath(str(cov.get_option("run:data_file")))
    except Exception as exc:
        findings.append(
            Finding(
                f"the coverage config cannot be read ({type(exc).__name__}: {exc})",
                "correct it (try 'coverage debug config')",
            )
        )
        return findings, os.path.abspath(".coverage"), ""
    # No finding for [run] parallel: covhook's hook turns it on in every process
    # it starts (startup.defaults); an interpreter without the hook is a finding itself.
    return findings, data_file, check_fast_path(cov, data_file)


def check_fast_path(cov: Any, data_file: str) -> str:
    """Which start measured processes take (covhook's recorder or not, and why), as a line.

    Not a finding: coverage.py's full start measures the same, only slower.
    """
    from covhook import _compat
    from covhook.startup import which

    try:
        serialized = _compat.serialized_config(cov, data_file, drop_context=None)
    except Exception as exc:
        reason = f"the config cannot be serialized ({type(exc).__name__}: {exc})"
        path, why = which.FULL, f"{reason}. Fix: check 'coverage debug config'"
    else:
        path, why = which.decide(serialized)
    return which.doctor_line(path, why)


def check_data_dir(data_file: str) -> list[Finding]:
    """Writable, and no stale working files."""
    from covhook.layout import WORK_DIR

    data_dir = os.path.dirname(data_file)
    findings = []
    probe_dir = data_dir
    while not os.path.isdir(probe_dir) and os.path.dirname(probe_dir) != probe_dir:
        if os.path.lexists(probe_dir):
            return [
                Finding(
                    f"the data file {data_file} is inside {probe_dir}, which is a file, not "
                    "a directory: processes cannot save data",
                    "set [run] data_file / COVERAGE_FILE to a path in a directory (or move "
                    f"{probe_dir} away)",
                )
            ]
        probe_dir = os.path.dirname(probe_dir)
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        findings.append(
            Finding(
                f"the data directory {data_dir} is not writable: processes cannot save data",
                "make it writable, or set [run] data_file / COVERAGE_FILE elsewhere",
            )
        )
    work = os.path.join(data_dir, WORK_DIR)
    try:
        leftovers = os.listdir(work)
    except OSError:
        leftovers = []
    if leftovers:
        findings.append(
            Finding(
                f"{len(leftovers)} file(s) left in {work}: processes that were killed before "
                "they saved (stale if no run is in progress)",
                "run 'covhook combine' to recover what is complete, then delete the directory",
            )
        )
    return findings


def check_unmeasured(data_file: str, options: Mapping[str, Any]) -> list[Finding]:
    """Children and processes a run did not measure: notes left now, and those kept
    by the last combine in ``data_file`` (covhook.host.unmeasured)."""
    from covhook.host import unmeasured

    record = unmeasured.merge(
        unmeasured.collect(os.path.dirname(data_file)), unmeasured.load(data_file)
    )
    findings = []
    for count, note in unmeasured.by_why(record["children"]):
        example = " ".join(str(a) for a in note.get("argv", []))
        findings.append(
            Finding(
                f"{count} Python child process(es) ran without coverage: "
                f"{note.get('why')} (e.g. {example!r})",
                str(note.get("fix")),
            )
        )
    ruled = [r for r in record["skipped"] if r.get("why") in ("skip", "not in measure")]
    if ruled:
        example = ruled[0].get("argv", "")
        findings.append(
            Finding(
                f"{len(ruled)} process(es) were skipped by a scope rule, "
                f"{_rule_named(ruled[0], options)} (e.g. {example!r})",
                "if they should be measured, remove the pattern from COVHOOK_SKIP / "
                "[covhook] skip (or add one matching them to COVHOOK_MEASURE / "
                "[covhook] measure); see docs/scoping.md",
                serious=False,
            )
        )
    lazy = [r for r in record["skipped"] if r.get("why") == "ran no in-scope code"]
    if lazy:
        findings.append(
            Finding(
                f"{len(lazy)} process(es) ran no code of the configured source and were not "
                f"measured (lazy start; e.g. {lazy[0].get('argv', '')!r})",
                "if they run code you want measured, add it to [run] source (or set "
                "COVHOOK_LAZY=0 to measure every process)",
                serious=False,
            )
        )
    return findings


def _rule_named(record: Mapping[str, str], options: Mapping[str, Any]) -> str:
    """Which rule, today, matches the skipped process's recorded command line."""
    from fnmatch import fnmatchcase

    from covhook.startup import scope

    subjects = scope.rule_subjects(str(record.get("argv", "")).split())
    for env, option in ((scope.SKIP_ENV, "skip"), (scope.MEASURE_ENV, "measure")):
        where = env if env in os.environ else f"[covhook] {option}"
        patterns = scope.patterns(os.environ.get(env, options.get(option, "")))
        if option == "skip":
            hits = [p for p in patterns if any(fnmatchcase(s, p) for s in subjects)]
            if hits:
                return f"{where} pattern {hits[0]!r}"
        elif patterns and not any(fnmatchcase(s, p) for p in patterns for s in subjects):
            return f"no {where} pattern matched"
    return "a COVHOOK_SKIP / [covhook] skip or measure rule"


def note_pythons(data_file: str) -> list[str]:
    """Absolute interpreter paths named in the children's notes."""
    from covhook.host import unmeasured

    record = unmeasured.merge(
        unmeasured.collect(os.path.dirname(data_file)), unmeasured.load(data_file)
    )
    found = []
    for note in record["children"]:
        argv = note.get("argv") or []
        if argv and isinstance(argv[0], str) and os.path.isabs(argv[0]):
            found.append(argv[0])
    return found


def unique(paths: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for p in paths:
        seen.setdefault(os.path.abspath(p), None)
    return list(seen)


def covhook_options(rcfile: str | None) -> dict[str, Any]:
    """The [covhook] section of the config a run would use ({} if none or unreadable)."""
    from covhook.startup.config import read_section

    start = os.environ.get("COVERAGE_PROCESS_START")
    found = find_rcfile(rcfile or (start if start and os.path.isfile(start) else None))
    try:
        return read_section(str(found)) if found else {}
    except Exception:
        return {}


def run(args: Args) -> int:
    findings, data_file, fast_line = check_config(args.rcfile)
    findings += check_data_dir(data_file)
    findings += check_unmeasured(data_file, covhook_options(args.rcfile))
    # Interpreters a run uses (named, hooked by covhook, named in notes) make
    # problems; those merely on PATH make notes, and are skipped if they cannot run.
    used = unique([*args.python, *registered_pythons(), *note_pythons(data_file)])
    on_path = [] if args.no_path or args.python else unique(path_pythons())
    checked = 0
    seen: set[str] = set()
    for python in [*used, *(p for p in on_path if p not in used)]:
        serious = python in used
        info = probe(python)
        if info is None and not serious:
            continue
        where = str(info.get("prefix")) if info else python
        if where in seen:
            continue  # python, python3, python3.11 that are one interpreter
        seen.add(where)
        findings += check_python(python, info, serious)
        checked += 1
    for finding in findings:
        print(finding.line())
    if fast_line:
        print(fast_line)
    problems = sum(f.serious for f in findings)
    print(
        f"covhook doctor: checked {checked} interpreter(s) and {data_file}: "
        + (f"{problems} problem(s)" if problems else "no problems")
        + (f", {len(findings) - problems} note(s)" if len(findings) > problems else "")
    )
    return 1 if problems else 0
