#!/usr/bin/env bash
# Extra dev packages for the pytest plugin and splits tests/bench: pytest-split
# (covhook split uses it when installed; the tests cover both selectors).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! .venv/bin/python -c "import pytest_split" 2>/dev/null; then
    .venv/bin/python -m pip install -q --disable-pip-version-check "pytest-split==0.11.0" 2>&1 \
        | { grep -v '^WARNING: Location' || true; }
fi
.venv/bin/python -c "import pytest_split"
