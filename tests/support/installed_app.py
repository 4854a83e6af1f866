"""The differential project's package installed the way tox installs a project (issue 27).

A wheel of ``tests/programs/differential/src`` (``app`` and ``apptop``), written
here with zipfile (building one with a backend would need setuptools and the
network), installed with ``pip install --no-index --no-deps`` into a copy of a
covhook venv: covhook, coverage and the measured package all in one
site-packages, as in a tox or CI venv.  Copying the venv (no network, a few
MB) is cheaper than making one; it is made once per session and venv.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import zipfile
from pathlib import Path

from support import envs

NAME = "covhook_differential_app"
VERSION = "1.0"


def build_wheel(src: Path, out_dir: Path) -> Path:
    """A pure-Python wheel of every file under ``src`` (RECORD with sha256, as pip checks)."""
    dist_info = f"{NAME}-{VERSION}.dist-info"
    files: dict[str, bytes] = {
        path.relative_to(src).as_posix(): path.read_bytes()
        for path in sorted(src.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\n"
    ).encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: covhook-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out_dir / f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


_INSTALLED: dict[Path, envs.Env] = {}


def installed_env(base: envs.Env, src: Path, work: Path) -> envs.Env:
    """A copy of ``base`` with the package under ``src`` pip-installed (cached per session)."""
    if base.root not in _INSTALLED:
        root = work / "venv"
        shutil.copytree(base.root, root, symlinks=True)
        env = envs.Env(root)
        # pip compiles the .pyc files, as a real install does (``-m apptop`` runs one).
        envs.pip(env, "install", "--no-index", "--no-deps", str(build_wheel(src, work)))
        _INSTALLED[base.root] = env
    return _INSTALLED[base.root]


def site_packages(env: envs.Env) -> Path:
    """The venv's purelib directory (a copy: the base venv's name is not in it)."""
    (found,) = (env.root / "lib").glob("python3*/site-packages")
    return found
