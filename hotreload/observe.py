"""Keeping every watched folder observed, whatever the system does to it.

:mod:`hotreload.watch` turns file events into batches; this module makes sure
the events keep coming, one watched root at a time:

- natively (inotify, FSEvents, ...) when possible. When the system's limit on
  watches is reached, at start or later when new folders appear, that root
  falls back to polling, with a message that says how to raise the limit;
- a probe file written at start tells a file system that delivers no events at
  all (some network drives and container mounts): that root is polled;
- a root folder that is deleted, renamed away or replaced by another folder is
  watched again as soon as a folder is back at its path, and the watcher is
  told to compare what it knew with what is there now.

Example (inside a running event loop; ``receive`` gets every event)::

    observers = RootObservers(receive, resync=resync, gone=gone)
    await observers.start(roots)
    ...
    observers.stop()
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from .watchlimit import FolderId, folder_id, limit_advice, watched_folders

__all__ = ["PROBE_PREFIX", "RootObservers", "WatchedRoot"]

logger = logging.getLogger(__name__)

PROBE_PREFIX = ".hotreload-probe-"
"""Names of the probe files written at start; events for them are never reported."""

# How long a probe file may take to show up as an event before the file
# system is taken for one that delivers none. A healthy one takes milliseconds.
PROBE_TIMEOUT = 2.0
# How often each root folder is checked to still be the folder that is watched.
ROOT_CHECK_INTERVAL = 0.25
# New folders are checked for a watch this long after they appear, in one go.
COVERAGE_CHECK_DELAY = 0.05
# A folder found unwatched is checked once more before falling back: it may
# have been replaced by a namesake whose watch is being added right now.
COVERAGE_RECHECK_DELAY = 0.3
_JOIN_TIMEOUT = 5.0

_NO_EVENTS = (
    "a file written there as a test produced no event (a network drive or a container mount?)",
    "Pass --poll to skip this check.",
)


class WatchedRoot(Protocol):
    """One watched path: as reported (``given``) and as watched (``real``)."""

    @property
    def given(self) -> str: ...

    @property
    def real(self) -> str: ...

    @property
    def is_file(self) -> bool: ...


Receive = Callable[[WatchedRoot, FileSystemEvent, float], None]


@dataclass(eq=False)
class _RootState:
    root: WatchedRoot
    mode: Literal["native", "polling", "gone", "stopped"] = "stopped"
    observer: BaseObserver | None = None
    watch: ObservedWatch | None = None
    identity: FolderId | None = None  # the root folder being watched
    prefer_polling: bool = False  # polled once for a reason that still holds when it comes back
    probes: dict[str, asyncio.Event] = field(default_factory=dict)


class _Bridge(FileSystemEventHandler):
    """Runs in watchdog's thread: hands every event over to the loop thread."""

    def __init__(self, state: _RootState, loop: asyncio.AbstractEventLoop, receive: Callable[..., None]) -> None:
        self._state = state
        self._loop = loop
        self._receive = receive

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._loop.call_soon_threadsafe(self._receive, self._state, event, time.monotonic())
        except RuntimeError:
            pass  # the loop closed while the observer was stopping


def _native_observer() -> tuple[BaseObserver, bool]:
    """The platform's observer, and whether it reports closes (inotify does)."""
    if sys.platform.startswith("linux"):
        from watchdog.observers import inotify_c
        from watchdog.observers.inotify import InotifyObserver

        # watchdog (>= 6) holds an inotify read that follows another within a
        # millisecond for up to a millisecond more, to hand a burst over in
        # fewer pieces. Every save is such a read (an editor's write and close
        # come apart), so that millisecond would be added to every update,
        # while grouping bursts is the watcher's job here (its quiet window
        # widens as a burst goes on). A gap of zero turns the hold off.
        if hasattr(inotify_c, "_COALESCE_BURST_GAP_S"):
            inotify_c._COALESCE_BURST_GAP_S = 0.0

        # Full events: a rename from outside arrives as a move, not a creation,
        # which tells a complete file from one still being written.
        return InotifyObserver(generate_full_events=True), True
    from watchdog.observers import Observer

    return Observer(), False


class RootObservers:
    """Watches each root natively or by polling, and keeps it watched.

    ``receive(root, event, stamp)`` is called in the loop thread for every
    event (probe files left out; nothing while a root folder is missing).
    ``resync(root, everything)`` asks the watcher to compare the files it
    knows under ``root`` with the disk: called after a root falls back to
    polling (files in folders that were never watched), and after the root
    folder comes back or is replaced (``everything`` is then true: any file
    may have changed). ``gone(root)`` says the root folder disappeared.
    ``folder_ignored(root, real_path)`` tells folders whose watching does not
    matter (ignored ones).
    """

    def __init__(
        self,
        receive: Receive,
        *,
        resync: Callable[[WatchedRoot, bool], None],
        gone: Callable[[WatchedRoot], None],
        folder_ignored: Callable[[WatchedRoot, str], bool] = lambda root, path: False,
        event_filter: list[type[FileSystemEvent]] | None = None,
        poll: bool = False,
        poll_interval: float = 0.1,
    ) -> None:
        self._receive = receive
        self._resync = resync
        self._gone = gone
        self._folder_ignored = folder_ignored
        self._event_filter = event_filter
        self._poll = poll
        self._poll_interval = poll_interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._states: list[_RootState] = []
        self._native: BaseObserver | None = None
        self._native_closes = False
        self._polling: BaseObserver | None = None
        self._guard: asyncio.TimerHandle | None = None
        self._coverage: asyncio.TimerHandle | None = None
        self._new_folders: dict[_RootState, set[tuple[str, bool]]] = {}
        self._stopped = False

    # ---------------------------------------------------------------- queries

    def close_events(self, root: WatchedRoot) -> bool:
        """Whether events for ``root`` include file closes (inotify does, polling not)."""
        state = self._state_of(root)
        return state is not None and state.mode == "native" and self._native_closes

    @property
    def polling(self) -> bool:
        """Whether any root is polled."""
        return any(state.mode == "polling" for state in self._states)

    def backlog(self) -> bool:
        """Whether an observer holds events not yet handed over."""
        return any(
            observer is not None and observer.event_queue.qsize() > 0 for observer in (self._native, self._polling)
        )

    def mode(self, root: WatchedRoot) -> str:
        """How ``root`` is watched now: native, polling or gone."""
        state = self._state_of(root)
        return state.mode if state is not None else "stopped"

    def _state_of(self, root: WatchedRoot) -> _RootState | None:
        return next((state for state in self._states if state.root is root), None)

    # ---------------------------------------------------------------- lifecycle

    async def start(self, roots: Sequence[WatchedRoot]) -> None:
        """Watch every root; returns once each is watched in the way that works."""
        self._loop = asyncio.get_running_loop()
        self._states = [_RootState(root) for root in roots]
        try:
            for state in self._states:
                state.identity = self._identity(state.root)
                if self._poll:
                    self._watch_by_polling(state)
                else:
                    self._watch_natively(state)
            for state in self._states:
                if state.mode == "native" and self._unwatched_folders(state, self._walk_folders(state, state.root.real)):
                    self._fall_back(state, limit_advice(errno.ENOSPC))
            probed = [state for state in self._states if state.mode == "native" and not state.root.is_file]
            results = await asyncio.gather(*(self._probe(state) for state in probed))
            for state, delivered in zip(probed, results):
                if not delivered and state.mode == "native":
                    self._fall_back(state, _NO_EVENTS)
        except BaseException:
            self.stop()
            raise
        self._guard = self._loop.call_later(ROOT_CHECK_INTERVAL, self._check_roots)

    def stop(self) -> None:
        """Stop every observer and join its threads; safe to call twice."""
        self._stopped = True
        for timer in (self._guard, self._coverage):
            if timer is not None:
                timer.cancel()
        self._guard = self._coverage = None
        for observer in (self._native, self._polling):
            if observer is not None:
                observer.stop()
        for observer in (self._native, self._polling):
            if observer is not None and observer.is_alive():
                observer.join(_JOIN_TIMEOUT)
        self._native = self._polling = None
        for state in self._states:
            state.mode, state.watch, state.observer = "stopped", None, None

    # ---------------------------------------------------------------- scheduling

    def _scheduled_folder(self, root: WatchedRoot) -> str:
        # A single file is watched through its folder, which also sees a new
        # version renamed over it.
        return os.path.dirname(root.real) if root.is_file else root.real

    def _schedule(self, state: _RootState, observer: BaseObserver) -> None:
        assert self._loop is not None
        bridge = _Bridge(state, self._loop, self._on_event)
        state.watch = observer.schedule(
            bridge, self._scheduled_folder(state.root), recursive=not state.root.is_file,
            event_filter=self._event_filter,
        )
        state.observer = observer

    def _watch_natively(self, state: _RootState) -> None:
        if self._native is None:
            observer, self._native_closes = _native_observer()
            observer.start()
            self._native = observer
        try:
            self._schedule(state, self._native)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EMFILE):
                raise
            self._fall_back(state, limit_advice(error.errno))
            return
        state.mode = "native"

    def _watch_by_polling(self, state: _RootState) -> None:
        if self._polling is None:
            observer = PollingObserver(timeout=self._poll_interval)
            observer.start()
            self._polling = observer
        # The first snapshot is taken here: later changes are all reported.
        self._schedule(state, self._polling)
        state.mode = "polling"

    def _unschedule(self, state: _RootState) -> None:
        observer, watch = state.observer, state.watch
        state.observer = state.watch = None
        if observer is not None and watch is not None:
            try:
                observer.unschedule(watch)
            except (KeyError, OSError, RuntimeError):
                pass  # its emitter already stopped itself (the folder was deleted)

    def _fall_back(self, state: _RootState, advice: tuple[str, str], *, resync: bool = True) -> None:
        """Poll ``state``'s root from now on, and catch up on what the native watch missed."""
        if state.mode == "polling":
            return
        problem, remedy = advice
        logger.warning("watching %s: %s; polling it instead. %s", state.root.given, problem, remedy)
        state.prefer_polling = True
        native = (state.observer, state.watch)
        # Poll first, then drop the native watch: an overlap reports a change
        # twice (harmless), a gap would lose it.
        self._watch_by_polling(state)
        observer, watch = native
        if observer is not None and watch is not None:
            try:
                observer.unschedule(watch)
            except (KeyError, OSError, RuntimeError):
                pass
        if resync:
            self._resync(state.root, False)

    # ---------------------------------------------------------------- events

    def _on_event(self, state: _RootState, event: FileSystemEvent, stamp: float) -> None:
        if self._stopped or state.mode in ("gone", "stopped"):
            return
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(getattr(event, "dest_path", "") or "")
        if _is_probe(src) or _is_probe(dest):
            for path in (src, dest):
                arrived = state.probes.get(path)
                if arrived is not None:
                    arrived.set()
            return
        if event.is_directory and not state.root.is_file:
            if event.event_type == "deleted" and src == state.root.real:
                self._check_root(state)
                return
            if event.event_type == "created":
                self._folder_appeared(state, src, tree=False)
            elif event.event_type == "moved" and dest:
                self._folder_appeared(state, dest, tree=True)
        self._receive(state.root, event, stamp)

    # ---------------------------------------------------------------- probing

    async def _probe(self, state: _RootState) -> bool:
        """Write a file into the root and wait for its event: False if none comes."""
        path = os.path.join(state.root.real, PROBE_PREFIX + secrets.token_hex(6))
        arrived = state.probes[path] = asyncio.Event()
        try:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except OSError as error:
                logger.debug("cannot write a probe file into %s (%s): not checked", state.root.given, error)
                return True
            try:
                await asyncio.wait_for(arrived.wait(), PROBE_TIMEOUT)
            except asyncio.TimeoutError:
                return False
            return True
        finally:
            state.probes.pop(path, None)
            try:
                os.unlink(path)
            except OSError:
                pass

    # ---------------------------------------------------------------- coverage

    def _walk_folders(self, state: _RootState, top: str) -> Iterator[str]:
        """``top`` and every folder below it that is not ignored (no symlinks)."""
        if state.root.is_file:
            yield self._scheduled_folder(state.root)
            return
        folders = [top]
        while folders:
            folder = folders.pop()
            yield folder
            try:
                with os.scandir(folder) as entries:
                    listing = list(entries)
            except OSError:
                continue
            for entry in listing:
                try:
                    if entry.is_dir(follow_symlinks=False) and not self._folder_ignored(state.root, entry.path):
                        folders.append(entry.path)
                except OSError:
                    continue

    def _unwatched_folders(self, state: _RootState, folders: Iterator[str] | list[str]) -> list[str]:
        """The folders among ``folders`` that exist, can be read and hold no watch."""
        watched = watched_folders()
        if watched is None:
            return []  # unknown on this system: trust the observer
        missing = []
        for folder in folders:
            try:
                st = os.stat(folder, follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode) or not os.access(folder, os.R_OK | os.X_OK):
                continue  # an unreadable folder cannot be polled either
            if folder_id(st) not in watched:
                missing.append(folder)
        return missing

    def _folder_appeared(self, state: _RootState, real_path: str, *, tree: bool) -> None:
        if state.mode != "native" or self._folder_ignored(state.root, real_path):
            return
        self._new_folders.setdefault(state, set()).add((real_path, tree))
        if self._coverage is None and self._loop is not None:
            self._coverage = self._loop.call_later(COVERAGE_CHECK_DELAY, self._check_coverage, False)

    def _check_coverage(self, recheck: bool) -> None:
        """Have the folders that appeared lately got a watch? If not, the limit is reached."""
        self._coverage = None
        if self._stopped:
            return
        pending, self._new_folders = self._new_folders, {}
        suspects: dict[_RootState, set[tuple[str, bool]]] = {}
        for state, folders in pending.items():
            if state.mode != "native":
                continue
            for real_path, tree in folders:
                listed = list(self._walk_folders(state, real_path)) if tree else [real_path]
                missing = self._unwatched_folders(state, listed)
                if missing and not recheck:
                    suspects.setdefault(state, set()).update((folder, False) for folder in missing)
                elif missing:
                    self._fall_back(state, limit_advice(errno.ENOSPC))
                    break
        if suspects and self._loop is not None:
            for state, folders in suspects.items():
                self._new_folders.setdefault(state, set()).update(folders)
            self._coverage = self._loop.call_later(COVERAGE_RECHECK_DELAY, self._check_coverage, True)
        elif self._new_folders and self._loop is not None:
            self._coverage = self._loop.call_later(COVERAGE_CHECK_DELAY, self._check_coverage, False)

    # ---------------------------------------------------------------- the root folders themselves

    def _identity(self, root: WatchedRoot) -> FolderId | None:
        try:
            st = os.stat(self._scheduled_folder(root))
        except OSError:
            return None
        return folder_id(st) if stat.S_ISDIR(st.st_mode) else None

    def _check_roots(self) -> None:
        self._guard = None
        if self._stopped:
            return
        for state in self._states:
            if not state.root.is_file:
                self._check_root(state)
        assert self._loop is not None
        self._guard = self._loop.call_later(ROOT_CHECK_INTERVAL, self._check_roots)

    def _check_root(self, state: _RootState) -> None:
        """Deleted, back, or replaced by another folder: act on what the root folder is now."""
        identity = self._identity(state.root)
        if state.mode == "gone":
            if identity is not None:
                logger.info("%s is back: watching it again", state.root.given)
                self._rewatch(state, identity, everything=False)
        elif identity is None:
            logger.info("%s was deleted: waiting for it to come back", state.root.given)
            self._unschedule(state)
            state.mode = "gone"
            self._gone(state.root)
        elif identity != state.identity:
            # Renamed away and another folder put in its place: a new watch, and
            # any file may differ from the one of the same name before.
            self._unschedule(state)
            self._rewatch(state, identity, everything=True)

    def _rewatch(self, state: _RootState, identity: FolderId, *, everything: bool) -> None:
        state.identity = identity
        try:
            if state.prefer_polling or self._poll:
                self._watch_by_polling(state)
            else:
                self._watch_natively(state)
        except OSError as error:
            # Gone again already, or not a folder: the next check retries.
            logger.debug("cannot watch %s again yet: %s", state.root.given, error)
            state.mode, state.identity = "gone", None
            return
        if state.mode == "native":
            missing = self._unwatched_folders(state, self._walk_folders(state, state.root.real))
            if missing:
                self._fall_back(state, limit_advice(errno.ENOSPC), resync=False)
        self._resync(state.root, everything)


def _is_probe(path: str) -> bool:
    return bool(path) and os.path.basename(path).startswith(PROBE_PREFIX)
