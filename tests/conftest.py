"""Shared fixtures: a real `hotreload serve` process, a real headless Chromium."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "examples" / "site"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def run_async(coroutine):
    """Run a coroutine to completion in a fresh event loop on its own thread.

    The session's Playwright (sync API) keeps an event loop running on the main
    thread, where asyncio.run() is refused; a thread has none."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium is not installed: apt-get install -y chromium")
    return path


class ServerProcess:
    """A `hotreload serve` child process; its output is collected line by line."""

    def __init__(
        self, args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        python: str | Path = sys.executable, wrapper: list[str] | None = None,
    ) -> None:
        """``env`` replaces the environment when given; otherwise this checkout is put on PYTHONPATH."""
        self.args = args
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        self.proc = subprocess.Popen(
            [*(wrapper or []), str(python), "-u", "-m", "hotreload", *args],
            cwd=cwd or REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env if env is not None else {**os.environ, "PYTHONPATH": str(REPO)},
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            self._new.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until an output line (already printed or new) matches ``pattern``."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                match = re.search(pattern, line)
                if match:
                    return match
            seen = len(self.lines)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no output line matched {pattern!r}; output:\n" + "\n".join(self.lines))
            if self.proc.poll() is not None and self._new.empty():
                time.sleep(0.05)  # let the reader thread drain the pipe
                if len(self.lines) == seen:
                    raise AssertionError(
                        f"server exited ({self.proc.returncode}) before printing {pattern!r}:\n" + "\n".join(self.lines)
                    )
            try:
                self._new.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                pass

    def start(self) -> "ServerProcess":
        match = self.wait_for_line(r"Local:\s+(http://\S+)")
        self.url = match.group(1)
        self.wait_for_line(r"watching|hot reload off")
        return self

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A fresh copy of the example site in a temporary folder."""
    root = tmp_path / "site"
    shutil.copytree(EXAMPLE_SITE, root)
    return root


@pytest.fixture
def serve() -> Iterator:
    """Start `hotreload serve` with the given arguments (port 0 unless given); stopped after the test."""
    started: list[ServerProcess] = []

    def start(*args: str, port: bool = True, wait: bool = True) -> ServerProcess:
        argv = list(args)
        if port and "--port" not in argv:
            argv += ["--port", "0"]
        server = ServerProcess(["serve", *argv])
        started.append(server)
        return server.start() if wait else server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser_context():
    from playwright.sync_api import sync_playwright

    user_data = tempfile.mkdtemp(prefix="hotreload-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data, executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield context
        context.close()
    shutil.rmtree(user_data, ignore_errors=True)


@pytest.fixture
def new_page(browser_context):
    """Open pages that are closed after the test; each collects its console messages."""
    pages = []

    def open_page(url: str | None = None):
        page = browser_context.new_page()
        page.console_lines = []  # type: ignore[attr-defined]
        page.on("console", lambda msg: page.console_lines.append(msg.text))  # type: ignore[attr-defined]
        pages.append(page)
        if url:
            page.goto(url)
            wait_connected(page)
        return page

    yield open_page
    for page in pages:
        page.close()


def wait_connected(page, timeout: float = 10_000) -> None:
    """Wait until the page's client has told the server which page it shows."""
    page.wait_for_function("() => window.__hotreload && window.__hotreload.ready === true", timeout=timeout)


def write_in_place(path: Path, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    with open(path, "r+b" if path.exists() else "wb") as fh:
        fh.write(data)
        fh.truncate()


def write_atomic(path: Path, text: str | bytes) -> None:
    """Save like VS Code or vim with backupcopy=no: write a temp file, rename it over."""
    data = text.encode() if isinstance(text, str) else text
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
