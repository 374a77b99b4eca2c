"""Log records become terminal lines; a malformed request is one quiet line, not a traceback."""

from __future__ import annotations

import io
import logging

from aiohttp.http_exceptions import BadHttpMessage

from hotreload.logs import log_to_terminal
from hotreload.terminal import Terminal


def lines(verbosity: int, emit) -> list[str]:
    stream = io.StringIO()
    with log_to_terminal(Terminal(verbosity, stream)):
        emit()
    return stream.getvalue().splitlines()


def test_warnings_and_errors_read_like_every_other_line() -> None:
    out = lines(1, lambda: (logging.getLogger("hotreload.watch").warning("watching %s: polled", "site"),
                            logging.getLogger("hotreload.channel").error("broken")))
    assert out == ["  warning: watching site: polled", "  error: broken"]


def test_debug_lines_only_in_verbose_mode() -> None:
    def emit() -> None:
        logging.getLogger("hotreload.channel").debug("detail")

    assert lines(1, emit) == []
    assert lines(2, emit) == ["  detail"]


def test_a_malformed_request_is_one_verbose_line_without_traceback() -> None:
    def emit() -> None:
        try:
            raise BadHttpMessage("Missing 'Host' header in request.")
        except BadHttpMessage:
            logging.getLogger("aiohttp.server").exception("Error handling request")

    assert lines(1, emit) == []
    out = lines(2, emit)
    assert len(out) == 1 and "malformed request (400)" in out[0] and "Host" in out[0]


def test_a_real_fault_keeps_its_traceback() -> None:
    def emit() -> None:
        try:
            raise KeyError("bug")
        except KeyError:
            logging.getLogger("aiohttp.web").exception("Error handling request")

    out = lines(1, emit)
    assert out[0] == "  error: Error handling request" and any("KeyError" in line for line in out)


def test_levels_and_handlers_are_restored_afterwards() -> None:
    logger = logging.getLogger("hotreload")
    before = (logger.level, list(logger.handlers))
    lines(2, lambda: None)
    assert (logger.level, list(logger.handlers)) == before
