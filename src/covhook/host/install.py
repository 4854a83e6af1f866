"""Put covhook's start-up hook into another environment, and take it out again.

A target is a site-packages directory.  It is resolved from an interpreter
(``--python``: its own ``purelib``, asked of that interpreter), given directly
(``--site-packages``), or the user site.  An interpreter that cannot import
covhook gets it first: pip installs a wheel of the running covhook
(:mod:`covhook.host.selfwheel`), whose hook then is pip's.  Before writing,
covhook checks that the target can import coverage and covhook, because a
hook that cannot import them only prints a warning in every process.

Ownership: ``pip install covhook`` puts the same file into site-packages and
lists it in the distribution's RECORD; that file is pip's, so covhook never
removes it (``pip uninstall covhook`` does) and never records it.  A file of
that name that is not a covhook hook is someone else's: never overwritten.
Writes are atomic (temp file + rename in the same directory) and happen inside
a registry transaction (:mod:`covhook.host.registry`): the hook and its record
change together or not at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from covhook.errors import CovhookError
from covhook.host import registry

PTH_NAME = "a0_covhook.pth"
# What a covhook hook line imports, now and in covhook 0.1 (old hooks stay installed).
HOOK_MARKERS = ("covhook.startup.boot", "covhook._startup")
# The hook line the wheel also carries, as package data (written by setup.py's build_py).
PACKAGED_HOOK = "hook.pth.txt"


def is_covhook_hook(text: str) -> bool:
    """Whether a .pth file's text is a hook covhook wrote (today's or one from covhook 0.1)."""
    return any(marker in text for marker in HOOK_MARKERS)


_PROBE = """
import json, sys, sysconfig, site
out = {"purelib": sysconfig.get_path("purelib"), "usersite": site.getusersitepackages(),
       "executable": sys.executable, "version": sys.version.split()[0],
       "user_site_enabled": bool(site.ENABLE_USER_SITE), "sys_path": sys.path}
for name in ("coverage", "covhook"):
    try:
        mod = __import__(name)
        out[name] = getattr(mod, "__version__", "?")
    except Exception:
        out[name] = None
print("covhook-probe:" + json.dumps(out))
"""
_PROBE_PREFIX = "covhook-probe:"

Facts = dict[str, object]


@dataclass(frozen=True)
class Target:
    """A site-packages directory, and the interpreter that uses it if known."""

    site_packages: Path
    python: str | None = None
    provided: bool = False  # covhook itself was just pip-installed there (hook included)

    @property
    def pth(self) -> Path:
        return self.site_packages / PTH_NAME


def hook_text() -> str:
    """The .pth line this covhook build installs (the one its wheel carries).

    Read from the package itself, never from a site-packages directory: that
    file may have been removed, or be another version's.
    """
    packaged = resources.files("covhook").joinpath(PACKAGED_HOOK)
    if packaged.is_file():
        return packaged.read_text("utf-8")
    # Running from a source checkout (or an editable install): build the line from pth/.
    checkout_pth = Path(__file__).resolve().parents[3] / "pth"
    if (checkout_pth / "make_pth.py").is_file():
        sys.path.insert(0, str(checkout_pth))
        try:
            from make_pth import SOURCE, make_pth_line  # type: ignore[import-not-found]
        finally:
            sys.path.remove(str(checkout_pth))
        return str(make_pth_line(SOURCE.read_text("utf-8")))
    raise CovhookError(
        f"this covhook has no copy of its hook (covhook/{PACKAGED_HOOK} is missing)",
        f"reinstall covhook: {sys.executable} -m pip install --force-reinstall {install_spec()}",
    )


def install_spec() -> str:
    """What to give ``pip install`` to get this very covhook (where it came from)."""
    from covhook import __version__

    try:
        raw = metadata.distribution("covhook").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        raw = None
    try:
        origin = json.loads(raw) if raw else {}
    except ValueError:
        origin = {}
    url = str(origin.get("url") or "")
    if url.startswith("file://"):
        return url.removeprefix("file://")
    vcs = origin.get("vcs_info")
    if url and isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        return f"{vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
    if url:
        return url
    return f"covhook=={__version__}"


def probe_python(python: str) -> Facts:
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
    except OSError as exc:
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
            f"{python!r} failed as a Python interpreter (exit status {done.returncode}"
            f"{_python_error(done.stderr)})",
            "pass the path of a working Python executable (python3, or a venv's bin/python)",
        )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(_PROBE_PREFIX):
            try:
                facts = json.loads(line.removeprefix(_PROBE_PREFIX))
            except ValueError:
                break
            if isinstance(facts, dict) and isinstance(facts.get("purelib"), str):
                return facts
            break
    raise CovhookError(
        f"{python!r} did not answer like a Python interpreter "
        f"(it printed {done.stdout.strip()[:80]!r})",
        "pass the path of a Python executable (python3, or a venv's bin/python)",
    )


def _python_error(stderr: str) -> str:
    """What the interpreter said, as one short clause; never the probe script echoed back."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return ": no output"
    if "Traceback (most recent call last):" not in stderr and _PROBE_PREFIX in stderr:
        # Not Python (e.g. /bin/ls): it named the script it did not understand.
        return ": it is not Python, it did not run 'python -c'"
    return f": {lines[-1][:200]}"


def installed_distributions(site_packages: Path) -> set[str]:
    """Normalised names of the distributions installed in a directory."""
    return {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in metadata.distributions(path=[str(site_packages)])
    }


def pip_owner(pth: Path) -> str | None:
    """The distribution whose RECORD lists ``pth`` (pip installed it there), or None."""
    for dist in metadata.distributions(path=[str(pth.parent)]):
        for file in dist.files or ():
            if str(file) == pth.name:
                return str(dist.metadata["Name"] or "a package")
    return None


def _missing_fix(missing: list[str], pip: str) -> str:
    """How to make the target import coverage and covhook, from where this covhook came."""
    if "covhook" in missing:
        return (
            f"{pip} coverage {install_spec()} (installing covhook with pip puts the hook "
            "there too: no 'covhook install' needed)"
        )
    return f"{pip} coverage, then run this command again"


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
                _missing_fix(missing, f"pip install --target {directory}"),
            )
        return Target(directory)
    interpreter = python or sys.executable
    facts = probe_python(interpreter)
    provided = bool(python and not facts.get("covhook"))
    if provided:
        provide_covhook(interpreter, need_coverage=not facts.get("coverage"))
        facts = probe_python(interpreter)
    missing = [name for name in ("coverage", "covhook") if not facts.get(name)]
    if missing:
        raise CovhookError(
            f"{interpreter} cannot import {' and '.join(missing)}",
            _missing_fix(missing, f"{interpreter} -m pip install"),
        )
    if user and not facts.get("user_site_enabled"):
        raise CovhookError(
            f"{interpreter} does not read the user site-packages (a virtual environment, or "
            "user site disabled): a hook there would never run",
            f"install into its own site-packages: covhook install --python {interpreter}",
        )
    directory = Path(str(facts["usersite"] if user else facts["purelib"]))
    return Target(directory, str(facts["executable"]), provided)


def provide_covhook(interpreter: str, need_coverage: bool) -> None:
    """pip-install this very covhook (a wheel of the running install) into ``interpreter``'s
    environment; its dependencies come from pip's usual index when missing there."""
    import importlib.util

    from covhook.host import selfwheel

    with tempfile.TemporaryDirectory(prefix="covhook-wheel-") as tmp:
        wheel = selfwheel.build(Path(tmp), hook_text())
        wanted = [str(wheel)]
        if need_coverage:
            import coverage

            wanted.append(f"coverage=={coverage.__version__}")  # the same as this covhook's
        # This interpreter's pip (pip --python) also serves a venv made without pip.
        pip = (
            [sys.executable, "-m", "pip", "--python", interpreter]
            if importlib.util.find_spec("pip")
            else [interpreter, "-m", "pip"]
        )
        print(f"covhook: installing covhook into {interpreter} with pip (a wheel of this covhook)")
        done = subprocess.run(
            [*pip, "install", "-q", "--disable-pip-version-check", "--retries", "1", *wanted],
            capture_output=True,
            text=True,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")},
        )
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        deps = "coverage platformdirs" if need_coverage else "platformdirs"
        raise CovhookError(
            f"pip could not install covhook into {interpreter} ({(said or ['no output'])[-1]})",
            f"install its dependencies there ({interpreter} -m pip install {deps}, from "
            "an index or a wheel directory with --no-index --find-links DIR), then run "
            f"covhook install --python {interpreter} again",
        )


def install(target: Target) -> str:
    """Write the hook into the target; say what happened (installed, already, ...)."""
    text = hook_text()
    pth = target.pth
    with registry.transaction() as record:
        owner = pip_owner(pth)
        current = pth.read_text("utf-8", errors="replace") if pth.is_file() else None
        if owner is not None:
            # pip's file: never recorded (covhook must never remove it).
            if current is None:
                _write(pth, text)
                return f"restored the hook 'pip install {owner}' put there"
            return f"already installed by 'pip install {owner}' (pip uninstall removes it)"
        if current is not None and not is_covhook_hook(current):
            raise CovhookError(
                f"{pth} exists and is not a covhook hook; not overwriting it",
                "remove or rename it yourself if it is stale, then install again",
            )
        if current == text:
            record.add(pth, target.python)
            _save_or(record, lambda: None)
            return "already installed"
        _write(pth, text)
        record.add(pth, target.python)
        _save_or(record, lambda: _restore(pth, current))
        return "installed"


def uninstall_path(pth: Path, record: registry.Record) -> str:
    """Remove a covhook hook file (inside ``record``'s transaction); say what happened.

    Refuses a file that is not covhook's, and one pip installed.
    """
    owner = pip_owner(pth) if pth.exists() else None
    if owner is not None:
        raise CovhookError(
            f"{pth} was installed by 'pip install {owner}'; covhook does not remove it",
            f"pip uninstall {owner} in that environment removes it",
        )
    if not pth.exists():
        record.drop(pth)
        _save_or(record, lambda: None)
        return "not present"
    current = pth.read_text("utf-8", errors="replace")
    if not is_covhook_hook(current):
        raise CovhookError(
            f"{pth} is not a covhook hook; not removing it", "remove it yourself if it is stale"
        )
    try:
        pth.unlink()
    except OSError as exc:
        raise _not_writable(pth.parent, exc) from exc
    record.drop(pth)
    _save_or(record, lambda: _restore(pth, current))
    return "removed"


def _write(pth: Path, text: str) -> None:
    """Atomically replace ``pth`` with ``text`` (temp file + rename in its directory)."""
    directory = pth.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".covhook-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise _not_writable(directory, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, pth)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _not_writable(directory, exc) from exc


def _restore(pth: Path, previous: str | None) -> None:
    """Put ``pth`` back as it was before this command (None: it did not exist)."""
    if previous is None:
        pth.unlink(missing_ok=True)
    else:
        _write(pth, previous)


def _save_or(record: registry.Record, undo: Callable[[], None]) -> None:
    """Save the record; if that fails, undo the file change so both stay as they were."""
    try:
        record.save()
    except OSError as exc:
        undo()
        raise registry.unwritable(record.path, exc) from exc


def _not_writable(directory: Path, exc: OSError) -> CovhookError:
    return CovhookError(
        f"cannot write in {directory} ({exc.strerror or exc})",
        "run as a user who can write there, or choose another target with "
        "--site-packages or --user",
    )
