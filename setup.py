"""Build hooks: put the generated ``a0_covhook.pth`` (and PEP 829's .start) at the wheel's root.

The .pth must sit directly in site-packages, which no pyproject.toml field can
express, so ``build_py`` (regular wheels) and ``editable_wheel`` (PEP 660
installs) each add the one-line file generated from ``pth/covhook_pth.py``.
It is then listed in the wheel's RECORD, so ``pip uninstall covhook`` removes it.
``a0_covhook_entry.start`` (PEP 829) would go the same way; it is not shipped
until Python 3.18 needs it (``SHIP_START`` in pth/make_pth.py says why).
The .pth line is also package data (``covhook/hook.pth.txt``): ``covhook
install`` takes the hook from there, never from a site-packages directory.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sys
import zipfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

sys.path.insert(0, str(Path(__file__).parent / "pth"))
from make_pth import (
    PTH_NAME,
    SHIP_START,
    SOURCE,
    START_NAME,
    make_pth_line,
    start_text,
)

PACKAGED_HOOK = "covhook/hook.pth.txt"  # covhook.host.install.PACKAGED_HOOK


def pth_text() -> str:
    return make_pth_line(SOURCE.read_text("utf-8"))


class BuildPyWithPth(build_py):
    """Regular wheel: the .pth goes next to the package in build/lib."""

    def run(self) -> None:
        # setuptools reuses build/lib: a module moved or deleted in the checkout
        # would otherwise still ship in the wheel.
        if not getattr(self, "editable_mode", False):
            shutil.rmtree(Path(self.build_lib, "covhook"), ignore_errors=True)
        super().run()
        for path in self._pth_outputs():
            path.write_text(pth_text(), "utf-8")
        start = Path(self.build_lib, START_NAME)
        if SHIP_START:
            start.write_text(start_text(), "utf-8")
        else:
            start.unlink(missing_ok=True)  # left in a reused build/lib by an older build

    def _pth_outputs(self) -> list[Path]:
        outputs = [Path(self.build_lib, PTH_NAME)]
        # An editable install reads the package from the checkout, where covhook
        # builds the line from pth/ itself; only a real build ships the copy.
        if not getattr(self, "editable_mode", False):
            outputs.append(Path(self.build_lib, PACKAGED_HOOK))
        return outputs

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        extra = list(map(str, self._pth_outputs()))
        if SHIP_START:
            extra.append(str(Path(self.build_lib, START_NAME)))
        return [*super().get_outputs(include_bytecode), *extra]


def add_to_wheel(wheel: Path, name: str, text: str) -> None:
    """Add a root-level file to a wheel and to its RECORD, so uninstall removes it."""
    data = text.encode("utf-8")
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    rebuilt = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                content += f"{name},sha256={digest},{len(data)}\n".encode()
            if info.filename != name:
                dst.writestr(info, content)
        dst.writestr(name, data)
    rebuilt.replace(wheel)


class EditableWheelWithPth(editable_wheel):
    """Editable wheel (pip install -e): add the .pth to the wheel setuptools made."""

    def run(self) -> None:
        super().run()
        for wheel in Path(self.dist_dir).glob("*editable*.whl"):
            add_to_wheel(wheel, PTH_NAME, pth_text())
            if SHIP_START:
                add_to_wheel(wheel, START_NAME, start_text())


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
