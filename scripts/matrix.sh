#!/usr/bin/env bash
# The version matrix: covhook's process, signal, hook and compat tests on each
# (Python, coverage) pair we support.  Each cell has its own cached venv,
# .venv-matrix/<cell>, with covhook editable, the pinned test dependencies and
# that coverage; a venv is rebuilt only when its inputs change.  Run by CI
# (.ci/run); locally:  bash scripts/matrix.sh [CELL ...]
#
# Python 3.14 and 3.15 come from Debian's packages: their cells run in the
# cached forky root of scripts/setup/50-forky.sh (chroot, scripts/forky.sh),
# with wheels from PyPI downloaded on the host.  Each runs twice: with
# coverage's default core on 3.14+ (sys.monitoring) and with COVERAGE_CORE=ctrace.
#
# Keep it well inside CI's limit (the whole CI under 45 min on 2 cores): the
# cells run one after the other, each with 2 pytest-xdist workers, and only the
# tests that touch what differs between versions (see TESTS).  Each cell prints
# its time.  COVHOOK_MATRIX_TESTS="tests/x.py ..." runs only those tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# cell  python  coverage  [core]: the floor, one 7.13.x, the newest 7.17.x on 3.11-3.13;
# the newest 7.18.x on 3.14 and 3.15 (7.18.0: its default core there is sys.monitoring),
# each with that default (sysmon) and with COVERAGE_CORE=ctrace.
CELLS=(
    "py3.11-cov7.10.4 3.11 7.10.4"
    "py3.11-cov7.13.5 3.11 7.13.5"
    "py3.11-cov7.17.5 3.11 7.17.5"
    "py3.12-cov7.17.5 3.12 7.17.5"
    "py3.13-cov7.17.5 3.13 7.17.5"
    "py3.14-cov7.18.0-sysmon 3.14 7.18.0 sysmon"
    "py3.14-cov7.18.0-ctrace 3.14 7.18.0 ctrace"
    "py3.15-cov7.18.0-sysmon 3.15 7.18.0 sysmon"
    "py3.15-cov7.18.0-ctrace 3.15 7.18.0 ctrace"
)
declare -A PYENV_OF=([3.11]=3.11.7 [3.12]=3.12.1 [3.13]=3.13.0)
# Debian's packages (forky), run through scripts/forky.sh.
declare -A FORKY_OF=([3.14]=/usr/bin/python3.14 [3.15]=/usr/bin/python3.15)

# What differs between Python and coverage versions: the private names covhook
# relies on (compat; lean: which coverage modules import the deferred ones), start-up (pth, PEP 829, settings, bad input), whole
# process trees and their endings (hook processes, signals, endings), and the
# scrubbed-environment children (subprocess internals differ per Python); what
# a measured process imports and the stand-ins for tokenize and re it uses
# instead (each Python's stdlib differs), and subinterpreters (3.14+).
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
    tests/test_scope.py
    tests/test_lazy_launches.py
    tests/test_differential.py
    tests/test_sysmon_recorder.py
    tests/test_start_imports.py
    tests/test_source_tokens.py
    tests/test_origin.py
    tests/test_subinterpreters.py
)
# The frameworks layer (real gunicorn, uvicorn, celery, pools, xdist; issue 20): in
# the cells of 3.12 to 3.15, both cores (the main run has 3.11).  It adds about
# 25-35 s to a cell (measured on an idle machine, 2 cores).
FRAMEWORKS_TESTS=(tests/test_frameworks.py)
FRAMEWORKS_CELLS=" py3.12-cov7.17.5 py3.13-cov7.17.5 py3.14-cov7.18.0-sysmon py3.14-cov7.18.0-ctrace "
FRAMEWORKS_CELLS+="py3.15-cov7.18.0-sysmon py3.15-cov7.18.0-ctrace "
# Packaging tests that build venvs for a fixed Python: the main run has them.
SKIP="not test_editable_install_ships_the_hook and not test_pip_uninstall_leaves_no_covhook_file"
# The test dependencies, pinned as for the main venv.
# cloudpickle and pytest-cov: their internals are in covhook._compat too.
NEEDS="pytest pytest-xdist platformdirs cloudpickle"
PINS=$(grep -v '^coverage==' constraints.txt)
# requirements-frameworks.txt, in the venvs of the Pythons whose cells run the layer.
FRAMEWORKS=$(grep -v '^#' requirements-frameworks.txt | tr '\n' ' ')

frameworks_in() {
    # "yes" when a cell of this Python runs the frameworks layer.
    [[ "$FRAMEWORKS_CELLS" == *" py$1-"* ]] && echo yes || true
}

python_for() {
    if [ -n "${FORKY_OF[$1]:-}" ]; then
        COVHOOK_FORKY_COVERAGE=$2 bash scripts/setup/50-forky.sh >&2
        echo "${FORKY_OF[$1]}"
        return
    fi
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

# How a cell's commands run: directly, or in the forky root for 3.14/3.15.
in_cell() {
    if [ -n "${FORKY_OF[$1]:-}" ]; then
        shift
        bash scripts/forky.sh "$@"
    else
        shift
        "$@"
    fi
}

make_cell() {
    # One venv per (Python, coverage): the two cores of a Python share it.
    local py=$2 cov=$3 venv=.venv-matrix/py$2-cov$3
    local exe stamp needs=$NEEDS
    [ -z "$(frameworks_in "$py")" ] || needs="$NEEDS $FRAMEWORKS"
    exe=$(python_for "$py" "$cov")
    # Inputs of the venv: pins, coverage, and what the editable install generates.
    stamp=$(printf '%s\n' "$PINS" "$needs" "coverage==$cov" "$exe" | cat - pyproject.toml setup.py pth/*.py | sha256sum | cut -c1-16)
    if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
        return 0
    fi
    rm -rf "$venv"
    in_cell "$py" "$exe" -m venv "$venv"
    printf '%s\n' "$PINS" >"$venv.constraints"
    # shellcheck disable=SC2046,SC2086
    in_cell "$py" "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -c "$venv.constraints" $needs $(with_pytest_cov "$cov") "coverage==$cov" -e . 2>&1 \
        | { grep -v '^WARNING: Location' || true; }
    in_cell "$py" "$venv/bin/python" -c "import coverage, covhook; assert coverage.__version__ == '$cov', coverage.__version__"
    echo "$stamp" >"$venv/.stamp"
}

wanted=("$@")
status=0
start=$SECONDS
for row in "${CELLS[@]}"; do
    read -r cell py cov core <<<"$row"
    if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $cell "* ]]; then
        continue
    fi
    t0=$SECONDS
    echo "== matrix: $cell (Python $py, coverage $cov${core:+, core $core})"
    make_cell "$cell" "$py" "$cov"
    # COVERAGE_CORE: coverage's own switch, passed on to every process the tests start
    # (tests/support/envs.py keeps it); the sysmon cells leave coverage's default.
    corevar=()
    [ "${core:-}" = ctrace ] && corevar=(COVERAGE_CORE=ctrace)
    tests=("${TESTS[@]}")
    [[ "$FRAMEWORKS_CELLS" != *" $cell "* ]] || tests+=("${FRAMEWORKS_TESTS[@]}")
    # COVHOOK_MATRIX_TESTS="tests/x.py ...": only those (to time or debug one layer).
    # shellcheck disable=SC2206
    [ -z "${COVHOOK_MATRIX_TESTS:-}" ] || tests=($COVHOOK_MATRIX_TESTS)
    if in_cell "$py" env COVHOOK_MATRIX_CELL="$cell" "${corevar[@]}" \
        ".venv-matrix/py$py-cov$cov/bin/python" -m pytest -q -p no:cacheprovider \
        -n 2 --durations=5 -k "$SKIP" "${tests[@]}"; then
        echo "== matrix: $cell passed in $((SECONDS - t0)) s"
    else
        echo "== matrix: $cell FAILED in $((SECONDS - t0)) s"
        status=1
    fi
done
echo "== matrix: done in $((SECONDS - start)) s"
exit $status
