"""Content snapshots of a folder: which files a build really changed.

Site generators rewrite files whose content did not change, so neither
modification times nor "written" events tell what a browser must update.
A snapshot records a content hash per file; comparing two snapshots gives the
files whose bytes differ.

Example::

    before = OutputSnapshot.take(Path("_site"))
    run_the_build()
    after = before.retake()
    after.changed_since(before)   # {Path("_site/about.html"): "modified"}
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OutputSnapshot", "file_digest"]

# Filesystem timestamps are coarse (a few ms on Linux, 1-2 s on some disks): a
# file written this close to a snapshot may be rewritten in the same tick with
# the same size, so its cached hash is not trusted next time ("racy" entries).
_RACY_WINDOW_NS = 2_000_000_000
_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class _FileState:
    size: int
    mtime_ns: int
    inode: int
    digest: str


def _hash_file(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_digest(path: Path) -> str | None:
    """The content hash of one file, as snapshots record it; None if it cannot be read.

    >>> file_digest(Path("/nonexistent")) is None
    True
    """
    try:
        return _hash_file(path)
    except OSError:
        return None


def _walk_files(root: Path, ignore: Callable[[Path], bool] | None) -> Iterator[tuple[str, os.stat_result]]:
    """Regular files under ``root`` (symlinked files followed, symlinked folders not).

    Paths are strings: a large site has thousands of files, and building a
    Path for each costs more than stat-ing it.
    """
    folders = [str(root)]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # removed or unreadable while we walked
        for entry in entries:
            if ignore is not None and ignore(Path(entry.path)):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.is_file():
                    yield entry.path, entry.stat()
            except OSError:
                continue


class OutputSnapshot:
    """Content hashes of every file under an output folder, to tell which outputs a build really changed.

    Hashes are reused from an earlier snapshot for files whose size, mtime and
    inode did not change, so re-taking a snapshot after a small build reads
    only the files the build touched.

    Example::

        before = OutputSnapshot.take(Path("_site"))
        await run_build()
        after = before.retake()
        after.changed_since(before)   # {Path("_site/about.html"): "modified"}
    """

    def __init__(
        self,
        root: Path,
        files: Mapping[str, _FileState],
        *,
        taken_at_ns: int,
        ignore: Callable[[Path], bool] | None = None,
        hashed_count: int = 0,
    ) -> None:
        self.root = root
        self.ignore = ignore
        self.taken_at_ns = taken_at_ns
        # How many files this snapshot had to read; the rest came from ``reuse``.
        self.hashed_count = hashed_count
        self._files = dict(files)

    @classmethod
    def take(
        cls,
        root: Path,
        ignore: Callable[[Path], bool] | None = None,
        *,
        reuse: OutputSnapshot | None = None,
    ) -> OutputSnapshot:
        """Hash every file under ``root`` (a missing folder gives an empty snapshot).

        Keys are ``root / relative path``; ``ignore`` gets such paths, files and
        folders, and skips those it returns True for. Pass ``reuse`` to take
        hashes of unchanged files from an earlier snapshot. This reads files:
        from a coroutine, call it through :func:`asyncio.to_thread`.

        >>> OutputSnapshot.take(Path("/nonexistent")).changed_since(OutputSnapshot.take(Path("/nonexistent")))
        {}
        """
        taken_at_ns = time.time_ns()
        cached = reuse._files if reuse is not None else {}
        trusted_before = (reuse.taken_at_ns - _RACY_WINDOW_NS) if reuse is not None else 0
        files: dict[str, _FileState] = {}
        hashed = 0
        for path, stat in _walk_files(root, ignore):
            previous = cached.get(path)
            if (
                previous is not None
                and previous.size == stat.st_size
                and previous.mtime_ns == stat.st_mtime_ns
                and previous.inode == stat.st_ino
                and previous.mtime_ns < trusted_before
            ):
                files[path] = previous
                continue
            try:
                digest = _hash_file(Path(path))
            except OSError:
                continue  # vanished between listing and reading
            hashed += 1
            files[path] = _FileState(stat.st_size, stat.st_mtime_ns, stat.st_ino, digest)
        return cls(root, files, taken_at_ns=taken_at_ns, ignore=ignore, hashed_count=hashed)

    def retake(self) -> OutputSnapshot:
        """A new snapshot of the same folder, reusing this one's hashes."""
        return self.take(self.root, self.ignore, reuse=self)

    def refreshed(self, paths: Iterable[Path]) -> OutputSnapshot:
        """A copy in which ``paths`` are read again (dropped if gone); other files are kept as recorded.

        For files known to have changed (announced by whoever wrote them),
        without walking the whole folder. This reads files: from a coroutine,
        call it through :func:`asyncio.to_thread`.
        """
        files = dict(self._files)
        hashed = 0
        for path in paths:
            if not path.is_relative_to(self.root) or (self.ignore is not None and self.ignore(path)):
                continue
            try:
                stat = path.stat()
                digest = _hash_file(path) if path.is_file() else None
            except OSError:
                digest = None
            if digest is None:
                files.pop(str(path), None)
                continue
            hashed += 1
            files[str(path)] = _FileState(stat.st_size, stat.st_mtime_ns, stat.st_ino, digest)
        # Entries read now are "racy" until later than this: keep the older time.
        return OutputSnapshot(self.root, files, taken_at_ns=self.taken_at_ns, ignore=self.ignore, hashed_count=hashed)

    def changed_since(self, before: OutputSnapshot) -> dict[Path, str]:
        """Files that differ from ``before``: path -> ``"added"``, ``"modified"`` or ``"deleted"``.

        A file rewritten with the same content is not a change.
        """
        changes: dict[str, str] = {}
        earlier = before._files
        for path, now in self._files.items():
            then = earlier.get(path)
            if then is None:
                changes[path] = "added"
            elif now.digest != then.digest:
                changes[path] = "modified"
        for path in earlier.keys() - self._files.keys():
            changes[path] = "deleted"
        return {Path(path): changes[path] for path in sorted(changes)}

    def digest(self, path: Path) -> str | None:
        """The content hash recorded for ``path``, or None if it was not there."""
        state = self._files.get(os.fspath(path))
        return state.digest if state is not None else None

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.fspath(path) in self._files
