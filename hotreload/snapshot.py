"""Reading a file as one version of it, even while an editor is rewriting it.

Streaming a file straight from disk sends whatever is there at each moment:
if an editor rewrites it meanwhile, the browser gets the start of one version
and the end of another, or fewer bytes than announced. A stylesheet or module
swapped in from such a response breaks the page until the next save.
:func:`read_snapshot` instead reads the whole file and checks that nothing
changed while it read: the size and times before and after match, and, for a
file written in the last moments (when file times are too coarse to show a
change), a second read gives the same bytes. If not, it reads again.

    body, st = read_snapshot(Path("site/css/app.css"))
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["MAX_SNAPSHOT_BYTES", "StillChanging", "read_snapshot", "read_snapshot_now"]

MAX_SNAPSHOT_BYTES = 32 * 1024**2
"""Files up to this size are read whole into memory; bigger ones (videos) are streamed."""

# Reading again after a change gives the writer time to finish: a few
# milliseconds at first, then longer, about one second in all.
_RETRY_DELAYS = (0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.3)
# File times on Linux advance with the scheduler's tick (a few milliseconds):
# a file modified this recently may change again without its times changing.
_RECENT_NS = 1_000_000_000


class StillChanging(Exception):
    """The file kept changing for as long as :func:`read_snapshot` waited for it to hold still."""


def _signature(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _read_all(fd: int, size_hint: int) -> bytes:
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(fd, max(size_hint - offset, 0) + 65536, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _attempt(fd: int) -> tuple[bytes, os.stat_result, bool]:
    """Read the open file once: its bytes, its stat, and whether they are one version."""
    before = os.fstat(fd)
    data = _read_all(fd, before.st_size)
    after = os.fstat(fd)
    if _signature(before) != _signature(after) or len(data) != after.st_size:
        return data, after, False
    if time.time_ns() - max(after.st_mtime_ns, after.st_ctime_ns) >= _RECENT_NS:
        return data, after, True
    # Written just now: the times may not have moved, the bytes would.
    stable = _read_all(fd, after.st_size) == data and _signature(os.fstat(fd)) == _signature(after)
    return data, after, stable


def _open(path: Path) -> int:
    # One open file: a save that renames a new version over the path leaves
    # this one readable and whole, so only in-place writes need a second look.
    return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))


def read_snapshot_now(path: Path) -> tuple[bytes, os.stat_result] | None:
    """Like :func:`read_snapshot`, but one attempt and no waiting: None if the file was changing.

    For callers that must not block (an event loop), falling back to
    :func:`read_snapshot` in a thread.
    """
    fd = _open(path)
    try:
        data, st, stable = _attempt(fd)
    finally:
        os.close(fd)
    return (data, st) if stable else None


def read_snapshot(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of ``path`` as they were at one moment, and the stat of that version.

    Raises what ``open`` raises (``FileNotFoundError``, ``PermissionError``,
    ``IsADirectoryError``), and :class:`StillChanging` for a file that does
    not hold still at any moment for about a second (rewritten over and over):
    no version of it can be vouched for. May sleep: call it from a thread when
    an event loop must keep running.

        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     _ = f.write(b"body{}"); f.flush()
        ...     read_snapshot(Path(f.name))[0]
        b'body{}'
    """
    fd = _open(path)
    try:
        for delay in _RETRY_DELAYS:
            if delay:
                time.sleep(delay)
            data, st, stable = _attempt(fd)
            if stable:
                return data, st
        raise StillChanging(path)
    finally:
        os.close(fd)
