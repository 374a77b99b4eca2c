"""A DevServer run inside the test process, as an asyncio program would run it."""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hotreload import DevServer


class Lines(io.StringIO):
    """A terminal stream whose lines a test can wait for."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.lines.extend(text.splitlines())
        return len(text)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(re.search(pattern, line) for line in list(self.lines)):
            if time.monotonic() > deadline:
                raise AssertionError(f"no line matched {pattern!r}:\n" + "\n".join(self.lines))
            time.sleep(0.01)


class Running:
    """A DevServer inside ``async with`` on a thread of its own."""

    def __init__(self, server: DevServer) -> None:
        self.server = server
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        if not self.ready.wait(30):
            raise AssertionError("the server did not start")
        if self.error is not None:
            raise self.error

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with self.server:
                self.ready.set()
                await self._stop.wait()
        except BaseException as exc:  # handed to the test's thread
            self.error = exc
            self.ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture
def run_server() -> Iterator[Callable[[DevServer], Running]]:
    running: list[Running] = []

    def start(server: DevServer) -> Running:
        running.append(Running(server))
        return running[-1]

    yield start
    for item in running:
        item.stop()


@pytest.fixture
def terminal() -> Lines:
    return Lines()
