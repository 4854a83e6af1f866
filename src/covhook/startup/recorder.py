"""A lean recorder: coverage.py's own C tracer and data format, without ``import coverage``.

``import coverage`` plus ``Coverage.start()`` and ``save()`` cost a measuring
process 70-80 ms of CPU (bench/scope.md); the measuring itself needs three
things: coverage.py's C tracer (``coverage/tracer*.so``, loaded here on its
own), the decision which files to trace, and an SQLite file in coverage.py's
format.  For the configurations where that decision is simple the recorder
does those three and nothing else:

- the configuration is coverage.py's own, serialized: from
  ``COVERAGE_PROCESS_CONFIG`` (a measured parent's ``patch = subprocess``) or
  from covhook's config cache (:func:`covhook.startup.config.cached_serialized`:
  what the last full start made of the same config file, cwd and
  ``COVERAGE_*``/``COVHOOK_*`` variables), as :mod:`covhook.startup.config`
  reads it for every start path;
- which files: coverage.py's own rules (:mod:`.sources_match`): ``[run]
  source`` directories anywhere (also in site-packages: an installed or
  editable package named by path), importable top-level names (``--cov=PKG``,
  ``source_pkgs``), ``include`` and ``omit`` globs (without ``[..]``);
- ``relative_files``, ``branch``, a static ``context``; no plugins but
  covhook's, no dynamic contexts, no debug, the C tracer core (and not 3.14+'s
  default), default concurrency, no periodic flush.

Anything else, or anything that goes wrong while preparing, returns None and
covhook starts coverage.py as before.  The data written is what coverage.py
writes (same schema, file rows, numbits, arcs, context, meta rows, the
not-executed files of the source dirs), tested in tests/test_differential.py
and tests/test_recorder.py.  Off with ``COVHOOK_RECORDER=0``.
"""

from __future__ import annotations

import os
import sys

from covhook import _compat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import FrameType, ModuleType
    from typing import Any

    from covhook.startup.config import Config
    from covhook.startup.sources_match import Sources

PATCHES = frozenset(("_exit", "execv", "subprocess"))


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """``COVHOOK_RECORDER`` (:mod:`covhook.settings`), on by default."""
    from covhook import settings

    return bool(settings.value("recorder", None, environ, problems=[]))


class Ineligible(Exception):
    """The configuration asks for something the recorder does not do."""


def plan(config: Mapping[str, Any], cwd: str) -> Plan:
    """What to record for a decoded serialized config; raise Ineligible if it is not simple."""

    def need(ok: object, why: str) -> None:
        if not ok:
            raise Ineligible(why)

    need(not [p for p in config.get("plugins") or [] if p != "covhook"], "plugins")
    need(not config.get("dynamic_context"), "dynamic_context")
    need(not config.get("debug") and not config.get("debug_file"), "debug")
    need(not config.get("timid") and not config.get("cover_pylib"), "timid/cover_pylib")
    need(not config.get("include_namespace_packages"), "include_namespace_packages")
    # issue 21: the core coverage.py would pick (ctrace, or sys.monitoring:
    # covhook.startup.sysmon_recorder); Ineligible, with a printable reason, else.
    from covhook.startup.sysmon_recorder import core_for

    core = core_for(config)
    need(set(config.get("concurrency") or ()) <= {"thread"}, "concurrency")
    need(set(config.get("patch") or ()) <= PATCHES, "patch")
    need(not config.get("sigterm"), "sigterm")
    need(config.get("parallel") is True, "parallel")
    options = (config.get("plugin_options") or {}).get("covhook") or {}
    need(not options.get("flush_seconds"), "flush_seconds")
    need(isinstance(config.get("data_file"), str), "data_file")
    from covhook.startup import sources_match

    try:
        sources = sources_match.Sources(config, cwd)
    except ValueError as exc:
        raise Ineligible(str(exc)) from None
    relative = None
    if config.get("relative_files"):
        # coverage.files.set_relative_directory, run when coverage starts.
        relative = os.path.normcase(sources_match.abs_file(cwd)).rstrip(os.sep) + os.sep
    return Plan(
        sources=sources,
        relative=relative,
        branch=bool(config.get("branch")),
        data_file=os.path.abspath(os.path.expanduser(config["data_file"])),
        context=config.get("context"),
        patch=frozenset(config.get("patch") or ()),
        options=options,
        core=core,
    )


class Plan:
    """The decided settings of one recording."""

    def __init__(
        self,
        *,
        sources: Sources,
        relative: str | None,
        branch: bool,
        data_file: str,
        context: str | None,
        patch: frozenset[str],
        options: Mapping[str, Any],
        core: str = "ctrace",
    ) -> None:
        self.core = core  # "ctrace" or "sysmon" (issue 21)
        self.sources = sources
        self.relative = relative  # relative_files: file names under it are stored relative
        self.branch = branch
        self.data_file = data_file
        self.context = context
        self.patch = patch
        self.options = options


# --- tracing --------------------------------------------------------------------


class Recorder:
    """One process's recording: a C tracer per thread, the data, and saving it."""

    def __init__(self, tracer_module: ModuleType, the_plan: Plan, version: str) -> None:
        import threading

        self.plan = the_plan
        self.version = version
        self._module = tracer_module
        self._threading = threading
        self._lock = threading.Lock()
        self.data: dict[str, set[int]] = {}
        self.file_tracers: dict[str, str] = {}
        self.cache: dict[str, Any] = {}
        self.tracers: list[Any] = []
        self.started = False
        self.data_file = the_plan.data_file
        self.context = the_plan.context
        self._suffix_pid = -1
        self._suffix = ""
        self._written: dict[int, str] = {}
        self.format = _compat.DataFormat(28, new_suffix=True, argv_meta=True, hashes=False)
        self.serialized: str | None = None
        self.raw: Mapping[str, Any] = {}
        self.config_file: str | None = None
        self.save: Callable[[], None] = self._save  # route_saves replaces it

    def get_option(self, name: str) -> Any:
        """``run:source`` and ``run:source_dirs``, what :func:`covhook.roots.record` reads.

        The recorder is a ``Measurer`` for the start sequence
        (``covhook.startup.boot.arm``), never a ``Coverage``: this is the one
        option anything asks it for.
        """
        if name in ("run:source", "run:source_dirs"):
            return list(self.raw.get(name[4:]) or [])
        return None

    def should_trace(self, filename: str, frame: FrameType | None) -> Any:
        """coverage.inorout.InOrOut.should_trace for source dirs and omit prefixes."""
        disp = self._module.CFileDisposition()
        disp.original_filename = filename
        disp.canonical_filename = filename
        disp.source_filename = None
        disp.trace = False
        disp.reason = ""
        disp.file_tracer = None
        disp.has_dynamic_filename = False
        if filename.startswith("<"):
            return disp
        original = filename
        if frame is not None:
            dunder_file = frame.f_globals and frame.f_globals.get("__file__")
            if dunder_file:
                from covhook.startup.sources_match import source_for_file

                filename = source_for_file(str(dunder_file))
                if original and os.path.basename(original) != os.path.basename(filename):
                    filename = original
        if not filename or filename.startswith(("memory:", "<")):
            return disp
        canonical = _canonical_cached(filename)
        disp.canonical_filename = canonical
        disp.source_filename = canonical
        if self.plan.sources.traced(canonical, frame):
            disp.trace = True
        return disp

    def _check_include(self, filename: str, frame: FrameType | None) -> bool:
        return self.plan.sources.traced(filename, frame)

    def _start_tracer(self) -> Any:
        tracer = self._module.CTracer()
        tracer.data = self.data
        tracer.lock_data = self._lock.acquire
        tracer.unlock_data = self._lock.release
        tracer.trace_arcs = self.plan.branch
        tracer.should_trace = self.should_trace
        tracer.should_trace_cache = self.cache
        tracer.warn = _ignore
        tracer.concur_id_func = None
        tracer.file_tracers = self.file_tracers
        tracer.check_include = self._check_include
        tracer.should_start_context = None
        tracer.switch_context = None
        tracer.disable_plugin = _ignore
        fn = tracer.start()
        self.tracers.append(tracer)
        return fn

    def _installation_trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        """coverage.collector.Collector._installation_trace: start tracing a new thread."""
        sys.settrace(None)
        fn = self._start_tracer()
        if fn:
            fn = fn(frame, event, arg)
        return fn

    def start(self) -> None:
        self._start_tracer()
        self._threading.settrace(self._installation_trace)
        self.started = True

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        for tracer in self.tracers:
            tracer.stop()
        self._threading.settrace(None)

    # --- covhook.startup.boot.Measurer: boot.arm runs these, in this order ----

    @property
    def options(self) -> Mapping[str, Any]:
        return self.plan.options

    @property
    def coverage(self) -> None:
        return None  # no coverage.py object: nothing of coverage.py's to harden or wrap

    def data_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.data_file))

    def configure(self) -> None:
        """The settings, the origin tag (covhook.startup.plugin's, without coverage.py)."""
        from covhook import settings

        settings.for_process(self.options)
        _tag(self, self.options)
        if "subprocess" in self.plan.patch and self.serialized:
            os.environ["COVERAGE_PROCESS_CONFIG"] = self.serialized

    def begin(self) -> None:
        """Trace, save at exit, and coverage.py's ``patch = _exit / execv`` saves."""
        import atexit

        from covhook.startup import defaults

        self.start()
        atexit.register(_at_exit, self)

        def save() -> None:
            self.save()  # looked up when called: route_saves replaces it

        if "_exit" in self.plan.patch:
            defaults.save_before_exit(save)
        if "execv" in self.plan.patch:
            defaults.save_before_exec(save, self.serialized)

    def route_saves(self, save: Callable[[], None]) -> Callable[[], None]:
        original, self.save = self.save, save
        return original

    def publish(self) -> None:
        """Nothing: every save is written whole and renamed; no periodic flush (plan())."""

    def remember(self) -> None:
        """Nothing: the config cache the recorder reads is written by the full start."""

    # --- saving ---------------------------------------------------------------

    def _filename(self) -> str:
        """``<data_file>.<host>.pid<N>.X<6 random>x``, made again after a fork."""
        pid = os.getpid()
        if pid != self._suffix_pid:
            # coverage.py rolls its six with ``random``; os.urandom spares
            # every process that module (0.5 ms with math and bisect).
            host = _hostname()
            if self.format.new_suffix:
                rolls = "".join(_ASCII[b % len(_ASCII)] for b in os.urandom(6))
                self._suffix = f"{host.replace('.', '_')}.pid{pid}.X{rolls}x"
            else:
                rolls = "".join(_LETTERS[b % len(_LETTERS)] for b in os.urandom(6))
                self._suffix = f"{host}.{pid}.X{rolls}x"
            self._suffix_pid = pid
        return f"{self.data_file}.{self._suffix}"

    def lines_and_arcs(self) -> tuple[dict[str, set[int]], dict[str, list[tuple[int, int]]]]:
        """The recorded data as coverage.py's collector hands it to ``CoverageData``.

        The same copies in the same order as ``Collector.flush_data``: the
        order of the arcs goes into the data hash of coverage 7.13+.
        """
        data = self.data.copy()
        name = self._mapped
        if not self.plan.branch:
            return {name(n): values.copy() for n, values in data.items()}, {}
        bits = self.format.arc_bits
        # The order of the arcs goes into the data hash: iterate as coverage does.
        copied = self.format.arcs_copied
        return {}, {
            name(n): [_unpack(p, bits) for p in (packed.copy() if copied else list(packed))]
            for n, packed in data.items()
        }

    def _mapped(self, filename: str) -> str:
        """The collector's file_mapper: coverage.files.relative_filename with relative_files."""
        top = self.plan.relative
        if top is not None and os.path.normcase(filename).startswith(top):
            return filename[len(top) :]
        return filename

    def _save(self) -> None:
        """Write the whole recording to this process's data file (atomically, by rename)."""
        lines, arcs = self.lines_and_arcs()
        measured = lines or arcs
        if not measured and not any(t.activity() for t in self.tracers):
            # coverage.py writes no file when its tracers saw nothing at all;
            # when they saw code but none in scope, it writes the source
            # files as not executed (and no context row), as below.
            return
        unexecuted = self._source_files()
        final = self._filename()
        digest = None
        if self.format.hashes and not self.format.query_hash:
            digest = _data_hash(self.context, lines, arcs)
            final += f".H{_short_hash(digest)}h"
        directory = os.path.dirname(final)
        os.makedirs(directory, exist_ok=True)
        from covhook.layout import TMP_PREFIX

        # Written whole, then renamed: a reader never sees half a file, and
        # `covhook combine` removes the temp of a process killed meanwhile.
        tmp = os.path.join(directory, f"{TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}")
        _write(
            tmp,
            version=self.version,
            branch=self.plan.branch,
            context=self.context,
            lines=lines,
            arcs=arcs,
            unexecuted=unexecuted,
            argv_meta=self.format.argv_meta,
            schema=self.format.schema,
            digest=digest,
            commits_after=int(self.format.query_hash),  # _hash_written's commit
        )
        if self.format.query_hash:
            final += f".H{_short_hash(_hash_written(tmp))}h"
        try:
            os.replace(tmp, final)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        last = self._written.get(self._suffix_pid)
        if last is not None and last != final:
            # A later save with more data has a new hash, so a new name (as
            # coverage.py renames its file): the old one goes.
            try:
                os.remove(last)
            except OSError:
                pass
        self._written[self._suffix_pid] = final

    def _source_files(self) -> list[str]:
        """coverage.inorout.InOrOut.find_possibly_unexecuted_files for source dirs."""
        found = []
        sources = self.plan.sources
        for src in sources.unexecuted_roots():
            for i, (dirpath, dirnames, filenames) in enumerate(os.walk(src)):
                if i > 0 and "__init__.py" not in filenames:
                    del dirnames[:]
                    continue
                for name in filenames:
                    if _importable_name(name):
                        path = _canonical_cached(os.path.join(dirpath, name))
                        if not sources.omitted(path):
                            found.append(self._mapped(path))
        return found


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # coverage 7.10
_ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # 7.13+


def _hostname() -> str:
    """``socket.gethostname()`` (what coverage.py puts in the name), without socket on POSIX."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


_FUNNY = frozenset(".#~!$@%^&*()+=,")
_CANONICAL: dict[str, str] = {}


def _importable_name(name: str) -> bool:
    """``re.fullmatch(r"[^.#~!$@%^&*()+=,]+\\.pyw?", name)`` without ``re``."""
    for ext in (".py", ".pyw"):
        if name.endswith(ext):
            stem = name[: -len(ext)]
            return bool(stem) and not (set(stem) & _FUNNY) and "\n" not in stem
    return False


def _canonical_cached(filename: str) -> str:
    found = _CANONICAL.get(filename)
    if found is None:
        from covhook.startup.sources_match import canonical

        found = _CANONICAL[filename] = canonical(filename)
    return found


def _unpack(packed: int, bits: int) -> tuple[int, int]:
    """An arc packed by the C tracer (``CTracer_record_pair``), as coverage.collector unpacks it.

    ``bits`` a line number: 28 (coverage 7.13+) or 20 (7.10); the two bits
    above both numbers are their signs.
    """
    mask = (1 << bits) - 1
    l1 = packed & mask
    l2 = (packed & (mask << bits)) >> bits
    if packed & (1 << (2 * bits)):
        l1 *= -1
    if packed & (1 << (2 * bits + 1)):
        l2 *= -1
    return l1, l2


def _data_hash(
    context: str | None, lines: dict[str, set[int]], arcs: dict[str, list[tuple[int, int]]]
) -> Any:
    """coverage.misc.Hasher fed as a fresh ``CoverageData`` feeds it in one save.

    ``set_context`` (from ``Collector.use_data``), then per file its name and
    its numbits (lines) or its list of arcs.
    """
    h = _Hasher()
    h.update(context)
    for name, nums in lines.items():
        h.update(name)
        h.update(numbits(nums))
    for name, pairs in arcs.items():
        h.update(name)
        h.update(pairs)
    return h


class _Hasher:
    """coverage.misc.Hasher for the values a data hash holds (None, str, bytes, int, sequences)."""

    def __init__(self) -> None:
        self.hash = _compat.sha3_256()

    def update(self, v: Any) -> None:
        h = self.hash
        h.update(str(type(v)).encode("utf-8"))
        if isinstance(v, str):
            h.update(f"{len(v)}:".encode())
            h.update(v.encode("utf-8"))
        elif isinstance(v, bytes):
            h.update(f"{len(v)}:".encode())
            h.update(v)
        elif isinstance(v, int):
            h.update(str(v).encode("utf-8"))
        elif isinstance(v, (tuple, list)):
            for e in v:
                self.update(e)
        h.update(b".")

    def digest(self) -> bytes:
        return bytes(self.hash.digest())

    def hexdigest(self) -> str:
        """``Hasher.hexdigest``: the first 32 hex digits."""
        return str(self.hash.hexdigest())[:32]


def _hash_written(path: str) -> Any:
    """coverage 7.17.5's ``CoverageData._hash_data``, then its ``hash`` meta row, on ``path``.

    The hash is made from what the file holds (each of ``_compat.HASH_QUERIES``
    and ``repr`` of its rows, 1000 at a time), so it is the same whatever order
    the data was recorded in.
    """
    h = _Hasher()
    con = _compat.sqlite_connect(path)
    try:
        # As _write (and coverage.py): no journal, no fsync.  SQLite's defaults
        # cost the one-row write below a journal and 3-4 fdatasync calls, tens
        # of milliseconds of wall time on a disk (issue 21).
        con.execute("pragma journal_mode=off")
        con.execute("pragma synchronous=off")
        for query in _compat.HASH_QUERIES:
            h.update(query)
            cur = con.execute(query)
            while rows := cur.fetchmany(1000):
                h.update(repr(rows))
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hash', ?)", (h.hexdigest(),))
    finally:
        con.close()
    return h


def _short_hash(digest: Any) -> str:
    """``CoverageData._data_hash``: 10 characters of base64 with ``01`` for ``+/``."""
    import binascii

    text = binascii.b2a_base64(digest.digest(), newline=False).decode()
    return text.replace("+", "0").replace("/", "1")[:10]


def _ignore(*_args: Any, **_kwargs: Any) -> None:
    return None


def numbits(nums: set[int]) -> bytes:
    """coverage.numbits.nums_to_numbits."""
    if not nums:
        return b""
    b = bytearray(max(nums) // 8 + 1)
    for num in nums:
        b[num // 8] |= 1 << num % 8
    return bytes(b)


def _write(
    path: str,
    *,
    version: str,
    branch: bool,
    context: str | None,
    lines: dict[str, set[int]],
    arcs: dict[str, list[tuple[int, int]]],
    unexecuted: list[str],
    argv_meta: bool,
    schema: str,
    digest: Any = None,
    arc_bits: bool = True,
    commits_after: int = 0,
) -> None:
    """Write a data file as coverage.py's ``CoverageData`` writes a fresh one.

    With branch data and ``arc_bits``, also covhook's bitmaps of each file's
    arcs (:mod:`covhook.arcbits`), which coverage.py ignores, sealed with the
    change counter the file has after this and ``commits_after`` more commits.
    """
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    con = _compat.sqlite_connect(path)
    try:
        con.execute("pragma journal_mode=off")
        con.execute("pragma synchronous=off")
        con.executescript(schema)
        con.execute("begin")
        if branch and arc_bits:
            from covhook import arcbits

            counter = arcbits.change_counter(path)  # before this transaction's first write
        con.execute(
            "INSERT INTO coverage_schema (version) VALUES (?)", (_compat.DATA_SCHEMA_VERSION,)
        )
        meta = [("version", version)]
        if argv_meta:
            import time  # not datetime: the same local time, 0.3 ms cheaper

            meta.append(("sys_argv", str(getattr(sys, "argv", None))))
            meta.append(("when", time.strftime("%Y-%m-%d %H:%M:%S")))
        meta.append(("has_arcs", str(int(branch))))
        if digest is not None:
            meta.append(("hash", digest.hexdigest()[:32]))  # Hasher.hexdigest
        con.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", meta)
        if lines or arcs:  # CoverageData adds the context with the first data
            con.execute("INSERT INTO context (context) VALUES (?)", (context or "",))
        context_id = 1
        ids: dict[str, int] = {}
        # File rows in coverage.py's order: the measured files (``add_arcs``
        # skips a file without arcs), then the others it touches.
        for name in [*lines, *(n for n, pairs in arcs.items() if pairs), *unexecuted]:
            if name not in ids:
                cur = con.execute("INSERT INTO file (path) VALUES (?)", (name,))
                ids[name] = int(cur.lastrowid or 0)
        if branch:
            rows = [
                (ids[n], context_id, a, b) for n, pairs in arcs.items() if pairs for a, b in pairs
            ]
            con.executemany(
                "INSERT OR IGNORE INTO arc (file_id, context_id, fromno, tono) VALUES (?, ?, ?, ?)",
                rows,
            )
            if arc_bits:
                # The same arcs again as bitmaps, what makes combining them fast.
                con.execute(arcbits.CREATE)
                con.executemany(
                    arcbits.INSERT,
                    [(ids[n], context_id, *arcbits.encode(p)) for n, p in arcs.items() if p],
                )
                if counter is not None:
                    con.execute(arcbits.SEAL_INSERT, (str(counter + 1 + commits_after),))
        else:
            con.executemany(
                "INSERT INTO line_bits (file_id, context_id, numbits) VALUES (?, ?, ?)",
                [(ids[n], context_id, numbits(nums)) for n, nums in lines.items()],
            )
        con.execute("commit")
    finally:
        con.close()


# --- preparing and starting ------------------------------------------------------

# coverage.py's variables that ask for what the recorder does not do.
# (COVERAGE_CORE: plan() picks the core as coverage.py does, issue 21.)
_REFUSE_ENV = ("COVERAGE_DEBUG", "COVERAGE_DEBUG_FILE")


def _refused(environ: Mapping[str, str]) -> bool:
    """The environment asks for what the recorder does not do (also covhook's periodic flush)."""
    from covhook import settings

    return any(environ.get(name) for name in _REFUSE_ENV) or bool(
        settings.raw("flush_seconds", None, environ)
    )


def prepare(
    found: Config | None = None, environ: Mapping[str, str] = os.environ
) -> Recorder | None:
    """A recorder ready to start, or None when covhook must start coverage.py itself.

    ``found``: this process's configuration (:mod:`.config`), read here if None.
    """
    if not wanted(environ) or _refused(environ):
        return None
    if sys.modules.get("coverage") is not None:
        return None  # the program imported coverage itself: it may want Coverage.current()
    try:
        from covhook.startup import config

        given = config.recorder_config(found or config.read(environ), environ)
        if given is None:
            return None
        text, raw = given
        the_plan = plan(raw, os.getcwd())
        directory = _compat.coverage_dir()
        # Known data format first: once the C tracer is loaded, coverage.py
        # imported later in this process must share it (_compat.load_ctracer).
        fmt = _compat.data_format(directory) if directory else None
        if fmt is None or directory is None:
            return None
        rec: Recorder
        if the_plan.core == "sysmon":  # issue 21: coverage.py's sys.monitoring core
            from covhook.startup import sysmon_recorder

            rec = sysmon_recorder.SysmonRecorder(the_plan, _compat.coverage_version(directory))
        else:
            loaded = _compat.load_ctracer(directory)
            if loaded is None:
                return None
            module, version = loaded
            rec = Recorder(module, the_plan, version)
    except Exception:
        return None
    rec.serialized = text
    rec.raw = raw
    rec.config_file = raw.get("config_file")
    rec.format = fmt
    return rec


def _at_exit(rec: Recorder) -> None:
    """coverage.Coverage._atexit: stop, then save."""
    rec.stop()
    rec.save()


def _tag(
    rec: Recorder, options: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> None:
    """covhook.plugin.tag for the recorder (that module imports coverage)."""
    from covhook import layout, origin, settings

    chosen = settings.value("origin", options, environ, problems=[])
    if chosen and not settings.raw("origin", None, environ):
        environ = {**environ, "COVHOOK_ORIGIN": str(chosen)}
    found = origin.detect(environ)
    base, _old_tag = layout.split_tagged_path(os.path.abspath(rec.data_file))
    rec.data_file = f"{base}.{found.tag}"
    _record_roots(os.path.dirname(base), rec)
    from covhook.startup import testcontext

    configured = rec.context
    rec.context = testcontext.static_context(found.tag, configured, environ)
    if rec.context != found.tag:
        testcontext.follow_forks(lambda new: setattr(rec, "context", new), found.tag, configured)


def _record_roots(data_dir: str, rec: Recorder) -> None:
    """covhook.plugin.record_roots (the same warning)."""
    from covhook import roots

    try:
        roots.record(data_dir, rec)
    except OSError:
        return
    except Exception as exc:
        from covhook._warn import warn

        warn(
            f"could not record this project's location in {data_dir} ({exc!r}); "
            "combining on another machine will not map its paths",
            "make the data directory writable, or add [paths] by hand",
        )
