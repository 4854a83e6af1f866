#!/usr/bin/env bash
# Run a command inside the cached Debian forky root (Python 3.14 and 3.15, made by
# scripts/setup/50-forky.sh), with this checkout at the same path:
#   bash scripts/forky.sh /usr/bin/python3.15 -VV
#   bash scripts/forky.sh .venv-matrix/py3.15-cov7.18.0/bin/python -m pytest ...
# The mounts (/proc, /dev, /tmp, this checkout, the wheel caches, $FORKY_BIND:
# more directories, ':'-separated) live in a private mount namespace: they go
# away with the command, and concurrent runs do not see each other's.  pip
# there installs from the cached wheels only (PIP_NO_INDEX, PIP_FIND_LINKS).
# The environment is cleared but for COVHOOK_*, COVERAGE_*, CI and TERM.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${COVHOOK_TEST_CACHE:-/var/cache/covhook-tests}
ROOT="$CACHE/forky-py314-py315"
if [ ! -f "$ROOT/.done" ]; then
    echo "forky: no root at $ROOT. Fix: bash scripts/setup/50-forky.sh" >&2
    exit 1
fi
[ $# -gt 0 ] || { echo "usage: bash scripts/forky.sh COMMAND [ARG ...]" >&2; exit 2; }

binds=("$REPO" "$CACHE/wheels-py314" "$CACHE/wheels-py315")
IFS=: read -r -a extra <<<"${FORKY_BIND:-}"
binds+=("${extra[@]}")
keep=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 PIP_NO_INDEX=1
    "PIP_FIND_LINKS=$CACHE/wheels-py314 $CACHE/wheels-py315" PIP_DISABLE_PIP_VERSION_CHECK=1)
while IFS='=' read -r name _; do
    case $name in COVHOOK_* | COVERAGE_* | CI | TERM) keep+=("$name=${!name}") ;; esac
done < <(env)

# shellcheck disable=SC2016  # expanded by the inner shell
exec unshare --mount --propagation private bash -euc '
    root=$1 cwd=$2 nbinds=$3
    shift 3
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --bind /tmp "$root/tmp"
    for ((i = 0; i < nbinds; i++)); do
        if [ -n "$1" ] && [ -d "$1" ]; then
            mkdir -p "$root$1"
            mount --bind "$1" "$root$1"
        fi
        shift
    done
    nkeep=$1
    shift
    exec chroot "$root" /usr/bin/env -i "${@:1:nkeep}" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "${@:nkeep+1}"
' forky "$ROOT" "$PWD" "${#binds[@]}" "${binds[@]}" "${#keep[@]}" "${keep[@]}" "$@"
