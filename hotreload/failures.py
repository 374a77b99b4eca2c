"""What a failed build shows: the error overlay's content, and which error is up.

A failed build becomes one :class:`~hotreload.protocol.BuildError`: the command
and how it ended, the tail of its output without escape codes, and the first
place in that output that points at a file (``docs/index.rst:12``), so the
reader sees at once where to look. :class:`ErrorBoard` keeps the errors that
are up (one per build, plus one set through the API); the overlay shows the
latest, and goes when none is left.

Example::

    >>> from hotreload.build import BuildResult
    >>> result = BuildResult(ok=False, exit_code=2, output="x.md:3: bad\\n", duration=0.2, command="make")
    >>> error = error_for_result(result)
    >>> error.title, error.message
    ('Build failed', 'make exited with status 2')
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from .ansi import strip_ansi
from .build import BuildResult
from .protocol import BuildError

__all__ = ["ErrorBoard", "Location", "error_for_result", "find_location", "reason", "tail"]

# The overlay is read, not scrolled through: the end of a long log is what matters.
TAIL_LINES = 200
TAIL_CHARS = 24_000


def tail(text: str, max_lines: int = TAIL_LINES, max_chars: int = TAIL_CHARS) -> str:
    """The end of ``text``: at most ``max_lines`` lines and about ``max_chars``
    characters, saying how much was left out.

    >>> tail("a\\nb\\nc\\n", max_lines=2)
    '[1 earlier line not shown]\\nb\\nc\\n'
    """
    lines = text.splitlines()
    kept = lines[-max_lines:] if max_lines else []
    size = sum(len(line) + 1 for line in kept)
    while len(kept) > 1 and size > max_chars:
        size -= len(kept.pop(0)) + 1
    if len(kept) == 1 and len(kept[0]) > max_chars:
        kept[0] = "…" + kept[0][-max_chars:]
    dropped = len(lines) - len(kept)
    body = "".join(line + "\n" for line in kept)
    if dropped:
        return f"[{dropped} earlier line{'s' if dropped != 1 else ''} not shown]\n{body}"
    return body


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None
    column: int | None = None


# "path/to/file.ext:12" or "path/to/file.ext:12:5", as compilers, linters and
# Sphinx print them; the file must have an extension and exist to count.
_FILE_LINE = re.compile(r"(?P<file>(?:[A-Za-z]:)?[^\s:\"'()<>\[\]{},;]+\.[A-Za-z0-9]+):(?P<line>\d+)(?::(?P<column>\d+))?")
# A Python traceback frame.
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _exists(file: str, cwd: Path) -> bool:
    try:
        path = Path(file)
        return (path if path.is_absolute() else cwd / path).is_file()
    except (OSError, ValueError):
        return False


def _library_code(file: str) -> bool:
    """Frames in the interpreter's own or installed packages are not where the user looks."""
    real = os.path.realpath(file)
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return "site-packages" in Path(real).parts or any(real.startswith(p + os.sep) for p in prefixes)


def find_location(output: str, cwd: Path | None = None) -> Location | None:
    """The first place in a build's output that names an existing file and a line.

    ``file:line[:column]`` mentions come first (that is how generators report
    errors in sources); failing those, the innermost frame of a Python
    traceback that is not library code.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()); (folder / "a.rst").write_text("x")
    1
    >>> find_location("WARNING a.rst:7: unknown directive", folder)
    Location(file='a.rst', line=7, column=None)
    """
    base = cwd if cwd is not None else Path.cwd()
    text = strip_ansi(output)
    for match in _FILE_LINE.finditer(text):
        file = match.group("file")
        if _exists(file, base):
            column = match.group("column")
            return Location(file, int(match.group("line")), int(column) if column else None)
    frame: Location | None = None
    for line in text.splitlines():
        frame_match = _PY_FRAME.match(line)
        if frame_match is None:
            continue
        file = frame_match.group("file")
        if _exists(file, base) and not _library_code(file):
            frame = Location(file, int(frame_match.group("line")))
    return frame


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def reason(result: BuildResult) -> str:
    """How a failed build ended, in a few words (for the terminal).

    >>> reason(BuildResult(ok=False, exit_code=2, output="", duration=1, command="make"))
    'exit status 2'
    """
    if result.timed_out:
        return f"{result.error}, stopped"
    if result.exit_code is not None and result.exit_code < 0:
        return f"killed by {_signal_name(-result.exit_code)}"
    if result.error is not None:
        return result.error
    return f"exit status {result.exit_code}"


def _how_it_ended(result: BuildResult) -> str:
    if result.timed_out:
        return f"{result.command} {result.error} (its processes were stopped)"
    code = result.exit_code
    if code is not None and code < 0:
        return f"{result.command} was killed by {_signal_name(-code)}"
    if result.error is not None:
        return result.error  # could not start, or a callable raised
    return f"{result.command} exited with status {code}"


def error_for_result(result: BuildResult, cwd: Path | None = None) -> BuildError:
    """The overlay for a failed build."""
    output = tail(strip_ansi(result.output))
    location: Location | None
    if result.file is not None:
        location = Location(result.file, result.line, result.column)
    else:
        location = find_location(result.output, cwd)
    return BuildError(
        title="Build failed",
        message=_how_it_ended(result),
        output=output,
        file=location.file if location else None,
        line=location.line if location else None,
        column=location.column if location else None,
    )


class ErrorBoard:
    """The errors that are up, by source; the overlay shows the latest one.

    ``on_change`` is called with the error to show (or None to clear the
    overlay) whenever that changes.

    >>> shown = []
    >>> board = ErrorBoard(shown.append)
    >>> board.set("docs", BuildError("Build failed", "make exited with status 2"))
    >>> board.clear("docs"); shown[-1] is None
    True
    """

    def __init__(self, on_change: Callable[[BuildError | None], None]) -> None:
        self._on_change = on_change
        self._errors: dict[Hashable, BuildError] = {}
        self.ever_shown = False  # whether any error was ever up (tabs may still show it)

    @property
    def current(self) -> BuildError | None:
        """The error the overlay shows, or None."""
        return next(reversed(self._errors.values()), None)

    def set(self, source: Hashable, error: BuildError) -> None:
        self._errors.pop(source, None)
        self._errors[source] = error  # latest last
        self.ever_shown = True
        self._on_change(error)

    def clear(self, source: Hashable) -> None:
        """Take down the error of ``source``; the previous one, if any, shows again."""
        if self._errors.pop(source, None) is not None:
            self._on_change(self.current)

    def clear_all(self) -> None:
        self._errors.clear()
        self._on_change(None)
