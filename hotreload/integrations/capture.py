"""Collecting what a generator logs during one build.

Sphinx, MkDocs and Pelican report problems through :mod:`logging` rather than
return values. A :class:`LogCapture` listens on a generator's logger for the
length of one build, keeps the messages (terminal colours removed) so that a
failed build can show them in the browser, and passes each line on to the
terminal as it arrives.

Example::

    with LogCapture("mkdocs", echo=print) as log:
        build(config)
    log.messages(logging.WARNING)   # ['WARNING: Doc file ... not found']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from ..ansi import strip_ansi

__all__ = ["LogCapture", "LoggedMessage"]


@dataclass(frozen=True)
class LoggedMessage:
    """One logged message: its level number and its text without colours."""

    level: int
    text: str

    @property
    def line(self) -> str:
        """The message as a terminal would show it: ``WARNING: text``."""
        return f"{logging.getLevelName(self.level)}: {self.text}"


class _Recorder(logging.Handler):
    def __init__(self, capture: LogCapture, level: int) -> None:
        super().__init__(level)
        self._capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = strip_ansi(record.getMessage())
        except Exception:  # a malformed log call must not fail the build
            text = strip_ansi(str(record.msg))
        self._capture._add(LoggedMessage(record.levelno, text))


class LogCapture:
    """Records the messages of ``logger_name`` (and its children) at ``level`` or above.

    ``echo`` gets each recorded message as one line (``LEVEL: text``), e.g. to
    print it in the terminal while the build runs. Usable once or many times as
    a context manager; messages accumulate until :meth:`clear`.

    >>> import logging
    >>> with LogCapture("example.generator") as log:
    ...     logging.getLogger("example.generator.pages").error("page.md: no title")
    >>> log.messages(logging.ERROR)
    ['ERROR: page.md: no title']
    """

    def __init__(
        self, logger_name: str, level: int = logging.WARNING, *, echo: Callable[[str], None] | None = None
    ) -> None:
        self._logger = logging.getLogger(logger_name)
        self._handler = _Recorder(self, level)
        self._echo = echo
        self.records: list[LoggedMessage] = []

    def __enter__(self) -> LogCapture:
        self._logger.addHandler(self._handler)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._logger.removeHandler(self._handler)

    def clear(self) -> None:
        self.records.clear()

    def messages(self, level: int = logging.NOTSET) -> list[str]:
        """The recorded messages at ``level`` or above, as ``LEVEL: text`` lines."""
        return [record.line for record in self.records if record.level >= level]

    def _add(self, message: LoggedMessage) -> None:
        self.records.append(message)
        if self._echo is not None:
            try:
                self._echo(message.line)
            except Exception:
                pass  # a broken printer must not break the build
