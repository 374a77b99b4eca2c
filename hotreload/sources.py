"""Watched sources and the builds they start: from a saved source file to one update.

A :class:`SourceWatch` is a set of paths and what a change there does: run a
build (a command or a Python callable) or, with no action, reload every tab.
The :class:`BuildPipeline` runs the builds one at a time, across all watches,
and decides what the browser hears about them:

- while a build runs, its writes into the served folder are not announced one
  by one; when it ends, the folder is compared by content with what was last
  announced, and exactly the files whose bytes changed go out, as one update;
- a failed build puts its error in the overlay (and holds back its half-written
  outputs); the next good build of the same watch takes the error down;
- a source change whose content is what the last build already read does not
  start a build, so a build that rewrites files in its own source folder with
  the same content does not start itself again. A file the build rewrites with
  new content every time (a time stamp) is recognised as the build's own after
  a few extra builds: from then on its changes during a build are ignored (a
  change made while no build runs still starts one, and makes it a source
  again). Whether a change was made during a build is told by the file's
  modification time, so a change reported late is still placed right;
- the served folder is never a source, even inside a watched folder.

Example::

    pipeline = BuildPipeline(terminal=terminal, announce=server.announce, errors=board, tab_count=lambda: 1)
    pipeline.add(SourceWatch(pipeline, [Path("docs")], "make html"))
    await pipeline.start(Path("docs/_build/html").resolve())
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Union

from .build import Action, BuildResult, BuildRunner
from .failures import ErrorBoard, error_for_result, reason
from .outputs import OutputSnapshot, file_digest
from .terminal import Terminal
from .watch import ChangeBatch, ChangeKind, Watcher, make_ignore

__all__ = ["BuildPipeline", "IgnoreRule", "SourceWatch", "PAGE_WAIT"]

logger = logging.getLogger(__name__)

IgnoreRule = Union[str, Callable[[Path], bool]]
"""A glob (as for ``--ignore``) or a callable given a changed path, True to ignore it."""

# The longest a request for a site file waits for a running build to end.
PAGE_WAIT = 15.0
# A source file that changes during this many builds in a row, each started
# only by changes made during the one before, is the build's own output: after
# a first build that was not for that file, or after one that was (a person
# may save a file during each of a few builds; a build writing it loops forever).
OWN_FILE_STREAK = 3
OWN_FILE_STREAK_FROM_ITSELF = 6
# A file's modification time comes from a coarse clock (a tick of a few ms):
# a write this close to a build's start or end may belong to it.
_CLOCK_SLACK_NS = 20_000_000

StartHook = Callable[[list[Path]], object]
EndHook = Callable[[BuildResult, list[Path]], object]


def _digests(paths: Iterable[Path]) -> dict[Path, str | None]:
    return {path: file_digest(path) for path in paths}


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _states(paths: Iterable[Path]) -> dict[Path, tuple[str | None, int | None]]:
    """Content hash and modification time of each path (None, None when gone)."""
    return {path: (file_digest(path), _mtime_ns(path)) for path in paths}


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _describe_changes(paths: Sequence[Path]) -> str:
    if not paths:
        return "first build"
    if len(paths) == 1:
        return f"{paths[0].name} changed"
    return f"{len(paths)} files changed"


class SourceWatch:
    """Paths watched for changes, and what a change there does.

    Returned by :meth:`hotreload.DevServer.watch`; :meth:`trigger` asks for a
    build without a file change (a "rebuild everything" button, a timer).
    """

    def __init__(
        self,
        pipeline: BuildPipeline,
        paths: Sequence[Path],
        action: Action | None,
        *,
        ignore: Sequence[IgnoreRule] = (),
        shell: bool = False,
        timeout: float | None = None,
        run_at_start: bool = True,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.action = action
        self.ignore = list(ignore)
        self.shell = shell
        self.timeout = timeout
        self.run_at_start = run_at_start
        self.file_count = 0
        self._pipeline = pipeline
        self.runner: BuildRunner | None = None
        if action is not None:
            self.runner = BuildRunner(
                action, shell=shell, timeout=timeout, on_output=pipeline.terminal.output,
                on_start=functools.partial(pipeline._build_started, self),
                on_done=functools.partial(pipeline._build_done, self),
            )
        self._watchers: list[Watcher] = []
        # Content of source files as the latest build read them (None: absent);
        # files not in here were never looked at.
        self._baseline: dict[Path, str | None] = {}
        self._dirty: set[Path] = set()  # reported since the baseline was refreshed
        # Files the build itself writes, and their content when it last ended.
        self._own_files: set[Path] = set()
        self._own_after: dict[Path, str | None] = {}
        self._building = False
        # Wall-clock span of the latest build and of the one before, to tell by
        # a file's modification time whether a change was made during a build.
        self._span: tuple[int, int] = (0, -1)
        self._previous_span: tuple[int, int] = (0, -1)
        self._trigger: frozenset[Path] = frozenset()
        self._changed: set[Path] = set()
        self._previous_changed: set[Path] = set()
        # Per changed file: (builds in a row it changed during, length that makes it the build's own).
        self._streak_now: dict[Path, tuple[int, int]] = {}
        self._previous_streak: dict[Path, tuple[int, int]] = {}
        self._was_own: set[Path] = set()
        self._first_event: float | None = None  # earliest change waiting for the next build
        self.build_first_event = 0.0

    @property
    def command(self) -> str:
        """The build as a person would name it ("make html", "build_site()")."""
        return self.runner.command if self.runner is not None else "reload"

    @property
    def label(self) -> str:
        """The command, cut short for a terminal line."""
        command = self.command
        return command if len(command) <= 40 else command[:39] + "…"

    def trigger(self, paths: Iterable[str | os.PathLike[str]] = ()) -> None:
        """Ask for a build now, as if ``paths`` had changed. Safe from any thread."""
        changed = [Path(p).absolute() for p in paths]
        self._pipeline.call_soon(self._pipeline.request, self, changed, time.monotonic())

    # ---- what counts as a change ---------------------------------------------

    def _made_during(self, span: tuple[int, int], mtime_ns: int | None, *, running: bool = False) -> bool:
        if mtime_ns is None:
            return running  # a deletion: only its arrival time is known
        start, end = span
        return start - _CLOCK_SLACK_NS <= mtime_ns and (running or mtime_ns <= end + _CLOCK_SLACK_NS)

    def _streak(self, path: Path) -> tuple[int, int]:
        """How many builds in a row ``path`` changed during, each started only
        by changes made during the one before, and how long a streak makes it
        the build's own file: a build that writes the file every time makes
        the streak grow without end, a person editing it rarely does."""
        previous = self._previous_streak.get(path)
        if (
            previous is not None
            and path in self._previous_changed
            and self._trigger
            and self._trigger <= self._previous_changed
        ):
            return previous[0] + 1, previous[1]
        began_elsewhere = path not in self._trigger or path in self._was_own
        return 1, OWN_FILE_STREAK if began_elsewhere else OWN_FILE_STREAK_FROM_ITSELF

    def _wanted(self, changes: dict[Path, tuple[str | None, int | None]]) -> tuple[list[Path], list[Path]]:
        """Which reported changes need a build, and which turned out to be the build's own files."""
        wanted: list[Path] = []
        found_own: list[Path] = []
        for path, (digest, mtime_ns) in changes.items():
            self._dirty.add(path)
            if path in self._own_files:
                # Its content when the build ended includes the build's write.
                if self._building or self._own_after.get(path, digest) == digest:
                    continue
                # Changed while no build ran: someone edits it after all.
                self._own_files.discard(path)
                self._was_own.add(path)
                wanted.append(path)
                continue
            if path in self._baseline and self._baseline[path] == digest:
                continue  # the last build read exactly this
            if self._made_during(self._span, mtime_ns, running=self._building):
                self._changed.add(path)
                self._streak_now[path] = streak = self._streak(path)
                if streak[0] >= streak[1]:
                    self._own_files.add(path)
                    self._own_after[path] = digest
                    if path not in self._was_own:
                        found_own.append(path)
                    continue
            elif self._made_during(self._previous_span, mtime_ns):
                # Reported late, after the next build began.
                self._previous_changed.add(path)
                self._previous_streak.setdefault(path, (1, OWN_FILE_STREAK_FROM_ITSELF))
            wanted.append(path)
        return wanted, found_own


class BuildPipeline:
    """Runs the builds of every :class:`SourceWatch`, one at a time, and
    announces what they changed in the served folder.

    ``announce`` gets a :class:`ChangeBatch` of changed site files (or, for
    watches without an action, of the changed source files) and may return an
    awaitable that delivers it; ``errors`` is the
    board the overlay follows; ``tab_count`` says how many tabs are open (for
    the terminal line); ``ignore`` holds the server's ``--ignore`` globs.
    """

    def __init__(
        self,
        *,
        terminal: Terminal,
        announce: Callable[[ChangeBatch], Awaitable[None] | None],
        errors: ErrorBoard,
        tab_count: Callable[[], int],
        ignore: Sequence[str] = (),
        poll: bool = False,
    ) -> None:
        self.terminal = terminal
        self.watches: list[SourceWatch] = []
        self.root: Path | None = None
        self.start_hooks: list[StartHook] = []
        self.end_hooks: list[EndHook] = []
        self._announce_batch = announce
        self._errors = errors
        self._tab_count = tab_count
        self._ignore_globs = list(ignore)
        self._poll = poll
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._published: OutputSnapshot | None = None
        self._outputs_lock: asyncio.Lock | None = None
        self._building = False
        # After a failed build its outputs may be half written: they wait for a good build.
        self._held = False
        self._forced: dict[Path, None] = {}
        self._queue: dict[SourceWatch, dict[Path, None]] = {}
        self._driver: asyncio.Task[None] | None = None
        self._idle_check_waiting = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- state ---------------------------------------------------------------

    @property
    def has_builds(self) -> bool:
        return any(watch.action is not None for watch in self.watches)

    @property
    def busy(self) -> bool:
        """True while a build runs or waits to run."""
        return self._driver is not None and not self._driver.done()

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no build runs or waits; False if ``timeout`` passed first."""
        driver = self._driver
        if driver is None or driver.done():
            return True
        done, _ = await asyncio.wait({driver}, timeout=timeout)
        return bool(done)

    def call_soon(self, function: Callable[..., object], *args: object) -> None:
        """Run ``function`` in the loop's thread: at once from it, later from any other
        (nothing happens before :meth:`start`)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            function(*args)
        else:
            loop.call_soon_threadsafe(function, *args)

    # ---- lifecycle -----------------------------------------------------------

    def add(self, watch: SourceWatch) -> None:
        """Add a watch; after :meth:`start` it starts at once (from the loop's thread)."""
        self.watches.append(watch)
        if self._started:
            self._spawn(self._start_watch(watch, build=True))

    async def start(self, root: Path) -> None:
        """Start every watch and the first builds; ``root`` is the served folder (resolved).

        Raises :class:`FileNotFoundError` for a watched path that does not exist.
        """
        self._loop = asyncio.get_running_loop()
        self._outputs_lock = asyncio.Lock()
        self.root = root
        for watch in self.watches:
            await self._start_watch(watch, build=False)
        self._started = True
        for watch in self.watches:
            if watch.runner is not None and watch.run_at_start:
                self.request(watch, [], time.monotonic())

    async def stop(self) -> None:
        self._started = False
        driver, self._driver = self._driver, None
        if driver is not None and not driver.done():
            driver.cancel()
        for watch in self.watches:
            for watcher in watch._watchers:
                await watcher.stop()
            watch._watchers.clear()
            if watch.runner is not None:
                await watch.runner.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        self._loop = None

    async def _start_watch(self, watch: SourceWatch, *, build: bool) -> None:
        for path in watch.paths:
            if not path.exists():
                raise FileNotFoundError(f"watched path not found: {path}")
        if watch.runner is not None:
            if self._published is None and self.root is not None:
                self._published = await asyncio.to_thread(OutputSnapshot.take, self.root, self._output_ignore())
        for path in watch.paths:
            watcher = Watcher(
                [path], functools.partial(self._on_source_batch, watch),
                ignore=self._source_ignore(watch, path), poll=self._poll,
            )
            await watcher.start()
            watch._watchers.append(watcher)
            watch.file_count += watcher.file_count
        if build and watch.runner is not None and watch.run_at_start:
            self.request(watch, [], time.monotonic())

    def _output_ignore(self) -> Callable[[Path], bool]:
        rule = make_ignore(self._ignore_globs)
        root = self.root
        assert root is not None
        return lambda path: rule(path.relative_to(root))

    def _source_ignore(self, watch: SourceWatch, path: Path) -> Callable[[Path], bool]:
        globs = [rule for rule in watch.ignore if isinstance(rule, str)]
        tests = [rule for rule in watch.ignore if not isinstance(rule, str)]
        by_name = make_ignore([*self._ignore_globs, *globs])
        given = os.path.abspath(path)
        real = os.path.realpath(given)
        is_file = os.path.isfile(real)
        root = str(self.root) if self.root is not None else None

        def ignore(relative: Path) -> bool:
            if by_name(relative):
                return True
            full = real if is_file else os.path.join(real, relative)
            # The served folder is the output: never a source, wherever it is.
            if root is not None and _inside(full, root):
                return True
            if tests:
                reported = Path(given) if is_file else Path(given, relative)
                return any(test(reported) for test in tests)
            return False

        return ignore

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.terminal.error(f"{type(exc).__name__}: {exc}")

    # ---- source changes → builds ---------------------------------------------

    async def _on_source_batch(self, watch: SourceWatch, batch: ChangeBatch) -> None:
        if watch.runner is None:
            outcome = self._announce_batch(batch)
            if outcome is not None:
                await outcome
            return
        states = await asyncio.to_thread(_states, batch.changes)
        wanted, own = watch._wanted(states)
        for path in own:
            self.terminal.warn(
                f"the build writes {path} (a watched source) on every run: its changes during a build "
                f"no longer start one (to say so, --ignore '{path.name}')"
            )
        if wanted:
            self.request(watch, wanted, batch.first_event)

    def request(self, watch: SourceWatch, paths: list[Path], first_event: float) -> None:
        """Ask for a build of ``watch``: merged into its follow-up if it is
        building, else queued behind the build that runs (one at a time)."""
        runner = watch.runner
        if runner is None or not self._started:
            return
        if watch._first_event is None or first_event < watch._first_event:
            watch._first_event = first_event
        if runner.busy:
            runner.request(paths)
            return
        self._queue.setdefault(watch, {}).update(dict.fromkeys(paths))
        if not self.busy:
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def _drive(self) -> None:
        while self._queue:
            watch = next(iter(self._queue))
            paths = list(self._queue.pop(watch))
            runner = watch.runner
            assert runner is not None
            runner.request(paths)
            await runner.wait_idle()

    async def _build_started(self, watch: SourceWatch, paths: list[Path]) -> None:
        assert self._outputs_lock is not None
        async with self._outputs_lock:  # an announcement in progress finishes first
            self._building = True
        watch._building = True
        watch._previous_span, watch._span = watch._span, (time.time_ns(), -1)
        watch._previous_changed, watch._previous_streak = watch._changed, watch._streak_now
        watch._streak_now = {}
        watch._trigger, watch._changed = frozenset(paths), set()
        dirty, watch._dirty = watch._dirty, set()
        if dirty:
            watch._baseline.update(await asyncio.to_thread(_digests, dirty))
        watch.build_first_event = watch._first_event if watch._first_event is not None else time.monotonic()
        watch._first_event = None
        self.terminal.update("build", watch.label, "running", _describe_changes(paths))
        await self._run_hooks(self.start_hooks, paths)

    async def _build_done(self, watch: SourceWatch, result: BuildResult, paths: list[Path]) -> None:
        assert self._outputs_lock is not None
        watch._span = (watch._span[0], time.time_ns())
        if watch._own_files:
            # Read while still "building": a report of the build's last write
            # must not be taken for someone's edit in the meantime.
            watch._own_after = await asyncio.to_thread(_digests, watch._own_files)
        watch._building = False
        changes: dict[Path, str] = {}
        async with self._outputs_lock:
            if result.ok:
                changes = await self._diff()
                self._held = False
            else:
                self._held = True
            self._building = False
        ms = result.duration * 1000
        if result.ok:
            count = len(changes)
            self.terminal.update(
                "build", watch.label, "ok", f"{count} output{'s' if count != 1 else ''} changed", ms
            )
            self._errors.clear(watch)
            if changes:
                self._announce(changes, watch.build_first_event)
        else:
            error = error_for_result(result)
            tabs = self._tab_count()
            where = f"; {error.file}:{error.line}" if error.file and error.line else ""
            summary = f"{reason(result)}{where}; error shown in {tabs} tab{'s' if tabs != 1 else ''}"
            if self.terminal.verbosity >= 1:
                self.terminal.update("build", watch.label, "failed", summary, ms)
            else:
                self.terminal.error(f"build failed: {summary}")
                for line in error.output.splitlines()[-20:]:
                    self.terminal.error(f"  {line}")
            self._errors.set(watch, error)
        await self._run_hooks(self.end_hooks, result, paths)

    async def _run_hooks(self, hooks: Sequence[Callable[..., object]], *args: object) -> None:
        for hook in list(hooks):
            try:
                outcome = hook(*args)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as exc:
                self.terminal.error(f"build hook {getattr(hook, '__name__', hook)!r} failed: {type(exc).__name__}: {exc}")
                self.terminal.debug("".join(traceback.format_exception(exc)))

    # ---- outputs → announcements ---------------------------------------------

    async def _diff(self) -> dict[Path, str]:
        """Output files whose content changed since the last announcement (lock held)."""
        before = self._published
        if before is None:
            return {}
        after = await asyncio.to_thread(before.retake)
        self._published = after
        changes = after.changed_since(before)
        for path in self._forced:
            changes.setdefault(path, "modified" if path.exists() else "deleted")
        self._forced.clear()
        return changes

    def _announce(self, changes: dict[Path, str], first_event: float) -> None:
        outcome = self._announce_batch(
            ChangeBatch({path: ChangeKind(kind) for path, kind in changes.items()}, first_event)
        )
        if outcome is not None:
            # The server may first finish reading a page it just served.
            self._spawn(outcome)

    def outputs_touched(self, batch: ChangeBatch) -> None:
        """The served folder changed outside a build: announce what changed by content."""
        if self._building or self._idle_check_waiting or self._published is None:
            return
        self._idle_check_waiting = True
        self._spawn(self._publish_idle(batch.first_event))

    async def _publish_idle(self, first_event: float) -> None:
        assert self._outputs_lock is not None
        async with self._outputs_lock:
            self._idle_check_waiting = False
            if self._building or self._held:
                return
            changes = await self._diff()
        if changes:
            self._announce(changes, first_event)

    def notify(self, paths: Sequence[Path]) -> None:
        """Announce ``paths`` as changed (from the loop's thread); during a build,
        with the build's own update."""
        if not paths:
            return
        if self._building:
            self._forced.update(dict.fromkeys(paths))
            return
        published = self._published
        changes: dict[Path, str] = {}
        for path in paths:
            if not path.exists():
                changes[path] = "deleted"
            elif published is not None and path not in published:
                changes[path] = "added"
            else:
                changes[path] = "modified"
        self._announce(changes, time.monotonic())
        if published is not None:
            self._spawn(self._refresh_published(paths))

    async def _refresh_published(self, paths: Sequence[Path]) -> None:
        assert self._outputs_lock is not None
        async with self._outputs_lock:
            if self._published is not None:
                self._published = await asyncio.to_thread(self._published.refreshed, paths)
