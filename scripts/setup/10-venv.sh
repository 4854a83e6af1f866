#!/usr/bin/env bash
# The project venv (.venv): Python 3.11, covhook editable, the dev tools.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${COVHOOK_PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -U pip 2>&1 | { grep -v '^WARNING: Location' || true; }
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt -e . 2>&1 \
    | { grep -v '^WARNING: Location' || true; }
.venv/bin/python -c "import covhook, coverage, pytest" 
