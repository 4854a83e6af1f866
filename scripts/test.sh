#!/usr/bin/env bash
# Run covhook's whole test suite on a fresh machine: install what the tests
# need (scripts/setup/*.sh, each idempotent), then ruff, mypy and pytest.
# Extra arguments go to pytest, e.g.  bash scripts/test.sh -k docker
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup/*.sh; do
    echo "== setup: $step"
    bash "$step"
done
echo "== ruff"
.venv/bin/ruff check src tests pth bench scripts
.venv/bin/ruff format --check src tests pth bench scripts
echo "== mypy (strict, src/)"
.venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
