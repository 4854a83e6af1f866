"""Benchmark: ``covhook combine`` vs ``coverage combine`` on many data files.

Generated sets (tests/support/datagen.py, written with coverage's own API):
1000 line-data files and 300 branch-data files, each a process that measured
about 40 source files in one of 8 origins (static contexts; every tenth also a
second, dynamic-like context; one file with a file tracer; every 7th file a
duplicate by data hash).  Branch data comes with small source files (220
lines: 0.2 MB data files) and with 1300-line ones (1.3 MB data files, the size
measured for real suites' branch data), and is stored as covhook's recorder
stores it (coverage.py's rows plus covhook's bitmaps of the same arcs,
covhook.arcbits) or, "rows only", as coverage.py alone stores it.
Every process runs every file differently, at random (the worst case for
covhook), except in "repeated code": there 80% of a process's files run
exactly as in one of three scenarios of its origin, as the processes of a real
suite re-run the same code.  The last sets are not generated but measured:
300 real processes of one command-line tool (pygments, installed with the dev
tools), each highlighting one of this checkout's files in one of 10 output
formats, as a suite that runs its CLI in subprocesses makes them: measured by
covhook's hook (``COVERAGE_PROCESS_START``; its recorder writes the bitmaps)
and, "rows only", by ``coverage run``.  Each set is combined by

- ``coverage``: ``coverage combine --keep`` (the command users run);
- ``covhook-1``: ``covhook combine --keep`` in one process
  (``COVHOOK_COMBINE_WORKERS=1``);
- ``covhook-2``: the same in two processes (``=2``: the parent and one
  forked child each read half, and a child makes the arcs' texts while the
  parent writes them); unset, covhook picks one of these two by the
  runnable tasks of the moment (the choice is printed).

``--reps`` times each (default 5), interleaved, in rotating order, as
commands (interpreter start-up included, as a user sees it; covhook's
modules are byte-compiled first, as installing it does, since this
environment sets PYTHONDONTWRITEBYTECODE and coverage's are compiled).  The table gives
median wall times, the ratios coverage / covhook, and median CPU time (user +
system of the command and its children); every combined result is compared
with coverage's (files, contexts, lines, arcs, file tracers) and the check is
printed.  What writing the bitmaps costs each measured process is timed too
(the recorder's write of one real process's data, with and without them).
Usage::

    .venv/bin/python bench/bench_combine.py [--reps 5] [--out bench/combine.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import coverage

from covhook import arcbits

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from support import datagen  # noqa: E402

BIN = Path(sys.executable).parent
# name: (files, branch data, share of files each process runs as an earlier one did,
#        lines per source file, covhook's bitmaps stored); lines 0: real processes
#        (real_processes(): measured by covhook's hook when bitmaps, else coverage run).
SETS = {
    "lines": (1000, False, 0.0, 220, False),
    "branches, 0.2 MB files": (300, True, 0.0, 220, True),
    "branches, 0.2 MB files, rows only": (300, True, 0.0, 220, False),
    "branches, 1.3 MB files": (300, True, 0.0, 1300, True),
    "branches, 1.3 MB, repeated code": (300, True, 0.8, 1300, True),
    "branches, real processes of one CLI": (300, True, 0.0, 0, True),
    "branches, real processes, rows only": (300, True, 0.0, 0, False),
}
FORMATTERS = (
    *("html", "terminal", "terminal256", "latex", "rtf"),
    *("svg", "raw", "tokens", "irc", "bbcode"),
)
MODES = ("coverage", "covhook-1", "covhook-2")
DECODE = "the floor: SQLite only decoding every arc row, s"
NOTES = """\
Notes:

- What else ran on the machine, and the load average, are given above.
  This machine kind is a VM whose speed drifts by 20-40% within minutes
  (every command, coverage's included), and which drops the page cache
  often.  Ratios are within one run, the commands interleaved in rotating
  order, so each compares commands that ran under the same conditions.  CPU
  time (user + system, the command and its children) is less sensitive to
  the load.  covhook's modules are byte-compiled before timing (this
  environment sets PYTHONDONTWRITEBYTECODE; an installed covhook is
  compiled, as coverage's modules here are).
- Start-up: `covhook combine` imports coverage.py without its reporters
  (covhook.startup.lean, as measured processes do), 15-20 ms less than the
  full import the breakdown's "importing coverage" row times.
- Line data: the union is a Python integer per (file, context), one OR per
  row; most of the remaining time is interpreter start-up, importing
  coverage and opening files.
- Branch data with covhook's bitmaps (what covhook's recorder writes, beside
  coverage.py's rows): per (file, context) a bitmap of the arcs to nearby
  lines (2 bytes a line: the next line and jumps of -4 to +11 lines) and
  the other arcs as 8-byte integers (covhook.arcbits).  Combining ORs the
  bitmaps as Python integers and merges only the other arcs as sets; no arc
  row is decoded.  The bitmaps are used only when the file is sealed as
  the recorder left it (SQLite's change counter, read from the file's
  100-byte header, equals the seal in its meta table) and they hold as
  many arcs as the file's rows (one `count(*)`, checked for every file);
  otherwise, and for files coverage.py wrote, the rows are read as before.
  The combined file is an ordinary coverage data file (rows only).
- Writing the combined file: SQLite inserting the arc rows (with
  coverage's unique index) costs about as much as making their texts from
  the bitmaps; with two processes a forked child makes the texts and
  streams them while the parent inserts.  Pages of 16 KB instead of 4 cut
  the inserts by a fifth.
- Branch data stored as rows only: each file's arcs come out of SQLite as
  one JSON list of integer codes per (file, context) (`json_group_array`),
  merged into Python sets.  A set whose text equals one already merged for
  the same (file, context) is skipped without parsing (compared in full,
  never by a digest alone; up to 64 M characters remembered).  Start-up,
  importing coverage and SQLite decoding every arc row once take most of
  the 5x budget there (the floor columns), which is why the bitmaps exist.
  Tried and slower: `group_concat`, two Unicode characters per arc, hex
  text, sorting inside the query, bitmaps built by SQL (`GROUP BY` on an
  expression: a temporary B-tree, three times slower than the JSON lists),
  the union inside SQLite (`INSERT OR IGNORE` of every row: 0.4-0.5
  microseconds a row, measured against covhook in earlier runs of this
  benchmark; its script was removed).
- The real-processes sets: 300 processes of pygments' command line, each
  highlighting one of this checkout's files in one of 10 output formats.
  Nothing in them is made to repeat: processes of one program import the
  same modules and set up the same way, as a suite's subprocesses of its
  own CLI do.  coverage's dedupe by data hash drops the byte-identical
  files; of the rest, most (file, context) sets repeat an earlier one.
  Measured by covhook's hook, the first process starts coverage.py (no
  bitmaps) and fills covhook's config cache; the recorder takes the rest.
  In the generated sets, every process runs 40 source files at random (the
  worst case), and "repeated code" re-runs 80% of them as one of three
  scenarios.
- What the bitmaps cost: each measured process encodes its arcs once when
  it saves (one pass over them, about 0.15 microseconds an arc) and writes
  one more table; the table above gives the recorder's whole write with and
  without them, for the largest process of the real set.  The data files
  grow by the bitmaps (2 bytes a line a process ran arcs from, 8 bytes a
  far arc).
- covhook-2: the parent forks one child (plain `os.fork`, a pipe), each
  ORs half of the files, and the parent ORs the child's union (pickled)
  into its own; then a second child makes the arcs' texts while the parent
  writes.  Two processes only save wall time when a second core is idle,
  so, unset, `COVHOOK_COMBINE_WORKERS` picks two only when a second core
  is free at that instant (Linux: the runnable tasks in /proc/loadavg), and
  never from a process with other threads (a child forked while a thread
  holds a lock can wait on it for ever).
"""


def command(mode: str, where: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.pop("COVERAGE_PROCESS_START", None)
    if mode == "coverage":
        return [str(BIN / "coverage"), "combine", "--keep", "-q"], env
    env["COVHOOK_COMBINE_WORKERS"] = mode.split("-")[1]
    return [str(BIN / "covhook"), "combine", "--keep", "--no-map"], env


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(mode: str, where: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one command."""
    (where / ".coverage").unlink(missing_ok=True)
    cmd, env = command(mode, where)
    cpu = cpu_of_children()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=where, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, cpu_of_children() - cpu


def real_processes(where: Path, count: int, hook: bool) -> list[Path]:
    """``count`` real processes of one CLI, measured with branch data.

    pygments highlights one of this checkout's files (Python, Markdown, shell,
    TOML, text...) in one of 10 formats, each pair once: what a suite that
    runs its CLI in subprocesses makes.  Nothing is made to repeat: what
    repeats is what real processes of one program repeat (imports, set-up).
    With ``hook``, covhook's hook measures them (``COVERAGE_PROCESS_START``; a
    copy of pygments outside site-packages is the source, so covhook's
    recorder takes the processes after the first); else ``coverage run``.
    """
    where.mkdir(parents=True)
    env = dict(os.environ)
    env.pop("COVERAGE_PROCESS_START", None)
    if hook:
        import pygments

        pkgs = where / "pkgs"
        shutil.copytree(Path(pygments.__file__).parent, pkgs / "pygments")
        rc = where / ".coveragerc"
        rc.write_text(f"[run]\nbranch = True\nparallel = True\nsource = {pkgs / 'pygments'}\n")
        env.update(COVERAGE_PROCESS_START=str(rc), PYTHONPATH=str(pkgs))
        command = [sys.executable, "-m", "pygments"]
    else:
        (where / ".coveragerc").write_text(
            "[run]\nbranch = True\nparallel = True\nsource_pkgs = pygments\n"
        )
        command = [str(BIN / "coverage"), "run", "-m", "pygments"]
    checkout = HERE.parent
    inputs = sorted(
        p
        for pattern in ("src/covhook/**/*.py", "docs/*.md", "scripts/*.sh", "*.toml", "*.txt")
        for p in checkout.glob(pattern)
    )
    for i in range(count):
        source = inputs[(i // len(FORMATTERS)) % len(inputs)]
        formatter = FORMATTERS[i % len(FORMATTERS)]
        subprocess.run(
            [*command, "-f", formatter, str(source)],
            cwd=where,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if hook:
        shutil.rmtree(where / "pkgs")
    return sorted(where.glob(".coverage.*"))


def with_bitmaps(files: list[Path]) -> int:
    """How many of ``files`` hold covhook's bitmaps."""
    count = 0
    for f in files:
        con = sqlite3.connect(f)
        names = {name for (name,) in con.execute("SELECT name FROM sqlite_master")}
        con.close()
        count += arcbits.TABLE in names
    return count


def bitmap_cost(files: list[Path], reps: int = 31) -> dict[str, float]:
    """Milliseconds the recorder's write of the largest data file's process takes, with and
    without covhook's bitmaps (medians of ``reps``, interleaved), and that process's arcs."""
    from covhook import _compat
    from covhook.startup import recorder

    largest = max(files, key=lambda f: f.stat().st_size)
    con = sqlite3.connect(largest)
    names = dict(con.execute("SELECT id, path FROM file"))
    arcs: dict[str, list[tuple[int, int]]] = {}
    for fid, a, b in con.execute("SELECT file_id, fromno, tono FROM arc ORDER BY rowid"):
        arcs.setdefault(names[fid], []).append((a, b))
    con.close()
    schema = _compat.data_schema()[0]
    times: dict[bool, list[float]] = {True: [], False: []}
    target = str(largest.parent / ".bench-write.tmp")
    for _ in range(reps):
        for bits in (True, False):
            start = time.perf_counter()
            recorder._write(
                target,
                version=coverage.__version__,
                branch=True,
                context=None,
                lines={},
                arcs=arcs,
                unexecuted=[],
                argv_meta=False,
                schema=schema,
                arc_bits=bits,
            )
            times[bits].append(time.perf_counter() - start)
    os.remove(target)
    return {
        "arcs": sum(map(len, arcs.values())),
        "without": statistics.median(times[False]) * 1000,
        "with": statistics.median(times[True]) * 1000,
    }


def median_run(code: str, reps: int = 7) -> float:
    """Median wall seconds of ``python -c code`` (interpreter start-up included)."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup_costs() -> list[tuple[str, float]]:
    """Interpreter start-up and imports of a ``covhook combine``, as commands (medians)."""
    start = median_run("pass")
    with_coverage = median_run("import coverage")
    with_covhook = median_run("import covhook.cli, covhook.commands.combine, covhook.host.combine")
    return [
        ("interpreter start-up (`python -c pass`)", start),
        ("importing coverage", with_coverage - start),
        ("importing covhook's combine (coverage not included)", with_covhook - with_coverage),
    ]


def breakdown(where: Path) -> dict[str, float]:
    """Where covhook-1's time goes after start-up: its phases timed in this process on
    the same files (one pass, as in one covhook-1 run), and the SQLite floor."""
    import json

    from covhook.host import fastcombine

    files = [str(p) for p in sorted(where.glob(".coverage.*"))]
    chosen, _group = fastcombine.plan_files([fastcombine.Group(files, {})], "x")[0][0]
    spent = {"read": 0.0, "parse": 0.0, "groups": 0.0}
    read_raw, loads = fastcombine.read_raw, json.loads

    def timed_read(filename: str) -> fastcombine.Raw:
        t = time.perf_counter()
        raw = read_raw(filename)
        spent["read"] += time.perf_counter() - t
        spent["groups"] += len(raw.arcs)
        return raw

    def timed_loads(text: str) -> object:
        t = time.perf_counter()
        try:
            return loads(text)
        finally:
            spent["parse"] += time.perf_counter() - t

    union = fastcombine.Union()
    fastcombine.read_raw = timed_read
    json.loads = timed_loads  # type: ignore[assignment]
    try:
        t = time.perf_counter()
        for f in chosen:
            union.add_file(f, lambda p: p)
        add = time.perf_counter() - t
    finally:
        fastcombine.read_raw, json.loads = read_raw, loads
    t = time.perf_counter()
    union.write(str(where / ".breakdown.tmp"))
    write = time.perf_counter() - t
    (where / ".breakdown.tmp").unlink()
    t = time.perf_counter()
    union.origin_lines(lambda context: context.partition("|")[0])
    origin_lines = time.perf_counter() - t
    t = time.perf_counter()
    for f in chosen:
        con = sqlite3.connect(fastcombine.read_only_uri(f), uri=True)
        con.execute("SELECT sum(fromno + tono) FROM arc").fetchone()
        con.close()
    decode = time.perf_counter() - t
    return {
        "files read (after coverage's dedupe by data hash)": len(chosen),
        "(file, context) arc sets read": spent["groups"],
        "of which repeats of an identical set, skipped": union.repeated,
        "arcs in the union written": union.arc_count(),
        "reading: open, queries, rows as text or covhook's bitmaps, s": spent["read"],
        DECODE: decode,
        "parsing the sets not skipped (json.loads), s": spent["parse"],
        "merging (set updates, bitmap ORs), path mapping, skipping repeats, s": (
            add - spent["read"] - spent["parse"]
        ),
        "writing the union, s": write,
        "lines per origin (for the table), s": origin_lines,
    }


def bench_set(  # noqa: PLR0917
    name: str,
    count: int,
    branch: bool,
    repeat: float,
    size: int,
    bits: bool,
    *,
    reps: int,
    root: Path,
) -> dict[str, object]:
    from covhook.host import combine_workers

    where = root / "".join(c if c.isalnum() else "_" for c in name)
    if size:
        files = datagen.write_many(
            where,
            count,
            root="/runner/a/proj",
            branch=branch,
            dups=7,
            repeat=repeat,
            lines=size,
            arc_bits=bits,
        )
    else:
        files = real_processes(where, count, hook=bits)
    file_mb = statistics.median(f.stat().st_size for f in files) / 1e6
    stored = with_bitmaps(files)
    cost = bitmap_cost(files) if bits and not size else {}
    (where / ".coveragerc").write_text("[run]\nparallel = True\n")
    times: dict[str, list[float]] = {m: [] for m in MODES}
    cpus: dict[str, list[float]] = {m: [] for m in MODES}
    results: dict[str, object] = {}
    auto = []
    for rep in range(reps):
        order = MODES[rep % len(MODES) :] + MODES[: rep % len(MODES)]
        for mode in order:
            if mode == "covhook-1":
                auto.append(combine_workers.auto_workers(count))
            wall, cpu = run_once(mode, where)
            times[mode].append(wall)
            cpus[mode].append(cpu)
            results[mode] = datagen.describe(where / ".coverage")
    same = {m: results[m] == results["coverage"] for m in MODES}
    size = (where / ".coverage").stat().st_size
    phases = breakdown(where) if branch else {}
    shutil.rmtree(where)
    return {
        "count": count,
        "times": times,
        "cpus": cpus,
        "same": same,
        "size": size,
        "file_mb": file_mb,
        "auto": auto,
        "phases": phases,
        "bitmaps": stored,
        "cost": cost,
    }


def target_table(rows: dict[str, dict[str, object]], started: list[tuple[str, float]]) -> list[str]:
    """The table against the 5x target, with the floor for branch data."""
    fixed = sum(value for label, value in started if "covhook" not in label)
    lines = [
        "",
        "Against the target (covhook >= 5x faster than coverage): the best covhook",
        "ratio (one or two processes), wall and CPU.  For branch data stored as rows",
        "only, the floor is the interpreter's start-up, importing coverage and SQLite's",
        "decoding of every arc row once (rows of the table above); 5x leaves the budget",
        "shown for all the rest (building each set's text, parsing, merging, writing,",
        "the per-origin table), which covhook spends in the last column.  With covhook's",
        "bitmaps no arc row is decoded: that floor does not apply.",
        "",
        "| data | best wall ratio | best CPU ratio | 5x met? | time to cut for 5x "
        "| floor s | floor ratio | 5x budget beyond the floor s | covhook beyond the floor s |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        med = {m: statistics.median(row["times"][m]) for m in MODES}  # type: ignore[index]
        cpu = {m: statistics.median(row["cpus"][m]) for m in MODES}  # type: ignore[index]
        best = min(med["covhook-1"], med["covhook-2"])
        best_cpu = min(cpu["covhook-1"], cpu["covhook-2"])
        ratio = med["coverage"] / best
        phases = row["phases"]
        assert isinstance(phases, dict)
        if phases and not row["bitmaps"]:
            floor = fixed + phases[DECODE]
            beyond = (
                f"| {floor:.2f} | {med['coverage'] / floor:.1f}x "
                f"| {med['coverage'] / 5 - floor:.2f} | {best - floor:.2f} |"
            )
        else:
            beyond = "| - | - | - | - |"
        lines.append(
            f"| {name} | {ratio:.1f}x | {cpu['coverage'] / best_cpu:.1f}x "
            f"| {'yes' if ratio >= 5 else 'no'} "
            f"| {max(0.0, 1 - ratio / 5) * 100:.0f}% " + beyond
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--machine",
        default="nothing else running on it",
        help="what else the machine was doing, for the header",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covhook-bench-combine-"))
    # As installing covhook does; coverage's modules came compiled (pip).
    import covhook

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(covhook.__file__).parent)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    load_before = os.getloadavg()
    started = startup_costs()
    rows = {
        name: bench_set(name, n, b, r, size, bits, reps=args.reps, root=root)
        for name, (n, b, r, size, bits) in SETS.items()
    }
    load_after = os.getloadavg()
    shutil.rmtree(root, ignore_errors=True)
    lines = [
        "# Benchmark: combining many data files",
        "",
        "Generated by `bench/bench_combine.py` (do not edit by hand):",
        f"`.venv/bin/python bench/bench_combine.py --reps {args.reps}`.",
        f"Python {platform.python_version()}, coverage {coverage.__version__}, "
        f"{os.cpu_count()} cores, {args.machine} (load average {load_before[0]:.1f} at the "
        f"start, {load_after[0]:.1f} at the end).",
        f"Median of {args.reps} runs of each command, interleaved, one run; wall time "
        "and ratio coverage / other, then CPU time (user + system).",
        "",
        "| data | files | with covhook's bitmaps | MB/file | coverage s | covhook-1 s | ratio "
        "| covhook-2 s | ratio | identical data |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        med = {m: statistics.median(row["times"][m]) for m in MODES}  # type: ignore[index]
        same = row["same"]
        assert isinstance(same, dict)
        lines.append(
            f"| {name} | {row['count']} | {row['bitmaps']} | {row['file_mb']:.2f} "
            f"| {med['coverage']:.2f} "
            + "".join(
                f"| {med[m]:.2f} | {med['coverage'] / med[m]:.1f}x "
                for m in ("covhook-1", "covhook-2")
            )
            + "| "
            + ", ".join(f"{m}: {'yes' if same[m] else 'NO'}" for m in MODES[1:])
            + " |"
        )
    lines += [
        "",
        "CPU time, median seconds (user + system, children included):",
        "",
        "| data | coverage | covhook-1 | covhook-2 |",
        "|---|---:|---:|---:|",
    ]
    for name, row in rows.items():
        cpu = {m: statistics.median(row["cpus"][m]) for m in MODES}  # type: ignore[index]
        lines.append(f"| {name} | " + " | ".join(f"{cpu[m]:.2f}" for m in MODES) + " |")
    branch_rows = {name: row for name, row in rows.items() if row["phases"]}
    lines += [
        "",
        "Where covhook-1's time goes (seconds; start-up as commands, medians of 7; the",
        "rest timed inside one process, one pass over the same files as a covhook-1 run):",
        "",
        "| | " + " | ".join(branch_rows) + " |",
        "|---|" + "---:|" * len(branch_rows),
    ]
    for label, value in started:
        lines.append(f"| {label} | " + " | ".join(f"{value:.3f}" for _ in branch_rows) + " |")
    labels = list(next(iter(branch_rows.values()))["phases"])  # type: ignore[call-overload]
    for label in labels:
        values = [row["phases"][label] for row in branch_rows.values()]  # type: ignore[index]
        shown = [f"{v:.3f}" if label.endswith(", s") else f"{v:.0f}" for v in values]
        lines.append(f"| {label.removesuffix(', s')} | " + " | ".join(shown) + " |")
    lines += target_table(rows, started)
    lines += [
        "",
        "What the bitmaps cost a measured process: the recorder's write of the largest",
        "data file's process (its arcs, one context), milliseconds, medians of 31, with",
        "and without the bitmaps, interleaved:",
        "",
        "| set | arcs | write without bitmaps ms | with bitmaps ms | extra ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in rows.items():
        cost = row["cost"]
        assert isinstance(cost, dict)
        if cost:
            lines.append(
                f"| {name} | {cost['arcs']:.0f} | {cost['without']:.2f} | {cost['with']:.2f} "
                f"| {cost['with'] - cost['without']:+.2f} |"
            )
    lines += ["", "All runs (wall seconds; CPU seconds in brackets):", ""]
    for name, row in rows.items():
        times, cpus = row["times"], row["cpus"]
        assert isinstance(times, dict)
        assert isinstance(cpus, dict)
        for mode in MODES:
            lines.append(
                f"- {name}, {mode}: "
                + ", ".join(
                    f"{t:.2f} [{c:.2f}]" for t, c in zip(times[mode], cpus[mode], strict=True)
                )
            )
        lines.append(
            f"- {name}: unset COVHOOK_COMBINE_WORKERS would have used "
            + ", ".join(str(n) for n in row["auto"])  # type: ignore[attr-defined]
            + " worker(s) in the reps"
        )
    text = "\n".join(lines) + "\n\n" + NOTES
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
