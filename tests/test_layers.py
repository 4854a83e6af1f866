"""The CLI side (host/, commands/) uses what runs in measured processes (startup/) only through
names made public for it: file formats are owned beside layout.py (covhook.notes,
covhook.mounts), never read or written through a start-up module's internals (issue 24).

Read from the source (the import statements and the attributes taken from
imported start-up modules), so a new reach into startup/ fails here, naming it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import covhook

SRC = Path(covhook.__file__).parent
HOST_SIDE = [*sorted((SRC / "host").glob("*.py")), *sorted((SRC / "commands").glob("*.py"))]

# Every start-up name the CLI side may use, with why it is the CLI's to use.
ALLOWED = {
    ("covhook.startup.lean", "import_coverage"): "combine imports coverage without its reporters",
    ("covhook.startup.config", "read_section"): "doctor reads [covhook] as a measured process",
    ("covhook.startup.scope", "rule_subjects"): "doctor names the rule that skipped a process",
    ("covhook.startup.scope", "patterns"): "doctor names the rule that skipped a process",
    ("covhook.startup.scope", "SKIP_ENV"): "doctor names the rule that skipped a process",
    ("covhook.startup.scope", "MEASURE_ENV"): "doctor names the rule that skipped a process",
    ("covhook.startup.which", "explain"): "status says which path a measured process takes, "
    "by the very code that takes it",
    ("covhook.startup.which", "decide"): "doctor asks the recorder's own plan() about the "
    "user's config",
    ("covhook.startup.which", "doctor_line"): "doctor's fast-path line",
    ("covhook.startup.which", "FULL"): "doctor's fast-path line",
}


def startup_uses(path: Path) -> set[tuple[str, str]]:
    """(start-up module, name) for every name ``path`` takes from a covhook.startup module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}  # local name -> start-up module
    used: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("covhook.startup"):
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module == "covhook.startup":
                    modules[local] = f"covhook.startup.{alias.name}"
                else:
                    used.add((str(node.module), alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("covhook.startup."):
                    modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = modules.get(node.value.id)
            if module is not None:
                used.add((module, node.attr))
    return used


def test_the_cli_side_uses_only_public_startup_names_it_is_allowed() -> None:
    found = {
        f"{path.relative_to(SRC)}: {module}.{name}"
        for path in HOST_SIDE
        for module, name in startup_uses(path)
        if (module, name) not in ALLOWED
    }
    assert not found, (
        "the CLI side reaches into start-up modules; give each a public home "
        "(file formats: covhook.notes, covhook.mounts, covhook.layout), or allow it here "
        f"with its reason: {sorted(found)}"
    )


def test_the_allowed_names_exist_and_are_public() -> None:
    import importlib

    for module, name in ALLOWED:
        assert not name.startswith("_"), name
        assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone"


def test_the_check_sees_a_reach_into_startup(tmp_path: Path) -> None:
    """The reader above finds both forms of use, so the first test can fail."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from covhook.startup import children, scope\n"
        "from covhook.startup.containers import record_path\n"
        "children.unmeasured('.')\n"
        "scope._patterns('')\n"
    )
    assert startup_uses(sample) == {
        ("covhook.startup.children", "unmeasured"),
        ("covhook.startup.scope", "_patterns"),
        ("covhook.startup.containers", "record_path"),
    }
