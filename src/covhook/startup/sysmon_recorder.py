"""The lean recorder for coverage.py's ``sys.monitoring`` core (Python 3.12+).

coverage.py measures with ``sys.monitoring`` (PEP 669) when ``core = sysmon``
is asked for on 3.12+, and by default from 3.14.  Its data differ from the C
tracer's (other line events, other arcs on 3.14), so the C-tracer recorder
(:mod:`covhook.startup.recorder`) cannot stand in for it.  This module does
what ``coverage.sysmon.SysMonitor`` does, rule for rule, without importing
coverage.py (``coverage.sysmon`` alone pulls in ``inspect``, ``coverage.parser``
and the whole package: most of what the recorder saves):

- ``PY_START`` once per code object: ``__annotate__`` code is ignored; the
  file decided with the recorder's ``should_trace`` (coverage's ``InOrOut``
  rules) and cached per file name; a traced code object gets local ``LINE``
  events (with branches also ``PY_RETURN``, ``BRANCH_LEFT``, ``BRANCH_RIGHT``);
- lines: each ``LINE`` adds the line once (then ``DISABLE``);
- arcs (3.14+ only: coverage falls back to its C tracer on 3.12/3.13): a
  ``LINE`` adds ``(line, line)`` and the arc from the last line of that code
  object; ``PY_RETURN`` adds ``(last line, -first line)``; a branch event is
  resolved to an arc by walking the bytecode (``coverage.bytecode.
  BranchArcResolver``) with the file's multi-line statement map
  (``coverage.parser.multiline_map_from_text``).

The saving, naming, data format and everything around the recording are the
recorder's.  Only used when the installed coverage's sys.monitoring sources
are ones covhook checked (``_compat.sysmon_core_problem``), so the data are
coverage's own; tests/test_sysmon_recorder.py and tests/test_differential.py
compare them.  :func:`core_for` decides the core as ``coverage.core.Core``
does; ``recorder.plan()`` calls it, keeps the answer in ``Plan.core``, and
raises ``recorder.Ineligible`` with a printable sentence when the recorder
steps aside (for ``covhook status``).
"""

from __future__ import annotations

import os
import sys

from covhook import _compat
from covhook.startup import recorder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import CodeType, FrameType
    from typing import Any

    from covhook.startup.recorder import Plan


class Disposition:
    """``coverage.disposition.FileDisposition``: what ``should_trace`` decided for a file."""

    __slots__ = (
        "canonical_filename",
        "file_tracer",
        "has_dynamic_filename",
        "original_filename",
        "reason",
        "source_filename",
        "trace",
    )

    def __init__(self) -> None:
        self.original_filename = ""
        self.canonical_filename = ""
        self.source_filename: str | None = None
        self.trace = False
        self.reason = ""
        self.file_tracer = None
        self.has_dynamic_filename = False


class _Dispositions:
    """What :meth:`Recorder.should_trace` asks of the tracer module: its disposition class."""

    CFileDisposition = Disposition


class _CodeInfo:
    """``coverage.sysmon.CodeInfo``: what is known of one code object."""

    __slots__ = ("branch_resolver", "byte_to_line", "file_data", "last_line", "tracing")

    def __init__(
        self, tracing: bool, file_data: set[Any] | None, byte_to_line: dict[int, int] | None
    ) -> None:
        self.tracing = tracing
        self.file_data = file_data
        self.byte_to_line = byte_to_line
        self.branch_resolver: BranchArcResolver | None = None
        self.last_line: int | None = None


class Monitor:
    """``coverage.sysmon.SysMonitor``: one for the process, every thread."""

    def __init__(
        self,
        data: dict[str, set[Any]],
        trace_arcs: bool,
        should_trace: Callable[[str, FrameType | None], Any],
        cache: dict[str, Any],
        lock: Any,
    ) -> None:
        import threading

        self.data = data
        self.trace_arcs = trace_arcs
        self.should_trace = should_trace
        self.should_trace_cache = cache
        self.lock_data = lock.acquire
        self.unlock_data = lock.release
        self.mon: Any = sys.__dict__["monitoring"]  # 3.12+ (mypy checks as 3.11)
        self.myid = self.mon.COVERAGE_ID
        self.code_infos: dict[int, _CodeInfo] = {}
        self.code_objects: list[CodeType] = []  # kept alive: their ids are keys
        self.multiline_maps: dict[str, dict[int, int]] = {}
        self.sysmon_on = False
        self.lock = threading.Lock()
        self._activity = False

    def local_events(self) -> int:
        events = self.mon.events
        local = events.LINE
        if self.trace_arcs:
            local |= events.PY_RETURN | events.BRANCH_RIGHT | events.BRANCH_LEFT
        return int(local)

    def start(self) -> None:
        mon = self.mon
        local_events = self.local_events()
        with self.lock:
            while self.myid <= 5:
                try:
                    mon.use_tool_id(self.myid, "coverage.py")
                    break
                except ValueError:
                    self.myid += 1
            else:
                raise RuntimeError("No sys.monitoring tool id is available")
            events = mon.events
            mon.set_events(self.myid, events.PY_START)
            mon.register_callback(self.myid, events.PY_START, self.sysmon_py_start)
            if self.trace_arcs:
                mon.register_callback(self.myid, events.PY_RETURN, self.sysmon_py_return)
                mon.register_callback(self.myid, events.LINE, self.sysmon_line_arcs)
                mon.register_callback(self.myid, events.BRANCH_RIGHT, self.sysmon_branch_either)
                mon.register_callback(self.myid, events.BRANCH_LEFT, self.sysmon_branch_either)
            else:
                mon.register_callback(self.myid, events.LINE, self.sysmon_line_lines)
            mon.restart_events()
            self.sysmon_on = True
            # Started again (3.14 clears local events in free_tool_id): as coverage 7.18.
            for code in self.code_objects:
                if self.code_infos[id(code)].tracing:
                    mon.set_local_events(self.myid, code, local_events)

    def stop(self) -> None:
        with self.lock:
            if not self.sysmon_on:
                return
            self.mon.set_events(self.myid, 0)
            self.sysmon_on = False
            self.mon.free_tool_id(self.myid)

    def activity(self) -> bool:
        return self._activity

    def reset_activity(self) -> None:
        self._activity = False

    def sysmon_py_start(self, code: CodeType, instruction_offset: int) -> Any:
        self._activity = True
        if code.co_name == "__annotate__":
            return self.mon.DISABLE  # annotation code objects do not run
        if self.code_infos.get(id(code)) is not None:
            return self.mon.DISABLE
        filename = code.co_filename
        disp = self.should_trace_cache.get(filename)
        if disp is None:
            # coverage passes the frame of the starting code (inspect.currentframe().f_back).
            disp = self.should_trace(filename, _compat.caller_frame(1))
            self.should_trace_cache[filename] = disp
        tracing = bool(disp.trace)
        file_data: set[Any] | None = None
        b2l = None
        if tracing:
            tracename = disp.source_filename
            self.lock_data()
            try:
                if tracename not in self.data:
                    self.data[tracename] = set()
            finally:
                self.unlock_data()
            file_data = self.data[tracename]
            b2l = bytes_to_lines(code) if self.trace_arcs else None
        self.code_infos[id(code)] = _CodeInfo(tracing, file_data, b2l)
        self.code_objects.append(code)
        if tracing:
            local_events = self.local_events()
            with self.lock:
                if self.sysmon_on:
                    self.mon.set_local_events(self.myid, code, local_events)
        return self.mon.DISABLE

    def sysmon_py_return(self, code: CodeType, instruction_offset: int, retval: object) -> Any:
        info = self.code_infos.get(id(code))
        if info is not None and info.byte_to_line is not None and info.file_data is not None:
            last_line = info.byte_to_line.get(instruction_offset)
            if last_line is not None:
                info.file_data.add((last_line, -code.co_firstlineno))
            # The frame ends: the next line seen belongs to another frame.
            info.last_line = None
        return self.mon.DISABLE

    def sysmon_line_lines(self, code: CodeType, line_number: int) -> Any:
        info = self.code_infos.get(id(code))
        if info is not None and info.file_data is not None:
            info.file_data.add(line_number)
        return self.mon.DISABLE

    def sysmon_line_arcs(self, code: CodeType, line_number: int) -> Any:
        info = self.code_infos.get(id(code))
        if info is not None and info.file_data is not None:
            info.file_data.add((line_number, line_number))
            # The true sequential transition in this frame (coverage #2167).
            last_line = info.last_line
            if last_line is not None and last_line != line_number:
                info.file_data.add((last_line, line_number))
            info.last_line = line_number
        return self.mon.DISABLE

    def sysmon_branch_either(
        self, code: CodeType, instruction_offset: int, destination_offset: int
    ) -> Any:
        info = self.code_infos.get(id(code))
        if info is None or info.file_data is None or info.byte_to_line is None:
            return self.mon.DISABLE
        resolver = info.branch_resolver
        if resolver is None:
            resolver = info.branch_resolver = BranchArcResolver(
                code, info.byte_to_line, self.get_multiline_map(code.co_filename)
            )
        arc = resolver.resolve(instruction_offset, destination_offset)
        if arc is not None:
            info.file_data.add(arc)
        else:
            # Perhaps an exception jumping from line to line.
            l1 = info.byte_to_line.get(instruction_offset)
            if l1 is not None:
                l2 = info.byte_to_line.get(destination_offset)
                if l2 is not None and l1 != l2:
                    info.file_data.add((l1, l2))
        return self.mon.DISABLE

    def get_multiline_map(self, filename: str) -> dict[int, int]:
        found = self.multiline_maps.get(filename)
        if found is None:
            found = self.multiline_maps[filename] = compute_multiline_map(filename)
        return found


# --- coverage.bytecode ---------------------------------------------------------


def bytes_to_lines(code: CodeType) -> dict[int, int]:
    """``coverage.bytecode.bytes_to_lines``: byte code offset to line number."""
    b2l = {}
    for bstart, bend, lineno in code.co_lines():
        if lineno is not None:
            for boffset in range(bstart, bend, 2):
                b2l[boffset] = lineno
    return b2l


class _Opcodes:
    """The opcode sets ``coverage.bytecode`` resolves branches with (made on first use)."""

    def __init__(self) -> None:
        # ``opcode``: what ``dis`` takes these tables from (the same objects on
        # 3.11-3.15), without ``dis``'s own imports (~1 ms).
        import opcode as dis

        def op_set(*names: str) -> set[int]:
            return {op for name in names if (op := dis.opmap.get(name))}

        self.always_jumps = op_set("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_FORWARD")
        self.returns = op_set("RETURN_VALUE", "RETURN_GENERATOR")
        self.no_fall_through = op_set("RERAISE")
        self.cache = dis.opmap.get("CACHE", -1)
        self.extended_arg = dis.opmap["EXTENDED_ARG"]
        self.jumps = set(dis.hasjrel) | set(dis.hasjabs)
        self.backward_jumps = {op for op in self.jumps if "JUMP_BACKWARD" in dis.opname[op]}


_OPS: list[_Opcodes] = []


class BranchArcResolver:
    """``coverage.bytecode.BranchArcResolver``: a branch event's offsets as an arc.

    From the destination, follow the instructions (through unconditional
    jumps) to the first on another source line (the arc), a return (an arc
    out of the code object), or another branch (no arc: it has its own events).
    """

    def __init__(
        self, code: CodeType, byte_to_line: Mapping[int, int], multiline_map: Mapping[int, int]
    ) -> None:
        if not _OPS:
            _OPS.append(_Opcodes())
        self.ops = _OPS[0]
        self.code = code
        self.co_code = code.co_code
        self.byte_to_line = byte_to_line
        self.multiline_map = multiline_map

    def line_at(self, offset: int) -> int | None:
        line = self.byte_to_line.get(offset)
        if line is not None:
            line = self.multiline_map.get(line, line)
        return line

    def resolve(self, source: int, dest: int) -> tuple[int, int] | None:
        from_line = self.line_at(source)
        if from_line is None:
            return None
        ops = self.ops
        co_code = self.co_code
        max_offset = len(co_code)
        byte_to_line = self.byte_to_line
        multiline_map = self.multiline_map
        offset = dest
        ext_arg = 0
        seen: set[int] = set()
        while 0 <= offset < max_offset and offset not in seen:
            seen.add(offset)
            op = co_code[offset]
            if op == ops.cache:
                offset += 2
                continue
            if op == ops.extended_arg:
                ext_arg = (ext_arg | co_code[offset + 1]) << 8
                offset += 2
                continue
            line = byte_to_line.get(offset)
            if line is not None:
                line = multiline_map.get(line, line)
                if line and line != from_line:
                    return (from_line, line)
            if op in ops.jumps:
                if op in ops.always_jumps:
                    arg = ext_arg | co_code[offset + 1]
                    # Jumps count from the end of the instruction's CACHE entries.
                    next_offset = offset + 2
                    while next_offset < max_offset and co_code[next_offset] == ops.cache:
                        next_offset += 2
                    if op in ops.backward_jumps:
                        offset = next_offset - 2 * arg
                    else:
                        offset = next_offset + 2 * arg
                    ext_arg = 0
                    continue
                return None
            if op in ops.returns:
                return (from_line, -self.code.co_firstlineno)
            if op in ops.no_fall_through:
                return None
            ext_arg = 0
            offset += 2
        return None


# --- coverage.parser / coverage.python: the multi-line statement map -----------


def compute_multiline_map(filename: str) -> dict[int, int]:
    """``coverage.sysmon.compute_multiline_map``: {line: first line of its statement}."""
    try:
        text = get_python_source(filename)
    except OSError:
        return {}
    try:
        return multiline_map_from_text(text)
    except Exception as exc:  # tokenize.TokenError, IndentationError, SyntaxError
        if isinstance(exc, SyntaxError) or type(exc).__name__ == "TokenError":
            return {}  # not Python (a template's code): coverage uses no map either
        raise


def multiline_map_from_text(text: str) -> dict[int, int]:
    """``coverage.parser.multiline_map_from_text`` (``multiline_map_from_tokens``)."""
    import token

    multiline_map: dict[int, int] = {}
    first_line = 0
    tokens = _compat.source_tokens(text)
    for toktype, ttext, (slineno, _), (elineno, _), _ in tokens:
        if toktype == token.NEWLINE:
            if first_line and elineno != first_line:
                for lineno in range(first_line, elineno + 1):
                    multiline_map[lineno] = first_line
            first_line = 0
        if ttext.strip() and toktype != token.COMMENT and not first_line:
            first_line = slineno
    return multiline_map


def get_python_source(filename: str) -> str:
    """``coverage.python.get_python_source`` (POSIX): the text, decoded as Python decodes it.

    OSError when there is none (coverage's NoSource).
    """
    if os.path.exists(filename):
        with open(filename, "rb") as f:
            source = f.read().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    else:
        zipped = _zip_bytes(filename)
        if zipped is None:
            raise OSError(f"No source for code: {filename!r}")
        source = zipped
    source = source.replace(b"\f", b" ")
    encoding = _compat.source_encoding(source)
    text = source.decode(encoding, "replace")
    if text and text[-1] != "\n":
        text += "\n"
    return text


def _zip_bytes(filename: str) -> bytes | None:
    """``coverage.python.get_zip_bytes`` with ``coverage.files.zip_location``."""
    for ext in (".zip", ".whl", ".egg", ".pex", ".par"):
        zipbase, extension, inner = filename.partition(ext + "/")
        if extension and os.path.exists(zipbase + ext):
            import zipimport

            try:
                return bytes(zipimport.zipimporter(zipbase + ext).get_data(inner))
            except (zipimport.ZipImportError, OSError):
                return None
    return None


# --- the recorder --------------------------------------------------------------


class SysmonRecorder(recorder.Recorder):
    """The recorder with :class:`Monitor` instead of coverage's C tracer."""

    def __init__(self, the_plan: Plan, version: str) -> None:
        super().__init__(_Dispositions, the_plan, version)  # type: ignore[arg-type]
        self.monitor: Monitor | None = None

    def start(self) -> None:
        if self.monitor is None:
            self.monitor = Monitor(
                self.data, self.plan.branch, self.should_trace, self.cache, self._lock
            )
            self.tracers.append(self.monitor)
        self.monitor.start()
        self.started = True

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        if self.monitor is not None:
            self.monitor.stop()

    def lines_and_arcs(self) -> tuple[dict[str, set[int]], dict[str, list[tuple[int, int]]]]:
        """As ``Collector.flush_data`` hands sysmon data to ``CoverageData``: copies, no empties."""
        data: dict[str, set[Any]] = {
            name: values.copy() for name, values in self.data.copy().items()
        }
        data = {name: values for name, values in data.items() if values}
        if not self.plan.branch:
            return data, {}
        return {}, {name: list(values) for name, values in data.items()}


def core_for(config: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str:
    """The core coverage.py's ``coverage.core.Core`` picks here: "ctrace" or "sysmon".

    Raises :class:`recorder.Ineligible` (its text a sentence to print) for the
    cases the recorders do not reproduce.
    """
    why = recorder.Ineligible
    if config.get("timid"):
        raise why("timid = True asks for coverage.py's Python tracer")
    core = environ.get("COVERAGE_CORE") or config.get("core") or None
    if core not in (None, "ctrace", "sysmon"):
        raise why(f"core = {core}: only ctrace and sysmon are recorded")
    monitoring = getattr(sys, "monitoring", None) is not None
    branch_events = monitoring and sys.version_info >= (3, 14)
    no_sysmon = not monitoring or (bool(config.get("branch")) and not branch_events)
    if core == "sysmon" and no_sysmon:
        raise why(
            f"core = sysmon{' with branch = True' if monitoring else ''} on Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}: coverage.py warns and falls back to "
            "its C tracer"
        )
    if core is None:
        default_sysmon = sys.implementation.name == "cpython" and sys.version_info >= (3, 14)
        core = "sysmon" if default_sysmon and not no_sysmon else "ctrace"
    if core == "sysmon":
        directory = _compat.coverage_dir()
        if directory is None:
            raise why("coverage.py is not installed")
        problem = _compat.sysmon_core_problem(directory, arcs=bool(config.get("branch")))
        if problem is not None:
            raise why(problem)
    return str(core)
