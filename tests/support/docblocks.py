"""Run a guide's ```bash blocks, in order, the way a reader would type them."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from support import processes

DOCS = Path(__file__).resolve().parents[2] / "docs"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def bash_blocks(name: str) -> list[str]:
    """The ```bash blocks of ``docs/<name>``, without ``pip install`` lines (done by setup)."""
    text = (DOCS / name).read_text("utf-8")
    blocks = [
        "\n".join(line for line in block.splitlines() if not line.startswith("pip install"))
        for block in _BLOCK.findall(text)
    ]
    return [b for b in blocks if b.strip()]


def run_guide(name: str, cwd: Path, timeout: float = 300) -> None:
    """Run every block of the guide in one bash, stopping at the first failing command."""
    script = "set -euo pipefail\n" + "\n".join(bash_blocks(name))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COVERAGE_", "COVHOOK_", "PYTEST_", "VIRTUAL_ENV"))
    }
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    processes.run(["bash", "-c", script], cwd, env, check=True, timeout=timeout)
