#!/usr/bin/env bash
# Refresh constraints.txt: install the newest releases of everything in
# requirements-dev.txt, requirements-launchers.txt and requirements-peers.txt into a throwaway venv
# and write what pip chose.  Then run `bash scripts/test.sh` and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${COVHOOK_PYTHON:-$(command -v python3.11 || command -v python3)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install -q --disable-pip-version-check -U pip
"$TMP/venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements-dev.txt -r requirements-launchers.txt -r requirements-peers.txt -r requirements-bench.txt \
        -r requirements-frameworks.txt
{
    sed -n '1,/^# Refresh/p' constraints.txt
    "$TMP/venv/bin/python" -m pip freeze --all
} >"$TMP/constraints.txt"
mv "$TMP/constraints.txt" constraints.txt
git --no-pager diff --stat -- constraints.txt || true
