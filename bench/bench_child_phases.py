"""What one CLI child of a real suite costs, phase by phase (issue 27).

Usage: ``.venv/bin/python bench/bench_child_phases.py [--runs 20]`` (after
bench/bench_real_suite.py made its venvs).  Writes ``bench/child_phases.md``.

The child: ``dotenv --file F list`` (python-dotenv's click CLI, as its suite
runs it), with the configuration a measured pytest run hands its children
(``COVERAGE_PROCESS_CONFIG``, captured from a real ``pytest --cov=<site-packages>/dotenv``
run of each kind).  CPU time (user + system, rusage of the child) per child,
medians of interleaved runs:

- ``bare``: no measurement; ``hook idle``: covhook installed, nothing asked;
- ``patch``: coverage.py's ``patch = subprocess`` child (coverage's own start);
- ``covhook full``: covhook with ``COVHOOK_RECORDER=0`` (coverage.py, lean import);
- ``covhook``: covhook's recorder (coverage's C tracer without ``import coverage``).

Then the phases inside one child, timed in-process (CPU: ``process_time``, medians):
coverage.py's own start (``import coverage``, ``Coverage()`` reading the
config, ``start``, the CLI run traced, ``stop`` + ``save``) and the recorder's
(import covhook's start-up, read the config, plan, prepare, start, run, save).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_real_suite as suite

HERE = suite.HERE

PROBE_TEST = """\
import json, os
def test_probe():
    with open(os.environ["PROBE_OUT"], "w") as f:
        json.dump(os.environ.get("COVERAGE_PROCESS_CONFIG"), f)
"""

COVERAGE_PHASES = """\
import os, sys, time, runpy
t0 = time.process_time()
import coverage
t1 = time.process_time()
cov = coverage.Coverage(source=[os.environ["SOURCE"]], data_suffix=True)
t2 = time.process_time()
cov.start()
t3 = time.process_time()
sys.argv = ["dotenv", "--file", os.environ["ENVFILE"], "list"]
try:
    runpy.run_module("dotenv", run_name="__main__")
except SystemExit:
    pass
t4 = time.process_time()
cov.stop(); cov.save()
t5 = time.process_time()
print("PHASES", t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, file=sys.stderr)
"""

UNTRACED = """\
import os, sys, time, runpy
t0 = time.process_time()
sys.argv = ["dotenv", "--file", os.environ["ENVFILE"], "list"]
try:
    runpy.run_module("dotenv", run_name="__main__")
except SystemExit:
    pass
print("PHASES", time.process_time() - t0, file=sys.stderr)
"""

RECORDER_PHASES = """\
import os, sys, time, runpy
os.environ["COVERAGE_PROCESS_CONFIG"] = os.environ.pop("X_CONFIG")
t0 = time.process_time()
from covhook.startup import config, recorder
t1 = time.process_time()
found = config.read(os.environ)
t2 = time.process_time()
text, raw = config.recorder_config(found, os.environ)
recorder.plan(raw, os.getcwd())
t3 = time.process_time()
rec = recorder.prepare(found)
recorder.start(rec)
t4 = time.process_time()
sys.argv = ["dotenv", "--file", os.environ["ENVFILE"], "list"]
try:
    runpy.run_module("dotenv", run_name="__main__")
except SystemExit:
    pass
t5 = time.process_time()
rec.stop(); rec.save()
t6 = time.process_time()
print("PHASES", t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, file=sys.stderr)
"""


def captured_config(python: Path, work: Path, mode: str) -> str:
    """COVERAGE_PROCESS_CONFIG as a real pytest --cov run of ``mode`` hands it to a child."""
    probe = work / "probe"
    probe.mkdir(exist_ok=True)
    (probe / "test_probe.py").write_text(PROBE_TEST)
    out = probe / "config.json"
    cmd = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe),
           f"--cov={suite.site_packages(python)}/{suite.PACKAGE}", "--cov-report="]  # fmt: skip
    if mode == "patch":
        rc = probe / "patch.toml"
        rc.write_text("[tool.coverage.run]\n" + suite.PATCH)
        cmd.append(f"--cov-config={rc}")
    env = clean_env(python)
    env["PROBE_OUT"] = str(out)
    subprocess.run(cmd, cwd=probe, env=env, check=True, capture_output=True)
    return str(json.loads(out.read_text()))


def clean_env(python: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def cpu_of(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def import_times(cmd: list[str], env: dict[str, str], cwd: str) -> dict[str, float]:
    """{module: self seconds} from ``-X importtime`` of one run."""
    out = subprocess.run(cmd, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=cwd,
                         check=True, capture_output=True, text=True)  # fmt: skip
    found = {}
    for line in out.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            own, _cum, name = line[len("import time:") :].split("|")
            found[name.strip()] = int(own) / 1e6
    return found


def phases_of(python: Path, script: str, env: dict[str, str], cwd: str) -> list[float]:
    out = subprocess.run([str(python), "-c", script], env=env, cwd=cwd, check=True,
                         capture_output=True, text=True)  # fmt: skip
    line = [x for x in out.stderr.splitlines() if x.startswith("PHASES")][-1]
    return [float(x) for x in line.split()[1:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=HERE / "child_phases.md")
    args = parser.parse_args(argv)

    archive = suite.sdist()
    plain = suite.venv("venv-plain", False, archive)
    hooked = suite.venv("venv-covhook", True, archive)
    work = suite.tests_copy(archive)
    configs = {
        "patch": captured_config(plain, work, "patch"),
        "covhook": captured_config(hooked, work, "covhook"),
    }
    scratch = tempfile.mkdtemp(prefix="covhook-phases-")
    envfile = os.path.join(scratch, ".env")
    Path(envfile).write_text("A=1\nB=two\n")
    kinds: dict[str, tuple[Path, dict[str, str]]] = {
        "bare": (plain, clean_env(plain)),
        "hook idle": (hooked, clean_env(hooked)),
        "patch": (plain, {**clean_env(plain), "COVERAGE_PROCESS_CONFIG": configs["patch"]}),
        "covhook full": (
            hooked,
            {
                **clean_env(hooked),
                "COVERAGE_PROCESS_CONFIG": configs["covhook"],
                "COVHOOK_RECORDER": "0",
            },
        ),
        "covhook": (hooked, {**clean_env(hooked), "COVERAGE_PROCESS_CONFIG": configs["covhook"]}),
    }
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    cov_phases: list[list[float]] = []
    rec_phases: list[list[float]] = []
    untraced: list[float] = []
    source = f"{suite.site_packages(plain)}/{suite.PACKAGE}"
    for _ in range(args.runs):
        for kind, (python, env) in kinds.items():
            cmd = [str(python.parent / "dotenv"), "--file", envfile, "list"]
            cpu[kind].append(cpu_of(cmd, env, scratch))
        env = {**clean_env(plain), "ENVFILE": envfile, "SOURCE": source}
        cov_phases.append(phases_of(plain, COVERAGE_PHASES, env, scratch))
        untraced.append(phases_of(plain, UNTRACED, env, scratch)[0])
        env = {**clean_env(hooked), "ENVFILE": envfile, "X_CONFIG": configs["covhook"]}
        rec_phases.append(phases_of(hooked, RECORDER_PHASES, env, scratch))
    imports: dict[str, list[dict[str, float]]] = {k: [] for k in ("bare", "patch", "covhook")}
    for _ in range(5):
        for kind, found in imports.items():
            python, env = kinds[kind]
            cmd = [str(python.parent / "dotenv"), "--file", envfile, "list"]
            found.append(import_times(cmd, env, scratch))
    write(args, cpu, cov_phases, rec_phases, untraced, extra_imports(imports))
    print(f"wrote {args.out}")
    return 0


def extra_imports(imports: dict[str, list[dict[str, float]]]) -> list[str]:
    """Table rows: what a measured child imports beyond the bare child's modules."""
    bare = set().union(*imports["bare"])
    rows = []
    for kind in ("patch", "covhook"):
        runs = imports[kind]
        extra = set().union(*runs) - bare
        per_module = {m: statistics.median([r.get(m, 0.0) for r in runs]) for m in extra}
        top = sorted(per_module.items(), key=lambda kv: -kv[1])[:6]
        names = ", ".join(f"{m} {t * 1000:.1f}" for m, t in top)
        total = sum(per_module.values()) * 1000
        rows.append(f"| {kind} | {len(extra)} | {total:.1f} ms | {names} |")
    return rows


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f}"


def write(  # noqa: PLR0917
    args: argparse.Namespace,
    cpu: dict[str, list[float]],
    cov_phases: list[list[float]],
    rec_phases: list[list[float]],
    untraced: list[float],
    imports: list[str],
) -> None:
    bare = statistics.median(cpu["bare"])
    lines = [
        "# What one CLI child costs, phase by phase (issue 27)",
        "",
        f"Written by `bench/bench_child_phases.py --runs {args.runs}`: python-dotenv's CLI "
        "(`dotenv --file F list`)",
        "in the venvs of bench/bench_real_suite.py, with the config a real `pytest "
        "--cov=<site-packages>/dotenv`",
        "hands its children.  CPU (user + system) per child, medians of interleaved runs.",
        "",
        "| child | CPU | over bare |",
        "|---|---:|---:|",
    ]
    for kind, values in cpu.items():
        extra = statistics.median(values) - bare
        lines.append(f"| {kind} | {ms(values)} ms | {extra * 1000:+.1f} ms |")
    patch_extra = statistics.median(cpu["patch"]) - bare
    rec_extra = statistics.median(cpu["covhook"]) - bare
    if patch_extra > 0:
        ratio = rec_extra / patch_extra
        lines += ["", f"Recorder child / `patch` child, over bare: **{ratio:.2f}x**."]
    cov_names = ["import coverage", "Coverage() (config read)", "start", "CLI run, traced",
                 "stop + save"]  # fmt: skip
    rec_names = ["import covhook start-up", "config read", "plan (file rules)",
                 "prepare + start", "CLI run, traced", "stop + save"]  # fmt: skip
    lines += ["", "Phases inside one child (CPU, in-process timers, medians):", ""]
    lines += ["| coverage.py's own start | ms |", "|---|---:|"]
    lines += [f"| {n} | {ms([p[i] for p in cov_phases])} |" for i, n in enumerate(cov_names)]
    lines += [f"| (the CLI run, not traced) | {ms(untraced)} |"]
    lines += ["", "| covhook's recorder | ms |", "|---|---:|"]
    lines += [f"| {n} | {ms([p[i] for p in rec_phases])} |" for i, n in enumerate(rec_names)]
    lines += [
        "",
        "Modules a measured child imports beyond the bare child's (`-X importtime`, self time,",
        "medians of 5 runs; the biggest ones with their ms):",
        "",
        "| child | modules | self time | biggest |",
        "|---|---:|---:|---|",
        *imports,
    ]
    lines += [
        "",
        "The CLI run traced is the same C tracer in both: its cost over the untraced run is",
        "the floor any child measurement pays (in coverage.py's column the run is cheaper than",
        "untraced: `import coverage` already imported much of what the CLI imports).  What the",
        "recorder saves is `import coverage` and coverage.py's start; what it still pays beyond",
        "the tracer is covhook's own start (prepare + start: signal handlers, origin tag, the",
        "project's roots) and writing the SQLite file.",
        "",
    ]
    args.out.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
