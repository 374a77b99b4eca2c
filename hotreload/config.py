"""The settings one dev server runs with, and the settings file that can hold them.

`hotreload serve` reads ``hotreload.toml``, or the ``[tool.hotreload]`` table
of ``pyproject.toml``, from the folder it is started in. The keys are the
command's long option names; options given on the command line win, and
repeatable ones (``--watch``, ``--ignore``, ...) add to the file's lists.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "pyproject.toml").write_text('[tool.hotreload]\\nroot = "_site"\\nwatch = ["content"]\\n')
>>> found = find_settings(folder)
>>> found.name, found.values
('pyproject.toml [tool.hotreload]', {'root': '_site', 'watch': ['content']})
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# How many ports after a busy one are tried before giving up (without --strict-port).
PORT_ATTEMPTS = 50


@dataclass
class Config:
    """Everything `hotreload serve` can be told; the CLI only fills this in.

    >>> Config(root=Path("site"), port=0).host
    '127.0.0.1'
    """

    root: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    strict_port: bool = False
    open_browser: bool = False
    watch: list[Path] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    poll: bool = False
    reload: bool = True  # False: a plain static server, no client, no watching
    verbosity: int = 1  # 0 quiet, 1 normal, 2 verbose
    allowed_hosts: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # "Name: value", added to every response
    follow_symlinks: bool = False
    deny: list[str] = field(default_factory=list)  # never served, on top of paths.DEFAULT_DENY
    allow: list[str] = field(default_factory=list)  # names served although DEFAULT_DENY matches them
    reload_html: bool = False  # always reload pages instead of morphing them
    spa: bool = False  # answer page requests for routes with no file with index.html
    navigate_to_changed: bool = False  # send tabs to the one page a change added or edited
    # A command run when a file under ``watch`` changes; its output is ``root``.
    build: str | list[str] | None = None
    build_shell: bool = False  # run ``build`` through the shell (pipes, &&, globs)
    build_timeout: float | None = None  # seconds before the build's processes are stopped
    settings_file: str | None = None  # where some of these were read from, for the banner

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.watch = [Path(p) for p in self.watch]
        self.headers = [header_line(header) for header in self.headers]


# Headers that frame the message or belong to one connection: the server sets them.
_FRAMING_HEADERS = frozenset(
    {"connection", "content-encoding", "content-length", "content-range", "keep-alive", "te", "trailer",
     "transfer-encoding", "upgrade"}
)
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def header_line(text: str) -> str:
    """A ``Name: value`` header to add to every response (``--header``), checked and tidied.

    Raises ValueError, saying why, for anything else.

    >>> header_line("Cross-Origin-Opener-Policy:same-origin")
    'Cross-Origin-Opener-Policy: same-origin'
    """
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name:
        raise ValueError(f"a header is written 'Name: value', not {text!r}")
    if not set(name) <= _TOKEN_CHARS:
        raise ValueError(f"{name!r} is not a header name")
    if any(ord(char) < 32 and char != "\t" or ord(char) == 127 for char in value):
        raise ValueError(f"the value of {name} holds a control character")
    if name.lower() in _FRAMING_HEADERS:
        raise ValueError(f"{name} is set by the server for each response; it cannot be added")
    return f"{name}: {value}"


# --------------------------------------------------------------------------- the settings file

# What each key of the settings file takes, as TOML types: every long option
# of `hotreload serve` but --open (`open`), -q/-v and --no-reload (`reload = false`).
_STRING, _NUMBER, _BOOLEAN, _STRINGS = "a string", "a number", "true or false", "a list of strings"
SETTING_TYPES: dict[str, str] = {
    "root": _STRING,
    "host": _STRING,
    "port": _NUMBER,
    "strict-port": _BOOLEAN,
    "open": _BOOLEAN,
    "watch": _STRINGS,
    "build": _STRING,  # or a list of strings: the command's argv
    "build-shell": _BOOLEAN,
    "build-timeout": _NUMBER,
    "ignore": _STRINGS,
    "poll": _BOOLEAN,
    "reload-html": _BOOLEAN,
    "spa": _BOOLEAN,
    "navigate-to-changed": _BOOLEAN,
    "reload": _BOOLEAN,
    "allowed-host": _STRINGS,
    "follow-symlinks": _BOOLEAN,
    "header": _STRINGS,
    "deny": _STRINGS,
    "allow": _STRINGS,
}


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file, the key and what is wrong."""


@dataclass(frozen=True)
class Settings:
    """The settings read from one file: keys checked, values of the right TOML type."""

    path: Path
    name: str  # how the terminal names it: "hotreload.toml" or "pyproject.toml [tool.hotreload]"
    values: dict[str, Any]


def find_settings(folder: Path) -> Settings | None:
    """The settings in ``folder``'s hotreload.toml, else its pyproject.toml's [tool.hotreload], else None.

    Raises :class:`SettingsError` for a file that is not valid TOML, an unknown
    key or a value of the wrong type.
    """
    own = folder / "hotreload.toml"
    if own.is_file():
        return _checked(own, "hotreload.toml", _load(own))
    project = folder / "pyproject.toml"
    if project.is_file():
        table = _load(project).get("tool", {}).get("hotreload")
        if table is not None:
            name = "pyproject.toml [tool.hotreload]"
            if not isinstance(table, dict):
                raise SettingsError(f"{name} must be a table of settings")
            return _checked(project, name, table)
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path.name} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path.name}: {exc}") from None


def _checked(path: Path, name: str, table: dict[str, Any]) -> Settings:
    for key, value in table.items():
        wanted = SETTING_TYPES.get(key)
        if wanted is None:
            close = difflib.get_close_matches(key, SETTING_TYPES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(SETTING_TYPES)}"
            raise SettingsError(f"{name}: unknown setting {key!r}{hint}")
        if not _is(value, wanted) and not (key == "build" and _is(value, _STRINGS) and value):
            wanted = "a string or a list of strings" if key == "build" else wanted
            raise SettingsError(f"{name}: {key} must be {wanted}, not {value!r}")
    return Settings(path, name, dict(table))


def _is(value: Any, wanted: str) -> bool:
    if wanted == _STRING:
        return isinstance(value, str)
    if wanted == _NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if wanted == _BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
