#!/usr/bin/env bash
# Real launchers for the process tests: torch (CPU build) + torchrun, Open MPI +
# mpi4py, Ray, dask.distributed (requirements-launchers.txt, at the versions
# in constraints.txt).  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
pip_install() {
    "$PY" -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }
}

if ! command -v mpirun >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
    echo "30-launchers: installing Open MPI (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null
fi

# pip finds everything already satisfied in a few seconds on a second run.
pip_install -c constraints.txt -r requirements-launchers.txt
# A CUDA torch would have brought nvidia-* wheels: refuse to go on with one.
if "$PY" -m pip list --disable-pip-version-check 2>/dev/null | grep -qi '^nvidia-'; then
    echo "30-launchers: error: CUDA packages found in .venv; torch must be the CPU build" >&2
    exit 1
fi
test -x .venv/bin/torchrun && command -v mpirun >/dev/null
