"""Real servers, task queues and pools, driven the same way in every form of measuring.

One ``Case`` is a real program (gunicorn, uvicorn, celery, a pool, pytest-xdist)
from ``tests/programs/frameworks``, how to know it is ready, what to send it,
and the signal that stops it.  ``drive`` starts it with a given launcher
prefix (nothing, ``covhook run --``), sends the bounded requests to
127.0.0.1 only, sends the signal to the process it started and returns the
exit status; the same function runs inside an inner pytest's test (the
``pytest --cov`` form).  Used by ``tests/test_frameworks.py`` and
``bench/bench_frameworks.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from support import launchers

PROGRAMS = Path(__file__).resolve().parents[1] / "programs" / "frameworks"
REQUESTS = 6  # bounded: a handful of requests per server run
START_SECONDS = 30.0
STOP_SECONDS = 60.0


@dataclass(frozen=True)
class Case:
    """A real multi-process program and what proves its workers were measured."""

    id: str
    argv: tuple[str, ...]  # after the interpreter; "{port}" is replaced
    files: tuple[str, ...]  # copied from PROGRAMS into the run's directory
    markers: dict[str, str]  # file -> marker(s), "|"-separated, of lines that must be in the data
    stop: int | None = None  # the signal that stops it; None: it ends by itself
    ready: str = "none"  # "http": answers on the port; "celery": its tasks ran
    renames: dict[str, str] = field(default_factory=dict)

    def expected(self, directory: Path) -> dict[str, set[int]]:
        """{file name: line numbers marked for this case} in ``directory``."""
        found = {}
        for name, marker in self.markers.items():
            text = (directory / name).read_text("utf-8").splitlines()
            wanted = [f"  {m}" for m in marker.split("|")]  # a comment after code
            found[name] = {n for n, line in enumerate(text, 1) if any(w in line for w in wanted)}
        return found


GUNICORN = ("-m", "gunicorn", "-c", "gunicorn_conf.py", "-b", "127.0.0.1:{port}")
CELERY = ("-m", "celery", "-A", "tasks", "worker", "--pool", "prefork", "--concurrency", "2")
CELERY += ("--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING")


def _gunicorn(sig: signal.Signals, preload: bool) -> Case:
    extra = ("--preload",) if preload else ()
    return Case(
        id=f"gunicorn-{sig.name}{'-preload' if preload else ''}",
        argv=(*GUNICORN, *extra, "wsgi_app:app"),
        files=("wsgi_app.py", "gunicorn_conf.py"),
        markers={"wsgi_app.py": "# worker", "gunicorn_conf.py": "# worker|# master"},
        stop=sig,
        ready="http",
    )


UVICORN = ("-m", "uvicorn", "--workers", "2", "--host", "127.0.0.1", "--port", "{port}")
UVICORN += ("--log-level", "warning", "asgi_app:app")

CASES: dict[str, Case] = {
    c.id: c
    for c in [
        _gunicorn(signal.SIGTERM, preload=False),
        _gunicorn(signal.SIGTERM, preload=True),
        _gunicorn(signal.SIGINT, preload=False),
        _gunicorn(signal.SIGQUIT, preload=True),
        Case(
            id="uvicorn-SIGTERM",
            argv=UVICORN,
            files=("asgi_app.py",),
            markers={"asgi_app.py": "# worker"},
            stop=signal.SIGTERM,
            ready="http",
        ),
        Case(
            id="uvicorn-SIGINT",
            argv=UVICORN,
            files=("asgi_app.py",),
            markers={"asgi_app.py": "# worker"},
            stop=signal.SIGINT,
            ready="http",
        ),
        Case(
            id="celery-prefork",
            argv=CELERY,
            files=("tasks.py",),
            markers={"tasks.py": "# worker"},
            stop=signal.SIGTERM,
            ready="celery",
        ),
        Case(
            id="executor-max-tasks",
            argv=("pools.py", "executor"),
            files=("pools.py",),
            markers={"pools.py": "# executor-worker"},
        ),
        Case(
            id="pool-maxtasksperchild",
            argv=("pools.py", "pool"),
            files=("pools.py",),
            markers={"pools.py": "# pool-worker"},
        ),
        Case(
            id="xdist-subprocess",
            argv=("-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "test_suite.py"),
            files=("xdist_suite.py", "xdist_child.py"),
            markers={"test_suite.py": "# worker", "xdist_child.py": "# worker"},
            renames={"xdist_suite.py": "test_suite.py"},
        ),
    ]
}


def copy_programs(case: Case, directory: Path) -> None:
    for name in case.files:
        shutil.copy(PROGRAMS / name, directory / case.renames.get(name, name))


def drive(
    case: Case,
    launcher: Sequence[str],
    directory: Path,
    env: dict[str, str] | None = None,
    python: str | None = sys.executable,
) -> tuple[int, str]:
    """Run ``case`` under ``launcher`` (``[]`` or ``["covhook", "run", "--"]``) in
    ``directory``; ready it, stop it with its signal. Returns (status, output)."""
    port = launchers.free_port()
    interpreter = [python] if python else []  # ('coverage run' is the interpreter)
    argv = [*launcher, *interpreter, *(a.replace("{port}", str(port)) for a in case.argv)]
    log = directory / f"{case.id}.log"
    for done in directory.glob("done.*"):
        done.unlink()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            argv,
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            if case.ready == "http":
                _requests(proc, port)
            elif case.ready == "celery":
                _wait_for(proc, lambda: len(list(directory.glob("done.*"))) >= 2)
            if case.stop is not None:
                proc.send_signal(case.stop)
            status = proc.wait(STOP_SECONDS)
        finally:
            _stop(proc)
    return status, log.read_text(errors="replace")


def left_running(directory: Path, grace: float = 5.0) -> list[str]:
    """Command lines of processes still running in ``directory`` after ``grace`` seconds
    (none should be: a run's processes end with it)."""
    deadline = time.monotonic() + grace
    while True:
        found = [argv for _pid, argv in _running_in(directory)]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def kill_left(directory: Path) -> None:
    """SIGKILL what a failed run left running in ``directory`` (the test's own processes)."""
    for pid, _argv in _running_in(directory):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _running_in(directory: Path) -> list[tuple[int, str]]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or int(proc.name) == os.getpid():  # (the test's own)
                continue
            if os.readlink(proc / "cwd").startswith(str(directory)):
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(
                        (int(proc.name), (proc / "cmdline").read_text().replace("\0", " "))
                    )
        except OSError:
            continue
    return found


def _requests(proc: subprocess.Popen[bytes], port: int) -> None:
    url = f"http://127.0.0.1:{port}/"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    _wait_for(proc, answers)
    for _ in range(REQUESTS):
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.read() == b"hello"


def _wait_for(proc: subprocess.Popen[bytes], ready: object) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():  # type: ignore[operator]
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {START_SECONDS:g}s")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill what is left of a run that failed (its group; covhook run's command group
    goes with covhook's second SIGINT)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(OSError):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


# How a run is measured.  covhook's three forms, and for bench/bench_frameworks.py the
# alternatives without covhook and the unmeasured run.
COVHOOK_FORMS = ("env", "run", "pytest")
OTHER_FORMS = ("coverage-patch", "pytest-cov", "bare")
PATCH_RC = "[run]\nparallel = true\npatch = subprocess\n"
INNER_TEST = """\
import os
from pathlib import Path

from support import frameworks


def test_case():
    case = frameworks.CASES[os.environ["FRAMEWORKS_CASE"]]
    status, out = frameworks.drive(case, [], Path.cwd(), env=dict(os.environ))
    assert status == int(os.environ["FRAMEWORKS_STATUS"]), out
"""


@dataclass
class Outcome:
    """What one measured (or bare) run of a case gave."""

    status: int  # the program's, or (pytest forms) the inner pytest's
    lines: dict[str, set[int]]  # {file name: lines} from the combined data
    output: str


def measure(case: Case, form: str, directory: Path, bare_status: int = 0) -> Outcome:
    """Run ``case`` in ``directory`` measured the ``form`` way; read the combined data.

    ``bare_status`` is the unmeasured run's status: the pytest forms' inner test
    asserts the program's status is that one.
    """
    copy_programs(case, directory)
    bin_dir = launchers.BIN
    env = launchers.measured_env(None)
    off = {"COVHOOK_DISABLE": "1"}
    if form == "bare":
        status, out = drive(case, [], directory, env={**env, **off})
        return Outcome(status, {}, out)
    if form == "env":
        rc = launchers.write_rc(directory)
        status, out = drive(case, [], directory, env={**env, "COVERAGE_PROCESS_START": str(rc)})
        _check(launchers.covhook(directory, "combine"))
    elif form == "run":
        status, out = drive(case, [str(bin_dir / "covhook"), "run", "--"], directory, env=env)
    elif form == "coverage-patch":
        (directory / ".coveragerc").write_text(PATCH_RC)
        status, out = drive(
            case, [str(bin_dir / "coverage"), "run"], directory, {**env, **off}, None
        )
        _check(_run([str(bin_dir / "coverage"), "combine", "-q"], directory, {**env, **off}))
    elif form in ("pytest", "pytest-cov"):
        if form == "pytest-cov":  # what pytest-cov 7 documents for subprocesses
            (directory / ".coveragerc").write_text(PATCH_RC)
            env = {**env, **off}
        status, out = _inner_pytest(case, directory, env, bare_status, covhook=form == "pytest")
    else:
        raise ValueError(form)
    return Outcome(status, _lines(directory / ".coverage"), out)


def _inner_pytest(
    case: Case, directory: Path, env: dict[str, str], bare_status: int, covhook: bool
) -> tuple[int, str]:
    """``pytest --cov`` whose test starts the case (the xdist case: the run itself)."""
    plugins = () if covhook else ("-p", "no:covhook")
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, "--cov=.", "--cov-report="]
    if case.id == "xdist-subprocess":
        args += ["-n", "2", "test_suite.py"]
    else:
        (directory / "test_case.py").write_text(INNER_TEST)
        env = {
            **env,
            "PYTHONPATH": str(PROGRAMS.parents[1]),  # 'support', for the inner test
            "FRAMEWORKS_CASE": case.id,
            "FRAMEWORKS_STATUS": str(bare_status),
        }
        args += ["test_case.py"]
    done = _run([sys.executable, *args], directory, env)
    return done.returncode, done.stdout + done.stderr


def _run(argv: list[str], directory: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=directory, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _check(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


def _lines(data_file: Path) -> dict[str, set[int]]:
    from support import data

    return data.lines_by_file(data_file) if data_file.exists() else {}


BENCH = PROGRAMS.parents[2] / "bench" / "frameworks.md"
DOCS_SECTION = [
    "## Servers and task queues",
    "",
    "Real multi-process software, each case a real run in `tests/test_frameworks.py`",
    "in covhook's three forms (`COVERAGE_PROCESS_START`, `covhook run`, `pytest --cov`",
    "whose test starts the program), asserted from the combined data: every",
    "worker-only line (request handlers, gunicorn's `post_fork`, `post_worker_init`,",
    "`worker_exit` and `child_exit` hooks, uvicorn's lifespan, celery's",
    "`worker_process_init`/`worker_process_shutdown` and task bodies, pool task",
    "bodies, xdist tests and the subprocesses they start), and the exit status of",
    "the unmeasured run.  The table compares what each way of measuring keeps:",
    "covhook, coverage.py's own `[run] patch = subprocess` (`coverage run`), and",
    "pytest-cov 7 alone with the `patch = subprocess` it documents for",
    "subprocesses.  Each cell is worker lines found / worker lines run; **bold**",
    "where lines were lost.  Measured by `bench/bench_frameworks.py`",
    "([bench/frameworks.md](../bench/frameworks.md)); regenerate with",
    "`.venv/bin/python bench/bench_frameworks.py`, then",
    "`.venv/bin/python tests/support/matrix.py`.",
    "",
]
DOCS_AFTER = [
    "",
    "Why the alternatives lose lines: uvicorn's workers shut down gracefully on",
    "SIGTERM and then re-raise it, so they die by the signal, and coverage.py",
    "saves only at a normal exit (covhook saves on SIGTERM, SIGINT and SIGHUP and",
    "then dies the same way); celery's prefork children and",
    "`Pool(maxtasksperchild=1)`'s fork children end in `os._exit`, which skips",
    "coverage.py's save unless `patch = _exit` is on (covhook's default).",
    "gunicorn's sync workers and the executor's spawn workers end in `sys.exit`,",
    "so every tool keeps them.  covhook keeps every worker line in every form,",
    "`pytest --cov` included (its children and pytest-cov's own Coverage get",
    "covhook's `_exit` and `execv` patches).",
    "",
    "`covhook run` forwards every signal a process supervisor forwards (as tini",
    "does: all it can catch but SIGCHLD, the faults raised for its own code and",
    "SIGPIPE) to the command's process, not its group, so gunicorn's SIGQUIT and",
    "celery's warm shutdown work as they do without covhook; `--signal-group`",
    "sends them to the whole group, and SIGINT always goes there, as a",
    "terminal's Ctrl-C does.",
]


MATRIX_SH = PROGRAMS.parents[2] / "scripts" / "matrix.sh"
MAIN_PYTHON = "3.11"  # the main test run's (scripts/setup/10-venv.sh); the matrix has the rest


@dataclass(frozen=True)
class Cell:
    """A row of scripts/matrix.sh's CELLS."""

    name: str
    python: str
    coverage: str
    core: str  # "" (coverage's default), "sysmon" or "ctrace"


def matrix_cells() -> list[Cell]:
    """Every cell of the version matrix, as scripts/matrix.sh lists them."""
    text = MATRIX_SH.read_text("utf-8")
    rows = re.findall(r'^\s+"(py\S+) (\S+) (\S+) ?(\S*)"$', text, re.MULTILINE)
    return [Cell(*row) for row in rows]


def matrix_frameworks_cells() -> list[Cell]:
    """The matrix cells that run this layer (scripts/matrix.sh FRAMEWORKS_CELLS)."""
    text = MATRIX_SH.read_text("utf-8")
    found = re.findall(r'^FRAMEWORKS_CELLS\+?="([^"]*)"', text, re.MULTILINE)
    wanted = " ".join(found).split()
    return [cell for cell in matrix_cells() if cell.name in wanted]


def where_it_runs() -> list[str]:
    """The docs' sentence on which Pythons run the layer, from scripts/matrix.sh."""
    cores = {"sysmon": ", core sys.monitoring", "ctrace": ", core ctrace", "": ""}
    cells = [
        f"{c.python} (coverage {c.coverage}{cores[c.core]})" for c in matrix_frameworks_cells()
    ]
    listed = ", ".join(cells[:-1]) + f" and {cells[-1]}" if len(cells) > 1 else "".join(cells)
    left_out = [
        c.name
        for c in matrix_cells()
        if c.python != MAIN_PYTHON and c not in matrix_frameworks_cells()
    ]
    text = (
        f"The layer runs on every Python of the CI matrix: {MAIN_PYTHON} in the main test"
        f" run, and in these cells of `scripts/matrix.sh`: {listed}."
    )
    if left_out:
        text += (
            f"  For CI time, the matrix's other cells leave it out: those of {MAIN_PYTHON}"
            f" (the main run has it) and {', '.join(f'`{name}`' for name in left_out)}."
        )
    return textwrap.wrap(text + "  The table was measured on the main run's Python.", 79)


def docs_section() -> list[str]:
    """docs/processes.md's "Servers and task queues": the table bench/frameworks.md holds."""
    if not BENCH.is_file():
        return []
    table = [line for line in BENCH.read_text("utf-8").splitlines() if line.startswith("|")]
    versions = [line for line in BENCH.read_text("utf-8").splitlines() if line.startswith("Python")]
    return ["", *DOCS_SECTION, *where_it_runs(), "", *versions, "", *table, *DOCS_AFTER]
