"""``covhook run --source/--branch/--data-file/--context``: a config file that says so.

Every measured process reads its configuration from the file
``COVERAGE_PROCESS_START`` names, so ``coverage run``'s measurement options
cannot be passed to them as arguments: covhook writes a copy of the user's
configuration (any of the four kinds coverage reads) as a ``.coveragerc``
with those settings changed, and hands that copy to the run.  Sections keep
coverage's names (``[run]``, ``[report]``, ``[paths]``, ``[covhook]``), so
covhook's own options come along.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# setup.cfg and tox.ini hold coverage's sections with this prefix; other ini files without.
_PREFIXED = ("setup.cfg", "tox.ini")


def sections_of(config_file: Path) -> dict[str, dict[str, str]]:
    """coverage's sections of any config file coverage reads, as .coveragerc text values."""
    if config_file.suffix == ".toml":
        import tomllib

        with open(config_file, "rb") as f:
            tool = tomllib.load(f).get("tool", {}).get("coverage", {})
        return {
            name: {key: _ini_value(value) for key, value in table.items()}
            for name, table in tool.items()
            if isinstance(table, dict)
        }
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(config_file, encoding="utf-8")
    prefix = "coverage:" if config_file.name in _PREFIXED else ""
    return {
        name.removeprefix(prefix): dict(parser.items(name))
        for name in parser.sections()
        if name.startswith(prefix)
    }


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "\n" + "\n".join(str(v) for v in value)
    return str(value)


def with_run_options(
    config_file: Path | None, run: Mapping[str, str], scratch: Path, parallel: bool
) -> Path:
    """A .coveragerc in ``scratch``: ``config_file``'s settings with ``[run]`` ones replaced."""
    sections = sections_of(config_file) if config_file is not None else {}
    run_section = sections.setdefault("run", {})
    if parallel:
        run_section.setdefault("parallel", "True")
    run_section.update(run)
    out = configparser.RawConfigParser()
    out.optionxform = str  # type: ignore[assignment,method-assign]
    for name, values in sections.items():
        out[name] = values
    path = scratch / "coveragerc"
    with open(path, "w", encoding="utf-8") as f:
        if config_file is not None:
            f.write(f"# covhook run: {config_file} with the command line's [run] options\n")
        out.write(f)
    return path


def run_options(
    source: str | None, branch: bool, data_file: str | None, context: str | None
) -> dict[str, str]:
    """``coverage run``'s measurement options as ``[run]`` settings (only those given)."""
    options: dict[str, str] = {}
    if source:
        options["source"] = "\n" + "\n".join(s for s in source.split(",") if s)
    if branch:
        options["branch"] = "True"
    if data_file:
        options["data_file"] = os.path.abspath(data_file)
    if context:
        options["context"] = context
    return options
