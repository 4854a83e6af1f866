"""A wheel of the running covhook, built from its installed files: no network, no build tools.

``covhook install --python EXE`` puts covhook itself into an environment that
lacks it.  covhook is not on a package index everywhere (a checkout, a private
build), and building from source needs setuptools from the network; the
running installation already holds every file the wheel would: the package
(from an editable checkout or site-packages), its metadata, entry points,
and the hook line (:func:`covhook.host.install.hook_text`).  pip installs the
result like any wheel, so ``pip uninstall covhook`` there removes it all,
hook included.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

import covhook

WHEEL_TEXT = "Wheel-Version: 1.0\nGenerator: covhook (selfwheel)\nRoot-Is-Purelib: true\n"
TAG = "py3-none-any"


def build(out_dir: Path, hook_line: str) -> Path:
    """Write ``covhook-<version>-py3-none-any.whl`` into ``out_dir``; its path."""
    dist = metadata.distribution("covhook")
    version = dist.version
    info = f"covhook-{version}.dist-info"
    files: dict[str, bytes] = {}
    package = Path(covhook.__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[f"covhook/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    files["covhook/hook.pth.txt"] = hook_line.encode()
    files["a0_covhook.pth"] = hook_line.encode()
    for name in _root_extras(dist):
        located = Path(str(dist.locate_file(name)))
        if located.is_file():
            files[name] = located.read_bytes()
    for name in ("METADATA", "entry_points.txt", "top_level.txt"):
        text = dist.read_text(name)
        if text is not None:
            files[f"{info}/{name}"] = text.encode()
    files[f"{info}/WHEEL"] = f"{WHEEL_TEXT}Tag: {TAG}\n".encode()
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    wheel = out_dir / f"covhook-{version}-{TAG}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def _root_extras(dist: metadata.Distribution) -> list[str]:
    """Files the installation put directly in site-packages besides the hook (PEP 829 .start)."""
    return [
        str(f)
        for f in dist.files or ()
        if "/" not in str(f) and str(f).endswith(".start") and not str(f).startswith("__")
    ]


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
