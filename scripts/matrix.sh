#!/usr/bin/env bash
# The version matrix: covhook's process, signal, hook and compat tests on each
# (Python, coverage) pair we support.  Each cell has its own cached venv,
# .venv-matrix/<cell>, with covhook editable, the pinned test dependencies and
# that coverage; a venv is rebuilt only when its inputs change.  Run by CI
# (.ci/run); locally:  bash scripts/matrix.sh [CELL ...]
#
# Keep it within ~8 minutes on 2 cores: the cells run one after the other,
# each with 2 pytest-xdist workers, and only the tests that touch what
# differs between versions (see TESTS).
set -euo pipefail
cd "$(dirname "$0")/.."

# cell  python  coverage: the floor, one 7.13.x, the newest 7.17.x on every Python.
CELLS=(
    "py3.11-cov7.10.4 3.11 7.10.4"
    "py3.11-cov7.13.5 3.11 7.13.5"
    "py3.11-cov7.17.5 3.11 7.17.5"
    "py3.12-cov7.17.5 3.12 7.17.5"
    "py3.13-cov7.17.5 3.13 7.17.5"
)
declare -A PYENV_OF=([3.11]=3.11.7 [3.12]=3.12.1 [3.13]=3.13.0)

# What differs between Python and coverage versions: the private names covhook
# relies on (compat; lean: which coverage modules import the deferred ones), start-up (pth, PEP 829, settings, bad input), whole
# process trees and their endings (hook processes, signals, endings), and the
# scrubbed-environment children (subprocess internals differ per Python).
TESTS=(
    tests/test_compat.py
    tests/test_lean.py
    tests/test_recorder.py
    tests/test_sigwake.py
    tests/test_settings.py
    tests/test_pth.py
    tests/test_pep829.py
    tests/test_bad_input.py
    tests/test_hook_processes.py
    tests/test_signals.py
    tests/test_endings.py
    tests/test_launchers_local.py::test_scrubbed_env_child_is_noted_not_measured
    tests/test_launchers_local.py::test_scrubbed_env_child_measured_on_request
)
# Packaging tests that build venvs for a fixed Python: the main run has them.
SKIP="not test_editable_install_ships_the_hook and not test_pip_uninstall_leaves_no_covhook_file"
# The test dependencies, pinned as for the main venv.
# cloudpickle and pytest-cov: their internals are in covhook._compat too.
NEEDS="pytest pytest-xdist platformdirs cloudpickle"
PINS=$(grep -v '^coverage==' constraints.txt)

python_for() {
    local want=$1 version=${PYENV_OF[$1]}
    local exe="/root/.pyenv/versions/$version/bin/python$want"
    if [ ! -x "$exe" ] && command -v pyenv >/dev/null; then
        pyenv install -s "$version" >&2
    fi
    [ -x "$exe" ] || { echo "matrix: Python $version not found at $exe; Fix: pyenv install $version" >&2; return 1; }
    echo "$exe"
}

with_pytest_cov() {
    # pytest-cov 7.1 needs coverage >= 7.10.6: the floor cell goes without it.
    [ "$1" = "7.10.4" ] || echo pytest-cov
}

make_cell() {
    local cell=$1 py=$2 cov=$3 venv=.venv-matrix/$1
    local exe stamp
    exe=$(python_for "$py")
    # Inputs of the venv: pins, coverage, and what the editable install generates.
    stamp=$(printf '%s\n' "$PINS" "$NEEDS" "coverage==$cov" "$exe" | cat - pyproject.toml setup.py pth/*.py | sha256sum | cut -c1-16)
    if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
        return 0
    fi
    rm -rf "$venv"
    "$exe" -m venv "$venv"
    # shellcheck disable=SC2086
    printf '%s\n' "$PINS" >"$venv.constraints"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$venv.constraints" \
        $NEEDS $(with_pytest_cov "$cov") "coverage==$cov" -e . 2>&1 \
        | { grep -v '^WARNING: Location' || true; }
    "$venv/bin/python" -c "import coverage, covhook; assert coverage.__version__ == '$cov', coverage.__version__"
    echo "$stamp" >"$venv/.stamp"
}

wanted=("$@")
status=0
start=$SECONDS
for row in "${CELLS[@]}"; do
    read -r cell py cov <<<"$row"
    if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $cell "* ]]; then
        continue
    fi
    t0=$SECONDS
    echo "== matrix: $cell (Python $py, coverage $cov)"
    make_cell "$cell" "$py" "$cov"
    if COVHOOK_MATRIX_CELL=$cell ".venv-matrix/$cell/bin/python" -m pytest -q -p no:cacheprovider \
        -n 2 --durations=5 -k "$SKIP" "${TESTS[@]}"; then
        echo "== matrix: $cell passed in $((SECONDS - t0)) s"
    else
        echo "== matrix: $cell FAILED in $((SECONDS - t0)) s"
        status=1
    fi
done
echo "== matrix: done in $((SECONDS - start)) s"
exit $status
