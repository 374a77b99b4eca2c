"""Specification of hotreload.build: running site builds and telling what they changed."""

from __future__ import annotations

import asyncio
import shlex
import sys
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from conftest import run_async
from hotreload.build import BuildFailed, BuildResult, BuildRunner

PYTHON = sys.executable


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return run_async(coroutine)


def python(source: str) -> list[str]:
    """A build command running a short Python script."""
    return [PYTHON, "-c", source]


def wait_for_file_script(release: Path, before: str = "", after: str = "") -> str:
    """A script that prints, then blocks until ``release`` exists (exit 3 if it never does)."""
    return (
        "import os, sys, time\n"
        f"{before}\n"
        "deadline = time.monotonic() + 10\n"
        f"while not os.path.exists({str(release)!r}):\n"
        "    if time.monotonic() > deadline: sys.exit(3)\n"
        "    time.sleep(0.01)\n"
        f"{after}\n"
    )


def process_is_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state in ("Z", "X")


def wait_until_gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process_is_gone(pid):
            return True
        time.sleep(0.02)
    return process_is_gone(pid)


class Recorder:
    """Collects what a runner reports, for assertions."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.started: list[list[Path]] = []
        self.done: list[tuple[BuildResult, list[Path]]] = []

    def runner(self, action: Any, **options: Any) -> BuildRunner:
        return BuildRunner(
            action,
            on_output=self.lines.append,
            on_start=self.started.append,
            on_done=lambda result, paths: self.done.append((result, paths)),
            **options,
        )

    @property
    def results(self) -> list[BuildResult]:
        return [result for result, _ in self.done]

    @property
    def built_batches(self) -> list[list[Path]]:
        return [paths for _, paths in self.done]


async def build_once(action: Any, **options: Any) -> tuple[BuildResult, Recorder]:
    recorder = Recorder()
    runner = recorder.runner(action, **options)
    runner.request([Path("src/index.md")])
    assert await runner.wait_idle(timeout=20)
    await runner.close()
    assert len(recorder.done) == 1
    return recorder.results[0], recorder


# --- commands ---------------------------------------------------------------


def test_a_successful_command_reports_exit_code_zero_and_its_output() -> None:
    result, recorder = run(build_once(python("print('built 3 pages')")))

    assert result.ok and result.exit_code == 0 and not result.timed_out
    assert result.output == "built 3 pages\n"
    assert result.error is None
    assert result.duration > 0
    assert recorder.started == [[Path("src/index.md")]]


def test_a_failing_command_reports_its_exit_code_with_stdout_and_stderr_interleaved() -> None:
    script = (
        "import sys\n"
        "print('reading sources', flush=True)\n"
        "print('index.md:3: unknown directive', file=sys.stderr, flush=True)\n"
        "print('1 error', flush=True)\n"
        "sys.exit(2)\n"
    )
    result, recorder = run(build_once(python(script)))

    assert not result.ok
    assert result.exit_code == 2
    assert result.output == "reading sources\nindex.md:3: unknown directive\n1 error\n"
    assert recorder.lines == ["reading sources", "index.md:3: unknown directive", "1 error"]


def test_output_lines_reach_on_output_while_the_command_is_still_running(tmp_path: Path) -> None:
    # The script only finishes once the test has seen its first line, so a
    # runner that buffered output until exit would make it fail (exit 3).
    release = tmp_path / "release"

    def on_output(line: str) -> None:
        seen.append(line)
        if line == "waiting":
            release.touch()

    seen: list[str] = []
    script = wait_for_file_script(release, before="print('waiting', flush=True)", after="print('finished')")

    async def scenario() -> BuildResult:
        done: list[BuildResult] = []
        runner = BuildRunner(python(script), on_output=on_output, on_done=lambda result, _: done.append(result))
        runner.request([])
        assert await runner.wait_idle(timeout=20)
        return done[0]

    result = run(scenario())
    assert result.ok, result.output
    assert seen == ["waiting", "finished"]


def test_terminal_escape_codes_are_removed_from_build_output() -> None:
    script = "print('\\x1b[1;31merror\\x1b[0m: see \\x1b]8;;https://example.org\\x1b\\\\docs\\x1b]8;;\\x1b\\\\')"
    result, recorder = run(build_once(python(script)))

    assert result.output == "error: see docs\n"
    assert recorder.lines == ["error: see docs"]


def test_a_command_string_is_split_like_a_shell_would_but_runs_without_one() -> None:
    command = f"{shlex.quote(PYTHON)} -c \"import sys; print(sys.argv[1:])\" 'two words' $HOME"
    result, _ = run(build_once(command))

    assert result.ok
    assert result.output == "['two words', '$HOME']\n"
    assert result.command == command


def test_with_shell_true_the_command_runs_through_sh() -> None:
    result, _ = run(build_once("echo $((40 + 2)); echo oops >&2; exit 4", shell=True))

    assert result.exit_code == 4
    assert result.output == "42\noops\n"


def test_a_missing_executable_is_a_failed_build_with_a_clear_message() -> None:
    result, recorder = run(build_once("no-such-generator-xyz build --strict"))

    assert not result.ok
    assert result.exit_code is None
    assert result.error == "command not found: no-such-generator-xyz"
    assert "command not found: no-such-generator-xyz" in result.output
    assert recorder.lines == ["command not found: no-such-generator-xyz"]


def test_a_timeout_kills_the_command_and_the_processes_it_spawned() -> None:
    script = (
        "import subprocess, time\n"
        "sleeper = subprocess.Popen(['sleep', '30'])\n"
        "print(sleeper.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    # The timeout leaves a loaded machine time to start Python and the sleeper.
    started = time.monotonic()
    result, _ = run(build_once(python(script), timeout=2, kill_grace=0.5))
    elapsed = time.monotonic() - started

    assert result.timed_out and not result.ok
    assert result.error == "timed out after 2 s"
    assert elapsed < 20
    grandchild = int(result.output.split()[0])
    assert wait_until_gone(grandchild), f"grandchild {grandchild} survived the timeout"


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    script = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ignoring SIGTERM', flush=True)\n"
        "time.sleep(30)\n"
    )
    started = time.monotonic()
    result, _ = run(build_once(python(script), timeout=2, kill_grace=0.3))

    assert result.timed_out
    assert result.output == "ignoring SIGTERM\n"
    assert result.exit_code == -9
    assert time.monotonic() - started < 20


def test_processes_a_finished_build_left_running_are_ended() -> None:
    # The background sleep keeps the output pipe open; the build still ends
    # promptly, and the straggler does not outlive it.
    result, _ = run(build_once("sleep 30 & echo $!", shell=True, kill_grace=0.5))

    assert result.ok
    assert result.duration < 5
    assert wait_until_gone(int(result.output.strip()))


def test_long_output_keeps_only_the_tail_but_streams_every_line() -> None:
    result, recorder = run(build_once(python("for i in range(5000): print('line', i)"), output_limit=1000))

    assert len(recorder.lines) == 5000
    assert result.output.startswith("[")  # says that earlier lines were dropped
    assert result.output.endswith("line 4999\n")
    assert len(result.output) < 1100


# --- requests, follow-ups, closing --------------------------------------------


def test_changes_during_a_build_are_merged_into_exactly_one_follow_up(tmp_path: Path) -> None:
    release = tmp_path / "release"
    script = wait_for_file_script(release, before="print('building', flush=True)")
    a, b, c = Path("a.md"), Path("b.md"), Path("c.md")

    async def scenario() -> Recorder:
        recorder = Recorder()
        building = asyncio.Event()
        runner = BuildRunner(
            python(script),
            on_output=lambda line: building.set() if line == "building" else None,
            on_start=recorder.started.append,
            on_done=lambda result, paths: recorder.done.append((result, paths)),
        )
        runner.request([a])
        await asyncio.wait_for(building.wait(), 10)
        # Saved again while the first build runs: a itself, twice, and others.
        runner.request([b])
        runner.request([c, a])
        runner.request([a])
        assert runner.busy
        release.touch()
        assert await runner.wait_idle(timeout=20)
        assert not runner.busy
        return recorder

    recorder = run(scenario())
    assert recorder.built_batches == [[a], [b, c, a]]
    assert all(result.ok for result in recorder.results)


def test_quick_requests_while_idle_start_one_build_and_merge_the_rest_into_one_follow_up() -> None:
    a, b, c = Path("a.md"), Path("b.md"), Path("c.md")

    async def scenario() -> Recorder:
        recorder = Recorder()
        runner = recorder.runner(python("pass"))
        runner.request([a])
        runner.request([b])
        runner.request([c, b])
        assert await runner.wait_idle(timeout=20)
        return recorder

    recorder = run(scenario())
    assert recorder.built_batches == [[a], [b, c]]


def test_an_empty_request_still_runs_a_build() -> None:
    async def scenario() -> Recorder:
        recorder = Recorder()
        runner = recorder.runner(python("print('initial build')"))
        runner.request([])
        assert await runner.wait_idle(timeout=20)
        assert runner.last_result is recorder.results[0]
        return recorder

    recorder = run(scenario())
    assert recorder.built_batches == [[]]
    assert recorder.results[0].output == "initial build\n"


def test_a_failing_hook_does_not_lose_the_follow_up_build() -> None:
    built: list[list[Path]] = []

    def on_done(result: BuildResult, paths: list[Path]) -> None:
        built.append(paths)
        raise RuntimeError("terminal printer broke")

    async def scenario() -> None:
        runner = BuildRunner(python("pass"), on_done=on_done)
        runner.request([Path("a.md")])
        runner.request([Path("b.md")])
        assert await runner.wait_idle(timeout=20)

    run(scenario())
    assert built == [[Path("a.md")], [Path("b.md")]]


def test_wait_idle_gives_up_after_its_timeout_while_a_build_runs(tmp_path: Path) -> None:
    release = tmp_path / "release"

    async def scenario() -> None:
        runner = BuildRunner(python(wait_for_file_script(release)))
        assert await runner.wait_idle(timeout=0)  # nothing requested yet
        runner.request([Path("a.md")])
        assert await runner.wait_idle(timeout=0.2) is False
        release.touch()
        assert await runner.wait_idle(timeout=20) is True
        assert runner.last_result is not None and runner.last_result.ok

    run(scenario())


def test_close_kills_a_running_build_and_ignores_later_requests() -> None:
    script = "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(30)\n"

    async def scenario() -> tuple[int, Recorder, float]:
        recorder = Recorder()
        pids: list[int] = []
        started = asyncio.Event()

        def on_output(line: str) -> None:
            pids.append(int(line))
            started.set()

        runner = BuildRunner(python(script), on_output=on_output, on_done=lambda r, p: recorder.done.append((r, p)))
        runner.request([Path("a.md")])
        runner.request([Path("b.md")])  # waiting follow-up, dropped by close
        await asyncio.wait_for(started.wait(), 10)
        before_close = time.monotonic()
        await runner.close()
        closing_time = time.monotonic() - before_close
        runner.request([Path("c.md")])
        assert not runner.busy
        return pids[0], recorder, closing_time

    pid, recorder, closing_time = run(scenario())
    assert wait_until_gone(pid)
    assert closing_time < 5
    assert recorder.done == []


# --- callables -----------------------------------------------------------------


def test_a_sync_callable_gets_the_changed_paths_in_a_thread_while_the_loop_stays_responsive() -> None:
    calls: list[tuple[list[Path], bool]] = []
    loop_ran = threading.Event()

    def build_site(paths: list[Path]) -> None:
        # Only a responsive loop can set this while the build runs.
        if not loop_ran.wait(timeout=10):
            raise TimeoutError("the event loop was blocked during the build")
        calls.append((paths, threading.current_thread() is threading.main_thread()))

    async def scenario() -> BuildResult:
        recorder = Recorder()
        runner = recorder.runner(build_site)
        runner.request([Path("a.md"), Path("b.md")])
        await asyncio.sleep(0)
        loop_ran.set()
        assert await runner.wait_idle(timeout=20)
        return recorder.results[0]

    result = run(scenario())
    assert result.ok, result.output
    assert calls == [([Path("a.md"), Path("b.md")], False)]
    assert result.command.endswith("build_site()")


def test_an_async_callable_is_awaited_on_the_loop() -> None:
    calls: list[list[Path]] = []

    async def build_site(paths: list[Path]) -> None:
        await asyncio.sleep(0.01)
        calls.append(paths)

    result, _ = run(build_once(build_site))
    assert result.ok
    assert calls == [[Path("src/index.md")]]


def test_a_raising_callable_is_a_failed_build_with_its_traceback() -> None:
    def build_site(paths: list[Path]) -> None:
        raise ValueError("bad front matter in index.md")

    result, recorder = run(build_once(build_site))

    assert not result.ok
    assert result.error == "ValueError: bad front matter in index.md"
    assert result.output.startswith("Traceback (most recent call last):")
    assert "in build_site" in result.output
    assert recorder.lines[-1] == "ValueError: bad front matter in index.md"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_callable_raising_build_failed_fails_with_its_message_and_output_and_no_traceback(kind: str) -> None:
    def fail(paths: list[Path]) -> None:
        raise BuildFailed(
            "1 error in the docs", output="\x1b[31mdocs/index.rst:12: ERROR: Unknown directive\x1b[0m\n",
            file=Path("docs/index.rst"), line=12, column=3,
        )

    async def fail_async(paths: list[Path]) -> None:
        fail(paths)

    result, recorder = run(build_once(fail if kind == "sync" else fail_async))

    assert not result.ok
    assert result.error == "1 error in the docs"
    assert result.output == "docs/index.rst:12: ERROR: Unknown directive\n"
    assert "Traceback" not in result.output
    assert (result.file, result.line, result.column) == ("docs/index.rst", 12, 3)
    assert recorder.lines == ["docs/index.rst:12: ERROR: Unknown directive"]


class Aborted(Exception, SystemExit):
    """Like mkdocs' Abort: an error that is also a SystemExit."""


@pytest.mark.parametrize(
    ("exit_with", "ok", "exit_code"),
    [(SystemExit(3), False, 3), (SystemExit("bad config"), False, 1), (SystemExit(0), True, 0), (Aborted("strict"), False, 1)],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_callable_that_exits_ends_only_its_build_not_the_server(
    kind: str, exit_with: SystemExit, ok: bool, exit_code: int
) -> None:
    def build_sync(paths: list[Path]) -> None:
        raise exit_with

    async def build_async(paths: list[Path]) -> None:
        raise exit_with

    async def scenario() -> Recorder:
        recorder = Recorder()
        runner = recorder.runner(build_sync if kind == "sync" else build_async)
        runner.request([Path("a.md")])
        assert await runner.wait_idle(timeout=20)
        runner.request([Path("b.md")])  # the runner, and the loop, still work
        assert await runner.wait_idle(timeout=20)
        return recorder

    recorder = run(scenario())
    assert [(result.ok, result.exit_code) for result in recorder.results] == [(ok, exit_code)] * 2
    if not ok:
        assert str(exit_with) in (recorder.results[0].error or "")


def test_an_async_callable_that_runs_too_long_times_out() -> None:
    async def build_site(paths: list[Path]) -> None:
        await asyncio.sleep(30)

    result, _ = run(build_once(build_site, timeout=0.2))
    assert result.timed_out and not result.ok
    assert result.duration < 5
