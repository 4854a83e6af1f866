"""The combine service: every covhook command that combines (combine, run, split) calls it.

Like ``coverage combine``, faster (:mod:`.fastcombine`): leftovers of killed
processes recovered first (:mod:`.leftovers`), data measured in containers or
other checkouts mapped to this checkout's paths (:mod:`.pathmap`, after the
user's own ``[paths]``), unusable files named once and kept, and what the run
did not measure reported (:mod:`.unmeasured`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter

import coverage
from coverage.exceptions import NoDataError

from covhook import layout, notes, roots
from covhook.errors import CovhookError
from covhook.host import (
    combinelock,
    fastcombine,
    leftovers,
    origins,
    pathmap,
    sources,
    unmeasured,
)
from covhook.host.rcfile import find_rcfile
from covhook.quoting import quoted


def load_coverage(rcfile: str | None, data_file: str | None = None) -> coverage.Coverage:
    found = find_rcfile(rcfile)
    config_file = str(found) if found else True
    if data_file is None:  # None would mean "no data file" to coverage
        return coverage.Coverage(config_file=config_file)
    return coverage.Coverage(config_file=config_file, data_file=data_file)


def find_files(cov: coverage.Coverage, paths: list[str]) -> list[str]:
    """The data files to combine, or a CovhookError saying how to get some."""
    found = sources.collect(paths, str(cov.get_option("run:data_file")))
    sources.cleanup(found)
    return _require(found.files, cov)


def _require(files: list[str], cov: coverage.Coverage) -> list[str]:
    if not files:
        data_file = str(cov.get_option("run:data_file"))
        if os.path.isfile(data_file):
            # Already combined (a second 'covhook combine', or pytest-cov did it).
            raise CovhookError(
                f"no data files matching {quoted(data_file + '.*')} to combine; "
                f"{quoted(data_file)} already holds combined data",
                "report it with 'covhook report', or measure again and then combine "
                "(use --append to add the new files to it)",
            )
        raise CovhookError(
            f"no data files matching {quoted(data_file + '.*')} to combine",
            "run your program with COVERAGE_PROCESS_START set (or 'covhook run') first",
        )
    return files


def combine(
    cov: coverage.Coverage,
    paths: list[str],
    keep: bool,
    learn_paths: bool = True,
    append: bool = False,
    *,
    replace: bool = False,
) -> Counter[str]:
    """Combine like ``coverage combine``, faster; unusable files named once and kept.

    With ``learn_paths``, files measured in containers are mapped to host
    paths with what the containers recorded (the user's ``[paths]`` first).
    One combine at a time per data directory (:mod:`.combinelock`): one that
    waited for another adds to what that one wrote.  Inputs the combined file
    already holds are not combined again (fastcombine's ``held``), unless
    ``replace``.  Returns the processes per origin that were combined.
    """
    data_file = os.path.abspath(str(cov.get_option("run:data_file")))
    with combinelock.held(os.path.dirname(data_file)) as lock:
        waited = lock.waited
        if lock.locked:
            _forget_stale_outputs(os.path.dirname(data_file))
        processes = _combine_locked(
            cov,
            paths,
            data_file,
            keep=keep,
            learn_paths=learn_paths,
            append=append or waited,
            replace=replace,
            waited=waited,
        )
    cov.load()
    return processes


def _combine_locked(
    cov: coverage.Coverage,
    paths: list[str],
    data_file: str,
    *,
    keep: bool,
    learn_paths: bool,
    append: bool,
    replace: bool,
    waited: bool,
) -> Counter[str]:
    # Issue 8: data files killed processes left in .covhook-work (covhook.host.leftovers).
    for line in leftovers.messages(leftovers.recover(data_file)):
        print(line)
    found = sources.collect(paths, data_file)
    try:
        if not found.files and waited and os.path.isfile(data_file):
            print(
                f"covhook: nothing left to combine: the combine this one waited for "
                f"combined the data files into {quoted(data_file)}"
            )
            return origins.load_processes(data_file) or Counter()
        files = _require(found.files, cov)
        for line in empty_sources(paths, found):
            print(line)
        plan = (
            pathmap.plan(files, data_file, local_roots=local_roots(cov))
            if learn_paths
            else pathmap.Plan([(files, [])])
        )
        configured = cov.get_option("paths")  # coverage 7.10-7.17: a dict of lists
        own = dict(configured) if isinstance(configured, dict) else {}
        groups = [
            fastcombine.Group(group, {**own, **pathmap.as_paths_option(aliases)})
            for group, aliases in plan.groups
        ]
        bar = fastcombine.Bar.for_stream(sys.stderr)
        processes: Counter[str] = Counter()

        def origin_meta(outcome: fastcombine.Outcome) -> list[tuple[str, str]]:
            # One process per data file name: the same file in two artifacts is one process.
            used = {os.path.basename(f): f for f in [*outcome.combined, *outcome.skipped]}
            processes.update(origins.processes_by_origin(list(used.values()), data_file))
            # What ran unmeasured, kept for 'covhook doctor' after the notes are gone.
            notes = unmeasured.collect(os.path.dirname(data_file))
            more = outcome.appended
            return [
                *origins.meta_rows(data_file, processes, append=more, lines=outcome.lines),
                unmeasured.meta_row(data_file, notes, append=more),
            ]

        try:
            outcome = fastcombine.combine(
                groups,
                data_file,
                relative=bool(cov.config.relative_files),
                keep=keep,
                append=append,
                replace=replace,
                progress=bar,
                origin_of=origins.origin_of_context,
                meta=origin_meta,
            )
        except NoDataError as exc:
            raise CovhookError(
                f"no usable data files: {_unusable_list(files, found)}; {quoted(data_file)} was "
                "left as it was",
                "the files were kept; check that they are coverage data files written by "
                f"this coverage version ({coverage.__version__})",
            ) from exc
        finally:
            if bar is not None:
                bar.close()
        for line in outcome_lines(outcome, found, data_file):
            print(line)
        if not outcome.written:
            processes = origins.load_processes(data_file) or Counter()
        if not keep:
            pathmap.forget(files, plan)
            forget_roots(files, data_file)
    finally:
        sources.cleanup(found)
    report_unmeasured(os.path.dirname(data_file), keep)
    report_skipped(os.path.dirname(data_file), keep)
    return processes


def outcome_lines(outcome: fastcombine.Outcome, found: sources.Found, data_file: str) -> list[str]:
    """What a combine says about its inputs beyond the table: one line per kind."""
    lines = []
    if outcome.held:
        if outcome.written:
            done = f"added the other {len(outcome.combined)} to it"
        else:
            done = "nothing new to combine; it was left as it was"
        lines.append(
            f"covhook: {quoted(data_file)} already holds the data of {len(outcome.held)} of "
            f"these data file(s) (an earlier combine took them): {done}. Fix: nothing to do; "
            "to make it from these inputs alone, combine with --replace"
        )
    if outcome.unusable:
        names = ", ".join(f"{quoted(found.name(f))} ({why})" for f, why in outcome.unusable)
        lines.append(
            f"covhook: skipped {len(outcome.unusable)} unusable data file(s): {names}. "
            "Fix: they were kept on disk; delete them once you no longer need them, "
            "the others were combined"
        )
    if outcome.undeleted:
        names = ", ".join(f"{quoted(found.name(f))} ({why})" for f, why in outcome.undeleted)
        lines.append(
            f"covhook: could not delete {len(outcome.undeleted)} combined data file(s): "
            f"{names}. Fix: their data is in {quoted(data_file)} and a later combine skips "
            "them; delete them as a user allowed to"
        )
    return lines


def empty_sources(paths: list[str], found: sources.Found) -> list[str]:
    """One line per named directory or archive that gave no data file."""
    lines = []
    for source in paths:
        if sources.is_archive(source):
            prefix = f"{source}:"
            count = sum(1 for f in found.files if found.name(f).startswith(prefix))
        elif os.path.isdir(source):
            top = os.path.join(os.path.abspath(source), "")
            count = sum(1 for f in found.files if f.startswith(top))
        else:
            continue
        if not count:
            lines.append(
                f"covhook: {quoted(source)} holds no data files to combine; combined the "
                "other inputs. Fix: check that it is the directory or archive you meant "
                "(a combine deletes the data files it combined)"
            )
    return lines


def _forget_stale_outputs(data_dir: str) -> None:
    """Remove the temporary outputs of combines that were killed (none runs: the lock)."""
    prefix = layout.COMBINING_PREFIX
    with contextlib.suppress(OSError):
        for name in os.listdir(data_dir):
            # ``<pid>-<random>.tmp`` (layout.combining_path), ``<pid>.tmp`` before that.
            pid = name.removeprefix(prefix).removesuffix(".tmp").partition("-")[0]
            if not (name.startswith(prefix) and name.endswith(".tmp") and pid.isdigit()):
                continue
            if int(pid) != os.getpid() and _alive(int(pid)):
                continue  # a combine of a covhook without the lock, still at work
            with contextlib.suppress(OSError):
                os.remove(os.path.join(data_dir, name))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def local_roots(cov: coverage.Coverage) -> list[str]:
    """This checkout's root: the directory of the coverage config, else the working dir."""
    config_file = getattr(cov.config, "config_file", None)
    if isinstance(config_file, str) and config_file:
        return [os.path.dirname(os.path.abspath(config_file))]
    return [os.getcwd()]


def forget_roots(files: list[str], data_file: str) -> None:
    """Drop the roots records of data dirs that no longer hold data files."""
    for data_dir in {os.path.dirname(f) for f in files}:
        if not layout.parallel_files(data_file, [data_dir]):
            roots.forget(data_dir)


def _unusable_list(files: list[str], found: sources.Found) -> str:
    shown = [quoted(found.name(f)) for f in files[:5]]
    more = f" and {len(files) - 5} more" if len(files) > 5 else ""
    return ", ".join(shown) + more


def report_unmeasured(data_dir: str, keep: bool) -> None:
    """Say which Python children ran without coverage, and why (notes left by the hook)."""
    found = notes.unmeasured(data_dir)
    if not found:
        return
    for count, note in unmeasured.by_why(found):
        print(notes.unmeasured_line(count, note))
    if not keep:
        notes.forget(data_dir)


def report_skipped(data_dir: str, keep: bool = False) -> None:
    """Print the skipped-by-scope line (if any) and forget the note unless ``keep``."""
    line = notes.skipped_summary(data_dir)
    if line:
        print(line)
        if not keep:
            notes.forget_skipped(data_dir)


def print_paths(cov: coverage.Coverage, paths: list[str]) -> None:
    """Print the ``[paths]`` covhook would learn from ``paths``; combine nothing."""
    data_file = os.path.abspath(str(cov.get_option("run:data_file")))
    found = sources.collect(paths, data_file)
    try:
        plan = pathmap.plan(_require(found.files, cov), data_file, local_roots=local_roots(cov))
    finally:
        sources.cleanup(found)
    for pattern, results in sorted(pathmap.conflicts(plan.aliases).items()):
        print(
            f"# covhook: {pattern} was {' and '.join(sorted(results))} in different "
            "containers: one [paths] cannot express that; 'covhook combine' can"
        )
    print(pathmap.paths_section(plan.aliases), end="")
