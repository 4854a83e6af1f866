"""Each command's ``run`` takes typed arguments made from the parsed command line (issue 24).

The NamedTuple's fields must be exactly the options its parser defines: an
option added without a field (or a field without an option) fails here, not
at a user's command line.
"""

from __future__ import annotations

import pytest

from covhook import cli
from covhook.commands import COMMANDS, Typed

pytestmark = pytest.mark.fast

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
    fields = set(namespace.func.args._fields)
    assert options == fields, f"options without a field: {options - fields}; " + (
        f"fields without an option: {fields - options}"
    )
    args = namespace.func.args(*(getattr(namespace, f) for f in namespace.func.args._fields))
    assert isinstance(args, tuple)
