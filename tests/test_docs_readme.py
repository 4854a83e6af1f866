"""The README's main job (``scripts/demo.sh``) prints what the README shows.

The script runs as a new user would run it (a fresh venv it creates and
installs covhook into from this checkout, about 20 s); its output is compared
with the README's sample token by token (the host name and column widths
are the machine's), and each process's line must come out whole.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from support import envs, processes

README = envs.REPO / "README.md"
PID_LINE = re.compile(r"^  pid +\d+  (.+)$")
KINDS = {
    "parent", "subprocess.run", "os.system", "multiprocessing spawn", "multiprocessing fork",
    "os.execv", "rank 0 (RANK/WORLD_SIZE, as torch.distributed launchers set)",
    "rank 1 (RANK/WORLD_SIZE, as torch.distributed launchers set)",
}  # fmt: skip


def readme_sample() -> list[str]:
    """The ```text block that follows the demo's description."""
    text = README.read_text("utf-8")
    after = text.split("runs `covhook run -- python demo/tree.py`", 1)[1]
    return after.split("```text\n", 1)[1].split("```", 1)[0].splitlines()


def shape(lines: list[str]) -> list[list[str]]:
    """Tokens per line: the host name as ``host-H``, rules as ``-``."""
    out = []
    for line in lines:
        named = re.sub(r"\bhost-[^\s_]+", "host-H", line)
        out.append(["-" if set(t) == {"-"} else t for t in named.split()])
    return out


@pytest.mark.slow
def test_demo_prints_the_readme_sample(tmp_path: Path) -> None:
    done = processes.run(
        ["bash", envs.REPO / "scripts" / "demo.sh"],
        env=envs.clean_env(COVHOOK_DEMO_VENV=str(tmp_path / "venv"), PYTHONUNBUFFERED="1"),
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # Every process's line whole, one per process (PYTHONUNBUFFERED=1 made print split them).
    pid_lines = [line for line in lines if "pid" in line]
    kinds = [PID_LINE.match(line) for line in pid_lines]
    assert all(kinds), pid_lines
    assert sorted(m.group(1) for m in kinds if m) == sorted(KINDS)
    start = next(i for i, line in enumerate(lines) if line.startswith("covhook: "))
    assert shape(lines[start:]) == shape(readme_sample()), "\n".join(lines[start:])


def test_readme_and_guide_say_how_to_install_before_publishing(wheel: Path) -> None:
    """Both pages name the checkout and the wheel ways, and the wheel's real file name."""
    for page in (README, envs.REPO / "docs" / "subprocesses.md"):
        text = " ".join(page.read_text("utf-8").split())
        assert "is not on PyPI yet" in text or "Until covhook is on PyPI" in text, page
        assert "`pip install /path/to/covhook`" in text, page
        assert "`pip wheel --no-deps -w dist /path/to/covhook`" in text, page
        assert f"`pip install dist/{wheel.name}`" in text, page


def test_each_demo_line_is_one_write(tmp_path: Path) -> None:
    """The demo's line leaves its process in one write(2), newline included: two processes
    printing at once cannot interleave (print under -u / PYTHONUNBUFFERED=1 writes the
    newline separately). Seen with strace, the system calls themselves."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("needs strace")
    trace = tmp_path / "trace"
    code = "import sys; sys.path.insert(0, 'demo'); from app import work; work.report('rank 0')"
    processes.run(
        [strace, "-f", "-e", "trace=write", "-o", trace, sys.executable, "-c", code],
        envs.REPO,
        envs.clean_env(PYTHONUNBUFFERED="1"),
        check=True,
    )
    writes = [line for line in trace.read_text().splitlines() if "write(1," in line]
    assert len(writes) == 1, writes
    assert re.search(r'write\(1, "  pid +\d+  rank 0\\n", \d+\)', writes[0]), writes
