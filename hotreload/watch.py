"""Watching files: watchdog events in, batches of finished file changes out.

watchdog reports raw filesystem events from its own threads. This module
carries them into the asyncio loop, drops ignored paths, folds the many events
of one editor save into a single change of the real file, and groups changes
that arrive together (a script writing many files, a ``git checkout``) into one
:class:`ChangeBatch`::

    async def main() -> None:
        watcher = Watcher([Path("site")], lambda batch: print(batch.paths()))
        await watcher.start()
        ...
        await watcher.stop()

How a change is known to be finished:

- With inotify (Linux) a file that was created or written is settled when its
  writer closes it, or when it arrives by a rename (``os.replace`` of a
  temporary file): a file is not announced while its writer keeps it open.
- A deleted file is held back very briefly, since many editors delete a file and
  create it again; it then counts as modified.
- Elsewhere, and with ``poll=True``, there are no close events: a change is
  settled once the quiet window passes without a new event for it (with
  polling, at least two polls).

A batch goes out once events stop for ``quiet`` seconds (a few milliseconds,
so that a single save reaches the browser at once). When several files change
together the lull that ends the batch is longer, and it grows with the length
of the burst, so that a script or a checkout comes out as one batch; a batch
holding a file that did not exist before waits 20 ms, since new files tend to
come many at a time;
``max_wait`` caps how long a stream of events can hold a batch back.

Keeping the events coming (falling back to polling at the system's watch
limit or on a file system without events, watching a root folder again after
it was deleted or replaced) is :mod:`hotreload.observe`'s job.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import fnmatch
import inspect
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from types import MappingProxyType

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
)

from .observe import RootObservers

try:  # watchdog >= 5 reports permission and time changes apart from writes
    from watchdog.events import FileAttribEvent
except ImportError:  # pragma: no cover - older watchdog reports them as modifications
    FileAttribEvent = None  # type: ignore[assignment,misc]

__all__ = ["DEFAULT_IGNORES", "ChangeBatch", "ChangeKind", "Watcher", "make_ignore"]

logger = logging.getLogger(__name__)


class ChangeKind(enum.Enum):
    """What happened to a file, seen from before the batch to after it."""

    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"


@dataclass(frozen=True)
class ChangeBatch:
    """Files that changed together, each with its net change.

    ``changes`` maps absolute paths of files (never folders) to their change;
    ``first_event`` is the ``time.monotonic()`` of the earliest raw event behind
    the batch, so a consumer can measure how long the change took to show.

        >>> batch = ChangeBatch({Path("/site/a.css"): ChangeKind.MODIFIED}, 0.0)
        >>> batch.paths()
        [PosixPath('/site/a.css')]
    """

    changes: Mapping[Path, ChangeKind]
    first_event: float

    def __post_init__(self) -> None:
        # A batch may be handed to several consumers: make it read-only.
        object.__setattr__(self, "changes", MappingProxyType(dict(self.changes)))

    def paths(self) -> list[Path]:
        """The changed paths, sorted."""
        return sorted(self.changes)


# Net change <-> whether the file existed before and after: merging two changes
# of one path keeps "before" of the first and "after" of the second, which
# gives ADDED+MODIFIED=ADDED, DELETED+ADDED=MODIFIED and ADDED+DELETED=nothing.
_EXISTED_BEFORE = {ChangeKind.ADDED: False, ChangeKind.MODIFIED: True, ChangeKind.DELETED: True}
_EXISTS_AFTER = {ChangeKind.ADDED: True, ChangeKind.MODIFIED: True, ChangeKind.DELETED: False}


def _net_change(existed: bool, exists: bool) -> ChangeKind | None:
    if existed:
        return ChangeKind.MODIFIED if exists else ChangeKind.DELETED
    return ChangeKind.ADDED if exists else None


def _merge_batches(earlier: ChangeBatch, later: ChangeBatch) -> ChangeBatch:
    changes = dict(earlier.changes)
    for path, kind in later.changes.items():
        before = changes.get(path)
        existed = _EXISTED_BEFORE[before if before is not None else kind]
        merged = _net_change(existed, _EXISTS_AFTER[kind])
        if merged is None:
            changes.pop(path, None)
        else:
            changes[path] = merged
    return ChangeBatch(changes, min(earlier.first_event, later.first_event))


# --------------------------------------------------------------------------- ignores

DEFAULT_IGNORES: tuple[str, ...] = (
    # version control, dependencies, caches, Finder metadata
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".DS_Store",
    # vim swap files, backups and its "can I write here" probe file
    "*.swp", "*.swx", "*.swo", "*~", "4913",
    # emacs lock and auto-save files
    ".#*", "#*#",
    # JetBrains safe-write, VS Code atomic save, generic temporary files
    "*___jb_tmp___", "*___jb_old___", "*.vsctmp", "*.tmp",
)
"""Globs matched against every name in a path: the file's and its folders'."""


def _compile_globs(globs: Iterable[str]) -> re.Pattern[str] | None:
    parts = [fnmatch.translate(glob) for glob in globs]
    return re.compile("|".join(parts)) if parts else None


def make_ignore(globs: Iterable[str] = ()) -> Callable[[Path], bool]:
    """Build the ignore rule for :class:`Watcher`: defaults plus ``globs``.

    The rule is called with a path *relative to the watched folder* and says
    whether to ignore it. :data:`DEFAULT_IGNORES` and globs without a ``/``
    match the name of the file or of any folder above it (``*.map``,
    ``drafts``). Globs with a ``/`` match the relative path, or the path of any
    folder above it (``docs/_build``, ``drafts/*``; a leading ``/`` is
    optional). Matching is case-sensitive and ``*`` also crosses ``/``.

        >>> ignore = make_ignore(["*.map", "docs/_build"])
        >>> ignore(Path("js/app.js.map")), ignore(Path("docs/_build/index.html"))
        (True, True)
        >>> ignore(Path("node_modules/lib/index.js")), ignore(Path("docs/index.html"))
        (True, False)
    """
    name_globs = list(DEFAULT_IGNORES)
    path_globs: list[str] = []
    for glob in globs:
        glob = glob.strip().removeprefix("./").rstrip("/")
        anchored = "/" in glob
        glob = glob.lstrip("/")
        if glob:
            (path_globs if anchored else name_globs).append(glob)
    name_pattern = _compile_globs(name_globs)
    path_pattern = _compile_globs(path_globs)

    def ignore(relative: Path) -> bool:
        names = PurePath(relative).parts
        if name_pattern is not None and any(name_pattern.match(name) for name in names):
            return True
        if path_pattern is not None:
            return any(path_pattern.match("/".join(names[:depth])) for depth in range(1, len(names) + 1))
        return False

    return ignore


# --------------------------------------------------------------------------- watching

# Only events that can change a file's content or existence: opens and
# read-only closes (every HTTP response reads a file) never reach Python.
_EVENT_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileDeletedEvent, FileMovedEvent,
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent,
]
if FileAttribEvent is not None:
    _EVENT_FILTER.append(FileAttribEvent)
_DEFAULT_POLL_INTERVAL = 0.1
# Two files changed together may be the start of a burst (a script, a
# checkout); sixteen surely are. A burst ends with a longer lull, as long as
# the burst has lasted so far, so that it comes out whole rather than in slices.
_BURST_FILES = 16
_BURST_QUIET = 0.05
# The lull that ends a batch holding a file that did not exist before.
_NEW_FILE_QUIET = 0.02
# A brief hold, which the whole batch waits for: for a deleted file that an
# editor may create again, for a file found in a new folder whose writer may
# not be done (its next write would show within this time).
_BRIEF_HOLD = 0.025
# A writer that keeps a file open this long is announced anyway (a log, a stuck copy).
_WRITE_HOLD_LIMIT = 2.0
# The observer lists the files of a new folder itself, without close events to
# follow: files created in a folder this young may be complete already.
_NEW_FOLDER_AGE = 1.0


@dataclass(frozen=True)
class _Root:
    """One watched path: as reported (``given``) and as watched (``real``)."""

    given: str
    real: str
    is_file: bool

    def relative(self, real_path: str) -> str | None:
        """``real_path`` relative to this root, "" for the root, None if outside it."""
        if self.is_file:
            return os.path.basename(self.given) if real_path == self.real else None
        if real_path == self.real:
            return ""
        prefix = self.real if self.real.endswith(os.sep) else self.real + os.sep
        return real_path[len(prefix):] if real_path.startswith(prefix) else None

    def reported(self, relative: str) -> str:
        return os.path.join(self.given, relative) if relative and not self.is_file else self.given


def _roots(paths: Sequence[Path]) -> list[_Root]:
    roots: list[_Root] = []
    for path in paths:
        given = os.path.abspath(path)
        # Resolved once: the observer must watch the real folder, not a link to it.
        real = os.path.realpath(given)
        if not os.path.exists(real):
            raise FileNotFoundError(errno.ENOENT, "cannot watch a path that does not exist", given)
        roots.append(_Root(given, real, not os.path.isdir(real)))
    # A path inside another watched folder is already watched through it.
    folders = [root.real.rstrip(os.sep) + os.sep for root in roots if not root.is_file]
    kept: list[_Root] = []
    for root in roots:
        inside = any(root.real.startswith(folder) for folder in folders)
        if not inside and all(root.real != other.real for other in kept):
            kept.append(root)
    return kept


class _FileIndex:
    """The files that exist, as far as events tell, grouped by folder."""

    def __init__(self) -> None:
        self._folders: dict[str, set[str]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, path: str) -> bool:
        return path in self._folders.get(os.path.dirname(path), ())

    def add(self, path: str) -> None:
        names = self._folders.setdefault(os.path.dirname(path), set())
        if path not in names:
            names.add(path)
            self._count += 1

    def discard(self, path: str) -> None:
        folder = os.path.dirname(path)
        names = self._folders.get(folder)
        if names is not None and path in names:
            names.remove(path)
            self._count -= 1
            if not names:
                del self._folders[folder]

    def under(self, folder: str) -> list[str]:
        """Every file at any depth below ``folder``."""
        prefix = folder.rstrip(os.sep) + os.sep
        return [
            path
            for key, names in self._folders.items()
            if key == folder or key.startswith(prefix)
            for path in names
        ]


@dataclass
class _Pending:
    """A file touched since it was last announced."""

    existed: bool            # whether it existed when first touched
    first_event: float       # time.monotonic() when the observer thread saw its first event
    first_seen: float        # loop time of its first event
    last_seen: float         # loop time of its latest event
    writing: bool = False    # written to and not closed since (observers with close events)
    created: bool = False    # created by an open() and not closed since (idem)
    listed: bool = False     # created in a new folder: maybe listed by the observer, complete


class Watcher:
    """Watches folders (or single files) and reports batches of file changes.

    ``on_batch`` is called in the loop thread with each :class:`ChangeBatch`. If
    it returns an awaitable, the watcher awaits it without pausing intake;
    changes that settle meanwhile are merged into the next call, so the
    consumer never runs twice at once and never misses a change.

    ``ignore`` receives paths relative to the watched folder (see
    :func:`make_ignore`, the default). Reported paths are the watched path made
    absolute as given, joined with the file's path inside it: a watched folder
    that is a symbolic link is resolved once, to watch it, and not reported
    resolved. ``poll=True`` polls every ``poll_interval`` seconds instead of
    using the system's notifications (network drives, some containers).

        watcher = Watcher([Path("site")], server.on_batch, ignore=make_ignore(["drafts"]))
        await watcher.start()
        print(f"watching site ({watcher.file_count} files)")
        ...
        await watcher.stop()
    """

    def __init__(
        self,
        paths: Sequence[Path],
        on_batch: Callable[[ChangeBatch], object],
        *,
        ignore: Callable[[Path], bool] | None = None,
        poll: bool = False,
        quiet: float = 0.003,
        max_wait: float = 0.25,
        poll_interval: float = _DEFAULT_POLL_INTERVAL,
    ) -> None:
        self._paths = list(paths)
        self._on_batch = on_batch
        self._ignore = ignore if ignore is not None else make_ignore()
        self._poll = poll
        self._poll_interval = poll_interval
        self._quiet = quiet
        self._max_wait = max_wait
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observers: RootObservers | None = None
        self._roots: list[_Root] = []
        self._indexed = False
        self._started = False
        self._stopped = False
        self._file_count = 0
        self._files = _FileIndex()
        self._new_folders: dict[str, float] = {}   # real path -> loop time it appeared
        self._pending: dict[str, _Pending] = {}
        self._window_start: float | None = None    # loop time of the first event since the last flush
        self._last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._delivery: asyncio.Future[None] | None = None
        self._delivering: Awaitable[object] | None = None  # what _delivery awaits
        self._waiting: ChangeBatch | None = None

    @property
    def file_count(self) -> int:
        """How many files (not ignored) were under the watched paths at start."""
        return self._file_count

    async def start(self) -> None:
        """Start watching; raises ``FileNotFoundError`` for a missing path.

        Every change made after ``start`` returns is reported.
        """
        if self._started or self._stopped:
            raise RuntimeError("a Watcher can be started only once")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._roots = roots = _roots(self._paths)
        self._observers = RootObservers(
            self._receive, resync=self._resync, gone=self._root_gone, folder_ignored=self._folder_ignored,
            event_filter=_EVENT_FILTER, poll=self._poll, poll_interval=self._poll_interval,
        )
        await self._observers.start(roots)
        # The watches are in place once the observers have started: listing the
        # files after that means nothing created in between goes unseen.
        for root in roots:
            for path in self._scan(root, root.real):
                self._files.add(path)
        self._file_count = len(self._files)
        self._indexed = True

    def watch_mode(self, path: Path) -> str:
        """How a watched path is watched now: ``native``, ``polling`` or ``gone``.

            watcher.watch_mode(Path("site"))   # 'native'
        """
        given = os.path.abspath(path)
        if self._observers is None:
            return "stopped"
        for root in self._roots:
            if root.given == given:
                return self._observers.mode(root)
        raise KeyError(path)

    async def stop(self) -> None:
        """Stop watching and join the observer's threads; safe to call twice.

        Changes not yet handed over are dropped; a consumer still running is cancelled.
        """
        if self._stopped:
            return
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        observers, self._observers = self._observers, None
        if observers is not None:
            observers.stop()
        delivery, self._delivery = self._delivery, None
        if delivery is not None:
            delivery.cancel()
            try:
                await delivery
            except asyncio.CancelledError:
                pass
        delivering, self._delivering = self._delivering, None
        if inspect.iscoroutine(delivering) and inspect.getcoroutinestate(delivering) == inspect.CORO_CREATED:
            # Cancelled before it began: close it, or Python warns it was never awaited.
            delivering.close()
        self._pending.clear()
        self._waiting = None

    # ------------------------------------------------------------ events, in the loop thread

    def _receive(self, root: _Root, event: FileSystemEvent, stamp: float) -> None:
        if self._stopped:
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(getattr(event, "dest_path", ""))
        kind = event.event_type
        synthetic = getattr(event, "is_synthetic", False)
        touched = False
        if event.is_directory:
            # The folders inside a moved folder were handled with it: skip their echoes.
            if synthetic:
                return
            if kind == "created":
                self._new_folders[src] = self._now()
            if kind == "deleted" or (kind == "moved" and src):
                touched = self._folder_gone(root, src, stamp)
            if kind == "moved" and dest:
                self._new_folders[dest] = self._now()
                touched = self._folder_arrived(root, dest, stamp) or touched
        elif kind == "moved":
            touched = self._file_event(root, src, stamp, exists=False)
            touched = self._file_event(root, dest, stamp, exists=True, complete=True) or touched
        elif kind == "deleted":
            touched = self._file_event(root, src, stamp, exists=False)
        elif kind == "created":
            created = self._closes(root) and not synthetic
            listed = self._is_new_folder(os.path.dirname(src))
            touched = self._file_event(root, src, stamp, exists=True, created=created, listed=listed)
        elif kind == "modified":
            touched = self._file_event(root, src, stamp, exists=True, writing=self._closes(root))
        elif kind == "attrib":
            # A permission or time change (chmod, touch): the file may be
            # readable again, or meant to be reloaded. Not a write in progress.
            touched = self._file_event(root, src, stamp, exists=os.path.lexists(src))
        elif kind == "closed":
            touched = self._file_event(root, src, stamp, exists=True, complete=True)
        if touched:
            self._note_activity()

    def _closes(self, root: _Root) -> bool:
        return self._observers is not None and self._observers.close_events(root)

    def _folder_ignored(self, root: _Root, real_path: str) -> bool:
        relative = root.relative(real_path)
        return bool(relative) and self._ignore(Path(relative))  # type: ignore[arg-type]

    def _resync(self, root: _Root, everything: bool) -> None:
        """Compare the files known under ``root`` with the disk and record the differences.

        With ``everything``, files present before and now count as modified too
        (the root folder was replaced: any of them may differ).
        """
        if not self._indexed or self._stopped:
            return  # the first listing, at start, is still to come
        stamp = time.monotonic()
        on_disk = set(self._scan(root, root.real))
        if root.is_file:
            known = {root.given} if root.given in self._files else set()
        else:
            known = set(self._files.under(root.given))
        changed = on_disk ^ known
        if everything:
            changed |= on_disk
        for path in sorted(changed):
            self._record(path, stamp, exists=path in on_disk, complete=True)
        if changed:
            self._note_activity()

    def _root_gone(self, root: _Root) -> None:
        if self._folder_gone(root, root.real, time.monotonic()):
            self._note_activity()

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _is_new_folder(self, real_path: str) -> bool:
        appeared = self._new_folders.get(real_path)
        return appeared is not None and self._now() - appeared < _NEW_FOLDER_AGE

    def _reported_path(self, root: _Root, real_path: str) -> str | None:
        """The path to report for ``real_path``, or None if outside ``root`` or ignored."""
        if not real_path:
            return None
        relative = root.relative(real_path)
        if relative is None:
            return None
        if relative and not root.is_file and self._ignore(Path(relative)):
            return None
        return root.reported(relative)

    def _file_event(
        self, root: _Root, real_path: str, stamp: float, *, exists: bool,
        writing: bool = False, created: bool = False, listed: bool = False, complete: bool = False,
    ) -> bool:
        path = self._reported_path(root, real_path)
        if path is None:
            return False
        self._record(path, stamp, exists=exists, complete=complete or not exists)
        pending = self._pending[path]
        pending.writing = pending.writing or writing
        if created:
            pending.created, pending.listed = True, listed
        return True

    def _record(self, path: str, stamp: float, *, exists: bool, complete: bool) -> None:
        """Note an event for ``path``: whether it exists now, whether its content is final."""
        now = self._now()
        pending = self._pending.get(path)
        if pending is None:
            pending = self._pending[path] = _Pending(path in self._files, stamp, now, now)
        pending.last_seen = now
        if exists:
            self._files.add(path)
        else:
            self._files.discard(path)
        if complete:
            pending.writing = pending.created = False

    def _folder_gone(self, root: _Root, real_path: str, stamp: float) -> bool:
        folder = self._reported_path(root, real_path)
        if folder is None:
            return False
        # Usually already reported file by file; not when a folder moves away.
        inside = self._files.under(folder)
        for path in inside:
            self._record(path, stamp, exists=False, complete=True)
        return bool(inside)

    def _folder_arrived(self, root: _Root, real_path: str, stamp: float) -> bool:
        if self._reported_path(root, real_path) is None:
            return False
        touched = False
        for path in self._scan(root, real_path):
            self._record(path, stamp, exists=True, complete=True)
            touched = True
        return touched

    def _scan(self, root: _Root, real_path: str) -> Iterator[str]:
        """Files (reported paths) under ``real_path``, skipping ignored folders."""
        if root.is_file:
            if os.path.isfile(real_path):
                yield root.given
            return
        folders = [real_path]
        while folders:
            folder = folders.pop()
            try:
                with os.scandir(folder) as entries:
                    listing = list(entries)
            except OSError:
                continue
            for entry in listing:
                path = self._reported_path(root, entry.path)
                if path is None:
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file():
                        yield path
                except OSError:
                    continue

    # ------------------------------------------------------------ batching

    def _in_burst(self) -> bool:
        if len(self._pending) >= _BURST_FILES:
            return True
        changed = 0
        for path, pending in self._pending.items():
            # A scratch file that came and went (sed's temporary) is no second change.
            if pending.existed or path in self._files:
                changed += 1
                if changed >= 2:
                    return True
        return False

    def _base_quiet(self) -> float:
        if self._observers is not None and self._observers.polling:
            # Only a poll that finds nothing new shows that a change is over.
            return max(self._quiet, 2 * self._poll_interval)
        return self._quiet

    def _current_quiet(self) -> float:
        """The lull that ends a batch: short after a save, longer inside a burst."""
        if self._window_start is None or not self._in_burst():
            if any(not pending.existed and path in self._files for path, pending in self._pending.items()):
                # A new file (not a scratch file that came and went) is rarely a
                # save of the page being edited and often the first of many (a
                # checkout, a build, an unpacked archive): a stall of the
                # observer's threads between two of them must not cut the burst.
                return max(self._base_quiet(), _NEW_FILE_QUIET)
            return self._base_quiet()
        lasted = self._last_activity - self._window_start
        return max(self._base_quiet(), _BURST_QUIET, lasted)

    def _note_activity(self) -> None:
        now = self._now()
        if self._window_start is None:
            self._window_start = now
        self._last_activity = now
        self._wake_at(now + self._current_quiet())

    def _wake_at(self, when: float) -> None:
        """Make sure the timer fires no later than ``when``; on firing it re-checks."""
        assert self._loop is not None
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._on_timer)

    def _observer_backlog(self) -> bool:
        return self._observers is not None and self._observers.backlog()

    def _on_timer(self) -> None:
        self._timer = None
        if self._stopped or not self._pending:
            self._window_start = None
            return
        now = self._now()
        deadline = self._window_start + self._max_wait if self._window_start is not None else float("inf")
        if now < deadline:
            quiet_until = self._last_activity + self._current_quiet()
            if now < quiet_until:
                self._wake_at(min(quiet_until, deadline))
                return
            if self._observer_backlog():
                # Events are still queued in the observer: the burst is not over.
                self._wake_at(min(now + self._base_quiet(), deadline))
                return
        holds = {path: self._hold(path, pending, now) for path, pending in self._pending.items()}
        if now < deadline:
            brief = [hold[0] for hold in holds.values() if hold is not None and hold[1]]
            if brief:
                self._wake_at(min(min(brief), deadline))
                return
        self._window_start = None
        ready: dict[Path, ChangeKind] = {}
        first_event = float("inf")
        held: list[float] = []
        for path, hold in holds.items():
            if hold is not None:
                held.append(hold[0])
                continue
            pending = self._pending.pop(path)
            kind = _net_change(pending.existed, path in self._files)
            if kind is not None:
                ready[Path(path)] = kind
                first_event = min(first_event, pending.first_event)
        if held:
            self._wake_at(min(held))
        self._new_folders = {
            folder: appeared for folder, appeared in self._new_folders.items() if now - appeared < _NEW_FOLDER_AGE
        }
        if ready:
            self._emit(ChangeBatch(ready, first_event))

    def _hold(self, path: str, pending: _Pending, now: float) -> tuple[float, bool] | None:
        """None if the file is settled; else until when it is held back, and
        whether the rest of its batch waits for it."""
        exists = path in self._files
        if exists and pending.writing:
            until, whole_batch = pending.first_seen + _WRITE_HOLD_LIMIT, False
        elif exists and pending.created and pending.listed:
            until, whole_batch = pending.first_seen + _BRIEF_HOLD, True
        elif exists and pending.created:
            # Created and not yet closed: its content is on its way. Within the
            # cap, since a hard link, say, is created without being written.
            until, whole_batch = pending.first_seen + self._max_wait, False
        elif not exists and pending.existed:
            until, whole_batch = pending.last_seen + _BRIEF_HOLD, True
        else:
            return None
        return (until, whole_batch) if now < until else None

    # ------------------------------------------------------------ delivery

    def _emit(self, batch: ChangeBatch) -> None:
        if self._delivery is not None:
            # The consumer is still busy with the previous batch.
            self._waiting = batch if self._waiting is None else _merge_batches(self._waiting, batch)
            return
        self._hand_over(batch)

    def _hand_over(self, batch: ChangeBatch) -> None:
        try:
            result = self._on_batch(batch)
        except Exception:
            logger.exception("handling a change batch failed")
            return
        if inspect.isawaitable(result):
            self._delivering = result
            self._delivery = asyncio.ensure_future(self._finish(result))

    async def _finish(self, result: Awaitable[object]) -> None:
        try:
            await result
        except Exception:
            logger.exception("handling a change batch failed")
        finally:
            self._delivery = self._delivering = None
        if self._waiting is not None and not self._stopped:
            batch, self._waiting = self._waiting, None
            self._hand_over(batch)
