"""The record of every hook ``covhook install`` wrote, so all can be removed.

One JSON file in the platformdirs state directory (``COVHOOK_STATE_DIR``
overrides it, which the tests use).  Every change happens inside
:func:`transaction`: an exclusive ``flock`` on ``installs.lock`` next to it,
so concurrent installs never lose each other's rows, and the file is rewritten
atomically (temp file + rename).  The caller writes or removes the hook inside
the transaction and undoes that if saving the record fails: hook and record
change together or not at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
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


def _corrupt(path: Path, why: str) -> CovhookError:
    return CovhookError(
        f"the install record {path} is corrupt ({why})",
        f"delete {path}; hooks it listed must then be removed with 'covhook uninstall "
        "--site-packages DIR'",
    )


def _row(path: Path, raw: object) -> Install:
    if not isinstance(raw, dict) or set(raw) != {"pth", "python", "installed_at"}:
        raise _corrupt(path, f"a row is not {{pth, python, installed_at}}: {raw!r:.80}")
    pth, python, when = raw["pth"], raw["python"], raw["installed_at"]
    if (
        not isinstance(pth, str)
        or not (python is None or isinstance(python, str))
        or not isinstance(when, int | float)
    ):
        raise _corrupt(path, f"a row has a value of the wrong type: {raw!r:.80}")
    return Install(pth, python, float(when))


def load() -> list[Install]:
    """Every recorded install; a CovhookError if the record cannot be read."""
    path = state_file()
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CovhookError(
            f"cannot read the install record {path} ({exc.strerror or exc})",
            f"make {path} a readable file, or point COVHOOK_STATE_DIR at another directory",
        ) from exc
    try:
        rows = json.loads(text)
    except ValueError as exc:
        raise _corrupt(path, str(exc)) from exc
    if not isinstance(rows, list):
        raise _corrupt(path, "not a JSON list")
    return [_row(path, raw) for raw in rows]


class Record:
    """The rows, loaded under the lock; ``save`` writes them back atomically."""

    def __init__(self, path: Path, rows: list[Install]) -> None:
        self.path = path
        self.rows = rows

    def add(self, pth: Path, python: str | None) -> None:
        self.rows = [row for row in self.rows if row.pth != str(pth)]
        self.rows.append(Install(str(pth), python, time.time()))

    def drop(self, pth: Path) -> None:
        self.rows = [row for row in self.rows if row.pth != str(pth)]

    def save(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".installs-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump([asdict(row) for row in self.rows], f, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


@contextlib.contextmanager
def transaction() -> Iterator[Record]:
    """Hold the registry's lock and yield its rows (read after locking)."""
    path = state_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name("installs.lock"), "a")  # noqa: SIM115
    except OSError as exc:
        raise unwritable(path, exc) from exc
    with lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield Record(path, load())


def unwritable(path: Path, exc: OSError) -> CovhookError:
    return CovhookError(
        f"cannot write the install record in {path.parent} ({exc.strerror or exc}); "
        "nothing was changed",
        f"make {path.parent} writable, or point COVHOOK_STATE_DIR at a directory you can write",
    )


def record(pth: Path, python: str | None) -> None:
    """Record one hook (a transaction of its own)."""
    with transaction() as rows:
        rows.add(pth, python)
        rows.save()


def forget(pth: Path) -> None:
    """Forget one hook (a transaction of its own)."""
    with transaction() as rows:
        rows.drop(pth)
        rows.save()
