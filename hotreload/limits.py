"""How much any one client may ask of the dev server.

Every number that bounds what a request or a WebSocket client can make the
server hold or do lives here, so that they can be read (and documented) in
one place, plus :class:`MessageRate`, the per-client rate limit.

    rate = MessageRate()
    if not rate.allow(time.monotonic()):
        ...  # over the limit: ignore the message
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CLIENT_MESSAGES_PER_SECOND",
    "CLIENT_MESSAGE_BURST",
    "MAX_CLIENT_MESSAGE",
    "MAX_HEADERS",
    "MAX_HEADER_LINE",
    "MAX_QUEUED_BYTES",
    "MAX_QUEUED_FRAMES",
    "MAX_REQUEST_BODY",
    "MAX_REQUEST_LINE",
    "MessageRate",
]

# HTTP requests (aiohttp's parser answers 400 beyond these).
MAX_REQUEST_LINE = 8190  # bytes in "GET /path HTTP/1.1"
MAX_HEADER_LINE = 8190  # bytes in one header line
MAX_HEADERS = 100  # header lines in one request
MAX_REQUEST_BODY = 1024**2  # bytes; only GET and HEAD are served, a body is never read

# WebSocket clients.
MAX_CLIENT_MESSAGE = 64 * 1024  # bytes in one frame from a tab; a bigger one closes it (1009)
CLIENT_MESSAGES_PER_SECOND = 50  # sustained; the client sends a handful a minute
CLIENT_MESSAGE_BURST = 100  # at once, after a quiet spell
MAX_QUEUED_FRAMES = 256  # frames waiting for a tab that does not read; then it is dropped
MAX_QUEUED_BYTES = 2 * 1024**2  # the same, counted in bytes


@dataclass
class MessageRate:
    """A token bucket: ``burst`` messages at once, ``per_second`` sustained.

        >>> rate = MessageRate(per_second=1, burst=2)
        >>> [rate.allow(0.0), rate.allow(0.0), rate.allow(0.0), rate.allow(1.0)]
        [True, True, False, True]
    """

    per_second: float = CLIENT_MESSAGES_PER_SECOND
    burst: float = CLIENT_MESSAGE_BURST
    _tokens: float = field(default=-1.0, repr=False)
    _last: float | None = field(default=None, repr=False)
    refused: int = 0  # messages refused so far

    def allow(self, now: float) -> bool:
        """Whether a message arriving at ``now`` (seconds, monotonic) is within the rate."""
        if self._last is None:
            self._tokens = self.burst
        else:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_second)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.refused += 1
        return False
