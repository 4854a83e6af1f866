#!/usr/bin/env bash
# The project venv (.venv): Python 3.11, covhook editable, the dev tools, all
# at the versions pinned in constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${COVHOOK_PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
pip_install() {
    # (grep drops pip's notes about this machine's extra index; pipefail keeps pip's status.)
    .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt "$@" 2>&1 |
        { grep -v '^WARNING: Location' || true; }
}
pip_install pip
pip_install -r requirements-dev.txt -e .
.venv/bin/python -c "import covhook, coverage, pytest, pytest_split"
