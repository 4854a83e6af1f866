"""Put covhook's start-up hook into another environment, and take it out again.

A target is a site-packages directory.  It is resolved from an interpreter
(``--python``: its own ``purelib``, asked of that interpreter), given directly
(``--site-packages``), or the user site.  Before writing, covhook checks that
the target can import coverage and covhook, because a hook that cannot import
them only prints a warning in every process.  Writes are atomic (temp file +
rename in the same directory) and idempotent; every install is recorded so
``uninstall --all`` can find it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from covhook import registry
from covhook.errors import CovhookError

PTH_NAME = "a0_covhook.pth"
HOOK_MARKER = "covhook._startup"

_PROBE = """
import json, sys, sysconfig, site
out = {"purelib": sysconfig.get_path("purelib"), "usersite": site.getusersitepackages(),
       "executable": sys.executable, "version": sys.version.split()[0]}
for name in ("coverage", "covhook"):
    try:
        mod = __import__(name)
        out[name] = getattr(mod, "__version__", "?")
    except Exception:
        out[name] = None
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Target:
    """A site-packages directory, and the interpreter that uses it if known."""

    site_packages: Path
    python: str | None = None

    @property
    def pth(self) -> Path:
        return self.site_packages / PTH_NAME


def hook_text() -> str:
    """The .pth line this covhook build installs (the one its wheel carries)."""
    try:
        for file in metadata.files("covhook") or ():
            if file.name == PTH_NAME:
                return Path(str(file.locate())).read_text("utf-8")
    except metadata.PackageNotFoundError:
        pass
    # Running from a source checkout: build the line from pth/.
    checkout_pth = Path(__file__).resolve().parents[2] / "pth"
    if (checkout_pth / "make_pth.py").is_file():
        sys.path.insert(0, str(checkout_pth))
        try:
            from make_pth import SOURCE, make_pth_line  # type: ignore[import-not-found]
        finally:
            sys.path.remove(str(checkout_pth))
        return str(make_pth_line(SOURCE.read_text("utf-8")))
    raise CovhookError(
        "cannot find covhook's own a0_covhook.pth",
        "reinstall covhook with 'pip install --force-reinstall covhook'",
    )


def probe_python(python: str) -> dict[str, str | None]:
    """Ask an interpreter for its site-packages and whether it imports coverage/covhook."""
    try:
        done = subprocess.run(
            [python, "-c", _PROBE],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")},
        )
    except FileNotFoundError as exc:
        raise CovhookError(
            f"interpreter {python!r} does not exist", "pass the path of a Python executable"
        ) from exc
    except (PermissionError, OSError) as exc:
        raise CovhookError(
            f"cannot run interpreter {python!r} ({exc.strerror or exc})",
            "pass the path of a Python executable you can run",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CovhookError(
            f"interpreter {python!r} did not answer within 60 s", "check that it starts"
        ) from exc
    if done.returncode != 0:
        raise CovhookError(
            f"interpreter {python!r} failed to start: {done.stderr.strip()[-300:]}",
            "pass the path of a working Python executable",
        )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def installed_distributions(site_packages: Path) -> set[str]:
    """Normalised names of the distributions installed in a directory."""
    return {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in metadata.distributions(path=[str(site_packages)])
    }


def resolve(python: str | None, site_packages: str | None, user: bool) -> Target:
    """Turn the command-line choice into a Target, checking it can run the hook."""
    if python and site_packages:
        raise CovhookError("--python and --site-packages exclude each other", "pass one of them")
    if site_packages:
        directory = Path(site_packages).resolve()
        if not directory.is_dir():
            raise CovhookError(
                f"{directory} is not a directory", "pass an existing site-packages directory"
            )
        present = installed_distributions(directory)
        missing = [name for name in ("coverage", "covhook") if name not in present]
        if missing:
            raise CovhookError(
                f"{directory} cannot import {' and '.join(missing)}",
                f"pip install --target {directory} {' '.join(missing)}",
            )
        return Target(directory)
    interpreter = python or sys.executable
    facts = probe_python(interpreter)
    missing = [name for name in ("coverage", "covhook") if not facts.get(name)]
    if missing:
        raise CovhookError(
            f"{interpreter} cannot import {' and '.join(missing)}",
            f"{interpreter} -m pip install {' '.join(missing)}",
        )
    directory = Path(str(facts["usersite"] if user else facts["purelib"]))
    return Target(directory, str(facts["executable"]))


def install(target: Target) -> bool:
    """Write the hook into the target; return False if it was already there."""
    text = hook_text()
    directory = target.site_packages
    if target.pth.is_file() and target.pth.read_text("utf-8", errors="replace") == text:
        registry.record(target.pth, target.python)
        return False
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".covhook-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _not_writable(directory, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target.pth)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _not_writable(directory, exc) from exc
    registry.record(target.pth, target.python)
    return True


def uninstall_path(pth: Path) -> bool:
    """Remove a covhook hook file; refuse to touch a file that is not one."""
    if not pth.exists():
        registry.forget(pth)
        return False
    if HOOK_MARKER not in pth.read_text("utf-8", errors="replace"):
        raise CovhookError(
            f"{pth} is not a covhook hook; not removing it", "remove it yourself if it is stale"
        )
    try:
        pth.unlink()
    except OSError as exc:
        raise _not_writable(pth.parent, exc) from exc
    registry.forget(pth)
    return True


def _not_writable(directory: Path, exc: OSError) -> CovhookError:
    return CovhookError(
        f"cannot write in {directory} ({exc.strerror or exc})",
        "run as a user who can write there, or choose another target with "
        "--site-packages or --user",
    )
