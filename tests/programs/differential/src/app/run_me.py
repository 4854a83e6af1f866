"""In scope, only ever run by ``runpy.run_path``: nothing imports it."""

import sys

if len(sys.argv) > 5:  # noqa: SIM108  # branch data wants a real if
    where = "many"
else:
    where = "few"
RESULT = where
