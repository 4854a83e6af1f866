"""In scope, only ever run by ``exec(compile(source, this_file, "exec"))``: nothing imports it."""

import sys

values = [int(a) for a in sys.argv[1:] if a.isdigit()]
if values:  # noqa: SIM108  # branch data wants a real if
    total = sum(values)
else:
    total = -1
EXECUTED = total
