"""Each command's ``run`` takes typed arguments made from the parsed command line (issue 24).

The NamedTuple's fields must be exactly the options its parser defines: an
option added without a field (or a field without an option) fails here, not
at a user's command line.
"""

from __future__ import annotations

import pytest

from covhook import cli
from covhook.commands import COMMANDS, Typed
from covhook.host.report import ReportOptions

# The fewest words each command parses with (its required options).
MINIMAL = {"split": ["-n", "1"], "run": ["true"]}
# Commands still handed argparse's Namespace.
UNTYPED: set[str] = set()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_gets_typed_arguments_with_every_option(name: str) -> None:
    namespace = cli.parse([name, *MINIMAL.get(name, [])], name)
    if name in UNTYPED:
        assert not isinstance(namespace.func, Typed), f"{name} is typed now: drop it from UNTYPED"
        return
    assert isinstance(namespace.func, Typed), f"covhook {name}'s run takes an untyped Namespace"
    options = set(vars(namespace)) - {"func", "command"}
    fields = namespace.func.option_names()
    assert options == fields, f"options without a field: {options - fields}; " + (
        f"fields without an option: {fields - options}"
    )
    args = namespace.func.make(namespace)
    assert isinstance(args, namespace.func.args)


def test_report_options_are_declared_once() -> None:
    """``covhook report`` and ``covhook run`` take coverage report's options as one
    ``ReportOptions`` (declared once, as ``add_report_options`` adds them once)."""
    for name in ("report", "run"):
        words = [name, "--fail-under", "90", "--show-missing", "--sort", "cover"]
        namespace = cli.parse([*words, *MINIMAL.get(name, [])], name)
        options = namespace.func.make(namespace).report_options
        assert isinstance(options, ReportOptions)
        assert (options.fail_under, options.show_missing, options.sort) == (90.0, True, "cover")
