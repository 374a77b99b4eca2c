"""Running a site build for a batch of source changes.

A build is a command (run as its own process group) or a Python callable. The
:class:`BuildRunner` runs one build at a time: changes that arrive while a build
runs are merged into a single follow-up build, so no change is lost and no save
is built twice. A callable fails cleanly, without a traceback, by raising
:class:`BuildFailed`.

Example::

    runner = BuildRunner("make html", timeout=60, on_done=report)
    runner.request([Path("docs/index.rst")])
    await runner.wait_idle()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import logging
import os
import shlex
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from .ansi import strip_ansi
from .outputs import OutputSnapshot

# strip_ansi and OutputSnapshot live in their own modules; they stay importable
# from here for code written against this module.
__all__ = ["Action", "BuildFailed", "BuildResult", "BuildRunner", "OutputSnapshot", "strip_ansi"]

logger = logging.getLogger(__name__)

Action = Union[str, Sequence[str], Callable[[list[Path]], object]]
"""A command line (split like a shell would), an argument list, or a callable
given the changed paths (sync callables run in a worker thread)."""


@dataclass(frozen=True)
class BuildResult:
    """The outcome of one build.

    ``output`` holds stdout and stderr interleaved as the build wrote them, with
    terminal escape codes removed and only the tail kept for very long runs.
    ``error`` says why a build could not run normally (a missing command, a
    timeout, the exception a callable raised).
    """

    ok: bool
    exit_code: int | None
    output: str
    duration: float
    command: str
    timed_out: bool = False
    error: str | None = None
    # Where the failure is, when the build said so (see BuildFailed).
    file: str | None = None
    line: int | None = None
    column: int | None = None


class BuildFailed(Exception):
    """Raised by a build callable to fail with a clean message and no traceback.

    ``message`` is what the error overlay and the terminal lead with, ``output``
    the generator's own log (escape codes are removed, long output is tailed),
    and ``file``/``line``/``column`` where the problem is, when known.

    Example::

        def build(changed: list[Path]) -> None:
            status = run_generator()
            if status.errors:
                raise BuildFailed("2 errors in the docs", output=status.log, file="docs/index.rst", line=12)
    """

    def __init__(
        self,
        message: str,
        *,
        output: str = "",
        file: str | os.PathLike[str] | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.output = output
        self.file = os.fspath(file) if file is not None else None
        self.line = line
        self.column = column


# ---------------------------------------------------------------------------
# Build output
# ---------------------------------------------------------------------------

# A line longer than this is passed on in pieces, so one huge line without a
# newline cannot grow memory without bound.
_MAX_LINE_BYTES = 64 * 1024


class _OutputCollector:
    """Splits a byte stream into lines, streams each line, keeps a bounded tail."""

    def __init__(self, on_line: Callable[[str], None] | None, limit: int) -> None:
        self._on_line = on_line
        self._limit = limit
        self._partial = b""
        self._lines: deque[str] = deque()
        self._kept_chars = 0
        self._dropped_lines = 0
        self._callback_failed = False

    def feed(self, data: bytes) -> None:
        buffer = self._partial + data
        *complete, self._partial = buffer.split(b"\n")
        for raw in complete:
            self._add(raw)
        while len(self._partial) > _MAX_LINE_BYTES:
            self._add(self._partial[:_MAX_LINE_BYTES])
            self._partial = self._partial[_MAX_LINE_BYTES:]

    def add_text(self, text: str) -> None:
        for line in strip_ansi(text).splitlines():
            self._add_line(line)

    def finish(self) -> None:
        if self._partial:
            self._add(self._partial)
            self._partial = b""

    def text(self) -> str:
        body = "".join(line + "\n" for line in self._lines)
        if self._dropped_lines:
            return f"[{self._dropped_lines} earlier lines not kept]\n{body}"
        return body

    def _add(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace")
        self._add_line(strip_ansi(line.removesuffix("\r")))

    def _add_line(self, line: str) -> None:
        self._lines.append(line)
        self._kept_chars += len(line) + 1
        while self._kept_chars > self._limit and len(self._lines) > 1:
            self._kept_chars -= len(self._lines.popleft()) + 1
            self._dropped_lines += 1
        if self._on_line is not None:
            try:
                self._on_line(line)
            except Exception:
                # A broken printer must not break the build; say so once.
                if not self._callback_failed:
                    self._callback_failed = True
                    logger.exception("on_output callback failed")


class _CommandProtocol(asyncio.SubprocessProtocol):
    """Streams the build's output and tells apart "process exited" from "pipe
    closed": a grandchild may keep the pipe open after the build itself ended."""

    def __init__(self, loop: asyncio.AbstractEventLoop, collector: _OutputCollector) -> None:
        self._collector = collector
        self.exited: asyncio.Future[None] = loop.create_future()
        self.output_closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self._collector.feed(data if isinstance(data, bytes) else data.encode())

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1 and not self.output_closed.done():
            self._collector.finish()
            self.output_closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


async def _wait_for(future: asyncio.Future[Any], timeout: float | None) -> bool:
    """Wait for ``future`` without cancelling it; True if it completed in time."""
    done, _ = await asyncio.wait({future}, timeout=timeout)
    return bool(done)


# Windows has no SIGKILL; os.kill with SIGTERM already terminates there.
_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the whole process group led by ``pid`` (the build was
    started in its own session, so the group holds everything it spawned)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(pid, sig)
        else:  # no process groups (Windows): the command itself is all we can reach
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        # Empty group (all gone already); macOS answers EPERM for a group whose
        # leader is a zombie.
        pass


def _describe_callable(action: Callable[..., object]) -> str:
    name = getattr(action, "__qualname__", None)
    module = getattr(action, "__module__", None)
    if name is None:
        return repr(action)
    return f"{module}.{name}()" if module else f"{name}()"


class _BuildExited(Exception):
    """Carries a SystemExit raised by a build callable to the runner."""

    def __init__(self, exit: SystemExit) -> None:
        super().__init__(str(exit))
        self.exit = exit

    @property
    def exit_code(self) -> int:
        """The exit status it asked for: sys.exit() and sys.exit(0) are success."""
        if isinstance(self.exit, Exception):
            # An error class that also subclasses SystemExit (click's and so
            # mkdocs' Abort): always a failure, whatever its ``code``.
            code = getattr(self.exit, "exit_code", 1)
            return code if isinstance(code, int) and code != 0 else 1
        code = self.exit.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1


def _describe_exception(exc: BaseException) -> tuple[str, str]:
    """The full traceback, and its last line."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text, f"{type(exc).__name__}: {exc}"


class BuildRunner:
    """Runs a build for each batch of source changes, one build at a time.

    ``action`` is a command line (split with :func:`shlex.split` and run without
    a shell unless ``shell=True``), an argument list, or a callable given the
    list of changed paths; a sync callable runs in a worker thread, an async one
    on the loop. ``on_output`` gets each output line as it arrives (escape codes
    removed); ``on_start`` and ``on_done`` may be sync or async. A callable
    fails by raising; ``sys.exit(code)`` in it sets the result's ``exit_code``
    (0 or None is success) and never stops the event loop.

    Call :meth:`request` from the event loop's thread.

    Example::

        runner = BuildRunner("sphinx-build -M html docs docs/_build", timeout=120,
                             on_output=print, on_done=lambda result, paths: print(result.ok))
        runner.request([Path("docs/index.rst")])
        await runner.wait_idle()
        await runner.close()
    """

    def __init__(
        self,
        action: Action,
        *,
        shell: bool = False,
        timeout: float | None = None,
        cwd: Path | None = None,
        on_output: Callable[[str], None] | None = None,
        on_start: Callable[[list[Path]], object] | None = None,
        on_done: Callable[[BuildResult, list[Path]], object] | None = None,
        env: Mapping[str, str] | None = None,
        kill_grace: float = 2.0,
        output_limit: int = 200_000,
    ) -> None:
        self._action = action
        self._shell = shell
        self._timeout = timeout
        self._cwd = cwd
        self._on_output = on_output
        self._on_start = on_start
        self._on_done = on_done
        self._env = env
        self._kill_grace = kill_grace
        self._output_limit = output_limit
        self._task: asyncio.Task[None] | None = None
        # Paths waiting for the follow-up build, in arrival order, each once.
        self._pending: dict[Path, None] = {}
        self._follow_up_requested = False
        self._closed = False
        self._last_result: BuildResult | None = None
        # One worker: sync builds never overlap, even one that outlived its timeout.
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def command(self) -> str:
        """The build as a human would type or name it."""
        action = self._action
        if isinstance(action, str):
            return action
        if callable(action):
            return _describe_callable(action)
        return shlex.join(action)

    @property
    def busy(self) -> bool:
        """True while a build runs or a follow-up build is waiting to run."""
        return self._task is not None and not self._task.done()

    @property
    def last_result(self) -> BuildResult | None:
        """The result of the latest finished build, for clients that connect later."""
        return self._last_result

    def request(self, paths: Iterable[Path]) -> None:
        """Ask for a build of ``paths``: now if idle, else in the one follow-up build.

        An empty batch still asks for a build (e.g. the first build at start-up).
        Requests after :meth:`close` are ignored.
        """
        if self._closed:
            return
        batch = dict.fromkeys(paths)
        if self.busy:
            self._pending.update(batch)
            self._follow_up_requested = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(list(batch)))

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no build runs or waits; False if ``timeout`` seconds passed first."""
        task = self._task
        if task is None or task.done():
            return True
        # Follow-up builds run inside the same task, so its end means idle.
        return await _wait_for(task, timeout)

    async def close(self) -> None:
        """Stop: drop waiting requests, end a running build's whole process group,
        and wait for the runner to finish. A sync callable already running in its
        thread cannot be stopped and is left to finish on its own."""
        self._closed = True
        self._pending.clear()
        self._follow_up_requested = False
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, paths: list[Path]) -> None:
        while True:
            await self._call_hook(self._on_start, paths)
            result = await self._build(paths)
            self._last_result = result
            await self._call_hook(self._on_done, result, paths)
            if not self._follow_up_requested or self._closed:
                return
            paths = list(self._pending)
            self._pending.clear()
            self._follow_up_requested = False

    async def _call_hook(self, hook: Callable[..., object] | None, *args: object) -> None:
        if hook is None:
            return
        try:
            outcome = hook(*args)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("build hook %r failed", hook)

    async def _build(self, paths: list[Path]) -> BuildResult:
        action = self._action
        if callable(action) and not isinstance(action, str):
            return await self._run_callable(action, paths)
        if self._shell:
            command = action if isinstance(action, str) else shlex.join(action)
            argv = ["/bin/sh", "-c", command]
        else:
            argv = shlex.split(action) if isinstance(action, str) else list(action)
        return await self._run_command(argv)

    # -- callables ---------------------------------------------------------

    async def _run_callable(self, action: Callable[[list[Path]], object], paths: list[Path]) -> BuildResult:
        started = time.monotonic()
        collector = _OutputCollector(self._on_output, self._output_limit)
        call = asyncio.ensure_future(self._invoke(action, paths))
        try:
            finished = await _wait_for(call, self._timeout)
        except asyncio.CancelledError:
            call.cancel()
            raise
        duration = time.monotonic() - started
        if not finished:
            call.cancel()
            await asyncio.wait({call})
            return BuildResult(
                ok=False, exit_code=None, output=collector.text(), duration=duration,
                command=self.command, timed_out=True, error=f"timed out after {self._timeout:g} s",
            )
        exc = call.exception()
        exit_code: int | None = None
        if isinstance(exc, _BuildExited):
            exit_code = exc.exit_code
            exc = exc.exit if exit_code != 0 else None
        if exc is None:
            return BuildResult(ok=True, exit_code=exit_code, output="", duration=duration, command=self.command)
        if isinstance(exc, BuildFailed):
            collector.add_text(exc.output)
            return BuildResult(
                ok=False, exit_code=exit_code, output=collector.text(), duration=duration, command=self.command,
                error=exc.message, file=exc.file, line=exc.line, column=exc.column,
            )
        text, error = _describe_exception(exc)
        collector.add_text(text)
        return BuildResult(
            ok=False, exit_code=exit_code, output=collector.text(), duration=duration,
            command=self.command, error=error,
        )

    async def _invoke(self, action: Callable[[list[Path]], object], paths: list[Path]) -> None:
        try:
            if inspect.iscoroutinefunction(action):
                await action(paths)
                return
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hotreload-build")
            context = contextvars.copy_context()
            outcome = await asyncio.wrap_future(self._executor.submit(context.run, action, paths))
            # A sync wrapper may hand back a coroutine (e.g. an object with async __call__).
            if inspect.isawaitable(outcome):
                await outcome
        except SystemExit as exc:
            # asyncio lets SystemExit out of a task and stop the whole loop; a
            # build that calls sys.exit() (or raises mkdocs' Abort, a SystemExit)
            # must only end that build.
            raise _BuildExited(exc) from None

    # -- commands ----------------------------------------------------------

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ if self._env is None else self._env)
        # Python tools block-buffer a pipe; unbuffered, their lines stream as printed.
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _failed_to_start(self, message: str, started: float) -> BuildResult:
        collector = _OutputCollector(self._on_output, self._output_limit)
        collector.add_text(message)
        return BuildResult(
            ok=False, exit_code=None, output=collector.text(), duration=time.monotonic() - started,
            command=self.command, error=message,
        )

    async def _run_command(self, argv: list[str]) -> BuildResult:
        started = time.monotonic()
        if not argv:
            return self._failed_to_start("empty build command", started)
        if self._cwd is not None and not Path(self._cwd).is_dir():
            return self._failed_to_start(f"build directory not found: {self._cwd}", started)
        loop = asyncio.get_running_loop()
        collector = _OutputCollector(self._on_output, self._output_limit)
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _CommandProtocol(loop, collector),
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self._cwd,
                env=self._child_env(),
                start_new_session=True,
            )
        except FileNotFoundError:
            return self._failed_to_start(f"command not found: {argv[0]}", started)
        except PermissionError:
            return self._failed_to_start(f"permission denied: {argv[0]}", started)
        except OSError as exc:
            return self._failed_to_start(f"could not start {argv[0]}: {exc}", started)

        pid = transport.get_pid()
        timed_out = False
        try:
            if not await _wait_for(protocol.exited, self._timeout):
                timed_out = True
                await self._stop_group(pid, protocol)
            # The build is over when its command is: end whatever it left
            # running in its group, after giving the pipe a moment to drain.
            if not await _wait_for(protocol.output_closed, 0.5):
                _signal_group(pid, signal.SIGTERM)
                if not await _wait_for(protocol.output_closed, self._kill_grace):
                    _signal_group(pid, _SIGKILL)
            else:
                _signal_group(pid, signal.SIGTERM)
        except asyncio.CancelledError:
            await self._stop_group(pid, protocol)
            raise
        finally:
            transport.close()
        collector.finish()

        exit_code = transport.get_returncode()
        error = f"timed out after {self._timeout:g} s" if timed_out else None
        return BuildResult(
            ok=exit_code == 0 and not timed_out,
            exit_code=exit_code,
            output=collector.text(),
            duration=time.monotonic() - started,
            command=self.command,
            timed_out=timed_out,
            error=error,
        )

    async def _stop_group(self, pid: int, protocol: _CommandProtocol) -> None:
        """SIGTERM the build's process group, then SIGKILL what outlives the grace."""
        _signal_group(pid, signal.SIGTERM)
        both = asyncio.ensure_future(asyncio.wait({protocol.exited, protocol.output_closed}))
        await _wait_for(both, self._kill_grace)
        both.cancel()
        # Members that ignored SIGTERM (or never held the pipe) still go.
        _signal_group(pid, _SIGKILL)
        await _wait_for(protocol.exited, self._kill_grace)
