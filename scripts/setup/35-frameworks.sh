#!/usr/bin/env bash
# Real servers, task queues and pools for the frameworks layer: gunicorn, uvicorn,
# celery (requirements-frameworks.txt, at the versions in constraints.txt).  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt \
    -r requirements-frameworks.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
.venv/bin/python -c "import gunicorn, uvicorn, celery, kombu.transport.filesystem"
