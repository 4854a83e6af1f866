"""docs/architecture.md cannot drift: every module and function it names exists, and every
data-dir name it shows is the one covhook.layout defines (issue 24).

Read from the source (AST), not imported: naming a module in the page must not
run its import-time code here.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from covhook import layout
from support import envs

pytestmark = pytest.mark.fast

PAGE = envs.REPO / "docs" / "architecture.md"
SRC = envs.REPO / "src"


def page() -> str:
    return PAGE.read_text("utf-8")


def module_file(dotted: str) -> Path | None:
    """The source file of module ``dotted`` (a package's __init__.py), if there is one."""
    base = SRC.joinpath(*dotted.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@cache
def defined(path: Path) -> frozenset[str]:
    """Names a module defines at its top level, and ``Class.method`` for its classes."""
    names: set[str] = set()
    body = ast.parse(path.read_text("utf-8")).body
    # Classes for the type checker only (``if TYPE_CHECKING:``) count too.
    body += [n for top in body if isinstance(top, ast.If) for n in top.body]
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names |= {
                    f"{node.name}.{n.name}"
                    for n in node.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                }
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
    return frozenset(names)


def resolves(dotted: str) -> bool:
    """``covhook.a.b`` is a module, or a name (``func``, ``Class.method``) in one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        path = module_file(".".join(parts[:cut]))
        if path is not None:
            rest = ".".join(parts[cut:])
            return not rest or rest in defined(path)
    return False


def named_in_page() -> set[str]:
    """Every ``covhook.…`` path the page names (``<name>`` placeholders left out)."""
    found = set(re.findall(r"\bcovhook(?:\.[A-Za-z_]\w*)+", page()))
    return {name for name in found if not name.endswith(".pth")}


def test_the_page_names_modules_and_functions_that_exist() -> None:
    named = named_in_page()
    assert len(named) > 40, "the page names too little to be checked"
    missing = sorted(n for n in named if not resolves(n))
    assert not missing, f"docs/architecture.md names what the code does not have: {missing}"


def test_the_check_can_fail() -> None:
    assert resolves("covhook.startup.boot.start")
    assert resolves("covhook.startup.plugin.OriginTagger")
    assert not resolves("covhook.startup.boot.no_such_step")
    assert not resolves("covhook.host.no_such_module")
    assert resolves("covhook.startup.boot.Measurer")  # under ``if TYPE_CHECKING:``


def layout_rows() -> list[tuple[str, str]]:
    """(name shown, ``covhook.layout`` constant or function) of each row of the formats table."""
    rows = []
    for line in page().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[1].startswith("`"):
            shown = cells[0].split("`")[1]
            for name in re.findall(r"`(\w+)`", cells[1]):
                rows.append((shown, name))
    return rows


def test_every_data_dir_name_is_layouts() -> None:
    rows = layout_rows()
    assert rows, "the formats table is gone"
    for shown, name in rows:
        value = getattr(layout, name)
        if isinstance(value, str):
            assert value in shown, f"the page shows {shown!r} for layout.{name} = {value!r}"
        else:
            assert callable(value), name


def test_every_layout_name_is_in_the_table() -> None:
    """A new kind of file in a data directory gets its row (and so its owner) on the page."""
    constants = {
        name for name, value in vars(layout).items() if name.isupper() and isinstance(value, str)
    }
    in_table = {name for _shown, name in layout_rows()}
    assert constants <= in_table, f"not on docs/architecture.md: {sorted(constants - in_table)}"


def test_the_names_layout_builds_look_as_the_page_shows(tmp_path: Path) -> None:
    """The table's patterns are what layout's functions really make."""
    text = page()
    note = Path(layout.note_path(str(tmp_path), 123)).name
    assert note == ".covhook-unmeasured.123.json"
    assert "`.covhook-unmeasured.<pid>.json`" in text
    combining = Path(layout.combining_path(str(tmp_path))).name
    assert re.fullmatch(r"\.covhook-combining\.\d+-[0-9a-f]+\.tmp", combining)
    assert "`.covhook-combining.<pid>-<random>.tmp`" in text
    fold = Path(layout.fold_path(str(tmp_path))).name
    assert re.fullmatch(r"\.covhook-fold\.\d+-[0-9a-f]+\.tmp", fold)
    assert "`.covhook-fold.<pid>-<random>.tmp`" in text
    mounts = Path(layout.mounts_dir(str(tmp_path)))
    assert mounts.relative_to(tmp_path).as_posix() + "/<place>.json" in text.replace("`", "")


def test_readme_lists_the_page() -> None:
    assert "(docs/architecture.md)" in (envs.REPO / "README.md").read_text("utf-8")
