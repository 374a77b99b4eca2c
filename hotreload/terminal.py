"""What the server prints: the banner, one line per update, warnings."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from . import __version__


def printable(text: str) -> str:
    r"""``text`` with control characters shown as escapes, for text a browser tab sent:
    it must not move the cursor, change colours or clear the user's terminal.

    >>> printable("ok\x1b[2J")
    'ok\\x1b[2J'
    """
    return "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in text)


def _colour(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


_ACTION_COLOURS = {"hot": "32", "morph": "32", "ok": "32", "reload": "33", "failed": "31"}


class Terminal:
    """Prints to a stream at a verbosity (0 quiet: errors only, 1 normal, 2 verbose)."""

    def __init__(self, verbosity: int = 1, stream: TextIO | None = None) -> None:
        self.verbosity = verbosity
        self.stream = stream if stream is not None else sys.stdout
        self.colour = _colour(self.stream)

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def _write(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must not take the server down

    def banner(
        self, root: str, urls: list[str], watching: list[tuple[str, int]], reload: bool, settings: str | None = None
    ) -> None:
        if self.verbosity < 1:
            return
        self._write(f"  {self._paint('hotreload ' + __version__, '1')}  serving {root}")
        if settings is not None:
            self._write(f"  settings from {settings}")
        for i, url in enumerate(urls):
            label = "Local:  " if i == 0 else "Network:"
            self._write(f"  ➜ {label} {self._paint(url, '36')}")
        if not reload:
            self._write("  hot reload off (--no-reload): plain static server")
        for path, count in watching:
            self._write(f"  watching {path} ({count:,} files)")

    def update(self, kind: str, path: str, action: str, why: str = "", ms: float | None = None) -> None:
        if self.verbosity < 1:
            return
        stamp = time.strftime("%H:%M:%S")
        took = f" {ms:4.0f} ms" if ms is not None else ""
        painted = self._paint(f"{action:<7}", _ACTION_COLOURS.get(action, "2"))
        detail = f" ({why})" if why else ""
        self._write(f"  {self._paint(stamp, '2')} {kind:<5} {path:<28} {painted}{took}{detail}")

    def output(self, line: str) -> None:
        """One line of a build's output, streamed as the build prints it."""
        if self.verbosity >= 1:
            self._write(f"    {self._paint('│', '2')} {line}")

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            self._write(f"  {message}")

    def debug(self, message: str) -> None:
        if self.verbosity >= 2:
            self._write(self._paint(f"  {message}", "2"))

    def warn(self, message: str) -> None:
        self._write(self._paint(f"  warning: {message}", "33"))

    def error(self, message: str) -> None:
        self._write(self._paint(f"  error: {message}", "31"))
