"""Read the ``[covhook]`` section of the user's coverage config file.

coverage.py hands a plugin the options of its section only when the plugin is
listed in ``[run] plugins`` as the file is read.  covhook adds itself after
that (so combining never needs covhook installed), so it reads its section
itself, with coverage's naming: ``[covhook]`` in .coveragerc,
``[coverage:covhook]`` in setup.cfg / tox.ini, ``[tool.coverage.covhook]`` in
pyproject.toml.
"""

from __future__ import annotations

import configparser
import os
from typing import Any


def read_section(config_file: str) -> dict[str, Any]:
    """The covhook options in ``config_file``, or {} if it has none."""
    if config_file.endswith(".toml"):
        import tomllib

        with open(config_file, "rb") as f:
            doc = tomllib.load(f)
        section = doc.get("tool", {}).get("coverage", {}).get("covhook", {})
        return dict(section) if isinstance(section, dict) else {}
    parser = configparser.RawConfigParser()
    parser.read(config_file, encoding="utf-8")
    name = os.path.basename(config_file)
    for section in (
        ("coverage:covhook", "covhook") if name in ("setup.cfg", "tox.ini") else ("covhook",)
    ):
        if parser.has_section(section):
            return dict(parser.items(section))
    return {}
