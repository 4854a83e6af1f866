#!/usr/bin/env bash
# The main job, on a fresh machine: install covhook from this checkout into its
# own venv (.demo/venv), run a process tree (subprocess, os.system, exec,
# multiprocessing spawn and fork, two ranks) with every process measured, and
# print one combined report plus the per-origin table.
# COVHOOK_DEMO_VENV: another venv directory (the docs test uses a fresh one).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
PY=${COVHOOK_PYTHON:-$(command -v python3.11 || command -v python3)}
venv=${COVHOOK_DEMO_VENV:-$repo/.demo/venv}
if [ ! -x "$venv/bin/covhook" ]; then
    echo "== creating $venv and installing covhook from $repo"
    "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$repo" 2>&1 \
        | grep -v '^WARNING: Location' || true
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r demo/. "$work"
printf '[run]\nparallel = True\nsource = app\n' > "$work/.coveragerc"
cd "$work"
echo "== covhook run -- python tree.py   (in $work)"
"$venv/bin/covhook" run --show-missing -- "$venv/bin/python" tree.py
