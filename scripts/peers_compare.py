"""Compare the peers job's two runs (scripts/peers.sh): which tests fail only with covhook.

``failed LOG``: print the node ids pytest's short summary (``-rfE``) names as
FAILED or ERROR, one a line.  ``candidates DIR``: the tests that failed in
DIR/with.log and passed when re-run in DIR/without.log.  ``verdict SUITE DIR
EXPECTED``: of those, the ones that failed again when re-run with covhook
(DIR/again.log) fail the job unless EXPECTED lists them for SUITE (lines
``suite node-id  # why``); one that passed on its re-run is named as flaky (a
timing test on a loaded machine), not counted.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def failed(log: Path) -> list[str]:
    """Node ids of the FAILED/ERROR lines in pytest's short test summary."""
    ids: list[str] = []
    if not log.exists():
        return ids
    for line in log.read_text(errors="replace").splitlines():
        for word in ("FAILED ", "ERROR "):
            if line.startswith(word):
                node = line[len(word) :].split(" - ", 1)[0].strip()
                if "::" in node and node not in ids:
                    ids.append(node)
    return ids


def expected(path: Path, suite: str) -> dict[str, str]:
    """The reasoned list: node id -> why it may fail only with covhook."""
    found: dict[str, str] = {}
    if path.exists():
        for raw in path.read_text().splitlines():
            line, _, why = raw.partition("#")
            parts = line.split()
            if len(parts) == 2 and parts[0] == suite:
                found[parts[1]] = why.strip()
    return found


def candidates(out: Path) -> list[str]:
    """Failed with covhook, passed without it."""
    without = set(failed(out / "without.log"))
    return [node for node in failed(out / "with.log") if node not in without]


def ran(log: Path) -> bool:
    """pytest got as far as its closing line with tests passed (not a usage or collection error)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return re.search(r"^=*\s*\d+ (passed|failed)", text, re.M) is not None


def verdict(suite: str, out: Path, listed: Path) -> int:
    if not ran(out / "with.log"):
        print(f"peers: {suite}: the run with covhook ran no test: see {out / 'with.log'}")
        return 1
    ours = candidates(out)
    if ours and not (out / "without.log").exists():
        print(f"peers: {suite}: the re-run without covhook did not run", file=sys.stderr)
        return 1
    again = set(failed(out / "again.log"))
    allowed = expected(listed, suite)
    unexpected = []
    for node in ours:
        if node not in again:
            print(f"peers: {suite}: {node}: flaky (failed once with covhook, passed on re-run)")
        elif node in allowed:
            print(f"peers: {suite}: {node}: expected: {allowed[node]}")
        else:
            print(f"peers: {suite}: {node}: FAILS ONLY WITH COVHOOK")
            unexpected.append(node)
    both = len(failed(out / "with.log")) - len(ours)
    if both:
        print(f"peers: {suite}: {both} failed with and without covhook (not ours)")
    return 1 if unexpected else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["failed"] and len(argv) == 2:
        print("\n".join(failed(Path(argv[1]))))
        return 0
    if argv[:1] == ["candidates"] and len(argv) == 2:
        print("\n".join(candidates(Path(argv[1]))))
        return 0
    if argv[:1] == ["verdict"] and len(argv) == 4:
        return verdict(argv[1], Path(argv[2]), Path(argv[3]))
    print(
        "usage: peers_compare.py failed LOG | candidates DIR | verdict SUITE DIR EXPECTED",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
