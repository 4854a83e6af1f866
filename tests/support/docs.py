"""Run the shell examples of a doc page, so the docs show commands that work.

Every fenced ```bash block of a page runs, in order, in one bash process with
``set -euo pipefail``.  ``pip install covhook`` lines are replaced by a check
that covhook is importable: the test's own environment is that installation,
and the package index here does not hold this checkout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from support import envs, processes

DOCS = envs.REPO / "docs"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.M | re.S)
_INSTALL = re.compile(r"^pip install covhook\s*$", re.M)


def shell_blocks(page: Path) -> list[str]:
    return _BLOCK.findall(page.read_text("utf-8"))


def script_for(page: Path) -> str:
    body = "\n".join(shell_blocks(page))
    body = _INSTALL.sub('python -c "import covhook"', body)
    return "set -euo pipefail\n" + body


def run_page(page: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the page's blocks in ``cwd`` with this venv's bin first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    environ = envs.clean_env(**env)
    environ["PATH"] = f"{bin_dir}:{environ.get('PATH', '')}"
    return processes.run(["bash", "-c", script_for(page)], cwd, environ, timeout=300)
