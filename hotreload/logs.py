"""Log records of hotreload and of the HTTP server under it, shown as terminal lines.

The modules log through :mod:`logging` (``hotreload.watch``,
``hotreload.channel``, ...); while a server runs, :func:`log_to_terminal`
routes those records to its :class:`~hotreload.terminal.Terminal`, so a
warning reads like every other line the server prints. Requests that are
malformed at the HTTP level (a garbage request line, a header too long) are
the client's doing, not a fault of the server: they take one line in verbose
mode instead of a traceback.

    with log_to_terminal(terminal):
        ...  # logging.getLogger("hotreload.watch").warning("...") -> "  warning: ..."
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from aiohttp.http_exceptions import HttpProcessingError

from .terminal import Terminal

__all__ = ["TerminalHandler", "log_to_terminal"]

# aiohttp.server: errors while reading or answering a request;
# aiohttp.web: errors in handlers; aiohttp.websocket: bad frames.
ROUTED_LOGGERS = ("hotreload", "aiohttp.server", "aiohttp.web", "aiohttp.websocket")
_TRACEBACKS = logging.Formatter()


class TerminalHandler(logging.Handler):
    """Writes log records to a :class:`Terminal` at the matching level."""

    def __init__(self, terminal: Terminal) -> None:
        super().__init__(logging.DEBUG)
        self.terminal = terminal

    def emit(self, record: logging.LogRecord) -> None:
        try:
            error = record.exc_info[1] if record.exc_info else None
            if isinstance(error, HttpProcessingError):
                # A malformed request: say what was wrong with it, briefly.
                detail = (error.message or type(error).__name__).strip().splitlines()[0]
                self.terminal.debug(f"refused a malformed request ({error.code}): {detail}")
                return
            message = record.getMessage()
            if record.exc_info and record.levelno >= logging.ERROR:
                message += "\n" + _TRACEBACKS.formatException(record.exc_info)
            if record.levelno >= logging.ERROR:
                self.terminal.error(message)
            elif record.levelno >= logging.WARNING:
                self.terminal.warn(message)
            elif record.levelno >= logging.INFO:
                self.terminal.info(message)
            else:
                self.terminal.debug(message)
        except Exception:  # a broken terminal must never break the server
            self.handleError(record)


@contextlib.contextmanager
def log_to_terminal(terminal: Terminal) -> Iterator[TerminalHandler]:
    """Route hotreload's and aiohttp's log records to ``terminal`` while inside.

    Levels follow the terminal's verbosity: debug records only with ``-v``.
    """
    handler = TerminalHandler(terminal)
    level = logging.DEBUG if terminal.verbosity >= 2 else logging.INFO
    saved = []
    for name in ROUTED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    try:
        yield handler
    finally:
        for logger, old_level in saved:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
