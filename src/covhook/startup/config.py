"""The one reader of a measured process's configuration, and what covhook makes of it.

Every start path (the coverage.py start in :mod:`.boot` and :mod:`.defaults`,
the recorder, lazy start, the children of the pytest plugin, ``covhook run``)
reads the configuration here and gets one frozen :class:`Config`.  What a
measured process runs with, per setting, highest first:

1. covhook's settings: its environment variables, then the ``[covhook]``
   options of the configuration below (both through :mod:`covhook.settings`,
   the one table of them);
2. the coverage configuration this process was given: the serialized config a
   measured parent passed in ``COVERAGE_PROCESS_CONFIG`` (coverage.py's own
   rule: it wins over the file), else the file named by
   ``COVERAGE_PROCESS_START`` (``COVERAGE_FILE`` over its ``data_file``);
3. covhook's process-tree defaults, wherever that configuration leaves a
   setting at coverage.py's default: ``patch = _exit, execv, subprocess``
   when ``patch`` is empty (as pytest-cov passes it), and always ``parallel``
   and covhook's plugin (:mod:`.defaults`).  A user's non-empty ``patch`` is
   kept as written.

Runs at start-up in every process the hook reaches, before anything is
measured: no ``import coverage``, ``re``, ``configparser`` or ``typing``.
The serialized config is base64 JSON (checked in coverage 7.10.4 to 7.17.x),
decoded with the C scanner; a config file is parsed once and the result passed
to child processes in ``COVHOOK_SCOPE``; what a full start made of a config
file is cached on disk for the recorder (:func:`cached_serialized`).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

CACHE_ENV = "COVHOOK_SCOPE"
_CACHE_VERSION = "2"
# The config values scoping needs, under coverage's CoverageConfig attribute names.
_LIST_KEYS = (
    "source",
    "source_pkgs",
    "source_dirs",
    "run_include",
    "plugins",
    "concurrency",
    "patch",
)
_FILE_OPTIONS = {
    "source": "source",
    "source_pkgs": "source_pkgs",
    "source_dirs": "source_dirs",
    "run_include": "include",
    "plugins": "plugins",
    "concurrency": "concurrency",
    "patch": "patch",
}
# covhook's default [run] patch (see :mod:`.defaults` for why these and not ``fork``).
DEFAULT_PATCHES = ("_exit", "execv", "subprocess")
PATCHES_SINCE = (7, 10)


class Config:
    """What a measured process is configured with, read once; frozen.

    ``values``: the coverage settings start-up decides with (source,
    source_pkgs, source_dirs, run_include, plugins, concurrency, patch,
    data_file; under coverage's ``CoverageConfig`` names), or None when the
    configuration cannot be read cheaply (then coverage.py reads it and says
    what is wrong).  ``options``: the ``[covhook]`` section.  ``serialized``:
    the parent's ``COVERAGE_PROCESS_CONFIG``; ``config_file``: the file of
    ``COVERAGE_PROCESS_START`` when no serialized config is given.
    ``decoded``: the whole serialized config, decoded.
    """

    __slots__ = ("config_file", "decoded", "options", "serialized", "values")

    config_file: str | None
    decoded: dict[str, Any] | None
    options: dict[str, Any]
    serialized: str | None
    values: dict[str, Any] | None

    def __init__(
        self,
        *,
        serialized: str | None = None,
        config_file: str | None = None,
        values: dict[str, Any] | None = None,
        decoded: dict[str, Any] | None = None,
    ) -> None:
        options = (values or {}).get("covhook")
        for name, value in (
            ("serialized", serialized),
            ("config_file", config_file),
            ("values", values),
            ("decoded", decoded),
            ("options", dict(options) if isinstance(options, dict) else {}),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Config is frozen: {name}")

    @property
    def patch(self) -> list[str]:
        """The ``[run] patch`` this process applies (covhook's defaults where it is empty)."""
        return effective_patch((self.values or {}).get("patch"))


def read(environ: Mapping[str, str] = os.environ) -> Config:
    """This process's configuration; never raises (unreadable parts are None)."""
    serialized = environ.get("COVERAGE_PROCESS_CONFIG")
    if serialized:
        decoded = decode(serialized)
        values = _project(decoded) if decoded is not None else None
        return Config(serialized=serialized, values=values, decoded=decoded)
    path = environ.get("COVERAGE_PROCESS_START", "")
    values = None
    try:
        values = _read_file_cached(path, environ)
    except Exception:
        values = None
    return Config(config_file=path or None, values=values)


def effective_patch(
    given: Iterable[str] | None, version: tuple[Any, ...] | None = None
) -> list[str]:
    """``given`` (the configuration's ``[run] patch``), or covhook's defaults when it is empty.

    ``version``: the coverage.py version (patches came in 7.10); None when
    the caller already knows it is 7.10 or later (the recorder's versions).
    """
    patches = [str(p) for p in given or ()]
    if patches:
        return patches
    if version is not None and tuple(version[:2]) < PATCHES_SINCE:
        return []
    return list(DEFAULT_PATCHES)


def recorder_config(
    config: Config, environ: Mapping[str, str] = os.environ
) -> tuple[str, dict[str, Any]] | None:
    """(serialized text, decoded config with the effective ``patch``) for the recorder.

    The parent's serialized config, else what a full start left in the disk
    cache for this config file; None when there is neither.
    """
    text = config.serialized or cached_serialized(environ)
    if not text:
        return None
    decoded = config.decoded if text == config.serialized else decode(text)
    if decoded is None:
        return None
    # A parent's config may leave patch empty (pytest-cov passes "patch": []):
    # the recorder applies covhook's defaults as the coverage.py start does.
    return text, {**decoded, "patch": effective_patch(decoded.get("patch"))}


# --- the serialized config ---------------------------------------------------------


def decode(text: str) -> dict[str, Any] | None:
    """coverage's ``CoverageConfig.serialize()``: base64 of a JSON object; None if it is not."""
    try:
        import binascii

        from covhook._compat import json_scanner

        decoded = binascii.a2b_base64(text.encode("ascii")).decode("utf-8")
        data, _end = json_scanner()(decoded, 0)
    except Exception:
        return None
    return data if isinstance(data, dict) else None


def _project(data: Mapping[str, Any]) -> dict[str, Any]:
    """The values start-up decides with, from a decoded serialized config."""
    raw: dict[str, Any] = {k: data.get(k) for k in _LIST_KEYS}
    raw["data_file"] = data.get("data_file")
    options = data.get("plugin_options") or {}
    raw["covhook"] = options.get("covhook") if isinstance(options, dict) else None
    return raw


# --- the config file ---------------------------------------------------------------


def _read_file_cached(path: str, environ: Mapping[str, str]) -> dict[str, Any] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None  # boot says what is wrong
    key = f"{_CACHE_VERSION}|{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}"
    from covhook import settings

    raw = _from_cache(str(settings.raw("scope_cache", None, environ) or ""), key)
    if raw is None:
        raw = _from_file(path)
        if raw is None:
            return None
        os.environ[CACHE_ENV] = _to_cache(key, raw)
    file_value = environ.get("COVERAGE_FILE")
    if file_value:
        raw["data_file"] = file_value
    return raw


def _from_file(path: str) -> dict[str, Any] | None:
    """``[run]`` values of a .coveragerc / setup.cfg / tox.ini / .toml, as coverage reads them."""
    raw: dict[str, Any] = {}
    if path.endswith(".toml"):
        import tomllib

        with open(path, "rb") as f:
            doc = tomllib.load(f)
        tool = doc.get("tool", {}).get("coverage", {})
        run = tool.get("run") if "run" in tool else doc.get("run", {})
        if not isinstance(run, dict):
            return None
        for attr, option in _FILE_OPTIONS.items():
            value = run.get(option)
            if value is not None:
                raw[attr] = [_substitute(str(v)) for v in _as_list(value)]
        if "data_file" in run:
            raw["data_file"] = _substitute(str(run["data_file"]))
        raw["covhook"] = _toml_section(doc)
    else:
        with open(path, encoding="utf-8") as f:
            sections = parse_ini(f.read())
        if sections is None:
            return None
        for attr, option in _FILE_OPTIONS.items():
            value = _ini_get(sections, "run", option)
            if value is not None:
                raw[attr] = [v.strip() for line in value.split("\n") for v in line.split(",")]
                raw[attr] = [v for v in raw[attr] if v]
        data_file = _ini_get(sections, "run", "data_file")
        if data_file is not None:
            raw["data_file"] = data_file
        raw["covhook"] = _ini_section(sections, path)
    return raw


def read_section(config_file: str) -> dict[str, Any]:
    """The ``[covhook]`` options in ``config_file``, or {} if it has none.

    coverage.py hands a plugin the options of its section only when the plugin
    is listed in ``[run] plugins`` as the file is read; covhook adds itself
    after that (so combining never needs covhook installed), so it reads its
    section itself, with coverage's naming: ``[covhook]`` in .coveragerc,
    ``[coverage:covhook]`` in setup.cfg / tox.ini, ``[tool.coverage.covhook]``
    in pyproject.toml.
    """
    if config_file.endswith(".toml"):
        import tomllib

        with open(config_file, "rb") as f:
            return _toml_section(tomllib.load(f))
    with open(config_file, encoding="utf-8") as f:
        sections = parse_ini(f.read())
    if sections is None:  # what parse_ini leaves to configparser (DEFAULT...)
        import configparser

        parser = configparser.RawConfigParser()
        parser.read(config_file, encoding="utf-8")
        sections = {name: dict(parser.items(name)) for name in parser.sections()}
    return _ini_section(sections, config_file)


def _toml_section(doc: Mapping[str, Any]) -> dict[str, Any]:
    section = doc.get("tool", {}).get("coverage", {}).get("covhook", {})
    return dict(section) if isinstance(section, dict) else {}


def _ini_section(sections: Mapping[str, Mapping[str, str]], path: str) -> dict[str, Any]:
    own: tuple[str, ...] = ("covhook",)
    if os.path.basename(path) in ("setup.cfg", "tox.ini"):
        own = ("coverage:covhook", "covhook")
    return next((dict(sections[n]) for n in own if n in sections), {})


def parse_ini(text: str) -> dict[str, dict[str, str]] | None:
    """configparser's reading of an INI file (coverage's: no interpolation), minus ``re``.

    ``import configparser`` (and the ``re`` it needs) would cost every
    out-of-scope process milliseconds.  This covers what coverage config
    files use: sections, ``key = value`` / ``key: value``, indented
    continuation lines, full-line ``#``/``;`` comments.  Anything else
    (a duplicate, a line outside a section, a line without a delimiter)
    returns None, and the caller falls back to the eager start, where
    coverage.py reads the file and reports what is wrong.
    """
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    key: str | None = None
    key_indent = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if current is not None and key is not None:
                current[key] += "\n"  # kept inside a value, trailing ones stripped below
            continue
        if stripped[0] in "#;":
            continue
        indent = len(line) - len(line.lstrip())
        if current is not None and key is not None and indent > key_indent:
            current[key] += "\n" + stripped
            continue
        if stripped[0] == "[":
            end = stripped.rfind("]")
            if end < 2:
                return None
            name = stripped[1:end]
            if name in sections or name == "DEFAULT":  # DEFAULT values are inherited
                return None
            current = sections[name] = {}
            key = None
            continue
        cuts = [i for i in (stripped.find("="), stripped.find(":")) if i > 0]
        if current is None or not cuts:
            return None
        cut = min(cuts)
        key = stripped[:cut].strip().lower()
        if not key or key in current:
            return None
        current[key] = stripped[cut + 1 :].strip()
        key_indent = indent
    for values in sections.values():
        for name, value in values.items():
            values[name] = value.rstrip()
    return sections


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _ini_get(sections: dict[str, dict[str, str]], section: str, option: str) -> str | None:
    for prefix in ("coverage:", ""):
        value = sections.get(prefix + section, {}).get(option)
        if value is not None:
            return _substitute(value)
    return None


def _substitute(text: str) -> str:
    """coverage.py's ``substitute_variables`` (``$VAR``, ``${VAR-default}``...)."""
    if "$" not in text:
        return text
    import re

    pattern = (
        r"\$(?:(?P<dollar>\$)|(?P<word1>\w+)"
        r"|\{(?P<word2>\w+)(?:(?P<strict>\?)|-(?P<defval>[^}]*))?\})"
    )

    def replace(match: re.Match[str]) -> str:
        word = match.group("dollar") or match.group("word1") or match.group("word2")
        if word == "$":
            return "$"
        if word in os.environ:
            return os.environ[word]
        if match.group("strict"):
            raise ValueError(f"Variable {word} is undefined: {text!r}")
        return match.group("defval") or ""

    return re.sub(pattern, replace, text)


# --- the COVHOOK_SCOPE cache: the parsed file, passed to child processes ----------


def _to_cache(key: str, raw: Mapping[str, Any]) -> str:
    import marshal

    return key + "\n" + marshal.dumps(dict(raw)).hex()


def _from_cache(value: str, key: str) -> dict[str, Any] | None:
    head, _, body = value.partition("\n")
    if head != key or not body:
        return None
    import marshal

    try:
        raw = marshal.loads(bytes.fromhex(body))
    except Exception:
        return None
    return raw if isinstance(raw, dict) else None


# --- the disk cache: what a full start made of a config file, for the recorder -----

_DISK_VERSION = "1"
# Variables that never change what coverage.py makes of a config file.
_KEY_SKIP = frozenset(
    (
        "COVERAGE_PROCESS_CONFIG",
        "COVERAGE_PROCESS_START",
        "COVHOOK_SCOPE",
        "COVHOOK_ORIGIN",
        "COVHOOK_TEST",  # the running test (issue 22): the tag, not the config
        "COVHOOK_TEST_FILE",  # where the running test is kept: one per pytest session
    )
)


def cache_key(path: str, environ: Mapping[str, str]) -> str | None:
    """What a cached serialization of the config file ``path`` depends on, or None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    from covhook import _compat

    found = _compat.coverage_dir()
    if found is None:
        return None
    version = os.stat(os.path.join(found, "version.py"))
    env = sorted(
        f"{k}={v}"
        for k, v in environ.items()
        if k.startswith(("COVERAGE_", "COVHOOK_")) and k not in _KEY_SKIP
    )
    return "\0".join(
        [
            _DISK_VERSION,
            os.path.abspath(path),
            str(st.st_mtime_ns),
            str(st.st_size),
            os.getcwd(),
            sys.executable,
            found,
            str(version.st_mtime_ns),
            *env,
        ]
    )


def cache_path(key: str, environ: Mapping[str, str] = os.environ) -> str:
    import zlib

    from covhook import settings

    top = settings.value("cache_dir", None, environ, problems=[]) or os.path.join(
        environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "covhook"
    )
    return os.path.join(top, f"config-{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}")


def cached_serialized(environ: Mapping[str, str] = os.environ) -> str | None:
    """The serialized config a full start left for this config file, cwd and variables."""
    key = cache_key(environ.get("COVERAGE_PROCESS_START", ""), environ)
    if key is None:
        return None
    try:
        with open(cache_path(key, environ), encoding="utf-8", errors="surrogateescape") as f:
            stored_key, _, text = f.read().partition("\n")
    except OSError:
        return None
    return text.strip() if stored_key == key.replace("\n", " ") and text.strip() else None


def remember(serialized: str, config_file: str, environ: Mapping[str, str] = os.environ) -> None:
    """After a full start from ``config_file``: cache its serialized config; never raise.

    Not for configs that use ``${VAR}`` (they depend on the whole environment).
    """
    from covhook import settings

    if not settings.value("recorder", None, environ, problems=[]):
        return
    try:
        with open(config_file, encoding="utf-8", errors="replace") as f:
            if "$" in f.read():
                return
        key = cache_key(config_file, environ)
        if key is None:
            return
        path = cache_path(key, environ)
        if os.path.exists(path):
            return
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(key.replace("\n", " ") + "\n" + serialized + "\n")
        os.replace(tmp, path)
    except Exception:
        return
