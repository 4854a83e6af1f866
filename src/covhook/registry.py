"""The record of every hook ``covhook install`` wrote, so all can be removed.

One JSON file in the platformdirs state directory (``COVHOOK_STATE_DIR``
overrides it, which the tests use).  Rewritten atomically on each change.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from covhook.errors import CovhookError


@dataclass(frozen=True)
class Install:
    """One hook file covhook wrote."""

    pth: str
    python: str | None
    installed_at: float


def state_file() -> Path:
    from covhook import settings

    override = settings.value("state_dir")
    if override:
        return Path(override) / "installs.json"
    import platformdirs

    return Path(platformdirs.user_state_dir("covhook")) / "installs.json"


def load() -> list[Install]:
    path = state_file()
    try:
        rows = json.loads(path.read_text("utf-8"))
        return [Install(**row) for row in rows]
    except FileNotFoundError:
        return []
    except (ValueError, TypeError) as exc:
        raise CovhookError(
            f"the install record {path} is corrupt ({exc})",
            f"delete {path}; hooks it listed must then be removed with 'covhook uninstall "
            "--site-packages DIR'",
        ) from exc


def _save(rows: list[Install]) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".installs-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump([asdict(row) for row in rows], f, indent=1)
    os.replace(tmp, path)


def record(pth: Path, python: str | None) -> None:
    rows = [row for row in load() if row.pth != str(pth)]
    rows.append(Install(str(pth), python, time.time()))
    _save(rows)


def forget(pth: Path) -> None:
    rows = load()
    kept = [row for row in rows if row.pth != str(pth)]
    if kept != rows:
        _save(kept)
