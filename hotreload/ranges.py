"""HTTP Range requests (RFC 9110, section 14) on a body held in memory.

Browsers ask for byte ranges to seek in audio and video and to resume
downloads. One range is served as ``206 Partial Content``; a request for
several ranges gets the whole body (a server may always do that), a range
that starts past the end gets ``416``, and a ``Range`` header that cannot be
parsed is ignored, as the RFC asks.

    >>> byte_range("bytes=0-99", 1000)
    (0, 100)
    >>> byte_range("bytes=-100", 1000)
    (900, 1000)
    >>> byte_range("bytes=2000-", 1000) is UNSATISFIABLE
    True
"""

from __future__ import annotations

from typing import Final

__all__ = ["UNSATISFIABLE", "byte_range", "content_range"]


class _Unsatisfiable:
    def __repr__(self) -> str:
        return "UNSATISFIABLE"


UNSATISFIABLE: Final = _Unsatisfiable()
"""The range lies outside the body: answer 416 with ``Content-Range: bytes */SIZE``."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | _Unsatisfiable | None:
    """The slice ``(start, stop)`` of a ``size``-byte body that ``header`` asks for.

    None means "send the whole body with 200": no header, a unit other than
    bytes, several ranges, or a header that does not parse.
    """
    if header is None:
        return None
    unit, separator, ranges = header.partition("=")
    if not separator or unit.strip().lower() != "bytes":
        return None
    if "," in ranges:
        return None
    first, dash, last = ranges.strip().partition("-")
    if not dash or not _digits(first.strip()) and not _digits(last.strip()):
        return None
    first, last = first.strip(), last.strip()
    if (first and not _digits(first)) or (last and not _digits(last)):
        return None
    if not first:
        # "-N": the last N bytes.
        length = int(last)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(size - length, 0), size
    start = int(first)
    if last and int(last) < start:
        return None  # "5-2" is not a valid range: ignore the header
    if start >= size:
        return UNSATISFIABLE
    stop = size if not last else min(int(last) + 1, size)
    return start, stop


def content_range(start: int, stop: int, size: int) -> str:
    """The ``Content-Range`` value for the slice ``(start, stop)``.

        >>> content_range(0, 100, 1000)
        'bytes 0-99/1000'
    """
    return f"bytes {start}-{stop - 1}/{size}"


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19
